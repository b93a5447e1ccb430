//! # lock-timeout-missing
//!
//! **What it does.** Flags the first statement of a migration that must take
//! a lock conflicting with the application's queries on a table that existed
//! before this migration, when no lock timeout is in force: no `SET
//! lock_timeout` (PostgreSQL) or `SET lock_wait_timeout` (MySQL, MariaDB)
//! earlier in the file. It is reported once per file, at the first such
//! statement. The rule is for migrations applied by another tool
//! (`[lint] runner = "sqlx"` or `"diesel"` in `straddle.toml`):
//! `straddle migrate`, the default runner, sets the timeout for every
//! migration itself. When your runner's connection already sets one (say
//! `options=-c lock_timeout=2s` in a PostgreSQL URL), tell straddle with
//! `assume_lock_timeout = true` under `[lint]`.
//!
//! The statements concerned: on PostgreSQL `ALTER TABLE` (all forms except
//! `VALIDATE CONSTRAINT` and storage parameters), `DROP TABLE`, `TRUNCATE`,
//! `CREATE INDEX` and `DROP INDEX` without `CONCURRENTLY`, `CREATE TABLE`
//! with a foreign key to an existing table (SHARE ROW EXCLUSIVE on that
//! table), `CREATE`/`DROP TRIGGER`, `LOCK TABLE`, `REINDEX` without `CONCURRENTLY`, `VACUUM FULL`,
//! `CLUSTER`, `REFRESH MATERIALIZED VIEW` without `CONCURRENTLY`, `ATTACH` /
//! `DETACH PARTITION`; on MySQL and MariaDB every `ALTER TABLE`, `CREATE` /
//! `DROP INDEX`, `DROP TABLE`, `TRUNCATE`, `RENAME TABLE` and `CREATE` / `DROP
//! TRIGGER` (they all need an exclusive metadata lock, if only briefly).
//!
//! **Why it is dangerous.** Even an instant change must first acquire its
//! lock, and it cannot while any transaction still uses the table: a report
//! query, a forgotten `idle in transaction` session. While the migration
//! waits, every query that arrives after it queues behind it, reads included
//! for an `ACCESS EXCLUSIVE` lock or a MySQL metadata lock. A one-millisecond
//! `ALTER TABLE` becomes an outage as long as the oldest open transaction.
//! PostgreSQL waits forever by default; MySQL's `lock_wait_timeout` defaults
//! to one year, MariaDB's to one day.
//!
//! **Safe alternative.** Set a short lock timeout at the top of the
//! migration, so the statement gives up quickly instead of stalling traffic,
//! and retry the migration later (`straddle migrate` retries and sets the
//! timeout for you):
//!
//! ```sql
//! -- PostgreSQL
//! SET lock_timeout = '2s';
//! ALTER TABLE orders ADD COLUMN note text;
//!
//! -- MySQL / MariaDB (seconds)
//! SET SESSION lock_wait_timeout = 5;
//! ALTER TABLE orders ADD COLUMN note TEXT, ALGORITHM=INSTANT;
//! ```
//!
//! **Example.**
//!
//! ```sql
//! ALTER TABLE orders ADD COLUMN note text; -- flagged: no lock_timeout before it
//! ```
//!
//! Tables created earlier in the same migration are exempt: nobody else
//! uses them yet.

use sqlparser::ast::{
    AlterTableOperation, LockTableMode, ObjectType, Statement as Ast, TableConstraint,
};

use crate::Dialect;
use crate::lint::engine::sets_lock_timeout;
use crate::lint::mysql_ddl;
use crate::lint::{Rule, RuleMeta, StatementCx};
use crate::schema::Catalog;
use crate::sql::{Recognised, Statement, object_key};
use crate::{Category, Finding, Severity};

pub struct LockTimeoutMissing;

static META: RuleMeta = RuleMeta {
    id: "lock-timeout-missing",
    category: Category::Locking,
    severity: Severity::Warning,
    summary: "a statement that waits for a blocking lock without a lock timeout",
    why: "while the statement waits for its lock behind a long transaction, every later query on the table queues behind it",
    dialects: &[Dialect::Postgres, Dialect::Mysql],
};

/// What a statement locks.
enum Target {
    Table(String),
    /// A materialized view (its existence is tracked apart from tables).
    View(String),
    /// The whole database (`VACUUM FULL`, `CLUSTER` without a table).
    Everything,
}

