//! # undeclared-breaking-migration
//!
//! **What it does.** Flags a migration that declares no phase and holds a
//! statement that breaks the running version or destroys data. The finding
//! names every such statement and says how to split the migration.
//!
//! **Why it is dangerous.** A migration without a phase is treated as an
//! expand: it runs before the new version rolls out, while the old one still
//! serves. A breaking statement in it breaks every old instance at once, and
//! nothing schedules it for the safe moment after the rollout.
//!
//! **Safe alternative.** Split the change in two. The expand adds the new
//! shape and keeps old and new in step; the contract removes the old shape
//! once the rollout is complete:
//!
//! ```sql
//! -- 20240101120000_email_address.up.sql
//! -- straddle: expand
//! ALTER TABLE users ADD COLUMN email_address text;
//! -- (a trigger keeps email and email_address in step; backfill in batches)
//!
//! -- 20240108120000_drop_email.up.sql
//! -- straddle: contract 20240101120000
//! -- straddle:allow drop-column -- copied to email_address by 20240101120000
//! ALTER TABLE users DROP COLUMN email;
//! ```
//!
//! `straddle new --rename-column users.email users.email_address` writes both.
//!
//! **Example.**
//!
//! ```sql
//! ALTER TABLE users RENAME COLUMN email TO email_address; -- flagged: no phase, and breaking
//! ```
//!
//! The finding is raised by the phase review (`src/phase/review.rs`) from the
//! findings of the other rules; this file holds its documentation and metadata.

use crate::lint::{Rule, RuleMeta};
use crate::{Category, Severity};

pub struct UndeclaredBreakingMigration;

static META: RuleMeta = RuleMeta {
    id: "undeclared-breaking-migration",
    category: Category::Phase,
    severity: Severity::Error,
    summary: "a migration without a phase directive that breaks the running version",
    why: "an undeclared migration runs as an expand, before the rollout, while the old version still serves",
    dialects: &[],
};

impl Rule for UndeclaredBreakingMigration {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::check_fixture;

    #[test]
    fn fixtures() {
        check_fixture("undeclared-breaking-migration");
    }
}
