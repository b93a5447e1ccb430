//! # concurrently-in-transaction
//!
//! **What it does.** Flags a `CONCURRENTLY` operation that PostgreSQL refuses
//! to run inside a transaction block, when it would run in one: `CREATE
//! INDEX CONCURRENTLY`, `DROP INDEX CONCURRENTLY`, `REINDEX … CONCURRENTLY`
//! and `ALTER TABLE … DETACH PARTITION … CONCURRENTLY` in a transactional
//! migration, or after a `BEGIN` written in the file (which `straddle
//! migrate` skips in a `-- no-transaction` migration, but sqlx and diesel
//! send). It also flags a `-- no-transaction` migration that holds such an
//! operation together with other statements.
//!
//! **Why it is dangerous.** In a transaction the statement fails at deploy
//! time with "… cannot run inside a transaction block", and the whole
//! migration with it. When migrations are applied by sqlx or diesel
//! (`[lint] runner = "sqlx"` or `"diesel"`), sharing a `-- no-transaction`
//! migration with other statements is hardly better: the file is sent as one
//! query, which PostgreSQL runs as one implicit transaction, so the statement
//! fails the same way. (`straddle migrate` sends such a migration one
//! statement at a time and records each, so there a failure can be resumed
//! or rolled back precisely; that second check is off.)
//!
//! **Safe alternative.** One concurrent statement per migration, with
//! `-- no-transaction` as the very first line of the file (diesel:
//! `run_in_transaction = false` in the migration's `metadata.toml`):
//!
//! ```sql
//! -- no-transaction
//! CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_user_id_idx ON orders (user_id);
//! ```
//!
//! `straddle migrate` sets a lock timeout itself. Under sqlx or diesel, set
//! it through the connection (`options=-c lock_timeout=5s` in the URL), not
//! with a `SET` in the file: that would be a second statement in the one
//! query, and the build would fail as above.
//!
//! **Example.**
//!
//! ```sql
//! -- (a transactional migration)
//! ALTER TABLE orders ADD COLUMN user_id bigint;
//! CREATE INDEX CONCURRENTLY orders_user_id_idx ON orders (user_id); -- flagged: fails in a transaction
//! ```
//!
//! `REFRESH MATERIALIZED VIEW CONCURRENTLY` is not flagged: PostgreSQL does
//! run it inside a transaction.

use sqlparser::ast::Statement as Ast;
use sqlparser::tokenizer::Token;

use crate::dialect::Dialect;
use crate::finding::Position;
use crate::lint::{MigrationCx, Rule, RuleMeta, StatementCx};
use crate::sql::{Recognised, Statement};
use crate::{Category, Finding, Severity};

pub struct ConcurrentlyInTransaction;

static META: RuleMeta = RuleMeta {
    id: "concurrently-in-transaction",
    category: Category::Locking,
    severity: Severity::Error,
    summary: "a CONCURRENTLY operation that would run inside a transaction, or share a no-transaction migration",
    why: "PostgreSQL refuses CONCURRENTLY operations in a transaction block, so the migration fails at deploy time",
    dialects: &[Dialect::Postgres],
};

/// What the statement is, when it is a `CONCURRENTLY` operation that cannot
/// run in a transaction block.
fn concurrent_operation(statement: &Statement) -> Option<&'static str> {
    if let Some(Ast::CreateIndex(index)) = statement.ast() {
        return index.concurrently.then_some("CREATE INDEX CONCURRENTLY");
    }
    match statement.recognised()? {
        Recognised::DropIndex {
            concurrently: true, ..
        } => Some("DROP INDEX CONCURRENTLY"),
        Recognised::Reindex {
            concurrently: true, ..
        } => Some("REINDEX CONCURRENTLY"),
        Recognised::DetachPartition {
            concurrently: true, ..
        } => Some("DETACH PARTITION CONCURRENTLY"),
        _ => None,
    }
}

/// Where the `CONCURRENTLY` keyword stands, or the statement's start.
fn concurrently_at(statement: &Statement) -> Position {
    statement
        .tokens
        .iter()
        .find(|t| {
            matches!(&t.token, Token::Word(w)
                if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("CONCURRENTLY"))
        })
        .map(|t| Position::new(t.span.start.line as usize, t.span.start.column as usize))
        .unwrap_or(statement.span.start)
}

impl Rule for ConcurrentlyInTransaction {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_statement(&self, cx: &StatementCx<'_>, out: &mut Vec<Finding>) {
        // straddle's runner skips a BEGIN written in a `-- no-transaction`
        // migration and runs a CONCURRENTLY statement outside any transaction.
        if !cx.in_transaction || cx.statement_by_statement() {
            return;
        }
        let Some(operation) = concurrent_operation(cx.statement) else {
            return;
        };
        let help = if cx.migration.no_transaction {
            "remove the BEGIN … COMMIT around it and keep it as the only statement of this \
             `-- no-transaction` migration"
                .to_string()
        } else if cx.file.statements.len() > 1 {
            "move it into a migration of its own whose very first line is `-- no-transaction` \
             (diesel: `run_in_transaction = false` in metadata.toml)"
                .to_string()
        } else {
            "make `-- no-transaction` the very first line of this migration (diesel: \
             `run_in_transaction = false` in metadata.toml)"
                .to_string()
        };
        out.push(cx.finding_at(
            self,
            concurrently_at(cx.statement),
            format!(
                "`{operation}` runs inside a transaction here, where PostgreSQL refuses it \
                 (\"cannot run inside a transaction block\"), so the migration fails"
            ),
            help,
        ));
    }

    fn check_migration(&self, cx: &MigrationCx<'_>, out: &mut Vec<Finding>) {
        // straddle's runner sends the statements one by one and records each,
        // so a failure can be resumed or rolled back precisely. A BEGIN or
        // COMMIT around the operation is `check_statement`'s finding, not
        // another statement sharing the file.
        let statements = cx
            .up
            .statements
            .iter()
            .filter(|s| {
                !matches!(
                    s.ast(),
                    Some(Ast::StartTransaction { .. } | Ast::Commit { .. } | Ast::Rollback { .. })
                )
            })
            .count();
        if !cx.migration.no_transaction || statements < 2 || cx.options.runner.splits_statements() {
            return;
        }
        let Some((statement, operation)) = cx
            .up
            .statements
            .iter()
            .find_map(|s| concurrent_operation(s).map(|op| (s, op)))
        else {
            return;
        };
        let others = statements - 1;
        let s = if others == 1 { "" } else { "s" };
        out.push(cx.up_finding(
            self,
            concurrently_at(statement),
            format!(
                "this `-- no-transaction` migration runs `{operation}` with {others} other \
                 statement{s}: sqlx and diesel send the file as one query, which PostgreSQL runs \
                 as one implicit transaction, where CONCURRENTLY fails"
            ),
            format!(
                "keep `{operation}` alone in its `-- no-transaction` migration and move the other \
                 statement{s} into migrations of their own"
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::check_fixture;

    #[test]
    fn fixtures() {
        check_fixture("concurrently-in-transaction");
    }
}
