//! One SQLite database a guest can open, and `execute` on it with values that
//! do not depend on which interface version the guest imports.

use rusqlite::types::ValueRef;
use rusqlite::ErrorCode;

use super::connection::SharedConnection;
use super::guard::{self, Deadline, Denials, SqlLimits};

/// A SQLite value as guests see it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SqlValue {
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
pub(crate) struct QueryOutput {
    /// Column names, in order.
    pub columns: Vec<String>,
    /// One list of values per row.
    pub rows: Vec<Vec<SqlValue>>,
    /// What the statement changed, for `changes` and `last-insert-rowid`.
    pub effects: Effects,
}

/// What one statement changed, read while it still held the shared connection
/// (so another instance's statement cannot interleave).
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub(crate) struct Effects {
    /// Rows the statement inserted, updated or deleted; `None` for a read-only
    /// statement, which leaves a connection's count as it was (as in SQLite).
    /// A statement that writes nothing (DDL, an UPDATE matching no row) is 0.
    pub changes: Option<u64>,
    /// The rowid of the row the statement inserted, if it inserted one.
    pub inserted_rowid: Option<i64>,
}

/// Why `execute` failed, as guests' error variants distinguish it.
#[derive(Debug)]
pub(crate) enum ExecuteError {
    /// `SQLITE_FULL`.
    DatabaseFull,
    /// Any other error, described.
    Io(String),
}

/// A database labelled in the app (`default`, or `[sqlite_database.<label>]`).
pub(crate) struct SqliteDatabase {
    conn: SharedConnection,
    limits: SqlLimits,
    denials: Denials,
}

impl crate::host::labelled::DataPlace for SqliteDatabase {
    fn describe(&self) -> String {
        self.conn.describe()
    }
}

impl SqliteDatabase {
    /// Puts an open connection under the guest rules (`guard.rs`) with the default limits.
    pub(crate) fn new(conn: SharedConnection) -> anyhow::Result<Self> {
        Self::with_limits(conn, SqlLimits::default())
    }

    /// Puts an open connection under the guest rules with `limits`.
    pub(crate) fn with_limits(conn: SharedConnection, limits: SqlLimits) -> anyhow::Result<Self> {
        let denials = conn
            .run_now(|c| guard::install(c, &limits))
            .map_err(|e| anyhow::anyhow!("cannot restrict the database {} for guests: {e}", conn.describe()))?;
        Ok(Self { conn, limits, denials })
    }

    /// Runs every statement of `sql` now, under the same rules as a guest's
    /// (start-up migrations).
    pub(crate) fn run_batch(&self, sql: &str) -> rusqlite::Result<()> {
        self.conn.run_now(|c| c.execute_batch(sql))
    }

    /// Runs the first statement in `statement` with `params` bound, returning its rows.
    /// Refusals, runaway statements and oversize results are the guest's `io` error.
    pub(crate) async fn execute(&self, statement: String, params: Vec<SqlValue>) -> Result<QueryOutput, ExecuteError> {
        let (limits, denials) = (self.limits, self.denials.clone());
        let outcome = self
            .conn
            .run(move |c| {
                denials.take();
                run_statement(c, &statement, &params, &limits)
            })
            .await;
        outcome.map_err(|e| match e.sqlite_error_code() {
            Some(ErrorCode::DiskFull) => ExecuteError::DatabaseFull,
            Some(ErrorCode::AuthorizationForStatementDenied) => match self.denials.take() {
                Some(reason) => ExecuteError::Io(format!("not authorized: {reason}")),
                None => ExecuteError::Io(e.to_string()),
            },
            Some(ErrorCode::OperationInterrupted) => ExecuteError::Io(format!(
                "the statement ran longer than {:?} and was stopped",
                self.limits.statement_timeout
            )),
            Some(ErrorCode::TooBig) => ExecuteError::Io(too_big(self.limits.max_result_bytes)),
            _ => ExecuteError::Io(e.to_string()),
        })
    }
}

fn too_big(max: usize) -> String {
    format!("the result is larger than the {max}-byte limit on one statement's result; select fewer rows or columns")
}

