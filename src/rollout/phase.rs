//! Applying a phase to one database with its gate, and undoing exactly
//! what a run applied: the building blocks of the health watch, of
//! `rollout abort --rollback` and of wave runs.

use std::collections::HashSet;

use super::gate::{self, ContractGate, GateSettings};
use super::store::{self, NewEvent};
use crate::db::{Backend, History, HistoryRow, Status};
use crate::dialect::Dialect;
use crate::runner::{self, Command, Event, Outcome, Plan, RunError, RunnerOptions};
use crate::source::{MigrationSet, Version};

/// `--force --reason`: who bypasses the contract gate, and why.
#[derive(Clone, Debug)]
pub struct Force {
    pub reason: String,
    pub actor: String,
}

/// Records that `--force` bypassed the gate of these contracts.
pub async fn record_force<B: Backend>(
    db: &mut B,
    contracts: &[(String, String, String)],
    bypassed: &[ContractGate],
    force: &Force,
) -> Result<(), RunError> {
    if contracts.is_empty() {
        return Ok(());
    }
    let detail = if bypassed.is_empty() {
        "the gate passed; --force was given anyway".to_string()
    } else {
        bypassed
            .iter()
            .map(ContractGate::describe)
            .collect::<Vec<_>>()
            .join("\n")
    };
    let event = NewEvent {
        kind: "force-contract".to_string(),
        app_version: bypassed.iter().find_map(|g| g.app_version.clone()),
        migrations: contracts.iter().map(|c| c.0.clone()).collect(),
        actor: force.actor.clone(),
        reason: Some(force.reason.clone()),
        detail: Some(detail),
        ..NewEvent::default()
    };
    store::record(db, &event).await?;
    Ok(())
}

fn zero() -> Version {
    Version::parse("0").expect("0 is a version")
}

/// Rolls back every applied migration after `to` (all of them when `None`),
/// newest first: a contract's down runs before its expand's.
pub async fn rollback_after<B: Backend>(
    db: &mut B,
    set: &MigrationSet,
    dialect: Dialect,
    to: Option<Version>,
    options: &RunnerOptions,
    log: &mut dyn FnMut(Event),
) -> Result<Outcome, RunError> {
    let history = runner::history(db, false).await?;
    let command = Command::Rollback {
        to: Some(to.unwrap_or_else(zero)),
        steps: None,
    };
    let plan = runner::plan(&command, set, &history, dialect, true)?;
    runner::execute(db, &plan, options, log).await
}

/// The version just before `version` in the history (`None`: it is the
/// first).
pub fn version_before(history: &[HistoryRow], version: &str) -> Option<Version> {
    let v = Version::parse(version)?;
    history
        .iter()
        .filter_map(|r| Version::parse(&r.version))
        .filter(|x| *x < v)
        .max()
}

/// Rolls back exactly what was applied (or left half-applied) since the
/// history was `before`. Refuses when that cannot be done without also
/// rolling back something older (a migration applied out of order).
pub async fn rollback_since<B: Backend>(
    db: &mut B,
    set: &MigrationSet,
    dialect: Dialect,
    before: &[HistoryRow],
    options: &RunnerOptions,
    log: &mut dyn FnMut(Event),
) -> Result<Outcome, RunError> {
    let now = db.read_history().await?;
    let old: HashSet<&str> = before
        .iter()
        .filter(|r| r.status == Status::Applied)
        .map(|r| r.version.as_str())
        .collect();
    let new: Vec<&HistoryRow> = now
        .iter()
        .filter(|r| !(r.status == Status::Applied && old.contains(r.version.as_str())))
        .collect();
    let versions: Vec<String> = new.iter().map(|r| r.version.clone()).collect();
    rollback_exactly(db, set, dialect, &now, &versions, options, log).await
}

/// Rolls back exactly these versions (what a run just applied).
pub async fn rollback_versions<B: Backend>(
    db: &mut B,
    set: &MigrationSet,
    dialect: Dialect,
    versions: &[String],
    options: &RunnerOptions,
    log: &mut dyn FnMut(Event),
) -> Result<Outcome, RunError> {
    let now = db.read_history().await?;
    rollback_exactly(db, set, dialect, &now, versions, options, log).await
}

