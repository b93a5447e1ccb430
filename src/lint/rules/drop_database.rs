//! # drop-database
//!
//! **What it does.** Flags `DROP DATABASE`, unless the database was created
//! earlier in the same migration.
//!
//! **Why it is dangerous.** Every table of the database goes, with all its
//! rows, and no down migration can bring them back. The running app loses
//! everything it kept there at once. A migration history is also the wrong
//! place for it: the migrations run inside one database, and replaying them
//! on a fresh one (a test run, a new environment) drops a database that the
//! new environment may need.
//!
//! **Safe alternative.** Retire a database outside the migration history:
//! take a backup, check that nothing connects to it any more, and drop it by
//! hand. If it really must happen in a migration, do it in a contract, after
//! the rollout, with an allow that says where the data went. PostgreSQL
//! refuses `DROP DATABASE` inside a transaction block (and for the database
//! the migration is connected to), so there the migration must be
//! `-- no-transaction`:
//!
//! ```sql
//! -- no-transaction
//! -- straddle: contract 20240101120000
//! -- straddle:allow drop-database -- reporting moved to the warehouse, backup in s3://backups/reporting
//! DROP DATABASE reporting;
//! ```
//!
//! **Example.**
//!
//! ```sql
//! DROP DATABASE reporting; -- flagged
//! ```

use sqlparser::ast::{ObjectType, SchemaName, Statement as Ast};

use crate::dialect::Dialect;
use crate::lint::{Rule, RuleMeta, StatementCx};
use crate::sql::object_key;
use crate::{Category, Finding, Severity};

pub struct DropDatabase;

static META: RuleMeta = RuleMeta {
    id: "drop-database",
    category: Category::DataLoss,
    severity: Severity::Error,
    summary: "dropping a database destroys every table in it",
    why: "no down migration can restore the rows, and the running app loses everything it kept there",
    dialects: &[],
};

/// Whether a statement earlier in this file creates the database `key`.
fn created_earlier(cx: &StatementCx<'_>, key: &str) -> bool {
    let mysql = cx.dialect() == Dialect::Mysql;
    cx.earlier().iter().any(|s| match s.ast() {
        Some(Ast::CreateDatabase { db_name, .. }) => object_key(db_name) == key,
        // MySQL: a database is a schema.
        Some(Ast::CreateSchema {
            schema_name: SchemaName::Simple(name) | SchemaName::NamedAuthorization(name, _),
            ..
        }) if mysql => object_key(name) == key,
        _ => false,
    })
}

impl Rule for DropDatabase {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_statement(&self, cx: &StatementCx<'_>, out: &mut Vec<Finding>) {
        let Some(Ast::Drop {
            object_type: ObjectType::Database,
            names,
            ..
        }) = cx.statement.ast()
        else {
            return;
        };
        for name in names {
            let database = object_key(name);
            if database.is_empty() || created_earlier(cx, &database) {
                continue;
            }
            out.push(cx.finding(
                self,
                format!(
                    "`DROP DATABASE {database}` destroys the database with every table and row in it"
                ),
                format!(
                    "retire `{database}` outside the migrations: back it up, check that nothing \
                     connects to it, drop it by hand; if it must be a migration, make it a contract \
                     with `-- straddle:allow drop-database -- <where the data went>`"
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::check_fixture;

    #[test]
    fn fixtures() {
        check_fixture("drop-database");
    }
}
