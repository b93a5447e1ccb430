//! `straddle migrate expand | contract | up | rollback | status`

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};

use crate::config::Config;
use crate::db::{AnyBackend, Backend, DbUrl, connect};
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::finding::Severity;
use crate::lint::{LintOptions, lint_set};
use crate::runner::{self, Action, Command, Event, Plan, RunError, RunnerOptions};
use crate::source::{MigrationSet, Version, discover};

#[derive(Debug, Args)]
pub struct MigrateArgs {
    #[command(subcommand)]
    pub command: MigrateCommand,
}

#[derive(Debug, Subcommand)]
pub enum MigrateCommand {
    /// Apply pending expand migrations in order; stop at the first pending
    /// contract (never run one).
    Expand(ApplyArgs),
    /// Apply pending contracts whose gate passes: the rollout of their expand
    /// is complete and has baked, no instance of an older app version is
    /// connected, the check command passes.
    Contract(ApplyArgs),
    /// Apply every pending migration in order, whatever its phase (development
    /// databases, histories from before straddle).
    Up(UpArgs),
    /// Run down migrations in reverse order (default: the latest one), also
    /// for a migration that stopped part way.
    Rollback(RollbackArgs),
    /// Show every migration: applied or pending, phase, pair, when, checksum.
    Status(StatusArgs),
}

/// Where the migrations and the database are.
#[derive(Debug, Args)]
pub struct Target {
    /// The migrations folder (default: the one in straddle.toml, else
    /// ./migrations).
    pub dir: Option<PathBuf>,

    /// The database (default: DATABASE_URL, else .env, else straddle.toml
    /// [database] url, else the embedded SQLite file straddle.db).
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,

    /// Go on when applied migrations are missing on disk (they are still
    /// reported).
    #[arg(long)]
    pub allow_missing: bool,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub target: Target,

    /// Print the plan and the SQL; change nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Apply even when lint finds errors in the migrations to apply.
    #[arg(long)]
    pub no_lint: bool,

    #[command(flatten)]
    pub rollout: super::rollout::PhaseFlags,
}

#[derive(Debug, Args)]
pub struct UpArgs {
    #[command(flatten)]
    pub apply: ApplyArgs,

    /// Stop after this version.
    #[arg(long, value_name = "VERSION")]
    pub to: Option<String>,
}

#[derive(Debug, Args)]
pub struct RollbackArgs {
    #[command(flatten)]
    pub target: Target,

    /// Print the plan and the SQL; change nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Roll back every migration after this version (`0` for all).
    #[arg(long, value_name = "VERSION", conflicts_with = "steps")]
    pub to: Option<String>,

