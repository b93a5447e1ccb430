//! Databases, over sqlx: one small [`Backend`] trait with PostgreSQL, MySQL /
//! MariaDB and SQLite implementations. A backend connects, takes the runner
//! lock, sets timeouts, executes statements exactly as written, keeps the
//! history table `straddle_migrations`, and takes a schema snapshot as
//! normalised text. Knows nothing of lint rules or of printing.

mod mysql;
mod postgres;
pub mod scratch;
mod sqlite;
mod url;

use std::fmt;
use std::time::Duration;

pub use mysql::MysqlBackend;
pub use postgres::PostgresBackend;
pub use sqlite::SqliteBackend;
pub use url::DbUrl;

use crate::dialect::Dialect;

/// The history table straddle keeps in every database it migrates.
pub const HISTORY_TABLE: &str = "straddle_migrations";

/// History tables of straddle and of the tools it adopts from. These, and
/// every other table whose name starts with `straddle_` (rollout state,
/// heartbeats), are never part of a schema snapshot.
pub const BOOKKEEPING_TABLES: [&str; 3] = [
    HISTORY_TABLE,
    "_sqlx_migrations",
    "__diesel_schema_migrations",
];

/// What kind of failure a database error is; the runner decides on retries
/// and on resuming from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The statement waited longer than the lock timeout (retried).
    LockTimeout,
    /// The statement ran longer than the statement timeout.
    StatementTimeout,
    /// The statement cannot run inside a transaction block.
    NeedsNoTransaction,
    /// The object a statement creates already exists.
    AlreadyExists,
    /// The object a statement drops or alters does not exist.
    DoesNotExist,
    /// Connecting failed, or the connection broke.
    Connection,
    Other,
}

/// An error from the database, with passwords already masked.
#[derive(Clone, Debug)]
pub struct DbError {
    pub kind: ErrorKind,
    /// The database's own message (SQLSTATE or error number first when known).
    pub message: String,
    /// PostgreSQL: the 1-based character offset into the statement.
    pub position: Option<usize>,
}

impl DbError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        DbError {
            kind,
            message: message.into(),
            position: None,
        }
    }

    pub fn other(message: impl Into<String>) -> Self {
        DbError::new(ErrorKind::Other, message)
    }
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DbError {}

pub type DbResult<T> = Result<T, DbError>;

/// A bind parameter of the history queries.
#[derive(Clone, Debug)]
pub enum Param {
    Text(Option<String>),
    Int(i64),
    Bool(bool),
}

impl From<&str> for Param {
    fn from(s: &str) -> Self {
        Param::Text(Some(s.to_string()))
    }
}

impl From<String> for Param {
    fn from(s: String) -> Self {
        Param::Text(Some(s))
    }
}

impl From<Option<String>> for Param {
    fn from(s: Option<String>) -> Self {
        Param::Text(s)
    }
}

impl From<i64> for Param {
    fn from(n: i64) -> Self {
        Param::Int(n)
    }
}

impl From<bool> for Param {
    fn from(b: bool) -> Self {
        Param::Bool(b)
    }
}

/// Where a migration's history row stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Fully applied.
    Applied,
    /// A statement-by-statement up stopped part way (`statements_done` of
    /// `statements_total` ran).
    Partial,
    /// A statement-by-statement down stopped part way (`statements_done`
    /// counts the down statements that ran).
    Reverting,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Applied => "applied",
            Status::Partial => "partial",
            Status::Reverting => "reverting",
        }
    }

    pub fn parse(text: &str) -> Status {
        match text {
            "partial" => Status::Partial,
            "reverting" => Status::Reverting,
            _ => Status::Applied,
        }
    }
}

/// One row of `straddle_migrations`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct HistoryRow {
    /// The version as written in the file name.
    pub version: String,
    pub name: String,
    /// `expand` or `contract`.
    pub phase: String,
    /// For a contract: the version of its expand.
    pub pair: Option<String>,
    /// SHA-384 of the up file's bytes, in lower-case hex (what sqlx stores
    /// as bytes in `_sqlx_migrations.checksum`).
    pub checksum: String,
    /// The up and down text that was applied (`None` for adopted rows whose
    /// text was never seen).
    pub up_sql: Option<String>,
    pub down_sql: Option<String>,
    pub no_transaction: bool,
    pub status: Status,
    pub statements_total: i64,
    pub statements_done: i64,
    /// UTC, RFC 3339 (`2024-01-02T03:04:05Z`).
    pub applied_at: Option<String>,
    pub duration_ms: i64,
    /// Who or what applied it: `straddle 0.1.0 by alice@build-7`.
    pub applied_by: String,
}

