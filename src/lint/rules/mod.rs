//! One rule per file. `build.rs` builds the registry (`ALL`) and the docs
//! (`DOCS`) from the files declared here.

pub mod add_not_null_column;
pub mod add_unique_constraint_without_index;
pub mod allow_without_reason;
pub mod breaking_change_in_expand;
pub mod change_column_type;
pub mod check_constraint_without_not_valid;
pub mod cluster;
pub mod concurrently_in_transaction;
pub mod contract_without_expand;
pub mod create_index_non_concurrently;
pub mod delete_without_where;
pub mod down_missing_inverse;
pub mod down_wrong_order;
pub mod drop_column;
pub mod drop_database;
pub mod drop_default;
pub mod drop_index_non_concurrently;
pub mod drop_not_null;
pub mod drop_schema;
pub mod drop_table;
pub mod drop_type;
pub mod drop_view;
pub mod duplicate_contract;
pub mod duplicate_version;
pub mod empty_down;
pub mod foreign_key_without_not_valid;
pub mod invalid_directive;
pub mod irreversible_enum_value;
pub mod lock_timeout_missing;
pub mod lossy_type_change;
pub mod missing_down;
pub mod mysql_algorithm_copy;
pub mod mysql_copying_alter;
pub mod mysql_lock_clause;
pub mod orphan_down;
pub mod out_of_order_migration;
pub mod parse_error;
pub mod refresh_materialized_view;
pub mod rename_column;
pub mod rename_table;
pub mod rewriting_type_change;
pub mod set_logged_unlogged;
pub mod set_not_null;
pub mod set_not_null_full_scan;
pub mod shipped_migration_modified;
pub mod stored_generated_column;
pub mod truncate;
pub mod unbatched_update;
pub mod undeclared_breaking_migration;
pub mod unreadable_file;
pub mod unrecognised_file;
pub mod unused_allow;
pub mod vacuum_full;
pub mod validate_in_same_transaction;
pub mod volatile_default;

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
