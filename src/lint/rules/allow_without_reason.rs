//! # allow-without-reason
//!
//! **What it does.** Flags a `-- straddle:allow` or `-- straddle:allow-file` comment with no reason after a second `--`.
//!
//! **Why it is dangerous.** Every suppression is a decision that someone reviewed a dangerous change. Without the reason, reviewers cannot check the decision, and nobody later knows whether it still holds.
//!
//! **Safe alternative.** Write the reason after a second `--`: `-- straddle:allow drop-column -- copied to users.email_address in 20240101`.
//!
//! **Example.**
//!
//! ```text
//! -- straddle:allow drop-column            <- flagged: no reason
//! -- straddle:allow drop-column -- copied to users.email_address in 20240101   <- fine
//! ```
//!
//! The finding is raised by straddle's suppression handling (`src/lint/suppress.rs`);
//! this file holds its documentation and metadata.

use crate::lint::{Rule, RuleMeta};
use crate::{Category, Severity};

pub struct AllowWithoutReason;

static META: RuleMeta = RuleMeta {
    id: "allow-without-reason",
    category: Category::Hygiene,
    severity: Severity::Error,
    summary: "a straddle:allow that does not say why",
    why: "a suppression without a reason cannot be reviewed; the next reader cannot tell a checked exception from a silenced alarm",
    dialects: &[],
};

impl Rule for AllowWithoutReason {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
}
