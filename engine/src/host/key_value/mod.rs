//! Key-value stores for guests: `fermyon:spin/key-value@2.0.0`, the Spin 1
//! `fermyon:spin/key-value` and `wasi:keyvalue@0.2.0-draft2` (store, atomics, batch). Configuration: the component's `key_value_stores`
//! and the runtime config's `[key_value_store.<label>]` (SQLite or Redis; the
//! `default` label is SQLite in the state directory unless configured).

mod backend;
mod stores;
mod v1;
mod v2;
mod wasi;

use std::sync::Arc;

use wasmtime::component::{Linker, Resource};

pub use super::labelled::DEFAULT_LABEL;
pub use backend::KeyValueStore;
pub use stores::{KeyValueAccess, KeyValueInstance, KeyValueStores, DEFAULT_FILE};

use super::labelled::OpenError;
use super::state::HostState;

/// An open store: the guest's `store` (Spin) or `bucket` (`wasi:keyvalue`) resource.
pub struct OpenStore(Arc<KeyValueStore>);

/// The resource side of both versions: opening a label into the instance's
/// table, looking a resource up, dropping it.
impl HostState {
    fn open_store(&mut self, label: &str) -> wasmtime::Result<Result<Resource<OpenStore>, OpenError>> {
        match self.key_value.open(label) {
            Ok(store) => Ok(Ok(self.table.push(OpenStore(store))?)),
            Err(e) => Ok(Err(e)),
        }
    }

    fn store_of(&self, res: &Resource<OpenStore>) -> wasmtime::Result<Arc<KeyValueStore>> {
        Ok(self.table.get(res)?.0.clone())
    }

    fn close_store(&mut self, res: Resource<OpenStore>) -> wasmtime::Result<()> {
        self.table.delete(res)?;
        self.key_value.close();
        Ok(())
    }
}

/// Adds every key-value interface to `linker`.
pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> anyhow::Result<()> {
    v2::add_to_linker(linker)?;
    v1::add_to_linker(linker)?;
    wasi::add_to_linker(linker)
}
