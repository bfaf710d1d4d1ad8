//! Memory a Pod keeps once it has started, under a private containerd: the
//! shim process and the app let go of the code only their start-up ran.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use integration::containerd::Containerd;
use integration::{guests, http, paths};

/// Resident kB of `pid`'s executable mappings of `binary` with permissions `perms`.
fn resident_kb(pid: u32, binary: &Path, perms: &str) -> u64 {
    let smaps = std::fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap_or_default();
    let mut counting = false;
    let mut total = 0;
    for line in smaps.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.first().is_some_and(|f| f.contains('-') && !f.ends_with(':')) {
            counting = fields.get(1) == Some(&perms) && fields.get(5).map(PathBuf::from).as_deref() == Some(binary);
        } else if counting && fields.first() == Some(&"Rss:") {
            total += fields[1].parse::<u64>().unwrap();
        }
    }
    total
}

/// The shim processes of task `id` that containerd started (not forked from another one).
fn shim_daemons(id: &str, binary: &Path) -> Vec<u32> {
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok();
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let args: Vec<&[u8]> = cmdline.split(|&b| b == 0).collect();
        let ours = exe.as_deref() == Some(binary) && args.windows(2).any(|w| w[0] == b"-id" && w[1] == id.as_bytes());
        let threads = std::fs::read_dir(format!("/proc/{pid}/task")).map(|d| d.count()).unwrap_or(0);
        // The daemon serves ttrpc on many threads; its forks (zygote, container parent) run one.
        if ours && threads > 1 && !comm(pid).starts_with("youki") {
            pids.push(pid);
        }
    }
    pids
}

fn comm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default().trim().to_string()
}

#[test]
fn a_started_shim_keeps_little_of_its_start_up_code() {
    let containerd = Containerd::start(&paths::bin_dir()).unwrap();
    containerd.import_app(&guests::app("rust-hello"), "test.local/memory-hello:latest", false).unwrap();
    let listen = format!("127.0.0.1:{}", integration::process::free_port());
    // runwasi keeps container state under /run by id: a run stopped half-way must not block the next.
    let id = format!("memory-{}", std::process::id());
    let mut task = containerd
        .run_task("test.local/memory-hello:latest", &id, &[("SPIN_HTTP_LISTEN_ADDR", listen.as_str())])
        .unwrap();
    let base = format!("http://{listen}");
    if let Err(e) = http::wait_until_up(&format!("{base}/.well-known/spin/health"), Duration::from_secs(120)) {
        panic!("{e:#}\n--- task output ---\n{}", task.output());
    }
    assert_eq!(http::get(&format!("{base}/")).unwrap().status, 200);

    let binary = std::fs::canonicalize(paths::binary("containerd-shim-spin-v2")).unwrap();
    let daemons = shim_daemons(&id, &binary);
    assert_eq!(daemons.len(), 1, "shim processes of the task: {daemons:?}");
    let daemon = daemons[0];
    // Start-up (ttrpc, runwasi's and youki's container set-up) runs megabytes of the
    // binary's code in this process; a few seconds after its first container the
    // process keeps only what it runs since.
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut code = resident_kb(daemon, &binary, "r-xp");
    while code > 3072 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(250));
        code = resident_kb(daemon, &binary, "r-xp");
    }
    assert!(code <= 3072, "the shim process keeps {code} kB of its code resident");
    // And it still serves the task: a stop goes through it.
    assert_eq!(http::get(&format!("{base}/")).unwrap().status, 200);
    containerd.kill_task(&id, "SIGTERM").unwrap();
    let (status, out) = task.wait(Duration::from_secs(10)).unwrap();
    assert_eq!(status, 0, "{out}");
}
