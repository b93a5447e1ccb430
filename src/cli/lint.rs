//! `straddle lint [DIR | FILE…]`

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Component, Path, PathBuf};

use clap::Args;

use crate::config::Config;
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::finding::Severity;
use crate::lint::{LintOptions, LintOutcome, lint_set};
use crate::report::{self, Format};
use crate::source::{Version, discover};

#[derive(Debug, Args)]
pub struct LintArgs {
    /// A migrations folder, or migration files (their folder is replayed for
    /// context, only they are reported). Default: the folder in
    /// straddle.toml, else ./migrations.
    pub paths: Vec<PathBuf>,

    /// SQL dialect (default: from straddle.toml, else postgres).
    #[arg(long, value_name = "DIALECT")]
    pub dialect: Option<Dialect>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// Exit 1 on warnings too.
    #[arg(long)]
    pub deny_warnings: bool,
}

/// The migrations folder a file belongs to: its own folder, or for diesel's
/// `<version>_<name>/up.sql` the folder above.
fn folder_of(file: &Path) -> PathBuf {
    let parent = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let is_half = matches!(
        file.file_name().and_then(|n| n.to_str()),
        Some("up.sql") | Some("down.sql")
    );
    // The folder's real name, also when it was given as `.` or `..`.
    let parent_name = match parent.file_name() {
        Some(name) => Some(name.to_os_string()),
        None => parent
            .canonicalize()
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_os_string())),
    };
    let in_migration_folder = is_half
        && parent_name
            .as_ref()
            .and_then(|n| n.to_str())
            .and_then(|n| Version::parse(n.split('_').next().unwrap_or("")))
            .is_some();
    if !in_migration_folder {
        return parent;
    }
    match parent.components().next_back() {
        Some(Component::Normal(_)) => match parent.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        },
        _ => parent.join(".."),
    }
}

fn same_file(a: &Path, b: &Path) -> bool {
    a == b
        || match (a.canonicalize(), b.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => false,
        }
}

/// Findings name files the way the user named them on the command line.
fn use_given_paths(findings: &mut [crate::finding::Finding], given: &[PathBuf]) {
    let given: Vec<(PathBuf, &PathBuf)> = given
        .iter()
        .filter(|p| p.is_file())
        .filter_map(|p| p.canonicalize().ok().map(|c| (c, p)))
        .collect();
    if given.is_empty() {
        return;
    }
    let mut cache: BTreeMap<PathBuf, Option<PathBuf>> = BTreeMap::new();
    for finding in findings {
        let replacement = cache.entry(finding.file.clone()).or_insert_with(|| {
            let canonical = finding.file.canonicalize().ok()?;
            given
                .iter()
                .find(|(c, _)| *c == canonical)
                .map(|(_, p)| (*p).clone())
        });
        if let Some(path) = replacement {
            finding.file = path.clone();
        }
    }
}

/// Groups the command-line paths into (folder, only these files).
fn targets(args: &LintArgs, config: &Config) -> Result<Vec<(PathBuf, Option<Vec<PathBuf>>)>> {
    if args.paths.is_empty() {
        return Ok(vec![(config.migrations_dir(), None)]);
    }
    let mut folders: Vec<(PathBuf, Option<Vec<PathBuf>>)> = Vec::new();
    let mut files: BTreeMap<PathBuf, Vec<PathBuf>> = BTreeMap::new();
    for path in &args.paths {
        if path.is_dir() {
            if !folders.iter().any(|(d, _)| same_file(d, path)) {
                folders.push((path.clone(), None));
            }
        } else if path.is_file() {
            files.entry(folder_of(path)).or_default().push(path.clone());
        } else {
            return Err(Error::io(
                path,
                std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or folder"),
            ));
        }
    }
    // A file inside a folder that is linted whole is reported with it.
    files.retain(|dir, _| !folders.iter().any(|(d, _)| same_file(d, dir)));
    folders.extend(files.into_iter().map(|(dir, files)| (dir, Some(files))));
    Ok(folders)
}

pub fn run(args: LintArgs, config: &Config) -> Result<u8> {
    let mut options = LintOptions {
        dialect: args.dialect.unwrap_or_else(|| config.dialect()),
        levels: config.levels()?,
        assume_lock_timeout: config.file.lint.assume_lock_timeout,
        runner: config.file.lint.runner,
        ..LintOptions::default()
    };
    if let Some(baseline) = &config.file.lint.baseline {
        options.baseline = Some(Version::parse(baseline).ok_or_else(|| {
            config.error(format!(
                "[lint] baseline `{baseline}` is not a migration version"
            ))
        })?);
    }
    let mut outcome = LintOutcome::default();
    for (dir, only) in targets(&args, config)? {
        let set = discover(&dir)?;
        options.only_files = only;
        let part = lint_set(&set, &options);
        outcome.findings.extend(part.findings);
        outcome.migrations_checked += part.migrations_checked;
        outcome.migrations_replayed += part.migrations_replayed;
    }
    use_given_paths(&mut outcome.findings, &args.paths);
    let mut stdout = anstream::stdout();
    report::write(&outcome, args.format, &mut stdout).map_err(|e| Error::io("<stdout>", e))?;
    stdout.flush().map_err(|e| Error::io("<stdout>", e))?;
    let failing = outcome.count(Severity::Error) > 0
        || (args.deny_warnings && outcome.count(Severity::Warning) > 0);
    Ok(if failing {
        super::EXIT_FINDINGS
    } else {
        super::EXIT_OK
    })
}
