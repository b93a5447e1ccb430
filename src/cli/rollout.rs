//! `straddle rollout start | progress | complete | abort | status`, and the
//! rollout flags of `straddle migrate expand | contract` (the contract gate,
//! `--force`, the health watch, waves over `--targets`).

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgGroup, Args, Subcommand, ValueEnum};

use super::migrate::{ApplyArgs, dialect_for, fail, open, resolve_url, runtime, say_database};
use crate::config::Config;
use crate::db::{AnyBackend, Backend, DbUrl, HistoryRow};
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::rollout::gate::{self, GateSettings};
use crate::rollout::health::{self, HealthOptions, Verdict};
use crate::rollout::phase::{self, Force, PhaseJob};
use crate::rollout::progress::Progress;
use crate::rollout::store::{self, NewEvent, Rollout, RolloutState};
use crate::rollout::waves::{self, FleetOptions, Target};
use crate::rollout::{heartbeat, window};
use crate::runner::{self, Command, Outcome, Plan, RunError, RunnerOptions};
use crate::source::{MigrationSet, discover};

#[derive(Debug, Args)]
pub struct RolloutArgs {
    #[command(subcommand)]
    pub command: RolloutCommand,
}

#[derive(Debug, Subcommand)]
pub enum RolloutCommand {
    /// Record that an app version starts rolling out; the expands applied
    /// since the last rollout join its window.
    Start(StartArgs),
    /// Record how far the rollout in progress is (`--percent N` or `--stage NAME`).
    Progress(ProgressArgs),
    /// Record that every instance runs the new version; the bake time starts.
    Complete(EventArgs),
    /// Record that the rollout was abandoned; `--rollback` also rolls back its window's expands.
    Abort(AbortArgs),
    /// Show the rollout, the window of live expands and the contracts that wait for it.
    Status(RolloutStatusArgs),
}

/// Which database(s).
#[derive(Debug, Args)]
pub struct Where {
    /// The database (default: DATABASE_URL, else .env, else straddle.toml
    /// [database] url, else the embedded SQLite file straddle.db).
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,

    /// Record it on every database of a targets file (`[[target]]` entries
    /// with `name` and `url` or `url_env`).
    #[arg(long, value_name = "FILE", conflicts_with = "database_url")]
    pub targets: Option<PathBuf>,
}

/// Who acts, and why: kept in the audit table `straddle_rollout_events`.
#[derive(Debug, Args)]
pub struct Who {
    /// Who does it (default: the OS user, from $USER or $LOGNAME).
    #[arg(long, value_name = "NAME")]
    pub actor: Option<String>,

    /// Why, in a few words.
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
}

#[derive(Debug, Args)]
pub struct StartArgs {
    /// The app version being rolled out (`2.4.0`; compared by its numeric
    /// parts with the versions of connected instances).
    #[arg(long, value_name = "VERSION")]
    pub app_version: String,

    #[command(flatten)]
    pub place: Where,

    #[command(flatten)]
    pub who: Who,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("how_far").required(true).multiple(true).args(["percent", "stage"])))]
pub struct ProgressArgs {
    /// Share of instances that run the new version, 0 to 100.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i64).range(0..=100))]
    pub percent: Option<i64>,

    /// A stage name (`canary`, `eu-west`, `half`…).
    #[arg(long, value_name = "NAME")]
    pub stage: Option<String>,

    #[command(flatten)]
    pub place: Where,

    #[command(flatten)]
    pub who: Who,
}

#[derive(Debug, Args)]
pub struct EventArgs {
    #[command(flatten)]
    pub place: Where,

    #[command(flatten)]
    pub who: Who,
}

#[derive(Debug, Args)]
pub struct AbortArgs {
    /// The migrations folder, for `--rollback` (default: the one in
    /// straddle.toml, else ./migrations).
    pub dir: Option<PathBuf>,

    /// Also roll back the window's expands (and, before them, any contract
    /// applied after them), newest first.
    #[arg(long)]
    pub rollback: bool,

    #[command(flatten)]
    pub place: Where,

    #[command(flatten)]
    pub who: Who,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RolloutFormat {
    Human,
    Json,
}

#[derive(Debug, Args)]
pub struct RolloutStatusArgs {
    /// The migrations folder, to list the contracts that wait (default: the
    /// one in straddle.toml, else ./migrations).
    pub dir: Option<PathBuf>,

    #[command(flatten)]
    pub place: Where,

    /// Output format.
    #[arg(long, value_enum, default_value_t = RolloutFormat::Human)]
    pub format: RolloutFormat,
}

fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    humantime::parse_duration(text.trim()).map_err(|e| {
        format!("`{text}` is not a duration ({e}); write for example 10m, 15s or 1h 30m")
    })
}

