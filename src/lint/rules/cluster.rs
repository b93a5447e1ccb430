//! # cluster
//!
//! **What it does.** Flags `CLUSTER` in a migration: `CLUSTER table [USING
//! index]` on a table that existed before this migration, and a bare
//! `CLUSTER`, which re-clusters every table clustered before.
//!
//! **Why it is dangerous.** `CLUSTER` rewrites the table in index order and
//! rebuilds all its indexes while holding an `ACCESS EXCLUSIVE` lock: every
//! read and write on the table waits for the whole rewrite. The order it
//! produces is not maintained afterwards, so the outage buys a temporary
//! benefit.
//!
//! **Safe alternative.** Take it out of the migration and reorder the table
//! online with pg_repack, which copies it in the background and takes the
//! exclusive lock only briefly, at the start and for the final swap (the table
//! needs a primary key, or a unique index on NOT NULL columns):
//!
//! ```sql
//! -- from a shell, outside migrations (pg_repack extension installed):
//! --   pg_repack --table=public.events --order-by=created_at mydb
//! ```
//!
//! A bare `CLUSTER` also cannot run inside a transaction block, so in a
//! transactional migration it fails outright.
//!
//! **Example.**
//!
//! ```sql
//! CLUSTER events USING events_created_at_idx; -- flagged
//! ```
//!
//! A table created earlier in the same migration is exempt.

use crate::lint::{Rule, RuleMeta, StatementCx};
use crate::sql::Recognised;
use crate::{Category, Finding, Severity};

pub struct Cluster;

static META: RuleMeta = RuleMeta {
    id: "cluster",
    category: Category::Locking,
    severity: Severity::Error,
    summary: "CLUSTER rewrites a table under an ACCESS EXCLUSIVE lock",
    why: "every read and write on the table waits until the table and its indexes are rewritten",
    dialects: &[crate::Dialect::Postgres],
};

impl Rule for Cluster {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_statement(&self, cx: &StatementCx<'_>, out: &mut Vec<Finding>) {
        let Some(Recognised::Cluster { table }) = cx.statement.recognised() else {
            return;
        };
        match table {
            Some(table) if !cx.existed_before(table) => {}
            Some(table) => out.push(cx.finding(
                self,
                format!(
                    "`CLUSTER {table}` rewrites `{table}` and its indexes under an ACCESS EXCLUSIVE lock: \
                     reads and writes wait until it ends"
                ),
                format!(
                    "remove it from the migration and reorder `{table}` online with pg_repack \
                     (`pg_repack --table={table} --order-by=<columns> <db>`), which locks the table \
                     only briefly"
                ),
            )),
            None => out.push(cx.finding(
                self,
                "`CLUSTER` without a table rewrites every previously clustered table, each under an \
                 ACCESS EXCLUSIVE lock",
                "remove it from the migration and reorder the tables online with pg_repack \
                 (`pg_repack --table=<table> --order-by=<columns> <db>`)",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::check_fixture;

    #[test]
    fn fixtures() {
        check_fixture("cluster");
    }
}
