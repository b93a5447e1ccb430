//! Folder discovery: every common migration layout, version order, and every
//! problem with a folder reported as a finding that names the file (or, for a
//! missing folder, an error), never a panic.
//!
//! The inputs are small folders under `tests/fixtures/layouts/<case>/`.

use std::path::{Path, PathBuf};

use straddle::lint::{LintOptions, lint_set};
use straddle::source::{Layout, MigrationSet, SourceProblem, discover, discover_for};

fn case(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/layouts")
        .join(name)
}

fn load(name: &str) -> MigrationSet {
    discover(&case(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// (version, name, has a down, no-transaction) of each migration, in order.
fn summary(set: &MigrationSet) -> Vec<(String, String, bool, bool)> {
    set.migrations
        .iter()
        .map(|m| {
            (
                m.version.to_string(),
                m.name.clone(),
                m.down.is_some(),
                m.no_transaction,
            )
        })
        .collect()
}

fn row(version: &str, name: &str, down: bool, no_tx: bool) -> (String, String, bool, bool) {
    (version.to_string(), name.to_string(), down, no_tx)
}

/// The file name of a problem's path, relative to the case folder.
fn relative(set: &MigrationSet, problem: &SourceProblem) -> String {
    problem
        .path
        .strip_prefix(&set.dir)
        .unwrap_or(&problem.path)
        .to_string_lossy()
        .into_owned()
}

/// (rule, path relative to the case folder) of each problem, sorted.
fn problems(set: &MigrationSet) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = set
        .problems
        .iter()
        .map(|p| (p.rule, relative(set, p)))
        .collect();
    out.sort();
    out
}

fn problem<'a>(set: &'a MigrationSet, rule: &str) -> &'a SourceProblem {
    set.problems
        .iter()
        .find(|p| p.rule == rule)
        .unwrap_or_else(|| panic!("no {rule} problem in {:#?}", set.problems))
}

/// Every problem must surface as a finding of its rule, in its file, when the
/// folder is linted.
fn assert_problems_are_findings(set: &MigrationSet) {
    let outcome = lint_set(set, &LintOptions::default());
    for p in &set.problems {
        assert!(
            outcome
                .findings
                .iter()
                .any(|f| f.rule == p.rule && f.file == p.path && f.message == p.message),
            "problem {p:?} is not among the findings {:#?}",
            outcome.findings
        );
    }
}

#[test]
fn sqlx_reversible_pairs_ups_and_downs() {
    let set = load("sqlx-reversible");
    assert_eq!(set.layout, Some(Layout::Flat));
    assert_eq!(
        summary(&set),
        [
            row("20240101120000", "create_users", true, false),
            row("20240215093000", "add_display_name", true, false),
            row("20240301000000", "index_display_name", true, true),
        ]
    );
    assert!(set.problems.is_empty(), "{:#?}", set.problems);
    let first = &set.migrations[0];
    assert_eq!(
        first.up.path,
        case("sqlx-reversible").join("20240101120000_create_users.up.sql")
    );
    assert_eq!(
        first.down.as_ref().unwrap().path,
        case("sqlx-reversible").join("20240101120000_create_users.down.sql")
    );
    assert!(first.up.text.starts_with("-- straddle: expand"));
    assert_eq!(
        first.directives.phase,
        Some(straddle::source::Phase::Expand)
    );
}

#[test]
fn discover_for_reads_only_the_downs_asked_for() {
    let dir = case("sqlx-reversible");
    let wanted = |_: &Path, down: &Path| down.to_string_lossy().contains("add_display_name");
    let partial = discover_for(&dir, &wanted).expect("discover_for");
    let full = load("sqlx-reversible");
    assert_eq!(
        summary(&partial),
        summary(&full),
        "same migrations either way"
    );
    for (p, f) in partial.migrations.iter().zip(&full.migrations) {
        let (p, f) = (p.down.as_ref().unwrap(), f.down.as_ref().unwrap());
        assert_eq!(p.path, f.path);
        assert!(!f.text.is_empty());
        if f.path.to_string_lossy().contains("add_display_name") {
            assert_eq!(p.text, f.text, "the wanted down is read");
        } else {
            assert!(p.text.is_empty(), "{} should not be read", p.path.display());
        }
    }
}

#[test]
fn sqlx_simple_files_are_ups_without_downs() {
    let set = load("sqlx-simple");
    assert_eq!(set.layout, Some(Layout::Flat));
    assert_eq!(
        summary(&set),
        [
            row("20240101120000", "create_users", false, false),
            row("20240102120000", "add_name", false, false),
        ]
    );
    assert!(set.problems.is_empty(), "{:#?}", set.problems);
}

