//! What a migration file does to the schema, as a list of [`Operation`]s that
//! a down migration can be checked against: each one is a change (add a
//! column, create an index, rename a table...) with the statement it comes
//! from, the objects it refers to (so that drop order can be judged), and the
//! schema object as it was just before (so that the inverse can be written).
//!
//! Statements the model does not know (data changes, `DO` blocks, statements
//! neither sqlparser nor the recogniser understand) yield no operation.

use std::collections::BTreeMap;

use sqlparser::ast::{
    AlterColumnOperation, AlterIndexOperation, AlterTableOperation, AlterTypeOperation,
    ArrayElemTypeDef, ColumnDef, ColumnOption, DataType, Expr, ObjectType, RenameTableNameKind,
    SchemaName, Statement as Ast, TableConstraint,
};
use sqlparser::tokenizer::Token;

use crate::dialect::Dialect;
use crate::finding::Position;
use crate::schema::{Catalog, Column, Constraint, Index, Table};
use crate::sql::{Recognised, SqlFile, Statement, StatementKind, ident_key, object_key};

use super::reversal::{normal_default, normal_type};

/// The kinds of named schema objects a migration creates and drops.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ObjectKind {
    Table,
    Index,
    Type,
    Domain,
    View,
    MaterializedView,
    Function,
    Procedure,
    Trigger,
    Sequence,
    Schema,
    Extension,
}

impl ObjectKind {
    /// The SQL keyword(s) naming the kind.
    pub fn keyword(self) -> &'static str {
        match self {
            ObjectKind::Table => "TABLE",
            ObjectKind::Index => "INDEX",
            ObjectKind::Type => "TYPE",
            ObjectKind::Domain => "DOMAIN",
            ObjectKind::View => "VIEW",
            ObjectKind::MaterializedView => "MATERIALIZED VIEW",
            ObjectKind::Function => "FUNCTION",
            ObjectKind::Procedure => "PROCEDURE",
            ObjectKind::Trigger => "TRIGGER",
            ObjectKind::Sequence => "SEQUENCE",
            ObjectKind::Schema => "SCHEMA",
            ObjectKind::Extension => "EXTENSION",
        }
    }

    /// The kind in prose (`materialized view`).
    pub fn noun(self) -> &'static str {
        match self {
            ObjectKind::Table => "table",
            ObjectKind::Index => "index",
            ObjectKind::Type => "type",
            ObjectKind::Domain => "domain",
            ObjectKind::View => "view",
            ObjectKind::MaterializedView => "materialized view",
            ObjectKind::Function => "function",
            ObjectKind::Procedure => "procedure",
            ObjectKind::Trigger => "trigger",
            ObjectKind::Sequence => "sequence",
            ObjectKind::Schema => "schema",
            ObjectKind::Extension => "extension",
        }
    }

    /// Whether a statement about `other` can be about an object of this kind
    /// (functions and procedures, types and domains are told apart loosely).
    pub fn compatible(self, other: ObjectKind) -> bool {
        use ObjectKind::*;
        self == other
            || matches!(
                (self, other),
                (Function, Procedure) | (Procedure, Function) | (Type, Domain) | (Domain, Type)
            )
    }
}

/// A named schema object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Object {
    pub kind: ObjectKind,
    /// Catalog key (see [`object_key`]).
    pub name: String,
    /// The table an index or trigger belongs to, when known.
    pub table: Option<String>,
}

/// What a rename renames.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RenameTarget {
    Table,
    Column { table: String },
    Index,
    Constraint { table: String },
    Type,
    EnumValue { type_name: String },
}

/// One schema change, as the down migration must see it reversed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    Create {
        object: Object,
    },
    Drop {
        object: Object,
        if_exists: bool,
        cascade: bool,
    },
    AddColumn {
        table: String,
        column: String,
    },
    DropColumn {
        table: String,
        column: String,
        if_exists: bool,
        cascade: bool,
    },
    Rename {
        target: RenameTarget,
        from: String,
        to: String,
    },
    /// `name` is `None` for an unnamed constraint (or MySQL's `DROP PRIMARY
    /// KEY`).
    AddConstraint {
        table: String,
        name: Option<String>,
    },
    DropConstraint {
        table: String,
        name: Option<String>,
        if_exists: bool,
        cascade: bool,
    },
    SetNotNull {
        table: String,
        column: String,
    },
    DropNotNull {
        table: String,
        column: String,
    },
    /// The new default as SQL text.
    SetDefault {
        table: String,
        column: String,
        value: String,
    },
    DropDefault {
        table: String,
        column: String,
    },
    SetType {
        table: String,
        column: String,
        data_type: String,
    },
    /// MySQL `CHANGE`/`MODIFY`: the column is defined anew (and maybe
    /// renamed to `new_name`).
    Redefine {
        table: String,
        column: String,
        new_name: String,
    },
    /// PostgreSQL `ALTER TYPE … ADD VALUE`: no down can take it back.
    AddEnumValue {
        type_name: String,
        value: String,
    },
    /// A table rebuilt under its own name (SQLite's create-copy-drop-rename
    /// dance, or rename-aside-create-copy-drop).
    Rebuild {
        table: String,
    },
}

impl Change {
    /// The table the change is about, for changes that live inside a table
    /// (columns, constraints, indexes, triggers) and for tables themselves.
    pub fn table(&self) -> Option<&str> {
        match self {
            Change::Create { object } | Change::Drop { object, .. } => match object.kind {
                ObjectKind::Table => Some(object.name.as_str()),
                _ => object.table.as_deref(),
            },
            Change::AddColumn { table, .. }
            | Change::DropColumn { table, .. }
            | Change::AddConstraint { table, .. }
            | Change::DropConstraint { table, .. }
            | Change::SetNotNull { table, .. }
            | Change::DropNotNull { table, .. }
            | Change::SetDefault { table, .. }
            | Change::DropDefault { table, .. }
            | Change::SetType { table, .. }
            | Change::Redefine { table, .. }
            | Change::Rebuild { table } => Some(table.as_str()),
            Change::Rename { target, from, .. } => match target {
                RenameTarget::Table => Some(from.as_str()),
                RenameTarget::Column { table } | RenameTarget::Constraint { table } => {
                    Some(table.as_str())
                }
                _ => None,
            },
            Change::AddEnumValue { .. } => None,
        }
    }

    /// The column a column-level change is about.
    pub fn column(&self) -> Option<&str> {
        match self {
            Change::AddColumn { column, .. }
            | Change::DropColumn { column, .. }
            | Change::SetNotNull { column, .. }
            | Change::DropNotNull { column, .. }
            | Change::SetDefault { column, .. }
            | Change::DropDefault { column, .. }
            | Change::SetType { column, .. }
            | Change::Redefine { column, .. } => Some(column.as_str()),
            Change::Rename {
                target: RenameTarget::Column { .. },
                from,
                ..
            } => Some(from.as_str()),
            _ => None,
        }
    }

    /// The name of the object the change is about, as the down would name it
    /// (used to recognise it in statements straddle cannot parse).
    pub fn subject_name(&self) -> Option<&str> {
        match self {
            Change::Create { object } | Change::Drop { object, .. } => Some(&object.name),
            Change::Rename { to, .. } => Some(to),
            Change::AddConstraint { name, .. } | Change::DropConstraint { name, .. } => {
                name.as_deref()
            }
            Change::AddEnumValue { type_name, .. } => Some(type_name),
            Change::Rebuild { table } => Some(table),
            other => other.column(),
        }
    }
}

/// A foreign key: the constraint's name, its columns and the table it
/// references.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ForeignKey {
    pub name: String,
    pub columns: Vec<String>,
    pub target: String,
}

/// What a created object refers to; the drop order of a down depends on it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Refs {
    /// The columns a table creates, or an index/constraint covers.
    pub columns: Vec<String>,
    /// Foreign keys a table, column or constraint adds.
    pub foreign_keys: Vec<ForeignKey>,
    /// (column, user-defined type) pairs.
    pub column_types: Vec<(String, String)>,
    /// The function a trigger executes.
    pub function: Option<String>,
    /// Names a view's query mentions (lower-cased words).
    pub words: Vec<String>,
}

