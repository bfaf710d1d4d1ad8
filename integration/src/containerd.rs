//! A private containerd (Debian's package) in a temp folder, driven with `ctr`,
//! with the shim on its PATH: what a node runs, minus the kubelet.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::process::Running;

/// The runtime name containerd maps to `containerd-shim-spin-v2`.
pub const RUNTIME: &str = "io.containerd.spin.v2";

/// A running private containerd; stopped (with its tasks) on drop.
pub struct Containerd {
    dir: tempfile::TempDir,
    process: Option<Running>,
    binary: PathBuf,
}

impl Containerd {
    /// Starts `containerd` (or `$CONTAINERD_BIN`) with the shim's directory first
    /// on its PATH and waits for its socket.
    pub fn start(shim_dir: &Path) -> anyhow::Result<Self> {
        let binary = std::env::var_os("CONTAINERD_BIN").map(PathBuf::from).unwrap_or_else(|| "containerd".into());
        let dir = tempfile::Builder::new().prefix("css-containerd-").tempdir_in("/var/tmp")?;
        let root = dir.path();
        let config = format!(
            "version = 2\nroot = \"{r}/root\"\nstate = \"{r}/state\"\ndisabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n\
             [grpc]\n  address = \"{r}/containerd.sock\"\n[ttrpc]\n  address = \"\"\n[debug]\n  level = \"warn\"\n",
            r = root.display()
        );
        std::fs::write(root.join("config.toml"), config)?;
        let path = format!("{}:{}", shim_dir.display(), std::env::var("PATH").unwrap_or_default());
        let mut cmd = Command::new(&binary);
        cmd.arg("--config").arg(root.join("config.toml")).env("PATH", path);
        let process = Running::spawn(cmd)?;
        let me = Self { dir, process: Some(process), binary };
        let end = Instant::now() + Duration::from_secs(20);
        while !me.socket().exists() {
            if Instant::now() > end {
                anyhow::bail!("containerd did not create its socket");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let version = me.ctr(&["version"])?;
        let server = version.split("Server:").nth(1).unwrap_or(&version);
        eprintln!("private containerd {}: {}", me.binary.display(), server.split_whitespace().collect::<Vec<_>>().join(" "));
        Ok(me)
    }

    /// The gRPC socket.
    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("containerd.sock")
    }

    /// A `ctr` command bound to this containerd.
    pub fn ctr_command(&self, args: &[&str]) -> Command {
        let ctr = self.binary.with_file_name("ctr");
        let ctr = if ctr.is_file() { ctr } else { PathBuf::from("ctr") };
        let mut cmd = Command::new(ctr);
        cmd.arg("--address").arg(self.socket()).args(args);
        cmd
    }

    /// Runs `ctr` and returns its stdout, failing with its stderr.
    pub fn ctr(&self, args: &[&str]) -> anyhow::Result<String> {
        let out = self.ctr_command(args).output()?;
        if !out.status.success() {
            anyhow::bail!("ctr {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Imports an OCI layout tar under `reference`.
    pub fn import(&self, tar: &Path, reference: &str) -> anyhow::Result<()> {
        let tar = tar.to_string_lossy();
        self.ctr(&["images", "import", "--base-name", reference.rsplit_once(':').map(|(b, _)| b).unwrap_or(reference), &tar])?;
        let list = self.ctr(&["images", "ls", "-q"])?;
        anyhow::ensure!(list.lines().any(|l| l == reference), "image {reference} not listed after import: {list}");
        Ok(())
    }

    /// Starts `ctr run --rm --net-host --runtime io.containerd.spin.v2 <image> <id> /`
    /// in the foreground: its exit code is the task's, its output the task's.
    pub fn run_task(&self, image: &str, id: &str, env: &[(&str, &str)]) -> anyhow::Result<Running> {
        self.run_task_with_args(image, id, env, &[])
    }

    /// [`Self::run_task`] with container args after the `/` entrypoint (a command
    /// component gets them after its id in argv).
    pub fn run_task_with_args(&self, image: &str, id: &str, env: &[(&str, &str)], extra: &[&str]) -> anyhow::Result<Running> {
        let mut args: Vec<String> = ["run", "--rm", "--net-host", "--runtime", RUNTIME].map(String::from).to_vec();
        for (k, v) in env {
            args.push("--env".into());
            args.push(format!("{k}={v}"));
        }
        args.extend([image.to_string(), id.to_string(), "/".to_string()]);
        args.extend(extra.iter().map(|a| a.to_string()));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        Running::spawn(self.ctr_command(&refs))
    }

    /// `ctr task kill` (SIGTERM unless `signal` says otherwise).
    pub fn kill_task(&self, id: &str, signal: &str) -> anyhow::Result<()> {
        self.ctr(&["task", "kill", "--signal", signal, id]).map(|_| ())
    }
}

impl Drop for Containerd {
    fn drop(&mut self) {
        if let Ok(tasks) = self.ctr(&["task", "ls", "-q"]) {
            for id in tasks.lines() {
                let _ = self.ctr(&["task", "kill", "--signal", "SIGKILL", id]);
            }
        }
        drop(self.process.take());
        // Unmount anything containerd left mounted under its root before removal.
        let _ = Command::new("sh")
            .arg("-c")
            .arg(format!("grep -o ' {}[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l", self.dir.path().display()))
            .status();
    }
}
