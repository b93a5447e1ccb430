//! Rendering a verify [`Report`]: human text, JSON, and markdown fit for a
//! pull request comment.

use std::fmt::Write;

use super::{MigrationReport, Problem, Report, Severity};

fn headline(report: &Report) -> String {
    let s = &report.summary;
    let mut parts = vec![format!("{} verified", s.verified)];
    if s.failed > 0 {
        parts.push(format!("{} failed", s.failed));
    }
    if s.not_run > 0 {
        parts.push(format!("{} not run", s.not_run));
    }
    let mut details = Vec::new();
    for (n, what) in [
        (s.up_failed, "failing up"),
        (s.missing_downs, "missing down"),
        (s.failing_downs, "failing down"),
        (s.non_restoring_downs, "non-restoring down"),
        (s.failing_re_ups, "failing re-up"),
        (s.differing_re_ups, "differing re-up"),
        (s.data_lost, "losing data"),
        (s.column_order_only, "column order only"),
        (s.old_queries_broken, "breaking old queries"),
        (s.new_queries_broken, "not ready for new queries"),
    ] {
        if n > 0 {
            details.push(format!("{n} {what}"));
        }
    }
    let mut text = format!("{} migration(s): {}", s.migrations, parts.join(", "));
    if !details.is_empty() {
        text.push_str(&format!(" ({})", details.join(", ")));
    }
    text.push_str(&format!(" in {:.1} s", report.seconds));
    text
}

fn indent(text: &str, by: &str) -> String {
    text.lines()
        .map(|l| format!("{by}{l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn human_problem(out: &mut String, p: &Problem) {
    let _ = writeln!(
        out,
        "  {}[{}]: {}",
        p.severity.name(),
        p.kind.name(),
        p.message
    );
    if let Some(place) = &p.place {
        let _ = writeln!(out, "    --> {place}");
    }
    if let Some(error) = &p.error {
        let _ = writeln!(out, "{}", indent(&format!("database: {error}"), "    "));
    }
    if let Some(diff) = &p.diff {
        let _ = writeln!(out, "{}", indent(diff.trim_end(), "    "));
    }
}

/// Migrations with problems (notes only with `verbose`), then a summary.
pub fn human(report: &Report, verbose: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "straddle verify on {} ({})",
        report.server, report.scratch
    );
    for m in &report.migrations {
        let shown: Vec<&Problem> = m
            .problems
            .iter()
            .filter(|p| verbose || p.severity != Severity::Note || m.failed())
            .collect();
        if shown.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "\n{} {} ({}): {}",
            m.version,
            m.name,
            m.phase,
            m.status()
        );
        for p in shown {
            human_problem(&mut out, p);
        }
    }
    out.push_str(&super::checks::human(report));
    let _ = writeln!(out, "\n{}", headline(report));
    out
}

/// The report as pretty JSON.
pub fn json(report: &Report) -> String {
    serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

fn icon(m: &MigrationReport) -> &'static str {
    match m.status() {
        "failed" => "❌ failed",
        "warning" => "⚠️ warning",
        "not-run" => "⏭️ not run",
        _ => "✅ ok",
    }
}

/// A markdown report: a table of the migrations with problems and the
/// details of each, diffs in fenced blocks.
pub fn markdown(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## straddle verify\n");
    let _ = writeln!(
        out,
        "{} on {}.\n",
        headline(report),
        report.server.replace('|', "\\|")
    );
    let with: Vec<&MigrationReport> = report
        .migrations
        .iter()
        .filter(|m| m.problems.iter().any(|p| p.severity != Severity::Note) || m.failed())
        .collect();
    if with.is_empty() {
        let _ = writeln!(
            out,
            "Every migration rolls back and forward again to the same schema."
        );
        out.push_str(&super::checks::markdown(report));
        return out;
    }
    let _ = writeln!(out, "| migration | phase | result | problems |");
    let _ = writeln!(out, "| --- | --- | --- | --- |");
    for m in &with {
        let kinds: Vec<&str> = m
            .problems
            .iter()
            .filter(|p| p.severity != Severity::Note)
            .map(|p| p.kind.name())
            .collect();
        let _ = writeln!(
            out,
            "| `{}_{}` | {} | {} | {} |",
            m.version,
            m.name,
            m.phase,
            icon(m),
            kinds.join(", ")
        );
    }
    for m in &with {
        let _ = writeln!(
            out,
            "\n<details><summary><code>{}_{}</code>: {}</summary>\n",
            m.version,
            m.name,
            m.status()
        );
        for p in &m.problems {
            let _ = write!(
                out,
                "- **{}** `{}`: {}",
                p.severity.name(),
                p.kind.name(),
                p.message
            );
            if let Some(place) = &p.place {
                let _ = write!(out, " at `{place}`");
            }
            let _ = writeln!(out);
            if let Some(error) = &p.error {
                let _ = writeln!(out, "\n  ```text\n{}\n  ```", indent(error, "  "));
            }
            if let Some(diff) = &p.diff {
                let _ = writeln!(out, "\n  ```diff\n{}\n  ```", indent(diff.trim_end(), "  "));
            }
        }
        let _ = writeln!(out, "\n</details>");
    }
    out.push_str(&super::checks::markdown(report));
    out
}
