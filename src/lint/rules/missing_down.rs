//! # missing-down
//!
//! **What it does.** Flags a migration that changes something but has no down
//! file.
//!
//! **Why it is dangerous.** Without a down there is no rollback: when the new
//! release misbehaves after this migration ran, the only ways back are a
//! hand-written fix under pressure or a restore from backup. straddle's
//! rollback and round-trip verification need a down to run.
//!
//! **Safe alternative.** Write the down next to the up, reversing every
//! statement in the opposite order:
//!
//! ```sql
//! -- 20240101120000_add_email_address.up.sql
//! ALTER TABLE users ADD COLUMN email_address text;
//! CREATE INDEX users_email_address ON users (email_address);
//!
//! -- 20240101120000_add_email_address.down.sql
//! DROP INDEX users_email_address;
//! ALTER TABLE users DROP COLUMN email_address;
//! ```
//!
//! A sqlx simple migration (`<version>_<name>.sql`) becomes a reversible one
//! when renamed to `<version>_<name>.up.sql` with a `.down.sql` beside it.
//!
//! **Example.**
//!
//! ```sql
//! -- 20240101120000_add_email_address.up.sql, alone in its folder
//! ALTER TABLE users ADD COLUMN email_address text; -- flagged: no down file
//! ```

use std::path::Path;

use crate::lint::{MigrationCx, Rule, RuleMeta};
use crate::{Category, Finding, Severity};

pub struct MissingDown;

static META: RuleMeta = RuleMeta {
    id: "missing-down",
    category: Category::Reversibility,
    severity: Severity::Error,
    summary: "a migration without a down file cannot be rolled back",
    why: "when the release misbehaves there is no down to run: the way back is a hand-written fix or a restore",
    dialects: &[],
};

/// The name the down file should have, beside the up.
fn down_name(up: &Path) -> String {
    let name = up
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if name == "up.sql" {
        "down.sql".into()
    } else if let Some(stem) = name.strip_suffix(".up.sql") {
        format!("{stem}.down.sql")
    } else if let Some(stem) = name.strip_suffix(".sql") {
        format!("{stem}.down.sql` (and rename the up to `{stem}.up.sql`")
    } else {
        format!("{name}.down.sql")
    }
}

impl Rule for MissingDown {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_migration(&self, cx: &MigrationCx<'_>, out: &mut Vec<Finding>) {
        if cx.down.is_some() {
            return;
        }
        let Some(first) = cx.up.statements.first() else {
            return;
        };
        out.push(cx.up_finding(
            self,
            first.span.start,
            format!(
                "migration {} has no down file: it cannot be rolled back",
                cx.version()
            ),
            format!(
                "add `{}` beside it, reversing each statement of the up in the opposite order",
                down_name(&cx.migration.up.path)
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::check_fixture;

    #[test]
    fn fixtures() {
        check_fixture("missing-down");
    }
}
