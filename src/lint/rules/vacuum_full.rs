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
//! return space to the operating system but never blocks reads or writes.
//!
//! **Safe alternative.** Take it out of the migration. To reclaim bloat
//! online, use an extension that rebuilds the table while it stays in use and
//! takes the exclusive lock only for a short swap at the end:
//!
//! ```sql
//! -- from a shell, outside migrations (pg_repack extension installed):
//! --   pg_repack --table=public.events --jobs=2 mydb
//! -- or with pg_squeeze:
//! SELECT squeeze.squeeze_table('public', 'events');
//! -- when only dead rows need cleaning up:
//! VACUUM (ANALYZE) events;
//! ```
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
                 (`pg_repack --table={target} <db>`) or pg_squeeze, or run a plain `VACUUM {target}` \
                 that does not block reads or writes"
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
