//! Printing findings. Knows only the finding type and the lint outcome
//! (SARIF also lists the rules' metadata and documentation).

mod github;
mod gitlab;
mod human;
mod json;
mod sarif;

use std::io::Write;
use std::path::Path;

pub use github::{escape_data, escape_property, render_github};
pub use gitlab::{gitlab_value, render_gitlab};
pub use human::render_human;
pub use json::render_json;
pub use sarif::{render_sarif, sarif_value};

use crate::finding::Finding;
use crate::lint::LintOutcome;

/// Output formats of `straddle lint`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Code frames with the message, why it matters and the safe alternative.
    Human,
    /// `{"findings": […], "summary": {…}}`
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF viewers.
    Sarif,
    /// GitHub Actions workflow commands: annotations on the pull request.
    Github,
    /// GitLab code quality report, for the merge request widget.
    Gitlab,
}

/// Writes the outcome in `format` to `out`.
pub fn write(outcome: &LintOutcome, format: Format, out: &mut dyn Write) -> std::io::Result<()> {
    let text = match format {
        Format::Human => return out.write_all(render_human(outcome).as_bytes()),
        Format::Json => render_json(outcome),
        Format::Sarif => render_sarif(outcome),
        Format::Github => return out.write_all(render_github(outcome).as_bytes()),
        Format::Gitlab => render_gitlab(outcome),
    };
    out.write_all(text.as_bytes())?;
    out.write_all(b"\n")
}

/// A finding's file for machine formats: relative to the current folder when
/// it lies inside it, with `/` separators and no leading `./`.
pub fn portable_path(path: &Path) -> String {
    let relative = if path.is_absolute() {
        std::env::current_dir()
            .ok()
            .and_then(|cwd| {
                let cwd = cwd.canonicalize().unwrap_or(cwd);
                let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
                canonical.strip_prefix(&cwd).ok().map(Path::to_path_buf)
            })
            .unwrap_or_else(|| path.to_path_buf())
    } else {
        path.to_path_buf()
    };
    let text = relative.to_string_lossy().replace('\\', "/");
    let mut text = text.as_str();
    while let Some(rest) = text.strip_prefix("./") {
        text = rest;
    }
    text.to_string()
}

/// A stable identity per finding: a SHA-256 of rule, file and message (not
/// the line, so that it survives lines moving), with a counter for
/// identical findings in one file.
pub fn fingerprints(findings: &[Finding]) -> Vec<String> {
    use sha2::{Digest, Sha256};
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    findings
        .iter()
        .map(|finding| {
            let key = format!(
                "{}\u{0}{}\u{0}{}",
                finding.rule,
                portable_path(&finding.file),
                finding.message
            );
            let count = seen.entry(key.clone()).or_insert(0);
            *count += 1;
            let digest = Sha256::digest(format!("{key}\u{0}{count}").as_bytes());
            digest.iter().map(|b| format!("{b:02x}")).collect()
        })
        .collect()
}
