//! `straddle baseline [VERSION]`: sets `[lint] baseline` in straddle.toml,
//! keeping the file's comments and layout.

use std::io::Write;
use std::path::Path;

use clap::Args;

use crate::config::{Config, parse};
use crate::error::{Error, Result};
use crate::source::{Version, discover};

#[derive(Debug, Args)]
pub struct BaselineArgs {
    /// The version to set (default: the newest migration in the configured
    /// folders).
    #[arg(value_name = "VERSION")]
    pub to: Option<String>,
}

/// `text` with `[lint] baseline` set to `version`, comments and layout kept.
pub fn set_baseline(text: &str, version: &str) -> std::result::Result<String, String> {
    let mut document: toml_edit::DocumentMut = text.parse().map_err(|e| format!("{e}"))?;
    let lint = document
        .entry("lint")
        .or_insert_with(|| toml_edit::Item::Table(toml_edit::Table::new()));
    let Some(lint) = lint.as_table_like_mut() else {
        return Err("`lint` is not a table".to_string());
    };
    match lint.get_mut("baseline") {
        // Replace the value in place: the key's comments and the value's
        // trailing comment stay.
        Some(item) => {
            let mut new = toml_edit::Value::from(version);
            if let Some(old) = item.as_value() {
                *new.decor_mut() = old.decor().clone();
            }
            *item = toml_edit::Item::Value(new);
        }
        None => {
            lint.insert("baseline", toml_edit::value(version));
        }
    }
    Ok(document.to_string())
}

/// The newest migration version in the configured folders.
fn latest(config: &Config) -> Result<(Version, usize)> {
    let mut newest: Option<Version> = None;
    let mut count = 0;
    for dir in config.migrations_dirs() {
        let set = discover(&dir)?;
        count += set.migrations.len();
        if let Some(last) = set.migrations.iter().map(|m| &m.version).max()
            && newest.as_ref().is_none_or(|n| last > n)
        {
            newest = Some(last.clone());
        }
    }
    newest.map(|v| (v, count)).ok_or_else(|| {
        Error::usage(format!(
            "no migration found in {}: nothing to set the baseline to",
            config
                .migrations_dirs()
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })
}

pub fn run(args: BaselineArgs, config: &Config) -> Result<u8> {
    let Some(path) = config.path.as_deref() else {
        return Err(Error::usage(
            "no straddle.toml here or above: run `straddle init` first, or name one with --config",
        ));
    };
    let version = match &args.to {
        Some(raw) => Version::parse(raw)
            .ok_or_else(|| Error::usage(format!("`{raw}` is not a migration version")))?,
        None => latest(config)?.0,
    };
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let edited = set_baseline(&text, version.as_str()).map_err(|message| Error::Config {
        path: path.to_path_buf(),
        line: None,
        column: None,
        message,
    })?;
    // The result must still be a valid configuration.
    parse(&edited, path)?;
    write_atomically(path, &edited)?;
    let mut out = anstream::stdout();
    let _ = writeln!(
        out,
        "{}: baseline = \"{}\": migrations up to it are replayed for context but not reported",
        path.display(),
        version.as_str()
    );
    Ok(super::EXIT_OK)
}

fn write_atomically(path: &Path, text: &str) -> Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "straddle.toml".into());
    let temporary = path.with_file_name(format!(".{name}.straddle-tmp"));
    std::fs::write(&temporary, text).map_err(|e| Error::io(&temporary, e))?;
    std::fs::rename(&temporary, path).map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_comments_and_replaces_the_value() {
        let text = "# top\ndialect = \"postgres\" # inline\n\n[lint]\n# why\nbaseline = \"1\" # adopted\n\n[rules]\n# severity\n";
        let edited = set_baseline(text, "20240101120000").unwrap();
        assert_eq!(
            edited,
            "# top\ndialect = \"postgres\" # inline\n\n[lint]\n# why\nbaseline = \"20240101120000\" # adopted\n\n[rules]\n# severity\n"
        );
    }

    #[test]
    fn adds_the_section_when_missing() {
        let edited = set_baseline("# hello\ndialect = \"mysql\"\n", "7").unwrap();
        assert!(
            edited.starts_with("# hello\ndialect = \"mysql\"\n"),
            "{edited}"
        );
        assert!(edited.contains("[lint]\nbaseline = \"7\"\n"), "{edited}");
    }
}
