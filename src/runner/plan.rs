//! From the files and the database's history to a plan: which migrations to
//! apply, resume or roll back, in which order, and where to stop. Also drift
//! (applied files that changed, applied migrations missing on disk) and the
//! status table.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;

use super::{Command, RunError, checksum};
use crate::db::{HistoryRow, Status};
use crate::dialect::Dialect;
use crate::phase::effective_phase;
use crate::source::{Migration, MigrationSet, Phase, Version};
use crate::sql::{Statement, split_file};

/// One statement, as the runner sends it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PreparedStatement {
    /// The statement's text exactly as in the file (without the final `;`).
    pub text: String,
    pub line: usize,
    pub column: usize,
    /// `BEGIN`/`COMMIT` written in the file: the runner provides the
    /// transaction itself and skips these.
    pub transaction_control: bool,
    /// Cannot run inside a transaction block (`CREATE INDEX CONCURRENTLY`,
    /// `VACUUM`, SQLite `PRAGMA`…).
    pub needs_no_transaction: bool,
}

/// A migration made ready to run: both files split into statements.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Prepared {
    pub version: String,
    pub name: String,
    /// `expand` or `contract`.
    pub phase: String,
    /// For a contract: its expand's version.
    pub pair: Option<String>,
    pub checksum: String,
    pub up_text: String,
    pub down_text: Option<String>,
    pub up_path: Option<PathBuf>,
    pub down_path: Option<PathBuf>,
    pub up: Vec<PreparedStatement>,
    pub down: Vec<PreparedStatement>,
    pub no_transaction_up: bool,
    pub no_transaction_down: bool,
}

fn needs_no_transaction(statement: &Statement, dialect: Dialect) -> bool {
    let words: Vec<String> = statement.words().take(3).collect();
    let first = words.first().map(String::as_str).unwrap_or("");
    let second = words.get(1).map(String::as_str).unwrap_or("");
    match dialect {
        Dialect::Postgres => {
            statement.has_words(&["CONCURRENTLY"])
                || first == "VACUUM"
                || (matches!(first, "CREATE" | "DROP")
                    && matches!(second, "DATABASE" | "TABLESPACE"))
                || (first == "ALTER" && second == "SYSTEM")
                // A DO block or a procedure that commits (batched backfills)
                // may only run outside a transaction block.
                || first == "CALL"
                || (first == "DO" && {
                    let text = statement.text.to_ascii_uppercase();
                    text.contains("COMMIT") || text.contains("ROLLBACK")
                })
        }
        Dialect::Sqlite => matches!(first, "PRAGMA" | "VACUUM"),
        Dialect::Mysql => false,
    }
}

/// `BEGIN`, `START TRANSACTION`, `COMMIT`, `END` written in a file.
fn is_transaction_control(statement: &Statement) -> bool {
    let words: Vec<String> = statement.words().take(3).collect();
    let first = words.first().map(String::as_str).unwrap_or("");
    let second = words.get(1).map(String::as_str);
    match first {
        "BEGIN" => matches!(
            second,
            None | Some(
                "TRANSACTION"
                    | "WORK"
                    | "ISOLATION"
                    | "READ"
                    | "DEFERRED"
                    | "IMMEDIATE"
                    | "EXCLUSIVE"
            )
        ),
        "START" => second == Some("TRANSACTION"),
        "COMMIT" | "END" => matches!(second, None | Some("TRANSACTION" | "WORK" | "AND")),
        _ => false,
    }
}

/// Splits a file with the SQL front end (the same splitting lint uses, without
/// parsing each statement); the text of each statement is taken from the file
/// itself.
pub fn split(text: &str, path: &str, dialect: Dialect) -> Result<Vec<PreparedStatement>, RunError> {
    let file = split_file(text, dialect);
    if let Some((message, at)) = &file.tokenize_error {
        return Err(RunError::Usage(format!(
            "{path}:{at}: cannot split the file into statements: {message}; nothing was applied"
        )));
    }
    Ok(file
        .statements
        .iter()
        .map(|s| PreparedStatement {
            text: text
                .get(s.span.bytes.clone())
                .map(str::to_string)
                .unwrap_or_else(|| s.text.clone()),
            line: s.span.start.line,
            column: s.span.start.column,
            transaction_control: is_transaction_control(s),
            needs_no_transaction: needs_no_transaction(s, dialect),
        })
        .collect())
}

