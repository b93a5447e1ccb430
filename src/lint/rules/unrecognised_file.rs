//! # unrecognised-file
//!
//! **What it does.** Flags a `.sql` file in the migrations folder whose name is not a migration name, a migration folder without `up.sql`, and a folder that mixes layouts.
//!
//! **Why it is dangerous.** Runners skip files they do not recognise, so a misnamed migration never runs: the release that depends on it fails, or worse, half works.
//!
//! **Safe alternative.** Name migrations `<version>_<name>.up.sql` + `.down.sql` (sqlx, golang-migrate), `<version>_<name>/up.sql` + `down.sql` (diesel) or `V<version>.<name>.up.sql` + `.down.sql`, and keep one layout per folder.
//!
//! **Example.**
//!
//! ```text
//! migrations/add_users.sql   <- flagged: no version
//! ```
//!
//! The finding is raised by straddle's folder reader (`src/source/discover.rs`);
//! this file holds its documentation and metadata.

use crate::lint::{Rule, RuleMeta};
use crate::{Category, Severity};

pub struct UnrecognisedFile;

static META: RuleMeta = RuleMeta {
    id: "unrecognised-file",
    category: Category::Hygiene,
    severity: Severity::Warning,
    summary: "a .sql file or folder that is not named like a migration, or a folder that mixes layouts",
    why: "a misnamed migration is silently skipped by the runner",
    dialects: &[],
};

impl Rule for UnrecognisedFile {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }
}
