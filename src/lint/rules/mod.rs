//! One rule per file. `build.rs` builds the registry (`ALL`) and the docs
//! (`DOCS`) from the files declared here.

pub mod allow_without_reason;
pub mod breaking_change_in_expand;
pub mod contract_without_expand;
pub mod drop_table;
pub mod duplicate_contract;
pub mod duplicate_version;
pub mod invalid_directive;
pub mod orphan_down;
pub mod parse_error;
pub mod undeclared_breaking_migration;
pub mod unreadable_file;
pub mod unrecognised_file;
pub mod unused_allow;

include!(concat!(env!("OUT_DIR"), "/rules_registry.rs"));

#[cfg(test)]
mod registry_tests {
    use std::path::Path;

    #[test]
    fn every_rule_file_is_declared_and_documented() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lint/rules");
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            if stem == "mod" {
                continue;
            }
            let id = stem.replace('_', "-");
            let rule = super::ALL
                .iter()
                .find(|r| r.meta().id == id)
                .unwrap_or_else(|| panic!("src/lint/rules/{stem}.rs: add `pub mod {stem};` to mod.rs and make its id `{id}`"));
            let doc = super::DOCS.iter().find(|(i, _)| *i == id).unwrap().1;
            for section in [
                format!("# {id}"),
                "**What it does.**".to_string(),
                "**Why it is dangerous.**".to_string(),
                "**Safe alternative.**".to_string(),
                "**Example.**".to_string(),
            ] {
                assert!(
                    doc.contains(&section),
                    "{id}: its `//!` doc lacks `{section}`"
                );
            }
            assert!(
                !rule.meta().summary.is_empty() && !rule.meta().why.is_empty(),
                "{id}"
            );
        }
    }
}