#[test]
fn diesel_folders_sort_by_date_and_honour_metadata() {
    let set = load("diesel");
    assert_eq!(set.layout, Some(Layout::Folders));
    assert_eq!(
        summary(&set),
        [
            row("00000000000000", "diesel_initial_setup", true, false),
            row("2019-11-09-120000", "create_users", true, false),
            row("2019-11-11-162609", "create_posts", true, false),
            // metadata.toml: run_in_transaction = false
            row("2019-12-01-080000", "index_posts", true, true),
        ]
    );
    assert!(set.problems.is_empty(), "{:#?}", set.problems);
    let posts = &set.migrations[2];
    assert_eq!(
        posts.up.path,
        case("diesel").join("2019-11-11-162609_create_posts/up.sql")
    );
    assert_eq!(
        posts.down.as_ref().unwrap().path,
        case("diesel").join("2019-11-11-162609_create_posts/down.sql")
    );
}

#[test]
fn diesel_folder_problems_name_the_folder_or_file() {
    let set = load("diesel-problems");
    assert_eq!(
        summary(&set),
        [
            row("2020-01-01-000000", "create_users", true, false),
            // an invalid metadata.toml is reported and read as transactional
            row("2020-01-04-000000", "bad_metadata", true, false),
        ]
    );
    assert_eq!(
        problems(&set),
        [
            ("orphan-down", "2020-01-03-000000_only_down/down.sql".into()),
            (
                "unreadable-file",
                "2020-01-04-000000_bad_metadata/metadata.toml".into()
            ),
            ("unrecognised-file", "2020-01-02-000000_empty".into()),
        ]
    );
    assert!(
        problem(&set, "unreadable-file")
            .message
            .contains("invalid metadata.toml")
    );
    assert!(
        problem(&set, "unrecognised-file")
            .message
            .contains("neither up.sql nor down.sql")
    );
    assert_problems_are_findings(&set);
}

#[test]
fn golang_migrate_versions_sort_as_numbers() {
    let set = load("golang-migrate");
    assert_eq!(set.layout, Some(Layout::Flat));
    let versions: Vec<String> = set
        .migrations
        .iter()
        .map(|m| m.version.to_string())
        .collect();
    // A string sort would give 1, 10, 11, 2, 9.
    assert_eq!(versions, ["1", "2", "9", "10", "11"]);
    assert!(set.migrations.iter().all(|m| m.down.is_some()));
    assert_eq!(set.migrations[3].name, "create_t10");
    assert!(set.problems.is_empty(), "{:#?}", set.problems);
}

#[test]
fn dotted_v_names() {
    let set = load("dotted");
    assert_eq!(set.layout, Some(Layout::Dotted));
    assert_eq!(
        summary(&set),
        [
            row("0001", "CreateUsers", true, false),
            row("0002", "CreateOrders", true, false),
            row("0010", "CreateItems", true, false),
        ]
    );
    assert!(set.problems.is_empty(), "{:#?}", set.problems);
}

#[test]
fn duplicate_version_keeps_the_first_and_names_both_files() {
    let set = load("duplicate-version");
    // Files are read in name order: create_orders comes first.
    assert_eq!(
        summary(&set),
        [row("20240101120000", "create_orders", true, false)]
    );
    assert_eq!(
        problems(&set),
        [(
            "duplicate-version",
            "20240101120000_create_users.up.sql".into()
        )]
    );
    let p = problem(&set, "duplicate-version");
    assert!(
        p.message.contains("20240101120000_create_orders.up.sql"),
        "{}",
        p.message
    );
    assert!(
        p.message.contains("20240101120000_create_users.down.sql"),
        "the skipped down is named: {}",
        p.message
    );
    assert_problems_are_findings(&set);
}

#[test]
fn up_without_down_is_a_migration_without_down() {
    let set = load("up-without-down");
    assert_eq!(
        summary(&set),
        [
            row("0001", "create_users", true, false),
            row("0002", "add_name", false, false),
        ]
    );
    // The missing down is a lint rule's business, not the folder reader's.
    assert!(set.problems.is_empty(), "{:#?}", set.problems);
}

#[test]
fn down_without_up_is_an_orphan() {
    let set = load("down-without-up");
    assert_eq!(summary(&set), [row("0001", "create_users", true, false)]);
    assert_eq!(
        problems(&set),
        [("orphan-down", "0002_add_name.down.sql".into())]
    );
    assert!(
        problem(&set, "orphan-down")
            .message
            .contains("without its up migration")
    );
    assert_problems_are_findings(&set);
}

#[test]
fn misnamed_down_is_used_and_reported() {
    let set = load("misnamed-down");
    assert_eq!(summary(&set), [row("0001", "create_users", true, false)]);
    assert_eq!(
        problems(&set),
        [("orphan-down", "0001_create_user.down.sql".into())]
    );
    let message = &problem(&set, "orphan-down").message;
    assert!(message.contains("`create_user`"), "{message}");
    assert!(message.contains("`create_users`"), "{message}");
    assert_problems_are_findings(&set);
}

