//! PostgreSQL: advisory lock, `lock_timeout` / `statement_timeout`, the simple
//! query protocol for migration statements, and a catalog snapshot.

use std::time::Duration;

use sqlx::postgres::{PgArguments, PgConnection, PgDatabaseError, PgErrorPosition};
use sqlx::{Arguments, AssertSqlSafe, Connection, Executor, Row};

use super::{Backend, DbError, DbResult, DbUrl, ErrorKind, HISTORY_TABLE, Param};
use crate::dialect::Dialect;

/// The advisory lock key of straddle's runner ("straddle" in ASCII). Advisory
/// locks are per database, so one key serves every database of a server.
const LOCK_KEY: i64 = 0x7374_7261_6464_6c65;

pub struct PostgresBackend {
    conn: PgConnection,
    url: DbUrl,
    /// The timeouts last set, while no statement can have changed them.
    timeouts: Option<(Duration, Duration)>,
}

pub(crate) fn map_error(url: &DbUrl, e: sqlx::Error) -> DbError {
    match &e {
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.to_string()).unwrap_or_default();
            let kind = match code.as_str() {
                "55P03" => ErrorKind::LockTimeout,
                "57014" => ErrorKind::StatementTimeout,
                // 25001: "cannot run inside a transaction block";
                // 2D000: "invalid transaction termination" (COMMIT in a DO
                // block or procedure run inside one).
                "25001" | "2D000" => ErrorKind::NeedsNoTransaction,
                "42P07" | "42701" | "42710" | "42P06" | "42723" | "42P04" | "42P16" => {
                    ErrorKind::AlreadyExists
                }
                "42P01" | "42703" | "42704" | "3F000" | "42883" => ErrorKind::DoesNotExist,
                _ if code.starts_with("08") => ErrorKind::Connection,
                _ => ErrorKind::Other,
            };
            let pg = db.try_downcast_ref::<PgDatabaseError>();
            let mut message = format!("{} (SQLSTATE {code})", db.message());
            let mut position = None;
            if let Some(pg) = pg {
                if let Some(detail) = pg.detail() {
                    message.push_str(&format!("\n  detail: {detail}"));
                }
                if let Some(hint) = pg.hint() {
                    message.push_str(&format!("\n  hint: {hint}"));
                }
                if let Some(PgErrorPosition::Original(p)) = pg.position() {
                    position = Some(p);
                }
            }
            DbError {
                kind,
                message: url.mask(&message),
                position,
            }
        }
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Configuration(_) => {
            DbError::new(ErrorKind::Connection, url.mask(&e.to_string()))
        }
        _ => DbError::other(url.mask(&e.to_string())),
    }
}

fn bind(params: &[Param]) -> Result<PgArguments, sqlx::error::BoxDynError> {
    let mut args = PgArguments::default();
    for p in params {
        match p {
            Param::Text(t) => args.add(t.clone())?,
            Param::Int(n) => args.add(*n)?,
            Param::Bool(b) => args.add(*b)?,
        }
    }
    Ok(args)
}

impl PostgresBackend {
    pub async fn connect(url: &DbUrl) -> DbResult<Self> {
        let conn = PgConnection::connect(url.expose())
            .await
            .map_err(|e| map_error(url, e))
            .map_err(|mut e| {
                e.kind = ErrorKind::Connection;
                e
            })?;
        let mut backend = PostgresBackend {
            conn,
            url: url.clone(),
            timeouts: None,
        };
        backend.execute("SET client_min_messages = warning").await?;
        Ok(backend)
    }

    fn err(&self, e: sqlx::Error) -> DbError {
        map_error(&self.url, e)
    }

    async fn lines(&mut self, sql: &'static str) -> DbResult<Vec<String>> {
        let rows = self.query_texts(sql, &[]).await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                r.into_iter()
                    .map(|c| c.unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect())
    }
}

/// Schemas that belong to PostgreSQL itself.
const USER_SCHEMAS: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema') \
     AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'";

impl Backend for PostgresBackend {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn transactional_ddl(&self) -> bool {
        true
    }