/// The object as it was just before the statement, from the catalog.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Prior {
    #[default]
    Unknown,
    Column(Column),
    Table(Table),
    Index(Index),
    Constraint(Constraint),
}

/// One schema change of a file, with where it comes from.
#[derive(Clone, Debug, PartialEq)]
pub struct Operation {
    pub change: Change,
    /// Index of the statement in the file.
    pub statement: usize,
    /// Where that statement starts.
    pub at: Position,
    pub refs: Refs,
    pub prior: Prior,
    /// The object existed before and this creates it anew (`CREATE OR
    /// REPLACE`, or a drop and a create of the same name): the down must put
    /// the previous one back rather than drop it.
    pub replaces: bool,
    /// `IF NOT EXISTS` / `IF EXISTS` was written.
    pub guarded: bool,
    /// The catalog knew the object just before the statement (for drops,
    /// renames and column changes).
    pub existed: bool,
}

/// Which statements of a file straddle could not model.
pub fn unmodelled(statement: &Statement) -> bool {
    match &statement.kind {
        StatementKind::Unknown { .. } => true,
        StatementKind::Recognised(r) => matches!(
            r,
            Recognised::DoBlock | Recognised::Other { .. } | Recognised::AlterIndex { .. }
        ),
        // A procedure call does what the procedure says.
        StatementKind::Parsed(ast) => matches!(ast.as_ref(), Ast::Call(_) | Ast::Execute { .. }),
    }
}

/// Whether an unmodelled statement mentions `name` (its last part), as an
/// identifier or inside a string or dollar-quoted body.
pub fn mentions(statement: &Statement, name: &str) -> bool {
    let needle = name.rsplit('.').next().unwrap_or(name).to_lowercase();
    if needle.is_empty() {
        return false;
    }
    statement.tokens.iter().any(|t| match &t.token {
        Token::Word(w) => w.value.to_lowercase() == needle,
        Token::SingleQuotedString(s) => contains_word(&s.to_lowercase(), &needle),
        Token::DollarQuotedString(s) => contains_word(&s.value.to_lowercase(), &needle),
        _ => false,
    })
}

fn contains_word(haystack: &str, word: &str) -> bool {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    haystack.match_indices(word).any(|(i, _)| {
        let before = haystack[..i].chars().next_back();
        let after = haystack[i + word.len()..].chars().next();
        !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
    })
}

/// Whether the statement leaves the schema as it is: `SELECT 1`, `BEGIN`,
/// `COMMIT`, `SET …`, a pragma.
pub fn is_no_op(statement: &Statement) -> bool {
    match &statement.kind {
        StatementKind::Parsed(ast) => match ast.as_ref() {
            Ast::StartTransaction { .. }
            | Ast::Commit { .. }
            | Ast::Rollback { .. }
            | Ast::Set(_)
            | Ast::Pragma { .. } => true,
            Ast::Query(_) => statement.tokens.iter().all(|t| match &t.token {
                Token::Word(w) => {
                    let v = w.value.to_ascii_uppercase();
                    v == "SELECT" || v == "AS" || v == "NULL" || v == "TRUE" || v == "FALSE"
                }
                Token::Number(..)
                | Token::SingleQuotedString(_)
                | Token::Comma
                | Token::LParen
                | Token::RParen
                | Token::Minus
                | Token::Plus => true,
                _ => false,
            }),
            _ => false,
        },
        StatementKind::Recognised(Recognised::Pragma { .. }) => true,
        _ => false,
    }
}

/// Whether a statement changes the schema: it yields an operation, or it is
/// DDL straddle does not model (its first word is `CREATE`, `ALTER`, `DROP`
/// or `RENAME`). `ALTER TABLE … VALIDATE CONSTRAINT` only checks rows that a
/// constraint already constrains: nothing to undo.
pub fn is_ddl(statement: &Statement) -> bool {
    if let Some(Ast::AlterTable(alter)) = statement.ast()
        && !alter.operations.is_empty()
        && alter.operations.iter().all(|op| {
            matches!(
                op,
                sqlparser::ast::AlterTableOperation::ValidateConstraint { .. }
            )
        })
    {
        return false;
    }
    statement
        .words()
        .next()
        .is_some_and(|w| matches!(w.as_str(), "CREATE" | "ALTER" | "DROP" | "RENAME"))
}

/// Whether a down does nothing to the schema: no statement, or only no-ops
/// (see [`is_no_op`]). A file the tokenizer gave up on is not empty.
pub fn does_nothing(file: &SqlFile) -> bool {
    file.tokenize_error.is_none() && file.statements.iter().all(is_no_op)
}

/// The first statement of an up that changes the schema (an operation
/// straddle models, or other DDL), if any, from the up's raw operations.
pub fn first_schema_change<'f>(up: &'f SqlFile, ops: &[Operation]) -> Option<&'f Statement> {
    // A value added to an enum cannot be undone: an empty down is honest
    // about it (`irreversible-enum-value` reports it).
    let enum_value_only = |i: usize| {
        let mut mine = ops.iter().filter(|o| o.statement == i).peekable();
        mine.peek().is_some() && mine.all(|o| matches!(o.change, Change::AddEnumValue { .. }))
    };
    let modelled = ops
        .iter()
        .find(|o| !matches!(o.change, Change::AddEnumValue { .. }))
        .map(|o| o.statement);
    let ddl = up
        .statements
        .iter()
        .enumerate()
        .position(|(i, s)| is_ddl(s) && !enum_value_only(i));
    let first = match (modelled, ddl) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b)?,
    };
    up.statements.get(first)
}

/// A user-defined type a column uses, when the type is not built in.
fn custom_type(data_type: &DataType) -> Option<String> {
    match data_type {
        DataType::Custom(name, _) => Some(object_key(name)),
        DataType::Array(
            ArrayElemTypeDef::SquareBracket(inner, _)
            | ArrayElemTypeDef::AngleBracket(inner)
            | ArrayElemTypeDef::Parenthesis(inner)
            | ArrayElemTypeDef::Qualified(inner, _),
        ) => custom_type(inner),
        _ => None,
    }
}

/// PostgreSQL's name for an unnamed foreign key.
fn default_fk_name(table: &str, columns: &[String]) -> String {
    let bare = table.rsplit('.').next().unwrap_or(table);
    format!("{bare}_{}_fkey", columns.join("_"))
}

fn column_refs(table: &str, def: &ColumnDef, refs: &mut Refs, dialect: Dialect) {
    let column = ident_key(&def.name);
    refs.columns.push(column.clone());
    if let Some(ty) = custom_type(&def.data_type) {
        refs.column_types.push((column.clone(), ty));
    }
    // MySQL parses an inline `REFERENCES` and ignores it.
    if dialect == Dialect::Mysql {
        return;
    }
    for option in &def.options {
        if let ColumnOption::ForeignKey(fk) = &option.option {
            let columns = vec![column.clone()];
            let name = option
                .name
                .as_ref()
                .or(fk.name.as_ref())
                .map(ident_key)
                .unwrap_or_else(|| default_fk_name(table, &columns));
            refs.foreign_keys.push(ForeignKey {
                name,
                columns,
                target: object_key(&fk.foreign_table),
            });
        }
    }
}

fn index_column_name(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Identifier(ident) => Some(ident_key(ident)),
        Expr::CompoundIdentifier(parts) => parts.last().map(ident_key),
        Expr::Nested(inner) => index_column_name(inner),
        _ => None,
    }
}

/// The name, columns and foreign key of a table constraint; `is_index` for
/// MySQL's `INDEX`/`KEY` entries, which are indexes rather than constraints.
struct ConstraintInfo {
    name: Option<String>,
    columns: Vec<String>,
    foreign_key: Option<ForeignKey>,
    is_index: bool,
}

