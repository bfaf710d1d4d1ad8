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

use wasmtime::component::Linker;

pub use backend::KeyValueStore;
pub use stores::{KeyValueAccess, KeyValueInstance, KeyValueStores, DEFAULT_FILE, DEFAULT_LABEL};

use super::state::HostState;

/// An open store: the guest's `store` (Spin) or `bucket` (`wasi:keyvalue`) resource.
pub struct OpenStore(Arc<KeyValueStore>);

/// Adds every key-value interface to `linker`.
pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> anyhow::Result<()> {
    v2::add_to_linker(linker)?;
    v1::add_to_linker(linker)?;
    wasi::add_to_linker(linker)
}
