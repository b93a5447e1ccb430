//! # rewriting-type-change
//!
//! **What it does.** Flags a column type change on an existing table that
//! makes the database rewrite the whole table. On PostgreSQL that is every
//! change that is not binary-compatible: `int` → `bigint`, `timestamp` →
//! `timestamptz`, a `numeric` scale change, any narrowing, a `USING`
//! expression that computes new values, and every change straddle cannot
//! judge. On MySQL it is every
//! change that cannot run `INPLACE`/`INSTANT`, which is nearly all of them
//! except growing a `VARCHAR` within the same length-prefix size and
//! appending `ENUM` members.
//!
//! **Why it is dangerous.** PostgreSQL holds an `ACCESS EXCLUSIVE` lock on the
//! table for the whole rewrite and the rebuild of every index: no read and no
//! write gets through, for minutes or hours on a big table, and the queue of
//! waiting queries grows behind it. MySQL's table copy (`ALGORITHM=COPY`)
//! blocks every write for as long as the copy takes.
//!
//! **Safe alternative.** Do not convert in place. Add a column of the new
//! type, keep it in sync with a trigger, backfill it in small batches, switch
//! the app to it, then drop the old column in a contract
//! (`straddle new --change-type T.C TYPE` writes that pair). Changes that only
//! raise a limit need no rewrite at all:
//!
//! ```sql
//! -- instead of: ALTER TABLE events ALTER COLUMN id TYPE bigint;
//! -- straddle: expand
//! ALTER TABLE events ADD COLUMN id_big bigint;
//! -- + a trigger copying NEW.id into NEW.id_big, and a batched backfill:
//! UPDATE events SET id_big = id WHERE id BETWEEN 1 AND 10000;
//!
//! -- no rewrite needed:
//! ALTER TABLE events ALTER COLUMN name TYPE text;          -- was varchar(100)
//! ALTER TABLE events ALTER COLUMN name TYPE varchar(200);  -- was varchar(100)
//! ```
//!
//! On MySQL, an online schema change tool (gh-ost, pt-online-schema-change)
//! does the copy without blocking writes.
//!
//! **Example.**
//!
//! ```sql
//! ALTER TABLE events ALTER COLUMN id TYPE bigint;  -- flagged: rewrites events under ACCESS EXCLUSIVE
//! ```
//!
//! Tables created earlier in the same migration are not checked.
//!
//! Since PostgreSQL 12, `timestamp` ↔ `timestamptz` needs no rewrite when the
//! session time zone is UTC, so that change is not flagged after a
//! `SET LOCAL timezone = 'UTC'` earlier in the file, unless `[database]
//! version` in `straddle.toml` is below 12.

use sqlparser::ast::{AlterTableAlgorithm, AlterTableLock, AlterTableOperation, Statement as Ast};

use crate::dialect::Dialect;
use crate::lint::{Rule, RuleMeta, StatementCx};
use crate::schema::types::{TypeChange, type_changes, using_is_plain, verdict};
use crate::{Category, Finding, Severity};

pub struct RewritingTypeChange;

static META: RuleMeta = RuleMeta {
    id: "rewriting-type-change",
    category: Category::Locking,
    severity: Severity::Error,
    summary: "a column type change that rewrites or copies the whole table",
    why: "the table is locked for the whole rewrite (PostgreSQL: ACCESS EXCLUSIVE, no reads or writes; MySQL: writes blocked during the copy)",
    dialects: &[Dialect::Postgres, Dialect::Mysql],
};

/// Whether a MySQL statement asks for `ALGORITHM=INPLACE|INSTANT` or
/// `LOCK=NONE`, which makes MySQL refuse a change that needs a table copy.
fn refuses_copy(ast: &Ast) -> bool {
    let Ast::AlterTable(alter) = ast else {
        return false;
    };
    alter.operations.iter().any(|op| {
        matches!(
            op,
            AlterTableOperation::Algorithm {
                algorithm: AlterTableAlgorithm::Inplace | AlterTableAlgorithm::Instant,
                ..
            } | AlterTableOperation::Lock {
                lock: AlterTableLock::None,
                ..
            }
        )
    })
}

/// Whether a change is between `timestamp` and `timestamptz` of the same
/// precision (binary-compatible in a UTC session since PostgreSQL 12).
fn timestamp_zone_switch(from: &str, to: &str) -> bool {
    let zoned = |t: &str| t.contains("with time zone") || t.starts_with("timestamptz");
    let plain = |t: &str| {
        t.replace("without time zone", "")
            .replace("with time zone", "")
            .replace("timestamptz", "timestamp")
            .replace(' ', "")
    };
    let (from, to) = (from.to_ascii_lowercase(), to.to_ascii_lowercase());
    from.starts_with("timestamp")
        && to.starts_with("timestamp")
        && zoned(&from) != zoned(&to)
        && plain(&from) == plain(&to)
}

