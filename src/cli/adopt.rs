//! `straddle adopt`: record migrations applied by sqlx or diesel as applied.

use std::io::Write;

use clap::Args;

use super::migrate::{
    Target, dialect_for, fail, open, print_event, resolve_url, runtime, say_database,
};
use crate::config::Config;
use crate::db::Backend;
use crate::error::Result;
use crate::runner::{self, AdoptSource, RunnerOptions};
use crate::source::discover;

#[derive(Debug, Args)]
pub struct AdoptArgs {
    #[command(flatten)]
    pub target: Target,

    /// Read only this tool's table (default: both `_sqlx_migrations` and
    /// `__diesel_schema_migrations`, where present).
    #[arg(long, value_enum, value_name = "TOOL")]
    pub from: Option<AdoptSource>,

    /// Show what would be recorded; change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(args: AdoptArgs, config: &Config) -> Result<u8> {
    let dir = args
        .target
        .dir
        .clone()
        .unwrap_or_else(|| config.migrations_dir());
    let set = discover(&dir)?;
    let (url, source) = resolve_url(args.target.database_url.as_deref(), config)?;
    let _ = dialect_for(&url, config, &source)?;
    say_database(&url, &source);
    let options = RunnerOptions::from_config(&config.file.runner);
    let rt = runtime()?;
    rt.block_on(async {
        let mut db = match open(&url, args.dry_run).await {
            Ok(Some(db)) => db,
            Ok(None) => {
                let _ = writeln!(
                    anstream::stderr(),
                    "error: {url} does not exist yet: there is nothing to adopt"
                );
                return Ok(super::EXIT_ERROR);
            }
            Err(e) => return Ok(fail(&e)),
        };
        let mut log = print_event;
        if !args.dry_run
            && let Err(e) = runner::lock(&mut db, options.wait_for_runner, &mut log).await
        {
            return Ok(fail(&e));
        }
        let result = runner::adopt(&mut db, &set, args.from, &options, args.dry_run).await;
        if !args.dry_run {
            let _ = db.unlock().await;
        }
        let outcomes = match result {
            Ok(o) => o,
            Err(e) => return Ok(fail(&e)),
        };
        let mut out = anstream::stdout();
        let verb = if args.dry_run { "would adopt" } else { "adopted" };
        for o in &outcomes {
            let table = o.source.map(|s| s.table()).unwrap_or("");
            let _ = writeln!(
                out,
                "{table}: {verb} {} migration(s), {} already in straddle's history",
                o.adopted.len(),
                o.already.len()
            );
            for v in &o.adopted {
                let _ = writeln!(out, "  {verb} {v}");
            }
            for v in &o.missing_on_disk {
                let _ = writeln!(
                    out,
                    "  warning: {v} is applied in {table} but has no file on disk (recorded without text)"
                );
            }
            for v in &o.checksum_differs {
                let _ = writeln!(
                    out,
                    "  warning: {v}: the file changed since sqlx applied it (its checksum differs); \
                     `straddle migrate` will report this drift"
                );
            }
            for v in &o.dirty {
                let _ = writeln!(
                    out,
                    "  warning: {v} is marked failed (success = false) in {table}: not adopted; \
                     finish or undo it by hand first"
                );
            }
        }
        if args.dry_run {
            let _ = writeln!(out, "dry run: nothing was changed");
        }
        Ok(super::EXIT_OK)
    })
}
