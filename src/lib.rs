//! straddle: safe database schema migrations.
//!
//! The layers, from files to reports (see `docs/` and the README):
//! `source` finds migrations on disk, `sql` splits and parses them, `schema`
//! replays them into an in-memory catalog, `lint` runs the rules, `report`
//! prints findings and `cli` wires the commands together.

pub mod cli;
pub mod config;
pub mod db;
pub mod dialect;
pub mod error;
pub mod finding;
pub mod git;
pub mod lint;
pub mod phase;
pub mod recipe;
pub mod report;
pub mod rollout;
pub mod runner;
pub mod schema;
pub mod source;
pub mod sql;
pub mod verify;

pub use dialect::Dialect;
pub use error::{Error, Result};
pub use finding::{Category, Finding, Severity};
