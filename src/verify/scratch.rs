//! The scratch database: created by straddle, used by verify, dropped at
//! the end. Verify never writes to a database it did not create.
//!
//! * `--scratch-url` names a server (PostgreSQL or MySQL/MariaDB): a
//!   database `straddle_verify_<random>` is created there; the URL's own
//!   database only serves to connect and is never written to.
//! * Without it, PostgreSQL runs in an ephemeral cluster started from the
//!   local `initdb`/`pg_ctl`, and SQLite in memory.

use super::cluster::{Cluster, find_binaries};
use crate::db::scratch::{create_database, database_exists, drop_database, with_database};
use crate::db::{AnyBackend, DbError, DbResult, DbUrl, ErrorKind, connect};
use crate::dialect::Dialect;

/// Why no scratch database could be had.
#[derive(Debug)]
pub enum ScratchError {
    /// Nothing to create it on: a usage error.
    Usage(String),
    /// The server could not be reached or refused.
    Connection(String),
}

impl std::fmt::Display for ScratchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScratchError::Usage(m) | ScratchError::Connection(m) => f.write_str(m),
        }
    }
}

pub struct Scratch {
    dialect: Dialect,
    /// The server's URL (PostgreSQL, MySQL); `None` for SQLite in memory.
    admin: Option<DbUrl>,
    /// The database straddle created on that server.
    name: Option<String>,
    cluster: Option<Cluster>,
    /// For messages (passwords masked).
    pub description: String,
}

fn random_name() -> String {
    let suffix: String = (0..10)
        .map(|_| {
            let n = fastrand::u8(0..36);
            char::from_digit(u32::from(n), 36).unwrap_or('x')
        })
        .collect();
    format!("straddle_verify_{suffix}")
}

fn connection_error(url: &DbUrl, e: DbError) -> ScratchError {
    ScratchError::Connection(format!("cannot connect to {url}: {}", e.message))
}

impl Scratch {
    /// Makes the scratch database: on `url`'s server, or an ephemeral one.
    pub async fn open(dialect: Dialect, url: Option<&DbUrl>) -> Result<Scratch, ScratchError> {
        if dialect == Dialect::Sqlite {
            return Ok(Scratch {
                dialect,
                admin: None,
                name: None,
                cluster: None,
                description: "an in-memory SQLite database".to_string(),
            });
        }
        let (admin, cluster) = match url {
            Some(u) => {
                if u.dialect() != dialect {
                    return Err(ScratchError::Usage(format!(
                        "--scratch-url {u} is a {} server, but the migrations are {dialect}",
                        u.dialect()
                    )));
                }
                (u.clone(), None)
            }
            None if dialect == Dialect::Postgres => {
                let Some(bin) = find_binaries() else {
                    return Err(ScratchError::Usage(
                        "no scratch database: pass --scratch-url with a PostgreSQL server where straddle \
                         may create (and drop) a database, or install PostgreSQL's initdb and pg_ctl so \
                         that straddle can start a throwaway cluster"
                            .to_string(),
                    ));
                };
                let cluster = Cluster::start(bin).map_err(|e| {
                    ScratchError::Connection(format!(
                        "cannot start an ephemeral PostgreSQL cluster: {e}"
                    ))
                })?;
                (cluster.url(), Some(cluster))
            }
            None => {
                return Err(ScratchError::Usage(format!(
                    "no scratch database for {dialect}: pass --scratch-url with a server where straddle \
                     may create (and drop) a database, e.g. --scratch-url mysql://root@127.0.0.1:3306/mysql"
                )));
            }
        };
        let mut conn = connect(&admin, false)
            .await
            .map_err(|e| connection_error(&admin, e))?;
        let mut name = random_name();
        while database_exists(&mut conn, &name)
            .await
            .map_err(|e| connection_error(&admin, e))?
        {
            name = random_name();
        }
        create_database(&mut conn, &name).await.map_err(|e| {
            ScratchError::Connection(format!(
                "cannot create the scratch database {name} on {admin}: {} (the user needs the right to \
                 create databases)",
                e.message
            ))
        })?;
        let description = match &cluster {
            Some(c) => format!(
                "database {name} in an ephemeral PostgreSQL cluster ({})",
                c.path().display()
            ),
            None => format!("database {name} created on {admin}"),
        };
        Ok(Scratch {
            dialect,
            admin: Some(admin),
            name: Some(name),
            cluster,
            description,
        })
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The name of the database straddle created (`None` for SQLite).
    pub fn database(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The URL of the scratch database itself.
    pub fn url(&self) -> DbUrl {
        match (&self.admin, &self.name) {
            (Some(admin), Some(name)) => with_database(admin, name),
            _ => DbUrl::parse("sqlite::memory:").expect("a valid URL"),
        }
    }

    /// A connection to the scratch database.
    pub async fn connect(&self) -> DbResult<AnyBackend> {
        let mut db = connect(&self.url(), true).await?;
        if self.dialect == Dialect::Postgres {
            // Nothing in a scratch database is worth waiting for the disk.
            use crate::db::Backend;
            db.execute("SET synchronous_commit = off").await?;
        }
        Ok(db)
    }

    /// Drops the scratch database and makes it again, empty (to replay the
    /// history from the start). `old` is closed first.
    pub async fn recreate(&mut self, old: AnyBackend) -> DbResult<AnyBackend> {
        drop(old);
        if let (Some(admin), Some(name)) = (&self.admin, &self.name) {
            let mut conn = connect(admin, false).await?;
            drop_database(&mut conn, name).await?;
            create_database(&mut conn, name).await?;
        }
        self.connect().await
    }

    /// Drops the scratch database, stops the ephemeral cluster and removes
    /// its files. Safe to call more than once.
    pub async fn cleanup(&mut self) -> Result<(), String> {
        let mut result = Ok(());
        if let (Some(admin), Some(name)) = (&self.admin, self.name.take()) {
            let dropped = async {
                let mut conn = connect(admin, false).await?;
                drop_database(&mut conn, &name).await
            }
            .await;
            if let Err(e) = dropped
                && self.cluster.is_none()
            {
                result = Err(format!(
                    "could not drop the scratch database {name} on {admin}: {} (drop it by hand)",
                    e.message
                ));
            }
        }
        if let Some(mut cluster) = self.cluster.take() {
            cluster.stop();
        }
        result
    }
}

/// Whether an error means the server is gone rather than a statement failed.
pub fn is_connection(e: &DbError) -> bool {
    e.kind == ErrorKind::Connection
}
