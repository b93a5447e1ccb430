//! `straddle lint --format sarif|github|gitlab` and `--output FILE`, plus
//! the generated shell completions and man page. SARIF is validated against
//! the official SARIF 2.1.0 schema (see tests/fixtures/sarif/README.md).

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn straddle() -> Command {
    let mut cmd = Command::cargo_bin("straddle").unwrap();
    cmd.current_dir(repo()).env("NO_COLOR", "1");
    cmd
}

fn stdout_of(args: &[&str]) -> (i32, String) {
    let output = straddle().args(args).output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
    )
}

/// Replaces the flawed `language` pattern wherever it occurs; returns how
/// many were replaced.
fn fix_language_patterns(value: &mut Value) -> usize {
    const FLAWED: &str = "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$";
    match value {
        Value::Object(map) => {
            let mut count = 0;
            for (key, item) in map.iter_mut() {
                if key == "pattern" && item == FLAWED {
                    *item = Value::from("^[a-zA-Z]{2}(-[a-zA-Z]{2})?$");
                    count += 1;
                } else {
                    count += fix_language_patterns(item);
                }
            }
            count
        }
        Value::Array(items) => items.iter_mut().map(fix_language_patterns).sum(),
        _ => 0,
    }
}

fn schema_validator() -> jsonschema::Validator {
    let path = repo().join("tests/fixtures/sarif/sarif-schema-2.1.0.json");
    let mut schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    // The published schema's pattern for the `language` properties has a
    // stray `]` ("…{2}]?$"), which a strict validator refuses as a regular
    // expression when it checks the schema itself. straddle never writes a
    // `language`; the pattern is replaced, in memory only, by the one the
    // SARIF specification describes (a language tag like "en-US").
    let fixed = fix_language_patterns(&mut schema);
    assert_eq!(fixed, 2, "the known flaw is where it was");
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("the SARIF schema compiles")
}

fn assert_valid_sarif(log: &Value) {
    let validator = schema_validator();
    let errors: Vec<String> = validator
        .iter_errors(log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "invalid SARIF:\n{}", errors.join("\n"));
}

/// The JSON findings, to compare the other formats against.
fn json_findings(dir: &str) -> Vec<Value> {
    let (_, out) = stdout_of(&["lint", "--format", "json", dir]);
    let json: Value = serde_json::from_str(&out).unwrap();
    json["findings"].as_array().unwrap().clone()
}

#[test]
fn sarif_of_the_unsafe_example_is_valid_and_complete() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("straddle.sarif");
    let output = straddle()
        .args([
            "lint",
            "--format",
            "sarif",
            "migrations-examples/unsafe",
            "--output",
        ])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty(), "the report goes to the file only");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("report written to"), "{stderr}");
    let log: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_valid_sarif(&log);

    // The validator does reject what the schema forbids.
    let validator = schema_validator();
    let mut broken = log.clone();
    broken["runs"][0]["results"][0]["level"] = Value::from("fatal");
    assert!(!validator.is_valid(&broken));
    let mut broken = log.clone();
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        Value::from(0);
    assert!(!validator.is_valid(&broken), "lines are 1-based");

    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "straddle");
    let rules = driver["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    for rule in straddle::lint::all_rules() {
        assert!(ids.contains(&rule.meta().id), "{} missing", rule.meta().id);
    }
    let drop_column = rules.iter().find(|r| r["id"] == "drop-column").unwrap();
    assert_eq!(
        drop_column["shortDescription"]["text"],
        straddle::lint::find_rule("drop-column")
            .unwrap()
            .meta()
            .summary
    );
    let help = drop_column["help"]["markdown"].as_str().unwrap();
    assert!(help.contains("**Safe alternative.**"), "{help}");
    assert!(
        drop_column["fullDescription"]["text"]
            .as_str()
            .unwrap()
            .starts_with("Flags")
    );

    let results = run["results"].as_array().unwrap();
    let expected = json_findings("migrations-examples/unsafe");
    assert_eq!(results.len(), expected.len());
    for (result, finding) in results.iter().zip(&expected) {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(
            rules[index]["id"], result["ruleId"],
            "ruleIndex points at the rule"
        );
        assert_eq!(result["ruleId"], finding["rule"]);
        assert_eq!(result["level"], finding["severity"]);
        let location = &result["locations"][0]["physicalLocation"];
        assert_eq!(location["artifactLocation"]["uri"], finding["file"]);
        assert_eq!(location["region"]["startLine"], finding["line"]);
        assert_eq!(location["region"]["startColumn"], finding["column"]);
        let text = result["message"]["text"].as_str().unwrap();
        assert!(text.starts_with(finding["message"].as_str().unwrap()));
        assert!(text.contains(finding["help"].as_str().unwrap()));
    }
}

