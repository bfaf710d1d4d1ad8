//! SQLite databases through `spin-shim up` with the SDK-built `rust-sqlite`
//! guest: the default database in the state directory and across restarts, a
//! database from the runtime config, and the start-up refusal of a listed label
//! nobody configured.

use integration::cli_app::{run_to_failure, serve};
use integration::fixtures::{assert_refused, with_manifest};
use integration::http::{get, request};
use integration::suite;

/// rust-sqlite's manifest with `databases` as its `sqlite_databases`.
fn manifest(databases: &str) -> String {
    format!(
        "spin_manifest_version = 2\n[application]\nname = \"db\"\n[[trigger.http]]\nroute = \"/...\"\n\
         component = \"db\"\n[component.db]\nsource = \"app.wasm\"\nsqlite_databases = [{databases}]\n"
    )
}

#[test]
fn default_database_lives_in_the_state_dir_and_survives_a_restart() {
    let (_tmp, app) = with_manifest("rust-sqlite", &manifest("\"default\""));
    let db = app.join(".spin/sqlite_db.db");
    {
        let mut served = serve(&app, &[], &[]).unwrap();
        let line =
            served.process.wait_for_line("Storing default SQLite data to", std::time::Duration::from_secs(5)).unwrap();
        assert!(line.contains(&format!("{:?}", db.display().to_string())), "{line}");
        suite::sqlite(&served.base, None).unwrap();
        let r = request("POST", &format!("{}/notes", served.base), &[], "kept").unwrap();
        assert_eq!(r.status, 200, "{r:?}");
    }
    assert!(db.is_file(), "{} not written", db.display());
    let served = serve(&app, &[], &[]).unwrap();
    let r = get(&format!("{}/notes", served.base)).unwrap();
    assert!(r.body.lines().any(|l| l.ends_with(":kept")), "{r:?}");
}

#[test]
fn a_configured_database_is_its_own_file() {
    let (_tmp, app) = with_manifest("rust-sqlite", &manifest("\"default\", \"orders\""));
    let orders = app.join("orders.db");
    let config = app.join("runtime-config.toml");
    std::fs::write(
        &config,
        format!("[sqlite_database.orders]\ntype = \"spin\"\npath = {:?}\n", orders.display().to_string()),
    )
    .unwrap();
    let served = serve(&app, &[], &["--runtime-config-file", &config.display().to_string()]).unwrap();
    suite::sqlite(&served.base, Some("orders")).unwrap();
    assert!(orders.is_file());
    let r = get(&format!("{}/notes", served.base)).unwrap();
    assert_eq!(r.status, 500, "the default database has no notes table yet: {r:?}");
    assert!(r.body.contains("no such table"), "{r:?}");
}

#[test]
fn a_listed_database_nobody_configured_fails_the_start() {
    let (_tmp, app) = with_manifest("rust-sqlite", &manifest("\"default\", \"analytics\""));
    let (code, output) = run_to_failure(&app).unwrap();
    assert_refused(
        "unconfigured label",
        code,
        &output,
        &[
            "One or more components use SQLite databases which are not defined.",
            r#"unknown sqlite_databases label "analytics" for component "db""#,
        ],
    );
}

/// `--sqlite` runs statements (and `@file` migrations) against the default
/// database before the app serves; a failing statement stops the start with it named.
#[test]
fn sqlite_flags_run_migrations_before_the_app_serves() {
    use integration::cli_app::Up;
    let (_tmp, app) = with_manifest("rust-sqlite", &manifest("\"default\""));
    let migration = app.join("migration.sql");
    std::fs::write(
        &migration,
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);\n\
                                INSERT INTO notes (body) VALUES ('from the migration');\n",
    )
    .unwrap();
    let file_arg = format!("@{}", migration.display());
    let flags = ["--sqlite", &file_arg, "--sqlite", "INSERT INTO notes (body) VALUES ('from a flag')"];
    let served = Up::new(&app).flags(&flags).serve().unwrap();
    let r = get(&format!("{}/notes", served.base)).unwrap();
    assert_eq!(r.body, "1:from the migration\n2:from a flag", "{r:?}");
    drop(served);
    let (code, output) =
        Up::new(&app).flags(&["--sqlite", "SELEKT 1"]).run(std::time::Duration::from_secs(60)).unwrap();
    assert!(code != 0 && output.contains("--sqlite `SELEKT 1`"), "exit {code}: {output}");
}
