//! The `[[trigger.http]]` entry as it appears in the locked app's `trigger_config`.

use std::collections::BTreeMap;

use serde::Deserialize;
use spin_engine::trigger::{ConfigProblem, TriggerConfig};

/// One HTTP trigger's configuration (Spin's fields; unknown fields are rejected).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpTriggerConfig {
    /// The component that handles the route (absent with `static_response`).
    #[serde(default)]
    pub component: Option<String>,
    /// The route, or `{ private = true }`.
    pub route: RouteSpec,
    /// Which guest ABI to call.
    #[serde(default)]
    pub executor: Option<ExecutorSpec>,
    /// A fixed response instead of a component.
    #[serde(default)]
    pub static_response: Option<StaticResponse>,
}

/// `[application.trigger.http]`: only Spin 2's `base`, which Spin 3 and later
/// accept as `/` (with a warning) and refuse otherwise.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HttpAppConfig {
    #[serde(default)]
    base: Option<String>,
}

impl HttpAppConfig {
    /// Warns about `base = "/"`; any other base is Spin's error.
    pub(crate) fn check(&self) -> anyhow::Result<()> {
        match self.base.as_deref() {
            None => Ok(()),
            Some("/") => {
                tracing::warn!(
                    "This application has the deprecated trigger 'base' set to the default value '/'. \
                     This may be an error in the future!"
                );
                Ok(())
            }
            Some(_) => anyhow::bail!(
                "This application is using the deprecated trigger 'base' field. \
                 The base must be prepended to each [[trigger.http]]'s 'route'."
            ),
        }
    }
}

/// `route = "/path"` or `route = { private = true }`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RouteSpec {
    /// A routable path.
    Path(String),
    /// Reachable only through service chaining.
    Private {
        /// Must be `true`.
        private: bool,
    },
}

/// `executor = { type = "http" | "spin" | "wagi", ... }`.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ExecutorSpec {
    /// The default: wasi-http or the Spin inbound-http interface.
    Http,
    /// Alias of `http`.
    Spin,
    /// The CGI-style executor (deprecated in Spin, still served there).
    Wagi {
        /// The guest's argv, with `${SCRIPT_NAME}` and `${ARGS}` filled in per
        /// request (default `${SCRIPT_NAME} ${ARGS}`).
        #[serde(default)]
        argv: Option<String>,
        /// Must be `_start` (the default), as in Spin.
        #[serde(default)]
        entrypoint: Option<String>,
    },
}

/// `static_response = { status_code, headers, body }` (Spin 3.5+).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaticResponse {
    /// Defaults to 200.
    #[serde(default)]
    pub status_code: Option<u16>,
    /// Response headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Response body.
    #[serde(default)]
    pub body: Option<String>,
}

/// What a trigger entry routes to.
#[derive(Clone, Debug)]
pub enum Target {
    /// A component by id.
    Component(String),
    /// A fixed response.
    Static(StaticResponse),
}

impl TriggerConfig for HttpTriggerConfig {
    const TYPE: &'static str = "http";

    fn component(&self) -> Option<&str> {
        self.component.as_deref()
    }

    fn check(&self) -> Result<(), ConfigProblem> {
        if let RouteSpec::Private { private: false } = self.route {
            return Err(ConfigProblem::Rule("`route = { private = false }` is not allowed; give a path instead"));
        }
        if let Some(ExecutorSpec::Wagi { entrypoint: Some(entrypoint), .. }) = &self.executor {
            if entrypoint != "_start" {
                return Err(ConfigProblem::Rule("the `wagi` executor's `entrypoint` can only be `_start`"));
            }
        }
        if self.component.is_some() == self.static_response.is_some() {
            return Err(ConfigProblem::Rule("exactly one of `component` and `static_response` must be set"));
        }
        Ok(())
    }
}

impl HttpTriggerConfig {
    /// The route path, or `None` for a private endpoint.
    pub fn route(&self) -> Option<&str> {
        match &self.route {
            RouteSpec::Path(p) => Some(p),
            RouteSpec::Private { .. } => None,
        }
    }

    /// For a `wagi` executor, its argv template (Spin's default when unset).
    pub fn wagi_argv(&self) -> Option<&str> {
        match &self.executor {
            Some(ExecutorSpec::Wagi { argv, .. }) => Some(argv.as_deref().unwrap_or("${SCRIPT_NAME} ${ARGS}")),
            _ => None,
        }
    }

    /// The handler this entry routes to.
    pub fn target(&self) -> Target {
        match (&self.component, &self.static_response) {
            (Some(c), _) => Target::Component(c.clone()),
            (None, Some(s)) => Target::Static(s.clone()),
            (None, None) => unreachable!("validated in check"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use spin_engine::trigger::TriggerEntry;

    fn parse(id: &str, value: serde_json::Value) -> Result<HttpTriggerConfig, String> {
        TriggerEntry::parse(id, &value).map(|e| e.config).map_err(|e| e.to_string())
    }

    #[test]
    fn parses_component_route() {
        let c = parse("t", json!({"component": "hello", "route": "/hello/..."})).unwrap();
        assert_eq!(c.route(), Some("/hello/..."));
    }

    #[test]
    fn rejects_unknown_field_naming_trigger() {
        let e = parse("t1", json!({"component": "c", "route": "/", "rout": 1})).unwrap_err();
        assert!(e.contains("`t1` (http)") && e.contains("rout"), "{e}");
    }

    #[test]
    fn rejects_private_false_and_missing_component() {
        let e = parse("t", json!({"component": "c", "route": {"private": false}})).unwrap_err();
        assert!(e.contains("private = false"), "{e}");
        let e = parse("t", json!({"route": "/"})).unwrap_err();
        assert_eq!(e, "trigger `t` (http): exactly one of `component` and `static_response` must be set");
        assert_eq!(parse("t", json!({"component": "c", "route": {"private": true}})).unwrap().route(), None);
    }

    #[test]
    fn wagi_takes_an_argv_template_and_only_the_start_entrypoint() {
        let wagi = |executor| parse("t", json!({"component": "c", "route": "/...", "executor": executor}));
        assert_eq!(wagi(json!({"type": "wagi"})).unwrap().wagi_argv(), Some("${SCRIPT_NAME} ${ARGS}"));
        let custom = wagi(json!({"type": "wagi", "argv": "x ${ARGS}", "entrypoint": "_start"})).unwrap();
        assert_eq!(custom.wagi_argv(), Some("x ${ARGS}"));
        let e = wagi(json!({"type": "wagi", "entrypoint": "main"})).unwrap_err();
        assert!(e.contains("`entrypoint` can only be `_start`"), "{e}");
        assert_eq!(wagi(json!({"type": "http"})).unwrap().wagi_argv(), None);
    }
}
