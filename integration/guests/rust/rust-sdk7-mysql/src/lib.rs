//! Outbound MySQL through spin-sdk 7 (`spin:mysql/mysql@3.0.0`, async). The
//! server's address is the variable `mysql_address`; the component may reach
//! `mysql://127.0.0.1:*` only. Values are printed as `<column>:<type>=<value>`
//! with the interface's case names, separated by ` | `; errors as
//! `<case>:<message>`.
//!
//! * `GET /setup`: (re)creates table `things`, a column of every type; 200 `ready`.
//! * `POST /things`: inserts a row of bound parameters; 200 `inserted`.
//! * `POST /nulls`: inserts a row of NULL parameters; 200 `inserted`.
//! * `GET /things`: every row by id, one line each.
//! * `GET /stream?n=<count>`: reads `n` generated rows one by one from the
//!   stream; 200 `rows=<count> sum=<sum>`.
//! * `GET /bad`: 200 the error of a malformed statement.
//! * `GET /denied`: 200 the error of opening a host the component may not reach.
//! * `GET /leave-open`: begins a transaction, inserts a `left-open` row, sets a
//!   session variable and returns without committing.
//! * `GET /left-over`: 200 the `left-open` rows seen and the session variable.

use spin_sdk::http::{IntoResponse, Method, Request, StatusCode};
use spin_sdk::http_service;
use spin_sdk::mysql::{Connection, DbDataType, DbValue, Error, MysqlError, ParameterValue};

fn error(e: &Error) -> String {
    match e {
        Error::Decode(m) => format!("decode:{m}"),
        Error::MysqlError(e) => match e {
            MysqlError::ConnectionFailed(m) => format!("connection-failed:{m}"),
            MysqlError::BadParameter(m) => format!("bad-parameter:{m}"),
            MysqlError::QueryFailed(m) => format!("query-failed:{m}"),
            MysqlError::ValueConversionFailed(m) => format!("value-conversion-failed:{m}"),
            MysqlError::Other(m) => format!("other:{m}"),
        },
    }
}

fn value(v: &DbValue) -> String {
    match v {
        DbValue::Boolean(b) => format!("boolean({b})"),
        DbValue::Int8(n) => format!("int8({n})"),
        DbValue::Int16(n) => format!("int16({n})"),
        DbValue::Int32(n) => format!("int32({n})"),
        DbValue::Int64(n) => format!("int64({n})"),
        DbValue::Uint8(n) => format!("uint8({n})"),
        DbValue::Uint16(n) => format!("uint16({n})"),
        DbValue::Uint32(n) => format!("uint32({n})"),
        DbValue::Uint64(n) => format!("uint64({n})"),
        DbValue::Floating32(f) => format!("floating32({f})"),
        DbValue::Floating64(f) => format!("floating64({f})"),
        DbValue::Str(s) => format!("str({s})"),
        DbValue::Binary(b) => format!("binary({})", b.iter().map(|x| format!("{x:02x}")).collect::<String>()),
        DbValue::DbNull => "db-null".into(),
        DbValue::Unsupported => "unsupported".into(),
    }
}

fn type_name(t: &DbDataType) -> &'static str {
    match t {
        DbDataType::Boolean => "boolean",
        DbDataType::Int8 => "int8",
        DbDataType::Int16 => "int16",
        DbDataType::Int32 => "int32",
        DbDataType::Int64 => "int64",
        DbDataType::Uint8 => "uint8",
        DbDataType::Uint16 => "uint16",
        DbDataType::Uint32 => "uint32",
        DbDataType::Uint64 => "uint64",
        DbDataType::Floating32 => "floating32",
        DbDataType::Floating64 => "floating64",
        DbDataType::Str => "str",
        DbDataType::Binary => "binary",
        DbDataType::Other => "other",
    }
}

const CREATE: &str = "CREATE TABLE things (id INT PRIMARY KEY AUTO_INCREMENT, i8 TINYINT, i16 SMALLINT, i32 INT, \
    i64 BIGINT, u8 TINYINT UNSIGNED, u16 SMALLINT UNSIGNED, u32 INT UNSIGNED, u64 BIGINT UNSIGNED, f32 FLOAT, \
    f64 DOUBLE, t VARCHAR(20), txt TEXT, bin VARBINARY(8), blb BLOB, day DATE DEFAULT '2024-02-29')";

