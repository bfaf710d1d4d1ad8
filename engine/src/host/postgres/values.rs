//! Values between `spin:postgres@4.x` and PostgreSQL: a statement parameter
//! becomes a `ToSql` value, a result column's type and a row's values become
//! the interface's. Types the interface has no case for are returned as their
//! raw wire bytes (`unsupported`), as Spin does.

use std::error::Error as StdError;

use bytes::{Buf, BufMut, BytesMut};
use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike, Utc};
use postgres_range::{BoundSided, BoundType, Normalizable, Range, RangeBound};
use rust_decimal::Decimal;
use tokio_postgres::types::{to_sql_checked, FromSql, IsNull, ToSql, Type};
use tokio_postgres::Row;

use super::bindings::spin::postgres4_2_0::postgres::{DbDataType, DbValue, Interval, ParameterValue, RangeBoundKind};

type BoxError = Box<dyn StdError + Sync + Send>;

/// One statement parameter, ready for the client.
pub(super) type SqlParam = Box<dyn ToSql + Send + Sync>;

/// The interface's type of a column of type `ty`.
pub(super) fn data_type(ty: &Type) -> DbDataType {
    match *ty {
        Type::BOOL => DbDataType::Boolean,
        Type::CHAR => DbDataType::Int8,
        Type::INT2 => DbDataType::Int16,
        Type::INT4 => DbDataType::Int32,
        Type::INT8 => DbDataType::Int64,
        Type::FLOAT4 => DbDataType::Floating32,
        Type::FLOAT8 => DbDataType::Floating64,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => DbDataType::Str,
        Type::BYTEA => DbDataType::Binary,
        Type::DATE => DbDataType::Date,
        Type::TIME => DbDataType::Time,
        Type::TIMESTAMP | Type::TIMESTAMPTZ => DbDataType::Datetime,
        Type::UUID => DbDataType::Uuid,
        Type::JSON | Type::JSONB => DbDataType::Jsonb,
        Type::NUMERIC => DbDataType::Decimal,
        Type::INT4_RANGE => DbDataType::RangeInt32,
        Type::INT8_RANGE => DbDataType::RangeInt64,
        Type::NUM_RANGE => DbDataType::RangeDecimal,
        Type::INT4_ARRAY => DbDataType::ArrayInt32,
        Type::INT8_ARRAY => DbDataType::ArrayInt64,
        Type::NUMERIC_ARRAY => DbDataType::ArrayDecimal,
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY | Type::BPCHAR_ARRAY => DbDataType::ArrayStr,
        Type::INTERVAL => DbDataType::Interval,
        _ => DbDataType::Other(ty.name().to_string()),
    }
}

/// The value of column `i` of `row`, as the interface carries it.
pub(super) fn column_value(row: &Row, i: usize) -> Result<DbValue, BoxError> {
    /// Reads the column as `T` (NULL as `db-null`) and wraps it with `case`.
    fn read<'a, T: FromSql<'a>>(
        row: &'a Row,
        i: usize,
        case: impl FnOnce(T) -> Result<DbValue, BoxError>,
    ) -> Result<DbValue, BoxError> {
        match row.try_get::<_, Option<T>>(i)? {
            Some(v) => case(v),
            None => Ok(DbValue::DbNull),
        }
    }
    let ok = |v| Ok(v);
    match *row.columns()[i].type_() {
        Type::BOOL => read(row, i, |v| ok(DbValue::Boolean(v))),
        Type::CHAR => read(row, i, |v| ok(DbValue::Int8(v))),
        Type::INT2 => read(row, i, |v| ok(DbValue::Int16(v))),
        Type::INT4 => read(row, i, |v| ok(DbValue::Int32(v))),
        Type::INT8 => read(row, i, |v| ok(DbValue::Int64(v))),
        Type::FLOAT4 => read(row, i, |v| ok(DbValue::Floating32(v))),
        Type::FLOAT8 => read(row, i, |v| ok(DbValue::Floating64(v))),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => read(row, i, |v| ok(DbValue::Str(v))),
        Type::BYTEA => read(row, i, |v| ok(DbValue::Binary(v))),
        Type::DATE => read(row, i, |v: NaiveDate| ok(DbValue::Date(date_parts(v)))),
        Type::TIME => read(row, i, |v: NaiveTime| ok(DbValue::Time(time_parts(v)))),
        Type::TIMESTAMP => read(row, i, |v: NaiveDateTime| ok(DbValue::Datetime(datetime_parts(v)))),
        Type::TIMESTAMPTZ => read(row, i, |v: DateTime<Utc>| ok(DbValue::Datetime(datetime_parts(v.naive_utc())))),
        Type::UUID => read(row, i, |v: uuid::Uuid| ok(DbValue::Uuid(v.to_string()))),
        Type::JSON | Type::JSONB => read(row, i, |v: serde_json::Value| Ok(DbValue::Jsonb(serde_json::to_vec(&v)?))),
        Type::NUMERIC => read(row, i, |v: Decimal| ok(DbValue::Decimal(v.to_string()))),
        Type::INT4_RANGE => read(row, i, |v: Range<i32>| ok(DbValue::RangeInt32(range_to_wit(&v, |n| *n)))),
        Type::INT8_RANGE => read(row, i, |v: Range<i64>| ok(DbValue::RangeInt64(range_to_wit(&v, |n| *n)))),
        Type::NUM_RANGE => {
            read(row, i, |v: Range<RangedDecimal>| ok(DbValue::RangeDecimal(range_to_wit(&v, |d| d.0.to_string()))))
        }
        Type::INT4_ARRAY => read(row, i, |v| ok(DbValue::ArrayInt32(v))),
        Type::INT8_ARRAY => read(row, i, |v| ok(DbValue::ArrayInt64(v))),
        Type::NUMERIC_ARRAY => read(row, i, |v: Vec<Option<Decimal>>| {
            ok(DbValue::ArrayDecimal(v.into_iter().map(|d| d.map(|d| d.to_string())).collect()))
        }),
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY | Type::BPCHAR_ARRAY => read(row, i, |v| ok(DbValue::ArrayStr(v))),
        Type::INTERVAL => read(row, i, |v: WireInterval| ok(DbValue::Interval(v.0))),
        _ => read(row, i, |v: RawValue| ok(DbValue::Unsupported(v.0))),
    }
}

