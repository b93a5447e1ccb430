//! Replaying statements into the catalog.
//!
//! Names the database would generate for unnamed indexes and constraints
//! follow PostgreSQL's conventions (`t_pkey`, `t_a_key`, `t_a_fkey`,
//! `t_a_check`, `t_a_idx`), except for MySQL-only syntax (`ADD INDEX (a)`),
//! which follows MySQL's (the first column's name).

use sqlparser::ast::{
    AlterColumnOperation, AlterIndexOperation, AlterTableOperation, ColumnDef, ColumnOption,
    CreateTable, CreateTableLikeDefaults, CreateTableLikeKind, DataType, Expr, IndexColumn,
    ObjectName, ObjectType, Query, RenameTableNameKind, SelectItem,
    SelectItemQualifiedWildcardKind, SetExpr, Statement as Ast, TableConstraint, TableFactor,
};
use sqlparser::tokenizer::{Token, TokenWithSpan};

use super::catalog::{Catalog, Column, Constraint, ConstraintKind, Index, Table};
use crate::sql::{Recognised, Statement, StatementKind, ident_key, object_key, unquote};

/// The bare name of a table key (`app.users` → `users`), for generated names.
fn bare(table: &str) -> &str {
    table.rsplit('.').next().unwrap_or(table)
}

/// PostgreSQL's generated name: `table_col1_col2_suffix`.
fn generated_name(table: &str, columns: &[String], suffix: &str) -> String {
    let mut parts = vec![bare(table).to_string()];
    parts.extend(columns.iter().cloned());
    parts.push(suffix.to_string());
    parts.join("_")
}

/// The catalog name of an index or constraint column: the column's key for a
/// plain column, the expression's text (lower-cased) otherwise.
fn column_of(expr: &Expr) -> String {
    match expr {
        Expr::Identifier(ident) => ident_key(ident),
        Expr::CompoundIdentifier(parts) => parts.last().map(ident_key).unwrap_or_default(),
        Expr::Nested(inner) => column_of(inner),
        other => other.to_string().to_lowercase(),
    }
}

fn index_columns(columns: &[IndexColumn]) -> Vec<String> {
    columns.iter().map(|c| column_of(&c.column.expr)).collect()
}

/// Whether an index or constraint column (a name or an expression's text)
/// refers to `column`.
fn mentions(entry: &str, column: &str) -> bool {
    entry == column
        || entry
            .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
            .any(|word| word == column)
}

fn column_from_def(def: &ColumnDef, version: &str) -> Column {
    let mut not_null = false;
    let mut default = None;
    for option in &def.options {
        match &option.option {
            ColumnOption::NotNull | ColumnOption::PrimaryKey(_) => not_null = true,
            ColumnOption::Null => not_null = false,
            ColumnOption::Default(expr) => default = Some(expr.to_string()),
            _ => {}
        }
    }
    Column {
        name: ident_key(&def.name),
        data_type: Some(def.data_type.clone()),
        not_null,
        default,
        created_by: version.to_string(),
    }
}

/// The constraints written on a column (`id int PRIMARY KEY`, `email text
/// UNIQUE`, `REFERENCES`, `CHECK`).
fn inline_constraints<'a>(
    table: &str,
    column: &str,
    options: impl IntoIterator<Item = (Option<&'a sqlparser::ast::Ident>, &'a ColumnOption)>,
    version: &str,
) -> Vec<Constraint> {
    let mut out = Vec::new();
    for (name, option) in options {
        let (kind, suffix, check) = match option {
            ColumnOption::PrimaryKey(_) => (ConstraintKind::PrimaryKey, "pkey", None),
            ColumnOption::Unique(_) => (ConstraintKind::Unique, "key", None),
            ColumnOption::ForeignKey(_) => (ConstraintKind::ForeignKey, "fkey", None),
            ColumnOption::Check(c) => (ConstraintKind::Check, "check", Some(c.expr.to_string())),
            _ => continue,
        };
        let columns = vec![column.to_string()];
        let name = match name {
            Some(n) => ident_key(n),
            None if kind == ConstraintKind::PrimaryKey => generated_name(table, &[], suffix),
            None => generated_name(table, &columns, suffix),
        };
        out.push(Constraint {
            name: Some(name),
            kind,
            columns,
            validated: true,
            check,
            created_by: version.to_string(),
        });
    }
    out
}

/// A table constraint as the catalog keeps it; `None` for MySQL's `INDEX`,
/// `KEY`, `FULLTEXT` and `SPATIAL` entries, which are indexes (see
/// [`index_from_constraint`]). `columns` are the table's column names, used to
/// name an unnamed CHECK as PostgreSQL does.
fn constraint_from(
    tc: &TableConstraint,
    table: &str,
    table_columns: &[String],
    validated: bool,
    version: &str,
) -> Option<Constraint> {
    let (name, kind, columns) = match tc {
        TableConstraint::PrimaryKey(c) => (
            c.name.as_ref().or(c.index_name.as_ref()),
            ConstraintKind::PrimaryKey,
            index_columns(&c.columns),
        ),
        TableConstraint::Unique(c) => (
            c.name.as_ref().or(c.index_name.as_ref()),
            ConstraintKind::Unique,
            index_columns(&c.columns),
        ),
        TableConstraint::ForeignKey(c) => (
            c.name.as_ref(),
            ConstraintKind::ForeignKey,
            c.columns.iter().map(ident_key).collect(),
        ),
        TableConstraint::Check(c) => (c.name.as_ref(), ConstraintKind::Check, Vec::new()),
        TableConstraint::Exclude(c) => (c.name.as_ref(), ConstraintKind::Exclude, Vec::new()),
        TableConstraint::PrimaryKeyUsingIndex(c) => {
            (c.name.as_ref(), ConstraintKind::PrimaryKey, Vec::new())
        }
        TableConstraint::UniqueUsingIndex(c) => {
            (c.name.as_ref(), ConstraintKind::Unique, Vec::new())
        }
        TableConstraint::Index(_) | TableConstraint::FulltextOrSpatial(_) => return None,
    };
    let check = match tc {
        TableConstraint::Check(c) => Some(c.expr.to_string()),
        _ => None,
    };
    let name = match name {
        Some(n) => ident_key(n),
        None => match kind {
            ConstraintKind::PrimaryKey => generated_name(table, &[], "pkey"),
            ConstraintKind::Unique => generated_name(table, &columns, "key"),
            ConstraintKind::ForeignKey => generated_name(table, &columns, "fkey"),
            ConstraintKind::Check => {
                // PostgreSQL names a CHECK after its column when it uses one.
                let text = check.as_deref().unwrap_or_default().to_lowercase();
                let used: Vec<String> = table_columns
                    .iter()
                    .filter(|c| mentions(&text, c))
                    .cloned()
                    .collect();
                if used.len() == 1 {
                    generated_name(table, &used, "check")
                } else {
                    generated_name(table, &[], "check")
                }
            }
            ConstraintKind::Exclude => generated_name(table, &[], "excl"),
            ConstraintKind::Other => return None,
        },
    };
    Some(Constraint {
        name: Some(name),
        kind,
        columns,
        validated,
        check,
        created_by: version.to_string(),
    })
}

