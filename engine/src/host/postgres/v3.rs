//! `spin:postgres/postgres@3.0.0`: the same connections as 4.x, with 3.0's
//! narrower types. Values 3.0 has no case for are `unsupported` (their column
//! type `other`); a server error is reported by its text.

use wasmtime::component::Resource;

use super::bindings::spin::postgres3_0_0::postgres::{
    Column, DbDataType, DbValue, Error, Host, HostConnection, ParameterValue, RowSet,
};
use super::bindings::spin::postgres4_2_0::postgres as v4;
use super::{PgConnection, View};

impl Host for View<'_> {}

impl HostConnection for View<'_> {
    async fn open(&mut self, address: String) -> wasmtime::Result<Result<Resource<PgConnection>, Error>> {
        Ok(self.open_into_table(&address, None).await?.map_err(error))
    }

    async fn query(
        &mut self,
        res: Resource<PgConnection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<RowSet, Error>> {
        let params = params.into_iter().map(parameter).collect();
        Ok(self.connection(&res)?.query(&statement, params).await.map(row_set).map_err(error))
    }

    async fn execute(
        &mut self,
        res: Resource<PgConnection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<u64, Error>> {
        let params = params.into_iter().map(parameter).collect();
        Ok(self.connection(&res)?.execute(&statement, params).await.map_err(error))
    }

    async fn drop(&mut self, res: Resource<PgConnection>) -> wasmtime::Result<()> {
        self.table.delete(res)?;
        Ok(())
    }
}

fn error(e: v4::Error) -> Error {
    match e {
        v4::Error::ConnectionFailed(m) => Error::ConnectionFailed(m),
        v4::Error::BadParameter(m) => Error::BadParameter(m),
        v4::Error::QueryFailed(v4::QueryError::Text(m)) => Error::QueryFailed(m),
        v4::Error::QueryFailed(v4::QueryError::DbError(e)) => Error::QueryFailed(e.as_text),
        v4::Error::ValueConversionFailed(m) => Error::ValueConversionFailed(m),
        v4::Error::Other(m) => Error::Other(m),
    }
}

fn parameter(p: ParameterValue) -> v4::ParameterValue {
    use v4::ParameterValue as P;
    match p {
        ParameterValue::Boolean(v) => P::Boolean(v),
        ParameterValue::Int8(v) => P::Int8(v),
        ParameterValue::Int16(v) => P::Int16(v),
        ParameterValue::Int32(v) => P::Int32(v),
        ParameterValue::Int64(v) => P::Int64(v),
        ParameterValue::Floating32(v) => P::Floating32(v),
        ParameterValue::Floating64(v) => P::Floating64(v),
        ParameterValue::Str(v) => P::Str(v),
        ParameterValue::Binary(v) => P::Binary(v),
        ParameterValue::Date(v) => P::Date(v),
        ParameterValue::Time(v) => P::Time(v),
        ParameterValue::Datetime(v) => P::Datetime(v),
        ParameterValue::Timestamp(v) => P::Timestamp(v),
        ParameterValue::DbNull => P::DbNull,
    }
}

fn row_set(rows: v4::RowSet) -> RowSet {
    RowSet {
        columns: rows.columns.into_iter().map(|c| Column { name: c.name, data_type: data_type(c.data_type) }).collect(),
        rows: rows.rows.into_iter().map(|row| row.into_iter().map(value).collect()).collect(),
    }
}

fn data_type(t: v4::DbDataType) -> DbDataType {
    use v4::DbDataType as T;
    match t {
        T::Boolean => DbDataType::Boolean,
        T::Int8 => DbDataType::Int8,
        T::Int16 => DbDataType::Int16,
        T::Int32 => DbDataType::Int32,
        T::Int64 => DbDataType::Int64,
        T::Floating32 => DbDataType::Floating32,
        T::Floating64 => DbDataType::Floating64,
        T::Str => DbDataType::Str,
        T::Binary => DbDataType::Binary,
        T::Date => DbDataType::Date,
        T::Time => DbDataType::Time,
        T::Datetime => DbDataType::Datetime,
        T::Timestamp => DbDataType::Timestamp,
        _ => DbDataType::Other,
    }
}

fn value(v: v4::DbValue) -> DbValue {
    use v4::DbValue as V;
    match v {
        V::Boolean(v) => DbValue::Boolean(v),
        V::Int8(v) => DbValue::Int8(v),
        V::Int16(v) => DbValue::Int16(v),
        V::Int32(v) => DbValue::Int32(v),
        V::Int64(v) => DbValue::Int64(v),
        V::Floating32(v) => DbValue::Floating32(v),
        V::Floating64(v) => DbValue::Floating64(v),
        V::Str(v) => DbValue::Str(v),
        V::Binary(v) => DbValue::Binary(v),
        V::Date(v) => DbValue::Date(v),
        V::Time(v) => DbValue::Time(v),
        V::Datetime(v) => DbValue::Datetime(v),
        V::Timestamp(v) => DbValue::Timestamp(v),
        V::DbNull => DbValue::DbNull,
        _ => DbValue::Unsupported,
    }
}
