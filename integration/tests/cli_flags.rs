//! `spin up`'s flags that choose what runs and where its output goes, through
//! `spin-shim up`: `-c/--component-id`, `--follow`, `--truncate-logs`,
//! `--build` (and `spin-shim build [--up]`), `--temp`, `--direct-mounts`,
//! `--disable-pooling`, `--http1-max-buf-size`, and the hidden
//! `--from-file`/`--from-registry`.

use std::path::Path;
use std::process::Command;

use integration::cli_app::{Up, START_TIMEOUT};
use integration::fixtures::{copy_of, with_manifest};
use integration::process::Running;
use integration::{guests, paths};

/// rust-command twice: `first` is the command trigger that runs unless `-c`
/// picks `second`. The guest prints `argv=<component id> ...`.
const TWO_COMMANDS: &str = "spin_manifest_version = 2\n[application]\nname = \"two\"\n\
     [[trigger.command]]\ncomponent = \"first\"\n[[trigger.command]]\ncomponent = \"second\"\n\
     [component.first]\nsource = \"app.wasm\"\n[component.second]\nsource = \"app.wasm\"\n";

fn up(dir: &Path, flags: &[&str]) -> (i32, String) {
    Up::new(dir).flags(flags).run(START_TIMEOUT).unwrap()
}

#[test]
fn component_id_runs_only_the_components_it_names() {
    let (_copy, dir) = with_manifest("rust-command", TWO_COMMANDS);
    let (code, out) = up(&dir, &[]);
    assert!(code == 0 && out.lines().any(|l| l == "argv=first"), "exit {code}: {out}");
    let (code, out) = up(&dir, &["-c", "second"]);
    assert!(code == 0 && out.lines().any(|l| l == "argv=second"), "exit {code}: {out}");
    assert!(!out.contains("argv=first"), "{out}");
    let (code, out) = up(&dir, &["--component-id", "ghost"]);
    assert!(code != 0 && out.contains("Specified component \"ghost\" not found in application"), "{out}");
}

#[test]
fn follow_echoes_the_named_components_only_and_the_log_files_get_every_one() {
    let (_copy, dir) = with_manifest("rust-command", TWO_COMMANDS);
    let log = dir.join(".spin/logs/first_stdout.txt");
    let logged_runs = || std::fs::read_to_string(&log).unwrap().lines().filter(|l| *l == "argv=first").count();
    let (code, out) = up(&dir, &["--follow", "second"]);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("argv=first"), "`first` is not followed: {out}");
    assert_eq!(logged_runs(), 1);
    let (code, out) = up(&dir, &["--follow", "first"]);
    assert!(code == 0 && out.lines().any(|l| l == "argv=first"), "{out}");
    assert_eq!(logged_runs(), 2, "the log files are appended to");
    let (code, out) = up(&dir, &["--truncate-logs"]);
    assert!(code == 0 && out.lines().any(|l| l == "argv=first"), "{out}");
    assert_eq!(logged_runs(), 1, "--truncate-logs empties them first");
    let (code, out) = up(&dir, &["--follow", "third", "--follow", "first"]);
    let expected = "The following component(s) specified in --follow do not exist in the application:\n  - third\n\
                    The following components exist:\n  - first\n  - second";
    assert!(code != 0 && out.contains(expected), "exit {code}: {out}");
    // A followed component dropped by -c is unknown, as in Spin.
    let (code, out) = up(&dir, &["-c", "second", "--follow", "first"]);
    assert!(
        code != 0
            && out.contains("do not exist in the application:\n  - first\nThe following components exist:\n  - second"),
        "{out}"
    );
    let (code, out) = up(&dir, &["--follow", "first", "-q"]);
    assert!(code == 2 && out.contains("cannot be used with"), "clap refuses both: {out}");
}

