//! Test support for rules: fixtures are migration folders under
//! `tests/fixtures/rules/<rule-id>/<case>/`, each with a `straddle.case`
//! file that says what must happen:
//!
//! ```text
//! dialect = postgres          # optional, default postgres
//! fires = 2                   # exact number of findings of this rule
//! runner = sqlx               # optional: how `-- no-transaction` runs
//! database_version = 10       # optional: the server's major version
//! shipped = 1, 2              # optional: as with `lint --changed-since`, the
//!                             # versions that existed at the git ref
//! modified = 1_a.up.sql       # optional: files changed since that ref
//! ```
//!
//! A case folder whose name starts with `fires` must yield at least one finding
//! of the rule; one whose name starts with `quiet` must yield none. The
//! folder's migrations are linted as a whole (earlier migrations give the
//! catalog its context).

use std::path::{Path, PathBuf};

use crate::dialect::Dialect;
use crate::lint::{LintOptions, lint_set};
use crate::source::discover;

fn fixtures_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rules")
}

struct Case {
    dialect: Dialect,
    fires: Option<usize>,
    runner: crate::lint::Runner,
    database_version: Option<u32>,
    changed_since: Option<crate::lint::ChangedSince>,
}

fn read_case(dir: &Path) -> Case {
    let mut case = Case {
        dialect: Dialect::Postgres,
        fires: None,
        runner: crate::lint::Runner::default(),
        database_version: None,
        changed_since: None,
    };
    if let Ok(text) = std::fs::read_to_string(dir.join("straddle.case")) {
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("").trim();
            if let Some((key, value)) = line.split_once('=') {
                match key.trim() {
                    "dialect" => case.dialect = value.trim().parse().expect("dialect"),
                    "fires" => case.fires = Some(value.trim().parse().expect("fires = N")),
                    "runner" => {
                        case.runner = match value.trim() {
                            "straddle" => crate::lint::Runner::Straddle,
                            "sqlx" => crate::lint::Runner::Sqlx,
                            "diesel" => crate::lint::Runner::Diesel,
                            other => panic!("{}: unknown runner `{other}`", dir.display()),
                        }
                    }
                    "database_version" => {
                        case.database_version =
                            Some(value.trim().parse().expect("database_version = N"))
                    }
                    "shipped" => {
                        case.changed_since
                            .get_or_insert_with(Default::default)
                            .versions_at_ref = value
                            .split(',')
                            .map(|v| crate::source::Version::parse(v.trim()).expect("version"))
                            .collect()
                    }
                    "modified" => {
                        case.changed_since
                            .get_or_insert_with(Default::default)
                            .modified = value
                            .split(',')
                            .map(|f| {
                                let file = dir.join(f.trim());
                                file.canonicalize()
                                    .unwrap_or_else(|e| panic!("{}: {e}", file.display()))
                            })
                            .collect()
                    }
                    other => panic!("{}: unknown key `{other}`", dir.display()),
                }
            }
        }
    }
    case
}

/// Lints every case of `rule` and checks the outcome; panics with the
/// findings when a case fails. Requires at least one `fires*` and one
/// `quiet*` case.
pub fn check_fixture(rule: &str) {
    let root = fixtures_root().join(rule);
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    let fires_cases = cases
        .iter()
        .filter(|c| name(c).starts_with("fires"))
        .count();
    let quiet_cases = cases
        .iter()
        .filter(|c| name(c).starts_with("quiet"))
        .count();
    assert!(
        fires_cases > 0 && quiet_cases > 0,
        "{rule}: needs at least one fires* and one quiet* case under {}",
        root.display()
    );
    for dir in cases {
        let case = read_case(&dir);
        let set = discover(&dir).unwrap_or_else(|e| panic!("{e}"));
        let options = LintOptions {
            dialect: case.dialect,
            runner: case.runner,
            database_version: case.database_version,
            changed_since: case.changed_since.clone(),
            ..LintOptions::default()
        };
        let outcome = lint_set(&set, &options);
        let mine: Vec<_> = outcome.findings.iter().filter(|f| f.rule == rule).collect();
        let shown = || {
            outcome
                .findings
                .iter()
                .map(|f| {
                    format!(
                        "  {}:{}:{} {} {}",
                        f.file.display(),
                        f.line,
                        f.column,
                        f.rule,
                        f.message
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        let case_name = name(&dir);
        if case_name.starts_with("quiet") {
            assert!(
                mine.is_empty(),
                "{rule}/{case_name}: expected no finding, got:\n{}",
                shown()
            );
        } else {
            assert!(
                !mine.is_empty(),
                "{rule}/{case_name}: expected a finding, got:\n{}",
                shown()
            );
        }
        if let Some(n) = case.fires {
            assert_eq!(
                mine.len(),
                n,
                "{rule}/{case_name}: expected {n} findings, got:\n{}",
                shown()
            );
        }
    }
}

fn name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}
