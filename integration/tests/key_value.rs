//! Key-value stores through `spin-shim up` with the SDK-built `rust-kv` guest
//! (`fermyon:spin/key-value` and `wasi:keyvalue`):
//! the default SQLite store in the state directory and across restarts, stores
//! from the runtime config (SQLite path, a real Redis server and its outage, a
//! DynamoDB table in moto), and the start-up refusal of a listed label nobody
//! configured.

use std::path::Path;
use std::time::Duration;

use integration::cli_app::{run_to_failure, serve, Up};
use integration::fixtures::{assert_refused, with_manifest};
use integration::http::{get, request};
use integration::services::redis::RedisServer;
use integration::suite;

/// rust-kv's manifest with `stores` as its `key_value_stores`.
fn manifest(stores: &str) -> String {
    format!(
        "spin_manifest_version = 2\n[application]\nname = \"kv\"\n[[trigger.http]]\nroute = \"/...\"\n\
         component = \"kv\"\n[component.kv]\nsource = \"app.wasm\"\nkey_value_stores = [{stores}]\n"
    )
}

fn put(base: &str, key: &str, value: &str, query: &str) {
    let r = request("PUT", &format!("{base}/kv/{key}{query}"), &[], value).unwrap();
    assert_eq!((r.status, r.body.as_str()), (200, "stored"), "PUT {key}{query}");
}

fn runtime_config(dir: &Path, text: &str) -> String {
    let path = dir.join("runtime-config.toml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn default_store_lives_in_the_state_dir_and_survives_a_restart() {
    let (_tmp, app) = with_manifest("rust-kv", &manifest("\"default\""));
    let db = app.join(".spin/sqlite_key_value.db");
    {
        let mut served = serve(&app, &[], &[]).unwrap();
        let line = served.process.wait_for_line("Storing default key-value data to", Duration::from_secs(5)).unwrap();
        assert!(line.contains(&format!("{:?}", db.display().to_string())), "{line}");
        suite::key_value(&served.base, None).unwrap();
        put(&served.base, "kept", "across restarts", "");
    }
    assert!(db.is_file(), "{} not written", db.display());
    let served = serve(&app, &[], &[]).unwrap();
    let r = get(&format!("{}/kv/kept", served.base)).unwrap();
    assert_eq!((r.status, r.body.as_str()), (200, "across restarts"));
}

#[test]
fn an_empty_state_dir_keeps_the_default_store_in_memory() {
    let (_tmp, app) = with_manifest("rust-kv", &manifest("\"default\""));
    let config = runtime_config(&app, "state_dir = \"\"\n");
    let mut served = serve(&app, &[], &["--runtime-config-file", &config]).unwrap();
    served.process.wait_for_line("a temporary in-memory store", Duration::from_secs(5)).unwrap();
    suite::key_value(&served.base, None).unwrap();
    assert!(!app.join(".spin").exists(), "nothing should be written with state_dir = \"\"");
}

#[test]
fn a_spin_store_path_is_relative_to_the_runtime_config() {
    let (_tmp, app) = with_manifest("rust-kv", &manifest("\"default\", \"other\""));
    let config = runtime_config(&app, "[key_value_store.other]\ntype = \"spin\"\npath = \"data/other.db\"\n");
    let served = serve(&app, &[], &["--runtime-config-file", &config]).unwrap();
    suite::key_value(&served.base, Some("other")).unwrap();
    suite::wasi_keyvalue(&served.base, Some("other")).unwrap();
    put(&served.base, "only-in-other", "1", "?store=other");
    let r = get(&format!("{}/kv/only-in-other", served.base)).unwrap();
    assert_eq!(r.status, 404, "stores are separate: {r:?}");
    assert!(app.join("data/other.db").is_file());
}

#[test]
fn a_redis_store_keeps_values_in_redis_and_recovers_from_an_outage() {
    let mut redis = RedisServer::start().unwrap();
    let (_tmp, app) = with_manifest("rust-kv", &manifest("\"cache\""));
    let config =
        runtime_config(&app, &format!("[key_value_store.cache]\ntype = \"redis\"\nurl = \"{}\"\n", redis.address()));
    let mut served = serve(&app, &[], &["--runtime-config-file", &config]).unwrap();
    // Spin's start-up lines, in Spin's order.
    served
        .process
        .wait_for_line("Using runtime config [key_value_store.cache: redis] from", Duration::from_secs(5))
        .unwrap();
    let output = served.process.output();
    let logging = output.find("Logging component stdio to").expect("the log folder line");
    assert!(logging < output.find("Using runtime config").unwrap(), "{output}");
    suite::key_value(&served.base, Some("cache")).unwrap();
    suite::wasi_keyvalue(&served.base, Some("cache")).unwrap();
    put(&served.base, "greeting", "hello redis", "?store=cache");
    assert_eq!(redis.get("greeting").unwrap().as_deref(), Some("hello redis"));

    redis.stop();
    let r = get(&format!("{}/kv/greeting?store=cache", served.base)).unwrap();
    assert_eq!(r.status, 500, "a store error while Redis is down: {r:?}");
    redis.restart().unwrap();
    // The restarted server is empty; the store must reconnect and serve again.
    let mut last = None;
    for _ in 0..50 {
        let r = request("PUT", &format!("{}/kv/after?store=cache", served.base), &[], "back").unwrap();
        if r.status == 200 {
            assert_eq!(redis.get("after").unwrap().as_deref(), Some("back"));
            return;
        }
        last = Some(r);
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("the store did not recover after Redis came back: {last:?}");
}

/// `aws_dynamo` stores keep values in their tables, laid out as Spin lays them
/// out: with credentials from the runtime config, and from the AWS variables of
/// the environment (the SDK's default chain); the endpoint comes from
/// `AWS_ENDPOINT_URL_DYNAMODB`. Counters, compare-and-swap and key listing work
/// on the table.
#[test]
fn aws_dynamo_stores_keep_values_in_their_tables() {
    use integration::services::moto::Moto;
    // One request at a time, so that its conditional writes are atomic as DynamoDB's are.
    let moto = Moto::start_serial().unwrap();
    moto.create_key_value_table("spin-kv").unwrap();
    moto.create_key_value_table("spin-kv-env").unwrap();
    let (_tmp, app) = with_manifest("rust-kv", &manifest("\"cloud\", \"chain\""));
    let config = runtime_config(
        &app,
        "[key_value_store.cloud]\ntype = \"aws_dynamo\"\nregion = \"us-east-1\"\ntable = \"spin-kv\"\n\
         access_key = \"testing\"\nsecret_key = \"testing\"\nconsistent_read = true\n\
         [key_value_store.chain]\ntype = \"aws_dynamo\"\nregion = \"us-east-1\"\ntable = \"spin-kv-env\"\n",
    );
    let env: Vec<(&str, String)> = moto
        .app_env()
        .into_iter()
        .filter(|(k, _)| *k != "AWS_ENDPOINT_URL_SQS")
        .chain([("AWS_ENDPOINT_URL_DYNAMODB", moto.endpoint.clone())])
        .collect();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let served = serve(&app, &env, &["--runtime-config-file", &config]).unwrap();
    for store in ["cloud", "chain"] {
        suite::key_value(&served.base, Some(store)).unwrap();
        suite::wasi_keyvalue(&served.base, Some(store)).unwrap();
    }
    put(&served.base, "greeting", "hello dynamo", "?store=cloud");
    put(&served.base, "greeting", "from the chain", "?store=chain");
    assert_eq!(moto.key_value_item("spin-kv", "greeting").unwrap().as_deref(), Some(&b"hello dynamo"[..]));
    assert_eq!(moto.key_value_item("spin-kv-env", "greeting").unwrap().as_deref(), Some(&b"from the chain"[..]));

    // Increments racing on one counter all count: a write that lost the race reads again.
    let url = format!("{}/wasi/counter/raced?by=1&store=cloud", served.base);
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| {
                for _ in 0..5 {
                    let r = request("POST", &url, &[], "").unwrap();
                    assert_eq!(r.status, 200, "{r:?}");
                }
            });
        }
    });
    assert_eq!(moto.key_value_item("spin-kv", "raced").unwrap().as_deref(), Some(&b"40"[..]));
}