/// MySQL `INDEX`/`KEY`/`FULLTEXT`/`SPATIAL` entries of a table, as indexes.
/// `taken` says whether a name is already used on the table (MySQL names an
/// unnamed index after its first column, then `col_2`, `col_3`…).
fn index_from_constraint(
    tc: &TableConstraint,
    table: &str,
    taken: impl Fn(&str) -> bool,
    version: &str,
) -> Option<Index> {
    let (name, columns) = match tc {
        TableConstraint::Index(c) => (c.name.as_ref(), index_columns(&c.columns)),
        TableConstraint::FulltextOrSpatial(c) => {
            (c.opt_index_name.as_ref(), index_columns(&c.columns))
        }
        _ => return None,
    };
    let name = match name {
        Some(n) => ident_key(n),
        None => {
            let first = columns.first().cloned().unwrap_or_else(|| "index".into());
            let mut name = first.clone();
            let mut n = 2;
            while taken(&name) {
                name = format!("{first}_{n}");
                n += 1;
            }
            name
        }
    };
    Some(Index {
        name,
        table: table.to_string(),
        columns,
        unique: false,
        created_by: version.to_string(),
    })
}

/// What `LIKE source` copies.
#[derive(Clone, Copy, Debug, Default)]
struct LikeOptions {
    defaults: bool,
    constraints: bool,
    indexes: bool,
    /// MySQL's `CREATE TABLE t LIKE s`: everything, names included.
    mysql: bool,
}

/// The leftmost `SELECT` of a query.
fn leftmost_select(body: &SetExpr) -> Option<&sqlparser::ast::Select> {
    match body {
        SetExpr::Select(select) => Some(select),
        SetExpr::Query(query) => leftmost_select(&query.body),
        SetExpr::SetOperation { left, .. } => leftmost_select(left),
        _ => None,
    }
}

impl Catalog {
    /// Applies one statement, as migration `version` runs it. Statements the
    /// catalog does not model change nothing.
    pub fn apply(&mut self, statement: &Statement, version: &str) {
        match &statement.kind {
            StatementKind::Parsed(ast) => self.apply_ast(ast, version),
            StatementKind::Recognised(recognised) => self.apply_recognised(recognised, version),
            StatementKind::Unknown { .. } => self.apply_unparsed(&statement.tokens, version),
        }
    }

    fn apply_recognised(&mut self, recognised: &Recognised, version: &str) {
        match recognised {
            Recognised::DropIndex { names, .. } => {
                for name in names {
                    self.indexes.remove(name);
                }
            }
            Recognised::CreateSequence { name } => {
                self.sequences.insert(name.clone(), version.to_string());
            }
            Recognised::CreateProcedure { name } => {
                self.functions.insert(name.clone(), version.to_string());
            }
            Recognised::AlterTableSetSchema { table, schema } => {
                if let Some(mut t) = self.tables.remove(table) {
                    let key = format!("{schema}.{}", bare(table));
                    t.name = key.clone();
                    for index in self.indexes.values_mut() {
                        if index.table == *table {
                            index.table = key.clone();
                        }
                    }
                    self.tables.insert(key, t);
                }
            }
            _ => {}
        }
    }

