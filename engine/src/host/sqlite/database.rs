//! One SQLite database a guest can open, and `execute` on it with values that
//! do not depend on which interface version the guest imports.

use rusqlite::types::ValueRef;

use super::connection::SharedConnection;

/// A SQLite value as guests see it.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    /// INTEGER.
    Integer(i64),
    /// REAL.
    Real(f64),
    /// TEXT.
    Text(String),
    /// BLOB.
    Blob(Vec<u8>),
    /// NULL.
    Null,
}

/// What a statement returned.
#[derive(Debug, Default, PartialEq)]
pub struct QueryOutput {
    /// Column names, in order.
    pub columns: Vec<String>,
    /// One list of values per row.
    pub rows: Vec<Vec<SqlValue>>,
}

/// Why `execute` failed, as guests' error variants distinguish it.
#[derive(Debug)]
pub enum ExecuteError {
    /// `SQLITE_FULL`.
    DatabaseFull,
    /// Any other error, described.
    Io(String),
}

/// A database labelled in the app (`default`, or `[sqlite_database.<label>]`).
pub struct SqliteDatabase {
    conn: SharedConnection,
}

impl SqliteDatabase {
    /// Wraps an open connection.
    pub fn new(conn: SharedConnection) -> Self {
        Self { conn }
    }

    /// Where the data lives, for start-up messages.
    pub fn describe(&self) -> String {
        self.conn.describe()
    }

    /// Runs the first statement in `statement` with `params` bound, returning its rows.
    pub async fn execute(&self, statement: String, params: Vec<SqlValue>) -> Result<QueryOutput, ExecuteError> {
        self.conn.run(move |c| run_statement(c, &statement, &params)).await.map_err(|e| match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DiskFull) => ExecuteError::DatabaseFull,
            _ => ExecuteError::Io(e.to_string()),
        })
    }
}

fn run_statement(c: &rusqlite::Connection, statement: &str, params: &[SqlValue]) -> rusqlite::Result<QueryOutput> {
    let mut stmt = c.prepare_cached(statement)?;
    let columns: Vec<String> = stmt.column_names().into_iter().map(String::from).collect();
    let bound = rusqlite::params_from_iter(params.iter().map(to_sql));
    let rows = stmt
        .query_map(bound, |row| (0..columns.len()).map(|i| row.get_ref(i).map(from_sql)).collect())?
        .collect::<rusqlite::Result<Vec<Vec<SqlValue>>>>()?;
    Ok(QueryOutput { columns, rows })
}

fn to_sql(v: &SqlValue) -> rusqlite::types::Value {
    use rusqlite::types::Value;
    match v {
        SqlValue::Integer(i) => Value::Integer(*i),
        SqlValue::Real(f) => Value::Real(*f),
        SqlValue::Text(s) => Value::Text(s.clone()),
        SqlValue::Blob(b) => Value::Blob(b.clone()),
        SqlValue::Null => Value::Null,
    }
}

fn from_sql(v: ValueRef<'_>) -> SqlValue {
    match v {
        ValueRef::Integer(i) => SqlValue::Integer(i),
        ValueRef::Real(f) => SqlValue::Real(f),
        ValueRef::Text(t) => SqlValue::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => SqlValue::Blob(b.to_vec()),
        ValueRef::Null => SqlValue::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn values_round_trip_and_errors_are_described() {
        let db = SqliteDatabase::new(SharedConnection::open(None).unwrap());
        let create = "CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n)";
        assert_eq!(db.execute(create.into(), vec![]).await.unwrap(), QueryOutput::default());
        let row = vec![
            SqlValue::Integer(-7),
            SqlValue::Real(2.5),
            SqlValue::Text("é".into()),
            SqlValue::Blob(vec![0, 1]),
            SqlValue::Null,
        ];
        db.execute("INSERT INTO t VALUES (?, ?, ?, ?, ?)".into(), row.clone()).await.unwrap();
        let out = db.execute("SELECT * FROM t".into(), vec![]).await.unwrap();
        assert_eq!(out.columns, ["i", "r", "s", "b", "n"]);
        assert_eq!(out.rows, vec![row]);
        let Err(ExecuteError::Io(e)) = db.execute("SELEKT".into(), vec![]).await else { panic!() };
        assert!(e.contains("SELEKT"), "{e}");
    }
}
