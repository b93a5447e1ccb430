//! The runner: plans and applies `migrate expand`, `migrate contract`,
//! `migrate up` and `migrate rollback`, reports `migrate status`, and adopts
//! histories written by sqlx or diesel.
//!
//! What runs is exactly what was linted: each file is split into statements by
//! the SQL front end ([`crate::sql::parse_file`]) and each statement's own text
//! is sent to the database. A migration runs in one transaction together with
//! its history row where the database allows it (PostgreSQL, SQLite);
//! `-- no-transaction` migrations, and every migration on MySQL (whose DDL
//! commits by itself), run statement by statement with their progress
//! recorded after each statement, so that a failure can be resumed or rolled
//! back precisely.
//!
//! The runner never prints: it reports [`Event`]s to a callback and returns
//! plans, outcomes and errors for the command line to render.

mod adopt;
mod apply;
mod plan;

use std::fmt;
use std::time::Duration;

pub use adopt::{AdoptOutcome, AdoptSource, adopt};
pub use plan::{
    Action, Drift, Plan, Prepared, PreparedStatement, StatusEntry, Step, drift, plan, prepare,
    status,
};

use crate::config::RunnerSection;
use crate::db::{Backend, DbError, History, HistoryRow};
use crate::source::Version;

/// Which migrate command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Pending expands, in order, up to the first pending contract.
    Expand,
    /// Pending contracts whose gate passes (their expand is applied).
    Contract,
    /// Every pending migration whatever its phase, up to `to` if given.
    Up { to: Option<Version> },
    /// Down migrations in reverse order: down to `to` (exclusive), or
    /// `steps` migrations (default 1).
    Rollback {
        to: Option<Version>,
        steps: Option<usize>,
    },
}

impl Command {
    pub fn name(&self) -> &'static str {
        match self {
            Command::Expand => "expand",
            Command::Contract => "contract",
            Command::Up { .. } => "up",
            Command::Rollback { .. } => "rollback",
        }
    }
}

/// Timeouts, retries and switches of one run.
#[derive(Clone, Debug)]
pub struct RunnerOptions {
    pub lock_timeout: Duration,
    pub statement_timeout: Duration,
    pub lock_retries: u32,
    pub retry_backoff: Duration,
    pub retry_backoff_max: Duration,
    pub wait_for_runner: Duration,
    /// Applied migrations missing on disk are reported but do not stop the run.
    pub allow_missing: bool,
    /// Who applies: recorded in the history's `applied_by`.
    pub applied_by: String,
}

impl RunnerOptions {
    pub fn from_config(section: &RunnerSection) -> Self {
        RunnerOptions {
            lock_timeout: section.lock_timeout,
            statement_timeout: section.statement_timeout,
            lock_retries: section.lock_retries,
            retry_backoff: section.retry_backoff,
            retry_backoff_max: section.retry_backoff_max,
            wait_for_runner: section.wait_for_runner,
            allow_missing: false,
            applied_by: default_applied_by(),
        }
    }
}

impl Default for RunnerOptions {
    fn default() -> Self {
        RunnerOptions::from_config(&RunnerSection::default())
    }
}

/// `straddle 0.1.0 by user@host`.
pub fn default_applied_by() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "unknown".to_string());
    let host = std::env::var("HOSTNAME")
        .ok()
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_string())
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_string());
    format!("straddle {} by {user}@{host}", env!("CARGO_PKG_VERSION"))
}

/// Something the runner wants the user to know while it works.
#[derive(Clone, Debug)]
pub enum Event {
    /// Another runner holds the lock; this one waits up to `limit`.
    WaitingForRunner { limit: Duration },
    /// The lock was taken after waiting.
    GotRunnerLock { waited: Duration },
    /// A migration starts.
    Start {
        version: String,
        name: String,
        phase: String,
        action: Action,
    },
    /// A migration is done.
    Done {
        version: String,
        action: Action,
        millis: u128,
    },
    /// A statement hit the lock timeout; it is tried again after `wait`.
    Retry {
        version: String,
        line: usize,
        attempt: u32,
        attempts: u32,
        wait: Duration,
        error: String,
    },
    /// Anything else worth a line.
    Note(String),
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Event::WaitingForRunner { limit } => write!(
                f,
                "another straddle runner is migrating this database; waiting for it (up to {})",
                humantime::format_duration(*limit)
            ),
            Event::GotRunnerLock { waited } => write!(
                f,
                "the other runner finished; continuing after {} ms",
                waited.as_millis()
            ),
            Event::Start {
                version,
                name,
                phase,
                action,
            } => write!(f, "{} {version} {name} ({phase}) ...", action.verb()),
            Event::Done {
                version,
                action,
                millis,
            } => write!(f, "{} {version} in {millis} ms", action.past()),
            Event::Retry {
                version,
                line,
                attempt,
                attempts,
                wait,
                error,
            } => write!(
                f,
                "lock timeout in {version} (statement at line {line}): {error}; attempt {attempt} of {attempts} failed, retrying in {} ms",
                wait.as_millis()
            ),
            Event::Note(text) => f.write_str(text),
        }
    }
}

