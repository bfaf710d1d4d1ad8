//! Lifecycle soak (a benchmark-style run, not a test: `make soak`).
//!
//! 1. `SOAK_PODS` (default 100) Pods, one after another, through containerd's CRI
//!    on the `spin` handler: RunPodSandbox, CreateContainer, StartContainer, a 200
//!    from the app, StopPodSandbox, RemovePodSandbox. Then what is left behind:
//!    shim processes of that containerd, mounts under its state folder, and
//!    cgroups named after any of the Pods or containers. All three must be 0.
//! 2. SIGTERM under load: 64 clients on keep-alive connections send requests to
//!    a slow route (`/slow?ms=50`) through `spin-shim up`; SIGTERM after 3 s.
//!    Every request written before the signal must be answered.
//!
//! Prints the figures and `N passed, N failed` for the two checks.

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use integration::cli_app::Up;
use integration::containerd::Containerd;
use integration::cri::Cri;
use integration::process::{free_port, mentioning};
use integration::{guests, http, images, paths};

const PAUSE: &str = "test.local/pause:1";
const HELLO: &str = "test.local/rust-hello:latest";

fn main() -> anyhow::Result<()> {
    let pods: usize = std::env::var("SOAK_PODS").ok().and_then(|v| v.parse().ok()).unwrap_or(100);
    let mut passed = 0;
    let mut failed = 0;
    for (name, ok) in [("lifecycle", lifecycle(pods)?), ("sigterm under load", sigterm_under_load()?)] {
        println!("{name}: {}", if ok { "ok" } else { "FAILED" });
        if ok {
            passed += 1;
        } else {
            failed += 1;
        }
    }
    println!("{passed} passed, {failed} failed");
    std::process::exit(i32::from(failed > 0));
}

fn lifecycle(pods: usize) -> anyhow::Result<bool> {
    let containerd = Containerd::start_cri(&[&paths::bin_dir()], PAUSE, &[("spin", "io.containerd.spin.v2")])?;
    let mut cri = Cri::connect(&containerd.socket())?;
    containerd.import(&images::pause_image(PAUSE, containerd.dir())?, PAUSE)?;
    containerd.import_app(&guests::app("rust-hello"), HELLO, false)?;
    cri.wait_for_image(PAUSE)?;
    cri.wait_for_image(HELLO)?;
    let mut ids = Vec::new();
    let mut live_cgroups = 0;
    let mut live_mounts = 0;
    let state = containerd.dir().to_string_lossy().into_owned();
    let mounts_under_state =
        || std::fs::read_to_string("/proc/self/mountinfo").map(|m| m.lines().filter(|l| l.contains(&state)).count());
    let started = Instant::now();
    for n in 0..pods {
        let pod = cri.run_pod(&format!("soak-{n}"), "spin", &containerd.dir().join("pods"))?;
        let listen = format!("127.0.0.1:{}", free_port());
        let container = cri.start_container(&pod, "app", HELLO, &[("SPIN_HTTP_LISTEN_ADDR", &listen)])?;
        http::wait_until_up(&format!("http://{listen}/"), Duration::from_secs(60))?;
        if n == 0 {
            // What a live Pod has, so that "0 left" below means something.
            live_cgroups = cgroups_named(&[pod.id.clone(), container.clone()]).len();
            live_mounts = mounts_under_state()?;
        }
        cri.remove_pod(&pod)?;
        ids.push(pod.id);
        ids.push(container);
    }
    let took = started.elapsed();
    // Give exiting shims a moment, as the kubelet would.
    let end = Instant::now() + Duration::from_secs(10);
    let socket = containerd.socket().to_string_lossy().into_owned();
    let shims = loop {
        let shims: Vec<_> =
            mentioning(&socket).into_iter().filter(|(_, cmd)| cmd.contains("containerd-shim-spin")).collect();
        if shims.is_empty() || Instant::now() > end {
            break shims;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let mounts = mounts_under_state()?;
    let cgroups = cgroups_named(&ids);
    println!(
        "lifecycle: {pods} Pods in {:.1} s ({:.0} ms each; a live Pod has {live_mounts} mounts and {live_cgroups} cgroups); \
         left behind: {} shim processes, {mounts} mounts, {} cgroups",
        took.as_secs_f64(),
        took.as_millis() as f64 / pods as f64,
        shims.len(),
        cgroups.len()
    );
    for c in &cgroups {
        println!("  cgroup left: {c}");
    }
    Ok(shims.is_empty() && mounts == 0 && cgroups.is_empty() && live_cgroups > 0 && live_mounts > 0)
}

/// Cgroup directories (any hierarchy) whose name contains one of `ids`.
fn cgroups_named(ids: &[String]) -> Vec<String> {
    walkdir("/sys/fs/cgroup", 6)
        .into_iter()
        .filter(|p| ids.iter().any(|id| !id.is_empty() && p.contains(id.as_str())))
        .collect()
}

fn walkdir(root: &str, depth: usize) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(root) else { return out };
    for entry in entries.flatten() {
        if entry.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            let path = entry.path().to_string_lossy().into_owned();
            if depth > 0 {
                out.extend(walkdir(&path, depth - 1));
            }
            out.push(path);
        }
    }
    out
}

fn sigterm_under_load() -> anyhow::Result<bool> {
    let port = free_port();
    let mut app = Up::new(&guests::app("rust-echo")).listen(&format!("127.0.0.1:{port}")).serve()?.process;
    let signalled = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..64)
        .map(|_| {
            let signalled = signalled.clone();
            std::thread::spawn(move || client(port, &signalled))
        })
        .collect();
    std::thread::sleep(Duration::from_secs(3));
    signalled.store(true, Ordering::SeqCst);
    app.signal(libc::SIGTERM);
    let (code, _) = app.wait(Duration::from_secs(30))?;
    let (mut answered, mut lost) = (0, 0);
    for c in clients {
        let (a, l) = c.join().expect("client thread");
        answered += a;
        lost += l;
    }
    println!(
        "sigterm under load: {answered} requests answered, {lost} written before the signal and lost; exit {code}"
    );
    Ok(lost == 0 && code == 0)
}

/// Sends requests on a keep-alive connection (reconnecting when it closes)
/// until the server is gone; returns (answered, written before the signal but
/// not answered).
fn client(port: u16, signalled: &AtomicBool) -> (usize, usize) {
    let (mut answered, mut lost) = (0, 0);
    let request = b"GET /slow?ms=50 HTTP/1.1\r\nHost: soak\r\n\r\n";
    loop {
        let Ok(mut conn) = TcpStream::connect(("127.0.0.1", port)) else { return (answered, lost) };
        let _ = conn.set_read_timeout(Some(Duration::from_secs(30)));
        loop {
            let before_signal = !signalled.load(Ordering::SeqCst);
            if conn.write_all(request).is_err() {
                break;
            }
            if read_response(&mut conn) {
                answered += 1;
            } else {
                if before_signal {
                    lost += 1;
                }
                break;
            }
        }
        if signalled.load(Ordering::SeqCst) {
            return (answered, lost);
        }
    }
}

/// Reads one chunked or sized response; `false` when the connection ended first.
fn read_response(conn: &mut TcpStream) -> bool {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1024];
    loop {
        match conn.read(&mut byte) {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&byte[..n]),
        }
        // rust-echo's `slow` answers `slept` with a length or as one chunk.
        if buf.ends_with(b"slept") || buf.ends_with(b"0\r\n\r\n") {
            return true;
        }
    }
}
