//! `--add-column T.C TYPE [--default V] [--not-null]`
//!
//! A nullable column, or one with a constant default, is one expand. A
//! required column without a default cannot be: old instances insert rows
//! without it. The expand adds it nullable; once every running version writes
//! it and old rows are filled, the contract makes it `NOT NULL` without a
//! long lock (PostgreSQL: a `CHECK … NOT VALID`, validated, lets `SET NOT
//! NULL` skip its scan).

use super::names::{object_name, quote, quote_path};
use super::{Column, Draft, DraftPhase, Plan, Target};
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

    let default_sql = default
        .as_ref()
        .map(|v| format!(" DEFAULT {v}"))
        .unwrap_or_default();
    let required_now = not_null && default.is_some();
    let not_null_sql = if required_now { " NOT NULL" } else { "" };

    let add = match d {
        Dialect::Postgres => format!(
            "SET lock_timeout = '2s';\n\nALTER TABLE {t} ADD COLUMN {c} {ty}{not_null_sql}{default_sql};\n"
        ),
        Dialect::Mysql => format!(
            "ALTER TABLE {t} ADD COLUMN {c} {ty}{not_null_sql}{default_sql}, ALGORITHM=INSTANT;\n"
        ),
        Dialect::Sqlite => {
            if not_null && default.is_none() {
                return Err(Error::usage(
                    "SQLite cannot add a NOT NULL column without a default, nor make a column \
                     NOT NULL later without rebuilding the table: give --default"
                        .to_string(),
                ));
            }
            format!("ALTER TABLE {t} ADD COLUMN {c} {ty}{not_null_sql}{default_sql};\n")
        }
    };
    let drop = match d {
        Dialect::Postgres => {
            format!("SET lock_timeout = '2s';\n\nALTER TABLE {t} DROP COLUMN {c};\n")
        }
        Dialect::Mysql => {
            format!("ALTER TABLE {t} DROP COLUMN {c}, ALGORITHM=INPLACE, LOCK=NONE;\n")
        }
        Dialect::Sqlite => format!("ALTER TABLE {t} DROP COLUMN {c};\n"),
    };
    plan.drafts.push(Draft {
        name: name.to_string(),
        phase: DraftPhase::Expand,
        no_transaction: false,
        up: add,
        down: drop,
    });

    if not_null && default.is_none() {
        let check = object_name(&[&column.table, &column.column], "not_null");
        let (up, down, no_transaction) = match d {
            Dialect::Postgres => (
                format!(
                    "-- Runs outside a transaction: each step commits on its own, so no step holds\n\
                     -- its lock for longer than it needs. The validated CHECK lets SET NOT NULL\n\
                     -- skip its full-table scan (PostgreSQL 12+).\n\
                     SET lock_timeout = '2s';\n\n\
                     ALTER TABLE {t} ADD CONSTRAINT {check} CHECK ({c} IS NOT NULL) NOT VALID;\n\n\
                     ALTER TABLE {t} VALIDATE CONSTRAINT {check};\n\n\
                     ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL;\n\n\
                     ALTER TABLE {t} DROP CONSTRAINT {check};\n"
                ),
                format!(
                    "SET lock_timeout = '2s';\n\nALTER TABLE {t} ALTER COLUMN {c} DROP NOT NULL;\n"
                ),
                true,
            ),
            Dialect::Mysql => (
                format!(
                    "ALTER TABLE {t} MODIFY COLUMN {c} {ty} NOT NULL, ALGORITHM=INPLACE, LOCK=NONE;\n"
                ),
                format!(
                    "ALTER TABLE {t} MODIFY COLUMN {c} {ty} NULL, ALGORITHM=INPLACE, LOCK=NONE;\n"
                ),
                false,
            ),
            Dialect::Sqlite => unreachable!("refused above"),
        };
        plan.drafts.push(Draft {
            name: format!("{name}_not_null"),
            phase: DraftPhase::ContractOf(0),
            no_transaction,
            up,
            down,
        });
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
