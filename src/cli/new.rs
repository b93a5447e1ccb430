//! `straddle new [NAME] [recipe]`

use std::io::Write;
use std::path::PathBuf;
use std::time::SystemTime;

use clap::{ArgGroup, Args};

use crate::config::Config;
use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::recipe::{Column, Recipe, Target, slug, write_plan};

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("recipe").multiple(false)))]
pub struct NewArgs {
    /// The migration's name (default: derived from the recipe).
    pub name: Option<String>,

    /// The migrations folder (default: from straddle.toml, else ./migrations).
    #[arg(long)]
    pub dir: Option<PathBuf>,

    /// SQL dialect (default: from straddle.toml, else postgres).
    #[arg(long)]
    pub dialect: Option<Dialect>,

    /// Add a column: TABLE.COLUMN TYPE.
    #[arg(long, group = "recipe", num_args = 2, value_names = ["TABLE.COLUMN", "TYPE"])]
    pub add_column: Option<Vec<String>>,

    /// With --add-column or --set-not-null: the column's default (an SQL
    /// expression: quote text, e.g. "'new'"). With --set-not-null it also
    /// fills the existing NULLs.
    #[arg(long, allow_hyphen_values = true)]
    pub default: Option<String>,

    /// With --add-column: the column is required (made NOT NULL in a contract when there is no default).
    #[arg(long, requires = "add_column")]
    pub not_null: bool,

    /// Add an index: TABLE(COLUMN[,COLUMN…]).
    #[arg(long, group = "recipe", value_name = "TABLE(COLUMNS)")]
    pub add_index: Option<String>,

    /// With --add-index: a unique index.
    #[arg(long, requires = "add_index")]
    pub unique: bool,

    /// Rename a column through an expand/contract pair: TABLE.OLD TABLE.NEW.
    #[arg(long, group = "recipe", num_args = 2, value_names = ["TABLE.OLD", "TABLE.NEW"])]
    pub rename_column: Option<Vec<String>>,

    /// Change a column's type through an expand/contract pair: TABLE.COLUMN NEWTYPE.
    #[arg(long, group = "recipe", num_args = 2, value_names = ["TABLE.COLUMN", "NEWTYPE"])]
    pub change_type: Option<Vec<String>>,

    /// With --change-type: the new column's name (default: COLUMN_NEWTYPE).
    #[arg(long, requires = "change_type", value_name = "NAME")]
    pub into: Option<String>,

    /// Drop a column through an expand/contract pair: TABLE.COLUMN.
    #[arg(long, group = "recipe", value_name = "TABLE.COLUMN")]
    pub drop_column: Option<String>,

    /// Rename a table, leaving a view under the old name until the contract: OLD NEW.
    #[arg(long, group = "recipe", num_args = 2, value_names = ["OLD", "NEW"])]
    pub rename_table: Option<Vec<String>>,

    /// Add a foreign key without a long lock: TABLE.COLUMN REF(COLUMN).
    #[arg(long, group = "recipe", num_args = 2, value_names = ["TABLE.COLUMN", "REF(COLUMN)"])]
    pub add_foreign_key: Option<Vec<String>>,

    /// Make a column NOT NULL in a contract, after the app always writes it: TABLE.COLUMN.
    #[arg(long, group = "recipe", value_name = "TABLE.COLUMN")]
    pub set_not_null: Option<String>,
}

impl NewArgs {
    fn recipe(&self) -> Result<Recipe> {
        if let Some(values) = &self.add_column {
            return Ok(Recipe::AddColumn {
                column: Column::parse(&values[0])?,
                ty: values[1].clone(),
                default: self.default.clone(),
                not_null: self.not_null,
            });
        }
        if self.default.is_some() && self.add_column.is_none() && self.set_not_null.is_none() {
            return Err(Error::usage(
                "--default goes with --add-column or --set-not-null",
            ));
        }
        if let Some(values) = &self.rename_column {
            return Ok(Recipe::RenameColumn {
                column: Column::parse(&values[0])?,
                new_name: values[1].clone(),
            });
        }
        if let Some(values) = &self.change_type {
            return Ok(Recipe::ChangeType {
                column: Column::parse(&values[0])?,
                new_type: values[1].clone(),
                into: self.into.clone(),
            });
        }
        if let Some(arg) = &self.drop_column {
            return Ok(Recipe::DropColumn {
                column: Column::parse(arg)?,
            });
        }
        if let Some(values) = &self.rename_table {
            return Ok(Recipe::RenameTable {
                old: values[0].clone(),
                new: values[1].clone(),
            });
        }
        if let Some(values) = &self.add_foreign_key {
            let (references, referenced_columns) = crate::recipe::parse_reference(&values[1])?;
            return Ok(Recipe::AddForeignKey {
                column: Column::parse(&values[0])?,
                references,
                referenced_columns,
            });
        }
        if let Some(arg) = &self.set_not_null {
            return Ok(Recipe::SetNotNull {
                column: Column::parse(arg)?,
                default: self.default.clone(),
            });
        }
        if let Some(arg) = &self.add_index {
            let (table, columns) = crate::recipe::parse_index_arg(arg)?;
            return Ok(Recipe::AddIndex {
                table,
                columns,
                unique: self.unique,
            });
        }
        Ok(Recipe::Empty)
    }
}

pub fn run(args: NewArgs, config: &Config) -> Result<u8> {
    let recipe = args.recipe()?;
    if matches!(recipe, Recipe::Empty) && args.name.is_none() {
        return Err(Error::usage(
            "give the migration a name (`straddle new add_invoices`) or a recipe such as \
             `--add-column users.nickname text` (see `straddle new --help`)",
        ));
    }
    let dir = args.dir.clone().unwrap_or_else(|| config.migrations_dir());
    let dialect = args.dialect.unwrap_or_else(|| config.dialect());
    let target = Target::load(&dir, dialect)?;
    let name = slug(args.name.as_deref().unwrap_or(&recipe.default_name()));
    let plan = recipe.plan(&target, &name)?;
    let written = write_plan(&target, &plan, SystemTime::now())?;
    let mut out = anstream::stdout();
    let io = |e| Error::io("<stdout>", e);
    for w in &written {
        writeln!(out, "created {}", w.up.display()).map_err(io)?;
        writeln!(out, "created {}", w.down.display()).map_err(io)?;
        for extra in &w.extra {
            writeln!(out, "created {}", extra.display()).map_err(io)?;
        }
    }
    if !plan.steps.is_empty() {
        writeln!(out, "\nNext:").map_err(io)?;
        for (i, step) in plan.steps.iter().enumerate() {
            writeln!(out, "  {}. {step}", i + 1).map_err(io)?;
        }
    }
    Ok(super::EXIT_OK)
}
