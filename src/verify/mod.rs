//! `straddle verify`: proves on a scratch database that every migration can
//! be undone. For each migration in order: schema snapshot S0, up, S1, down,
//! S2, up again, S3; S2 must equal S0 and S3 must equal S1. Before each
//! migration every table holds a few generated rows (or the rows of
//! `--seed`), and row counts and column checksums after the up and after the
//! down show data that was lost.
//!
//! Work is reused: where DDL is transactional (PostgreSQL, SQLite) a
//! migration's up runs in a transaction, its down and re-up inside a
//! savepoint that is rolled back afterwards, so the state after the up is
//! kept without replaying anything. Elsewhere (MySQL, `-- no-transaction`
//! migrations) the state after the up is checked by a snapshot and, only
//! when a failure left something else behind, rebuilt by replaying the ups.
//!
//! Extension points for the next features ([`Hook`]): a hook sees every
//! statement before and after it runs, and the database after each up and
//! each down, and may add problems to the migration's report.

pub mod checks;
pub mod cluster;
pub mod copy;
mod data;
mod engine;
mod hook;
mod introspect_mysql;
mod introspect_pg;
mod introspect_sqlite;
mod names;
pub mod queries;
pub mod report;
pub mod schema;
pub mod scratch;
pub mod trace;

use std::path::PathBuf;

use serde::Serialize;

pub use data::{ColumnData, Data, DataChanges, TableData};
pub use engine::run;
pub use hook::{Hook, NoHook, Step};
pub use schema::{Comparison, Schema};
pub use scratch::{Scratch, ScratchError};

use crate::db::{AnyBackend, Backend, DbResult};
use crate::dialect::Dialect;
use crate::finding::Category;
use crate::runner::{Prepared, prepare};
use crate::source::{Directive, Migration, MigrationSet, Phase, parse_comment};

/// The schema of the connected database.
pub async fn introspect(db: &mut AnyBackend) -> DbResult<Schema> {
    match db.dialect() {
        Dialect::Postgres => introspect_pg::introspect(db).await,
        Dialect::Mysql => introspect_mysql::introspect(db).await,
        Dialect::Sqlite => introspect_sqlite::introspect(db).await,
    }
}

/// A `--seed` file: SQL run once at the start instead of generated rows.
#[derive(Clone, Debug)]
pub struct Seed {
    pub path: PathBuf,
    pub text: String,
}

/// How to verify.
#[derive(Clone, Debug)]
pub struct VerifyOptions {
    /// Stop at the first migration with an error.
    pub fail_fast: bool,
    /// Generated rows wanted in every table before each migration (0: none).
    pub rows: u64,
    /// SQL run at the start (replaces the generated rows).
    pub seed: Option<Seed>,
    /// Statements run on every scratch connection before anything else,
    /// the way the application's own migration runner prepares its session
    /// (`SET FOREIGN_KEY_CHECKS = 0`, `PRAGMA foreign_keys = OFF`).
    pub session: Vec<String>,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            fail_fast: false,
            rows: 3,
            seed: None,
            session: Vec::new(),
        }
    }
}

/// A migration ready to verify.
#[derive(Clone, Debug)]
pub struct Planned {
    pub prepared: Prepared,
    /// A contract (else an expand).
    pub contract: bool,
    /// The up file holds a `straddle:allow` (or `allow-file`) for a
    /// data-loss rule: data it loses is reported, not an error.
    pub data_loss_allowed: bool,
    /// The up file cannot be split into statements.
    pub up_error: Option<String>,
    /// The down file cannot be split into statements.
    pub down_error: Option<String>,
}

impl Planned {
    pub fn version(&self) -> &str {
        &self.prepared.version
    }
}

fn allows_data_loss(migration: &Migration, dialect: Dialect) -> bool {
    let is_data_loss = |rule: &str| {
        crate::lint::find_rule(rule).is_some_and(|r| r.meta().category == Category::DataLoss)
    };
    if migration
        .directives
        .allow_file
        .iter()
        .any(|a| a.rules.iter().any(|r| is_data_loss(r)))
    {
        return true;
    }
    let file = crate::sql::parse_file(&migration.up.text, dialect);
    file.comments.iter().any(|c| {
        matches!(
            parse_comment(&c.text, c.span.start),
            Some(Ok(Directive::Allow(a) | Directive::AllowFile(a)))
                if a.rules.iter().any(|r| is_data_loss(r))
        )
    })
}