fn constraint_info(table: &str, tc: &TableConstraint) -> ConstraintInfo {
    let cols = |columns: &[sqlparser::ast::IndexColumn]| -> Vec<String> {
        columns
            .iter()
            .filter_map(|c| index_column_name(&c.column.expr))
            .collect()
    };
    let mut info = ConstraintInfo {
        name: None,
        columns: Vec::new(),
        foreign_key: None,
        is_index: false,
    };
    match tc {
        TableConstraint::PrimaryKey(c) => {
            info.name = c.name.as_ref().or(c.index_name.as_ref()).map(ident_key);
            info.columns = cols(&c.columns);
        }
        TableConstraint::Unique(c) => {
            info.name = c.name.as_ref().or(c.index_name.as_ref()).map(ident_key);
            info.columns = cols(&c.columns);
        }
        TableConstraint::ForeignKey(c) => {
            info.columns = c.columns.iter().map(ident_key).collect();
            let name = c
                .name
                .as_ref()
                .map(ident_key)
                .unwrap_or_else(|| default_fk_name(table, &info.columns));
            info.name = c.name.as_ref().map(ident_key);
            info.foreign_key = Some(ForeignKey {
                name,
                columns: info.columns.clone(),
                target: object_key(&c.foreign_table),
            });
        }
        TableConstraint::Check(c) => info.name = c.name.as_ref().map(ident_key),
        TableConstraint::Exclude(c) => info.name = c.name.as_ref().map(ident_key),
        TableConstraint::PrimaryKeyUsingIndex(c) | TableConstraint::UniqueUsingIndex(c) => {
            info.name = c.name.as_ref().map(ident_key)
        }
        TableConstraint::Index(c) => {
            info.name = c.name.as_ref().map(ident_key);
            info.columns = cols(&c.columns);
            info.is_index = true;
        }
        TableConstraint::FulltextOrSpatial(c) => {
            info.name = c.opt_index_name.as_ref().map(ident_key);
            info.columns = cols(&c.columns);
            info.is_index = true;
        }
    }
    info
}

/// A renamed object keeps its schema: `ALTER TABLE app.a RENAME TO b` makes
/// `app.b`.
fn in_schema_of(old: &str, new: String) -> String {
    match old.rsplit_once('.') {
        Some((schema, _)) if !new.contains('.') => format!("{schema}.{new}"),
        _ => new,
    }
}

/// The key of `name` moved into `schema`.
fn moved_to_schema(name: &str, schema: &str) -> String {
    let bare = name.rsplit('.').next().unwrap_or(name);
    if schema == "public" || schema == "main" {
        bare.to_string()
    } else {
        format!("{schema}.{bare}")
    }
}

/// The words a view's query mentions (after its first `AS`).
fn view_words(statement: &Statement) -> Vec<String> {
    let start = statement
        .tokens
        .iter()
        .position(|t| matches!(&t.token, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("AS")))
        .map(|i| i + 1)
        .unwrap_or(0);
    let mut words: Vec<String> = statement.tokens[start.min(statement.tokens.len())..]
        .iter()
        .filter_map(|t| match &t.token {
            Token::Word(w) => Some(match w.quote_style {
                Some(_) => w.value.clone(),
                None => w.value.to_lowercase(),
            }),
            _ => None,
        })
        .collect();
    words.sort();
    words.dedup();
    words
}

/// One extracted change before it is placed.
struct Draft {
    change: Change,
    refs: Refs,
    prior: Prior,
    replaces: bool,
    guarded: bool,
}

impl Draft {
    fn new(change: Change) -> Self {
        Draft {
            change,
            refs: Refs::default(),
            prior: Prior::Unknown,
            replaces: false,
            guarded: false,
        }
    }

    fn refs(mut self, refs: Refs) -> Self {
        self.refs = refs;
        self
    }

    fn prior(mut self, prior: Prior) -> Self {
        self.prior = prior;
        self
    }

    fn replaces(mut self, replaces: bool) -> Self {
        self.replaces = replaces;
        self
    }

    fn guarded(mut self, guarded: bool) -> Self {
        self.guarded = guarded;
        self
    }
}

fn column_prior(catalog: &Catalog, table: &str, column: &str) -> Prior {
    catalog
        .column(table, column)
        .cloned()
        .map(Prior::Column)
        .unwrap_or_default()
}

fn create(kind: ObjectKind, name: String, table: Option<String>) -> Change {
    Change::Create {
        object: Object { kind, name, table },
    }
}

fn drop(
    kind: ObjectKind,
    name: String,
    table: Option<String>,
    if_exists: bool,
    cascade: bool,
) -> Change {
    Change::Drop {
        object: Object { kind, name, table },
        if_exists,
        cascade,
    }
}

fn alter_table_drafts(
    table: &str,
    operation: &AlterTableOperation,
    catalog: &Catalog,
    out: &mut Vec<Draft>,
    dialect: Dialect,
) {
    let table_s = table.to_string();
    match operation {
        AlterTableOperation::AddColumn {
            if_not_exists,
            column_def,
            ..
        } => {
            let column = ident_key(&column_def.name);
            if *if_not_exists && catalog.column(table, &column).is_some() {
                return;
            }
            let mut refs = Refs::default();
            column_refs(table, column_def, &mut refs, dialect);
            out.push(
                Draft::new(Change::AddColumn {
                    table: table_s,
                    column,
                })
                .refs(refs)
                .guarded(*if_not_exists),
            );
        }
        AlterTableOperation::DropColumn {
            column_names,
            if_exists,
            drop_behavior,
            ..
        } => {
            for name in column_names {
                let column = ident_key(name);
                let prior = column_prior(catalog, table, &column);
                out.push(
                    Draft::new(Change::DropColumn {
                        table: table_s.clone(),
                        column,
                        if_exists: *if_exists,
                        cascade: matches!(
                            drop_behavior,
                            Some(sqlparser::ast::DropBehavior::Cascade)
                        ),
                    })
                    .prior(prior)
                    .guarded(*if_exists),
                );
            }
        }
        AlterTableOperation::RenameColumn {
            old_column_name,
            new_column_name,
        } => out.push(Draft::new(Change::Rename {
            target: RenameTarget::Column { table: table_s },
            from: ident_key(old_column_name),
            to: ident_key(new_column_name),
        })),
        AlterTableOperation::RenameTable { table_name } => {
            let new = match table_name {
                RenameTableNameKind::As(n) | RenameTableNameKind::To(n) => object_key(n),
            };
            out.push(Draft::new(Change::Rename {
                target: RenameTarget::Table,
                from: table_s,
                to: in_schema_of(table, new),
            }));
        }
        AlterTableOperation::RenameConstraint { old_name, new_name } => {
            out.push(Draft::new(Change::Rename {
                target: RenameTarget::Constraint { table: table_s },
                from: ident_key(old_name),
                to: ident_key(new_name),
            }))
        }
        AlterTableOperation::AlterColumn { column_name, op } => {
            let column = ident_key(column_name);
            let prior = column_prior(catalog, table, &column);
            let change = match op {
                AlterColumnOperation::SetNotNull => Change::SetNotNull {
                    table: table_s,
                    column,
                },
                AlterColumnOperation::DropNotNull => Change::DropNotNull {
                    table: table_s,
                    column,
                },
                AlterColumnOperation::SetDefault { value } => {
                    let value = value.to_string();
                    if value.eq_ignore_ascii_case("null") {
                        Change::DropDefault {
                            table: table_s,
                            column,
                        }
                    } else {
                        Change::SetDefault {
                            table: table_s,
                            column,
                            value,
                        }
                    }
                }
                AlterColumnOperation::DropDefault => Change::DropDefault {
                    table: table_s,
                    column,
                },
                AlterColumnOperation::SetDataType { data_type, .. } => Change::SetType {
                    table: table_s,
                    column,
                    data_type: data_type.to_string(),
                },
                _ => return,
            };
            out.push(Draft::new(change).prior(prior));
        }
        AlterTableOperation::ChangeColumn {
            old_name, new_name, ..
        } => {
            let column = ident_key(old_name);
            let prior = column_prior(catalog, table, &column);
            out.push(
                Draft::new(Change::Redefine {
                    table: table_s,
                    column,
                    new_name: ident_key(new_name),
                })
                .prior(prior),
            );
        }
        AlterTableOperation::ModifyColumn { col_name, .. } => {
            let column = ident_key(col_name);
            let prior = column_prior(catalog, table, &column);
            out.push(
                Draft::new(Change::Redefine {
                    table: table_s,
                    column: column.clone(),
                    new_name: column,
                })
                .prior(prior),
            );
        }
        AlterTableOperation::AddConstraint { constraint, .. } => {
            let info = constraint_info(table, constraint);
            let refs = Refs {
                columns: info.columns.clone(),
                foreign_keys: info.foreign_key.into_iter().collect(),
                ..Refs::default()
            };
            let change = if info.is_index {
                let Some(name) = info.name else { return };
                create(ObjectKind::Index, name, Some(table_s))
            } else {
                Change::AddConstraint {
                    table: table_s,
                    name: info.name,
                }
            };
            out.push(Draft::new(change).refs(refs));
        }
        AlterTableOperation::DropConstraint {
            if_exists,
            name,
            drop_behavior,
        } => {
            let name = ident_key(name);
            let prior = constraint_prior(catalog, table, Some(&name));
            out.push(
                Draft::new(Change::DropConstraint {
                    table: table_s,
                    name: Some(name),
                    if_exists: *if_exists,
                    cascade: matches!(drop_behavior, Some(sqlparser::ast::DropBehavior::Cascade)),
                })
                .prior(prior)
                .guarded(*if_exists),
            );
        }
        AlterTableOperation::DropForeignKey { name, .. } => {
            let name = ident_key(name);
            let prior = constraint_prior(catalog, table, Some(&name));
            out.push(
                Draft::new(Change::DropConstraint {
                    table: table_s,
                    name: Some(name),
                    if_exists: false,
                    cascade: false,
                })
                .prior(prior),
            );
        }
        AlterTableOperation::DropPrimaryKey { .. } => {
            let prior = constraint_prior(catalog, table, None);
            out.push(
                Draft::new(Change::DropConstraint {
                    table: table_s,
                    name: None,
                    if_exists: false,
                    cascade: false,
                })
                .prior(prior),
            );
        }
        AlterTableOperation::DropIndex { name } => {
            let name = ident_key(name);
            let prior = catalog
                .indexes
                .get(&name)
                .map(|i| Prior::Index((**i).clone()))
                .unwrap_or_default();
            out.push(
                Draft::new(drop(ObjectKind::Index, name, Some(table_s), false, false)).prior(prior),
            );
        }
        _ => {}
    }
}