/// The rollout flags of `migrate expand` and `migrate contract`.
#[derive(Clone, Debug, Default, Args)]
pub struct PhaseFlags {
    /// Contract only: apply even though the gate fails (needs --reason);
    /// recorded in straddle_rollout_events.
    #[arg(long, requires = "reason")]
    pub force: bool,

    /// Why the gate is bypassed (with --force).
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,

    /// Who runs it, for the audit table (default: the OS user).
    #[arg(long, value_name = "NAME")]
    pub actor: Option<String>,

    /// A shell command run after applying (exit 0 = healthy); failures in a
    /// row roll back what was just applied (default: [rollout] health_cmd).
    #[arg(long, value_name = "CMD")]
    pub health_cmd: Option<String>,

    /// How long to watch the health command (default: [rollout] health_watch, 10m).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub watch: Option<Duration>,

    /// Pause between two health checks (default: [rollout] health_interval, 15s).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub interval: Option<Duration>,

    /// Failures in a row that trigger the rollback (default: [rollout] health_failures, 3).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub failures: Option<u32>,

    /// Apply to every database of this targets file, in waves.
    #[arg(long, value_name = "FILE")]
    pub targets: Option<PathBuf>,

    /// With --targets: databases done after each wave, as counts or
    /// percentages (default: 1,10%,100%).
    #[arg(long, value_name = "LIST", requires = "targets")]
    pub waves: Option<String>,

    /// With --targets: databases migrated at once within a wave (default 4).
    #[arg(long, value_name = "N", requires = "targets", value_parser = clap::value_parser!(u32).range(1..))]
    pub parallel: Option<u32>,
}

impl PhaseFlags {
    /// The health watch to run, from the flags and `[rollout]`.
    fn health(&self, config: &Config) -> Option<HealthOptions> {
        let section = &config.file.rollout;
        let command = self
            .health_cmd
            .clone()
            .or_else(|| section.health_cmd.clone())
            .filter(|c| !c.trim().is_empty())?;
        Some(HealthOptions {
            command,
            watch: self.watch.unwrap_or(section.health_watch),
            interval: self.interval.unwrap_or(section.health_interval),
            failures: self.failures.unwrap_or(section.health_failures),
        })
    }

    fn force(&self) -> Option<Force> {
        self.force.then(|| Force {
            reason: self.reason.clone().unwrap_or_default(),
            actor: crate::rollout::actor(self.actor.as_deref()),
        })
    }

    fn check(&self, command: &Command) -> std::result::Result<(), RunError> {
        if self.force && *command != Command::Contract {
            return Err(RunError::Usage(
                "--force bypasses the contract gate: it is only for `straddle migrate contract`"
                    .to_string(),
            ));
        }
        if self.force && self.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
            return Err(RunError::Usage(
                "--force needs --reason \"…\": the reason is kept in the audit table".to_string(),
            ));
        }
        Ok(())
    }
}

fn say(text: impl AsRef<str>) {
    let mut out = anstream::stdout();
    let _ = writeln!(out, "{}", text.as_ref());
    let _ = out.flush();
}

fn warn(text: impl AsRef<str>) {
    let mut err = anstream::stderr();
    let _ = writeln!(err, "{}", text.as_ref());
}

// ---------------------------------------------------------------------------
// Hooks called by `migrate expand | contract`.

/// After planning: the contract gate. Without `--force` the plan stops at
/// the first contract whose gate fails; with it, the bypass is recorded.
pub(super) async fn gate_plan(
    db: &mut AnyBackend,
    history: &[HistoryRow],
    plan: &mut Plan,
    command: &Command,
    flags: &PhaseFlags,
    config: &Config,
    dry_run: bool,
) -> std::result::Result<(), RunError> {
    flags.check(command)?;
    if *command != Command::Contract {
        return Ok(());
    }
    let settings = GateSettings::from_config(&config.file.rollout);
    let contracts = gate::contracts_of(plan);
    let gates = gate::evaluate(db, history, &contracts, &settings).await?;
    let force = flags.force();
    let bypassed = gate::hold_back(plan, &gates, force.is_some());
    if let Some(force) = force {
        for g in &bypassed {
            warn(format!(
                "warning: --force bypasses the gate of contract {} ({}):\n{}",
                g.contract,
                force.reason,
                g.describe()
            ));
        }
        if !dry_run {
            phase::record_force(db, &contracts, &bypassed, &force).await?;
            if !contracts.is_empty() {
                warn(format!(
                    "recorded in {}: --force by {}, reason: {}",
                    store::EVENTS_TABLE,
                    force.actor,
                    force.reason
                ));
            }
        }
    }
    Ok(())
}

