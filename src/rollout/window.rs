//! The two-version window: which applied expands have not been rolled out
//! yet, which rollout each belongs to, and which contracts wait for them.
//!
//! An expand belongs to the first rollout started after it was applied: when
//! a rollout starts, it takes every applied expand that no other rollout
//! (other than an aborted one) has taken yet. Expands not taken by a
//! completed rollout form the open window.

use std::time::Duration;

use serde::Serialize;

use super::store::{Claim, Rollout, RolloutState, human, parse_time};
use crate::db::{HistoryRow, Status};
use crate::source::{MigrationSet, Phase, Version};

fn same_version(a: &str, b: &str) -> bool {
    a == b || (Version::parse(a).is_some() && Version::parse(a) == Version::parse(b))
}

/// The claim an applied history row makes.
pub fn claim_of(row: &HistoryRow) -> Claim {
    Claim {
        version: row.version.clone(),
        applied_at: row.applied_at.clone().unwrap_or_default(),
    }
}

/// The rollout an applied expand belongs to: the first rollout, not
/// aborted, that took this application of it.
pub fn owner<'a>(rollouts: &'a [Rollout], row: &HistoryRow) -> Option<&'a Rollout> {
    let claim = claim_of(row);
    rollouts.iter().find(|r| {
        r.state != RolloutState::Aborted
            && r.expands.iter().any(|c| {
                same_version(&c.version, &claim.version) && c.applied_at == claim.applied_at
            })
    })
}

fn applied_expands(history: &[HistoryRow]) -> impl Iterator<Item = &HistoryRow> {
    history
        .iter()
        .filter(|r| r.status == Status::Applied && r.phase == "expand")
}

/// What a new rollout takes: applied expands that belong to no rollout yet.
pub fn unclaimed(history: &[HistoryRow], rollouts: &[Rollout]) -> Vec<Claim> {
    applied_expands(history)
        .filter(|r| owner(rollouts, r).is_none())
        .map(claim_of)
        .collect()
}

/// A rollout, briefly.
#[derive(Clone, Debug, Serialize)]
pub struct RolloutRef {
    pub id: i64,
    pub app_version: String,
    pub state: RolloutState,
    pub percent: Option<i64>,
    pub stage: Option<String>,
    pub started_at: String,
    pub completed_at: Option<String>,
}

impl From<&Rollout> for RolloutRef {
    fn from(r: &Rollout) -> Self {
        RolloutRef {
            id: r.id,
            app_version: r.app_version.clone(),
            state: r.state,
            percent: r.percent,
            stage: r.stage.clone(),
            started_at: r.started_at.clone(),
            completed_at: r.completed_at.clone(),
        }
    }
}

/// An expand of the open window.
#[derive(Clone, Debug, Serialize)]
pub struct WindowExpand {
    pub version: String,
    pub name: String,
    /// Live since (`applied_at`).
    pub applied_at: Option<String>,
    /// The rollout it belongs to; `None` until a rollout starts.
    pub rollout: Option<RolloutRef>,
}

/// A contract not applied yet whose expand is applied.
#[derive(Clone, Debug, Serialize)]
pub struct WaitingContract {
    pub version: String,
    pub name: String,
    pub expand: String,
    pub rollout: Option<RolloutRef>,
    /// `waiting-for-rollout`, `rollout-in-progress`, `baking` or `ready`
    /// (rollout and bake passed; sessions, heartbeats and the check command
    /// are tested by `migrate contract`).
    pub state: String,
    /// When the bake time ends (RFC 3339), once the rollout is complete.
    pub bake_until: Option<String>,
    pub note: String,
}

/// The window of one database.
#[derive(Clone, Debug, Serialize)]
pub struct Window {
    /// The last completed rollout (not aborted since).
    pub last_completed: Option<RolloutRef>,
    /// The rollout in progress, if any.
    pub current: Option<RolloutRef>,
    pub expands: Vec<WindowExpand>,
    pub contracts: Vec<WaitingContract>,
}

impl Window {
    pub fn is_empty(&self) -> bool {
        self.expands.is_empty() && self.contracts.is_empty() && self.current.is_none()
    }
}