/// Column list of the history table, in the order [`HistoryRow`] reads it.
const HISTORY_COLUMNS: [&str; 14] = [
    "version",
    "name",
    "phase",
    "pair",
    "checksum",
    "up_sql",
    "down_sql",
    "no_transaction",
    "status",
    "statements_total",
    "statements_done",
    "applied_at",
    "duration_ms",
    "applied_by",
];

fn parse_bool(text: &str) -> bool {
    matches!(text, "1" | "t" | "true" | "TRUE" | "True")
}

fn parse_int(text: Option<&String>) -> i64 {
    text.and_then(|t| t.trim().parse().ok()).unwrap_or(0)
}

impl HistoryRow {
    fn from_texts(mut cells: Vec<Option<String>>) -> HistoryRow {
        cells.resize(HISTORY_COLUMNS.len(), None);
        let text = |i: usize| cells[i].clone().unwrap_or_default();
        HistoryRow {
            version: text(0),
            name: text(1),
            phase: text(2),
            pair: cells[3].clone(),
            checksum: text(4),
            up_sql: cells[5].clone(),
            down_sql: cells[6].clone(),
            no_transaction: parse_bool(&text(7)),
            status: Status::parse(&text(8)),
            statements_total: parse_int(cells[9].as_ref()),
            statements_done: parse_int(cells[10].as_ref()),
            applied_at: cells[11].clone(),
            duration_ms: parse_int(cells[12].as_ref()),
            applied_by: text(13),
        }
    }
}

/// One database connection that straddle migrates through.
///
/// Implementations run each statement exactly as given (PostgreSQL's simple
/// query protocol, so `CREATE INDEX CONCURRENTLY` works outside a
/// transaction) and map errors to an [`ErrorKind`].
#[allow(async_fn_in_trait)]
pub trait Backend {
    fn dialect(&self) -> Dialect;

    /// Whether DDL is transactional (PostgreSQL, SQLite), so a migration and
    /// its history row can commit or roll back together.
    fn transactional_ddl(&self) -> bool;

    /// Tries to take the runner lock without waiting; `Ok(false)` when
    /// another runner holds it.
    async fn try_lock(&mut self) -> DbResult<bool>;

    async fn unlock(&mut self) -> DbResult<()>;

    /// Session settings for the next migration. A zero duration means no
    /// limit.
    async fn set_timeouts(&mut self, lock: Duration, statement: Duration) -> DbResult<()>;

    /// Starts a transaction (SQLite: `BEGIN IMMEDIATE`, so that the write
    /// lock is taken at once).
    async fn begin(&mut self) -> DbResult<()>;

    async fn commit(&mut self) -> DbResult<()> {
        self.execute("COMMIT").await
    }

    async fn rollback(&mut self) -> DbResult<()> {
        self.execute("ROLLBACK").await
    }

    /// Executes one statement exactly as written, with no parameters.
    async fn execute(&mut self, sql: &str) -> DbResult<()>;

    /// Executes one statement with `?` placeholders bound to `params`.
    async fn execute_with(&mut self, sql: &str, params: &[Param]) -> DbResult<u64>;

    /// Runs a query whose every column the SQL already casts to text.
    async fn query_texts(
        &mut self,
        sql: &str,
        params: &[Param],
    ) -> DbResult<Vec<Vec<Option<String>>>>;

    /// Whether a table of this name exists in the current database/schema.
    async fn table_exists(&mut self, name: &str) -> DbResult<bool>;

    /// `CREATE TABLE IF NOT EXISTS straddle_migrations (…)` in this dialect.
    fn history_ddl(&self) -> String;

    /// An expression that renders column `column` as text in this dialect.
    fn as_text(&self, column: &str) -> String;

    /// The schema as sorted, normalised text lines (bookkeeping tables left
    /// out), for comparing two states of a database.
    async fn snapshot(&mut self) -> DbResult<String>;

