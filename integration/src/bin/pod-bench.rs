//! Benchmark (not a test): what a Pod costs through the shim against a runc
//! container in the same private containerd, measured in one run.
//!
//! * start: `ctr run` to the first 200 answer, median of `BENCH_RUNS` (default 5);
//!   for the shim also with a warm `SPIN_COMPILE_CACHE_DIR` (a hostPath on a node).
//! * memory: RSS summed over every process of the task (shim, its helpers, the
//!   app) after a 1 s idle, and again after `wrk -c16 -d3s`.
//!
//! The shim serves the Rust hello app (a plain image from `spin-shim package`);
//! the reference is busybox `httpd` (Debian's busybox-static) in a one-layer image.
//! Needs the release binaries in `SPIN_SHIM_BIN_DIR` (see `make bench`).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use containerd_shim_spin::{host_architecture, LayerFile, SingleLayerImage};
use integration::containerd::{Containerd, TaskSpec, RUNTIME};
use integration::process::{free_port, mentioning, Running};
use integration::{guests, paths};

const HELLO: &str = "test.local/rust-hello:latest";
const BUSYBOX: &str = "test.local/busybox-httpd:latest";
const BUSYBOX_BIN: &str = "/bin/busybox";

/// A started task, its address and how long it took to answer 200.
struct Started {
    task: Running,
    url: String,
    start: Duration,
}

