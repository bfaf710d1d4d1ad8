//! SQLite through `spin_sdk::sqlite` (`fermyon:spin/sqlite@2.0.0`). Values are
//! printed as `int:42`, `real:2.5`, `text:abc`, `blob:0102` (hex), `null`;
//! errors as `access-denied`, `io:<message>`, ...
//!
//! * `POST /notes`: stores the body as a note; 200 `id=<rowid>`.
//! * `GET /notes`: 200, one `<id>:<body>` line per note, by id.
//! * `GET /types`: 200 `<columns>|<values>` of a literal row of every type.
//! * `GET /params`: 200 the values of a row selected from bound parameters.
//! * `GET /bad`: 200 the error of a malformed statement.
//! * `GET /open/<label>`: 200 `opened` or the error.
//!
//! `?db=<label>` picks another database than `default`.
use spin_sdk::http::{IntoResponse, Method, Request, Response};
use spin_sdk::http_component;
use spin_sdk::sqlite::{Connection, Error, QueryResult, Value};

fn text(status: u16, body: impl Into<String>) -> Response {
    Response::builder().status(status).header("content-type", "text/plain").body(body.into()).build()
}

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

fn row(result: &QueryResult) -> String {
    let values: Vec<String> = result.rows.first().map(|r| r.values.iter().map(value).collect()).unwrap_or_default();
    format!("{}|{}", result.columns.join(","), values.join(","))
}

#[http_component]
fn handle(req: Request) -> anyhow::Result<impl IntoResponse> {
    let path = req.path().to_string();
    if let Some(label) = path.strip_prefix("/open/") {
        return Ok(match Connection::open(label) {
            Ok(_) => text(200, "opened"),
            Err(e) => text(200, error(&e)),
        });
    }
    let label = req.query().strip_prefix("db=").unwrap_or("default").to_string();
    let db = match Connection::open(&label) {
        Ok(db) => db,
        Err(e) => return Ok(text(500, format!("open {label}: {}", error(&e)))),
    };
    let result = match (req.method(), path.as_str()) {
        (Method::Post, "/notes") => {
            let body = String::from_utf8_lossy(req.body()).into_owned();
            db.execute("CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)", &[])
                .and_then(|_| db.execute("INSERT INTO notes (body) VALUES (?)", &[Value::Text(body)]))
                .and_then(|_| db.execute("SELECT last_insert_rowid()", &[]))
                .map(|r| text(200, format!("id={}", value(&r.rows[0].values[0]).trim_start_matches("int:"))))
        }
        (Method::Get, "/notes") => db.execute("SELECT id, body FROM notes ORDER BY id", &[]).map(|r| {
            let lines: Vec<String> = r
                .rows
                .iter()
                .map(|row| match (&row.values[0], &row.values[1]) {
                    (Value::Integer(id), Value::Text(body)) => format!("{id}:{body}"),
                    (a, b) => format!("?{}:{}", value(a), value(b)),
                })
                .collect();
            text(200, lines.join("\n"))
        }),
        (Method::Get, "/types") => db
            .execute("SELECT 42 AS i, 2.5 AS r, 'abc' AS t, x'0102' AS b, NULL AS n", &[])
            .map(|r| text(200, row(&r))),
        (Method::Get, "/params") => {
            let params =
                [Value::Integer(-1), Value::Real(0.5), Value::Text("é".into()), Value::Blob(vec![255]), Value::Null];
            db.execute("SELECT ? AS a, ? AS b, ? AS c, ? AS d, ? AS e", &params).map(|r| text(200, row(&r)))
        }
        (Method::Get, "/bad") => Ok(match db.execute("SELEKT 1", &[]) {
            Ok(r) => text(200, format!("unexpected {}", row(&r))),
            Err(e) => text(200, error(&e)),
        }),
        _ => return Ok(text(404, "no such route")),
    };
    Ok(result.unwrap_or_else(|e| text(500, error(&e))))
}
