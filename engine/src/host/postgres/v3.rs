//! `spin:postgres/postgres@3.0.0`: every open fails (see `mod.rs`).

use wasmtime::component::Resource;

use super::bindings::spin::postgres3_0_0::postgres::{Error, Host, HostConnection, ParameterValue, RowSet};
use super::{refusal, NoConnection, View};

impl Host for View<'_> {}

impl HostConnection for View<'_> {
    super::refused_connection_ops!();
}
