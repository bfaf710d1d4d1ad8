//! Spin 2's `fermyon:spin/postgres@2.0.0` (with `rdbms-types`): the same
//! connections as 4.x, with 2.0's types. Its unsigned integers have no
//! PostgreSQL type and are refused as parameters; values 2.0 has no case for
//! (dates and times among them) read as `unsupported`.

use wasmtime::component::{Linker, Resource};

use super::bindings::spin::postgres4_2_0::postgres as v4;
use super::{OutboundPostgres, PgConnection, View};
use crate::host::case_map::same_cases;
use v4::DbDataType as T;
use v4::DbValue as V;
use v4::Error as E;
use v4::ParameterValue as P;
use crate::host::capability::{HasCapability, ViewOf};

use crate::host::rdbms_v2::fermyon::spin::postgres::{Host, HostConnection};
use crate::host::rdbms_v2::fermyon::spin::rdbms_types::{self, Column, DbDataType, DbValue, Error, ParameterValue, RowSet};

/// Adds the interface to `linker`, and the `rdbms-types` it shares with
/// MySQL's 2.0.
pub(super) fn add_to_linker<T: HasCapability<OutboundPostgres>>(linker: &mut Linker<T>) -> anyhow::Result<()> {
    type Data = ViewOf<OutboundPostgres>;
    crate::host::rdbms_v2::fermyon::spin::postgres::add_to_linker::<T, Data>(linker, T::capability)?;
    rdbms_types::add_to_linker::<T, Data>(linker, T::capability)?;
    Ok(())
}

impl Host for View<'_> {}

impl rdbms_types::Host for View<'_> {}

impl HostConnection for View<'_> {
    super::narrower_connection!(parameter, row_set, error);
}

fn error(e: v4::Error) -> Error {
    match e {
        v4::Error::QueryFailed(v4::QueryError::Text(m)) => Error::QueryFailed(m),
        v4::Error::QueryFailed(v4::QueryError::DbError(e)) => Error::QueryFailed(e.as_text),
        e => same_cases!(e, E => Error { ConnectionFailed, BadParameter, ValueConversionFailed, Other } {} else {
            unreachable!("query-failed is converted above")
        }),
    }
}

fn parameter(p: ParameterValue) -> Result<v4::ParameterValue, Error> {
    use ParameterValue::{Uint16, Uint32, Uint64, Uint8};
    if let Uint8(_) | Uint16(_) | Uint32(_) | Uint64(_) = p {
        return Err(Error::ValueConversionFailed("PostgreSQL has no unsigned integer types".into()));
    }
    Ok(same_cases!(p, ParameterValue => P {
        Boolean, Int8, Int16, Int32, Int64, Floating32, Floating64, Str, Binary
    } { DbNull } else unreachable!("unsigned integers are refused above")))
}

fn row_set(rows: v4::RowSet) -> RowSet {
    RowSet {
        columns: rows.columns.into_iter().map(|c| Column { name: c.name, data_type: data_type(c.data_type) }).collect(),
        rows: rows.rows.into_iter().map(|row| row.into_iter().map(value).collect()).collect(),
    }
}

fn data_type(t: v4::DbDataType) -> DbDataType {
    same_cases!(t, T => DbDataType {} {
        Boolean, Int8, Int16, Int32, Int64, Floating32, Floating64, Str, Binary
    } else DbDataType::Other)
}

fn value(v: v4::DbValue) -> DbValue {
    same_cases!(v, V => DbValue {
        Boolean, Int8, Int16, Int32, Int64, Floating32, Floating64, Str, Binary
    } { DbNull } else DbValue::Unsupported)
}
