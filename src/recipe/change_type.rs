//! `--change-type T.C NEWTYPE`
//!
//! Changing a type in place rewrites the table under an exclusive lock and
//! hands the running version values of a type it does not expect. The expand
//! adds a column of the new type (named `C_NEWTYPE` unless `--into` says
//! otherwise) kept in step with casts both ways; the app moves over; the
//! contract drops the old column.

use super::moving::{self, Move};
use super::{Column, Plan, Target, slug};
use crate::error::{Error, Result};

pub fn plan(
    target: &Target,
    name: &str,
    column: &Column,
    new_type: &str,
    into: Option<&str>,
) -> Result<Plan> {
    let new_type = target.check_type(new_type)?;
    let old_type = target.column_type(column)?.unwrap_or_default();
    if old_type.eq_ignore_ascii_case(&new_type) {
        return Err(Error::usage(format!(
            "`{}.{}` is already of type {new_type}",
            column.table, column.column
        )));
    }
    let new_name = match into {
        Some(n) => n.to_string(),
        None => format!("{}_{}", column.column, slug(&new_type)),
    };
    moving::plan(
        target,
        name,
        Move {
            column,
            new_name: &new_name,
            new_type: new_type.clone(),
            // MySQL's CAST takes only a few target types (SIGNED, CHAR, …);
            // assigning to the column converts the value there anyway.
            to_new: if target.dialect == crate::dialect::Dialect::Mysql {
                "{}".into()
            } else {
                format!("CAST({{}} AS {new_type})")
            },
            to_old: if old_type.is_empty() || target.dialect == crate::dialect::Dialect::Mysql {
                "{}".into()
            } else {
                format!("CAST({{}} AS {old_type})")
            },
            reason: format!("its values live on in {new_name} as {new_type}"),
        },
    )
}
