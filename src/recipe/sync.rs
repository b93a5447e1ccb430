//! Keeping two columns of one table in step while two application versions
//! run: triggers that copy each write to the other column, a backfill of the
//! existing rows in batches, and the SQL that removes both.
//!
//! PostgreSQL and MySQL use `BEFORE` triggers, so a row is complete before
//! its constraints are checked. SQLite has no `BEFORE` trigger that can change
//! the row, so `AFTER` triggers update it; there a `NOT NULL` old column must
//! still be written by the new version until the contract.

use super::names::{object_name, quote, quote_path};
use crate::dialect::Dialect;
use crate::schema::Table;

/// Rows per batch of a backfill.
pub const BATCH: u32 = 5000;

/// Two columns to keep in step, with the expressions that convert between
/// them (`{}` stands for the source value).
pub struct Sync<'a> {
    pub dialect: Dialect,
    pub table: &'a str,
    /// The column the running version uses.
    pub old: &'a str,
    /// The column the next version uses.
    pub new: &'a str,
    /// SQL that turns an old value into a new one, `{}` for the value.
    pub to_new: String,
    /// SQL that turns a new value into an old one, `{}` for the value.
    pub to_old: String,
    /// The table as the schema model knows it (to batch by its key).
    pub known: Option<&'a Table>,
}

