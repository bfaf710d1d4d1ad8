//! SQLite through spin-sdk 7 (`spin:sqlite/sqlite@3.1.0`, the async functions:
//! `open-async`, `execute-async` with its stream of rows, `changes-async`,
//! `last-insert-rowid-async`). The same routes and output as `rust-sqlite`:
//! values are printed as `int:42`, `real:2.5`, `text:abc`, `blob:0102` (hex),
//! `null`; errors as `access-denied`, `io:<message>`, ...
//!
//! * `POST /notes`: stores the body as a note; 200 `id=<rowid>` (the
//!   connection's `last-insert-rowid`).
//! * `GET /notes`: 200, one `<id>:<body>` line per note, by id.
//! * `GET /types`: 200 `<columns>|<values>` of a literal row of every type.
//! * `GET /params`: 200 the values of a row selected from bound parameters.
//! * `GET /bad`: 200 the error of a malformed statement.
//! * `GET /changes`: inserts two notes in one statement, selects, deletes them;
//!   200 `inserted=<changes>;after-select=<changes>;deleted=<changes>;rowid=<ok|..>`
//!   where `rowid` says whether `last-insert-rowid` named the second new note.
//! * `GET /open/<label>`: 200 `opened` or the error.
//!
//! `?db=<label>` picks another database than `default`.

use spin_sdk::http::body::IncomingBodyExt;
use spin_sdk::http::{IntoResponse, Method, Request, StatusCode};
use spin_sdk::http_service;
use spin_sdk::sqlite::{Connection, Error, Value};

fn value(v: &Value) -> String {
    match v {
        Value::Integer(i) => format!("int:{i}"),
        Value::Real(f) => format!("real:{f}"),
        Value::Text(s) => format!("text:{s}"),
        Value::Blob(b) => format!("blob:{}", b.iter().map(|x| format!("{x:02x}")).collect::<String>()),
        Value::Null => "null".into(),
    }
}

fn error(e: &Error) -> String {
    match e {
        Error::NoSuchDatabase => "no-such-database".into(),
        Error::AccessDenied => "access-denied".into(),
        Error::InvalidConnection => "invalid-connection".into(),
        Error::DatabaseFull => "database-full".into(),
        Error::Io(m) => format!("io:{m}"),
    }
}

/// Runs `statement` and reads its rows from the stream: the columns and rows.
async fn query(db: &Connection, statement: &str, params: Vec<Value>) -> Result<(Vec<String>, Vec<Vec<Value>>), Error> {
    let result = db.execute(statement, params).await?;
    let columns = result.columns().to_vec();
    let rows = result.collect().await?.into_iter().map(|r| r.values).collect();
    Ok((columns, rows))
}

/// `<columns>|<values of the first row>`.
async fn first_row(db: &Connection, statement: &str, params: Vec<Value>) -> Result<String, Error> {
    let (columns, rows) = query(db, statement, params).await?;
    let values: Vec<String> = rows.first().map(|r| r.iter().map(value).collect()).unwrap_or_default();
    Ok(format!("{}|{}", columns.join(","), values.join(",")))
}

const CREATE: &str = "CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)";

async fn add_note(db: &Connection, body: String) -> Result<String, Error> {
    query(db, CREATE, vec![]).await?;
    query(db, "INSERT INTO notes (body) VALUES (?)", vec![Value::Text(body)]).await?;
    Ok(format!("id={}", db.last_insert_rowid().await))
}

async fn notes(db: &Connection) -> Result<String, Error> {
    let (_, rows) = query(db, "SELECT id, body FROM notes ORDER BY id", vec![]).await?;
    let lines: Vec<String> = rows
        .iter()
        .map(|row| match (&row[0], &row[1]) {
            (Value::Integer(id), Value::Text(body)) => format!("{id}:{body}"),
            (a, b) => format!("?{}:{}", value(a), value(b)),
        })
        .collect();
    Ok(lines.join("\n"))
}

async fn changes(db: &Connection) -> Result<String, Error> {
    query(db, CREATE, vec![]).await?;
    query(db, "INSERT INTO notes (body) VALUES ('changes a'), ('changes b')", vec![]).await?;
    let inserted = db.changes().await;
    let rowid = db.last_insert_rowid().await;
    let (_, newest) = query(db, "SELECT max(id) FROM notes", vec![]).await?;
    let after_select = db.changes().await;
    let params = vec![Value::Integer(rowid - 1), Value::Integer(rowid)];
    query(db, "DELETE FROM notes WHERE id IN (?, ?)", params).await?;
    let deleted = db.changes().await;
    let rowid_ok = if newest[0][0] == Value::Integer(rowid) { "ok".to_string() } else { format!("{rowid}") };
    Ok(format!("inserted={inserted};after-select={after_select};deleted={deleted};rowid={rowid_ok}"))
}

#[http_service]
async fn handle(req: Request) -> impl IntoResponse {
    let path = req.uri().path().to_string();
    if let Some(label) = path.strip_prefix("/open/") {
        return match Connection::open(label).await {
            Ok(_) => (StatusCode::OK, "opened".to_string()),
            Err(e) => (StatusCode::OK, error(&e)),
        };
    }
    let query_string = req.uri().query().unwrap_or("");
    let label = query_string.strip_prefix("db=").unwrap_or("default").to_string();
    let db = match Connection::open(&label).await {
        Ok(db) => db,
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, format!("open {label}: {}", error(&e))),
    };
    let method = req.method().clone();
    let result = match (method, path.as_str()) {
        (Method::POST, "/notes") => {
            let body = match req.into_body().bytes().await {
                Ok(b) => String::from_utf8_lossy(&b).into_owned(),
                Err(e) => return (StatusCode::BAD_REQUEST, format!("body: {e:?}")),
            };
            add_note(&db, body).await
        }
        (Method::GET, "/notes") => notes(&db).await,
        (Method::GET, "/types") => first_row(&db, "SELECT 42 AS i, 2.5 AS r, 'abc' AS t, x'0102' AS b, NULL AS n", vec![]).await,
        (Method::GET, "/params") => {
            let params =
                vec![Value::Integer(-1), Value::Real(0.5), Value::Text("é".into()), Value::Blob(vec![255]), Value::Null];
            first_row(&db, "SELECT ? AS a, ? AS b, ? AS c, ? AS d, ? AS e", params).await
        }
        (Method::GET, "/bad") => Ok(match query(&db, "SELEKT 1", vec![]).await {
            Ok(_) => "unexpected success".to_string(),
            Err(e) => error(&e),
        }),
        (Method::GET, "/changes") => changes(&db).await,
        _ => return (StatusCode::NOT_FOUND, "no such route".to_string()),
    };
    match result {
        Ok(body) => (StatusCode::OK, body),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, error(&e)),
    }
}
