//! `straddle verify`'s checks on real PostgreSQL, MariaDB/MySQL and SQLite:
//! old queries after an expand and new queries around a contract
//! (`--old-queries`, `--new-queries`, fixtures under
//! tests/fixtures/verify/queries), the lock and rewrite trace (`--trace`,
//! tests/fixtures/verify/trace), and the dry run on a copy of an existing
//! database (`--from-url`, tests/fixtures/verify/from-url), which must
//! never change the source.
//!
//! Servers as in verify_common: skipped with a message when none answers,
//! a failure when `CI` is set. Every test makes its own databases and drops
//! them.

mod verify_common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sha2::{Digest, Sha256};
use straddle::Dialect;
use straddle::db::scratch::{create_database, drop_database, with_database};
use straddle::db::{Backend, DbUrl, History, connect};
use verify_common::{BIN, assert_dropped, runtime, server_url};

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/verify")
        .join(path)
}

/// `straddle verify DIR --dialect D [--scratch-url URL] ARGS…`.
fn verify(dialect: Dialect, dir: &Path, url: &str, args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.arg("verify")
        .arg(dir)
        .args(["--dialect", dialect.name()]);
    if !url.is_empty() {
        cmd.args(["--scratch-url", url]);
    }
    cmd.args(args)
        .env_remove("STRADDLE_SCRATCH_URL")
        .env_remove("DATABASE_URL")
        .output()
        .expect("run straddle")
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON report ({e}):\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The problems of one migration as (kind, severity, message, place).
fn problems(report: &serde_json::Value, version: &str) -> Vec<(String, String, String, String)> {
    report["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["version"] == version)
        .flat_map(|m| m["problems"].as_array().unwrap().clone())
        .map(|p| {
            let s = |k: &str| p[k].as_str().unwrap_or("").to_string();
            (s("kind"), s("severity"), s("message"), s("place"))
        })
        .collect()
}

fn errors(report: &serde_json::Value) -> Vec<String> {
    report["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["problems"].as_array().unwrap().clone())
        .filter(|p| p["severity"] == "error")
        .map(|p| p.to_string())
        .collect()
}

fn queries(dialect: Dialect, case: &str, file: &str) -> String {
    let name = if dialect == Dialect::Mysql {
        file.replace(".sql", ".mysql.sql")
    } else {
        file.to_string()
    };
    fixture("queries")
        .join(case)
        .join(name)
        .display()
        .to_string()
}

/// Runs `straddle verify DIR --format json ARGS…`, checks that its scratch
/// database is gone and that it exits with `code`, and returns the report.
#[track_caller]
fn verify_json(
    dialect: Dialect,
    dir: &Path,
    url: &str,
    args: &[&str],
    code: i32,
) -> serde_json::Value {
    let args: Vec<&str> = ["--format", "json"].iter().chain(args).copied().collect();
    let out = verify(dialect, dir, url, &args);
    let report = json(&out);
    assert_dropped(url, &report);
    assert_eq!(out.status.code(), Some(code), "{report:#}");
    report
}

/// The standard output of `straddle verify DIR ARGS…`.
fn verify_text(dialect: Dialect, dir: &Path, url: &str, args: &[&str]) -> String {
    let out = verify(dialect, dir, url, args);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The report of verifying query case `case` (tests/fixtures/verify/queries)
/// with its query file `file` passed as `flag`, which must exit with `code`.
#[track_caller]
fn query_case(
    dialect: Dialect,
    url: &str,
    case: &str,
    (flag, file): (&str, &str),
    code: i32,
) -> serde_json::Value {
    let dir = fixture("queries").join(case).join("migrations");
    let queries = queries(dialect, case, file);
    verify_json(dialect, &dir, url, &[flag, &queries], code)
}

const OLD_QUERIES: (&str, &str) = ("--old-queries", "old.sql");
const NEW_QUERIES: (&str, &str) = ("--new-queries", "new.sql");

/// `#[test]`s running `check` on PostgreSQL, MySQL and SQLite, under the
/// names given (a server's test is skipped when it is not there).
macro_rules! test_each_dialect {
    ($check:ident: $postgres:ident, $mysql:ident, $sqlite:ident) => {
        #[test]
        fn $postgres() {
            $check(Dialect::Postgres);
        }

        #[test]
        fn $mysql() {
            $check(Dialect::Mysql);
        }

        #[test]
        fn $sqlite() {
            $check(Dialect::Sqlite);
        }
    };
}

fn old_queries(dialect: Dialect) {
    let Some(url) = server_url(dialect) else {
        return;
    };
    // An expand that renames a column the old release selects: fails.
    let report = query_case(dialect, &url, "breaks-old", OLD_QUERIES, 1);
    let found = problems(&report, "0002");
    let broken: Vec<_> = found.iter().filter(|p| p.0 == "old-query-broken").collect();
    assert_eq!(broken.len(), 1, "{found:?}");
    let (_, severity, message, place) = broken[0];
    assert_eq!(severity, "error");
    assert!(message.contains("SELECT id,"), "{message}");
    assert!(message.contains("email"), "{message}");
    // PostgreSQL points at the column in the query's file.
    let expected = if dialect == Dialect::Postgres {
        "old.sql:5:8"
    } else if dialect == Dialect::Mysql {
        "old.mysql.sql:4:1"
    } else {
        "old.sql:4:1"
    };
    assert!(place.ends_with(expected), "{place}");
    assert_eq!(report["summary"]["old_queries_broken"], 1);
    assert_eq!(report["queries"]["old_queries"], 3);
    assert_eq!(report["queries"]["skipped"].as_array().unwrap().len(), 1);

    // The same expand made additive: passes.
    let report = query_case(dialect, &url, "keeps-old", OLD_QUERIES, 0);
    assert!(errors(&report).is_empty(), "{report:#}");
    assert!(
        report["queries"]["never_prepared"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

fn new_queries(dialect: Dialect) {
    let Some(url) = server_url(dialect) else {
        return;
    };
    // A contract that renames a column the new release already reads, and
    // drops one it still reads: both fail.
    let report = query_case(dialect, &url, "contract-not-ready", NEW_QUERIES, 1);
    let found: Vec<_> = problems(&report, "0003")
        .into_iter()
        .filter(|p| p.0 == "new-query-broken")
        .collect();
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found[0].2.contains("does not prepare before this contract"),
        "{found:?}"
    );
    assert!(found[0].2.contains("full_name"), "{found:?}");
    assert!(found[1].2.contains("this contract breaks"), "{found:?}");
    assert!(found[1].2.contains("SELECT email FROM users"), "{found:?}");
    // Nothing is blamed on the expands.
    assert!(problems(&report, "0002").iter().all(|p| p.1 != "error"));

    // A contract the new release is ready for: passes.
    let report = query_case(dialect, &url, "contract-ready", NEW_QUERIES, 0);
    assert!(errors(&report).is_empty(), "{report:#}");
}

test_each_dialect!(old_queries: postgres_old_queries, mysql_old_queries, sqlite_old_queries);

test_each_dialect!(new_queries: postgres_new_queries, mysql_new_queries, sqlite_new_queries);

#[test]
fn sqlx_offline_folders_are_read() {
    let Some(url) = server_url(Dialect::Postgres) else {
        return;
    };
    let dir = fixture("queries/breaks-old/migrations");
    let sqlx = fixture("queries/breaks-old").display().to_string();
    let report = verify_json(Dialect::Postgres, &dir, &url, &["--old-queries", &sqlx], 1);
    let found = problems(&report, "0002");
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, "old-query-broken");
    // Named by its sqlx file (the query's hash) and its text.
    assert!(found[0].3.contains(".sqlx/query-5f0c1e6a"), "{found:?}");
    assert!(
        found[0].2.contains("SELECT email FROM users WHERE id = $1"),
        "{found:?}"
    );
    assert_eq!(report["queries"]["old_queries"], 2);
}

#[test]
fn missing_query_files_are_usage_errors() {
    let dir = fixture("queries/keeps-old/migrations");
    let out = verify(
        Dialect::Sqlite,
        &dir,
        "",
        &["--old-queries", "no/such/file.sql"],
    );
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no/such/file.sql"), "{stderr}");
}

fn relation<'a>(statement: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    statement["relations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no relation {name} in {statement:#}"))
}

#[test]
fn postgres_trace_shows_locks_and_rewrites() {
    let Some(url) = server_url(Dialect::Postgres) else {
        return;
    };
    let dir = fixture("trace/postgres");
    let report = verify_json(Dialect::Postgres, &dir, &url, &["--trace"], 0);
    let trace = |i: usize| report["migrations"][i]["trace"][0].clone();

    // ALTER COLUMN … TYPE bigint: ACCESS EXCLUSIVE, table and index rewritten.
    let alter = trace(1);
    assert_eq!(alter["locks_traced"], true);
    let events = relation(&alter, "events");
    assert_eq!(events["lock"], "ACCESS EXCLUSIVE", "{alter:#}");
    assert_eq!(events["blocks"], "reads and writes");
    assert_eq!(events["rewritten"], true);
    assert_eq!(events["created"], false);
    let pkey = relation(&alter, "events_pkey");
    assert_eq!(pkey["rewritten"], true, "{alter:#}");
    assert!(alter["milliseconds"].as_f64().unwrap() >= 0.0);

    // A plain CREATE INDEX: SHARE on the table, no rewrite.
    let index = trace(2);
    let events = relation(&index, "events");
    assert_eq!(events["lock"], "SHARE", "{index:#}");
    assert_eq!(events["blocks"], "writes");
    assert_eq!(events["rewritten"], false);
    assert_eq!(relation(&index, "events_kind")["created"], true);

    // Outside a transaction the locks cannot be read.
    let concurrently = trace(3);
    assert_eq!(concurrently["locks_traced"], false);
    assert!(
        concurrently["note"]
            .as_str()
            .unwrap()
            .contains("not traced"),
        "{concurrently:#}"
    );

    // The human table and the markdown report show the same.
    let text = verify_text(Dialect::Postgres, &dir, &url, &["--trace"]);
    assert!(
        text.contains("trace of 0002 widen_event_ids (up):"),
        "{text}"
    );
    let line = text
        .lines()
        .find(|l| l.contains("ALTER TABLE events ALTER COLUMN id TYPE BIGINT"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        line.contains("ACCESS EXCLUSIVE (blocks reads and writes)"),
        "{line}"
    );
    assert!(line.contains("rewritten"), "{line}");
    let text = verify_text(
        Dialect::Postgres,
        &dir,
        &url,
        &["--trace", "--format", "markdown"],
    );
    assert!(text.contains("### Locks and rewrites"), "{text}");
    assert!(
        text.contains(
            "| `ALTER TABLE events ALTER COLUMN id TYPE BIGINT` <sub>0002_widen_event_ids.up.sql:3</sub>"
        ),
        "{text}"
    );
    assert!(text.contains("**SHARE (blocks writes)**"), "{text}");
    assert!(text.contains("⚠️ rewritten"), "{text}");
}

/// A source database of `dialect` with the first migration of the
/// fixture applied by straddle and `rows` rows in `events`; dropped when
/// the guard goes.
struct Source {
    url: String,
    admin: Option<(DbUrl, String)>,
    _dir: tempfile::TempDir,
}

impl Drop for Source {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.admin.take() {
            runtime().block_on(async {
                if let Ok(mut db) = connect(&admin, false).await {
                    let _ = drop_database(&mut db, &name).await;
                }
            });
        }
    }
}

fn source(dialect: Dialect, server: &str, rows: usize) -> Source {
    let dir = tempfile::tempdir().unwrap();
    let (url, admin) = if dialect == Dialect::Sqlite {
        (
            format!("sqlite://{}", dir.path().join("prod.db").display()),
            None,
        )
    } else {
        let admin = DbUrl::parse(server).unwrap();
        let name = format!("straddle_source_{}", fastrand::u64(..) % 1_000_000_000);
        runtime().block_on(async {
            let mut db = connect(&admin, false).await.unwrap();
            create_database(&mut db, &name).await.unwrap();
        });
        let url = with_database(&admin, &name).expose().to_string();
        (url, Some((admin, name)))
    };
    let guard = Source {
        url: url.clone(),
        admin,
        _dir: dir,
    };
    // Release N: 0001 applied by straddle itself.
    let applied = guard._dir.path().join("applied");
    std::fs::create_dir(&applied).unwrap();
    let from = fixture("from-url").join(dialect.name());
    for file in ["0001_events.up.sql", "0001_events.down.sql"] {
        std::fs::copy(from.join(file), applied.join(file)).unwrap();
    }
    let out = Command::new(BIN)
        .args(["migrate", "up"])
        .arg(&applied)
        .args(["--database-url", &url])
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    runtime().block_on(async {
        let mut db = connect(&DbUrl::parse(&url).unwrap(), false).await.unwrap();
        for i in 1..=rows {
            db.execute(&format!(
                "INSERT INTO events (id, kind, payload) VALUES ({i}, 'kind{}', 'payload {i}')",
                i % 5
            ))
            .await
            .unwrap();
        }
        if dialect == Dialect::Postgres {
            db.execute("ANALYZE events").await.unwrap();
        } else if dialect == Dialect::Mysql {
            db.execute("ANALYZE TABLE events").await.unwrap();
        }
    });
    guard
}

/// What must not change: the history rows and the schema snapshot's
/// checksum (and, for SQLite, the file's bytes).
fn state(dialect: Dialect, url: &str) -> (String, String, Option<String>) {
    let parsed = DbUrl::parse(url).unwrap();
    let (history, snapshot) = runtime().block_on(async {
        let mut db = connect(&parsed, false).await.unwrap();
        let history = db.read_history().await.unwrap();
        let rows: Vec<String> = history
            .iter()
            .map(|r| {
                format!(
                    "{} {} {} {:?}",
                    r.version,
                    r.checksum,
                    r.status.as_str(),
                    r.applied_at
                )
            })
            .collect();
        let snapshot = db.snapshot().await.unwrap();
        let count = db
            .query_texts(
                &format!("SELECT {} FROM events", db.as_text("COUNT(*)")),
                &[],
            )
            .await
            .unwrap();
        (format!("{rows:?} {count:?}"), snapshot)
    });
    let checksum = hex(&Sha256::digest(snapshot.as_bytes()));
    let file = (dialect == Dialect::Sqlite).then(|| {
        let path = parsed.sqlite_path().unwrap();
        hex(&Sha256::digest(std::fs::read(path).unwrap()))
    });
    (history, checksum, file)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_url(dialect: Dialect) {
    let Some(server) = server_url(dialect) else {
        return;
    };
    if dialect == Dialect::Postgres && which_pg_dump().is_none() {
        println!("skipped: no pg_dump on PATH");
        assert!(std::env::var_os("CI").is_none(), "CI needs pg_dump");
        return;
    }
    let src = source(dialect, &server, 500);
    let before = state(dialect, &src.url);
    let dir = fixture("from-url").join(dialect.name());
    let args = ["--from-url", &src.url, "--sample-rows", "2"];
    let report = verify_json(dialect, &dir, &server, &args, 0);
    // Only what the source has not applied ran.
    let versions: Vec<&str> = report["migrations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["version"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["0002", "0003"]);
    let s = &report["source"];
    assert_eq!(s["pending"], serde_json::json!(["0002", "0003"]));
    assert_eq!(s["applied"], 1);
    assert_eq!(s["history"], "straddle_migrations");
    assert_eq!(s["tables"], 1, "{s:#}");
    assert_eq!(s["rows_copied"], 2, "{s:#}");
    // The first statement names `events`, with the source's size.
    let first = &report["migrations"][0]["trace"][0];
    let events = relation(first, "events");
    let rows = events["source"]["rows"].as_i64().unwrap_or(-1);
    if dialect == Dialect::Mysql {
        // InnoDB's row count is an estimate.
        assert!(rows > 100, "{first:#}");
    } else {
        assert_eq!(rows, 500, "{first:#}");
    }
    if dialect == Dialect::Postgres {
        assert_eq!(events["lock"], "ACCESS EXCLUSIVE", "{first:#}");
        assert_eq!(events["rewritten"], true);
        assert!(events["source"]["bytes"].as_i64().unwrap() > 0);
        let warnings = problems(&report, "0002");
        assert!(
            warnings.iter().any(|p| p.0 == "long-lock"
                && p.1 == "warning"
                && p.2.contains("rewrites table events (500 rows")),
            "{warnings:?}"
        );
    }
    // The source is exactly as it was.
    assert_eq!(state(dialect, &src.url), before);

    // And the human and markdown reports say what ran where.
    let text = verify_text(
        dialect,
        &dir,
        &server,
        &["--from-url", &src.url, "--format", "markdown"],
    );
    assert!(text.contains("dry run on a copy of"), "{text}");
    assert!(text.contains("| source size |"), "{text}");
    assert!(
        text.contains("500 rows") || dialect == Dialect::Mysql,
        "{text}"
    );
    assert_eq!(state(dialect, &src.url), before);
}

fn which_pg_dump() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("pg_dump"))
        .find(|p| p.is_file())
}

test_each_dialect!(
    from_url: postgres_from_url_dry_run, mysql_from_url_dry_run, sqlite_from_url_dry_run
);

#[test]
fn from_url_never_prints_the_password() {
    let Some(server) = server_url(Dialect::Postgres) else {
        return;
    };
    if which_pg_dump().is_none() {
        return;
    }
    let src = source(Dialect::Postgres, &server, 3);
    // Trust authentication ignores it; either way it must not show.
    let Some((scheme, rest)) = src.url.split_once("://") else {
        return;
    };
    let Some((user, host)) = rest.split_once('@') else {
        return;
    };
    if user.contains(':') {
        return;
    }
    let with_password = format!("{scheme}://{user}:hunter2secret@{host}");
    let dir = fixture("from-url/postgres");
    for format in ["human", "json", "markdown"] {
        let out = verify(
            Dialect::Postgres,
            &dir,
            &server,
            &["--from-url", &with_password, "--format", format],
        );
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!all.contains("hunter2secret"), "{all}");
        assert!(all.contains("****"), "{all}");
    }
}

#[test]
fn from_url_with_nothing_pending_says_so() {
    let Some(_) = server_url(Dialect::Sqlite) else {
        return;
    };
    let src = source(Dialect::Sqlite, "", 1);
    let dir = src._dir.path().join("applied");
    let out = verify(Dialect::Sqlite, &dir, "", &["--from-url", &src.url]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("nothing pending"), "{text}");
}