/// After a successful run: the health watch, and the automatic rollback of
/// what was just applied when it fails. Returns the exit code.
#[allow(clippy::too_many_arguments)]
pub(super) async fn watch_after(
    db: &mut AnyBackend,
    set: &MigrationSet,
    dialect: Dialect,
    command: &Command,
    outcome: &Outcome,
    flags: &PhaseFlags,
    config: &Config,
    options: &RunnerOptions,
    code: u8,
) -> u8 {
    // `[rollout] health_cmd` watches phases; `migrate up` only with the flag.
    let phase = matches!(command, Command::Expand | Command::Contract);
    if matches!(command, Command::Rollback { .. }) || (!phase && flags.health_cmd.is_none()) {
        return code;
    }
    let Some(health) = flags.health(config) else {
        return code;
    };
    if outcome.applied.is_empty() {
        say("health: nothing was applied, so there is nothing to watch");
        return code;
    }
    let env = vec![
        ("STRADDLE_PHASE".to_string(), command.name().to_string()),
        ("STRADDLE_APPLIED".to_string(), outcome.applied.join(",")),
    ];
    let verdict = watch_health(&health, &env).await;
    match verdict {
        Verdict::Healthy { checks, watched } => {
            say(format!(
                "all clear: `{}` passed for the whole watch ({}, {checks} check(s)); {} stay applied",
                health.command,
                store::human(watched),
                outcome.applied.join(", ")
            ));
            code
        }
        Verdict::Unhealthy { streak, last, .. } => {
            let why = format!(
                "health command `{}` failed {streak} time(s) in a row after `migrate {}` ({})",
                health.command,
                command.name(),
                last.summary()
            );
            warn(format!(
                "error: {why}: rolling back what this run applied: {}",
                outcome.applied.join(", ")
            ));
            let mut log = super::migrate::print_event;
            let result =
                phase::rollback_versions(db, set, dialect, &outcome.applied, options, &mut log)
                    .await;
            match result {
                Ok(rolled) => {
                    let event = NewEvent {
                        kind: "auto-rollback".to_string(),
                        migrations: rolled.reverted.clone(),
                        actor: crate::rollout::actor(flags.actor.as_deref()),
                        reason: Some(why.clone()),
                        detail: Some(format!(
                            "`migrate {}` applied {}; the health watch failed",
                            command.name(),
                            outcome.applied.join(", ")
                        )),
                        ..NewEvent::default()
                    };
                    if let Err(e) = store::record(db, &event).await {
                        warn(format!(
                            "warning: could not record the rollback in {}: {e}",
                            store::EVENTS_TABLE
                        ));
                    }
                    warn(format!(
                        "rolled back {} automatically; recorded in {}",
                        rolled.reverted.join(", "),
                        store::EVENTS_TABLE
                    ));
                }
                Err(e) => {
                    warn(format!(
                        "error: the automatic rollback failed too; the database needs a person:\n{e}"
                    ));
                }
            }
            super::EXIT_FINDINGS
        }
    }
}

async fn watch_health(health: &HealthOptions, env: &[(String, String)]) -> Verdict {
    let progress = Progress::new(health.watch.as_secs().max(1), "s watched");
    progress.line(format!(
        "health: watching `{}` for {} (every {}; {} failure(s) in a row roll back what was applied)",
        health.command,
        store::human(health.watch),
        store::human(health.interval),
        health.failures
    ));
    let verdict = health::watch(health, env, &mut |c| {
        progress.set_position(c.elapsed.as_secs());
        let text = if c.result.ok {
            format!("health check {}: passed", c.number)
        } else {
            format!(
                "health check {}: FAILED ({}), {} in a row",
                c.number,
                c.result.summary(),
                c.streak
            )
        };
        progress.message(text.clone());
        progress.line(text);
    })
    .await;
    progress.finish();
    verdict
}

