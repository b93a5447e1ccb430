//! `straddle verify` on a real PostgreSQL server: every fixture folder under
//! tests/fixtures/verify/postgres must pass or fail as its name says, the
//! scratch database is dropped on success, failure and Ctrl-C, passwords
//! are never printed, and the ephemeral cluster works when initdb is there.

mod verify_common;

use std::process::{Command, Stdio};
use std::time::Duration;

use straddle::Dialect;
use straddle::db::scratch::database_exists;
use straddle::db::{DbUrl, connect};
use verify_common::{BIN, assert_dropped, check_fixtures, fixtures, runtime, server_url, verify};

#[test]
fn postgres_fixtures_pass_and_fail_as_named() {
    check_fixtures(Dialect::Postgres);
}

#[test]
fn failing_statements_are_reported_with_their_place_and_error() {
    let Some(url) = server_url(Dialect::Postgres) else {
        return;
    };
    let dir = fixtures(Dialect::Postgres).join("fail-up-failed");
    let out = verify(Dialect::Postgres, &dir, &url, &[]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_dropped(&url, &report);
    let problem = &report["migrations"][1]["problems"][0];
    assert_eq!(problem["kind"], "up-failed");
    // The database's own error, and the place of the unknown type.
    assert!(
        problem["error"]
            .as_str()
            .unwrap()
            .contains("type \"no_such_type\" does not exist"),
        "{problem}"
    );
    assert!(
        problem["place"]
            .as_str()
            .unwrap()
            .ends_with("0002_bad_type.up.sql:1:36"),
        "{problem}"
    );
}

#[test]
fn passwords_are_never_printed() {
    let Some(url) = server_url(Dialect::Postgres) else {
        return;
    };
    // With a password in the URL (ignored by trust authentication, or
    // refused: either way it must not show up).
    let with_password = match url.split_once("://") {
        Some((scheme, rest)) if !rest.split('@').next().unwrap_or("").contains(':') => {
            match rest.split_once('@') {
                Some((user, host)) => format!("{scheme}://{user}:hunter2secret@{host}"),
                None => return,
            }
        }
        _ => return,
    };
    let dir = fixtures(Dialect::Postgres).join("fail-down-not-restoring");
    for format in ["human", "json", "markdown"] {
        let out = Command::new(BIN)
            .args(["verify", "--dialect", "postgres", "--format", format])
            .arg(&dir)
            .args(["--scratch-url", &with_password])
            .output()
            .unwrap();
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
fn ctrl_c_drops_the_scratch_database() {
    let Some(url) = server_url(Dialect::Postgres) else {
        return;
    };
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpora/rust-lang__crates.io/migrations");
    if !corpus.is_dir() {
        println!("skipped: no crates.io corpus");
        return;
    }
    let child = Command::new(BIN)
        .args(["verify", "--dialect", "postgres", "--scratch-url", &url])
        .arg(&corpus)
        .env("CI", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    let name = stderr
        .split_whitespace()
        .find(|w| w.starts_with("straddle_verify_"))
        .expect("the scratch database's name")
        .to_string();
    let exists = runtime().block_on(async {
        let mut db = connect(&DbUrl::parse(&url).unwrap(), false).await.unwrap();
        database_exists(&mut db, &name).await.unwrap()
    });
    assert!(!exists, "{name} was left behind");
}

#[test]
fn ephemeral_cluster_without_scratch_url() {
    if straddle::verify::cluster::find_binaries().is_none() {
        if std::env::var_os("CI").is_some() {
            panic!("no initdb/pg_ctl in CI");
        }
        println!("skipped: no initdb/pg_ctl");
        return;
    }
    let dir = fixtures(Dialect::Postgres).join("pass-down-failed");
    let out = verify(Dialect::Postgres, &dir, "", &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("ephemeral PostgreSQL cluster"), "{stderr}");
    let path = stderr
        .split('(')
        .nth(1)
        .and_then(|s| s.split(')').next())
        .unwrap_or("");
    assert!(
        !path.is_empty() && !std::path::Path::new(path).exists(),
        "cluster folder {path} left behind"
    );
}
