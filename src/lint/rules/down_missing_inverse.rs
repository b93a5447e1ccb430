//! # down-missing-inverse
//!
//! **What it does.** Checks, statement by statement, that the down reverses
//! the up: an added column must be dropped, a created table, index, type,
//! view, function, trigger, sequence, schema or extension dropped, a rename
//! renamed back, an added constraint dropped, `SET NOT NULL` undone, a
//! default or a column type set back to what it was before (the catalog
//! built from earlier migrations knows), and what the up drops re-created.
//! Objects are matched by name, not by text, and what goes away with its
//! container counts: an index on a table the up created is dropped with the
//! table. The finding is placed at the up statement whose inverse is missing.
//!
//! **Why it is dangerous.** A down that forgets part of the up leaves the
//! schema half rolled back: the old release then meets objects it does not
//! expect (a new `NOT NULL` column it does not fill, a renamed column it
//! cannot find), and running the up again fails on what is still there.
//!
//! **Safe alternative.** Add the missing inverse to the down, in reverse
//! order of the up:
//!
//! ```sql
//! -- up
//! ALTER TABLE users ADD COLUMN email_address text;
//! ALTER TABLE users ALTER COLUMN status SET DEFAULT 'active';
//! -- down
//! ALTER TABLE users ALTER COLUMN status DROP DEFAULT;   -- there was none before
//! ALTER TABLE users DROP COLUMN email_address;
//! ```
//!
//! **Example.**
//!
//! ```sql
//! -- up
//! ALTER TABLE users ADD COLUMN email_address text;  -- flagged: the down keeps it
//! -- down
//! ALTER TABLE users DROP COLUMN nickname;
//! ```
//!
//! Statements straddle cannot model (data changes, `DO` blocks, unknown
//! syntax) are not checked; an unparsable down statement that names the
//! object is taken as its inverse. An empty down is reported once, by
//! `empty-down`, and a missing one by `missing-down`.

use crate::lint::{MigrationCx, Rule, RuleMeta};
use crate::phase::inverse::does_nothing;
use crate::phase::missing_inverses;
use crate::{Category, Finding, Severity};

pub struct DownMissingInverse;

static META: RuleMeta = RuleMeta {
    id: "down-missing-inverse",
    category: Category::Reversibility,
    severity: Severity::Error,
    summary: "the down does not reverse a change of the up",
    why: "a partial rollback leaves the old release facing a schema it does not know, and the up cannot run again",
    dialects: &[],
};

impl Rule for DownMissingInverse {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_migration(&self, cx: &MigrationCx<'_>, out: &mut Vec<Finding>) {
        let Some(down) = cx.down else {
            return;
        };
        if does_nothing(down) {
            return;
        }
        for issue in missing_inverses(cx.operations) {
            out.push(cx.up_finding(self, issue.at, issue.message, issue.help));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::check_fixture;

    #[test]
    fn fixtures() {
        check_fixture("down-missing-inverse");
    }
}