/// Spin's hidden source flags: `--from-file` (alias `--file`) is always a path,
/// `--from-registry` always a reference; `--disable-cache` is `--no-cache`.
#[test]
fn from_file_and_from_registry_say_what_the_source_is() {
    let command = guests::app("rust-command");
    let (code, out) = spin_shim(&["up", "--from-file", command.to_str().unwrap(), "--disable-cache"], &command);
    assert!(code == 0 && out.contains("argv=rust-command"), "exit {code}: {out}");
    let reference = format!("127.0.0.1:{}/app:v1", integration::process::free_port());
    let (code, out) = spin_shim(&["up", "--from-registry", &reference, "--insecure"], &command);
    assert!(code != 0 && out.contains(&format!("pulling the manifest of {reference}")), "{out}");
    let (code, out) = spin_shim(&["up", "-f", ".", "--from-file", "."], &command);
    assert!(code == 2 && out.contains("cannot be used with"), "one source flag at a time: {out}");
}

/// rust-hello whose Wasm a build command makes (copies) into `out/`.
fn buildable_hello(commands: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let manifest = format!(
        "spin_manifest_version = 2\n[application]\nname = \"built\"\n\
         [[trigger.http]]\nroute = \"/...\"\ncomponent = \"hello\"\n\
         [component.hello]\nsource = \"out/app.wasm\"\n[component.hello.build]\ncommand = {commands}\n"
    );
    with_manifest("rust-hello", &manifest)
}

