//! # down-wrong-order
//!
//! **What it does.** Flags down statements that cannot run in the order
//! written: a parent table dropped while a child table's foreign key still
//! references it, an enum type dropped before the table whose column uses
//! it, a function dropped before the trigger that calls it, a table dropped
//! before a view on it, an index or constraint dropped after its table or
//! column (which already took it away). When the down re-creates what the up
//! dropped, it also flags a child table or an index created before the
//! table it needs. The finding is placed at the down statement.
//!
//! **Why it is dangerous.** The down fails halfway at the moment it is
//! needed most, during a rollback, and a non-transactional down (MySQL DDL,
//! `-- no-transaction`) leaves the schema half reverted.
//!
//! **Safe alternative.** Reverse the up's order: drop dependents first,
//! re-create parents first.
//!
//! ```sql
//! -- up
//! CREATE TABLE teams (id bigint PRIMARY KEY);
//! CREATE TABLE members (id bigint PRIMARY KEY, team_id bigint REFERENCES teams (id));
//! -- down
//! DROP TABLE members;
//! DROP TABLE teams;
//! ```
//!
//! **Example.**
//!
//! ```sql
//! -- down
//! DROP TABLE teams;    -- flagged: members.team_id still references it
//! DROP TABLE members;
//! ```
//!
//! PostgreSQL enforces every dependency above; MySQL only foreign keys
//! (unless the down turns `FOREIGN_KEY_CHECKS` off). SQLite checks a foreign
//! key on `DROP TABLE` only when `PRAGMA foreign_keys` is on (sqlx turns it
//! on) and child rows still reference the parent; straddle does not model
//! that, so only double drops are flagged there.

use crate::lint::{MigrationCx, Rule, RuleMeta};
use crate::phase::wrong_order;
use crate::{Category, Finding, Severity};

pub struct DownWrongOrder;

static META: RuleMeta = RuleMeta {
    id: "down-wrong-order",
    category: Category::Reversibility,
    severity: Severity::Error,
    summary: "the down drops or re-creates objects in an order that cannot run",
    why: "the rollback fails halfway, exactly when it is needed, and may leave the schema half reverted",
    dialects: &[],
};

impl Rule for DownWrongOrder {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_migration(&self, cx: &MigrationCx<'_>, out: &mut Vec<Finding>) {
        for issue in wrong_order(cx.operations) {
            out.push(cx.down_finding(self, issue.at, issue.message, issue.help));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::check_fixture;

    #[test]
    fn fixtures() {
        check_fixture("down-wrong-order");
    }
}
