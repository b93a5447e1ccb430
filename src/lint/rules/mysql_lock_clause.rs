//! # mysql-lock-clause
//!
//! **What it does.** Flags `LOCK=SHARED` and `LOCK=EXCLUSIVE` in an `ALTER
//! TABLE`, `CREATE INDEX` or `DROP INDEX` on a table that existed before this
//! migration (MySQL and MariaDB).
//!
//! **Why it is dangerous.** The `LOCK` clause sets how much concurrent
//! access the table keeps while the change runs. `LOCK=SHARED` blocks every
//! write for the whole operation; `LOCK=EXCLUSIVE` blocks reads as well. Even
//! a change InnoDB could make online then takes the table away from the
//! running application for as long as it lasts.
//!
//! **Safe alternative.** Ask for no lock, so the statement keeps the table
//! readable and writable, or fails at once when the change cannot be made
//! online:
//!
//! ```sql
//! ALTER TABLE orders ADD INDEX orders_placed_at (placed_at), ALGORITHM=INPLACE, LOCK=NONE;
//! CREATE INDEX orders_customer ON orders (customer_id) ALGORITHM=INPLACE LOCK=NONE;
//! ```
//!
//! If MySQL refuses `LOCK=NONE` for the change and the table is large, use
//! gh-ost or pt-online-schema-change.
//!
//! **Example.**
//!
//! ```sql
//! ALTER TABLE orders ADD INDEX orders_placed_at (placed_at), LOCK=SHARED; -- flagged
//! ```
//!
//! A table created earlier in the same migration is exempt.

use crate::lint::mysql_ddl::{self, DdlKind};
use crate::lint::{Rule, RuleMeta, StatementCx};
use crate::{Category, Finding, Severity};

pub struct MysqlLockClause;

static META: RuleMeta = RuleMeta {
    id: "mysql-lock-clause",
    category: Category::Locking,
    severity: Severity::Error,
    summary: "LOCK=SHARED or LOCK=EXCLUSIVE blocks writes (or reads too) for the whole DDL",
    why: "the table stops accepting writes, or any query at all, until the schema change has finished",
    dialects: &[crate::Dialect::Mysql],
};

impl Rule for MysqlLockClause {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_statement(&self, cx: &StatementCx<'_>, out: &mut Vec<Finding>) {
        let Some(ddl) = mysql_ddl::read(cx.statement) else {
            return;
        };
        let Some(lock) = ddl
            .lock
            .as_ref()
            .filter(|l| l.value == "SHARED" || l.value == "EXCLUSIVE")
        else {
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
        let blocked = if lock.value == "SHARED" {
            "writes to"
        } else {
            "reads and writes on"
        };
        out.push(cx.finding_at(
            self,
            lock.at,
            format!(
                "`{what} … LOCK={}` blocks {blocked} `{table}` until the change has finished",
                lock.value
            ),
            format!(
                "use `LOCK=NONE` (with `ALGORITHM=INPLACE` or `INSTANT`) so `{table}` stays readable and writable, \
                 or the statement fails at once if it cannot; if it fails and `{table}` is large, use gh-ost or \
                 pt-online-schema-change"
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::check_fixture;

    #[test]
    fn fixtures() {
        check_fixture("mysql-lock-clause");
    }
}
