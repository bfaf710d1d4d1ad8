//! WASI 0.2 context for one instance: the component's `environment`, its `files`
//! preopened (read-only unless transient writes are allowed), and stdio; an
//! event may add environment, give stdin and take stdout ([`EventStdio`]).

use std::sync::Arc;

use wasmtime_wasi::p2::pipe::{MemoryInputPipe, MemoryOutputPipe};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder};

use super::outbound::SocketRules;
use super::stdio::{OutputRoutes, StdioMode};
use crate::loader::Mount;
use crate::telemetry::InstanceTraces;

/// The WASI settings shared by every instance of one component.
#[derive(Clone, Debug, Default)]
pub(crate) struct WasiTemplate {
    /// `KEY=VALUE` pairs of the component's environment.
    pub env: Vec<(String, String)>,
    /// Read-only preopens.
    pub mounts: Vec<Mount>,
    /// Where stdout and stderr go.
    pub output: OutputRoutes,
    /// Where the guest may open sockets (`wasi:sockets`); `None`: nowhere.
    pub sockets: Option<SocketRules>,
}

/// What one event hands its guest through WASI besides the component's own
/// settings (a CGI-style call): environment after the component's, the bytes
/// on stdin, and the pipe that takes stdout.
#[derive(Clone)]
pub struct EventStdio {
    /// `KEY=VALUE` pairs added after the component's environment.
    pub env: Vec<(String, String)>,
    /// What the guest reads on stdin.
    pub stdin: bytes::Bytes,
    /// Where the guest's stdout goes (its stderr goes where the component's does).
    pub stdout: MemoryOutputPipe,
}

impl WasiTemplate {
    /// Builds a fresh `WasiCtx` for one instance; a reused instance's output
    /// records join its requests' traces through `traces`.
    pub(crate) fn build(
        &self,
        args: &[String],
        traces: Option<&Arc<InstanceTraces>>,
        event: Option<&EventStdio>,
    ) -> anyhow::Result<WasiCtx> {
        let mut b = WasiCtxBuilder::new();
        b.envs(&self.env).args(args);
        match self.output.mode_only() {
            Some(StdioMode::Inherit) => {
                b.inherit_stdout().inherit_stderr();
            }
            Some(StdioMode::Null) => {}
            None => {
                let (stdout, stderr) = self.output.streams(traces);
                b.stdout(stdout).stderr(stderr);
            }
        }
        if let Some(event) = event {
            b.envs(&event.env).stdin(MemoryInputPipe::new(event.stdin.clone())).stdout(event.stdout.clone());
        }
        match &self.sockets {
            Some(rules) => rules.apply(&mut b),
            None => {
                b.allow_tcp(false).allow_udp(false).allow_ip_name_lookup(false);
            }
        }
        for m in &self.mounts {
            let perms = if m.writable { FsPerms::ReadWrite } else { FsPerms::ReadOnly };
            b.preopened_dir(&m.host_dir, &m.guest_path, perms)
                .map_err(|e| anyhow::anyhow!("cannot mount {} at {}: {e:#}", m.host_dir.display(), m.guest_path))?;
        }
        Ok(b.build())
    }
}
