//! The contract gate: what must hold before `migrate contract` applies a
//! contract.
//!
//! * the rollout its expand belongs to is complete;
//! * the bake time (`rollout.bake`) has passed since it completed;
//! * no instance of an older app version is connected: PostgreSQL sessions
//!   whose `application_name` follows `rollout.application_name`, and fresh
//!   rows of `straddle_heartbeats`;
//! * the optional `rollout.check_command` exits 0.
//!
//! Every failing condition is named; `--force --reason` bypasses them and is
//! recorded in the audit table.

use std::time::Duration;

use serde::Serialize;

use super::health::run_command;
use super::heartbeat;
use super::store::{self, Rollout, RolloutState};
use super::version::{NamePattern, is_older};
use super::window::{contract_state, owner};
use crate::config::RolloutSection;
use crate::db::{Backend, DbResult, HistoryRow, Status};
use crate::dialect::Dialect;
use crate::runner::Plan;
use crate::source::Version;

/// The gate's settings, from `[rollout]`.
#[derive(Clone, Debug)]
pub struct GateSettings {
    pub bake: Duration,
    pub pattern: Option<NamePattern>,
    pub heartbeat_stale: Duration,
    pub check_command: Option<String>,
    /// `rollout status` reports the gate without running the check command.
    pub run_check: bool,
}

impl GateSettings {
    pub fn from_config(section: &RolloutSection) -> Self {
        GateSettings {
            bake: section.bake,
            pattern: section
                .application_name
                .as_deref()
                .and_then(NamePattern::new),
            heartbeat_stale: section.heartbeat_stale,
            check_command: section
                .check_command
                .clone()
                .filter(|c| !c.trim().is_empty()),
            run_check: true,
        }
    }
}

impl Default for GateSettings {
    fn default() -> Self {
        GateSettings::from_config(&RolloutSection::default())
    }
}

/// One condition that does not hold.
#[derive(Clone, Debug, Serialize)]
pub struct Blocker {
    /// `rollout`, `bake`, `old-sessions`, `heartbeats` or `check-command`.
    pub condition: &'static str,
    pub message: String,
}

/// The gate of one contract.
#[derive(Clone, Debug, Serialize)]
pub struct ContractGate {
    pub contract: String,
    pub name: String,
    pub expand: String,
    /// The app version the expand's rollout deploys (when known).
    pub app_version: Option<String>,
    pub blockers: Vec<Blocker>,
}

impl ContractGate {
    pub fn passes(&self) -> bool {
        self.blockers.is_empty()
    }

    /// The failing conditions, one per line, indented.
    pub fn describe(&self) -> String {
        let mut out = format!(
            "contract {} {} (expand {}) is held back by its gate:",
            self.contract, self.name, self.expand
        );
        for b in &self.blockers {
            out.push_str(&format!("\n  - {}: {}", b.condition, b.message));
        }
        out
    }
}

/// A session of the app seen in `pg_stat_activity`.
#[derive(Clone, Debug, Serialize)]
pub struct Session {
    pub pid: String,
    pub application_name: String,
    pub app_version: String,
    pub user: String,
    pub client: String,
}

/// The other sessions on this PostgreSQL database whose application name
/// follows `pattern`.
pub async fn app_sessions<B: Backend>(db: &mut B, pattern: &NamePattern) -> DbResult<Vec<Session>> {
    if db.dialect() != Dialect::Postgres {
        return Ok(Vec::new());
    }
    let rows = db
        .query_texts(
            "SELECT pid::text, application_name::text, COALESCE(usename::text, ''), COALESCE(host(client_addr), 'local') \
             FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name <> ''",
            &[],
        )
        .await?;
    let mut out = Vec::new();
    for row in rows {
        let cell = |i: usize| row.get(i).cloned().flatten().unwrap_or_default();
        let name = cell(1);
        if let Some(version) = pattern.version_of(&name) {
            out.push(Session {
                pid: cell(0),
                app_version: version.to_string(),
                application_name: name.clone(),
                user: cell(2),
                client: cell(3),
            });
        }
    }
    Ok(out)
}

fn same_version(a: &str, b: &str) -> bool {
    a == b || (Version::parse(a).is_some() && Version::parse(a) == Version::parse(b))
}

