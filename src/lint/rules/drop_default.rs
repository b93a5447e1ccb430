//! # drop-default
//!
//! **What it does.** Flags `ALTER TABLE … ALTER COLUMN c DROP DEFAULT` on a
//! NOT NULL column (or one the catalog does not know) of a table that existed
//! before this migration, and MySQL's `MODIFY`/`CHANGE` that redefines a NOT
//! NULL column with a default and leaves the default out (MySQL rebuilds the
//! column from the new definition, so the default is gone).
//!
//! **Why it is dangerous.** The application version still running during the
//! rollout may leave the column out of its INSERTs and rely on the default to
//! fill it. Once the default is gone those INSERTs put NULL into a NOT NULL
//! column, and fail (MySQL and MariaDB outside strict SQL mode store an
//! implicit zero value instead, with only a warning). The pattern some frameworks generate, adding a column
//! `NOT NULL DEFAULT x` and dropping the default right after, is caught too:
//! the running version does not know the new column at all, so every one of
//! its INSERTs leaves it out.
//!
//! **Safe alternative.** Keep the default while any running version relies
//! on it: ship the app that always sets the column, then drop the default in
//! a contract after the rollout.
//!
//! ```sql
//! -- straddle: expand
//! ALTER TABLE orders ADD COLUMN currency text NOT NULL DEFAULT 'EUR';
//!
//! -- straddle: contract 20240101120000
//! ALTER TABLE orders ALTER COLUMN currency DROP DEFAULT;
//! ```
//!
//! **Example.**
//!
//! ```sql
//! ALTER TABLE orders ALTER COLUMN status DROP DEFAULT; -- flagged: status is NOT NULL
//! ```
//!
//! Not flagged when the column is nullable (old INSERTs then store NULL, as
//! they would have with a NULL default), or when the table was created in
//! the same migration.

use sqlparser::ast::{AlterColumnOperation, AlterTableOperation, ColumnOption, Ident};

use crate::lint::{Rule, RuleMeta, StatementCx};
use crate::sql::ident_key;
use crate::{Category, Finding, Severity};

pub struct DropDefault;

static META: RuleMeta = RuleMeta {
    id: "drop-default",
    category: Category::BackwardIncompatible,
    severity: Severity::Error,
    summary: "dropping the default of a NOT NULL column breaks the running version's INSERTs",
    why: "the running app's INSERTs that leave the column out relied on the default and fail without it",
    dialects: &[],
};

fn is_real_default(option: &ColumnOption) -> bool {
    matches!(option, ColumnOption::Default(e) if !e.to_string().trim().eq_ignore_ascii_case("NULL"))
}

impl DropDefault {
    fn report(
        &self,
        cx: &StatementCx<'_>,
        table: &str,
        name: &Ident,
        redefinition: bool,
        out: &mut Vec<Finding>,
    ) {
        let how = if redefinition {
            "this redefinition drops"
        } else {
            "dropping"
        };
        let column = ident_key(name);
        let known = cx.catalog.column(table, &column);
        let added_here = known.is_some_and(|c| c.created_by == cx.version());
        let what = if known.is_some() {
            format!("NOT NULL column `{table}.{column}`")
        } else {
            format!("`{table}.{column}` (not known to be nullable, so taken as NOT NULL)")
        };
        let who = if added_here {
            "the running app does not know this new column and leaves it out of every INSERT"
        } else {
            "the running app's INSERTs that leave it out relied on the default"
        };
        out.push(cx.finding_at(
            self,
            cx.place(name.span.start),
            format!("{how} the default of {what}: {who}, and they fail from now on"),
            if redefinition {
                format!(
                    "repeat the column's `DEFAULT …` in the new definition; drop it only in a \
                     contract, after the rollout of the app that always sets `{column}`"
                )
            } else {
                format!(
                    "keep the default while any running version relies on it: ship the app that \
                     always sets `{column}`, then drop the default in a contract after the rollout \
                     (`ALTER TABLE {table} ALTER COLUMN {column} DROP DEFAULT`)"
                )
            },
        ));
    }
}

impl Rule for DropDefault {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_statement(&self, cx: &StatementCx<'_>, out: &mut Vec<Finding>) {
        let Some((alter, table)) = cx.alter_existing() else {
            return;
        };
        // Whether `column` ends this statement NOT NULL: the catalog's
        // answer (unknown counts as NOT NULL), changed by SET/DROP NOT NULL
        // in the same statement.
        let not_null_after = |column: &str| {
            let mut not_null = cx.catalog.column(&table, column).is_none_or(|c| c.not_null);
            for op in &alter.operations {
                if let AlterTableOperation::AlterColumn { column_name, op } = op {
                    if ident_key(column_name) != column {
                        continue;
                    }
                    match op {
                        AlterColumnOperation::SetNotNull => not_null = true,
                        AlterColumnOperation::DropNotNull => not_null = false,
                        _ => {}
                    }
                }
            }
            not_null
        };
        for operation in &alter.operations {
            match operation {
                AlterTableOperation::AlterColumn {
                    column_name,
                    op: AlterColumnOperation::DropDefault,
                } if not_null_after(&ident_key(column_name)) => {
                    self.report(cx, &table, column_name, false, out);
                }
                AlterTableOperation::ModifyColumn {
                    col_name, options, ..
                }
                | AlterTableOperation::ChangeColumn {
                    old_name: col_name,
                    options,
                    ..
                } => {
                    // MySQL rebuilds the column from the new definition: a
                    // default left out is dropped.
                    let had_default = cx
                        .catalog
                        .column(&table, &ident_key(col_name))
                        .and_then(|c| c.default.as_deref())
                        .is_some_and(|d| !d.trim().eq_ignore_ascii_case("NULL"));
                    let not_null = options
                        .iter()
                        .any(|o| matches!(o, ColumnOption::NotNull | ColumnOption::PrimaryKey(_)));
                    let keeps_default = options.iter().any(is_real_default)
                        || options.iter().any(|o| {
                            matches!(o, ColumnOption::DialectSpecific(t)
                                if t.iter().any(|t| t.to_string().eq_ignore_ascii_case("AUTO_INCREMENT")))
                        });
                    if had_default && not_null && !keeps_default {
                        self.report(cx, &table, col_name, true, out);
                    }
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::check_fixture;

    #[test]
    fn fixtures() {
        check_fixture("drop-default");
    }
}