#[test]
fn sarif_of_a_clean_folder_and_of_absolute_paths_is_valid() {
    let (code, out) = stdout_of(&["lint", "--format", "sarif", "migrations-examples/postgres"]);
    assert_eq!(code, 0);
    let log: Value = serde_json::from_str(&out).unwrap();
    assert_valid_sarif(&log);
    assert_eq!(log["runs"][0]["results"].as_array().unwrap().len(), 0);

    // A folder outside the current one: its paths become file:// URIs.
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(repo().join("migrations-examples/unsafe")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    let (_, out) = stdout_of(&["lint", "--format", "sarif", dir.path().to_str().unwrap()]);
    let log: Value = serde_json::from_str(&out).unwrap();
    assert_valid_sarif(&log);
    let uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
        ["uri"]
        .as_str()
        .unwrap();
    assert!(uri.starts_with("file:///"), "{uri}");
}

#[test]
fn github_workflow_commands() {
    let (code, out) = stdout_of(&["lint", "--format", "github", "migrations-examples/unsafe"]);
    assert_eq!(code, 1);
    let expected = json_findings("migrations-examples/unsafe");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), expected.len() + 1, "{out}");
    for (line, finding) in lines.iter().zip(&expected) {
        let prefix = format!(
            "::{} file={},line={},col={},",
            finding["severity"].as_str().unwrap(),
            finding["file"].as_str().unwrap(),
            finding["line"],
            finding["column"],
        );
        assert!(line.starts_with(&prefix), "{line}\nexpected {prefix}");
        let (properties, message) = line[2..].split_once("::").unwrap();
        assert!(
            properties.contains(&format!(",title={} (", finding["rule"].as_str().unwrap())),
            "{properties}"
        );
        assert!(
            !message.contains('\n') && message.contains("%0A%0Ahelp: "),
            "{message}"
        );
    }
    assert!(lines.last().unwrap().starts_with("straddle: "), "{out}");
}

#[test]
fn github_escapes_properties_and_data() {
    // A path with `,` and `:` in it, and a message over several lines.
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("a,b:c");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join("0001_t.up.sql"), "DROP TABLE users;\n").unwrap();
    std::fs::write(folder.join("0001_t.down.sql"), "SELECT 1;\n").unwrap();
    let output = Command::cargo_bin("straddle")
        .unwrap()
        .current_dir(dir.path())
        .args(["lint", "--format", "github", "a,b:c"])
        .output()
        .unwrap();
    let out = String::from_utf8(output.stdout).unwrap();
    assert!(out.contains("file=a%2Cb%3Ac/0001_t.up.sql,"), "{out}");
    assert_eq!(straddle::report::escape_data("100%\r\n"), "100%25%0D%0A");
}

#[test]
fn gitlab_code_quality() {
    let (code, out) = stdout_of(&["lint", "--format", "gitlab", "migrations-examples/unsafe"]);
    assert_eq!(code, 1);
    let report: Value = serde_json::from_str(&out).unwrap();
    let issues = report.as_array().unwrap();
    let expected = json_findings("migrations-examples/unsafe");
    assert_eq!(issues.len(), expected.len());
    let mut prints = std::collections::BTreeSet::new();
    for (issue, finding) in issues.iter().zip(&expected) {
        assert_eq!(issue["description"], finding["message"]);
        assert_eq!(issue["check_name"], finding["rule"]);
        assert_eq!(issue["location"]["path"], finding["file"]);
        assert_eq!(issue["location"]["lines"]["begin"], finding["line"]);
        let severity = issue["severity"].as_str().unwrap();
        assert!(
            ["info", "minor", "major", "critical", "blocker"].contains(&severity),
            "{severity}"
        );
        let print = issue["fingerprint"].as_str().unwrap();
        assert_eq!(print.len(), 64);
        assert!(prints.insert(print.to_string()), "fingerprints are unique");
    }
    // Stable from one run to the next.
    let (_, again) = stdout_of(&["lint", "--format", "gitlab", "migrations-examples/unsafe"]);
    assert_eq!(out, again);
}

#[test]
fn output_file_errors_name_the_file() {
    let output = straddle()
        .args([
            "lint",
            "migrations-examples/postgres",
            "--output",
            "no/such/folder/report.json",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no/such/folder/report.json"), "{stderr}");
}

#[test]
fn completions_and_man_page() {
    for (shell, needle) in [
        ("bash", "_straddle()"),
        ("zsh", "#compdef straddle"),
        ("fish", "complete -c straddle"),
    ] {
        let (code, out) = stdout_of(&["completions", shell]);
        assert_eq!(code, 0, "{shell}");
        assert!(out.contains(needle), "{shell}: {out}");
        assert!(
            out.contains("changed-since"),
            "{shell} completes lint flags"
        );
    }
    let (code, out) = stdout_of(&["man"]);
    assert_eq!(code, 0);
    assert!(out.contains(".TH straddle 1"), "{out}");
    assert!(out.contains("completions"), "{out}");
    let (code, _) = stdout_of(&["completions", "tcsh"]);
    assert_ne!(code, 0);
    // Broken configuration does not stop them.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("straddle.toml"), "nonsense = [\n").unwrap();
    let output = Command::cargo_bin("straddle")
        .unwrap()
        .current_dir(dir.path())
        .args(["completions", "bash"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    let _ = Path::new(".");
}
