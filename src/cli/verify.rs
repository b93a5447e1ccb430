//! `straddle verify [DIR]`: the round trip of every migration on a scratch
//! database that straddle creates and drops.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::config::Config;
use crate::db::DbUrl;
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::source::discover;
use crate::verify::checks::Checks;
use crate::verify::queries::{QueryCheck, load as load_queries};
use crate::verify::trace::Tracer;
use crate::verify::{self, Progress, Scratch, ScratchError, Seed, VerifyOptions};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum VerifyFormat {
    Human,
    Json,
    Markdown,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The migrations folder (default: the one in straddle.toml, else
    /// ./migrations).
    pub dir: Option<PathBuf>,

    /// A server where straddle may create its scratch database
    /// (`straddle_verify_<random>`, dropped at the end); the URL's own
    /// database is only used to connect. Default: an ephemeral PostgreSQL
    /// cluster from the local initdb/pg_ctl, or an in-memory SQLite.
    #[arg(long, value_name = "URL", env = "STRADDLE_SCRATCH_URL")]
    pub scratch_url: Option<String>,

    /// SQL dialect of the migrations (default: the scratch URL's, else
    /// straddle.toml's, else postgres).
    #[arg(long, value_name = "DIALECT")]
    pub dialect: Option<Dialect>,

    /// Stop at the first migration that fails.
    #[arg(long)]
    pub fail_fast: bool,

    /// SQL file run once at the start instead of generated rows (statements
    /// on tables that do not exist yet run once their table does).
    #[arg(long, value_name = "FILE")]
    pub seed: Option<PathBuf>,

    /// SQL run on every scratch connection first, as the application's own
    /// migration runner does (e.g. `SET FOREIGN_KEY_CHECKS = 0`); repeatable.
    #[arg(long, value_name = "SQL")]
    pub session_sql: Vec<String>,

    /// Generated rows per table before each migration (0: none).
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub rows: u64,

    /// The old release's queries: an sqlx offline folder (`.sqlx`, or a
    /// project folder holding one) or a .sql file. Every one that prepared
    /// before an expand must still prepare after it.
    #[arg(long, value_name = "PATH")]
    pub old_queries: Option<PathBuf>,

    /// The new release's queries (same forms): each must prepare before a
    /// contract runs, and the contract must not break it.
    #[arg(long, value_name = "PATH")]
    pub new_queries: Option<PathBuf>,

    /// Record, per statement of each up, the locks it took and the tables
    /// and indexes it rewrote (PostgreSQL), and how long it ran.
    #[arg(long)]
    pub trace: bool,

    /// Dry run on a copy of an existing database: its schema (read-only,
    /// never written to) is copied into the scratch database, and only the
    /// migrations its history lacks run there, traced, with the sizes of
    /// its tables. PostgreSQL needs pg_dump.
    #[arg(long, value_name = "URL")]
    pub from_url: Option<String>,

    /// With --from-url: also copy up to N rows of each table.
    #[arg(long, value_name = "N", requires = "from_url")]
    pub sample_rows: Option<u64>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = VerifyFormat::Human)]
    pub format: VerifyFormat,

    /// Also print notes (tables left empty, rows a migration refused).
    #[arg(long, short)]
    pub verbose: bool,
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).ok();
        let terminated = async {
            match term.as_mut() {
                Some(t) => {
                    t.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = terminated => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// A progress bar on a terminal, plain lines otherwise (CI, pipes).
struct Reporter {
    bar: Option<indicatif::ProgressBar>,
}

impl Reporter {
    fn new(total: usize) -> Reporter {
        let terminal = std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        let bar = terminal.then(|| {
            let bar = indicatif::ProgressBar::new(total as u64);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{spinner} [{bar:30}] {pos}/{len} {elapsed_precise} {wide_msg}",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        });
        Reporter { bar }
    }

    fn event(&self, event: Progress<'_>) {
        match event {
            Progress::Start { migration, .. } => {
                if let Some(bar) = &self.bar {
                    bar.set_message(format!(
                        "{} {}",
                        migration.prepared.version, migration.prepared.name
                    ));
                }
            }
            Progress::Done {
                index,
                total,
                report,
            } => {
                let line = format!(
                    "[{}/{total}] {} {}: {} ({:.2} s)",
                    index + 1,
                    report.version,
                    report.name,
                    report.status(),
                    report.seconds
                );
                match &self.bar {
                    Some(bar) => {
                        if report.failed() {
                            bar.println(line);
                        }
                        bar.inc(1);
                    }
                    None => {
                        let mut err = std::io::stderr();
                        let _ = writeln!(err, "{line}");
                    }
                }
            }
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

pub fn run(args: VerifyArgs, config: &Config) -> Result<u8> {
    let url = args
        .scratch_url
        .as_deref()
        .map(|u| DbUrl::parse(u).map_err(Error::usage))
        .transpose()?;
    let from = args
        .from_url
        .as_deref()
        .map(|u| DbUrl::parse(u).map_err(Error::usage))
        .transpose()?;
    let dialect = args
        .dialect
        .or(from.as_ref().map(DbUrl::dialect))
        .or(url.as_ref().map(DbUrl::dialect))
        .unwrap_or_else(|| config.dialect());
    if let Some(f) = &from
        && f.dialect() != dialect
    {
        return Err(Error::usage(format!(
            "--from-url {f} is a {} database, but the migrations are {dialect}",
            f.dialect()
        )));
    }
    let dir = args.dir.clone().unwrap_or_else(|| config.migrations_dir());
    let set = discover(&dir)?;
    let seed = match &args.seed {
        Some(path) => Some(Seed {
            path: path.clone(),
            text: std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?,
        }),
        None => None,
    };
    let load = |path: &PathBuf| load_queries(path, dialect).map_err(Error::usage);
    let old_queries = args.old_queries.as_ref().map(load).transpose()?;
    let new_queries = args.new_queries.as_ref().map(load).transpose()?;
    let mut planned = verify::plan(&set, dialect);
    if planned.is_empty() {
        let mut out = anstream::stdout();
        let _ = writeln!(out, "no migrations in {}: nothing to verify", dir.display());
        return Ok(super::EXIT_OK);
    }
    let options = VerifyOptions {
        fail_fast: args.fail_fast,
        rows: args.rows,
        seed,
        session: args.session_sql.clone(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("<tokio runtime>", e))?;
    runtime.block_on(async {
        let mut err = anstream::stderr();
        let mut checks = Checks::default();
        if let Some(from) = &from {
            let _ = writeln!(err, "reading the schema of {from} (read-only)");
            let mut copy = match verify::copy::read(from, args.sample_rows.unwrap_or(0)).await {
                Ok(c) => c,
                Err(m) => {
                    let _ = writeln!(err, "error: {m}");
                    return Ok(super::EXIT_ERROR);
                }
            };
            planned.retain(|m| !copy.is_applied(m.version()));
            copy.info.pending = planned.iter().map(|m| m.version().to_string()).collect();
            if planned.is_empty() {
                let mut out = anstream::stdout();
                let _ = writeln!(
                    out,
                    "nothing pending: {from} has applied every migration of {}",
                    dir.display()
                );
                return Ok(super::EXIT_OK);
            }
            checks.tracer = Some(Tracer::new(dialect, Some(copy.sizes.clone())));
            checks.copy = Some(copy);
        } else if args.trace {
            checks.tracer = Some(Tracer::new(dialect, None));
        }
        if old_queries.is_some() || new_queries.is_some() {
            checks.queries = Some(QueryCheck::new(old_queries, new_queries));
        }
        let mut scratch = match Scratch::open(dialect, url.as_ref()).await {
            Ok(s) => s,
            Err(ScratchError::Usage(m)) => return Err(Error::usage(m)),
            Err(ScratchError::Connection(m)) => {
                let _ = writeln!(err, "error: {m}");
                return Ok(super::EXIT_ERROR);
            }
        };
        let _ = writeln!(
            err,
            "verifying {} migration(s) of {} on {}",
            planned.len(),
            dir.display(),
            scratch.description
        );
        if dialect != Dialect::Sqlite {
            checks.scratch_url = Some(scratch.url());
        }
        let reporter = Reporter::new(planned.len());
        let mut progress = |event: Progress<'_>| reporter.event(event);
        let outcome = tokio::select! {
            r = verify::run(&mut scratch, &planned, &options, &mut checks, &mut progress) => Some(r),
            _ = shutdown_signal() => None,
        };
        reporter.finish();
        let cleaned = scratch.cleanup().await;
        if let Err(m) = &cleaned {
            let _ = writeln!(err, "warning: {m}");
        }
        let Some(outcome) = outcome else {
            let _ = writeln!(
                err,
                "interrupted: the scratch database was dropped{}",
                if cleaned.is_ok() { "" } else { " (or not: see above)" }
            );
            return Ok(130);
        };
        let mut report = match outcome {
            Ok(r) => r,
            Err(e) => {
                let _ = writeln!(err, "error: {e}");
                return Ok(super::EXIT_ERROR);
            }
        };
        checks.finish(&mut report);
        let text = match args.format {
            VerifyFormat::Human => verify::report::human(&report, args.verbose),
            VerifyFormat::Json => verify::report::json(&report),
            VerifyFormat::Markdown => verify::report::markdown(&report),
        };
        let mut out = anstream::stdout();
        let _ = write!(out, "{text}");
        if !text.ends_with('\n') {
            let _ = writeln!(out);
        }
        Ok(if report.failed() {
            super::EXIT_FINDINGS
        } else {
            super::EXIT_OK
        })
    })
}
