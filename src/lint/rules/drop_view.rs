//! # drop-view
//!
//! **What it does.** Flags `DROP VIEW` and `DROP MATERIALIZED VIEW` of a view
//! that existed before this migration, outside a contract.
//!
//! **Why it is dangerous.** A plain view holds no rows, so dropping it loses
//! no data; but every query of the running app that reads it fails from the
//! moment the migration runs. A materialized view also takes its stored rows
//! with it: they can only be recomputed from the source tables, which may
//! take long or may no longer be possible. `CASCADE` drops every view built
//! on this one as well.
//!
//! **Safe alternative.** Keep the view until no running version reads it:
//! ship the app that no longer uses it, then drop it in a contract (plain
//! views need no allow there; a materialized view, or `CASCADE`, needs one).
//! To change a view's definition, drop and recreate it in the same
//! migration, which is not flagged, or use `CREATE OR REPLACE VIEW` when the
//! new definition keeps every existing column (on PostgreSQL: same names,
//! types and order, new columns only at the end):
//!
//! ```sql
//! -- redefining a view in one (transactional) migration
//! DROP VIEW active_users;
//! CREATE VIEW active_users AS SELECT id, email FROM users WHERE deleted_at IS NULL;
//!
//! -- retiring it, after the rollout of the app that no longer reads it
//! -- straddle: contract 20240101120000
//! DROP VIEW active_users;
//! ```
//!
//! **Example.**
//!
//! ```sql
//! DROP MATERIALIZED VIEW daily_totals; -- flagged: its rows go, the app's reads fail
//! ```
//!
//! A view created earlier in the same migration may be dropped freely, and
//! so may one that the same migration replaces with a table of the same
//! name.

use sqlparser::ast::{ObjectType, Statement as Ast};

use crate::lint::{Rule, RuleMeta, StatementCx};
use crate::source::Phase;
use crate::sql::object_key;
use crate::{Category, Finding, Severity};

pub struct DropView;

static META: RuleMeta = RuleMeta {
    id: "drop-view",
    category: Category::DataLoss,
    severity: Severity::Error,
    summary: "dropping a view breaks the running version's reads (and a materialized view loses its rows)",
    why: "the running app's queries against the view fail; a materialized view's rows can only be recomputed",
    dialects: &[],
};

/// Whether a later statement of this migration puts a view, or a table,
/// back under the name `key` (a view redefined, or turned into a table).
fn recreated_later(cx: &StatementCx<'_>, key: &str) -> bool {
    cx.later().iter().any(|s| match s.ast() {
        Some(Ast::CreateView(view)) => object_key(&view.name) == key,
        Some(Ast::CreateTable(table)) => object_key(&table.name) == key,
        _ => false,
    })
}

impl Rule for DropView {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_statement(&self, cx: &StatementCx<'_>, out: &mut Vec<Finding>) {
        let Some(Ast::Drop {
            object_type,
            names,
            cascade,
            ..
        }) = cx.statement.ast()
        else {
            return;
        };
        let materialized = match object_type {
            ObjectType::View => false,
            ObjectType::MaterializedView => true,
            _ => return,
        };
        let contract = matches!(cx.migration.directives.phase, Some(Phase::Contract { .. }));
        for name in names {
            let view = object_key(name);
            if view.is_empty() {
                continue;
            }
            if cx.catalog.views.get(&view).map(String::as_str) == Some(cx.version()) {
                continue;
            }
            // Without CASCADE nothing else goes: recreating the view in the
            // same migration, or dropping a plain view once the old version
            // is gone, harms nobody.
            if !cascade && (recreated_later(cx, &view) || (contract && !materialized)) {
                continue;
            }
            let cascaded = if *cascade {
                ", and CASCADE drops every view built on it too"
            } else {
                ""
            };
            let message = if materialized {
                format!(
                    "`DROP MATERIALIZED VIEW {view}` discards its stored rows (they can only be \
                     recomputed from the source tables) and breaks the running app's queries \
                     that read it{cascaded}"
                )
            } else {
                format!(
                    "`DROP VIEW {view}` loses no rows, but every query of the running app that \
                     reads `{view}` fails from now on{cascaded}"
                )
            };
            out.push(cx.finding(
                self,
                message,
                format!(
                    "to redefine `{view}`, recreate it in this same migration right after the drop \
                     (or use CREATE OR REPLACE when it keeps every existing column); to retire it, ship \
                     the app that no longer reads it and drop it in a contract migration after \
                     the rollout"
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
        check_fixture("drop-view");
    }
}
