//! straddle's own rollout tables, created on first use and never mixed with
//! the app's: `straddle_rollouts` (one row per rollout of an app version)
//! and `straddle_rollout_events` (the audit trail: when, which version, who,
//! why). Times come from the database's clock, so that deploy machines with
//! drifting clocks agree, and are stored as RFC 3339 UTC text with
//! milliseconds (`2024-05-01T12:00:00.123Z`).

use std::time::{Duration, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::db::{Backend, DbError, DbResult, Param};
use crate::dialect::Dialect;

pub const ROLLOUTS_TABLE: &str = "straddle_rollouts";
pub const EVENTS_TABLE: &str = "straddle_rollout_events";

/// Where a rollout stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RolloutState {
    InProgress,
    Complete,
    Aborted,
}

impl RolloutState {
    pub fn as_str(self) -> &'static str {
        match self {
            RolloutState::InProgress => "in-progress",
            RolloutState::Complete => "complete",
            RolloutState::Aborted => "aborted",
        }
    }

    fn parse(text: &str) -> RolloutState {
        match text {
            "complete" => RolloutState::Complete,
            "aborted" => RolloutState::Aborted,
            _ => RolloutState::InProgress,
        }
    }
}

/// An expand a rollout took into its window when it started: the history
/// row's version and `applied_at`, so that an expand rolled back and applied
/// again later belongs to a later rollout.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    pub version: String,
    pub applied_at: String,
}

/// One row of `straddle_rollouts`.
#[derive(Clone, Debug, Serialize)]
pub struct Rollout {
    pub id: i64,
    pub app_version: String,
    pub state: RolloutState,
    pub percent: Option<i64>,
    pub stage: Option<String>,
    /// The expands of its window.
    pub expands: Vec<Claim>,
    pub started_at: String,
    pub started_by: String,
    pub completed_at: Option<String>,
    /// When it was aborted.
    pub aborted_at: Option<String>,
}

impl Rollout {
    /// `#3 (app 2.0.0)`.
    pub fn label(&self) -> String {
        format!("#{} (app {})", self.id, self.app_version)
    }

    /// `40%, stage canary`, or `no progress reported`.
    pub fn progress_text(&self) -> String {
        match (self.percent, &self.stage) {
            (Some(p), Some(s)) => format!("{p}%, stage {s}"),
            (Some(p), None) => format!("{p}%"),
            (None, Some(s)) => format!("stage {s}"),
            (None, None) => "no progress reported yet".to_string(),
        }
    }
}

/// One row of `straddle_rollout_events`.
#[derive(Clone, Debug, Serialize)]
pub struct Event {
    pub id: i64,
    pub rollout_id: Option<i64>,
    /// RFC 3339, UTC.
    pub at: String,
    /// `start`, `progress`, `complete`, `abort`, `rollback`, `force-contract`,
    /// `auto-rollback`.
    pub kind: String,
    pub app_version: Option<String>,
    /// The migrations concerned, comma-separated.
    pub migrations: Option<String>,
    pub actor: String,
    pub reason: Option<String>,
    pub detail: Option<String>,
}

/// An event to record.
#[derive(Clone, Debug, Default)]
pub struct NewEvent {
    pub rollout_id: Option<i64>,
    pub kind: String,
    pub app_version: Option<String>,
    pub migrations: Vec<String>,
    pub actor: String,
    pub reason: Option<String>,
    pub detail: Option<String>,
}

fn suffix(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Mysql => " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
        _ => "",
    }
}

fn rollouts_ddl(dialect: Dialect) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {ROLLOUTS_TABLE} (
    id BIGINT NOT NULL PRIMARY KEY,
    app_version VARCHAR(255) NOT NULL,
    state VARCHAR(16) NOT NULL,
    percent_done INTEGER NULL,
    stage VARCHAR(255) NULL,
    expands TEXT NOT NULL,
    started_at VARCHAR(32) NOT NULL,
    started_by VARCHAR(255) NOT NULL,
    completed_at VARCHAR(32) NULL,
    aborted_at VARCHAR(32) NULL
){}",
        suffix(dialect)
    )
}

