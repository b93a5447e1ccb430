//! # breaking-change-in-expand
//!
//! **What it does.** Flags a statement in a migration declared
//! `-- straddle: expand` that another rule found backward-incompatible or
//! data-destroying: a rename, a drop, a new required column, a type change.
//!
//! **Why it is dangerous.** An expand runs while the current version of the
//! application is still serving. Its whole promise is that this version keeps
//! working untouched; one breaking statement turns the deploy into an outage
//! for every instance not yet replaced.
//!
//! **Safe alternative.** Keep only additive statements in the expand. Move the
//! breaking statement into a contract that names this expand and runs after
//! the rollout has completed:
//!
//! ```sql
//! -- 20240102120000_drop_legacy_email.up.sql
//! -- straddle: contract 20240101120000
//! -- straddle:allow drop-column -- copied to email_address by 20240101120000
//! ALTER TABLE users DROP COLUMN email;
//! ```
//!
//! **Example.**
//!
//! ```sql
//! -- straddle: expand
//! ALTER TABLE users ADD COLUMN email_address text;
//! ALTER TABLE users DROP COLUMN email;   -- flagged: belongs in a contract
//! ```
//!
//! The finding is raised by the phase review (`src/phase/review.rs`) from the
//! findings of the other rules; this file holds its documentation and metadata.

use crate::lint::{Rule, RuleMeta};
use crate::{Category, Severity};

pub struct BreakingChangeInExpand;

static META: RuleMeta = RuleMeta {
    id: "breaking-change-in-expand",
    category: Category::Phase,
    severity: Severity::Error,
    summary: "a breaking or irrevocable statement in a migration declared as an expand",
    why: "an expand runs while the old version still serves; it must leave that version working",
    dialects: &[],
};

impl Rule for BreakingChangeInExpand {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::check_fixture;

    #[test]
    fn fixtures() {
        check_fixture("breaking-change-in-expand");
    }
}
