//! `straddle verify` on a real MySQL/MariaDB server: every fixture folder
//! under tests/fixtures/verify/mysql must pass or fail as its name says
//! (MySQL's DDL is not transactional: this exercises the restore path), and
//! without --scratch-url verify refuses with a usage error.

mod verify_common;

use std::process::Command;

use straddle::Dialect;
use verify_common::{BIN, check_fixtures, fixtures};

#[test]
fn mysql_fixtures_pass_and_fail_as_named() {
    check_fixtures(Dialect::Mysql);
}

#[test]
fn mysql_without_scratch_url_is_a_usage_error() {
    let dir = fixtures(Dialect::Mysql).join("pass-down-failed");
    let out = Command::new(BIN)
        .args(["verify", "--dialect", "mysql"])
        .arg(&dir)
        .env_remove("STRADDLE_SCRATCH_URL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--scratch-url"), "{stderr}");
}