#[test]
fn non_utf8_files_are_findings_with_their_place() {
    let set = load("non-utf8");
    // The unreadable up drops its migration; the unreadable down drops only
    // the down; the rest is read.
    assert_eq!(
        summary(&set),
        [
            row("0002", "create_orders", true, false),
            row("0003", "create_notes", false, false),
        ]
    );
    assert_eq!(
        problems(&set),
        [
            ("unreadable-file", "0001_create_menu.up.sql".into()),
            ("unreadable-file", "0003_create_notes.down.sql".into()),
        ]
    );
    let messages: Vec<&str> = set.problems.iter().map(|p| p.message.as_str()).collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("not UTF-8") && m.contains("line 1, column 7")),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m.contains("line 2, column 6")),
        "{messages:?}"
    );
    assert_problems_are_findings(&set);
}

#[test]
fn non_utf8_fixture_really_holds_an_invalid_byte() {
    let bytes = std::fs::read(case("non-utf8").join("0001_create_menu.up.sql")).unwrap();
    assert!(String::from_utf8(bytes).is_err());
}

#[test]
fn stray_sql_file_is_a_finding_and_other_files_are_ignored() {
    let set = load("stray-sql");
    assert_eq!(summary(&set), [row("0001", "create_users", true, false)]);
    // README.md is not SQL and is ignored; schema.sql looks like a mistake.
    assert_eq!(problems(&set), [("unrecognised-file", "schema.sql".into())]);
    assert!(
        problem(&set, "unrecognised-file")
            .message
            .contains("does not look like a migration")
    );
    assert_problems_are_findings(&set);
}

#[test]
fn mixed_layouts_are_read_and_reported() {
    let set = load("mixed-layouts");
    assert_eq!(
        summary(&set),
        [
            row("0001", "create_users", true, false),
            row("0002", "add_name", true, false),
        ]
    );
    assert_eq!(problems(&set), [("unrecognised-file", String::new())]);
    assert!(
        problem(&set, "unrecognised-file")
            .message
            .contains("mixes migration layouts")
    );
}

#[test]
fn missing_folder_is_an_error_naming_it() {
    let path = case("does-not-exist");
    let err = discover(&path).unwrap_err().to_string();
    assert!(err.contains("does-not-exist"), "{err}");
    assert!(err.contains("no such migrations folder"), "{err}");
}

#[test]
fn a_file_given_as_folder_is_an_error_naming_it() {
    let path = case("sqlx-simple").join("20240101120000_create_users.sql");
    let err = discover(&path).unwrap_err().to_string();
    assert!(err.contains("20240101120000_create_users.sql"), "{err}");
    assert!(err.contains("not a folder"), "{err}");
}

#[test]
fn empty_folder_has_no_migrations() {
    let dir = tempfile::tempdir().unwrap();
    let set = discover(dir.path()).unwrap();
    assert!(set.migrations.is_empty());
    assert!(set.problems.is_empty());
    assert_eq!(set.layout, None);
}

#[test]
fn awkward_names_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let names = [
        ".up.sql",
        "_.sql",
        "_x.up.sql",
        "0001.sql",
        "0001_.up.sql",
        "0001__double.up.sql",
        "V.up.sql",
        "V1.up.sql",
        "v2.x.down.sql",
        "99999999999999999999999999999999999999999999_huge.up.sql",
        "1-2-3_dashes.up.sql",
        "1..2_dots.up.sql",
        "up.sql",
        "down.sql",
        ".sql",
        "x.up.down.sql",
    ];
    for name in names {
        std::fs::write(dir.path().join(name), "SELECT 1;\n").unwrap();
    }
    std::fs::create_dir(dir.path().join("0005_dir_with_sql_dir")).unwrap();
    std::fs::create_dir(dir.path().join("0005_dir_with_sql_dir/up.sql")).unwrap();
    let set = discover(dir.path()).unwrap();
    // Whatever is found is sorted.
    assert!(
        set.migrations
            .windows(2)
            .all(|w| w[0].version < w[1].version)
    );
    let outcome = lint_set(&set, &LintOptions::default());
    let _ = outcome.findings.len();
}

#[cfg(unix)]
#[test]
fn non_utf8_file_name_is_a_finding() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let name = std::ffi::OsStr::from_bytes(b"0001_caf\xe9.up.sql");
    if std::fs::write(dir.path().join(name), "SELECT 1;\n").is_err() {
        return; // the file system refuses such names
    }
    let set = discover(dir.path()).unwrap();
    assert!(set.migrations.is_empty());
    assert_eq!(set.problems.len(), 1, "{:#?}", set.problems);
    assert_eq!(set.problems[0].rule, "unrecognised-file");
    assert!(set.problems[0].message.contains("not valid UTF-8"));
}

