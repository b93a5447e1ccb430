//! The catalog's data.

use std::collections::BTreeMap;

use sqlparser::ast::DataType;

use super::Shared;

/// A column as the catalog knows it.
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    pub name: String,
    pub data_type: Option<DataType>,
    pub not_null: bool,
    /// The default expression as SQL text.
    pub default: Option<String>,
    /// The version of the migration that created it.
    pub created_by: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConstraintKind {
    PrimaryKey,
    Unique,
    ForeignKey,
    Check,
    Exclude,
    Other,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Constraint {
    pub name: Option<String>,
    pub kind: ConstraintKind,
    pub columns: Vec<String>,
    /// `false` while added `NOT VALID` and not validated yet.
    pub validated: bool,
    /// For a CHECK constraint, its expression as SQL text (sqlparser's
    /// rendering), so rules can tell what it proves (`col IS NOT NULL`).
    pub check: Option<String>,
    pub created_by: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub name: String,
    pub columns: Vec<Column>,
    pub constraints: Vec<Constraint>,
    pub created_by: String,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    pub fn column_mut(&mut self, name: &str) -> Option<&mut Column> {
        self.columns.iter_mut().find(|c| c.name == name)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Index {
    pub name: String,
    pub table: String,
    pub columns: Vec<String>,
    pub unique: bool,
    pub created_by: String,
}

/// Everything known about the schema at one point of the history.
///
/// Cloning is cheap: the maps and tables are [`Shared`] between clones until
/// one of them changes, so the engine can keep the schema before each
/// migration and replay a down on a copy without copying every table.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Catalog {
    pub tables: Shared<BTreeMap<String, Shared<Table>>>,
    pub indexes: Shared<BTreeMap<String, Shared<Index>>>,
    /// Views and materialized views → creating migration.
    pub views: Shared<BTreeMap<String, String>>,
    /// User-defined types (enums, composites, domains) → creating migration.
    pub types: Shared<BTreeMap<String, String>>,
    /// Sequences → creating migration.
    pub sequences: Shared<BTreeMap<String, String>>,
    /// Functions and procedures → creating migration.
    pub functions: Shared<BTreeMap<String, String>>,
    /// Triggers → (table, creating migration).
    pub triggers: Shared<BTreeMap<String, (String, String)>>,
}

impl Catalog {
    pub fn new() -> Self {
        Catalog::default()
    }

    pub fn table(&self, key: &str) -> Option<&Table> {
        self.tables.get(key).map(|t| &**t)
    }

    pub fn column(&self, table: &str, column: &str) -> Option<&Column> {
        self.table(table)?.column(column)
    }

    /// Whether `table` existed before migration `version` started. A table
    /// created by the same migration is new, and locking it harms nobody; a
    /// table the catalog has never seen was made outside these migrations, so
    /// it is assumed to exist and to be busy.
    pub fn existed_before(&self, table: &str, version: &str) -> bool {
        self.tables
            .get(table)
            .is_none_or(|t| t.created_by != version)
    }

    /// The table an index belongs to, when known.
    pub fn index_table(&self, index: &str) -> Option<&str> {
        self.indexes.get(index).map(|i| i.table.as_str())
    }
}
