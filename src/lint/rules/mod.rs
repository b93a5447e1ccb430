//! One rule per file. `build.rs` builds the registry (`ALL`) and the docs
//! (`DOCS`) from the files listed here; a rule file that is not declared here
//! fails the build with a message saying so.

pub mod allow_without_reason;
pub mod drop_table;
pub mod duplicate_version;
pub mod invalid_directive;
pub mod orphan_down;
pub mod parse_error;
pub mod unreadable_file;
pub mod unrecognised_file;
pub mod unused_allow;

include!(concat!(env!("OUT_DIR"), "/rules_registry.rs"));