/// Whether the latest time zone set earlier in the file is UTC (or another
/// zone whose offset is always zero).
fn session_in_utc(cx: &StatementCx<'_>) -> bool {
    const ZERO: &[&str] = &["utc", "etc/utc", "gmt", "etc/gmt", "zulu", "uct"];
    for statement in cx.earlier().iter().rev() {
        let words: Vec<String> = statement.words().collect();
        let sets_zone = words.first().is_some_and(|w| w == "SET")
            && (words.iter().any(|w| w == "TIMEZONE")
                || words.windows(2).any(|p| p[0] == "TIME" && p[1] == "ZONE"));
        if !sets_zone {
            continue;
        }
        return statement.tokens.iter().rev().any(|t| match &t.token {
            sqlparser::tokenizer::Token::SingleQuotedString(v) => {
                ZERO.contains(&v.to_ascii_lowercase().as_str())
            }
            sqlparser::tokenizer::Token::Word(w) => {
                ZERO.contains(&w.value.to_ascii_lowercase().as_str())
            }
            _ => false,
        });
    }
    false
}

impl Rule for RewritingTypeChange {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_statement(&self, cx: &StatementCx<'_>, out: &mut Vec<Finding>) {
        let Some(ast) = cx.statement.ast() else {
            return;
        };
        let mysql = cx.dialect() == Dialect::Mysql;
        for site in type_changes(ast) {
            if !cx.existed_before(&site.table) {
                continue;
            }
            let (table, column, to) = (&site.table, &site.column, site.to);
            let from = cx
                .catalog
                .column(table, column)
                .and_then(|c| c.data_type.as_ref());
            let zone_switch = !mysql
                && from.is_some_and(|f| timestamp_zone_switch(&f.to_string(), &to.to_string()));
            let pg12 = !cx.options.postgres_older_than(12);
            if zone_switch && pg12 && site.using.is_none() && session_in_utc(cx) {
                continue;
            }
            let reason = match from {
                Some(from) => {
                    let judged = verdict(cx.dialect(), from, to);
                    let plain = site.using.is_none_or(|u| using_is_plain(u, column));
                    if judged.kind == TypeChange::Same || (judged.kind == TypeChange::Safe && plain)
                    {
                        continue;
                    }
                    if judged.kind == TypeChange::Safe {
                        format!(
                            "{from} → {to} alone would need no rewrite, but the USING expression is computed for every row"
                        )
                    } else {
                        format!("{from} → {to}: {}", judged.reason)
                    }
                }
                None => format!(
                    "the previous type is unknown to straddle, so a rewrite to {to} is assumed"
                ),
            };
            let (message, help) = if mysql {
                let note = if refuses_copy(ast) {
                    " (with the ALGORITHM or LOCK asked for, MySQL refuses the statement instead)"
                } else {
                    ""
                };
                (
                    format!(
                        "changing the type of `{table}.{column}` copies the whole table, blocking writes \
                         until the copy ends{note}: {reason}"
                    ),
                    format!(
                        "use an online schema change tool (gh-ost, pt-online-schema-change), or add a new \
                         column of type {to}, backfill it in batches, switch the app and drop `{column}` in a \
                         contract (`straddle new --change-type {table}.{column} '{to}'`)"
                    ),
                )
            } else {
                (
                    format!(
                        "changing the type of `{table}.{column}` rewrites `{table}` and all its indexes under \
                         an ACCESS EXCLUSIVE lock: {reason}"
                    ),
                    format!(
                        "add a new column instead: `ALTER TABLE {table} ADD COLUMN {column}_new {to};`, keep it \
                         in sync with a trigger, backfill it in batches, switch the app, then drop `{column}` in \
                         a contract (`straddle new --change-type {table}.{column} '{to}'`)"
                    ),
                )
            };
            let help = if zone_switch && pg12 && site.using.is_none() {
                format!(
                    "{help}; or, since PostgreSQL 12 this change skips the rewrite in a UTC session: \
                     put `SET LOCAL timezone = 'UTC';` before it in a transactional migration"
                )
            } else {
                help
            };
            out.push(cx.finding(self, message, help));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::check_fixture;

    #[test]
    fn fixtures() {
        check_fixture("rewriting-type-change");
    }
}
