//! `straddle verify` on SQLite (in memory): every fixture folder under
//! tests/fixtures/verify/sqlite must pass or fail as its name says.

mod verify_common;

use straddle::Dialect;
use verify_common::{BIN, check_fixtures, fixtures};

#[test]
fn sqlite_fixtures_pass_and_fail_as_named() {
    check_fixtures(Dialect::Sqlite);
}

#[test]
fn markdown_and_human_reports_show_the_diff_and_the_place() {
    let dir = fixtures(Dialect::Sqlite).join("fail-down-not-restoring");
    let out = std::process::Command::new(BIN)
        .args(["verify", "--dialect", "sqlite", "--format", "markdown"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("## straddle verify"), "{text}");
    assert!(text.contains("```diff"), "{text}");
    assert!(text.contains("+index users.users_name"), "{text}");

    let dir = fixtures(Dialect::Sqlite).join("fail-down-failed");
    let out = std::process::Command::new(BIN)
        .args(["verify", "--dialect", "sqlite"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("error[down-failed]"), "{text}");
    assert!(text.contains("0002_orders.down.sql:1:1"), "{text}");
    assert!(text.contains("no such table: orderz"), "{text}");
}

#[test]
fn fail_fast_stops_at_the_first_failure() {
    let dir = fixtures(Dialect::Sqlite).join("fail-down-failed");
    let out = std::process::Command::new(BIN)
        .args([
            "verify",
            "--dialect",
            "sqlite",
            "--format",
            "json",
            "--fail-fast",
        ])
        .arg(&dir)
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["summary"]["failing_downs"], 1);
    // Only two migrations: nothing after the failure to skip, but the
    // failure itself is reported.
    assert_eq!(out.status.code(), Some(1));
}
