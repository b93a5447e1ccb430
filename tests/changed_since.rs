//! `straddle lint --changed-since REF` on a real, temporary git repository
//! built from the files in `tests/fixtures/changed-since/`.

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use assert_cmd::Command;
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/changed-since")
}

/// Runs git in `dir` with a fixed identity; panics when it fails.
fn git(dir: &Path, args: &[&str]) {
    let output = Process::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=straddle tests",
            "-c",
            "user.email=tests@straddle.invalid",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git must be installed for these tests");
    assert!(
        output.status.success(),
        "git {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Copies every file of the fixture folder `part` into `repo/migrations`.
fn copy(part: &str, repo: &Path) {
    let target = repo.join("migrations");
    std::fs::create_dir_all(&target).unwrap();
    for entry in std::fs::read_dir(fixtures().join(part)).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, target.join(path.file_name().unwrap())).unwrap();
    }
}

fn commit(repo: &Path, message: &str) {
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "-m", message]);
}

/// A repository whose `main` has `base/`, and a branch `feature` checked out
/// that left `main` before `main-later/` was merged into it.
fn repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path();
    git(repo, &["init", "-q"]);
    copy("base", repo);
    commit(repo, "base");
    git(repo, &["branch", "feature"]);
    copy("main-later", repo);
    commit(repo, "main: add orders.note");
    git(repo, &["checkout", "-q", "feature"]);
    dir
}

fn lint(repo: &Path, args: &[&str]) -> (i32, Value, String) {
    let output = Command::cargo_bin("straddle")
        .unwrap()
        .current_dir(repo)
        .env("NO_COLOR", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .arg("lint")
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let json = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (output.status.code().unwrap_or(-1), json, stderr)
}

/// (rule, file name, message) of each finding.
fn findings(json: &Value) -> Vec<(String, String, String)> {
    json["findings"]
        .as_array()
        .unwrap_or_else(|| panic!("no findings in {json}"))
        .iter()
        .map(|f| {
            let file = f["file"].as_str().unwrap();
            (
                f["rule"].as_str().unwrap().to_string(),
                file.rsplit('/').next().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string() + " | " + f["help"].as_str().unwrap(),
            )
        })
        .collect()
}

#[test]
fn added_modified_and_out_of_order_migrations() {
    let dir = repository();
    let repo = dir.path();
    copy("branch-out-of-order", repo);
    copy("branch-added", repo);
    copy("branch-edit", repo);
    commit(repo, "feature work");
    copy("branch-untracked", repo);

    let (code, json, stderr) = lint(
        repo,
        &["--changed-since", "main", "--format", "json", "migrations"],
    );
    assert_eq!(code, 1, "{json}\n{stderr}");
    // 0002 (edited), 0003 (new, out of order), 0005 (new), 0006 (untracked).
    assert_eq!(json["summary"]["migrations_checked"], 4, "{json}");
    assert_eq!(json["summary"]["migrations_replayed"], 5, "{json}");
    let found = findings(&json);
    assert_eq!(found.len(), 2, "{found:#?}");

    let (rule, file, text) = &found[0];
    assert_eq!(rule, "shipped-migration-modified");
    assert_eq!(file, "0002_create_orders.up.sql");
    assert!(text.contains("already existed at `main`"), "{text}");
    assert!(text.contains("git checkout main -- "), "{text}");

    let (rule, file, text) = &found[1];
    assert_eq!(rule, "out-of-order-migration");
    assert_eq!(file, "0003_add_users_locale.up.sql");
    assert!(text.contains("sorts before 0004"), "{text}");
    assert!(
        text.contains("0007_add_users_locale.up.sql")
            && text.contains("0007_add_users_locale.down.sql"),
        "the fix names the files to rename: {text}"
    );
}

#[test]
fn only_changed_migrations_are_reported() {
    let dir = repository();
    let repo = dir.path();
    // Make a shipped migration unsafe on the base: without --changed-since
    // it is reported, with it it is not (it did not change on this branch).
    git(repo, &["checkout", "-q", "main"]);
    std::fs::write(
        repo.join("migrations/0004_add_orders_note.up.sql"),
        "-- straddle: expand\nALTER TABLE orders ADD COLUMN note text;\nALTER TABLE orders DROP COLUMN total;\n",
    )
    .unwrap();
    commit(repo, "main: an unsafe migration");
    git(repo, &["checkout", "-q", "feature"]);
    git(repo, &["merge", "-q", "--no-edit", "main"]);
    copy("branch-added", repo);
    commit(repo, "feature: notes");

    let (code, json, stderr) = lint(repo, &["--format", "json", "migrations"]);
    assert_eq!(code, 1, "{json}\n{stderr}");
    assert!(findings(&json).iter().any(|f| f.1.starts_with("0004")));

    let (code, json, stderr) = lint(
        repo,
        &["--changed-since", "main", "--format", "json", "migrations"],
    );
    assert_eq!(code, 0, "{json}\n{stderr}");
    assert_eq!(json["summary"]["migrations_checked"], 1, "{json}");
    assert!(findings(&json).is_empty(), "{json}");
}

#[test]
fn nothing_changed_reports_nothing() {
    let dir = repository();
    let (code, json, stderr) = lint(
        dir.path(),
        &[
            "--changed-since",
            "feature",
            "--format",
            "json",
            "migrations",
        ],
    );
    assert_eq!(code, 0, "{json}\n{stderr}");
    assert_eq!(json["summary"]["migrations_checked"], 0, "{json}");
    // With nothing to report, nothing needs replaying either.
    assert_eq!(json["summary"]["migrations_replayed"], 0, "{json}");
}

#[test]
fn the_folder_comes_from_the_config_and_files_narrow_it() {
    let dir = repository();
    let repo = dir.path();
    std::fs::write(repo.join("straddle.toml"), "migrations = \"migrations\"\n").unwrap();
    copy("branch-out-of-order", repo);
    copy("branch-added", repo);
    commit(repo, "feature work");
    let (code, json, _) = lint(repo, &["--changed-since", "main", "--format", "json"]);
    assert_eq!(code, 1, "{json}");
    assert_eq!(json["summary"]["migrations_checked"], 2, "{json}");
    // Naming a file limits the report to it, still only if it changed.
    let (code, json, _) = lint(
        repo,
        &[
            "--changed-since",
            "main",
            "--format",
            "json",
            "migrations/0005_create_notes.up.sql",
            "migrations/0001_create_users.up.sql",
        ],
    );
    assert_eq!(code, 0, "{json}");
    assert_eq!(json["summary"]["migrations_checked"], 1, "{json}");
}

#[test]
fn unknown_ref_and_missing_repository_are_usage_errors() {
    let dir = repository();
    let (code, _, stderr) = lint(
        dir.path(),
        &["--changed-since", "origin/nope", "migrations"],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("`origin/nope`"), "{stderr}");
    assert!(stderr.contains("fetch-depth: 0"), "{stderr}");

    let plain = tempfile::tempdir().unwrap();
    copy("base", plain.path());
    let (code, _, stderr) = lint(plain.path(), &["--changed-since", "main", "migrations"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("not inside a git repository"), "{stderr}");
}
