//! `straddle lint [DIR | FILE…]`

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Component, Path, PathBuf};

use clap::Args;

use crate::config::{Config, PathFilter, parse_server_version};
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::finding::Severity;
use crate::git::changes_since;
use crate::lint::{LintOptions, LintOutcome, OnlyFiles, lint_set};
use crate::report::{self, Format};
use crate::source::{Version, discover, discover_for};

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

    /// Write the report to FILE instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Exit 1 on warnings too.
    #[arg(long)]
    pub deny_warnings: bool,

    /// Report only migrations added or changed since this git ref (the whole
    /// folder is still replayed); flags shipped migrations that were edited
    /// and new ones that sort before a shipped one.
    #[arg(long, value_name = "REF")]
    pub changed_since: Option<String>,

    /// Migrations up to this version are replayed but not reported
    /// (default: `[lint] baseline` in straddle.toml).
    #[arg(long, value_name = "VERSION")]
    pub baseline: Option<String>,

    /// Replay but do not report migrations whose files match this glob
    /// (repeatable; replaces `[lint] exclude`; relative to the current folder).
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,

    /// The database server's major version, e.g. 12 (default: `[database]
    /// version` in straddle.toml, else the newest behaviour).
    #[arg(long, value_name = "VERSION")]
    pub database_version: Option<String>,
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
        return Ok(config
            .migrations_dirs()
            .into_iter()
            .map(|dir| (dir, None))
            .collect());
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

/// The options every folder shares: the file's settings, overridden by flags.
fn options(args: &LintArgs, config: &Config) -> Result<LintOptions> {
    let mut options = LintOptions {
        dialect: args.dialect.unwrap_or_else(|| config.dialect()),
        levels: config.levels()?,
        assume_lock_timeout: config.file.lint.assume_lock_timeout,
        runner: config.file.lint.runner,
        database_version: config.database_version(),
        ..LintOptions::default()
    };
    if let Some(raw) = &args.database_version {
        options.database_version = Some(parse_server_version(raw).ok_or_else(|| {
            Error::usage(format!(
                "--database-version `{raw}` is not a server version; write its major version, e.g. 16"
            ))
        })?);
    }
    match &args.baseline {
        Some(raw) => {
            options.baseline = Some(Version::parse(raw).ok_or_else(|| {
                Error::usage(format!("--baseline `{raw}` is not a migration version"))
            })?);
        }
        None => {
            if let Some(baseline) = &config.file.lint.baseline {
                options.baseline = Some(Version::parse(baseline).ok_or_else(|| {
                    config.error(format!(
                        "[lint] baseline `{baseline}` is not a migration version"
                    ))
                })?);
            }
        }
    }
    Ok(options)
}

/// Whether a migration has a file in `files` (canonical paths).
fn has_file(migration: &crate::source::Migration, files: &BTreeSet<PathBuf>) -> bool {
    std::iter::once(&migration.up.path)
        .chain(migration.down.as_ref().map(|d| &d.path))
        .any(|p| files.contains(&canonical(p)))
}

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

/// Lints one folder: `only` are the files named on the command line.
fn lint_folder(
    dir: &Path,
    only: Option<Vec<PathBuf>>,
    args: &LintArgs,
    exclude: &PathFilter,
    base: &LintOptions,
) -> Result<LintOutcome> {
    // Named files without --changed-since: only their migrations' downs
    // are looked at.
    let mut set = match (&only, &args.changed_since) {
        (Some(files), None) => {
            let named = OnlyFiles::new(files);
            discover_for(dir, &|up, down| named.contains(up) || named.contains(down))?
        }
        _ => discover(dir)?,
    };
    let mut options = base.clone();
    options.only_files = only;
    if let Some(git_ref) = &args.changed_since {
        let changes = changes_since(dir, git_ref)?;
        let changed: BTreeSet<PathBuf> = changes.changed.iter().cloned().collect();
        // Report the migrations with a changed file (or those named on the
        // command line that changed), and the changed problem files.
        let mut files: Vec<PathBuf> = Vec::new();
        for migration in &set.migrations {
            if has_file(migration, &changed) {
                files.push(migration.up.path.clone());
            }
        }
        files.extend(
            set.problems
                .iter()
                .filter(|p| changed.contains(&canonical(&p.path)))
                .map(|p| p.path.clone()),
        );
        if let Some(named) = &options.only_files {
            let named: BTreeSet<PathBuf> = named.iter().map(|p| canonical(p)).collect();
            files.retain(|f| {
                named.contains(&canonical(f))
                    || set
                        .migrations
                        .iter()
                        .any(|m| m.up.path == *f && has_file(m, &named))
            });
        }
        options.only_files = Some(files);
        let mut since = changes.since;
        since.newest_in_folder = set.migrations.iter().map(|m| m.version.clone()).max();
        options.changed_since = Some(since);
    }
    if !exclude.is_empty() {
        for migration in &set.migrations {
            let files =
                std::iter::once(&migration.up.path).chain(migration.down.as_ref().map(|d| &d.path));
            if files.clone().any(|f| exclude.matches(f)) {
                options.exclude_versions.insert(migration.version.clone());
            }
        }
        set.problems.retain(|p| !exclude.matches(&p.path));
    }
    Ok(lint_set(&set, &options))
}

pub fn run(args: LintArgs, config: &Config) -> Result<u8> {
    let base = options(&args, config)?;
    let exclude = if args.exclude.is_empty() {
        config.exclude()?
    } else {
        PathFilter::new(Path::new("."), &args.exclude).map_err(Error::usage)?
    };
    let mut outcome = LintOutcome::default();
    for (dir, only) in targets(&args, config)? {
        let part = lint_folder(&dir, only, &args, &exclude, &base)?;
        outcome.findings.extend(part.findings);
        outcome.migrations_checked += part.migrations_checked;
        outcome.migrations_replayed += part.migrations_replayed;
    }
    use_given_paths(&mut outcome.findings, &args.paths);
    match &args.output {
        Some(path) => {
            let mut file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
            report::write(&outcome, args.format, &mut file).map_err(|e| Error::io(path, e))?;
            file.flush().map_err(|e| Error::io(path, e))?;
            let mut stderr = anstream::stderr();
            let _ = writeln!(
                stderr,
                "straddle: {} error(s), {} warning(s) in {} migration(s); report written to {}",
                outcome.count(Severity::Error),
                outcome.count(Severity::Warning),
                outcome.migrations_checked,
                path.display()
            );
        }
        None => {
            let mut stdout = anstream::stdout();
            report::write(&outcome, args.format, &mut stdout)
                .map_err(|e| Error::io("<stdout>", e))?;
            stdout.flush().map_err(|e| Error::io("<stdout>", e))?;
        }
    }
    let failing = outcome.count(Severity::Error) > 0
        || (args.deny_warnings && outcome.count(Severity::Warning) > 0);
    Ok(if failing {
        super::EXIT_FINDINGS
    } else {
        super::EXIT_OK
    })
}
