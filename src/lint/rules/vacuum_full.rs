//! # vacuum-full
//!
//! **What it does.** Flags `VACUUM FULL` (and `VACUUM (FULL) …`) in a
//! migration, on a named table that existed before this migration or on the
//! whole database.
//!
//! **Why it is dangerous.** `VACUUM FULL` writes a complete new copy of each
//! table and its indexes, holding an `ACCESS EXCLUSIVE` lock the whole time:
//! every query on the table, reads included, waits until the copy is done. It
//! also needs free disk space for the second copy. Plain `VACUUM` does not
//! give the space back to the operating system (beyond empty pages at the
//! end of the table), but it lets reads and writes go on.
//!
//! **Safe alternative.** Take it out of the migration. To reclaim bloat
//! online, use pg_repack (or the pg_squeeze extension), which rebuilds the
//! table while it stays in use and takes the exclusive lock only briefly,
//! at the start and for the final swap:
//!
//! ```sql
//! -- from a shell, outside migrations (pg_repack extension installed):
//! --   pg_repack --table=public.events --jobs=2 mydb
//! ```
//!
//! When only dead rows need cleaning up, a plain `VACUUM (ANALYZE) events;`
//! will do. Like `VACUUM FULL`, it cannot run inside a transaction block: in
//! a migration it needs a `-- no-transaction` migration of its own (better,
//! leave it to autovacuum or a scheduled job).
//!
//! **Example.**
//!
//! ```sql
//! VACUUM FULL events; -- flagged: events is locked for the whole rewrite
//! ```
//!
//! A table created earlier in the same migration is exempt.

use sqlparser::ast::Statement as Ast;

use crate::lint::{Rule, RuleMeta, StatementCx};
use crate::sql::{Recognised, object_key};
use crate::{Category, Finding, Severity};

pub struct VacuumFull;

static META: RuleMeta = RuleMeta {
    id: "vacuum-full",
    category: Category::Locking,
    severity: Severity::Error,
    summary: "VACUUM FULL rewrites tables under an ACCESS EXCLUSIVE lock",
    why: "every query on the table, reads included, waits until the full copy is written",
    dialects: &[crate::Dialect::Postgres],
};

impl Rule for VacuumFull {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_statement(&self, cx: &StatementCx<'_>, out: &mut Vec<Finding>) {
        let tables: Vec<String> = match (cx.statement.ast(), cx.statement.recognised()) {
            (Some(Ast::Vacuum(vacuum)), _) if vacuum.full => {
                vacuum.table_name.iter().map(object_key).collect()
            }
            (_, Some(Recognised::Vacuum { full: true, tables })) => tables.clone(),
            _ => return,
        };
        let help = |target: &str| {
            format!(
                "remove `VACUUM FULL` from the migration; reclaim space online with pg_repack \
                 (`pg_repack --table={target} <db>`) or pg_squeeze, or run a plain `VACUUM {target}`, \
                 which does not block reads or writes (like any VACUUM, outside a transaction block)"
            )
        };
        if tables.is_empty() {
            out.push(cx.finding(
                self,
                "`VACUUM FULL` without a table rewrites every table of the database, each under an \
                 ACCESS EXCLUSIVE lock",
                help("<table>"),
            ));
            return;
        }
        for table in tables.iter().filter(|t| cx.existed_before(t)) {
            out.push(cx.finding(
                self,
                format!(
                    "`VACUUM FULL {table}` rewrites `{table}` and its indexes under an ACCESS EXCLUSIVE \
                     lock: reads and writes wait until it ends"
                ),
                help(table),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::check_fixture;

    #[test]
    fn fixtures() {
        check_fixture("vacuum-full");
    }
}
