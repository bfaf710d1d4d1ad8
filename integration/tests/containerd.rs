//! Every guest served through `containerd-shim-spin-v2` under a private containerd
//! (`ctr run --runtime io.containerd.spin.v2 ... /`), plus bad apps, container
//! environment variables and SIGTERM during a slow request.

use std::time::{Duration, Instant};

use integration::containerd::Containerd;
use integration::fixtures::{bad_apps, check_refusal};
use integration::process::free_port;
use integration::scenarios::{all, Inputs};
use integration::{guests, http, paths, upstream};

/// One containerd for the whole file; scenarios run one after another and every
/// failure is reported together.
#[test]
fn shim_under_containerd() {
    let containerd = Containerd::start(&paths::bin_dir()).unwrap();
    let upstream_port = upstream::start("upstream");
    let mut failures = Vec::new();

    for (n, s) in all(&Inputs::container(upstream_port)).into_iter().enumerate() {
        let reference = format!("test.local/{}:latest", s.guest);
        containerd.import_app(&guests::app(s.guest), &reference, false).unwrap();
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let mut env: Vec<(&str, &str)> = s.env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        env.push(("SPIN_HTTP_LISTEN_ADDR", &listen));
        let id = format!("scenario-{n}");
        let mut task = containerd.run_task(&reference, &id, &env).unwrap();
        let base = format!("http://{listen}");
        let result = http::wait_until_up(&format!("{base}/.well-known/spin/health"), Duration::from_secs(120))
            .and_then(|_| (s.check)(&base));
        if let Err(e) = result {
            failures.push(format!("{}: {e:#}\n--- task output ---\n{}", s.name, task.output()));
        }
        if let Some(text) = s.expect_output {
            if let Err(e) = task.wait_for_line(text, Duration::from_secs(5)) {
                failures.push(format!("{}: guest output did not reach the task log: {e:#}", s.name));
            }
        }
        containerd.kill_task(&id, "SIGTERM").unwrap();
        match task.wait(Duration::from_secs(10)) {
            Ok((0, _)) => {}
            Ok((code, out)) => failures.push(format!("{}: task exited {code} after SIGTERM\n{out}", s.name)),
            Err(e) => failures.push(format!("{}: {e:#}", s.name)),
        }
    }

    // SIGTERM during a slow request: the request completes, the task exits 0 in 5 s.
    {
        let reference = "test.local/rust-echo:latest";
        let port = free_port();
        let listen = format!("127.0.0.1:{port}");
        let mut task = containerd.run_task(reference, "drain", &[("SPIN_HTTP_LISTEN_ADDR", &listen)]).unwrap();
        let base = format!("http://{listen}");
        http::wait_until_up(&format!("{base}/.well-known/spin/health"), Duration::from_secs(60)).unwrap();
        let url = format!("{base}/slow?ms=2000");
        let slow = std::thread::spawn(move || http::get(&url));
        std::thread::sleep(Duration::from_millis(400));
        let killed_at = Instant::now();
        containerd.kill_task("drain", "SIGTERM").unwrap();
        match slow.join().unwrap() {
            Ok(r) if r.status == 200 && r.body == "slept" => {}
            other => failures.push(format!("drain: slow request did not complete: {other:?}")),
        }
        match task.wait(Duration::from_secs(5)) {
            Ok((0, _)) => {}
            Ok((code, out)) => failures.push(format!("drain: exit {code}\n{out}")),
            Err(e) => failures.push(format!("drain: not stopped within 5 s of SIGTERM: {e:#}")),
        }
        eprintln!("drain: stopped {:?} after SIGTERM", killed_at.elapsed());
    }

    // Bad apps: the task exits non-zero with one clear line in its output.
    for (n, app) in bad_apps().into_iter().enumerate() {
        let reference = format!("test.local/bad-{n}:latest");
        // Bad apps cannot always go through `package` (it validates the app), so
        // they are packed as a plain layer holding the directory as it is.
        if let Err(e) = containerd.import_app(&app.dir, &reference, true) {
            failures.push(format!("{}: cannot build image: {e:#}", app.name));
            continue;
        }
        let mut task = containerd.run_task(&reference, &format!("bad-{n}"), &[]).unwrap();
        match task.wait(Duration::from_secs(60)) {
            Ok((code, out)) => {
                if let Err(e) = check_refusal(&app, code, &out) {
                    failures.push(e);
                }
            }
            Err(e) => failures.push(format!("{}: {e:#}", app.name)),
        }
    }

    assert!(failures.is_empty(), "{} failure(s):\n\n{}", failures.len(), failures.join("\n\n"));
}