    async fn try_lock(&mut self) -> DbResult<bool> {
        let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(LOCK_KEY)
            .fetch_one(&mut self.conn)
            .await
            .map_err(|e| self.err(e))?;
        Ok(got)
    }

    async fn unlock(&mut self) -> DbResult<()> {
        sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(LOCK_KEY)
            .execute(&mut self.conn)
            .await
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    async fn set_timeouts(&mut self, lock: Duration, statement: Duration) -> DbResult<()> {
        if self.timeouts == Some((lock, statement)) {
            return Ok(());
        }
        let sql = format!(
            "SET lock_timeout = '{}ms'; SET statement_timeout = '{}ms'",
            super::millis(lock),
            super::millis(statement)
        );
        self.execute(&sql).await?;
        self.timeouts = Some((lock, statement));
        Ok(())
    }

    async fn begin(&mut self) -> DbResult<()> {
        self.execute("BEGIN").await
    }

    async fn commit(&mut self) -> DbResult<()> {
        self.execute("COMMIT").await
    }

    async fn rollback(&mut self) -> DbResult<()> {
        self.execute("ROLLBACK").await
    }

    async fn execute(&mut self, sql: &str) -> DbResult<()> {
        // A bare string without arguments goes through the simple query
        // protocol: one statement, exactly as written.
        if super::may_change_session(sql) {
            self.timeouts = None;
        }
        match self.conn.execute(AssertSqlSafe(sql)).await {
            Ok(_) => Ok(()),
            Err(e) => Err(self.err(e)),
        }
    }

    async fn execute_with(&mut self, sql: &str, params: &[Param]) -> DbResult<u64> {
        let sql = super::dollar_placeholders(sql);
        let args = bind(params).map_err(|e| DbError::other(e.to_string()))?;
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
        let sql = super::dollar_placeholders(sql);
        let args = bind(params).map_err(|e| DbError::other(e.to_string()))?;
        let rows = sqlx::query_with(AssertSqlSafe(sql), args)
            .fetch_all(&mut self.conn)
            .await
            .map_err(|e| self.err(e))?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let mut cells = Vec::with_capacity(row.len());
            for i in 0..row.len() {
                cells.push(
                    row.try_get::<Option<String>, _>(i)
                        .map_err(|e| self.err(e))?,
                );
            }
            out.push(cells);
        }
        Ok(out)
    }

    async fn table_exists(&mut self, name: &str) -> DbResult<bool> {
        let rows = self
            .query_texts(
                "SELECT (to_regclass(quote_ident(?)) IS NOT NULL)::text",
                &[name.into()],
            )
            .await?;
        Ok(rows
            .first()
            .and_then(|r| r.first().cloned().flatten())
            .is_some_and(|v| v == "true"))
    }