/// `migrate expand | contract --targets FILE`: wave by wave.
pub(super) fn fleet(command: Command, args: ApplyArgs, config: &Config) -> Result<u8> {
    let flags = &args.rollout;
    let Some(targets_path) = &flags.targets else {
        return Err(Error::usage("--targets is missing"));
    };
    if args.target.database_url.is_some() {
        return Err(Error::usage(
            "--targets names the databases: leave out --database-url",
        ));
    }
    if !matches!(command, Command::Expand | Command::Contract) {
        return Err(Error::usage(
            "--targets is for `migrate expand` and `migrate contract`",
        ));
    }
    if let Err(e) = flags.check(&command) {
        return Err(Error::usage(e.to_string()));
    }
    let targets = waves::load_targets(targets_path).map_err(Error::usage)?;
    let sizes =
        waves::parse_waves(flags.waves.as_deref().unwrap_or("1,10%,100%")).map_err(Error::usage)?;
    let dir = super::migrate::migrations_dir(&args.target, config);
    let set = discover(&dir)?;
    let dialect = targets[0].url.dialect();
    if let Some(configured) = config.file.dialect
        && configured != dialect
    {
        return Err(config.error(format!(
            "dialect = \"{configured}\" does not match the targets, which are {dialect}"
        )));
    }
    let mut options = RunnerOptions::from_config(&config.file.runner);
    options.allow_missing = args.target.allow_missing;
    let actor = crate::rollout::actor(flags.actor.as_deref());
    let job = PhaseJob {
        command: command.clone(),
        set: set.clone(),
        dialect,
        options: options.clone(),
        gate: GateSettings::from_config(&config.file.rollout),
        force: flags.force(),
    };
    let parallel = flags.parallel.unwrap_or(4) as usize;
    let fleet = FleetOptions {
        waves: sizes,
        parallel,
        health: flags.health(config),
        actor,
    };
    let lint = super::migrate::lint_options(config, dialect, &options)?;
    let rt = runtime()?;
    rt.block_on(async {
        say(format!(
            "{} database(s) from {}; checking every one before changing any",
            targets.len(),
            targets_path.display()
        ));
        let checks = waves::preflight_all(&targets, &job, parallel).await;
        let mut worst = super::EXIT_OK;
        let mut steps = Vec::new();
        for (t, check) in targets.iter().zip(&checks) {
            match check {
                Err(e) => {
                    warn(format!("error: {}: {e}", t.name));
                    worst = worst.max(e.exit_code());
                }
                Ok(p) if !p.failing.is_empty() && job.force.is_none() => {
                    for g in &p.failing {
                        warn(format!("error: {}: {}", t.name, g.describe()));
                    }
                    worst = worst.max(super::EXIT_FINDINGS);
                }
                Ok(p) => {
                    let versions: Vec<&str> = p
                        .plan
                        .steps
                        .iter()
                        .map(|s| s.migration.version.as_str())
                        .collect();
                    say(format!(
                        "  {}: {}",
                        t.name,
                        if versions.is_empty() {
                            "nothing to apply".to_string()
                        } else {
                            format!("will apply {}", versions.join(", "))
                        }
                    ));
                    for s in &p.plan.steps {
                        if !steps.iter().any(|x: &runner::Step| x.migration.version == s.migration.version) {
                            steps.push(s.clone());
                        }
                    }
                }
            }
        }
        if worst != super::EXIT_OK {
            warn("nothing was applied to any database");
            return Ok(worst);
        }
        if !args.no_lint {
            let union = Plan {
                command: command.name().to_string(),
                steps,
                stop: None,
                blocked: None,
                warnings: Vec::new(),
            };
            if let Some(code) = super::migrate::lint_plan(&set, &union, lint)? {
                return Ok(code);
            }
        }
        let wave_ranges = waves::plan_waves(&fleet.waves, targets.len());
        if args.dry_run {
            for (i, r) in wave_ranges.iter().enumerate() {
                let names: Vec<&str> = targets[r.clone()].iter().map(|t| t.name.as_str()).collect();
                say(format!("wave {}: {}", i + 1, names.join(", ")));
            }
            say("dry run: nothing was changed");
            return Ok(super::EXIT_OK);
        }
        if fleet.health.is_none() {
            say("no health command (--health-cmd or [rollout] health_cmd): waves follow each other without a check");
        }
        let progress = Progress::new(targets.len() as u64, "databases");
        let outcome = waves::run(&targets, &job, &fleet, &progress).await;
        progress.finish();
        print_fleet(&targets, &outcome);
        Ok(if outcome.ok() {
            super::EXIT_OK
        } else {
            super::EXIT_FINDINGS
        })
    })
}

fn print_fleet(targets: &[Target], outcome: &waves::FleetOutcome) {
    use waves::TargetState::*;
    let mut lines = Vec::new();
    for (t, (_, state)) in targets.iter().zip(&outcome.targets) {
        let text = match state {
            Untouched => "untouched".to_string(),
            Applied { versions } if versions.is_empty() => "up to date".to_string(),
            Applied { versions } => format!("applied {}", versions.join(", ")),
            RolledBack { versions } if versions.is_empty() => {
                "rolled back (nothing had been applied)".to_string()
            }
            RolledBack { versions } => format!("rolled back {}", versions.join(", ")),
            Failed { error } => format!(
                "failed and rolled back: {}",
                error.lines().next().unwrap_or("")
            ),
            RollbackFailed { error } => format!(
                "ROLLBACK FAILED, needs a person: {}",
                error.lines().next().unwrap_or("")
            ),
        };
        lines.push(format!("  {}: {text}", t.name));
    }
    match &outcome.failure {
        None => say(format!(
            "all {} database(s) done:\n{}",
            targets.len(),
            lines.join("\n")
        )),
        Some(why) => warn(format!(
            "error: {why}\nthe run stopped; the failing wave was rolled back:\n{}",
            lines.join("\n")
        )),
    }
}

