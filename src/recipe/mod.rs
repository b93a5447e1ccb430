//! `straddle new`: ready migration files for common changes, written in the
//! folder's own layout and dialect, each with its down, split into expand and
//! contract where two application versions must coexist.
//!
//! Each recipe lives in its own file and returns a [`Plan`]: the migrations to
//! write (as [`Draft`]s, in order) and what to do between the phases. This
//! module validates names against the schema model, picks versions, and
//! writes all files or none.

mod add_column;
mod add_foreign_key;
mod add_index;
mod change_type;
mod drop_column;
mod moving;
mod names;
mod online;
mod rename_column;
mod rename_table;
mod set_not_null;
mod sync;
mod version;
mod write;

pub use add_foreign_key::parse_reference;
pub use add_index::parse_index_arg;
pub use names::{Column, quote, quote_path};
pub use write::write_plan;

use std::path::{Path, PathBuf};

use sqlparser::ast::{SetExpr, Statement};

use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::schema::{Catalog, Table};
use crate::source::{Layout, MigrationSet, discover};
use crate::sql::parse_file;

/// The phase a drafted migration declares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DraftPhase {
    Expand,
    /// A contract of the draft at this index of the same plan.
    ContractOf(usize),
}

/// One migration to write.
#[derive(Clone, Debug)]
pub struct Draft {
    /// The descriptive part of the file name (`add_users_email`).
    pub name: String,
    pub phase: DraftPhase,
    /// Runs outside a transaction (`-- no-transaction`).
    pub no_transaction: bool,
    /// Body of the up file, after the directive lines.
    pub up: String,
    /// Body of the down file.
    pub down: String,
}

/// A draft's up body, down body, and whether it runs outside a transaction.
pub type Body = (String, String, bool);

impl Draft {
    /// An expand named `name`.
    pub fn expand(name: impl Into<String>, body: Body) -> Draft {
        Draft::new(name.into(), DraftPhase::Expand, body)
    }

    /// A contract named `name`, of the plan's draft at index `expand`.
    pub fn contract_of(expand: usize, name: impl Into<String>, body: Body) -> Draft {
        Draft::new(name.into(), DraftPhase::ContractOf(expand), body)
    }

    fn new(name: String, phase: DraftPhase, (up, down, no_transaction): Body) -> Draft {
        Draft {
            name,
            phase,
            no_transaction,
            up,
            down,
        }
    }
}

/// What a recipe produces.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    pub drafts: Vec<Draft>,
    /// What to do between and after the phases, printed after writing.
    pub steps: Vec<String>,
}

impl Plan {
    /// An expand named `name` and the contract that completes it, named
    /// `{name}_contract`.
    pub fn pair(name: &str, expand: Body, contract: Body, steps: Vec<String>) -> Plan {
        Plan {
            drafts: vec![
                Draft::expand(name, expand),
                Draft::contract_of(0, format!("{name}_contract"), contract),
            ],
            steps,
        }
    }
}

/// The folder a recipe writes into, with its history replayed.
pub struct Target {
    pub dir: PathBuf,
    pub dialect: Dialect,
    pub layout: Layout,
    pub set: Option<MigrationSet>,
    pub catalog: Catalog,
}

impl Target {
    /// Reads `dir` (which may not exist yet) and replays its migrations.
    pub fn load(dir: &Path, dialect: Dialect) -> Result<Target> {
        let set = if dir.is_dir() {
            Some(discover(dir)?)
        } else {
            None
        };
        let mut catalog = Catalog::new();
        if let Some(set) = &set {
            for migration in &set.migrations {
                for statement in parse_file(&migration.up.text, dialect).statements {
                    catalog.apply(&statement, migration.version.as_str());
                }
            }
        }
        Ok(Target {
            dir: dir.to_path_buf(),
            dialect,
            layout: set.as_ref().and_then(|s| s.layout).unwrap_or(Layout::Flat),
            set,
            catalog,
        })
    }

    /// Whether the history is known well enough to say a table is missing:
    /// at least one table was created by it.
    fn knows_tables(&self) -> bool {
        !self.catalog.tables.is_empty()
    }