fn phase_of(migration: &Migration) -> (String, Option<String>) {
    match effective_phase(migration) {
        Phase::Expand => ("expand".to_string(), None),
        Phase::Contract { expand } => ("contract".to_string(), Some(expand.to_string())),
    }
}

/// Prepares a migration found on disk.
pub fn prepare(migration: &Migration, dialect: Dialect) -> Result<Prepared, RunError> {
    let (phase, pair) = phase_of(migration);
    let up_path = migration.up.path.display().to_string();
    let up = split(&migration.up.text, &up_path, dialect)?;
    let down = match &migration.down {
        Some(d) => split(&d.text, &d.path.display().to_string(), dialect)?,
        None => Vec::new(),
    };
    let up_says = migration.up.text.starts_with("-- no-transaction");
    // diesel's metadata.toml applies to both files; sqlx reads each file's
    // own first line.
    let metadata = migration.no_transaction && !up_says;
    let no_transaction_down = metadata
        || migration
            .down
            .as_ref()
            .is_some_and(|d| d.text.starts_with("-- no-transaction"));
    Ok(Prepared {
        version: migration.version.to_string(),
        name: migration.name.clone(),
        phase,
        pair,
        checksum: checksum(&migration.up.text),
        up_text: migration.up.text.clone(),
        down_text: migration.down.as_ref().map(|d| d.text.clone()),
        up_path: Some(migration.up.path.clone()),
        down_path: migration.down.as_ref().map(|d| d.path.clone()),
        up,
        down,
        no_transaction_up: migration.no_transaction,
        no_transaction_down,
    })
}

/// Prepares a migration from what its history row recorded (for rolling back
/// a migration whose files are gone).
pub fn prepare_from_history(row: &HistoryRow, dialect: Dialect) -> Result<Prepared, RunError> {
    let label = format!("(applied text of {})", row.version);
    let up_text = row.up_sql.clone().unwrap_or_default();
    let up = split(&up_text, &label, dialect)?;
    let down = match &row.down_sql {
        Some(d) => split(d, &label, dialect)?,
        None => Vec::new(),
    };
    Ok(Prepared {
        version: row.version.clone(),
        name: row.name.clone(),
        phase: row.phase.clone(),
        pair: row.pair.clone(),
        checksum: row.checksum.clone(),
        no_transaction_up: row.no_transaction,
        no_transaction_down: row
            .down_sql
            .as_deref()
            .is_some_and(|d| d.starts_with("-- no-transaction"))
            || row.no_transaction,
        up_text,
        down_text: row.down_sql.clone(),
        up_path: None,
        down_path: None,
        up,
        down,
    })
}

/// What to do with one migration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Run the up file.
    Apply,
    /// Finish a statement-by-statement up that stopped part way.
    Resume,
    /// Run the down file (or finish one that stopped part way).
    Revert,
    /// Remove the history row of a migration none of whose statements ran.
    Forget,
}

impl Action {
    pub fn verb(self) -> &'static str {
        match self {
            Action::Apply => "applying",
            Action::Resume => "resuming",
            Action::Revert => "rolling back",
            Action::Forget => "forgetting",
        }
    }

    pub fn past(self) -> &'static str {
        match self {
            Action::Apply => "applied",
            Action::Resume => "finished",
            Action::Revert => "rolled back",
            Action::Forget => "forgot",
        }
    }
}

/// One step of a plan.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Step {
    pub action: Action,
    pub migration: Prepared,
    /// The first statement to run (of the up for apply/resume, of the down
    /// for revert): statements before it already ran.
    pub start: usize,
    /// Rolling back an up that stopped part way: objects its later
    /// statements would have made do not exist, so the down's "does not
    /// exist" errors are expected.
    pub undo_partial: bool,
}

/// What a command will do.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Plan {
    pub command: String,
    pub steps: Vec<Step>,
    /// Where and why the plan stops although migrations remain (not an error).
    pub stop: Option<String>,
    /// A gate that failed: the command exits 1 after the steps before it.
    pub blocked: Option<String>,
    /// Things reported but not fatal (applied migrations missing on disk
    /// with `--allow-missing`).
    pub warnings: Vec<String>,
}