/// Computes the window from the history, the rollouts, the files (for the
/// contracts that wait; may be absent) and the database clock.
pub fn window(
    history: &[HistoryRow],
    rollouts: &[Rollout],
    set: Option<&MigrationSet>,
    now_ms: i64,
    bake: Duration,
) -> Window {
    let last_completed = rollouts
        .iter()
        .rev()
        .find(|r| r.state == RolloutState::Complete)
        .map(RolloutRef::from);
    let current = rollouts
        .iter()
        .rev()
        .find(|r| r.state == RolloutState::InProgress)
        .map(RolloutRef::from);
    let name_of = |version: &str| -> String {
        set.and_then(|s| {
            s.migrations
                .iter()
                .find(|m| same_version(m.version.as_str(), version))
        })
        .map(|m| m.name.clone())
        .or_else(|| {
            history
                .iter()
                .find(|r| r.version == version)
                .map(|r| r.name.clone())
        })
        .unwrap_or_default()
    };
    let mut expands = Vec::new();
    for row in applied_expands(history) {
        let owner = owner(rollouts, row);
        if owner.is_some_and(|o| o.state == RolloutState::Complete) {
            continue;
        }
        expands.push(WindowExpand {
            version: row.version.clone(),
            name: name_of(&row.version),
            applied_at: row.applied_at.clone(),
            rollout: owner.map(RolloutRef::from),
        });
    }
    let mut contracts = Vec::new();
    if let Some(set) = set {
        for m in &set.migrations {
            let Some(Phase::Contract { expand }) = m.directives.phase.clone() else {
                continue;
            };
            let done = history.iter().any(|r| {
                r.status == Status::Applied && same_version(&r.version, m.version.as_str())
            });
            if done {
                continue;
            }
            let Some(expand_row) = history
                .iter()
                .find(|r| r.status == Status::Applied && same_version(&r.version, expand.as_str()))
            else {
                continue;
            };
            let owner = owner(rollouts, expand_row);
            let (state, bake_until, note) =
                contract_state(owner, &expand.to_string(), now_ms, bake);
            contracts.push(WaitingContract {
                version: m.version.to_string(),
                name: m.name.clone(),
                expand: expand.to_string(),
                rollout: owner.map(RolloutRef::from),
                state,
                bake_until,
                note,
            });
        }
    }
    Window {
        last_completed,
        current,
        expands,
        contracts,
    }
}

/// The rollout part of a contract's gate: `(state, bake end, explanation)`.
pub fn contract_state(
    owner: Option<&Rollout>,
    expand: &str,
    now_ms: i64,
    bake: Duration,
) -> (String, Option<String>, String) {
    match owner {
        None => (
            "waiting-for-rollout".to_string(),
            None,
            format!(
                "no rollout has started since expand {expand} was applied: run `straddle rollout start --app-version <new version>` \
                 when the app version that needs it deploys"
            ),
        ),
        Some(r) if r.state == RolloutState::InProgress => (
            "rollout-in-progress".to_string(),
            None,
            format!(
                "expand {expand} belongs to rollout {}, which is in progress ({}): run `straddle rollout complete` \
                 once every instance runs {}",
                r.label(),
                r.progress_text(),
                r.app_version
            ),
        ),
        Some(r) => {
            let completed = r.completed_at.as_deref().and_then(parse_time).unwrap_or(0);
            let until = completed.saturating_add(bake.as_millis() as i64);
            let until_text = super::store::format_ms(until);
            if now_ms < until {
                let left = Duration::from_millis((until - now_ms) as u64);
                (
                    "baking".to_string(),
                    Some(until_text.clone()),
                    format!(
                        "rollout {} completed {} ago; the bake time is {} (rollout.bake), so {} remain (until {until_text})",
                        r.label(),
                        human(Duration::from_millis((now_ms - completed).max(0) as u64)),
                        human(bake),
                        human(left)
                    ),
                )
            } else {
                (
                    "ready".to_string(),
                    Some(until_text),
                    format!("rollout {} is complete and has baked", r.label()),
                )
            }
        }
    }
}