/// The migrations of `set`, in order, split into statements the way the
/// runner sends them.
pub fn plan(set: &MigrationSet, dialect: Dialect) -> Vec<Planned> {
    set.migrations
        .iter()
        .map(|m| {
            let contract = matches!(crate::phase::effective_phase(m), Phase::Contract { .. });
            let data_loss_allowed = allows_data_loss(m, dialect);
            match prepare(m, dialect) {
                Ok(prepared) => Planned {
                    prepared,
                    contract,
                    data_loss_allowed,
                    up_error: None,
                    down_error: None,
                },
                Err(e) => {
                    // Which file is broken? Prepare the up alone to see.
                    let mut up_only = m.clone();
                    up_only.down = None;
                    match prepare(&up_only, dialect) {
                        Ok(mut prepared) => {
                            prepared.down_text = m.down.as_ref().map(|d| d.text.clone());
                            prepared.down_path = m.down.as_ref().map(|d| d.path.clone());
                            Planned {
                                prepared,
                                contract,
                                data_loss_allowed,
                                up_error: None,
                                down_error: Some(e.to_string()),
                            }
                        }
                        Err(up) => Planned {
                            prepared: Prepared {
                                version: m.version.to_string(),
                                name: m.name.clone(),
                                phase: if contract { "contract" } else { "expand" }.to_string(),
                                pair: None,
                                checksum: String::new(),
                                up_text: m.up.text.clone(),
                                down_text: m.down.as_ref().map(|d| d.text.clone()),
                                up_path: Some(m.up.path.clone()),
                                down_path: m.down.as_ref().map(|d| d.path.clone()),
                                up: Vec::new(),
                                down: Vec::new(),
                                no_transaction_up: m.no_transaction,
                                no_transaction_down: m.no_transaction,
                            },
                            contract,
                            data_loss_allowed,
                            up_error: Some(up.to_string()),
                            down_error: None,
                        },
                    }
                }
            }
        })
        .collect()
}

/// How serious a problem is: errors fail verify (exit 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    Error,
    Warning,
    Note,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

/// What went wrong (or is worth knowing) about one migration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProblemKind {
    /// The up failed: nothing after it can be verified.
    UpFailed,
    /// There is no down file: the migration cannot be rolled back.
    DownMissing,
    /// The down failed.
    DownFailed,
    /// After the down the schema differs from before the up (S2 ≠ S0).
    DownNotRestoring,
    /// The up failed when run again after the down.
    ReUpFailed,
    /// The up run again after the down gave another schema (S3 ≠ S1).
    ReUpDiffers,
    /// Only the order of a table's columns changed.
    ColumnOrder,
    /// Rows, columns or tables holding data are gone.
    DataLost,
    /// Values are still there but different.
    DataChanged,
    /// Generated rows could not be put in a table.
    TableNotFilled,
    /// The up refused the generated rows; it was verified on empty tables.
    RowsRejected,
    /// Not verified (an earlier up failed, or `--fail-fast`).
    NotRun,
    /// Added by a [`Hook`].
    Hook,
    /// An expand broke a query of the old release (`--old-queries`).
    OldQueryBroken,
    /// A query of the new release does not prepare before its contract, or
    /// the contract breaks it (`--new-queries`).
    NewQueryBroken,
    /// On the source's data (`--from-url`), a statement rewrites a table or
    /// builds an index while holding a lock that blocks writes.
    LongLock,
}

