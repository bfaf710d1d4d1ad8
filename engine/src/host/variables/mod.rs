//! Component variables for guests: `spin:variables/variables@3.0.0` (Spin 4,
//! async), `fermyon:spin/variables@2.0.0`, the Spin 1
//! `config` interface and `wasi:config/store`. Each component's variables are
//! resolved once at start (from the app's providers) and shared by its instances.

mod interfaces;
mod v3;

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::Context as _;
use wasmtime::component::Linker;

use super::capability::{AppInputs, Capability, ComponentInputs, HasCapability, InstanceInputs};

/// The variables capability.
pub(crate) struct Variables;

impl Capability for Variables {
    type App = ();
    type Component = Arc<ComponentVariables>;
    type Instance = Arc<ComponentVariables>;

    const INTERFACES: &'static [&'static str] = &[
        "spin:variables/variables@3.0.0",
        "fermyon:spin/variables@2.0.0",
        "fermyon:spin/config",
        "wasi:config/store@0.2.0-draft-2024-09-27",
    ];

    fn app(_: &AppInputs<'_>) -> anyhow::Result<()> {
        Ok(())
    }

    fn component(_: &(), inputs: &ComponentInputs<'_>) -> anyhow::Result<Self::Component> {
        let values = inputs
            .variables
            .resolve_component(inputs.component)
            .with_context(|| format!("component `{}`: resolving variables", inputs.component_id))?;
        Ok(Arc::new(ComponentVariables::new(values)))
    }

    fn instance(component: &Self::Component, _: &InstanceInputs<'_>) -> Self::Instance {
        component.clone()
    }

    fn add_to_linker<T: HasCapability<Self>>(linker: &mut Linker<T>) -> anyhow::Result<()> {
        v3::add_to_linker(linker)?;
        interfaces::add_to_linker(linker)
    }
}

/// The resolved variables of one component (resolved once at start-up).
#[derive(Clone, Debug, Default)]
pub(crate) struct ComponentVariables {
    values: BTreeMap<String, String>,
}

/// Why a lookup failed, before mapping to an interface's error type.
enum Lookup {
    InvalidName(String),
    Undefined(String),
}

impl ComponentVariables {
    /// Wraps resolved `name -> value` pairs.
    pub(crate) fn new(values: BTreeMap<String, String>) -> Self {
        Self { values }
    }

    fn lookup(&self, name: &str) -> Result<String, Lookup> {
        if crate::manifest::ids::validate_variable_name(name).is_err() {
            return Err(Lookup::InvalidName(format!("invalid variable name {name:?}")));
        }
        self.values.get(name).cloned().ok_or_else(|| Lookup::Undefined(format!("no variable for {name:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_distinguishes_invalid_and_undefined() {
        let vars = ComponentVariables::new([("greeting".into(), "hi".into())].into());
        assert_eq!(vars.lookup("greeting").ok().as_deref(), Some("hi"));
        assert!(matches!(vars.lookup("nope"), Err(Lookup::Undefined(_))));
        assert!(matches!(vars.lookup("No-pe"), Err(Lookup::InvalidName(_))));
    }
}