fn events_ddl(dialect: Dialect) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {EVENTS_TABLE} (
    id BIGINT NOT NULL PRIMARY KEY,
    rollout_id BIGINT NULL,
    happened_at VARCHAR(32) NOT NULL,
    kind VARCHAR(32) NOT NULL,
    app_version VARCHAR(255) NULL,
    migrations TEXT NULL,
    actor VARCHAR(255) NOT NULL,
    reason TEXT NULL,
    detail TEXT NULL
){}",
        suffix(dialect)
    )
}

/// Creates both tables when they are missing.
pub async fn ensure_tables<B: Backend>(db: &mut B) -> DbResult<()> {
    let dialect = db.dialect();
    if !db.table_exists(ROLLOUTS_TABLE).await? {
        db.execute(&rollouts_ddl(dialect)).await?;
    }
    if !db.table_exists(EVENTS_TABLE).await? {
        db.execute(&events_ddl(dialect)).await?;
    }
    Ok(())
}

/// The database clock, in milliseconds since the Unix epoch.
pub async fn now_ms<B: Backend>(db: &mut B) -> DbResult<i64> {
    let sql = match db.dialect() {
        Dialect::Postgres => "SELECT (extract(epoch from clock_timestamp()) * 1000)::bigint::text",
        Dialect::Mysql => "SELECT CAST(FLOOR(UNIX_TIMESTAMP(CURRENT_TIMESTAMP(3)) * 1000) AS CHAR)",
        Dialect::Sqlite => {
            "SELECT CAST(CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER) AS TEXT)"
        }
    };
    let text = scalar(db, sql, &[]).await?.unwrap_or_default();
    text.trim()
        .parse::<f64>()
        .map(|v| v as i64)
        .map_err(|_| DbError::other(format!("the database clock answered `{text}`")))
}

/// RFC 3339 UTC text with milliseconds.
pub fn format_ms(ms: i64) -> String {
    let t = UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_millis(t).to_string()
}

/// Milliseconds since the epoch of an RFC 3339 text written by straddle (or
/// a history `applied_at`).
pub fn parse_time(text: &str) -> Option<i64> {
    let t = humantime::parse_rfc3339_weak(text.trim().trim_end_matches('Z')).ok()?;
    Some(t.duration_since(UNIX_EPOCH).ok()?.as_millis() as i64)
}

/// `5m 12s`, rounded to whole seconds.
pub fn human(d: Duration) -> String {
    let secs = d.as_secs();
    if secs == 0 {
        return format!("{}ms", d.as_millis());
    }
    humantime::format_duration(Duration::from_secs(secs)).to_string()
}

async fn scalar<B: Backend>(db: &mut B, sql: &str, params: &[Param]) -> DbResult<Option<String>> {
    Ok(db
        .query_texts(sql, params)
        .await?
        .into_iter()
        .next()
        .and_then(|r| r.into_iter().next().flatten()))
}

const ROLLOUT_COLUMNS: [&str; 10] = [
    "id",
    "app_version",
    "state",
    "percent_done",
    "stage",
    "expands",
    "started_at",
    "started_by",
    "completed_at",
    "aborted_at",
];

/// Every rollout, oldest first (none when the table does not exist).
pub async fn rollouts<B: Backend>(db: &mut B) -> DbResult<Vec<Rollout>> {
    if !db.table_exists(ROLLOUTS_TABLE).await? {
        return Ok(Vec::new());
    }
    let columns: Vec<String> = ROLLOUT_COLUMNS.iter().map(|c| db.as_text(c)).collect();
    let sql = format!("SELECT {} FROM {ROLLOUTS_TABLE}", columns.join(", "));
    let mut out = Vec::new();
    for mut row in db.query_texts(&sql, &[]).await? {
        row.resize(ROLLOUT_COLUMNS.len(), None);
        let text = |i: usize| row[i].clone().unwrap_or_default();
        out.push(Rollout {
            id: text(0).trim().parse().unwrap_or(0),
            app_version: text(1),
            state: RolloutState::parse(&text(2)),
            percent: row[3].as_deref().and_then(|p| p.trim().parse().ok()),
            stage: row[4].clone(),
            expands: serde_json::from_str(&text(5)).unwrap_or_default(),
            started_at: text(6),
            started_by: text(7),
            completed_at: row[8].clone(),
            aborted_at: row[9].clone(),
        });
    }
    out.sort_by_key(|r| r.id);
    Ok(out)
}

