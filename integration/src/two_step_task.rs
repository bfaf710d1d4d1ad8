//! A task created and started in two calls of containerd's task API, as the
//! kubelet's path makes them and `ctr run` hides: the tests see what a
//! container does between containerd's Create and Start.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use containerd_client::services::v1::snapshots::snapshots_client::SnapshotsClient;
use containerd_client::services::v1::snapshots::MountsRequest;
use containerd_client::services::v1::tasks_client::TasksClient;
use containerd_client::services::v1::{CreateTaskRequest, StartRequest};
use containerd_client::tonic::transport::Channel;
use containerd_client::tonic::Request;
use containerd_client::with_namespace;

use crate::containerd::{Containerd, RUNTIME};

/// A task that containerd has created (its shim and container set up) and
/// started only once [`TwoStepTask::start`] is called; its stdout and stderr go
/// to files. [`Containerd`]'s drop kills and deletes it with its container.
pub struct TwoStepTask {
    id: String,
    namespace: &'static str,
    channel: Channel,
    runtime: tokio::runtime::Runtime,
    stdout: PathBuf,
    stderr: PathBuf,
}

impl TwoStepTask {
    /// Creates container `id` from `image` (host network, runtime
    /// `io.containerd.spin.v2`, entrypoint `/`, environment `env`) and its task,
    /// without starting it.
    pub fn create(containerd: &Containerd, image: &str, id: &str, env: &[(&str, &str)]) -> anyhow::Result<Self> {
        let mut args = vec!["containers", "create", "--net-host", "--runtime", RUNTIME];
        let env: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        for pair in &env {
            args.extend(["--env", pair.as_str()]);
        }
        args.extend([image, id, "/"]);
        containerd.ctr(&args)?;
        let stdout = containerd.dir().join(format!("{id}.stdout"));
        let stderr = containerd.dir().join(format!("{id}.stderr"));
        std::fs::write(&stdout, "")?;
        std::fs::write(&stderr, "")?;
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let namespace = containerd.namespace();
        let channel = runtime.block_on(containerd_client::connect(containerd.socket()))?;
        runtime.block_on(async {
            let mounts = SnapshotsClient::new(channel.clone())
                .mounts(with_namespace!(MountsRequest { snapshotter: "overlayfs".into(), key: id.into() }, namespace))
                .await?
                .into_inner()
                .mounts;
            let create = CreateTaskRequest {
                container_id: id.into(),
                rootfs: mounts,
                stdout: stdout.to_string_lossy().into_owned(),
                stderr: stderr.to_string_lossy().into_owned(),
                ..Default::default()
            };
            TasksClient::new(channel.clone()).create(with_namespace!(create, namespace)).await?;
            anyhow::Ok(())
        })?;
        Ok(Self { id: id.into(), namespace, channel, runtime, stdout, stderr })
    }

    /// containerd's Start.
    pub fn start(&self) -> anyhow::Result<()> {
        let start = StartRequest { container_id: self.id.clone(), exec_id: String::new() };
        self.runtime.block_on(TasksClient::new(self.channel.clone()).start(with_namespace!(start, self.namespace)))?;
        Ok(())
    }

    /// What the task wrote so far: stdout, then stderr.
    pub fn output(&self) -> String {
        let read = |p: &PathBuf| std::fs::read_to_string(p).unwrap_or_default();
        format!("{}{}", read(&self.stdout), read(&self.stderr))
    }

    /// Waits up to `timeout` until the task has written `needle`.
    pub fn wait_for_output(&self, needle: &str, timeout: Duration) -> anyhow::Result<()> {
        let end = Instant::now() + timeout;
        while !self.output().contains(needle) {
            anyhow::ensure!(
                Instant::now() < end,
                "no {needle:?} within {timeout:?}; output so far:\n{}",
                self.output()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }
}
