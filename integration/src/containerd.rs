//! A private containerd (Debian's package) in a temp folder, driven with `ctr`,
//! with the shim on its PATH: what a node runs, minus the kubelet.

use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::process::Running;

/// The runtime name containerd maps to `containerd-shim-spin-v2`.
pub const RUNTIME: &str = "io.containerd.spin.v2";

/// One `ctr run`: runtime, image, container id, environment, bind mounts
/// (`(host dir, container path)`) and command.
pub struct TaskSpec<'a> {
    /// The runtime (`io.containerd.spin.v2`, `io.containerd.runc.v2`, ...).
    pub runtime: &'a str,
    /// Image reference.
    pub image: &'a str,
    /// Container id.
    pub id: &'a str,
    /// Environment variables.
    pub env: &'a [(&'a str, &'a str)],
    /// Bind mounts, read-write.
    pub mounts: &'a [(&'a Path, &'a str)],
    /// The command (for a Spin image, `/` and container args).
    pub command: &'a [&'a str],
    /// `readOnlyRootFilesystem`: the image's rootfs mounted read-only.
    pub read_only: bool,
}

/// A running private containerd; stopped (with its tasks) on drop.
pub struct Containerd {
    dir: tempfile::TempDir,
    process: Option<Running>,
    binary: PathBuf,
    config: PathBuf,
    path: String,
    /// Added to containerd's environment.
    env: Vec<(String, String)>,
    namespace: &'static str,
    /// `ctr events` on tasks' exits, from the start of containerd.
    exits: Arc<Mutex<Option<Running>>>,
}

impl Containerd {
    /// Starts `containerd` (or `$CONTAINERD_BIN`) with the shim's directory first
    /// on its PATH and its CRI plugin disabled, and waits for its socket.
    pub fn start(shim_dir: &Path) -> anyhow::Result<Self> {
        Self::start_with_env(shim_dir, &[])
    }

    /// [`Containerd::start`] with `env` added to containerd's environment, which
    /// the shims it starts inherit (`SPIN_SHIM_*` settings of a node).
    pub fn start_with_env(shim_dir: &Path, env: &[(&str, &str)]) -> anyhow::Result<Self> {
        let dir = state_dir()?;
        let config = format!("{}disabled_plugins = [\"io.containerd.grpc.v1.cri\"]\n", base_config(dir.path()));
        std::fs::write(dir.path().join("config.toml"), config)?;
        let config = dir.path().join("config.toml");
        let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Self::launched(dir, config, &[shim_dir], "default", env)
    }

    /// Starts containerd with its CRI plugin as a kubelet node has it: host
    /// networking only (no CNI), `sandbox_image` as the pause image, and
    /// `runtimes` as `(handler, runtime_type)` pairs; `shim_dirs` go first on its PATH.
    pub fn start_cri(shim_dirs: &[&Path], sandbox_image: &str, runtimes: &[(&str, &str)]) -> anyhow::Result<Self> {
        let dir = state_dir()?;
        let config = dir.path().join("config.toml");
        std::fs::write(&config, cri_config(dir.path(), sandbox_image, runtimes))?;
        Self::start_with_config(dir, config, shim_dirs, "k8s.io")
    }

    /// Starts containerd with `config` (which keeps its state under `dir`);
    /// `ctr` commands use `namespace`.
    pub fn start_with_config(
        dir: tempfile::TempDir,
        config: PathBuf,
        shim_dirs: &[&Path],
        namespace: &'static str,
    ) -> anyhow::Result<Self> {
        Self::launched(dir, config, shim_dirs, namespace, Vec::new())
    }

    fn launched(
        dir: tempfile::TempDir,
        config: PathBuf,
        shim_dirs: &[&Path],
        namespace: &'static str,
        env: Vec<(String, String)>,
    ) -> anyhow::Result<Self> {
        let binary = std::env::var_os("CONTAINERD_BIN").map(PathBuf::from).unwrap_or_else(|| "containerd".into());
        let mut path: Vec<String> = shim_dirs.iter().map(|d| d.display().to_string()).collect();
        path.push(std::env::var("PATH").unwrap_or_default());
        let path = path.join(":");
        let mut me = Self { dir, process: None, binary, config, path, env, namespace, exits: Default::default() };
        me.launch()?;
        let version = me.ctr(&["version"])?;
        let server = version.split("Server:").nth(1).unwrap_or(&version);
        eprintln!(
            "private containerd {}: {}",
            me.binary.display(),
            server.split_whitespace().collect::<Vec<_>>().join(" ")
        );
        Ok(me)
    }

