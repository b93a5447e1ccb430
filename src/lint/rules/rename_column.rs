//! # rename-column
//!
//! **What it does.** Flags `ALTER TABLE … RENAME COLUMN old TO new`, and
//! MySQL's `ALTER TABLE … CHANGE old new …` when the name changes, on a
//! column that existed before this migration.
//!
//! **Why it is dangerous.** During the rollout the previous app version is
//! still running, and its queries name the old column: from the moment the
//! migration runs, every one of them fails, until the last old instance is
//! gone. Renaming after the rollout does not help either: then the new
//! version, which already names the new column, fails until the migration
//! runs. No single migration can serve both versions.
//!
//! **Safe alternative.** Rename in steps. An expand adds the new column, a
//! trigger that keeps the two in sync, and a batched backfill; the app
//! switches to the new column; a contract drops the trigger and the old
//! column. `straddle new --rename-column users.email users.email_address`
//! writes these migrations for you. On PostgreSQL:
//!
//! ```sql
//! -- 20240101120000_email_address.up.sql
//! -- straddle: expand
//! ALTER TABLE users ADD COLUMN email_address text;
//! CREATE FUNCTION users_sync_email() RETURNS trigger LANGUAGE plpgsql AS $$
//! BEGIN
//!   IF TG_OP = 'INSERT' THEN
//!     NEW.email_address := COALESCE(NEW.email_address, NEW.email);
//!     NEW.email := COALESCE(NEW.email, NEW.email_address);
//!   ELSIF NEW.email IS DISTINCT FROM OLD.email THEN
//!     NEW.email_address := NEW.email;
//!   ELSIF NEW.email_address IS DISTINCT FROM OLD.email_address THEN
//!     NEW.email := NEW.email_address;
//!   END IF;
//!   RETURN NEW;
//! END $$;
//! CREATE TRIGGER users_sync_email BEFORE INSERT OR UPDATE ON users
//!   FOR EACH ROW EXECUTE FUNCTION users_sync_email();
//! -- the backfill, repeated until it updates no row
//! UPDATE users SET email_address = email
//!   WHERE id IN (SELECT id FROM users
//!              WHERE email_address IS NULL AND email IS NOT NULL LIMIT 10000);
//!
//! -- 20240108120000_drop_email.up.sql, run after the app uses email_address
//! -- straddle: contract 20240101120000
//! DROP TRIGGER users_sync_email ON users;
//! DROP FUNCTION users_sync_email();
//! -- straddle:allow drop-column -- every value copied to email_address by 20240101120000
//! ALTER TABLE users DROP COLUMN email;
//! ```
//!
//! **Example.**
//!
//! ```sql
//! ALTER TABLE users RENAME COLUMN email TO email_address; -- flagged
//! ALTER TABLE users CHANGE email email_address varchar(255); -- flagged (MySQL)
//! ```
//!
//! Columns of a table created in the same migration, and columns added
//! earlier in the same migration, may be renamed freely.

use sqlparser::ast::{AlterTableOperation, Ident};

use crate::dialect::Dialect;
use crate::lint::{Rule, RuleMeta, StatementCx};
use crate::sql::ident_key;
use crate::{Category, Finding, Severity};

pub struct RenameColumn;

static META: RuleMeta = RuleMeta {
    id: "rename-column",
    category: Category::BackwardIncompatible,
    severity: Severity::Error,
    summary: "renaming a column breaks the version still running during the rollout",
    why: "the running app's queries name the old column and fail as soon as the rename runs",
    dialects: &[],
};

impl RenameColumn {
    fn check_one(
        &self,
        cx: &StatementCx<'_>,
        table: &str,
        old: &Ident,
        new: &Ident,
        out: &mut Vec<Finding>,
    ) {
        let (old_key, new_key) = (ident_key(old), ident_key(new));
        // MySQL and SQLite column names are case-insensitive, quoted or not.
        let same = match cx.dialect() {
            Dialect::Postgres => old_key == new_key,
            Dialect::Mysql | Dialect::Sqlite => old_key.to_lowercase() == new_key.to_lowercase(),
        };
        if same {
            return;
        }
        let added_here = cx
            .catalog
            .column(table, &old_key)
            .is_some_and(|c| c.created_by == cx.version());
        if added_here {
            return;
        }
        out.push(cx.finding_at(
            self,
            cx.place(old.span.start),
            format!(
                "renaming `{table}.{old_key}` to `{new_key}` breaks the running app: its queries \
                 still name `{old_key}` and fail as soon as this runs"
            ),
            format!(
                "rename in steps: an expand adds `{new_key}`, a sync trigger and a batched \
                 backfill; the app moves to `{new_key}`; a contract drops the trigger and \
                 `{old_key}` (`straddle new --rename-column {table}.{old_key} {table}.{new_key}` \
                 writes these migrations)"
            ),
        ));
    }
}

impl Rule for RenameColumn {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_statement(&self, cx: &StatementCx<'_>, out: &mut Vec<Finding>) {
        let Some((alter, table)) = cx.alter_existing() else {
            return;
        };
        for operation in &alter.operations {
            match operation {
                AlterTableOperation::RenameColumn {
                    old_column_name,
                    new_column_name,
                } => self.check_one(cx, &table, old_column_name, new_column_name, out),
                AlterTableOperation::ChangeColumn {
                    old_name, new_name, ..
                } => self.check_one(cx, &table, old_name, new_name, out),
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::lint::testing::check_fixture;

    #[test]
    fn fixtures() {
        check_fixture("rename-column");
    }
}
