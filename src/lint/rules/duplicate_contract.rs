//! # duplicate-contract
//!
//! **What it does.** Flags a second contract for the same expand.
//!
//! **Why it is dangerous.** An expand opens one window in which two
//! application versions run side by side, and one contract closes it. A second
//! contract for the same expand is either a change that was never expanded
//! (so nothing prepared the running version for it), or a leftover that will
//! run at a moment nobody planned.
//!
//! **Safe alternative.** Give the new change its own expand and contract. If
//! the first contract has not been applied anywhere yet, fold both into it.
//!
//! **Example.**
//!
//! ```sql
//! -- 20240108120000_drop_email.up.sql
//! -- straddle: contract 20240101120000
//! -- 20240109120000_drop_email_trigger.up.sql
//! -- straddle: contract 20240101120000     -- flagged: 20240101120000 already has a contract
//! ```

use crate::lint::{Rule, RuleMeta};
use crate::{Category, Severity};

pub struct DuplicateContract;

static META: RuleMeta = RuleMeta {
    id: "duplicate-contract",
    category: Category::Phase,
    severity: Severity::Error,
    summary: "a second contract for the same expand",
    why: "one expand opens one two-version window and one contract closes it",
    dialects: &[],
};

impl Rule for DuplicateContract {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::check_fixture;

    #[test]
    fn fixtures() {
        check_fixture("duplicate-contract");
    }
}