fn constraint_prior(catalog: &Catalog, table: &str, name: Option<&str>) -> Prior {
    let Some(t) = catalog.table(table) else {
        return Prior::Unknown;
    };
    t.constraints
        .iter()
        .find(|c| match name {
            Some(name) => c.name.as_deref() == Some(name),
            None => c.kind == crate::schema::ConstraintKind::PrimaryKey,
        })
        .cloned()
        .map(Prior::Constraint)
        .unwrap_or_default()
}

fn object_kind(object_type: &ObjectType) -> Option<ObjectKind> {
    Some(match object_type {
        ObjectType::Table => ObjectKind::Table,
        ObjectType::View => ObjectKind::View,
        ObjectType::MaterializedView => ObjectKind::MaterializedView,
        ObjectType::Index => ObjectKind::Index,
        ObjectType::Schema => ObjectKind::Schema,
        ObjectType::Sequence => ObjectKind::Sequence,
        ObjectType::Type => ObjectKind::Type,
        _ => return None,
    })
}

fn schema_name(name: &SchemaName) -> String {
    match name {
        SchemaName::Simple(n) | SchemaName::NamedAuthorization(n, _) => object_key(n),
        SchemaName::UnnamedAuthorization(i) => ident_key(i),
    }
}

/// Whether the catalog knows objects in schema `schema`.
fn schema_known(catalog: &Catalog, schema: &str) -> bool {
    let prefix = format!("{schema}.");
    catalog.tables.keys().any(|k| k.starts_with(&prefix))
}

fn fk_table_refs(table: &str, create: &sqlparser::ast::CreateTable, dialect: Dialect) -> Refs {
    let mut refs = Refs::default();
    for def in &create.columns {
        column_refs(table, def, &mut refs, dialect);
    }
    for tc in &create.constraints {
        if let Some(fk) = constraint_info(table, tc).foreign_key {
            refs.foreign_keys.push(fk);
        }
    }
    refs
}