/// A lock a statement waits for.
struct Wait {
    /// The statement, in a few words (`ALTER TABLE`).
    what: &'static str,
    /// The lock mode, in words.
    lock: &'static str,
    /// What queues behind it: `every query` or `every write`.
    blocks: &'static str,
    targets: Vec<Target>,
}

const ACCESS_EXCLUSIVE: (&str, &str) = ("an ACCESS EXCLUSIVE lock", "every query");
const SHARE_ROW_EXCLUSIVE: (&str, &str) = ("a SHARE ROW EXCLUSIVE lock", "every write");
const SHARE: (&str, &str) = ("a SHARE lock", "every write");
const EXCLUSIVE: (&str, &str) = ("an EXCLUSIVE lock", "every write");
/// `REINDEX`: SHARE on the table, ACCESS EXCLUSIVE on each index, which the
/// planner of every query on the table waits for.
const REINDEX: (&str, &str) = (
    "a SHARE lock (and ACCESS EXCLUSIVE on each index it rebuilds)",
    "every query",
);
const METADATA: (&str, &str) = ("an exclusive metadata lock", "every query");

fn wait(
    what: &'static str,
    (lock, blocks): (&'static str, &'static str),
    targets: Vec<Target>,
) -> Wait {
    Wait {
        what,
        lock,
        blocks,
        targets,
    }
}

fn tables(names: impl IntoIterator<Item = String>) -> Vec<Target> {
    names.into_iter().map(Target::Table).collect()
}

/// The table an index belongs to, or the index's own name when unknown
/// (unknown objects count as existing).
fn index_target(catalog: &Catalog, index: &str) -> Target {
    Target::Table(
        catalog
            .index_table(index)
            .map(str::to_string)
            .unwrap_or_else(|| index.to_string()),
    )
}

