//! The command trigger through `spin-shim up`: argv, exit status, traps, SIGTERM,
//! bare command `.wasm` files and bad command apps.

use std::time::Duration;

use integration::event_app::{run_to_exit, start, START_TIMEOUT};
use integration::fixtures::with_manifest;
use integration::guests;

const GUEST: &str = "rust-command";

fn run(args: &[&str]) -> (i32, String) {
    run_to_exit(&guests::app(GUEST), &[], args, START_TIMEOUT).unwrap()
}

fn error_lines(output: &str) -> Vec<&str> {
    output.lines().filter(|l| l.contains("Error:")).collect()
}

#[test]
fn argv_is_component_id_then_guest_args_and_exit_is_zero() {
    let (code, out) = run(&["hello", "world"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.lines().any(|l| l == "argv=rust-command hello world"), "{out}");
    assert!(error_lines(&out).is_empty(), "{out}");
}

#[test]
fn guest_exit_code_is_the_process_exit_code() {
    let (code, out) = run(&["exit", "7"]);
    assert_eq!(code, 7, "{out}");
    assert!(out.contains("argv=rust-command exit 7"), "{out}");
    let (code, out) = run(&["exit", "0"]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn failed_run_exits_one() {
    let (code, out) = run(&["fail"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("argv=rust-command fail"), "{out}");
}

#[test]
fn trap_exits_non_zero_with_one_error_line_naming_the_component() {
    let (code, out) = run(&["trap"]);
    assert_ne!(code, 0, "{out}");
    let errors = error_lines(&out);
    assert_eq!(errors.len(), 1, "expected one Error: line:\n{out}");
    assert!(errors[0].contains("`rust-command`") && errors[0].contains("trap"), "{}", errors[0]);
    assert!(!out.contains("wasm backtrace"), "{out}");
}

#[test]
fn sigterm_stops_the_guest_with_143() {
    let mut app = start(&guests::app(GUEST), &[], &["sleep", "60000"]).unwrap();
    app.wait_for_line("argv=rust-command sleep 60000", START_TIMEOUT).unwrap();
    let (code, out) = app.terminate(Duration::from_secs(10)).unwrap();
    assert_eq!(code, 143, "{out}");
    assert!(!out.contains("slept"), "{out}");
}

#[test]
fn bare_command_wasm_runs_as_a_command() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = dir.path().join("my-tool.wasm");
    std::fs::copy(guests::app(GUEST).join("app.wasm"), &wasm).unwrap();
    let (code, out) = run_to_exit(&wasm, &[], &["a", "b"], START_TIMEOUT).unwrap();
    assert_eq!(code, 0, "{out}");
    assert!(out.lines().any(|l| l == "argv=my-tool a b"), "{out}");
    assert!(!out.contains("Serving"), "{out}");
    let (code, out) = run_to_exit(&wasm, &[], &["exit", "3"], START_TIMEOUT).unwrap();
    assert_eq!(code, 3, "{out}");
}

/// A WASI 0.3 command (`wasi:cli/run@0.3.0`, no 0.2 `run`) runs through its
/// async `run`, as an app and as a bare `.wasm`; an error result exits 1.
#[test]
fn a_wasi_03_command_runs_its_async_run() {
    let app = guests::app("rust-p3-command");
    let (code, out) = run_to_exit(&app, &[], &["hello", "world"], START_TIMEOUT).unwrap();
    assert_eq!(code, 0, "{out}");
    assert!(out.lines().any(|l| l == "argv=rust-p3-command hello world (WASI 0.3)"), "{out}");
    let (code, out) = run_to_exit(&app, &[], &["fail"], START_TIMEOUT).unwrap();
    assert_eq!(code, 1, "{out}");
    let dir = tempfile::tempdir().unwrap();
    let wasm = dir.path().join("p3-tool.wasm");
    std::fs::copy(app.join("app.wasm"), &wasm).unwrap();
    let (code, out) = run_to_exit(&wasm, &[], &["a"], START_TIMEOUT).unwrap();
    assert_eq!(code, 0, "{out}");
    assert!(out.lines().any(|l| l == "argv=p3-tool a (WASI 0.3)"), "{out}");
}

/// Runs a broken variant of the command app and checks its one error line.
fn refused(manifest: &str, guest: &str, expect: &[&str]) {
    let (_tmp, dir) = with_manifest(guest, manifest);
    let (code, out) = run_to_exit(&dir, &[], &[], START_TIMEOUT).unwrap();
    assert_ne!(code, 0, "{out}");
    let errors = error_lines(&out);
    assert_eq!(errors.len(), 1, "expected one Error: line:\n{out}");
    for word in expect {
        assert!(errors[0].contains(word), "error line lacks {word:?}: {}", errors[0]);
    }
    assert!(!out.contains("panicked"), "{out}");
}

const HEADER: &str = "spin_manifest_version = 2\n[application]\nname = \"bad-command\"\n";

#[test]
fn unknown_trigger_field_is_refused_naming_trigger_and_field() {
    let manifest = format!(
        "{HEADER}[[trigger.command]]\nid = \"job\"\ncomponent = \"c\"\nargs = [\"x\"]\n[component.c]\nsource = \"app.wasm\"\n"
    );
    refused(&manifest, GUEST, &["`job`", "args"]);
}

#[test]
fn component_without_wasi_cli_run_is_refused() {
    let manifest =
        format!("{HEADER}[[trigger.command]]\ncomponent = \"web\"\n[component.web]\nsource = \"app.wasm\"\n");
    refused(&manifest, "rust-hello", &["`web`", "wasi:cli/run"]);
}

#[test]
fn only_the_first_command_trigger_runs_with_a_warning() {
    let manifest = format!(
        "{HEADER}[[trigger.command]]\nid = \"first\"\ncomponent = \"a\"\n[[trigger.command]]\nid = \"second\"\ncomponent = \"b\"\n\
         [component.a]\nsource = \"app.wasm\"\n[component.b]\nsource = \"app.wasm\"\n"
    );
    let (_tmp, dir) = with_manifest(GUEST, &manifest);
    let (code, out) = run_to_exit(&dir, &[], &["x"], START_TIMEOUT).unwrap();
    assert_eq!(code, 0, "{out}");
    assert!(out.lines().any(|l| l == "argv=a x"), "{out}");
    assert!(!out.contains("argv=b"), "{out}");
    assert!(
        out.lines().any(|l| l.contains("WARN") && l.contains("second")),
        "no warning naming the ignored trigger:\n{out}"
    );
}

/// Spin's component log files: the guest's stdout and stderr also go to
/// `.spin/logs/<id>_stdout.txt` and `_stderr.txt`, appended to across runs;
/// `--quiet` keeps only the files, `-L DIR` (or `SPIN_LOG_DIR`) moves them and
/// an empty value turns them off.
#[test]
fn guest_output_is_also_written_to_the_components_log_files() {
    use integration::cli_app::Up;
    use integration::fixtures::copy_of;
    let (_tmp, app) = copy_of(GUEST);
    let logs = app.join(".spin/logs");
    let (code, out) = run_to_exit(&app, &[], &["first"], START_TIMEOUT).unwrap();
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Logging component stdio to \".spin/logs/\"") || out.contains("/.spin/logs/\""), "{out}");
    assert!(out.contains("argv=rust-command first"), "echoed to the terminal as well:\n{out}");
    let (code, out) = Up::new(&app).flags(&["--quiet"]).guest_args(&["trap"]).run(START_TIMEOUT).unwrap();
    assert_ne!(code, 0, "{out}");
    assert!(!out.contains("argv=rust-command trap"), "--quiet keeps the guest's output off the terminal:\n{out}");
    let stdout = std::fs::read_to_string(logs.join("rust-command_stdout.txt")).unwrap();
    assert_eq!(stdout, "argv=rust-command first\nargv=rust-command trap\n");
    let stderr = std::fs::read_to_string(logs.join("rust-command_stderr.txt")).unwrap();
    assert!(stderr.contains("asked to trap"), "the guest's panic message: {stderr:?}");

    let elsewhere = tempfile::tempdir().unwrap();
    let dir = elsewhere.path().join("logs");
    let (code, out) = run_to_exit(&app, &[("SPIN_LOG_DIR", dir.to_str().unwrap())], &["moved"], START_TIMEOUT).unwrap();
    assert_eq!(code, 0, "{out}");
    assert_eq!(std::fs::read_to_string(dir.join("rust-command_stdout.txt")).unwrap(), "argv=rust-command moved\n");
    std::fs::remove_dir_all(&logs).unwrap();
    let (code, out) = Up::new(&app).flags(&["-L", ""]).guest_args(&["off"]).run(START_TIMEOUT).unwrap();
    assert_eq!(code, 0, "{out}");
    assert!(!logs.exists() && !out.contains("Logging component stdio"), "{out}");
}
