//! `--add-foreign-key T.C REF(C)`
//!
//! PostgreSQL: the constraint is added `NOT VALID` (a brief lock, no scan),
//! then validated by a second migration, which scans without blocking writes.
//! MySQL cannot validate later: the constraint is added in place with checks
//! off, so existing rows are not checked (straddle prints the query that
//! finds orphans). SQLite cannot add a constraint without rebuilding the
//! table.

use super::add_index::parse_index_arg;
use super::names::{object_name, quote, quote_path};
use super::online::{IN_PLACE, lock_timeout};
use super::{Column, Draft, Plan, Target};
use crate::dialect::Dialect;
use crate::error::{Error, Result};

/// Parses `ref_table(col[, col])`.
pub fn parse_reference(arg: &str) -> Result<(String, Vec<String>)> {
    parse_index_arg(arg).map_err(|_| {
        Error::usage(format!(
            "`{arg}` is not TABLE(COLUMN) (for example `users(id)`)"
        ))
    })
}

pub fn plan(
    target: &Target,
    name: &str,
    column: &Column,
    references: &str,
    referenced: &[String],
) -> Result<Plan> {
    let d = target.dialect;
    if d == Dialect::Sqlite {
        return Err(Error::usage(
            "SQLite's ALTER TABLE cannot add a constraint to an existing table: the table must \
             be rebuilt (create a copy with the constraint, copy the rows, drop, rename), which \
             locks the whole database while it runs; straddle does not write that for you"
                .to_string(),
        ));
    }
    target.column(column)?;
    for r in referenced {
        target.column(&Column {
            table: references.to_string(),
            column: r.clone(),
        })?;
    }
    if referenced.len() != 1 {
        return Err(Error::usage(
            "--add-foreign-key takes one column on each side: TABLE.COLUMN REF(COLUMN)".to_string(),
        ));
    }
    let fk = object_name(&[&column.table, &column.column], "fkey");
    let (t, c, r, rc, k) = (
        quote_path(d, &column.table),
        quote(d, &column.column),
        quote_path(d, references),
        quote(d, &referenced[0]),
        quote(d, &fk),
    );
    let indexed = target.catalog.indexes.values().any(|i| {
        crate::sql::unquote(&i.table) == crate::sql::unquote(&column.table)
            && i.columns.first() == Some(&column.column)
    });
    let mut steps = Vec::new();
    let drafts = match d {
        Dialect::Postgres => {
            steps.push(format!(
                "straddle migrate expand: adds {fk} NOT VALID (new writes are checked from now \
                 on: make sure the running version never writes a {} without its {references})",
                column.column
            ));
            steps.push(
                "the second migration validates the existing rows without blocking writes".into(),
            );
            let lock = lock_timeout(d);
            let add = format!(
                "ALTER TABLE {t} ADD CONSTRAINT {k} FOREIGN KEY ({c}) REFERENCES {r} ({rc}) NOT VALID;\n"
            );
            let drop = format!("ALTER TABLE {t} DROP CONSTRAINT {k};\n");
            vec![
                Draft::expand(
                    name,
                    (format!("{lock}{add}"), format!("{lock}{drop}"), false),
                ),
                Draft::expand(
                    format!("{name}_validate"),
                    (
                        format!(
                            "-- Scans {t} under SHARE UPDATE EXCLUSIVE: reads and writes go on.\n\
                             ALTER TABLE {t} VALIDATE CONSTRAINT {k};\n"
                        ),
                        format!(
                            "-- PostgreSQL cannot un-validate a constraint: put it back as it was,\n\
                             -- NOT VALID (a brief lock, no scan).\n\
                             {lock}{drop}\n{add}"
                        ),
                        false,
                    ),
                ),
            ]
        }
        Dialect::Mysql => {
            steps.push(format!(
                "existing rows are not checked; find orphans with: SELECT {c} FROM {t} WHERE {c} IS NOT NULL AND {c} NOT IN (SELECT {rc} FROM {r})"
            ));
            let drop_index = if indexed {
                String::new()
            } else {
                format!("\nALTER TABLE {t} DROP INDEX {k}{IN_PLACE};\n")
            };
            vec![Draft::expand(
                name,
                (
                    format!(
                        "-- With checks off, InnoDB adds the constraint in place without copying the\n\
                         -- table; existing rows are not checked.\n\
                         SET foreign_key_checks = 0;\n\n\
                         ALTER TABLE {t} ADD CONSTRAINT {k} FOREIGN KEY ({c}) REFERENCES {r} ({rc}){IN_PLACE};\n\n\
                         SET foreign_key_checks = 1;\n"
                    ),
                    format!("ALTER TABLE {t} DROP FOREIGN KEY {k}{IN_PLACE};\n{drop_index}"),
                    false,
                ),
            )]
        }
        Dialect::Sqlite => unreachable!("refused above"),
    };
    if !indexed {
        steps.push(format!(
            "an index on {}({}) keeps the check and deletes on {references} fast: \
             straddle new --add-index \"{}({})\"",
            column.table, column.column, column.table, column.column
        ));
    }
    Ok(Plan { drafts, steps })
}
