//! # shipped-migration-modified
//!
//! **What it does.** With `straddle lint --changed-since REF`, flags a
//! migration that already existed at `REF` (it has shipped: it is on the main
//! branch, and probably applied to staging and production) and whose up or
//! down file was changed since.
//!
//! **Why it is dangerous.** Databases that already ran the migration never run
//! it again, so the edit reaches only fresh databases: production and a new
//! developer's database silently end up with different schemas. Runners that
//! checksum applied migrations (sqlx, straddle) refuse to start once they see
//! the edited file, which blocks the next deploy. An edited down file means
//! that a rollback no longer undoes what was really applied.
//!
//! **Safe alternative.** Leave shipped migrations as they are and write a new
//! migration that makes the further change:
//!
//! ```sql
//! -- instead of editing 20240101120000_add_users.up.sql to add a column:
//! -- 20240315090000_add_users_locale.up.sql
//! ALTER TABLE users ADD COLUMN locale text;
//! -- 20240315090000_add_users_locale.down.sql
//! ALTER TABLE users DROP COLUMN locale;
//! ```
//!
//! A change that cannot alter what a database ends up with (a comment, a
//! typo in a down that never ran anywhere) can be accepted with a reason:
//! `-- straddle:allow-file shipped-migration-modified -- only a comment`.
//!
//! **Example.**
//!
//! ```text
//! $ git diff --name-status origin/main...HEAD
//! M   migrations/20240101120000_add_users.up.sql    <- flagged: existed at origin/main
//! A   migrations/20240315090000_add_locale.up.sql   <- fine: new
//! ```
//!
//! Only reported with `--changed-since`; without it straddle cannot tell
//! what has shipped.

use crate::finding::Position;
use crate::lint::{MigrationCx, Rule, RuleMeta};
use crate::{Category, Finding, Severity};

pub struct ShippedMigrationModified;

static META: RuleMeta = RuleMeta {
    id: "shipped-migration-modified",
    category: Category::Hygiene,
    severity: Severity::Error,
    summary: "a migration that already shipped was edited",
    why: "databases that already applied it never see the edit, so schemas drift apart, and checksumming runners refuse to start",
    dialects: &[],
};

impl Rule for ShippedMigrationModified {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_migration(&self, cx: &MigrationCx<'_>, out: &mut Vec<Finding>) {
        let Some(changes) = &cx.options.changed_since else {
            return;
        };
        let migration = cx.migration;
        if !changes.existed_at_ref(&migration.version) {
            return;
        }
        let next = changes
            .latest_at_ref()
            .map(|latest| format!(" that sorts after {}", latest.as_str()))
            .unwrap_or_default();
        let git_ref = &changes.git_ref;
        if changes.is_modified(&migration.up.path) {
            out.push(cx.up_finding(
                self,
                Position::new(1, 1),
                format!(
                    "migration {} already existed at `{git_ref}` and its up file was changed since: \
                     databases that applied it will never run the new text",
                    migration.version.as_str()
                ),
                format!(
                    "restore the file as it is at `{git_ref}` (`git checkout {git_ref} -- {}`) and \
                     put the change in a new migration{next} (`straddle new` picks the version)",
                    migration.up.path.display()
                ),
            ));
        }
        if let Some(down) = &migration.down
            && changes.is_modified(&down.path)
        {
            out.push(cx.down_finding(
                self,
                Position::new(1, 1),
                format!(
                    "migration {} already existed at `{git_ref}` and its down file was changed since: \
                     a rollback would no longer undo what databases really applied",
                    migration.version.as_str()
                ),
                format!(
                    "restore the down as it is at `{git_ref}` (`git checkout {git_ref} -- {}`); if it \
                     was wrong, fix the schema forward in a new migration{next}, or allow this rule \
                     with the reason the new down is correct for every database",
                    down.path.display()
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::check_fixture;

    #[test]
    fn fixtures() {
        check_fixture("shipped-migration-modified");
    }
}