/// Why a run stopped.
#[derive(Debug)]
pub enum RunError {
    /// Connecting or bookkeeping failed (exit 2).
    Database(DbError),
    /// Another runner kept the lock longer than `wait_for_runner`.
    RunnerBusy(Duration),
    /// Applied migrations whose files changed, or that are missing on disk.
    Drift(Vec<Drift>),
    /// A migration failed; the message says in what state the database is.
    Failed {
        version: String,
        /// `file:line:column` of the failing statement.
        place: String,
        error: DbError,
        /// What the database looks like now and what to do.
        state: String,
    },
    /// The request cannot be done (unknown version, no down file…) (exit 2).
    Usage(String),
}

impl RunError {
    /// The exit code: 1 for a failed migration, drift or a busy lock, 2 for
    /// usage and connection errors.
    pub fn exit_code(&self) -> u8 {
        match self {
            RunError::Database(_) | RunError::Usage(_) => 2,
            _ => 1,
        }
    }
}

impl From<DbError> for RunError {
    fn from(e: DbError) -> Self {
        RunError::Database(e)
    }
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::Database(e) => write!(f, "database error: {e}"),
            RunError::RunnerBusy(waited) => write!(
                f,
                "another straddle runner still holds the migration lock on this database after {}; \
                 nothing was applied. Run again when it is done, or raise [runner] wait_for_runner",
                humantime::format_duration(*waited)
            ),
            RunError::Drift(drifts) => {
                writeln!(
                    f,
                    "the database's history does not match the migration files; nothing was applied:"
                )?;
                for d in drifts {
                    writeln!(f, "{d}")?;
                }
                Ok(())
            }
            RunError::Failed {
                version,
                place,
                error,
                state,
            } => write!(
                f,
                "migration {version} failed at {place}:\n  {}\n{state}",
                error.message.replace('\n', "\n  ")
            ),
            RunError::Usage(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for RunError {}

/// Takes the runner lock, waiting up to `wait` for another runner.
pub async fn lock<B: Backend>(
    db: &mut B,
    wait: Duration,
    log: &mut dyn FnMut(Event),
) -> Result<(), RunError> {
    let start = std::time::Instant::now();
    let mut told = false;
    loop {
        if db.try_lock().await? {
            if told {
                log(Event::GotRunnerLock {
                    waited: start.elapsed(),
                });
            }
            return Ok(());
        }
        if !told {
            log(Event::WaitingForRunner { limit: wait });
            told = true;
        }
        if start.elapsed() >= wait {
            return Err(RunError::RunnerBusy(start.elapsed()));
        }
        tokio::time::sleep(Duration::from_millis(100 + fastrand::u64(0..100))).await;
    }
}

/// Reads the history (empty when the table does not exist yet). With
/// `create`, makes the table first.
pub async fn history<B: Backend>(db: &mut B, create: bool) -> Result<Vec<HistoryRow>, RunError> {
    if create {
        db.ensure_history().await?;
    }
    Ok(db.read_history().await?)
}

/// What a run did.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    /// Versions applied (or resumed to the end).
    pub applied: Vec<String>,
    /// Versions rolled back.
    pub reverted: Vec<String>,
}

pub use apply::execute;

/// SHA-384 of a file's bytes in lower-case hex: what sqlx stores (as bytes)
/// in `_sqlx_migrations.checksum`.
pub fn checksum(text: &str) -> String {
    use sha2::{Digest, Sha384};
    let digest = Sha384::digest(text.as_bytes());
    hex(&digest)
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 15) as usize] as char);
    }
    out
}

/// The wait before retry `attempt` (1-based): exponential from `base`,
/// capped at `max`, with jitter between half and the full value.
pub fn backoff(base: Duration, max: Duration, attempt: u32) -> Duration {
    let factor = 2u32.saturating_pow(attempt.saturating_sub(1).min(20));
    let full = base.saturating_mul(factor).min(max);
    let half = full / 2;
    half + full.saturating_sub(half).mul_f64(fastrand::f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_is_sha384_hex() {
        // sha384("") is well known.
        assert_eq!(
            checksum(""),
            "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b"
        );
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let base = Duration::from_millis(100);
        let max = Duration::from_secs(1);
        for attempt in 1..10 {
            let d = backoff(base, max, attempt);
            assert!(d <= max, "{d:?}");
            let full = base.saturating_mul(2u32.pow(attempt - 1)).min(max);
            assert!(d >= full / 2, "{attempt}: {d:?}");
        }
    }

    #[test]
    fn runner_section_reads_durations_and_names_bad_keys() {
        let path = std::path::Path::new("straddle.toml");
        let file = crate::config::parse(
            "[database]\nurl = \"sqlite://x.db\"\n[runner]\nlock_timeout = \"750ms\"\nlock_retries = 2\nwait_for_runner = \"1m 30s\"\n",
            path,
        )
        .unwrap();
        let options = RunnerOptions::from_config(&file.runner);
        assert_eq!(options.lock_timeout, Duration::from_millis(750));
        assert_eq!(options.lock_retries, 2);
        assert_eq!(options.wait_for_runner, Duration::from_secs(90));
        assert_eq!(options.retry_backoff, Duration::from_millis(500));
        assert_eq!(file.database.url.as_deref(), Some("sqlite://x.db"));
        let err = crate::config::parse("[runner]\nlock_timeout = \"soon\"\n", path)
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("straddle.toml:2:"), "{err}");
        assert!(err.contains("soon"), "{err}");
        let err = crate::config::parse("[runner]\nlock_timeot = \"1s\"\n", path)
            .unwrap_err()
            .to_string();
        assert!(err.contains("lock_timeot"), "{err}");
    }
}
