//! # drop-index-non-concurrently
//!
//! **What it does.** Flags `DROP INDEX` without `CONCURRENTLY` when the
//! index belongs to a table that existed before this migration (PostgreSQL).
//! An index the catalog has never seen is assumed to sit on a busy table.
//!
//! **Why it is dangerous.** A plain `DROP INDEX` takes an ACCESS EXCLUSIVE
//! lock on the index's table. The drop itself is quick, but the lock has to
//! wait for every query already running on the table, and every query that
//! arrives meanwhile, reads included, queues behind it. One slow report is
//! enough to stall all traffic to the table; in a transactional migration
//! the lock is then kept until the commit.
//!
//! **Safe alternative.** Drop it with `CONCURRENTLY`, which waits for the
//! queries using the index without blocking new ones. PostgreSQL refuses it
//! inside a transaction block, and it drops one index at a time, so give
//! each drop a migration of its own whose very first line is
//! `-- no-transaction`:
//!
//! ```sql
//! -- no-transaction
//! DROP INDEX CONCURRENTLY IF EXISTS orders_status_idx;
//! ```
//!
//! No `DROP INDEX` can remove an index that backs a `PRIMARY KEY` or
//! `UNIQUE` constraint (drop the constraint with `ALTER TABLE … DROP
//! CONSTRAINT` instead, which takes an ACCESS EXCLUSIVE lock on the table),
//! and `DROP INDEX CONCURRENTLY` accepts neither `CASCADE` nor a list of
//! indexes.
//!
//! **Example.**
//!
//! ```sql
//! DROP INDEX orders_status_idx; -- flagged: an index of orders, which existed before
//! ```
//!
//! An index of a table created earlier in the same migration may be dropped
//! freely.

use sqlparser::ast::{ObjectType, Statement as Ast};

use crate::dialect::Dialect;
use crate::lint::{Rule, RuleMeta, StatementCx};
use crate::sql::{Recognised, object_key};
use crate::{Category, Finding, Severity};

pub struct DropIndexNonConcurrently;

static META: RuleMeta = RuleMeta {
    id: "drop-index-non-concurrently",
    category: Category::Locking,
    severity: Severity::Error,
    summary: "DROP INDEX without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on the table",
    why: "the lock waits behind running queries and blocks every read and write of the table queued after it",
    dialects: &[Dialect::Postgres],
};

impl Rule for DropIndexNonConcurrently {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_statement(&self, cx: &StatementCx<'_>, out: &mut Vec<Finding>) {
        let names: Vec<String> = match (cx.statement.ast(), cx.statement.recognised()) {
            (
                Some(Ast::Drop {
                    object_type: ObjectType::Index,
                    names,
                    ..
                }),
                _,
            ) => names.iter().map(object_key).collect(),
            (
                _,
                Some(Recognised::DropIndex {
                    concurrently: false,
                    names,
                    ..
                }),
            ) => names.clone(),
            _ => return,
        };
        for index in names {
            if index.is_empty() {
                continue;
            }
            let table = cx.catalog.index_table(&index);
            let existing = match table {
                Some(table) => {
                    cx.existed_before(table)
                        && cx
                            .catalog
                            .views
                            .get(table)
                            .is_none_or(|created_by| created_by != cx.version())
                }
                None => true,
            };
            if !existing {
                continue;
            }
            let on = match table {
                Some(table) => format!("`{table}`"),
                None => "its table".to_string(),
            };
            out.push(cx.finding(
                self,
                format!(
                    "`DROP INDEX {index}` without CONCURRENTLY takes an ACCESS EXCLUSIVE lock on \
                     {on}, blocking every read and write queued behind it"
                ),
                format!(
                    "drop it concurrently, alone in a migration whose first line is \
                     `-- no-transaction`: `DROP INDEX CONCURRENTLY IF EXISTS {index};`"
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
        check_fixture("drop-index-non-concurrently");
    }
}
