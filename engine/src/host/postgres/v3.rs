//! `spin:postgres/postgres@3.0.0`: the same connections as 4.x, with 3.0's
//! narrower types. Values 3.0 has no case for are `unsupported` (their column
//! type `other`); a server error is reported by its text.

use wasmtime::component::Resource;

use super::bindings::spin::postgres3_0_0::postgres::{
    Column, DbDataType, DbValue, Error, Host, HostConnection, ParameterValue, RowSet,
};
use super::bindings::spin::postgres4_2_0::postgres as v4;
use super::{PgConnection, View};
use crate::host::case_map::same_cases;
use v4::DbDataType as T;
use v4::DbValue as V;
use v4::Error as E;
use v4::ParameterValue as P;

impl Host for View<'_> {}

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
    Ok(same_cases!(p, ParameterValue => P {
        Boolean, Int8, Int16, Int32, Int64, Floating32, Floating64, Str, Binary, Date, Time, Datetime, Timestamp
    } { DbNull }))
}

fn row_set(rows: v4::RowSet) -> RowSet {
    RowSet {
        columns: rows.columns.into_iter().map(|c| Column { name: c.name, data_type: data_type(c.data_type) }).collect(),
        rows: rows.rows.into_iter().map(|row| row.into_iter().map(value).collect()).collect(),
    }
}

fn data_type(t: v4::DbDataType) -> DbDataType {
    same_cases!(t, T => DbDataType {} {
        Boolean, Int8, Int16, Int32, Int64, Floating32, Floating64, Str, Binary, Date, Time, Datetime, Timestamp
    } else DbDataType::Other)
}

fn value(v: v4::DbValue) -> DbValue {
    same_cases!(v, V => DbValue {
        Boolean, Int8, Int16, Int32, Int64, Floating32, Floating64, Str, Binary, Date, Time, Datetime, Timestamp
    } { DbNull } else DbValue::Unsupported)
}
