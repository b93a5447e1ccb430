//! `--drop-column T.C`
//!
//! The running version still reads and writes the column, so it cannot go
//! yet. The expand only makes sure the next version can live without it (a
//! required column without a default becomes nullable); the contract drops
//! it once no instance uses it.

use super::names::{quote, quote_path};
use super::online::{in_place, instant, lock_timeout, mysql_modify_null};
use super::{Column, Plan, Target, default_clause, required_type, version_of};
use crate::dialect::Dialect;
use crate::error::{Error, Result};

pub fn plan(target: &Target, name: &str, column: &Column) -> Result<Plan> {
    let d = target.dialect;
    let known = target.column(column)?.ok_or_else(|| {
        Error::usage(format!(
            "straddle does not know `{}.{}`: the down migration must re-create it, so its type \
             has to come from the migrations in {}",
            column.table,
            column.column,
            target.dir.display()
        ))
    })?;
    let ty = required_type(known, column)?;
    let t = quote_path(d, &column.table);
    let c = quote(d, &column.column);
    let default = default_clause(known.default.as_deref());
    let lock = lock_timeout(d);
    let must_relax = known.not_null && known.default.is_none();
    let mut steps = Vec::new();
    let (expand_up, expand_down) = match (must_relax, d) {
        (true, Dialect::Postgres) => (
            format!(
                "-- The next version stops writing {c}: it must not be required any more.\n\
                 {lock}-- straddle:allow drop-not-null -- the next version stops writing {c}; the running one must read NULL there until the contract\n\
                 ALTER TABLE {t} ALTER COLUMN {c} DROP NOT NULL;\n"
            ),
            format!(
                "-- Fails if rows without {c} were written since the expand: fill them first.\n\
                 {lock}ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL;\n"
            ),
        ),
        (true, Dialect::Mysql) => (
            format!(
                "-- The next version stops writing {c}: it must not be required any more.\n\
                 -- straddle:allow drop-not-null -- the next version stops writing {c}; the running one must read NULL there until the contract\n\
                 {}",
                mysql_modify_null(&t, &c, &ty, false, "")
            ),
            format!(
                "-- Fails if rows without {c} were written since the expand: fill them first.\n\
                 {}",
                mysql_modify_null(&t, &c, &ty, true, "")
            ),
        ),
        (true, Dialect::Sqlite) => {
            steps.push(format!(
                "SQLite cannot relax NOT NULL without rebuilding the table: the next version \
                 must keep writing {} until the contract has run",
                column.column
            ));
            (
                "-- Nothing to change in the schema: the next version stops reading the column.\n"
                    .to_string(),
                "-- Nothing to undo.\n".to_string(),
            )
        }
        (false, _) => (
            "-- Nothing to change in the schema: the next version stops reading and writing\n\
             -- the column, the running one keeps using it until the contract.\n"
                .to_string(),
            "-- Nothing to undo.\n".to_string(),
        ),
    };
    let nullable_again = if must_relax && d != Dialect::Sqlite {
        ""
    } else if known.not_null {
        " NOT NULL"
    } else {
        ""
    };
    let (drop_suffix, add_suffix) = (in_place(d), instant(d));
    let contract_up = format!(
        "{lock}-- straddle:allow drop-column -- no released version uses it since the rollout after expand {}\n\
         ALTER TABLE {t} DROP COLUMN {c}{drop_suffix};\n",
        version_of(0)
    );
    let contract_down = format!(
        "-- Restores the column; its values are gone (restore them from a backup if needed).\n\
         {lock}ALTER TABLE {t} ADD COLUMN {c} {ty}{nullable_again}{default}{add_suffix};\n"
    );
    steps.insert(
        0,
        format!(
            "straddle migrate expand, then roll out the app version that no longer reads or \
             writes {}.{}",
            column.table, column.column
        ),
    );
    if must_relax && d != Dialect::Sqlite {
        steps.insert(
            0,
            format!(
                "the expand makes {} nullable: rows the next version inserts leave it NULL, so \
                 the running version must cope with NULL there (check before you deploy)",
                column.column
            ),
        );
    }
    steps.push(
        "straddle migrate contract: once the rollout is complete and no old instance is left, \
         drops the column (back it up first if its data may matter later)"
            .into(),
    );
    Ok(Plan::pair(
        name,
        (expand_up, expand_down, false),
        (contract_up, contract_down, false),
        steps,
    ))
}