/// Every value of `row`.
pub(super) fn row_values(row: &Row) -> Result<Vec<DbValue>, BoxError> {
    (0..row.len()).map(|i| column_value(row, i)).collect()
}

/// About how many bytes `value` holds, for the result-size cap.
pub(super) fn value_size(value: &DbValue) -> usize {
    let extra = match value {
        DbValue::Str(s) | DbValue::Uuid(s) | DbValue::Decimal(s) => s.len(),
        DbValue::Binary(b) | DbValue::Jsonb(b) | DbValue::Unsupported(b) => b.len(),
        DbValue::ArrayInt32(v) => v.len() * 8,
        DbValue::ArrayInt64(v) => v.len() * 16,
        DbValue::ArrayDecimal(v) | DbValue::ArrayStr(v) => v.iter().map(|s| 24 + s.as_ref().map_or(0, String::len)).sum(),
        DbValue::RangeDecimal((lo, hi)) => [lo, hi].iter().filter_map(|b| b.as_ref()).map(|(s, _)| s.len()).sum(),
        _ => 0,
    };
    std::mem::size_of::<DbValue>() + extra
}

/// `value` as a statement parameter; a value PostgreSQL cannot take (an
/// impossible date, a malformed UUID, JSON or decimal) is refused with why.
pub(super) fn parameter(value: ParameterValue) -> Result<SqlParam, String> {
    Ok(match value {
        ParameterValue::Boolean(v) => Box::new(v),
        ParameterValue::Int8(v) => Box::new(v),
        ParameterValue::Int16(v) => Box::new(v),
        ParameterValue::Int32(v) => Box::new(v),
        ParameterValue::Int64(v) => Box::new(v),
        ParameterValue::Floating32(v) => Box::new(v),
        ParameterValue::Floating64(v) => Box::new(v),
        ParameterValue::Str(v) => Box::new(v),
        ParameterValue::Binary(v) => Box::new(v),
        ParameterValue::Date((y, m, d)) => Box::new(date(y, m, d)?),
        ParameterValue::Time((h, min, s, ns)) => Box::new(time(h, min, s, ns)?),
        ParameterValue::Datetime((y, m, d, h, min, s, ns)) => {
            Box::new(Moment(NaiveDateTime::new(date(y, m, d)?, time(h, min, s, ns)?)))
        }
        ParameterValue::Timestamp(secs) => Box::new(Moment(
            DateTime::<Utc>::from_timestamp(secs, 0).ok_or(format!("invalid timestamp {secs}"))?.naive_utc(),
        )),
        ParameterValue::Uuid(v) => Box::new(uuid::Uuid::parse_str(&v).map_err(|e| format!("invalid UUID {v:?}: {e}"))?),
        ParameterValue::Jsonb(v) => Box::new(
            serde_json::from_slice::<serde_json::Value>(&v)
                .map_err(|e| format!("invalid JSON {:?}: {e}", String::from_utf8_lossy(&v)))?,
        ),
        ParameterValue::Decimal(v) => Box::new(decimal(&v)?),
        ParameterValue::RangeInt32(r) => Box::new(discrete_range(r, i32::MAX)?),
        ParameterValue::RangeInt64(r) => Box::new(discrete_range(r, i64::MAX)?),
        ParameterValue::RangeDecimal((lo, hi)) => {
            let bound = |b: Option<(String, RangeBoundKind)>| -> Result<_, String> {
                b.map(|(v, kind)| Ok((RangedDecimal(decimal(&v)?), kind))).transpose()
            };
            Box::new(range_from_wit((bound(lo)?, bound(hi)?)))
        }
        ParameterValue::ArrayInt32(v) => Box::new(v),
        ParameterValue::ArrayInt64(v) => Box::new(v),
        ParameterValue::ArrayDecimal(v) => {
            Box::new(v.into_iter().map(|d| d.map(|d| decimal(&d)).transpose()).collect::<Result<Vec<_>, _>>()?)
        }
        ParameterValue::ArrayStr(v) => Box::new(v),
        ParameterValue::Interval(v) => Box::new(WireInterval(v)),
        ParameterValue::DbNull => Box::new(Null),
    })
}

