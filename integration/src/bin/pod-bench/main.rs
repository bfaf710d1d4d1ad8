//! Benchmark (not a test): what a Pod costs through the shim against a runc
//! container in the same private containerd, measured in one run.
//!
//! * start: `ctr run` to the first 200 answer, median of `BENCH_RUNS` (default 5),
//!   for three apps (hello, a 5-route app of five distinct components, the 37 MB
//!   Python hello), as a rootfs image (`spin-shim package`) and, on containerd 1.7
//!   and later, as a Spin OCI artifact (`spin-shim registry push` to a local
//!   registry, then `ctr images pull`; the pull is not timed). A first start is
//!   one whose wasm no cache on the node has seen (each run's components carry
//!   a new tag, see `bench_apps`); a second start runs an image that has started
//!   once before (the node compile cache, or the artifact runwasi precompiled).
//! * memory: RSS summed over every process of the task (shim, its helpers, the
//!   app) after [`IDLE`], and again after `wrk -c16 -d3s`, for the hello
//!   rootfs image's second start and runc.
//!
//! * the kubelet's path: RunPodSandbox + CreateContainer + StartContainer to the
//!   first 200 through a CRI containerd, second starts of hello against runc.
//! * replicas of a new image: `BENCH_REPLICAS` (4) containers of a Python hello
//!   no cache has seen, started at once, until all serve Cranelift's code: time,
//!   CPU, peak RSS and Cranelift compiles (`replicas.rs`).
//! * density: `BENCH_DENSITY` (10 and 50) replicas of the hello rootfs image
//!   and of runc busybox side by side, through `ctr run` and as CRI Pods, all
//!   answering, PSS and RSS per replica (`density.rs`).
//!
//! The reference is busybox `httpd` (Debian's busybox-static) in a one-layer
//! image. Needs the release binaries in `SPIN_SHIM_BIN_DIR` (see `make bench`).

mod density;
mod replicas;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use containerd_shim_spin::{host_architecture, LayerFile, SingleLayerImage};
use integration::bench_apps::BenchApp;
use integration::containerd::{Containerd, CtrTask, TaskSpec, RUNTIME};
use integration::cri::{spin_node, Cri, Pod};
use integration::paths;
use integration::process::{free_port, mentioning};
use integration::services::registry::Registry;

const BUSYBOX: &str = "test.local/busybox-httpd:latest";
const BUSYBOX_BIN: &str = "/bin/busybox";

/// A started task, its address and how long it took to answer 200.
struct Started {
    task: CtrTask,
    url: String,
    start: Duration,
}

/// How an app reaches containerd.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shipped {
    /// A rootfs image imported with `ctr images import`.
    Rootfs,
    /// A Spin OCI artifact pulled from a registry.
    Artifact,
}

impl Shipped {
    fn name(self) -> &'static str {
        match self {
            Self::Rootfs => "rootfs image",
            Self::Artifact => "OCI artifact",
        }
    }
}

/// One line of the table.
struct Row {
    name: String,
    first: Option<Duration>,
    /// The first start with `SPIN_WASMTIME_FIRST_START_COMPILER=cranelift`.
    first_cranelift: Option<Duration>,
    second: Duration,
    memory: Option<(u64, u64)>,
}

