//! Memory a Pod keeps once it has started, under a private containerd: the
//! shim daemon, its zygote and the container's parent let go of the code only
//! their start-up ran, the app of what serving ran once it is quiet.

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

/// The processes of task `id` that run `binary`: the daemon containerd started,
/// its forks (the zygote and the container's parent), and the app (youki names it).
fn task_processes(id: &str, binary: &Path) -> (Vec<u32>, Vec<u32>, Vec<u32>) {
    let mut shims = Vec::new();
    let mut apps = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else { continue };
        let exe = std::fs::read_link(format!("/proc/{pid}/exe")).ok();
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let args: Vec<&[u8]> = cmdline.split(|&b| b == 0).collect();
        let of_task = args.windows(2).any(|w| w[0] == b"-id" && w[1] == id.as_bytes());
        if exe.as_deref() == Some(binary) && of_task {
            if comm(pid).starts_with("youki") {
                apps.push(pid)
            } else {
                shims.push(pid)
            }
        }
    }
    let (daemons, forks) = shims.into_iter().partition(|&pid| !parent_runs(pid, binary));
    (daemons, forks, apps)
}

/// Whether `pid`'s parent runs `binary` too (a fork rather than containerd's child).
fn parent_runs(pid: u32, binary: &Path) -> bool {
    std::fs::read_link(format!("/proc/{}/exe", stat_field(pid, 4))).ok().as_deref() == Some(binary)
}

/// Field `n` (from 1, as proc(5) numbers them) of `/proc/<pid>/stat`, 0 when gone.
fn stat_field(pid: u32, n: usize) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Field 3 comes after the command name, which is in parentheses.
    stat.rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().nth(n - 3))
        .and_then(|f| f.parse().ok())
        .unwrap_or(0)
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
    let (daemons, forks, apps) = task_processes(&id, &binary);
    assert_eq!(daemons.len(), 1, "shim daemons of the task: {daemons:?}");
    assert_eq!(forks.len(), 2, "zygote and container parent of the task: {forks:?}");
    assert_eq!(apps.len(), 1, "app processes of the task: {apps:?}");
    // Requests run megabytes of code in the app (20 MiB of a debug build), and it
    // lets them go once it has been quiet for a few seconds.
    for _ in 0..20 {
        assert_eq!(http::get(&format!("{base}/")).unwrap().status, 200);
    }
    // Start-up (ttrpc, runwasi's and youki's container set-up) runs megabytes of the
    // binary's code in the daemon, its zygote and the container's parent (7 MiB of
    // it in the parent of a debug build); a few seconds after the container's
    // set-up each keeps only what it runs since. The daemon's ttrpc handling
    // faults some back in (3.0 MiB seen once in CI). The zygote, asked by the
    // daemon, lets go too: before it did, it kept 1.5 to 3.8 MiB of a debug
    // build, as the build's layout fell (1.1 MiB after). Both are the daemon's
    // children; the zygote started first.
    let (zygote, parent_of_container) = match forks[..] {
        [a, b] if stat_field(b, 22) < stat_field(a, 22) => (b, a),
        [a, b] => (a, b),
        _ => unreachable!(),
    };
    let limits = [(daemons[0], 4096), (zygote, 2048), (parent_of_container, 1536), (apps[0], 6144)];
    let deadline = Instant::now() + Duration::from_secs(15);
    let over = || -> Vec<(u32, String, u64)> {
        limits
            .iter()
            .map(|&(pid, limit)| (pid, comm(pid), resident_kb(pid, &binary, "r-xp"), limit))
            .filter(|&(_, _, code, limit)| code > limit)
            .map(|(pid, name, code, _)| (pid, name, code))
            .collect()
    };
    while !over().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(250));
    }
    let all: Vec<_> = limits.iter().map(|&(pid, _)| (pid, resident_kb(pid, &binary, "r-xp"))).collect();
    eprintln!("resident code (pid, kB) of the daemon, the zygote, the container's parent and the app: {all:?}");
    let rss: Vec<_> = limits.iter().map(|&(pid, _)| (pid, integration::process::status_kb(pid, "VmRSS"))).collect();
    eprintln!("and their RSS (pid, kB): {rss:?}");
    assert_eq!(over(), vec![], "processes (pid, name, resident code kB) over their limit; all: {all:?}");
    // And it still serves the task: a stop goes through it.
    assert_eq!(http::get(&format!("{base}/")).unwrap().status, 200);
    containerd.kill_task(&id, "SIGTERM").unwrap();
    let (status, out) = task.wait(Duration::from_secs(10)).unwrap();
    assert_eq!(status, 0, "{out}");
}
