//! # delete-without-where
//!
//! **What it does.** Flags `DELETE` without a `WHERE` clause on a table that
//! existed before this migration.
//!
//! **Why it is dangerous.** It deletes every row of the table (a `LIMIT` only
//! spreads the damage over several runs), and no down migration can bring the
//! rows back. A missing `WHERE` is also a classic slip: the condition was
//! meant to be there.
//!
//! **Safe alternative.** Say which rows go, keep a copy of them, and delete
//! large sets in batches so that the table stays usable:
//!
//! ```sql
//! CREATE TABLE sessions_expired AS SELECT * FROM sessions WHERE expires_at < now();
//! -- repeated until it deletes no row
//! DELETE FROM sessions WHERE id IN (
//!   SELECT id FROM sessions WHERE expires_at < now() LIMIT 10000);
//! -- MySQL and MariaDB refuse LIMIT in such a subquery; there:
//! -- DELETE FROM sessions WHERE expires_at < now() LIMIT 10000;
//! ```
//!
//! If emptying the table is intended (reference data reloaded right after,
//! say), allow it with the reason:
//!
//! ```sql
//! -- straddle:allow delete-without-where -- country list reloaded below from ISO 3166
//! DELETE FROM countries;
//! ```
//!
//! **Example.**
//!
//! ```sql
//! DELETE FROM sessions; -- flagged: every row goes
//! ```
//!
//! A `DELETE` that joins other tables (MySQL `DELETE t FROM t JOIN u ON …`)
//! is filtered by its join and not flagged; a table created earlier in the
//! same migration is not flagged either.

use sqlparser::ast::{FromTable, ObjectName, Statement as Ast, TableFactor, TableWithJoins};

use crate::lint::{Rule, RuleMeta, StatementCx};
use crate::sql::object_key;
use crate::{Category, Finding, Severity};

pub struct DeleteWithoutWhere;

static META: RuleMeta = RuleMeta {
    id: "delete-without-where",
    category: Category::DataLoss,
    severity: Severity::Error,
    summary: "DELETE without WHERE removes every row of a table",
    why: "the rows cannot be restored by a down migration, and the running app still expects them",
    dialects: &[],
};

fn table_name(from: &TableWithJoins) -> Option<&ObjectName> {
    match &from.relation {
        TableFactor::Table { name, .. } => Some(name),
        _ => None,
    }
}

impl Rule for DeleteWithoutWhere {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_statement(&self, cx: &StatementCx<'_>, out: &mut Vec<Finding>) {
        let Some(Ast::Delete(delete)) = cx.statement.ast() else {
            return;
        };
        if delete.selection.is_some() {
            return;
        }
        let from = match &delete.from {
            FromTable::WithFromKeyword(from) | FromTable::WithoutKeyword(from) => from,
        };
        // A join condition limits what goes.
        if from.iter().any(|f| !f.joins.is_empty()) {
            return;
        }
        let targets: Vec<&ObjectName> = if delete.tables.is_empty() {
            from.iter().filter_map(table_name).collect()
        } else {
            delete.tables.iter().collect()
        };
        let limited = if delete.limit.is_some() {
            " (LIMIT only bounds how many go per run)"
        } else {
            ""
        };
        for name in targets {
            let table = object_key(name);
            if table.is_empty() || !cx.existed_before(&table) {
                continue;
            }
            out.push(cx.finding(
                self,
                format!(
                    "`DELETE FROM {table}` has no WHERE clause: it removes every row of \
                     `{table}`{limited}"
                ),
                format!(
                    "add a WHERE that selects only the rows meant to go, keep a copy of them, and \
                     delete large sets in batches; if emptying `{table}` is intended, say why with \
                     `-- straddle:allow delete-without-where -- <reason>`"
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
        check_fixture("delete-without-where");
    }
}