// ---------------------------------------------------------------------------
// `migrate status`: the window.

/// The window shown by `migrate status` (`None` when it cannot be read).
pub(super) async fn status_window(
    db: &mut AnyBackend,
    history: &[HistoryRow],
    set: &MigrationSet,
    config: &Config,
) -> Option<window::Window> {
    let rollouts = store::rollouts(db).await.ok()?;
    let now = store::now_ms(db).await.ok()?;
    Some(window::window(
        history,
        &rollouts,
        Some(set),
        now,
        config.file.rollout.bake,
    ))
}

/// The window as text (empty when there is nothing to say).
pub(super) fn render_window(w: &window::Window) -> String {
    render(w, true)
}

fn render(w: &window::Window, with_contracts: bool) -> String {
    let mut out = String::new();
    match &w.current {
        Some(r) => out.push_str(&format!(
            "rollout #{} of app {}: in progress ({}), started {}\n",
            r.id,
            r.app_version,
            progress_text(r.percent, r.stage.as_deref()),
            r.started_at
        )),
        None => out.push_str("no rollout in progress\n"),
    }
    if let Some(r) = &w.last_completed {
        out.push_str(&format!(
            "last completed rollout: #{} of app {}, completed {}\n",
            r.id,
            r.app_version,
            r.completed_at.as_deref().unwrap_or("-")
        ));
    }
    if w.expands.is_empty() {
        out.push_str("window: empty (every applied expand has been rolled out)\n");
    } else {
        out.push_str("window (expands applied since the last completed rollout; both app versions must work):\n");
        for e in &w.expands {
            let owner = match &e.rollout {
                Some(r) => format!(
                    "rollout #{} of app {} ({})",
                    r.id,
                    r.app_version,
                    r.state.as_str()
                ),
                None => "no rollout yet".to_string(),
            };
            out.push_str(&format!(
                "  {} {}  live since {}  {owner}\n",
                e.version,
                e.name,
                e.applied_at.as_deref().unwrap_or("-")
            ));
        }
    }
    if with_contracts && !w.contracts.is_empty() {
        out.push_str("contracts waiting:\n");
        for c in &w.contracts {
            out.push_str(&format!(
                "  {} {} (expand {}): {}: {}\n",
                c.version, c.name, c.expand, c.state, c.note
            ));
        }
    }
    out
}

fn progress_text(percent: Option<i64>, stage: Option<&str>) -> String {
    match (percent, stage) {
        (Some(p), Some(s)) => format!("{p}%, stage {s}"),
        (Some(p), None) => format!("{p}%"),
        (None, Some(s)) => format!("stage {s}"),
        (None, None) => "no progress reported yet".to_string(),
    }
}

// ---------------------------------------------------------------------------
// `straddle rollout …`

/// The databases a rollout command works on: one, or a targets file's.
fn places(place: &Where, config: &Config, quiet: bool) -> Result<Vec<Target>> {
    if let Some(path) = &place.targets {
        return waves::load_targets(path).map_err(Error::usage);
    }
    let (url, source) = resolve_url(place.database_url.as_deref(), config)?;
    dialect_for(&url, config, &source)?;
    if !quiet {
        say_database(&url, &source);
    }
    Ok(vec![Target {
        name: "database".to_string(),
        url,
    }])
}

async fn connect_to(url: &DbUrl) -> std::result::Result<AnyBackend, RunError> {
    match open(url, false).await? {
        Some(db) => Ok(db),
        None => Err(RunError::Usage(format!("cannot open {url}"))),
    }
}

pub fn run(args: RolloutArgs, config: &Config) -> Result<u8> {
    match args.command {
        RolloutCommand::Start(a) => each(&a.place, config, async |db, _| {
            start(db, &a.app_version, &a.who).await
        }),
        RolloutCommand::Progress(a) => each(&a.place, config, async |db, _| {
            progress(db, a.percent, a.stage.as_deref(), &a.who).await
        }),
        RolloutCommand::Complete(a) => each(&a.place, config, async |db, _| {
            complete(db, &a.who, config).await
        }),
        RolloutCommand::Abort(a) => {
            let dir = a.dir.clone().unwrap_or_else(|| config.migrations_dir());
            let set = if a.rollback {
                Some(discover(&dir)?)
            } else {
                None
            };
            each(&a.place, config, async |db, _| {
                abort(db, &a, set.as_ref(), config).await
            })
        }
        RolloutCommand::Status(a) => status(a, config),
    }
}

