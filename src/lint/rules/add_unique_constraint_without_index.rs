//! # add-unique-constraint-without-index
//!
//! **What it does.** Flags `ALTER TABLE … ADD [CONSTRAINT …] UNIQUE (…)` and
//! `ADD [CONSTRAINT …] PRIMARY KEY (…)` on a table that existed before this
//! migration when the constraint is not built `USING INDEX` an index made
//! beforehand (PostgreSQL). `ADD COLUMN … UNIQUE` and `ADD COLUMN … PRIMARY
//! KEY` are flagged for the same reason.
//!
//! **Why it is dangerous.** The constraint needs a unique index, and
//! `ALTER TABLE` builds it on the spot while holding an ACCESS EXCLUSIVE
//! lock: no query, not even a `SELECT`, can touch the table for the whole
//! build (and, in a transactional migration, until the commit). On a large
//! table that is minutes of downtime.
//!
//! **Safe alternative.** Build the unique index concurrently first, in a
//! `-- no-transaction` migration of its own, then turn it into the
//! constraint, which is instant:
//!
//! ```sql
//! -- 20240101120000_users_email_key_index.up.sql
//! -- no-transaction
//! CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS users_email_key ON users (email);
//!
//! -- 20240101120100_users_email_key.up.sql
//! ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key;
//! ```
//!
//! If the concurrent build fails (a duplicate value, say), it leaves an
//! INVALID index: drop it with `DROP INDEX CONCURRENTLY IF EXISTS …`, fix the
//! data and retry. For a `PRIMARY KEY … USING INDEX`, PostgreSQL also makes
//! the columns NOT NULL, which scans the table under the ACCESS EXCLUSIVE
//! lock unless they are NOT NULL already or a validated `CHECK (col IS NOT
//! NULL)` proves it (PostgreSQL 12+; see `set-not-null-full-scan`).
//!
//! **Example.**
//!
//! ```sql
//! ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email); -- flagged: builds the index under ACCESS EXCLUSIVE
//! ```
//!
//! A constraint on a table created earlier in the same migration is not
//! flagged: the table is new and nobody waits for it.

use sqlparser::ast::{
    AlterTableOperation, ColumnOption, ConstraintCharacteristics, Ident, IndexColumn,
    TableConstraint,
};

use crate::dialect::Dialect;
use crate::lint::{Rule, RuleMeta, StatementCx};
use crate::sql::ident_key;
use crate::{Category, Finding, Severity};

pub struct AddUniqueConstraintWithoutIndex;

static META: RuleMeta = RuleMeta {
    id: "add-unique-constraint-without-index",
    category: Category::Locking,
    severity: Severity::Error,
    summary: "adding a UNIQUE or PRIMARY KEY constraint builds its index under an ACCESS EXCLUSIVE lock",
    why: "the table is locked against all reads and writes while the whole unique index is built",
    dialects: &[Dialect::Postgres],
};

/// What a flagged constraint is made of.
struct Key<'a> {
    primary: bool,
    name: Option<&'a Ident>,
    columns: Vec<String>,
    include: &'a [Ident],
    nulls: String,
    characteristics: Option<&'a ConstraintCharacteristics>,
}

fn columns_of(columns: &[IndexColumn]) -> Vec<String> {
    columns.iter().map(|c| c.to_string()).collect()
}

impl Key<'_> {
    fn keyword(&self) -> &'static str {
        if self.primary {
            "PRIMARY KEY"
        } else {
            "UNIQUE"
        }
    }

    /// The two safe statements, for the table written `table_sql` whose
    /// catalog key ends in `short`.
    fn safe_sql(&self, table_sql: &str, short: &str, bare_table: &str) -> (String, String) {
        let name = match self.name {
            Some(name) => name.to_string(),
            None if self.primary => format!("{short}_pkey"),
            None => {
                let cols: Vec<String> = self
                    .columns
                    .iter()
                    .map(|c| c.trim_matches('"').to_lowercase())
                    .collect();
                format!("{short}_{}_key", cols.join("_"))
            }
        };
        let include = if self.include.is_empty() {
            String::new()
        } else {
            let names: Vec<String> = self.include.iter().map(|i| i.to_string()).collect();
            format!(" INCLUDE ({})", names.join(", "))
        };
        let characteristics = self
            .characteristics
            .map(|c| format!(" {c}"))
            .unwrap_or_default();
        (
            format!(
                "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {bare_table} ({}){include}{};",
                self.columns.join(", "),
                self.nulls
            ),
            format!(
                "ALTER TABLE {table_sql} ADD CONSTRAINT {name} {} USING INDEX {name}{characteristics};",
                self.keyword()
            ),
        )
    }
}

