//! `straddle adopt`: migrations already applied by sqlx (`_sqlx_migrations`)
//! or diesel (`__diesel_schema_migrations`) are recorded as applied in
//! straddle's history, so that an existing project switches without running
//! them again.

use super::plan::split;
use super::{RunError, RunnerOptions, checksum};
use crate::db::{Backend, History, HistoryRow, Status};
use crate::dialect::Dialect;
use crate::phase::effective_phase;
use crate::source::{MigrationSet, Phase};

/// The tool whose history is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum AdoptSource {
    Sqlx,
    Diesel,
}

impl AdoptSource {
    pub fn table(self) -> &'static str {
        match self {
            AdoptSource::Sqlx => "_sqlx_migrations",
            AdoptSource::Diesel => "__diesel_schema_migrations",
        }
    }
}

/// What adoption found in one tool's table.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct AdoptOutcome {
    pub source: Option<AdoptSource>,
    /// Versions now recorded as applied (or that would be, in a dry run).
    pub adopted: Vec<String>,
    /// Already in straddle's history.
    pub already: Vec<String>,
    /// Applied by the tool, but no file on disk has the version: recorded
    /// anyway (with no text), and reported.
    pub missing_on_disk: Vec<String>,
    /// sqlx's checksum differs from the file's: recorded with sqlx's
    /// checksum, so that `migrate` reports the drift.
    pub checksum_differs: Vec<String>,
    /// sqlx rows with `success = false` (partly applied): not adopted.
    pub dirty: Vec<String>,
}

fn digits(v: &str) -> String {
    v.chars()
        .filter(char::is_ascii_digit)
        .collect::<String>()
        .trim_start_matches('0')
        .to_string()
}

/// Records every migration applied by sqlx or diesel (or only by `only`) as
/// applied in `straddle_migrations`. The caller holds the runner lock.
pub async fn adopt<B: Backend>(
    db: &mut B,
    set: &MigrationSet,
    only: Option<AdoptSource>,
    options: &RunnerOptions,
    dry_run: bool,
) -> Result<Vec<AdoptOutcome>, RunError> {
    let dialect = db.dialect();
    let sources: Vec<AdoptSource> = match only {
        Some(s) => vec![s],
        None => vec![AdoptSource::Sqlx, AdoptSource::Diesel],
    };
    let mut outcomes = Vec::new();
    let mut found_any = false;
    let existing = db.read_history().await?;
    let mut rows: Vec<HistoryRow> = Vec::new();
    for source in sources {
        if !db.table_exists(source.table()).await? {
            continue;
        }
        found_any = true;
        let mut outcome = AdoptOutcome {
            source: Some(source),
            ..AdoptOutcome::default()
        };
        // (version, description, success, checksum hex, duration ms)
        let tool_rows: Vec<(String, String, bool, Option<String>, i64)> = match source {
            AdoptSource::Sqlx => {
                let hex = match dialect {
                    Dialect::Postgres => "encode(checksum, 'hex')",
                    Dialect::Mysql => "LOWER(HEX(checksum))",
                    Dialect::Sqlite => "lower(hex(checksum))",
                };
                let sql = format!(
                    "SELECT {}, {}, {}, {hex}, {} FROM _sqlx_migrations",
                    db.as_text("version"),
                    db.as_text("description"),
                    db.as_text("success"),
                    db.as_text("execution_time"),
                );
                db.query_texts(&sql, &[])
                    .await?
                    .into_iter()
                    .map(|r| {
                        let cell = |i: usize| r.get(i).cloned().flatten().unwrap_or_default();
                        let ok = matches!(cell(2).as_str(), "1" | "t" | "true");
                        let ns: i64 = cell(4).parse().unwrap_or(0);
                        (cell(0), cell(1), ok, Some(cell(3)), (ns / 1_000_000).max(0))
                    })
                    .collect()
            }
            AdoptSource::Diesel => {
                let sql = format!(
                    "SELECT {} FROM __diesel_schema_migrations",
                    db.as_text("version")
                );
                db.query_texts(&sql, &[])
                    .await?
                    .into_iter()
                    .map(|r| {
                        let v = r.first().cloned().flatten().unwrap_or_default();
                        (v, String::new(), true, None, 0)
                    })
                    .collect()
            }
        };
        for (version, description, success, sum, duration_ms) in tool_rows {
            let migration = set
                .migrations
                .iter()
                .find(|m| digits(m.version.as_str()) == digits(&version));
            let recorded_version = migration
                .map(|m| m.version.to_string())
                .unwrap_or_else(|| version.clone());
            if !success {
                outcome.dirty.push(recorded_version);
                continue;
            }
            let known = existing
                .iter()
                .chain(rows.iter())
                .any(|r| digits(&r.version) == digits(&recorded_version));
            if known {
                outcome.already.push(recorded_version);
                continue;
            }
            let row = match migration {
                Some(m) => {
                    let file_sum = checksum(&m.up.text);
                    let same = sum.as_ref().is_none_or(|s| *s == file_sum);
                    if !same {
                        outcome.checksum_differs.push(recorded_version.clone());
                    }
                    let (phase, pair) = match effective_phase(m) {
                        Phase::Expand => ("expand".to_string(), None),
                        Phase::Contract { expand } => {
                            ("contract".to_string(), Some(expand.to_string()))
                        }
                    };
                    let total = split(&m.up.text, "", dialect).map_or(0, |s| s.len()) as i64;
                    HistoryRow {
                        version: recorded_version.clone(),
                        name: m.name.clone(),
                        phase,
                        pair,
                        checksum: if same {
                            file_sum
                        } else {
                            sum.clone().unwrap_or_default()
                        },
                        up_sql: same.then(|| m.up.text.clone()),
                        down_sql: m.down.as_ref().map(|d| d.text.clone()),
                        no_transaction: m.no_transaction,
                        status: Status::Applied,
                        statements_total: total,
                        statements_done: total,
                        applied_at: None,
                        duration_ms,
                        applied_by: format!(
                            "adopted from {} ({})",
                            source.table(),
                            options.applied_by
                        ),
                    }
                }
                None => {
                    outcome.missing_on_disk.push(recorded_version.clone());
                    HistoryRow {
                        version: recorded_version.clone(),
                        name: description.replace(' ', "_"),
                        phase: "expand".to_string(),
                        pair: None,
                        checksum: sum.clone().unwrap_or_default(),
                        up_sql: None,
                        down_sql: None,
                        no_transaction: false,
                        status: Status::Applied,
                        statements_total: 0,
                        statements_done: 0,
                        applied_at: None,
                        duration_ms,
                        applied_by: format!(
                            "adopted from {} ({})",
                            source.table(),
                            options.applied_by
                        ),
                    }
                }
            };
            outcome.adopted.push(recorded_version);
            rows.push(row);
        }
        outcomes.push(outcome);
    }
    if !found_any {
        return Err(RunError::Usage(
            "nothing to adopt: this database has neither _sqlx_migrations nor __diesel_schema_migrations"
                .to_string(),
        ));
    }
    if dry_run || rows.is_empty() {
        return Ok(outcomes);
    }
    db.ensure_history().await?;
    // Plain inserts: one transaction on every backend.
    db.begin().await?;
    for row in &rows {
        if let Err(e) = db.insert_history(row).await {
            let _ = db.rollback().await;
            return Err(e.into());
        }
    }
    db.commit().await?;
    Ok(outcomes)
}
