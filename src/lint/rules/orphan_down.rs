//! # orphan-down
//!
//! **What it does.** Flags a down file whose version has no up file, or whose name differs from its up file's.
//!
//! **Why it is dangerous.** A down file without its up usually means the up was renamed or deleted by mistake; the down will never run, and a rollback of that version is not possible.
//!
//! **Safe alternative.** Restore or rename the up file so that both share the version and name, or delete the stray down file.
//!
//! **Example.**
//!
//! ```text
//! migrations/20240101120000_add_users.down.sql   <- flagged: no 20240101120000 up file
//! ```
//!
//! The finding is raised by straddle's folder reader (`src/source/discover.rs`);
//! this file holds its documentation and metadata.

use crate::lint::{Rule, RuleMeta};
use crate::{Category, Severity};

pub struct OrphanDown;

static META: RuleMeta = RuleMeta {
    id: "orphan-down",
    category: Category::Hygiene,
    severity: Severity::Error,
    summary: "a down migration without its up migration, or under a different name",
    why: "a down file that belongs to no up file is never run and hides a missing or misnamed up",
    dialects: &[],
};

impl Rule for OrphanDown {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
}