fn postgres_wait(statement: &Statement, catalog: &Catalog) -> Option<Wait> {
    if let Some(recognised) = statement.recognised() {
        return match recognised {
            Recognised::DropIndex {
                concurrently: false,
                names,
                ..
            } => Some(wait(
                "DROP INDEX",
                ACCESS_EXCLUSIVE,
                names.iter().map(|n| index_target(catalog, n)).collect(),
            )),
            Recognised::Reindex {
                concurrently: false,
                target,
                name,
            } => {
                let targets = match (target.as_str(), name) {
                    ("TABLE", Some(name)) => vec![Target::Table(name.clone())],
                    ("INDEX", Some(name)) => vec![index_target(catalog, name)],
                    _ => vec![Target::Everything],
                };
                Some(wait("REINDEX", REINDEX, targets))
            }
            Recognised::Vacuum { full: true, tables } => Some(wait(
                "VACUUM FULL",
                ACCESS_EXCLUSIVE,
                if tables.is_empty() {
                    vec![Target::Everything]
                } else {
                    self::tables(tables.iter().cloned())
                },
            )),
            Recognised::Cluster { table } => Some(wait(
                "CLUSTER",
                ACCESS_EXCLUSIVE,
                match table {
                    Some(t) => vec![Target::Table(t.clone())],
                    None => vec![Target::Everything],
                },
            )),
            Recognised::RefreshMaterializedView {
                concurrently: false,
                name,
            } => Some(wait(
                "REFRESH MATERIALIZED VIEW",
                ACCESS_EXCLUSIVE,
                vec![Target::View(name.clone())],
            )),
            Recognised::AttachPartition { partition, .. } => Some(wait(
                "ATTACH PARTITION",
                ACCESS_EXCLUSIVE,
                vec![Target::Table(partition.clone())],
            )),
            Recognised::DetachPartition {
                table,
                concurrently: false,
                ..
            } => Some(wait(
                "DETACH PARTITION",
                ACCESS_EXCLUSIVE,
                vec![Target::Table(table.clone())],
            )),
            Recognised::AlterTableSetSchema { table, .. } => Some(wait(
                "ALTER TABLE",
                ACCESS_EXCLUSIVE,
                vec![Target::Table(table.clone())],
            )),
            _ => None,
        };
    }
    match statement.ast()? {
        Ast::AlterTable(alter) => {
            let table = object_key(&alter.name);
            let mut strongest = None;
            let mut targets = vec![Target::Table(table)];
            for operation in &alter.operations {
                let mode = match operation {
                    AlterTableOperation::ValidateConstraint { .. }
                    | AlterTableOperation::SetOptionsParens { .. } => continue,
                    AlterTableOperation::AddConstraint {
                        constraint: TableConstraint::ForeignKey(fk),
                        ..
                    } => {
                        targets.push(Target::Table(object_key(&fk.foreign_table)));
                        SHARE_ROW_EXCLUSIVE
                    }
                    AlterTableOperation::EnableTrigger { .. }
                    | AlterTableOperation::DisableTrigger { .. }
                    | AlterTableOperation::EnableAlwaysTrigger { .. }
                    | AlterTableOperation::EnableReplicaTrigger { .. } => SHARE_ROW_EXCLUSIVE,
                    _ => ACCESS_EXCLUSIVE,
                };
                if strongest != Some(ACCESS_EXCLUSIVE) {
                    strongest = Some(mode);
                }
            }
            strongest.map(|mode| wait("ALTER TABLE", mode, targets))
        }
        Ast::Drop {
            object_type: ObjectType::Table,
            names,
            ..
        } => Some(wait(
            "DROP TABLE",
            ACCESS_EXCLUSIVE,
            tables(names.iter().map(object_key)),
        )),
        Ast::Drop {
            object_type: ObjectType::Index,
            names,
            ..
        } => Some(wait(
            "DROP INDEX",
            ACCESS_EXCLUSIVE,
            names
                .iter()
                .map(|n| index_target(catalog, &object_key(n)))
                .collect(),
        )),
        Ast::Truncate(truncate) => Some(wait(
            "TRUNCATE",
            ACCESS_EXCLUSIVE,
            tables(truncate.table_names.iter().map(|t| object_key(&t.name))),
        )),
        Ast::Vacuum(vacuum) if vacuum.full => Some(wait(
            "VACUUM FULL",
            ACCESS_EXCLUSIVE,
            match &vacuum.table_name {
                Some(name) => vec![Target::Table(object_key(name))],
                None => vec![Target::Everything],
            },
        )),
        // A new table's foreign keys take SHARE ROW EXCLUSIVE on the tables
        // they reference, which may be busy.
        Ast::CreateTable(create) => {
            let columns = create.columns.iter().flat_map(|c| &c.options);
            let inline = columns.filter_map(|o| match &o.option {
                sqlparser::ast::ColumnOption::ForeignKey(fk) => Some(object_key(&fk.foreign_table)),
                _ => None,
            });
            let table_level = create.constraints.iter().filter_map(|c| match c {
                sqlparser::ast::TableConstraint::ForeignKey(fk) => {
                    Some(object_key(&fk.foreign_table))
                }
                _ => None,
            });
            let referenced: Vec<String> = inline.chain(table_level).collect();
            (!referenced.is_empty()).then(|| {
                wait(
                    "CREATE TABLE … REFERENCES",
                    SHARE_ROW_EXCLUSIVE,
                    tables(referenced),
                )
            })
        }
        Ast::CreateIndex(index) if !index.concurrently => Some(wait(
            "CREATE INDEX",
            SHARE,
            vec![Target::Table(object_key(&index.table_name))],
        )),
        Ast::CreateTrigger(trigger) => Some(wait(
            "CREATE TRIGGER",
            SHARE_ROW_EXCLUSIVE,
            vec![Target::Table(object_key(&trigger.table_name))],
        )),
        Ast::DropTrigger(drop) => Some(wait(
            "DROP TRIGGER",
            ACCESS_EXCLUSIVE,
            drop.table_name
                .iter()
                .map(|t| Target::Table(object_key(t)))
                .collect(),
        )),
        Ast::Lock(lock) => {
            let mode = match lock.lock_mode {
                None | Some(LockTableMode::AccessExclusive) => ACCESS_EXCLUSIVE,
                Some(LockTableMode::Exclusive) => EXCLUSIVE,
                Some(LockTableMode::ShareRowExclusive) => SHARE_ROW_EXCLUSIVE,
                Some(LockTableMode::Share) => SHARE,
                _ => return None,
            };
            Some(wait(
                "LOCK TABLE",
                mode,
                tables(lock.tables.iter().map(|t| object_key(&t.name))),
            ))
        }
        _ => None,
    }
}

