//! # contract-without-expand
//!
//! **What it does.** Flags a `-- straddle: contract <version>` whose version
//! does not name an earlier expand: no migration has that version, the named
//! migration comes later, is itself a contract, declares no phase, or is the
//! contract itself.
//!
//! **Why it is dangerous.** A contract may only run once the expand it
//! completes has been applied and the new version has fully rolled out. When
//! the pairing is wrong, the gate that protects the old version checks the
//! wrong migration, and the contract can run while the old version still
//! needs what it removes.
//!
//! **Safe alternative.** Name the expand whose temporary shape the contract
//! removes, and make sure that expand is declared as one:
//!
//! ```sql
//! -- 20240101120000_email_address.up.sql
//! -- straddle: expand
//!
//! -- 20240108120000_drop_email.up.sql
//! -- straddle: contract 20240101120000
//! ```
//!
//! **Example.**
//!
//! ```sql
//! -- straddle: contract 20991231000000   -- flagged: no such migration
//! ```

use crate::lint::{Rule, RuleMeta};
use crate::{Category, Severity};

pub struct ContractWithoutExpand;

static META: RuleMeta = RuleMeta {
    id: "contract-without-expand",
    category: Category::Phase,
    severity: Severity::Error,
    summary: "a contract that does not name an earlier expand",
    why: "a contract's gate checks its expand; with the wrong pairing it can run while the old version still needs the schema",
    dialects: &[],
};

impl Rule for ContractWithoutExpand {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::check_fixture;

    #[test]
    fn fixtures() {
        check_fixture("contract-without-expand");
    }
}