/// Runs `f` on each database; the worst exit code wins.
fn each(
    place: &Where,
    config: &Config,
    f: impl AsyncFn(&mut AnyBackend, &Target) -> std::result::Result<u8, RunError>,
) -> Result<u8> {
    let targets = places(place, config, false)?;
    let many = targets.len() > 1;
    let rt = runtime()?;
    rt.block_on(async {
        let mut worst = super::EXIT_OK;
        for t in &targets {
            if many {
                say(format!("{}:", t.name));
            }
            let code = match connect_to(&t.url).await {
                Ok(mut db) => match f(&mut db, t).await {
                    Ok(code) => code,
                    Err(e) => fail(&e),
                },
                Err(e) => fail(&e),
            };
            worst = worst.max(code);
        }
        Ok(worst)
    })
}

fn event(kind: &str, who: &Who, app_version: &str) -> NewEvent {
    NewEvent {
        kind: kind.to_string(),
        app_version: Some(app_version.to_string()),
        actor: crate::rollout::actor(who.actor.as_deref()),
        reason: who.reason.clone(),
        ..NewEvent::default()
    }
}

fn refuse(text: String) -> u8 {
    warn(format!("error: {text}"));
    super::EXIT_FINDINGS
}

async fn start(
    db: &mut AnyBackend,
    app_version: &str,
    who: &Who,
) -> std::result::Result<u8, RunError> {
    let app_version = app_version.trim();
    if app_version.is_empty() {
        return Err(RunError::Usage("--app-version is empty".to_string()));
    }
    let rollouts = store::rollouts(db).await?;
    if let Some(r) = rollouts
        .iter()
        .find(|r| r.state == RolloutState::InProgress)
    {
        return Ok(refuse(format!(
            "rollout {} is in progress ({}, started {}): complete it (`straddle rollout complete`) or abort it \
             (`straddle rollout abort`) before starting another",
            r.label(),
            r.progress_text(),
            r.started_at
        )));
    }
    let history = runner::history(db, false).await?;
    let claims = window::unclaimed(&history, &rollouts);
    let mut ev = event("start", who, app_version);
    ev.migrations = claims.iter().map(|c| c.version.clone()).collect();
    let id = store::start(db, app_version, &claims, &ev).await?;
    say(format!("rollout #{id} of app {app_version} started"));
    if claims.is_empty() {
        say("  its window holds no expand: no migration waits for this rollout");
    } else {
        say("  its window (expands that both app versions must work with until it completes):");
        for c in &claims {
            let name = history
                .iter()
                .find(|r| r.version == c.version)
                .map(|r| r.name.as_str())
                .unwrap_or("");
            say(format!(
                "    {} {name} (applied {})",
                c.version, c.applied_at
            ));
        }
    }
    say(
        "next: `straddle rollout progress --percent N` as it goes, then `straddle rollout complete`",
    );
    Ok(super::EXIT_OK)
}

/// The rollout in progress, or a refusal naming what there is.
fn in_progress(rollouts: &[Rollout]) -> std::result::Result<&Rollout, String> {
    if let Some(r) = rollouts
        .iter()
        .rev()
        .find(|r| r.state == RolloutState::InProgress)
    {
        return Ok(r);
    }
    Err(match rollouts.last() {
        None => "no rollout has been started on this database: run `straddle rollout start --app-version V` first"
            .to_string(),
        Some(r) => format!(
            "no rollout is in progress (the latest, {}, is {}): start one with `straddle rollout start --app-version V`",
            r.label(),
            r.state.as_str()
        ),
    })
}

async fn progress(
    db: &mut AnyBackend,
    percent: Option<i64>,
    stage: Option<&str>,
    who: &Who,
) -> std::result::Result<u8, RunError> {
    let rollouts = store::rollouts(db).await?;
    let current = match in_progress(&rollouts) {
        Ok(r) => r,
        Err(e) => return Ok(refuse(e)),
    };
    let mut ev = event("progress", who, &current.app_version);
    ev.rollout_id = Some(current.id);
    ev.detail = Some(progress_text(percent, stage));
    store::progress(db, current.id, percent, stage, &ev).await?;
    say(format!(
        "rollout {}: {}",
        current.label(),
        progress_text(
            percent.or(current.percent),
            stage.or(current.stage.as_deref())
        )
    ));
    Ok(super::EXIT_OK)
}

async fn complete(
    db: &mut AnyBackend,
    who: &Who,
    config: &Config,
) -> std::result::Result<u8, RunError> {
    let rollouts = store::rollouts(db).await?;
    let current = match in_progress(&rollouts) {
        Ok(r) => r,
        Err(e) => return Ok(refuse(e)),
    };
    let mut ev = event("complete", who, &current.app_version);
    ev.rollout_id = Some(current.id);
    store::complete(db, current.id, &ev).await?;
    let now = store::now_ms(db).await?;
    let bake = config.file.rollout.bake;
    let until = store::format_ms(now + bake.as_millis() as i64);
    say(format!("rollout {} is complete", current.label()));
    if current.expands.is_empty() {
        say("  no expand was waiting for it");
    } else {
        let versions: Vec<&str> = current.expands.iter().map(|c| c.version.as_str()).collect();
        say(format!(
            "  contracts that complete {} may run after the bake time ({}, rollout.bake): from {until}, once no \
             instance of an older version is connected",
            versions.join(", "),
            store::human(bake)
        ));
    }
    Ok(super::EXIT_OK)
}

