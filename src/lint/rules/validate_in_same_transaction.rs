//! # validate-in-same-transaction
//!
//! **What it does.** Flags `ALTER TABLE … VALIDATE CONSTRAINT c` that runs in
//! the same transaction as the `ADD CONSTRAINT c … NOT VALID` earlier in the
//! same file, with no `COMMIT` between them (PostgreSQL), on a table that
//! existed before this migration.
//!
//! **Why it is dangerous.** `NOT VALID` followed by `VALIDATE CONSTRAINT` is
//! the safe way to add a constraint only when the two run in different
//! transactions. `VALIDATE` on its own needs just a SHARE UPDATE EXCLUSIVE
//! lock, which lets reads and writes go on during its scan; but the `ADD`
//! took a stronger lock (ACCESS EXCLUSIVE for a CHECK, SHARE ROW EXCLUSIVE
//! on both tables for a foreign key), and a transaction keeps its locks
//! until it ends. Validating in the same transaction therefore scans the
//! whole table under the strong lock, exactly what `NOT VALID` was meant to
//! avoid.
//!
//! **Safe alternative.** Commit the `NOT VALID` constraint first and
//! validate it in the next migration:
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
//! **Example.**
//!
//! ```sql
//! ALTER TABLE orders ADD CONSTRAINT orders_amount_check CHECK (amount >= 0) NOT VALID;
//! ALTER TABLE orders VALIDATE CONSTRAINT orders_amount_check; -- flagged: same transaction
//! ```
//!
//! Under sqlx or diesel (`[lint] runner = "sqlx"`), a `-- no-transaction`
//! migration is no way out: the file reaches PostgreSQL as one query, which
//! runs as one implicit transaction, so the two statements still share it;
//! only a `COMMIT` between them, or a separate migration, ends the lock.
//! `straddle migrate` does the opposite: it runs a `-- no-transaction`
//! migration one statement at a time, each committed on its own, so there the
//! pair is safe in one file; but it skips the `BEGIN` and `COMMIT` written in
//! a file, so in a transactional migration a `COMMIT` between them does not
//! help. A table created earlier in the same migration is not flagged.

use sqlparser::ast::{AlterTableOperation, Ident, Statement as Ast, TableConstraint};

use crate::dialect::Dialect;
use crate::lint::{Rule, RuleMeta, StatementCx};
use crate::sql::{ident_key, object_key};
use crate::{Category, Finding, Severity};

pub struct ValidateInSameTransaction;

static META: RuleMeta = RuleMeta {
    id: "validate-in-same-transaction",
    category: Category::Locking,
    severity: Severity::Warning,
    summary: "VALIDATE CONSTRAINT in the same transaction that added the constraint NOT VALID",
    why: "the transaction still holds the strong lock taken by ADD CONSTRAINT, so the validation scan blocks the table",
    dialects: &[Dialect::Postgres],
};

fn constraint_name(constraint: &TableConstraint) -> Option<&Ident> {
    match constraint {
        TableConstraint::ForeignKey(c) => c.name.as_ref(),
        TableConstraint::Check(c) => c.name.as_ref(),
        TableConstraint::Unique(c) => c.name.as_ref(),
        TableConstraint::PrimaryKey(c) => c.name.as_ref(),
        TableConstraint::Exclude(c) => c.name.as_ref(),
        _ => None,
    }
}

/// A `NOT VALID` constraint named `name` added to `table` by one of
/// `operations`.
fn added_not_valid<'a>(
    operations: &'a [AlterTableOperation],
    name: &str,
) -> Option<&'a TableConstraint> {
    operations.iter().find_map(|operation| match operation {
        AlterTableOperation::AddConstraint {
            constraint,
            not_valid: true,
        } if constraint_name(constraint).map(ident_key).as_deref() == Some(name) => {
            Some(constraint)
        }
        _ => None,
    })
}

impl Rule for ValidateInSameTransaction {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_statement(&self, cx: &StatementCx<'_>, out: &mut Vec<Finding>) {
        let Some(Ast::AlterTable(alter)) = cx.statement.ast() else {
            return;
        };
        let table = object_key(&alter.name);
        // `straddle migrate` skips the BEGIN and COMMIT written in a file: it
        // commits each statement of a `-- no-transaction` migration on its
        // own, and runs any other migration as one transaction. sqlx and
        // diesel send the file as it is, so its COMMITs do end a transaction.
        let straddle = cx.options.runner.splits_statements();
        if table.is_empty() || !cx.existed_before(&table) || cx.statement_by_statement() {
            return;
        }
        for (i, operation) in alter.operations.iter().enumerate() {
            let AlterTableOperation::ValidateConstraint { name } = operation else {
                continue;
            };
            let name = ident_key(name);
            // The same statement first, then the earlier statements back to
            // the start of the transaction.
            let mut found: Option<(&TableConstraint, Option<usize>)> =
                added_not_valid(&alter.operations[..i], &name).map(|c| (c, None));
            let mut commit_skipped = false;
            if found.is_none() {
                for earlier in cx.earlier().iter().rev() {
                    match earlier.ast() {
                        Some(Ast::Commit { .. }) if straddle => commit_skipped = true,
                        Some(Ast::Commit { .. } | Ast::Rollback { .. }) => break,
                        Some(Ast::AlterTable(add)) if object_key(&add.name) == table => {
                            if let Some(c) = added_not_valid(&add.operations, &name) {
                                found = Some((c, Some(earlier.span.start.line)));
                                break;
                            }
                        }
                        _ => {}
                    }
                }
            }
            let Some((constraint, line)) = found else {
                continue;
            };
            let lock = match constraint {
                TableConstraint::ForeignKey(fk) => format!(
                    "the SHARE ROW EXCLUSIVE locks on `{table}` and `{}` that block their writes",
                    object_key(&fk.foreign_table)
                ),
                _ => format!("the ACCESS EXCLUSIVE lock that blocks every query on `{table}`"),
            };
            let at = match line {
                Some(line) => format!(" (line {line})"),
                None => String::new(),
            };
            let how = if commit_skipped {
                "; `straddle migrate` runs this migration as one transaction and skips the \
                 COMMIT written in it"
            } else if cx.in_transaction || straddle {
                ""
            } else {
                "; a `-- no-transaction` file reaches PostgreSQL as one query, run as one \
                 implicit transaction"
            };
            out.push(cx.finding(
                self,
                format!(
                    "`VALIDATE CONSTRAINT {name}` runs in the same transaction that added it NOT \
                     VALID{at}{how}, so its scan of `{table}` happens under {lock}"
                ),
                format!(
                    "move `ALTER TABLE {} VALIDATE CONSTRAINT {name};` into the next migration, \
                     so that it runs after the NOT VALID constraint is committed",
                    alter.name
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
        check_fixture("validate-in-same-transaction");
    }
}
