//! `--add-column T.C TYPE [--default V] [--not-null]`
//!
//! A nullable column, or one with a constant default, is one expand. A
//! required column without a default cannot be: old instances insert rows
//! without it. The expand adds it nullable; once every running version writes
//! it and old rows are filled, the contract makes it `NOT NULL` without a
//! long lock (PostgreSQL: a `CHECK … NOT VALID`, validated, lets `SET NOT
//! NULL` skip its scan).

use super::names::{object_name, quote, quote_path};
use super::online::{in_place, instant, lock_timeout, mysql_modify_null, postgres_set_not_null};
use super::{Column, Draft, Plan, Target, default_clause};
use crate::dialect::Dialect;
use crate::error::{Error, Result};

/// Whether a default is cheap to add to an existing table: a literal (maybe
/// cast) or the transaction's time, which PostgreSQL ≥ 11 stores once instead
/// of rewriting every row.
pub(super) fn constant_default(value: &str) -> bool {
    let v = value.trim().to_ascii_lowercase();
    let v = v.split("::").next().unwrap_or(&v).trim();
    let literal =
        v.starts_with('\'') || v.parse::<f64>().is_ok() || matches!(v, "true" | "false" | "null");
    literal
        || matches!(
            v,
            "now()" | "current_timestamp" | "current_date" | "current_time" | "localtimestamp"
        )
}

pub fn plan(
    target: &Target,
    name: &str,
    column: &Column,
    ty: &str,
    default: Option<&str>,
    not_null: bool,
) -> Result<Plan> {
    let d = target.dialect;
    target.table(&column.table)?;
    target.column_is_free(column)?;
    let ty = target.check_type(ty)?;
    let default = default.map(|v| target.check_expression(v)).transpose()?;
    let t = quote_path(d, &column.table);
    let c = quote(d, &column.column);
    let mut plan = Plan::default();

    if let Some(value) = &default
        && d == Dialect::Postgres
        && !constant_default(value)
    {
        return Err(Error::usage(format!(
            "`{value}` is not a constant: on an existing table PostgreSQL would rewrite every row \
             to fill it. Add the column without --default, then set the default and backfill in \
             batches in a separate migration"
        )));
    }

    let default_sql = default_clause(default.as_deref());
    let required_now = not_null && default.is_some();
    let not_null_sql = if required_now { " NOT NULL" } else { "" };

    if d == Dialect::Sqlite && not_null && default.is_none() {
        return Err(Error::usage(
            "SQLite cannot add a NOT NULL column without a default, nor make a column \
             NOT NULL later without rebuilding the table: give --default"
                .to_string(),
        ));
    }
    let lock = lock_timeout(d);
    let add = format!(
        "{lock}ALTER TABLE {t} ADD COLUMN {c} {ty}{not_null_sql}{default_sql}{};\n",
        instant(d)
    );
    let drop = format!("{lock}ALTER TABLE {t} DROP COLUMN {c}{};\n", in_place(d));
    plan.drafts.push(Draft::expand(name, (add, drop, false)));

    if not_null && default.is_none() {
        let check = object_name(&[&column.table, &column.column], "not_null");
        let contract = match d {
            Dialect::Postgres => (
                format!(
                    "-- Runs outside a transaction: each step commits on its own, so no step holds\n\
                     -- its lock for longer than it needs. The validated CHECK lets SET NOT NULL\n\
                     -- skip its full-table scan (PostgreSQL 12+).\n\
                     {lock}{}",
                    postgres_set_not_null(&t, &c, &check)
                ),
                format!("{lock}ALTER TABLE {t} ALTER COLUMN {c} DROP NOT NULL;\n"),
                true,
            ),
            Dialect::Mysql => (
                mysql_modify_null(&t, &c, &ty, true, ""),
                mysql_modify_null(&t, &c, &ty, false, ""),
                false,
            ),
            Dialect::Sqlite => unreachable!("refused above"),
        };
        plan.drafts
            .push(Draft::contract_of(0, format!("{name}_not_null"), contract));
        plan.steps = vec![
            format!(
                "straddle migrate expand: adds {}.{} as a nullable column",
                column.table, column.column
            ),
            "roll out the app version that writes the column on every insert and update".into(),
            format!(
                "fill the existing rows in batches (UPDATE {t} SET {c} = … WHERE {c} IS NULL AND <key range>)"
            ),
            "straddle migrate contract: once the rollout is complete, makes the column NOT NULL"
                .into(),
        ];
    } else {
        plan.steps = vec![
            format!(
                "straddle migrate expand: adds {}.{}",
                column.table, column.column
            ),
            "roll out the app version that uses it; the running version ignores it".into(),
        ];
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_and_time_are_cheap_defaults() {
        for v in [
            "0",
            "'active'",
            "'{}'::jsonb",
            "true",
            "now()",
            "CURRENT_TIMESTAMP",
        ] {
            assert!(constant_default(v), "{v}");
        }
        for v in ["gen_random_uuid()", "random()", "nextval('s')"] {
            assert!(!constant_default(v), "{v}");
        }
    }
}
