//! MySQL and MariaDB: `GET_LOCK`, `lock_wait_timeout`, statements sent as
//! text (DDL commits implicitly, so the runner goes statement by statement),
//! and an `information_schema` snapshot.

use std::time::Duration;

use sqlx::mysql::{MySqlArguments, MySqlConnection, MySqlDatabaseError};
use sqlx::{AssertSqlSafe, Connection, Executor, Row};

use super::{Backend, DbError, DbResult, DbUrl, ErrorKind, HISTORY_TABLE, Param};
use crate::dialect::Dialect;

const LOCK_NAME: &str = "LEFT(CONCAT('straddle:', DATABASE()), 64)";

pub struct MysqlBackend {
    conn: MySqlConnection,
    url: DbUrl,
    mariadb: bool,
    /// The timeouts last set, while no statement can have changed them.
    timeouts: Option<(Duration, Duration)>,
}

pub(crate) fn map_error(url: &DbUrl, e: sqlx::Error) -> DbError {
    let sqlx::Error::Database(db) = &e else {
        return super::driver_error(url, &e);
    };
    let number = db
        .try_downcast_ref::<MySqlDatabaseError>()
        .map(|m| m.number())
        .unwrap_or(0);
    let kind = match number {
        1205 => ErrorKind::LockTimeout,
        3024 | 1969 | 1028 => ErrorKind::StatementTimeout,
        1050 | 1060 | 1061 | 1826 | 1304 | 1359 | 1007 | 3822 => ErrorKind::AlreadyExists,
        1051 | 1091 | 1146 | 1054 | 1360 | 1305 | 1008 => ErrorKind::DoesNotExist,
        2006 | 2013 => ErrorKind::Connection,
        _ => ErrorKind::Other,
    };
    let state = db
        .code()
        .map(|c| format!(", SQLSTATE {c}"))
        .unwrap_or_default();
    DbError::new(
        kind,
        url.mask(&format!("{} (error {number}{state})", db.message())),
    )
}

/// Whole seconds, at least one (MySQL's lock timeouts are in seconds).
fn seconds_at_least_one(d: Duration) -> u64 {
    let ms = d.as_millis() as u64;
    ms.div_ceil(1000).max(1)
}

impl MysqlBackend {
    pub async fn connect(url: &DbUrl) -> DbResult<Self> {
        let conn = MySqlConnection::connect(url.expose())
            .await
            .map_err(|e| super::connect_failed(map_error(url, e)))?;
        let mut backend = MysqlBackend {
            conn,
            url: url.clone(),
            mariadb: false,
            timeouts: None,
        };
        backend.execute("SET time_zone = '+00:00'").await?;
        let version = backend.server_version().await?;
        backend.mariadb = version.to_ascii_lowercase().contains("mariadb");
        Ok(backend)
    }

    fn err(&self, e: sqlx::Error) -> DbError {
        map_error(&self.url, e)
    }

    async fn scalar(&mut self, sql: &str) -> DbResult<Option<String>> {
        let rows = self.query_texts(sql, &[]).await?;
        Ok(rows
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next().flatten()))
    }
}

/// The tools' history tables; straddle's own tables (`straddle_…`) are left
/// out by name pattern as well.
const SKIP: &str = "('_sqlx_migrations', '__diesel_schema_migrations')";

impl Backend for MysqlBackend {
    fn dialect(&self) -> Dialect {
        Dialect::Mysql
    }

    fn transactional_ddl(&self) -> bool {
        false
    }

    async fn try_lock(&mut self) -> DbResult<bool> {
        let got = self
            .scalar(&format!("SELECT CAST(GET_LOCK({LOCK_NAME}, 0) AS CHAR)"))
            .await?;
        Ok(got.as_deref() == Some("1"))
    }

    async fn unlock(&mut self) -> DbResult<()> {
        self.scalar(&format!("SELECT CAST(RELEASE_LOCK({LOCK_NAME}) AS CHAR)"))
            .await?;
        Ok(())
    }

    async fn set_timeouts(&mut self, lock: Duration, statement: Duration) -> DbResult<()> {
        if self.timeouts == Some((lock, statement)) {
            return Ok(());
        }
        let lock_s = if lock.is_zero() {
            31_536_000
        } else {
            seconds_at_least_one(lock)
        };
        self.execute(&format!(
            "SET SESSION lock_wait_timeout = {lock_s}, SESSION innodb_lock_wait_timeout = {lock_s}"
        ))
        .await?;
        if self.mariadb {
            let secs = statement.as_secs_f64();
            self.execute(&format!("SET SESSION max_statement_time = {secs:.3}"))
                .await?;
        } else {
            // MySQL limits only read-only SELECTs this way.
            self.execute(&format!(
                "SET SESSION max_execution_time = {}",
                statement.as_millis()
            ))
            .await?;
        }
        self.timeouts = Some((lock, statement));
        Ok(())
    }

    async fn begin(&mut self) -> DbResult<()> {
        self.execute("START TRANSACTION").await
    }

    async fn execute(&mut self, sql: &str) -> DbResult<()> {
        // No arguments: sent as text (COM_QUERY), so statements that cannot
        // be prepared (triggers, procedures) run as written.
        if super::may_change_session(sql) {
            self.timeouts = None;
        }
        match self.conn.execute(AssertSqlSafe(sql)).await {
            Ok(_) => Ok(()),
            Err(e) => Err(self.err(e)),
        }
    }