    fn history_ddl(&self) -> String {
        format!(
            "CREATE TABLE IF NOT EXISTS {HISTORY_TABLE} (
    version VARCHAR(64) PRIMARY KEY,
    name TEXT NOT NULL,
    phase VARCHAR(16) NOT NULL,
    pair VARCHAR(64),
    checksum VARCHAR(96) NOT NULL,
    up_sql TEXT,
    down_sql TEXT,
    no_transaction BOOLEAN NOT NULL DEFAULT FALSE,
    status VARCHAR(16) NOT NULL,
    statements_total INTEGER NOT NULL,
    statements_done INTEGER NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    duration_ms BIGINT NOT NULL DEFAULT 0,
    applied_by TEXT NOT NULL
)"
        )
    }

    fn as_text(&self, column: &str) -> String {
        if column == "applied_at" {
            "to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')".to_string()
        } else {
            format!("{column}::text")
        }
    }

    async fn snapshot(&mut self) -> DbResult<String> {
        let q = |body: &str| body.replace("{USER}", USER_SCHEMAS);
        let queries: Vec<String> = vec![
            q(
                "SELECT 'schema', n.nspname FROM pg_namespace n WHERE {USER} AND n.nspname <> 'public'",
            ),
            q("SELECT 'extension', e.extname FROM pg_extension e WHERE e.extname <> 'plpgsql'"),
            q(
                "SELECT 'enum', n.nspname || '.' || t.typname, string_agg(e.enumlabel, ', ' ORDER BY e.enumsortorder) \
               FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_enum e ON e.enumtypid = t.oid \
               WHERE {USER} GROUP BY n.nspname, t.typname",
            ),
            q(
                "SELECT 'table', n.nspname || '.' || c.relname, CASE c.relkind WHEN 'p' THEN 'partitioned' ELSE '' END, \
               CASE c.relpersistence WHEN 'u' THEN 'unlogged' ELSE '' END \
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
               WHERE {USER} AND c.relkind IN ('r', 'p') AND c.relname NOT IN ('_sqlx_migrations', '__diesel_schema_migrations') AND c.relname NOT LIKE 'straddle!_%' ESCAPE '!'",
            ),
            q(
                "SELECT 'column', n.nspname || '.' || c.relname || '.' || a.attname, format_type(a.atttypid, a.atttypmod), \
               CASE WHEN a.attnotnull THEN 'not null' ELSE 'null' END, \
               COALESCE('default ' || pg_get_expr(d.adbin, d.adrelid), ''), \
               CASE a.attidentity WHEN 'a' THEN 'identity always' WHEN 'd' THEN 'identity by default' ELSE '' END, \
               CASE a.attgenerated WHEN 's' THEN 'generated stored' ELSE '' END \
               FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
               LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
               WHERE {USER} AND c.relkind IN ('r', 'p', 'v', 'm') AND a.attnum > 0 AND NOT a.attisdropped \
               AND c.relname NOT IN ('_sqlx_migrations', '__diesel_schema_migrations') AND c.relname NOT LIKE 'straddle!_%' ESCAPE '!'",
            ),
            q(
                "SELECT 'constraint', n.nspname || '.' || c.relname || '.' || k.conname, pg_get_constraintdef(k.oid, true), \
               CASE WHEN k.convalidated THEN '' ELSE 'not valid' END \
               FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
               WHERE {USER} AND c.relname NOT IN ('_sqlx_migrations', '__diesel_schema_migrations') AND c.relname NOT LIKE 'straddle!_%' ESCAPE '!'",
            ),
            q(
                "SELECT 'index', n.nspname || '.' || c.relname, pg_get_indexdef(i.indexrelid), \
               CASE WHEN i.indisvalid THEN '' ELSE 'INVALID' END \
               FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
               JOIN pg_class t ON t.oid = i.indrelid \
               WHERE {USER} AND t.relname NOT IN ('_sqlx_migrations', '__diesel_schema_migrations') AND t.relname NOT LIKE 'straddle!_%' ESCAPE '!'",
            ),
            q(
                "SELECT 'view', n.nspname || '.' || c.relname, c.relkind::text, md5(pg_get_viewdef(c.oid, true)) \
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {USER} AND c.relkind IN ('v', 'm')",
            ),
            q(
                "SELECT 'sequence', n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
               WHERE {USER} AND c.relkind = 'S' AND c.relname NOT LIKE 'straddle!_%' ESCAPE '!'",
            ),
            q(
                "SELECT 'function', n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')', \
               md5(p.prosrc) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
               LEFT JOIN pg_depend dep ON dep.objid = p.oid AND dep.deptype = 'e' \
               WHERE {USER} AND dep.objid IS NULL",
            ),
            q(
                "SELECT 'trigger', n.nspname || '.' || c.relname || '.' || t.tgname, pg_get_triggerdef(t.oid, true) \
               FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
               WHERE {USER} AND NOT t.tgisinternal",
            ),
        ];
        let mut lines = Vec::new();
        for sql in queries {
            // The catalog queries are fixed text; leak-free conversion.
            let rows = self.query_texts(&sql, &[]).await?;
            for row in rows {
                let cells: Vec<String> = row
                    .into_iter()
                    .flatten()
                    .filter(|c| !c.is_empty())
                    .collect();
                lines.push(cells.join(" "));
            }
        }
        lines.sort();
        let mut out = lines.join("\n");
        out.push('\n');
        Ok(out)
    }

    async fn server_version(&mut self) -> DbResult<String> {
        let lines = self
            .lines("SELECT 'PostgreSQL ' || current_setting('server_version')")
            .await?;
        Ok(lines.into_iter().next().unwrap_or_default())
    }
}
