//! Replaying statements into the catalog.

use sqlparser::ast::{
    AlterColumnOperation, AlterTableOperation, ColumnDef, ColumnOption, ObjectName, ObjectType,
    RenameTableNameKind, Statement as Ast, TableConstraint,
};

use super::catalog::{Catalog, Column, Constraint, ConstraintKind, Index, Table};
use crate::sql::{Recognised, Statement, StatementKind, ident_key, object_key};

fn column_from_def(def: &ColumnDef, version: &str) -> Column {
    let mut not_null = false;
    let mut default = None;
    for option in &def.options {
        match &option.option {
            ColumnOption::NotNull | ColumnOption::PrimaryKey(_) => not_null = true,
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

fn constraint_from(tc: &TableConstraint, validated: bool, version: &str) -> Constraint {
    let (name, kind, columns) = match tc {
        TableConstraint::PrimaryKey(c) => (
            c.name.as_ref(),
            ConstraintKind::PrimaryKey,
            c.columns
                .iter()
                .map(|c| c.column.expr.to_string())
                .collect(),
        ),
        TableConstraint::Unique(c) => (
            c.name.as_ref(),
            ConstraintKind::Unique,
            c.columns
                .iter()
                .map(|c| c.column.expr.to_string())
                .collect(),
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
        _ => (None, ConstraintKind::Other, Vec::new()),
    };
    Constraint {
        name: name.map(ident_key),
        kind,
        columns: columns.into_iter().map(|c| c.to_lowercase()).collect(),
        validated,
        created_by: version.to_string(),
    }
}

impl Catalog {
    /// Applies one statement, as migration `version` runs it. Statements the
    /// catalog does not model change nothing.
    pub fn apply(&mut self, statement: &Statement, version: &str) {
        match &statement.kind {
            StatementKind::Parsed(ast) => self.apply_ast(ast, version),
            StatementKind::Recognised(recognised) => self.apply_recognised(recognised, version),
            StatementKind::Unknown { .. } => {}
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
                    let key = format!("{schema}.{}", table.rsplit('.').next().unwrap_or(table));
                    t.name = key.clone();
                    self.tables.insert(key, t);
                }
            }
            _ => {}
        }
    }

    fn apply_ast(&mut self, ast: &Ast, version: &str) {
        match ast {
            Ast::CreateTable(create) => {
                let key = object_key(&create.name);
                if create.if_not_exists && self.tables.contains_key(&key) {
                    return;
                }
                let mut table = Table {
                    name: key.clone(),
                    columns: create
                        .columns
                        .iter()
                        .map(|c| column_from_def(c, version))
                        .collect(),
                    constraints: create
                        .constraints
                        .iter()
                        .map(|c| constraint_from(c, true, version))
                        .collect(),
                    created_by: version.to_string(),
                };
                if let Some(like) = &create.like {
                    let source = match like {
                        sqlparser::ast::CreateTableLikeKind::Parenthesized(l)
                        | sqlparser::ast::CreateTableLikeKind::Plain(l) => object_key(&l.name),
                    };
                    if let Some(source) = self.tables.get(&source) {
                        table.columns = source.columns.clone();
                        for column in &mut table.columns {
                            column.created_by = version.to_string();
                        }
                    }
                }
                self.tables.insert(key, table);
            }
            Ast::AlterTable(alter) => {
                let key = object_key(&alter.name);
                for operation in &alter.operations {
                    self.apply_alter(&key, operation, version);
                }
            }
            Ast::RenameTable(renames) => {
                for rename in renames {
                    self.rename_table(&object_key(&rename.old_name), &rename.new_name);
                }
            }
            Ast::CreateIndex(index) => {
                let table = object_key(&index.table_name);
                let name = index
                    .name
                    .as_ref()
                    .map(object_key)
                    .unwrap_or_else(|| format!("{table}_idx"));
                if index.if_not_exists && self.indexes.contains_key(&name) {
                    return;
                }
                self.indexes.insert(
                    name.clone(),
                    Index {
                        name,
                        table,
                        columns: index
                            .columns
                            .iter()
                            .map(|c| c.column.expr.to_string().to_lowercase())
                            .collect(),
                        unique: index.unique,
                        created_by: version.to_string(),
                    },
                );
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
                        ObjectType::Index => {
                            self.indexes.remove(&key);
                            // MySQL `DROP INDEX i ON t`: index names are per table.
                            if let Some(table) = table {
                                let table = object_key(table);
                                self.indexes.retain(|n, i| !(n == &key && i.table == table));
                            }
                        }
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
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }

    fn rename_table(&mut self, old: &str, new_name: &ObjectName) {
        let new = object_key(new_name);
        if let Some(mut table) = self.tables.remove(old) {
            table.name = new.clone();
            self.tables.insert(new.clone(), table);
            for index in self.indexes.values_mut() {
                if index.table == old {
                    index.table = new.clone();
                }
            }
        }
    }

    fn apply_alter(&mut self, key: &str, operation: &AlterTableOperation, version: &str) {
        if let AlterTableOperation::RenameTable { table_name } = operation {
            let new_name = match table_name {
                RenameTableNameKind::As(n) | RenameTableNameKind::To(n) => n,
            };
            self.rename_table(key, new_name);
            return;
        }
        let Some(table) = self.tables.get_mut(key) else {
            return;
        };
        match operation {
            AlterTableOperation::AddColumn {
                column_def,
                if_not_exists,
                ..
            } => {
                let column = column_from_def(column_def, version);
                if *if_not_exists && table.column(&column.name).is_some() {
                    return;
                }
                table.columns.push(column);
            }
            AlterTableOperation::DropColumn { column_names, .. } => {
                let names: Vec<String> = column_names.iter().map(ident_key).collect();
                table.columns.retain(|c| !names.contains(&c.name));
            }
            AlterTableOperation::RenameColumn {
                old_column_name,
                new_column_name,
            } => {
                if let Some(column) = table.column_mut(&ident_key(old_column_name)) {
                    column.name = ident_key(new_column_name);
                }
            }
            AlterTableOperation::AlterColumn { column_name, op } => {
                let Some(column) = table.column_mut(&ident_key(column_name)) else {
                    return;
                };
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
                if let Some(column) = table.column_mut(&ident_key(old_name)) {
                    column.name = ident_key(new_name);
                    column.data_type = Some(data_type.clone());
                    column.not_null = options.iter().any(|o| matches!(o, ColumnOption::NotNull));
                }
            }
            AlterTableOperation::ModifyColumn {
                col_name,
                data_type,
                options,
                ..
            } => {
                if let Some(column) = table.column_mut(&ident_key(col_name)) {
                    column.data_type = Some(data_type.clone());
                    column.not_null = options.iter().any(|o| matches!(o, ColumnOption::NotNull));
                }
            }
            AlterTableOperation::AddConstraint {
                constraint,
                not_valid,
            } => table
                .constraints
                .push(constraint_from(constraint, !not_valid, version)),
            AlterTableOperation::ValidateConstraint { name } => {
                let name = ident_key(name);
                for c in &mut table.constraints {
                    if c.name.as_deref() == Some(name.as_str()) {
                        c.validated = true;
                    }
                }
            }
            AlterTableOperation::DropConstraint { name, .. } => {
                let name = ident_key(name);
                table
                    .constraints
                    .retain(|c| c.name.as_deref() != Some(name.as_str()));
            }
            AlterTableOperation::RenameConstraint { old_name, new_name } => {
                let old = ident_key(old_name);
                for c in &mut table.constraints {
                    if c.name.as_deref() == Some(old.as_str()) {
                        c.name = Some(ident_key(new_name));
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Dialect;
    use crate::sql::parse_file;

    fn replay(catalog: &mut Catalog, sql: &str, version: &str) {
        for statement in parse_file(sql, Dialect::Postgres).statements {
            catalog.apply(&statement, version);
        }
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
        assert!(c.existed_before("people", "2"));
        assert!(!c.existed_before("people", "1"));
        assert!(c.existed_before("never_seen", "2"));
        replay(&mut c, "DROP TABLE people", "3");
        assert!(c.table("people").is_none());
        assert!(c.indexes.is_empty());
    }
}
