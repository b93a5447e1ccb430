//! The human format: a code frame per finding, then why it matters and the
//! safe alternative. Colour codes are always produced; the caller writes
//! through `anstream`, which drops them when the output is not a terminal or
//! `NO_COLOR` is set.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use annotate_snippets::renderer::DecorStyle;
use annotate_snippets::{AnnotationKind, Element, Level, Renderer, Snippet};

use crate::finding::{Finding, Severity};
use crate::lint::LintOutcome;

/// The byte range of line `line` (1-based) in `text`, without its newline.
fn line_range(text: &str, line: usize) -> Option<std::ops::Range<usize>> {
    let mut start = 0;
    for (index, l) in text.split_inclusive('\n').enumerate() {
        if index + 1 == line {
            let trimmed = l.trim_end_matches(['\n', '\r']);
            return Some(start..start + trimmed.len());
        }
        start += l.len();
    }
    None
}

/// The byte offset of a 1-based line and character column in `text`, clamped
/// to the end of that line.
fn offset(text: &str, line: usize, column: usize) -> Option<usize> {
    let range = line_range(text, line)?;
    let line_text = &text[range.clone()];
    Some(
        line_text
            .char_indices()
            .nth(column.saturating_sub(1))
            .map(|(i, _)| range.start + i)
            .unwrap_or(range.end),
    )
}

/// The part of the file the finding is about: from its position to the end of
/// its statement or range (over several lines when the statement spans them),
/// else to the end of its first line. Trailing blank space is left out.
fn highlight(text: &str, finding: &Finding) -> Option<std::ops::Range<usize>> {
    let start = offset(text, finding.line, finding.column)?;
    let end = finding
        .end
        .and_then(|end| offset(text, end.line, end.column))
        .filter(|&end| end > start)
        .or_else(|| line_range(text, finding.line).map(|r| r.end))?;
    let end = start + text[start..end].trim_end().len();
    Some(start..end.max(start))
}

fn render_one(finding: &Finding, source: Option<&str>) -> String {
    let level = match finding.severity {
        Severity::Error => Level::ERROR,
        Severity::Warning => Level::WARNING,
    };
    let path = finding.file.display().to_string();
    let mut elements: Vec<Element<'_>> = Vec::new();
    match source.and_then(|text| highlight(text, finding).map(|range| (text, range))) {
        Some((text, range)) => elements.push(
            Snippet::source(text)
                .path(path.as_str())
                .fold(true)
                .annotation(AnnotationKind::Primary.span(range))
                .into(),
        ),
        None => elements.push(
            Level::NOTE
                .message(format!("at {path}:{}:{}", finding.line, finding.column))
                .into(),
        ),
    }
    if !finding.why.is_empty() {
        elements.push(Level::NOTE.message(format!("why: {}", finding.why)).into());
    }
    if !finding.help.is_empty() {
        elements.push(Level::HELP.message(finding.help.as_str()).into());
    }
    let group = level
        .primary_title(finding.message.as_str())
        .id(finding.rule)
        .elements(elements);
    Renderer::styled()
        .decor_style(DecorStyle::Unicode)
        .render(&[group])
}

/// Renders every finding and a closing summary line.
pub fn render_human(outcome: &LintOutcome) -> String {
    let mut sources: HashMap<PathBuf, Option<String>> = HashMap::new();
    let mut out = String::new();
    for finding in &outcome.findings {
        let source = sources
            .entry(finding.file.clone())
            .or_insert_with(|| std::fs::read_to_string(Path::new(&finding.file)).ok());
        out.push_str(&render_one(finding, source.as_deref()));
        out.push_str("\n\n");
    }
    let errors = outcome.count(Severity::Error);
    let warnings = outcome.count(Severity::Warning);
    let plural = |n: usize, word: &str| {
        if n == 1 {
            format!("{n} {word}")
        } else {
            format!("{n} {word}s")
        }
    };
    out.push_str(&format!(
        "{}, {} in {}\n",
        plural(errors, "error"),
        plural(warnings, "warning"),
        plural(outcome.migrations_checked, "migration"),
    ));
    out
}
