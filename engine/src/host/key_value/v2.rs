//! `fermyon:spin/key-value@2.0.0`: stores as resources in the instance's table.

use wasmtime::component::{Linker, Resource};

use super::OpenStore;
use super::{KeyValue, View};
use crate::host::capability::{HasCapability, ViewOf};
use crate::host::labelled::OpenError;

mod bindings {
    wasmtime::component::bindgen!({
        path: "wit/spin-v2",
        world: "fermyon:spin/host-key-value@2.0.0",
        imports: { default: async | trappable },
        with: { "fermyon:spin/key-value.store": crate::host::key_value::OpenStore },
    });
}

use bindings::fermyon::spin::key_value::{Error, Host, HostStore};

/// Adds the interface to `linker`.
pub(super) fn add_to_linker<T: HasCapability<KeyValue>>(linker: &mut Linker<T>) -> anyhow::Result<()> {
    bindings::fermyon::spin::key_value::add_to_linker::<T, ViewOf<KeyValue>>(linker, T::capability)?;
    Ok(())
}

impl Host for View<'_> {}

impl HostStore for View<'_> {
    async fn open(&mut self, label: String) -> wasmtime::Result<Result<Resource<OpenStore>, Error>> {
        Ok(self.open_store(&label)?.map_err(|e| match e {
            OpenError::AccessDenied => Error::AccessDenied,
            OpenError::TableFull => Error::StoreTableFull,
        }))
    }

    super::shared_store_ops!();

    async fn get_keys(&mut self, res: Resource<OpenStore>) -> wasmtime::Result<Result<Vec<String>, Error>> {
        Ok(self.store_of(&res)?.keys().await.map_err(|e| Error::Other(e.to_string())))
    }

    async fn drop(&mut self, res: Resource<OpenStore>) -> wasmtime::Result<()> {
        self.close_store(res)
    }
}
