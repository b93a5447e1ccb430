//! An in-memory catalog built by replaying migrations statement by statement:
//! tables, columns with types, indexes, constraints, views, types, and which
//! migration created each. Rules ask it whether a table already existed
//! (locking rules exempt tables created in the same migration) and what a
//! column's type was (so a type change can be judged).
//!
//! Knows nothing of files or output.

mod catalog;
mod replay;
mod shared;
pub mod types;

pub use catalog::{Catalog, Column, Constraint, ConstraintKind, Index, Table};
pub use shared::Shared;
