//! # drop-not-null
//!
//! **What it does.** Flags `ALTER COLUMN c DROP NOT NULL` (MySQL: a
//! `MODIFY`/`CHANGE` that leaves out the `NOT NULL` of a column the schema
//! model knows as required) on a table that existed before this migration.
//!
//! **Why it is dangerous.** The schema change itself is cheap and harmless;
//! what follows is not. Once the column accepts NULL, the new release (or a
//! backfill) starts writing rows without it, and the release still running
//! reads those rows with code that assumes a value: a non-`Option` field in a
//! Rust struct (diesel, sqlx `query_as!`), a non-nullable Kotlin or
//! TypeScript type, a template that calls a method on it. Every such read
//! fails until the old release is gone.
//!
//! **Safe alternative.** Ship the code that copes with NULL first, and relax
//! the column in a contract, once no instance of the old release is left:
//!
//! ```sql
//! -- straddle: contract 20240301090000
//! ALTER TABLE users ALTER COLUMN gh_token DROP NOT NULL;
//! ```
//!
//! Or, when every running version already treats the column as optional,
//! say so: `-- straddle:allow drop-not-null -- users.gh_token is Option<String> since 2.14`.
//!
//! **Example.**
//!
//! ```sql
//! ALTER TABLE versions ALTER COLUMN checksum DROP NOT NULL; -- flagged: old releases read it as always set
//! ```
//!
//! A column added earlier in the same migration, or of a table created in it,
//! is exempt.

use sqlparser::ast::{AlterColumnOperation, AlterTableOperation, ColumnOption, Ident};

use crate::lint::{Rule, RuleMeta, StatementCx};
use crate::sql::ident_key;
use crate::{Category, Finding, Severity};

pub struct DropNotNull;

static META: RuleMeta = RuleMeta {
    id: "drop-not-null",
    category: Category::BackwardIncompatible,
    severity: Severity::Warning,
    summary: "making a required column nullable hands the running version NULLs it may not expect",
    why: "once NULLs are written, the running release's reads that assume a value fail",
    dialects: &[],
};

impl DropNotNull {
    fn report(&self, cx: &StatementCx<'_>, table: &str, column: &Ident, out: &mut Vec<Finding>) {
        let name = ident_key(column);
        // Columns added in this migration are new to every running version.
        if cx
            .catalog
            .column(table, &name)
            .is_some_and(|c| c.created_by == cx.version())
        {
            return;
        }
        out.push(cx.finding_at(
            self,
            cx.place(column.span.start),
            format!(
                "`{table}.{name}` becomes nullable: rows written without it from now on reach the \
                 running release, whose code may read it as always set"
            ),
            format!(
                "ship the release that handles a NULL `{name}` first and relax the column in a \
                 contract after the rollout; if every running version already treats it as \
                 optional, say so with `-- straddle:allow drop-not-null -- <why>`"
            ),
        ));
    }
}

impl Rule for DropNotNull {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_statement(&self, cx: &StatementCx<'_>, out: &mut Vec<Finding>) {
        let Some((alter, table)) = cx.alter_existing() else {
            return;
        };
        for operation in &alter.operations {
            match operation {
                AlterTableOperation::AlterColumn {
                    column_name,
                    op: AlterColumnOperation::DropNotNull,
                } => self.report(cx, &table, column_name, out),
                AlterTableOperation::ModifyColumn {
                    col_name: column,
                    options,
                    ..
                }
                | AlterTableOperation::ChangeColumn {
                    old_name: column,
                    options,
                    ..
                } => {
                    let was_required = cx
                        .catalog
                        .column(&table, &ident_key(column))
                        .is_some_and(|c| c.not_null);
                    let stays_required = options
                        .iter()
                        .any(|o| matches!(o, ColumnOption::NotNull | ColumnOption::PrimaryKey(_)));
                    if was_required && !stays_required {
                        self.report(cx, &table, column, out);
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
        check_fixture("drop-not-null");
    }
}
