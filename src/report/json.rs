//! `--format json`.

use serde::Serialize;

use crate::finding::{Finding, Severity};
use crate::lint::LintOutcome;

#[derive(Serialize)]
struct Summary {
    errors: usize,
    warnings: usize,
    migrations_checked: usize,
}

#[derive(Serialize)]
struct Document<'a> {
    findings: &'a [Finding],
    summary: Summary,
}

pub fn render_json(outcome: &LintOutcome) -> String {
    let document = Document {
        findings: &outcome.findings,
        summary: Summary {
            errors: outcome.count(Severity::Error),
            warnings: outcome.count(Severity::Warning),
            migrations_checked: outcome.migrations_checked,
        },
    };
    serde_json::to_string_pretty(&document).expect("findings serialise")
}