    /// Roll back this many migrations (default 1).
    #[arg(long, value_name = "N")]
    pub steps: Option<usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum StatusFormat {
    Human,
    Json,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub target: Target,

    /// Output format.
    #[arg(long, value_enum, default_value_t = StatusFormat::Human)]
    pub format: StatusFormat,
}

/// Where the database URL came from.
#[derive(Debug)]
pub(super) enum UrlSource {
    Flag,
    Env,
    DotEnv(PathBuf),
    Config(PathBuf),
    /// Nothing configured: the embedded SQLite file.
    Embedded(PathBuf),
}

/// `DATABASE_URL=…` from a `.env` file.
fn dotenv_url(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    for line in text.lines() {
        let line = line.trim();
        let line = line.strip_prefix("export ").unwrap_or(line).trim_start();
        let Some(value) = line.strip_prefix("DATABASE_URL") else {
            continue;
        };
        let Some(value) = value.trim_start().strip_prefix('=') else {
            continue;
        };
        let value = value.trim();
        let value = if (value.starts_with('"') && value.ends_with('"') && value.len() >= 2)
            || (value.starts_with('\'') && value.ends_with('\'') && value.len() >= 2)
        {
            &value[1..value.len() - 1]
        } else {
            value.split(" #").next().unwrap_or(value).trim()
        };
        if !value.is_empty() {
            return Some(value.to_string());
        }
    }
    None
}

/// `--database-url`, else `DATABASE_URL`, else `.env`, else straddle.toml,
/// else the embedded SQLite file `straddle.db` next to straddle.toml (or in
/// the current folder).
pub(super) fn resolve_url(flag: Option<&str>, config: &Config) -> Result<(DbUrl, UrlSource)> {
    let parse = |raw: &str| DbUrl::parse(raw).map_err(Error::usage);
    if let Some(raw) = flag {
        return Ok((parse(raw)?, UrlSource::Flag));
    }
    if let Ok(raw) = std::env::var("DATABASE_URL")
        && !raw.trim().is_empty()
    {
        return Ok((parse(&raw)?, UrlSource::Env));
    }
    let mut dotenvs = vec![PathBuf::from(".env")];
    if let Some(base) = config.base_dir()
        && base != Path::new("")
    {
        dotenvs.push(base.join(".env"));
    }
    for path in dotenvs {
        if let Some(raw) = dotenv_url(&path) {
            return Ok((parse(&raw)?, UrlSource::DotEnv(path)));
        }
    }
    if let Some(raw) = &config.file.database.url {
        let url = DbUrl::parse(raw).map_err(|e| config.error(format!("[database] url: {e}")))?;
        return Ok((
            url,
            UrlSource::Config(config.path.clone().unwrap_or_default()),
        ));
    }
    let dir = match config.base_dir() {
        Some(base) if base != Path::new("") => base.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let path = dir.join("straddle.db");
    Ok((DbUrl::sqlite_file(&path), UrlSource::Embedded(path)))
}

/// The dialect the files are split and linted in: the database's. A
/// different dialect in straddle.toml is a configuration error.
pub(super) fn dialect_for(url: &DbUrl, config: &Config, source: &UrlSource) -> Result<Dialect> {
    let dialect = url.dialect();
    if let Some(configured) = config.file.dialect
        && configured != dialect
    {
        let hint = if matches!(source, UrlSource::Embedded(_)) {
            " (no database is configured, so straddle uses its embedded SQLite file; set [database] url \
             in straddle.toml, DATABASE_URL or --database-url)"
        } else {
            ""
        };
        return Err(config.error(format!(
            "dialect = \"{configured}\" does not match the database, which is {dialect}{hint}"
        )));
    }
    Ok(dialect)
}

pub(super) fn say_database(url: &DbUrl, source: &UrlSource) {
    let mut err = anstream::stderr();
    let _ = match source {
        UrlSource::Embedded(path) => writeln!(
            err,
            "no database configured (--database-url, DATABASE_URL, .env or [database] url in straddle.toml): \
             using the embedded SQLite database {}",
            path.display()
        ),
        UrlSource::DotEnv(path) => writeln!(err, "database: {url} (from {})", path.display()),
        UrlSource::Config(path) => writeln!(err, "database: {url} (from {})", path.display()),
        UrlSource::Env => writeln!(err, "database: {url} (from DATABASE_URL)"),
        UrlSource::Flag => writeln!(err, "database: {url}"),
    };
}

pub(super) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("<tokio runtime>", e))
}

/// Connects, or `None` in a dry run whose SQLite file does not exist yet
/// (a dry run must not create it).
pub(super) async fn open(
    url: &DbUrl,
    dry_run: bool,
) -> std::result::Result<Option<AnyBackend>, RunError> {
    if dry_run
        && let Some(path) = url.sqlite_path()
        && !path.exists()
    {
        return Ok(None);
    }
    match connect(url, !dry_run).await {
        Ok(db) => Ok(Some(db)),
        Err(e) => Err(RunError::Database(crate::db::DbError::new(
            e.kind,
            format!("cannot connect to {url}: {}", e.message),
        ))),
    }
}

pub(super) fn print_event(event: Event) {
    let mut out = anstream::stdout();
    let _ = writeln!(out, "{event}");
    let _ = out.flush();
}

pub(super) fn fail(e: &RunError) -> u8 {
    let mut err = anstream::stderr();
    let _ = writeln!(err, "error: {e}");
    e.exit_code()
}

pub(super) fn migrations_dir(target: &Target, config: &Config) -> PathBuf {
    target
        .dir
        .clone()
        .unwrap_or_else(|| config.migrations_dir())
}