fn main() -> anyhow::Result<()> {
    let runs: usize = std::env::var("BENCH_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(5);
    let containerd = Containerd::start(&paths::bin_dir())?;
    containerd.import(&busybox_image(containerd.dir())?, BUSYBOX)?;
    let registry = if containerd.is_v1_6() {
        println!("containerd 1.6 cannot run Spin OCI artifacts: their rows are left out (run with CONTAINERD_BIN set to 1.7)");
        None
    } else {
        Some(Registry::start()?)
    };

    let mut rows = Vec::new();
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
    rows.push(Row {
        name: "runc container (busybox httpd)".into(),
        first: None,
        first_cranelift: None,
        second: median(&mut times),
        memory,
    });

    let mut shipping = vec![Shipped::Rootfs];
    if registry.is_some() {
        shipping.push(Shipped::Artifact);
    }
    let mut id = 0;
    for app in [BenchApp::Hello, BenchApp::FiveRoutes, BenchApp::PythonHello] {
        for &shipped in &shipping {
            let mut start =
                |tag: &str, compiler: &str, measure: bool| -> anyhow::Result<(Duration, Option<(u64, u64)>)> {
                    let image = prepare(&containerd, registry.as_ref(), app, shipped, tag)?;
                    id += 1;
                    let task_id = format!("spin-{id}");
                    let started = start_shim(&containerd, &image, &task_id, compiler)?;
                    let memory = if measure { Some(measure_memory(&containerd, &started.url)?) } else { None };
                    let start = started.start;
                    stop(&containerd, &task_id, started)?;
                    Ok((start, memory))
                };
            let mut first = Vec::new();
            for n in 0..runs {
                first.push(start(&format!("first-{n}"), "winch", false)?.0);
            }
            // Winch's first start fills the cache only once Cranelift is done in the
            // background (the task is stopped at once), so Cranelift's before serving
            // makes the starts below second starts. Its time is a row of its own, for
            // rootfs images: runwasi compiles an artifact before the container.
            let mut first_cranelift = Vec::new();
            for n in 0..runs {
                if shipped == Shipped::Rootfs {
                    first_cranelift.push(start(&format!("first-cranelift-{n}"), "cranelift", false)?.0);
                }
            }
            start("warm", "cranelift", false)?;
            let mut second = Vec::new();
            let mut memory = None;
            for n in 0..runs {
                let measure = n == 0 && app.name() == "hello" && shipped == Shipped::Rootfs;
                let (time, m) = start("warm", "cranelift", measure)?;
                second.push(time);
                memory = memory.or(m);
            }
            rows.push(Row {
                name: format!("shim: {} ({})", app.name(), shipped.name()),
                first: Some(median(&mut first)),
                first_cranelift: (!first_cranelift.is_empty()).then(|| median(&mut first_cranelift)),
                second: median(&mut second),
                memory,
            });
        }
    }
    rows.extend(cri_rows(runs, registry.as_ref())?);
    report(&rows);

    if replicas::count() > 0 {
        let image = prepare(&containerd, None, BenchApp::PythonHello, Shipped::Rootfs, "replicas")?;
        replicas::print(&replicas::measure(&containerd, &image, replicas::count())?);
    }

    let hello = prepare(&containerd, None, BenchApp::Hello, Shipped::Rootfs, "warm")?;
    let kill = |(id, mut task): (String, CtrTask)| {
        let _ = containerd.kill_task(&id, "SIGKILL");
        let _ = task.wait(Duration::from_secs(20));
    };
    let by_ctr =
        |launch: anyhow::Result<(CtrTask, String)>, id: &str| launch.map(|(t, url)| ((id.to_string(), t), url));
    for count in density_counts() {
        let runc =
            density::measure(&containerd, "runc", count, |id| by_ctr(launch_busybox(&containerd, id), id), kill)?;
        let shim = density::measure(
            &containerd,
            "hello",
            count,
            |id| by_ctr(launch_shim(&containerd, &hello, id, "cranelift"), id),
            kill,
        )?;
        print_density("ctr run", count, &shim, &runc);
    }
    drop(containerd);
    cri_density()?;
    Ok(())
}

/// The density runs through the CRI: each replica a Pod (its pause container
/// included) on handler `spin` or `runc`.
fn cri_density() -> anyhow::Result<()> {
    let counts = density_counts();
    if counts.is_empty() {
        return Ok(());
    }
    let (containerd, cri) = spin_node(None)?;
    containerd.import(&busybox_image(containerd.dir())?, BUSYBOX)?;
    let cri = std::cell::RefCell::new(cri);
    cri.borrow_mut().wait_for_image(BUSYBOX)?;
    let hello = prepare(&containerd, None, BenchApp::Hello, Shipped::Rootfs, "cri-density")?;
    cri.borrow_mut().wait_for_image(&hello)?;
    let logs = containerd.dir().join("pods");
    let start = |id: &str, handler: &str, image: &str| start_pod(&mut cri.borrow_mut(), &logs, id, handler, image);
    let remove = |pod: Pod| {
        let _ = cri.borrow_mut().remove_pod(&pod);
    };
    for count in counts {
        let runc = density::measure(&containerd, "CRI runc", count, |id| start(id, "runc", BUSYBOX), remove)?;
        let shim = density::measure(&containerd, "CRI hello", count, |id| start(id, "spin", &hello), remove)?;
        print_density("CRI Pods", count, &shim, &runc);
    }
    Ok(())
}

fn print_density(path: &str, count: usize, shim: &density::Density, runc: &density::Density) {
    println!(
        "density {count} replicas ({path}), all answering: hello rootfs PSS {:.1} MiB / RSS {:.1} MiB per replica, runc busybox {:.1} / {:.1}; ratio PSS {:.2}x (target <= 2)",
        mib(shim.pss),
        mib(shim.rss),
        mib(runc.pss),
        mib(runc.rss),
        shim.pss as f64 / runc.pss as f64
    );
}

/// Replica counts of the density runs (`BENCH_DENSITY`, default `10,50`; empty for none).
fn density_counts() -> Vec<usize> {
    let spec = std::env::var("BENCH_DENSITY").unwrap_or_else(|_| "10,50".into());
    spec.split(',').filter_map(|n| n.trim().parse().ok()).filter(|&n| n > 0).collect()
}

/// The kubelet's path, timed: RunPodSandbox + CreateContainer + StartContainer
/// to the first 200, for runc busybox and the hello app's second start (rootfs
/// image, and the OCI artifact when the registry is there), in a containerd of
/// their own with its CRI plugin.
fn cri_rows(runs: usize, registry: Option<&Registry>) -> anyhow::Result<Vec<Row>> {
    let host = registry.map(Registry::host);
    let (containerd, mut cri) = spin_node(host.as_deref())?;
    containerd.import(&busybox_image(containerd.dir())?, BUSYBOX)?;
    cri.wait_for_image(BUSYBOX)?;
    let mut images = vec![("CRI: runc container (busybox httpd)", BUSYBOX.to_string(), "runc")];
    let rootfs = prepare(&containerd, None, BenchApp::Hello, Shipped::Rootfs, "cri")?;
    cri.wait_for_image(&rootfs)?;
    images.push(("CRI: shim: hello (rootfs image)", rootfs, "spin"));
    if registry.is_some() {
        let artifact = prepare(&containerd, registry, BenchApp::Hello, Shipped::Artifact, "cri")?;
        cri.wait_for_image(&artifact)?;
        images.push(("CRI: shim: hello (OCI artifact)", artifact, "spin"));
    }
    let logs = containerd.dir().join("pods");
    let mut rows = Vec::new();
    for (name, image, handler) in images {
        let mut times = Vec::new();
        // One start first, so every timed one is a second start.
        for n in 0..=runs {
            let begin = Instant::now();
            let (pod, url) = start_pod(&mut cri, &logs, &format!("bench-{handler}-{n}"), handler, &image)?;
            let start = until_200(&url, begin)?;
            if n > 0 {
                times.push(start);
            }
            cri.remove_pod(&pod)?;
        }
        rows.push(Row {
            name: name.to_string(),
            first: None,
            first_cranelift: None,
            second: median(&mut times),
            memory: None,
        });
    }
    Ok(rows)
}

/// Prints the table and the ratios the targets are stated in.
fn report(rows: &[Row]) {
    println!(
        "{:<44} {:>16} {:>22} {:>17} {:>14} {:>16}",
        "", "first start (ms)", "first, Cranelift (ms)", "second start (ms)", "idle RSS (MiB)", "loaded RSS (MiB)"
    );
    let or_dash = |d: Option<Duration>| d.map(|d| format!("{:.1}", ms(d))).unwrap_or_else(|| "-".into());
    for row in rows {
        let (first, cranelift) = (or_dash(row.first), or_dash(row.first_cranelift));
        let (idle, loaded) =
            row.memory.map(|(i, l)| (format!("{:.1}", mib(i)), format!("{:.1}", mib(l)))).unwrap_or_default();
        println!("{:<44} {first:>16} {cranelift:>22} {:>17.1} {idle:>14} {loaded:>16}", row.name, ms(row.second));
    }
    let runc = &rows[0];
    for row in rows[1..].iter().filter(|r| !r.name.starts_with("CRI: ")) {
        let first = row.first.map(|d| format!("{:.2}x", ms(d) / ms(runc.second))).unwrap_or_default();
        println!(
            "ratio {}: first start {first} runc, second start {:.2}x runc (target <= 0.7)",
            row.name,
            ms(row.second) / ms(runc.second)
        );
    }
    let find = |name: &str| rows.iter().find(|r| r.name == name);
    if let Some(cri_runc) = find("CRI: runc container (busybox httpd)") {
        for row in rows.iter().filter(|r| r.name.starts_with("CRI: shim")) {
            println!(
                "ratio {}: second start {:.2}x CRI runc (target <= 0.7)",
                row.name,
                ms(row.second) / ms(cri_runc.second)
            );
        }
    }
    if let Some(hello) = find("shim: hello (rootfs image)") {
        if let Some(first) = hello.first {
            println!("ratio hello rootfs first start / runc = {:.2}x (target <= 1.0)", ms(first) / ms(runc.second));
        }
        if let (Some(winch), Some(cranelift)) = (hello.first, hello.first_cranelift) {
            println!("ratio hello rootfs first start, Winch / Cranelift = {:.2}x", ms(winch) / ms(cranelift));
        }
        if let Some(python) = find("shim: python hello (rootfs image)") {
            println!(
                "python hello second start - hello second start = {:+.0} ms (target <= +100)",
                ms(python.second) - ms(hello.second)
            );
        }
        if let (Some(idle), Some(runc_idle)) = (hello.memory, runc.memory) {
            println!("ratio hello idle RSS / runc = {:.2}x", idle.0 as f64 / runc_idle.0 as f64);
        }
    }
}

/// Lays `app` out with `tag` and gets it into containerd as `shipped`; returns
/// the image reference.
fn prepare(
    containerd: &Containerd,
    registry: Option<&Registry>,
    app: BenchApp,
    shipped: Shipped,
    tag: &str,
) -> anyhow::Result<String> {
    let dir = tempfile::tempdir()?;
    app.write(dir.path(), tag)?;
    let repository = format!("bench/{}", app.name().replace([' ', '-'], "_"));
    match (shipped, registry) {
        (Shipped::Artifact, Some(registry)) => {
            let reference = registry.push_app(dir.path(), &format!("{repository}:{tag}"), false)?;
            containerd.ctr(&["images", "pull", "--plain-http", &reference])?;
            Ok(reference)
        }
        _ => {
            let reference = format!("test.local/{repository}:{tag}");
            containerd.import_app(dir.path(), &reference, false)?;
            Ok(reference)
        }
    }
}

/// Starts `image` as task `id`, with `compiler` for what is not compiled yet.
fn start_shim(containerd: &Containerd, image: &str, id: &str, compiler: &str) -> anyhow::Result<Started> {
    let begin = Instant::now();
    let (task, url) = launch_shim(containerd, image, id, compiler)?;
    wait_first_200(task, &url, begin)
}

fn start_busybox(containerd: &Containerd, id: &str) -> anyhow::Result<Started> {
    let begin = Instant::now();
    let (task, url) = launch_busybox(containerd, id)?;
    wait_first_200(task, &url, begin)
}

/// Runs `image` through the shim as task `id` (`compiler` as the first start
/// compiler); returns it and its URL.
fn launch_shim(containerd: &Containerd, image: &str, id: &str, compiler: &str) -> anyhow::Result<(CtrTask, String)> {
    let listen = format!("127.0.0.1:{}", free_port());
    let env = [("SPIN_HTTP_LISTEN_ADDR", listen.as_str()), ("SPIN_WASMTIME_FIRST_START_COMPILER", compiler)];
    let spec = TaskSpec { runtime: RUNTIME, image, id, env: &env, mounts: &[], command: &["/"], read_only: false };
    Ok((containerd.run_task_on(&spec)?, format!("http://{listen}/")))
}

/// Runs busybox `httpd` under runc as task `id`; returns it and its URL.
fn launch_busybox(containerd: &Containerd, id: &str) -> anyhow::Result<(CtrTask, String)> {
    let listen = format!("127.0.0.1:{}", free_port());
    let command = httpd_command(&listen);
    let spec = TaskSpec {
        runtime: "io.containerd.runc.v2",
        image: BUSYBOX,
        id,
        env: &[],
        mounts: &[],
        command: &command,
        read_only: false,
    };
    Ok((containerd.run_task_on(&spec)?, format!("http://{listen}/")))
}

/// A Pod `name` on `handler` with one container of `image`: busybox `httpd` for
/// `runc`, the app for the shim; returns it and the URL it answers on.
fn start_pod(cri: &mut Cri, logs: &Path, name: &str, handler: &str, image: &str) -> anyhow::Result<(Pod, String)> {
    let listen = format!("127.0.0.1:{}", free_port());
    let pod = cri.run_pod(name, handler, logs)?;
    if handler == "runc" {
        cri.start_container_with_command(&pod, "app", image, &[], &httpd_command(&listen), &[], &[])?;
    } else {
        // Cranelift at a first start fills the cache before serving, so a Pod
        // removed at once leaves it filled for the next (second) start.
        let env = [("SPIN_HTTP_LISTEN_ADDR", listen.as_str()), ("SPIN_WASMTIME_FIRST_START_COMPILER", "cranelift")];
        cri.start_container(&pod, "app", image, &env)?;
    }
    Ok((pod, format!("http://{listen}/")))
}

/// busybox `httpd` in the foreground on `listen`, serving `/www`.
fn httpd_command(listen: &str) -> [&str; 7] {
    [BUSYBOX_BIN, "httpd", "-f", "-p", listen, "-h", "/www"]
}

fn wait_first_200(mut task: CtrTask, url: &str, begin: Instant) -> anyhow::Result<Started> {
    match until_200(url, begin) {
        Ok(start) => Ok(Started { task, url: url.to_string(), start }),
        Err(e) => Err(e.context(task.output())),
    }
}

/// Polls `url` until it answers 200; returns the time since `begin`.
fn until_200(url: &str, begin: Instant) -> anyhow::Result<Duration> {
    let agent = ureq::AgentBuilder::new().timeout(Duration::from_millis(500)).build();
    loop {
        if matches!(agent.get(url).call(), Ok(r) if r.status() == 200) {
            return Ok(begin.elapsed());
        }
        anyhow::ensure!(begin.elapsed() < Duration::from_secs(60), "{url} never answered");
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn stop(containerd: &Containerd, id: &str, mut started: Started) -> anyhow::Result<()> {
    containerd.kill_task(id, "SIGKILL")?;
    started.task.wait(Duration::from_secs(20))?;
    Ok(())
}

/// How long a task (or every replica) idles after its first answer before its
/// memory is measured, this shim's and runc's alike. A Pod idles for minutes; 5 s
/// covers the releases of start-up memory: the shim daemon's and the container
/// parent's 3 s after the container's set-up, the app's about 2 s after it went
/// quiet.
pub(crate) const IDLE: Duration = Duration::from_secs(5);

/// RSS in bytes of the task's processes after [`IDLE`] (printed per process),
/// and after load.
fn measure_memory(containerd: &Containerd, url: &str) -> anyhow::Result<(u64, u64)> {
    std::thread::sleep(IDLE);
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

/// `pid`'s resident set in bytes (0 when gone).
fn rss(pid: i32) -> u64 {
    integration::process::status_kb(pid as u32, "VmRSS") * 1024
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