async fn abort(
    db: &mut AnyBackend,
    args: &AbortArgs,
    set: Option<&MigrationSet>,
    config: &Config,
) -> std::result::Result<u8, RunError> {
    let rollouts = store::rollouts(db).await?;
    let Some(current) = rollouts
        .iter()
        .rev()
        .find(|r| r.state != RolloutState::Aborted)
    else {
        return Ok(refuse(
            "there is no rollout to abort on this database (none was started, or all were aborted)"
                .to_string(),
        ));
    };
    let history = runner::history(db, false).await?;
    // The window's expands that are still applied, as this rollout took them.
    let live: Vec<&HistoryRow> = history
        .iter()
        .filter(|r| {
            r.status == crate::db::Status::Applied
                && current
                    .expands
                    .iter()
                    .any(|c| c.version == r.version && Some(&c.applied_at) == r.applied_at.as_ref())
        })
        .collect();
    let first = live
        .iter()
        .filter_map(|r| crate::source::Version::parse(&r.version))
        .min();
    let to = first
        .as_ref()
        .map(|f| phase::version_before(&history, f.as_str()));
    let mut ev = event("abort", &args.who, &current.app_version);
    ev.rollout_id = Some(current.id);
    ev.migrations = live.iter().map(|r| r.version.clone()).collect();
    store::abort(db, current.id, &ev).await?;
    say(format!(
        "rollout {} is aborted (it was {})",
        current.label(),
        current.state.as_str()
    ));
    let Some(to) = to else {
        say("  no expand of its window is applied: nothing to roll back");
        return Ok(super::EXIT_OK);
    };
    let to_text = to
        .as_ref()
        .map(|v| v.to_string())
        .unwrap_or_else(|| "0".to_string());
    let later: Vec<&HistoryRow> = history
        .iter()
        .filter(|r| {
            crate::source::Version::parse(&r.version)
                .is_some_and(|v| first.as_ref().is_some_and(|f| v >= *f))
        })
        .collect();
    let contracts: Vec<&str> = later
        .iter()
        .filter(|r| r.phase == "contract")
        .map(|r| r.version.as_str())
        .collect();
    if !args.rollback {
        say(format!(
            "  its window's expands are still applied: {}. The previous app version never needed them, so rolling \
             them back is safe:\n    straddle rollout abort --rollback   (next time), or\n    straddle migrate rollback --to {to_text}",
            ev.migrations.join(", ")
        ));
        if !contracts.is_empty() {
            say(format!(
                "  that also runs the down of contract(s) {} first, which were applied after them",
                contracts.join(", ")
            ));
        }
        return Ok(super::EXIT_OK);
    }
    let Some(set) = set else {
        return Err(RunError::Usage("no migrations folder".to_string()));
    };
    let options = RunnerOptions::from_config(&config.file.runner);
    let mut log = super::migrate::print_event;
    runner::lock(db, options.wait_for_runner, &mut log).await?;
    say(format!(
        "  rolling back every migration after {to_text} (newest first{})",
        if contracts.is_empty() {
            String::new()
        } else {
            format!(
                ": the down of contract(s) {} runs before the expands'",
                contracts.join(", ")
            )
        }
    ));
    let dialect = db.dialect();
    let result = phase::rollback_after(db, set, dialect, to.clone(), &options, &mut log).await;
    let _ = db.unlock().await;
    let outcome = result?;
    let mut ev = event("rollback", &args.who, &current.app_version);
    ev.rollout_id = Some(current.id);
    ev.migrations = outcome.reverted.clone();
    ev.detail = Some(format!(
        "`rollout abort --rollback`: every migration after {to_text}"
    ));
    store::record(db, &ev).await?;
    say(format!(
        "rolled back {}; the database is as before the window opened",
        if outcome.reverted.is_empty() {
            "nothing".to_string()
        } else {
            outcome.reverted.join(", ")
        }
    ));
    Ok(super::EXIT_OK)
}

