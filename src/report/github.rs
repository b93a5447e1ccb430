//! `--format github`: GitHub Actions workflow commands, one per finding,
//! which GitHub shows as annotations on the pull request's lines:
//!
//! ```text
//! ::error file=migrations/0002_x.up.sql,line=4,col=31,title=drop-column (data-loss)::dropping column …
//! ```
//!
//! Values are escaped as the runner expects: `%`, `\r` and `\n` everywhere,
//! and `:` and `,` too in the properties. A last plain line sums up.

use super::portable_path;
use crate::finding::{Finding, Severity};
use crate::lint::LintOutcome;

/// Escapes a message (the part after `::`).
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value (`file=…`, `title=…`).
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

fn command(finding: &Finding) -> String {
    let kind = match finding.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let mut properties = vec![
        format!("file={}", escape_property(&portable_path(&finding.file))),
        format!("line={}", finding.line.max(1)),
        format!("col={}", finding.column.max(1)),
    ];
    if let Some(end) = finding.end {
        if end.line > finding.line {
            properties.push(format!("endLine={}", end.line));
        } else if end.line == finding.line && end.column > finding.column {
            properties.push(format!("endColumn={}", end.column));
        }
    }
    properties.push(format!(
        "title={}",
        escape_property(&format!("{} ({})", finding.rule, finding.category))
    ));
    let mut message = finding.message.clone();
    if !finding.help.is_empty() {
        message.push_str("\n\nhelp: ");
        message.push_str(&finding.help);
    }
    format!(
        "::{kind} {}::{}",
        properties.join(","),
        escape_data(&message)
    )
}

pub fn render_github(outcome: &LintOutcome) -> String {
    let mut out = String::new();
    for finding in &outcome.findings {
        out.push_str(&command(finding));
        out.push('\n');
    }
    let errors = outcome.count(Severity::Error);
    let warnings = outcome.count(Severity::Warning);
    out.push_str(&format!(
        "straddle: {errors} error(s), {warnings} warning(s) in {} migration(s)\n",
        outcome.migrations_checked
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_as_the_runner_expects() {
        assert_eq!(escape_data("50% a\r\nb"), "50%25 a%0D%0Ab");
        assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");
    }
}
