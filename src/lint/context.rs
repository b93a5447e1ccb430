//! What a rule sees.

use std::path::Path;

use super::{LintOptions, Rule};
use crate::dialect::Dialect;
use crate::finding::{Finding, Position};
use crate::phase::MigrationOperations;
use crate::schema::Catalog;
use crate::source::Migration;
use crate::sql::{SqlFile, Statement};

/// Builds a finding of `rule` at `at` in `path`.
pub(crate) fn make_finding(
    rule: &dyn Rule,
    path: &Path,
    at: Position,
    end: Option<Position>,
    message: String,
    help: String,
) -> Finding {
    let meta = rule.meta();
    Finding {
        rule: meta.id,
        category: meta.category,
        severity: meta.severity,
        file: path.to_path_buf(),
        line: at.line.max(1),
        column: at.column.max(1),
        end,
        message,
        why: meta.why.to_string(),
        help,
    }
}

/// One statement of an up file, with everything a rule may ask about it.
pub struct StatementCx<'a> {
    pub options: &'a LintOptions,
    pub migration: &'a Migration,
    /// The parsed up file.
    pub file: &'a SqlFile,
    pub statement: &'a Statement,
    /// Its index in `file.statements`.
    pub index: usize,
    /// The schema just before this statement runs.
    pub catalog: &'a Catalog,
    /// Whether the statement runs inside a transaction: the migration is
    /// transactional, or the file opened one with `BEGIN`.
    pub in_transaction: bool,
    /// Whether a `lock_timeout` (PostgreSQL) or `lock_wait_timeout` (MySQL)
    /// is in force: set earlier in the file, or assumed from configuration.
    pub lock_timeout_set: bool,
}

impl StatementCx<'_> {
    pub fn dialect(&self) -> Dialect {
        self.options.dialect
    }

    /// The version of the migration being linted.
    pub fn version(&self) -> &str {
        self.migration.version.as_str()
    }

    pub fn path(&self) -> &Path {
        &self.migration.up.path
    }

    /// Whether `table` existed before this migration (see
    /// [`Catalog::existed_before`]).
    pub fn existed_before(&self, table: &str) -> bool {
        self.catalog.existed_before(table, self.version())
    }

    /// Whether each statement of this migration commits on its own: a
    /// `-- no-transaction` migration applied by straddle's runner.
    pub fn statement_by_statement(&self) -> bool {
        self.migration.no_transaction && self.options.runner.splits_statements()
    }

    /// The statement as an `ALTER TABLE` of a table that existed before this
    /// migration, with the table's catalog key; `None` for anything else
    /// (locking and compatibility rules leave new tables alone).
    pub fn alter_existing(&self) -> Option<(&sqlparser::ast::AlterTable, String)> {
        let Some(sqlparser::ast::Statement::AlterTable(alter)) = self.statement.ast() else {
            return None;
        };
        let table = crate::sql::object_key(&alter.name);
        (!table.is_empty() && self.existed_before(&table)).then_some((alter, table))
    }

    /// The place of an AST node from its sqlparser location, or the start of
    /// the statement when sqlparser kept none (line 0).
    pub fn place(&self, at: sqlparser::tokenizer::Location) -> Position {
        if at.line == 0 {
            self.statement.span.start
        } else {
            Position::new(at.line as usize, at.column as usize)
        }
    }

    /// A finding at the start of the statement.
    pub fn finding(
        &self,
        rule: &dyn Rule,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Finding {
        make_finding(
            rule,
            self.path(),
            self.statement.span.start,
            Some(self.statement.span.end),
            message.into(),
            help.into(),
        )
    }

    /// A finding at a particular place inside the statement.
    pub fn finding_at(
        &self,
        rule: &dyn Rule,
        at: Position,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Finding {
        make_finding(rule, self.path(), at, None, message.into(), help.into())
    }

    /// The earlier statements of the same file.
    pub fn earlier(&self) -> &[Statement] {
        &self.file.statements[..self.index]
    }

    /// The later statements of the same file.
    pub fn later(&self) -> &[Statement] {
        &self.file.statements[self.index + 1..]
    }
}

/// A whole migration: its up and down files, parsed, the schema after its
/// up, and the operations of both files.
pub struct MigrationCx<'a> {
    pub options: &'a LintOptions,
    pub migration: &'a Migration,
    pub up: &'a SqlFile,
    pub down: Option<&'a SqlFile>,
    pub catalog_after: &'a Catalog,
    /// The operations of the up and the down, worked out once for all rules.
    pub operations: &'a MigrationOperations<'a>,
}

impl MigrationCx<'_> {
    pub fn dialect(&self) -> Dialect {
        self.options.dialect
    }

    pub fn version(&self) -> &str {
        self.migration.version.as_str()
    }

    /// A finding in the up file.
    pub fn up_finding(
        &self,
        rule: &dyn Rule,
        at: Position,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Finding {
        make_finding(
            rule,
            &self.migration.up.path,
            at,
            None,
            message.into(),
            help.into(),
        )
    }

    /// A finding in the down file (or, when there is none, in the up file).
    pub fn down_finding(
        &self,
        rule: &dyn Rule,
        at: Position,
        message: impl Into<String>,
        help: impl Into<String>,
    ) -> Finding {
        let path = self
            .migration
            .down
            .as_ref()
            .map(|d| d.path.as_path())
            .unwrap_or(&self.migration.up.path);
        make_finding(rule, path, at, None, message.into(), help.into())
    }
}
