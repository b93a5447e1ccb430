//! # empty-down
//!
//! **What it does.** Flags a down file that does nothing (no statement, only
//! comments, or only no-ops such as `SELECT 1`) while its up changes the
//! schema.
//!
//! **Why it is dangerous.** Rolling back "succeeds" but leaves the schema as
//! the up made it, and the migration is recorded as not applied. The next
//! deploy runs the up again, which then fails (`column already exists`), and
//! the release after a rollback is stuck until someone repairs the database
//! by hand. Empty downs are common in real histories.
//!
//! **Safe alternative.** Reverse each statement of the up, in the opposite
//! order:
//!
//! ```sql
//! -- up
//! ALTER TABLE ciphers ADD COLUMN deleted_at timestamp;
//! -- down
//! ALTER TABLE ciphers DROP COLUMN deleted_at;
//! ```
//!
//! If the change truly must not be undone, say so with an allow and a reason
//! in the up, so that the choice is visible:
//! `-- straddle:allow-file empty-down -- the column is kept on rollback on purpose`.
//!
//! **Example.**
//!
//! ```sql
//! -- up.sql
//! ALTER TABLE ciphers ADD COLUMN deleted_at timestamp;
//! -- down.sql
//! -- nothing to do            (flagged: the down is empty)
//! ```

use crate::finding::Position;
use crate::lint::{MigrationCx, Rule, RuleMeta};
use crate::phase::inverse::{does_nothing, first_schema_change};
use crate::{Category, Finding, Severity};

pub struct EmptyDown;

static META: RuleMeta = RuleMeta {
    id: "empty-down",
    category: Category::Reversibility,
    severity: Severity::Error,
    summary: "a down that does nothing while the up changes the schema",
    why: "a rollback leaves the up's changes in place: the old release meets the new schema, and running the up again usually fails",
    dialects: &[],
};

impl Rule for EmptyDown {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_migration(&self, cx: &MigrationCx<'_>, out: &mut Vec<Finding>) {
        let Some(down) = cx.down else {
            return;
        };
        if !does_nothing(down) {
            return;
        }
        let Some(change) = first_schema_change(cx.up, cx.operations.up_raw()) else {
            return;
        };
        let at = down
            .statements
            .first()
            .map(|s| s.span.start)
            .unwrap_or(Position::new(1, 1));
        let head: String = change.text.split_whitespace().collect::<Vec<_>>().join(" ");
        let head = if head.chars().count() > 70 {
            format!("{}…", head.chars().take(69).collect::<String>())
        } else {
            head
        };
        out.push(cx.down_finding(
            self,
            at,
            format!(
                "the down of migration {} does nothing, but its up changes the schema \
                 (line {}: `{head}`): a rollback would leave that change in place",
                cx.version(),
                change.span.start.line
            ),
            "reverse each statement of the up here, in the opposite order \
             (e.g. `ALTER TABLE t DROP COLUMN c;` for `ALTER TABLE t ADD COLUMN c …`)",
        ));
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::dialect::Dialect;
    use crate::lint::testing::check_fixture;
    use crate::lint::{LintOptions, lint_set};
    use crate::source::discover;

    #[test]
    fn fixtures() {
        check_fixture("empty-down");
    }

    /// vaultwarden's PostgreSQL history has many empty downs.
    #[test]
    fn vaultwarden_empty_downs() {
        let dir = Path::new("/work/shared/corpora/dani-garcia__vaultwarden/migrations/postgresql");
        if !dir.is_dir() {
            assert!(
                std::env::var_os("CI").is_none(),
                "{} is missing (required when CI is set)",
                dir.display()
            );
            println!("skipped: {} is missing", dir.display());
            return;
        }
        let set = discover(dir).expect("vaultwarden corpus");
        let options = LintOptions {
            dialect: Dialect::Postgres,
            ..LintOptions::default()
        };
        let outcome = lint_set(&set, &options);
        let empty = outcome
            .findings
            .iter()
            .filter(|f| f.rule == "empty-down")
            .count();
        println!("vaultwarden postgresql: {empty} empty downs");
        assert!(empty > 0, "expected empty-down findings in vaultwarden");
    }
}
