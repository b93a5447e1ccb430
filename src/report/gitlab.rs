//! `--format gitlab`: GitLab's code quality report (a subset of the Code
//! Climate format), which the merge request widget shows:
//!
//! ```json
//! [{"description": "…", "check_name": "drop-column", "fingerprint": "…",
//!   "severity": "major", "location": {"path": "…", "lines": {"begin": 4}}}]
//! ```
//!
//! Severities: an error about data loss is `critical`, other errors are
//! `major`, warnings are `minor`. The fingerprint is a stable hash of rule,
//! file and message, so GitLab can tell new findings from old ones.

use serde_json::{Value, json};

use super::{fingerprints, portable_path};
use crate::finding::{Category, Finding, Severity};
use crate::lint::LintOutcome;

fn severity(finding: &Finding) -> &'static str {
    match (finding.severity, finding.category) {
        (Severity::Error, Category::DataLoss) => "critical",
        (Severity::Error, _) => "major",
        (Severity::Warning, _) => "minor",
    }
}

/// The Code Climate category closest to a straddle category.
fn code_climate_category(category: Category) -> &'static str {
    match category {
        Category::BackwardIncompatible => "Compatibility",
        Category::Locking => "Performance",
        Category::Hygiene => "Style",
        Category::DataLoss | Category::Reversibility | Category::Phase | Category::Parse => {
            "Bug Risk"
        }
    }
}

pub fn gitlab_value(outcome: &LintOutcome) -> Value {
    let prints = fingerprints(&outcome.findings);
    Value::Array(
        outcome
            .findings
            .iter()
            .zip(prints)
            .map(|(finding, print)| {
                let end = finding
                    .end
                    .map(|e| e.line)
                    .filter(|l| *l >= finding.line)
                    .unwrap_or(finding.line);
                json!({
                    "type": "issue",
                    "description": finding.message,
                    "check_name": finding.rule,
                    "fingerprint": print,
                    "severity": severity(finding),
                    "categories": [code_climate_category(finding.category)],
                    "content": {"body": finding.help},
                    "location": {
                        "path": portable_path(&finding.file),
                        "lines": {"begin": finding.line.max(1), "end": end.max(1)},
                    },
                })
            })
            .collect(),
    )
}

pub fn render_gitlab(outcome: &LintOutcome) -> String {
    serde_json::to_string_pretty(&gitlab_value(outcome)).unwrap_or_else(|_| String::from("[]"))
}