    fn apply_ast(&mut self, ast: &Ast, version: &str) {
        match ast {
            Ast::CreateTable(create) => self.create_table(create, version),
            Ast::AlterTable(alter) => {
                let mut key = object_key(&alter.name);
                for operation in &alter.operations {
                    if let Some(renamed) = self.apply_alter(&key, operation, version) {
                        key = renamed;
                    }
                }
            }
            Ast::RenameTable(renames) => {
                for rename in renames {
                    self.rename_table(&object_key(&rename.old_name), &rename.new_name);
                }
            }
            Ast::CreateIndex(index) => {
                let table = object_key(&index.table_name);
                let columns = index_columns(&index.columns);
                let name = match &index.name {
                    Some(name) => object_key(name),
                    None => {
                        let simple: Vec<String> = columns
                            .iter()
                            .map(|c| {
                                if c.chars().all(|ch| ch.is_alphanumeric() || ch == '_') {
                                    c.clone()
                                } else {
                                    "expr".to_string()
                                }
                            })
                            .collect();
                        let base = generated_name(&table, &simple, "idx");
                        let mut name = base.clone();
                        let mut n = 1;
                        while self.indexes.contains_key(&name) {
                            name = format!("{base}{n}");
                            n += 1;
                        }
                        name
                    }
                };
                if index.if_not_exists && self.indexes.contains_key(&name) {
                    return;
                }
                self.indexes.insert(
                    name.clone(),
                    Index {
                        name,
                        table,
                        columns,
                        unique: index.unique,
                        created_by: version.to_string(),
                    }
                    .into(),
                );
            }
            Ast::AlterIndex {
                name,
                operation: AlterIndexOperation::RenameIndex { index_name },
            } => {
                if let Some(mut index) = self.indexes.remove(&object_key(name)) {
                    index.name = object_key(index_name);
                    self.indexes.insert(index.name.clone(), index);
                }
            }
            Ast::CreateView(view) => {
                self.views
                    .entry(object_key(&view.name))
                    .or_insert_with(|| version.to_string());
            }
            Ast::CreateType { name, .. } => {
                self.types.insert(object_key(name), version.to_string());
            }
            Ast::CreateDomain(domain) => {
                self.types
                    .insert(object_key(&domain.name), version.to_string());
            }
            Ast::CreateSequence { name, .. } => {
                self.sequences.insert(object_key(name), version.to_string());
            }
            Ast::CreateFunction(function) => {
                self.functions
                    .entry(object_key(&function.name))
                    .or_insert_with(|| version.to_string());
            }
            Ast::CreateTrigger(trigger) => {
                self.triggers.insert(
                    object_key(&trigger.name),
                    (object_key(&trigger.table_name), version.to_string()),
                );
            }
            Ast::DropTrigger(drop) => {
                self.triggers.remove(&object_key(&drop.trigger_name));
            }
            Ast::DropFunction(drop) => {
                for f in &drop.func_desc {
                    self.functions.remove(&object_key(&f.name));
                }
            }
            Ast::Drop {
                object_type,
                names,
                table,
                ..
            } => {
                for name in names {
                    let key = object_key(name);
                    match object_type {
                        ObjectType::Table => {
                            self.tables.remove(&key);
                            self.indexes.retain(|_, i| i.table != key);
                            self.triggers.retain(|_, (t, _)| *t != key);
                        }
                        ObjectType::Index => match table {
                            // MySQL `DROP INDEX i ON t`: index names are per
                            // table, and a UNIQUE key is an index too.
                            Some(table) => self.drop_mysql_index(&object_key(table), &key),
                            None => {
                                self.indexes.remove(&key);
                            }
                        },
                        ObjectType::View | ObjectType::MaterializedView => {
                            self.views.remove(&key);
                        }
                        ObjectType::Type => {
                            self.types.remove(&key);
                        }
                        ObjectType::Sequence => {
                            self.sequences.remove(&key);
                        }
                        ObjectType::Schema => {
                            let prefix = format!("{key}.");
                            self.tables.retain(|k, _| !k.starts_with(&prefix));
                            self.indexes.retain(|_, i| !i.table.starts_with(&prefix));
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }

    fn create_table(&mut self, create: &CreateTable, version: &str) {
        let key = object_key(&create.name);
        if create.if_not_exists && self.tables.contains_key(&key) {
            return;
        }
        let mut table = Table {
            name: key.clone(),
            columns: Vec::new(),
            constraints: Vec::new(),
            created_by: version.to_string(),
        };
        match &create.like {
            Some(CreateTableLikeKind::Plain(like)) => {
                let options = LikeOptions {
                    defaults: true,
                    constraints: true,
                    indexes: false,
                    mysql: true,
                };
                self.copy_like(&mut table, &object_key(&like.name), options, version);
            }
            Some(CreateTableLikeKind::Parenthesized(like)) => {
                let options = LikeOptions {
                    defaults: like.defaults == Some(CreateTableLikeDefaults::Including),
                    ..LikeOptions::default()
                };
                self.copy_like(&mut table, &object_key(&like.name), options, version);
            }
            None => {}
        }
        for def in &create.columns {
            // sqlparser reads `(a int, LIKE src)` as a column named LIKE.
            if def.name.quote_style.is_none()
                && def.name.value.eq_ignore_ascii_case("like")
                && let DataType::Custom(source, _) = &def.data_type
            {
                let options = LikeOptions::default();
                self.copy_like(&mut table, &object_key(source), options, version);
                continue;
            }
            let column = column_from_def(def, version);
            let options = def.options.iter().map(|o| (o.name.as_ref(), &o.option));
            table
                .constraints
                .extend(inline_constraints(&key, &column.name, options, version));
            table.columns.retain(|c| c.name != column.name);
            table.columns.push(column);
        }
        if create.columns.is_empty()
            && create.like.is_none()
            && let Some(query) = &create.query
        {
            table.columns = self.query_columns(query, version);
        }
        let names: Vec<String> = table.columns.iter().map(|c| c.name.clone()).collect();
        for tc in &create.constraints {
            if let Some(c) = constraint_from(tc, &key, &names, true, version) {
                table.constraints.push(c);
            } else if let Some(index) =
                index_from_constraint(tc, &key, |n| self.index_on(&key, n).is_some(), version)
            {
                self.indexes.insert(index.name.clone(), index.into());
            }
        }
        self.tables.insert(key, table.into());
    }

    /// Copies the columns (and, as asked, defaults, constraints and indexes)
    /// of `source` into `table`, as `LIKE source` does.
    fn copy_like(&mut self, table: &mut Table, source: &str, options: LikeOptions, version: &str) {
        let Some(source_table) = self.tables.get(source) else {
            return;
        };
        for column in &source_table.columns {
            let mut column = column.clone();
            column.created_by = version.to_string();
            if !options.defaults {
                column.default = None;
            }
            table.columns.retain(|c| c.name != column.name);
            table.columns.push(column);
        }
        for constraint in &source_table.constraints {
            let keep = match constraint.kind {
                ConstraintKind::PrimaryKey | ConstraintKind::Unique | ConstraintKind::Exclude => {
                    options.indexes || options.mysql
                }
                ConstraintKind::Check => options.constraints,
                ConstraintKind::ForeignKey | ConstraintKind::Other => false,
            };
            if !keep {
                continue;
            }
            let mut constraint = constraint.clone();
            constraint.created_by = version.to_string();
            if !options.mysql && constraint.kind != ConstraintKind::Check {
                let suffix = match constraint.kind {
                    ConstraintKind::PrimaryKey => "pkey",
                    ConstraintKind::Exclude => "excl",
                    _ => "key",
                };
                let columns = if constraint.kind == ConstraintKind::PrimaryKey {
                    Vec::new()
                } else {
                    constraint.columns.clone()
                };
                constraint.name = Some(generated_name(&table.name, &columns, suffix));
            }
            table.constraints.push(constraint);
        }
        if options.indexes && !options.mysql {
            let copies: Vec<Index> = self
                .indexes
                .values()
                .filter(|i| i.table == source)
                .map(|i| {
                    let columns: Vec<String> = i
                        .columns
                        .iter()
                        .map(|c| {
                            if c.chars().all(|ch| ch.is_alphanumeric() || ch == '_') {
                                c.clone()
                            } else {
                                "expr".to_string()
                            }
                        })
                        .collect();
                    Index {
                        name: generated_name(&table.name, &columns, "idx"),
                        table: table.name.clone(),
                        columns: i.columns.clone(),
                        unique: i.unique,
                        created_by: version.to_string(),
                    }
                })
                .collect();
            for index in copies {
                self.indexes.insert(index.name.clone(), index.into());
            }
        }
    }

    /// The columns of `CREATE TABLE … AS SELECT`: their names, and their
    /// types where a cast or a known source column tells.
    fn query_columns(&self, query: &Query, version: &str) -> Vec<Column> {
        let Some(select) = leftmost_select(&query.body) else {
            return Vec::new();
        };
        // (alias or name, table key) of every table in FROM.
        let mut sources: Vec<(String, String)> = Vec::new();
        for from in &select.from {
            let factors =
                std::iter::once(&from.relation).chain(from.joins.iter().map(|j| &j.relation));
            for factor in factors {
                if let TableFactor::Table { name, alias, .. } = factor {
                    let key = object_key(name);
                    let label = alias
                        .as_ref()
                        .map(|a| ident_key(&a.name))
                        .unwrap_or_else(|| bare(&key).to_string());
                    sources.push((label, key));
                }
            }
        }
        let lookup = |qualifier: Option<&str>, column: &str| -> Option<DataType> {
            sources
                .iter()
                .filter(|(label, _)| qualifier.is_none_or(|q| q == label))
                .find_map(|(_, key)| self.column(key, column))
                .and_then(|c| c.data_type.clone())
        };
        let column = |name: String, data_type: Option<DataType>| Column {
            name,
            data_type,
            not_null: false,
            default: None,
            created_by: version.to_string(),
        };
        // The name and type PostgreSQL gives an unaliased expression.
        fn named(
            expr: &Expr,
            lookup: &dyn Fn(Option<&str>, &str) -> Option<DataType>,
        ) -> Option<(String, Option<DataType>)> {
            match expr {
                Expr::Identifier(i) => {
                    let name = ident_key(i);
                    let t = lookup(None, &name);
                    Some((name, t))
                }
                Expr::CompoundIdentifier(parts) if parts.len() >= 2 => {
                    let name = ident_key(&parts[parts.len() - 1]);
                    let qualifier = ident_key(&parts[parts.len() - 2]);
                    let t = lookup(Some(&qualifier), &name);
                    Some((name, t))
                }
                Expr::Nested(inner) => named(inner, lookup),
                Expr::Cast {
                    expr, data_type, ..
                } => {
                    let (name, _) = named(expr, lookup)?;
                    Some((name, Some(data_type.clone())))
                }
                Expr::Function(f) => Some((
                    f.name
                        .0
                        .last()
                        .and_then(|p| p.as_ident())
                        .map(ident_key)
                        .unwrap_or_default(),
                    None,
                )),
                _ => None,
            }
        }
        let mut columns: Vec<Column> = Vec::new();
        for item in &select.projection {
            match item {
                SelectItem::Wildcard(_) => {
                    for (_, key) in &sources {
                        if let Some(t) = self.table(key) {
                            columns.extend(
                                t.columns
                                    .iter()
                                    .map(|c| column(c.name.clone(), c.data_type.clone())),
                            );
                        }
                    }
                }
                SelectItem::QualifiedWildcard(
                    SelectItemQualifiedWildcardKind::ObjectName(q),
                    _,
                ) => {
                    let q = object_key(q);
                    let q = bare(&q);
                    for (label, key) in &sources {
                        if label == q
                            && let Some(t) = self.table(key)
                        {
                            columns.extend(
                                t.columns
                                    .iter()
                                    .map(|c| column(c.name.clone(), c.data_type.clone())),
                            );
                        }
                    }
                }
                SelectItem::UnnamedExpr(expr) => {
                    if let Some((name, t)) = named(expr, &lookup)
                        && !name.is_empty()
                    {
                        columns.push(column(name, t));
                    }
                }
                SelectItem::ExprWithAlias { expr, alias } => {
                    let t = match expr {
                        Expr::Cast { data_type, .. } => Some(data_type.clone()),
                        other => named(other, &lookup).and_then(|(_, t)| t),
                    };
                    columns.push(column(ident_key(alias), t));
                }
                _ => {}
            }
        }
        let mut seen = std::collections::HashSet::new();
        columns.retain(|c| seen.insert(c.name.clone()));
        columns
    }

    /// The index named `name` on `table`, if any.
    fn index_on(&self, table: &str, name: &str) -> Option<&Index> {
        self.indexes
            .get(name)
            .map(|i| &**i)
            .filter(|i| i.table == table)
    }

    /// MySQL `DROP INDEX name` on `table`: an index, or a UNIQUE/PRIMARY key.
    fn drop_mysql_index(&mut self, table: &str, name: &str) {
        if self.index_on(table, name).is_some() {
            self.indexes.remove(name);
        }
        if let Some(t) = self.tables.get_mut(table) {
            t.constraints.retain(|c| {
                !(c.name.as_deref() == Some(name)
                    && matches!(c.kind, ConstraintKind::Unique | ConstraintKind::PrimaryKey))
            });
        }
    }

    fn rename_table(&mut self, old: &str, new_name: &ObjectName) -> String {
        let new = object_key(new_name);
        if let Some(mut table) = self.tables.remove(old) {
            table.name = new.clone();
            self.tables.insert(new.clone(), table);
            for index in self.indexes.values_mut() {
                if index.table == old {
                    index.table = new.clone();
                }
            }
            for (table, _) in self.triggers.values_mut() {
                if table == old {
                    *table = new.clone();
                }
            }
        }
        new
    }

    /// Forgets the indexes and constraints that use a dropped column, as
    /// PostgreSQL does.
    fn forget_column(&mut self, table: &str, column: &str) {
        self.indexes
            .retain(|_, i| !(i.table == table && i.columns.iter().any(|c| mentions(c, column))));
        if let Some(t) = self.tables.get_mut(table) {
            t.constraints.retain(|constraint| {
                let uses = constraint.columns.iter().any(|c| mentions(c, column))
                    || constraint
                        .check
                        .as_deref()
                        .is_some_and(|e| mentions(&e.to_lowercase(), column));
                !uses
            });
        }
    }

    /// Follows a column rename in the indexes and constraints of its table.
    fn rename_column_uses(&mut self, table: &str, old: &str, new: &str) {
        if old == new {
            return;
        }
        for index in self.indexes.values_mut().filter(|i| i.table == table) {
            for c in &mut index.columns {
                if c == old {
                    *c = new.to_string();
                }
            }
        }
        if let Some(t) = self.tables.get_mut(table) {
            for constraint in &mut t.constraints {
                for c in &mut constraint.columns {
                    if c == old {
                        *c = new.to_string();
                    }
                }
            }
        }
    }

    /// Applies one operation of an `ALTER TABLE` on `key`; returns the new
    /// key when the operation renames the table.
    fn apply_alter(
        &mut self,
        key: &str,
        operation: &AlterTableOperation,
        version: &str,
    ) -> Option<String> {
        if let AlterTableOperation::RenameTable { table_name } = operation {
            let (RenameTableNameKind::As(new_name) | RenameTableNameKind::To(new_name)) =
                table_name;
            return Some(self.rename_table(key, new_name));
        }
        if !self.tables.contains_key(key) {
            return None;
        }
        match operation {
            AlterTableOperation::AddColumn {
                column_def,
                if_not_exists,
                ..
            } => {
                let column = column_from_def(column_def, version);
                let table = self.tables.get_mut(key)?;
                if *if_not_exists && table.column(&column.name).is_some() {
                    return None;
                }
                let options = column_def
                    .options
                    .iter()
                    .map(|o| (o.name.as_ref(), &o.option));
                table
                    .constraints
                    .extend(inline_constraints(key, &column.name, options, version));
                table.columns.retain(|c| c.name != column.name);
                table.columns.push(column);
            }
            AlterTableOperation::DropColumn { column_names, .. } => {
                let names: Vec<String> = column_names.iter().map(ident_key).collect();
                if let Some(table) = self.tables.get_mut(key) {
                    table.columns.retain(|c| !names.contains(&c.name));
                }
                for name in &names {
                    self.forget_column(key, name);
                }
            }
            AlterTableOperation::RenameColumn {
                old_column_name,
                new_column_name,
            } => {
                let (old, new) = (ident_key(old_column_name), ident_key(new_column_name));
                if let Some(column) = self.tables.get_mut(key)?.column_mut(&old) {
                    column.name = new.clone();
                }
                self.rename_column_uses(key, &old, &new);
            }
            AlterTableOperation::AlterColumn { column_name, op } => {
                let column = self
                    .tables
                    .get_mut(key)?
                    .column_mut(&ident_key(column_name))?;
                match op {
                    AlterColumnOperation::SetNotNull => column.not_null = true,
                    AlterColumnOperation::DropNotNull => column.not_null = false,
                    AlterColumnOperation::SetDefault { value } => {
                        column.default = Some(value.to_string())
                    }
                    AlterColumnOperation::DropDefault => column.default = None,
                    AlterColumnOperation::SetDataType { data_type, .. } => {
                        column.data_type = Some(data_type.clone())
                    }
                    _ => {}
                }
            }
            AlterTableOperation::ChangeColumn {
                old_name,
                new_name,
                data_type,
                options,
                ..
            } => {
                let (old, new) = (ident_key(old_name), ident_key(new_name));
                self.redefine_column(key, &old, &new, data_type, options, version);
                self.rename_column_uses(key, &old, &new);
            }
            AlterTableOperation::ModifyColumn {
                col_name,
                data_type,
                options,
                ..
            } => {
                let name = ident_key(col_name);
                self.redefine_column(key, &name, &name, data_type, options, version);
            }
            AlterTableOperation::AddConstraint {
                constraint,
                not_valid,
            } => {
                let names: Vec<String> = self.tables[key]
                    .columns
                    .iter()
                    .map(|c| c.name.clone())
                    .collect();
                if let Some(mut c) = constraint_from(constraint, key, &names, !not_valid, version) {
                    // `… USING INDEX i`: the index becomes the constraint's.
                    if let TableConstraint::PrimaryKeyUsingIndex(u)
                    | TableConstraint::UniqueUsingIndex(u) = constraint
                        && let Some(index) = self
                            .indexes
                            .remove(&ident_key(&u.index_name))
                            .map(super::Shared::into_inner)
                    {
                        c.columns = index.columns;
                        if c.name.is_none() {
                            c.name = Some(index.name);
                        }
                    }
                    if c.kind == ConstraintKind::PrimaryKey {
                        let columns = c.columns.clone();
                        for column in &mut self.tables.get_mut(key)?.columns {
                            if columns.contains(&column.name) {
                                column.not_null = true;
                            }
                        }
                    }
                    self.tables.get_mut(key)?.constraints.push(c);
                } else if let Some(index) = index_from_constraint(
                    constraint,
                    key,
                    |n| self.index_on(key, n).is_some(),
                    version,
                ) {
                    self.indexes.insert(index.name.clone(), index.into());
                }
            }
            AlterTableOperation::ValidateConstraint { name } => {
                let name = ident_key(name);
                for c in &mut self.tables.get_mut(key)?.constraints {
                    if c.name.as_deref() == Some(name.as_str()) {
                        c.validated = true;
                    }
                }
            }
            AlterTableOperation::DropConstraint { name, .. }
            | AlterTableOperation::DropForeignKey { name, .. } => {
                let name = ident_key(name);
                self.tables
                    .get_mut(key)?
                    .constraints
                    .retain(|c| c.name.as_deref() != Some(name.as_str()));
            }
            AlterTableOperation::DropPrimaryKey { .. } => {
                self.tables
                    .get_mut(key)?
                    .constraints
                    .retain(|c| c.kind != ConstraintKind::PrimaryKey);
            }
            AlterTableOperation::DropIndex { name } => {
                self.drop_mysql_index(key, &ident_key(name));
            }
            AlterTableOperation::RenameConstraint { old_name, new_name } => {
                let old = ident_key(old_name);
                for c in &mut self.tables.get_mut(key)?.constraints {
                    if c.name.as_deref() == Some(old.as_str()) {
                        c.name = Some(ident_key(new_name));
                    }
                }
            }
            _ => {}
        }
        None
    }

    /// MySQL `CHANGE`/`MODIFY`: the column gets a whole new definition.
    fn redefine_column(
        &mut self,
        key: &str,
        old: &str,
        new: &str,
        data_type: &DataType,
        options: &[ColumnOption],
        version: &str,
    ) {
        let Some(table) = self.tables.get_mut(key) else {
            return;
        };
        let Some(column) = table.column_mut(old) else {
            return;
        };
        column.name = new.to_string();
        column.data_type = Some(data_type.clone());
        column.not_null = options
            .iter()
            .any(|o| matches!(o, ColumnOption::NotNull | ColumnOption::PrimaryKey(_)));
        column.default = options.iter().find_map(|o| match o {
            ColumnOption::Default(expr) => Some(expr.to_string()),
            _ => None,
        });
        let added = inline_constraints(key, new, options.iter().map(|o| (None, o)), version);
        for c in added {
            let exists = table
                .constraints
                .iter()
                .any(|e| e.kind == c.kind && e.columns == c.columns);
            if !exists && c.kind != ConstraintKind::Check {
                table.constraints.push(c);
            }
        }
    }

    /// Statements sqlparser cannot parse, read from their tokens:
    /// PostgreSQL's `CREATE TABLE t (LIKE s INCLUDING ALL, …)`.
    fn apply_unparsed(&mut self, tokens: &[TokenWithSpan], version: &str) {
        let word = |i: usize| -> Option<String> {
            match tokens.get(i).map(|t| &t.token) {
                Some(Token::Word(w)) if w.quote_style.is_none() => {
                    Some(w.value.to_ascii_uppercase())
                }
                _ => None,
            }
        };
        if word(0).as_deref() != Some("CREATE") {
            return;
        }
        let mut i = 1;
        while matches!(
            word(i).as_deref(),
            Some("GLOBAL" | "LOCAL" | "TEMP" | "TEMPORARY" | "UNLOGGED")
        ) {
            i += 1;
        }
        if word(i).as_deref() != Some("TABLE") {
            return;
        }
        i += 1;
        let if_not_exists = word(i).as_deref() == Some("IF");
        if if_not_exists {
            i += 3;
        }
        let (name, next) = name_at(tokens, i);
        let Some(key) = name else {
            return;
        };
        if !matches!(tokens.get(next).map(|t| &t.token), Some(Token::LParen)) {
            return;
        }
        // Split the parenthesised list into its top-level elements.
        let mut elements: Vec<&[TokenWithSpan]> = Vec::new();
        let (mut depth, mut start) = (0usize, next + 1);
        for (j, t) in tokens.iter().enumerate().skip(next) {
            match t.token {
                Token::LParen => depth += 1,
                Token::RParen => {
                    depth -= 1;
                    if depth == 0 {
                        elements.push(&tokens[start..j]);
                        break;
                    }
                }
                Token::Comma if depth == 1 => {
                    elements.push(&tokens[start..j]);
                    start = j + 1;
                }
                _ => {}
            }
        }
        let is_like = |e: &[TokenWithSpan]| matches!(e.first().map(|t| &t.token), Some(Token::Word(w)) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case("like"));
        if !elements.iter().any(|e| is_like(e)) {
            return;
        }
        if if_not_exists && self.tables.contains_key(&key) {
            return;
        }
        // Parse the other elements on their own, rebuilt from the tokens.
        let rest: Vec<String> = elements
            .iter()
            .filter(|e| !is_like(e))
            .map(|e| {
                e.iter()
                    .map(|t| t.token.to_string())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        let parsed = if rest.is_empty() {
            None
        } else {
            let sql = format!("CREATE TABLE straddle_like_rest ({})", rest.join(", "));
            sqlparser::parser::Parser::parse_sql(&sqlparser::dialect::PostgreSqlDialect {}, &sql)
                .ok()
                .and_then(|mut s| s.pop())
        };
        let mut table = Table {
            name: key.clone(),
            columns: Vec::new(),
            constraints: Vec::new(),
            created_by: version.to_string(),
        };
        for element in elements.iter().filter(|e| is_like(e)) {
            let (source, mut k) = name_at(element, 1);
            let Some(source) = source else {
                continue;
            };
            let mut options = LikeOptions::default();
            while k + 1 < element.len() {
                let on = match &element[k].token {
                    Token::Word(w) if w.value.eq_ignore_ascii_case("including") => true,
                    Token::Word(w) if w.value.eq_ignore_ascii_case("excluding") => false,
                    _ => break,
                };
                let what = element[k + 1].token.to_string().to_ascii_uppercase();
                match what.as_str() {
                    "ALL" => {
                        options.defaults = on;
                        options.constraints = on;
                        options.indexes = on;
                    }
                    "DEFAULTS" => options.defaults = on,
                    "CONSTRAINTS" => options.constraints = on,
                    "INDEXES" => options.indexes = on,
                    _ => {}
                }
                k += 2;
            }
            self.copy_like(&mut table, &source, options, version);
        }
        if let Some(Ast::CreateTable(mut create)) = parsed {
            const TEMP: &str = "straddle_like_rest";
            let saved = self.tables.remove(TEMP);
            create.name = ObjectName::from(vec![sqlparser::ast::Ident::new(TEMP)]);
            self.create_table(&create, version);
            if let Some(rest) = self.tables.remove(TEMP) {
                let rest = rest.into_inner();
                for column in rest.columns {
                    table.columns.retain(|c| c.name != column.name);
                    table.columns.push(column);
                }
                for mut constraint in rest.constraints {
                    if let Some(name) = &constraint.name
                        && let Some(tail) = name.strip_prefix(TEMP)
                    {
                        constraint.name = Some(format!("{}{tail}", bare(&key)));
                    }
                    table.constraints.push(constraint);
                }
            }
            if let Some(saved) = saved {
                self.tables.insert(TEMP.to_string(), saved);
            }
        }
        self.tables.insert(key, table.into());
    }
}

/// A possibly qualified name at `i` of `tokens` as a catalog key, and the
/// index just after it.
fn name_at(tokens: &[TokenWithSpan], mut i: usize) -> (Option<String>, usize) {
    let mut parts = Vec::new();
    while let Some(Token::Word(_)) = tokens.get(i).map(|t| &t.token) {
        parts.push(unquote(&tokens[i].token.to_string()));
        i += 1;
        if matches!(tokens.get(i).map(|t| &t.token), Some(Token::Period)) {
            i += 1;
        } else {
            break;
        }
    }
    if parts.len() > 1 && (parts[0] == "public" || parts[0] == "main") {
        parts.remove(0);
    }
    ((!parts.is_empty()).then(|| parts.join(".")), i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Dialect;
    use crate::sql::parse_file;

    fn replay_in(dialect: Dialect, catalog: &mut Catalog, sql: &str, version: &str) {
        for statement in parse_file(sql, dialect).statements {
            catalog.apply(&statement, version);
        }
    }

    fn replay(catalog: &mut Catalog, sql: &str, version: &str) {
        replay_in(Dialect::Postgres, catalog, sql, version);
    }

    fn columns(catalog: &Catalog, table: &str) -> Vec<String> {
        catalog
            .table(table)
            .unwrap_or_else(|| panic!("no table {table}: {:?}", catalog.tables.keys()))
            .columns
            .iter()
            .map(|c| c.name.clone())
            .collect()
    }

    fn type_of(catalog: &Catalog, table: &str, column: &str) -> String {
        catalog
            .column(table, column)
            .and_then(|c| c.data_type.as_ref())
            .map(|t| t.to_string())
            .unwrap_or_default()
    }

    fn constraint_names(catalog: &Catalog, table: &str) -> Vec<String> {
        catalog.tables[table]
            .constraints
            .iter()
            .filter_map(|c| c.name.clone())
            .collect()
    }

    #[test]
    fn tracks_tables_columns_and_origin() {
        let mut c = Catalog::new();
        replay(
            &mut c,
            "CREATE TABLE users (id bigint PRIMARY KEY, email varchar(100) NOT NULL);\
             CREATE INDEX users_email ON users (email);",
            "1",
        );
        replay(
            &mut c,
            "ALTER TABLE users ADD COLUMN name text; ALTER TABLE users RENAME COLUMN email TO mail;\
             ALTER TABLE users RENAME TO people;",
            "2",
        );
        let people = c.table("people").expect("renamed table");
        assert_eq!(people.created_by, "1");
        assert!(people.column("mail").unwrap().not_null);
        assert_eq!(people.column("name").unwrap().created_by, "2");
        assert_eq!(c.index_table("users_email"), Some("people"));
        assert_eq!(c.indexes["users_email"].columns, vec!["mail"]);
        assert!(c.existed_before("people", "2"));
        assert!(!c.existed_before("people", "1"));
        assert!(c.existed_before("never_seen", "2"));
        replay(&mut c, "DROP TABLE people", "3");
        assert!(c.table("people").is_none());
        assert!(c.indexes.is_empty());
    }

    #[test]
    fn create_table_like() {
        let mut c = Catalog::new();
        replay(
            &mut c,
            "CREATE TABLE src (id bigint PRIMARY KEY, name text NOT NULL DEFAULT 'x', CHECK (length(name) > 0));\
             CREATE INDEX src_name_idx ON src (name);\
             CREATE TABLE plain (LIKE src);\
             CREATE TABLE all_of_it (LIKE src INCLUDING ALL, extra int NOT NULL, UNIQUE (extra));\
             CREATE TABLE first_extra (extra int, LIKE src);",
            "1",
        );
        assert_eq!(columns(&c, "plain"), vec!["id", "name"]);
        assert!(c.column("plain", "name").unwrap().not_null);
        assert_eq!(c.column("plain", "name").unwrap().default, None);
        assert!(c.tables["plain"].constraints.is_empty());
        assert_eq!(columns(&c, "all_of_it"), vec!["id", "name", "extra"]);
        assert_eq!(type_of(&c, "all_of_it", "extra"), "INT");
        assert_eq!(
            c.column("all_of_it", "name").unwrap().default.as_deref(),
            Some("'x'")
        );
        let names = constraint_names(&c, "all_of_it");
        for expected in ["all_of_it_pkey", "src_name_check", "all_of_it_extra_key"] {
            assert!(names.contains(&expected.to_string()), "{names:?}");
        }
        assert_eq!(c.index_table("all_of_it_name_idx"), Some("all_of_it"));
        assert_eq!(columns(&c, "first_extra"), vec!["extra", "id", "name"]);

        let mut m = Catalog::new();
        replay_in(
            Dialect::Mysql,
            &mut m,
            "CREATE TABLE src (id INT NOT NULL AUTO_INCREMENT, email VARCHAR(100) DEFAULT '', PRIMARY KEY (id), UNIQUE KEY uk_email (email));\
             CREATE TABLE copy LIKE src;",
            "1",
        );
        assert_eq!(columns(&m, "copy"), vec!["id", "email"]);
        assert_eq!(constraint_names(&m, "copy"), vec!["src_pkey", "uk_email"]);
        assert_eq!(
            m.column("copy", "email").unwrap().default.as_deref(),
            Some("''")
        );
    }

    #[test]
    fn create_table_as_select() {
        let mut c = Catalog::new();
        replay(
            &mut c,
            "CREATE TABLE users (id bigint PRIMARY KEY, email varchar(100), created_at timestamptz);\
             CREATE TABLE snapshot AS SELECT u.id, email AS address, created_at::date AS day, count(*) FROM users u;\
             CREATE TABLE everything AS SELECT * FROM users WITH NO DATA;",
            "1",
        );
        assert_eq!(
            columns(&c, "snapshot"),
            vec!["id", "address", "day", "count"]
        );
        assert_eq!(type_of(&c, "snapshot", "id"), "BIGINT");
        assert_eq!(type_of(&c, "snapshot", "address"), "VARCHAR(100)");
        assert_eq!(type_of(&c, "snapshot", "day"), "DATE");
        assert!(c.column("snapshot", "count").unwrap().data_type.is_none());
        assert!(!c.column("snapshot", "id").unwrap().not_null);
        assert_eq!(columns(&c, "everything"), vec!["id", "email", "created_at"]);
    }

    #[test]
    fn alter_table_with_several_operations() {
        let mut c = Catalog::new();
        replay(
            &mut c,
            "CREATE TABLE t (a int, b text, c text);\
             CREATE INDEX t_b ON t (b);\
             CREATE INDEX t_lower_c ON t (lower(c));\
             ALTER TABLE t ADD COLUMN d int NOT NULL DEFAULT 0, DROP COLUMN b, \
                 ALTER COLUMN a SET NOT NULL, ALTER COLUMN a TYPE bigint, ADD CONSTRAINT t_d_pos CHECK (d >= 0) NOT VALID;",
            "1",
        );
        assert_eq!(columns(&c, "t"), vec!["a", "c", "d"]);
        assert!(c.column("t", "a").unwrap().not_null);
        assert_eq!(type_of(&c, "t", "a"), "BIGINT");
        assert!(
            c.index_table("t_b").is_none(),
            "index on the dropped column"
        );
        assert!(c.index_table("t_lower_c").is_some());
        let check = &c.tables["t"].constraints[0];
        assert_eq!(check.name.as_deref(), Some("t_d_pos"));
        assert!(!check.validated);
        replay(
            &mut c,
            "ALTER TABLE t VALIDATE CONSTRAINT t_d_pos; ALTER TABLE t DROP COLUMN c, DROP COLUMN d",
            "2",
        );
        assert!(
            c.index_table("t_lower_c").is_none(),
            "expression index on c"
        );
        assert!(c.tables["t"].constraints.is_empty(), "the CHECK used d");

        let mut m = Catalog::new();
        replay_in(
            Dialect::Mysql,
            &mut m,
            "CREATE TABLE t (a INT);\
             ALTER TABLE t RENAME TO u, ADD COLUMN z INT, ALGORITHM=INPLACE;",
            "1",
        );
        assert!(m.table("t").is_none());
        assert_eq!(columns(&m, "u"), vec!["a", "z"]);
    }

    #[test]
    fn inline_column_constraints() {
        let mut c = Catalog::new();
        replay(
            &mut c,
            "CREATE TABLE users (id serial PRIMARY KEY, email text UNIQUE, org int REFERENCES orgs(id), \
                 age int CONSTRAINT adult CHECK (age >= 18));\
             ALTER TABLE users ADD COLUMN handle text UNIQUE;",
            "1",
        );
        assert_eq!(
            constraint_names(&c, "users"),
            vec![
                "users_pkey",
                "users_email_key",
                "users_org_fkey",
                "adult",
                "users_handle_key"
            ]
        );
        let pk = &c.tables["users"].constraints[0];
        assert_eq!(
            (pk.kind, pk.columns.clone()),
            (ConstraintKind::PrimaryKey, vec!["id".to_string()])
        );
        assert!(c.column("users", "id").unwrap().not_null);
        replay(
            &mut c,
            "ALTER TABLE users DROP CONSTRAINT users_email_key; ALTER TABLE users RENAME COLUMN handle TO nick",
            "2",
        );
        assert!(!constraint_names(&c, "users").contains(&"users_email_key".to_string()));
        assert_eq!(c.tables["users"].constraints[3].columns, vec!["nick"]);
    }

    #[test]
    fn mysql_change_modify_and_indexes() {
        let mut m = Catalog::new();
        replay_in(
            Dialect::Mysql,
            &mut m,
            "CREATE TABLE users (\
                 id INT NOT NULL AUTO_INCREMENT, name VARCHAR(50) NOT NULL, age INT, \
                 PRIMARY KEY (id), KEY idx_name (name), KEY (age), UNIQUE KEY uk_name (name));\
             ALTER TABLE users ADD INDEX (age, id), ADD KEY k_both (name, age), ADD FULLTEXT INDEX ft_name (name);",
            "1",
        );
        assert_eq!(m.index_table("idx_name"), Some("users"));
        assert_eq!(m.indexes["age"].columns, vec!["age"]);
        assert_eq!(m.indexes["age_2"].columns, vec!["age", "id"]);
        assert_eq!(m.indexes["k_both"].columns, vec!["name", "age"]);
        assert_eq!(m.index_table("ft_name"), Some("users"));
        assert!(constraint_names(&m, "users").contains(&"uk_name".to_string()));

        replay_in(
            Dialect::Mysql,
            &mut m,
            "ALTER TABLE users CHANGE name full_name VARCHAR(100) NULL DEFAULT 'anon';\
             ALTER TABLE users MODIFY COLUMN age BIGINT NOT NULL AFTER id;",
            "2",
        );
        let full_name = m.column("users", "full_name").expect("renamed by CHANGE");
        assert_eq!(type_of(&m, "users", "full_name"), "VARCHAR(100)");
        assert!(!full_name.not_null);
        assert_eq!(full_name.default.as_deref(), Some("'anon'"));
        assert!(m.column("users", "name").is_none());
        assert_eq!(m.indexes["idx_name"].columns, vec!["full_name"]);
        assert_eq!(type_of(&m, "users", "age"), "BIGINT");
        assert!(m.column("users", "age").unwrap().not_null);

        replay_in(
            Dialect::Mysql,
            &mut m,
            "DROP INDEX idx_name ON users; ALTER TABLE users DROP INDEX uk_name, DROP INDEX k_both;\
             DROP INDEX ft_name ON other_table; ALTER TABLE users DROP PRIMARY KEY;",
            "3",
        );
        assert!(m.index_table("idx_name").is_none());
        assert!(m.index_table("k_both").is_none());
        assert_eq!(
            m.index_table("ft_name"),
            Some("users"),
            "other table's index"
        );
        assert!(m.tables["users"].constraints.is_empty());
    }

    #[test]
    fn sqlite_rename_column() {
        let mut s = Catalog::new();
        replay_in(
            Dialect::Sqlite,
            &mut s,
            "CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL);\
             CREATE INDEX notes_body ON notes (body);\
             ALTER TABLE notes RENAME COLUMN body TO content;",
            "1",
        );
        assert_eq!(columns(&s, "notes"), vec!["id", "content"]);
        assert!(s.column("notes", "content").unwrap().not_null);
        assert_eq!(s.indexes["notes_body"].columns, vec!["content"]);
    }

    #[test]
    fn unnamed_indexes_get_postgres_names() {
        let mut c = Catalog::new();
        replay(
            &mut c,
            "CREATE TABLE t (a int, b int); CREATE INDEX ON t (a, b); CREATE INDEX ON t (a, b);\
             ALTER INDEX t_a_b_idx RENAME TO t_ab",
            "1",
        );
        assert_eq!(c.index_table("t_ab"), Some("t"));
        assert_eq!(c.index_table("t_a_b_idx1"), Some("t"));
    }

    /// Replays the whole crates.io history (PostgreSQL, diesel folders).
    #[test]
    fn replays_the_crates_io_history() {
        let dir = std::path::Path::new("/work/shared/corpora/rust-lang__crates.io/migrations");
        if !dir.is_dir() {
            assert!(
                std::env::var_os("CI").is_none(),
                "{} is missing (required when CI is set)",
                dir.display()
            );
            eprintln!("skipped: {} does not exist", dir.display());
            return;
        }
        let set = crate::source::discover(dir).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            set.migrations.len() > 200,
            "{} migrations",
            set.migrations.len()
        );
        // diesel orders `2017-09-23-210614` and `20170820180453` by their
        // digits, dashes removed.
        let mut migrations: Vec<_> = set.migrations.iter().collect();
        migrations.sort_by_key(|m| {
            let digits: String = m
                .version
                .as_str()
                .chars()
                .filter(char::is_ascii_digit)
                .collect();
            (digits.len(), digits)
        });
        let mut c = Catalog::new();
        for migration in migrations {
            replay(&mut c, &migration.up.text, migration.version.as_str());
        }
        assert!(
            c.table("readme_rendering").is_none(),
            "dropped by 2017-09-23-210614, after its creation in 20170820180453"
        );
        for (table, expected) in [
            (
                "crates",
                &["id", "name", "updated_at", "created_at", "description"][..],
            ),
            (
                "versions",
                &["id", "crate_id", "num", "yanked", "created_at"][..],
            ),
            ("users", &["id", "gh_login"][..]),
            ("dependencies", &["id", "version_id", "crate_id"][..]),
        ] {
            let have = columns(&c, table);
            for column in expected {
                assert!(
                    have.contains(&column.to_string()),
                    "{table}.{column} in {have:?}"
                );
            }
        }
        assert!(c.tables.len() > 20, "{:?}", c.tables.keys());
        assert!(
            c.tables["crates"]
                .constraints
                .iter()
                .any(|k| k.kind == ConstraintKind::PrimaryKey),
            "crates has a primary key"
        );
    }
}