fn ast_drafts(
    statement: &Statement,
    ast: &Ast,
    catalog: &Catalog,
    out: &mut Vec<Draft>,
    dialect: Dialect,
) {
    match ast {
        Ast::CreateTable(ct) => {
            let name = object_key(&ct.name);
            let existed = catalog.tables.contains_key(&name);
            if ct.if_not_exists && existed {
                return;
            }
            let refs = fk_table_refs(&name, ct, dialect);
            let prior = catalog
                .table(&name)
                .cloned()
                .map(Prior::Table)
                .unwrap_or_default();
            out.push(
                Draft::new(create(ObjectKind::Table, name, None))
                    .refs(refs)
                    .prior(prior)
                    .replaces(ct.or_replace && existed)
                    .guarded(ct.if_not_exists),
            );
        }
        Ast::AlterTable(at) => {
            let table = object_key(&at.name);
            for operation in &at.operations {
                alter_table_drafts(&table, operation, catalog, out, dialect);
            }
        }
        Ast::RenameTable(renames) => {
            for rename in renames {
                let from = object_key(&rename.old_name);
                let to = in_schema_of(&from, object_key(&rename.new_name));
                out.push(Draft::new(Change::Rename {
                    target: RenameTarget::Table,
                    from,
                    to,
                }));
            }
        }
        Ast::CreateIndex(ci) => {
            let Some(name) = ci.name.as_ref().map(object_key) else {
                return;
            };
            if ci.if_not_exists && catalog.indexes.contains_key(&name) {
                return;
            }
            let refs = Refs {
                columns: ci
                    .columns
                    .iter()
                    .filter_map(|c| index_column_name(&c.column.expr))
                    .collect(),
                ..Refs::default()
            };
            out.push(
                Draft::new(create(
                    ObjectKind::Index,
                    name,
                    Some(object_key(&ci.table_name)),
                ))
                .refs(refs)
                .guarded(ci.if_not_exists),
            );
        }
        Ast::CreateView(cv) => {
            let name = object_key(&cv.name);
            let existed = catalog.views.contains_key(&name);
            if cv.if_not_exists && existed {
                return;
            }
            let kind = if cv.materialized {
                ObjectKind::MaterializedView
            } else {
                ObjectKind::View
            };
            let refs = Refs {
                words: view_words(statement),
                ..Refs::default()
            };
            out.push(
                Draft::new(create(kind, name, None))
                    .refs(refs)
                    .replaces((cv.or_replace || cv.or_alter) && existed)
                    .guarded(cv.if_not_exists),
            );
        }
        Ast::CreateType { name, .. } => {
            out.push(Draft::new(create(ObjectKind::Type, object_key(name), None)));
        }
        Ast::CreateDomain(domain) => {
            out.push(Draft::new(create(
                ObjectKind::Domain,
                object_key(&domain.name),
                None,
            )));
        }
        Ast::CreateFunction(cf) => {
            let name = object_key(&cf.name);
            let existed = catalog.functions.contains_key(&name);
            if cf.if_not_exists && existed {
                return;
            }
            out.push(
                Draft::new(create(ObjectKind::Function, name, None))
                    .replaces((cf.or_replace || cf.or_alter) && existed),
            );
        }
        Ast::CreateProcedure { or_alter, name, .. } => {
            let name = object_key(name);
            let existed = catalog.functions.contains_key(&name);
            out.push(
                Draft::new(create(ObjectKind::Procedure, name, None))
                    .replaces(*or_alter && existed),
            );
        }
        Ast::CreateTrigger(ct) => {
            let name = object_key(&ct.name);
            let existed = catalog.triggers.contains_key(&name);
            let refs = Refs {
                function: ct.exec_body.as_ref().map(|b| object_key(&b.func_desc.name)),
                ..Refs::default()
            };
            out.push(
                Draft::new(create(
                    ObjectKind::Trigger,
                    name,
                    Some(object_key(&ct.table_name)),
                ))
                .refs(refs)
                .replaces((ct.or_replace || ct.or_alter) && existed),
            );
        }
        Ast::CreateSequence {
            if_not_exists,
            name,
            owned_by,
            ..
        } => {
            let name = object_key(name);
            if *if_not_exists && catalog.sequences.contains_key(&name) {
                return;
            }
            // `OWNED BY t.c`: the sequence goes away with the table.
            let owner = owned_by
                .as_ref()
                .map(object_key)
                .and_then(|c| c.rsplit_once('.').map(|(t, _)| t.to_string()));
            out.push(Draft::new(create(ObjectKind::Sequence, name, owner)).guarded(*if_not_exists));
        }
        Ast::CreateSchema {
            schema_name: sn,
            if_not_exists,
            ..
        } => {
            let name = schema_name(sn);
            // Whether an `IF NOT EXISTS` schema existed is unknown to the
            // catalog: such a statement is not modelled.
            if *if_not_exists || schema_known(catalog, &name) {
                return;
            }
            out.push(Draft::new(create(ObjectKind::Schema, name, None)));
        }
        Ast::CreateExtension(ce) => {
            if ce.if_not_exists {
                return;
            }
            out.push(Draft::new(create(
                ObjectKind::Extension,
                ident_key(&ce.name),
                None,
            )));
        }
        Ast::Drop {
            object_type,
            if_exists,
            names,
            cascade,
            table,
            ..
        } => {
            let Some(kind) = object_kind(object_type) else {
                return;
            };
            for name in names {
                let key = object_key(name);
                let (owner, prior) = match kind {
                    ObjectKind::Table => (
                        None,
                        catalog
                            .table(&key)
                            .cloned()
                            .map(Prior::Table)
                            .unwrap_or_default(),
                    ),
                    ObjectKind::Index => (
                        table
                            .as_ref()
                            .map(object_key)
                            .or_else(|| catalog.index_table(&key).map(str::to_string)),
                        catalog
                            .indexes
                            .get(&key)
                            .map(|i| Prior::Index((**i).clone()))
                            .unwrap_or_default(),
                    ),
                    _ => (None, Prior::Unknown),
                };
                out.push(
                    Draft::new(drop(kind, key, owner, *if_exists, *cascade))
                        .prior(prior)
                        .guarded(*if_exists),
                );
            }
        }
        Ast::DropFunction(df) => {
            let cascade = matches!(
                df.drop_behavior,
                Some(sqlparser::ast::DropBehavior::Cascade)
            );
            for f in &df.func_desc {
                out.push(
                    Draft::new(drop(
                        ObjectKind::Function,
                        object_key(&f.name),
                        None,
                        df.if_exists,
                        cascade,
                    ))
                    .guarded(df.if_exists),
                );
            }
        }
        Ast::DropProcedure {
            if_exists,
            proc_desc,
            drop_behavior,
        } => {
            let cascade = matches!(drop_behavior, Some(sqlparser::ast::DropBehavior::Cascade));
            for f in proc_desc {
                out.push(
                    Draft::new(drop(
                        ObjectKind::Procedure,
                        object_key(&f.name),
                        None,
                        *if_exists,
                        cascade,
                    ))
                    .guarded(*if_exists),
                );
            }
        }
        Ast::DropTrigger(dt) => {
            let name = object_key(&dt.trigger_name);
            let table = dt
                .table_name
                .as_ref()
                .map(object_key)
                .or_else(|| catalog.triggers.get(&name).map(|(t, _)| t.clone()));
            let cascade = matches!(dt.option, Some(sqlparser::ast::ReferentialAction::Cascade));
            out.push(
                Draft::new(drop(
                    ObjectKind::Trigger,
                    name,
                    table,
                    dt.if_exists,
                    cascade,
                ))
                .guarded(dt.if_exists),
            );
        }
        Ast::DropExtension(de) => {
            let cascade = matches!(
                de.cascade_or_restrict,
                Some(sqlparser::ast::ReferentialAction::Cascade)
            );
            for name in &de.names {
                out.push(
                    Draft::new(drop(
                        ObjectKind::Extension,
                        ident_key(name),
                        None,
                        de.if_exists,
                        cascade,
                    ))
                    .guarded(de.if_exists),
                );
            }
        }
        Ast::DropDomain(dd) => {
            let cascade = matches!(
                dd.drop_behavior,
                Some(sqlparser::ast::DropBehavior::Cascade)
            );
            out.push(
                Draft::new(drop(
                    ObjectKind::Domain,
                    object_key(&dd.name),
                    None,
                    dd.if_exists,
                    cascade,
                ))
                .guarded(dd.if_exists),
            );
        }
        Ast::AlterIndex {
            name,
            operation: AlterIndexOperation::RenameIndex { index_name },
        } => {
            let from = object_key(name);
            let to = in_schema_of(&from, object_key(index_name));
            out.push(Draft::new(Change::Rename {
                target: RenameTarget::Index,
                from,
                to,
            }));
        }
        Ast::AlterType(at) => {
            let type_name = object_key(&at.name);
            match &at.operation {
                AlterTypeOperation::Rename(r) => {
                    let to = in_schema_of(&type_name, ident_key(&r.new_name));
                    out.push(Draft::new(Change::Rename {
                        target: RenameTarget::Type,
                        from: type_name,
                        to,
                    }));
                }
                AlterTypeOperation::AddValue(v) => out.push(Draft::new(Change::AddEnumValue {
                    type_name,
                    value: v.value.value.clone(),
                })),
                AlterTypeOperation::RenameValue(v) => out.push(Draft::new(Change::Rename {
                    target: RenameTarget::EnumValue { type_name },
                    from: v.from.value.clone(),
                    to: v.to.value.clone(),
                })),
            }
        }
        _ => {}
    }
}

fn recognised_drafts(recognised: &Recognised, catalog: &Catalog, out: &mut Vec<Draft>) {
    match recognised {
        Recognised::DropIndex {
            if_exists, names, ..
        } => {
            for name in names {
                let prior = catalog
                    .indexes
                    .get(name)
                    .map(|i| Prior::Index((**i).clone()))
                    .unwrap_or_default();
                let table = catalog.index_table(name).map(str::to_string);
                out.push(
                    Draft::new(drop(
                        ObjectKind::Index,
                        name.clone(),
                        table,
                        *if_exists,
                        false,
                    ))
                    .prior(prior)
                    .guarded(*if_exists),
                );
            }
        }
        Recognised::CreateSequence { name } => {
            out.push(Draft::new(create(ObjectKind::Sequence, name.clone(), None)));
        }
        Recognised::CreateProcedure { name } => {
            let existed = catalog.functions.contains_key(name);
            out.push(
                Draft::new(create(ObjectKind::Procedure, name.clone(), None)).replaces(existed),
            );
        }
        Recognised::AlterTableSetSchema { table, schema } => {
            out.push(Draft::new(Change::Rename {
                target: RenameTarget::Table,
                from: table.clone(),
                to: moved_to_schema(table, schema),
            }));
        }
        _ => {}
    }
}