    /// Stops containerd (running shims stay, as on a node) and starts it again
    /// with the same config file, re-read: what `systemctl restart containerd` does.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        if let Some(p) = self.process.take() {
            p.signal(libc::SIGTERM);
            let mut p = p;
            p.wait(Duration::from_secs(20))?;
        }
        let _ = std::fs::remove_file(self.socket());
        self.launch()
    }

    fn launch(&mut self) -> anyhow::Result<()> {
        let mut cmd = Command::new(&self.binary);
        cmd.arg("--config").arg(&self.config).env("PATH", &self.path);
        // The shims it starts keep their compile-cache key with this test's state.
        cmd.env("SPIN_SHIM_CACHE_KEY_FILE", self.dir.path().join("shim-cache.key"));
        cmd.env("SPIN_SHIM_NODE_CACHE_DIR", self.node_cache_dir());
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        let mut process = Running::spawn(cmd)?;
        let end = Instant::now() + Duration::from_secs(20);
        while !self.socket().exists() {
            if Instant::now() > end || process.try_status().is_some() {
                anyhow::bail!("containerd did not create its socket; output:\n{}", process.output());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        self.process = Some(process);
        let exits = Running::spawn(self.ctr_command(&["events", "topic==\"/tasks/exit\""]))?;
        *self.exits.lock().unwrap_or_else(PoisonError::into_inner) = Some(exits);
        Ok(())
    }

    /// What containerd (and the shims, through it) logged so far.
    pub fn log(&mut self) -> String {
        self.process.as_mut().map(Running::output).unwrap_or_default()
    }

    /// The folder holding containerd's config, root, state and socket.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The namespace its `ctr` commands and API calls use.
    pub fn namespace(&self) -> &'static str {
        self.namespace
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
        cmd.arg("--address").arg(self.socket()).arg("--namespace").arg(self.namespace).args(args);
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
        self.ctr(&[
            "images",
            "import",
            "--base-name",
            reference.rsplit_once(':').map(|(b, _)| b).unwrap_or(reference),
            &tar,
        ])?;
        let list = self.ctr(&["images", "ls", "-q"])?;
        anyhow::ensure!(list.lines().any(|l| l == reference), "image {reference} not listed after import: {list}");
        Ok(())
    }

    /// Packs `app` with `spin-shim package` (see [`crate::images::package_app`])
    /// and imports it as `reference`.
    pub fn import_app(&self, app: &Path, reference: &str, raw: bool) -> anyhow::Result<()> {
        let tar = crate::images::package_app(app, reference, raw, self.dir())?;
        self.import(&tar, reference)
    }

    /// Starts `ctr run --rm --net-host --runtime io.containerd.spin.v2 <image> <id> /`
    /// in the foreground: its exit code is the task's, its output the task's.
    pub fn run_task(&self, image: &str, id: &str, env: &[(&str, &str)]) -> anyhow::Result<CtrTask> {
        self.run_task_with_args(image, id, env, &[])
    }

    /// [`Self::run_task`] with container args after the `/` entrypoint (a command
    /// component gets them after its id in argv).
    pub fn run_task_with_args(
        &self,
        image: &str,
        id: &str,
        env: &[(&str, &str)],
        extra: &[&str],
    ) -> anyhow::Result<CtrTask> {
        let command: Vec<&str> = std::iter::once("/").chain(extra.iter().copied()).collect();
        self.run_task_on(&TaskSpec {
            runtime: RUNTIME,
            image,
            id,
            env,
            mounts: &[],
            command: &command,
            read_only: false,
        })
    }

    /// Starts `ctr run --rm --net-host` for `spec` in the foreground.
    pub fn run_task_on(&self, spec: &TaskSpec<'_>) -> anyhow::Result<CtrTask> {
        let mut args: Vec<String> = ["run", "--rm", "--net-host", "--runtime", spec.runtime].map(String::from).to_vec();
        if spec.read_only {
            args.push("--read-only".into());
        }
        for (k, v) in spec.env {
            args.push("--env".into());
            args.push(format!("{k}={v}"));
        }
        for (host, guest) in spec.mounts {
            args.push("--mount".into());
            args.push(format!("type=bind,src={},dst={guest},options=rbind:rw", host.display()));
        }
        args.extend([spec.image.to_string(), spec.id.to_string()]);
        args.extend(spec.command.iter().map(|a| a.to_string()));
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let running = Running::spawn(self.ctr_command(&refs))?;
        let delete = |what: &str| self.ctr_command(&[what, "delete", spec.id]);
        Ok(CtrTask {
            running,
            id: spec.id.to_string(),
            exits: self.exits.clone(),
            delete_task: delete("task"),
            delete_container: delete("container"),
        })
    }

    /// Whether this is containerd 1.6 (which cannot unpack Spin OCI artifacts).
    pub fn is_v1_6(&self) -> bool {
        self.ctr(&["version"])
            .unwrap_or_default()
            .split("Server:")
            .nth(1)
            .is_some_and(|server| server.contains(" 1.6."))
    }

    /// The node's compile cache this containerd's shims use (`SPIN_SHIM_NODE_CACHE_DIR`).
    pub fn node_cache_dir(&self) -> PathBuf {
        self.dir.path().join("node-cache")
    }

    /// Lets the CRI plugin pull from `host` (`127.0.0.1:<port>`) over plain HTTP,
    /// as a node's `certs.d/<host>/hosts.toml` does for an in-cluster registry.
    pub fn allow_plain_http(&self, host: &str) -> anyhow::Result<()> {
        let dir = self.dir().join("certs.d").join(host);
        std::fs::create_dir_all(&dir)?;
        let hosts =
            format!("server = \"http://{host}\"\n[host.\"http://{host}\"]\n  capabilities = [\"pull\", \"resolve\"]\n");
        Ok(std::fs::write(dir.join("hosts.toml"), hosts)?)
    }

    /// `ctr task kill` (SIGTERM unless `signal` says otherwise).
    pub fn kill_task(&self, id: &str, signal: &str) -> anyhow::Result<()> {
        self.ctr(&["task", "kill", "--signal", signal, id]).map(|_| ())
    }
}