async fn rollback_exactly<B: Backend>(
    db: &mut B,
    set: &MigrationSet,
    dialect: Dialect,
    now: &[HistoryRow],
    versions: &[String],
    options: &RunnerOptions,
    log: &mut dyn FnMut(Event),
) -> Result<Outcome, RunError> {
    let Some(first) = versions.iter().filter_map(|v| Version::parse(v)).min() else {
        return Ok(Outcome::default());
    };
    let to = version_before(now, first.as_str()).unwrap_or_else(zero);
    let command = Command::Rollback {
        to: Some(to),
        steps: None,
    };
    let plan = runner::plan(&command, set, now, dialect, true)?;
    let new_versions: HashSet<&str> = versions.iter().map(String::as_str).collect();
    if let Some(older) = plan
        .steps
        .iter()
        .find(|s| !new_versions.contains(s.migration.version.as_str()))
    {
        return Err(RunError::Usage(format!(
            "cannot roll back only what this run applied: migration {} was applied earlier and sorts after {first}; \
             roll back by hand with `straddle migrate rollback`",
            older.migration.version
        )));
    }
    runner::execute(db, &plan, options, log).await
}

/// One phase to apply to a database.
#[derive(Clone, Debug)]
pub struct PhaseJob {
    pub command: Command,
    pub set: MigrationSet,
    pub dialect: Dialect,
    pub options: RunnerOptions,
    pub gate: GateSettings,
    pub force: Option<Force>,
}

/// What a look at a database before a run found.
#[derive(Clone, Debug)]
pub struct Preflight {
    pub history: Vec<HistoryRow>,
    pub plan: Plan,
    /// Contracts whose gate fails (without `--force`, the plan stops at the
    /// first one).
    pub failing: Vec<ContractGate>,
}

/// Plans the job on a database without changing anything.
pub async fn preflight<B: Backend>(db: &mut B, job: &PhaseJob) -> Result<Preflight, RunError> {
    let history = runner::history(db, false).await?;
    let mut plan = runner::plan(
        &job.command,
        &job.set,
        &history,
        job.dialect,
        job.options.allow_missing,
    )?;
    let failing = if job.command == Command::Contract {
        let contracts = gate::contracts_of(&plan);
        let gates = gate::evaluate(db, &history, &contracts, &job.gate).await?;
        gate::hold_back(&mut plan, &gates, job.force.is_some())
    } else {
        Vec::new()
    };
    Ok(Preflight {
        history,
        plan,
        failing,
    })
}

/// What a run on one database did.
#[derive(Debug, Default)]
pub struct TargetRun {
    /// The history before the run (`None` when it could not be read).
    pub before: Option<Vec<HistoryRow>>,
    pub outcome: Outcome,
    pub error: Option<RunError>,
    /// The gate held a contract back.
    pub blocked: Option<String>,
}

impl TargetRun {
    pub fn failed(&self) -> bool {
        self.error.is_some() || self.blocked.is_some()
    }
}

/// Applies the job: runner lock, history, plan, gate (contracts), run.
pub async fn apply<B: Backend>(
    db: &mut B,
    job: &PhaseJob,
    log: &mut dyn FnMut(Event),
) -> TargetRun {
    let mut run = TargetRun::default();
    if let Err(e) = runner::lock(db, job.options.wait_for_runner, log).await {
        run.error = Some(e);
        return run;
    }
    let result: Result<(), RunError> = async {
        let history = runner::history(db, true).await?;
        run.before = Some(history.clone());
        let mut plan = runner::plan(
            &job.command,
            &job.set,
            &history,
            job.dialect,
            job.options.allow_missing,
        )?;
        if job.command == Command::Contract {
            let contracts = gate::contracts_of(&plan);
            let bypassed =
                gate::check_plan(db, &history, &mut plan, &job.gate, job.force.is_some()).await?;
            if let Some(force) = &job.force {
                record_force(db, &contracts, &bypassed, force).await?;
            }
        }
        run.outcome = runner::execute(db, &plan, &job.options, log).await?;
        run.blocked = plan.blocked.clone();
        Ok(())
    }
    .await;
    if let Err(e) = result {
        run.error = Some(e);
    }
    let _ = db.unlock().await;
    run
}