/// `ALTER SEQUENCE s OWNED BY t.c` → (s, t).
fn sequence_owner(statement: &Statement) -> Option<(String, String)> {
    let Some(Recognised::AlterSequence { name }) = statement.recognised() else {
        return None;
    };
    let tokens = &statement.tokens;
    let is = |i: usize, word: &str| matches!(tokens.get(i).map(|t| &t.token), Some(Token::Word(w)) if w.value.eq_ignore_ascii_case(word));
    let by = (1..tokens.len()).find(|&i| is(i - 1, "OWNED") && is(i, "BY"))?;
    let mut parts = Vec::new();
    let mut i = by + 1;
    while let Some(Token::Word(w)) = tokens.get(i).map(|t| &t.token) {
        parts.push(match w.quote_style {
            Some(_) => w.value.clone(),
            None => w.value.to_lowercase(),
        });
        if matches!(tokens.get(i + 1).map(|t| &t.token), Some(Token::Period)) {
            i += 2;
        } else {
            break;
        }
    }
    // Drop the column, and a default schema.
    parts.pop()?;
    if parts.len() > 1 && (parts[0] == "public" || parts[0] == "main") {
        parts.remove(0);
    }
    if parts.is_empty() {
        return None;
    }
    Some((name.clone(), parts.join(".")))
}

/// The operations of one statement, judged against the schema just before it.
fn statement_operations(
    index: usize,
    statement: &Statement,
    catalog: &Catalog,
    dialect: Dialect,
) -> Vec<Operation> {
    let mut drafts = Vec::new();
    match &statement.kind {
        StatementKind::Parsed(ast) => ast_drafts(statement, ast, catalog, &mut drafts, dialect),
        StatementKind::Recognised(r) => recognised_drafts(r, catalog, &mut drafts),
        StatementKind::Unknown { .. } => {}
    }
    drafts
        .into_iter()
        .map(|mut d| {
            // A table renamed away: what it was, should it be dropped later.
            if let (
                Prior::Unknown,
                Change::Rename {
                    target: RenameTarget::Table,
                    from,
                    ..
                },
            ) = (&d.prior, &d.change)
                && let Some(t) = catalog.table(from)
            {
                d.prior = Prior::Table(t.clone());
            }
            d
        })
        .map(|d| Operation {
            existed: known(&d.change, catalog),
            change: d.change,
            statement: index,
            at: statement.span.start,
            refs: d.refs,
            prior: d.prior,
            replaces: d.replaces,
            guarded: d.guarded,
        })
        .collect()
}

/// Whether the catalog knows the object a change removes or alters.
fn known(change: &Change, catalog: &Catalog) -> bool {
    match change {
        Change::Drop { object, .. } => match object.kind {
            ObjectKind::Table => catalog.tables.contains_key(&object.name),
            ObjectKind::Index => catalog.indexes.contains_key(&object.name),
            ObjectKind::View | ObjectKind::MaterializedView => {
                catalog.views.contains_key(&object.name)
            }
            ObjectKind::Type | ObjectKind::Domain => catalog.types.contains_key(&object.name),
            ObjectKind::Function | ObjectKind::Procedure => {
                catalog.functions.contains_key(&object.name)
            }
            ObjectKind::Trigger => catalog.triggers.contains_key(&object.name),
            ObjectKind::Sequence => catalog.sequences.contains_key(&object.name),
            ObjectKind::Schema => schema_known(catalog, &object.name),
            ObjectKind::Extension => false,
        },
        Change::Rename {
            target: RenameTarget::Table,
            from,
            ..
        } => catalog.tables.contains_key(from),
        Change::DropConstraint { table, name, .. } => {
            constraint_prior(catalog, table, name.as_deref()) != Prior::Unknown
        }
        other => match (other.table(), other.column()) {
            (Some(t), Some(c)) => catalog.column(t, c).is_some(),
            (Some(t), None) => catalog.tables.contains_key(t),
            _ => false,
        },
    }
}

/// Collects the operations of a file statement by statement, while the
/// caller replays the file into a catalog: the linter records an up this way
/// during its own replay, with no second pass.
#[derive(Debug, Default)]
pub struct Recorder {
    ops: Vec<Operation>,
}

impl Recorder {
    /// Records the operations of the statement at `index`, given the
    /// catalog as it is just before that statement.
    pub fn record(
        &mut self,
        index: usize,
        statement: &Statement,
        catalog: &Catalog,
        dialect: Dialect,
    ) {
        if let Some((sequence, table)) = sequence_owner(statement) {
            for op in self.ops.iter_mut().rev() {
                if let Change::Create { object } = &mut op.change
                    && object.kind == ObjectKind::Sequence
                    && object.name == sequence
                {
                    object.table = Some(table);
                    break;
                }
            }
        }
        self.ops
            .extend(statement_operations(index, statement, catalog, dialect));
    }

    /// Every operation recorded, in order.
    pub fn finish(self) -> Vec<Operation> {
        self.ops
    }
}

/// Every operation of `file`, in order, as written (no merging), with the
/// catalog replayed statement by statement from `catalog`.
pub fn raw_operations(file: &SqlFile, catalog: &Catalog, dialect: Dialect) -> Vec<Operation> {
    let mut catalog = catalog.clone();
    let mut recorder = Recorder::default();
    for (index, statement) in file.statements.iter().enumerate() {
        recorder.record(index, statement, &catalog, dialect);
        catalog.apply(statement, "\u{0}inverse");
    }
    recorder.finish()
}

/// The operations of an up file, as a down must reverse them: table
/// rebuilds are one [`Change::Rebuild`]; an object created and dropped
/// again in the same file is left out; one dropped and created again is a
/// replacement; repeated changes of one column attribute (default, type,
/// nullability) keep the first, whose prior state the down must restore.
pub fn up_operations(file: &SqlFile, catalog: &Catalog, dialect: Dialect) -> Vec<Operation> {
    fold_up(raw_operations(file, catalog, dialect))
}

/// [`up_operations`] from the raw operations of the up.
pub fn fold_up(mut ops: Vec<Operation>) -> Vec<Operation> {
    fold_rebuilds(&mut ops);
    absorb_into_rebuilds(&mut ops);
    cancel_and_replace(&mut ops);
    keep_first_attribute_change(&mut ops);
    ops
}

/// The operations of a down file, with the table rebuilds it performs added
/// as [`Change::Rebuild`] (the raw operations stay).
pub fn down_operations(
    file: &SqlFile,
    catalog_after: &Catalog,
    dialect: Dialect,
) -> Vec<Operation> {
    with_down_rebuilds(raw_operations(file, catalog_after, dialect))
}

/// [`down_operations`] from the raw operations of the down.
pub fn with_down_rebuilds(ops: Vec<Operation>) -> Vec<Operation> {
    let mut folded = ops.clone();
    fold_rebuilds(&mut folded);
    // Keep what folding made (rebuilds, renamed-then-dropped tables) next to
    // the raw operations.
    let made: Vec<Operation> = folded.into_iter().filter(|o| !ops.contains(o)).collect();
    let mut all = ops;
    all.extend(made);
    all
}

fn is_table_create(op: &Operation, name: &str) -> bool {
    matches!(&op.change, Change::Create { object } if object.kind == ObjectKind::Table && object.name == name)
}

fn is_table_drop(op: &Operation, name: &str) -> bool {
    matches!(&op.change, Change::Drop { object, .. } if object.kind == ObjectKind::Table && object.name == name)
}

fn table_rename(op: &Operation) -> Option<(&str, &str)> {
    match &op.change {
        Change::Rename {
            target: RenameTarget::Table,
            from,
            to,
        } => Some((from, to)),
        _ => None,
    }
}