/// The versions that count as new for a contract whose expand belongs to
/// `rollout`: its own and those of every later rollout not aborted.
fn new_versions(rollouts: &[Rollout], rollout: &Rollout) -> Vec<String> {
    let mut out = vec![rollout.app_version.clone()];
    for r in rollouts {
        if r.id > rollout.id && r.state != RolloutState::Aborted {
            out.push(r.app_version.clone());
        }
    }
    out
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

/// Evaluates the gate of each contract (`(contract version, name, expand
/// version)`), in order. Reads only: a database without rollout tables has
/// no rollout. The check command runs at most once.
pub async fn evaluate<B: Backend>(
    db: &mut B,
    history: &[HistoryRow],
    contracts: &[(String, String, String)],
    settings: &GateSettings,
) -> DbResult<Vec<ContractGate>> {
    if contracts.is_empty() {
        return Ok(Vec::new());
    }
    let rollouts = store::rollouts(db).await?;
    let now = store::now_ms(db).await?;
    let sessions = match &settings.pattern {
        Some(p) => app_sessions(db, p).await?,
        None => Vec::new(),
    };
    let beats = heartbeat::fresh(db, settings.heartbeat_stale).await?;
    let mut check: Option<super::health::CommandResult> = None;
    let mut out = Vec::new();
    for (contract, name, expand) in contracts {
        let mut blockers = Vec::new();
        let row = history
            .iter()
            .find(|r| r.status == Status::Applied && same_version(&r.version, expand));
        let mut app_version = None;
        match row {
            None => blockers.push(Blocker {
                condition: "expand",
                message: format!(
                    "its expand {expand} is not applied: run `straddle migrate expand` first"
                ),
            }),
            Some(row) => {
                let owner = owner(&rollouts, row);
                let (state, _, note) = contract_state(owner, expand, now, settings.bake);
                match state.as_str() {
                    "waiting-for-rollout" | "rollout-in-progress" => blockers.push(Blocker {
                        condition: "rollout",
                        message: note,
                    }),
                    "baking" => blockers.push(Blocker {
                        condition: "bake",
                        message: note,
                    }),
                    _ => {}
                }
                if let Some(owner) = owner {
                    app_version = Some(owner.app_version.clone());
                    let new = new_versions(&rollouts, owner);
                    let old: Vec<&Session> = sessions
                        .iter()
                        .filter(|s| is_older(&s.app_version, &new))
                        .collect();
                    if !old.is_empty() {
                        let list: Vec<String> = old
                            .iter()
                            .take(10)
                            .map(|s| {
                                format!(
                                    "{} (pid {}, user {}, from {})",
                                    s.application_name, s.pid, s.user, s.client
                                )
                            })
                            .collect();
                        blockers.push(Blocker {
                            condition: "old-sessions",
                            message: format!(
                                "{} of an app version older than {} still connected: {}{}",
                                plural(
                                    old.len(),
                                    "PostgreSQL session is",
                                    "PostgreSQL sessions are"
                                ),
                                owner.app_version,
                                list.join(", "),
                                if old.len() > 10 { ", …" } else { "" }
                            ),
                        });
                    }
                    let old: Vec<_> = beats
                        .iter()
                        .filter(|h| is_older(&h.app_version, &new))
                        .collect();
                    if !old.is_empty() {
                        let list: Vec<String> = old
                            .iter()
                            .take(10)
                            .map(|h| {
                                format!(
                                    "{} ({}, {} ago)",
                                    h.instance,
                                    h.app_version,
                                    store::human(Duration::from_millis(h.age_ms.max(0) as u64))
                                )
                            })
                            .collect();
                        blockers.push(Blocker {
                            condition: "heartbeats",
                            message: format!(
                                "{} of an app version older than {} sent a heartbeat within the last {} \
                                 (rollout.heartbeat_stale): {}{}",
                                plural(old.len(), "instance", "instances"),
                                owner.app_version,
                                store::human(settings.heartbeat_stale),
                                list.join(", "),
                                if old.len() > 10 { ", …" } else { "" }
                            ),
                        });
                    }
                }
            }
        }
        if let Some(command) = &settings.check_command
            && settings.run_check
        {
            if check.is_none() {
                let env = vec![
                    ("STRADDLE_CONTRACT".to_string(), contract.clone()),
                    (
                        "STRADDLE_APP_VERSION".to_string(),
                        app_version.clone().unwrap_or_default(),
                    ),
                ];
                check = Some(run_command(command, &env, Duration::from_secs(300)).await);
            }
            if let Some(result) = &check
                && !result.ok
            {
                blockers.push(Blocker {
                    condition: "check-command",
                    message: format!(
                        "`{command}` (rollout.check_command) did not pass: {}",
                        result.summary()
                    ),
                });
            }
        }
        out.push(ContractGate {
            contract: contract.clone(),
            name: name.clone(),
            expand: expand.clone(),
            app_version,
            blockers,
        });
    }
    Ok(out)
}

/// The contracts a plan would apply: `(version, name, expand)`.
pub fn contracts_of(plan: &Plan) -> Vec<(String, String, String)> {
    plan.steps
        .iter()
        .filter(|s| {
            matches!(
                s.action,
                crate::runner::Action::Apply | crate::runner::Action::Resume
            ) && s.migration.phase == "contract"
        })
        .map(|s| {
            (
                s.migration.version.clone(),
                s.migration.name.clone(),
                s.migration.pair.clone().unwrap_or_default(),
            )
        })
        .collect()
}

/// Applies the gates to a contract plan: without `force`, the plan stops
/// before the first contract whose gate fails, and `plan.blocked` names
/// each failing condition. Returns the gates that failed (with `force`:
/// the ones bypassed).
pub fn hold_back(plan: &mut Plan, gates: &[ContractGate], force: bool) -> Vec<ContractGate> {
    let failing: Vec<ContractGate> = gates.iter().filter(|g| !g.passes()).cloned().collect();
    if force || failing.is_empty() {
        return failing;
    }
    let first = &failing[0];
    if let Some(index) = plan
        .steps
        .iter()
        .position(|s| s.migration.version == first.contract)
    {
        plan.steps.truncate(index);
    }
    plan.blocked = Some(format!(
        "{}\nnothing from this contract on was applied. Run `straddle migrate contract` again once these hold, \
         or bypass the gate with `--force --reason \"…\"` (recorded in {})",
        first.describe(),
        store::EVENTS_TABLE
    ));
    vec![first.clone()]
}

/// The gate of a plan's contracts, evaluated and applied: `Ok(bypassed)`.
pub async fn check_plan<B: Backend>(
    db: &mut B,
    history: &[HistoryRow],
    plan: &mut Plan,
    settings: &GateSettings,
    force: bool,
) -> DbResult<Vec<ContractGate>> {
    let contracts = contracts_of(plan);
    let gates = evaluate(db, history, &contracts, settings).await?;
    Ok(hold_back(plan, &gates, force))
}
