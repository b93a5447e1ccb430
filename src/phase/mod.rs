//! Expand/contract discipline: which phase a migration belongs to, how
//! expands and contracts pair up, the phase review of findings, and static
//! checks that a down migration reverses its up. Knows nothing of databases.

mod down_order;
pub mod inverse;
mod operations;
pub mod pairs;
mod reversal;
mod review;

pub use down_order::wrong_order;
pub use operations::MigrationOperations;
pub use reversal::{Issue, missing_inverses};
pub use review::review;

use crate::source::{Migration, Phase};

/// The phase a migration runs in: the one it declares, else `Expand`.
///
/// Undeclared migrations with breaking statements are reported by the
/// `undeclared-breaking-migration` rule; for running purposes they are still
/// applied where an expand would be, so that `migrate up` on an old history
/// behaves like sqlx.
pub fn effective_phase(migration: &Migration) -> Phase {
    migration.directives.phase.clone().unwrap_or(Phase::Expand)
}
