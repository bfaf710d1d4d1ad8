//! Guest ABIs an HTTP component can export, and picking the one it has.

mod spin_inbound;
mod wasi_http;

use std::sync::Arc;

use spin_engine::runtime::PreparedComponent;

use crate::body::Body;

pub use spin_inbound::SpinInboundExecutor;
pub use wasi_http::WasiHttpExecutor;

/// A per-request call into one component, through whichever ABI it exports.
pub enum Executor {
    /// `wasi:http/incoming-handler@0.2.x`.
    WasiHttp(WasiHttpExecutor),
    /// `fermyon:spin/inbound-http` (Spin 1 ABI).
    SpinInbound(SpinInboundExecutor),
}

const WASI_HTTP_02: &str = "wasi:http/incoming-handler@0.2.";
const WASI_HTTP_RC: &str = "wasi:http/incoming-handler@0.2.0-rc-";
const SPIN_INBOUND: &str = "fermyon:spin/inbound-http";

impl Executor {
    /// Inspects the component's exports and binds the matching executor; errors
    /// (naming the component) when it exports none or several handlers.
    pub fn for_component(component: &Arc<PreparedComponent>) -> anyhow::Result<Self> {
        let exports = component.export_names();
        let wasi = exports.iter().find(|e| e.starts_with(WASI_HTTP_02) && !e.starts_with(WASI_HTTP_RC));
        let rc = exports.iter().find(|e| e.starts_with(WASI_HTTP_RC));
        let spin = exports.iter().find(|e| e.as_str() == SPIN_INBOUND);
        let id = component.id();
        match (wasi, spin, rc) {
            (Some(_), None, None) => Ok(Self::WasiHttp(WasiHttpExecutor::new(component.clone())?)),
            (None, Some(_), None) => Ok(Self::SpinInbound(SpinInboundExecutor::new(component.clone())?)),
            (None, None, Some(rc)) => anyhow::bail!(
                "component `{id}` exports `{rc}`, a pre-release wasi-http this runtime does not serve; rebuild it with a current SDK"
            ),
            (None, None, None) => anyhow::bail!(
                "component `{id}`: Expected component to export one of `{WASI_HTTP_02}x`, `{SPIN_INBOUND}`, but it exports {}",
                component.describe_exports()
            ),
            _ => anyhow::bail!("component `{id}` exports multiple different handlers ({})", exports.join(", ")),
        }
    }

    /// Calls the guest for one request.
    pub async fn execute(
        &self,
        req: http::Request<hyper::body::Incoming>,
        deadline: Option<std::time::Instant>,
    ) -> anyhow::Result<http::Response<Body>> {
        match self {
            Self::WasiHttp(e) => e.execute(req, deadline).await,
            Self::SpinInbound(e) => e.execute(req, deadline).await,
        }
    }
}