impl Sync<'_> {
    fn name(&self, suffix: &str) -> String {
        object_name(&[self.table, self.old], suffix)
    }

    fn t(&self) -> String {
        quote_path(self.dialect, self.table)
    }

    fn o(&self) -> String {
        quote(self.dialect, self.old)
    }

    fn n(&self) -> String {
        quote(self.dialect, self.new)
    }

    fn conv(template: &str, value: &str) -> String {
        template.replace("{}", value)
    }

    /// Triggers that copy writes between the columns.
    pub fn create_triggers(&self) -> String {
        let (t, o, n) = (self.t(), self.o(), self.n());
        let trigger = self.name("sync");
        let tq = quote(self.dialect, &trigger);
        match self.dialect {
            Dialect::Postgres => {
                let new_from_old = Self::conv(&self.to_new, &format!("NEW.{o}"));
                let old_from_new = Self::conv(&self.to_old, &format!("NEW.{n}"));
                format!(
                    "CREATE FUNCTION {tq}() RETURNS trigger LANGUAGE plpgsql AS $$\n\
                     BEGIN\n\
                     \x20   IF TG_OP = 'INSERT' THEN\n\
                     \x20       IF NEW.{n} IS NULL THEN\n\
                     \x20           NEW.{n} := {new_from_old};\n\
                     \x20       ELSIF NEW.{o} IS NULL THEN\n\
                     \x20           NEW.{o} := {old_from_new};\n\
                     \x20       END IF;\n\
                     \x20   ELSIF NEW.{n} IS DISTINCT FROM OLD.{n} THEN\n\
                     \x20       NEW.{o} := {old_from_new};\n\
                     \x20   ELSIF NEW.{o} IS DISTINCT FROM OLD.{o} THEN\n\
                     \x20       NEW.{n} := {new_from_old};\n\
                     \x20   END IF;\n\
                     \x20   RETURN NEW;\n\
                     END\n\
                     $$;\n\n\
                     CREATE TRIGGER {tq} BEFORE INSERT OR UPDATE ON {t}\n\
                     \x20   FOR EACH ROW EXECUTE FUNCTION {tq}();\n"
                )
            }
            Dialect::Mysql => {
                let new_from_old = Self::conv(&self.to_new, &format!("NEW.{o}"));
                let old_from_new = Self::conv(&self.to_old, &format!("NEW.{n}"));
                let ins = quote(self.dialect, &self.name("sync_ins"));
                let upd = quote(self.dialect, &self.name("sync_upd"));
                format!(
                    "CREATE TRIGGER {ins} BEFORE INSERT ON {t} FOR EACH ROW\n\
                     BEGIN\n\
                     \x20   IF NEW.{n} IS NULL THEN\n\
                     \x20       SET NEW.{n} = {new_from_old};\n\
                     \x20   ELSEIF NEW.{o} IS NULL THEN\n\
                     \x20       SET NEW.{o} = {old_from_new};\n\
                     \x20   END IF;\n\
                     END;\n\n\
                     CREATE TRIGGER {upd} BEFORE UPDATE ON {t} FOR EACH ROW\n\
                     BEGIN\n\
                     \x20   IF NOT (NEW.{n} <=> OLD.{n}) THEN\n\
                     \x20       SET NEW.{o} = {old_from_new};\n\
                     \x20   ELSEIF NOT (NEW.{o} <=> OLD.{o}) THEN\n\
                     \x20       SET NEW.{n} = {new_from_old};\n\
                     \x20   END IF;\n\
                     END;\n"
                )
            }
            Dialect::Sqlite => {
                let ins = quote(self.dialect, &self.name("sync_ins"));
                let from_old = quote(self.dialect, &self.name("sync_old"));
                let from_new = quote(self.dialect, &self.name("sync_new"));
                let new_from_old = |v: &str| Self::conv(&self.to_new, v);
                let old_from_new = |v: &str| Self::conv(&self.to_old, v);
                format!(
                    "CREATE TRIGGER {ins} AFTER INSERT ON {t}\n\
                     WHEN NEW.{n} IS NULL OR NEW.{o} IS NULL\n\
                     BEGIN\n\
                     \x20   UPDATE {t} SET {n} = coalesce(NEW.{n}, {}), {o} = coalesce(NEW.{o}, {})\n\
                     \x20   WHERE rowid = NEW.rowid;\n\
                     END;\n\n\
                     CREATE TRIGGER {from_old} AFTER UPDATE OF {o} ON {t}\n\
                     WHEN NEW.{o} IS DISTINCT FROM OLD.{o} AND NEW.{n} IS NOT DISTINCT FROM OLD.{n}\n\
                     BEGIN\n\
                     \x20   UPDATE {t} SET {n} = {} WHERE rowid = NEW.rowid;\n\
                     END;\n\n\
                     CREATE TRIGGER {from_new} AFTER UPDATE OF {n} ON {t}\n\
                     WHEN NEW.{n} IS DISTINCT FROM OLD.{n} AND NEW.{o} IS NOT DISTINCT FROM OLD.{o}\n\
                     BEGIN\n\
                     \x20   UPDATE {t} SET {o} = {} WHERE rowid = NEW.rowid;\n\
                     END;\n",
                    new_from_old(&format!("NEW.{o}")),
                    old_from_new(&format!("NEW.{n}")),
                    new_from_old(&format!("NEW.{o}")),
                    old_from_new(&format!("NEW.{n}")),
                )
            }
        }
    }

    /// Removes the triggers (and PostgreSQL's function).
    pub fn drop_triggers(&self) -> String {
        let t = self.t();
        match self.dialect {
            Dialect::Postgres => {
                let tq = quote(self.dialect, &self.name("sync"));
                format!("DROP TRIGGER {tq} ON {t};\n\nDROP FUNCTION {tq}();\n")
            }
            Dialect::Mysql => format!(
                "DROP TRIGGER {};\n\nDROP TRIGGER {};\n",
                quote(self.dialect, &self.name("sync_ins")),
                quote(self.dialect, &self.name("sync_upd"))
            ),
            Dialect::Sqlite => format!(
                "DROP TRIGGER {};\n\nDROP TRIGGER {};\n\nDROP TRIGGER {};\n",
                quote(self.dialect, &self.name("sync_ins")),
                quote(self.dialect, &self.name("sync_old")),
                quote(self.dialect, &self.name("sync_new"))
            ),
        }
    }

    /// Copies the old column into the new one (`towards_new`) or back, for
    /// every row where they differ, in batches (see [`batched_update`]).
    pub fn backfill(&self, towards_new: bool) -> String {
        let (to, value) = if towards_new {
            (self.n(), Self::conv(&self.to_new, &self.o()))
        } else {
            (self.o(), Self::conv(&self.to_old, &self.n()))
        };
        let differs = match self.dialect {
            Dialect::Postgres => format!("{to} IS DISTINCT FROM {value}"),
            Dialect::Mysql => format!("NOT ({to} <=> {value})"),
            // SQLite ≥ 3.39 knows IS DISTINCT FROM (sqlx bundles a newer one).
            Dialect::Sqlite => format!("{to} IS DISTINCT FROM {value}"),
        };
        batched_update(
            self.dialect,
            self.table,
            self.known,
            &format!("{to} = {value}"),
            &differs,
            &self.name("backfill"),
        )
    }
}

