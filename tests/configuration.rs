//! straddle.toml: errors that name key, file, line and column; `straddle
//! init`; `straddle baseline`; folders, exclusions, the database version,
//! and flags that override the file.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn straddle(dir: &Path, args: &[&str]) -> Run {
    let output = Command::cargo_bin("straddle")
        .unwrap()
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn json(run: &Run) -> Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr))
}

fn rules(json: &Value) -> Vec<String> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

/// A temporary project: `migrations/` holds a copy of
/// `tests/fixtures/configuration/migrations` (five migrations, three unsafe).
fn project(config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(
        &repo().join("tests/fixtures/configuration/migrations"),
        &dir.path().join("migrations"),
    );
    std::fs::write(dir.path().join("straddle.toml"), config).unwrap();
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
    }
}

/// Each bad file fails with exit 2 and names the file, line:column and key.
#[test]
fn bad_keys_and_values_name_file_line_and_key() {
    for (text, place, words) in [
        (
            "dialect = \"postgres\"\n\n[rollout]\nbake_time = \"1h\"\n",
            ":4:1:",
            &["bake_time"][..],
        ),
        (
            "[rollout]\nbake = \"soon\"\n",
            ":2:8:",
            &["`rollout.bake`", "soon"][..],
        ),
        (
            "[database]\nversion = \"fifteen\"\n",
            ":2:11:",
            &["`database.version`", "fifteen"][..],
        ),
        (
            "[lint]\nexclude = [\"a[\"]\n",
            ":2:11:",
            &["`lint.exclude`", "a["][..],
        ),
        (
            "[rules]\n\ndrop-colum = \"off\"\n",
            ":3:1:",
            &["drop-colum", "not a straddle rule"][..],
        ),
        (
            "[rules]\ndrop-column = \"loud\"\n",
            ":2:15:",
            &["`rules.drop-column`", "loud"][..],
        ),
        (
            "migrations = 3\n",
            ":1:14:",
            &["`migrations`", "folder"][..],
        ),
        (
            "[rollout]\napplication_name = \"shop\"\n",
            ":2:20:",
            &["{version}"][..],
        ),
        (
            "[runner]\nlock_timeout = \"fast\"\n",
            ":2:16:",
            &["`runner.lock_timeout`"][..],
        ),
    ] {
        let dir = project(text);
        let run = straddle(dir.path(), &["lint"]);
        assert_eq!(run.code, 2, "{text}\n{}", run.stderr);
        assert!(
            run.stderr.contains(&format!("straddle.toml{place}")),
            "{text}: expected straddle.toml{place} in\n{}",
            run.stderr
        );
        for word in words {
            assert!(
                run.stderr.contains(word),
                "{text}: `{word}` in\n{}",
                run.stderr
            );
        }
    }
}

