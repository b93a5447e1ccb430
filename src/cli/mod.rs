//! The command line: clap definitions and one thin file per command.

mod adopt;
mod baseline;
mod completions;
mod docs;
mod explain;
mod heartbeat;
mod init;
mod lint;
mod migrate;
mod new;
mod plan;
mod rollout;
mod rules;
mod verify;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::error::Error;

/// Exit codes: 0 clean, 1 findings or a failed gate, 2 usage, configuration or
/// I/O error.
pub const EXIT_OK: u8 = 0;
pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_ERROR: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "straddle",
    version,
    about = "Make schema migrations safe to ship: lint, expand/contract, run, verify",
    propagate_version = true
)]
pub struct Cli {
    /// Configuration file (default: the nearest straddle.toml above the current folder).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check migrations for irrevocable, breaking and locking changes.
    Lint(lint::LintArgs),
    /// List every rule with its category and severity.
    Rules(rules::RulesArgs),
    /// Print a rule's documentation: what, why, the safe alternative, an example.
    Explain(explain::ExplainArgs),
    /// Show each expand with its contract (or "no contract yet"), from the files.
    Plan(plan::PlanArgs),
    /// Write a new migration (up and down), or an expand/contract pair from a recipe.
    New(new::NewArgs),
    /// Apply or roll back migrations on a database, phase by phase; show their status.
    Migrate(migrate::MigrateArgs),
    /// Record the app's rollout between expand and contract: start, progress, complete, abort, status.
    Rollout(rollout::RolloutArgs),
    /// Tell straddle that an app instance of a version is running (for the contract gate).
    Heartbeat(heartbeat::HeartbeatArgs),
    /// Prove on a scratch database that every migration can be undone: up, down, up again.
    Verify(verify::VerifyArgs),
    /// Record migrations already applied by sqlx or diesel as applied in straddle's history.
    Adopt(adopt::AdoptArgs),
    /// Write a commented default straddle.toml (never overwrites one).
    Init(init::InitArgs),
    /// Set `[lint] baseline` in straddle.toml to the newest migration (or VERSION).
    Baseline(baseline::BaselineArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions(completions::CompletionsArgs),
    /// Print the man page (roff) to standard output.
    Man(completions::ManArgs),
    /// Regenerate the generated parts of docs/ (rules reference, command help).
    #[command(hide = true)]
    Docs(docs::DocsArgs),
}

/// Parses the arguments, runs the command and maps the result to an exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_ERROR } else { EXIT_OK };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            let mut stderr = anstream::stderr();
            let _ = writeln!(stderr, "error: {e}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// Runs a parsed command line; returns the exit code.
pub fn run(cli: Cli) -> Result<u8, Error> {
    // Commands that need no configuration run even when it is broken.
    let command = match cli.command {
        Command::Init(args) => return init::run(args, cli.config.as_deref()),
        Command::Completions(args) => return completions::run(args),
        Command::Man(args) => return completions::man(args),
        Command::Docs(args) => return docs::run(args),
        other => other,
    };
    let cwd = std::env::current_dir().map_err(|e| Error::io(".", e))?;
    let config = Config::load(cli.config.as_deref(), &cwd)?;
    match command {
        Command::Lint(args) => lint::run(args, &config),
        Command::Rules(args) => rules::run(args),
        Command::Explain(args) => explain::run(args),
        Command::Plan(args) => plan::run(args, &config),
        Command::New(args) => new::run(args, &config),
        Command::Migrate(args) => migrate::run(args, &config),
        Command::Rollout(args) => rollout::run(args, &config),
        Command::Heartbeat(args) => heartbeat::run(args, &config),
        Command::Adopt(args) => adopt::run(args, &config),
        Command::Verify(args) => verify::run(args, &config),
        Command::Baseline(args) => baseline::run(args, &config),
        // Already handled above; repeated so the match stays exhaustive.
        Command::Init(args) => init::run(args, cli.config.as_deref()),
        Command::Completions(args) => completions::run(args),
        Command::Man(args) => completions::man(args),
        Command::Docs(args) => docs::run(args),
    }
}
