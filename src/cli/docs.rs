//! `straddle docs` (hidden): regenerates the generated parts of `docs/`:
//!
//! * `docs/rules.md`, from the rules' own `//!` documentation;
//! * in each `docs/commands/<command>.md`, the blocks between
//!   `<!-- generated: straddle … --help -->` and `<!-- end generated -->`,
//!   from clap's help. A command without a page gets a new page.
//!
//! `straddle docs --check` changes nothing and exits 1 when a file is stale;
//! a test runs it, so the docs never drift from the code.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, CommandFactory};

use crate::error::{Error, Result};
use crate::lint::{all_rules, rule_doc};

#[derive(Debug, Args)]
pub struct DocsArgs {
    /// The docs folder.
    #[arg(long, default_value = "docs", value_name = "DIR")]
    pub dir: PathBuf,

    /// Change nothing; exit 1 and list the stale files if any.
    #[arg(long)]
    pub check: bool,
}

/// How to bring the docs up to date, as printed when they are stale.
pub const REGENERATE: &str = "cargo run -- docs";

/// `docs/rules.md`.
pub fn rules_markdown() -> String {
    let mut out = String::from(
        "# Rules\n\n<!-- Generated from the `//!` docs of src/lint/rules/*.rs by \
         `straddle docs`; do not edit by hand. -->\n\n\
         Every finding belongs to one rule. `straddle rules` lists them, `straddle \
         explain RULE` prints one of these sections, and `[rules]` in `straddle.toml` \
         changes a rule's severity (`error`, `warning` or `off`).\n\n\
         | rule | category | default severity | dialects | catches |\n\
         | --- | --- | --- | --- | --- |\n",
    );
    for rule in all_rules() {
        let m = rule.meta();
        let dialects = if m.dialects.is_empty() {
            "all".to_string()
        } else {
            m.dialects
                .iter()
                .map(|d| d.name())
                .collect::<Vec<_>>()
                .join(", ")
        };
        out.push_str(&format!(
            "| [`{id}`](#{id}) | {} | {} | {dialects} | {} |\n",
            m.category,
            m.severity,
            m.summary.replace('|', "\\|"),
            id = m.id,
        ));
    }
    for rule in all_rules() {
        let m = rule.meta();
        let doc = rule_doc(m.id).unwrap_or("");
        out.push('\n');
        let mut in_code = false;
        for (index, line) in doc.lines().enumerate() {
            if line.trim_start().starts_with("```") {
                in_code = !in_code;
            }
            if !in_code && line.starts_with('#') {
                out.push('#');
            }
            out.push_str(line.trim_end());
            out.push('\n');
            if index == 0 {
                out.push_str(&format!(
                    "\n*Category: {} · default severity: {}*\n",
                    m.category, m.severity
                ));
            }
        }
    }
    out
}

/// The long help of a command path (`["migrate", "expand"]`), as plain text.
pub fn help_text(path: &[&str]) -> Option<String> {
    let mut command = super::Cli::command();
    command.build();
    let mut current = &mut command;
    for name in path {
        current = current.find_subcommand_mut(name)?;
    }
    let text = current.render_long_help().to_string();
    let mut lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    Some(lines.join("\n"))
}

/// Every visible command path, depth first: `["lint"]`, `["migrate"]`,
/// `["migrate", "expand"]`, …
pub fn command_paths() -> Vec<Vec<String>> {
    fn walk(command: &clap::Command, prefix: &[String], out: &mut Vec<Vec<String>>) {
        for sub in command.get_subcommands() {
            if sub.is_hide_set() || sub.get_name() == "help" {
                continue;
            }
            let mut path = prefix.to_vec();
            path.push(sub.get_name().to_string());
            out.push(path.clone());
            walk(sub, &path, out);
        }
    }
    let mut out = Vec::new();
    let mut command = super::Cli::command();
    command.build();
    walk(&command, &[], &mut out);
    out
}

fn marker(path: &[String]) -> String {
    format!("<!-- generated: straddle {} --help -->", path.join(" "))
}

const END: &str = "<!-- end generated -->";

fn block(path: &[String]) -> String {
    let names: Vec<&str> = path.iter().map(String::as_str).collect();
    let help = help_text(&names).unwrap_or_default();
    format!("{}\n```text\n{help}\n```\n{END}", marker(path))
}

/// A new page for a command that has none.
fn new_page(top: &str, paths: &[Vec<String>]) -> String {
    let about = super::Cli::command()
        .find_subcommand(top)
        .and_then(|c| c.get_about().map(|a| a.to_string()))
        .unwrap_or_default();
    let mut page = format!("# straddle {top}\n\n{about}\n");
    for path in paths {
        page.push_str(&format!("\n## `straddle {}`\n\n", path.join(" ")));
        page.push_str(&block(path));
        page.push('\n');
    }
    page
}

/// `page` with every generated block replaced by the current help, and a
/// block appended for each sub-command it lacks.
fn refresh_page(page: &str, paths: &[Vec<String>]) -> String {
    let mut out = page.to_string();
    for path in paths {
        let start_marker = marker(path);
        match out.find(&start_marker) {
            Some(start) => {
                let end = out[start..]
                    .find(END)
                    .map_or(out.len(), |i| start + i + END.len());
                out.replace_range(start..end, &block(path));
            }
            None => {
                if !out.ends_with('\n') {
                    out.push('\n');
                }
                out.push_str(&format!("\n## `straddle {}`\n\n", path.join(" ")));
                out.push_str(&block(path));
                out.push('\n');
            }
        }
    }
    out
}

/// (file, what it should contain) for every generated file under `dir`.
pub fn expected_files(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut files = vec![(dir.join("rules.md"), rules_markdown())];
    let paths = command_paths();
    let mut tops: Vec<&str> = paths
        .iter()
        .filter(|p| p.len() == 1)
        .map(|p| p[0].as_str())
        .collect();
    tops.dedup();
    for top in tops {
        let mine: Vec<Vec<String>> = paths.iter().filter(|p| p[0] == top).cloned().collect();
        let file = dir.join("commands").join(format!("{top}.md"));
        let text = match std::fs::read_to_string(&file) {
            Ok(page) => refresh_page(&page, &mine),
            Err(_) => new_page(top, &mine),
        };
        files.push((file, text));
    }
    files
}

/// The generated files that differ from what is on disk.
pub fn stale_files(dir: &Path) -> Vec<PathBuf> {
    expected_files(dir)
        .into_iter()
        .filter(|(file, text)| std::fs::read_to_string(file).ok().as_deref() != Some(text))
        .map(|(file, _)| file)
        .collect()
}

pub fn run(args: DocsArgs) -> Result<u8> {
    let mut out = anstream::stdout();
    if args.check {
        let stale = stale_files(&args.dir);
        if stale.is_empty() {
            let _ = writeln!(out, "docs are up to date");
            return Ok(super::EXIT_OK);
        }
        for file in &stale {
            let _ = writeln!(out, "stale: {}", file.display());
        }
        let _ = writeln!(out, "regenerate them with `{REGENERATE}`");
        return Ok(super::EXIT_FINDINGS);
    }
    for (file, text) in expected_files(&args.dir) {
        if std::fs::read_to_string(&file).ok().as_deref() == Some(text.as_str()) {
            continue;
        }
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        std::fs::write(&file, text).map_err(|e| Error::io(&file, e))?;
        let _ = writeln!(out, "wrote {}", file.display());
    }
    Ok(super::EXIT_OK)
}
