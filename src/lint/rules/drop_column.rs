//! # drop-column
//!
//! **What it does.** Flags `ALTER TABLE … DROP COLUMN` (and MySQL's
//! `ALTER TABLE … DROP c`, without the `COLUMN` keyword) on a table that
//! existed before this migration.
//!
//! **Why it is dangerous.** Every value in the column is gone for good: a down
//! migration can add the column back, but empty. And the application version
//! that is still running keeps selecting and inserting the column until its
//! instances are replaced, so those queries fail from the moment the
//! migration runs.
//!
//! **Safe alternative.** Stop using the column first. Ship an app release
//! that neither reads nor writes it (in an expand, make it nullable or give it
//! a default so that the new release can leave it out of its INSERTs); once
//! that release is rolled out everywhere, drop the column in a contract, with
//! an allow that says where the data went:
//!
//! ```sql
//! -- 20240101120000_orders_legacy_code_optional.up.sql
//! -- straddle: expand
//! -- (the new release no longer writes `legacy_code`)
//! ALTER TABLE orders ALTER COLUMN legacy_code DROP NOT NULL;
//!
//! -- 20240108120000_drop_orders_legacy_code.up.sql, after the rollout
//! -- straddle: contract 20240101120000
//! -- straddle:allow drop-column -- copied to orders_archive.legacy_code in 20240101120000
//! ALTER TABLE orders DROP COLUMN legacy_code;
//! ```
//!
//! **Example.**
//!
//! ```sql
//! ALTER TABLE orders DROP COLUMN legacy_code; -- flagged: orders existed before
//! ```
//!
//! A column of a table created in the same migration, or a column added
//! earlier in the same migration, may be dropped freely.

use sqlparser::ast::AlterTableOperation;

use crate::lint::{Rule, RuleMeta, StatementCx};
use crate::sql::ident_key;
use crate::{Category, Finding, Severity};

pub struct DropColumn;

static META: RuleMeta = RuleMeta {
    id: "drop-column",
    category: Category::DataLoss,
    severity: Severity::Error,
    summary: "dropping a column destroys its values and breaks the running version",
    why: "the values cannot be restored by a down migration, and the running app still reads and writes the column",
    dialects: &[],
};

/// The place of `at` in the file, or the statement's start when the parser
/// kept no place.
impl Rule for DropColumn {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_statement(&self, cx: &StatementCx<'_>, out: &mut Vec<Finding>) {
        let Some((alter, table)) = cx.alter_existing() else {
            return;
        };
        for operation in &alter.operations {
            let AlterTableOperation::DropColumn { column_names, .. } = operation else {
                continue;
            };
            for name in column_names {
                let column = ident_key(name);
                let added_here = cx
                    .catalog
                    .column(&table, &column)
                    .is_some_and(|c| c.created_by == cx.version());
                if added_here {
                    continue;
                }
                out.push(cx.finding_at(
                    self,
                    cx.place(name.span.start),
                    format!(
                        "dropping column `{table}.{column}` destroys every value in it, and the \
                         running app still reads and writes it"
                    ),
                    format!(
                        "ship an app release that no longer uses `{table}.{column}` first; then drop \
                         it in a contract migration after the rollout, with \
                         `-- straddle:allow drop-column -- <where the data went>`"
                    ),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::check_fixture;

    #[test]
    fn fixtures() {
        check_fixture("drop-column");
    }
}
