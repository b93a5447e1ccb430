//! # truncate
//!
//! **What it does.** Flags `TRUNCATE` of a table that existed before this
//! migration.
//!
//! **Why it is dangerous.** Every row of the table is deleted at once, and no
//! down migration can bring the rows back. `TRUNCATE … CASCADE` (PostgreSQL)
//! also empties every table that has a foreign key to it, and so on down the
//! chain, which is easy to overlook in review. On PostgreSQL, `TRUNCATE`
//! also takes an `ACCESS EXCLUSIVE` lock that blocks every read of the table.
//!
//! **Safe alternative.** A schema migration should not remove data that the
//! app still has. If the rows are obsolete, archive them first and delete
//! only those, in batches; if emptying the table really is intended (a
//! cache, a staging table), do it in a contract with an allow that says why
//! the rows may go:
//!
//! ```sql
//! -- keep a copy, then delete what is obsolete, in batches
//! CREATE TABLE audit_log_archive AS TABLE audit_log;
//! DELETE FROM audit_log WHERE id IN (
//!   SELECT id FROM audit_log WHERE created_at < now() - interval '1 year' LIMIT 10000);
//!
//! -- or, on purpose
//! -- straddle:allow truncate -- cache table, rebuilt by the app on demand
//! TRUNCATE page_cache;
//! ```
//!
//! **Example.**
//!
//! ```sql
//! TRUNCATE orders CASCADE; -- flagged: empties orders and every table referencing it
//! ```
//!
//! A table created earlier in the same migration may be truncated freely.

use sqlparser::ast::{CascadeOption, Statement as Ast};

use crate::lint::{Rule, RuleMeta, StatementCx};
use crate::sql::object_key;
use crate::{Category, Finding, Severity};

pub struct Truncate;

static META: RuleMeta = RuleMeta {
    id: "truncate",
    category: Category::DataLoss,
    severity: Severity::Error,
    summary: "TRUNCATE deletes every row of a table",
    why: "the rows cannot be restored by a down migration, and the running app still expects them",
    dialects: &[],
};

impl Rule for Truncate {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_statement(&self, cx: &StatementCx<'_>, out: &mut Vec<Finding>) {
        let Some(Ast::Truncate(truncate)) = cx.statement.ast() else {
            return;
        };
        let cascade = matches!(truncate.cascade, Some(CascadeOption::Cascade));
        for target in &truncate.table_names {
            let table = object_key(&target.name);
            if table.is_empty() || !cx.existed_before(&table) {
                continue;
            }
            let cascaded = if cascade {
                ", and CASCADE also empties every table with a foreign key to it"
            } else {
                ""
            };
            out.push(cx.finding(
                self,
                format!("`TRUNCATE {table}` deletes every row of `{table}`{cascaded}"),
                format!(
                    "archive the rows first and delete only the obsolete ones, in batches, with a \
                     WHERE; if emptying `{table}` is intended, do it in a contract with \
                     `-- straddle:allow truncate -- <why the rows may go>`"
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
        check_fixture("truncate");
    }
}
