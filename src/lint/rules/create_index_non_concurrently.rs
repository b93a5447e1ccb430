//! # create-index-non-concurrently
//!
//! **What it does.** Flags `CREATE INDEX` without `CONCURRENTLY` on a table
//! that existed before this migration (PostgreSQL).
//!
//! **Why it is dangerous.** A plain `CREATE INDEX` holds a SHARE lock on the
//! table for the whole build. Reads go on, but every `INSERT`, `UPDATE` and
//! `DELETE` waits until the index is finished, which on a large table means
//! minutes of failed or stalled requests. In a transactional migration the
//! lock is held until the commit, so whatever else the migration does
//! afterwards lengthens the outage too.
//!
//! **Safe alternative.** Build the index with `CONCURRENTLY`, which takes a
//! SHARE UPDATE EXCLUSIVE lock that lets writes continue. PostgreSQL refuses
//! it inside a transaction block, so give it a migration of its own, with
//! `-- no-transaction` as the very first line and no other statement:
//!
//! ```sql
//! -- no-transaction
//! CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_user_id_idx ON orders (user_id);
//! ```
//!
//! A concurrent build that fails (a deadlock, a duplicate in a unique index,
//! a cancelled statement) leaves an INVALID index behind, which `IF NOT
//! EXISTS` would then silently accept. Before retrying, look for it with
//! `SELECT indexrelid::regclass FROM pg_index WHERE NOT indisvalid` and drop
//! it with `DROP INDEX CONCURRENTLY IF EXISTS orders_user_id_idx;`. The
//! concurrent build also waits for the transactions already running, so a
//! long-lived transaction delays it; meanwhile its SHARE UPDATE EXCLUSIVE
//! lock lets reads and writes through but holds up `VACUUM` and other schema
//! changes of the table.
//!
//! On a partitioned table, `CONCURRENTLY` is not available for the parent:
//! create the index `ON ONLY` the parent, build it concurrently on each
//! partition, then `ALTER INDEX … ATTACH PARTITION` each one.
//!
//! **Example.**
//!
//! ```sql
//! CREATE INDEX orders_user_id_idx ON orders (user_id); -- flagged: orders existed before
//! ```
//!
//! An index on a table (or materialized view) created earlier in the same
//! migration is not flagged: nobody else uses it yet.

use sqlparser::ast::Statement as Ast;

use crate::dialect::Dialect;
use crate::lint::{Rule, RuleMeta, StatementCx};
use crate::sql::object_key;
use crate::{Category, Finding, Severity};

pub struct CreateIndexNonConcurrently;

static META: RuleMeta = RuleMeta {
    id: "create-index-non-concurrently",
    category: Category::Locking,
    severity: Severity::Error,
    summary: "CREATE INDEX without CONCURRENTLY blocks writes to the table while the index builds",
    why: "a plain index build holds a SHARE lock on the table until it ends, so every write waits for the whole build",
    dialects: &[Dialect::Postgres],
};

/// Whether the relation existed before this migration: a table or a
/// materialized view created earlier in the same migration is new.
fn existed_before(cx: &StatementCx<'_>, relation: &str) -> bool {
    cx.existed_before(relation)
        && cx
            .catalog
            .views
            .get(relation)
            .is_none_or(|created_by| created_by != cx.version())
}

impl Rule for CreateIndexNonConcurrently {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_statement(&self, cx: &StatementCx<'_>, out: &mut Vec<Finding>) {
        let Some(Ast::CreateIndex(index)) = cx.statement.ast() else {
            return;
        };
        if index.concurrently {
            return;
        }
        let table = object_key(&index.table_name);
        if table.is_empty() || !existed_before(cx, &table) {
            return;
        }
        let mut safe = index.clone();
        safe.concurrently = true;
        // `IF NOT EXISTS` needs an index name.
        safe.if_not_exists = safe.name.is_some();
        let name = index
            .name
            .as_ref()
            .map(|n| format!(" {}", object_key(n)))
            .unwrap_or_default();
        let retry = match &index.name {
            Some(n) => format!(
                "; if a concurrent build fails, drop the INVALID index it leaves with \
                 `DROP INDEX CONCURRENTLY IF EXISTS {n};` before retrying"
            ),
            None => "; name the index, so that a failed concurrent build (which leaves an \
                     INVALID index) can be found and dropped before retrying"
                .to_string(),
        };
        out.push(cx.finding(
            self,
            format!(
                "`CREATE INDEX{name}` without CONCURRENTLY locks `{table}` against writes \
                 (SHARE lock) for the whole index build"
            ),
            format!(
                "build it concurrently, alone in a migration whose first line is \
                 `-- no-transaction`: `{safe};`{retry}"
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::check_fixture;

    #[test]
    fn fixtures() {
        check_fixture("create-index-non-concurrently");
    }
}
