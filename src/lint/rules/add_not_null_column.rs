//! # add-not-null-column
//!
//! **What it does.** Flags `ALTER TABLE … ADD COLUMN … NOT NULL` (or
//! `PRIMARY KEY`) without a `DEFAULT`, on a table that existed before this
//! migration. Identity, serial, auto-increment and generated columns fill
//! themselves and are not flagged.
//!
//! **Why it is dangerous.** The application version still running during the
//! rollout knows nothing of the new column, so its INSERTs leave it out; with
//! no default to fall back on, every one of them fails. Before that,
//! the migration itself may fail: PostgreSQL and SQLite refuse the column as
//! soon as the table holds a row, and MySQL and MariaDB fill the existing
//! rows with an implicit zero value (`0`, `''`, a zero date) that nobody
//! chose.
//!
//! **Safe alternative.** Give the column a default that suits existing rows
//! and old INSERTs (on PostgreSQL 11 and later a constant default is added
//! without rewriting the table):
//!
//! ```sql
//! ALTER TABLE orders ADD COLUMN currency text NOT NULL DEFAULT 'EUR';
//! ```
//!
//! or add it nullable in the expand and backfill it in batches; ship the app
//! that always sets it; fill the rows the old version inserted meanwhile; and
//! make it `NOT NULL` in a contract. `straddle new --add-column orders.currency
//! text --not-null` writes the pair. On PostgreSQL the contract proves the
//! column with a check first, so that `SET NOT NULL` skips its full scan (see
//! `set-not-null-full-scan`):
//!
//! ```sql
//! -- 20240101120000_orders_currency.up.sql
//! -- straddle: expand
//! ALTER TABLE orders ADD COLUMN currency text;
//! -- backfill, repeated until it updates no row (MySQL: UPDATE orders
//! -- SET currency = 'EUR' WHERE currency IS NULL LIMIT 10000)
//! UPDATE orders SET currency = 'EUR'
//!   WHERE id IN (SELECT id FROM orders WHERE currency IS NULL LIMIT 10000);
//!
//! -- 20240108120000_orders_currency_not_null.up.sql
//! -- no-transaction
//! -- straddle: contract 20240101120000
//! ALTER TABLE orders ADD CONSTRAINT orders_currency_not_null CHECK (currency IS NOT NULL) NOT VALID;
//! ALTER TABLE orders VALIDATE CONSTRAINT orders_currency_not_null;
//! ALTER TABLE orders ALTER COLUMN currency SET NOT NULL;
//! ALTER TABLE orders DROP CONSTRAINT orders_currency_not_null;
//! ```
//!
//! (`straddle migrate` commits each statement of a `-- no-transaction`
//! migration on its own; under sqlx or diesel, put the `NOT VALID` check in a
//! migration of its own, as `set-not-null-full-scan` shows.)
//!
//! **Example.**
//!
//! ```sql
//! ALTER TABLE orders ADD COLUMN currency text NOT NULL; -- flagged
//! ```

use sqlparser::ast::{AlterTableOperation, ColumnDef, ColumnOption, DataType};
use sqlparser::tokenizer::Token;

use crate::dialect::Dialect;
use crate::lint::{Rule, RuleMeta, StatementCx};
use crate::sql::ident_key;
use crate::{Category, Finding, Severity};

pub struct AddNotNullColumn;

static META: RuleMeta = RuleMeta {
    id: "add-not-null-column",
    category: Category::BackwardIncompatible,
    severity: Severity::Error,
    summary: "adding a NOT NULL column without a default breaks the running version's INSERTs",
    why: "the running app leaves the new column out of its INSERTs, which fail without a default; on a table with rows the ALTER itself may fail",
    dialects: &[],
};

fn is_null(expr: &sqlparser::ast::Expr) -> bool {
    expr.to_string().trim().eq_ignore_ascii_case("NULL")
}

/// A column that fills itself: serial types, identity, auto-increment,
/// generated (computed) columns.
fn fills_itself(def: &ColumnDef) -> bool {
    let serial = match &def.data_type {
        DataType::Custom(name, _) => name.0.last().and_then(|p| p.as_ident()).is_some_and(|i| {
            matches!(
                i.value.to_ascii_lowercase().as_str(),
                "serial" | "serial2" | "serial4" | "serial8" | "smallserial" | "bigserial"
            )
        }),
        _ => false,
    };
    serial
        || def.options.iter().any(|o| match &o.option {
            ColumnOption::Generated { .. }
            | ColumnOption::Identity(_)
            | ColumnOption::Materialized(_)
            | ColumnOption::Alias(_) => true,
            ColumnOption::DialectSpecific(tokens) => tokens.iter().any(|t| {
                matches!(t, Token::Word(w)
                    if w.value.eq_ignore_ascii_case("AUTO_INCREMENT")
                        || w.value.eq_ignore_ascii_case("AUTOINCREMENT"))
            }),
            _ => false,
        })
}

impl Rule for AddNotNullColumn {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_statement(&self, cx: &StatementCx<'_>, out: &mut Vec<Finding>) {
        let Some((alter, table)) = cx.alter_existing() else {
            return;
        };
        for operation in &alter.operations {
            let AlterTableOperation::AddColumn { column_def, .. } = operation else {
                continue;
            };
            let required = column_def.options.iter().any(|o| {
                matches!(
                    o.option,
                    ColumnOption::NotNull | ColumnOption::PrimaryKey(_)
                )
            });
            let has_default = column_def
                .options
                .iter()
                .any(|o| matches!(&o.option, ColumnOption::Default(e) if !is_null(e)));
            if !required || has_default || fills_itself(column_def) {
                continue;
            }
            let column = ident_key(&column_def.name);
            let data_type = column_def.data_type.to_string();
            let outcome = match cx.dialect() {
                Dialect::Postgres => "; PostgreSQL also refuses to add it while the table has rows",
                Dialect::Mysql => {
                    "; MySQL fills the existing rows with an implicit zero value nobody chose"
                }
                Dialect::Sqlite => "; SQLite also refuses to add it while the table has rows",
            };
            out.push(cx.finding_at(
                self,
                cx.place(column_def.name.span.start),
                format!(
                    "`{table}.{column}` is added NOT NULL without a DEFAULT: the running app's \
                     INSERTs leave it out and fail{outcome}"
                ),
                format!(
                    "give it a default (`ALTER TABLE {table} ADD COLUMN {column} {data_type} NOT \
                     NULL DEFAULT …`), or add it nullable in the expand, backfill it in batches, \
                     and set NOT NULL in a contract once every running version writes it"
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
        check_fixture("add-not-null-column");
    }
}
