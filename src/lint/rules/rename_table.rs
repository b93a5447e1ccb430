//! # rename-table
//!
//! **What it does.** Flags `ALTER TABLE old RENAME TO new` and MySQL's
//! `RENAME TABLE old TO new` of a table that existed before this migration,
//! unless the same migration puts a table or view back under the old name.
//!
//! **Why it is dangerous.** The application version still running during the
//! rollout names the old table in every query; from the moment the migration
//! runs, all of them fail until the last old instance is gone. Renaming after
//! the rollout only moves the breakage to the new version.
//!
//! **Safe alternative.** On PostgreSQL and MySQL, rename the table and, in the
//! same expand, create a view under the old name: a view over a single table
//! with plain columns is updatable, so the old version keeps reading and
//! writing through it. Drop the view in a contract once the new version runs
//! everywhere:
//!
//! ```sql
//! -- straddle: expand
//! ALTER TABLE users RENAME TO accounts;
//! CREATE VIEW users AS SELECT * FROM accounts;
//!
//! -- straddle: contract 20240101120000
//! DROP VIEW users;
//! ```
//!
//! In a transactional PostgreSQL migration the rename and the view take
//! effect together; MySQL commits each DDL statement on its own, so there the
//! old name is missing for the instant between the two. The view shows the
//! columns the table had when it was created: add columns after the
//! contract, or recreate the view.
//!
//! On SQLite, where views are read-only, copy instead: an expand creates the
//! new table, triggers that copy every write of the old one, and a batched
//! backfill; the app moves; a contract drops the old table.
//!
//! **Example.**
//!
//! ```sql
//! ALTER TABLE users RENAME TO accounts; -- flagged: nothing answers to `users` any more
//! RENAME TABLE users TO accounts;       -- flagged (MySQL)
//! ```
//!
//! Not flagged: renaming a table created in the same migration (the SQLite
//! rebuild `CREATE TABLE t_new …; DROP TABLE t; ALTER TABLE t_new RENAME TO
//! t`), and a rename whose old name is taken again in the same migration by
//! a new table or view (a swap such as `RENAME TABLE t TO t_old, t_new TO
//! t`, or the view above).

use sqlparser::ast::{AlterTableOperation, ObjectName, RenameTableNameKind, Statement as Ast};

use crate::dialect::Dialect;
use crate::lint::{Rule, RuleMeta, StatementCx};
use crate::sql::object_key;
use crate::{Category, Finding, Severity};

pub struct RenameTable;

static META: RuleMeta = RuleMeta {
    id: "rename-table",
    category: Category::BackwardIncompatible,
    severity: Severity::Error,
    summary: "renaming a table breaks the version still running during the rollout",
    why: "the running app's queries name the old table and fail as soon as the rename runs",
    dialects: &[],
};

/// The table renames a statement makes, as (old, new) catalog keys.
fn renames(ast: &Ast) -> Vec<(String, String)> {
    match ast {
        Ast::AlterTable(alter) => alter
            .operations
            .iter()
            .filter_map(|op| match op {
                AlterTableOperation::RenameTable { table_name } => {
                    let new = match table_name {
                        RenameTableNameKind::As(n) | RenameTableNameKind::To(n) => n,
                    };
                    Some((object_key(&alter.name), renamed_key(&alter.name, new)))
                }
                _ => None,
            })
            .collect(),
        Ast::RenameTable(list) => list
            .iter()
            .map(|r| (object_key(&r.old_name), object_key(&r.new_name)))
            .collect(),
        _ => Vec::new(),
    }
}

/// The key of the new name; an unqualified new name stays in the old one's
/// schema (as PostgreSQL's `ALTER TABLE s.t RENAME TO u` does).
fn renamed_key(old: &ObjectName, new: &ObjectName) -> String {
    let new_key = object_key(new);
    let old_key = object_key(old);
    match old_key.rsplit_once('.') {
        Some((schema, _)) if new.0.len() == 1 => format!("{schema}.{new_key}"),
        _ => new_key,
    }
}

/// Whether a statement after the rename puts a table (or, where views are
/// updatable, a view) back under `key`.
fn reoccupied(cx: &StatementCx<'_>, key: &str, later_in_statement: &[(String, String)]) -> bool {
    if later_in_statement.iter().any(|(_, new)| new == key) {
        return true;
    }
    let views_updatable = cx.dialect() != Dialect::Sqlite;
    cx.later()
        .iter()
        .filter_map(|s| s.ast())
        .any(|ast| match ast {
            Ast::CreateTable(create) => object_key(&create.name) == key,
            Ast::CreateView(view) => views_updatable && object_key(&view.name) == key,
            other => renames(other).iter().any(|(_, new)| new == key),
        })
}

impl Rule for RenameTable {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_statement(&self, cx: &StatementCx<'_>, out: &mut Vec<Finding>) {
        let Some(ast) = cx.statement.ast() else {
            return;
        };
        let renames = renames(ast);
        for (i, (old, new)) in renames.iter().enumerate() {
            if old.is_empty() || old == new || !cx.existed_before(old) {
                continue;
            }
            if reoccupied(cx, old, &renames[i + 1..]) {
                continue;
            }
            let help = if cx.dialect() == Dialect::Sqlite {
                format!(
                    "SQLite views are read-only: create `{new}` in an expand with triggers that \
                     copy every write of `{old}` and a batched backfill; move the app to `{new}`; \
                     drop `{old}` in a contract"
                )
            } else {
                format!(
                    "in the same expand, keep the old name working with an updatable view \
                     (`CREATE VIEW {old} AS SELECT * FROM {new};`); move the app to `{new}`; drop \
                     the view in a contract after the rollout"
                )
            };
            out.push(cx.finding(
                self,
                format!(
                    "renaming table `{old}` to `{new}` breaks the running app: its queries still \
                     name `{old}` and fail as soon as this runs"
                ),
                help,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::check_fixture;

    #[test]
    fn fixtures() {
        check_fixture("rename-table");
    }
}
