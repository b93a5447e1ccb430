//! The `straddle` binary end to end: exit codes, `lint DIR` and `lint FILE…`,
//! output formats, colour, `rules`, `explain` and configuration errors.
//!
//! Every command runs with the repository as its current folder and relative
//! paths, so the paths printed (and stored in snapshots) are stable.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `straddle` run from the repository root, with a neutral environment.
fn straddle() -> Command {
    let mut cmd = Command::cargo_bin("straddle").expect("the straddle binary");
    cmd.current_dir(repo())
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("RUST_BACKTRACE");
    cmd
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(cmd: &mut Command) -> Run {
    let output = cmd.output().expect("straddle runs");
    Run {
        code: output.status.code().expect("exit code, not a signal"),
        stdout: String::from_utf8(output.stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8 stderr"),
    }
}

fn straddle_run(args: &[&str]) -> Run {
    run(straddle().args(args))
}

/// `lint … --format json`, parsed.
fn lint_json(args: &[&str]) -> (i32, Value) {
    let mut all = vec!["lint", "--format", "json"];
    all.extend_from_slice(args);
    let out = straddle_run(&all);
    (out.code, json_of(&out))
}

/// `lint … --format json`, which must exit with `code`, parsed.
#[track_caller]
fn lint_json_exit(args: &[&str], code: i32) -> Value {
    let (got, json) = lint_json(args);
    assert_eq!(got, code, "{json:#}");
    json
}

/// The standard output of `out`, parsed as JSON.
fn json_of(out: &Run) -> Value {
    serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", out.stdout, out.stderr))
}

fn findings(json: &Value) -> &Vec<Value> {
    json["findings"].as_array().expect("findings array")
}

fn rules_of(json: &Value) -> Vec<String> {
    findings(json)
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

/// `straddle rules --json`, parsed.
fn rules_json() -> Value {
    let out = straddle_run(&["rules", "--json"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    json_of(&out)
}

fn has_rule(json: &Value, rule: &str) -> bool {
    rules_of(json).iter().any(|r| r == rule)
}

/// Checks that `text` contains `needle`.
#[track_caller]
fn assert_contains(text: &str, needle: &str) {
    assert!(text.contains(needle), "{needle:?} missing from:\n{text}");
}

/// Checks that `text` starts with `prefix`.
#[track_caller]
fn assert_starts_with(text: &str, prefix: &str) {
    assert!(
        text.starts_with(prefix),
        "expected to start with {prefix:?}:\n{text}"
    );
}

/// Checks that `out` is a usage error (exit 2) whose standard error names
/// each of `needles`.
#[track_caller]
fn assert_exit_2(out: &Run, needles: &[&str]) {
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    for needle in needles {
        assert_contains(&out.stderr, needle);
    }
}

/// `straddle lint` run in `dir`, with no arguments.
fn lint_in(dir: &Path) -> Run {
    run(straddle().current_dir(dir).arg("lint"))
}

const LAYOUTS: &str = "tests/fixtures/layouts";

fn layout(case: &str) -> String {
    format!("{LAYOUTS}/{case}")
}

// ---------------------------------------------------------------------------
// The examples

#[test]
fn postgres_example_lints_without_errors() {
    let out = straddle_run(&["lint", "migrations-examples/postgres"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_contains(&out.stdout, "0 errors");
    assert!(
        out.stdout.contains("in 8 migrations"),
        "every migration is checked: {}",
        out.stdout
    );
}

#[test]
fn sqlite_example_lints_clean_with_dialect_flag() {
    let out = straddle_run(&["lint", "--dialect", "sqlite", "migrations-examples/sqlite"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_starts_with(&out.stdout, "0 errors, 0 warnings");
}

#[test]
fn sqlite_example_lints_clean_through_its_config() {
    let out = straddle_run(&[
        "--config",
        "migrations-examples/sqlite/straddle.toml",
        "lint",
    ]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_starts_with(&out.stdout, "0 errors, 0 warnings in 4 migrations");

    // Inside the folder, straddle.toml is found on its own.
    let out = run(straddle()
        .current_dir(repo().join("migrations-examples/sqlite"))
        .arg("lint"));
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_starts_with(&out.stdout, "0 errors, 0 warnings in 4 migrations");
}

#[test]
fn unsafe_example_is_rejected() {
    let json = lint_json_exit(&["migrations-examples/unsafe"], 1);
    // Each migration after the first makes one mistake, caught by this rule.
    let expected = [
        ("20240702090000_drop_nickname", "drop-column"),
        ("20240703090000_rename_name", "rename-column"),
        ("20240704090000_add_currency", "add-not-null-column"),
        (
            "20240705090000_index_orders_user_id",
            "create-index-non-concurrently",
        ),
        (
            "20240706090000_orders_user_fk",
            "foreign-key-without-not-valid",
        ),
        ("20240707090000_add_last_login", "missing-down"),
        (
            "20240708090000_add_refunded_status",
            "irreversible-enum-value",
        ),
        ("20240709090000_add_public_id", "volatile-default"),
    ];
    let errors: Vec<(&str, &str)> = findings(&json)
        .iter()
        .filter(|f| f["severity"] == "error")
        .map(|f| (f["file"].as_str().unwrap(), f["rule"].as_str().unwrap()))
        .collect();
    for (migration, rule) in expected {
        let up = format!("migrations-examples/unsafe/{migration}.up.sql");
        assert!(
            errors.contains(&(up.as_str(), rule)),
            "{migration} should fail with {rule}: {errors:#?}"
        );
    }
    // Every migration is covered above, and the first one is safe.
    let dir = repo().join("migrations-examples/unsafe");
    let ups = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".up.sql")
        })
        .count();
    assert_eq!(ups, expected.len() + 1);
    assert!(
        !errors.iter().any(|(f, _)| f.contains("initial_schema")),
        "the initial schema is safe: {errors:#?}"
    );
}

#[test]
fn unsafe_example_human_output() {
    let out = straddle_run(&["lint", "migrations-examples/unsafe"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.is_empty(), "{}", out.stderr);
    insta::assert_snapshot!("lint_unsafe_human", out.stdout);
}

// ---------------------------------------------------------------------------
// Exit codes

#[test]
fn exit_0_when_clean() {
    let out = straddle_run(&["lint", &layout("sqlx-reversible")]);
    assert_eq!(out.code, 0, "{}", out.stdout);
}

#[test]
fn exit_1_on_errors() {
    let out = straddle_run(&["lint", &layout("lint-files")]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert_contains(&out.stdout, "error[drop-table]");
}

#[test]
fn warnings_fail_only_with_deny_warnings() {
    // The stray schema.sql is a warning (unrecognised-file).
    let dir = layout("stray-sql");
    let out = straddle_run(&["lint", &dir]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert_contains(&out.stdout, "warning[unrecognised-file]");
    assert_contains(&out.stdout, "0 errors, 1 warning");

    let out = straddle_run(&["lint", "--deny-warnings", &dir]);
    assert_eq!(out.code, 1, "{}", out.stdout);
}

#[test]
fn exit_2_on_usage_errors() {
    for args in [
        &["frobnicate"][..],
        &["lint", "--format", "xml", "migrations-examples/postgres"],
        &[
            "lint",
            "--dialect",
            "oracle",
            "migrations-examples/postgres",
        ],
        &["lint", "--no-such-flag"],
        &["explain"],
    ] {
        let out = straddle_run(args);
        assert_eq!(out.code, 2, "{args:?}: {}{}", out.stdout, out.stderr);
        assert!(!out.stderr.is_empty(), "{args:?} says why on stderr");
        assert!(out.stdout.is_empty(), "{args:?}: {}", out.stdout);
    }
    let out = straddle_run(&["lint", "--dialect", "oracle", "x"]);
    assert_contains(&out.stderr, "postgres, mysql or sqlite");
}

#[test]
fn help_and_version_exit_0() {
    let out = straddle_run(&["--help"]);
    assert_eq!(out.code, 0);
    assert_contains(&out.stdout, "lint");
    let out = straddle_run(&["--version"]);
    assert_eq!(out.code, 0);
    assert_starts_with(&out.stdout, "straddle ");
}

#[test]
fn missing_folder_is_exit_2_naming_it() {
    let out = straddle_run(&["lint", "no/such/migrations"]);
    assert_exit_2(&out, &["no/such/migrations"]);
    assert!(out.stdout.is_empty(), "{}", out.stdout);
}

#[test]
fn default_folder_missing_is_exit_2_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = lint_in(dir.path());
    assert_exit_2(&out, &["migrations", "straddle.toml"]);
}

#[test]
fn default_folder_is_used_when_present() {
    let dir = tempfile::tempdir().unwrap();
    let migrations = dir.path().join("migrations");
    std::fs::create_dir(&migrations).unwrap();
    std::fs::write(
        migrations.join("0001_t.up.sql"),
        "CREATE TABLE t (id int);\n",
    )
    .unwrap();
    std::fs::write(migrations.join("0001_t.down.sql"), "DROP TABLE t;\n").unwrap();
    let out = lint_in(dir.path());
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_contains(&out.stdout, "in 1 migration");
}

// ---------------------------------------------------------------------------
// lint FILE…

#[test]
fn lint_files_reports_only_those_files_with_earlier_context() {
    let file = layout("lint-files/0003_drop_events.up.sql");
    let json = lint_json_exit(&[&file], 1);
    assert!(has_rule(&json, "drop-table"), "{json:#}");
    for f in findings(&json) {
        assert_eq!(f["file"], file.as_str(), "only the given file: {json:#}");
        assert!(
            !f["message"].as_str().unwrap().contains("audit_log"),
            "0004's finding must not show: {json:#}"
        );
    }
    assert_eq!(json["summary"]["migrations_checked"], 1);
    assert!(json["summary"]["migrations_replayed"].as_u64().unwrap() >= 3);
}

#[test]
fn lint_files_replays_earlier_migrations_into_the_schema() {
    // 0002 sets NOT NULL on a column that 0001 created NOT NULL: quiet only
    // because 0001 was replayed.
    let (_, json) = lint_json(&[&layout("lint-files/0002_events_kind_not_null.up.sql")]);
    assert_eq!(json["summary"]["migrations_checked"], 1);
    assert!(
        !rules_of(&json)
            .iter()
            .any(|r| r.starts_with("set-not-null")),
        "{json:#}"
    );

    // The same file linted without its history is judged a real change.
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "0002_events_kind_not_null.up.sql",
        "0002_events_kind_not_null.down.sql",
    ] {
        std::fs::copy(
            repo().join(layout("lint-files")).join(name),
            dir.path().join(name),
        )
        .unwrap();
    }
    let out = run(straddle().args(["lint", "--format", "json", dir.path().to_str().unwrap()]));
    let json = json_of(&out);
    assert!(
        rules_of(&json)
            .iter()
            .any(|r| r.starts_with("set-not-null")),
        "{json:#}"
    );
}

#[test]
fn lint_several_files_reports_each() {
    let a = layout("lint-files/0003_drop_events.up.sql");
    let b = layout("lint-files/0004_drop_audit_log.up.sql");
    let json = lint_json_exit(&[&a, &b], 1);
    let files: Vec<&str> = findings(&json)
        .iter()
        .filter(|f| f["rule"] == "drop-table")
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert_eq!(files, [a.as_str(), b.as_str()]);
    assert_eq!(json["summary"]["migrations_checked"], 2);
}

#[test]
fn lint_file_keeps_the_path_as_given() {
    let given = format!("./{}", layout("lint-files/0003_drop_events.up.sql"));
    let (_, json) = lint_json(&[&given]);
    assert!(!findings(&json).is_empty());
    for f in findings(&json) {
        assert_eq!(f["file"], given.as_str());
    }
    // The human format names it the same way.
    let out = straddle_run(&["lint", &given]);
    assert_contains(&out.stdout, &format!("{given}:1:1"));
}

#[test]
fn lint_the_down_file_reports_its_migration() {
    let json = lint_json_exit(&[&layout("lint-files/0003_drop_events.down.sql")], 1);
    assert_eq!(json["summary"]["migrations_checked"], 1);
    assert!(has_rule(&json, "drop-table"));
}

#[test]
fn lint_diesel_up_sql_paths() {
    let drop = layout("diesel-lint/2019-11-12-090000_drop_posts/up.sql");
    let json = lint_json_exit(&[&drop], 1);
    assert!(has_rule(&json, "drop-table"), "{json:#}");
    assert!(findings(&json).iter().all(|f| f["file"] == drop.as_str()));
    assert_eq!(json["summary"]["migrations_checked"], 1);

    let create = layout("diesel-lint/2019-11-11-162609_create_posts/up.sql");
    let json = lint_json_exit(&[&create], 0);
    assert_eq!(json["summary"]["migrations_checked"], 1);
}

#[test]
fn lint_diesel_up_sql_from_inside_its_folder() {
    let folder = repo().join(layout("diesel-lint/2019-11-12-090000_drop_posts"));
    let out = run(straddle()
        .current_dir(&folder)
        .args(["lint", "--format", "json", "up.sql"]));
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let json = json_of(&out);
    assert!(has_rule(&json, "drop-table"));
    assert!(
        findings(&json).iter().all(|f| f["file"] == "up.sql"),
        "{json:#}"
    );
}

#[test]
fn lint_stray_file_reports_it() {
    let json = lint_json_exit(&[&layout("stray-sql/schema.sql")], 0);
    assert_eq!(rules_of(&json), ["unrecognised-file"]);
}

#[test]
fn lint_missing_file_is_exit_2_naming_it() {
    let missing = layout("lint-files/0009_nope.up.sql");
    let out = straddle_run(&["lint", &missing]);
    assert_exit_2(&out, &[&missing]);
}

#[test]
fn lint_non_utf8_file_is_a_finding_not_a_crash() {
    let file = layout("non-utf8/0001_create_menu.up.sql");
    let json = lint_json_exit(&[&file], 1);
    let f = &findings(&json)[0];
    assert_eq!(f["rule"], "unreadable-file");
    assert_eq!(f["file"], file.as_str());
    // The human format cannot show a frame of it, but names it.
    let out = straddle_run(&["lint", &file]);
    assert_eq!(out.code, 1);
    assert_contains(&out.stdout, &file);
    assert_contains(&out.stdout, "not UTF-8");
}

// ---------------------------------------------------------------------------
// Formats, dialects, colour

#[test]
fn json_has_the_documented_shape() {
    let json = lint_json_exit(&["migrations-examples/unsafe"], 1);
    let top: Vec<&String> = json.as_object().unwrap().keys().collect();
    assert_eq!(top, ["findings", "summary"]);
    assert!(!findings(&json).is_empty());
    for f in findings(&json) {
        // serde_json sorts object keys: compare as sets.
        let keys: Vec<&String> = f.as_object().unwrap().keys().collect();
        let mut expected = [
            "rule", "category", "severity", "file", "line", "column", "message", "help",
        ];
        expected.sort();
        assert_eq!(keys, expected, "{f:#}");
        assert!(f["rule"].is_string());
        assert!(
            [
                "data-loss",
                "backward-incompatible",
                "locking",
                "reversibility",
                "phase",
                "hygiene",
                "parse"
            ]
            .contains(&f["category"].as_str().unwrap()),
            "{f:#}"
        );
        assert!(["error", "warning"].contains(&f["severity"].as_str().unwrap()));
        assert!(
            f["file"]
                .as_str()
                .unwrap()
                .starts_with("migrations-examples/unsafe/"),
            "{f:#}"
        );
        assert!(f["line"].as_u64().unwrap() >= 1);
        assert!(f["column"].as_u64().unwrap() >= 1);
        assert!(!f["message"].as_str().unwrap().is_empty());
        assert!(f["help"].is_string());
    }
    let summary = json["summary"].as_object().unwrap();
    let errors = findings(&json)
        .iter()
        .filter(|f| f["severity"] == "error")
        .count();
    assert_eq!(summary["errors"], errors);
    assert_eq!(
        summary["warnings"],
        findings(&json).len() - errors,
        "{summary:?}"
    );
    assert_eq!(summary["migrations_checked"], 9);
}

#[test]
fn json_fields_are_written_in_the_documented_order() {
    let out = straddle_run(&["lint", "--format", "json", &layout("lint-files")]);
    let first = out.stdout.split("\"findings\"").nth(1).unwrap();
    let first = &first[..first.find('}').unwrap()];
    let positions: Vec<usize> = [
        "\"rule\"",
        "\"category\"",
        "\"severity\"",
        "\"file\"",
        "\"line\"",
        "\"column\"",
        "\"message\"",
        "\"help\"",
    ]
    .iter()
    .map(|key| {
        first
            .find(key)
            .unwrap_or_else(|| panic!("{key} missing: {first}"))
    })
    .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{first}");
    let summary = out.stdout.split("\"summary\"").nth(1).unwrap();
    for key in [
        "errors",
        "warnings",
        "migrations_checked",
        "migrations_replayed",
    ] {
        assert_contains(summary, &format!("\"{key}\""));
    }
}

#[test]
fn json_of_a_clean_folder() {
    let json = lint_json_exit(&["migrations-examples/postgres"], 0);
    assert!(
        findings(&json).iter().all(|f| f["severity"] == "warning"),
        "{json:#}"
    );
    assert_eq!(json["summary"]["errors"], 0);
}

#[test]
fn dialect_flag_selects_the_rules() {
    let dir = layout("dialect");
    // PostgreSQL: a plain CREATE INDEX on an existing table blocks writes.
    let json = lint_json_exit(&[&dir], 1);
    assert!(has_rule(&json, "create-index-non-concurrently"), "{json:#}");
    lint_json_exit(&["--dialect", "postgres", &dir], 1);
    // SQLite has no such thing as a concurrent build.
    let json = lint_json_exit(&["--dialect", "sqlite", &dir], 0);
    assert!(findings(&json).is_empty(), "{json:#}");
}

#[test]
fn dialect_flag_overrides_the_config() {
    // The SQLite example's config says sqlite; the flag wins.
    let out = straddle_run(&[
        "--config",
        "migrations-examples/sqlite/straddle.toml",
        "lint",
        "--dialect",
        "postgres",
        &layout("dialect"),
    ]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    let out = straddle_run(&[
        "--config",
        "migrations-examples/sqlite/straddle.toml",
        "lint",
        &layout("dialect"),
    ]);
    assert_eq!(out.code, 0, "{}", out.stdout);
}

#[test]
fn piped_output_has_no_colour() {
    for format in ["human", "json"] {
        let out = straddle_run(&["lint", "--format", format, "migrations-examples/unsafe"]);
        assert!(!out.stdout.is_empty());
        assert!(!out.stdout.contains("\x1b["), "{format}: {}", out.stdout);
    }
    let out = straddle_run(&["explain", "drop-table"]);
    assert!(!out.stdout.contains("\x1b["));
    let out = straddle_run(&["rules"]);
    assert!(!out.stdout.contains("\x1b["));
}

#[test]
fn colour_can_be_forced_and_no_color_wins() {
    // Proves the test above is not vacuous: the human format does colour.
    let out = run(straddle()
        .env("CLICOLOR_FORCE", "1")
        .args(["lint", "migrations-examples/unsafe"]));
    assert_contains(&out.stdout, "\x1b[");

    let out = run(straddle()
        .env("CLICOLOR_FORCE", "1")
        .env("NO_COLOR", "1")
        .args(["lint", "migrations-examples/unsafe"]));
    assert!(!out.stdout.contains("\x1b["), "{}", out.stdout);
}

// ---------------------------------------------------------------------------
// rules and explain

#[test]
fn rules_lists_every_rule() {
    let out = straddle_run(&["rules"]);
    assert_eq!(out.code, 0);
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("drop-table "))
        .unwrap_or_else(|| panic!("no drop-table line: {}", out.stdout));
    assert_contains(line, "data-loss");
    assert_contains(line, "error");
    for id in [
        "unreadable-file",
        "orphan-down",
        "duplicate-version",
        "parse-error",
    ] {
        assert!(
            out.stdout.lines().any(|l| l.starts_with(&format!("{id} "))),
            "{id} missing: {}",
            out.stdout
        );
    }
}

#[test]
fn rules_json_matches_the_table() {
    let json = rules_json();
    let rules = json.as_array().unwrap();
    let table = straddle_run(&["rules"]).stdout;
    assert_eq!(rules.len(), table.lines().count());
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(ids, sorted, "rules are listed in id order");
    for rule in rules {
        for key in ["id", "category", "severity", "summary", "dialects"] {
            assert!(rule.get(key).is_some(), "{key} missing in {rule}");
        }
    }
}

#[test]
fn explain_prints_the_rule_doc() {
    let out = straddle_run(&["explain", "drop-table"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_starts_with(&out.stdout, "# drop-table");
    for part in [
        "**What it does.**",
        "**Why it is dangerous.**",
        "**Safe alternative.**",
        "**Example.**",
        "category: data-loss",
        "default severity: error",
    ] {
        assert_contains(&out.stdout, part);
    }
}

#[test]
fn every_rule_can_be_explained() {
    let json = rules_json();
    for rule in json.as_array().unwrap() {
        let id = rule["id"].as_str().unwrap();
        let out = straddle_run(&["explain", id]);
        assert_eq!(out.code, 0, "{id}: {}", out.stderr);
        assert!(
            out.stdout.starts_with(&format!("# {id}")),
            "{id}: {}",
            out.stdout
        );
    }
}

#[test]
fn explain_unknown_rule_is_exit_2_with_a_suggestion() {
    let out = straddle_run(&["explain", "no-such-rule"]);
    assert_exit_2(&out, &["no rule `no-such-rule`", "straddle rules"]);
    assert!(out.stdout.is_empty(), "{}", out.stdout);

    let out = straddle_run(&["explain", "drop-tabel"]);
    assert_exit_2(&out, &["did you mean `drop-table`"]);
}

#[test]
fn explain_accepts_other_spellings_of_an_id() {
    let out = straddle_run(&["explain", "DROP_TABLE"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_starts_with(&out.stdout, "# drop-table");
}

// ---------------------------------------------------------------------------
// Configuration errors

fn write_config(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("straddle.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn unknown_config_key_is_exit_2_naming_file_line_column_and_key() {
    let dir = tempfile::tempdir().unwrap();
    write_config(dir.path(), "dialect = \"postgres\"\nfrobnicate = 1\n");
    // Found by searching upward from the current folder...
    let out = lint_in(dir.path());
    assert_exit_2(&out, &["straddle.toml:2:1:", "frobnicate"]);
    assert!(out.stdout.is_empty(), "{}", out.stdout);

    // ...or named with --config.
    let path = dir.path().join("straddle.toml");
    let out = run(straddle().args([
        "--config",
        path.to_str().unwrap(),
        "lint",
        "migrations-examples/postgres",
    ]));
    assert_exit_2(&out, &[&format!("{}:2:1:", path.display()), "frobnicate"]);
}

#[test]
fn bad_config_values_are_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    for (text, needle) in [
        ("dialect = \"oracle\"\n", "oracle"),
        ("[rules]\nno-such-rule = \"error\"\n", "no-such-rule"),
        ("[rules]\ndrop-table = \"loud\"\n", "loud"),
        ("[lint]\nbaseline = \"yesterday\"\n", "yesterday"),
        ("dialect = \n", "straddle.toml:1"),
    ] {
        write_config(dir.path(), text);
        let out = lint_in(dir.path());
        assert_eq!(out.code, 2, "{text}: {}", out.stdout);
        assert!(
            out.stderr.contains("straddle.toml"),
            "{text}: {}",
            out.stderr
        );
        assert!(out.stderr.contains(needle), "{text}: {}", out.stderr);
    }
}

#[test]
fn missing_config_file_is_exit_2() {
    let out = straddle_run(&["--config", "no-such-straddle.toml", "lint"]);
    assert_exit_2(&out, &["no-such-straddle.toml"]);
}

#[test]
fn config_rule_levels_apply() {
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "[rules]\ndrop-table = \"warning\"\n");
    let file = layout("lint-files/0003_drop_events.up.sql");
    let lint = || {
        let config = config.to_str().unwrap();
        json_of(&straddle_run(&[
            "--config", config, "lint", "--format", "json", &file,
        ]))
    };
    let json = lint();
    let drop = findings(&json)
        .iter()
        .find(|f| f["rule"] == "drop-table")
        .expect("drop-table finding");
    assert_eq!(drop["severity"], "warning");

    write_config(dir.path(), "[rules]\ndrop-table = \"off\"\n");
    let json = lint();
    assert!(!has_rule(&json, "drop-table"), "{json:#}");
}
