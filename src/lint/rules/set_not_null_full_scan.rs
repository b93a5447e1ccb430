//! # set-not-null-full-scan
//!
//! **What it does.** Flags `ALTER TABLE … ALTER COLUMN c SET NOT NULL` on a
//! table that existed before this migration (PostgreSQL), unless a
//! validated `CHECK (c IS NOT NULL)` constraint already proves that the
//! column holds no NULL.
//!
//! **Why it is dangerous.** To set NOT NULL, PostgreSQL reads every row to
//! make sure none is NULL, and it does so under the ACCESS EXCLUSIVE lock of
//! `ALTER TABLE`: no query, not even a `SELECT`, can touch the table until
//! the scan ends (and, in a transactional migration, until the commit).
//! Since PostgreSQL 12 the scan is skipped when a valid CHECK constraint
//! already implies `c IS NOT NULL`, and that is the way around it.
//!
//! **Safe alternative.** Prove the condition with a check constraint that
//! can be validated without blocking, then let `SET NOT NULL` use it. The
//! `NOT VALID` check rejects new NULLs at once, so backfill the column and
//! make sure that the running version of the app never writes NULL before
//! adding it; then it can go in an expand, and the rest in the contract:
//!
//! ```sql
//! -- 20240101120000_users_email_not_null_check.up.sql
//! -- straddle: expand
//! ALTER TABLE users ADD CONSTRAINT users_email_not_null CHECK (email IS NOT NULL) NOT VALID;
//!
//! -- 20240101120100_users_email_not_null.up.sql
//! -- straddle: contract 20240101120000
//! ALTER TABLE users VALIDATE CONSTRAINT users_email_not_null;  -- scans, but lets reads and writes go on
//! ALTER TABLE users ALTER COLUMN email SET NOT NULL;           -- no scan: the check proves it
//! ALTER TABLE users DROP CONSTRAINT users_email_not_null;      -- redundant now
//! ```
//!
//! Validating in the same transaction as the `SET NOT NULL` is fine: the scan
//! runs under the weak lock of `VALIDATE`, before `SET NOT NULL` takes its
//! strong one. Validating in the same transaction as the `ADD` is not (see
//! `validate-in-same-transaction`), so with sqlx or diesel keep the `ADD` in
//! an earlier migration; `straddle migrate` also accepts all four statements
//! in one `-- no-transaction` migration, where each commits on its own.
//!
//! **Example.**
//!
//! ```sql
//! ALTER TABLE users ALTER COLUMN email SET NOT NULL; -- flagged: full scan under ACCESS EXCLUSIVE
//! ```
//!
//! Not flagged: a table created earlier in the same migration, a column the
//! catalog already knows as NOT NULL, and a column covered by a validated
//! check such as `CHECK (email IS NOT NULL)` (also inside an `AND`), added
//! by an earlier migration or earlier in this one.
//!
//! With `[database] version` below 12 in `straddle.toml`, a validated check
//! does not help (the server scans anyway) and is flagged too; the advice
//! is then to keep the validated check as the guarantee instead of `NOT
//! NULL` until the server is upgraded.

use sqlparser::ast::{
    AlterColumnOperation, AlterTableOperation, BinaryOperator, Expr, UnaryOperator,
};
use sqlparser::parser::Parser;

use crate::dialect::Dialect;
use crate::lint::{Rule, RuleMeta, StatementCx};
use crate::schema::ConstraintKind;
use crate::sql::ident_key;
use crate::{Category, Finding, Severity};

pub struct SetNotNullFullScan;

static META: RuleMeta = RuleMeta {
    id: "set-not-null-full-scan",
    category: Category::Locking,
    severity: Severity::Warning,
    summary: "SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock",
    why: "every row is read to look for NULLs while the table is locked against all reads and writes",
    dialects: &[Dialect::Postgres],
};

/// Whether `expr` names the column `column`.
fn is_column(expr: &Expr, column: &str) -> bool {
    match expr {
        Expr::Identifier(ident) => ident_key(ident) == column,
        Expr::CompoundIdentifier(parts) => parts.last().is_some_and(|p| ident_key(p) == column),
        Expr::Nested(inner) => is_column(inner, column),
        _ => false,
    }
}

/// Whether a (valid) check with this expression proves `column IS NOT NULL`,
/// the way PostgreSQL recognises it.
fn proves_not_null(expr: &Expr, column: &str) -> bool {
    match expr {
        Expr::IsNotNull(inner) => is_column(inner, column),
        Expr::UnaryOp {
            op: UnaryOperator::Not,
            expr,
        } => match strip(expr) {
            Expr::IsNull(inner) => is_column(inner, column),
            _ => false,
        },
        Expr::Nested(inner) => proves_not_null(inner, column),
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => proves_not_null(left, column) || proves_not_null(right, column),
        _ => false,
    }
}

fn strip(expr: &Expr) -> &Expr {
    match expr {
        Expr::Nested(inner) => strip(inner),
        other => other,
    }
}

