//! The generated parts of `docs/` (the rules reference and each command's
//! `--help`) must match the code. When this fails, run `cargo run -- docs`
//! and commit the result.

use std::path::PathBuf;

use assert_cmd::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn generated_docs_are_up_to_date() {
    let output = Command::cargo_bin("straddle")
        .unwrap()
        .current_dir(repo())
        .args(["docs", "--check"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "docs/ is stale:\n{stdout}{}\nRegenerate with `cargo run -- docs` and commit the result.",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn every_rule_has_a_section_and_every_command_a_page() {
    let rules = std::fs::read_to_string(repo().join("docs/rules.md")).unwrap();
    for rule in straddle::lint::all_rules() {
        let id = rule.meta().id;
        assert!(
            rules.contains(&format!("\n## {id}\n")),
            "docs/rules.md lacks {id}"
        );
    }
    let index = std::fs::read_to_string(repo().join("docs/README.md")).unwrap();
    for entry in std::fs::read_dir(repo().join("docs/commands")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            index.contains(&format!("(commands/{name})")),
            "docs/README.md does not link commands/{name}"
        );
    }
}

#[test]
fn readme_links_the_docs() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    for link in [
        "docs/README.md",
        "docs/rules.md",
        "docs/ci.md",
        "docs/configuration.md",
    ] {
        assert!(readme.contains(link), "README.md does not link {link}");
    }
}
