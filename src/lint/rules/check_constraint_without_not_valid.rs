//! # check-constraint-without-not-valid
//!
//! **What it does.** Flags `ALTER TABLE … ADD [CONSTRAINT …] CHECK (…)`
//! without `NOT VALID` on a table that existed before this migration
//! (PostgreSQL), and `ADD COLUMN … CHECK (…)`, which PostgreSQL validates
//! the same way.
//!
//! **Why it is dangerous.** Adding a valid CHECK constraint makes PostgreSQL
//! read every row of the table to prove the condition, and it does so while
//! holding the ACCESS EXCLUSIVE lock that `ALTER TABLE` took: no query, not
//! even a `SELECT`, can touch the table until the scan ends (and, in a
//! transactional migration, until the commit). Even a check on a column
//! that was just added, and so holds only NULLs, costs a full scan.
//!
//! **Safe alternative.** Add the constraint `NOT VALID`: it is enforced for
//! new and changed rows at once and the statement is instant. Validate it in
//! a later migration: `VALIDATE CONSTRAINT` scans under a SHARE UPDATE
//! EXCLUSIVE lock, which lets reads and writes go on.
//!
//! ```sql
//! -- 20240101120000_orders_amount_check.up.sql
//! ALTER TABLE orders ADD CONSTRAINT orders_amount_check CHECK (amount >= 0) NOT VALID;
//!
//! -- 20240101120100_validate_orders_amount_check.up.sql
//! ALTER TABLE orders VALIDATE CONSTRAINT orders_amount_check;
//! ```
//!
//! For a new column, add the column first, then the constraint as above.
//! Name the constraint, so that the later migration can validate it.
//!
//! **Example.**
//!
//! ```sql
//! ALTER TABLE orders ADD CONSTRAINT orders_amount_check CHECK (amount >= 0); -- flagged
//! ```
//!
//! A check on a table created earlier in the same migration is not flagged,
//! nor a `NOT ENFORCED` one (PostgreSQL 18), which checks nothing.

use sqlparser::ast::{AlterTableOperation, CheckConstraint, ColumnOption, Ident, TableConstraint};

use crate::dialect::Dialect;
use crate::lint::{Rule, RuleMeta, StatementCx};
use crate::sql::ident_key;
use crate::{Category, Finding, Severity};

pub struct CheckConstraintWithoutNotValid;

static META: RuleMeta = RuleMeta {
    id: "check-constraint-without-not-valid",
    category: Category::Locking,
    severity: Severity::Error,
    summary: "adding a CHECK constraint without NOT VALID scans the table under an ACCESS EXCLUSIVE lock",
    why: "every row is checked while the table is locked against all reads and writes",
    dialects: &[Dialect::Postgres],
};

/// The safe two-step SQL for `check` on `table_sql`, named `fallback` if it
/// has no name.
fn safe_sql(table_sql: &str, check: &CheckConstraint, fallback: String) -> (String, String) {
    let mut check = check.clone();
    let name = check.name.clone().unwrap_or_else(|| Ident::new(fallback));
    check.name = Some(name.clone());
    (
        format!("ALTER TABLE {table_sql} ADD {check} NOT VALID;"),
        format!("ALTER TABLE {table_sql} VALIDATE CONSTRAINT {name};"),
    )
}

impl Rule for CheckConstraintWithoutNotValid {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_statement(&self, cx: &StatementCx<'_>, out: &mut Vec<Finding>) {
        let Some((alter, table)) = cx.alter_existing() else {
            return;
        };
        let short = table.rsplit('.').next().unwrap_or(&table).to_string();
        let table_sql = if alter.only {
            format!("ONLY {}", alter.name)
        } else {
            alter.name.to_string()
        };
        for operation in &alter.operations {
            match operation {
                AlterTableOperation::AddConstraint {
                    constraint: TableConstraint::Check(check),
                    not_valid: false,
                } if check.enforced != Some(false) => {
                    let (add, validate) = safe_sql(&table_sql, check, format!("{short}_check"));
                    out.push(cx.finding(
                        self,
                        format!(
                            "adding `CHECK ({})` to `{table}` without NOT VALID scans every row \
                             while `{table}` is locked against all reads and writes",
                            check.expr
                        ),
                        format!(
                            "add it with `{add}` and validate it in a later migration with \
                             `{validate}`"
                        ),
                    ));
                }
                AlterTableOperation::AddColumn { column_def, .. } => {
                    let column = ident_key(&column_def.name);
                    for option in &column_def.options {
                        let ColumnOption::Check(check) = &option.option else {
                            continue;
                        };
                        if check.enforced == Some(false) {
                            continue;
                        }
                        let mut check = check.clone();
                        if check.name.is_none() {
                            check.name = option.name.clone();
                        }
                        let (add, validate) =
                            safe_sql(&table_sql, &check, format!("{short}_{column}_check"));
                        out.push(cx.finding(
                            self,
                            format!(
                                "the CHECK on new column `{table}.{column}` is validated at once: \
                                 PostgreSQL scans every row while `{table}` is locked against all \
                                 reads and writes"
                            ),
                            format!(
                                "add the column without the CHECK, then `{add}`, and validate it \
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
        check_fixture("check-constraint-without-not-valid");
    }
}
