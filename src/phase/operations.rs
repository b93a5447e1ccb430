//! The operations of one migration's up and down, each worked out at most
//! once and shared by every rule that compares the two files.

use std::sync::OnceLock;

use super::inverse::{Operation, fold_up, raw_operations, with_down_rebuilds};
use crate::dialect::Dialect;
use crate::schema::Catalog;
use crate::sql::SqlFile;

/// One migration's files and their operations. The up's raw operations are
/// given (the linter records them while it replays the up); the rest is
/// derived on first use.
pub struct MigrationOperations<'a> {
    pub up_file: &'a SqlFile,
    pub down_file: Option<&'a SqlFile>,
    /// The schema after the up, which the down starts from.
    pub after: &'a Catalog,
    pub dialect: Dialect,
    up_raw: Vec<Operation>,
    up: OnceLock<Vec<Operation>>,
    down_raw: OnceLock<Vec<Operation>>,
    down: OnceLock<Vec<Operation>>,
}

impl<'a> MigrationOperations<'a> {
    /// From the up's raw operations, recorded by the caller during its
    /// replay of the up from the schema before it.
    pub fn new(
        up_file: &'a SqlFile,
        up_raw: Vec<Operation>,
        down_file: Option<&'a SqlFile>,
        after: &'a Catalog,
        dialect: Dialect,
    ) -> Self {
        MigrationOperations {
            up_file,
            down_file,
            after,
            dialect,
            up_raw,
            up: OnceLock::new(),
            down_raw: OnceLock::new(),
            down: OnceLock::new(),
        }
    }

    /// Replays the up from `before` to find its operations.
    pub fn replay(
        up_file: &'a SqlFile,
        down_file: Option<&'a SqlFile>,
        before: &Catalog,
        after: &'a Catalog,
        dialect: Dialect,
    ) -> Self {
        let up_raw = raw_operations(up_file, before, dialect);
        Self::new(up_file, up_raw, down_file, after, dialect)
    }

    /// The up's operations as written.
    pub fn up_raw(&self) -> &[Operation] {
        &self.up_raw
    }

    /// The up's operations as a down must reverse them (see
    /// [`super::inverse::up_operations`]).
    pub fn up(&self) -> &[Operation] {
        self.up.get_or_init(|| fold_up(self.up_raw.clone()))
    }

    /// The down's operations as written, replayed from the schema after the
    /// up; empty without a down.
    pub fn down_raw(&self) -> &[Operation] {
        self.down_raw.get_or_init(|| match self.down_file {
            Some(down) => raw_operations(down, self.after, self.dialect),
            None => Vec::new(),
        })
    }

    /// The down's operations with the table rebuilds it performs (see
    /// [`super::inverse::down_operations`]).
    pub fn down(&self) -> &[Operation] {
        self.down
            .get_or_init(|| with_down_rebuilds(self.down_raw().to_vec()))
    }
}
