//! A CRI client (`k8s-cri` over containerd's socket) that drives pods the way the
//! kubelet does: RunPodSandbox with a RuntimeClass handler, CreateContainer,
//! StartContainer, status and logs, StopPodSandbox, RemovePodSandbox.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use hyper_util::rt::TokioIo;
use k8s_cri::v1::image_service_client::ImageServiceClient;
use k8s_cri::v1::runtime_service_client::RuntimeServiceClient;
use k8s_cri::v1::{
    ContainerConfig, ContainerMetadata, ContainerState, ContainerStatus, ContainerStatusRequest,
    CreateContainerRequest, ImageSpec, ImageStatusRequest, KeyValue, LinuxContainerConfig,
    LinuxContainerSecurityContext, LinuxPodSandboxConfig, LinuxSandboxSecurityContext, Mount, NamespaceMode,
    NamespaceOption, PodSandboxConfig, PodSandboxMetadata, PullImageRequest, RemovePodSandboxRequest,
    RunPodSandboxRequest, StartContainerRequest, StopPodSandboxRequest, VersionRequest,
};
use tonic::transport::{Channel, Endpoint, Uri};

use crate::containerd::Containerd;

/// A blocking CRI client for tests.
pub struct Cri {
    rt: tokio::runtime::Runtime,
    runtime: RuntimeServiceClient<Channel>,
    images: ImageServiceClient<Channel>,
}

/// A running pod sandbox and the config its containers are created with.
pub struct Pod {
    /// The sandbox id containerd assigned.
    pub id: String,
    /// The config it was started with (CreateContainer repeats it, as the kubelet does).
    pub config: PodSandboxConfig,
    /// Where its containers' logs go.
    pub log_dir: PathBuf,
}

/// Host network, pod-shared PID and IPC: what `hostNetwork: true` asks for.
fn host_network() -> NamespaceOption {
    NamespaceOption {
        network: NamespaceMode::Node as i32,
        pid: NamespaceMode::Container as i32,
        ipc: NamespaceMode::Pod as i32,
        ..Default::default()
    }
}

/// The pause image [`spin_node`] imports.
pub const PAUSE: &str = "test.local/pause:1";

/// A private containerd with its CRI plugin and handler `spin` (the shim under
/// test), the pause image imported, allowed to pull from `registry_host` (if
/// any) over plain HTTP; and a CRI client to it.
pub fn spin_node(registry_host: Option<&str>) -> anyhow::Result<(Containerd, Cri)> {
    let containerd =
        Containerd::start_cri(&[&crate::paths::bin_dir()], PAUSE, &[("spin", crate::containerd::RUNTIME)])?;
    if let Some(host) = registry_host {
        containerd.allow_plain_http(host)?;
    }
    let mut cri = Cri::connect(&containerd.socket())?;
    let pause = crate::images::pause_image(PAUSE, containerd.dir())?;
    containerd.import(&pause, PAUSE)?;
    cri.wait_for_image(PAUSE)?;
    Ok((containerd, cri))
}

