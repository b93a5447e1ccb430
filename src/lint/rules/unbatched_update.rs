//! # unbatched-update
//!
//! **What it does.** Flags an `UPDATE` without a `WHERE` clause (and, on
//! MySQL, without a `LIMIT`) on a table that existed before this migration:
//! a backfill that changes every row in one statement.
//!
//! **Why it is dangerous.** One statement means one transaction: every row
//! it touches stays locked until the very last row is written, so the
//! application's own updates of those rows wait, for minutes on a large
//! table. The whole change is written to the WAL (PostgreSQL) or the binlog
//! (MySQL) at once, replicas fall behind while they replay it, and
//! PostgreSQL leaves a dead copy of every row for vacuum to clean up. If it
//! fails near the end, all the work is rolled back and starts again.
//!
//! **Safe alternative.** Backfill in batches of a few thousand rows, each
//! batch in its own short transaction, outside the schema migration's
//! transaction, by primary-key ranges. `straddle migrate` commits each
//! statement of a `-- no-transaction` migration on its own; sqlx and diesel
//! send such a file as one query, which PostgreSQL runs as one implicit
//! transaction, so with them run the batches from a job instead (or, on
//! PostgreSQL, from a `DO` block that `COMMIT`s after each batch, alone in its
//! `-- no-transaction` migration):
//!
//! ```sql
//! -- repeat with the next range until the largest id is passed
//! UPDATE orders SET status = 'open' WHERE id >= 1 AND id < 10001;
//! UPDATE orders SET status = 'open' WHERE id >= 10001 AND id < 20001;
//! ```
//!
//! or by repeating a bounded statement until it changes no row:
//!
//! ```sql
//! -- PostgreSQL
//! UPDATE orders SET status = 'open'
//! WHERE id IN (SELECT id FROM orders WHERE status IS NULL LIMIT 10000);
//! -- MySQL / MariaDB
//! UPDATE orders SET status = 'open' WHERE status IS NULL LIMIT 10000;
//! ```
//!
//! **Example.**
//!
//! ```sql
//! UPDATE orders SET status = 'open'; -- flagged: every row in one transaction
//! ```
//!
//! A table created earlier in the same migration is exempt; so is an
//! `UPDATE` with any `WHERE` clause (straddle cannot tell how many rows it
//! matches).

use sqlparser::ast::{Statement as Ast, TableFactor};

use crate::Dialect;
use crate::lint::{Rule, RuleMeta, StatementCx};
use crate::schema::ConstraintKind;
use crate::sql::object_key;
use crate::{Category, Finding, Severity};

pub struct UnbatchedUpdate;

static META: RuleMeta = RuleMeta {
    id: "unbatched-update",
    category: Category::Locking,
    severity: Severity::Warning,
    summary: "an UPDATE of every row of an existing table in one statement",
    why: "every updated row stays locked until the single transaction commits, and the burst of WAL or binlog makes replicas lag",
    dialects: &[],
};

/// The name of the table's primary-key column, when it has a single one;
/// `id` otherwise.
fn key_column(cx: &StatementCx<'_>, table: &str) -> String {
    cx.catalog
        .table(table)
        .and_then(|t| {
            t.constraints
                .iter()
                .find(|c| c.kind == ConstraintKind::PrimaryKey && c.columns.len() == 1)
                .map(|c| c.columns[0].clone())
        })
        .unwrap_or_else(|| "id".to_string())
}

impl Rule for UnbatchedUpdate {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_statement(&self, cx: &StatementCx<'_>, out: &mut Vec<Finding>) {
        let Some(Ast::Update(update)) = cx.statement.ast() else {
            return;
        };
        if update.selection.is_some() || update.limit.is_some() {
            return;
        }
        let TableFactor::Table { name, .. } = &update.table.relation else {
            return;
        };
        let table = object_key(name);
        if !cx.existed_before(&table) {
            return;
        }
        let mut set = update
            .assignments
            .iter()
            .map(|a| a.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        if set.chars().count() > 60 {
            set = "…".to_string();
        }
        let key = key_column(cx, &table);
        // As written, with its alias, so that the SET clause still reads.
        let target = update.table.relation.to_string();
        let bounded = match cx.dialect() {
            Dialect::Mysql => {
                format!("`UPDATE {target} SET {set} WHERE <not yet done> LIMIT 10000;`")
            }
            _ => format!(
                "`UPDATE {target} SET {set} WHERE {key} IN (SELECT {key} FROM {table} WHERE <not yet done> LIMIT 10000);`"
            ),
        };
        out.push(cx.finding(
            self,
            format!(
                "this UPDATE changes every row of `{table}` in one transaction: each row stays locked until it \
                 commits, and the whole change hits the log and the replicas at once"
            ),
            format!(
                "backfill in batches, each in its own transaction (a job, or a `-- no-transaction` migration \
                 applied by `straddle migrate`): \
                 by key range, `UPDATE {target} SET {set} WHERE {key} >= 1 AND {key} < 10001;` then the next \
                 range, or repeat {bounded} until it changes no row"
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::check_fixture;

    #[test]
    fn fixtures() {
        check_fixture("unbatched-update");
    }
}
