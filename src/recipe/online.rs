//! The clauses and statements that keep a recipe's schema changes from
//! holding long locks, per dialect: PostgreSQL's lock timeout and its
//! `CHECK … NOT VALID` way to `SET NOT NULL`, MySQL's online-DDL algorithms.

use crate::dialect::Dialect;

/// MySQL: change the table in place, without blocking writes.
pub const IN_PLACE: &str = ", ALGORITHM=INPLACE, LOCK=NONE";

/// MySQL: a change to the table's metadata only (adding a column).
pub const INSTANT: &str = ", ALGORITHM=INSTANT";

/// What opens a migration's DDL: in PostgreSQL, give up on a lock after 2s
/// rather than queue every other query behind the wait.
pub fn lock_timeout(d: Dialect) -> &'static str {
    match d {
        Dialect::Postgres => "SET lock_timeout = '2s';\n\n",
        _ => "",
    }
}

/// What ends an `ALTER TABLE` that changes the table in place ([`IN_PLACE`]
/// in MySQL).
pub fn in_place(d: Dialect) -> &'static str {
    match d {
        Dialect::Mysql => IN_PLACE,
        _ => "",
    }
}

/// What ends an `ALTER TABLE … ADD COLUMN` ([`INSTANT`] in MySQL).
pub fn instant(d: Dialect) -> &'static str {
    match d {
        Dialect::Mysql => INSTANT,
        _ => "",
    }
}

/// PostgreSQL: makes column `c` of table `t` NOT NULL without a long lock.
/// The `check` constraint, validated under a weak lock, lets `SET NOT NULL`
/// skip its scan (PostgreSQL 12+). All names come quoted.
pub fn postgres_set_not_null(t: &str, c: &str, check: &str) -> String {
    format!(
        "ALTER TABLE {t} ADD CONSTRAINT {check} CHECK ({c} IS NOT NULL) NOT VALID;\n\n\
         ALTER TABLE {t} VALIDATE CONSTRAINT {check};\n\n\
         ALTER TABLE {t} ALTER COLUMN {c} SET NOT NULL;\n\n\
         ALTER TABLE {t} DROP CONSTRAINT {check};\n"
    )
}

/// MySQL: restates column `c` of table `t` as `ty` (which MySQL requires),
/// `NOT NULL` or `NULL`, followed by `default` (` DEFAULT …` or empty), in
/// place. All names come quoted.
pub fn mysql_modify_null(t: &str, c: &str, ty: &str, not_null: bool, default: &str) -> String {
    let null = if not_null { "NOT NULL" } else { "NULL" };
    format!("ALTER TABLE {t} MODIFY COLUMN {c} {ty} {null}{default}{IN_PLACE};\n")
}
