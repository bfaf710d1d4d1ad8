//! The Spin 1 `fermyon:spin/key-value` interface: the same stores, addressed by
//! integer handles.

use std::sync::Arc;

use wasmtime::component::Linker;

use super::backend::KeyValueStore;
use super::{KeyValue, View};
use crate::host::capability::{HasCapability, ViewOf};
use crate::host::labelled::OpenError;

mod bindings {
    wasmtime::component::bindgen!({
        path: "wit/spin-v1",
        world: "fermyon:spin/host-key-value-v1",
        imports: { default: async | trappable },
    });
}

use bindings::fermyon::spin::key_value::{Error, Host, Store};

/// Adds the interface to `linker`.
pub(super) fn add_to_linker<T: HasCapability<KeyValue>>(linker: &mut Linker<T>) -> anyhow::Result<()> {
    bindings::fermyon::spin::key_value::add_to_linker::<T, ViewOf<KeyValue>>(linker, T::capability)?;
    Ok(())
}

impl View<'_> {
    fn kv_handle(&self, store: Store) -> Result<Arc<KeyValueStore>, Error> {
        self.state.by_handle(store).ok_or(Error::InvalidStore)
    }
}

impl Host for View<'_> {
    async fn open(&mut self, name: String) -> wasmtime::Result<Result<Store, Error>> {
        Ok(self.state.open_handle(&name).map_err(|e| match e {
            OpenError::AccessDenied => Error::AccessDenied,
            OpenError::TableFull => Error::StoreTableFull,
        }))
    }

    async fn get(&mut self, store: Store, key: String) -> wasmtime::Result<Result<Vec<u8>, Error>> {
        let store = match self.kv_handle(store) {
            Ok(s) => s,
            Err(e) => return Ok(Err(e)),
        };
        Ok(match store.get(&key).await {
            Ok(Some(value)) => Ok(value),
            Ok(None) => Err(Error::NoSuchKey),
            Err(e) => Err(Error::Io(e.to_string())),
        })
    }

    async fn set(&mut self, store: Store, key: String, value: Vec<u8>) -> wasmtime::Result<Result<(), Error>> {
        Ok(match self.kv_handle(store) {
            Ok(s) => s.set(&key, &value).await.map_err(|e| Error::Io(e.to_string())),
            Err(e) => Err(e),
        })
    }

    async fn delete(&mut self, store: Store, key: String) -> wasmtime::Result<Result<(), Error>> {
        Ok(match self.kv_handle(store) {
            Ok(s) => s.delete(&key).await.map_err(|e| Error::Io(e.to_string())),
            Err(e) => Err(e),
        })
    }

    async fn exists(&mut self, store: Store, key: String) -> wasmtime::Result<Result<bool, Error>> {
        Ok(match self.kv_handle(store) {
            Ok(s) => s.exists(&key).await.map_err(|e| Error::Io(e.to_string())),
            Err(e) => Err(e),
        })
    }

    async fn get_keys(&mut self, store: Store) -> wasmtime::Result<Result<Vec<String>, Error>> {
        Ok(match self.kv_handle(store) {
            Ok(s) => s.keys().await.map_err(|e| Error::Io(e.to_string())),
            Err(e) => Err(e),
        })
    }

    async fn close(&mut self, store: Store) -> wasmtime::Result<()> {
        self.state.close_handle(store);
        Ok(())
    }
}
