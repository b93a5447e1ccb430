//! PostgreSQL: advisory lock, `lock_timeout` / `statement_timeout`, the simple
//! query protocol for migration statements, and a catalog snapshot.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{
    PgArguments, PgConnectOptions, PgConnection, PgDatabaseError, PgErrorPosition, PgSslMode,
};
use sqlx::{AssertSqlSafe, ConnectOptions, Executor, Row};

use super::{
    Backend, DbError, DbResult, DbUrl, ErrorKind, HISTORY_TABLE, HistoryRow, Param, millis,
};
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
    let sqlx::Error::Database(db) = &e else {
        return super::driver_error(url, &e);
    };
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
    let mut message = format!("{} (SQLSTATE {code})", db.message());
    let mut position = None;
    if let Some(pg) = db.try_downcast_ref::<PgDatabaseError>() {
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

/// A string literal that means `text` whatever `standard_conforming_strings`
/// says: `E'…'` with backslashes and quotes doubled. PostgreSQL text cannot
/// hold NUL, so a NUL is refused here (bound, it would be refused by the
/// server).
fn literal(text: &str) -> DbResult<String> {
    if text.contains('\0') {
        return Err(DbError::other(
            "the text contains a NUL character, which PostgreSQL text cannot hold",
        ));
    }
    let mut out = String::with_capacity(text.len() + 4);
    out.push_str("E'");
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("''"),
            c => out.push(c),
        }
    }
    out.push('\'');
    Ok(out)
}

/// A parameter written into the SQL as a literal.
fn param_literal(p: &Param) -> DbResult<String> {
    Ok(match p {
        Param::Text(None) => "NULL".to_string(),
        Param::Text(Some(t)) => literal(t)?,
        Param::Int(n) => n.to_string(),
        Param::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
    })
}

/// Whether to connect without TLS first: the server is on this machine (a
/// loopback address or `localhost`) and neither the URL nor the environment
/// says anything about TLS, so sqlx would merely prefer it. Traffic on
/// loopback never leaves the machine, and the TLS handshake costs about
/// 0.1 s there: PostgreSQL's default `ssl_ecdh_curve` (prime256v1) makes
/// rustls send its hello twice, and with sqlx's sockets (no TCP_NODELAY) two
/// handshake writes in a row each wait for a delayed ACK. A server that
/// refuses connections without TLS is then connected to as the URL says.
fn plaintext_first(options: &PgConnectOptions, url: &str, env_set: impl Fn(&str) -> bool) -> bool {
    const TLS_KEYS: [&str; 9] = [
        "sslmode",
        "ssl-mode",
        "sslrootcert",
        "ssl-root-cert",
        "ssl-ca",
        "sslcert",
        "ssl-cert",
        "sslkey",
        "ssl-key",
    ];
    const TLS_ENV: [&str; 4] = ["PGSSLMODE", "PGSSLROOTCERT", "PGSSLCERT", "PGSSLKEY"];
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let asks_tls = query.split('&').any(|pair| {
        let key = pair.split('=').next().unwrap_or("");
        TLS_KEYS.iter().any(|k| k.eq_ignore_ascii_case(key))
    }) || TLS_ENV.iter().any(|v| env_set(v));
    let host = options.get_host().trim_matches(['[', ']']);
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    loopback
        && !asks_tls
        && options.get_socket().is_none()
        && matches!(options.get_ssl_mode(), PgSslMode::Prefer)
}

