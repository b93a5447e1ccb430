//! # stored-generated-column
//!
//! **What it does.** Flags `ALTER TABLE … ADD COLUMN … GENERATED ALWAYS AS
//! (…) STORED` on a table that existed before this migration.
//!
//! **Why it is dangerous.** A stored generated column holds a computed value
//! in every row, so PostgreSQL rewrites the whole table to compute it, under
//! an `ACCESS EXCLUSIVE` lock that blocks every read and write until the
//! rewrite ends. There is no `NOT VALID`-style escape: the rewrite is the
//! only way the column can be added.
//!
//! **Safe alternative.** Use a plain column kept up to date by a trigger, and
//! fill the old rows in batches:
//!
//! ```sql
//! ALTER TABLE users ADD COLUMN search_name text;
//!
//! CREATE FUNCTION users_search_name() RETURNS trigger LANGUAGE plpgsql AS $$
//! BEGIN
//!   NEW.search_name := lower(NEW.first_name || ' ' || NEW.last_name);
//!   RETURN NEW;
//! END $$;
//! CREATE TRIGGER users_search_name BEFORE INSERT OR UPDATE ON users
//!   FOR EACH ROW EXECUTE FUNCTION users_search_name();
//!
//! -- later, in batches, each in its own transaction:
//! UPDATE users SET search_name = lower(first_name || ' ' || last_name)
//! WHERE id IN (SELECT id FROM users WHERE search_name IS NULL LIMIT 10000);
//! ```
//!
//! Where only reads need the value, a view or an expression index
//! (`CREATE INDEX CONCURRENTLY … ((lower(…)))`) avoids storing it at all.
//!
//! **Example.**
//!
//! ```sql
//! ALTER TABLE users
//!   ADD COLUMN search_name text
//!   GENERATED ALWAYS AS (lower(first_name || ' ' || last_name)) STORED; -- flagged
//! ```
//!
//! A table created earlier in the same migration is exempt. On MySQL and
//! MariaDB the same change is reported by `mysql-copying-alter`.

use sqlparser::ast::{AlterTableOperation, ColumnOption, GeneratedAs, GeneratedExpressionMode};

use crate::lint::{Rule, RuleMeta, StatementCx};
use crate::sql::ident_key;
use crate::{Category, Finding, Severity};

pub struct StoredGeneratedColumn;

static META: RuleMeta = RuleMeta {
    id: "stored-generated-column",
    category: Category::Locking,
    severity: Severity::Error,
    summary: "adding a stored generated column rewrites the table under an exclusive lock",
    why: "PostgreSQL computes the value for every existing row in a full table rewrite that blocks all reads and writes",
    dialects: &[crate::Dialect::Postgres],
};

/// The generation expression of a stored generated column.
pub(crate) fn stored_generation(options: &[ColumnOption]) -> Option<String> {
    options.iter().find_map(|option| match option {
        ColumnOption::Generated {
            generated_as,
            generation_expr: Some(expr),
            generation_expr_mode,
            ..
        } if *generated_as == GeneratedAs::ExpStored
            || *generation_expr_mode == Some(GeneratedExpressionMode::Stored) =>
        {
            Some(expr.to_string())
        }
        _ => None,
    })
}

impl Rule for StoredGeneratedColumn {
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
            let options: Vec<ColumnOption> = column_def
                .options
                .iter()
                .map(|o| o.option.clone())
                .collect();
            let Some(expr) = stored_generation(&options) else {
                continue;
            };
            let column = ident_key(&column_def.name);
            let data_type = &column_def.data_type;
            out.push(cx.finding(
                self,
                format!(
                    "adding the stored generated column `{column}` rewrites all of `{table}` under an \
                     ACCESS EXCLUSIVE lock to compute `{expr}` for every row"
                ),
                format!(
                    "add a plain column instead (`ALTER TABLE {table} ADD COLUMN {column} {data_type};`), keep it \
                     filled with a BEFORE INSERT OR UPDATE trigger that sets `NEW.{column} := {expr}`, and backfill \
                     the existing rows in batches, each in its own transaction"
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
        check_fixture("stored-generated-column");
    }
}