fn parse_version(text: &str, flag: &str) -> Result<Version> {
    Version::parse(text)
        .ok_or_else(|| Error::usage(format!("{flag} {text}: not a migration version")))
}

pub fn run(args: MigrateArgs, config: &Config) -> Result<u8> {
    match args.command {
        MigrateCommand::Expand(a) => apply(Command::Expand, a, config),
        MigrateCommand::Contract(a) => apply(Command::Contract, a, config),
        MigrateCommand::Up(a) => {
            let to =
                a.to.as_deref()
                    .map(|t| parse_version(t, "--to"))
                    .transpose()?;
            apply(Command::Up { to }, a.apply, config)
        }
        MigrateCommand::Rollback(a) => {
            let to =
                a.to.as_deref()
                    .map(|t| parse_version(t, "--to"))
                    .transpose()?;
            let apply_args = ApplyArgs {
                target: a.target,
                dry_run: a.dry_run,
                no_lint: true,
                rollout: Default::default(),
            };
            apply(Command::Rollback { to, steps: a.steps }, apply_args, config)
        }
        MigrateCommand::Status(a) => status(a, config),
    }
}

pub(super) fn lint_options(
    config: &Config,
    dialect: Dialect,
    options: &RunnerOptions,
) -> Result<LintOptions> {
    let mut lint = LintOptions {
        dialect,
        levels: config.levels()?,
        assume_lock_timeout: config.file.lint.assume_lock_timeout
            || (dialect == Dialect::Postgres && !options.lock_timeout.is_zero()),
        ..LintOptions::default()
    };
    if let Some(baseline) = &config.file.lint.baseline {
        lint.baseline = Some(Version::parse(baseline).ok_or_else(|| {
            config.error(format!(
                "[lint] baseline `{baseline}` is not a migration version"
            ))
        })?);
    }
    Ok(lint)
}

/// Lints the migrations the plan applies; `Some(exit code)` when errors stop
/// the run.
pub(super) fn lint_plan(
    set: &MigrationSet,
    plan: &Plan,
    mut options: LintOptions,
) -> Result<Option<u8>> {
    let files: Vec<PathBuf> = plan
        .steps
        .iter()
        .filter(|s| matches!(s.action, Action::Apply | Action::Resume))
        .filter_map(|s| s.migration.up_path.clone())
        .collect();
    if files.is_empty() {
        return Ok(None);
    }
    options.only_files = Some(files);
    let outcome = lint_set(set, &options);
    let errors = outcome.count(Severity::Error);
    let warnings = outcome.count(Severity::Warning);
    let mut out = anstream::stdout();
    if errors > 0 {
        crate::report::write(&outcome, crate::report::Format::Human, &mut out)
            .map_err(|e| Error::io("<stdout>", e))?;
        let mut err = anstream::stderr();
        let _ = writeln!(
            err,
            "error: lint found {errors} error(s) in the migrations to apply; nothing was applied \
             (fix them, or pass --no-lint to apply anyway)"
        );
        return Ok(Some(super::EXIT_FINDINGS));
    }
    if warnings > 0 {
        let _ = writeln!(
            out,
            "lint: no errors, {warnings} warning(s) in the migrations to apply (see `straddle lint`)"
        );
    }
    Ok(None)
}

