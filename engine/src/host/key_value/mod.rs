//! Key-value stores for guests: `spin:key-value/key-value@3.0.0` (Spin 4, async),
//! `fermyon:spin/key-value@2.0.0`, the Spin 1
//! `fermyon:spin/key-value` and `wasi:keyvalue@0.2.0-draft2` (store, atomics,
//! batch). Configuration: the component's `key_value_stores` and the runtime
//! config's `[key_value_store.<label>]` (SQLite or Redis; the `default` label is
//! SQLite in the state directory unless configured).

mod backend;
mod config;
mod dynamo;
mod error;
mod stores;
mod v1;
mod v2;
mod v3;
mod wasi;

use std::sync::Arc;

use wasmtime::component::{Linker, Resource};

pub(crate) use backend::KeyValueStore;
pub(crate) use stores::{KeyValueAccess, KeyValueInstance, KeyValueStores};

use super::capability::{AppInputs, Capability, CapabilityView, ComponentInputs, HasCapability, InstanceInputs};
use super::labelled::{OpenError, DEFAULT_LABEL};

/// The key-value capability.
pub(crate) struct KeyValue;

impl Capability for KeyValue {
    type App = KeyValueStores;
    type Component = Arc<KeyValueAccess>;
    type Instance = KeyValueInstance;

    const INTERFACES: &'static [&'static str] = &[
        "spin:key-value/key-value@3.0.0",
        "fermyon:spin/key-value@2.0.0",
        "fermyon:spin/key-value",
        "wasi:keyvalue/store@0.2.0-draft2",
        "wasi:keyvalue/atomics@0.2.0-draft2",
        "wasi:keyvalue/batch@0.2.0-draft2",
    ];

    /// The stores some component lists, and Spin's start-up line for the default one.
    fn app(inputs: &AppInputs<'_>) -> anyhow::Result<KeyValueStores> {
        let configs = config::store_configs(inputs.config)?;
        let used = inputs.app.components.iter().flat_map(|c| c.key_value_stores());
        let stores = KeyValueStores::key_value(&configs, inputs.state_dir, used)?;
        stores.announce_default(configs.contains_key(DEFAULT_LABEL));
        stores.seed_default(&inputs.seeds.key_values)?;
        Ok(stores)
    }

    fn component(app: &KeyValueStores, inputs: &ComponentInputs<'_>) -> anyhow::Result<Self::Component> {
        Ok(Arc::new(app.access_for(inputs.component_id, &inputs.component.key_value_stores())?))
    }

    fn instance(component: &Self::Component, _: &InstanceInputs<'_>) -> KeyValueInstance {
        KeyValueInstance::new(component.clone())
    }

    fn add_to_linker<T: HasCapability<Self>>(linker: &mut Linker<T>) -> anyhow::Result<()> {
        v3::add_to_linker(linker)?;
        v2::add_to_linker(linker)?;
        v1::add_to_linker(linker)?;
        wasi::add_to_linker(linker)
    }
}

/// The instance's view of the key-value capability.
type View<'a> = CapabilityView<'a, KeyValue>;

/// An open store: the guest's `store` (Spin) or `bucket` (`wasi:keyvalue`) resource.
#[allow(unreachable_pub)] // bindgen's `with` re-exports it
pub struct OpenStore(Arc<KeyValueStore>);

/// The resource side of both versions: opening a label into the instance's
/// table, looking a resource up, dropping it.
impl View<'_> {
    fn open_store(&mut self, label: &str) -> wasmtime::Result<Result<Resource<OpenStore>, OpenError>> {
        match self.state.open(label) {
            Ok(store) => Ok(Ok(self.table.push(OpenStore(store))?)),
            Err(e) => Ok(Err(e)),
        }
    }

    fn store_of(&self, res: &Resource<OpenStore>) -> wasmtime::Result<Arc<KeyValueStore>> {
        Ok(self.table.get(res)?.0.clone())
    }

    fn close_store(&mut self, res: Resource<OpenStore>) -> wasmtime::Result<()> {
        self.table.delete(res)?;
        self.state.close();
        Ok(())
    }
}

/// The `get`, `set`, `delete` and `exists` methods that `fermyon:spin/key-value`'s
/// `store` and `wasi:keyvalue`'s `bucket` share word for word (each interface has
/// its own `Error` type with an `other` case), expanded inside each impl.
macro_rules! shared_store_ops {
    () => {
        async fn get(
            &mut self,
            res: Resource<OpenStore>,
            key: String,
        ) -> wasmtime::Result<Result<Option<Vec<u8>>, Error>> {
            Ok(self.store_of(&res)?.get(&key).await.map_err(|e| Error::Other(e.to_string())))
        }

        async fn set(
            &mut self,
            res: Resource<OpenStore>,
            key: String,
            value: Vec<u8>,
        ) -> wasmtime::Result<Result<(), Error>> {
            Ok(self.store_of(&res)?.set(&key, &value).await.map_err(|e| Error::Other(e.to_string())))
        }

        async fn delete(&mut self, res: Resource<OpenStore>, key: String) -> wasmtime::Result<Result<(), Error>> {
            Ok(self.store_of(&res)?.delete(&key).await.map_err(|e| Error::Other(e.to_string())))
        }

        async fn exists(&mut self, res: Resource<OpenStore>, key: String) -> wasmtime::Result<Result<bool, Error>> {
            Ok(self.store_of(&res)?.exists(&key).await.map_err(|e| Error::Other(e.to_string())))
        }
    };
}
pub(crate) use shared_store_ops;
