//! # out-of-order-migration
//!
//! **What it does.** With `straddle lint --changed-since REF`, flags a
//! migration added since `REF` whose version sorts before the newest
//! migration that already existed at `REF`. That happens when a branch
//! created its migration, then the main branch merged a newer one first.
//!
//! **Why it is dangerous.** Databases that already ran the newer migration
//! are ahead of the new one. sqlx, diesel and `straddle migrate` apply it
//! anyway, late: there it runs after a migration it was written to precede,
//! on a schema its author never tested against, while every fresh database
//! runs the two in the other order, so the two kinds of database can end up
//! different. Runners that record only the latest version applied
//! (golang-migrate) skip it for good, and others refuse to migrate until it
//! is renamed, which blocks the deploy.
//!
//! **Safe alternative.** Before merging, rename the new migration (its up and
//! its down) to a version after every migration already merged, and check it
//! still makes sense on top of them:
//!
//! ```text
//! git mv migrations/20240103090000_add_locale.up.sql   migrations/20240110090000_add_locale.up.sql
//! git mv migrations/20240103090000_add_locale.down.sql migrations/20240110090000_add_locale.down.sql
//! ```
//!
//! **Example.**
//!
//! ```text
//! at origin/main:  20240105090000_add_orders.up.sql
//! this branch:     20240103090000_add_locale.up.sql   <- flagged: sorts before 20240105090000
//! ```
//!
//! Only reported with `--changed-since`; the versions at `REF` are read from
//! git (`git ls-tree`), so a branch that is behind its base is checked
//! against the base as it is now.

use std::path::Path;

use crate::finding::Position;
use crate::lint::{MigrationCx, Rule, RuleMeta};
use crate::source::Version;
use crate::{Category, Finding, Severity};

pub struct OutOfOrderMigration;

static META: RuleMeta = RuleMeta {
    id: "out-of-order-migration",
    category: Category::Hygiene,
    severity: Severity::Error,
    summary: "a new migration sorts before one that is already merged",
    why: "databases that already ran the newer migration apply the older one late, in another order than fresh databases, or skip it for good",
    dialects: &[],
};

/// The smallest version after `version`, written the same way: its last run
/// of digits plus one, keeping the width (`20240105090000` →
/// `20240105090001`, `2024-01-05-090000` → `2024-01-05-090001`).
fn version_after(version: &str) -> Option<String> {
    let end = version.rfind(|c: char| c.is_ascii_digit())? + 1;
    let start = version[..end]
        .rfind(|c: char| !c.is_ascii_digit())
        .map_or(0, |i| i + 1);
    let digits = &version[start..end];
    let next = digits.parse::<u128>().ok()?.checked_add(1)?;
    let width = digits.len();
    let next = format!("{next:0width$}");
    let candidate = format!("{}{next}{}", &version[..start], &version[end..]);
    Version::parse(&candidate).map(|_| candidate)
}

/// The path with the version in its migration name replaced.
fn renamed(path: &Path, old: &str, new: &str) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    if name == "up.sql" || name == "down.sql" {
        // diesel: the folder carries the version.
        let folder = path.parent()?;
        let folder_name = folder.file_name()?.to_str()?;
        let renamed = folder_name.replacen(old, new, 1);
        return Some(folder.with_file_name(renamed).display().to_string());
    }
    Some(
        path.with_file_name(name.replacen(old, new, 1))
            .display()
            .to_string(),
    )
}

impl Rule for OutOfOrderMigration {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_migration(&self, cx: &MigrationCx<'_>, out: &mut Vec<Finding>) {
        let Some(changes) = &cx.options.changed_since else {
            return;
        };
        let version = &cx.migration.version;
        if changes.existed_at_ref(version) {
            return;
        }
        let Some(latest) = changes.latest_at_ref() else {
            return;
        };
        if version >= latest {
            return;
        }
        let git_ref = &changes.git_ref;
        let (old, latest_raw) = (version.as_str(), latest.as_str());
        let up = &cx.migration.up.path;
        let newest = changes
            .newest_in_folder
            .as_ref()
            .filter(|n| *n > latest)
            .unwrap_or(latest);
        let fix = match version_after(newest.as_str()) {
            Some(new) => {
                let mut moves = Vec::new();
                let diesel = up.file_name().is_some_and(|n| n == "up.sql");
                if diesel {
                    if let (Some(folder), Some(to)) = (up.parent(), renamed(up, old, &new)) {
                        moves.push(format!("`git mv {} {to}`", folder.display()));
                    }
                } else {
                    let files = std::iter::once(up.as_path())
                        .chain(cx.migration.down.as_ref().map(|d| d.path.as_path()));
                    for file in files {
                        if let Some(to) = renamed(file, old, &new) {
                            moves.push(format!("`git mv {} {to}`", file.display()));
                        }
                    }
                }
                format!(
                    "rename it to a version after {latest_raw}, for example {} (or the current \
                     time, as `straddle new` picks), then check that it still makes sense after \
                     the migrations merged before it",
                    moves.join(" and ")
                )
            }
            None => format!(
                "rename it (up and down) to a version after {latest_raw}, then check that it still \
                 makes sense after the migrations merged before it"
            ),
        };
        out.push(cx.up_finding(
            self,
            Position::new(1, 1),
            format!(
                "migration {old} is new since `{git_ref}` but sorts before {latest_raw}, which \
                 already existed there: databases that ran {latest_raw} apply it after that one \
                 (or, with some runners, skip or refuse it), unlike fresh databases"
            ),
            fix,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::testing::check_fixture;

    #[test]
    fn fixtures() {
        check_fixture("out-of-order-migration");
    }

    #[test]
    fn next_version_keeps_the_style() {
        assert_eq!(
            version_after("20240105090000").as_deref(),
            Some("20240105090001")
        );
        assert_eq!(
            version_after("2024-01-05-090000").as_deref(),
            Some("2024-01-05-090001")
        );
        assert_eq!(version_after("0009").as_deref(), Some("0010"));
        assert_eq!(version_after("99").as_deref(), Some("100"));
    }

    #[test]
    fn renames_flat_and_diesel_paths() {
        assert_eq!(
            renamed(Path::new("m/0002_a.up.sql"), "0002", "0006").as_deref(),
            Some("m/0006_a.up.sql")
        );
        assert_eq!(
            renamed(
                Path::new("m/2024-01-01-000000_a/up.sql"),
                "2024-01-01-000000",
                "2024-02-01-000000"
            )
            .as_deref(),
            Some("m/2024-02-01-000000_a")
        );
    }
}