    async fn execute_with(&mut self, sql: &str, params: &[Param]) -> DbResult<u64> {
        let args: MySqlArguments = super::bind(params)?;
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
        let args: MySqlArguments = super::bind(params)?;
        let rows = sqlx::query_with(AssertSqlSafe(sql), args)
            .fetch_all(&mut self.conn)
            .await
            .map_err(|e| self.err(e))?;
        // Some text casts come back as binary strings.
        super::rows_as_texts(rows, |row, i| {
            row.try_get::<Option<String>, _>(i).or_else(|_| {
                let bytes: Option<Vec<u8>> = row.try_get(i)?;
                Ok(bytes.map(|b| String::from_utf8_lossy(&b).into_owned()))
            })
        })
        .map_err(|e| self.err(e))
    }

    async fn table_exists(&mut self, name: &str) -> DbResult<bool> {
        let rows = self
            .query_texts(
                "SELECT CAST(COUNT(*) AS CHAR) FROM information_schema.TABLES \
                 WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
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
    version VARCHAR(64) NOT NULL PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    phase VARCHAR(16) NOT NULL,
    pair VARCHAR(64) NULL,
    checksum VARCHAR(96) NOT NULL,
    up_sql LONGTEXT NULL,
    down_sql LONGTEXT NULL,
    no_transaction BOOLEAN NOT NULL DEFAULT FALSE,
    status VARCHAR(16) NOT NULL,
    statements_total INT NOT NULL,
    statements_done INT NOT NULL,
    applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    duration_ms BIGINT NOT NULL DEFAULT 0,
    applied_by VARCHAR(255) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
        )
    }

    fn as_text(&self, column: &str) -> String {
        if column == "applied_at" {
            "DATE_FORMAT(applied_at, '%Y-%m-%dT%H:%i:%sZ')".to_string()
        } else {
            format!("CAST({column} AS CHAR)")
        }
    }

    async fn snapshot(&mut self) -> DbResult<String> {
        let queries = [
            format!(
                "SELECT 'table', TABLE_NAME, CAST(ENGINE AS CHAR) FROM information_schema.TABLES \
                 WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' AND TABLE_NAME NOT IN {SKIP} AND TABLE_NAME NOT LIKE 'straddle!_%' ESCAPE '!'"
            ),
            format!(
                "SELECT 'column', CONCAT(TABLE_NAME, '.', COLUMN_NAME), CAST(COLUMN_TYPE AS CHAR), \
                 IF(IS_NULLABLE = 'YES', 'null', 'not null'), \
                 CASE WHEN COLUMN_DEFAULT IS NULL OR COLUMN_DEFAULT = 'NULL' THEN '' \
                      ELSE CONCAT('default ', COLUMN_DEFAULT) END, CAST(EXTRA AS CHAR) \
                 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME NOT IN {SKIP} AND TABLE_NAME NOT LIKE 'straddle!_%' ESCAPE '!'"
            ),
            format!(
                "SELECT 'index', CONCAT(TABLE_NAME, '.', INDEX_NAME), IF(NON_UNIQUE = 0, 'unique', ''), \
                 CAST(INDEX_TYPE AS CHAR), GROUP_CONCAT(COALESCE(COLUMN_NAME, '(expr)') ORDER BY SEQ_IN_INDEX SEPARATOR ', ') \
                 FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME NOT IN {SKIP} AND TABLE_NAME NOT LIKE 'straddle!_%' ESCAPE '!' \
                 GROUP BY TABLE_NAME, INDEX_NAME, NON_UNIQUE, INDEX_TYPE"
            ),
            "SELECT 'foreign key', CONCAT(k.TABLE_NAME, '.', k.CONSTRAINT_NAME), \
             GROUP_CONCAT(k.COLUMN_NAME ORDER BY k.ORDINAL_POSITION SEPARATOR ', '), \
             CONCAT('references ', MAX(k.REFERENCED_TABLE_NAME), '(', \
                    GROUP_CONCAT(k.REFERENCED_COLUMN_NAME ORDER BY k.ORDINAL_POSITION SEPARATOR ', '), ')'), \
             CONCAT('on delete ', MAX(r.DELETE_RULE)), CONCAT('on update ', MAX(r.UPDATE_RULE)) \
             FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.REFERENTIAL_CONSTRAINTS r \
               ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME \
               AND r.TABLE_NAME = k.TABLE_NAME \
             WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL \
             GROUP BY k.TABLE_NAME, k.CONSTRAINT_NAME"
                .to_string(),
            "SELECT 'check', CAST(CONSTRAINT_NAME AS CHAR), CAST(CHECK_CLAUSE AS CHAR) \
             FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()"
                .to_string(),
            "SELECT 'view', TABLE_NAME, MD5(VIEW_DEFINITION) FROM information_schema.VIEWS \
             WHERE TABLE_SCHEMA = DATABASE()"
                .to_string(),
            "SELECT 'trigger', CONCAT(EVENT_OBJECT_TABLE, '.', TRIGGER_NAME), CAST(ACTION_TIMING AS CHAR), \
             CAST(EVENT_MANIPULATION AS CHAR), MD5(ACTION_STATEMENT) FROM information_schema.TRIGGERS \
             WHERE TRIGGER_SCHEMA = DATABASE()"
                .to_string(),
            "SELECT 'routine', CONCAT(CAST(ROUTINE_TYPE AS CHAR), ' ', ROUTINE_NAME), MD5(ROUTINE_DEFINITION) \
             FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()"
                .to_string(),
        ];
        let mut lines = Vec::new();
        for sql in queries {
            for row in self.query_texts(&sql, &[]).await? {
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
        let version = self.scalar("SELECT CAST(VERSION() AS CHAR)").await?;
        let version = version.unwrap_or_default();
        Ok(if version.to_ascii_lowercase().contains("mariadb") {
            format!("MariaDB {version}")
        } else {
            format!("MySQL {version}")
        })
    }
}
