//! `--set-not-null T.C [--default V]`
//!
//! Requiring a value breaks every running instance that writes rows without
//! it, so the constraint belongs in a contract. The expand prepares: with
//! `--default`, it sets the default for new rows and fills the existing NULLs
//! in batches. The contract adds the constraint without a long lock.

use super::names::{object_name, quote, quote_path};
use super::online::{lock_timeout, mysql_modify_null, postgres_set_not_null};
use super::sync::batched_update;
use super::{Column, Plan, Target, default_clause, sql_type};
use crate::dialect::Dialect;
use crate::error::{Error, Result};

pub fn plan(target: &Target, name: &str, column: &Column, default: Option<&str>) -> Result<Plan> {
    let d = target.dialect;
    if d == Dialect::Sqlite {
        return Err(Error::usage(
            "SQLite cannot make an existing column NOT NULL without rebuilding the table; \
             straddle does not write that for you"
                .to_string(),
        ));
    }
    let known = target.column(column)?;
    if known.is_some_and(|c| c.not_null) {
        return Err(Error::usage(format!(
            "`{}.{}` is NOT NULL already",
            column.table, column.column
        )));
    }
    let ty = known.and_then(sql_type);
    if d == Dialect::Mysql && ty.is_none() {
        return Err(Error::usage(format!(
            "MySQL restates the type to change NULL: straddle does not know the type of `{}.{}`",
            column.table, column.column
        )));
    }
    let default = default.map(|v| target.check_expression(v)).transpose()?;
    let table = target.table(&column.table)?;
    let (t, c) = (quote_path(d, &column.table), quote(d, &column.column));
    let lock = lock_timeout(d);
    let previous_default = known.and_then(|c| c.default.clone());
    let expand = match &default {
        Some(value) => {
            let fill = batched_update(
                d,
                &column.table,
                table,
                &format!("{c} = {value}"),
                &format!("{c} IS NULL"),
                &object_name(&[&column.table, &column.column], "fill"),
            );
            let restore = match &previous_default {
                Some(p) => format!("ALTER TABLE {t} ALTER COLUMN {c} SET DEFAULT {p};\n"),
                None => format!("ALTER TABLE {t} ALTER COLUMN {c} DROP DEFAULT;\n"),
            };
            (
                format!(
                    "{lock}-- New rows get a value even from the running version.\n\
                     ALTER TABLE {t} ALTER COLUMN {c} SET DEFAULT {value};\n\n{fill}"
                ),
                format!("{lock}-- The filled values stay: they were NULL before.\n{restore}"),
                d == Dialect::Postgres || d == Dialect::Mysql,
            )
        }
        None => (
            "-- Nothing to change in the schema: roll out the version that always writes the\n\
             -- column, and fill the rows where it is NULL, before the contract.\n"
                .to_string(),
            "-- Nothing to undo.\n".to_string(),
            false,
        ),
    };
    let contract = match d {
        Dialect::Postgres => {
            let check = quote(
                d,
                &object_name(&[&column.table, &column.column], "not_null"),
            );
            (
                format!(
                    "-- Outside a transaction, each step commits on its own; the validated CHECK\n\
                     -- lets SET NOT NULL skip its scan (PostgreSQL 12+).\n\
                     {lock}{}",
                    postgres_set_not_null(&t, &c, &check)
                ),
                format!("{lock}ALTER TABLE {t} ALTER COLUMN {c} DROP NOT NULL;\n"),
                true,
            )
        }
        Dialect::Mysql => {
            let ty = ty.unwrap_or_default();
            let keep_default = default_clause(default.as_deref().or(previous_default.as_deref()));
            (
                mysql_modify_null(&t, &c, &ty, true, &keep_default),
                mysql_modify_null(&t, &c, &ty, false, &keep_default),
                false,
            )
        }
        Dialect::Sqlite => unreachable!("refused above"),
    };
    let mut steps = vec![match &default {
        Some(v) => format!(
            "straddle migrate expand: new rows default to {v}, existing NULLs are filled with it"
        ),
        None => format!(
            "straddle migrate expand (no schema change), then fill the rows where {}.{} is NULL",
            column.table, column.column
        ),
    }];
    steps.push(format!(
        "roll out the app version that always writes {}",
        column.column
    ));
    steps.push(
        "straddle migrate contract: once no old instance is left, makes the column NOT NULL".into(),
    );
    Ok(Plan::pair(name, expand, contract, steps))
}
