//! Heartbeats: each app instance (or `straddle heartbeat --app-version V
//! --instance ID` next to it) keeps one row of `straddle_heartbeats` fresh.
//! Rows older than `rollout.heartbeat_stale` are ignored: that instance is
//! gone. The contract gate refuses while a fresh row names an older version.
//!
//! The table is plain so that apps can write it themselves:
//!
//! ```sql
//! -- PostgreSQL
//! INSERT INTO straddle_heartbeats (instance, app_version, seen_at) VALUES ('web-1', '2.0.0', now())
//! ON CONFLICT (instance) DO UPDATE SET app_version = EXCLUDED.app_version, seen_at = EXCLUDED.seen_at;
//! -- MySQL / MariaDB
//! INSERT INTO straddle_heartbeats (instance, app_version, seen_at) VALUES ('web-1', '2.0.0', CURRENT_TIMESTAMP(3))
//! ON DUPLICATE KEY UPDATE app_version = VALUES(app_version), seen_at = VALUES(seen_at);
//! -- SQLite
//! INSERT INTO straddle_heartbeats (instance, app_version) VALUES ('web-1', '2.0.0')
//! ON CONFLICT (instance) DO UPDATE SET app_version = excluded.app_version, seen_at = excluded.seen_at;
//! ```

use std::time::Duration;

use serde::Serialize;

use crate::db::{Backend, DbResult};
use crate::dialect::Dialect;

pub const HEARTBEATS_TABLE: &str = "straddle_heartbeats";

/// One instance's latest heartbeat.
#[derive(Clone, Debug, Serialize)]
pub struct Heartbeat {
    pub instance: String,
    pub app_version: String,
    /// How long ago it was sent, by the database's clock.
    pub age_ms: i64,
}

fn ddl(dialect: Dialect) -> String {
    let seen = match dialect {
        Dialect::Postgres => "TIMESTAMPTZ NOT NULL DEFAULT now()",
        Dialect::Mysql => "TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)",
        Dialect::Sqlite => "TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
    };
    let suffix = if dialect == Dialect::Mysql {
        " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"
    } else {
        ""
    };
    format!(
        "CREATE TABLE IF NOT EXISTS {HEARTBEATS_TABLE} (
    instance VARCHAR(255) NOT NULL PRIMARY KEY,
    app_version VARCHAR(255) NOT NULL,
    seen_at {seen}
){suffix}"
    )
}

pub async fn ensure_table<B: Backend>(db: &mut B) -> DbResult<()> {
    if !db.table_exists(HEARTBEATS_TABLE).await? {
        let sql = ddl(db.dialect());
        db.execute(&sql).await?;
    }
    Ok(())
}

/// Sends one heartbeat (creating the table on first use).
pub async fn beat<B: Backend>(db: &mut B, instance: &str, app_version: &str) -> DbResult<()> {
    ensure_table(db).await?;
    let sql = match db.dialect() {
        Dialect::Postgres => format!(
            "INSERT INTO {HEARTBEATS_TABLE} (instance, app_version, seen_at) VALUES (?, ?, clock_timestamp()) \
             ON CONFLICT (instance) DO UPDATE SET app_version = EXCLUDED.app_version, seen_at = EXCLUDED.seen_at"
        ),
        Dialect::Mysql => format!(
            "INSERT INTO {HEARTBEATS_TABLE} (instance, app_version, seen_at) VALUES (?, ?, CURRENT_TIMESTAMP(3)) \
             ON DUPLICATE KEY UPDATE app_version = VALUES(app_version), seen_at = VALUES(seen_at)"
        ),
        Dialect::Sqlite => format!(
            "INSERT INTO {HEARTBEATS_TABLE} (instance, app_version, seen_at) \
             VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) \
             ON CONFLICT (instance) DO UPDATE SET app_version = excluded.app_version, seen_at = excluded.seen_at"
        ),
    };
    db.execute_with(&sql, &[instance.into(), app_version.into()])
        .await?;
    Ok(())
}

/// Removes an instance's row (it shut down cleanly).
pub async fn remove<B: Backend>(db: &mut B, instance: &str) -> DbResult<bool> {
    if !db.table_exists(HEARTBEATS_TABLE).await? {
        return Ok(false);
    }
    let sql = format!("DELETE FROM {HEARTBEATS_TABLE} WHERE instance = ?");
    Ok(db.execute_with(&sql, &[instance.into()]).await? > 0)
}

/// Every heartbeat with its age (none when the table does not exist).
pub async fn all<B: Backend>(db: &mut B) -> DbResult<Vec<Heartbeat>> {
    if !db.table_exists(HEARTBEATS_TABLE).await? {
        return Ok(Vec::new());
    }
    let age = match db.dialect() {
        Dialect::Postgres => {
            "(extract(epoch from (clock_timestamp() - seen_at)) * 1000)::bigint::text".to_string()
        }
        Dialect::Mysql => {
            "CAST(TIMESTAMPDIFF(MICROSECOND, seen_at, CURRENT_TIMESTAMP(3)) DIV 1000 AS CHAR)"
                .to_string()
        }
        Dialect::Sqlite => {
            "CAST(CAST((julianday('now') - julianday(seen_at)) * 86400000.0 AS INTEGER) AS TEXT)"
                .to_string()
        }
    };
    let sql = format!(
        "SELECT {}, {}, {age} FROM {HEARTBEATS_TABLE}",
        db.as_text("instance"),
        db.as_text("app_version")
    );
    let mut out = Vec::new();
    for row in db.query_texts(&sql, &[]).await? {
        let cell = |i: usize| row.get(i).cloned().flatten().unwrap_or_default();
        out.push(Heartbeat {
            instance: cell(0),
            app_version: cell(1),
            age_ms: cell(2).trim().parse().unwrap_or(i64::MAX),
        });
    }
    out.sort_by(|a, b| a.instance.cmp(&b.instance));
    Ok(out)
}

/// The heartbeats younger than `stale`.
pub async fn fresh<B: Backend>(db: &mut B, stale: Duration) -> DbResult<Vec<Heartbeat>> {
    let limit = stale.as_millis() as i64;
    Ok(all(db)
        .await?
        .into_iter()
        .filter(|h| h.age_ms <= limit)
        .collect())
}