fn run_statement(
    c: &rusqlite::Connection,
    statement: &str,
    params: &[SqlValue],
    limits: &SqlLimits,
) -> rusqlite::Result<QueryOutput> {
    let _deadline = Deadline::arm(c, limits.statement_timeout);
    let mut stmt = c.prepare_cached(statement)?;
    let (changes_before, rowid_before) = (c.total_changes(), c.last_insert_rowid());
    let columns: Vec<String> = stmt.column_names().into_iter().map(String::from).collect();
    let mut size = columns.iter().map(|c| c.len()).sum::<usize>();
    let bound = rusqlite::params_from_iter(params.iter().map(to_sql));
    let mut query = stmt.query(bound)?;
    let mut rows = Vec::new();
    while let Some(row) = query.next()? {
        let mut values = Vec::with_capacity(columns.len());
        for i in 0..columns.len() {
            let value = row.get_ref(i)?;
            size = size.saturating_add(value_size(value));
            if size > limits.max_result_bytes {
                let toobig = rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_TOOBIG);
                return Err(rusqlite::Error::SqliteFailure(toobig, Some(too_big(limits.max_result_bytes))));
            }
            values.push(from_sql(value));
        }
        rows.push(values);
    }
    drop(query);
    let effects = Effects {
        changes: match (stmt.readonly(), c.total_changes() != changes_before) {
            (true, _) => None,
            (false, true) => Some(c.changes()),
            (false, false) => Some(0),
        },
        inserted_rowid: Some(c.last_insert_rowid()).filter(|r| *r != rowid_before),
    };
    Ok(QueryOutput { columns, rows, effects })
}