fn date(y: i32, m: u8, d: u8) -> Result<NaiveDate, String> {
    NaiveDate::from_ymd_opt(y, m.into(), d.into()).ok_or(format!("invalid date {y}-{m}-{d}"))
}

fn time(h: u8, min: u8, s: u8, ns: u32) -> Result<NaiveTime, String> {
    NaiveTime::from_hms_nano_opt(h.into(), min.into(), s.into(), ns).ok_or(format!("invalid time {h}:{min}:{s}.{ns:09}"))
}

fn decimal(v: &str) -> Result<Decimal, String> {
    Decimal::from_str_exact(v).map_err(|e| format!("invalid decimal {v:?}: {e}"))
}

fn date_parts(v: NaiveDate) -> (i32, u8, u8) {
    (v.year(), v.month() as u8, v.day() as u8)
}

fn time_parts(v: NaiveTime) -> (u8, u8, u8, u32) {
    (v.hour() as u8, v.minute() as u8, v.second() as u8, v.nanosecond())
}

fn datetime_parts(v: NaiveDateTime) -> (i32, u8, u8, u8, u8, u8, u32) {
    let ((y, mo, d), (h, mi, s, ns)) = (date_parts(v.date()), time_parts(v.time()));
    (y, mo, d, h, mi, s, ns)
}

/// The interface's form of a range: each bound, if any, with its kind.
type WitRange<T> = (Option<(T, RangeBoundKind)>, Option<(T, RangeBoundKind)>);

fn range_to_wit<T: PartialOrd + Normalizable, U>(range: &Range<T>, value: impl Fn(&T) -> U) -> WitRange<U> {
    fn kind(t: BoundType) -> RangeBoundKind {
        match t {
            BoundType::Inclusive => RangeBoundKind::Inclusive,
            BoundType::Exclusive => RangeBoundKind::Exclusive,
        }
    }
    (range.lower().map(|b| (value(&b.value), kind(b.type_))), range.upper().map(|b| (value(&b.value), kind(b.type_))))
}

fn range_from_wit<T: PartialOrd + Normalizable>((lo, hi): WitRange<T>) -> Range<T> {
    fn bound<S: BoundSided, T: PartialOrd>((v, kind): (T, RangeBoundKind)) -> RangeBound<S, T> {
        let t = match kind {
            RangeBoundKind::Inclusive => BoundType::Inclusive,
            RangeBoundKind::Exclusive => BoundType::Exclusive,
        };
        RangeBound::new(v, t)
    }
    Range::new(lo.map(bound), hi.map(bound))
}

/// An integer range; a bound at `max` that would step past it when the range
/// is normalised (an inclusive upper or exclusive lower bound) is refused, as
/// PostgreSQL refuses it, rather than overflowing.
fn discrete_range<T: PartialOrd + Normalizable + Copy>(range: WitRange<T>, max: T) -> Result<Range<T>, String> {
    let (lo, hi) = range;
    let past_max = |b: &Option<(T, RangeBoundKind)>, kind: RangeBoundKind| b.is_some_and(|(v, k)| k == kind && v == max);
    if past_max(&lo, RangeBoundKind::Exclusive) || past_max(&hi, RangeBoundKind::Inclusive) {
        return Err("range bound out of range for its type".into());
    }
    Ok(range_from_wit((lo, hi)))
}

/// A decimal as a range element (continuous, so its bounds stay as given).
#[derive(Debug, PartialEq, PartialOrd)]
struct RangedDecimal(Decimal);

impl Normalizable for RangedDecimal {
    fn normalize<S: BoundSided>(bound: RangeBound<S, Self>) -> RangeBound<S, Self> {
        bound
    }
}