fn main() -> anyhow::Result<()> {
    let runs: usize = std::env::var("BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(5);
    let containerd = Containerd::start(&paths::bin_dir())?;
    containerd.import_app(&guests::app("rust-hello"), HELLO, false)?;
    containerd.import(&busybox_image(containerd.dir())?, BUSYBOX)?;
    let cache = tempfile::tempdir()?;

    let mut rows = Vec::new();
    for (name, cached) in [("shim (plain image, compiles at start)", false), ("shim (warm compile cache)", true)] {
        if cached {
            // One start fills the cache.
            let started = start_shim(&containerd, "warmup", Some(cache.path()))?;
            stop(&containerd, "warmup", started)?;
        }
        let mut times = Vec::new();
        let mut memory = None;
        for n in 0..runs {
            let id = format!("spin-{}-{n}", u8::from(cached));
            let started = start_shim(&containerd, &id, cached.then_some(cache.path()))?;
            times.push(started.start);
            if n == 0 {
                memory = Some(measure_memory(&containerd, &started.url)?);
            }
            stop(&containerd, &id, started)?;
        }
        rows.push((name, median(&mut times), memory.unwrap_or_default()));
    }
    let mut times = Vec::new();
    let mut memory = None;
    for n in 0..runs {
        let id = format!("runc-{n}");
        let started = start_busybox(&containerd, &id)?;
        times.push(started.start);
        if n == 0 {
            memory = Some(measure_memory(&containerd, &started.url)?);
        }
        stop(&containerd, &id, started)?;
    }
    rows.push(("runc container (busybox httpd)", median(&mut times), memory.unwrap_or_default()));

    println!("{:<40} {:>12} {:>14} {:>16}", "", "start (ms)", "idle RSS (MiB)", "loaded RSS (MiB)");
    for (name, start, (idle, loaded)) in &rows {
        println!("{name:<40} {:>12.1} {:>14.1} {:>16.1}", ms(*start), mib(*idle), mib(*loaded));
    }
    let (_, runc_start, (runc_idle, _)) = rows[2];
    for (name, start, (idle, _)) in &rows[..2] {
        println!(
            "ratio {name}: start {:.2}x runc, idle RSS {:.2}x runc",
            ms(*start) / ms(runc_start),
            *idle as f64 / runc_idle as f64
        );
    }
    Ok(())
}

/// Where the warm runs see the host's compile cache folder.
const CACHE_MOUNT: &str = "/compile-cache";

fn start_shim(containerd: &Containerd, id: &str, cache: Option<&Path>) -> anyhow::Result<Started> {
    let listen = format!("127.0.0.1:{}", free_port());
    let mut env = vec![("SPIN_HTTP_LISTEN_ADDR", listen.as_str())];
    let mut mounts = vec![];
    if let Some(dir) = cache {
        env.push(("SPIN_COMPILE_CACHE_DIR", CACHE_MOUNT));
        mounts.push((dir, CACHE_MOUNT));
    }
    let begin = Instant::now();
    let spec =
        TaskSpec { runtime: RUNTIME, image: HELLO, id, env: &env, mounts: &mounts, command: &["/"], read_only: false };
    let task = containerd.run_task_on(&spec)?;
    wait_first_200(task, &format!("http://{listen}/"), begin)
}

fn start_busybox(containerd: &Containerd, id: &str) -> anyhow::Result<Started> {
    let listen = format!("127.0.0.1:{}", free_port());
    let command = [BUSYBOX_BIN, "httpd", "-f", "-p", listen.as_str(), "-h", "/www"];
    let begin = Instant::now();
    let spec = TaskSpec {
        runtime: "io.containerd.runc.v2",
        image: BUSYBOX,
        id,
        env: &[],
        mounts: &[],
        command: &command,
        read_only: false,
    };
    let task = containerd.run_task_on(&spec)?;
    wait_first_200(task, &format!("http://{listen}/"), begin)
}

fn wait_first_200(mut task: Running, url: &str, begin: Instant) -> anyhow::Result<Started> {
    let agent = ureq::AgentBuilder::new().timeout(Duration::from_millis(500)).build();
    loop {
        if matches!(agent.get(url).call(), Ok(r) if r.status() == 200) {
            return Ok(Started { task, url: url.to_string(), start: begin.elapsed() });
        }
        anyhow::ensure!(begin.elapsed() < Duration::from_secs(60), "{url} never answered:\n{}", task.output());
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn stop(containerd: &Containerd, id: &str, mut started: Started) -> anyhow::Result<()> {
    containerd.kill_task(id, "SIGKILL")?;
    started.task.wait(Duration::from_secs(20))?;
    Ok(())
}

/// RSS in bytes of the task's processes after 1 s idle (printed per process),
/// and after load.
fn measure_memory(containerd: &Containerd, url: &str) -> anyhow::Result<(u64, u64)> {
    std::thread::sleep(Duration::from_secs(1));
    for pid in task_processes(containerd) {
        let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        eprintln!("  idle: pid {pid} {:<24} {:>7.1} MiB", name.trim(), mib(rss(pid)));
    }
    let idle = task_rss(containerd);
    let status = Command::new("wrk").args(["-t2", "-c16", "-d3s", url]).output()?.status;
    anyhow::ensure!(status.success(), "wrk failed");
    Ok((idle, task_rss(containerd)))
}

/// RSS summed over [`task_processes`].
fn task_rss(containerd: &Containerd) -> u64 {
    task_processes(containerd).into_iter().map(rss).sum()
}

/// The shims of this containerd (their command line names its socket) and all
/// their descendants: every process a Pod adds to the node.
fn task_processes(containerd: &Containerd) -> Vec<i32> {
    let roots: Vec<i32> = mentioning(&containerd.socket().to_string_lossy())
        .into_iter()
        .filter(|(_, cmd)| cmd.contains("containerd-shim"))
        .map(|(pid, _)| pid)
        .collect();
    let parents: Vec<(i32, i32)> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let ppid = stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse().ok()?;
            Some((pid, ppid))
        })
        .collect();
    // A shim's helpers also name the socket, so a process can be reached twice.
    let mut tree = roots.clone();
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i];
        let children: Vec<i32> =
            parents.iter().filter(|(p, pp)| *pp == parent && !tree.contains(p)).map(|(p, _)| *p).collect();
        tree.extend(children);
        i += 1;
    }
    tree
}

fn rss(pid: i32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb = status.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.split_whitespace().next());
    kb.and_then(|v| v.parse::<u64>().ok()).unwrap_or(0) * 1024
}

/// A one-layer image with busybox and a page for `httpd` to serve.
fn busybox_image(dir: &Path) -> anyhow::Result<std::path::PathBuf> {
    let busybox = std::fs::read(BUSYBOX_BIN)
        .map_err(|e| anyhow::anyhow!("{BUSYBOX_BIN}: {e} (install Debian's busybox-static)"))?;
    let tar = dir.join("busybox.tar");
    SingleLayerImage {
        reference: BUSYBOX.into(),
        architecture: host_architecture().into(),
        entrypoint: vec![BUSYBOX_BIN.into()],
        files: vec![
            LayerFile { path: "bin/busybox".into(), bytes: busybox, mode: 0o755 },
            LayerFile { path: "www/index.html".into(), bytes: b"Hello, Fermyon".to_vec(), mode: 0o644 },
        ],
    }
    .write(&tar)?;
    Ok(tar)
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}
