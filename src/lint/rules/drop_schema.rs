//! # drop-schema
//!
//! **What it does.** Flags `DROP SCHEMA`, unless the schema was created
//! earlier in the same migration.
//!
//! **Why it is dangerous.** On PostgreSQL, `DROP SCHEMA … CASCADE` drops every
//! table, view, type and function in the schema, with all their rows; without
//! `CASCADE` it fails while the schema still holds anything, and once it
//! succeeds the running app can no longer reach anything by that name. On
//! MySQL, `DROP SCHEMA` is `DROP DATABASE`: every table in it is gone. No down
//! migration can bring the rows back.
//!
//! **Safe alternative.** Empty the schema object by object, each through its
//! own expand and contract (so that each drop is reviewed on its own), and
//! drop the empty schema last, in a contract, with an allow that says why:
//!
//! ```sql
//! -- straddle: contract 20240101120000
//! -- straddle:allow drop-schema -- empty since 20240101120000, tables moved to `billing`
//! DROP SCHEMA legacy_billing;
//! ```
//!
//! **Example.**
//!
//! ```sql
//! DROP SCHEMA legacy_billing CASCADE; -- flagged
//! ```

use sqlparser::ast::{ObjectType, SchemaName, Statement as Ast};

use crate::dialect::Dialect;
use crate::lint::{Rule, RuleMeta, StatementCx};
use crate::sql::{ident_key, object_key};
use crate::{Category, Finding, Severity};

pub struct DropSchema;

static META: RuleMeta = RuleMeta {
    id: "drop-schema",
    category: Category::DataLoss,
    severity: Severity::Error,
    summary: "dropping a schema destroys what it holds and breaks the running version",
    why: "with everything in the schema go the rows, which no down migration can restore, and the running app's queries that reach into it",
    dialects: &[],
};

/// Whether a statement earlier in this file creates the schema `key`.
fn created_earlier(cx: &StatementCx<'_>, key: &str) -> bool {
    cx.earlier().iter().any(|s| match s.ast() {
        Some(Ast::CreateSchema { schema_name, .. }) => match schema_name {
            SchemaName::Simple(name) | SchemaName::NamedAuthorization(name, _) => {
                object_key(name) == key
            }
            SchemaName::UnnamedAuthorization(user) => ident_key(user) == key,
        },
        // MySQL: a schema is a database.
        Some(Ast::CreateDatabase { db_name, .. }) => object_key(db_name) == key,
        _ => false,
    })
}

/// The tables the catalog knows in schema `key`.
fn tables_in(cx: &StatementCx<'_>, key: &str) -> Vec<String> {
    let prefix = format!("{key}.");
    cx.catalog
        .tables
        .keys()
        .filter(|t| t.starts_with(&prefix))
        .cloned()
        .collect()
}

fn listed(tables: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut names: Vec<String> = tables
        .iter()
        .take(SHOWN)
        .map(|t| format!("`{t}`"))
        .collect();
    if tables.len() > SHOWN {
        names.push(format!("and {} more", tables.len() - SHOWN));
    }
    names.join(", ")
}

impl Rule for DropSchema {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_statement(&self, cx: &StatementCx<'_>, out: &mut Vec<Finding>) {
        let Some(Ast::Drop {
            object_type: ObjectType::Schema,
            names,
            cascade,
            ..
        }) = cx.statement.ast()
        else {
            return;
        };
        for name in names {
            let schema = object_key(name);
            if schema.is_empty() || created_earlier(cx, &schema) {
                continue;
            }
            out.push(cx.finding(
                self,
                message(cx.dialect(), &schema, *cascade, &tables_in(cx, &schema)),
                format!(
                    "move or drop what `{schema}` holds object by object, each in its own expand \
                     and contract; drop the empty schema last, in a contract, with \
                     `-- straddle:allow drop-schema -- <why nothing in it is needed>`"
                ),
            ));
        }
    }
}

fn message(dialect: Dialect, schema: &str, cascade: bool, tables: &[String]) -> String {
    let known = if tables.is_empty() {
        String::new()
    } else {
        format!(
            " (tables known from earlier migrations: {})",
            listed(tables)
        )
    };
    if dialect == Dialect::Mysql {
        format!(
            "`DROP SCHEMA {schema}` is `DROP DATABASE` on MySQL: every table in it goes, with all \
             its rows{known}"
        )
    } else if cascade {
        format!(
            "`DROP SCHEMA {schema} CASCADE` drops every table, view, type and function in the \
             schema, with all their rows{known}"
        )
    } else {
        format!(
            "`DROP SCHEMA {schema}` removes the schema: it fails while anything is left in it, \
             and once it succeeds the running app can no longer reach anything by that name{known}"
        )
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::check_fixture;

    #[test]
    fn fixtures() {
        check_fixture("drop-schema");
    }
}
