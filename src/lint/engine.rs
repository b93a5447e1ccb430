//! The engine: replay every migration of a folder into the catalog, in
//! version order, and run the rules on the migrations that are to be reported.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;

use sqlparser::ast::Statement as Ast;

use super::context::{MigrationCx, StatementCx, make_finding};
use super::parse_ahead::for_each_parsed;
use super::{Rule, all_rules, find_rule, suppress};
use crate::dialect::Dialect;
use crate::finding::{Finding, Position, Severity};
use crate::phase::MigrationOperations;
use crate::phase::inverse::Recorder;
use crate::schema::Catalog;
use crate::source::{MigrationSet, Version};
use crate::sql::Statement;

/// A rule's level as configured: its severity, or off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
    Off,
}

/// How the migrations are applied, which decides what `-- no-transaction`
/// means for the rules.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Runner {
    /// `straddle migrate`: a `-- no-transaction` migration runs one statement
    /// at a time, each committed on its own, with its progress recorded.
    #[default]
    Straddle,
    /// sqlx (and diesel's `run_in_transaction = false`): the file is sent as
    /// one query, which PostgreSQL runs as one implicit transaction.
    Sqlx,
    /// diesel: like sqlx.
    Diesel,
}

impl Runner {
    /// Whether a `-- no-transaction` file runs statement by statement.
    pub fn splits_statements(self) -> bool {
        self == Runner::Straddle
    }

    /// Whether every migration runs under a lock timeout set by the runner
    /// (`straddle migrate` sets `lock_timeout`, 2 s unless configured).
    pub fn sets_lock_timeout(self) -> bool {
        self == Runner::Straddle
    }
}

/// What to lint and how.
#[derive(Clone, Debug, Default)]
pub struct LintOptions {
    pub dialect: Dialect,
    /// Rule id → configured level, overriding the rule's own severity.
    pub levels: BTreeMap<String, Level>,
    /// Report only migrations containing one of these files (`lint FILE…`);
    /// `None` reports every migration. Earlier migrations are replayed either
    /// way.
    pub only_files: Option<Vec<PathBuf>>,
    /// Migrations up to and including this version are replayed but not
    /// reported (adoption on an old history).
    pub baseline: Option<Version>,
    /// The runner sets a lock timeout for every migration, so statements need
    /// not set their own.
    pub assume_lock_timeout: bool,
    /// The database server's major version (`[database] version`), for the
    /// rules whose verdict depends on it; `None` assumes a current server.
    pub database_version: Option<u32>,
    /// What changed since a git ref (`lint --changed-since REF`), for the
    /// rules about shipped and out-of-order migrations.
    pub changed_since: Option<ChangedSince>,
    /// Migrations replayed but not reported because their files match
    /// `[lint] exclude`.
    pub exclude_versions: std::collections::BTreeSet<Version>,
    /// What applies the migrations.
    pub runner: Runner,
}

impl LintOptions {
    /// Whether the target is a PostgreSQL server older than `major` (only
    /// when its version is configured).
    pub fn postgres_older_than(&self, major: u32) -> bool {
        self.dialect == Dialect::Postgres && self.database_version.is_some_and(|v| v < major)
    }
}

/// What git says changed since the ref given to `--changed-since`.
#[derive(Clone, Debug, Default)]
pub struct ChangedSince {
    /// The ref as the user wrote it (`origin/main`).
    pub git_ref: String,
    /// Migration files that existed at the ref and differ now (canonical
    /// paths): already shipped, yet changed.
    pub modified: Vec<PathBuf>,
    /// The versions of the migrations that existed at the ref, in the
    /// folder being linted.
    pub versions_at_ref: Vec<Version>,
    /// The newest version in the folder now, where known: a renamed
    /// migration should sort after it too.
    pub newest_in_folder: Option<Version>,
}

impl ChangedSince {
    /// Whether `path` is one of [`ChangedSince::modified`].
    pub fn is_modified(&self, path: &std::path::Path) -> bool {
        let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        self.modified.contains(&path)
    }

    /// Whether a migration of this version existed at the ref.
    pub fn existed_at_ref(&self, version: &Version) -> bool {
        self.versions_at_ref.contains(version)
    }

    /// The newest version that existed at the ref.
    pub fn latest_at_ref(&self) -> Option<&Version> {
        self.versions_at_ref.iter().max()
    }
}

/// The result of linting a folder.
#[derive(Clone, Debug, Default)]
pub struct LintOutcome {
    /// Sorted by file, place and rule.
    pub findings: Vec<Finding>,
    /// Migrations whose findings are reported.
    pub migrations_checked: usize,
    /// Migrations replayed into the catalog (reported or not): every one up
    /// to the last reported, since later ones cannot change a finding.
    pub migrations_replayed: usize,
}

