//! Finding migrations on disk, in every common layout, with their versions,
//! checksums and directives. Knows nothing of SQL meaning or databases.

mod directives;
mod discover;
mod version;

use std::path::PathBuf;

pub use directives::{Allow, Directive, Directives, Phase, parse_comment, parse_leading};
pub use discover::{discover, discover_for, read_migration_file};
pub use version::Version;

/// How a migrations folder is laid out; `straddle new` writes in the same one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// sqlx and golang-migrate: `<version>_<name>.up.sql` + `.down.sql`, or a
    /// lone `<version>_<name>.sql` (sqlx's simple, irreversible form).
    Flat,
    /// diesel: `<version>_<name>/up.sql` + `down.sql` (+ `metadata.toml`).
    Folders,
    /// `V<n>.<name>.up.sql` + `.down.sql`.
    Dotted,
}

/// One file of a migration, read into memory.
#[derive(Clone, Debug)]
pub struct MigrationFile {
    /// The path as the user would name it (the folder given, joined with the
    /// file's name).
    pub path: PathBuf,
    pub text: String,
}

/// One versioned change: an up file and, normally, its down file.
#[derive(Clone, Debug)]
pub struct Migration {
    pub version: Version,
    /// The descriptive part of the name (`add_users`), without the version.
    pub name: String,
    pub up: MigrationFile,
    pub down: Option<MigrationFile>,
    /// `-- no-transaction` on the first line, or diesel's
    /// `run_in_transaction = false`.
    pub no_transaction: bool,
    /// Directives read from the up file's leading comments.
    pub directives: Directives,
}

/// A problem with the folder itself: duplicate versions, orphan files,
/// unreadable files. Each becomes a finding of the named rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceProblem {
    /// The rule id the finding is reported under.
    pub rule: &'static str,
    pub path: PathBuf,
    pub message: String,
}

/// Everything found in one migrations folder, sorted by version.
#[derive(Clone, Debug)]
pub struct MigrationSet {
    pub dir: PathBuf,
    pub layout: Option<Layout>,
    pub migrations: Vec<Migration>,
    pub problems: Vec<SourceProblem>,
}

impl MigrationSet {
    pub fn find(&self, version: &Version) -> Option<&Migration> {
        self.migrations.iter().find(|m| &m.version == version)
    }
}
