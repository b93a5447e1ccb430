//! # drop-type
//!
//! **What it does.** Flags `DROP TYPE` and `DROP DOMAIN` of a type that
//! existed before this migration.
//!
//! **Why it is dangerous.** With `CASCADE`, every column of that type is
//! dropped too, with all its values, which no down migration can restore.
//! Without `CASCADE` the statement fails while a column still uses the type;
//! once none does, the running app's queries and functions that still cast to
//! it or declare variables of it fail, and a down migration has to recreate
//! it exactly (for an enum, every label in its order).
//!
//! **Safe alternative.** Move the columns off the type first: in an expand,
//! add a column of another type, keep it in sync with a trigger and backfill
//! it (`straddle new --change-type users.mood text` writes that pair, see
//! `change-column-type`); ship the app that no longer names the type; then,
//! in the contract, drop the old column and the type, with an allow. To
//! change an enum, add labels rather than recreating it (`ALTER TYPE … ADD
//! VALUE`); when it must be rebuilt, swap it within one migration: rename the
//! old type aside, create the new one under the old name, convert the
//! columns, and drop the renamed old type (that sequence is not flagged by
//! this rule, but converting a column rewrites its table under an ACCESS
//! EXCLUSIVE lock, and a column default must be dropped before the
//! conversion and set again after it):
//!
//! ```sql
//! -- contract, after the rollout of the app that uses users.mood_text
//! -- straddle: contract 20240101120000
//! DROP TRIGGER users_mood_sync ON users;
//! DROP FUNCTION users_mood_sync();
//! -- straddle:allow drop-column -- copied to users.mood_text by 20240101120000
//! ALTER TABLE users DROP COLUMN mood;
//! -- straddle:allow drop-type -- no column uses mood any more
//! DROP TYPE mood;
//!
//! -- rebuilding an enum in one migration
//! ALTER TYPE mood RENAME TO mood_old;
//! CREATE TYPE mood AS ENUM ('happy', 'sad');
//! ALTER TABLE users ALTER COLUMN mood TYPE mood USING mood::text::mood;
//! DROP TYPE mood_old;
//! ```
//!
//! **Example.**
//!
//! ```sql
//! DROP TYPE mood CASCADE; -- flagged: drops users.mood and its values
//! ```
//!
//! A type created earlier in the same migration, or dropped (without
//! `CASCADE`) and created again under the same name in it, is not flagged.

use sqlparser::ast::{
    AlterTypeOperation, ArrayElemTypeDef, DataType, DropBehavior, ObjectName, ObjectType,
    Statement as Ast,
};

use crate::lint::{Rule, RuleMeta, StatementCx};
use crate::sql::{Statement, ident_key, object_key};
use crate::{Category, Finding, Severity};

pub struct DropType;

static META: RuleMeta = RuleMeta {
    id: "drop-type",
    category: Category::DataLoss,
    severity: Severity::Error,
    summary: "dropping a type or domain loses the columns of that type, or breaks the running version",
    why: "with CASCADE the columns of the type go with their values, which no down migration restores; without it, the running app's casts and functions that name the type fail",
    dialects: &[],
};

/// The type a column's data type names, looking through arrays.
fn named_type(data_type: &DataType) -> Option<String> {
    match data_type {
        DataType::Custom(name, _) => Some(object_key(name)),
        DataType::Array(
            ArrayElemTypeDef::SquareBracket(inner, _)
            | ArrayElemTypeDef::AngleBracket(inner)
            | ArrayElemTypeDef::Parenthesis(inner)
            | ArrayElemTypeDef::Qualified(inner, _),
        ) => named_type(inner),
        _ => None,
    }
}

/// The columns the catalog knows to be of type `key`, as `table.column`.
fn columns_of_type(cx: &StatementCx<'_>, key: &str) -> Vec<String> {
    cx.catalog
        .tables
        .values()
        .flat_map(|t| {
            t.columns
                .iter()
                .filter(|c| c.data_type.as_ref().and_then(named_type).as_deref() == Some(key))
                .map(move |c| format!("{}.{}", t.name, c.name))
        })
        .collect()
}