impl LintOutcome {
    pub fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }
}

fn is_set_of(statement: &Statement, names: &[&str]) -> Option<bool> {
    let words: Vec<String> = statement.words().collect();
    let first = words.first()?;
    let mentions = words
        .iter()
        .any(|w| names.contains(&w.to_ascii_lowercase().as_str()));
    if !mentions {
        return None;
    }
    if first == "SET" || (first == "SELECT" && words.iter().any(|w| w == "SET_CONFIG")) {
        // `SET lock_timeout = 0` (or '0') switches the timeout off.
        let zero = statement.tokens.iter().rev().find_map(|t| match &t.token {
            sqlparser::tokenizer::Token::Number(n, _) => Some(n.trim() == "0"),
            sqlparser::tokenizer::Token::SingleQuotedString(s) => Some(s.trim() == "0"),
            _ => None,
        });
        return Some(zero != Some(true));
    }
    None
}

/// Whether a statement switches the lock timeout on (`Some(true)`) or off
/// (`Some(false)`), as tracked for [`StatementCx::lock_timeout_set`]. Rules
/// that look back over earlier statements use it.
pub(crate) fn sets_lock_timeout(statement: &Statement) -> Option<bool> {
    is_set_of(statement, &["lock_timeout", "lock_wait_timeout"])
}

/// Whether a statement opens or closes an explicit transaction.
fn transaction_change(statement: &Statement) -> Option<bool> {
    match statement.ast()? {
        Ast::StartTransaction { .. } => Some(true),
        Ast::Commit { .. } | Ast::Rollback { .. } => Some(false),
        _ => None,
    }
}

fn is_reported(
    options: &LintOptions,
    only_files: Option<&OnlyFiles>,
    set: &MigrationSet,
    index: usize,
) -> bool {
    let migration = &set.migrations[index];
    if options
        .baseline
        .as_ref()
        .is_some_and(|b| migration.version <= *b)
    {
        return false;
    }
    if options.exclude_versions.contains(&migration.version) {
        return false;
    }
    match only_files {
        None => true,
        Some(files) => {
            files.contains(&migration.up.path)
                || migration
                    .down
                    .as_ref()
                    .is_some_and(|d| files.contains(&d.path))
        }
    }
}

/// The files given to `lint FILE…` (or the pending files `migrate` lints),
/// to tell which migrations to report.
pub struct OnlyFiles {
    /// Each path as given.
    given: HashSet<PathBuf>,
    /// Each path resolved (symbolic links followed) where it exists.
    resolved: HashSet<PathBuf>,
    /// The file names of the resolved paths.
    names: HashSet<std::ffi::OsString>,
}

impl OnlyFiles {
    pub fn new(files: &[PathBuf]) -> Self {
        let resolved: HashSet<PathBuf> =
            files.iter().filter_map(|f| f.canonicalize().ok()).collect();
        OnlyFiles {
            given: files.iter().cloned().collect(),
            names: resolved
                .iter()
                .filter_map(|r| r.file_name().map(|n| n.to_owned()))
                .collect(),
            resolved,
        }
    }

    /// Whether `path` is one of the files. A path is resolved (one system
    /// call) only when it is not given as such and its file name is one of
    /// the files' names, so a folder of thousands of migrations costs at most
    /// one system call per migration, and none when names differ.
    pub fn contains(&self, path: &std::path::Path) -> bool {
        if self.given.contains(path) {
            return true;
        }
        path.file_name()
            .is_some_and(|name| self.names.contains(name))
            && path
                .canonicalize()
                .is_ok_and(|p| self.resolved.contains(&p))
    }
}