/// A difference between the history and the files.
#[derive(Clone, Debug, serde::Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Drift {
    /// The file of an applied migration changed since it was applied.
    Changed {
        version: String,
        path: PathBuf,
        /// Unified diff of the applied text against the file, when the
        /// applied text is known.
        diff: Option<String>,
    },
    /// Applied in the database, but no file has its version.
    Missing { version: String, name: String },
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Drift::Changed {
                version,
                path,
                diff,
            } => {
                write!(
                    f,
                    "  migration {version} ({}) was applied, and its file has changed since.",
                    path.display()
                )?;
                match diff {
                    Some(diff) => write!(
                        f,
                        " Restore the file (a released migration must not change) and put the change in a new migration.\n{diff}"
                    ),
                    None => write!(
                        f,
                        " Its checksum differs from the one recorded when it was applied (the applied text was not recorded, so no diff can be shown)."
                    ),
                }
            }
            Drift::Missing { version, name } => write!(
                f,
                "  migration {version} {name} is applied in the database but missing on disk: restore its files \
                 (or pass --allow-missing to go on without it)"
            ),
        }
    }
}

/// The history rows and the migrations on disk by version, indexed once
/// per plan: looking every migration up by scanning made planning
/// quadratic in the length of the history.
struct Lookup<'a> {
    history: &'a [HistoryRow],
    /// Row positions by parsed version and by the text as recorded; the
    /// first row wins, as in a scan.
    rows: HashMap<Version, usize>,
    rows_as_written: HashMap<&'a str, usize>,
    migrations: HashMap<&'a Version, &'a Migration>,
}

impl<'a> Lookup<'a> {
    fn new(set: &'a MigrationSet, history: &'a [HistoryRow]) -> Self {
        let mut rows = HashMap::new();
        let mut rows_as_written = HashMap::new();
        for (i, r) in history.iter().enumerate() {
            if let Some(v) = Version::parse(&r.version) {
                rows.entry(v).or_insert(i);
            }
            rows_as_written.entry(r.version.as_str()).or_insert(i);
        }
        let mut migrations = HashMap::new();
        for m in &set.migrations {
            migrations.entry(&m.version).or_insert(m);
        }
        Lookup {
            history,
            rows,
            rows_as_written,
            migrations,
        }
    }

    fn row(&self, version: &Version) -> Option<&'a HistoryRow> {
        let by_value = self.rows.get(version);
        let as_written = self.rows_as_written.get(version.as_str());
        let i = by_value.into_iter().chain(as_written).min()?;
        Some(&self.history[*i])
    }

    fn migration(&self, version: &str) -> Option<&'a Migration> {
        self.migrations.get(&Version::parse(version)?).copied()
    }
}

fn unified_diff(old: &str, new: &str, old_name: &str, new_name: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(old_name, new_name)
        .to_string()
}

/// Applied migrations whose file changed, and applied migrations missing on
/// disk. A migration that stopped part way may be corrected after the
/// statements that already ran: only those must be unchanged.
pub fn drift(set: &MigrationSet, history: &[HistoryRow], dialect: Dialect) -> Vec<Drift> {
    let lookup = Lookup::new(set, history);
    let mut drifts = Vec::new();
    for row in history {
        let Some(migration) = lookup.migration(&row.version) else {
            drifts.push(Drift::Missing {
                version: row.version.clone(),
                name: row.name.clone(),
            });
            continue;
        };
        let file_sum = checksum(&migration.up.text);
        if file_sum == row.checksum || row.status == Status::Reverting {
            continue;
        }
        if row.status == Status::Partial
            && let Some(applied) = &row.up_sql
        {
            let ran = row.statements_done.max(0) as usize;
            let old = split(applied, "", dialect).unwrap_or_default();
            let new = split(&migration.up.text, "", dialect).unwrap_or_default();
            let same = old.len() >= ran
                && new.len() >= ran
                && old[..ran]
                    .iter()
                    .zip(&new[..ran])
                    .all(|(a, b)| a.text == b.text);
            if same {
                continue;
            }
        }
        let path = migration.up.path.clone();
        let diff = row.up_sql.as_ref().map(|applied| {
            unified_diff(
                applied,
                &migration.up.text,
                &format!("applied {}", row.version),
                &path.display().to_string(),
            )
        });
        drifts.push(Drift::Changed {
            version: row.version.clone(),
            path,
            diff,
        });
    }
    drifts
}

