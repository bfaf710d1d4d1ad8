//! Outbound PostgreSQL through spin-sdk 7 (`spin:postgres/postgres@4.2.0`, the
//! async functions). The server's address is the variable `pg_address`; the
//! component may reach `postgres://127.0.0.1:*` only. Values are printed as
//! `<column>:<type>=<value>` with the interface's case names, e.g.
//! `i4:int32=int32(-7)`, separated by ` | `; errors as the interface's error, with a server
//! error's code and message.
//!
//! * `GET /setup`: (re)creates table `things`, a column of every type; 200 `ready`.
//! * `POST /things`: inserts a row of bound parameters; 200 `inserted=<rows>`.
//! * `POST /nulls`: inserts a row of NULL parameters; 200 `inserted=<rows>`.
//! * `GET /things`: every row by id, one line each.
//! * `GET /stream?n=<count>`: reads `generate_series(1, n)` row by row from
//!   the stream; 200 `rows=<count> sum=<sum>`.
//! * `GET /bad`: 200 the error of a malformed statement.
//! * `GET /bad-param`: 200 the error of an impossible date parameter.
//! * `GET /denied`: 200 the error of opening a host the component may not reach.
//! * `GET /tls`: opens through a connection builder that trusts the PEM root in
//!   variable `pg_ca` (when it is not empty); 200 `ssl=<value>`, whether the
//!   server sees the connection encrypted (`pg_stat_ssl`).
//! * `GET /leave-open`: begins a transaction, inserts a `left-open` row, sets
//!   `application_name` for the session and returns without committing.
//! * `GET /left-over`: 200 the count of `left-open` rows seen, the session's
//!   `application_name`, and whether the statement ran outside a transaction
//!   that has written (`fresh`).

use spin_sdk::http::{IntoResponse, Method, Request, StatusCode};
use spin_sdk::http_service;
use spin_sdk::pg::{Certificate, Connection, DbDataType, DbValue, Error, Interval, ParameterValue, OpenOptions, PgError, QueryError, RangeBoundKind};

fn error(e: &Error) -> String {
    match e {
        Error::Decode(m) => format!("decode:{m}"),
        Error::PgError(e) => match e {
            PgError::ConnectionFailed(m) => format!("connection-failed:{m}"),
            PgError::BadParameter(m) => format!("bad-parameter:{m}"),
            PgError::QueryFailed(QueryError::Text(m)) => format!("query-failed:text:{m}"),
            PgError::QueryFailed(QueryError::DbError(d)) => {
                format!("query-failed:db-error:{}:{}:{}", d.severity, d.code, d.message)
            }
            PgError::ValueConversionFailed(m) => format!("value-conversion-failed:{m}"),
            PgError::Other(m) => format!("other:{m}"),
        },
    }
}

fn kind(k: &RangeBoundKind) -> &'static str {
    match k {
        RangeBoundKind::Inclusive => "incl",
        RangeBoundKind::Exclusive => "excl",
    }
}

fn bound<T: std::fmt::Display>(b: &Option<(T, RangeBoundKind)>) -> String {
    b.as_ref().map(|(v, k)| format!("{v}/{}", kind(k))).unwrap_or_else(|| "inf".into())
}

fn list<T: std::fmt::Display>(items: &[Option<T>]) -> String {
    items.iter().map(|v| v.as_ref().map(|v| v.to_string()).unwrap_or_else(|| "null".into())).collect::<Vec<_>>().join(";")
}

fn value(v: &DbValue) -> String {
    match v {
        DbValue::Boolean(b) => format!("boolean({b})"),
        DbValue::Int8(n) => format!("int8({n})"),
        DbValue::Int16(n) => format!("int16({n})"),
        DbValue::Int32(n) => format!("int32({n})"),
        DbValue::Int64(n) => format!("int64({n})"),
        DbValue::Floating32(f) => format!("floating32({f})"),
        DbValue::Floating64(f) => format!("floating64({f})"),
        DbValue::Str(s) => format!("str({s})"),
        DbValue::Binary(b) => format!("binary({})", b.iter().map(|x| format!("{x:02x}")).collect::<String>()),
        DbValue::Date((y, m, d)) => format!("date({y}-{m}-{d})"),
        DbValue::Time((h, m, s, ns)) => format!("time({h}:{m}:{s}.{ns})"),
        DbValue::Datetime((y, mo, d, h, mi, s, ns)) => format!("datetime({y}-{mo}-{d} {h}:{mi}:{s}.{ns})"),
        DbValue::Timestamp(t) => format!("timestamp({t})"),
        DbValue::Uuid(u) => format!("uuid({u})"),
        DbValue::Jsonb(j) => format!("jsonb({})", String::from_utf8_lossy(j)),
        DbValue::Decimal(d) => format!("decimal({d})"),
        DbValue::RangeInt32((lo, hi)) => format!("range-int32({}..{})", bound(lo), bound(hi)),
        DbValue::RangeInt64((lo, hi)) => format!("range-int64({}..{})", bound(lo), bound(hi)),
        DbValue::RangeDecimal((lo, hi)) => format!("range-decimal({}..{})", bound(lo), bound(hi)),
        DbValue::ArrayInt32(a) => format!("array-int32({})", list(a)),
        DbValue::ArrayInt64(a) => format!("array-int64({})", list(a)),
        DbValue::ArrayDecimal(a) => format!("array-decimal({})", list(a)),
        DbValue::ArrayStr(a) => format!("array-str({})", list(a)),
        DbValue::Interval(i) => format!("interval({}us,{}d,{}m)", i.micros, i.days, i.months),
        DbValue::DbNull => "db-null".into(),
        DbValue::Unsupported(b) => format!("unsupported({} bytes)", b.len()),
    }
}

