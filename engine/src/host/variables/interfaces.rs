//! The variables interfaces on the capability's view:
//! `fermyon:spin/variables@2.0.0`, the Spin 1 `config` interface and
//! `wasi:config/store`.

use wasmtime::component::Linker;

use super::{Lookup, Variables};
use crate::host::capability::{CapabilityView, HasCapability, ViewOf};

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

type View<'a> = CapabilityView<'a, Variables>;

impl v2::fermyon::spin::variables::Host for View<'_> {
    fn get(&mut self, name: String) -> Result<String, v2::fermyon::spin::variables::Error> {
        use v2::fermyon::spin::variables::Error;
        self.state.lookup(&name).map_err(|e| match e {
            Lookup::InvalidName(m) => Error::InvalidName(m),
            Lookup::Undefined(m) => Error::Undefined(m),
        })
    }
}

impl v1::fermyon::spin::config::Host for View<'_> {
    fn get_config(&mut self, key: String) -> Result<String, v1::fermyon::spin::config::Error> {
        use v1::fermyon::spin::config::Error;
        self.state.lookup(&key).map_err(|e| match e {
            Lookup::InvalidName(m) => Error::InvalidKey(m),
            Lookup::Undefined(m) => Error::Provider(m),
        })
    }
}

impl wasi_config::wasi::config::store::Host for View<'_> {
    fn get(&mut self, key: String) -> Result<Option<String>, wasi_config::wasi::config::store::Error> {
        Ok(self.state.values.get(&key).cloned())
    }

    fn get_all(&mut self) -> Result<Vec<(String, String)>, wasi_config::wasi::config::store::Error> {
        Ok(self.state.values.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
    }
}

/// Adds the variables interfaces to `linker`.
pub(super) fn add_to_linker<T: HasCapability<Variables>>(linker: &mut Linker<T>) -> anyhow::Result<()> {
    type Data = ViewOf<Variables>;
    v2::fermyon::spin::variables::add_to_linker::<T, Data>(linker, T::capability)?;
    v1::fermyon::spin::config::add_to_linker::<T, Data>(linker, T::capability)?;
    wasi_config::wasi::config::store::add_to_linker::<T, Data>(linker, T::capability)?;
    Ok(())
}
