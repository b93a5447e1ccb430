//! # invalid-directive
//!
//! **What it does.** Flags a `-- straddle:` comment that straddle cannot read: an unknown directive, a contract without a version, an allow without rule ids, a second phase directive, or a phase or allow-file directive after the first statement.
//!
//! **Why it is dangerous.** A directive that is not understood is ignored, so the migration is not treated the way its author intended: a contract counted as an expand, a suppression that suppresses nothing.
//!
//! **Safe alternative.** Use one of the directive forms: `-- straddle: expand`, `-- straddle: contract <version>`, `-- straddle:allow <rule>[, <rule>] -- <reason>`, `-- straddle:allow-file <rule> -- <reason>`, with phase and allow-file directives in the leading comments.
//!
//! **Example.**
//!
//! ```text
//! -- straddle: contract           <- flagged: which expand does it complete?
//! -- straddle: contract 20240101120000   <- fine
//! ```
//!
//! The finding is raised by straddle's directive reader (`src/source/directives.rs`, `src/lint/suppress.rs`);
//! this file holds its documentation and metadata.

use crate::lint::{Rule, RuleMeta};
use crate::{Category, Severity};

pub struct InvalidDirective;

static META: RuleMeta = RuleMeta {
    id: "invalid-directive",
    category: Category::Hygiene,
    severity: Severity::Error,
    summary: "a malformed straddle directive",
    why: "a directive straddle cannot read does not do what its author meant",
    dialects: &[],
};

impl Rule for InvalidDirective {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
}