const COLUMNS: &str = "i8, i16, i32, i64, u8, u16, u32, u64, f32, f64, t, txt, bin, blb";

fn params() -> Vec<ParameterValue> {
    use ParameterValue as P;
    vec![
        P::Int8(-8),
        P::Int16(-16),
        P::Int32(-32),
        P::Int64(-64_000_000_000),
        P::Uint8(255),
        P::Uint16(65535),
        P::Uint32(4_000_000_000),
        P::Uint64(u64::MAX),
        P::Floating32(1.5),
        P::Floating64(-2.25),
        P::Str("héllo".into()),
        P::Str("long text".into()),
        P::Binary(vec![0, 1, 254, 255]),
        P::Binary(vec![7; 3]),
    ]
}

async fn rows(db: &Connection, statement: &str, params: Vec<ParameterValue>) -> Result<Vec<String>, Error> {
    let result = db.query(statement, params).await?;
    let columns: Vec<String> = result.columns().iter().map(|c| format!("{}:{}", c.name, type_name(&c.data_type))).collect();
    let rows = result.collect().await?;
    Ok(rows
        .iter()
        .map(|row| (0..columns.len()).map(|i| format!("{}={}", columns[i], value(&row[i]))).collect::<Vec<_>>().join(" | "))
        .collect())
}

async fn stream(db: &Connection, n: u64) -> Result<String, Error> {
    let statement = "WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < ?) SELECT n FROM g";
    let mut result = db.query(statement, vec![ParameterValue::Uint64(n)]).await?;
    let (mut count, mut sum) = (0i64, 0i64);
    while let Some(row) = result.next().await {
        // The server picks the counter's integer type.
        let v = match row[0] {
            DbValue::Int32(v) => i64::from(v),
            DbValue::Int64(v) => v,
            _ => continue,
        };
        count += 1;
        sum += v;
    }
    result.result().await?;
    Ok(format!("rows={count} sum={sum}"))
}

async fn route(method: Method, path: &str, query: &str) -> Result<String, Error> {
    if path == "/denied" {
        return Ok(match Connection::open("mysql://user@192.0.2.1:3306/db").await {
            Ok(_) => "unexpected success".into(),
            Err(e) => error(&e),
        });
    }
    let address = spin_sdk::variables::get("mysql_address").await.map_err(|e| Error::Decode(format!("{e:?}")))?;
    let db = Connection::open(address).await?;
    let insert = || format!("INSERT INTO things ({COLUMNS}) VALUES ({})", vec!["?"; 14].join(", "));
    Ok(match (method, path) {
        (Method::GET, "/setup") => {
            db.execute("DROP TABLE IF EXISTS things", vec![]).await?;
            db.execute(CREATE, vec![]).await?;
            "ready".into()
        }
        (Method::POST, "/things") => {
            db.execute(insert(), params()).await?;
            "inserted".into()
        }
        (Method::POST, "/nulls") => {
            db.execute(insert(), vec![ParameterValue::DbNull; 14]).await?;
            "inserted".into()
        }
        (Method::GET, "/things") => rows(&db, &format!("SELECT id, {COLUMNS}, day FROM things ORDER BY id"), vec![]).await?.join("\n"),
        (Method::GET, "/stream") => stream(&db, query.strip_prefix("n=").and_then(|n| n.parse().ok()).unwrap_or(10)).await?,
        (Method::GET, "/bad") => match db.query("SELEKT 1", vec![]).await {
            Ok(_) => "unexpected success".into(),
            Err(e) => error(&e),
        },
        (Method::GET, "/leave-open") => {
            db.execute("START TRANSACTION", vec![]).await?;
            db.execute("INSERT INTO things (t) VALUES ('left-open')", vec![]).await?;
            db.execute("SET @leaky = 'leaky'", vec![]).await?;
            "left open".into()
        }
        (Method::GET, "/left-over") => {
            let seen = rows(&db, "SELECT count(*) AS n FROM things WHERE t = 'left-open'", vec![]).await?;
            let var = rows(&db, "SELECT coalesce(@leaky, 'unset') AS leaky", vec![]).await?;
            format!("{} {}", seen.join(""), var.join(""))
        }
        _ => "no such route".into(),
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