/// The name a statement creates a type or domain under.
fn creates_type(statement: &Statement) -> Option<String> {
    match statement.ast()? {
        Ast::CreateType { name, .. } => Some(object_key(name)),
        Ast::CreateDomain(domain) => Some(object_key(&domain.name)),
        _ => None,
    }
}

/// `ALTER TYPE old RENAME TO new`: (old, new), both as catalog keys.
fn renames_type(statement: &Statement) -> Option<(String, String)> {
    let Ast::AlterType(alter) = statement.ast()? else {
        return None;
    };
    let AlterTypeOperation::Rename(rename) = &alter.operation else {
        return None;
    };
    let old = object_key(&alter.name);
    let new_name = ident_key(&rename.new_name);
    let new = match old.rsplit_once('.') {
        Some((schema, _)) => format!("{schema}.{new_name}"),
        None => new_name,
    };
    Some((old, new))
}

/// Whether this migration keeps a type under the name the app uses: `key`
/// is created again later, or `key` is an old type renamed aside earlier
/// while a new one took its original name.
fn replaced(cx: &StatementCx<'_>, key: &str) -> bool {
    if cx
        .later()
        .iter()
        .any(|s| creates_type(s).as_deref() == Some(key))
    {
        return true;
    }
    cx.earlier().iter().any(|s| {
        renames_type(s).is_some_and(|(old, new)| {
            new == key
                && cx
                    .file
                    .statements
                    .iter()
                    .any(|s| creates_type(s).as_deref() == Some(old.as_str()))
        })
    })
}

impl DropType {
    fn check_one(
        &self,
        cx: &StatementCx<'_>,
        keyword: &str,
        name: &ObjectName,
        cascade: bool,
        out: &mut Vec<Finding>,
    ) {
        let key = object_key(name);
        if key.is_empty() {
            return;
        }
        if cx.catalog.types.get(&key).map(String::as_str) == Some(cx.version()) {
            return;
        }
        if !cascade && replaced(cx, &key) {
            return;
        }
        let columns = columns_of_type(cx, &key);
        let used_by = if columns.is_empty() {
            String::new()
        } else {
            let shown: Vec<String> = columns.iter().take(5).map(|c| format!("`{c}`")).collect();
            let more = if columns.len() > 5 {
                format!(" and {} more", columns.len() - 5)
            } else {
                String::new()
            };
            format!(" ({}{more})", shown.join(", "))
        };
        let message = if cascade {
            format!(
                "`{keyword} {key} CASCADE` also drops every column of type `{key}`{used_by}, \
                 with all their values"
            )
        } else if !columns.is_empty() {
            format!(
                "`{keyword} {key}` fails while columns still use the type{used_by}; adding CASCADE \
                 would drop them with their values"
            )
        } else {
            format!(
                "`{keyword} {key}` removes the type: the running app's casts, functions and \
                 queries that name it fail, and a down migration must recreate it exactly"
            )
        };
        out.push(cx.finding(
            self,
            message,
            format!(
                "move every column off `{key}` in an expand (a new column of another type, kept \
                 in sync and backfilled: `straddle new --change-type <table>.<column> text`), ship \
                 the app that no longer names it, then drop it in a contract with \
                 `-- straddle:allow drop-type -- <reason>`; to change an enum, prefer `ALTER TYPE \
                 {key} ADD VALUE …`"
            ),
        ));
    }
}

impl Rule for DropType {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_statement(&self, cx: &StatementCx<'_>, out: &mut Vec<Finding>) {
        match cx.statement.ast() {
            Some(Ast::Drop {
                object_type: ObjectType::Type,
                names,
                cascade,
                ..
            }) => {
                for name in names {
                    self.check_one(cx, "DROP TYPE", name, *cascade, out);
                }
            }
            Some(Ast::DropDomain(drop)) => {
                let cascade = matches!(drop.drop_behavior, Some(DropBehavior::Cascade));
                self.check_one(cx, "DROP DOMAIN", &drop.name, cascade, out);
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::check_fixture;

    #[test]
    fn fixtures() {
        check_fixture("drop-type");
    }
}
