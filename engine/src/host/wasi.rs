//! WASI 0.2 context for one instance: the component's `environment`, its `files`
//! preopened (read-only unless transient writes are allowed), and stdio.

use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder};

use super::outbound::SocketRules;
use super::stdio::{ComponentLogs, StdioMode};
use crate::loader::Mount;

/// The WASI settings shared by every instance of one component.
#[derive(Clone, Debug, Default)]
pub(crate) struct WasiTemplate {
    /// `KEY=VALUE` pairs of the component's environment.
    pub env: Vec<(String, String)>,
    /// Read-only preopens.
    pub mounts: Vec<Mount>,
    /// stdout/stderr routing.
    pub stdio: StdioMode,
    /// The component's log files, when the app has a log folder.
    pub logs: Option<ComponentLogs>,
    /// Where the guest may open sockets (`wasi:sockets`); `None`: nowhere.
    pub sockets: Option<SocketRules>,
}

impl WasiTemplate {
    /// Builds a fresh `WasiCtx` for one instance.
    pub(crate) fn build(&self, args: &[String]) -> anyhow::Result<WasiCtx> {
        let mut b = WasiCtxBuilder::new();
        b.envs(&self.env).args(args);
        match &self.logs {
            Some(logs) => {
                b.stdout(logs.stdout(self.stdio)).stderr(logs.stderr(self.stdio));
            }
            None if self.stdio == StdioMode::Inherit => {
                b.inherit_stdout().inherit_stderr();
            }
            None => {}
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
