//! SQLite (the bundled library): `BEGIN IMMEDIATE` for each migration, the
//! busy timeout as lock timeout, and a lock file so that two runners on one
//! database file never overlap.

use std::fs::{File, OpenOptions};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteArguments, SqliteConnectOptions, SqliteConnection};
use sqlx::{AssertSqlSafe, ConnectOptions, Executor, Row};

use super::{Backend, DbError, DbResult, DbUrl, ErrorKind, HISTORY_TABLE, Param};
use crate::dialect::Dialect;

pub struct SqliteBackend {
    conn: SqliteConnection,
    url: DbUrl,
    /// `<database file>.straddle-lock`; `None` for in-memory databases.
    lock_path: Option<PathBuf>,
    lock: Option<File>,
}

pub(crate) fn map_error(url: &DbUrl, e: sqlx::Error) -> DbError {
    let sqlx::Error::Database(db) = &e else {
        return super::driver_error(url, &e);
    };
    let code = db.code().map(|c| c.to_string()).unwrap_or_default();
    let message = db.message().to_string();
    let lower = message.to_ascii_lowercase();
    let kind = if code == "5" || code == "6" || lower.contains("database is locked") {
        ErrorKind::LockTimeout
    } else if lower.contains("already exists") || lower.contains("duplicate column name") {
        ErrorKind::AlreadyExists
    } else if lower.starts_with("no such ") {
        ErrorKind::DoesNotExist
    } else if lower.contains("within a transaction") || lower.contains("inside a transaction") {
        ErrorKind::NeedsNoTransaction
    } else {
        ErrorKind::Other
    };
    DbError::new(kind, url.mask(&format!("{message} (SQLite code {code})")))
}

impl SqliteBackend {
    /// Connects; `create` makes a missing database file.
    pub async fn connect(url: &DbUrl, create: bool) -> DbResult<Self> {
        let options = SqliteConnectOptions::from_str(url.expose())
            .map_err(|e| DbError::new(ErrorKind::Connection, url.mask(&e.to_string())))?
            .create_if_missing(create);
        let conn = options
            .connect()
            .await
            .map_err(|e| super::connect_failed(map_error(url, e)))?;
        let lock_path = url.sqlite_path().map(|p| {
            let mut name = p.file_name().unwrap_or_default().to_os_string();
            name.push(".straddle-lock");
            p.with_file_name(name)
        });
        Ok(SqliteBackend {
            conn,
            url: url.clone(),
            lock_path,
            lock: None,
        })
    }

    fn err(&self, e: sqlx::Error) -> DbError {
        map_error(&self.url, e)
    }
}

/// The tools' history tables; straddle's own tables (`straddle_…`) are left
/// out by name pattern as well.
const SKIP: &str = "('_sqlx_migrations', '__diesel_schema_migrations')";

impl Backend for SqliteBackend {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn transactional_ddl(&self) -> bool {
        true
    }

    async fn try_lock(&mut self) -> DbResult<bool> {
        let Some(path) = &self.lock_path else {
            return Ok(true);
        };
        if self.lock.is_some() {
            return Ok(true);
        }
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
            .map_err(|e| {
                DbError::new(
                    ErrorKind::Connection,
                    format!("cannot open the lock file {}: {e}", path.display()),
                )
            })?;
        match file.try_lock() {
            Ok(()) => {
                self.lock = Some(file);
                Ok(true)
            }
            Err(std::fs::TryLockError::WouldBlock) => Ok(false),
            Err(std::fs::TryLockError::Error(e)) => Err(DbError::new(
                ErrorKind::Connection,
                format!("cannot lock {}: {e}", path.display()),
            )),
        }
    }

    async fn unlock(&mut self) -> DbResult<()> {
        // Closing the file releases the lock; the (empty) file stays so that
        // a waiting runner never locks a file that was just unlinked.
        self.lock = None;
        Ok(())
    }

