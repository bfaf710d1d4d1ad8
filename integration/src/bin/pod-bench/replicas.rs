//! Replicas of a new image starting together: `BENCH_REPLICAS` (default 4)
//! containers of the Python hello rootfs image, whose wasm no cache on the node
//! has seen, started at once. It reports the time until all answer and until
//! all serve Cranelift's code, the CPU time and peak RSS summed over every
//! process of their tasks, and how many compiled with Cranelift (one, when the
//! others wait for its artifact).

use std::time::{Duration, Instant};

use integration::containerd::{Containerd, CtrTask, TaskSpec, RUNTIME};
use integration::process::{free_port, status_kb};

/// What one start of the replicas cost.
pub(crate) struct Replicas {
    pub count: usize,
    pub answering: Duration,
    pub on_cranelift: Duration,
    pub cpu_seconds: f64,
    pub peak_rss_kib: u64,
    pub cranelift_compiles: usize,
}

/// How many replicas (`BENCH_REPLICAS`, default 4; 0 for none).
pub(crate) fn count() -> usize {
    std::env::var("BENCH_REPLICAS").ok().and_then(|v| v.parse().ok()).unwrap_or(4)
}

/// Starts `count` containers of `image` at once and measures them until all
/// serve Cranelift's code; they are killed afterwards.
pub(crate) fn measure(containerd: &Containerd, image: &str, count: usize) -> anyhow::Result<Replicas> {
    let begin = Instant::now();
    let mut tasks: Vec<(String, String, CtrTask)> = Vec::new();
    for n in 0..count {
        let id = format!("replica-{n}");
        let listen = format!("127.0.0.1:{}", free_port());
        let env = [("SPIN_HTTP_LISTEN_ADDR", listen.as_str()), ("RUST_LOG", "spin_engine=info")];
        let spec =
            TaskSpec { runtime: RUNTIME, image, id: &id, env: &env, mounts: &[], command: &["/"], read_only: false };
        let task = containerd.run_task_on(&spec)?;
        tasks.push((id, format!("http://{listen}/"), task));
    }
    for (_, url, _) in &tasks {
        super::until_200(url, begin)?;
    }
    let answering = begin.elapsed();
    for (_, _, task) in &mut tasks {
        task.wait_for_line("now serving Cranelift's code", Duration::from_secs(900))?;
    }
    let on_cranelift = begin.elapsed();
    let processes = super::task_processes(containerd);
    let cpu_seconds = processes.iter().map(|&pid| cpu_seconds(pid)).sum();
    let peak_rss_kib = processes.iter().map(|&pid| status_kb(pid as u32, "VmHWM")).sum();
    let mut cranelift_compiles = 0;
    for (id, _, mut task) in tasks {
        cranelift_compiles += usize::from(task.output().contains("compiled from wasm in"));
        containerd.kill_task(&id, "SIGKILL")?;
        let _ = task.wait(Duration::from_secs(20));
    }
    Ok(Replicas { count, answering, on_cranelift, cpu_seconds, peak_rss_kib, cranelift_compiles })
}

/// The line `make bench` prints.
pub(crate) fn print(r: &Replicas) {
    println!(
        "{} replicas of a new python hello image started at once: all answering {:.0} ms, all on Cranelift's code {:.0} ms, \
         CPU {:.1} s and peak RSS {:.0} MiB summed over their processes, {} Cranelift compile(s)",
        r.count,
        super::ms(r.answering),
        super::ms(r.on_cranelift),
        r.cpu_seconds,
        r.peak_rss_kib as f64 / 1024.0,
        r.cranelift_compiles
    );
}

/// User and system CPU time of `pid` (its threads, those gone included).
fn cpu_seconds(pid: i32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { return 0.0 };
    let Some((_, fields)) = stat.rsplit_once(')') else { return 0.0 };
    let fields: Vec<&str> = fields.split_whitespace().collect();
    let ticks: f64 = [11, 12].iter().filter_map(|&i| fields.get(i)?.parse::<f64>().ok()).sum();
    // SAFETY: sysconf only reads a configuration value.
    ticks / unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64
}
