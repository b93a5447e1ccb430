//! # duplicate-version
//!
//! **What it does.** Flags a migration file whose version is already used by another migration in the folder.
//!
//! **Why it is dangerous.** Runners record applied migrations by version. With two files under one version, one of them is applied and the other silently skipped, or the deploy fails at the worst moment.
//!
//! **Safe alternative.** Give the newer migration a new version that sorts after every existing one (`straddle new` does this for you).
//!
//! **Example.**
//!
//! ```text
//! migrations/20240101120000_add_users.up.sql
//! migrations/20240101120000_add_orders.up.sql   <- flagged
//! ```
//!
//! The finding is raised by straddle's folder reader (`src/source/discover.rs`);
//! this file holds its documentation and metadata.

use crate::lint::{Rule, RuleMeta};
use crate::{Category, Severity};

pub struct DuplicateVersion;

static META: RuleMeta = RuleMeta {
    id: "duplicate-version",
    category: Category::Hygiene,
    severity: Severity::Error,
    summary: "two migrations share one version",
    why: "with two migrations under one version, runners apply one and silently skip the other, or fail at deploy time",
    dialects: &[],
};

impl Rule for DuplicateVersion {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
}