/// A task started by `ctr run`: its output and exit as [`Running`]'s, except
/// that [`CtrTask::wait`] sees through a race in runwasi's shim.
///
/// `ctr run` deletes the task once its wait returns, and the delete first asks
/// the shim for the task's state. containerd-shimkit 0.1.2 answers that from a
/// lock its other waiters (containerd's own, the exit event's) take for a moment
/// after the exit, and reports `running` when the lock is busy; `ctr` then exits
/// 1 with `task must be stopped before deletion`. The CRI retries such a delete,
/// so a Pod never sees this. `ctr` 1.7 retries it once on its way out (task and
/// container then go, with the exit code), 1.6 does not (both stay). Either way
/// the wait here takes the task's exit code from containerd's exit event and
/// deletes what is left.
pub struct CtrTask {
    running: Running,
    id: String,
    exits: Arc<Mutex<Option<Running>>>,
    delete_task: Command,
    delete_container: Command,
}

/// What `ctr` prints when it asks to delete a task the shim still calls running.
const DELETE_RACE: &str = "task must be stopped before deletion: running";

impl CtrTask {
    /// Waits up to `timeout` for the task to exit; returns its exit code and the
    /// output of `ctr run`.
    pub fn wait(&mut self, timeout: Duration) -> anyhow::Result<(i32, String)> {
        let (code, output) = self.running.wait(timeout)?;
        if code != 1 || !output.lines().last().is_some_and(|l| l.contains(DELETE_RACE)) {
            return Ok((code, output));
        }
        let code = self.exit_event_code().map_err(|e| e.context(format!("output of ctr run:\n{output}")))?;
        let _ = self.delete_task.output();
        let _ = self.delete_container.output();
        Ok((code, output))
    }

    /// The exit status in containerd's `/tasks/exit` event of this task's process.
    fn exit_event_code(&self) -> anyhow::Result<i32> {
        let mut exits = self.exits.lock().unwrap_or_else(PoisonError::into_inner);
        let exits = exits.as_mut().ok_or_else(|| anyhow::anyhow!("no ctr events running"))?;
        let id = &self.id;
        let line =
            exits.wait_for_line(&format!("\"container_id\":\"{id}\",\"id\":\"{id}\""), Duration::from_secs(5))?;
        // Go's JSON leaves out a zero `exit_status`.
        let code = match line.split_once("\"exit_status\":") {
            Some((_, rest)) => rest.split(|c: char| !c.is_ascii_digit()).next().unwrap_or_default().parse()?,
            None => 0,
        };
        Ok(code)
    }
}

impl Deref for CtrTask {
    type Target = Running;

    fn deref(&self) -> &Running {
        &self.running
    }
}