const EVENT_COLUMNS: [&str; 9] = [
    "id",
    "rollout_id",
    "happened_at",
    "kind",
    "app_version",
    "migrations",
    "actor",
    "reason",
    "detail",
];

/// The audit trail, oldest first (none when the table does not exist).
pub async fn events<B: Backend>(db: &mut B) -> DbResult<Vec<Event>> {
    if !db.table_exists(EVENTS_TABLE).await? {
        return Ok(Vec::new());
    }
    let columns: Vec<String> = EVENT_COLUMNS.iter().map(|c| db.as_text(c)).collect();
    let sql = format!("SELECT {} FROM {EVENTS_TABLE}", columns.join(", "));
    let mut out = Vec::new();
    for mut row in db.query_texts(&sql, &[]).await? {
        row.resize(EVENT_COLUMNS.len(), None);
        out.push(Event {
            id: row[0]
                .as_deref()
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0),
            rollout_id: row[1].as_deref().and_then(|v| v.trim().parse().ok()),
            at: row[2].clone().unwrap_or_default(),
            kind: row[3].clone().unwrap_or_default(),
            app_version: row[4].clone(),
            migrations: row[5].clone(),
            actor: row[6].clone().unwrap_or_default(),
            reason: row[7].clone(),
            detail: row[8].clone(),
        });
    }
    out.sort_by_key(|e| e.id);
    Ok(out)
}

async fn next_id<B: Backend>(db: &mut B, table: &str) -> DbResult<i64> {
    let sql = format!(
        "SELECT {} FROM (SELECT COALESCE(MAX(id), 0) + 1 AS next_id FROM {table}) n",
        db.as_text("next_id")
    );
    Ok(scalar(db, &sql, &[])
        .await?
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(1))
}

fn int_or_null(n: Option<i64>) -> String {
    n.map(|n| n.to_string())
        .unwrap_or_else(|| "NULL".to_string())
}

async fn insert_event<B: Backend>(db: &mut B, event: &NewEvent, at: &str) -> DbResult<()> {
    let id = next_id(db, EVENTS_TABLE).await?;
    let sql = format!(
        "INSERT INTO {EVENTS_TABLE} (id, rollout_id, happened_at, kind, app_version, migrations, actor, reason, detail) \
         VALUES ({id}, {}, ?, ?, ?, ?, ?, ?, ?)",
        int_or_null(event.rollout_id)
    );
    let migrations = (!event.migrations.is_empty()).then(|| event.migrations.join(","));
    db.execute_with(
        &sql,
        &[
            at.into(),
            event.kind.as_str().into(),
            event.app_version.clone().into(),
            migrations.into(),
            event.actor.as_str().into(),
            event.reason.clone().into(),
            event.detail.clone().into(),
        ],
    )
    .await?;
    Ok(())
}

/// Runs `body` and the event in one transaction (creating the tables
/// first); a clash with another straddle writing at the same moment is
/// reported as such.
async fn write<B: Backend>(
    db: &mut B,
    event: &NewEvent,
    body: impl AsyncFnOnce(&mut B, &str) -> DbResult<()>,
) -> DbResult<()> {
    ensure_tables(db).await?;
    let at = format_ms(now_ms(db).await?);
    db.begin().await?;
    let result = async {
        body(db, &at).await?;
        insert_event(db, event, &at).await
    }
    .await;
    match result {
        Ok(()) => db.commit().await,
        Err(mut e) => {
            let _ = db.rollback().await;
            if e.kind == crate::db::ErrorKind::AlreadyExists
                || e.message.to_ascii_lowercase().contains("duplicate")
                || e.message.to_ascii_lowercase().contains("unique")
            {
                e.message = format!(
                    "another straddle wrote the rollout tables at the same moment; run the command again ({})",
                    e.message
                );
            }
            Err(e)
        }
    }
}

