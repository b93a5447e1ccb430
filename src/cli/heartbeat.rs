//! `straddle heartbeat --app-version V --instance ID`: keeps this instance's
//! row of `straddle_heartbeats` fresh, so that the contract gate knows an
//! instance of version V is still running. Run it from the app's start-up
//! (once, or `--every 30s` as a sidecar) and with `--remove` at shutdown.

use std::io::Write;
use std::time::Duration;

use clap::Args;

use super::migrate::{dialect_for, fail, open, resolve_url, runtime};
use crate::config::Config;
use crate::error::Result;
use crate::rollout::heartbeat;

#[derive(Debug, Args)]
pub struct HeartbeatArgs {
    /// The app version this instance runs.
    #[arg(long, value_name = "VERSION", required_unless_present = "remove")]
    pub app_version: Option<String>,

    /// A name unique to this instance (host name, pod name…).
    #[arg(long, value_name = "ID")]
    pub instance: String,

    /// Keep sending one heartbeat per interval until stopped (Ctrl-C or
    /// SIGTERM removes the row).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, conflicts_with = "remove")]
    pub every: Option<Duration>,

    /// Remove this instance's row (it is shutting down).
    #[arg(long)]
    pub remove: bool,

    /// The database (default: DATABASE_URL, else .env, else straddle.toml
    /// [database] url, else the embedded SQLite file straddle.db).
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
}

fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    match humantime::parse_duration(text.trim()) {
        Ok(d) if !d.is_zero() => Ok(d),
        Ok(_) => Err("the interval must be longer than zero".to_string()),
        Err(e) => Err(format!(
            "`{text}` is not a duration ({e}); write for example 30s"
        )),
    }
}

/// Resolves on Ctrl-C, or on SIGTERM (what process managers send).
async fn stopped() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

pub fn run(args: HeartbeatArgs, config: &Config) -> Result<u8> {
    let (url, source) = resolve_url(args.database_url.as_deref(), config)?;
    dialect_for(&url, config, &source)?;
    let rt = runtime()?;
    rt.block_on(async {
        let mut db = match open(&url, false).await {
            Ok(Some(db)) => db,
            Ok(None) => return Ok(super::EXIT_ERROR),
            Err(e) => return Ok(fail(&e)),
        };
        let mut out = anstream::stdout();
        if args.remove {
            let removed = match heartbeat::remove(&mut db, &args.instance).await {
                Ok(r) => r,
                Err(e) => return Ok(fail(&e.into())),
            };
            let _ = writeln!(
                out,
                "{}",
                if removed {
                    format!("removed the heartbeat of {}", args.instance)
                } else {
                    format!("{} had no heartbeat", args.instance)
                }
            );
            return Ok(super::EXIT_OK);
        }
        let version = args.app_version.clone().unwrap_or_default();
        loop {
            if let Err(e) = heartbeat::beat(&mut db, &args.instance, &version).await {
                return Ok(fail(&e.into()));
            }
            let Some(every) = args.every else {
                let _ = writeln!(
                    out,
                    "heartbeat: {} runs app {version} ({} keeps it for [rollout] heartbeat_stale)",
                    args.instance,
                    heartbeat::HEARTBEATS_TABLE
                );
                return Ok(super::EXIT_OK);
            };
            tokio::select! {
                _ = tokio::time::sleep(every) => {}
                _ = stopped() => {
                    // Shutting down cleanly: the instance is gone now, not
                    // after heartbeat_stale.
                    let _ = heartbeat::remove(&mut db, &args.instance).await;
                    let _ = writeln!(out, "stopped: removed the heartbeat of {}", args.instance);
                    return Ok(super::EXIT_OK);
                }
            }
        }
    })
}