impl ProblemKind {
    pub fn name(self) -> &'static str {
        match self {
            ProblemKind::UpFailed => "up-failed",
            ProblemKind::DownMissing => "down-missing",
            ProblemKind::DownFailed => "down-failed",
            ProblemKind::DownNotRestoring => "down-not-restoring",
            ProblemKind::ReUpFailed => "re-up-failed",
            ProblemKind::ReUpDiffers => "re-up-differs",
            ProblemKind::ColumnOrder => "column-order",
            ProblemKind::DataLost => "data-lost",
            ProblemKind::DataChanged => "data-changed",
            ProblemKind::TableNotFilled => "table-not-filled",
            ProblemKind::RowsRejected => "rows-rejected",
            ProblemKind::NotRun => "not-run",
            ProblemKind::Hook => "hook",
            ProblemKind::OldQueryBroken => "old-query-broken",
            ProblemKind::NewQueryBroken => "new-query-broken",
            ProblemKind::LongLock => "long-lock",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Problem {
    pub kind: ProblemKind,
    pub severity: Severity,
    pub message: String,
    /// `file:line:column` of the statement that failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    /// The database's own error message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// A unified diff of the normalised schemas.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

impl Problem {
    pub fn new(kind: ProblemKind, severity: Severity, message: impl Into<String>) -> Problem {
        Problem {
            kind,
            severity,
            message: message.into(),
            place: None,
            error: None,
            diff: None,
        }
    }
}

/// The outcome of one migration.
#[derive(Clone, Debug, Serialize)]
pub struct MigrationReport {
    pub version: String,
    pub name: String,
    pub phase: String,
    pub seconds: f64,
    pub problems: Vec<Problem>,
    /// `--trace`: each statement of the up, its locks and rewrites.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub trace: Vec<trace::TracedStatement>,
}

impl MigrationReport {
    pub fn new(m: &Planned) -> MigrationReport {
        MigrationReport {
            version: m.prepared.version.clone(),
            name: m.prepared.name.clone(),
            phase: m.prepared.phase.clone(),
            seconds: 0.0,
            problems: Vec::new(),
            trace: Vec::new(),
        }
    }

    pub fn has(&self, kind: ProblemKind) -> bool {
        self.problems.iter().any(|p| p.kind == kind)
    }

    pub fn failed(&self) -> bool {
        self.problems.iter().any(|p| p.severity == Severity::Error)
    }

    /// `ok`, `failed`, `warning` or `not-run`.
    pub fn status(&self) -> &'static str {
        if self.has(ProblemKind::NotRun) {
            "not-run"
        } else if self.failed() {
            "failed"
        } else if self
            .problems
            .iter()
            .any(|p| p.severity == Severity::Warning)
        {
            "warning"
        } else {
            "ok"
        }
    }
}

/// Counts over a whole run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    pub migrations: usize,
    pub verified: usize,
    pub failed: usize,
    pub up_failed: usize,
    pub missing_downs: usize,
    pub failing_downs: usize,
    pub non_restoring_downs: usize,
    pub failing_re_ups: usize,
    pub differing_re_ups: usize,
    /// Migrations whose only schema difference is a column order.
    pub column_order_only: usize,
    pub data_lost: usize,
    pub not_run: usize,
    /// Expands that broke an old release's query (`--old-queries`).
    pub old_queries_broken: usize,
    /// Contracts a new release's query is not ready for (`--new-queries`).
    pub new_queries_broken: usize,
}

/// Everything verify found.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub dialect: Dialect,
    pub server: String,
    /// Where it ran (passwords masked).
    pub scratch: String,
    /// The scratch database's name (dropped at the end).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scratch_database: Option<String>,
    pub seconds: f64,
    pub summary: Summary,
    pub migrations: Vec<MigrationReport>,
    /// `--from-url`: the database whose schema was copied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<copy::SourceInfo>,
    /// `--old-queries` / `--new-queries`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queries: Option<queries::QueriesSummary>,
}

impl Report {
    pub fn failed(&self) -> bool {
        self.migrations.iter().any(MigrationReport::failed)
    }

    pub fn summarise(&mut self) {
        let mut s = Summary {
            migrations: self.migrations.len(),
            ..Summary::default()
        };
        for m in &self.migrations {
            if m.has(ProblemKind::NotRun) {
                s.not_run += 1;
                continue;
            }
            s.verified += 1;
            if m.failed() {
                s.failed += 1;
            }
            s.up_failed += usize::from(m.has(ProblemKind::UpFailed));
            s.missing_downs += usize::from(m.has(ProblemKind::DownMissing));
            s.failing_downs += usize::from(m.has(ProblemKind::DownFailed));
            s.non_restoring_downs += usize::from(m.has(ProblemKind::DownNotRestoring));
            s.failing_re_ups += usize::from(m.has(ProblemKind::ReUpFailed));
            s.differing_re_ups += usize::from(m.has(ProblemKind::ReUpDiffers));
            s.old_queries_broken += usize::from(m.has(ProblemKind::OldQueryBroken));
            s.new_queries_broken += usize::from(m.has(ProblemKind::NewQueryBroken));
            s.data_lost += usize::from(
                m.problems
                    .iter()
                    .any(|p| p.kind == ProblemKind::DataLost && p.severity == Severity::Error),
            );
            if m.has(ProblemKind::ColumnOrder)
                && !m.has(ProblemKind::DownNotRestoring)
                && !m.has(ProblemKind::ReUpDiffers)
            {
                s.column_order_only += 1;
            }
        }
        self.summary = s;
    }
}

/// What a run tells its caller while it works.
pub enum Progress<'a> {
    /// Migration `index` (0-based) of `total` starts.
    Start {
        index: usize,
        total: usize,
        migration: &'a Planned,
    },
    /// It is done.
    Done {
        index: usize,
        total: usize,
        report: &'a MigrationReport,
    },
}

/// Why verify could not run at all (exit 2).
#[derive(Debug)]
pub enum VerifyError {
    /// The scratch database broke, or straddle's own queries failed.
    Database(String),
    /// The seed file failed.
    Seed(String),
}

impl std::fmt::Display for VerifyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VerifyError::Database(m) | VerifyError::Seed(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for VerifyError {}
