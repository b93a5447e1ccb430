//! # drop-table
//!
//! **What it does.** Flags `DROP TABLE` of a table that existed before this
//! migration.
//!
//! **Why it is dangerous.** The rows are gone for good: no down migration can
//! bring them back, and the application version that is still running keeps
//! querying the table until its instances are replaced, so every one of those
//! queries fails from the moment the migration runs.
//!
//! **Safe alternative.** Stop using the table first. In an expand, stop
//! writing to it (or rename it aside and keep a view under the old name);
//! ship the app that no longer reads it; then drop it in a contract, after
//! the rollout is complete, with an allow that says where the data went:
//!
//! ```sql
//! -- straddle: contract 20240101120000
//! -- straddle:allow drop-table -- archived to s3://backups/legacy_events in 20240101120000
//! DROP TABLE legacy_events;
//! ```
//!
//! **Example.**
//!
//! ```sql
//! DROP TABLE legacy_events; -- flagged: legacy_events existed before
//! ```
//!
//! A table created earlier in the same migration may be dropped freely.

use sqlparser::ast::{ObjectType, Statement as Ast};

use crate::lint::{Rule, RuleMeta, StatementCx};
use crate::sql::object_key;
use crate::{Category, Finding, Severity};

pub struct DropTable;

static META: RuleMeta = RuleMeta {
    id: "drop-table",
    category: Category::DataLoss,
    severity: Severity::Error,
    summary: "dropping a table destroys its data and breaks the running version",
    why: "the rows cannot be restored by a down migration, and the running app still queries the table",
    dialects: &[],
};

impl Rule for DropTable {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_statement(&self, cx: &StatementCx<'_>, out: &mut Vec<Finding>) {
        let Some(Ast::Drop {
            object_type: ObjectType::Table,
            names,
            ..
        }) = cx.statement.ast()
        else {
            return;
        };
        for name in names {
            let table = object_key(name);
            if !cx.existed_before(&table) {
                continue;
            }
            out.push(cx.finding(
                self,
                format!("`DROP TABLE {table}` destroys the table and all its rows"),
                format!(
                    "stop reading and writing `{table}` in the app first; drop it in a contract \
                     migration after the rollout, with `-- straddle:allow drop-table -- <where the data went>`"
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
        check_fixture("drop-table");
    }
}
