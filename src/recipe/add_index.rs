//! `--add-index T(C,…) [--unique]`
//!
//! An index is additive: one expand. PostgreSQL builds it `CONCURRENTLY` in a
//! migration of its own that runs outside a transaction; MySQL builds it
//! in place without locking writes; SQLite has no online build, so the index
//! is created plainly.

use super::names::{object_name, quote, quote_path};
use super::online::IN_PLACE;
use super::{Draft, Plan, Target};
use crate::dialect::Dialect;
use crate::error::{Error, Result};

/// Parses `table(col, col)`.
pub fn parse_index_arg(arg: &str) -> Result<(String, Vec<String>)> {
    let arg = arg.trim();
    let bad = || {
        Error::usage(format!(
            "`{arg}` is not TABLE(COLUMN[,COLUMN…]) (for example `orders(user_id,created_at)`)"
        ))
    };
    let (table, rest) = arg.split_once('(').ok_or_else(bad)?;
    let columns = rest.strip_suffix(')').ok_or_else(bad)?;
    let columns: Vec<String> = columns
        .split(',')
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty())
        .collect();
    if table.trim().is_empty() || columns.is_empty() {
        return Err(bad());
    }
    Ok((table.trim().to_string(), columns))
}

pub fn plan(
    target: &Target,
    name: &str,
    table: &str,
    columns: &[String],
    unique: bool,
) -> Result<Plan> {
    let d = target.dialect;
    for column in columns {
        target.column(&super::Column {
            table: table.to_string(),
            column: column.clone(),
        })?;
    }
    let mut parts: Vec<&str> = vec![table];
    parts.extend(columns.iter().map(String::as_str));
    let index = object_name(&parts, if unique { "key" } else { "idx" });
    if target.catalog.indexes.contains_key(&index) {
        return Err(Error::usage(format!(
            "an index named `{index}` exists already"
        )));
    }
    let t = quote_path(d, table);
    let i = quote(d, &index);
    let cols = columns
        .iter()
        .map(|c| quote(d, c))
        .collect::<Vec<_>>()
        .join(", ");
    let unique_sql = if unique { "UNIQUE " } else { "" };
    let body = match d {
        Dialect::Postgres => (
            format!(
                "-- Alone in its migration and outside a transaction, as CONCURRENTLY requires.\n\
                 -- If the build fails it leaves an INVALID index behind: drop it with\n\
                 -- DROP INDEX CONCURRENTLY {i}; and run the migration again.\n\
                 CREATE {unique_sql}INDEX CONCURRENTLY IF NOT EXISTS {i} ON {t} ({cols});\n"
            ),
            format!("DROP INDEX CONCURRENTLY IF EXISTS {i};\n"),
            true,
        ),
        Dialect::Mysql => (
            format!("ALTER TABLE {t} ADD {unique_sql}INDEX {i} ({cols}){IN_PLACE};\n"),
            format!("ALTER TABLE {t} DROP INDEX {i}{IN_PLACE};\n"),
            false,
        ),
        Dialect::Sqlite => (
            format!("CREATE {unique_sql}INDEX IF NOT EXISTS {i} ON {t} ({cols});\n"),
            format!("DROP INDEX IF EXISTS {i};\n"),
            false,
        ),
    };
    let mut steps = vec![format!("straddle migrate expand: builds {index}")];
    if unique {
        steps.push(
            "a unique index fails to build while duplicates exist, and from then on refuses \
             duplicate writes from every running version: check both before you deploy"
                .into(),
        );
    }
    Ok(Plan {
        drafts: vec![Draft::expand(name, body)],
        steps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_index_argument() {
        assert_eq!(
            parse_index_arg("orders(user_id, created_at)").unwrap(),
            (
                "orders".to_string(),
                vec!["user_id".to_string(), "created_at".to_string()]
            )
        );
        assert!(parse_index_arg("orders").is_err());
        assert!(parse_index_arg("orders()").is_err());
    }
}
