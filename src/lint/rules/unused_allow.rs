//! # unused-allow
//!
//! **What it does.** Flags a `straddle:allow` or `straddle:allow-file` that did not suppress any finding, or that names a rule straddle does not have.
//!
//! **Why it is dangerous.** An allow that suppresses nothing is stale: the statement changed, or the allow sits on the wrong line. Left in place, it silently swallows the next real finding of that rule.
//!
//! **Safe alternative.** Remove the allow, or put it on the statement's own line or on the line just above it. `straddle rules` lists the rule ids.
//!
//! **Example.**
//!
//! ```text
//! -- straddle:allow drop-table -- legacy
//! ALTER TABLE users ADD COLUMN note text;   <- the allow is flagged: nothing to suppress
//! ```
//!
//! The finding is raised by straddle's suppression handling (`src/lint/suppress.rs`);
//! this file holds its documentation and metadata.

use crate::lint::{Rule, RuleMeta};
use crate::{Category, Severity};

pub struct UnusedAllow;

static META: RuleMeta = RuleMeta {
    id: "unused-allow",
    category: Category::Hygiene,
    severity: Severity::Warning,
    summary: "a straddle:allow that suppresses nothing, or names an unknown rule",
    why: "a stale allow hides the next real finding at that place",
    dialects: &[],
};

impl Rule for UnusedAllow {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
}