fn status(args: RolloutStatusArgs, config: &Config) -> Result<u8> {
    let json = args.format == RolloutFormat::Json;
    let targets = places(&args.place, config, json)?;
    let dir = args.dir.clone().unwrap_or_else(|| config.migrations_dir());
    let set = if dir.is_dir() {
        Some(discover(&dir)?)
    } else {
        None
    };
    let settings = GateSettings::from_config(&config.file.rollout);
    let rt = runtime()?;
    rt.block_on(async {
        let mut reports = Vec::new();
        let mut worst = super::EXIT_OK;
        for t in &targets {
            match status_of(t, set.as_ref(), &settings).await {
                Ok(report) => reports.push(report),
                Err(e) => {
                    worst = worst.max(fail(&e));
                }
            }
        }
        let mut out = anstream::stdout();
        if json {
            let values: Vec<serde_json::Value> = reports.into_iter().map(|r| r.0).collect();
            let value = if args.place.targets.is_some() {
                serde_json::json!({ "targets": values })
            } else {
                values.into_iter().next().unwrap_or(serde_json::Value::Null)
            };
            let _ = writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&value).unwrap_or_default()
            );
        } else {
            for (t, r) in targets.iter().zip(&reports) {
                if targets.len() > 1 {
                    let _ = writeln!(out, "== {} ==", t.name);
                }
                let _ = write!(out, "{}", r.1);
            }
        }
        Ok(worst)
    })
}

async fn status_of(
    t: &Target,
    set: Option<&MigrationSet>,
    settings: &GateSettings,
) -> std::result::Result<(serde_json::Value, String), RunError> {
    let mut db = connect_to(&t.url).await?;
    let history = runner::history(&mut db, false).await?;
    let rollouts = store::rollouts(&mut db).await?;
    let events = store::events(&mut db).await?;
    let now = store::now_ms(&mut db).await?;
    let w = window::window(&history, &rollouts, set, now, settings.bake);
    let beats = heartbeat::all(&mut db).await?;
    let sessions = match &settings.pattern {
        Some(p) => gate::app_sessions(&mut db, p).await?,
        None => Vec::new(),
    };
    let mut text = render(&w, false);
    // The gate of the waiting contracts, as `migrate contract` would see it
    // (without running the check command).
    let waiting: Vec<(String, String, String)> = w
        .contracts
        .iter()
        .map(|c| (c.version.clone(), c.name.clone(), c.expand.clone()))
        .collect();
    let quiet = GateSettings {
        run_check: false,
        ..settings.clone()
    };
    let gates = gate::evaluate(&mut db, &history, &waiting, &quiet).await?;
    if !gates.is_empty() {
        text.push_str("contracts waiting:\n");
    }
    for g in &gates {
        text.push_str(&format!(
            "  {} {} (expand {}): ",
            g.contract, g.name, g.expand
        ));
        if g.passes() {
            text.push_str(&format!(
                "may run now{}\n",
                if settings.check_command.is_some() {
                    " (rollout.check_command runs with `migrate contract`)"
                } else {
                    ""
                }
            ));
        } else {
            text.push_str("held back by its gate:\n");
            for b in &g.blockers {
                text.push_str(&format!("    - {}: {}\n", b.condition, b.message));
            }
        }
    }
    let stale = settings.heartbeat_stale.as_millis() as i64;
    if !beats.is_empty() {
        text.push_str("heartbeats:\n");
        for h in &beats {
            text.push_str(&format!(
                "  {} app {} ({} ago{})\n",
                h.instance,
                h.app_version,
                store::human(Duration::from_millis(h.age_ms.max(0) as u64)),
                if h.age_ms > stale {
                    ", stale: ignored"
                } else {
                    ""
                }
            ));
        }
    }
    if !sessions.is_empty() {
        text.push_str("app sessions (pg_stat_activity):\n");
        for s in &sessions {
            text.push_str(&format!(
                "  {} (pid {}, user {}, from {})\n",
                s.application_name, s.pid, s.user, s.client
            ));
        }
    }
    if !events.is_empty() {
        text.push_str("recent events:\n");
        for e in events.iter().rev().take(10).rev() {
            let mut line = format!("  {} {}", e.at, e.kind);
            if let Some(v) = &e.app_version {
                line.push_str(&format!(" app {v}"));
            }
            if let Some(m) = &e.migrations {
                line.push_str(&format!(" [{m}]"));
            }
            line.push_str(&format!(" by {}", e.actor));
            if let Some(r) = &e.reason {
                line.push_str(&format!(": {r}"));
            }
            if let Some(d) = &e.detail
                && e.kind == "progress"
            {
                line.push_str(&format!(" ({d})"));
            }
            text.push_str(&line);
            text.push('\n');
        }
    }
    let value = serde_json::json!({
        "database": t.url.to_string(),
        "name": t.name,
        "now": store::format_ms(now),
        "bake": store::human(settings.bake),
        "current": w.current,
        "last_completed": w.last_completed,
        "window": { "expands": w.expands, "contracts": w.contracts },
        "gates": gates,
        "rollouts": rollouts,
        "events": events,
        "heartbeats": beats,
        "sessions": sessions,
    });
    Ok((value, text))
}