impl Rule for AddUniqueConstraintWithoutIndex {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_statement(&self, cx: &StatementCx<'_>, out: &mut Vec<Finding>) {
        let Some((alter, table)) = cx.alter_existing() else {
            return;
        };
        let short = table.rsplit('.').next().unwrap_or(&table).to_string();
        let bare_table = alter.name.to_string();
        let table_sql = if alter.only {
            format!("ONLY {bare_table}")
        } else {
            bare_table.clone()
        };
        for operation in &alter.operations {
            let mut keys: Vec<(Key<'_>, Option<String>)> = Vec::new();
            match operation {
                AlterTableOperation::AddConstraint { constraint, .. } => match constraint {
                    TableConstraint::Unique(c) => keys.push((
                        Key {
                            primary: false,
                            name: c.name.as_ref(),
                            columns: columns_of(&c.columns),
                            include: &c.include,
                            nulls: c.nulls_distinct.to_string(),
                            characteristics: c.characteristics.as_ref(),
                        },
                        None,
                    )),
                    TableConstraint::PrimaryKey(c) => keys.push((
                        Key {
                            primary: true,
                            name: c.name.as_ref(),
                            columns: columns_of(&c.columns),
                            include: &c.include,
                            nulls: String::new(),
                            characteristics: c.characteristics.as_ref(),
                        },
                        None,
                    )),
                    _ => {}
                },
                AlterTableOperation::AddColumn { column_def, .. } => {
                    let column = ident_key(&column_def.name);
                    for option in &column_def.options {
                        let (primary, name, include, nulls, characteristics) = match &option.option
                        {
                            ColumnOption::Unique(c) => (
                                false,
                                c.name.as_ref().or(option.name.as_ref()),
                                &c.include[..],
                                c.nulls_distinct.to_string(),
                                c.characteristics.as_ref(),
                            ),
                            ColumnOption::PrimaryKey(c) => (
                                true,
                                c.name.as_ref().or(option.name.as_ref()),
                                &c.include[..],
                                String::new(),
                                c.characteristics.as_ref(),
                            ),
                            _ => continue,
                        };
                        keys.push((
                            Key {
                                primary,
                                name,
                                columns: vec![column_def.name.to_string()],
                                include,
                                nulls,
                                characteristics,
                            },
                            Some(column.clone()),
                        ));
                    }
                }
                _ => {}
            }
            for (key, new_column) in keys {
                let (index, constraint) = key.safe_sql(&table_sql, &short, &bare_table);
                let keyword = key.keyword();
                let (message, first) = match &new_column {
                    Some(column) => (
                        format!(
                            "`{keyword}` on new column `{table}.{column}` builds a unique index \
                             while `{table}` is locked against all reads and writes"
                        ),
                        format!("add the column without `{keyword}`, then "),
                    ),
                    None => (
                        format!(
                            "adding a {keyword} constraint to `{table}` builds its unique index \
                             while `{table}` is locked against all reads and writes"
                        ),
                        String::new(),
                    ),
                };
                let not_null = if key.primary {
                    " (the primary key also makes its columns NOT NULL, which scans the table \
                     unless they are NOT NULL already or a validated `CHECK (… IS NOT NULL)` \
                     proves it)"
                } else {
                    ""
                };
                out.push(cx.finding(
                    self,
                    message,
                    format!(
                        "{first}build the index in a `-- no-transaction` migration of its own: \
                         `{index}`, and attach it in a later migration: `{constraint}`{not_null}"
                    ),
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::check_fixture;

    #[test]
    fn fixtures() {
        check_fixture("add-unique-constraint-without-index");
    }
}
