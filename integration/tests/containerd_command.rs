//! The command trigger through `containerd-shim-spin-v2` under a private containerd:
//! container args reach the guest's argv, guest stdout reaches the task output, and
//! the task's exit status (`ctr run --rm`'s exit code) is the guest's; a runtime
//! config's `log_dir` also writes the guest's output to Spin's log files.

use std::time::Duration;

use integration::containerd::{Containerd, TaskSpec, RUNTIME};
use integration::{guests, paths};

const REFERENCE: &str = "test.local/rust-command:latest";

/// One containerd for the whole file; every case is checked and failures are
/// reported together.
#[test]
fn command_exit_status_and_output_under_containerd() {
    let containerd = Containerd::start(&paths::bin_dir()).unwrap();
    containerd.import_app(&guests::app("rust-command"), REFERENCE, false).unwrap();

    // (container args after `/`, expected exit status, line the task must print)
    let cases: [(&[&str], i32, &str); 5] = [
        (&[], 0, "argv=rust-command"),
        (&["hello", "world"], 0, "argv=rust-command hello world"),
        (&["exit", "7"], 7, "argv=rust-command exit 7"),
        (&["fail"], 1, "argv=rust-command fail"),
        (&["trap"], 1, "Error: component `rust-command`"),
    ];
    let mut failures = Vec::new();
    for (n, (args, expected, line)) in cases.into_iter().enumerate() {
        let id = format!("command-{n}");
        let mut task = containerd.run_task_with_args(REFERENCE, &id, &[], args).unwrap();
        match task.wait(Duration::from_secs(120)) {
            Ok((code, out)) => {
                if code != expected {
                    failures.push(format!("{args:?}: exit {code}, expected {expected}\n{out}"));
                } else if !out.lines().any(|l| l.trim_end() == line || (line.starts_with("Error:") && l.contains(line)))
                {
                    failures.push(format!("{args:?}: no line {line:?} in the task output:\n{out}"));
                }
            }
            Err(e) => failures.push(format!("{args:?}: {e:#}")),
        }
    }

    // SIGTERM while the guest runs: the task ends with 128 + 15.
    let mut task = containerd.run_task_with_args(REFERENCE, "command-term", &[], &["sleep", "60000"]).unwrap();
    match task.wait_for_line("argv=rust-command sleep 60000", Duration::from_secs(120)) {
        Ok(_) => {
            containerd.kill_task("command-term", "SIGTERM").unwrap();
            match task.wait(Duration::from_secs(20)) {
                Ok((143, _)) => {}
                Ok((code, out)) => failures.push(format!("SIGTERM: exit {code}, expected 143\n{out}")),
                Err(e) => failures.push(format!("SIGTERM: {e:#}")),
            }
        }
        Err(e) => failures.push(format!("sleep: {e:#}")),
    }

    // A runtime config's `log_dir` adds Spin's log files beside the task output.
    let host = tempfile::tempdir().unwrap();
    let (config, logs) = (host.path().join("runtime-config.toml"), host.path().join("logs"));
    std::fs::write(&config, "log_dir = \"/logs\"\n").unwrap();
    std::fs::create_dir(&logs).unwrap();
    let spec = TaskSpec {
        runtime: RUNTIME,
        image: REFERENCE,
        id: "command-logs",
        env: &[],
        mounts: &[(&config, "/runtime-config.toml"), (&logs, "/logs")],
        command: &["/", "logged"],
        read_only: false,
    };
    match containerd.run_task_on(&spec).and_then(|mut task| task.wait(Duration::from_secs(120))) {
        Ok((0, out)) if out.contains("argv=rust-command logged") => {
            match std::fs::read_to_string(logs.join("rust-command_stdout.txt")) {
                Ok(text) if text == "argv=rust-command logged\n" => {}
                other => failures.push(format!("log_dir: the log file holds {other:?}\n{out}")),
            }
        }
        Ok((code, out)) => failures.push(format!("log_dir: exit {code}\n{out}")),
        Err(e) => failures.push(format!("log_dir: {e:#}")),
    }

    assert!(failures.is_empty(), "{} failure(s):\n\n{}", failures.len(), failures.join("\n\n"));
}
