//! Spin 2's `fermyon:spin/mysql@2.0.0` (with `rdbms-types`, shared with
//! PostgreSQL's 2.0): sync, on the same connections as 3.0; 2.0's types are
//! 3.0's under other names.

use wasmtime::component::{Linker, Resource};

use super::bindings::spin::mysql::mysql as v3;
use super::{client, values, MysqlConnection, OutboundMysql, View};
use crate::host::case_map::same_cases;
use v3::DbDataType as T;
use v3::DbValue as V;
use v3::Error as E;
use crate::host::capability::{HasCapability, ViewOf};
use crate::host::rdbms_v2::fermyon::spin::mysql::{Host, HostConnection};
use crate::host::rdbms_v2::fermyon::spin::rdbms_types::{Column, DbDataType, DbValue, Error, ParameterValue, RowSet};

/// Adds the interface to `linker` (the PostgreSQL capability links the shared types).
pub(super) fn add_to_linker<T: HasCapability<OutboundMysql>>(linker: &mut Linker<T>) -> anyhow::Result<()> {
    crate::host::rdbms_v2::fermyon::spin::mysql::add_to_linker::<T, ViewOf<OutboundMysql>>(linker, T::capability)?;
    Ok(())
}

impl Host for View<'_> {}

impl HostConnection for View<'_> {
    async fn open(&mut self, address: String) -> wasmtime::Result<Result<Resource<MysqlConnection>, Error>> {
        let opened = match client::prepare(&self.state.gate, &address) {
            Ok(opening) => opening.connect(&self.state.pools).await,
            Err(e) => Err(e),
        };
        match opened {
            Ok(conn) => Ok(Ok(self.table.push(conn)?)),
            Err(e) => Ok(Err(error(e))),
        }
    }

    async fn query(
        &mut self,
        res: Resource<MysqlConnection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<RowSet, Error>> {
        let params = params.into_iter().map(parameter).collect();
        let result = self.connection(&res)?.query_all(statement, params).await;
        Ok(result.map(|(columns, rows)| row_set(columns, rows)).map_err(error))
    }

    async fn execute(
        &mut self,
        res: Resource<MysqlConnection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<(), Error>> {
        let params = params.into_iter().map(parameter).collect();
        Ok(self.connection(&res)?.execute(statement, params).await.map_err(error))
    }

    async fn drop(&mut self, res: Resource<MysqlConnection>) -> wasmtime::Result<()> {
        self.table.delete(res)?;
        Ok(())
    }
}

fn error(e: v3::Error) -> Error {
    same_cases!(e, E => Error { ConnectionFailed, BadParameter, QueryFailed, ValueConversionFailed, Other } {})
}

fn parameter(p: ParameterValue) -> mysql_async::Value {
    values::mysql_value!(ParameterValue, p)
}

fn row_set(columns: Vec<v3::Column>, rows: Vec<Vec<v3::DbValue>>) -> RowSet {
    RowSet {
        columns: columns.into_iter().map(|c| Column { name: c.name, data_type: data_type(c.data_type) }).collect(),
        rows: rows.into_iter().map(|row| row.into_iter().map(value).collect()).collect(),
    }
}

fn data_type(t: v3::DbDataType) -> DbDataType {
    same_cases!(t, T => DbDataType {} {
        Boolean, Int8, Int16, Int32, Int64, Uint8, Uint16, Uint32, Uint64, Floating32, Floating64, Str, Binary, Other
    })
}

fn value(v: v3::DbValue) -> DbValue {
    same_cases!(v, V => DbValue {
        Boolean, Int8, Int16, Int32, Int64, Uint8, Uint16, Uint32, Uint64, Floating32, Floating64, Str, Binary
    } { DbNull, Unsupported })
}
