//! Outbound HTTP that stays inside the app: service chaining
//! (`http://<component>.spin.internal/...`) and self requests (`http://self`,
//! `http://self.alt`, or a URI without an authority). The HTTP trigger serves
//! them in-process, never through DNS or a socket; the engine only knows the
//! [`LocalHttp`] it registered in the app's [`LocalRoutes`].

use std::sync::{Arc, OnceLock};

use futures::future::BoxFuture;
use wasmtime_wasi_http::{Error as HttpError, WasiBody};

/// The host suffix that names a component of the same app.
pub const SPIN_INTERNAL_SUFFIX: &str = ".spin.internal";

/// Where a request that stays inside the app goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LocalTarget {
    /// The component with this id (`http://<id>.spin.internal/...`).
    Component(String),
    /// The app's own routes (`http://self/...`, `http://self.alt/...`, or a
    /// URI without an authority).
    App,
}

impl LocalTarget {
    /// Where `uri` goes if it stays inside the app; `None` for any other host.
    pub fn of(uri: &http::Uri) -> Option<Self> {
        let Some(host) = uri.host() else { return Some(Self::App) };
        let host = host.to_ascii_lowercase();
        if host == "self" || host == "self.alt" {
            return Some(Self::App);
        }
        let id = host.strip_suffix(SPIN_INTERNAL_SUFFIX)?;
        (!id.is_empty()).then(|| Self::Component(id.to_string()))
    }

    /// The host the component's `allowed_outbound_hosts` must allow.
    pub(crate) fn allowed_host(&self) -> String {
        match self {
            Self::Component(id) => format!("{id}{SPIN_INTERNAL_SUFFIX}"),
            Self::App => "self".to_string(),
        }
    }
}

/// The app's HTTP routes as the HTTP trigger serves them in-process.
pub trait LocalHttp: Send + Sync {
    /// Serves `request` at `target` as if it had arrived from a client; errors
    /// only when there is no such target.
    fn serve(
        &self,
        target: LocalTarget,
        request: http::Request<WasiBody>,
    ) -> BoxFuture<'static, Result<http::Response<WasiBody>, HttpError>>;
}

/// Where the HTTP trigger registers its [`LocalHttp`] once it is prepared;
/// cheap to clone (clones share it). An app without an HTTP trigger has none.
#[derive(Clone, Default)]
pub struct LocalRoutes(Arc<OnceLock<Arc<dyn LocalHttp>>>);

impl LocalRoutes {
    /// Registers the app's routes; a second registration is ignored.
    pub fn provide(&self, routes: Arc<dyn LocalHttp>) {
        let _ = self.0.set(routes);
    }

    /// The registered routes, if any.
    pub(crate) fn get(&self) -> Option<&Arc<dyn LocalHttp>> {
        self.0.get()
    }
}

impl std::fmt::Debug for LocalRoutes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.get().is_some() { "LocalRoutes(registered)" } else { "LocalRoutes(none)" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(uri: &str) -> Option<LocalTarget> {
        LocalTarget::of(&uri.parse().unwrap())
    }

    #[test]
    fn internal_self_and_relative_uris_stay_inside() {
        assert_eq!(target("http://backend.spin.internal/x"), Some(LocalTarget::Component("backend".into())));
        assert_eq!(target("http://Backend.SPIN.internal"), Some(LocalTarget::Component("backend".into())));
        assert_eq!(target("http://self/x"), Some(LocalTarget::App));
        assert_eq!(target("https://self.alt:8443/x"), Some(LocalTarget::App));
        assert_eq!(target("/relative?q=1"), Some(LocalTarget::App));
        assert_eq!(target("http://.spin.internal/"), None);
        assert_eq!(target("http://example.com/"), None);
        assert_eq!(target("http://self.example.com/"), None);
    }
}
