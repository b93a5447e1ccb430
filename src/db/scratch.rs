//! Scratch databases on a server: the URL of another database on the same
//! server, and creating / dropping a database by name. Used by `straddle
//! verify`, which only ever writes to databases it created itself.

use super::{AnyBackend, Backend, DbResult, DbUrl};
use crate::dialect::Dialect;

/// `url` with its database (the path) replaced by `name`; the query string
/// (options, passwords) is kept. SQLite URLs are returned unchanged.
pub fn with_database(url: &DbUrl, name: &str) -> DbUrl {
    if url.dialect() == Dialect::Sqlite {
        return url.clone();
    }
    let raw = url.expose();
    let (base, query) = match raw.find('?') {
        Some(q) => (&raw[..q], &raw[q..]),
        None => (raw, ""),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = base[scheme_end..]
        .find('/')
        .map(|i| scheme_end + i)
        .unwrap_or(base.len());
    let text = format!("{}/{name}{query}", &base[..path_start]);
    DbUrl::parse(&text).unwrap_or_else(|_| url.clone())
}

/// The database a server URL names (its path), if any.
pub fn database_name(url: &DbUrl) -> Option<String> {
    if url.dialect() == Dialect::Sqlite {
        return None;
    }
    let raw = url.expose();
    let base = raw.split('?').next().unwrap_or(raw);
    let scheme_end = base.find("://").map(|i| i + 3)?;
    let rest = &base[scheme_end..];
    let path = &rest[rest.find('/')? + 1..];
    (!path.is_empty()).then(|| path.to_string())
}

/// `name` quoted as an identifier of the server's dialect.
fn quoted(dialect: Dialect, name: &str) -> String {
    match dialect {
        Dialect::Mysql => format!("`{}`", name.replace('`', "``")),
        _ => format!("\"{}\"", name.replace('"', "\"\"")),
    }
}

/// Creates the database `name` through an admin connection to its server.
pub async fn create_database(admin: &mut AnyBackend, name: &str) -> DbResult<()> {
    let sql = match admin.dialect() {
        Dialect::Mysql => format!(
            "CREATE DATABASE {} CHARACTER SET utf8mb4",
            quoted(Dialect::Mysql, name)
        ),
        dialect => format!("CREATE DATABASE {}", quoted(dialect, name)),
    };
    admin.execute(&sql).await
}

/// Drops the database `name` if it exists (PostgreSQL: also when sessions
/// are still connected to it).
pub async fn drop_database(admin: &mut AnyBackend, name: &str) -> DbResult<()> {
    let dialect = admin.dialect();
    let sql = match dialect {
        Dialect::Postgres => format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            quoted(dialect, name)
        ),
        _ => format!("DROP DATABASE IF EXISTS {}", quoted(dialect, name)),
    };
    admin.execute(&sql).await
}

/// Whether a database of this name exists on the server.
pub async fn database_exists(admin: &mut AnyBackend, name: &str) -> DbResult<bool> {
    let sql = match admin.dialect() {
        Dialect::Postgres => "SELECT datname::text FROM pg_database WHERE datname = ?",
        Dialect::Mysql => {
            "SELECT CAST(SCHEMA_NAME AS CHAR) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?"
        }
        Dialect::Sqlite => return Ok(false),
    };
    Ok(!admin.query_texts(sql, &[name.into()]).await?.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_is_replaced_and_options_kept() {
        let url = DbUrl::parse("postgres://u:pw@h:5432/postgres?sslmode=disable").unwrap();
        let other = with_database(&url, "straddle_verify_x");
        assert_eq!(
            other.expose(),
            "postgres://u:pw@h:5432/straddle_verify_x?sslmode=disable"
        );
        assert_eq!(database_name(&url).as_deref(), Some("postgres"));
        let url = DbUrl::parse("mysql://root@127.0.0.1").unwrap();
        assert_eq!(
            with_database(&url, "d").expose(),
            "mysql://root@127.0.0.1/d"
        );
        assert_eq!(database_name(&url), None);
    }
}
