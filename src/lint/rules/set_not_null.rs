//! # set-not-null
//!
//! **What it does.** Flags `ALTER TABLE … ALTER COLUMN c SET NOT NULL`, and
//! MySQL's `MODIFY`/`CHANGE` that makes NOT NULL a column the catalog knows
//! as nullable, on a table that existed before this migration.
//!
//! **Why it is dangerous.** This rule is about the application version still
//! running during the rollout: it was written for a nullable column, so some
//! of its INSERTs and UPDATEs write NULL there, or leave the column out. From
//! the moment the migration runs, those writes fail. (A column added in this
//! same migration is unknown to the running version, so only its leaving the
//! column out matters: a default avoids that.) The lock and the full scan
//! that PostgreSQL's `SET NOT NULL` takes are another rule's business.
//!
//! **Safe alternative.** Make every running version write a value first. In
//! an expand, give the column a default and backfill the existing NULLs in
//! batches; ship the app that always sets the column; set NOT NULL in a
//! contract after the rollout. On PostgreSQL the contract proves the column
//! with a check first, so that `SET NOT NULL` skips its full scan (see
//! `set-not-null-full-scan`); `straddle new --set-not-null users.locale`
//! writes such a contract:
//!
//! ```sql
//! -- 20240101120000_users_locale_default.up.sql
//! -- straddle: expand
//! ALTER TABLE users ALTER COLUMN locale SET DEFAULT 'en';
//! -- repeated until it updates no row (MySQL: UPDATE users SET locale = 'en'
//! -- WHERE locale IS NULL LIMIT 10000)
//! UPDATE users SET locale = 'en'
//!   WHERE id IN (SELECT id FROM users WHERE locale IS NULL LIMIT 10000);
//!
//! -- 20240108120000_users_locale_not_null.up.sql
//! -- no-transaction
//! -- straddle: contract 20240101120000
//! ALTER TABLE users ADD CONSTRAINT users_locale_not_null CHECK (locale IS NOT NULL) NOT VALID;
//! ALTER TABLE users VALIDATE CONSTRAINT users_locale_not_null;
//! ALTER TABLE users ALTER COLUMN locale SET NOT NULL;
//! ALTER TABLE users DROP CONSTRAINT users_locale_not_null;
//! ```
//!
//! (`straddle migrate` commits each statement of a `-- no-transaction`
//! migration on its own; under sqlx or diesel the `NOT VALID` check goes in
//! an earlier migration, as `set-not-null-full-scan` shows.)
//!
//! **Example.**
//!
//! ```sql
//! ALTER TABLE users ALTER COLUMN locale SET NOT NULL; -- flagged
//! ALTER TABLE users MODIFY locale varchar(8) NOT NULL; -- flagged (MySQL), when locale was nullable
//! ```

use sqlparser::ast::{AlterColumnOperation, AlterTableOperation, ColumnOption, Ident};

use crate::lint::{Rule, RuleMeta, StatementCx};
use crate::sql::ident_key;
use crate::{Category, Finding, Severity};

pub struct SetNotNull;

static META: RuleMeta = RuleMeta {
    id: "set-not-null",
    category: Category::BackwardIncompatible,
    severity: Severity::Error,
    summary: "making a column NOT NULL breaks the running version's writes of NULL",
    why: "the running app was written for a nullable column: its INSERTs and UPDATEs that write NULL or leave the column out fail",
    dialects: &[],
};

fn makes_not_null(options: &[ColumnOption]) -> bool {
    options
        .iter()
        .any(|o| matches!(o, ColumnOption::NotNull | ColumnOption::PrimaryKey(_)))
}

fn has_default(options: &[ColumnOption]) -> bool {
    options.iter().any(|o| {
        matches!(o, ColumnOption::Default(e) if !e.to_string().trim().eq_ignore_ascii_case("NULL"))
    })
}

impl SetNotNull {
    /// `mysql_redefinition`: the column is redefined by MODIFY/CHANGE, which
    /// only counts when the catalog knows it was nullable; `default_here`:
    /// the same statement gives it a default.
    fn check_one(
        &self,
        cx: &StatementCx<'_>,
        table: &str,
        name: &Ident,
        mysql_redefinition: bool,
        default_here: bool,
        out: &mut Vec<Finding>,
    ) {
        let column = ident_key(name);
        let known = cx.catalog.column(table, &column);
        if known.is_some_and(|c| c.not_null) || (mysql_redefinition && known.is_none()) {
            return;
        }
        let added_here = known.is_some_and(|c| c.created_by == cx.version());
        let message = if added_here {
            // The running version does not know the column: only its
            // leaving it out of INSERTs matters, which a default covers.
            if default_here || known.is_some_and(|c| c.default.is_some()) {
                return;
            }
            format!(
                "`{table}.{column}` becomes NOT NULL without a default: the running app does not \
                 know the column, leaves it out of its INSERTs, and they fail"
            )
        } else {
            format!(
                "`{table}.{column}` becomes NOT NULL while the running app may still write NULL \
                 into it or leave it out of its INSERTs; those writes fail from now on"
            )
        };
        out.push(cx.finding_at(
            self,
            cx.place(name.span.start),
            message,
            format!(
                "in an expand, give `{column}` a default and backfill its NULLs in batches; ship \
                 the app that always sets it; make it NOT NULL in a contract after the rollout"
            ),
        ));
    }
}

impl Rule for SetNotNull {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_statement(&self, cx: &StatementCx<'_>, out: &mut Vec<Finding>) {
        let Some((alter, table)) = cx.alter_existing() else {
            return;
        };
        // Defaults set by this same statement (`ALTER COLUMN c SET DEFAULT …,
        // ALTER COLUMN c SET NOT NULL`).
        let defaults_here: Vec<String> = alter
            .operations
            .iter()
            .filter_map(|op| match op {
                AlterTableOperation::AlterColumn {
                    column_name,
                    op: AlterColumnOperation::SetDefault { .. },
                } => Some(ident_key(column_name)),
                _ => None,
            })
            .collect();
        for operation in &alter.operations {
            match operation {
                AlterTableOperation::AlterColumn {
                    column_name,
                    op: AlterColumnOperation::SetNotNull,
                } => {
                    let default_here = defaults_here.contains(&ident_key(column_name));
                    self.check_one(cx, &table, column_name, false, default_here, out);
                }
                AlterTableOperation::ModifyColumn {
                    col_name, options, ..
                } if makes_not_null(options) => {
                    self.check_one(cx, &table, col_name, true, has_default(options), out);
                }
                AlterTableOperation::ChangeColumn {
                    old_name, options, ..
                } if makes_not_null(options) => {
                    self.check_one(cx, &table, old_name, true, has_default(options), out);
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
        check_fixture("set-not-null");
    }
}
