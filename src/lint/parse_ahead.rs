//! Parsing ahead of the replay: worker threads tokenize and parse the
//! migrations of a folder while the engine replays and checks the ones
//! before, and hand them over in version order.
//!
//! Parsing is a third of the work of linting a folder and each file parses
//! on its own, while the replay must go in order; with a second core the
//! two overlap. Memory stays bounded by a small window of parsed files.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::sync_channel;

use crate::dialect::Dialect;
use crate::source::Migration;
use crate::sql::{SqlFile, parse_file};

/// Below this many migrations, threads cost more than they save.
const PARALLEL_FROM: usize = 16;

/// Migrations a worker parses before handing them over.
const BATCH: usize = 16;

/// Calls `each(index, up, down)` for every migration, in order, with its up
/// file parsed, and its down file parsed where `wants_down(index)`.
pub fn for_each_parsed(
    migrations: &[Migration],
    dialect: Dialect,
    wants_down: &(dyn Fn(usize) -> bool + Sync),
    mut each: impl FnMut(usize, SqlFile, Option<SqlFile>),
) {
    let parse = |index: usize| {
        let migration = &migrations[index];
        let up = parse_file(&migration.up.text, dialect);
        let down = match &migration.down {
            Some(down) if wants_down(index) => Some(parse_file(&down.text, dialect)),
            _ => None,
        };
        (up, down)
    };
    let workers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .saturating_sub(1)
        .min(8);
    if workers == 0 || migrations.len() < PARALLEL_FROM {
        for index in 0..migrations.len() {
            let (up, down) = parse(index);
            each(index, up, down);
        }
        return;
    }
    // Workers take batches of consecutive migrations: one hand-over (and
    // one wake-up of this thread) per batch rather than per file.
    let batches = migrations.len().div_ceil(BATCH);
    let next = AtomicUsize::new(0);
    let (sender, receiver) = sync_channel(workers * 2);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            let sender = sender.clone();
            let (next, parse) = (&next, &parse);
            scope.spawn(move || {
                loop {
                    let batch = next.fetch_add(1, Ordering::Relaxed);
                    if batch >= batches {
                        break;
                    }
                    let end = ((batch + 1) * BATCH).min(migrations.len());
                    let parsed: Vec<_> = (batch * BATCH..end).map(parse).collect();
                    if sender.send((batch, parsed)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        // Workers finish out of order; hold the early arrivals back.
        let mut waiting = BTreeMap::new();
        let mut due = 0;
        for (batch, parsed) in receiver {
            waiting.insert(batch, parsed);
            while let Some(parsed) = waiting.remove(&due) {
                for (offset, (up, down)) in parsed.into_iter().enumerate() {
                    each(due * BATCH + offset, up, down);
                }
                due += 1;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{MigrationFile, Version, parse_leading};
    use std::path::PathBuf;

    fn migration(n: usize) -> Migration {
        let up = format!("CREATE TABLE t{n} (id int);");
        Migration {
            version: Version::parse(&(n + 1).to_string()).expect("version"),
            name: format!("m{n}"),
            directives: parse_leading(&up),
            no_transaction: false,
            up: MigrationFile {
                path: PathBuf::from(format!("{n}.up.sql")),
                text: up,
            },
            down: Some(MigrationFile {
                path: PathBuf::from(format!("{n}.down.sql")),
                text: format!("DROP TABLE t{n};"),
            }),
        }
    }

    #[test]
    fn hands_every_migration_over_in_order() {
        let migrations: Vec<Migration> = (0..200).map(migration).collect();
        let mut seen = Vec::new();
        for_each_parsed(
            &migrations,
            Dialect::Postgres,
            &|i| i % 2 == 0,
            |i, up, down| {
                assert_eq!(up.statements[0].text, format!("CREATE TABLE t{i} (id int)"));
                assert_eq!(down.is_some(), i % 2 == 0, "down parsed only when wanted");
                seen.push(i);
            },
        );
        assert_eq!(seen, (0..200).collect::<Vec<_>>());
    }
}
