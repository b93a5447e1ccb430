//! # mysql-algorithm-copy
//!
//! **What it does.** Flags `ALGORITHM=COPY` in an `ALTER TABLE`, `CREATE
//! INDEX` or `DROP INDEX` on a table that existed before this migration
//! (MySQL and MariaDB).
//!
//! **Why it is dangerous.** `ALGORITHM=COPY` asks InnoDB to build a new copy
//! of the table row by row and swap it in. During the whole copy the table
//! accepts reads but no writes (`INSERT`, `UPDATE` and `DELETE` wait), and
//! on a replica the same copy runs again, stalling replication for as long.
//! Most schema changes have an online algorithm, so the copy is rarely
//! needed.
//!
//! **Safe alternative.** Ask for the online algorithm explicitly; MySQL then
//! refuses the statement with an error when the change cannot be made
//! online, instead of silently blocking writes:
//!
//! ```sql
//! ALTER TABLE orders ADD INDEX orders_placed_at (placed_at), ALGORITHM=INPLACE, LOCK=NONE;
//! ALTER TABLE orders ADD COLUMN note varchar(200), ALGORITHM=INSTANT;
//! ```
//!
//! When the change truly needs a copy (a column type change, say) and the
//! table is large, run it with an online schema-change tool such as gh-ost or
//! pt-online-schema-change, which copies in the background and swaps
//! atomically.
//!
//! **Example.**
//!
//! ```sql
//! ALTER TABLE orders ADD INDEX orders_placed_at (placed_at), ALGORITHM=COPY; -- flagged
//! ```
//!
//! A table created earlier in the same migration is exempt.

use crate::lint::mysql_ddl::{self, DdlKind};
use crate::lint::{Rule, RuleMeta, StatementCx};
use crate::{Category, Finding, Severity};

pub struct MysqlAlgorithmCopy;

static META: RuleMeta = RuleMeta {
    id: "mysql-algorithm-copy",
    category: Category::Locking,
    severity: Severity::Error,
    summary: "ALGORITHM=COPY copies the whole table and blocks writes meanwhile",
    why: "InnoDB rebuilds the table row by row while every INSERT, UPDATE and DELETE waits, and replicas repeat the copy",
    dialects: &[crate::Dialect::Mysql],
};

impl Rule for MysqlAlgorithmCopy {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_statement(&self, cx: &StatementCx<'_>, out: &mut Vec<Finding>) {
        let Some(ddl) = mysql_ddl::read(cx.statement) else {
            return;
        };
        let Some(algorithm) = ddl.algorithm.as_ref().filter(|a| a.value == "COPY") else {
            return;
        };
        if ddl.table.as_deref().is_some_and(|t| !cx.existed_before(t)) {
            return;
        }
        let table = ddl.table.as_deref().unwrap_or("the table");
        let what = match ddl.kind {
            DdlKind::AlterTable => "ALTER TABLE",
            DdlKind::CreateIndex => "CREATE INDEX",
            DdlKind::DropIndex => "DROP INDEX",
        };
        out.push(cx.finding_at(
            self,
            algorithm.at,
            format!(
                "`{what} … ALGORITHM=COPY` copies all of `{table}` row by row; writes to `{table}` wait until \
                 the copy ends"
            ),
            format!(
                "ask for `ALGORITHM=INPLACE, LOCK=NONE` (or `ALGORITHM=INSTANT` where the change allows it) so \
                 MySQL refuses rather than block writes; if the change really needs a copy and `{table}` is large, \
                 run it with gh-ost or pt-online-schema-change"
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::check_fixture;

    #[test]
    fn fixtures() {
        check_fixture("mysql-algorithm-copy");
    }
}