/// Folds the ways a file replaces a table under its own name:
///
/// * `CREATE TABLE x …; DROP TABLE t; ALTER TABLE x RENAME TO t` and
///   `ALTER TABLE t RENAME TO y; CREATE TABLE t …; [DROP TABLE y]` become one
///   [`Change::Rebuild`] of `t` (a kept `y` is a table the file creates);
/// * `ALTER TABLE t RENAME TO y; … DROP TABLE y` becomes `DROP TABLE t`.
pub fn fold_rebuilds(ops: &mut Vec<Operation>) {
    loop {
        let mut found: Option<(Vec<usize>, Vec<Operation>)> = None;
        'search: for (k, op) in ops.iter().enumerate() {
            let Some((from, to)) = table_rename(op) else {
                continue;
            };
            let with = |change: Change| {
                let mut new = op.clone();
                new.change = change;
                new.refs = Refs::default();
                new.replaces = false;
                new
            };
            // CREATE TABLE x …; DROP TABLE t; ALTER TABLE x RENAME TO t
            let create = ops[..k].iter().rposition(|o| is_table_create(o, from));
            let dropped = ops[..k].iter().rposition(|o| is_table_drop(o, to));
            if let (Some(c), Some(d)) = (create, dropped) {
                let mut rebuild = with(Change::Rebuild {
                    table: to.to_string(),
                });
                let first = &ops[c.min(d)];
                (rebuild.statement, rebuild.at) = (first.statement, first.at);
                rebuild.prior = ops[d].prior.clone();
                found = Some((vec![c, d, k], vec![rebuild]));
                break 'search;
            }
            // ALTER TABLE t RENAME TO y; CREATE TABLE t …; [DROP TABLE y]
            if let Some(c) = ops[k + 1..].iter().position(|o| is_table_create(o, from)) {
                let c = k + 1 + c;
                let rebuild = with(Change::Rebuild {
                    table: from.to_string(),
                });
                match ops[c + 1..].iter().position(|o| is_table_drop(o, to)) {
                    Some(d) => found = Some((vec![k, c, c + 1 + d], vec![rebuild])),
                    None => {
                        let mut kept = with(create_change(ObjectKind::Table, to.to_string()));
                        kept.prior = Prior::Unknown;
                        found = Some((vec![k, c], vec![rebuild, kept]));
                    }
                }
                break 'search;
            }
            // ALTER TABLE t RENAME TO y; … DROP TABLE y
            if let Some(d) = ops[k + 1..].iter().position(|o| is_table_drop(o, to)) {
                let d = k + 1 + d;
                let cascade = matches!(ops[d].change, Change::Drop { cascade: true, .. });
                let dropped = with(drop(
                    ObjectKind::Table,
                    from.to_string(),
                    None,
                    false,
                    cascade,
                ));
                found = Some((vec![k, d], vec![dropped]));
                break 'search;
            }
        }
        let Some((mut remove, inserts)) = found else {
            return;
        };
        remove.sort_unstable();
        for i in remove.into_iter().rev() {
            ops.remove(i);
        }
        for new in inserts {
            let at = ops
                .iter()
                .position(|o| o.statement > new.statement)
                .unwrap_or(ops.len());
            ops.insert(at, new);
        }
    }
}

fn create_change(kind: ObjectKind, name: String) -> Change {
    create(kind, name, None)
}

/// Leaves out of the up what a rebuild of its table subsumes: the down
/// rebuilds the table back, and with it every column, index and constraint.
fn absorb_into_rebuilds(ops: &mut Vec<Operation>) {
    let rebuilt: Vec<String> = ops
        .iter()
        .filter_map(|o| match &o.change {
            Change::Rebuild { table } => Some(table.clone()),
            _ => None,
        })
        .collect();
    ops.retain(|o| {
        matches!(o.change, Change::Rebuild { .. })
            || !o
                .change
                .table()
                .is_some_and(|t| rebuilt.iter().any(|r| r == t))
    });
}

/// The identity of what a creation or removal is about, to pair them.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Subject {
    Object(ObjectKind, String),
    Column(String, String),
    Constraint(String, String),
}

fn created(change: &Change) -> Option<Subject> {
    match change {
        Change::Create { object } => Some(Subject::Object(object.kind, object.name.clone())),
        Change::AddColumn { table, column } => Some(Subject::Column(table.clone(), column.clone())),
        Change::AddConstraint {
            table,
            name: Some(name),
        } => Some(Subject::Constraint(table.clone(), name.clone())),
        _ => None,
    }
}

fn removed(change: &Change) -> Option<Subject> {
    match change {
        Change::Drop { object, .. } => Some(Subject::Object(object.kind, object.name.clone())),
        Change::DropColumn { table, column, .. } => {
            Some(Subject::Column(table.clone(), column.clone()))
        }
        Change::DropConstraint {
            table,
            name: Some(name),
            ..
        } => Some(Subject::Constraint(table.clone(), name.clone())),
        _ => None,
    }
}

fn same_ident(a: &Subject, b: &Subject) -> bool {
    match (a, b) {
        (Subject::Object(ka, na), Subject::Object(kb, nb)) => ka.compatible(*kb) && na == nb,
        _ => a == b,
    }
}

/// Whether `op` lives inside what `ident` names (an index on a dropped
/// table, a default of a dropped column).
fn inside(op: &Operation, ident: &Subject) -> bool {
    match ident {
        Subject::Object(ObjectKind::Table, table) => {
            op.change.table() == Some(table.as_str())
                && !matches!(&op.change, Change::Create { object } | Change::Drop { object, .. } if object.kind == ObjectKind::Table)
        }
        Subject::Column(table, column) => {
            op.change.table() == Some(table.as_str()) && op.change.column() == Some(column.as_str())
        }
        _ => false,
    }
}

fn cancel_and_replace(ops: &mut Vec<Operation>) {
    let mut i = 0;
    while i < ops.len() {
        let Some(gone) = removed(&ops[i].change) else {
            i += 1;
            continue;
        };
        let earlier = ops[..i]
            .iter()
            .rposition(|o| created(&o.change).is_some_and(|c| same_ident(&c, &gone)));
        if let Some(c) = earlier {
            // Created and dropped in the same file: neither needs reversing,
            // nor anything done to it in between.
            let mut keep = Vec::with_capacity(ops.len());
            for (j, op) in ops.drain(..).enumerate() {
                let between = j > c && j < i && inside(&op, &gone);
                if j != c && j != i && !between {
                    keep.push(op);
                }
            }
            *ops = keep;
            i = c;
            continue;
        }
        let later = ops[i + 1..]
            .iter()
            .position(|o| created(&o.change).is_some_and(|c| same_ident(&c, &gone)));
        let dropped_something = ops[i].existed || !ops[i].guarded;
        if let (Some(offset), true) = (later, dropped_something) {
            // Dropped and created again: a replacement.
            let dropped = ops.remove(i);
            let target = &mut ops[i + offset];
            target.replaces = true;
            if target.prior == Prior::Unknown {
                target.prior = dropped.prior;
            }
            continue;
        }
        i += 1;
    }
}

/// The attribute of a column a change sets, for changes that set one.
fn attribute(change: &Change) -> Option<(&str, &str, u8)> {
    let (table, column, which) = match change {
        Change::SetNotNull { table, column } | Change::DropNotNull { table, column } => {
            (table, column, 0)
        }
        Change::SetDefault { table, column, .. } | Change::DropDefault { table, column } => {
            (table, column, 1)
        }
        Change::SetType { table, column, .. } => (table, column, 2),
        _ => return None,
    };
    Some((table.as_str(), column.as_str(), which))
}

