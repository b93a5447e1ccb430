//! `--rename-column T.OLD T.NEW`
//!
//! A rename in place breaks whichever version does not know the new name. So
//! the expand adds the new column and keeps both in step, the app moves over,
//! and the contract drops the old column.

use super::moving::{self, Move};
use super::{Column, Plan, Target};
use crate::error::{Error, Result};

/// Accepts `T.NEW` or plain `NEW` for the new name.
pub fn new_name<'a>(column: &Column, arg: &'a str) -> Result<&'a str> {
    let name = match arg.rsplit_once('.') {
        Some((table, name)) => {
            if table != column.table {
                return Err(Error::usage(format!(
                    "`{arg}` names another table than `{}`: a column stays in its table \
                     (to move a table, use --rename-table)",
                    column.table
                )));
            }
            name
        }
        None => arg,
    };
    if name.is_empty() || name == column.column {
        return Err(Error::usage(format!(
            "`{arg}` is not a new name for `{}.{}`",
            column.table, column.column
        )));
    }
    Ok(name)
}

pub fn plan(target: &Target, name: &str, column: &Column, new: &str) -> Result<Plan> {
    let new = new_name(column, new)?;
    let ty = target.column_type(column)?.unwrap_or_default();
    moving::plan(
        target,
        name,
        Move {
            column,
            new_name: new,
            new_type: ty,
            to_new: "{}".into(),
            to_old: "{}".into(),
            reason: format!("renamed to {new}: its values live on there"),
        },
    )
}
