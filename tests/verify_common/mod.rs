//! Shared by the verify tests: real servers (never mocks), the fixture
//! folders under `tests/fixtures/verify/<dialect>/`, and the built binary.
//!
//! Servers: `STRADDLE_TEST_POSTGRES_URL` and `STRADDLE_TEST_MYSQL_URL`
//! (defaults `postgres://postgres@127.0.0.1:5432/postgres` and
//! `mysql://root@127.0.0.1:3306/mysql`). verify creates its own scratch
//! database there and drops it; every test checks that it is gone. When no
//! server answers, a test prints "skipped: …" and passes, except when `CI` is
//! set: then it fails.
//!
//! Fixture folders: `pass-<kind>` must verify with no error and no problem
//! of that kind (notes aside); `fail-<kind>` must report a problem of that kind (exit 1,
//! or 0 for the `column-order` warning). An optional `verify.case` holds
//! `rows = N`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use straddle::Dialect;
use straddle::db::scratch::{database_exists, with_database};
use straddle::db::{DbUrl, connect};

pub const BIN: &str = env!("CARGO_BIN_EXE_straddle");

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn in_ci() -> bool {
    std::env::var_os("CI").is_some()
}

/// The server's URL, or `None` (after printing "skipped") when it is not
/// there; SQLite needs none and gets `Some("")`.
pub fn server_url(dialect: Dialect) -> Option<String> {
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
    let ok = runtime().block_on(async {
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

pub fn fixtures(dialect: Dialect) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/verify")
        .join(dialect.name())
}

/// Runs `straddle verify DIR --format json` (plus `extra`) against `url`.
pub fn verify(dialect: Dialect, dir: &Path, url: &str, extra: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.arg("verify")
        .arg(dir)
        .args(["--format", "json", "--dialect", dialect.name()]);
    if !url.is_empty() {
        cmd.args(["--scratch-url", url]);
    }
    let case = dir.join("verify.case");
    if let Ok(text) = std::fs::read_to_string(&case) {
        for line in text.lines() {
            if let Some((key, value)) = line.split_once('=')
                && key.trim() == "rows"
            {
                cmd.args(["--rows", value.trim()]);
            }
        }
    }
    cmd.args(extra)
        .env_remove("STRADDLE_SCRATCH_URL")
        .env_remove("DATABASE_URL")
        .current_dir(dir)
        .output()
        .expect("run straddle")
}

/// Asserts that the scratch database verify reported is gone again.
pub fn assert_dropped(url: &str, report: &serde_json::Value) {
    if url.is_empty() {
        return;
    }
    let Some(name) = report["scratch_database"].as_str() else {
        panic!("no scratch_database in the report");
    };
    let admin = DbUrl::parse(url).unwrap();
    let exists = runtime().block_on(async {
        let mut db = connect(&admin, false).await.expect("admin connection");
        database_exists(&mut db, name).await.expect("query")
    });
    assert!(!exists, "scratch database {name} was left behind");
    // And it is not reachable any more either.
    let gone = runtime().block_on(async { connect(&with_database(&admin, name), false).await });
    assert!(
        gone.is_err(),
        "scratch database {name} still accepts connections"
    );
}

fn kinds(report: &serde_json::Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for m in report["migrations"].as_array().into_iter().flatten() {
        for p in m["problems"].as_array().into_iter().flatten() {
            out.push((
                p["kind"].as_str().unwrap_or("").to_string(),
                p["severity"].as_str().unwrap_or("").to_string(),
            ));
        }
    }
    out
}

/// Runs every fixture folder of `dialect` and checks its expectation.
pub fn check_fixtures(dialect: Dialect) {
    let Some(url) = server_url(dialect) else {
        return;
    };
    let mut cases: Vec<PathBuf> = std::fs::read_dir(fixtures(dialect))
        .expect("fixtures")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 12, "fixture folders missing");
    let mut failures = Vec::new();
    for dir in &cases {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let (pass, kind) = match name.split_once('-') {
            Some(("pass", k)) => (true, k.to_string()),
            Some(("fail", k)) => (false, k.to_string()),
            _ => continue,
        };
        let out = verify(dialect, dir, &url, &[]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let report: serde_json::Value = match serde_json::from_str(&stdout) {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("{name}: no JSON report ({e}):\n{stdout}\n{stderr}"));
                continue;
            }
        };
        assert_dropped(&url, &report);
        let found = kinds(&report);
        let code = out.status.code();
        let errors: Vec<&(String, String)> = found.iter().filter(|(_, s)| s == "error").collect();
        if pass {
            if code != Some(0)
                || !errors.is_empty()
                || found.iter().any(|(k, s)| *k == kind && s != "note")
            {
                failures.push(format!(
                    "{name}: must pass, got exit {code:?} and {found:?}\n{stdout}"
                ));
            }
        } else {
            let expected_code = if kind == "column-order" { 0 } else { 1 };
            if code != Some(expected_code) || !found.iter().any(|(k, _)| *k == kind) {
                failures.push(format!(
                    "{name}: must report {kind} (exit {expected_code}), got exit {code:?} and {found:?}\n{stdout}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