fn keep_first_attribute_change(ops: &mut Vec<Operation>) {
    let mut groups: BTreeMap<(String, String, u8), Vec<usize>> = BTreeMap::new();
    for (i, op) in ops.iter().enumerate() {
        if let Some((t, c, w)) = attribute(&op.change) {
            groups
                .entry((t.to_string(), c.to_string(), w))
                .or_default()
                .push(i);
        }
    }
    let mut gone = Vec::new();
    for indexes in groups.values() {
        let (Some(&first), Some(&last)) = (indexes.first(), indexes.last()) else {
            continue;
        };
        // The attribute ends as it started: nothing to reverse.
        let unchanged = match (&ops[first].prior, &ops[last].change) {
            (Prior::Column(c), Change::SetNotNull { .. }) => c.not_null,
            (Prior::Column(c), Change::DropNotNull { .. }) => !c.not_null,
            (Prior::Column(c), Change::SetDefault { value, .. }) => c
                .default
                .as_deref()
                .is_some_and(|d| normal_default(d) == normal_default(value)),
            (Prior::Column(c), Change::DropDefault { .. }) => c.default.is_none(),
            (Prior::Column(c), Change::SetType { data_type, .. }) => c
                .data_type
                .as_ref()
                .is_some_and(|t| normal_type(&t.to_string()) == normal_type(data_type)),
            _ => false,
        };
        for (n, &i) in indexes.iter().enumerate() {
            if unchanged || n > 0 {
                gone.push(i);
            }
        }
    }
    gone.sort_unstable();
    for i in gone.into_iter().rev() {
        ops.remove(i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::parse_file;

    fn ops(sql: &str) -> Vec<Change> {
        let file = parse_file(sql, Dialect::Postgres);
        up_operations(&file, &Catalog::new(), Dialect::Postgres)
            .into_iter()
            .map(|o| o.change)
            .collect()
    }

    #[test]
    fn extracts_the_common_changes() {
        let changes = ops(
            "CREATE TABLE users (id bigint PRIMARY KEY, org_id bigint REFERENCES orgs(id));\n\
             ALTER TABLE users ADD COLUMN email text, ALTER COLUMN id SET DEFAULT 1;\n\
             CREATE INDEX users_email ON users (email);\n\
             ALTER TABLE accounts RENAME COLUMN mail TO email;\n\
             ALTER TYPE mood ADD VALUE 'meh';\n\
             DROP INDEX CONCURRENTLY old_idx;\n\
             UPDATE users SET email = '';\n\
             DO $$ BEGIN PERFORM 1; END $$;",
        );
        assert_eq!(changes.len(), 7, "{changes:#?}");
        assert!(matches!(&changes[0], Change::Create { object } if object.name == "users"));
        assert_eq!(
            changes[1],
            Change::AddColumn {
                table: "users".into(),
                column: "email".into()
            }
        );
        assert!(
            matches!(&changes[3], Change::Create { object } if object.kind == ObjectKind::Index && object.table.as_deref() == Some("users"))
        );
        assert_eq!(
            changes[4],
            Change::Rename {
                target: RenameTarget::Column {
                    table: "accounts".into()
                },
                from: "mail".into(),
                to: "email".into()
            }
        );
        assert!(matches!(&changes[5], Change::AddEnumValue { value, .. } if value == "meh"));
        assert!(matches!(&changes[6], Change::Drop { object, .. } if object.name == "old_idx"));
    }

    #[test]
    fn foreign_keys_and_types_are_kept_as_refs() {
        let file = parse_file(
            "CREATE TABLE child (id int, parent_id int REFERENCES parent(id), mood mood[], \
             CONSTRAINT fk_other FOREIGN KEY (other_id) REFERENCES other(id))",
            Dialect::Postgres,
        );
        let op = &up_operations(&file, &Catalog::new(), Dialect::Postgres)[0];
        let targets: Vec<&str> = op
            .refs
            .foreign_keys
            .iter()
            .map(|f| f.target.as_str())
            .collect();
        assert_eq!(targets, ["parent", "other"]);
        assert_eq!(op.refs.foreign_keys[0].name, "child_parent_id_fkey");
        assert_eq!(
            op.refs.column_types,
            [("mood".to_string(), "mood".to_string())]
        );
    }

    #[test]
    fn rebuilds_fold_and_temporaries_cancel() {
        let changes = ops("CREATE TABLE new_users (id int);\n\
             INSERT INTO new_users SELECT id FROM users;\n\
             DROP TABLE users;\n\
             ALTER TABLE new_users RENAME TO users;\n\
             CREATE TABLE scratch (a int); CREATE INDEX scratch_a ON scratch (a); DROP TABLE scratch;");
        assert_eq!(
            changes,
            [Change::Rebuild {
                table: "users".into()
            }]
        );
    }

    #[test]
    fn drop_then_create_is_a_replacement() {
        let mut catalog = Catalog::new();
        for s in parse_file("CREATE VIEW v AS SELECT 1", Dialect::Postgres).statements {
            catalog.apply(&s, "1");
        }
        let file = parse_file(
            "DROP VIEW v; CREATE VIEW v AS SELECT 2; CREATE OR REPLACE VIEW v AS SELECT 3",
            Dialect::Postgres,
        );
        let ops = up_operations(&file, &catalog, Dialect::Postgres);
        assert_eq!(ops.len(), 2);
        assert!(ops.iter().all(|o| o.replaces));
    }

    #[test]
    fn first_attribute_change_keeps_the_prior_state() {
        let mut catalog = Catalog::new();
        for s in parse_file("CREATE TABLE t (a int DEFAULT 0)", Dialect::Postgres).statements {
            catalog.apply(&s, "1");
        }
        let file = parse_file(
            "ALTER TABLE t ALTER COLUMN a SET DEFAULT 1; ALTER TABLE t ALTER COLUMN a SET DEFAULT 2",
            Dialect::Postgres,
        );
        let ops = up_operations(&file, &catalog, Dialect::Postgres);
        assert_eq!(ops.len(), 1);
        match &ops[0].prior {
            Prior::Column(c) => assert_eq!(c.default.as_deref(), Some("0")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn renames_aside_fold() {
        // Rename aside, create anew, keep the copy: a rebuild plus a new table;
        // what the file does to the rebuilt table is part of the rebuild.
        let changes = ops("ALTER TABLE t DROP CONSTRAINT t_pkey;\n\
             ALTER TABLE t RENAME TO t_backup;\n\
             CREATE TABLE t (id int);\n\
             CREATE INDEX t_id ON t (id);\n\
             ALTER TABLE u RENAME TO u_old;\n\
             DROP TABLE u_old;");
        assert_eq!(changes.len(), 3, "{changes:#?}");
        assert_eq!(changes[0], Change::Rebuild { table: "t".into() });
        assert!(matches!(&changes[1], Change::Create { object } if object.name == "t_backup"));
        assert!(matches!(&changes[2], Change::Drop { object, .. } if object.name == "u"));
    }

    #[test]
    fn owned_sequences_belong_to_their_table() {
        let changes = ops(
            "CREATE SEQUENCE s START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1;\n\
             ALTER SEQUENCE s OWNED BY public.builds.id;",
        );
        assert!(matches!(&changes[0], Change::Create { object }
            if object.kind == ObjectKind::Sequence && object.table.as_deref() == Some("builds")));
    }

    #[test]
    fn attribute_changes_that_end_where_they_started_vanish() {
        let mut catalog = Catalog::new();
        for s in parse_file("CREATE TABLE t (a int, b int NOT NULL)", Dialect::Postgres).statements
        {
            catalog.apply(&s, "1");
        }
        let file = parse_file(
            "ALTER TABLE t ALTER COLUMN a SET DEFAULT 1; ALTER TABLE t ALTER COLUMN a DROP DEFAULT;\
             ALTER TABLE t ALTER COLUMN b SET NOT NULL; ALTER TABLE t ALTER COLUMN a TYPE integer",
            Dialect::Postgres,
        );
        assert!(up_operations(&file, &catalog, Dialect::Postgres).is_empty());
    }

    #[test]
    fn mysql_ignores_inline_references() {
        let sql = "CREATE TABLE c (id int, p int REFERENCES p (id))";
        for (dialect, n) in [(Dialect::Postgres, 1), (Dialect::Mysql, 0)] {
            let file = parse_file(sql, dialect);
            let op = &up_operations(&file, &Catalog::new(), dialect)[0];
            assert_eq!(op.refs.foreign_keys.len(), n, "{dialect}");
        }
    }

    #[test]
    fn no_ops_and_mentions() {
        let file = parse_file(
            "SELECT 1; BEGIN; COMMIT; SET search_path = app; SELECT count(*) FROM t; \
             DO $$ BEGIN ALTER TABLE t DROP COLUMN email_address; END $$",
            Dialect::Postgres,
        );
        let flags: Vec<bool> = file.statements.iter().map(is_no_op).collect();
        assert_eq!(flags, [true, true, true, true, false, false]);
        assert!(mentions(&file.statements[5], "email_address"));
        assert!(!mentions(&file.statements[5], "email"));
    }
}
