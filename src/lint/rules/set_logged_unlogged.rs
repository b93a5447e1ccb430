//! # set-logged-unlogged
//!
//! **What it does.** Flags `ALTER TABLE … SET LOGGED` and `ALTER TABLE … SET
//! UNLOGGED` on a table that existed before this migration.
//!
//! **Why it is dangerous.** Switching a table between logged and unlogged
//! rewrites it and all its indexes under an `ACCESS EXCLUSIVE` lock: every
//! read and write waits for the rewrite. `SET LOGGED` also writes the whole
//! table into the WAL, a burst that replicas must receive and replay, so
//! they fall behind. `SET UNLOGGED` additionally removes the table from
//! replicas and empties it after a crash.
//!
//! **Safe alternative.** Decide at creation time. To convert a busy table,
//! build a new one and move the rows in batches, then swap the names in one
//! short transaction:
//!
//! ```sql
//! CREATE TABLE events_logged (LIKE events INCLUDING ALL);
//! -- copy in batches, each in its own transaction (and keep new writes in
//! -- sync with a trigger meanwhile):
//! INSERT INTO events_logged SELECT * FROM events WHERE id BETWEEN 1 AND 100000;
//! -- then, with a short lock_timeout:
//! BEGIN;
//! ALTER TABLE events RENAME TO events_old;
//! -- straddle:allow rename-table -- events_logged is a copy that no app uses yet
//! ALTER TABLE events_logged RENAME TO events;
//! COMMIT;
//! ```
//!
//! Foreign keys, views and triggers that point at the table follow it to
//! `events_old`: recreate them on the new table before the swap. For a small
//! table, or in a maintenance window, the rewrite may be fine: allow the
//! rule with the table's size as the reason.
//!
//! **Example.**
//!
//! ```sql
//! ALTER TABLE events SET LOGGED; -- flagged: rewrites events under an exclusive lock
//! ```
//!
//! A table created earlier in the same migration is exempt.

use sqlparser::ast::AlterTableOperation;

use crate::lint::{Rule, RuleMeta, StatementCx};
use crate::{Category, Finding, Severity};

pub struct SetLoggedUnlogged;

static META: RuleMeta = RuleMeta {
    id: "set-logged-unlogged",
    category: Category::Locking,
    severity: Severity::Error,
    summary: "SET LOGGED / SET UNLOGGED rewrites the table under an ACCESS EXCLUSIVE lock",
    why: "the table and its indexes are rewritten while every read and write waits, and SET LOGGED floods the WAL",
    dialects: &[crate::Dialect::Postgres],
};

impl Rule for SetLoggedUnlogged {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_statement(&self, cx: &StatementCx<'_>, out: &mut Vec<Finding>) {
        let Some((alter, table)) = cx.alter_existing() else {
            return;
        };
        for operation in &alter.operations {
            let (clause, create, extra) = match operation {
                AlterTableOperation::SetLogged => (
                    "SET LOGGED",
                    "CREATE TABLE",
                    " and writes every row into the WAL, so replicas fall behind",
                ),
                AlterTableOperation::SetUnlogged => (
                    "SET UNLOGGED",
                    "CREATE UNLOGGED TABLE",
                    "; the table then disappears from replicas and is emptied after a crash",
                ),
                _ => continue,
            };
            out.push(cx.finding(
                self,
                format!(
                    "`ALTER TABLE {table} {clause}` rewrites `{table}` and its indexes under an ACCESS \
                     EXCLUSIVE lock{extra}"
                ),
                format!(
                    "create the replacement table (`{create} {table}_new (LIKE {table} INCLUDING ALL)`), copy the rows in batches while a trigger mirrors new writes, then swap \
                     the names in one short transaction; for a small table, allow this rule and give its size \
                     as the reason"
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::check_fixture;

    #[test]
    fn fixtures() {
        check_fixture("set-logged-unlogged");
    }
}