/// Plans `command` from the files and the history. Drift stops every command
/// (missing files only without `allow_missing`, and never a rollback, which
/// can use the recorded down text).
pub fn plan(
    command: &Command,
    set: &MigrationSet,
    history: &[HistoryRow],
    dialect: Dialect,
    allow_missing: bool,
) -> Result<Plan, RunError> {
    let drifts = drift(set, history, dialect);
    let rollback = matches!(command, Command::Rollback { .. });
    let (missing, changed): (Vec<Drift>, Vec<Drift>) = drifts
        .into_iter()
        .partition(|d| matches!(d, Drift::Missing { .. }));
    let mut plan = Plan {
        command: command.name().to_string(),
        steps: Vec::new(),
        stop: None,
        blocked: None,
        warnings: Vec::new(),
    };
    if !changed.is_empty() || (!missing.is_empty() && !allow_missing && !rollback) {
        let mut all = changed;
        if !allow_missing && !rollback {
            all.extend(missing);
        }
        return Err(RunError::Drift(all));
    }
    for m in &missing {
        plan.warnings.push(m.to_string().trim().to_string());
    }
    match command {
        Command::Rollback { to, steps } => {
            plan_rollback(&mut plan, set, history, dialect, to, *steps)?
        }
        _ => plan_forward(&mut plan, command, set, history, dialect)?,
    }
    Ok(plan)
}

fn applied(history: &[HistoryRow], version: &str) -> bool {
    let v = Version::parse(version);
    history.iter().any(|r| {
        r.status == Status::Applied
            && (r.version == version || (v.is_some() && Version::parse(&r.version) == v))
    })
}

fn plan_forward(
    plan: &mut Plan,
    command: &Command,
    set: &MigrationSet,
    history: &[HistoryRow],
    dialect: Dialect,
) -> Result<(), RunError> {
    let lookup = Lookup::new(set, history);
    if let Command::Up { to: Some(to) } = command
        && set.find(to).is_none()
        && lookup.row(to).is_none()
    {
        return Err(RunError::Usage(format!(
            "--to {to}: no migration has this version"
        )));
    }
    for migration in &set.migrations {
        let row = lookup.row(&migration.version);
        let action = match row.map(|r| r.status) {
            Some(Status::Applied) => continue,
            Some(Status::Reverting) => {
                let row = row.expect("row");
                plan.blocked = Some(format!(
                    "migration {} was being rolled back ({} of its down statements ran) when that run stopped: \
                     finish it with `straddle migrate rollback` first",
                    row.version, row.statements_done
                ));
                return Ok(());
            }
            Some(Status::Partial) => Action::Resume,
            None => Action::Apply,
        };
        if let Command::Up { to: Some(to) } = command
            && migration.version > *to
        {
            break;
        }
        let (phase, pair) = phase_of(migration);
        let half = if action == Action::Resume {
            " (half-applied)"
        } else {
            ""
        };
        match command {
            Command::Expand if phase == "contract" => {
                let expand = pair.unwrap_or_default();
                plan.stop = Some(format!(
                    "stopped at contract {} {}{half} (completes expand {expand}): run `straddle migrate contract` \
                     once the new app version is fully rolled out",
                    migration.version, migration.name
                ));
                return Ok(());
            }
            Command::Contract if phase == "expand" => {
                plan.stop = Some(format!(
                    "stopped at expand {} {}{half}: run `straddle migrate expand` for it first",
                    migration.version, migration.name
                ));
                return Ok(());
            }
            Command::Contract => {
                let expand = pair.unwrap_or_default();
                if !applied(history, &expand) {
                    plan.blocked = Some(format!(
                        "contract {} {} waits: its expand {expand} is not applied yet (gate: the expand must be applied first)",
                        migration.version, migration.name
                    ));
                    return Ok(());
                }
            }
            _ => {}
        }
        let start = match (action, row) {
            (Action::Resume, Some(r)) => r.statements_done.max(0) as usize,
            _ => 0,
        };
        plan.steps.push(Step {
            action,
            migration: prepare(migration, dialect)?,
            start,
            undo_partial: false,
        });
    }
    Ok(())
}

