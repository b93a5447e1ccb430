//! # refresh-materialized-view
//!
//! **What it does.** Flags `REFRESH MATERIALIZED VIEW` without
//! `CONCURRENTLY` on a materialized view that existed before this migration.
//!
//! **Why it is dangerous.** A plain refresh recomputes the whole view and
//! holds an `ACCESS EXCLUSIVE` lock on it meanwhile, so every query that
//! reads the view waits until the refresh has finished, for as long as the
//! underlying query takes to run.
//!
//! **Safe alternative.** Give the view a unique index on plain columns (no
//! expression, no `WHERE`), once, then refresh it with `CONCURRENTLY`, which
//! computes the new contents beside the old and applies the difference while
//! readers continue (it takes an EXCLUSIVE lock, which blocks only another
//! refresh). The concurrent index build cannot run inside a transaction
//! block, so it needs a `-- no-transaction` migration of its own; the
//! concurrent refresh itself runs in a transaction like any statement, in a
//! migration or, better, in a scheduled job:
//!
//! ```sql
//! -- 20240101120000_daily_sales_day_key.up.sql
//! -- no-transaction
//! CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS daily_sales_day_key ON daily_sales (day);
//!
//! -- 20240101120100_refresh_daily_sales.up.sql
//! REFRESH MATERIALIZED VIEW CONCURRENTLY daily_sales;
//! ```
//!
//! `CONCURRENTLY` needs a view that has been populated once already.
//!
//! **Example.**
//!
//! ```sql
//! REFRESH MATERIALIZED VIEW daily_sales; -- flagged: readers of daily_sales wait
//! ```
//!
//! A view created earlier in the same migration has no readers yet, so it is
//! exempt.

use crate::lint::{Rule, RuleMeta, StatementCx};
use crate::sql::Recognised;
use crate::{Category, Finding, Severity};

pub struct RefreshMaterializedView;

static META: RuleMeta = RuleMeta {
    id: "refresh-materialized-view",
    category: Category::Locking,
    severity: Severity::Warning,
    summary: "REFRESH MATERIALIZED VIEW without CONCURRENTLY blocks every reader of the view",
    why: "a plain refresh holds an ACCESS EXCLUSIVE lock on the view while its query runs, so every read waits",
    dialects: &[crate::Dialect::Postgres],
};

impl Rule for RefreshMaterializedView {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_statement(&self, cx: &StatementCx<'_>, out: &mut Vec<Finding>) {
        let Some(Recognised::RefreshMaterializedView {
            concurrently: false,
            name,
        }) = cx.statement.recognised()
        else {
            return;
        };
        // A view the catalog has never seen was made outside these
        // migrations: assume it exists and is read.
        let created_here = cx
            .catalog
            .views
            .get(name)
            .is_some_and(|created_by| created_by == cx.version());
        if created_here {
            return;
        }
        out.push(cx.finding(
            self,
            format!(
                "`REFRESH MATERIALIZED VIEW {name}` locks `{name}` with ACCESS EXCLUSIVE: every query \
                 reading it waits until the refresh has finished"
            ),
            format!(
                "give `{name}` a unique index on plain columns once, in a `-- no-transaction` migration of its \
                 own (`CREATE UNIQUE INDEX CONCURRENTLY … ON {name} (<key columns>);`), then use \
                 `REFRESH MATERIALIZED VIEW CONCURRENTLY {name};`, which lets readers continue (it also runs \
                 inside a transaction), preferably in a scheduled job"
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::check_fixture;

    #[test]
    fn fixtures() {
        check_fixture("refresh-materialized-view");
    }
}
