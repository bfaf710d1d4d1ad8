//! Density: N replicas of one app started through containerd side by side
//! (`ctr run`, or Pods through the CRI with their pause containers), every one
//! answering, then the memory they hold: PSS (each shared page split among the
//! processes mapping it, so replicas sharing the shim binary and the compiled
//! code pay their share) and RSS, summed over the processes the replicas add
//! and divided by N; against N runc busybox containers.

use std::time::Instant;

use integration::containerd::Containerd;

use super::{mib, task_processes, until_200};

/// Memory per replica of `count` replicas.
pub(crate) struct Density {
    /// PSS per replica, bytes.
    pub pss: u64,
    /// RSS per replica, bytes.
    pub rss: u64,
}

/// Starts `count` replicas with `start(id)` (which returns the replica and
/// the URL it answers on), waits until every one answers 200, lets them idle
/// for [`super::IDLE`], measures the processes of `containerd`'s shims, and stops
/// every replica it started with `stop`.
pub(crate) fn measure<R>(
    containerd: &Containerd,
    name: &str,
    count: usize,
    mut start: impl FnMut(&str) -> anyhow::Result<(R, String)>,
    mut stop: impl FnMut(R),
) -> anyhow::Result<Density> {
    let begin = Instant::now();
    let mut replicas = Vec::with_capacity(count);
    let result: anyhow::Result<Density> = (|| {
        for n in 0..count {
            let id = format!("dense-{}-{n}", name.to_lowercase().replace([' ', ':', '(', ')'], ""));
            let (replica, url) = start(&id)?;
            replicas.push((id, replica, url));
        }
        for (id, _, url) in &replicas {
            until_200(url, begin).map_err(|e| e.context(format!("replica {id} of {count}")))?;
        }
        std::thread::sleep(super::IDLE);
        let usage: Vec<(String, Usage)> = task_processes(containerd).into_iter().filter_map(Usage::of).collect();
        let pss: u64 = usage.iter().map(|(_, u)| u.pss).sum();
        let rss: u64 = usage.iter().map(|(_, u)| u.rss).sum();
        print_by_process(name, count, &usage);
        let n = count as u64;
        Ok(Density { pss: pss / n, rss: rss / n })
    })();
    for (_, replica, _) in replicas {
        stop(replica);
    }
    let density = result?;
    eprintln!(
        "  density {name}: {count} replicas answering after {:.1} s; per replica PSS {:.1} MiB, RSS {:.1} MiB",
        begin.elapsed().as_secs_f64(),
        mib(density.pss),
        mib(density.rss)
    );
    Ok(density)
}

/// What one process holds, bytes.
struct Usage {
    pss: u64,
    pss_anon: u64,
    pss_file: u64,
    rss: u64,
}

impl Usage {
    /// `pid`'s name and usage (from `smaps_rollup`, read once); `None` once it is gone.
    fn of(pid: i32) -> Option<(String, Self)> {
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?.trim().to_string();
        let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
        let field = |name: &str| {
            let kb = text
                .lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
                .and_then(|v| v.split_whitespace().next());
            kb.and_then(|v| v.parse::<u64>().ok()).unwrap_or(0) * 1024
        };
        Some((
            comm,
            Self { pss: field("Pss"), pss_anon: field("Pss_Anon"), pss_file: field("Pss_File"), rss: super::rss(pid) },
        ))
    }
}

/// Per kind of process (its name), per replica: PSS of anonymous memory and of
/// file mappings (the binaries, compiled code), and RSS.
fn print_by_process(name: &str, count: usize, usage: &[(String, Usage)]) {
    let mut kinds: std::collections::BTreeMap<&str, [u64; 3]> = Default::default();
    for (comm, u) in usage {
        let sums = kinds.entry(comm).or_default();
        sums[0] += u.pss_anon;
        sums[1] += u.pss_file;
        sums[2] += u.rss;
    }
    for (comm, [anon, file, rss]) in kinds {
        let n = count as u64;
        eprintln!(
            "    {name} per replica, {comm:<24} PSS anon {:>5.1} MiB, PSS file {:>5.1} MiB, RSS {:>5.1} MiB",
            mib(anon / n),
            mib(file / n),
            mib(rss / n)
        );
    }
}
