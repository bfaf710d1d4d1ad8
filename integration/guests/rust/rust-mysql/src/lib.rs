//! Outbound MySQL through `spin_sdk::mysql` (Spin 2's `fermyon:spin/mysql@2.0.0`,
//! sync). The server's address is the variable `mysql_address`; the component
//! may reach `mysql://127.0.0.1:*` only. Values are printed as
//! `<column>:<type>=<value>` separated by ` | `; errors as `<case>:<message>`.
//!
//! * `GET /setup`: (re)creates table `notes`; 200 `ready`.
//! * `POST /notes`: inserts a row of bound parameters; 200 `inserted`.
//! * `GET /notes`: every row by id, one line each.
//! * `GET /bad`: 200 the error of a malformed statement.
//! * `GET /denied`: 200 the error of opening a host the component may not reach.

use spin_sdk::http::{IntoResponse, Method, Request, Response};
use spin_sdk::http_component;
use spin_sdk::mysql::{Connection, DbDataType, DbValue, MysqlError, ParameterValue};

fn text(status: u16, body: impl Into<String>) -> Response {
    Response::builder().status(status).header("content-type", "text/plain").body(body.into()).build()
}

fn error(e: &MysqlError) -> String {
    match e {
        MysqlError::ConnectionFailed(m) => format!("connection-failed:{m}"),
        MysqlError::BadParameter(m) => format!("bad-parameter:{m}"),
        MysqlError::QueryFailed(m) => format!("query-failed:{m}"),
        MysqlError::ValueConversionFailed(m) => format!("value-conversion-failed:{m}"),
        MysqlError::Other(m) => format!("other:{m}"),
    }
}

fn value(v: &DbValue) -> String {
    match v {
        DbValue::Int32(n) => format!("int32({n})"),
        DbValue::Uint64(n) => format!("uint64({n})"),
        DbValue::Str(s) => format!("str({s})"),
        DbValue::Binary(b) => format!("binary({})", b.iter().map(|x| format!("{x:02x}")).collect::<String>()),
        DbValue::DbNull => "db-null".into(),
        DbValue::Unsupported => "unsupported".into(),
        other => format!("{other:?}"),
    }
}

fn type_name(t: DbDataType) -> &'static str {
    match t {
        DbDataType::Int32 => "int32",
        DbDataType::Uint64 => "uint64",
        DbDataType::Str => "str",
        DbDataType::Binary => "binary",
        DbDataType::Other => "other",
        _ => "?",
    }
}

fn route(method: &Method, path: &str) -> Result<String, MysqlError> {
    if path == "/denied" {
        return Ok(match Connection::open("mysql://user@192.0.2.1:3306/db") {
            Ok(_) => "unexpected success".into(),
            Err(e) => error(&e),
        });
    }
    let address = spin_sdk::variables::get("mysql_address").map_err(|e| MysqlError::Other(format!("{e:?}")))?;
    let db = Connection::open(&address)?;
    Ok(match (method, path) {
        (Method::Get, "/setup") => {
            db.execute("DROP TABLE IF EXISTS notes", &[])?;
            db.execute(
                "CREATE TABLE notes (id INT PRIMARY KEY AUTO_INCREMENT, body TEXT, big BIGINT UNSIGNED, \
                 raw VARBINARY(4), day DATE DEFAULT '1999-12-31')",
                &[],
            )?;
            "ready".into()
        }
        (Method::Post, "/notes") => {
            let params = [ParameterValue::Str("first".into()), ParameterValue::Uint64(1 << 40), ParameterValue::Binary(vec![1, 2])];
            db.execute("INSERT INTO notes (body, big, raw) VALUES (?, ?, ?)", &params)?;
            "inserted".into()
        }
        (Method::Get, "/notes") => {
            let rows = db.query("SELECT id, body, big, raw, day FROM notes ORDER BY id", &[])?;
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