/// Lints a migration folder.
pub fn lint_set(set: &MigrationSet, options: &LintOptions) -> LintOutcome {
    let rules: Vec<&dyn Rule> = all_rules()
        .iter()
        .copied()
        .filter(|r| r.applies_to(options.dialect))
        .filter(|r| options.levels.get(r.meta().id) != Some(&Level::Off))
        .collect();
    let mut outcome = LintOutcome::default();
    let mut catalog = Catalog::new();
    let only_files = options.only_files.as_deref().map(OnlyFiles::new);
    let reported: Vec<bool> = (0..set.migrations.len())
        .map(|index| is_reported(options, only_files.as_ref(), set, index))
        .collect();

    for problem in &set.problems {
        let reported_file = only_files
            .as_ref()
            .is_none_or(|files| files.contains(&problem.path));
        if let (true, Some(rule)) = (reported_file, find_rule(problem.rule)) {
            outcome.findings.push(make_finding(
                rule,
                &problem.path,
                Position::new(1, 1),
                None,
                problem.message.clone(),
                String::new(),
            ));
        }
    }

    // Nothing after the last reported migration can change a finding.
    let end = reported.iter().rposition(|r| *r).map_or(0, |last| last + 1);
    let wants_down = |index: usize| reported[index];
    for_each_parsed(
        &set.migrations[..end],
        options.dialect,
        &wants_down,
        |index, up, down| {
            let migration = &set.migrations[index];
            outcome.migrations_replayed += 1;
            if !reported[index] {
                for statement in &up.statements {
                    catalog.apply(statement, migration.version.as_str());
                }
                return;
            }
            outcome.migrations_checked += 1;
            let mut recorder = Recorder::default();
            let mut findings = Vec::new();
            let mut in_transaction = !migration.no_transaction;
            let mut lock_timeout_set =
                options.assume_lock_timeout || options.runner.sets_lock_timeout();
            for (i, statement) in up.statements.iter().enumerate() {
                // `straddle migrate` runs a file in its own transaction (or, for
                // `-- no-transaction`, statement by statement) and skips the
                // BEGIN/COMMIT written in it; sqlx and diesel pass them on.
                if let Some(open) = transaction_change(statement)
                    && !options.runner.splits_statements()
                {
                    in_transaction = open;
                }
                if let Some(on) = is_set_of(statement, &["lock_timeout", "lock_wait_timeout"]) {
                    lock_timeout_set = on;
                }
                let cx = StatementCx {
                    options,
                    migration,
                    file: &up,
                    statement,
                    index: i,
                    catalog: &catalog,
                    in_transaction,
                    lock_timeout_set,
                };
                for rule in &rules {
                    rule.check_statement(&cx, &mut findings);
                }
                recorder.record(i, statement, &catalog, options.dialect);
                catalog.apply(statement, migration.version.as_str());
            }
            let operations = MigrationOperations::new(
                &up,
                recorder.finish(),
                down.as_ref(),
                &catalog,
                options.dialect,
            );
            let cx = MigrationCx {
                options,
                migration,
                up: &up,
                down: down.as_ref(),
                catalog_after: &catalog,
                operations: &operations,
            };
            for rule in &rules {
                rule.check_migration(&cx, &mut findings);
            }
            suppress::apply(migration, &up, down.as_ref(), &mut findings);
            crate::phase::review(migration, &mut findings);
            outcome.findings.extend(findings);
        },
    );

    let is_reported = |m: &crate::source::Migration| {
        set.migrations
            .iter()
            .position(|other| std::ptr::eq(other, m))
            .is_some_and(|i| reported[i])
    };
    outcome
        .findings
        .extend(crate::phase::pairs::check(set, &is_reported));

    for finding in &mut outcome.findings {
        match options.levels.get(finding.rule) {
            Some(Level::Error) => finding.severity = Severity::Error,
            Some(Level::Warning) => finding.severity = Severity::Warning,
            _ => {}
        }
    }
    outcome
        .findings
        .retain(|f| options.levels.get(f.rule) != Some(&Level::Off));
    outcome
        .findings
        .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    outcome
}

/// Lints one migration held in memory, an up text and optionally its down,
/// as the only migration of a folder: no earlier migration gives the catalog
/// context, so every table it does not create counts as existing. Findings
/// name the files `up.sql` and `down.sql`. `only_files` and `baseline` of
/// `options` are ignored.
pub fn lint_text(up: &str, down: Option<&str>, options: &LintOptions) -> LintOutcome {
    let Some(version) = Version::parse("1") else {
        return LintOutcome::default();
    };
    let directives = crate::source::parse_leading(up);
    let migration = crate::source::Migration {
        version,
        name: String::from("in_memory"),
        up: crate::source::MigrationFile {
            path: PathBuf::from("up.sql"),
            text: up.to_string(),
        },
        down: down.map(|text| crate::source::MigrationFile {
            path: PathBuf::from("down.sql"),
            text: text.to_string(),
        }),
        no_transaction: directives.no_transaction,
        directives,
    };
    let set = MigrationSet {
        dir: PathBuf::new(),
        layout: None,
        migrations: vec![migration],
        problems: Vec::new(),
    };
    let options = LintOptions {
        only_files: None,
        baseline: None,
        ..options.clone()
    };
    lint_set(&set, &options)
}
