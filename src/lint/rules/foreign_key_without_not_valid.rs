//! # foreign-key-without-not-valid
//!
//! **What it does.** Flags `ALTER TABLE … ADD [CONSTRAINT …] FOREIGN KEY`
//! without `NOT VALID` on a table that existed before this migration
//! (PostgreSQL). It also flags `ADD COLUMN … REFERENCES …` when the new
//! column has a `DEFAULT`, because that default makes PostgreSQL check every
//! row too.
//!
//! **Why it is dangerous.** Adding a valid foreign key makes PostgreSQL read
//! the whole referencing table to prove that every row has its parent. During
//! that scan it holds SHARE ROW EXCLUSIVE locks on both tables, so every
//! `INSERT`, `UPDATE` and `DELETE` on the child *and* on the parent table
//! waits until the check ends (and, in a transactional migration, until the
//! commit).
//!
//! **Safe alternative.** Add the constraint `NOT VALID`: PostgreSQL then
//! enforces it for new and changed rows at once, with only a brief lock, and
//! skips the check of existing rows. Validate it in a later migration:
//! `VALIDATE CONSTRAINT` scans under a SHARE UPDATE EXCLUSIVE lock, which
//! lets reads and writes go on.
//!
//! ```sql
//! -- 20240101120000_orders_user_fk.up.sql
//! ALTER TABLE orders ADD CONSTRAINT orders_user_id_fkey
//!     FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;
//!
//! -- 20240101120100_validate_orders_user_fk.up.sql
//! ALTER TABLE orders VALIDATE CONSTRAINT orders_user_id_fkey;
//! ```
//!
//! Name the constraint, so that the later migration can validate it.
//!
//! `ADD COLUMN user_id bigint REFERENCES users (id)` *without* a default is
//! not flagged: the new column holds only NULLs, which a foreign key accepts,
//! so PostgreSQL knows there is nothing to check and skips the scan. The
//! statement still takes its locks (ACCESS EXCLUSIVE on the table, SHARE ROW
//! EXCLUSIVE on the referenced one), but only for an instant.
//!
//! **Example.**
//!
//! ```sql
//! ALTER TABLE orders ADD CONSTRAINT orders_user_id_fkey
//!     FOREIGN KEY (user_id) REFERENCES users (id); -- flagged: scans orders, blocks writes to orders and users
//! ```
//!
//! A foreign key on a table created earlier in the same migration is not
//! flagged: the table is new and empty.

use sqlparser::ast::{
    AlterTableOperation, ColumnOption, ForeignKeyConstraint, Ident, TableConstraint,
};

use crate::dialect::Dialect;
use crate::lint::{Rule, RuleMeta, StatementCx};
use crate::sql::{ident_key, object_key};
use crate::{Category, Finding, Severity};

pub struct ForeignKeyWithoutNotValid;

static META: RuleMeta = RuleMeta {
    id: "foreign-key-without-not-valid",
    category: Category::Locking,
    severity: Severity::Error,
    summary: "adding a foreign key without NOT VALID scans the table while blocking writes to both tables",
    why: "validating existing rows holds SHARE ROW EXCLUSIVE locks on the table and the referenced table for the whole scan",
    dialects: &[Dialect::Postgres],
};

/// The name PostgreSQL would give the constraint: `<table>_<cols>_fkey`.
fn default_name(table: &str, columns: &[Ident]) -> String {
    let table = table.rsplit('.').next().unwrap_or(table);
    let mut name = table.to_string();
    for column in columns {
        name.push('_');
        name.push_str(&ident_key(column));
    }
    name.push_str("_fkey");
    name
}

/// The safe two-step SQL for `fk` on `table_sql`, naming it if it has no name.
fn safe_sql(table_sql: &str, table: &str, fk: &ForeignKeyConstraint) -> (String, String) {
    let mut fk = fk.clone();
    let name = match &fk.name {
        Some(name) => name.clone(),
        None => Ident::new(default_name(table, &fk.columns)),
    };
    fk.name = Some(name.clone());
    (
        format!("ALTER TABLE {table_sql} ADD {fk} NOT VALID;"),
        format!("ALTER TABLE {table_sql} VALIDATE CONSTRAINT {name};"),
    )
}

impl Rule for ForeignKeyWithoutNotValid {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_statement(&self, cx: &StatementCx<'_>, out: &mut Vec<Finding>) {
        let Some((alter, table)) = cx.alter_existing() else {
            return;
        };
        let table_sql = if alter.only {
            format!("ONLY {}", alter.name)
        } else {
            alter.name.to_string()
        };
        for operation in &alter.operations {
            match operation {
                AlterTableOperation::AddConstraint {
                    constraint: TableConstraint::ForeignKey(fk),
                    not_valid: false,
                } => {
                    let parent = object_key(&fk.foreign_table);
                    let (add, validate) = safe_sql(&table_sql, &table, fk);
                    out.push(cx.finding(
                        self,
                        format!(
                            "adding a foreign key on `{table}` without NOT VALID checks every row \
                             of `{table}` while blocking writes to `{table}` and `{parent}`"
                        ),
                        format!(
                            "add it with `{add}` and validate it in a later migration with \
                             `{validate}`"
                        ),
                    ));
                }
                AlterTableOperation::AddColumn { column_def, .. } => {
                    let has_default = column_def
                        .options
                        .iter()
                        .any(|o| matches!(o.option, ColumnOption::Default(_)));
                    if !has_default {
                        continue;
                    }
                    for option in &column_def.options {
                        let ColumnOption::ForeignKey(fk) = &option.option else {
                            continue;
                        };
                        let column = ident_key(&column_def.name);
                        let parent = object_key(&fk.foreign_table);
                        let mut fk = fk.clone();
                        fk.columns = vec![column_def.name.clone()];
                        if fk.name.is_none() {
                            fk.name = option.name.clone();
                        }
                        let (add, validate) = safe_sql(&table_sql, &table, &fk);
                        out.push(cx.finding(
                            self,
                            format!(
                                "`{table}.{column}` gets a DEFAULT and a REFERENCES clause at once, \
                                 so PostgreSQL checks every row of `{table}` while `{table}` is \
                                 locked against all access and `{parent}` against writes"
                            ),
                            format!(
                                "add the column without REFERENCES, then `{add}`, and validate it \
                                 in a later migration with `{validate}`"
                            ),
                        ));
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
        check_fixture("foreign-key-without-not-valid");
    }
}