/// An integer, never-null key column of `table` to batch by: its
/// single-column primary key, else a column named `id`.
fn batch_key(dialect: Dialect, table: Option<&Table>) -> Option<String> {
    let table = table?;
    let integer = |c: &crate::schema::Column| {
        c.data_type.as_ref().is_some_and(|t| {
            let t = t.to_string().to_ascii_lowercase();
            ["int", "serial"].iter().any(|k| t.contains(k))
        })
    };
    let pk = table
        .constraints
        .iter()
        .find(|c| c.kind == crate::schema::ConstraintKind::PrimaryKey && c.columns.len() == 1)
        .map(|c| c.columns[0].clone());
    let candidate = pk.unwrap_or_else(|| "id".to_string());
    let column = table.column(&candidate)?;
    (column.not_null && integer(column)).then(|| quote(dialect, &candidate))
}

/// `UPDATE table SET <set> WHERE <filter>` over every row, in batches of
/// [`BATCH`] rows that commit one by one: by ranges of the table's integer key
/// where it has one, else by physical position (PostgreSQL) or `LIMIT`
/// (MySQL). PostgreSQL's loop is a `DO` block and MySQL's a temporary
/// procedure named `procedure`; both need the migration to run outside a
/// transaction. SQLite, with one writer at a time and no loop, gets one
/// statement.
pub fn batched_update(
    dialect: Dialect,
    table: &str,
    known: Option<&Table>,
    set: &str,
    filter: &str,
    procedure: &str,
) -> String {
    let t = quote_path(dialect, table);
    let key = batch_key(dialect, known);
    match dialect {
        Dialect::Postgres => {
            let body = match &key {
                Some(k) => format!(
                    "DECLARE\n\
                     \x20   next_id bigint;\n\
                     \x20   last_id bigint;\n\
                     BEGIN\n\
                     \x20   SELECT min({k}) - 1, max({k}) INTO next_id, last_id FROM {t};\n\
                     \x20   WHILE next_id < last_id LOOP\n\
                     \x20       UPDATE {t} SET {set}\n\
                     \x20        WHERE {k} > next_id AND {k} <= next_id + {BATCH}\n\
                     \x20          AND {filter};\n\
                     \x20       next_id := next_id + {BATCH};\n\
                     \x20       COMMIT;\n\
                     \x20   END LOOP;\n\
                     END"
                ),
                None => format!(
                    "DECLARE\n\
                     \x20   done bigint;\n\
                     BEGIN\n\
                     \x20   LOOP\n\
                     \x20       UPDATE {t} SET {set}\n\
                     \x20        WHERE ctid = ANY (ARRAY(SELECT ctid FROM {t} WHERE {filter} LIMIT {BATCH}));\n\
                     \x20       GET DIAGNOSTICS done = ROW_COUNT;\n\
                     \x20       EXIT WHEN done = 0;\n\
                     \x20       COMMIT;\n\
                     \x20   END LOOP;\n\
                     END"
                ),
            };
            format!(
                "-- In batches of {BATCH} rows, each committed on its own, so no row lock is\n\
                 -- held for long and replicas keep up.\n\
                 DO $$\n{body}\n$$;\n"
            )
        }
        Dialect::Mysql => {
            let procedure = quote(dialect, procedure);
            let body = match &key {
                Some(k) => format!(
                    "    DECLARE next_id BIGINT;\n\
                     \x20   DECLARE last_id BIGINT;\n\
                     \x20   SELECT MIN({k}) - 1, MAX({k}) INTO next_id, last_id FROM {t};\n\
                     \x20   WHILE next_id < last_id DO\n\
                     \x20       UPDATE {t} SET {set}\n\
                     \x20        WHERE {k} > next_id AND {k} <= next_id + {BATCH}\n\
                     \x20          AND {filter};\n\
                     \x20       SET next_id = next_id + {BATCH};\n\
                     \x20   END WHILE;\n"
                ),
                None => format!(
                    "    DECLARE done INT DEFAULT 1;\n\
                     \x20   WHILE done > 0 DO\n\
                     \x20       UPDATE {t} SET {set} WHERE {filter} LIMIT {BATCH};\n\
                     \x20       SET done = ROW_COUNT();\n\
                     \x20   END WHILE;\n"
                ),
            };
            format!(
                "-- In batches of {BATCH} rows; with autocommit on, each UPDATE commits on its own.\n\
                 CREATE PROCEDURE {procedure}()\nBEGIN\n{body}END;\n\n\
                 CALL {procedure}();\n\n\
                 DROP PROCEDURE {procedure};\n"
            )
        }
        Dialect::Sqlite => format!(
            "-- SQLite has one writer at a time and no procedural loop: one UPDATE.\n\
             UPDATE {t} SET {set} WHERE {filter};\n"
        ),
    }
}