fn print_plan(plan: &Plan, url: &DbUrl, db: Option<&AnyBackend>) {
    let mut out = anstream::stdout();
    let transactional = db.is_none_or(|d| d.transactional_ddl());
    let _ = writeln!(out, "plan for `migrate {}` on {url}:", plan.command);
    if plan.steps.is_empty() {
        let _ = writeln!(out, "  nothing to do");
    }
    for step in &plan.steps {
        let m = &step.migration;
        let rollback = step.action == Action::Revert;
        let (statements, no_tx, path) = if rollback {
            (&m.down, m.no_transaction_down, &m.down_path)
        } else {
            (&m.up, m.no_transaction_up, &m.up_path)
        };
        let how = if step.action == Action::Forget {
            "no statement ran: only its history row is removed".to_string()
        } else if no_tx || !transactional || step.start > 0 || step.undo_partial {
            format!(
                "{} statement(s), one at a time with progress recorded{}",
                statements.len(),
                if step.start > 0 {
                    format!(", from statement {}", step.start + 1)
                } else {
                    String::new()
                }
            )
        } else {
            format!("{} statement(s) in one transaction", statements.len())
        };
        let verb = match step.action {
            Action::Apply => "apply",
            Action::Resume => "resume",
            Action::Revert => "roll back",
            Action::Forget => "forget",
        };
        let _ = writeln!(
            out,
            "\n  {verb} {} {} ({}{}): {how}",
            m.version,
            m.name,
            m.phase,
            m.pair
                .as_ref()
                .map(|p| format!(" of {p}"))
                .unwrap_or_default()
        );
        if step.action == Action::Forget {
            continue;
        }
        let file = path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "(recorded text)".to_string());
        for s in statements.iter().skip(step.start) {
            let skipped = if s.transaction_control {
                "  -- skipped: straddle provides the transaction"
            } else {
                ""
            };
            let _ = writeln!(out, "    -- {file}:{}:{}{skipped}", s.line, s.column);
            let _ = writeln!(out, "    {};", s.text.replace('\n', "\n    "));
        }
    }
    for w in &plan.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    if let Some(stop) = &plan.stop {
        let _ = writeln!(out, "\n{stop}");
    }
    if let Some(blocked) = &plan.blocked {
        let _ = writeln!(out, "\nblocked: {blocked}");
    }
}

fn apply(command: Command, args: ApplyArgs, config: &Config) -> Result<u8> {
    if args.rollout.targets.is_some() {
        return super::rollout::fleet(command, args, config);
    }
    let dir = migrations_dir(&args.target, config);
    let set = discover(&dir)?;
    let (url, source) = resolve_url(args.target.database_url.as_deref(), config)?;
    let dialect = dialect_for(&url, config, &source)?;
    say_database(&url, &source);
    let mut options = RunnerOptions::from_config(&config.file.runner);
    options.allow_missing = args.target.allow_missing;
    let lint = lint_options(config, dialect, &options)?;
    let rt = runtime()?;
    rt.block_on(async {
        let mut db = match open(&url, args.dry_run).await {
            Ok(db) => db,
            Err(e) => return Ok(fail(&e)),
        };
        let mut log = print_event;
        let result = async {
            let history = match db.as_mut() {
                Some(db) => {
                    if !args.dry_run {
                        runner::lock(db, options.wait_for_runner, &mut log).await?;
                    }
                    runner::history(db, !args.dry_run).await?
                }
                None => Vec::new(),
            };
            let mut plan = runner::plan(&command, &set, &history, dialect, options.allow_missing)?;
            if let Some(db) = db.as_mut() {
                let (flags, dry_run) = (&args.rollout, args.dry_run);
                super::rollout::gate_plan(
                    db, &history, &mut plan, &command, flags, config, dry_run,
                )
                .await?;
            }
            Ok::<_, RunError>(plan)
        }
        .await;
        let code = match result {
            Err(e) => fail(&e),
            Ok(plan) => {
                let stopped_by_lint = if args.no_lint || matches!(command, Command::Rollback { .. })
                {
                    None
                } else {
                    lint_plan(&set, &plan, lint)?
                };
                if let Some(code) = stopped_by_lint {
                    code
                } else if args.dry_run {
                    print_plan(&plan, &url, db.as_ref());
                    let _ = writeln!(anstream::stdout(), "\ndry run: nothing was changed");
                    if plan.blocked.is_some() {
                        super::EXIT_FINDINGS
                    } else {
                        super::EXIT_OK
                    }
                } else {
                    let db = db.as_mut().expect("connected");
                    for w in &plan.warnings {
                        let _ = writeln!(anstream::stderr(), "warning: {w}");
                    }
                    match runner::execute(db, &plan, &options, &mut log).await {
                        Err(e) => fail(&e),
                        Ok(outcome) => {
                            let mut out = anstream::stdout();
                            if outcome.applied.is_empty()
                                && outcome.reverted.is_empty()
                                && plan.blocked.is_none()
                            {
                                let _ = writeln!(
                                    out,
                                    "nothing to {}",
                                    match command {
                                        Command::Rollback { .. } => "roll back",
                                        _ => "apply",
                                    }
                                );
                            }
                            if let Some(stop) = &plan.stop {
                                let _ = writeln!(out, "{stop}");
                            }
                            let code = if let Some(blocked) = &plan.blocked {
                                let _ = writeln!(anstream::stderr(), "blocked: {blocked}");
                                super::EXIT_FINDINGS
                            } else {
                                super::EXIT_OK
                            };
                            let flags = &args.rollout;
                            super::rollout::watch_after(
                                db, &set, dialect, &command, &outcome, flags, config, &options,
                                code,
                            )
                            .await
                        }
                    }
                }
            }
        };
        if let Some(db) = db.as_mut()
            && !args.dry_run
        {
            let _ = db.unlock().await;
        }
        Ok(code)
    })
}

