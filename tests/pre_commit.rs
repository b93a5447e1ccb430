//! `.pre-commit-hooks.yaml`: the hook `straddle-lint` is run the way
//! pre-commit runs it: the staged file names filtered by `files` and
//! `exclude` (Python `re.search`), appended to `entry` and `args`, with the
//! hook's installed `straddle` first on the PATH.

use std::path::{Path, PathBuf};
use std::process::Command;

use yaml_rust2::{Yaml, YamlLoader};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

struct Hook {
    entry: String,
    args: Vec<String>,
    files: regex::Regex,
    exclude: Option<regex::Regex>,
    pass_filenames: bool,
    language: String,
}

fn hook(id: &str) -> Hook {
    let text = std::fs::read_to_string(repo().join(".pre-commit-hooks.yaml")).unwrap();
    let docs = YamlLoader::load_from_str(&text).expect("valid YAML");
    let hooks = docs[0].as_vec().expect("a list of hooks");
    let hook = hooks
        .iter()
        .find(|h| h["id"].as_str() == Some(id))
        .unwrap_or_else(|| panic!("no hook `{id}`"));
    for key in ["id", "name", "entry", "language"] {
        assert!(hook[key].as_str().is_some(), "pre-commit requires `{key}`");
    }
    let string = |y: &Yaml| y.as_str().map(str::to_string);
    Hook {
        entry: string(&hook["entry"]).unwrap(),
        args: hook["args"]
            .as_vec()
            .map(|v| v.iter().filter_map(string).collect())
            .unwrap_or_default(),
        files: regex::Regex::new(&string(&hook["files"]).unwrap_or_default()).unwrap(),
        exclude: string(&hook["exclude"]).map(|e| regex::Regex::new(&e).unwrap()),
        pass_filenames: hook["pass_filenames"].as_bool().unwrap_or(true),
        language: string(&hook["language"]).unwrap(),
    }
}

/// What pre-commit would run for these staged files, in `dir`.
fn run_hook(hook: &Hook, dir: &Path, staged: &[&str]) -> std::process::Output {
    let selected: Vec<&str> = staged
        .iter()
        .copied()
        .filter(|f| hook.files.is_match(f))
        .filter(|f| !hook.exclude.as_ref().is_some_and(|e| e.is_match(f)))
        .collect();
    let mut words = hook.entry.split_whitespace();
    let program = words.next().unwrap();
    let binary = assert_cmd::cargo::cargo_bin("straddle");
    assert_eq!(
        Path::new(program),
        Path::new(binary.file_name().unwrap()),
        "the entry runs the straddle binary"
    );
    let path = std::env::join_paths(
        std::iter::once(binary.parent().unwrap().to_path_buf()).chain(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        )),
    )
    .unwrap();
    let mut command = Command::new(program);
    command
        .current_dir(dir)
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .args(words)
        .args(&hook.args);
    if hook.pass_filenames {
        command.args(&selected);
    }
    command.output().unwrap()
}

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("migrations");
    std::fs::create_dir(&target).unwrap();
    for entry in std::fs::read_dir(repo().join("tests/fixtures/configuration/migrations")).unwrap()
    {
        let path = entry.unwrap().path();
        std::fs::copy(&path, target.join(path.file_name().unwrap())).unwrap();
    }
    std::fs::write(dir.path().join("README.md"), "# app\n").unwrap();
    dir
}

#[test]
fn the_hook_is_declared_as_documented() {
    let hook = hook("straddle-lint");
    assert!(["rust", "system"].contains(&hook.language.as_str()));
    assert_eq!(hook.entry, "straddle lint");
    assert!(hook.pass_filenames);
    assert!(hook.files.is_match("migrations/0001_x.up.sql"));
    assert!(hook.files.is_match("db/2024-01-01-000000_x/up.sql"));
    assert!(!hook.files.is_match("src/main.rs"));
    assert!(!hook.files.is_match("notes.sql.txt"));
    // `language: rust` installs the package's binaries with cargo.
    let manifest = std::fs::read_to_string(repo().join("Cargo.toml")).unwrap();
    assert!(manifest.contains("name = \"straddle\""));
}

#[test]
fn a_commit_with_an_unsafe_migration_is_stopped() {
    let hook = hook("straddle-lint");
    let dir = project();
    let output = run_hook(
        &hook,
        dir.path(),
        &[
            "README.md",
            "migrations/20240102090000_drop_nickname.up.sql",
            "migrations/20240102090000_drop_nickname.down.sql",
            "migrations/20240105090000_add_shipped_at.up.sql",
        ],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("error[drop-column]"), "{stdout}");
    // Only the staged migrations are reported, with the folder as context.
    assert!(!stdout.contains("rename"), "{stdout}");
    assert!(stdout.contains("in 2 migrations"), "{stdout}");
}

#[test]
fn a_commit_with_safe_migrations_passes() {
    let hook = hook("straddle-lint");
    let dir = project();
    let output = run_hook(
        &hook,
        dir.path(),
        &[
            "migrations/20240105090000_add_shipped_at.up.sql",
            "migrations/20240105090000_add_shipped_at.down.sql",
            "README.md",
        ],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("0 errors"), "{stdout}");
}