fn spin_shim(args: &[&str], dir: &Path) -> (i32, String) {
    let out = Command::new(paths::cli()).args(args).current_dir(dir).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn build_runs_each_components_commands_and_up_build_serves_the_result() {
    let (_copy, dir) = buildable_hello(r#"["mkdir -p out", "cp app.wasm out/app.wasm"]"#);
    let (code, out) = spin_shim(&["build"], &dir);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Building component hello (2 commands)"), "{out}");
    assert!(out.contains("Running build step 2/2 for component hello with 'cp app.wasm out/app.wasm'"), "{out}");
    assert!(out.contains("Finished building all Spin components"), "{out}");
    assert!(dir.join("out/app.wasm").is_file());
    std::fs::remove_dir_all(dir.join("out")).unwrap();
    let app = Up::new(&dir).flags(&["--build"]).serve().unwrap();
    assert_eq!(integration::http::get(&format!("{}/", app.base)).unwrap().status, 200);
    drop(app);
    std::fs::remove_dir_all(dir.join("out")).unwrap();
    let mut build_up = Command::new(paths::cli());
    build_up.args(["build", "--up", "--listen", "127.0.0.1:0"]).current_dir(&dir);
    let mut process = Running::spawn(build_up).unwrap();
    let serving = process.wait_for_line("Serving http", START_TIMEOUT).unwrap();
    let base = serving.trim().trim_start_matches("Serving ");
    assert_eq!(integration::http::get(&format!("{base}/")).unwrap().status, 200, "build --up serves what it built");
    drop(process);

    let (_copy, dir) = buildable_hello(r#""echo broken >&2; exit 3""#);
    let (code, out) = up(&dir, &["--build"]);
    assert!(code != 0 && out.contains("Build command for component hello failed with status exit status: 3"), "{out}");
    assert!(!out.contains("Serving"), "a failed build runs nothing: {out}");
    let (code, out) = spin_shim(&["build", "-c", "ghost"], &dir);
    assert!(code != 0 && out.contains("Unknown component(s) ghost"), "{out}");
}

/// Files that are not mounted as they are (here `assets/*.txt`) are placed in
/// `--temp`'s folder, which stays after the run.
#[test]
fn temp_names_the_folder_where_component_files_are_placed() {
    let (_copy, dir) = copy_of("rust-echo");
    let temp = tempfile::tempdir().unwrap();
    let assets = temp.path().join("assets");
    let app = Up::new(&dir).flags(&["--temp", assets.to_str().unwrap()]).serve().unwrap();
    let hello = app.ok("GET", "/globbed?path=/assets/hello.txt");
    drop(app);
    let staged: Vec<_> = walk(&assets).into_iter().filter(|p| p.ends_with("hello.txt")).collect();
    assert!(!staged.is_empty(), "nothing placed under {}", assets.display());
    assert_eq!(std::fs::read_to_string(&staged[0]).unwrap(), hello);
}

/// `--direct-mounts` takes only directories, nothing excluded (Spin's rule and
/// messages); a directory is mounted as it is, so a host edit shows at once.
#[test]
fn direct_mounts_take_directories_only() {
    let (_copy, dir) = copy_of("rust-echo");
    let (code, out) = up(&dir, &["--direct-mounts"]);
    assert!(code != 0 && out.contains("Cannot load a component with `exclude_files` using --direct-mounts"), "{out}");
    let manifest = |files: &str| {
        format!(
            "spin_manifest_version = 2\n[application]\nname = \"mounts\"\n\
             [[trigger.http]]\nroute = \"/files\"\ncomponent = \"files\"\n\
             [component.files]\nsource = \"app.wasm\"\nenvironment = {{ COMPONENT = \"files\" }}\nfiles = {files}\n"
        )
    };
    let (_copy, dir) = with_manifest("rust-echo", &manifest(r#"["assets/hello.txt"]"#));
    let (code, out) = up(&dir, &["--direct-mounts"]);
    let expected =
        r#"Only directory mounts are supported with `--direct-mounts`; "assets/hello.txt" is not a directory."#;
    assert!(code != 0 && out.contains(expected), "{out}");
    let (_copy, dir) = with_manifest("rust-echo", &manifest(r#"[{ source = "assets", destination = "/" }]"#));
    let app = Up::new(&dir).flags(&["--direct-mounts"]).serve().unwrap();
    std::fs::write(dir.join("assets/new.txt"), "written after the start").unwrap();
    assert_eq!(app.ok("GET", "/files?path=/new.txt"), "written after the start");
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found
}

/// The pooling allocator reserves its slots' address space at start (many GiB
/// of virtual memory); `--disable-pooling` reserves none.
#[test]
fn disable_pooling_allocates_instances_on_demand() {
    let hello = guests::app("rust-hello");
    let reserved = |flags: &[&str]| {
        let app = Up::new(&hello).flags(flags).serve().unwrap();
        assert_eq!(integration::http::get(&format!("{}/", app.base)).unwrap().status, 200);
        let kib = integration::process::status_kb(app.process.pid().unwrap(), "VmSize");
        assert!(kib > 0, "no VmSize for the served app");
        kib / (1024 * 1024)
    };
    let pooled = reserved(&[]);
    let on_demand = reserved(&["--disable-pooling"]);
    assert!(pooled >= 16 && on_demand < 8, "VmSize {pooled} GiB pooled, {on_demand} GiB with --disable-pooling");
}

/// A request head longer than `--http1-max-buf-size` is answered 431; hyper's
/// default takes it. Below HTTP/1's floor of 8192 the flag is refused.
#[test]
fn http1_max_buf_size_bounds_a_requests_head() {
    let hello = guests::app("rust-hello");
    let big = "x".repeat(12_000);
    let status = |app: &integration::cli_app::ServedApp, header: &str| {
        integration::http::request("GET", &format!("{}/", app.base), &[("x-big", header)], "").unwrap().status
    };
    let app = Up::new(&hello).serve().unwrap();
    assert_eq!(status(&app, &big), 200);
    drop(app);
    let app = Up::new(&hello).flags(&["--http1-max-buf-size", "8192"]).serve().unwrap();
    assert_eq!(status(&app, "small"), 200);
    assert_eq!(status(&app, &big), 431);
    drop(app);
    let (code, out) = up(&hello, &["--http1-max-buf-size", "4096"]);
    assert!(code != 0 && out.contains("the minimum value allowed is 8192"), "{out}");
}