impl Cri {
    /// Connects to containerd's gRPC socket and waits until the CRI plugin answers
    /// (its socket is up a moment before the plugin is initialized).
    pub fn connect(socket: &Path) -> anyhow::Result<Self> {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let socket = socket.to_path_buf();
        let channel = rt.block_on(async move {
            Endpoint::try_from("http://[::]:0")?
                .connect_with_connector(tower::service_fn(move |_: Uri| {
                    let socket = socket.clone();
                    async move { Ok::<_, std::io::Error>(TokioIo::new(tokio::net::UnixStream::connect(socket).await?)) }
                }))
                .await
        })?;
        let mut cri =
            Self { rt, runtime: RuntimeServiceClient::new(channel.clone()), images: ImageServiceClient::new(channel) };
        let end = Instant::now() + Duration::from_secs(20);
        while let Err(e) = cri.rt.block_on(cri.runtime.version(VersionRequest::default())) {
            anyhow::ensure!(Instant::now() < end, "the CRI plugin did not answer: {e}");
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(cri)
    }

    /// Waits until the CRI image service knows `image` (containerd tells the CRI
    /// plugin about imported images through events, a moment after the import).
    pub fn wait_for_image(&mut self, image: &str) -> anyhow::Result<()> {
        let end = Instant::now() + Duration::from_secs(20);
        loop {
            let request = ImageStatusRequest { image: Some(image_spec(image)), verbose: false };
            let status = self.rt.block_on(self.images.image_status(request))?.into_inner();
            if status.image.is_some() {
                return Ok(());
            }
            anyhow::ensure!(Instant::now() < end, "CRI does not list image {image}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// PullImage, as the kubelet asks for a Pod's image; returns the image ref.
    pub fn pull_image(&mut self, image: &str) -> anyhow::Result<String> {
        let request = PullImageRequest { image: Some(image_spec(image)), auth: None, sandbox_config: None };
        Ok(self.rt.block_on(self.images.pull_image(request))?.into_inner().image_ref)
    }

    /// RunPodSandbox on the host network with `handler` as the RuntimeClass
    /// handler; container logs go under `log_dir`.
    pub fn run_pod(&mut self, name: &str, handler: &str, log_dir: &Path) -> anyhow::Result<Pod> {
        std::fs::create_dir_all(log_dir)?;
        let config = PodSandboxConfig {
            metadata: Some(PodSandboxMetadata {
                name: name.into(),
                uid: format!("uid-{name}"),
                namespace: "default".into(),
                attempt: 0,
            }),
            log_directory: log_dir.display().to_string(),
            labels: HashMap::from([("app".to_string(), name.to_string())]),
            linux: Some(LinuxPodSandboxConfig {
                security_context: Some(LinuxSandboxSecurityContext {
                    namespace_options: Some(host_network()),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let request = RunPodSandboxRequest { config: Some(config.clone()), runtime_handler: handler.into() };
        let id = self.rt.block_on(self.runtime.run_pod_sandbox(request))?.into_inner().pod_sandbox_id;
        Ok(Pod { id, config, log_dir: log_dir.to_path_buf() })
    }

    /// CreateContainer with `image`, command `["/"]` (as a Spin Pod spec has it)
    /// and `env`, then StartContainer; returns the container id.
    pub fn start_container(
        &mut self,
        pod: &Pod,
        name: &str,
        image: &str,
        env: &[(&str, &str)],
    ) -> anyhow::Result<String> {
        self.start_container_with_args(pod, name, image, env, &[])
    }

    /// [`Self::start_container`] with the Pod spec's `args` (a command component's argv).
    pub fn start_container_with_args(
        &mut self,
        pod: &Pod,
        name: &str,
        image: &str,
        env: &[(&str, &str)],
        args: &[&str],
    ) -> anyhow::Result<String> {
        self.start_container_with_command(pod, name, image, env, &["/"], args, &[])
    }

    /// CreateContainer with the Pod spec's `command` and `args`, and `mounts`
    /// (each a host file or folder and the container path it is bound at, as the
    /// kubelet binds `/dev/termination-log`), then StartContainer.
    #[allow(clippy::too_many_arguments, reason = "one per field of the Pod spec's container")]
    pub fn start_container_with_command(
        &mut self,
        pod: &Pod,
        name: &str,
        image: &str,
        env: &[(&str, &str)],
        command: &[&str],
        args: &[&str],
        mounts: &[(&Path, &str)],
    ) -> anyhow::Result<String> {
        let config = ContainerConfig {
            metadata: Some(ContainerMetadata { name: name.into(), attempt: 0 }),
            image: Some(image_spec(image)),
            command: command.iter().map(|a| a.to_string()).collect(),
            args: args.iter().map(|a| a.to_string()).collect(),
            envs: env.iter().map(|(k, v)| KeyValue { key: k.to_string(), value: v.to_string() }).collect(),
            mounts: mounts
                .iter()
                .map(|(host, container)| Mount {
                    host_path: host.to_string_lossy().into_owned(),
                    container_path: container.to_string(),
                    ..Default::default()
                })
                .collect(),
            log_path: format!("{name}.log"),
            linux: Some(LinuxContainerConfig {
                security_context: Some(LinuxContainerSecurityContext {
                    namespace_options: Some(host_network()),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let request = CreateContainerRequest {
            pod_sandbox_id: pod.id.clone(),
            config: Some(config),
            sandbox_config: Some(pod.config.clone()),
        };
        let id = self.rt.block_on(self.runtime.create_container(request))?.into_inner().container_id;
        self.rt.block_on(self.runtime.start_container(StartContainerRequest { container_id: id.clone() }))?;
        Ok(id)
    }

    /// ContainerStatus.
    pub fn container_status(&mut self, id: &str) -> anyhow::Result<ContainerStatus> {
        let request = ContainerStatusRequest { container_id: id.into(), verbose: false };
        let response = self.rt.block_on(self.runtime.container_status(request))?.into_inner();
        response.status.ok_or_else(|| anyhow::anyhow!("no status for container {id}"))
    }

    /// Waits up to `timeout` for the container to exit; returns its status.
    pub fn wait_exited(&mut self, id: &str, timeout: Duration) -> anyhow::Result<ContainerStatus> {
        let end = Instant::now() + timeout;
        loop {
            let status = self.container_status(id)?;
            if status.state == ContainerState::ContainerExited as i32 {
                return Ok(status);
            }
            anyhow::ensure!(Instant::now() < end, "container {id} still in state {} after {timeout:?}", status.state);
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// StopPodSandbox then RemovePodSandbox, as the kubelet does when a Pod is deleted.
    pub fn remove_pod(&mut self, pod: &Pod) -> anyhow::Result<()> {
        let id = pod.id.clone();
        self.rt.block_on(self.runtime.stop_pod_sandbox(StopPodSandboxRequest { pod_sandbox_id: id.clone() }))?;
        self.rt.block_on(self.runtime.remove_pod_sandbox(RemovePodSandboxRequest { pod_sandbox_id: id }))?;
        Ok(())
    }
}

impl Pod {
    /// The container's log as the kubelet stores it (CRI format: time, stream,
    /// tag, text), reduced to the text of each line.
    pub fn log(&self, container: &str) -> String {
        let raw = std::fs::read_to_string(self.log_dir.join(format!("{container}.log"))).unwrap_or_default();
        raw.lines().map(|l| l.splitn(4, ' ').nth(3).unwrap_or(l)).collect::<Vec<_>>().join("\n")
    }
}

fn image_spec(image: &str) -> ImageSpec {
    ImageSpec { image: image.into(), ..Default::default() }
}
