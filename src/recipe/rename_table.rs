//! `--rename-table OLD NEW`
//!
//! The expand renames the table and leaves a view under the old name, so the
//! running version keeps reading and writing through it (simple views are
//! updatable in PostgreSQL and MySQL; SQLite gets `INSTEAD OF` triggers).
//! The contract drops the view.

use super::names::{quote, quote_path};
use super::online::lock_timeout;
use super::{Plan, Target, version_of};
use crate::dialect::Dialect;
use crate::error::{Error, Result};

fn sqlite_triggers(target: &Target, old: &str, new: &str) -> Result<String> {
    let d = Dialect::Sqlite;
    let table = target.table(old)?.ok_or_else(|| {
        Error::usage(format!(
            "SQLite views are read-only: straddle writes triggers that forward writes, and needs \
             the columns of `{old}` from the migrations in {}",
            target.dir.display()
        ))
    })?;
    let key = ["id", "rowid"]
        .into_iter()
        .find(|k| table.column(k).is_some())
        .ok_or_else(|| {
            Error::usage(format!(
                "`{old}` has no `id` column to forward updates and deletes by"
            ))
        })?;
    let (v, t) = (quote(d, old), quote(d, new));
    let k = quote(d, key);
    let columns: Vec<String> = table.columns.iter().map(|c| quote(d, &c.name)).collect();
    let values: Vec<String> = table
        .columns
        .iter()
        .map(|c| match &c.default {
            Some(default) => format!("coalesce(NEW.{}, {default})", quote(d, &c.name)),
            None => format!("NEW.{}", quote(d, &c.name)),
        })
        .collect();
    let sets: Vec<String> = columns.iter().map(|c| format!("{c} = NEW.{c}")).collect();
    let name = |suffix: &str| quote(d, &format!("{old}_{suffix}"));
    Ok(format!(
        "CREATE TRIGGER {} INSTEAD OF INSERT ON {v}\nBEGIN\n    INSERT INTO {t} ({}) VALUES ({});\nEND;\n\n\
         CREATE TRIGGER {} INSTEAD OF UPDATE ON {v}\nBEGIN\n    UPDATE {t} SET {} WHERE {k} = OLD.{k};\nEND;\n\n\
         CREATE TRIGGER {} INSTEAD OF DELETE ON {v}\nBEGIN\n    DELETE FROM {t} WHERE {k} = OLD.{k};\nEND;\n",
        name("insert"),
        columns.join(", "),
        values.join(", "),
        name("update"),
        sets.join(", "),
        name("delete"),
    ))
}

pub fn plan(target: &Target, name: &str, old: &str, new: &str) -> Result<Plan> {
    let d = target.dialect;
    target.table(old)?;
    if target.catalog.table(new).is_some() || target.catalog.views.contains_key(new) {
        return Err(Error::usage(format!("`{new}` exists already")));
    }
    if old == new {
        return Err(Error::usage(format!("`{old}` is already called `{new}`")));
    }
    let (o, n) = (quote_path(d, old), quote_path(d, new));
    let lock = lock_timeout(d);
    let rename = |from: &str, to: &str| match d {
        Dialect::Mysql => format!("RENAME TABLE {from} TO {to};"),
        _ => format!("ALTER TABLE {from} RENAME TO {to};"),
    };
    let (triggers, drop_triggers) = if d == Dialect::Sqlite {
        let names = ["insert", "update", "delete"]
            .map(|s| format!("DROP TRIGGER {};\n\n", quote(d, &format!("{old}_{s}"))))
            .concat();
        (format!("\n{}", sqlite_triggers(target, old, new)?), names)
    } else {
        (String::new(), String::new())
    };
    // A view under the old name keeps the running version working; SQLite's
    // views are read-only, and only the triggers below make it writable,
    // which the rename-table rule cannot see.
    let allow = if d == Dialect::Sqlite {
        "-- straddle:allow rename-table -- the view and its triggers below keep the old name working for the running version\n"
    } else {
        ""
    };
    let view = format!("CREATE VIEW {o} AS SELECT * FROM {n};\n{triggers}");
    let expand = (
        format!("{lock}{allow}{}\n\n{view}", rename(&o, &n)),
        format!(
            "{lock}{drop_triggers}DROP VIEW {o};\n\n{}\n",
            rename(&n, &o)
        ),
        false,
    );
    let contract = (
        format!(
            "-- Only versions from before the rollout after expand {} used the old name.\n\
             {drop_triggers}DROP VIEW {o};\n",
            version_of(0)
        ),
        view,
        false,
    );
    let mut steps = vec![
        format!("straddle migrate expand: renames {old} to {new} and leaves a view named {old}"),
        format!("roll out the app version that uses {new}"),
        format!("straddle migrate contract: once no old instance is left, drops the view {old}"),
    ];
    if d == Dialect::Mysql {
        steps.insert(
            1,
            "MySQL commits RENAME TABLE and CREATE VIEW separately: for a moment between them \
             the old name does not exist; deploy at a quiet time"
                .into(),
        );
    }
    Ok(Plan::pair(name, expand, contract, steps))
}
