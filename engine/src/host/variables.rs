//! Component variables for the guest: `fermyon:spin/variables@2.0.0`, the Spin 1
//! `config` interface and `wasi:config/store`.

use std::collections::BTreeMap;

use super::state::HostState;

mod v2 {
    wasmtime::component::bindgen!({
        path: "wit/spin-v2",
        world: "fermyon:spin/host-v2@2.0.0",
    });
}

mod wasi_config {
    wasmtime::component::bindgen!({
        path: "wit/wasi-config",
        world: "wasi:config/imports@0.2.0-draft-2024-09-27",
    });
}

mod v1 {
    wasmtime::component::bindgen!({
        path: "wit/spin-v1",
        world: "fermyon:spin/host-v1",
    });
}

/// The resolved variables of one component (resolved once at start-up).
#[derive(Clone, Debug, Default)]
pub struct ComponentVariables {
    values: BTreeMap<String, String>,
}

/// Why a lookup failed, before mapping to an interface's error type.
enum Lookup {
    InvalidName(String),
    Undefined(String),
}

impl ComponentVariables {
    /// Wraps resolved `name -> value` pairs.
    pub fn new(values: BTreeMap<String, String>) -> Self {
        Self { values }
    }

    /// All values (for `wasi:config/store.get-all`).
    pub fn values(&self) -> &BTreeMap<String, String> {
        &self.values
    }

    fn lookup(&self, name: &str) -> Result<String, Lookup> {
        if crate::manifest::ids::validate_variable_name(name).is_err() {
            return Err(Lookup::InvalidName(format!("invalid variable name {name:?}")));
        }
        self.values.get(name).cloned().ok_or_else(|| Lookup::Undefined(format!("no variable for {name:?}")))
    }
}

impl v2::fermyon::spin::variables::Host for HostState {
    fn get(&mut self, name: String) -> Result<String, v2::fermyon::spin::variables::Error> {
        use v2::fermyon::spin::variables::Error;
        self.variables.lookup(&name).map_err(|e| match e {
            Lookup::InvalidName(m) => Error::InvalidName(m),
            Lookup::Undefined(m) => Error::Undefined(m),
        })
    }
}

impl v1::fermyon::spin::config::Host for HostState {
    fn get_config(&mut self, key: String) -> Result<String, v1::fermyon::spin::config::Error> {
        use v1::fermyon::spin::config::Error;
        self.variables.lookup(&key).map_err(|e| match e {
            Lookup::InvalidName(m) => Error::InvalidKey(m),
            Lookup::Undefined(m) => Error::Provider(m),
        })
    }
}

impl wasi_config::wasi::config::store::Host for HostState {
    fn get(&mut self, key: String) -> Result<Option<String>, wasi_config::wasi::config::store::Error> {
        Ok(self.variables.values.get(&key).cloned())
    }

    fn get_all(&mut self) -> Result<Vec<(String, String)>, wasi_config::wasi::config::store::Error> {
        Ok(self.variables.values.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
    }
}

/// Adds the variables interfaces to `linker`.
pub(crate) fn add_to_linker(linker: &mut wasmtime::component::Linker<HostState>) -> anyhow::Result<()> {
    type Data = wasmtime::component::HasSelf<HostState>;
    v2::fermyon::spin::variables::add_to_linker::<HostState, Data>(linker, |s| s)?;
    v1::fermyon::spin::config::add_to_linker::<HostState, Data>(linker, |s| s)?;
    wasi_config::wasi::config::store::add_to_linker::<HostState, Data>(linker, |s| s)?;
    Ok(())
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