#[cfg(unix)]
#[test]
fn unreadable_file_is_a_finding() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let up = dir.path().join("0001_secret.up.sql");
    std::fs::write(&up, "SELECT 1;\n").unwrap();
    std::fs::write(dir.path().join("0001_secret.down.sql"), "SELECT 1;\n").unwrap();
    std::fs::set_permissions(&up, std::fs::Permissions::from_mode(0o000)).unwrap();
    if std::fs::read(&up).is_ok() {
        return; // running as root: permissions do not stop reads
    }
    let set = discover(dir.path()).unwrap();
    assert_eq!(set.problems.len(), 1, "{:#?}", set.problems);
    assert_eq!(set.problems[0].rule, "unreadable-file");
    assert_eq!(set.problems[0].path, up);
    assert!(set.problems[0].message.contains("cannot read the file"));
}

/// Symbolic links are followed: a linked diesel folder and a linked flat
/// file are migrations like the others (the listing's file type says
/// "link", so discovery must look through it).
#[cfg(unix)]
#[test]
fn symbolic_links_to_migrations_are_followed() {
    use std::os::unix::fs::symlink;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("migrations");
    std::fs::create_dir(&dir).unwrap();
    let source = case("diesel");
    symlink(
        source.join("2019-11-09-120000_create_users"),
        dir.join("2019-11-09-120000_create_users"),
    )
    .unwrap();
    std::fs::create_dir(dir.join("2019-11-11-162609_create_posts")).unwrap();
    for half in ["up.sql", "down.sql"] {
        symlink(
            source.join("2019-11-11-162609_create_posts").join(half),
            dir.join("2019-11-11-162609_create_posts").join(half),
        )
        .unwrap();
    }
    let set = discover(&dir).unwrap();
    assert_eq!(
        summary(&set),
        [
            row("2019-11-09-120000", "create_users", true, false),
            row("2019-11-11-162609", "create_posts", true, false),
        ]
    );
    assert!(set.problems.is_empty(), "{:#?}", set.problems);
    assert!(set.migrations[0].up.text.contains("CREATE TABLE"));
}

/// A folder large enough to be read on several threads gives the same
/// migrations, texts and problems, in version order, as reading one by one:
/// each version's pairing problems come before its reading problems.
#[test]
fn a_large_folder_reads_in_order_with_its_problems() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let count = 600;
    for v in 1..=count {
        let up = format!("CREATE TABLE t{v} (id int);\n");
        let down = format!("DROP TABLE t{v};\n");
        std::fs::write(dir.join(format!("{v:04}_m{v}.up.sql")), up).unwrap();
        if v % 3 == 0 {
            std::fs::write(dir.join(format!("{v:04}_m{v}.down.sql")), down).unwrap();
        }
    }
    // Version 10: a second up of the same version (pairing problem); the
    // one kept (first by name) is not UTF-8 (reading problem). 300: an orphan down. 599: an
    // unreadable down.
    std::fs::write(dir.join("0010_again.up.sql"), b"SELECT '\xff';\n").unwrap();
    std::fs::write(dir.join("0300_other.down.sql"), "SELECT 1;\n").unwrap();
    // Version 0: a down alone, so no migration at all.
    std::fs::write(dir.join("0000_lonely.down.sql"), "SELECT 1;\n").unwrap();
    std::fs::write(dir.join("0599_m599.down.sql"), b"\xfe\n").unwrap();

    let set = discover(dir).unwrap();
    // 10 is dropped (its kept up cannot be read).
    assert_eq!(set.migrations.len(), count - 1);
    for (m, v) in set.migrations.iter().zip((1..=count).filter(|v| *v != 10)) {
        assert_eq!(m.version.to_string(), format!("{v:04}"));
        assert_eq!(m.up.text, format!("CREATE TABLE t{v} (id int);\n"));
        let expected_down = (v % 3 == 0 && v != 599).then(|| format!("DROP TABLE t{v};\n"));
        assert_eq!(
            m.down.as_ref().map(|d| d.text.clone()),
            expected_down,
            "{v}"
        );
    }
    let order: Vec<(&str, String)> = set
        .problems
        .iter()
        .map(|p| (p.rule, relative(&set, p)))
        .collect();
    assert_eq!(
        order,
        [
            ("orphan-down", "0000_lonely.down.sql".to_string()),
            ("duplicate-version", "0010_m10.up.sql".to_string()),
            ("unreadable-file", "0010_again.up.sql".to_string()),
            ("orphan-down", "0300_other.down.sql".to_string()),
            ("unreadable-file", "0599_m599.down.sql".to_string()),
        ]
    );
}