    /// The table as the schema model knows it. An error when the model knows
    /// the history and the table is not in it; `Ok(None)` when there is no
    /// history to tell.
    pub fn table(&self, name: &str) -> Result<Option<&Table>> {
        if let Some(table) = self
            .catalog
            .table(name)
            .or_else(|| self.catalog.table(&name.to_lowercase()))
        {
            return Ok(Some(table));
        }
        if self.knows_tables() {
            let mut known: Vec<&str> = self.catalog.tables.keys().map(String::as_str).collect();
            known.truncate(12);
            return Err(Error::usage(format!(
                "table `{name}` does not exist after replaying the migrations in {} (known tables: {})",
                self.dir.display(),
                known.join(", ")
            )));
        }
        Ok(None)
    }

    /// Requires `table.column` to exist (when the model knows the table).
    pub fn column(&self, column: &Column) -> Result<Option<&crate::schema::Column>> {
        let Some(table) = self.table(&column.table)? else {
            return Ok(None);
        };
        match table
            .column(&column.column)
            .or_else(|| table.column(&column.column.to_lowercase()))
        {
            Some(c) => Ok(Some(c)),
            None => Err(Error::usage(format!(
                "column `{}` does not exist in table `{}` (its columns: {})",
                column.column,
                column.table,
                table
                    .columns
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// The type of `table.column` as SQL, when the model knows it.
    pub fn column_type(&self, column: &Column) -> Result<Option<String>> {
        Ok(self.column(column)?.and_then(sql_type))
    }

    /// Requires `table.column` not to exist yet.
    pub fn column_is_free(&self, column: &Column) -> Result<()> {
        if let Some(table) = self.table(&column.table)?
            && (table.column(&column.column).is_some()
                || table.column(&column.column.to_lowercase()).is_some())
        {
            return Err(Error::usage(format!(
                "column `{}` already exists in table `{}`",
                column.column, column.table
            )));
        }
        Ok(())
    }

    /// Whether `probe` parses, in the target's dialect, as one statement that
    /// `accept` takes.
    fn parses_as(&self, probe: &str, accept: impl FnOnce(&Statement) -> bool) -> bool {
        let file = parse_file(probe, self.dialect);
        file.tokenize_error.is_none()
            && file.statements.len() == 1
            && file.statements[0].ast().is_some_and(accept)
    }

    /// Checks that `ty` is a column type the dialect's parser accepts, and
    /// returns it as written.
    pub fn check_type(&self, ty: &str) -> Result<String> {
        let ty = ty.trim();
        let ok = self.parses_as(&format!("CREATE TABLE straddle_probe (c {ty})"), |s| {
            matches!(s, Statement::CreateTable(t)
                if t.columns.len() == 1 && t.columns[0].options.is_empty())
        });
        if ty.is_empty() || !ok {
            return Err(Error::usage(format!(
                "`{ty}` is not a column type for {}",
                self.dialect
            )));
        }
        Ok(ty.to_string())
    }

    /// Checks that `value` is one SQL expression (a default value).
    pub fn check_expression(&self, value: &str) -> Result<String> {
        let value = value.trim();
        let ok = self.parses_as(&format!("SELECT {value}"), |s| {
            matches!(s, Statement::Query(q)
                if matches!(&*q.body, SetExpr::Select(s) if s.projection.len() == 1 && s.from.is_empty()))
        });
        if value.is_empty() || !ok {
            return Err(Error::usage(format!(
                "`{value}` is not a single SQL expression (quote text values: --default \"'active'\")"
            )));
        }
        Ok(value.to_string())
    }
}

/// The recipes `straddle new` knows.
#[derive(Clone, Debug)]
pub enum Recipe {
    /// An empty expand with its down.
    Empty,
    AddColumn {
        column: Column,
        ty: String,
        default: Option<String>,
        not_null: bool,
    },
    AddIndex {
        table: String,
        columns: Vec<String>,
        unique: bool,
    },
    RenameColumn {
        column: Column,
        new_name: String,
    },
    ChangeType {
        column: Column,
        new_type: String,
        into: Option<String>,
    },
    DropColumn {
        column: Column,
    },
    RenameTable {
        old: String,
        new: String,
    },
    AddForeignKey {
        column: Column,
        references: String,
        referenced_columns: Vec<String>,
    },
    SetNotNull {
        column: Column,
        default: Option<String>,
    },
}

impl Recipe {
    /// A file name for the migration when the user gave none.
    pub fn default_name(&self) -> String {
        match self {
            Recipe::Empty => "change".into(),
            Recipe::AddColumn { column, .. } => {
                format!("add_{}_{}", column.table, column.column)
            }
            Recipe::AddIndex { table, columns, .. } => {
                format!("index_{}_{}", table, columns.join("_"))
            }
            Recipe::RenameColumn { column, new_name } => format!(
                "rename_{}_{}_to_{}",
                column.table,
                column.column,
                new_name.rsplit('.').next().unwrap_or(new_name)
            ),
            Recipe::ChangeType {
                column, new_type, ..
            } => format!("{}_{}_to_{}", column.table, column.column, new_type),
            Recipe::DropColumn { column } => format!("drop_{}_{}", column.table, column.column),
            Recipe::RenameTable { old, new } => format!("rename_{old}_to_{new}"),
            Recipe::AddForeignKey {
                column, references, ..
            } => format!("{}_{}_references_{references}", column.table, column.column),
            Recipe::SetNotNull { column, .. } => {
                format!("require_{}_{}", column.table, column.column)
            }
        }
    }

    /// Validates the arguments against the target and drafts the migrations.
    pub fn plan(&self, target: &Target, name: &str) -> Result<Plan> {
        match self {
            Recipe::Empty => Ok(Plan {
                drafts: vec![Draft::expand(
                    name,
                    (
                        "-- Additive, backward-compatible changes only: the running version must keep working.\n".into(),
                        "-- Undo every statement of the up migration, in reverse order.\n".into(),
                        false,
                    ),
                )],
                steps: vec![
                    "write the expand's statements and their inverses in the down file".into(),
                    "check them: straddle lint".into(),
                ],
            }),
            Recipe::AddColumn {
                column,
                ty,
                default,
                not_null,
            } => add_column::plan(target, name, column, ty, default.as_deref(), *not_null),
            Recipe::AddIndex {
                table,
                columns,
                unique,
            } => add_index::plan(target, name, table, columns, *unique),
            Recipe::RenameColumn { column, new_name } => {
                rename_column::plan(target, name, column, new_name)
            }
            Recipe::ChangeType {
                column,
                new_type,
                into,
            } => change_type::plan(target, name, column, new_type, into.as_deref()),
            Recipe::DropColumn { column } => drop_column::plan(target, name, column),
            Recipe::RenameTable { old, new } => rename_table::plan(target, name, old, new),
            Recipe::AddForeignKey {
                column,
                references,
                referenced_columns,
            } => add_foreign_key::plan(target, name, column, references, referenced_columns),
            Recipe::SetNotNull { column, default } => {
                set_not_null::plan(target, name, column, default.as_deref())
            }
        }
    }
}

/// The type of a column the model knows, as SQL.
fn sql_type(column: &crate::schema::Column) -> Option<String> {
    column.data_type.as_ref().map(|t| t.to_string())
}

/// The type of `known`, the model's column for `column`: a recipe that
/// re-creates the column cannot do without it.
fn required_type(known: &crate::schema::Column, column: &Column) -> Result<String> {
    sql_type(known)
        .ok_or_else(|| Error::usage(format!("the type of `{}` is not known", column.column)))
}

/// ` DEFAULT value`, or nothing without a value.
fn default_clause(value: Option<&str>) -> String {
    value.map(|v| format!(" DEFAULT {v}")).unwrap_or_default()
}

/// A stand-in for the version of the plan's draft `index`, replaced when the
/// files are written (versions are chosen then).
pub fn version_of(index: usize) -> String {
    format!("<<version:{index}>>")
}

/// Makes a file-name-safe name: lower case letters, digits and `_`.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    let out = out.trim_end_matches('_').to_string();
    if out.is_empty() { "change".into() } else { out }
}
