//! `wasi:keyvalue@0.2.0-draft2`: buckets are the same labelled stores (the
//! identifier is the label), plus counters, compare-and-swap and batches.

use std::sync::Arc;

use wasmtime::component::{Linker, Resource};

use super::backend::KeyValueStore;
use super::OpenStore;
use super::{KeyValue, View};
use crate::host::capability::{HasCapability, ViewOf};
use crate::host::labelled::OpenError;

mod bindings {
    wasmtime::component::bindgen!({
        path: "wit/wasi-keyvalue",
        world: "wasi:keyvalue/imports@0.2.0-draft2",
        imports: { default: async | trappable },
        with: {
            "wasi:keyvalue/store.bucket": crate::host::key_value::OpenStore,
            "wasi:keyvalue/atomics.cas": super::Cas,
        },
    });
}

use bindings::wasi::keyvalue::atomics::{self, CasError};
use bindings::wasi::keyvalue::batch;
use bindings::wasi::keyvalue::store::{self, Error, KeyResponse};

/// A key's value as read for a later `swap` (the guest's `cas` resource).
#[allow(unreachable_pub)] // bindgen's `with` re-exports it
pub struct Cas {
    store: Arc<KeyValueStore>,
    key: String,
    current: Option<Vec<u8>>,
}

/// Adds the three interfaces to `linker`.
pub(super) fn add_to_linker<T: HasCapability<KeyValue>>(linker: &mut Linker<T>) -> anyhow::Result<()> {
    store::add_to_linker::<T, ViewOf<KeyValue>>(linker, T::capability)?;
    atomics::add_to_linker::<T, ViewOf<KeyValue>>(linker, T::capability)?;
    batch::add_to_linker::<T, ViewOf<KeyValue>>(linker, T::capability)?;
    Ok(())
}

impl View<'_> {
    /// Reads `key` into a new `cas` resource.
    async fn new_cas(
        &mut self,
        store: Arc<KeyValueStore>,
        key: String,
    ) -> wasmtime::Result<Result<Resource<Cas>, Error>> {
        let current = match store.get(&key).await {
            Ok(v) => v,
            Err(e) => return Ok(Err(Error::Other(e.to_string()))),
        };
        Ok(Ok(self.table.push(Cas { store, key, current })?))
    }
}

impl store::Host for View<'_> {
    async fn open(&mut self, identifier: String) -> wasmtime::Result<Result<Resource<OpenStore>, Error>> {
        Ok(self.open_store(&identifier)?.map_err(|e| match e {
            OpenError::AccessDenied => Error::AccessDenied,
            OpenError::TableFull => Error::Other("too many open stores".into()),
        }))
    }
}

impl store::HostBucket for View<'_> {
    super::shared_store_ops!();

    /// Every key on one page; the cursor is never needed.
    async fn list_keys(
        &mut self,
        res: Resource<OpenStore>,
        _cursor: Option<String>,
    ) -> wasmtime::Result<Result<KeyResponse, Error>> {
        let keys = self.store_of(&res)?.keys().await.map_err(|e| Error::Other(e.to_string()));
        Ok(keys.map(|keys| KeyResponse { keys, cursor: None }))
    }

    async fn drop(&mut self, res: Resource<OpenStore>) -> wasmtime::Result<()> {
        self.close_store(res)
    }
}

impl atomics::Host for View<'_> {
    async fn increment(
        &mut self,
        bucket: Resource<OpenStore>,
        key: String,
        delta: i64,
    ) -> wasmtime::Result<Result<i64, Error>> {
        Ok(self.store_of(&bucket)?.increment(&key, delta).await.map_err(|e| Error::Other(e.to_string())))
    }

    async fn swap(&mut self, cas: Resource<Cas>, value: Vec<u8>) -> wasmtime::Result<Result<(), CasError>> {
        let Cas { store, key, current } = self.table.delete(cas)?;
        match store.swap_if(&key, current, value).await {
            Ok(true) => Ok(Ok(())),
            Ok(false) => Ok(Err(match self.new_cas(store, key).await? {
                Ok(fresh) => CasError::CasFailed(fresh),
                Err(e) => CasError::StoreError(e),
            })),
            Err(e) => Ok(Err(CasError::StoreError(Error::Other(e.to_string())))),
        }
    }
}

impl atomics::HostCas for View<'_> {
    async fn new(
        &mut self,
        bucket: Resource<OpenStore>,
        key: String,
    ) -> wasmtime::Result<Result<Resource<Cas>, Error>> {
        let store = self.store_of(&bucket)?;
        self.new_cas(store, key).await
    }

    async fn current(&mut self, cas: Resource<Cas>) -> wasmtime::Result<Result<Option<Vec<u8>>, Error>> {
        Ok(Ok(self.table.get(&cas)?.current.clone()))
    }

    async fn drop(&mut self, cas: Resource<Cas>) -> wasmtime::Result<()> {
        self.table.delete(cas)?;
        Ok(())
    }
}

impl batch::Host for View<'_> {
    async fn get_many(
        &mut self,
        bucket: Resource<OpenStore>,
        keys: Vec<String>,
    ) -> wasmtime::Result<Result<Vec<(String, Option<Vec<u8>>)>, Error>> {
        let store = self.store_of(&bucket)?;
        let mut out = Vec::with_capacity(keys.len());
        for key in keys {
            match store.get(&key).await {
                Ok(value) => out.push((key, value)),
                Err(e) => return Ok(Err(Error::Other(e.to_string()))),
            }
        }
        Ok(Ok(out))
    }

    async fn set_many(
        &mut self,
        bucket: Resource<OpenStore>,
        key_values: Vec<(String, Vec<u8>)>,
    ) -> wasmtime::Result<Result<(), Error>> {
        let store = self.store_of(&bucket)?;
        for (key, value) in key_values {
            if let Err(e) = store.set(&key, &value).await {
                return Ok(Err(Error::Other(e.to_string())));
            }
        }
        Ok(Ok(()))
    }

    async fn delete_many(
        &mut self,
        bucket: Resource<OpenStore>,
        keys: Vec<String>,
    ) -> wasmtime::Result<Result<(), Error>> {
        let store = self.store_of(&bucket)?;
        for key in keys {
            if let Err(e) = store.delete(&key).await {
                return Ok(Err(Error::Other(e.to_string())));
            }
        }
        Ok(Ok(()))
    }
}
