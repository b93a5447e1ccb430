//! `--format json`: one document,
//!
//! ```json
//! {"findings": [{"rule", "category", "severity", "file", "line", "column",
//!                "message", "help"}],
//!  "summary": {"errors", "warnings", "migrations_checked", "migrations_replayed"}}
//! ```
//!
//! The shape is a stable interface for scripts: fields are only ever added.
//! `file` is the path as the user gave it; `line` and `column` are 1-based.

use serde::Serialize;

use crate::finding::{Category, Finding, Severity};
use crate::lint::LintOutcome;

#[derive(Serialize)]
struct JsonFinding<'a> {
    rule: &'a str,
    category: Category,
    severity: Severity,
    file: String,
    line: usize,
    column: usize,
    message: &'a str,
    help: &'a str,
}

impl<'a> From<&'a Finding> for JsonFinding<'a> {
    fn from(f: &'a Finding) -> Self {
        JsonFinding {
            rule: f.rule,
            category: f.category,
            severity: f.severity,
            file: f.file.to_string_lossy().into_owned(),
            line: f.line,
            column: f.column,
            message: &f.message,
            help: &f.help,
        }
    }
}

#[derive(Serialize)]
struct Summary {
    errors: usize,
    warnings: usize,
    /// Migrations whose findings are reported.
    migrations_checked: usize,
    /// Migrations read to build the schema model (reported or not).
    migrations_replayed: usize,
}

#[derive(Serialize)]
struct Document<'a> {
    findings: Vec<JsonFinding<'a>>,
    summary: Summary,
}

pub fn render_json(outcome: &LintOutcome) -> String {
    let document = Document {
        findings: outcome.findings.iter().map(JsonFinding::from).collect(),
        summary: Summary {
            errors: outcome.count(Severity::Error),
            warnings: outcome.count(Severity::Warning),
            migrations_checked: outcome.migrations_checked,
            migrations_replayed: outcome.migrations_replayed,
        },
    };
    // Only strings, numbers and enums with derived impls: cannot fail.
    serde_json::to_string_pretty(&document).unwrap_or_else(|_| String::from("{}"))
}