impl<'a> FromSql<'a> for RangedDecimal {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Decimal::from_sql(ty, raw).map(Self)
    }

    fn accepts(ty: &Type) -> bool {
        <Decimal as FromSql>::accepts(ty)
    }
}

impl ToSql for RangedDecimal {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        self.0.to_sql(ty, out)
    }

    fn accepts(ty: &Type) -> bool {
        <Decimal as ToSql>::accepts(ty)
    }

    to_sql_checked!();
}

/// A date and time for a `timestamp` or `timestamptz` parameter; for
/// `timestamptz` it is taken as UTC.
#[derive(Debug)]
struct Moment(NaiveDateTime);

impl ToSql for Moment {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        match *ty {
            Type::TIMESTAMPTZ => self.0.and_utc().to_sql(ty, out),
            _ => self.0.to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        matches!(*ty, Type::TIMESTAMP | Type::TIMESTAMPTZ)
    }

    to_sql_checked!();
}

/// An `interval` on the wire: microseconds, days, months.
#[derive(Debug)]
struct WireInterval(Interval);

impl ToSql for WireInterval {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        out.put_i64(self.0.micros);
        out.put_i32(self.0.days);
        out.put_i32(self.0.months);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }

    to_sql_checked!();
}

impl<'a> FromSql<'a> for WireInterval {
    fn from_sql(_: &Type, mut raw: &'a [u8]) -> Result<Self, BoxError> {
        if raw.len() != 16 {
            return Err(format!("an interval is 16 bytes, not {}", raw.len()).into());
        }
        Ok(Self(Interval { micros: raw.get_i64(), days: raw.get_i32(), months: raw.get_i32() }))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }
}

/// NULL, for a parameter of any type.
#[derive(Debug)]
struct Null;

impl ToSql for Null {
    fn to_sql(&self, _: &Type, _: &mut BytesMut) -> Result<IsNull, BoxError> {
        Ok(IsNull::Yes)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// A value of a type the interface has no case for: its wire bytes.
struct RawValue(Vec<u8>);

impl<'a> FromSql<'a> for RawValue {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Ok(Self(raw.to_vec()))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impossible_values_are_refused_with_the_reason() {
        let err = |v| parameter(v).err().unwrap();
        assert_eq!(err(ParameterValue::Date((2024, 2, 30))), "invalid date 2024-2-30");
        assert!(err(ParameterValue::Uuid("nope".into())).starts_with("invalid UUID \"nope\""));
        assert!(err(ParameterValue::Jsonb(b"{".to_vec())).starts_with("invalid JSON \"{\""));
        assert!(err(ParameterValue::Decimal("1.2.3".into())).starts_with("invalid decimal \"1.2.3\""));
        let inclusive_max = (None, Some((i32::MAX, RangeBoundKind::Inclusive)));
        assert_eq!(err(ParameterValue::RangeInt32(inclusive_max)), "range bound out of range for its type");
        assert!(parameter(ParameterValue::RangeInt32((None, Some((i32::MAX, RangeBoundKind::Exclusive))))).is_ok());
    }

    #[test]
    fn a_timestamp_is_seconds_since_the_epoch() {
        let Ok(p) = parameter(ParameterValue::Timestamp(86_400 + 3_723)) else { panic!() };
        let mut out = BytesMut::new();
        p.to_sql_checked(&Type::TIMESTAMP, &mut out).unwrap();
        let back = NaiveDateTime::from_sql(&Type::TIMESTAMP, &out).unwrap();
        assert_eq!(datetime_parts(back), (1970, 1, 2, 1, 2, 3, 0));
        assert!(p.to_sql_checked(&Type::TIMESTAMPTZ, &mut BytesMut::new()).is_ok());
    }

    #[test]
    fn intervals_and_decimal_ranges_round_trip_on_the_wire() {
        let mut out = BytesMut::new();
        WireInterval(Interval { micros: 5, days: -2, months: 14 }).to_sql(&Type::INTERVAL, &mut out).unwrap();
        let back = WireInterval::from_sql(&Type::INTERVAL, &out).unwrap().0;
        assert_eq!((back.micros, back.days, back.months), (5, -2, 14));
        let range = (Some(("1.5".to_string(), RangeBoundKind::Exclusive)), None);
        let Ok(p) = parameter(ParameterValue::RangeDecimal(range)) else { panic!() };
        let mut out = BytesMut::new();
        p.to_sql_checked(&Type::NUM_RANGE, &mut out).unwrap();
        let back = Range::<RangedDecimal>::from_sql(&Type::NUM_RANGE, &out).unwrap();
        assert_eq!(range_to_wit(&back, |d| d.0.to_string()), (Some(("1.5".into(), RangeBoundKind::Exclusive)), None));
    }
}