fn plan_rollback(
    plan: &mut Plan,
    set: &MigrationSet,
    history: &[HistoryRow],
    dialect: Dialect,
    to: &Option<Version>,
    steps: Option<usize>,
) -> Result<(), RunError> {
    let mut rows: Vec<&HistoryRow> = history.iter().collect();
    rows.reverse();
    let chosen: Vec<&HistoryRow> = match (to, steps) {
        (Some(to), _) => rows
            .into_iter()
            .filter(|r| Version::parse(&r.version).is_none_or(|v| v > *to))
            .collect(),
        (None, n) => rows.into_iter().take(n.unwrap_or(1)).collect(),
    };
    let lookup = Lookup::new(set, history);
    for row in chosen {
        let on_disk = lookup.migration(&row.version);
        let mut prepared = match on_disk {
            Some(m) => prepare(m, dialect)?,
            None => prepare_from_history(row, dialect)?,
        };
        let mut start = 0;
        if row.status == Status::Reverting {
            // Continue the down that stopped part way: the recorded down
            // text, unless the file's down starts with the same statements
            // (a corrected down file).
            start = row.statements_done.max(0) as usize;
            if let Some(recorded) = &row.down_sql {
                let old = split(recorded, "(recorded down)", dialect)?;
                let same = prepared.down.len() >= start
                    && old.len() >= start
                    && old[..start]
                        .iter()
                        .zip(&prepared.down[..start])
                        .all(|(a, b)| a.text == b.text);
                if !same {
                    prepared.down = old;
                    prepared.down_text = Some(recorded.clone());
                    prepared.no_transaction_down =
                        recorded.starts_with("-- no-transaction") || prepared.no_transaction_down;
                }
            }
        }
        let action = if row.status == Status::Partial && row.statements_done <= 0 {
            Action::Forget
        } else {
            Action::Revert
        };
        if action == Action::Revert && prepared.down_text.is_none() {
            return Err(RunError::Usage(format!(
                "migration {} {} has no down migration, so it cannot be rolled back; nothing was rolled back \
                 (write its down file, or roll back to a later version)",
                row.version, row.name
            )));
        }
        plan.steps.push(Step {
            action,
            migration: prepared,
            start,
            undo_partial: row.status == Status::Partial,
        });
    }
    Ok(())
}

/// One line of `migrate status`.
#[derive(Clone, Debug, serde::Serialize)]
pub struct StatusEntry {
    pub version: String,
    pub name: String,
    pub phase: String,
    /// For a contract, its expand; for an expand, its contract.
    pub pair: Option<String>,
    /// `applied`, `pending`, `partial`, `reverting`, or `missing` (applied
    /// but no file on disk).
    pub state: String,
    /// For partial and reverting: statements done of total.
    pub progress: Option<String>,
    pub applied_at: Option<String>,
    /// `ok`, `changed` (the file differs from what was applied), or `none`.
    pub checksum: String,
}

