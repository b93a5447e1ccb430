//! Shared by the runner tests: real servers (never mocks), one fresh database
//! per test, dropped again by a guard (also when the test fails), and helpers
//! to run the built `straddle` binary.
//!
//! Servers: `STRADDLE_TEST_POSTGRES_URL` and `STRADDLE_TEST_MYSQL_URL`
//! (defaults `postgres://postgres@127.0.0.1:5432/postgres` and
//! `mysql://root@127.0.0.1:3306/mysql`). When no server answers, a test
//! prints "skipped: …" and passes, except when `CI` is set: then it fails.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use straddle::Dialect;
use straddle::db::{AnyBackend, Backend, DbUrl, History, HistoryRow, connect};

pub const BIN: &str = env!("CARGO_BIN_EXE_straddle");

pub fn fixture(dialect: Dialect, name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/runner")
        .join(dialect.name())
        .join(name)
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// A database made for one test; dropped when the guard goes.
pub struct TestDb {
    pub dialect: Dialect,
    /// The URL the runner gets.
    pub url: String,
    /// PostgreSQL/MySQL: the server's admin URL and the database's name.
    admin: Option<(String, String)>,
    /// SQLite: the folder holding the file.
    pub dir: tempfile::TempDir,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

fn unique_name() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!(
        "straddle_t_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.find('?') {
        Some(q) => (&url[..q], &url[q..]),
        None => (url, ""),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = base[scheme_end..]
        .find('/')
        .map(|i| scheme_end + i)
        .unwrap_or(base.len());
    format!("{}/{name}{query}", &base[..path_start])
}

fn in_ci() -> bool {
    std::env::var_os("CI").is_some()
}

/// Returns `None` (after printing "skipped") when the server is not there.
fn server_url(dialect: Dialect) -> Option<String> {
    let (var, default) = match dialect {
        Dialect::Postgres => (
            "STRADDLE_TEST_POSTGRES_URL",
            "postgres://postgres@127.0.0.1:5432/postgres",
        ),
        Dialect::Mysql => (
            "STRADDLE_TEST_MYSQL_URL",
            "mysql://root@127.0.0.1:3306/mysql",
        ),
        Dialect::Sqlite => return Some(String::new()),
    };
    let url = std::env::var(var).unwrap_or_else(|_| default.to_string());
    let parsed = DbUrl::parse(&url).expect("test server URL");
    let rt = runtime();
    let ok = rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(5), connect(&parsed, false))
            .await
            .map_err(|_| "timed out".to_string())
            .and_then(|r| r.map(|_| ()).map_err(|e| e.message))
    });
    match ok {
        Ok(()) => Some(url),
        Err(e) => {
            let message = format!(
                "skipped: no {} server at {parsed} ({e}); set {var}",
                dialect.name()
            );
            if in_ci() {
                panic!("{message} (CI is set, so this is a failure)");
            }
            println!("{message}");
            None
        }
    }
}

impl TestDb {
    /// A fresh database, or `None` when the server is missing (not in CI).
    pub fn new(dialect: Dialect) -> Option<TestDb> {
        let dir = tempfile::tempdir().expect("temp dir");
        if dialect == Dialect::Sqlite {
            let url = format!("sqlite://{}", dir.path().join("test.db").display());
            return Some(TestDb {
                dialect,
                url,
                admin: None,
                dir,
            });
        }
        let admin = server_url(dialect)?;
        let name = unique_name();
        let rt = runtime();
        rt.block_on(async {
            let mut db = connect(&DbUrl::parse(&admin).unwrap(), false)
                .await
                .expect("admin connection");
            db.execute(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create test database");
        });
        Some(TestDb {
            dialect,
            url: replace_database(&admin, &name),
            admin: Some((admin, name)),
            dir,
        })
    }

    /// A connection of the test itself (to inspect or disturb the database).
    pub async fn connect(&self) -> AnyBackend {
        connect(&DbUrl::parse(&self.url).unwrap(), true)
            .await
            .expect("test connection")
    }

    /// Runs `f` on a fresh connection, blocking.
    pub fn with<T>(&self, f: impl AsyncFnOnce(&mut AnyBackend) -> T) -> T {
        let rt = runtime();
        rt.block_on(async {
            let mut db = self.connect().await;
            f(&mut db).await
        })
    }

    pub fn snapshot(&self) -> String {
        self.with(async |db| db.snapshot().await.expect("snapshot"))
    }

    pub fn history(&self) -> Vec<HistoryRow> {
        self.with(async |db| db.read_history().await.expect("history"))
    }

    /// The first column of every row of `sql`, as text.
    pub fn column(&self, sql: &str) -> Vec<String> {
        let sql = sql.to_string();
        self.with(async move |db| {
            db.query_texts(&sql, &[])
                .await
                .expect("query")
                .into_iter()
                .map(|r| r.into_iter().next().flatten().unwrap_or_default())
                .collect()
        })
    }

    /// A project folder (with straddle.toml) holding a copy of a fixture
    /// folder as `migrations/`.
    pub fn project(&self, fixture_name: &str, toml: &str) -> PathBuf {
        let root = self.dir.path().join(format!("project_{fixture_name}"));
        let migrations = root.join("migrations");
        std::fs::create_dir_all(&migrations).unwrap();
        copy_dir(&fixture(self.dialect, fixture_name), &migrations);
        std::fs::write(
            root.join("straddle.toml"),
            format!(
                "dialect = \"{}\"\nmigrations = \"migrations\"\n{toml}",
                self.dialect.name()
            ),
        )
        .unwrap();
        root
    }

    /// `straddle <args> --database-url <this database>` run in `cwd`.
    pub fn straddle(&self, cwd: &Path, args: &[&str]) -> Output {
        let mut cmd = self.command(cwd, args);
        cmd.output().expect("run straddle")
    }

    pub fn command(&self, cwd: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.current_dir(cwd)
            .args(args)
            .arg("--database-url")
            .arg(&self.url)
            .env_remove("DATABASE_URL")
            .env("NO_COLOR", "1");
        cmd
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin, name)) = &self.admin else {
            return;
        };
        let sql = match self.dialect {
            Dialect::Postgres => format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            _ => format!("DROP DATABASE IF EXISTS {name}"),
        };
        let admin = admin.clone();
        // A thread of its own: the test may be inside a runtime already.
        let _ = std::thread::spawn(move || {
            let rt = runtime();
            rt.block_on(async {
                if let Ok(mut db) = connect(&DbUrl::parse(&admin).unwrap(), false).await {
                    let _ = db.execute(&sql).await;
                }
            });
        })
        .join();
    }
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

pub fn text(output: &Output) -> String {
    format!(
        "exit: {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[track_caller]
pub fn assert_ok(output: &Output) {
    assert_eq!(output.status.code(), Some(0), "{}", text(output));
}

#[track_caller]
pub fn assert_code(output: &Output, code: i32) {
    assert_eq!(output.status.code(), Some(code), "{}", text(output));
}

/// Versions recorded as fully applied.
pub fn applied(db: &TestDb) -> Vec<String> {
    db.history()
        .into_iter()
        .filter(|r| r.status == straddle::db::Status::Applied)
        .map(|r| r.version)
        .collect()
}

/// The dialects whose server is there (SQLite always).
pub fn each_dialect(mut f: impl FnMut(TestDb)) {
    for dialect in Dialect::ALL {
        if let Some(db) = TestDb::new(dialect) {
            f(db);
        }
    }
}
