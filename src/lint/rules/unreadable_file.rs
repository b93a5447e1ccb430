//! # unreadable-file
//!
//! **What it does.** Flags a migration file (or a diesel `metadata.toml`) that cannot be read: missing permissions, invalid UTF-8, invalid TOML.
//!
//! **Why it is dangerous.** What cannot be read cannot be checked, and the runner that applies it may fail on it at deploy time, half way through a release.
//!
//! **Safe alternative.** Fix the file's permissions, save it as UTF-8, or fix the TOML syntax the message names.
//!
//! **Example.**
//!
//! ```text
//! migrations/20240101120000_add_users.up.sql   <- flagged: not UTF-8 (invalid byte at line 3, column 14)
//! ```
//!
//! The finding is raised by straddle's folder reader (`src/source/discover.rs`);
//! this file holds its documentation and metadata.

use crate::lint::{Rule, RuleMeta};
use crate::{Category, Severity};

pub struct UnreadableFile;

static META: RuleMeta = RuleMeta {
    id: "unreadable-file",
    category: Category::Hygiene,
    severity: Severity::Error,
    summary: "a migration file that cannot be read as UTF-8 text",
    why: "a file straddle cannot read cannot be checked, and a runner may fail on it at deploy time",
    dialects: &[],
};

impl Rule for UnreadableFile {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
}