/// What the catalog knows of a check proving `column` not null: `Some(true)`
/// for a validated one, `Some(false)` (with its name) for one still NOT VALID.
fn known_check(cx: &StatementCx<'_>, table: &str, column: &str) -> Option<(bool, Option<String>)> {
    let dialect = cx.dialect().parser_dialect();
    let mut pending = None;
    for constraint in &cx.catalog.table(table)?.constraints {
        if constraint.kind != ConstraintKind::Check {
            continue;
        }
        let Some(text) = &constraint.check else {
            continue;
        };
        let Ok(expr) = Parser::new(dialect.as_ref())
            .try_with_sql(text)
            .and_then(|mut p| p.parse_expr())
        else {
            continue;
        };
        if !proves_not_null(&expr, column) {
            continue;
        }
        if constraint.validated {
            return Some((true, constraint.name.clone()));
        }
        pending = Some((false, constraint.name.clone()));
    }
    pending
}

/// The name of the known check (or `fallback`), and whether it is validated.
fn check_name(fallback: &str, known: &Option<(bool, Option<String>)>) -> (String, bool) {
    match known {
        Some((validated, name)) => (
            name.clone().unwrap_or_else(|| fallback.to_string()),
            *validated,
        ),
        None => (fallback.to_string(), false),
    }
}

impl Rule for SetNotNullFullScan {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_statement(&self, cx: &StatementCx<'_>, out: &mut Vec<Finding>) {
        let Some((alter, table)) = cx.alter_existing() else {
            return;
        };
        let short = table.rsplit('.').next().unwrap_or(&table).to_string();
        for operation in &alter.operations {
            let AlterTableOperation::AlterColumn {
                column_name,
                op: AlterColumnOperation::SetNotNull,
            } = operation
            else {
                continue;
            };
            let column = ident_key(column_name);
            if cx
                .catalog
                .column(&table, &column)
                .is_some_and(|c| c.not_null)
            {
                continue;
            }
            let t = &alter.name;
            let c = column_name;
            let check = known_check(cx, &table, &column);
            let help = match check {
                _ if cx.options.postgres_older_than(12) => {
                    let version = cx.options.database_version.unwrap_or(0);
                    let fallback = format!("{short}_{column}_not_null");
                    let guard = match check_name(&fallback, &check) {
                        (name, true) => format!("the validated check `{name}` already guards it"),
                        (name, false) => format!(
                            "guard it with `ALTER TABLE {t} ADD CONSTRAINT {name} CHECK ({c} IS NOT \
                             NULL) NOT VALID;` and, in a later migration, `ALTER TABLE {t} VALIDATE \
                             CONSTRAINT {name};` (neither blocks reads or writes)"
                        ),
                    };
                    format!(
                        "PostgreSQL {version} scans the table even when a validated check proves the \
                         column is not null (the shortcut came in PostgreSQL 12): {guard}; keep that \
                         check instead of NOT NULL until the server is upgraded, or run this in a \
                         quiet period with a `lock_timeout`"
                    )
                }
                Some((true, _)) => continue,
                Some((false, name)) => {
                    let name = name.unwrap_or_else(|| "<the check>".to_string());
                    format!(
                        "the check `{name}` proves it but is still NOT VALID: validate it \
                         first with `ALTER TABLE {t} VALIDATE CONSTRAINT {name};` (in a later \
                         migration than the one that added it), and PostgreSQL 12+ then sets \
                         NOT NULL without the scan"
                    )
                }
                None => {
                    let check = format!("{short}_{column}_not_null");
                    format!(
                        "prove it with a check first: `ALTER TABLE {t} ADD CONSTRAINT {check} \
                         CHECK ({c} IS NOT NULL) NOT VALID;`, then in a later migration \
                         `ALTER TABLE {t} VALIDATE CONSTRAINT {check};` followed by this \
                         `SET NOT NULL` (PostgreSQL 12+ skips the scan) and \
                         `ALTER TABLE {t} DROP CONSTRAINT {check};`"
                    )
                }
            };
            out.push(cx.finding(
                self,
                format!(
                    "`SET NOT NULL` on `{table}.{column}` reads every row of `{table}` while it is \
                     locked against all reads and writes"
                ),
                help,
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::proves_not_null;
    use crate::lint::testing::check_fixture;
    use sqlparser::dialect::PostgreSqlDialect;
    use sqlparser::parser::Parser;

    #[test]
    fn fixtures() {
        check_fixture("set-not-null-full-scan");
    }

    #[test]
    fn recognises_checks_that_prove_not_null() {
        let proves = |sql: &str| {
            let expr = Parser::new(&PostgreSqlDialect {})
                .try_with_sql(sql)
                .and_then(|mut p| p.parse_expr())
                .unwrap();
            proves_not_null(&expr, "email")
        };
        assert!(proves("email IS NOT NULL"));
        assert!(proves("(\"email\" IS NOT NULL)"));
        assert!(proves("NOT (email IS NULL)"));
        assert!(proves("id > 0 AND email IS NOT NULL"));
        assert!(!proves("email <> ''"));
        assert!(!proves("email IS NOT NULL OR id > 0"));
        assert!(!proves("name IS NOT NULL"));
    }
}
