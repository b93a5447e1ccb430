//! `action.yml`: a composite action. Its structure is checked, and its lint
//! step's script is run with bash the way the runner would, in a temporary
//! git repository, with the built straddle on the PATH.

use std::path::{Path, PathBuf};
use std::process::Command;

use yaml_rust2::{Yaml, YamlLoader};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn action() -> Yaml {
    let text = std::fs::read_to_string(repo().join("action.yml")).unwrap();
    YamlLoader::load_from_str(&text)
        .expect("valid YAML")
        .remove(0)
}

fn step<'a>(action: &'a Yaml, name: &str) -> &'a Yaml {
    action["runs"]["steps"]
        .as_vec()
        .unwrap()
        .iter()
        .find(|s| s["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("no step `{name}`"))
}

#[test]
fn composite_action_installs_lints_and_uploads() {
    let action = action();
    assert_eq!(action["runs"]["using"].as_str(), Some("composite"));
    let install = step(&action, "Install straddle")["run"].as_str().unwrap();
    assert!(install.contains("cargo install --locked --path \"$ACTION_PATH\""));
    let lint = step(&action, "Lint")["run"].as_str().unwrap();
    assert!(lint.contains("--changed-since"));
    assert!(lint.contains("--format github"));
    assert!(lint.contains("--format sarif --output"));
    let upload = step(&action, "Upload SARIF to code scanning");
    assert!(
        upload["uses"]
            .as_str()
            .unwrap()
            .starts_with("github/codeql-action/upload-sarif@")
    );
    // Every step that runs a script says which shell (composite actions
    // require it), and inputs reach scripts only through the environment.
    for step in action["runs"]["steps"].as_vec().unwrap() {
        if let Some(script) = step["run"].as_str() {
            assert_eq!(step["shell"].as_str(), Some("bash"));
            assert!(!script.contains("${{"), "no expression inside a script");
        }
    }
    for input in ["paths", "base", "config", "args", "sarif", "sarif-file"] {
        assert!(!action["inputs"][input].is_badvalue(), "input {input}");
    }
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t.invalid",
            "-c",
            "init.defaultBranch=main",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

#[test]
fn the_lint_step_annotates_a_pull_request() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    let migrations = work.join("migrations");
    std::fs::create_dir(&migrations).unwrap();
    let fixtures = repo().join("tests/fixtures/configuration/migrations");
    std::fs::copy(
        fixtures.join("20240101090000_initial.up.sql"),
        migrations.join("20240101090000_initial.up.sql"),
    )
    .unwrap();
    std::fs::copy(
        fixtures.join("20240101090000_initial.down.sql"),
        migrations.join("20240101090000_initial.down.sql"),
    )
    .unwrap();
    git(work, &["init", "-q"]);
    git(work, &["add", "-A"]);
    git(work, &["commit", "-q", "-m", "base"]);
    git(work, &["checkout", "-q", "-b", "pr"]);
    for name in [
        "20240102090000_drop_nickname.up.sql",
        "20240102090000_drop_nickname.down.sql",
    ] {
        std::fs::copy(fixtures.join(name), migrations.join(name)).unwrap();
    }
    git(work, &["add", "-A"]);
    git(work, &["commit", "-q", "-m", "pr"]);

    let script = step(&action(), "Lint")["run"].as_str().unwrap().to_string();
    let output_file = work.join("github_output");
    let binary = assert_cmd::cargo::cargo_bin("straddle");
    let path = std::env::join_paths(
        std::iter::once(binary.parent().unwrap().to_path_buf()).chain(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        )),
    )
    .unwrap();
    let output = Command::new("bash")
        .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", &script])
        .current_dir(work)
        .env("PATH", path)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("BASE_INPUT", "main")
        .env("BASE_BRANCH", "")
        .env("PATHS", "")
        .env("CONFIG", "")
        .env("ARGS", "--deny-warnings")
        .env("SARIF", "true")
        .env("SARIF_FILE", "straddle.sarif")
        .env("GITHUB_OUTPUT", &output_file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(
            "::error file=migrations/20240102090000_drop_nickname.up.sql,line=2,col=31,title=drop-column"
        ),
        "{stdout}"
    );
    // Only the pull request's migration is reported.
    assert!(!stdout.contains("20240101090000"), "{stdout}");
    assert_eq!(
        std::fs::read_to_string(&output_file).unwrap(),
        "exit-code=1\n"
    );
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(work.join("straddle.sarif")).unwrap())
            .unwrap();
    assert!(!sarif["runs"][0]["results"].as_array().unwrap().is_empty());
}
