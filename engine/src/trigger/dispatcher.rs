//! Finds the plugin for each trigger type in the app and runs them together; the
//! first to finish ends the app, and the others are asked to stop.

use std::sync::Arc;

use futures::future::select_all;

use super::{feature_for, PreparedTrigger, Shutdown, TriggerPlugin};
use crate::locked::LockedApp;
use crate::runtime::PreparedApp;

/// The trigger plugins compiled into this binary.
#[derive(Default)]
pub struct TriggerRegistry {
    plugins: Vec<Box<dyn TriggerPlugin>>,
}

impl TriggerRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a plugin.
    pub fn register(&mut self, plugin: impl TriggerPlugin + 'static) -> &mut Self {
        self.plugins.push(Box::new(plugin));
        self
    }

    /// The trigger types this binary can run, in registration order.
    pub fn types(&self) -> Vec<&'static str> {
        self.plugins.iter().map(|p| p.trigger_type()).collect()
    }

    fn plugin(&self, trigger_type: &str) -> Option<&dyn TriggerPlugin> {
        self.plugins.iter().find(|p| p.trigger_type() == trigger_type).map(|p| p.as_ref())
    }

    /// Fails with one line naming every trigger type of `app` this binary lacks
    /// and the cargo feature that provides it. Cheap: call before compiling.
    pub fn check_supported(&self, app: &LockedApp) -> anyhow::Result<()> {
        let types = app.trigger_types();
        if types.is_empty() {
            anyhow::bail!("No triggers in app");
        }
        let missing: Vec<String> = types
            .iter()
            .filter(|t| self.plugin(t).is_none())
            .map(|t| match feature_for(t) {
                Some(f) => format!("`{t}` (cargo feature `{f}`)"),
                None => format!("`{t}` (not provided by this project)"),
            })
            .collect();
        if !missing.is_empty() {
            anyhow::bail!(
                "this shim build does not include trigger type(s) {}; compiled in: {}",
                missing.join(", "),
                self.types().join(", ")
            );
        }
        Ok(())
    }

    /// Prepares every trigger type the app uses (all configuration errors surface
    /// here).
    pub fn prepare(&self, app: &Arc<PreparedApp>) -> anyhow::Result<Vec<Box<dyn PreparedTrigger>>> {
        self.check_supported(app.locked())?;
        app.locked().trigger_types().iter().map(|t| self.plugin(t).expect("checked above").prepare(app)).collect()
    }
}

/// Runs prepared triggers together until the first ends or `shutdown` fires;
/// returns that trigger's status (or the first error) after stopping the rest.
pub async fn run_app(triggers: Vec<Box<dyn PreparedTrigger>>, shutdown: Shutdown) -> anyhow::Result<i32> {
    let many = triggers.len() > 1;
    let running: Vec<_> = triggers.into_iter().map(|t| tokio::spawn(t.run(shutdown.child_token()))).collect();
    let (first, _, rest) = select_all(running).await;
    if many && !shutdown.is_cancelled() {
        eprintln!("A trigger exited unexpectedly. Terminating.");
    }
    shutdown.cancel();
    for r in rest {
        if let Ok(Err(e)) = r.await {
            tracing::warn!("trigger stopped with an error: {e:#}");
        }
    }
    first.map_err(|e| anyhow::anyhow!("trigger task failed: {e}"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fake(&'static str);

    impl TriggerPlugin for Fake {
        fn trigger_type(&self) -> &'static str {
            self.0
        }

        fn prepare(&self, _app: &Arc<PreparedApp>) -> anyhow::Result<Box<dyn PreparedTrigger>> {
            unreachable!("not called by check_supported")
        }
    }

    fn app(types: &[&str]) -> LockedApp {
        let triggers: Vec<_> = types
            .iter()
            .enumerate()
            .map(|(i, t)| serde_json::json!({"id": format!("t{i}"), "trigger_type": t, "trigger_config": {"component": "c"}}))
            .collect();
        serde_json::from_value(serde_json::json!({
            "spin_lock_version": 1, "metadata": {"name": "a"}, "triggers": triggers, "components": []
        }))
        .unwrap()
    }

    #[test]
    fn missing_types_name_their_feature_in_one_line() {
        let mut reg = TriggerRegistry::new();
        reg.register(Fake("http"));
        reg.check_supported(&app(&["http"])).unwrap();
        let e = reg.check_supported(&app(&["http", "redis", "teleport"])).unwrap_err().to_string();
        assert_eq!(
            e,
            "this shim build does not include trigger type(s) `redis` (cargo feature `redis`), `teleport` (not provided by this project); compiled in: http"
        );
        assert_eq!(reg.check_supported(&app(&[])).unwrap_err().to_string(), "No triggers in app");
    }
}