#[test]
fn a_listed_label_nobody_configured_fails_the_start() {
    let (_tmp, app) = with_manifest("rust-kv", &manifest("\"default\", \"sessions\""));
    let (code, output) = run_to_failure(&app).unwrap();
    assert_refused(
        "unconfigured label",
        code,
        &output,
        &[r#"unknown key_value_stores label "sessions" for component "kv""#],
    );
}

#[test]
fn a_store_type_this_runtime_does_not_serve_fails_the_start_naming_file_and_table() {
    let (_tmp, app) = with_manifest("rust-kv", &manifest("\"default\""));
    let config = runtime_config(&app, "[key_value_store.default]\ntype = \"azure_cosmos\"\naccount = \"a\"\n");
    let (code, output) =
        Up::new(&app).flags(&["--runtime-config-file", &config]).run(Duration::from_secs(120)).unwrap();
    assert_refused(
        "unserved store type",
        code,
        &output,
        &["runtime-config.toml", "[key_value_store.default]", "azure_cosmos"],
    );
}

/// `--key-value k=v` sets values in the default store before the app serves,
/// overwriting what was there; `--state-dir` moves the store's file.
#[test]
fn key_value_flags_seed_the_default_store_in_the_chosen_state_dir() {
    let (_tmp, app) = with_manifest("rust-kv", &manifest("\"default\""));
    let state = app.join("elsewhere");
    let state_flag = state.display().to_string();
    let flags = ["--state-dir", &state_flag, "--key-value", "greeting=hello", "--key-value", "greeting=hi"];
    let served = Up::new(&app).flags(&flags).serve().unwrap();
    let r = get(&format!("{}/kv/greeting", served.base)).unwrap();
    assert_eq!((r.status, r.body.as_str()), (200, "hi"), "the last value wins");
    drop(served);
    assert!(state.join("sqlite_key_value.db").is_file() && !app.join(".spin").exists());
    // An empty --state-dir keeps the default store in memory.
    let served = Up::new(&app).flags(&["--state-dir", "", "--key-value", "only=in-memory"]).serve().unwrap();
    assert_eq!(get(&format!("{}/kv/only", served.base)).unwrap().body, "in-memory");
    assert!(!app.join(".spin").exists());
}