fn mysql_wait(statement: &Statement) -> Option<Wait> {
    if let Some(ddl) = mysql_ddl::read(statement) {
        let what = match ddl.kind {
            mysql_ddl::DdlKind::AlterTable => "ALTER TABLE",
            mysql_ddl::DdlKind::CreateIndex => "CREATE INDEX",
            mysql_ddl::DdlKind::DropIndex => "DROP INDEX",
        };
        let targets = match ddl.table {
            Some(table) => vec![Target::Table(table)],
            None => vec![Target::Everything],
        };
        return Some(wait(what, METADATA, targets));
    }
    match statement.ast()? {
        Ast::Drop {
            object_type: ObjectType::Table,
            names,
            ..
        } => Some(wait(
            "DROP TABLE",
            METADATA,
            tables(names.iter().map(object_key)),
        )),
        Ast::Truncate(truncate) => Some(wait(
            "TRUNCATE",
            METADATA,
            tables(truncate.table_names.iter().map(|t| object_key(&t.name))),
        )),
        Ast::RenameTable(renames) => Some(wait(
            "RENAME TABLE",
            METADATA,
            tables(renames.iter().map(|r| object_key(&r.old_name))),
        )),
        Ast::CreateTrigger(trigger) => Some(wait(
            "CREATE TRIGGER",
            METADATA,
            vec![Target::Table(object_key(&trigger.table_name))],
        )),
        Ast::DropTrigger(drop) => Some(wait(
            "DROP TRIGGER",
            METADATA,
            drop.table_name
                .iter()
                .map(|t| Target::Table(object_key(t)))
                .collect(),
        )),
        _ => None,
    }
}

/// The lock `statement` waits for, with only the targets that existed before
/// migration `version`; `None` when it locks nothing anyone else uses.
fn blocking_wait(
    statement: &Statement,
    dialect: Dialect,
    catalog: &Catalog,
    version: &str,
) -> Option<(Wait, Option<String>)> {
    let wait = match dialect {
        Dialect::Postgres => postgres_wait(statement, catalog)?,
        Dialect::Mysql => mysql_wait(statement)?,
        Dialect::Sqlite => return None,
    };
    let mut busy = wait.targets.iter().filter_map(|target| match target {
        Target::Table(t) => catalog.existed_before(t, version).then(|| Some(t.clone())),
        Target::View(v) => catalog
            .views
            .get(v)
            .is_none_or(|created_by| created_by != version)
            .then(|| Some(v.clone())),
        Target::Everything => Some(None),
    });
    let first = busy.next()?;
    Some((wait, first))
}

impl Rule for LockTimeoutMissing {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_statement(&self, cx: &StatementCx<'_>, out: &mut Vec<Finding>) {
        if cx.lock_timeout_set {
            return;
        }
        let dialect = cx.dialect();
        let version = cx.version();
        let Some((wait, object)) = blocking_wait(cx.statement, dialect, cx.catalog, version) else {
            return;
        };
        // Once per file: stay quiet if an earlier statement already waited
        // for such a lock without a timeout. (The catalog is the one before
        // this statement; tables the earlier ones created are still marked as
        // this migration's.)
        let mut timeout = cx.options.assume_lock_timeout;
        for earlier in cx.earlier() {
            if let Some(on) = sets_lock_timeout(earlier) {
                timeout = on;
            }
            if !timeout && blocking_wait(earlier, dialect, cx.catalog, version).is_some() {
                return;
            }
        }
        let on = match &object {
            Some(name) => format!("on `{name}`"),
            None => "on every table it touches".to_string(),
        };
        let Wait {
            what, lock, blocks, ..
        } = wait;
        let (setting, help) = match dialect {
            Dialect::Mysql => (
                "lock_wait_timeout",
                "put `SET SESSION lock_wait_timeout = 5;` at the top of the migration so it gives up after 5 \
                 seconds instead of stalling traffic, and retry later; or apply it with `straddle migrate`, \
                 which sets the timeout and retries (`[lint] runner = \"straddle\"`, the default); if your \
                 runner's connection sets a timeout already, set `assume_lock_timeout = true` under `[lint]`",
            ),
            _ => (
                "lock_timeout",
                "put `SET lock_timeout = '2s';` at the top of the migration so it gives up after 2 seconds \
                 instead of stalling traffic, and retry later; or apply it with `straddle migrate`, which sets \
                 the timeout and retries (`[lint] runner = \"straddle\"`, the default); if your runner's \
                 connection sets a timeout already, set `assume_lock_timeout = true` under `[lint]`",
            ),
        };
        out.push(cx.finding(
            self,
            format!(
                "this {what} waits for {lock} {on} with no {setting} set: while a long transaction holds the \
                 table, {blocks} on it queues behind this statement (reported once, for the first such statement \
                 of the file)"
            ),
            help,
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::check_fixture;

    #[test]
    fn fixtures() {
        check_fixture("lock-timeout-missing");
    }
}
