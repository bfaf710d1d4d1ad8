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

mod v1 {
    wasmtime::component::bindgen!({
        path: "wit/spin-v1",
        world: "fermyon:spin/host-v1",
    });
}

/// The resolved variables of one component (resolved once at start-up).
#[derive(Default)]
pub struct ComponentVariables {
    values: BTreeMap<String, String>,
    wasi_config: wasmtime_wasi_config::WasiConfigVariables,
}

/// Why a lookup failed, before mapping to an interface's error type.
enum Lookup {
    InvalidName(String),
    Undefined(String),
}

impl ComponentVariables {
    /// Wraps resolved `name -> value` pairs.
    pub fn new(values: BTreeMap<String, String>) -> Self {
        let wasi_config = values.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        Self { values, wasi_config }
    }

    /// All values (for `wasi:config/store.get-all`).
    pub fn values(&self) -> &BTreeMap<String, String> {
        &self.values
    }

    fn lookup(&self, name: &str) -> Result<String, Lookup> {
        if !is_variable_name(name) {
            return Err(Lookup::InvalidName(format!("invalid variable name {name:?}")));
        }
        self.values
            .get(name)
            .cloned()
            .ok_or_else(|| Lookup::Undefined(format!("no variable for {name:?}")))
    }
}

/// Spin variable names: lower_snake, each word starting with a letter.
fn is_variable_name(name: &str) -> bool {
    !name.is_empty()
        && name.split('_').all(|w| {
            w.starts_with(|c: char| c.is_ascii_lowercase())
                && w.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
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

/// Adds the variables interfaces to `linker`.
pub(crate) fn add_to_linker(linker: &mut wasmtime::component::Linker<HostState>) -> anyhow::Result<()> {
    type Data = wasmtime::component::HasSelf<HostState>;
    v2::fermyon::spin::variables::add_to_linker::<HostState, Data>(linker, |s| s)?;
    v1::fermyon::spin::config::add_to_linker::<HostState, Data>(linker, |s| s)?;
    wasmtime_wasi_config::add_to_linker(linker, |s| {
        wasmtime_wasi_config::WasiConfig::from(&s.variables.wasi_config)
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_spin_rules() {
        assert!(is_variable_name("api_key2"));
        assert!(!is_variable_name("Api"));
        assert!(!is_variable_name("2x"));
        assert!(!is_variable_name("a__b"));
        assert!(!is_variable_name(""));
    }

    #[test]
    fn lookup_distinguishes_invalid_and_undefined() {
        let vars = ComponentVariables::new([("greeting".into(), "hi".into())].into());
        assert_eq!(vars.lookup("greeting").ok().as_deref(), Some("hi"));
        assert!(matches!(vars.lookup("nope"), Err(Lookup::Undefined(_))));
        assert!(matches!(vars.lookup("No-pe"), Err(Lookup::InvalidName(_))));
    }
}
