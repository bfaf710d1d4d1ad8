//! Outbound PostgreSQL through `spin_sdk::pg3` (`spin:postgres/postgres@3.0.0`,
//! sync). The server's address is the variable `pg_address`; the component may
//! reach `postgres://127.0.0.1:*` only. Values are printed with 3.0's case
//! names, e.g. `int32(-7)`; errors as `<case>:<message>`.
//!
//! * `GET /setup`: (re)creates table `notes`; 200 `ready`.
//! * `POST /notes`: inserts a row of bound parameters; 200 `inserted=<rows>`.
//! * `GET /notes`: every row by id, one line each: `<column>:<type>=<value>`
//!   separated by ` | `.
//! * `GET /bad`: 200 the error of a malformed statement.
//! * `GET /denied`: 200 the error of opening a host the component may not reach.
//! * `GET /v2/notes`: the rows through Spin 2's `spin_sdk::pg`
//!   (`fermyon:spin/postgres@2.0.0`), printed the same way.
//! * `GET /v2/unsigned`: 200 the error of binding an unsigned integer (2.0 has
//!   them, PostgreSQL does not).

use spin_sdk::http::{IntoResponse, Method, Request, Response};
use spin_sdk::http_component;
use spin_sdk::pg3::{Connection, DbDataType, DbValue, ParameterValue, PgError};

fn text(status: u16, body: impl Into<String>) -> Response {
    Response::builder().status(status).header("content-type", "text/plain").body(body.into()).build()
}

fn error(e: &PgError) -> String {
    match e {
        PgError::ConnectionFailed(m) => format!("connection-failed:{m}"),
        PgError::BadParameter(m) => format!("bad-parameter:{m}"),
        PgError::QueryFailed(m) => format!("query-failed:{m}"),
        PgError::ValueConversionFailed(m) => format!("value-conversion-failed:{m}"),
        PgError::Other(m) => format!("other:{m}"),
    }
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
        DbValue::DbNull => "db-null".into(),
        DbValue::Unsupported => "unsupported".into(),
    }
}

fn type_name(t: DbDataType) -> &'static str {
    match t {
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
        DbDataType::Other => "other",
    }
}

const CREATE: &str = "CREATE TABLE notes (id serial PRIMARY KEY, body text, n int4, big int8, ok bool, \
    day date, at timestamp, u uuid)";

/// The 2.0 interface's answers, printed as 3.0's are.
mod v2 {
    use spin_sdk::pg::{Connection, DbDataType, DbValue, ParameterValue, PgError};

    fn error(e: &PgError) -> String {
        match e {
            PgError::ConnectionFailed(m) => format!("connection-failed:{m}"),
            PgError::BadParameter(m) => format!("bad-parameter:{m}"),
            PgError::QueryFailed(m) => format!("query-failed:{m}"),
            PgError::ValueConversionFailed(m) => format!("value-conversion-failed:{m}"),
            PgError::Other(m) => format!("other:{m}"),
        }
    }

    fn value(v: &DbValue) -> String {
        match v {
            DbValue::Boolean(b) => format!("boolean({b})"),
            DbValue::Int32(n) => format!("int32({n})"),
            DbValue::Int64(n) => format!("int64({n})"),
            DbValue::Str(s) => format!("str({s})"),
            DbValue::DbNull => "db-null".into(),
            DbValue::Unsupported => "unsupported".into(),
            other => format!("{other:?}"),
        }
    }

    fn type_name(t: DbDataType) -> &'static str {
        match t {
            DbDataType::Boolean => "boolean",
            DbDataType::Int32 => "int32",
            DbDataType::Int64 => "int64",
            DbDataType::Str => "str",
            DbDataType::Other => "other",
            _ => "?",
        }
    }

    pub(super) fn route(address: &str, path: &str) -> String {
        let db = match Connection::open(address) {
            Ok(db) => db,
            Err(e) => return error(&e),
        };
        let result = match path {
            "/v2/notes" => db.query("SELECT id, body, big, ok, day FROM notes ORDER BY id", &[]).map(|rows| {
                let columns: Vec<String> =
                    rows.columns.iter().map(|c| format!("{}:{}", c.name, type_name(c.data_type))).collect();
                let lines: Vec<String> = rows
                    .rows
                    .iter()
                    .map(|row| {
                        (0..columns.len()).map(|i| format!("{}={}", columns[i], value(&row[i]))).collect::<Vec<_>>().join(" | ")
                    })
                    .collect();
                lines.join("\n")
            }),
            "/v2/unsigned" => db.query("SELECT $1", &[ParameterValue::Uint32(7)]).map(|_| "unexpected success".into()),
            _ => Ok("no such route".into()),
        };
        result.unwrap_or_else(|e| error(&e))
    }
}

fn route(method: &Method, path: &str) -> Result<String, PgError> {
    if path == "/denied" {
        return Ok(match Connection::open("postgres://user@192.0.2.1:5432/db") {
            Ok(_) => "unexpected success".into(),
            Err(e) => error(&e),
        });
    }
    let address = spin_sdk::variables::get("pg_address").map_err(|e| PgError::Other(format!("{e:?}")))?;
    if path.starts_with("/v2/") {
        return Ok(v2::route(&address, path));
    }
    let db = Connection::open(&address)?;
    Ok(match (method, path) {
        (Method::Get, "/setup") => {
            db.execute("DROP TABLE IF EXISTS notes", &[])?;
            db.execute(CREATE, &[])?;
            "ready".into()
        }
        (Method::Post, "/notes") => {
            let params = [
                ParameterValue::Str("first".into()),
                ParameterValue::Int32(-7),
                ParameterValue::Int64(1 << 40),
                ParameterValue::Boolean(false),
                ParameterValue::Date((1999, 12, 31)),
                ParameterValue::Timestamp(86_400),
            ];
            let statement = "INSERT INTO notes (body, n, big, ok, day, at, u) \
                VALUES ($1, $2, $3, $4, $5, $6, '67e55044-10b1-426f-9247-bb680e5fe0c8')";
            format!("inserted={}", db.execute(statement, &params)?)
        }
        (Method::Get, "/notes") => {
            let rows = db.query("SELECT id, body, n, big, ok, day, at, u FROM notes ORDER BY id", &[])?;
            let columns: Vec<String> = rows.columns.iter().map(|c| format!("{}:{}", c.name, type_name(c.data_type))).collect();
            let lines: Vec<String> = rows
                .rows
                .iter()
                .map(|row| (0..columns.len()).map(|i| format!("{}={}", columns[i], value(&row[i]))).collect::<Vec<_>>().join(" | "))
                .collect();
            lines.join("\n")
        }
        (Method::Get, "/bad") => match db.query("SELEKT 1", &[]) {
            Ok(_) => "unexpected success".into(),
            Err(e) => error(&e),
        },
        _ => "no such route".into(),
    })
}

#[http_component]
fn handle(req: Request) -> impl IntoResponse {
    match route(req.method(), req.path()) {
        Ok(body) => text(200, body),
        Err(e) => text(500, error(&e)),
    }
}