impl DerefMut for CtrTask {
    fn deref_mut(&mut self) -> &mut Running {
        &mut self.running
    }
}

/// A tempdir under /var/tmp (overlayfs needs a real filesystem, not tmpfs).
pub fn state_dir() -> anyhow::Result<tempfile::TempDir> {
    Ok(tempfile::Builder::new().prefix("css-containerd-").tempdir_in("/var/tmp")?)
}

/// Root, state and socket under `dir`; no ttrpc socket; warnings only.
fn base_config(dir: &Path) -> String {
    format!(
        "version = 2\nroot = \"{r}/root\"\nstate = \"{r}/state\"\n\
         [grpc]\n  address = \"{r}/containerd.sock\"\n[ttrpc]\n  address = \"\"\n[debug]\n  level = \"warn\"\n",
        r = dir.display()
    )
}

/// A node's containerd config (schema version 2, as containerd 1.6/1.7 write it)
/// with the CRI plugin on: runc as the default runtime plus `runtimes`, and no
/// CNI config (host-network pods only).
pub fn cri_config(dir: &Path, sandbox_image: &str, runtimes: &[(&str, &str)]) -> String {
    let cri = "plugins.\"io.containerd.grpc.v1.cri\"";
    // The kubelet asks for oom_score_adj -998 for sandboxes; lowering it needs
    // CAP_SYS_RESOURCE, which nested and rootless hosts lack (then writing it
    // fails with EIO). There, containerd clamps it to its own, as for rootless.
    let restrict_oom = !has_capability(CAP_SYS_RESOURCE);
    let mut text = format!(
        "{base}\n[{cri}]\n  sandbox_image = \"{sandbox_image}\"\n  disable_apparmor = true\n  restrict_oom_score_adj = {restrict_oom}\n\
         [{cri}.registry]\n  config_path = \"{r}/certs.d\"\n\
         [{cri}.cni]\n  bin_dir = \"{r}/cni/bin\"\n  conf_dir = \"{r}/cni/conf\"\n\
         [{cri}.containerd]\n  default_runtime_name = \"runc\"\n\
         [{cri}.containerd.runtimes.runc]\n  runtime_type = \"io.containerd.runc.v2\"\n",
        base = base_config(dir),
        r = dir.display()
    );
    for (handler, runtime_type) in runtimes {
        text.push_str(&format!("[{cri}.containerd.runtimes.{handler}]\n  runtime_type = \"{runtime_type}\"\n"));
    }
    text
}

/// `CAP_SYS_RESOURCE` from `linux/capability.h`.
const CAP_SYS_RESOURCE: u32 = 24;

/// Whether this process has capability `cap` (bit `cap` of `CapEff`).
fn has_capability(cap: u32) -> bool {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let effective = status.lines().find_map(|l| l.strip_prefix("CapEff:")).unwrap_or("0");
    u64::from_str_radix(effective.trim(), 16).is_ok_and(|bits| bits & (1 << cap) != 0)
}

impl Drop for Containerd {
    fn drop(&mut self) {
        // Tasks a test left running are killed and deleted, with their
        // containers, while their shims still run: runwasi keeps a container's
        // state under /run by namespace and id, which outlives this containerd
        // and would refuse the same id in a later run.
        let tasks = self.ctr(&["task", "ls", "-q"]).unwrap_or_default();
        for id in tasks.lines() {
            let _ = self.ctr(&["task", "kill", "--signal", "SIGKILL", id]);
        }
        for id in tasks.lines() {
            let end = Instant::now() + Duration::from_secs(5);
            // `ctr task delete` exits with the task's code; only a task still
            // called running (killed a moment ago) is asked again.
            while Instant::now() < end {
                let Ok(out) = self.ctr_command(&["task", "delete", id]).output() else { break };
                if !String::from_utf8_lossy(&out.stderr).contains("failed precondition") {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        let containers = self.ctr(&["containers", "ls", "-q"]).unwrap_or_default();
        for id in containers.lines() {
            let _ = self.ctr(&["containers", "delete", id]);
        }
        drop(self.process.take());
        // Shims of tasks that were not deleted outlive containerd; end them too.
        for (pid, _) in crate::process::mentioning(&self.dir.path().to_string_lossy()) {
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        // Unmount anything containerd left mounted under its root before removal.
        let _ = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "grep -o ' {}[^ ]*' /proc/mounts | sort -r | xargs -r -n1 umount -l",
                self.dir.path().display()
            ))
            .status();
    }
}
