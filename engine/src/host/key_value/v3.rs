//! `spin:key-value/key-value@3.0.0` (Spin 4, async): the same stores, access
//! rules and errors as `fermyon:spin/key-value@2.0.0`; `get-keys` streams the
//! keys and ends with the listing's outcome.

use wasmtime::component::{Accessor, FutureReader, Linker, Resource, StreamReader};

use super::error::KeyValueError;
use super::{KeyValue, OpenStore, View};
use crate::host::capability::{HasCapability, ViewOf};
use crate::host::labelled::OpenError;

mod bindings {
    wasmtime::component::bindgen!({
        path: "wit/spin-v3",
        world: "css:host-v3/key-value",
        imports: { default: async | trappable },
        with: { "spin:key-value/key-value.store": crate::host::key_value::OpenStore },
    });
}

use bindings::spin::key_value::key_value::{Error, Host, HostStore, HostStoreWithStore};

/// Adds the interface to `linker`.
pub(super) fn add_to_linker<T: HasCapability<KeyValue>>(linker: &mut Linker<T>) -> anyhow::Result<()> {
    bindings::spin::key_value::key_value::add_to_linker::<T, ViewOf<KeyValue>>(linker, T::capability)?;
    Ok(())
}

fn other(e: KeyValueError) -> Error {
    Error::Other(e.to_string())
}

type Access<T> = Accessor<T, ViewOf<KeyValue>>;

/// The store behind `res`, looked up in the instance's table.
fn store_of<T>(
    accessor: &Access<T>,
    res: &Resource<OpenStore>,
) -> wasmtime::Result<std::sync::Arc<super::KeyValueStore>> {
    accessor.with(|mut access| access.get().store_of(res))
}

impl Host for View<'_> {}

impl HostStore for View<'_> {
    async fn drop(&mut self, res: Resource<OpenStore>) -> wasmtime::Result<()> {
        self.close_store(res)
    }
}

impl<T> HostStoreWithStore<T> for ViewOf<KeyValue> {
    async fn open(accessor: &Access<T>, label: String) -> wasmtime::Result<Result<Resource<OpenStore>, Error>> {
        Ok(accessor.with(|mut access| access.get().open_store(&label))?.map_err(|e| match e {
            OpenError::AccessDenied => Error::AccessDenied,
            OpenError::TableFull => Error::StoreTableFull,
        }))
    }

    async fn get(
        accessor: &Access<T>,
        res: Resource<OpenStore>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, Error>> {
        Ok(store_of(accessor, &res)?.get(&key).await.map_err(other))
    }

    async fn set(
        accessor: &Access<T>,
        res: Resource<OpenStore>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), Error>> {
        Ok(store_of(accessor, &res)?.set(&key, &value).await.map_err(other))
    }

    async fn delete(accessor: &Access<T>, res: Resource<OpenStore>, key: String) -> wasmtime::Result<Result<(), Error>> {
        Ok(store_of(accessor, &res)?.delete(&key).await.map_err(other))
    }

    async fn exists(
        accessor: &Access<T>,
        res: Resource<OpenStore>,
        key: String,
    ) -> wasmtime::Result<Result<bool, Error>> {
        Ok(store_of(accessor, &res)?.exists(&key).await.map_err(other))
    }

    /// The keys are read at once (as the 2.0 `get-keys` does) and streamed; a
    /// failed listing is an empty stream and the error in the future.
    async fn get_keys(
        accessor: &Access<T>,
        res: Resource<OpenStore>,
    ) -> wasmtime::Result<(StreamReader<String>, FutureReader<Result<(), Error>>)> {
        let (keys, outcome) = match store_of(accessor, &res)?.keys().await {
            Ok(keys) => (keys, Ok(())),
            Err(e) => (Vec::new(), Err(other(e))),
        };
        accessor.with(|mut access| {
            let keys = StreamReader::new(&mut access, keys)?;
            let outcome = FutureReader::new(&mut access, async move { Ok::<_, wasmtime::Error>(outcome) })?;
            Ok((keys, outcome))
        })
    }
}