    /// Server name and version, for messages.
    async fn server_version(&mut self) -> DbResult<String>;

    /// Starts the transaction of one migration under the runner's timeouts
    /// and says whether `version` already has a history row, read inside
    /// that transaction (with the runner lock held it never has one, but
    /// exactly-once is checked, not assumed). On an error no transaction is
    /// left open.
    ///
    /// PostgreSQL does all of it in one round trip.
    async fn begin_migration(
        &mut self,
        version: &str,
        lock: Duration,
        statement: Duration,
    ) -> DbResult<bool> {
        self.set_timeouts(lock, statement).await?;
        self.begin().await?;
        match self.history_row(version).await {
            Ok(row) => Ok(row.is_some()),
            Err(e) => {
                let _ = self.rollback().await;
                Err(e)
            }
        }
    }

    /// Records `row` in the history and commits the migration's transaction
    /// with it. On an error the transaction is rolled back.
    ///
    /// PostgreSQL does both in one round trip.
    async fn commit_migration(&mut self, row: &HistoryRow) -> DbResult<()> {
        let result = match self.insert_history(row).await {
            Ok(()) => self.commit().await,
            Err(e) => Err(e),
        };
        if result.is_err() {
            let _ = self.rollback().await;
        }
        result
    }
}

/// The `INSERT` of a history row, with `?` placeholders, and its parameters.
pub(crate) fn insert_history_query(row: &HistoryRow) -> (String, [Param; 13]) {
    let sql = format!(
        "INSERT INTO {HISTORY_TABLE} (version, name, phase, pair, checksum, up_sql, down_sql, \
         no_transaction, status, statements_total, statements_done, duration_ms, applied_by) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    );
    let params = [
        row.version.as_str().into(),
        row.name.as_str().into(),
        row.phase.as_str().into(),
        row.pair.clone().into(),
        row.checksum.as_str().into(),
        row.up_sql.clone().into(),
        row.down_sql.clone().into(),
        row.no_transaction.into(),
        row.status.as_str().into(),
        row.statements_total.into(),
        row.statements_done.into(),
        row.duration_ms.into(),
        row.applied_by.as_str().into(),
    ];
    (sql, params)
}

/// History operations, written once over the [`Backend`] primitives.
#[allow(async_fn_in_trait)]
pub trait History: Backend {
    async fn history_exists(&mut self) -> DbResult<bool> {
        self.table_exists(HISTORY_TABLE).await
    }

    async fn ensure_history(&mut self) -> DbResult<()> {
        if !self.history_exists().await? {
            let ddl = self.history_ddl();
            self.execute(&ddl).await?;
        }
        Ok(())
    }

    /// Every row (none when the table does not exist yet).
    async fn read_history(&mut self) -> DbResult<Vec<HistoryRow>> {
        if !self.history_exists().await? {
            return Ok(Vec::new());
        }
        let columns: Vec<String> = HISTORY_COLUMNS.iter().map(|c| self.as_text(c)).collect();
        let sql = format!("SELECT {} FROM {HISTORY_TABLE}", columns.join(", "));
        let rows = self.query_texts(&sql, &[]).await?;
        let mut rows: Vec<HistoryRow> = rows.into_iter().map(HistoryRow::from_texts).collect();
        rows.sort_by(|a, b| {
            match (
                crate::source::Version::parse(&a.version),
                crate::source::Version::parse(&b.version),
            ) {
                (Some(x), Some(y)) => x.cmp(&y),
                _ => a.version.cmp(&b.version),
            }
        });
        Ok(rows)
    }

    /// The row of one version, read inside the current transaction.
    async fn history_row(&mut self, version: &str) -> DbResult<Option<HistoryRow>> {
        let columns: Vec<String> = HISTORY_COLUMNS.iter().map(|c| self.as_text(c)).collect();
        let sql = format!(
            "SELECT {} FROM {HISTORY_TABLE} WHERE version = ?",
            columns.join(", ")
        );
        let rows = self.query_texts(&sql, &[version.into()]).await?;
        Ok(rows.into_iter().next().map(HistoryRow::from_texts))
    }

    async fn insert_history(&mut self, row: &HistoryRow) -> DbResult<()> {
        let (sql, params) = insert_history_query(row);
        self.execute_with(&sql, &params).await?;
        Ok(())
    }

    /// Records progress of a statement-by-statement migration.
    async fn set_progress(
        &mut self,
        version: &str,
        status: Status,
        done: i64,
        duration_ms: i64,
    ) -> DbResult<()> {
        let sql = format!(
            "UPDATE {HISTORY_TABLE} SET status = ?, statements_done = ?, duration_ms = ? WHERE version = ?"
        );
        self.execute_with(
            &sql,
            &[
                status.as_str().into(),
                done.into(),
                duration_ms.into(),
                version.into(),
            ],
        )
        .await?;
        Ok(())
    }

    /// Replaces the recorded text of a partial migration that is resumed
    /// with a corrected file.
    async fn set_text(
        &mut self,
        version: &str,
        checksum: &str,
        up_sql: &str,
        down_sql: Option<&str>,
        total: i64,
    ) -> DbResult<()> {
        let sql = format!(
            "UPDATE {HISTORY_TABLE} SET checksum = ?, up_sql = ?, down_sql = ?, statements_total = ? WHERE version = ?"
        );
        self.execute_with(
            &sql,
            &[
                checksum.into(),
                up_sql.into(),
                down_sql.map(str::to_string).into(),
                total.into(),
                version.into(),
            ],
        )
        .await?;
        Ok(())
    }

    async fn delete_history(&mut self, version: &str) -> DbResult<()> {
        let sql = format!("DELETE FROM {HISTORY_TABLE} WHERE version = ?");
        self.execute_with(&sql, &[version.into()]).await?;
        Ok(())
    }
}

impl<B: Backend + ?Sized> History for B {}

/// Any of the three backends, chosen from the URL's scheme.
pub enum AnyBackend {
    Postgres(PostgresBackend),
    Mysql(MysqlBackend),
    Sqlite(SqliteBackend),
}

/// Connects to `url`. `create` lets SQLite create a missing file.
pub async fn connect(url: &DbUrl, create: bool) -> DbResult<AnyBackend> {
    match url.dialect() {
        Dialect::Postgres => Ok(AnyBackend::Postgres(PostgresBackend::connect(url).await?)),
        Dialect::Mysql => Ok(AnyBackend::Mysql(MysqlBackend::connect(url).await?)),
        Dialect::Sqlite => Ok(AnyBackend::Sqlite(
            SqliteBackend::connect(url, create).await?,
        )),
    }
}

macro_rules! each {
    ($self:ident, $b:ident => $e:expr) => {
        match $self {
            AnyBackend::Postgres($b) => $e,
            AnyBackend::Mysql($b) => $e,
            AnyBackend::Sqlite($b) => $e,
        }
    };
}

impl Backend for AnyBackend {
    fn dialect(&self) -> Dialect {
        each!(self, b => b.dialect())
    }
    fn transactional_ddl(&self) -> bool {
        each!(self, b => b.transactional_ddl())
    }
    async fn try_lock(&mut self) -> DbResult<bool> {
        each!(self, b => b.try_lock().await)
    }
    async fn unlock(&mut self) -> DbResult<()> {
        each!(self, b => b.unlock().await)
    }
    async fn set_timeouts(&mut self, lock: Duration, statement: Duration) -> DbResult<()> {
        each!(self, b => b.set_timeouts(lock, statement).await)
    }
    async fn begin(&mut self) -> DbResult<()> {
        each!(self, b => b.begin().await)
    }
    async fn commit(&mut self) -> DbResult<()> {
        each!(self, b => b.commit().await)
    }
    async fn rollback(&mut self) -> DbResult<()> {
        each!(self, b => b.rollback().await)
    }
    async fn execute(&mut self, sql: &str) -> DbResult<()> {
        each!(self, b => b.execute(sql).await)
    }
    async fn execute_with(&mut self, sql: &str, params: &[Param]) -> DbResult<u64> {
        each!(self, b => b.execute_with(sql, params).await)
    }
    async fn query_texts(
        &mut self,
        sql: &str,
        params: &[Param],
    ) -> DbResult<Vec<Vec<Option<String>>>> {
        each!(self, b => b.query_texts(sql, params).await)
    }
    async fn table_exists(&mut self, name: &str) -> DbResult<bool> {
        each!(self, b => b.table_exists(name).await)
    }
    fn history_ddl(&self) -> String {
        each!(self, b => b.history_ddl())
    }
    fn as_text(&self, column: &str) -> String {
        each!(self, b => b.as_text(column))
    }
    async fn snapshot(&mut self) -> DbResult<String> {
        each!(self, b => b.snapshot().await)
    }
    async fn server_version(&mut self) -> DbResult<String> {
        each!(self, b => b.server_version().await)
    }
    async fn begin_migration(
        &mut self,
        version: &str,
        lock: Duration,
        statement: Duration,
    ) -> DbResult<bool> {
        each!(self, b => b.begin_migration(version, lock, statement).await)
    }
    async fn commit_migration(&mut self, row: &HistoryRow) -> DbResult<()> {
        each!(self, b => b.commit_migration(row).await)
    }
}

/// Replaces each `?` placeholder outside quotes with `fill(i)` (`i` counts
/// from 0). Only used for straddle's own queries.
pub(crate) fn fill_placeholders(sql: &str, mut fill: impl FnMut(usize, &mut String)) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    let mut quote: Option<char> = None;
    for c in sql.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '?' => {
                fill(n, &mut out);
                n += 1;
                continue;
            }
            None => {}
        }
        out.push(c);
    }
    out
}