#[test]
fn several_migrations_folders() {
    let dir = project("migrations = [\"migrations\", \"more\"]\n");
    copy_dir(
        &repo().join("migrations-examples/postgres"),
        &dir.path().join("more"),
    );
    let run = straddle(dir.path(), &["lint", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let json = json(&run);
    // 5 migrations + those of the postgres example, each folder alone.
    let example = std::fs::read_dir(repo().join("migrations-examples/postgres"))
        .unwrap()
        .filter(|e| {
            let name = e.as_ref().unwrap().file_name();
            name.to_string_lossy().ends_with(".up.sql")
        })
        .count();
    assert_eq!(json["summary"]["migrations_checked"], 5 + example, "{json}");
    assert!(
        json["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["file"].as_str().unwrap().contains("migrations/")),
        "the postgres example is clean"
    );
}

#[test]
fn exclude_globs_replay_but_do_not_report() {
    let dir = project("[lint]\nexclude = [\"migrations/20240102*\", \"*_rename_name.*\"]\n");
    let all = json(&straddle(
        dir.path(),
        &["lint", "--format", "json", "--exclude", "none"],
    ));
    let some = json(&straddle(dir.path(), &["lint", "--format", "json"]));
    assert_eq!(all["summary"]["migrations_checked"], 5);
    assert_eq!(some["summary"]["migrations_checked"], 3, "{some}");
    assert_eq!(some["summary"]["migrations_replayed"], 5);
    assert!(rules(&all).contains(&"drop-column".to_string()));
    assert!(!rules(&some).contains(&"drop-column".to_string()));
    assert!(!rules(&some).contains(&"rename-column".to_string()));
}

#[test]
fn database_version_from_file_and_flag() {
    let dir = tempfile::tempdir().unwrap();
    let migrations = dir.path().join("migrations");
    std::fs::create_dir(&migrations).unwrap();
    std::fs::write(
        migrations.join("0001_orders.up.sql"),
        "CREATE TABLE orders (id bigint PRIMARY KEY);\n",
    )
    .unwrap();
    std::fs::write(
        migrations.join("0001_orders.down.sql"),
        "DROP TABLE orders;\n",
    )
    .unwrap();
    std::fs::write(
        migrations.join("0002_currency.up.sql"),
        "-- straddle: expand\nSET lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN currency text DEFAULT 'EUR';\n",
    )
    .unwrap();
    std::fs::write(
        migrations.join("0002_currency.down.sql"),
        "ALTER TABLE orders DROP COLUMN currency;\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("straddle.toml"),
        "[database]\nversion = \"10\"\n",
    )
    .unwrap();
    let run = straddle(dir.path(), &["lint", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(rules(&json(&run)), ["volatile-default"]);
    let message = json(&run)["findings"][0]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(message.contains("PostgreSQL 10"), "{message}");
    // The flag overrides the file.
    let run = straddle(
        dir.path(),
        &["lint", "--format", "json", "--database-version", "16"],
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    let run = straddle(dir.path(), &["lint", "--database-version", "sixteen"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("--database-version"), "{}", run.stderr);
}

#[test]
fn init_writes_a_commented_default_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(
        &repo().join("migrations-examples/sqlite"),
        &dir.path().join("db"),
    );
    std::fs::remove_file(dir.path().join("db/straddle.toml")).unwrap();
    let run = straddle(
        dir.path(),
        &["init", "--migrations", "db", "--dialect", "sqlite"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = std::fs::read_to_string(dir.path().join("straddle.toml")).unwrap();
    assert!(text.contains("migrations = \"db\""), "{text}");
    assert!(text.contains("dialect = \"sqlite\""), "{text}");
    assert!(text.contains("# bake = \"60m\""), "{text}");
    // The file works: lint finds the folder through it.
    let run = straddle(dir.path(), &["lint", "--format", "json"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(json(&run)["summary"]["migrations_checked"], 4);
    // A second init refuses and leaves the file alone.
    std::fs::write(dir.path().join("straddle.toml"), "# mine\n").unwrap();
    let run = straddle(dir.path(), &["init"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("already exists"), "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("straddle.toml")).unwrap(),
        "# mine\n"
    );
    // Even a broken configuration does not stop init from refusing politely.
    std::fs::write(dir.path().join("straddle.toml"), "nonsense = [\n").unwrap();
    let run = straddle(dir.path(), &["init"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("already exists"), "{}", run.stderr);
}

#[test]
fn baseline_command_sets_the_latest_version_keeping_comments() {
    let config = "# our settings\nmigrations = \"migrations\" # the folder\n\n[lint]\n# adopted in July\nassume_lock_timeout = false\n";
    let dir = project(config);
    let before = json(&straddle(dir.path(), &["lint", "--format", "json"]));
    assert_eq!(before["summary"]["migrations_checked"], 5);

    let run = straddle(dir.path(), &["baseline"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("20240105090000"), "{}", run.stdout);
    let text = std::fs::read_to_string(dir.path().join("straddle.toml")).unwrap();
    assert_eq!(
        text,
        "# our settings\nmigrations = \"migrations\" # the folder\n\n[lint]\n# adopted in July\nassume_lock_timeout = false\nbaseline = \"20240105090000\"\n"
    );
    let after = straddle(dir.path(), &["lint", "--format", "json"]);
    assert_eq!(after.code, 0, "{}", after.stdout);
    let after = json(&after);
    assert_eq!(after["summary"]["migrations_checked"], 0);
    // Nothing after the baseline: nothing to replay for.
    assert_eq!(after["summary"]["migrations_replayed"], 0);

    // A new migration after the baseline is linted with the old ones as
    // context: dropping a column created before the baseline is caught.
    std::fs::write(
        dir.path()
            .join("migrations/20240801090000_drop_total.up.sql"),
        "ALTER TABLE orders DROP COLUMN total;\n",
    )
    .unwrap();
    std::fs::write(
        dir.path()
            .join("migrations/20240801090000_drop_total.down.sql"),
        "ALTER TABLE orders ADD COLUMN total numeric(12, 2);\n",
    )
    .unwrap();
    let run = straddle(dir.path(), &["lint", "--format", "json"]);
    let json_after = json(&run);
    assert_eq!(json_after["summary"]["migrations_checked"], 1);
    assert!(rules(&json_after).contains(&"drop-column".to_string()));

    // The flag overrides the file; an explicit version can be set.
    let all = json(&straddle(
        dir.path(),
        &["lint", "--format", "json", "--baseline", "0"],
    ));
    assert_eq!(all["summary"]["migrations_checked"], 6);
    let run = straddle(dir.path(), &["baseline", "20240103090000"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let some = json(&straddle(dir.path(), &["lint", "--format", "json"]));
    assert_eq!(some["summary"]["migrations_checked"], 3);
    let run = straddle(dir.path(), &["baseline", "yesterday"]);
    assert_eq!(run.code, 2);
}

#[test]
fn baseline_without_a_config_file_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let run = straddle(dir.path(), &["baseline"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("straddle init"), "{}", run.stderr);
}