impl PostgresBackend {
    pub async fn connect(url: &DbUrl) -> DbResult<Self> {
        let failed = |e| super::connect_failed(map_error(url, e));
        let options = PgConnectOptions::from_str(url.expose()).map_err(failed)?;
        let env_set = |name: &str| std::env::var_os(name).is_some();
        let plain = if plaintext_first(&options, url.expose(), env_set) {
            options
                .clone()
                .ssl_mode(PgSslMode::Disable)
                .connect()
                .await
                .ok()
        } else {
            None
        };
        let conn = match plain {
            Some(conn) => conn,
            None => options.connect().await.map_err(failed)?,
        };
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
            millis(lock),
            millis(statement)
        );
        self.execute(&sql).await?;
        self.timeouts = Some((lock, statement));
        Ok(())
    }

    async fn begin(&mut self) -> DbResult<()> {
        self.execute("BEGIN").await
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
        let args: PgArguments = super::bind(params)?;
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
        let args: PgArguments = super::bind(params)?;
        let rows = sqlx::query_with(AssertSqlSafe(sql), args)
            .fetch_all(&mut self.conn)
            .await
            .map_err(|e| self.err(e))?;
        super::rows_as_texts(rows, |row, i| row.try_get(i)).map_err(|e| self.err(e))
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

    /// `BEGIN`, the timeouts as `SET LOCAL` (they end with the transaction;
    /// a migration may still override them with its own `SET`, which
    /// outlives the transaction and is noticed by `may_change_session`) and
    /// the history check, in one simple query: one round trip.
    async fn begin_migration(
        &mut self,
        version: &str,
        lock: Duration,
        statement: Duration,
    ) -> DbResult<bool> {
        let sql = format!(
            "BEGIN; SET LOCAL lock_timeout = '{}ms'; SET LOCAL statement_timeout = '{}ms'; \
             SELECT count(*)::text FROM {HISTORY_TABLE} WHERE version = {}",
            millis(lock),
            millis(statement),
            literal(version)?
        );
        let rows = match self.conn.fetch_all(AssertSqlSafe(sql)).await {
            Ok(rows) => rows,
            Err(e) => {
                let e = self.err(e);
                let _ = self.rollback().await;
                return Err(e);
            }
        };
        let count: Option<String> = rows.first().and_then(|r| r.try_get(0).ok());
        Ok(count.is_some_and(|n| n != "0"))
    }

    /// The history row's `INSERT` (its values written as literals) and
    /// `COMMIT` in one simple query: one round trip.
    async fn commit_migration(&mut self, row: &HistoryRow) -> DbResult<()> {
        let (sql, params) = super::insert_history_query(row);
        let result = match params
            .iter()
            .map(param_literal)
            .collect::<DbResult<Vec<_>>>()
        {
            Ok(values) => {
                let mut sql = super::fill_placeholders(&sql, |i, out| {
                    out.push_str(values.get(i).map_or("NULL", String::as_str))
                });
                sql.push_str("; COMMIT");
                self.conn
                    .execute(AssertSqlSafe(sql))
                    .await
                    .map_err(|e| self.err(e))
            }
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            let _ = self.rollback().await;
            return Err(e);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{History, Status};

    #[test]
    fn literals_mean_the_text_and_refuse_nul() {
        assert_eq!(literal("plain").unwrap(), "E'plain'");
        assert_eq!(literal(r"it's a \ \'").unwrap(), r"E'it''s a \\ \\'''");
        assert!(literal("a\0b").is_err());
        assert_eq!(param_literal(&Param::Text(None)).unwrap(), "NULL");
        assert_eq!(param_literal(&Param::Int(-3)).unwrap(), "-3");
        assert_eq!(param_literal(&Param::Bool(true)).unwrap(), "TRUE");
    }

    #[test]
    fn tls_is_skipped_first_only_on_loopback_when_nothing_asks_for_it() {
        let first = |url: &str, env: &[&str]| {
            let options = PgConnectOptions::from_str(url).unwrap();
            plaintext_first(&options, url, |v| env.contains(&v))
        };
        assert!(first("postgres://u@127.0.0.1:5432/d", &[]));
        assert!(first("postgres://u@localhost/d?application_name=x", &[]));
        assert!(first("postgres://u@[::1]:5432/d", &[]));
        assert!(!first("postgres://u@db.example.com/d", &[]));
        assert!(!first("postgres://u@10.0.0.5/d", &[]));
        assert!(!first("postgres://u@127.0.0.1/d?sslmode=prefer", &[]));
        assert!(!first("postgres://u@127.0.0.1/d?sslmode=require", &[]));
        assert!(!first("postgres://u@127.0.0.1/d?sslrootcert=/ca.pem", &[]));
        assert!(!first("postgres://u@127.0.0.1/d", &["PGSSLMODE"]));
    }

    /// The test server, or `None` (after saying so) when none answers and
    /// `CI` is not set.
    async fn test_server() -> Option<PostgresBackend> {
        let raw = std::env::var("STRADDLE_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string());
        let url = DbUrl::parse(&raw).unwrap();
        match PostgresBackend::connect(&url).await {
            Ok(db) => Some(db),
            Err(e) if std::env::var_os("CI").is_none() => {
                println!("skipped: no PostgreSQL server at {url} ({e})");
                None
            }
            Err(e) => panic!("no PostgreSQL server at {url} ({e}), and CI is set"),
        }
    }

    fn row(version: &str, up_sql: &str) -> HistoryRow {
        HistoryRow {
            version: version.to_string(),
            name: r"it's \ tricky".to_string(),
            phase: "expand".to_string(),
            pair: None,
            checksum: "c".repeat(96),
            up_sql: Some(up_sql.to_string()),
            down_sql: Some("DROP TABLE t; -- ? $1 $$".to_string()),
            no_transaction: false,
            status: Status::Applied,
            statements_total: 2,
            statements_done: 2,
            applied_at: None,
            duration_ms: 7,
            applied_by: "straddle by o'brien".to_string(),
        }
    }

    #[test]
    fn one_round_trip_begin_and_commit_keep_the_history_exact() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let Some(mut db) = test_server().await else {
                return;
            };
            // A temporary history table: it shadows nothing outside this
            // session and goes with it.
            let ddl = db
                .history_ddl()
                .replacen("CREATE TABLE", "CREATE TEMP TABLE", 1);
            db.execute(&ddl).await.unwrap();
            let (lock, statement) = (Duration::from_millis(1500), Duration::from_secs(7));
            let text =
                "INSERT INTO t VALUES ('it''s', E'\\\\n', $$ ? $$);\n-- ünïcode\t; COMMIT;\r\n\\";
            assert!(
                !db.begin_migration("20240101", lock, statement)
                    .await
                    .unwrap()
            );
            let settings = db
                .lines(
                    "SELECT current_setting('lock_timeout'), current_setting('statement_timeout')",
                )
                .await
                .unwrap();
            assert_eq!(settings, ["1500ms 7s"]);
            db.commit_migration(&row("20240101", text)).await.unwrap();
            let history = db.read_history().await.unwrap();
            assert_eq!(history.len(), 1);
            let got = &history[0];
            assert_eq!(got.up_sql.as_deref(), Some(text));
            assert_eq!(got.down_sql.as_deref(), Some("DROP TABLE t; -- ? $1 $$"));
            assert_eq!(got.name, r"it's \ tricky");
            assert_eq!(got.applied_by, "straddle by o'brien");
            assert_eq!((got.pair.as_deref(), got.duration_ms), (None, 7));
            // The timeouts ended with the transaction.
            let settings = db
                .lines("SELECT current_setting('lock_timeout')")
                .await
                .unwrap();
            assert_eq!(settings, ["0"]);

            // Recorded already: the check says so, inside a new transaction.
            assert!(
                db.begin_migration("20240101", lock, statement)
                    .await
                    .unwrap()
            );
            db.rollback().await.unwrap();

            // A history row that cannot be written takes the migration's
            // statements with it and leaves no transaction open.
            assert!(
                !db.begin_migration("20240102", lock, statement)
                    .await
                    .unwrap()
            );
            db.execute("CREATE TEMP TABLE made_by_the_migration (x int)")
                .await
                .unwrap();
            assert!(
                db.commit_migration(&row("20240101", "again"))
                    .await
                    .is_err()
            );
            assert!(!db.table_exists("made_by_the_migration").await.unwrap());
            // A savepoint needs a transaction block: there is none.
            let e = db.execute("SAVEPOINT s").await.unwrap_err();
            assert!(e.message.contains("SQLSTATE 25P01"), "{e}");
        });
    }
}