/// Every migration on disk or in the history, in version order.
pub fn status(set: &MigrationSet, history: &[HistoryRow], dialect: Dialect) -> Vec<StatusEntry> {
    let drifts = drift(set, history, dialect);
    let changed = |v: &str| {
        drifts
            .iter()
            .any(|d| matches!(d, Drift::Changed { version, .. } if version == v))
    };
    let mut contracts_of: std::collections::HashMap<String, String> = Default::default();
    for m in &set.migrations {
        if let Phase::Contract { expand } = effective_phase(m) {
            contracts_of.insert(expand.to_string(), m.version.to_string());
        }
    }
    let lookup = Lookup::new(set, history);
    let mut entries: Vec<(Option<Version>, StatusEntry)> = Vec::new();
    for m in &set.migrations {
        let (phase, pair) = phase_of(m);
        let pair = pair.or_else(|| contracts_of.get(m.version.as_str()).cloned());
        let row = lookup.row(&m.version);
        let (state, progress, applied_at, sum) = match row {
            None => ("pending".to_string(), None, None, "none".to_string()),
            Some(r) => (
                r.status.as_str().to_string(),
                (r.status != Status::Applied)
                    .then(|| format!("{}/{}", r.statements_done, r.statements_total)),
                r.applied_at.clone(),
                if changed(&r.version) { "changed" } else { "ok" }.to_string(),
            ),
        };
        entries.push((
            Some(m.version.clone()),
            StatusEntry {
                version: m.version.to_string(),
                name: m.name.clone(),
                phase,
                pair,
                state,
                progress,
                applied_at,
                checksum: sum,
            },
        ));
    }
    for r in history {
        if lookup.migration(&r.version).is_some() {
            continue;
        }
        entries.push((
            Version::parse(&r.version),
            StatusEntry {
                version: r.version.clone(),
                name: r.name.clone(),
                phase: r.phase.clone(),
                pair: r.pair.clone(),
                state: "missing".to_string(),
                progress: (r.status != Status::Applied)
                    .then(|| format!("{}/{}", r.statements_done, r.statements_total)),
                applied_at: r.applied_at.clone(),
                checksum: "none".to_string(),
            },
        ));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    entries.into_iter().map(|(_, e)| e).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set() -> MigrationSet {
        crate::source::discover(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/runner/sqlite/basic"
        )))
        .unwrap()
    }

    fn row(set: &MigrationSet, version: &str, status: Status, done: i64) -> HistoryRow {
        let m = set.find(&Version::parse(version).unwrap()).unwrap();
        HistoryRow {
            version: version.to_string(),
            name: m.name.clone(),
            phase: phase_of(m).0,
            pair: phase_of(m).1,
            checksum: checksum(&m.up.text),
            up_sql: Some(m.up.text.clone()),
            down_sql: m.down.as_ref().map(|d| d.text.clone()),
            no_transaction: false,
            status,
            statements_total: 2,
            statements_done: done,
            applied_at: None,
            duration_ms: 0,
            applied_by: String::new(),
        }
    }

    fn versions(plan: &Plan) -> Vec<(&str, Action)> {
        plan.steps
            .iter()
            .map(|s| (s.migration.version.as_str(), s.action))
            .collect()
    }

    #[test]
    fn expand_stops_at_the_first_pending_contract() {
        let set = set();
        let plan = plan(&Command::Expand, &set, &[], Dialect::Sqlite, false).unwrap();
        assert_eq!(plan.steps.len(), 3);
        assert!(plan.stop.unwrap().contains("20240104000000"));
        assert!(plan.blocked.is_none());
    }

    #[test]
    fn contract_waits_for_its_expand() {
        let set = set();
        // The expand 20240102000000 is recorded as half-applied only.
        let history = vec![
            row(&set, "20240101000000", Status::Applied, 2),
            row(&set, "20240103000000", Status::Applied, 2),
        ];
        let p = plan(&Command::Contract, &set, &history, Dialect::Sqlite, false).unwrap();
        assert!(p.steps.is_empty());
        assert!(p.stop.unwrap().contains("20240102000000"));
        let mut history = history;
        history.insert(1, row(&set, "20240102000000", Status::Applied, 2));
        let p = plan(&Command::Contract, &set, &history, Dialect::Sqlite, false).unwrap();
        assert_eq!(versions(&p), [("20240104000000", Action::Apply)]);
    }

    #[test]
    fn partial_migrations_resume_and_roll_back() {
        let set = set();
        let history = vec![
            row(&set, "20240101000000", Status::Applied, 2),
            row(&set, "20240102000000", Status::Partial, 1),
        ];
        let p = plan(&Command::Expand, &set, &history, Dialect::Sqlite, false).unwrap();
        assert_eq!(
            versions(&p),
            [
                ("20240102000000", Action::Resume),
                ("20240103000000", Action::Apply)
            ]
        );
        assert_eq!(p.steps[0].start, 1);
        let rollback = Command::Rollback {
            to: None,
            steps: Some(2),
        };
        let p = plan(&rollback, &set, &history, Dialect::Sqlite, false).unwrap();
        assert_eq!(
            versions(&p),
            [
                ("20240102000000", Action::Revert),
                ("20240101000000", Action::Revert)
            ]
        );
        assert!(p.steps[0].undo_partial);
        // An interrupted rollback blocks applying until it is finished.
        let history = vec![row(&set, "20240101000000", Status::Reverting, 1)];
        let p = plan(
            &Command::Up { to: None },
            &set,
            &history,
            Dialect::Sqlite,
            false,
        )
        .unwrap();
        assert!(p.steps.is_empty());
        assert!(p.blocked.unwrap().contains("rollback"));
    }

    #[test]
    fn a_changed_file_is_drift_with_a_diff() {
        let set = set();
        let mut r = row(&set, "20240101000000", Status::Applied, 2);
        r.up_sql = Some(r.up_sql.unwrap().replace("email", "mail"));
        r.checksum = checksum(r.up_sql.as_deref().unwrap());
        let err = plan(&Command::Expand, &set, &[r], Dialect::Sqlite, false).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("has changed"), "{text}");
        assert!(text.contains("+    email VARCHAR(200) NOT NULL,"), "{text}");
    }
}
