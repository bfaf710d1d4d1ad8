//! Values between `spin:mysql@3.0.0` and MySQL: a statement parameter becomes
//! a MySQL value, a result column's type comes from its MySQL type and flags,
//! and a row's values are read as that type. Columns of types the interface has
//! no case for (dates, decimals, JSON, ...) read as `unsupported`.

use mysql_async::consts::{ColumnFlags, ColumnType};
use mysql_async::prelude::FromValue;
use mysql_async::{from_value_opt, Value};

use super::bindings::spin::mysql::mysql::{Column, DbDataType, DbValue, Error, ParameterValue};

/// A parameter of either version (`$ty`, whose cases 3.0 and 2.0 share) as a
/// MySQL value.
macro_rules! mysql_value {
    ($ty:ident, $value:expr) => {
        match $value {
            $ty::Boolean(v) => mysql_async::Value::from(v),
            $ty::Int8(v) => mysql_async::Value::from(v),
            $ty::Int16(v) => mysql_async::Value::from(v),
            $ty::Int32(v) => mysql_async::Value::from(v),
            $ty::Int64(v) => mysql_async::Value::from(v),
            $ty::Uint8(v) => mysql_async::Value::from(v),
            $ty::Uint16(v) => mysql_async::Value::from(v),
            $ty::Uint32(v) => mysql_async::Value::from(v),
            $ty::Uint64(v) => mysql_async::Value::from(v),
            $ty::Floating32(v) => mysql_async::Value::from(v),
            $ty::Floating64(v) => mysql_async::Value::from(v),
            $ty::Str(v) => mysql_async::Value::from(v),
            $ty::Binary(v) => mysql_async::Value::from(v),
            $ty::DbNull => mysql_async::Value::NULL,
        }
    };
}
pub(super) use mysql_value;

/// A 3.0 parameter as a MySQL value.
pub(super) fn parameter(value: ParameterValue) -> Value {
    mysql_value!(ParameterValue, value)
}

/// The interface's column for `column`.
pub(super) fn column(column: &mysql_async::Column) -> Column {
    Column { name: column.name_str().into_owned(), data_type: data_type(column) }
}

fn data_type(column: &mysql_async::Column) -> DbDataType {
    let flags = column.flags();
    let binary = flags.contains(ColumnFlags::BINARY_FLAG);
    let unsigned = flags.contains(ColumnFlags::UNSIGNED_FLAG);
    match column.column_type() {
        ColumnType::MYSQL_TYPE_TINY if unsigned => DbDataType::Uint8,
        ColumnType::MYSQL_TYPE_TINY => DbDataType::Int8,
        ColumnType::MYSQL_TYPE_SHORT if unsigned => DbDataType::Uint16,
        ColumnType::MYSQL_TYPE_SHORT => DbDataType::Int16,
        ColumnType::MYSQL_TYPE_INT24 | ColumnType::MYSQL_TYPE_LONG if unsigned => DbDataType::Uint32,
        ColumnType::MYSQL_TYPE_INT24 | ColumnType::MYSQL_TYPE_LONG => DbDataType::Int32,
        ColumnType::MYSQL_TYPE_LONGLONG if unsigned => DbDataType::Uint64,
        ColumnType::MYSQL_TYPE_LONGLONG => DbDataType::Int64,
        ColumnType::MYSQL_TYPE_FLOAT => DbDataType::Floating32,
        ColumnType::MYSQL_TYPE_DOUBLE => DbDataType::Floating64,
        // TEXT and CHAR columns are strings, BLOB and BINARY ones bytes.
        ColumnType::MYSQL_TYPE_BLOB
        | ColumnType::MYSQL_TYPE_TINY_BLOB
        | ColumnType::MYSQL_TYPE_MEDIUM_BLOB
        | ColumnType::MYSQL_TYPE_LONG_BLOB
        | ColumnType::MYSQL_TYPE_STRING
        | ColumnType::MYSQL_TYPE_VAR_STRING
        | ColumnType::MYSQL_TYPE_VARCHAR => {
            if binary {
                DbDataType::Binary
            } else {
                DbDataType::Str
            }
        }
        _ => DbDataType::Other,
    }
}

/// The values of `row`, each read as its column's type.
pub(super) fn row_values(mut row: mysql_async::Row, columns: &[Column]) -> Result<Vec<DbValue>, Error> {
    (0..row.len())
        .map(|i| match (row.take(i), columns.get(i)) {
            (None | Some(Value::NULL), _) => Ok(DbValue::DbNull),
            (Some(v), Some(c)) => value(v, &c.data_type),
            (Some(_), None) => Err(Error::Other(format!("the result has no column {i}"))),
        })
        .collect()
}

fn value(v: Value, data_type: &DbDataType) -> Result<DbValue, Error> {
    fn read<T: FromValue>(v: Value, case: fn(T) -> DbValue) -> Result<DbValue, Error> {
        from_value_opt::<T>(v).map(case).map_err(|e| Error::ValueConversionFailed(e.to_string()))
    }
    match data_type {
        DbDataType::Boolean => read(v, DbValue::Boolean),
        DbDataType::Int8 => read(v, DbValue::Int8),
        DbDataType::Int16 => read(v, DbValue::Int16),
        DbDataType::Int32 => read(v, DbValue::Int32),
        DbDataType::Int64 => read(v, DbValue::Int64),
        DbDataType::Uint8 => read(v, DbValue::Uint8),
        DbDataType::Uint16 => read(v, DbValue::Uint16),
        DbDataType::Uint32 => read(v, DbValue::Uint32),
        DbDataType::Uint64 => read(v, DbValue::Uint64),
        DbDataType::Floating32 => read(v, DbValue::Floating32),
        DbDataType::Floating64 => read(v, DbValue::Floating64),
        DbDataType::Str => read(v, DbValue::Str),
        DbDataType::Binary => read(v, DbValue::Binary),
        DbDataType::Other => Ok(DbValue::Unsupported),
    }
}

/// About how many bytes `value` holds, for the result-size cap.
pub(super) fn value_size(value: &DbValue) -> usize {
    std::mem::size_of::<DbValue>()
        + match value {
            DbValue::Str(s) => s.len(),
            DbValue::Binary(b) => b.len(),
            _ => 0,
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_as_their_columns_type_and_unknown_types_are_unsupported() {
        assert!(matches!(value(Value::Int(-3), &DbDataType::Int8), Ok(DbValue::Int8(-3))));
        assert!(matches!(value(Value::UInt(300), &DbDataType::Uint16), Ok(DbValue::Uint16(300))));
        assert!(matches!(value(Value::Bytes(b"abc".to_vec()), &DbDataType::Str), Ok(DbValue::Str(s)) if s == "abc"));
        assert!(matches!(value(Value::Date(2024, 1, 2, 0, 0, 0, 0), &DbDataType::Other), Ok(DbValue::Unsupported)));
        assert!(matches!(value(Value::Int(300), &DbDataType::Int8), Err(Error::ValueConversionFailed(_))));
        assert_eq!(parameter(ParameterValue::Uint64(u64::MAX)), Value::UInt(u64::MAX));
        assert_eq!(parameter(ParameterValue::DbNull), Value::NULL);
    }
}