/// `?` placeholders renumbered `$1…` (PostgreSQL).
pub(crate) fn dollar_placeholders(sql: &str) -> String {
    fill_placeholders(sql, |i, out| {
        out.push('$');
        out.push_str(&(i + 1).to_string());
    })
}

/// Binds `params` as the arguments of a query of any of the three databases.
fn bind<A>(params: &[Param]) -> DbResult<A>
where
    A: sqlx::Arguments,
    for<'t> Option<String>: sqlx::Encode<'t, A::Database> + sqlx::Type<A::Database>,
    for<'t> i64: sqlx::Encode<'t, A::Database> + sqlx::Type<A::Database>,
    for<'t> bool: sqlx::Encode<'t, A::Database> + sqlx::Type<A::Database>,
{
    let mut args = A::default();
    for p in params {
        let added = match p {
            Param::Text(t) => args.add(t.clone()),
            Param::Int(n) => args.add(*n),
            Param::Bool(b) => args.add(*b),
        };
        added.map_err(|e| DbError::other(e.to_string()))?;
    }
    Ok(args)
}

/// Rows as text cells; `cell` reads one column of one row (each backend
/// knows which other types its text casts may come back as).
fn rows_as_texts<R>(
    rows: Vec<R>,
    cell: impl Fn(&R, usize) -> Result<Option<String>, sqlx::Error>,
) -> Result<Vec<Vec<Option<String>>>, sqlx::Error>
where
    R: sqlx::Row,
{
    rows.iter()
        .map(|row| (0..row.len()).map(|i| cell(row, i)).collect())
        .collect()
}