fn status(args: StatusArgs, config: &Config) -> Result<u8> {
    let dir = migrations_dir(&args.target, config);
    let set = discover(&dir)?;
    let (url, source) = resolve_url(args.target.database_url.as_deref(), config)?;
    let dialect = dialect_for(&url, config, &source)?;
    if args.format == StatusFormat::Human {
        say_database(&url, &source);
    }
    let rt = runtime()?;
    rt.block_on(async {
        let mut window = None;
        let history = match open(&url, true).await {
            Err(e) => return Ok(fail(&e)),
            Ok(None) => Vec::new(),
            Ok(Some(mut db)) => match runner::history(&mut db, false).await {
                Ok(h) => {
                    window = super::rollout::status_window(&mut db, &h, &set, config).await;
                    h
                }
                Err(e) => return Ok(fail(&e)),
            },
        };
        let entries = runner::status(&set, &history, dialect);
        let drifted = entries
            .iter()
            .any(|e| e.checksum == "changed" || e.state == "missing");
        let mut out = anstream::stdout();
        match args.format {
            StatusFormat::Json => {
                let count = |state: &str| entries.iter().filter(|e| e.state == state).count();
                let value = serde_json::json!({
                    "database": url.to_string(),
                    "dialect": dialect.name(),
                    "migrations": entries,
                    "summary": {
                        "applied": count("applied"),
                        "pending": count("pending"),
                        "partial": count("partial"),
                        "reverting": count("reverting"),
                        "missing": count("missing"),
                        "changed": entries.iter().filter(|e| e.checksum == "changed").count(),
                    },
                    "window": window,
                });
                let _ = writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&value).unwrap_or_default()
                );
            }
            StatusFormat::Human => {
                let _ = out.write_all(render_status(&entries).as_bytes());
                if let Some(w) = window.as_ref().filter(|w| !w.is_empty()) {
                    let text = super::rollout::render_window(w);
                    let _ = writeln!(out, "\n{}", text.trim_end());
                }
            }
        }
        Ok(if drifted {
            super::EXIT_FINDINGS
        } else {
            super::EXIT_OK
        })
    })
}

fn render_status(entries: &[runner::StatusEntry]) -> String {
    let header = [
        "VERSION",
        "NAME",
        "PHASE",
        "PAIR",
        "STATE",
        "APPLIED AT",
        "CHECKSUM",
    ];
    let rows: Vec<[String; 7]> = entries
        .iter()
        .map(|e| {
            [
                e.version.clone(),
                e.name.clone(),
                e.phase.clone(),
                e.pair.clone().unwrap_or_else(|| "-".to_string()),
                match &e.progress {
                    Some(p) => format!("{} {p}", e.state),
                    None => e.state.clone(),
                },
                e.applied_at.clone().unwrap_or_else(|| "-".to_string()),
                e.checksum.clone(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut s = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(cell);
            } else {
                s.push_str(&format!("{cell:<w$}  ", w = widths[i]));
            }
        }
        s.trim_end().to_string() + "\n"
    };
    let mut out = line(&header.map(str::to_string));
    for row in &rows {
        out.push_str(&line(row));
    }
    if entries.is_empty() {
        out.push_str("(no migrations)\n");
    }
    out
}
