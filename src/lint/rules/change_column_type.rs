//! # change-column-type
//!
//! **What it does.** Flags a change of the type of an existing column of an
//! existing table (`ALTER COLUMN … TYPE`, `SET DATA TYPE`, MySQL
//! `MODIFY`/`CHANGE` with another type), unless the change is known to be
//! harmless: only a limit is raised (`varchar(50)` → `varchar(100)`,
//! `varchar(n)` → `text`, `numeric(10,2)` → `numeric(12,2)`, …).
//!
//! **Why it is dangerous.** During the rollout the previous version of the
//! application still runs against the new schema. It was written for the old
//! type: it may write values the new type rejects (a string that is not a
//! number, a value out of range, a longer text), and it reads values it
//! interprets differently (a `bigint` past its integer range, a `timestamptz`
//! where it expected a local time, a string where it expected a number). A
//! type change cannot be made backward compatible in place.
//!
//! **Safe alternative.** Change the type across two phases. In the expand,
//! add a column of the new type, keep the two in sync with a trigger (both
//! ways: the old version writes only the old column, the new version only
//! the new one), and backfill it in batches; ship the app that reads and
//! writes the new column; in the contract, drop the trigger and the old
//! column. `straddle new --change-type orders.total bigint` writes that pair:
//!
//! ```sql
//! -- 20240101120000_orders_total_bigint.up.sql
//! -- straddle: expand
//! ALTER TABLE orders ADD COLUMN total_bigint bigint;
//! CREATE FUNCTION orders_sync_total() RETURNS trigger LANGUAGE plpgsql AS $$
//! BEGIN
//!   IF TG_OP = 'INSERT' THEN
//!     NEW.total_bigint := COALESCE(NEW.total_bigint, NEW.total);
//!     NEW.total := COALESCE(NEW.total, NEW.total_bigint);
//!   ELSIF NEW.total IS DISTINCT FROM OLD.total THEN
//!     NEW.total_bigint := NEW.total;
//!   ELSIF NEW.total_bigint IS DISTINCT FROM OLD.total_bigint THEN
//!     NEW.total := NEW.total_bigint;
//!   END IF;
//!   RETURN NEW;
//! END $$;
//! CREATE TRIGGER orders_sync_total BEFORE INSERT OR UPDATE ON orders
//!     FOR EACH ROW EXECUTE FUNCTION orders_sync_total();
//! UPDATE orders SET total_bigint = total WHERE id BETWEEN 1 AND 10000; -- repeat in batches
//!
//! -- 20240108120000_drop_orders_total.up.sql
//! -- straddle: contract 20240101120000
//! DROP TRIGGER orders_sync_total ON orders;
//! DROP FUNCTION orders_sync_total();
//! -- straddle:allow drop-column -- kept in sync with total_bigint since 20240101120000
//! ALTER TABLE orders DROP COLUMN total;
//! ```
//!
//! **Example.**
//!
//! ```sql
//! ALTER TABLE orders ALTER COLUMN total TYPE bigint;          -- flagged: was integer
//! ALTER TABLE orders ALTER COLUMN note TYPE varchar(500);     -- fine: was varchar(200)
//! ```
//!
//! Tables created, and columns added, earlier in the same migration are not
//! checked: no running version knows them yet. When straddle does not know the
//! column's previous type, the change is flagged.

use crate::lint::{Rule, RuleMeta, StatementCx};
use crate::schema::types::{TypeChange, type_changes, verdict};
use crate::{Category, Finding, Severity};

pub struct ChangeColumnType;

static META: RuleMeta = RuleMeta {
    id: "change-column-type",
    category: Category::BackwardIncompatible,
    severity: Severity::Error,
    summary: "changing a column's type breaks the application version that is still running",
    why: "the running version keeps writing values the new type may reject and reading values it may interpret differently",
    dialects: &[],
};

impl Rule for ChangeColumnType {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_statement(&self, cx: &StatementCx<'_>, out: &mut Vec<Finding>) {
        let Some(ast) = cx.statement.ast() else {
            return;
        };
        for site in type_changes(ast) {
            if !cx.existed_before(&site.table) {
                continue;
            }
            let column = cx.catalog.column(&site.table, &site.column);
            if column.is_some_and(|c| c.created_by == cx.version()) {
                continue;
            }
            let (table, name, to) = (&site.table, &site.column, site.to);
            let message = match column.and_then(|c| c.data_type.as_ref()) {
                Some(from) => {
                    let judged = verdict(cx.dialect(), from, to);
                    match judged.kind {
                        TypeChange::Same | TypeChange::Safe => continue,
                        TypeChange::Lossy | TypeChange::Unknown => format!(
                            "changing `{table}.{name}` from {from} to {to} breaks the running version: \
                             it may write values the new type rejects ({})",
                            judged.reason
                        ),
                        TypeChange::Rewrite => format!(
                            "changing `{table}.{name}` from {from} to {to} breaks the running version: \
                             it reads and writes the column as {from}"
                        ),
                    }
                }
                None => format!(
                    "changing the type of `{table}.{name}` to {to} breaks the running version, which \
                     still uses the previous type (unknown to straddle)"
                ),
            };
            out.push(cx.finding(
                self,
                message,
                format!(
                    "expand: `ALTER TABLE {table} ADD COLUMN {name}_new {to};` plus a trigger that keeps it in \
                     sync and a batched backfill; ship the app that uses `{name}_new`; contract: drop the \
                     trigger and `{name}` (`straddle new --change-type {table}.{name} '{to}'` writes both)"
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
        check_fixture("change-column-type");
    }
}