/// A sqlx error that is not the database's own answer: I/O, TLS, protocol,
/// configuration (a connection problem), or anything else.
fn driver_error(url: &DbUrl, e: &sqlx::Error) -> DbError {
    let kind = match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Configuration(_) => ErrorKind::Connection,
        _ => ErrorKind::Other,
    };
    DbError::new(kind, url.mask(&e.to_string()))
}

/// An error while connecting is a connection error, whatever the server
/// said (a wrong password, an unknown database).
fn connect_failed(mut e: DbError) -> DbError {
    e.kind = ErrorKind::Connection;
    e
}

/// Whether a statement may change session settings (so the runner's
/// timeouts must be set again before the next migration).
pub(crate) fn may_change_session(sql: &str) -> bool {
    let lower = sql.trim_start().to_ascii_lowercase();
    let first = lower
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
        .next()
        .unwrap_or("");
    matches!(
        first,
        "set" | "reset" | "discard" | "do" | "call" | "select" | "execute"
    ) || lower.contains("set_config")
        || lower.contains("@@")
}

/// Renders milliseconds for a timeout setting.
pub(crate) fn millis(d: Duration) -> u128 {
    d.as_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_numbered_outside_quotes() {
        assert_eq!(
            dollar_placeholders("SELECT '?', x FROM t WHERE a = ? AND b = ?"),
            "SELECT '?', x FROM t WHERE a = $1 AND b = $2"
        );
    }
}
