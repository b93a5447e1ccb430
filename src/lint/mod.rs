//! Linting: the [`Rule`] trait, the registry, the engine that replays a
//! migrations folder and runs every rule, and suppressions.
//!
//! Each rule lives in its own file under `src/lint/rules/`; its `//!` doc is
//! what `straddle explain` prints.

pub(crate) mod context;
mod engine;
pub(crate) mod mysql_ddl;
mod parse_ahead;
pub mod rules;
mod suppress;
#[cfg(test)]
pub(crate) mod testing;

pub use context::{MigrationCx, StatementCx};
pub use engine::{
    ChangedSince, Level, LintOptions, LintOutcome, OnlyFiles, Runner, lint_set, lint_text,
};

use crate::dialect::Dialect;
use crate::finding::{Category, Finding, Severity};

/// What every rule declares about itself.
#[derive(Debug)]
pub struct RuleMeta {
    /// Kebab-case id, the file name with `-` for `_`.
    pub id: &'static str,
    pub category: Category,
    pub severity: Severity,
    /// One line: what the rule catches.
    pub summary: &'static str,
    /// Why it hurts a running application, in a sentence or two. Printed
    /// under each finding.
    pub why: &'static str,
    /// The dialects it applies to; empty means all.
    pub dialects: &'static [Dialect],
}

/// One check. Rules see one statement at a time (with the catalog as it was
/// just before it) and/or a whole migration (up and down together).
pub trait Rule: Sync {
    fn meta(&self) -> &'static RuleMeta;

    fn check_statement(&self, _cx: &StatementCx<'_>, _out: &mut Vec<Finding>) {}

    fn check_migration(&self, _cx: &MigrationCx<'_>, _out: &mut Vec<Finding>) {}

    fn applies_to(&self, dialect: Dialect) -> bool {
        let dialects = self.meta().dialects;
        dialects.is_empty() || dialects.contains(&dialect)
    }
}

/// Every rule, in id order.
pub fn all_rules() -> &'static [&'static dyn Rule] {
    rules::ALL
}

/// The rule with this id.
pub fn find_rule(id: &str) -> Option<&'static dyn Rule> {
    rules::ALL.iter().copied().find(|r| r.meta().id == id)
}

/// The documentation of a rule, from its file's `//!` comments.
pub fn rule_doc(id: &str) -> Option<&'static str> {
    rules::DOCS.iter().find(|(i, _)| *i == id).map(|(_, d)| *d)
}
