//! The finding: one diagnostic with its rule, category, severity, place,
//! message and safe alternative. Every output format prints this type.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

/// What kind of harm a finding is about. Exactly one per finding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    /// Data that no down migration can bring back.
    DataLoss,
    /// Breaks the application version that is still running.
    BackwardIncompatible,
    /// Takes a lock or rewrites a table in a way that blocks a busy database.
    Locking,
    /// The change cannot be rolled back as written.
    Reversibility,
    /// Expand/contract discipline.
    Phase,
    /// Housekeeping: suppressions, file layout, conventions.
    Hygiene,
    /// straddle could not read or parse something.
    Parse,
}

impl Category {
    pub const ALL: [Category; 7] = [
        Category::DataLoss,
        Category::BackwardIncompatible,
        Category::Locking,
        Category::Reversibility,
        Category::Phase,
        Category::Hygiene,
        Category::Parse,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Category::DataLoss => "data-loss",
            Category::BackwardIncompatible => "backward-incompatible",
            Category::Locking => "locking",
            Category::Reversibility => "reversibility",
            Category::Phase => "phase",
            Category::Hygiene => "hygiene",
            Category::Parse => "parse",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How serious a finding is. Errors fail `straddle lint`; warnings fail it only
/// with `--deny-warnings`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn name(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A 1-based position in a file. `column` counts characters, not bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl Position {
    pub fn new(line: usize, column: usize) -> Self {
        Position { line, column }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// One diagnostic.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule id, e.g. `drop-column`.
    pub rule: &'static str,
    pub category: Category,
    pub severity: Severity,
    /// The file as the user named it (relative paths stay relative).
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    /// End of the statement or range the finding is about (exclusive).
    #[serde(skip)]
    pub end: Option<Position>,
    /// What is wrong, specific to this statement.
    pub message: String,
    /// Why it matters for a running application.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub why: String,
    /// The safe way to do it, with SQL where possible.
    pub help: String,
}

impl Finding {
    pub fn position(&self) -> Position {
        Position::new(self.line, self.column)
    }

    /// Sort key: file, then place, then rule.
    pub fn sort_key(&self) -> (&PathBuf, usize, usize, &'static str) {
        (&self.file, self.line, self.column, self.rule)
    }
}
