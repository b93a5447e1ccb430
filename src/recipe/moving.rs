//! Moving a column's values into a new column across an expand/contract
//! pair: what `--rename-column` and `--change-type` share.
//!
//! * expand (outside a transaction): add the new column, triggers that keep
//!   both in step, a batched backfill;
//! * contract: drop the triggers and the old column; when the old column was
//!   `NOT NULL`, make the new one `NOT NULL` without a long lock;
//! * each down restores the schema before its up, values included.

use super::names::{object_name, quote, quote_path};
use super::online::{in_place, instant, lock_timeout, mysql_modify_null, postgres_set_not_null};
use super::sync::Sync;
use super::{Column, Plan, Target, default_clause, required_type, version_of};
use crate::dialect::Dialect;
use crate::error::{Error, Result};

/// What moves where.
pub struct Move<'a> {
    pub column: &'a Column,
    pub new_name: &'a str,
    /// The new column's type, as SQL.
    pub new_type: String,
    /// Old value → new value, `{}` for the value.
    pub to_new: String,
    /// New value → old value, `{}` for the value.
    pub to_old: String,
    /// Why the old column may go (for the contract's allow).
    pub reason: String,
}

pub fn plan(target: &Target, name: &str, m: Move<'_>) -> Result<Plan> {
    let d = target.dialect;
    let old = target.column(m.column)?.ok_or_else(|| {
        Error::usage(format!(
            "straddle does not know `{}.{}`: the migrations in {} do not create it, so its type \
             and constraints cannot be carried over",
            m.column.table,
            m.column.column,
            target.dir.display()
        ))
    })?;
    let new_column = Column {
        table: m.column.table.clone(),
        column: m.new_name.to_string(),
    };
    target.column_is_free(&new_column)?;
    let old_type = required_type(old, m.column)?;
    let table = target.table(&m.column.table)?;
    let sync = Sync {
        dialect: d,
        table: &m.column.table,
        old: &m.column.column,
        new: m.new_name,
        to_new: m.to_new.clone(),
        to_old: m.to_old.clone(),
        known: table,
    };
    let t = quote_path(d, &m.column.table);
    let o = quote(d, &m.column.column);
    let n = quote(d, m.new_name);
    let default = default_clause(old.default.as_deref());
    let lock = lock_timeout(d);
    let (add_suffix, drop_suffix) = (instant(d), in_place(d));

    let expand_up = format!(
        "{lock}ALTER TABLE {t} ADD COLUMN {n} {}{default}{add_suffix};\n\n{}\n{}",
        m.new_type,
        sync.create_triggers(),
        sync.backfill(true)
    );
    let expand_down = format!(
        "{lock}{}\nALTER TABLE {t} DROP COLUMN {n}{drop_suffix};\n",
        sync.drop_triggers()
    );

    let mut contract_up = format!(
        "{lock}{}\n-- straddle:allow drop-column -- {}; kept in step with {} since expand {}\n\
         ALTER TABLE {t} DROP COLUMN {o}{drop_suffix};\n",
        sync.drop_triggers(),
        m.reason,
        m.new_name,
        version_of(0)
    );
    let mut contract_down = String::from(lock);
    if old.not_null {
        match d {
            Dialect::Postgres => {
                let check = quote(d, &object_name(&[&m.column.table, m.new_name], "not_null"));
                contract_up.push_str(&format!(
                    "\n-- {n} takes over NOT NULL from {o}; the validated CHECK lets SET NOT NULL\n\
                     -- skip its scan.\n\
                     {}",
                    postgres_set_not_null(&t, &n, &check)
                ));
                contract_down.push_str(&format!(
                    "ALTER TABLE {t} ALTER COLUMN {n} DROP NOT NULL;\n\n"
                ));
            }
            Dialect::Mysql => {
                contract_up.push_str(&format!(
                    "\n{}",
                    mysql_modify_null(&t, &n, &m.new_type, true, &default)
                ));
                contract_down.push_str(&format!(
                    "{}\n",
                    mysql_modify_null(&t, &n, &m.new_type, false, &default)
                ));
            }
            Dialect::Sqlite => {}
        }
    }
    // SQLite adds a NOT NULL column only with a default, and cannot make it
    // NOT NULL later: say it in the ADD COLUMN when it can be said.
    let sqlite_not_null = if d == Dialect::Sqlite && old.not_null && old.default.is_some() {
        " NOT NULL"
    } else {
        ""
    };
    contract_down.push_str(&format!(
        "ALTER TABLE {t} ADD COLUMN {o} {old_type}{sqlite_not_null}{default}{add_suffix};\n\n{}\n{}",
        sync.backfill(false),
        sync.create_triggers()
    ));
    if old.not_null {
        match d {
            Dialect::Postgres => contract_down.push_str(&format!(
                "\nALTER TABLE {t} ALTER COLUMN {o} SET NOT NULL;\n"
            )),
            Dialect::Mysql => contract_down.push_str(&format!(
                "\n{}",
                mysql_modify_null(&t, &o, &old_type, true, &default)
            )),
            Dialect::Sqlite => {}
        }
    }

    let no_transaction = d != Dialect::Sqlite;
    let mut steps = vec![
        format!(
            "straddle migrate expand: adds {}.{}, keeps it in step with {} and fills it",
            m.column.table, m.new_name, m.column.column
        ),
        format!(
            "roll out the app version that reads and writes {} instead of {}",
            m.new_name, m.column.column
        ),
        "straddle migrate contract: once the rollout is complete and no old instance is left, \
         drops the triggers and the old column"
            .into(),
    ];
    let indexes: Vec<&str> = target
        .catalog
        .indexes
        .values()
        .filter(|i| {
            crate::sql::unquote(&i.table) == crate::sql::unquote(&m.column.table)
                && i.columns.iter().any(|c| c == &m.column.column)
        })
        .map(|i| i.name.as_str())
        .collect();
    if !indexes.is_empty() {
        steps.insert(
            1,
            format!(
                "before the rollout, index {} the way {} is indexed ({}): \
                 straddle new --add-index \"{}({})\"",
                m.new_name,
                m.column.column,
                indexes.join(", "),
                m.column.table,
                m.new_name
            ),
        );
    }
    if d == Dialect::Sqlite && old.not_null && old.default.is_none() {
        steps.insert(
            1,
            format!(
                "SQLite checks NOT NULL before its triggers run: until the contract, the new \
                 version must keep writing {} as well",
                m.column.column
            ),
        );
        steps.push(format!(
            "SQLite cannot add a NOT NULL column without a default: rolling the contract back \
             brings {} back nullable",
            m.column.column
        ));
    }
    Ok(Plan::pair(
        name,
        (expand_up, expand_down, no_transaction),
        (contract_up, contract_down, no_transaction),
        steps,
    ))
}
