//! # lossy-type-change
//!
//! **What it does.** Flags a column type change (`ALTER COLUMN … TYPE`,
//! `SET DATA TYPE`, MySQL `MODIFY`/`CHANGE`) whose new type cannot hold every
//! value of the old one: a shorter `varchar`, a smaller integer, fewer
//! decimal places, `text` to a number, `datetime` to MySQL's `TIMESTAMP`…
//! The old type comes from the schema replayed from earlier migrations; when
//! straddle does not know it, the rule stays quiet.
//!
//! **Why it is dangerous.** The conversion runs over every existing row.
//! Depending on the database and its mode, values that do not fit make the
//! migration fail halfway through a deploy, or are silently truncated,
//! rounded or clipped; either way the down migration cannot give the
//! original values back, because they are gone.
//!
//! **Safe alternative.** Find the rows that would not survive before
//! changing anything, and decide what to do with them. Better, do not
//! convert in place: add a column of the new type, backfill it with an
//! explicit conversion you have checked, move the app over, and drop the old
//! column in a contract (`straddle new --change-type T.C TYPE` writes that
//! pair):
//!
//! ```sql
//! -- what would not fit?
//! SELECT count(*) FROM users WHERE length(nickname) > 20;
//!
//! -- straddle: expand
//! ALTER TABLE users ADD COLUMN nickname_short varchar(20);
//! UPDATE users SET nickname_short = left(nickname, 20) WHERE id BETWEEN 1 AND 10000; -- in batches
//! ```
//!
//! When the loss is intended and checked, say so with
//! `-- straddle:allow lossy-type-change -- <why no value is lost>`.
//!
//! **Example.**
//!
//! ```sql
//! ALTER TABLE users ALTER COLUMN nickname TYPE varchar(20); -- flagged: was varchar(100)
//! ALTER TABLE users ALTER COLUMN nickname TYPE varchar(200); -- fine: only widens
//! ```
//!
//! Tables created earlier in the same migration hold no old data and are not
//! checked.

use crate::lint::{Rule, RuleMeta, StatementCx};
use crate::schema::types::{TypeChange, type_changes, verdict};
use crate::{Category, Finding, Severity};

pub struct LossyTypeChange;

static META: RuleMeta = RuleMeta {
    id: "lossy-type-change",
    category: Category::DataLoss,
    severity: Severity::Error,
    summary: "a column type change that can truncate, round or reject existing values",
    why: "every existing row is converted: values that do not fit fail the migration or are silently changed, and no down migration can restore them",
    dialects: &[],
};

impl Rule for LossyTypeChange {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_statement(&self, cx: &StatementCx<'_>, out: &mut Vec<Finding>) {
        let Some(ast) = cx.statement.ast() else {
            return;
        };
        for site in type_changes(ast) {
            if !cx.existed_before(&site.table) {
                continue;
            }
            let Some(from) = cx
                .catalog
                .column(&site.table, &site.column)
                .and_then(|c| c.data_type.as_ref())
            else {
                continue;
            };
            let judged = verdict(cx.dialect(), from, site.to);
            if judged.kind != TypeChange::Lossy {
                continue;
            }
            let (table, column, to) = (&site.table, &site.column, site.to);
            out.push(cx.finding(
                self,
                format!(
                    "changing `{table}.{column}` from {from} to {to} can lose data: {}",
                    judged.reason
                ),
                format!(
                    "count the rows that would not survive first; then add a new column of type {to}, \
                     backfill it in batches with an explicit, checked conversion, switch the app, and drop \
                     `{column}` in a contract (`straddle new --change-type {table}.{column} '{to}'`)"
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
        check_fixture("lossy-type-change");
    }
}
