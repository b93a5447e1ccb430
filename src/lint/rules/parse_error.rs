//! # parse-error
//!
//! **What it does.** Reports a statement that straddle could not parse, with
//! the place and sqlparser's own message, and a file that could not even be
//! split into statements (an unterminated string or quoted name).
//!
//! **Why it is dangerous.** What straddle cannot read, it cannot check: the
//! statement might drop a column or lock a busy table and no rule would say
//! so. The rest of the file is still linted.
//!
//! **Safe alternative.** Check that the statement is valid for the dialect
//! (`--dialect`, or `dialect` in `straddle.toml`). If it is valid and straddle
//! does not know it, allow it with the reason, and review it by hand:
//!
//! ```sql
//! -- straddle:allow parse-error -- CLUSTER ON only records the index, reviewed by hand
//! ALTER TABLE events CLUSTER ON events_created_at_idx;
//! ```
//!
//! **Example.**
//!
//! ```sql
//! ALTER TABLE t FROBNICATE COLUMN c; -- parse-error: Expected: ADD, RENAME, …
//! ```

use crate::lint::{MigrationCx, Rule, RuleMeta, StatementCx};
use crate::sql::StatementKind;
use crate::{Category, Finding, Severity};

pub struct ParseError;

static META: RuleMeta = RuleMeta {
    id: "parse-error",
    category: Category::Parse,
    severity: Severity::Warning,
    summary: "a statement straddle cannot parse, so no rule could check it",
    why: "what straddle cannot read it cannot check; review this statement by hand",
    dialects: &[],
};

impl Rule for ParseError {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_statement(&self, cx: &StatementCx<'_>, out: &mut Vec<Finding>) {
        if let StatementKind::Unknown { message, at } = &cx.statement.kind {
            out.push(cx.finding_at(
                self,
                *at,
                format!("cannot parse this statement as {}: {message}", cx.dialect()),
                "check the statement against the dialect; if it is valid, allow it with a reason \
                 and review it by hand",
            ));
        }
    }

    fn check_migration(&self, cx: &MigrationCx<'_>, out: &mut Vec<Finding>) {
        if let Some((message, at)) = &cx.up.tokenize_error {
            out.push(cx.up_finding(
                self,
                *at,
                format!("cannot read the file past this point: {message}"),
                "close the string, quoted name or comment that starts here",
            ));
        }
        if let Some((message, at)) = cx.down.and_then(|d| d.tokenize_error.as_ref()) {
            out.push(cx.down_finding(
                self,
                *at,
                format!("cannot read the down file past this point: {message}"),
                "close the string, quoted name or comment that starts here",
            ));
        }
        if let Some(down) = cx.down {
            for statement in &down.statements {
                if let StatementKind::Unknown { message, at } = &statement.kind {
                    out.push(cx.down_finding(
                        self,
                        *at,
                        format!("cannot parse this statement as {}: {message}", cx.dialect()),
                        "check the statement against the dialect; if it is valid, allow it with \
                         a reason and review it by hand",
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::check_fixture;

    #[test]
    fn fixtures() {
        check_fixture("parse-error");
    }
}