/// Records an event that changes no rollout (a forced contract, an
/// automatic rollback).
pub async fn record<B: Backend>(db: &mut B, event: &NewEvent) -> DbResult<()> {
    write(db, event, async |_, _| Ok(())).await
}

/// Starts a rollout with these expands in its window; returns its id.
pub async fn start<B: Backend>(
    db: &mut B,
    app_version: &str,
    claims: &[Claim],
    event: &NewEvent,
) -> DbResult<i64> {
    let expands = serde_json::to_string(claims).unwrap_or_else(|_| "[]".to_string());
    let mut id = 0;
    let mut event = event.clone();
    ensure_tables(db).await?;
    let next = next_id(db, ROLLOUTS_TABLE).await?;
    event.rollout_id = Some(next);
    write(db, &event, async |db, at| {
        let sql = format!(
            "INSERT INTO {ROLLOUTS_TABLE} (id, app_version, state, percent_done, stage, expands, started_at, started_by) \
             VALUES ({next}, ?, 'in-progress', NULL, NULL, ?, ?, ?)"
        );
        db.execute_with(
            &sql,
            &[
                app_version.into(),
                expands.as_str().into(),
                at.into(),
                event.actor.as_str().into(),
            ],
        )
        .await?;
        id = next;
        Ok(())
    })
    .await?;
    Ok(id)
}

/// Records progress of a rollout in progress.
pub async fn progress<B: Backend>(
    db: &mut B,
    id: i64,
    percent: Option<i64>,
    stage: Option<&str>,
    event: &NewEvent,
) -> DbResult<()> {
    write(db, event, async |db, _| {
        let mut sets = Vec::new();
        let mut params: Vec<Param> = Vec::new();
        if let Some(p) = percent {
            sets.push(format!("percent_done = {p}"));
        }
        if let Some(s) = stage {
            sets.push("stage = ?".to_string());
            params.push(s.into());
        }
        if sets.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "UPDATE {ROLLOUTS_TABLE} SET {} WHERE id = {id}",
            sets.join(", ")
        );
        db.execute_with(&sql, &params).await?;
        Ok(())
    })
    .await
}

/// Marks a rollout complete (100 %).
pub async fn complete<B: Backend>(db: &mut B, id: i64, event: &NewEvent) -> DbResult<()> {
    write(db, event, async |db, at| {
        let sql = format!(
            "UPDATE {ROLLOUTS_TABLE} SET state = 'complete', percent_done = 100, completed_at = ? WHERE id = {id}"
        );
        db.execute_with(&sql, &[at.into()]).await?;
        Ok(())
    })
    .await
}

/// Marks a rollout aborted.
pub async fn abort<B: Backend>(db: &mut B, id: i64, event: &NewEvent) -> DbResult<()> {
    write(db, event, async |db, at| {
        let sql = format!(
            "UPDATE {ROLLOUTS_TABLE} SET state = 'aborted', aborted_at = ? WHERE id = {id}"
        );
        db.execute_with(&sql, &[at.into()]).await?;
        Ok(())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_trip() {
        let text = format_ms(1_714_564_800_123);
        assert_eq!(text, "2024-05-01T12:00:00.123Z");
        assert_eq!(parse_time(&text), Some(1_714_564_800_123));
        assert_eq!(parse_time("2024-05-01T12:00:00Z"), Some(1_714_564_800_000));
        assert_eq!(parse_time("2024-05-01 12:00:00"), Some(1_714_564_800_000));
        assert_eq!(parse_time("nonsense"), None);
    }
}
