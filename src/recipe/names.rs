//! Names in recipes: parsing `table.column` arguments and quoting
//! identifiers only where the dialect needs it.

use crate::dialect::Dialect;
use crate::error::{Error, Result};

/// A `table.column` argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    /// The table, possibly schema-qualified (`app.users`).
    pub table: String,
    pub column: String,
}

impl Column {
    /// Parses `table.column` (or `schema.table.column`).
    pub fn parse(arg: &str) -> Result<Column> {
        let arg = arg.trim();
        match arg.rsplit_once('.') {
            Some((table, column)) if !table.is_empty() && !column.is_empty() => Ok(Column {
                table: table.to_string(),
                column: column.to_string(),
            }),
            _ => Err(Error::usage(format!(
                "`{arg}` is not TABLE.COLUMN (for example `users.email`)"
            ))),
        }
    }
}

/// Words that must be quoted when used as names in at least one of the
/// dialects (the reserved words of PostgreSQL and MySQL).
const RESERVED: &[&str] = &[
    "all",
    "analyse",
    "analyze",
    "and",
    "any",
    "array",
    "as",
    "asc",
    "asymmetric",
    "both",
    "by",
    "case",
    "cast",
    "change",
    "check",
    "collate",
    "column",
    "condition",
    "constraint",
    "create",
    "cross",
    "current_date",
    "current_role",
    "current_time",
    "current_timestamp",
    "current_user",
    "database",
    "databases",
    "default",
    "deferrable",
    "delete",
    "desc",
    "distinct",
    "div",
    "do",
    "drop",
    "else",
    "end",
    "except",
    "exists",
    "explain",
    "false",
    "fetch",
    "for",
    "foreign",
    "from",
    "fulltext",
    "grant",
    "group",
    "having",
    "if",
    "ignore",
    "in",
    "index",
    "initially",
    "inner",
    "insert",
    "interval",
    "intersect",
    "into",
    "is",
    "join",
    "key",
    "keys",
    "kill",
    "lateral",
    "leading",
    "left",
    "like",
    "limit",
    "lines",
    "load",
    "localtime",
    "localtimestamp",
    "lock",
    "long",
    "match",
    "natural",
    "not",
    "null",
    "offset",
    "on",
    "only",
    "or",
    "order",
    "outer",
    "placing",
    "primary",
    "range",
    "read",
    "references",
    "regexp",
    "rename",
    "replace",
    "require",
    "returning",
    "right",
    "schema",
    "select",
    "session_user",
    "set",
    "show",
    "some",
    "spatial",
    "sql",
    "symmetric",
    "table",
    "then",
    "to",
    "trailing",
    "trigger",
    "true",
    "union",
    "unique",
    "unlock",
    "unsigned",
    "update",
    "usage",
    "use",
    "user",
    "using",
    "values",
    "variadic",
    "when",
    "where",
    "window",
    "with",
    "write",
    "xor",
];

/// `name` as an identifier of `dialect`: bare when it is a plain lower-case
/// name that is not reserved, quoted (with embedded quotes doubled) otherwise.
pub fn quote(dialect: Dialect, name: &str) -> String {
    let plain = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !RESERVED.contains(&name);
    if plain {
        return name.to_string();
    }
    let q = if dialect == Dialect::Mysql { '`' } else { '"' };
    let escaped = name.replace(q, &format!("{q}{q}"));
    format!("{q}{escaped}{q}")
}

/// A possibly schema-qualified name, each part quoted as needed.
pub fn quote_path(dialect: Dialect, path: &str) -> String {
    path.split('.')
        .map(|part| quote(dialect, part))
        .collect::<Vec<_>>()
        .join(".")
}

/// A name for a generated object (index, constraint, trigger), within the
/// 63-byte limit of PostgreSQL and 64 of MySQL.
pub fn object_name(parts: &[&str], suffix: &str) -> String {
    let base: Vec<String> = parts
        .iter()
        .map(|p| p.rsplit('.').next().unwrap_or(p).to_lowercase())
        .collect();
    let mut name = format!("{}_{suffix}", base.join("_"));
    if name.len() > 63 {
        let keep = 63 - suffix.len() - 1;
        let mut head: String = base.join("_");
        while head.len() > keep {
            head.pop();
        }
        name = format!("{head}_{suffix}");
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_when_needed() {
        assert_eq!(quote(Dialect::Postgres, "email"), "email");
        assert_eq!(quote(Dialect::Postgres, "user"), "\"user\"");
        assert_eq!(quote(Dialect::Postgres, "Email"), "\"Email\"");
        assert_eq!(quote(Dialect::Mysql, "order"), "`order`");
        assert_eq!(quote(Dialect::Sqlite, "a\"b"), "\"a\"\"b\"");
        assert_eq!(quote_path(Dialect::Postgres, "app.user"), "app.\"user\"");
    }

    #[test]
    fn parses_table_column() {
        assert_eq!(
            Column::parse("app.users.email").unwrap(),
            Column {
                table: "app.users".into(),
                column: "email".into()
            }
        );
        assert!(Column::parse("users").is_err());
        assert!(Column::parse(".x").is_err());
    }

    #[test]
    fn object_names_fit() {
        let long = "a".repeat(80);
        assert!(object_name(&[&long, "b"], "idx").len() <= 63);
        assert_eq!(
            object_name(&["app.users", "email"], "idx"),
            "users_email_idx"
        );
    }
}
