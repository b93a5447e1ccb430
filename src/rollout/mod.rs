//! Rollout coordination: the app's progressive deploy between `migrate
//! expand` and `migrate contract`, recorded per database in straddle's own
//! tables; the two-version window; the contract gate (rollout complete, bake
//! time, no old instance connected, an optional check command); the health
//! watch with automatic rollback; and waves over many databases.
//!
//! | file | owns |
//! | --- | --- |
//! | `store` | `straddle_rollouts` and the audit table `straddle_rollout_events` |
//! | `window` | which expands belong to which rollout, and what waits for them |
//! | `gate` | the contract gate |
//! | `heartbeat` | `straddle_heartbeats`, kept fresh by app instances |
//! | `health` | shell commands: the gate's check and the health watch |
//! | `phase` | applying a phase with its gate, and undoing exactly what a run applied |
//! | `waves` | many databases, wave by wave |
//! | `version` | ordering app versions; reading them from `application_name` |
//! | `progress` | a progress bar on a terminal, plain lines elsewhere |
//!
//! Knows nothing of SQL parsing; the runner applies and rolls back.

pub mod gate;
pub mod health;
pub mod heartbeat;
pub mod phase;
pub mod progress;
pub mod store;
pub mod version;
pub mod waves;
pub mod window;

pub use gate::{ContractGate, GateSettings};
pub use store::{Event, Rollout, RolloutState};
pub use window::Window;

/// Who acts: `--actor`, else the OS user (`$USER`, `$LOGNAME`,
/// `$USERNAME`), else `unknown`.
pub fn actor(flag: Option<&str>) -> String {
    if let Some(a) = flag.map(str::trim).filter(|a| !a.is_empty()) {
        return a.to_string();
    }
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|u| !u.trim().is_empty()))
        .unwrap_or_else(|| "unknown".to_string())
}

/// The tables straddle keeps for rollouts (bookkeeping: never part of the
/// app's schema).
pub const TABLES: [&str; 3] = [
    store::ROLLOUTS_TABLE,
    store::EVENTS_TABLE,
    heartbeat::HEARTBEATS_TABLE,
];