const COLUMNS: &str = "b, i2, i4, i8, f4, f8, t, v, bin, d, tm, ts, tstz, u, j, n, r4, r8, rn, a4, a8, an, at, iv";

const CREATE: &str = "CREATE TABLE things (id serial PRIMARY KEY, b bool, i2 int2, i4 int4, i8 int8, f4 float4, \
    f8 float8, t text, v varchar(20), bin bytea, d date, tm time, ts timestamp, tstz timestamptz, u uuid, j jsonb, \
    n numeric, r4 int4range, r8 int8range, rn numrange, a4 int4[], a8 int8[], an numeric[], at text[], iv interval, \
    inet_col inet DEFAULT '10.1.2.3')";

fn params() -> Vec<ParameterValue> {
    use ParameterValue as P;
    vec![
        P::Boolean(true),
        P::Int16(-3),
        P::Int32(-7),
        P::Int64(9_000_000_000),
        P::Floating32(1.5),
        P::Floating64(-2.25),
        P::Str("héllo".into()),
        P::Str("short".into()),
        P::Binary(vec![0, 1, 254, 255]),
        P::Date((2024, 2, 29)),
        P::Time((23, 59, 58, 500_000_000)),
        P::Datetime((2001, 9, 9, 1, 46, 40, 0)),
        P::Timestamp(1_000_000_000),
        P::Uuid("67e55044-10b1-426f-9247-bb680e5fe0c8".into()),
        P::Jsonb(br#"{"a": [1, 2]}"#.to_vec()),
        P::Decimal("12345.678901".into()),
        P::RangeInt32((Some((1, RangeBoundKind::Inclusive)), Some((10, RangeBoundKind::Inclusive)))),
        P::RangeInt64((None, Some((5_000_000_000, RangeBoundKind::Exclusive)))),
        P::RangeDecimal((Some(("1.5".into(), RangeBoundKind::Exclusive)), None)),
        P::ArrayInt32(vec![Some(1), None, Some(3)]),
        P::ArrayInt64(vec![Some(-1)]),
        P::ArrayDecimal(vec![Some("0.1".into()), None]),
        P::ArrayStr(vec![Some("x".into()), None, Some("z".into())]),
        P::Interval(Interval { micros: 1_500_000, days: 2, months: 14 }),
    ]
}

fn placeholders(n: usize) -> String {
    (1..=n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

async fn rows(db: &Connection, statement: &str, params: Vec<ParameterValue>) -> Result<Vec<String>, Error> {
    let result = db.query(statement, params).await?;
    let columns: Vec<String> =
        result.columns().iter().map(|c| format!("{}:{}", c.name, type_name(&c.data_type))).collect();
    let rows = result.collect().await?;
    Ok(rows
        .iter()
        .map(|row| {
            let values: Vec<String> = (0..columns.len()).map(|i| format!("{}={}", columns[i], value(&row[i]))).collect();
            values.join(" | ")
        })
        .collect())
}

fn type_name(t: &DbDataType) -> String {
    let name = match t {
        DbDataType::Boolean => "boolean",
        DbDataType::Int8 => "int8",
        DbDataType::Int16 => "int16",
        DbDataType::Int32 => "int32",
        DbDataType::Int64 => "int64",
        DbDataType::Floating32 => "floating32",
        DbDataType::Floating64 => "floating64",
        DbDataType::Str => "str",
        DbDataType::Binary => "binary",
        DbDataType::Date => "date",
        DbDataType::Time => "time",
        DbDataType::Datetime => "datetime",
        DbDataType::Timestamp => "timestamp",
        DbDataType::Uuid => "uuid",
        DbDataType::Jsonb => "jsonb",
        DbDataType::Decimal => "decimal",
        DbDataType::RangeInt32 => "range-int32",
        DbDataType::RangeInt64 => "range-int64",
        DbDataType::RangeDecimal => "range-decimal",
        DbDataType::ArrayInt32 => "array-int32",
        DbDataType::ArrayInt64 => "array-int64",
        DbDataType::ArrayDecimal => "array-decimal",
        DbDataType::ArrayStr => "array-str",
        DbDataType::Interval => "interval",
        DbDataType::Other(name) => return format!("other({name})"),
    };
    name.to_string()
}

async fn stream(db: &Connection, n: i64) -> Result<String, Error> {
    let mut result = db.query("SELECT g FROM generate_series(1, $1::int8) AS g", vec![ParameterValue::Int64(n)]).await?;
    let (mut count, mut sum) = (0i64, 0i64);
    while let Some(row) = result.next().await {
        if let DbValue::Int64(g) = row[0] {
            count += 1;
            sum += g;
        }
    }
    result.result().await?;
    Ok(format!("rows={count} sum={sum}"))
}

async fn left_over(db: &Connection) -> Result<String, Error> {
    let seen = rows(db, "SELECT count(*) AS n FROM things WHERE t = 'left-open'", vec![]).await?;
    let app = rows(db, "SELECT current_setting('application_name') AS a", vec![]).await?;
    let tx = rows(db, "SELECT txid_current_if_assigned() IS NULL AS fresh", vec![]).await?;
    Ok(format!("{} {} {}", seen.join(""), app.join(""), tx.join("")))
}

async fn route(method: Method, path: &str, query: &str) -> Result<String, Error> {
    let address = spin_sdk::variables::get("pg_address").await.map_err(|e| Error::Decode(format!("{e:?}")))?;
    if path == "/denied" {
        return Ok(match Connection::open("postgres://user@192.0.2.1:5432/db").await {
            Ok(_) => "unexpected success".into(),
            Err(e) => error(&e),
        });
    }
    if path == "/tls" {
        let ca = spin_sdk::variables::get("pg_ca").await.map_err(|e| Error::Decode(format!("{e:?}")))?;
        let ca_root = (!ca.is_empty()).then_some(Certificate::Text(ca));
        let db = Connection::open_with_options(address, OpenOptions { ca_root }).await?;
        let ssl = rows(&db, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", vec![]).await?;
        return Ok(ssl.join("").replace("ssl:boolean=boolean", "ssl="));
    }
    let db = Connection::open(address).await?;
    Ok(match (method, path) {
        (Method::GET, "/setup") => {
            db.execute("DROP TABLE IF EXISTS things", vec![]).await?;
            db.execute(CREATE, vec![]).await?;
            "ready".into()
        }
        (Method::POST, "/things") => {
            let statement = format!("INSERT INTO things ({COLUMNS}) VALUES ({})", placeholders(24));
            format!("inserted={}", db.execute(statement, params()).await?)
        }
        (Method::POST, "/nulls") => {
            let statement = format!("INSERT INTO things ({COLUMNS}) VALUES ({})", placeholders(24));
            format!("inserted={}", db.execute(statement, vec![ParameterValue::DbNull; 24]).await?)
        }
        (Method::GET, "/things") => {
            rows(&db, &format!("SELECT id, {COLUMNS}, inet_col FROM things ORDER BY id"), vec![]).await?.join("\n")
        }
        (Method::GET, "/stream") => stream(&db, query.strip_prefix("n=").and_then(|n| n.parse().ok()).unwrap_or(10)).await?,
        (Method::GET, "/bad") => match db.query("SELEKT 1", vec![]).await {
            Ok(_) => "unexpected success".into(),
            Err(e) => error(&e),
        },
        (Method::GET, "/bad-param") => match db.execute("SELECT $1::date", vec![ParameterValue::Date((2023, 2, 30))]).await {
            Ok(_) => "unexpected success".into(),
            Err(e) => error(&e),
        },
        (Method::GET, "/leave-open") => {
            db.execute("BEGIN", vec![]).await?;
            db.execute("INSERT INTO things (t) VALUES ('left-open')", vec![]).await?;
            db.execute("SET application_name = 'leaky'", vec![]).await?;
            "left open".into()
        }
        (Method::GET, "/left-over") => left_over(&db).await?,
        _ => return Ok("no such route".into()),
    })
}

#[http_service]
async fn handle(req: Request) -> impl IntoResponse {
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    match route(req.method().clone(), &path, &query).await {
        Ok(body) => (StatusCode::OK, body),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, error(&e)),
    }
}