/// The bytes a value takes in the result: its slot, plus its text or blob.
fn value_size(v: ValueRef<'_>) -> usize {
    let payload = match v {
        ValueRef::Text(b) | ValueRef::Blob(b) => b.len(),
        ValueRef::Integer(_) | ValueRef::Real(_) | ValueRef::Null => 0,
    };
    std::mem::size_of::<SqlValue>() + payload
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
        let db = SqliteDatabase::new(SharedConnection::open(None).unwrap()).unwrap();
        let create = "CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n)";
        let created = db.execute(create.into(), vec![]).await.unwrap();
        assert!(created.columns.is_empty() && created.rows.is_empty());
        let row = vec![
            SqlValue::Integer(-7),
            SqlValue::Real(2.5),
            SqlValue::Text("é".into()),
            SqlValue::Blob(vec![0, 1]),
            SqlValue::Null,
        ];
        db.execute("INSERT INTO t VALUES (?, ?, ?, ?, ?)".into(), row.clone()).await.unwrap();
        let out = db.execute("SELECT * FROM t".into(), vec![]).await.unwrap();
        assert_eq!(out.effects, Effects::default(), "a SELECT changes nothing");
        assert_eq!(out.columns, ["i", "r", "s", "b", "n"]);
        assert_eq!(out.rows, vec![row]);
        let Err(ExecuteError::Io(e)) = db.execute("SELEKT".into(), vec![]).await else { panic!() };
        assert!(e.contains("SELEKT"), "{e}");
    }

    #[tokio::test]
    async fn effects_count_the_statement_own_changes_and_insert() {
        let db = SqliteDatabase::new(SharedConnection::open(None).unwrap()).unwrap();
        let run = |sql: &str| db.execute(sql.into(), vec![]);
        let created = run("CREATE TABLE t (x INTEGER)").await.unwrap().effects;
        assert_eq!(created, Effects { changes: Some(0), inserted_rowid: None });
        let one = run("INSERT INTO t VALUES (1)").await.unwrap().effects;
        assert_eq!(one, Effects { changes: Some(1), inserted_rowid: Some(1) });
        let two = run("INSERT INTO t VALUES (2), (3)").await.unwrap().effects;
        assert_eq!(two, Effects { changes: Some(2), inserted_rowid: Some(3) });
        let updated = run("UPDATE t SET x = x + 1 WHERE x > 1").await.unwrap().effects;
        assert_eq!(updated, Effects { changes: Some(2), inserted_rowid: None });
        let none = run("DELETE FROM t WHERE x > 100").await.unwrap().effects;
        assert_eq!(none, Effects { changes: Some(0), inserted_rowid: None });
        assert_eq!(run("SELECT * FROM t").await.unwrap().effects, Effects::default());
    }

    fn io_error(r: Result<QueryOutput, ExecuteError>) -> String {
        match r {
            Err(ExecuteError::Io(m)) => m,
            other => panic!("expected an io error, got {other:?}"),
        }
    }

    fn database_in(dir: &std::path::Path, limits: SqlLimits) -> SqliteDatabase {
        SqliteDatabase::with_limits(SharedConnection::open(Some(&dir.join("db.sqlite"))).unwrap(), limits).unwrap()
    }

    #[tokio::test]
    async fn attach_of_a_file_is_refused_and_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let db = database_in(dir.path(), SqlLimits::default());
        let target = dir.path().join("elsewhere.db");
        let sql = format!("ATTACH DATABASE '{}' AS other", target.display());
        let e = io_error(db.execute(sql, vec![]).await);
        assert!(e.starts_with("not authorized"), "{e}");
        // A filename bound as a parameter reaches the authorizer without its text.
        let bound = vec![SqlValue::Text(target.display().to_string())];
        let e = io_error(db.execute("ATTACH ?1 AS other".into(), bound).await);
        assert!(e.starts_with("not authorized"), "{e}");
        assert!(io_error(db.execute("DETACH DATABASE main".into(), vec![]).await).starts_with("not authorized"));
        assert!(!target.exists());
    }

    #[tokio::test]
    async fn vacuum_into_is_refused_before_the_file_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let db = database_in(dir.path(), SqlLimits::default());
        db.execute("CREATE TABLE t (x)".into(), vec![]).await.unwrap();
        let target = dir.path().join("copy.db");
        let e = io_error(db.execute(format!("VACUUM INTO '{}'", target.display()), vec![]).await);
        assert!(e.starts_with("not authorized"), "{e}");
        assert!(!target.exists());
    }

    #[tokio::test]
    async fn pragmas_outside_the_read_only_list_are_refused() {
        let db = SqliteDatabase::new(SharedConnection::open(None).unwrap()).unwrap();
        db.execute("CREATE TABLE t (x INTEGER)".into(), vec![]).await.unwrap();
        for pragma in ["PRAGMA journal_mode=OFF", "PRAGMA writable_schema=ON", "PRAGMA main.synchronous = 0"] {
            let e = io_error(db.execute(pragma.into(), vec![]).await);
            assert!(e.starts_with("not authorized") && e.contains("PRAGMA"), "{pragma}: {e}");
        }
        assert!(io_error(db.execute("SELECT load_extension('x')".into(), vec![]).await).starts_with("not authorized"));
        let info = db.execute("PRAGMA table_info(t)".into(), vec![]).await.unwrap();
        assert_eq!(info.rows.len(), 1);
        let version = db.execute("PRAGMA user_version".into(), vec![]).await.unwrap();
        assert_eq!(version.rows, vec![vec![SqlValue::Integer(0)]]);
    }

    #[tokio::test]
    async fn a_runaway_statement_is_stopped_and_the_database_stays_usable() {
        let limits = SqlLimits { statement_timeout: std::time::Duration::from_millis(200), ..SqlLimits::default() };
        let db = SqliteDatabase::with_limits(SharedConnection::open(None).unwrap(), limits).unwrap();
        let busy = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c";
        let started = std::time::Instant::now();
        let e = io_error(db.execute(busy.into(), vec![]).await);
        assert!(e.contains("ran longer than 200ms"), "{e}");
        assert!(started.elapsed() < std::time::Duration::from_secs(5), "{:?}", started.elapsed());
        let one = db.execute("SELECT 1".into(), vec![]).await.unwrap();
        assert_eq!(one.rows, vec![vec![SqlValue::Integer(1)]]);
    }

    #[tokio::test]
    async fn an_oversize_result_is_an_error() {
        let limits = SqlLimits { max_result_bytes: 64 << 10, ..SqlLimits::default() };
        let db = SqliteDatabase::with_limits(SharedConnection::open(None).unwrap(), limits).unwrap();
        // Many small rows add up...
        let rows = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 100000) SELECT x FROM c";
        let e = io_error(db.execute(rows.into(), vec![]).await);
        assert!(e.contains("larger than the 65536-byte limit"), "{e}");
        // ...and one value alone may not exceed the limit either.
        let e = io_error(db.execute("SELECT zeroblob(1000000)".into(), vec![]).await);
        assert!(e.contains("65536-byte limit"), "{e}");
        let small = db.execute("SELECT x FROM (SELECT 1 AS x UNION ALL SELECT 2)".into(), vec![]).await.unwrap();
        assert_eq!(small.rows.len(), 2);
    }
}
