//! `fermyon:spin/sqlite@2.0.0`: connections as resources in the instance's table.

use wasmtime::component::{Linker, Resource};

use super::{OpenDatabase, Sqlite, View};
use crate::host::capability::{HasCapability, ViewOf};

mod bindings {
    wasmtime::component::bindgen!({
        path: "wit/spin-v2",
        world: "fermyon:spin/host-sqlite@2.0.0",
        imports: { default: async | trappable },
        with: { "fermyon:spin/sqlite.connection": crate::host::sqlite::OpenDatabase },
    });
}

use bindings::fermyon::spin::sqlite::{Error, Host, HostConnection, QueryResult, Value};

/// Adds the interface to `linker`.
pub(super) fn add_to_linker<T: HasCapability<Sqlite>>(linker: &mut Linker<T>) -> anyhow::Result<()> {
    bindings::fermyon::spin::sqlite::add_to_linker::<T, ViewOf<Sqlite>>(linker, T::capability)?;
    Ok(())
}

impl Host for View<'_> {}

impl HostConnection for View<'_> {
    super::shared_connection_ops!();
}

super::value_conversions!(bindings::fermyon::spin::sqlite);
