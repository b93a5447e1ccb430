//! `--format sarif`: a SARIF 2.1.0 log (OASIS Static Analysis Results
//! Interchange Format), as GitHub code scanning and other viewers read it.
//!
//! * `runs[0].tool.driver.rules` lists every straddle rule: its id, the
//!   summary as `shortDescription`, the *What it does* paragraph as
//!   `fullDescription`, the whole rule documentation as `help` (text and
//!   Markdown), the default severity and the category as a tag;
//! * each result names its rule by `ruleId` and `ruleIndex`, has the
//!   finding's severity as `level`, the message and the safe alternative as
//!   its text, and one location: the file as a relative URI under
//!   `%SRCROOT%` with a 1-based region (columns count Unicode code points,
//!   `columnKind` says so);
//! * `partialFingerprints` carries a stable hash of rule, file and message,
//!   so a finding keeps its identity when lines move.

use serde_json::{Value, json};

use super::{fingerprints, portable_path};
use crate::finding::{Finding, Severity};
use crate::lint::{LintOutcome, all_rules, rule_doc};

/// Where SARIF viewers find the schema.
pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// The *What it does* paragraph of a rule's documentation, as plain text.
fn what_it_does(doc: &str) -> Option<String> {
    let start = doc.find("**What it does.**")?;
    let paragraph = doc[start..].split("\n\n").next()?;
    let text = paragraph
        .trim_start_matches("**What it does.**")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    (!text.is_empty()).then_some(text)
}

/// A rule id as a SARIF `name`: `drop-column` → `DropColumn`.
fn pascal(id: &str) -> String {
    id.split('-')
        .map(|part| {
            let mut chars = part.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

fn rule_descriptor(id: &str) -> Value {
    let Some(rule) = all_rules().iter().find(|r| r.meta().id == id) else {
        return json!({
            "id": id,
            "name": pascal(id),
            "shortDescription": {"text": id},
        });
    };
    let meta = rule.meta();
    let doc = rule_doc(meta.id).unwrap_or(meta.summary);
    json!({
        "id": meta.id,
        "name": pascal(meta.id),
        "shortDescription": {"text": meta.summary},
        "fullDescription": {"text": what_it_does(doc).unwrap_or_else(|| meta.summary.to_string())},
        "help": {"text": doc, "markdown": doc},
        "defaultConfiguration": {"level": level(meta.severity)},
        "properties": {
            "tags": ["migrations", meta.category.name()],
            "category": meta.category.name(),
            "why": meta.why,
        },
    })
}

/// A relative path as a URI reference (`/` separators, reserved characters
/// percent-encoded); an absolute path as a `file://` URI.
fn uri(path: &str) -> String {
    let mut out = String::new();
    let absolute = path.starts_with('/');
    if absolute {
        out.push_str("file://");
    }
    for byte in path.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

fn location(finding: &Finding) -> Value {
    let path = portable_path(&finding.file);
    let mut region = json!({
        "startLine": finding.line.max(1),
        "startColumn": finding.column.max(1),
    });
    if let Some(end) = finding.end
        && (end.line, end.column) > (finding.line, finding.column)
    {
        region["endLine"] = json!(end.line);
        region["endColumn"] = json!(end.column.max(1));
    }
    let mut artifact = json!({"uri": uri(&path)});
    if !path.starts_with('/') {
        artifact["uriBaseId"] = json!("%SRCROOT%");
    }
    json!({"physicalLocation": {"artifactLocation": artifact, "region": region}})
}

/// The SARIF log as a JSON value.
pub fn sarif_value(outcome: &LintOutcome) -> Value {
    let mut ids: Vec<&str> = all_rules().iter().map(|r| r.meta().id).collect();
    for finding in &outcome.findings {
        if !ids.contains(&finding.rule) {
            ids.push(finding.rule);
        }
    }
    let rules: Vec<Value> = ids.iter().map(|id| rule_descriptor(id)).collect();
    let prints = fingerprints(&outcome.findings);
    let results: Vec<Value> = outcome
        .findings
        .iter()
        .zip(&prints)
        .map(|(finding, print)| {
            let index = ids.iter().position(|id| *id == finding.rule).unwrap_or(0);
            let mut text = finding.message.clone();
            if !finding.help.is_empty() {
                text.push_str("\nSafe alternative: ");
                text.push_str(&finding.help);
            }
            json!({
                "ruleId": finding.rule,
                "ruleIndex": index,
                "level": level(finding.severity),
                "message": {"text": text},
                "locations": [location(finding)],
                "partialFingerprints": {"straddleFinding/v1": print},
                "properties": {"category": finding.category.name()},
            })
        })
        .collect();
    json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "straddle",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
}

pub fn render_sarif(outcome: &LintOutcome) -> String {
    serde_json::to_string_pretty(&sarif_value(outcome)).unwrap_or_else(|_| String::from("{}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_relative_references() {
        assert_eq!(
            uri("migrations/0001_a b.up.sql"),
            "migrations/0001_a%20b.up.sql"
        );
        assert_eq!(uri("/tmp/x#1.sql"), "file:///tmp/x%231.sql");
    }

    #[test]
    fn full_description_is_the_first_paragraph() {
        let doc = "# x\n\n**What it does.** Flags\nthings.\n\n**Why it is dangerous.** …";
        assert_eq!(what_it_does(doc).as_deref(), Some("Flags things."));
        assert_eq!(pascal("drop-column"), "DropColumn");
    }
}
