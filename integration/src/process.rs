//! Child processes that are killed when the test lets go of them, and free ports.

use std::io::{BufRead as _, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The kB figure of `pid`'s `/proc/<pid>/status` line `field` (`VmRSS`,
/// `VmSize`, ...); 0 when the process or the line is gone.
pub fn status_kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let value = status.lines().find_map(|line| line.strip_prefix(field)?.strip_prefix(':'));
    value.and_then(|v| v.split_whitespace().next()).and_then(|kb| kb.parse().ok()).unwrap_or(0)
}

/// Processes whose command line contains `needle`, as `(pid, command line)`.
pub fn mentioning(needle: &str) -> Vec<(i32, String)> {
    let me = std::process::id() as i32;
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| *pid != me)
        .filter_map(|pid| {
            let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            let line = String::from_utf8_lossy(&raw).replace('\0', " ");
            line.contains(needle).then(|| (pid, line.trim_end().to_string()))
        })
        .collect()
}

/// A running child with its output collected line by line.
pub struct Running {
    child: Option<Child>,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Running {
    /// Spawns `cmd` with stdout and stderr captured.
    pub fn spawn(mut cmd: Command) -> anyhow::Result<Self> {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).stdin(Stdio::null());
        let mut child = cmd.spawn()?;
        let (tx, rx) = mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let _ = tx.send(line);
                }
            });
        }
        Ok(Self { child: Some(child), lines: rx, seen: Vec::new() })
    }

    /// The child's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// CPU time (user and system) the child has used so far, from /proc.
    pub fn cpu_time(&self) -> anyhow::Result<Duration> {
        let pid = self.pid().ok_or_else(|| anyhow::anyhow!("the process has ended"))?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
        // Fields after the parenthesised command: state is field 3; utime and stime are 14 and 15.
        let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks: u64 = fields.get(11).and_then(|u| u.parse().ok()).unwrap_or(0)
            + fields.get(12).and_then(|s| s.parse::<u64>().ok()).unwrap_or(0);
        // SAFETY: sysconf only reads a system constant.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
        Ok(Duration::from_millis(ticks * 1000 / hz))
    }

    /// How often the child's threads have gone to sleep and been woken so far
    /// (their voluntary context switches, from /proc).
    pub fn wakeups(&self) -> anyhow::Result<u64> {
        let pid = self.pid().ok_or_else(|| anyhow::anyhow!("the process has ended"))?;
        let mut total = 0;
        for task in std::fs::read_dir(format!("/proc/{pid}/task"))? {
            // A thread may end between the listing and the read.
            let Ok(status) = std::fs::read_to_string(task?.path().join("status")) else { continue };
            let switches = status.lines().find_map(|l| l.strip_prefix("voluntary_ctxt_switches:"));
            total += switches.and_then(|n| n.trim().parse::<u64>().ok()).unwrap_or(0);
        }
        Ok(total)
    }

    /// Waits up to `timeout` for a line containing `needle`; returns it.
    pub fn wait_for_line(&mut self, needle: &str, timeout: Duration) -> anyhow::Result<String> {
        let end = Instant::now() + timeout;
        if let Some(l) = self.seen.iter().find(|l| l.contains(needle)) {
            return Ok(l.clone());
        }
        while let Some(left) = end.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return Ok(line);
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => break,
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    std::thread::sleep(Duration::from_millis(20));
                    if self.try_status().is_some() {
                        break;
                    }
                }
            }
        }
        anyhow::bail!("no line containing {needle:?} within {timeout:?}; output so far:\n{}", self.output())
    }

    /// Everything printed so far.
    pub fn output(&mut self) -> String {
        while let Ok(l) = self.lines.try_recv() {
            self.seen.push(l);
        }
        self.seen.join("\n")
    }

    /// The exit code if the child has exited.
    pub fn try_status(&mut self) -> Option<i32> {
        let child = self.child.as_mut()?;
        child.try_wait().ok().flatten().map(|s| s.code().unwrap_or(-1))
    }

    /// Waits up to `timeout` for exit; returns the code and the whole output.
    pub fn wait(&mut self, timeout: Duration) -> anyhow::Result<(i32, String)> {
        let end = Instant::now() + timeout;
        loop {
            if let Some(code) = self.try_status() {
                std::thread::sleep(Duration::from_millis(50));
                return Ok((code, self.output()));
            }
            if Instant::now() > end {
                anyhow::bail!("still running after {timeout:?}; output:\n{}", self.output());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends `signal` to the child.
    pub fn signal(&self, signal: i32) {
        if let Some(c) = &self.child {
            unsafe { libc::kill(c.id() as i32, signal) };
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