    async fn set_timeouts(&mut self, lock: Duration, _statement: Duration) -> DbResult<()> {
        // SQLite has no statement timeout; the busy timeout bounds how long
        // a statement waits for another connection's lock.
        let ms = if lock.is_zero() { 0 } else { lock.as_millis() };
        self.execute(&format!("PRAGMA busy_timeout = {ms}")).await
    }

    async fn begin(&mut self) -> DbResult<()> {
        self.execute("BEGIN IMMEDIATE").await
    }

    async fn execute(&mut self, sql: &str) -> DbResult<()> {
        match self.conn.execute(AssertSqlSafe(sql)).await {
            Ok(_) => Ok(()),
            Err(e) => Err(self.err(e)),
        }
    }

    async fn execute_with(&mut self, sql: &str, params: &[Param]) -> DbResult<u64> {
        let args: SqliteArguments = super::bind(params)?;
        let done = sqlx::query_with(AssertSqlSafe(sql), args)
            .execute(&mut self.conn)
            .await
            .map_err(|e| self.err(e))?;
        Ok(done.rows_affected())
    }

    async fn query_texts(
        &mut self,
        sql: &str,
        params: &[Param],
    ) -> DbResult<Vec<Vec<Option<String>>>> {
        let args: SqliteArguments = super::bind(params)?;
        let rows = sqlx::query_with(AssertSqlSafe(sql), args)
            .fetch_all(&mut self.conn)
            .await
            .map_err(|e| self.err(e))?;
        // Untyped expressions (`count(*)`) come back as integers.
        super::rows_as_texts(rows, |row, i| {
            row.try_get::<Option<String>, _>(i).or_else(|_| {
                let n: Option<i64> = row.try_get(i)?;
                Ok(n.map(|n| n.to_string()))
            })
        })
        .map_err(|e| self.err(e))
    }

    async fn table_exists(&mut self, name: &str) -> DbResult<bool> {
        let rows = self
            .query_texts(
                "SELECT CAST(count(*) AS TEXT) FROM sqlite_schema WHERE type = 'table' AND name = ?",
                &[name.into()],
            )
            .await?;
        Ok(rows
            .first()
            .and_then(|r| r.first().cloned().flatten())
            .is_some_and(|n| n != "0"))
    }

    fn history_ddl(&self) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {HISTORY_TABLE} (
    version TEXT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL,
    phase TEXT NOT NULL,
    pair TEXT,
    checksum TEXT NOT NULL,
    up_sql TEXT,
    down_sql TEXT,
    no_transaction INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL,
    statements_total INTEGER NOT NULL,
    statements_done INTEGER NOT NULL,
    applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')),
    duration_ms INTEGER NOT NULL DEFAULT 0,
    applied_by TEXT NOT NULL
)"
        )
    }

    fn as_text(&self, column: &str) -> String {
        format!("CAST({column} AS TEXT)")
    }

    async fn snapshot(&mut self) -> DbResult<String> {
        let sql = format!(
            "SELECT type, name, tbl_name, sql FROM sqlite_schema \
             WHERE name NOT LIKE 'sqlite_%' AND tbl_name NOT IN {SKIP} AND tbl_name NOT LIKE 'straddle!_%' ESCAPE '!'"
        );
        let mut lines = Vec::new();
        for row in self.query_texts(&sql, &[]).await? {
            let cell = |i: usize| row.get(i).cloned().flatten().unwrap_or_default();
            let text = cell(3).split_whitespace().collect::<Vec<_>>().join(" ");
            lines.push(format!("{} {} on {}: {text}", cell(0), cell(1), cell(2)));
        }
        lines.sort();
        let mut out = lines.join("\n");
        out.push('\n');
        Ok(out)
    }

    async fn server_version(&mut self) -> DbResult<String> {
        let rows = self.query_texts("SELECT sqlite_version()", &[]).await?;
        let v = rows
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next().flatten())
            .unwrap_or_default();
        Ok(format!("SQLite {v}"))
    }
}
