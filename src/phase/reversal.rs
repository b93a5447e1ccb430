//! Does the down reverse the up? For every [`Operation`] of the up, the down
//! must hold its inverse (matched by object names, not by text), or remove
//! what the operation lives in (an index on a table the up created goes away
//! with `DROP TABLE`).

use std::collections::BTreeMap;

use super::MigrationOperations;
use super::inverse::{Change, ObjectKind, Operation, Prior, RenameTarget, mentions, unmodelled};
use crate::dialect::Dialect;
use crate::finding::Position;
use crate::schema::{Column, ConstraintKind, Table};
use crate::sql::SqlFile;

/// A problem found in a migration's down, with the statement it is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issue {
    /// Index of the statement (of the up for a missing inverse, of the down
    /// for a wrong order).
    pub statement: usize,
    pub at: Position,
    pub message: String,
    pub help: String,
}

/// Names as the whole migration sees them: a table or column renamed by the
/// up is one object under both names.
#[derive(Debug, Default)]
pub(crate) struct Names {
    tables: BTreeMap<String, String>,
    columns: BTreeMap<(String, String), String>,
}

impl Names {
    pub(crate) fn new(up: &[Operation]) -> Self {
        let mut names = Names::default();
        for op in up {
            if let Change::Rename {
                target: RenameTarget::Table,
                from,
                to,
            } = &op.change
                && from != to
            {
                names.tables.insert(from.clone(), to.clone());
            }
        }
        for op in up {
            if let Change::Rename {
                target: RenameTarget::Column { table },
                from,
                to,
            } = &op.change
                && from != to
            {
                let table = names.table(table);
                names.columns.insert((table, from.clone()), to.clone());
            }
        }
        names
    }

    /// The name the table has at the end of the up.
    pub(crate) fn table(&self, name: &str) -> String {
        let mut name = name.to_string();
        for _ in 0..16 {
            match self.tables.get(&name) {
                Some(next) => name = next.clone(),
                None => break,
            }
        }
        name
    }

    /// The (table, column) the column has at the end of the up.
    pub(crate) fn column(&self, table: &str, column: &str) -> (String, String) {
        let table = self.table(table);
        let mut column = column.to_string();
        for _ in 0..16 {
            match self.columns.get(&(table.clone(), column.clone())) {
                Some(next) => column = next.clone(),
                None => break,
            }
        }
        (table, column)
    }

    pub(crate) fn same_table(&self, a: &str, b: &str) -> bool {
        a == b || self.table(a) == self.table(b)
    }

    fn same_column(&self, ta: &str, ca: &str, tb: &str, cb: &str) -> bool {
        (ta == tb && ca == cb) || self.column(ta, ca) == self.column(tb, cb)
    }
}

/// Normalises a default expression for comparison: case, blanks and casts
/// (`'a'::text`) do not matter.
pub(crate) fn normal_default(value: &str) -> String {
    let mut out = String::new();
    let mut chars = value.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if c == '\'' {
            in_string = !in_string;
            out.push(c);
            continue;
        }
        if in_string {
            out.push(c);
            continue;
        }
        if c == ':' && chars.peek() == Some(&':') {
            chars.next();
            while chars
                .peek()
                .is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | ' ' | '(' | ')' | ','))
            {
                chars.next();
            }
            continue;
        }
        if !c.is_whitespace() {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// Normalises a type name for comparison: `character varying(10)` and
/// `VARCHAR(10)` are the same type.
pub(crate) fn normal_type(data_type: &str) -> String {
    let lower = data_type.to_lowercase();
    let (base, params) = match lower.find('(') {
        Some(i) => (&lower[..i], lower[i..].replace(' ', "")),
        None => (lower.as_str(), String::new()),
    };
    let base = base.split_whitespace().collect::<Vec<_>>().join(" ");
    let base = match base.as_str() {
        "integer" | "int" | "int4" => "int",
        "bigint" | "int8" => "bigint",
        "smallint" | "int2" => "smallint",
        // Unbounded `varchar` behaves as `text`.
        "character varying" | "varchar" if params.is_empty() => "text",
        "character varying" | "varchar" => "varchar",
        "character" | "char" | "bpchar" => "char",
        "boolean" | "bool" => "bool",
        "timestamp with time zone" | "timestamptz" => "timestamptz",
        "timestamp without time zone" | "timestamp" => "timestamp",
        "double precision" | "float8" | "double" => "float8",
        "real" | "float4" => "float4",
        "decimal" | "numeric" => "numeric",
        other => other,
    };
    format!("{base}{params}")
}

/// What the migration as a whole creates, to tell when an operation is
/// undone along with its container.
struct Created {
    tables: Vec<String>,
    columns: Vec<(String, String)>,
    schemas: Vec<String>,
    types: Vec<String>,
}

impl Created {
    fn new(up: &[Operation], names: &Names) -> Self {
        let mut created = Created {
            tables: Vec::new(),
            columns: Vec::new(),
            schemas: Vec::new(),
            types: Vec::new(),
        };
        for op in up {
            match &op.change {
                // Tables and materialized views the up creates or replaces:
                // what is inside them goes when the down drops them.
                Change::Create { object }
                    if matches!(
                        object.kind,
                        ObjectKind::Table | ObjectKind::View | ObjectKind::MaterializedView
                    ) =>
                {
                    created.tables.push(names.table(&object.name))
                }
                Change::Create { object } if !op.replaces => match object.kind {
                    ObjectKind::Schema => created.schemas.push(object.name.clone()),
                    ObjectKind::Type | ObjectKind::Domain => {
                        created.types.push(object.name.clone())
                    }
                    _ => {}
                },
                Change::AddColumn { table, column } if !op.replaces => {
                    created.columns.push(names.column(table, column))
                }
                _ => {}
            }
        }
        created
    }
}

struct Checker<'a> {
    down: &'a [Operation],
    down_file: &'a SqlFile,
    names: Names,
    created: Created,
}

impl Checker<'_> {
    fn down_drops_table(&self, table: &str) -> bool {
        self.down.iter().any(|d| match &d.change {
            Change::Drop { object, .. } => {
                matches!(
                    object.kind,
                    ObjectKind::Table | ObjectKind::View | ObjectKind::MaterializedView
                ) && self.names.same_table(&object.name, table)
            }
            Change::Rebuild { table: t } => self.names.same_table(t, table),
            _ => false,
        })
    }

    /// The down rebuilds the table (or drops and creates it again).
    fn down_rebuilds(&self, table: &str) -> bool {
        let creates = self.down.iter().any(|d| {
            matches!(&d.change, Change::Create { object }
                if object.kind == ObjectKind::Table && self.names.same_table(&object.name, table))
        });
        self.down.iter().any(|d| {
            matches!(&d.change, Change::Rebuild { table: t } if self.names.same_table(t, table))
        }) || (creates && self.down_drops_table(table))
    }

    fn down_drops_column(&self, table: &str, column: &str) -> bool {
        self.down.iter().any(|d| {
            matches!(&d.change, Change::DropColumn { table: t, column: c, .. }
                if self.names.same_column(t, c, table, column))
        })
    }

    /// Whether the operation is undone with something that contains it.
    fn covered_implicitly(&self, op: &Operation) -> bool {
        let is_table_itself = matches!(&op.change,
            Change::Create { object } | Change::Drop { object, .. } if object.kind == ObjectKind::Table)
            || matches!(
                &op.change,
                Change::Rebuild { .. }
                    | Change::Rename {
                        target: RenameTarget::Table,
                        ..
                    }
            );
        if let Some(table) = op.change.table()
            && !is_table_itself
        {
            let canon = self.names.table(table);
            if self.created.tables.contains(&canon) && self.down_drops_table(table) {
                return true;
            }
            if self.down_rebuilds(table) {
                return true;
            }
            let mut columns: Vec<&str> = op.change.column().into_iter().collect();
            if matches!(
                &op.change,
                Change::Create { .. } | Change::AddConstraint { .. }
            ) {
                columns.extend(op.refs.columns.iter().map(String::as_str));
            }
            for column in columns {
                let key = self.names.column(table, column);
                if self.created.columns.contains(&key) && self.down_drops_column(table, column) {
                    return true;
                }
            }
        }
        // Objects in a schema the up created, dropped with CASCADE.
        if let Some(name) = op.change.subject_name()
            && let Some((schema, _)) = name.split_once('.')
            && self.created.schemas.iter().any(|s| s == schema)
            && self.down.iter().any(|d| matches!(&d.change,
                Change::Drop { object, cascade: true, .. } if object.kind == ObjectKind::Schema && object.name == schema))
        {
            return true;
        }
        // What `DROP … CASCADE` of something it depends on takes away: a
        // trigger with its function, a column with its type, a foreign key
        // with the table it references.
        let dropped_with_cascade = |kind: ObjectKind, name: &str| {
            self.down.iter().any(|d| matches!(&d.change,
                Change::Drop { object, cascade: true, .. }
                    if object.kind.compatible(kind)
                        && (object.name == name
                            || (kind == ObjectKind::Table && self.names.same_table(&object.name, name)))))
        };
        let by_cascade = match &op.change {
            Change::Create { object } if object.kind == ObjectKind::Trigger => op
                .refs
                .function
                .as_deref()
                .is_some_and(|f| dropped_with_cascade(ObjectKind::Function, f)),
            Change::AddColumn { .. } => op
                .refs
                .column_types
                .iter()
                .any(|(_, ty)| dropped_with_cascade(ObjectKind::Type, ty)),
            Change::AddConstraint { .. } => op
                .refs
                .foreign_keys
                .iter()
                .any(|fk| dropped_with_cascade(ObjectKind::Table, &fk.target)),
            _ => false,
        };
        if by_cascade {
            return true;
        }
        if let Change::Rename {
            target: RenameTarget::EnumValue { type_name },
            ..
        } = &op.change
            && self.created.types.contains(type_name)
            && self.down.iter().any(|d| matches!(&d.change,
                Change::Drop { object, .. } if object.kind.compatible(ObjectKind::Type) && &object.name == type_name))
        {
            return true;
        }
        false
    }

    /// Whether a statement the checker cannot read may hold the inverse.
    fn maybe_in_unmodelled(&self, op: &Operation) -> bool {
        let names: Vec<&str> = match &op.change {
            Change::Rename { from, to, .. } => vec![from, to],
            other => other.subject_name().into_iter().collect(),
        };
        self.down_file
            .statements
            .iter()
            .filter(|s| unmodelled(s))
            .any(|s| names.iter().any(|n| mentions(s, n)))
    }

    fn same_object(&self, a: &super::inverse::Object, b: &super::inverse::Object) -> bool {
        a.kind.compatible(b.kind)
            && match a.kind {
                ObjectKind::Table => self.names.same_table(&a.name, &b.name),
                _ => a.name == b.name,
            }
    }

    /// Whether the down operation `d` undoes the up operation `op`.
    fn reverses(&self, op: &Operation, d: &Operation) -> bool {
        let n = &self.names;
        let redefines = |table: &str, column: &str| match &d.change {
            Change::Redefine {
                table: t,
                column: c,
                new_name,
            } => n.same_column(t, c, table, column) || n.same_column(t, new_name, table, column),
            _ => false,
        };
        match (&op.change, &d.change) {
            // Replacements: the down must put the previous object back.
            (Change::Create { object }, Change::Create { object: o }) if op.replaces => {
                self.same_object(object, o)
            }
            (Change::Create { object }, Change::Rebuild { table }) if op.replaces => {
                object.kind == ObjectKind::Table && n.same_table(&object.name, table)
            }
            (
                Change::AddColumn { table, column },
                Change::AddColumn {
                    table: t,
                    column: c,
                },
            ) if op.replaces => n.same_column(table, column, t, c),
            (
                Change::AddConstraint { table, name },
                Change::AddConstraint {
                    table: t, name: nm, ..
                },
            ) if op.replaces => n.same_table(table, t) && (name.is_none() || name == nm),
            (_, _) if op.replaces => false,

            (Change::Create { object }, Change::Drop { object: o, .. }) => {
                self.same_object(object, o)
            }
            (Change::Create { object }, Change::DropConstraint { name: Some(nm), .. }) => {
                object.kind == ObjectKind::Index && &object.name == nm
            }
            (Change::Drop { object, .. }, Change::Create { object: o }) => {
                self.same_object(object, o)
            }
            (Change::Drop { object, .. }, Change::AddConstraint { name: Some(nm), .. }) => {
                object.kind == ObjectKind::Index && &object.name == nm
            }
            // A table renamed away comes back when the down creates it anew.
            (
                Change::Rename {
                    target: RenameTarget::Table,
                    from,
                    ..
                },
                Change::Create { object },
            ) => object.kind == ObjectKind::Table && n.same_table(from, &object.name),
            (Change::Drop { object, .. }, Change::Rebuild { table }) => {
                object.kind == ObjectKind::Table && n.same_table(&object.name, table)
            }
            (
                Change::AddColumn { table, column },
                Change::DropColumn {
                    table: t,
                    column: c,
                    ..
                },
            ) => n.same_column(table, column, t, c),
            (
                Change::DropColumn { table, column, .. },
                Change::AddColumn {
                    table: t,
                    column: c,
                },
            ) => n.same_column(table, column, t, c),
            (
                Change::Rename { target, from, to },
                Change::Rename {
                    target: dt,
                    from: df,
                    to: dto,
                },
            ) => {
                df == to
                    && dto == from
                    && match (target, dt) {
                        (RenameTarget::Column { table }, RenameTarget::Column { table: t })
                        | (
                            RenameTarget::Constraint { table },
                            RenameTarget::Constraint { table: t },
                        ) => n.same_table(table, t),
                        (
                            RenameTarget::EnumValue { type_name },
                            RenameTarget::EnumValue { type_name: t },
                        ) => type_name == t,
                        (a, b) => a == b,
                    }
            }
            (
                Change::Rename {
                    target: RenameTarget::Column { table },
                    from,
                    to,
                },
                Change::Redefine {
                    table: t,
                    column,
                    new_name,
                },
            ) => n.same_table(table, t) && column == to && new_name == from,
            (
                Change::AddConstraint { table, name },
                Change::DropConstraint {
                    table: t, name: nm, ..
                },
            ) => n.same_table(table, t) && (name.is_none() || nm.is_none() || name == nm),
            (
                Change::AddConstraint {
                    name: Some(name), ..
                },
                Change::Drop { object, .. },
            ) => object.kind == ObjectKind::Index && &object.name == name,
            (
                Change::DropConstraint { table, name, .. },
                Change::AddConstraint { table: t, name: nm },
            ) => n.same_table(table, t) && (name.is_none() || nm.is_none() || name == nm),
            (
                Change::DropConstraint {
                    name: Some(name), ..
                },
                Change::Create { object },
            ) => object.kind == ObjectKind::Index && &object.name == name,
            (
                Change::SetNotNull { table, column },
                Change::DropNotNull {
                    table: t,
                    column: c,
                },
            )
            | (
                Change::DropNotNull { table, column },
                Change::SetNotNull {
                    table: t,
                    column: c,
                },
            ) => n.same_column(table, column, t, c),
            (Change::SetNotNull { table, column } | Change::DropNotNull { table, column }, _) => {
                redefines(table, column)
            }
            (
                Change::SetDefault { table, column, .. } | Change::DropDefault { table, column },
                _,
            ) => {
                if redefines(table, column) {
                    return true;
                }
                let previous = match &op.prior {
                    Prior::Column(c) => Some(c.default.as_deref()),
                    _ => None,
                };
                match (&d.change, previous) {
                    (
                        Change::SetDefault {
                            table: t,
                            column: c,
                            value,
                        },
                        Some(Some(prev)),
                    ) => {
                        n.same_column(table, column, t, c)
                            && normal_default(value) == normal_default(prev)
                    }
                    (
                        Change::DropDefault {
                            table: t,
                            column: c,
                        },
                        Some(None),
                    ) => n.same_column(table, column, t, c),
                    (
                        Change::SetDefault {
                            table: t,
                            column: c,
                            ..
                        }
                        | Change::DropDefault {
                            table: t,
                            column: c,
                        },
                        None,
                    ) => {
                        n.same_column(table, column, t, c)
                            && !matches!(&op.change, Change::DropDefault { .. } if matches!(d.change, Change::DropDefault { .. }))
                    }
                    _ => false,
                }
            }
            (Change::SetType { table, column, .. }, _) => {
                if redefines(table, column) {
                    return true;
                }
                let Change::SetType {
                    table: t,
                    column: c,
                    data_type,
                } = &d.change
                else {
                    return false;
                };
                if !n.same_column(table, column, t, c) {
                    return false;
                }
                match &op.prior {
                    Prior::Column(Column {
                        data_type: Some(prev),
                        ..
                    }) => normal_type(&prev.to_string()) == normal_type(data_type),
                    _ => true,
                }
            }
            (
                Change::Redefine {
                    table,
                    column,
                    new_name,
                },
                _,
            ) => match &d.change {
                Change::Redefine {
                    table: t,
                    column: c,
                    new_name: back,
                } => n.same_table(table, t) && c == new_name && back == column,
                other => {
                    other.table().is_some_and(|t| n.same_table(t, table))
                        && other.column() == Some(new_name.as_str())
                }
            },
            (Change::Rebuild { table }, other) => {
                other.table().is_some_and(|t| n.same_table(t, table))
            }
            _ => false,
        }
    }

    fn satisfied(&self, op: &Operation) -> bool {
        self.covered_implicitly(op)
            || self.down.iter().any(|d| self.reverses(op, d))
            || self.maybe_in_unmodelled(op)
    }
}

/// Whether the up operation needs an inverse in the down at all.
fn needs_inverse(op: &Operation) -> bool {
    match &op.change {
        // Irreversible by nature: reported by `irreversible-enum-value`.
        Change::AddEnumValue { .. } => false,
        // `DROP … IF EXISTS` of something never seen: it may not exist.
        Change::Drop { .. } | Change::DropColumn { .. } | Change::DropConstraint { .. } => {
            op.existed || !op.guarded
        }
        // An index, constraint or trigger with a name the database picks.
        Change::AddConstraint { name: None, .. } => false,
        // An index dropped and created again just as it was.
        Change::Create { object } if op.replaces && object.kind == ObjectKind::Index => {
            !matches!(&op.prior, Prior::Index(i)
                if Some(i.table.as_str()) == object.table.as_deref() && i.columns == op.refs.columns)
        }
        _ => true,
    }
}

/// Quotes a catalog key for SQL when it needs quoting.
pub(crate) fn quote(name: &str, dialect: Dialect) -> String {
    name.split('.')
        .map(|part| {
            let plain = part
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if plain {
                part.to_string()
            } else if dialect == Dialect::Mysql {
                format!("`{part}`")
            } else {
                format!("\"{part}\"")
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

fn column_definition(column: &Column, dialect: Dialect) -> String {
    let mut sql = format!(
        "{} {}",
        quote(&column.name, dialect),
        column
            .data_type
            .as_ref()
            .map(|t| t.to_string())
            .unwrap_or_else(|| "<type>".into())
    );
    if column.not_null {
        sql.push_str(" NOT NULL");
    }
    if let Some(default) = &column.default {
        sql.push_str(&format!(" DEFAULT {default}"));
    }
    sql
}

fn create_table_sql(table: &Table, dialect: Dialect) -> String {
    let mut parts: Vec<String> = table
        .columns
        .iter()
        .take(12)
        .map(|c| column_definition(c, dialect))
        .collect();
    if table.columns.len() > 12 {
        parts.push("…".into());
    }
    for c in &table.constraints {
        if c.kind == ConstraintKind::PrimaryKey && !c.columns.is_empty() {
            parts.push(format!("PRIMARY KEY ({})", c.columns.join(", ")));
        }
    }
    format!(
        "CREATE TABLE {} ({});",
        quote(&table.name, dialect),
        parts.join(", ")
    )
}

fn drop_sql(kind: ObjectKind, name: &str, table: Option<&str>, dialect: Dialect) -> String {
    let q = |n: &str| quote(n, dialect);
    match (kind, dialect) {
        (ObjectKind::Index, Dialect::Mysql) => match table {
            Some(t) => format!("DROP INDEX {} ON {};", q(name), q(t)),
            None => format!("DROP INDEX {} ON <table>;", q(name)),
        },
        (ObjectKind::Trigger, Dialect::Postgres) => match table {
            Some(t) => format!("DROP TRIGGER {} ON {};", q(name), q(t)),
            None => format!("DROP TRIGGER {} ON <table>;", q(name)),
        },
        _ => format!("DROP {} {};", kind.keyword(), q(name)),
    }
}

fn alter_column_sql(table: &str, column: &str, action: &str, dialect: Dialect) -> String {
    format!(
        "ALTER TABLE {} ALTER COLUMN {} {action};",
        quote(table, dialect),
        quote(column, dialect)
    )
}

/// A MySQL `MODIFY` that restores the prior definition of a column.
fn modify_sql(table: &str, prior: &Prior, column: &str, dialect: Dialect) -> String {
    let def = match prior {
        Prior::Column(c) => column_definition(c, dialect),
        _ => format!("{} <previous definition>", quote(column, dialect)),
    };
    format!("ALTER TABLE {} MODIFY {def};", quote(table, dialect))
}

fn prior_column(op: &Operation) -> Option<&Column> {
    match &op.prior {
        Prior::Column(c) => Some(c),
        _ => None,
    }
}

/// The message and help for an operation whose inverse is missing.
fn describe_missing(op: &Operation, dialect: Dialect) -> (String, String) {
    let q = |n: &str| quote(n, dialect);
    let add = |sql: String| format!("add `{sql}` to the down migration");
    match &op.change {
        Change::Create { object } if op.replaces => {
            let what = format!("{} `{}`", object.kind.noun(), object.name);
            let help = match (&op.prior, object.kind) {
                (Prior::Table(t), ObjectKind::Table) => format!(
                    "re-create the previous table in the down (after dropping the new one): `{}` \
                     and its indexes and constraints",
                    create_table_sql(t, dialect)
                ),
                (_, kind) => format!(
                    "put the previous definition back in the down: `CREATE OR REPLACE {} {} …` \
                     with the definition this migration replaces",
                    kind.keyword(),
                    q(&object.name)
                ),
            };
            (
                format!(
                    "the down does not restore the previous {what}, which this statement replaces"
                ),
                help,
            )
        }
        Change::Create { object } => (
            format!(
                "the down does not drop {} `{}`, which this statement creates",
                object.kind.noun(),
                object.name
            ),
            add(drop_sql(
                object.kind,
                &object.name,
                object.table.as_deref(),
                dialect,
            )),
        ),
        Change::Drop { object, .. } => {
            let sql = match (&op.prior, object.kind) {
                (Prior::Table(t), ObjectKind::Table) => create_table_sql(t, dialect),
                (Prior::Index(i), ObjectKind::Index) => format!(
                    "CREATE {}INDEX {} ON {} ({});",
                    if i.unique { "UNIQUE " } else { "" },
                    q(&i.name),
                    q(&i.table),
                    i.columns.join(", ")
                ),
                (_, kind) => format!("CREATE {} {} …", kind.keyword(), q(&object.name)),
            };
            let data = if object.kind == ObjectKind::Table {
                " (the rows themselves cannot come back: keep a copy in the up, or restore from a backup)"
            } else {
                ""
            };
            (
                format!(
                    "the down does not re-create {} `{}`, which this statement drops",
                    object.kind.noun(),
                    object.name
                ),
                format!("re-create it in the down as it was before: `{sql}`{data}"),
            )
        }
        Change::AddColumn { table, column } if op.replaces => (
            format!(
                "the down does not restore column `{table}.{column}`, which this migration drops and adds again"
            ),
            format!(
                "drop the new column and re-add the previous one in the down: `ALTER TABLE {} DROP COLUMN {}; ALTER TABLE {} ADD COLUMN {};`",
                q(table),
                q(column),
                q(table),
                prior_column(op)
                    .map(|c| column_definition(c, dialect))
                    .unwrap_or_else(|| format!("{} <previous type>", q(column)))
            ),
        ),
        Change::AddColumn { table, column } => (
            format!("the down does not drop column `{table}.{column}`, which this statement adds"),
            add(format!(
                "ALTER TABLE {} DROP COLUMN {};",
                q(table),
                q(column)
            )),
        ),
        Change::DropColumn { table, column, .. } => (
            format!(
                "the down does not re-add column `{table}.{column}`, which this statement drops"
            ),
            format!(
                "re-add it in the down: `ALTER TABLE {} ADD COLUMN {};` (its values cannot come back: \
                 keep a copy in the up, or restore from a backup)",
                q(table),
                prior_column(op)
                    .map(|c| column_definition(c, dialect))
                    .unwrap_or_else(|| format!("{} <type>", q(column)))
            ),
        ),
        Change::Rename { target, from, to } => {
            let (what, sql) = match target {
                RenameTarget::Table => (
                    format!("table `{from}` to `{to}`"),
                    format!("ALTER TABLE {} RENAME TO {};", q(to), q(from)),
                ),
                RenameTarget::Column { table } => (
                    format!("column `{table}.{from}` to `{to}`"),
                    format!(
                        "ALTER TABLE {} RENAME COLUMN {} TO {};",
                        q(table),
                        q(to),
                        q(from)
                    ),
                ),
                RenameTarget::Index => (
                    format!("index `{from}` to `{to}`"),
                    format!("ALTER INDEX {} RENAME TO {};", q(to), q(from)),
                ),
                RenameTarget::Constraint { table } => (
                    format!("constraint `{from}` of `{table}` to `{to}`"),
                    format!(
                        "ALTER TABLE {} RENAME CONSTRAINT {} TO {};",
                        q(table),
                        q(to),
                        q(from)
                    ),
                ),
                RenameTarget::Type => (
                    format!("type `{from}` to `{to}`"),
                    format!("ALTER TYPE {} RENAME TO {};", q(to), q(from)),
                ),
                RenameTarget::EnumValue { type_name } => (
                    format!("value '{from}' of enum `{type_name}` to '{to}'"),
                    format!(
                        "ALTER TYPE {} RENAME VALUE '{}' TO '{}';",
                        q(type_name),
                        to.replace('\'', "''"),
                        from.replace('\'', "''")
                    ),
                ),
            };
            (
                format!("the down does not rename it back: this statement renames {what}"),
                add(sql),
            )
        }
        Change::AddConstraint { table, name } => {
            let name = name.as_deref().unwrap_or("<name>");
            let fk = !op.refs.foreign_keys.is_empty();
            let sql = if dialect == Dialect::Mysql && fk {
                format!("ALTER TABLE {} DROP FOREIGN KEY {};", q(table), q(name))
            } else {
                format!("ALTER TABLE {} DROP CONSTRAINT {};", q(table), q(name))
            };
            (
                format!(
                    "the down does not drop constraint `{name}` of `{table}`, which this statement adds"
                ),
                add(sql),
            )
        }
        Change::DropConstraint { table, name, .. } => {
            let name_text = name.as_deref().unwrap_or("PRIMARY KEY");
            let body = match &op.prior {
                Prior::Constraint(c) => match c.kind {
                    ConstraintKind::PrimaryKey => format!("PRIMARY KEY ({})", c.columns.join(", ")),
                    ConstraintKind::Unique => format!("UNIQUE ({})", c.columns.join(", ")),
                    ConstraintKind::ForeignKey => {
                        format!("FOREIGN KEY ({}) REFERENCES …", c.columns.join(", "))
                    }
                    ConstraintKind::Check => "CHECK (…)".into(),
                    _ => "…".into(),
                },
                _ => "…".into(),
            };
            let sql = match name {
                Some(n) => format!("ALTER TABLE {} ADD CONSTRAINT {} {body};", q(table), q(n)),
                None => format!("ALTER TABLE {} ADD {body};", q(table)),
            };
            (
                format!(
                    "the down does not re-add constraint `{name_text}` of `{table}`, which this statement drops"
                ),
                format!("re-add it in the down as it was before: `{sql}`"),
            )
        }
        Change::SetNotNull { table, column } => (
            format!(
                "the down does not make `{table}.{column}` nullable again; this statement sets it NOT NULL"
            ),
            add(if dialect == Dialect::Mysql {
                modify_sql(table, &op.prior, column, dialect).replace(" NOT NULL", "")
            } else {
                alter_column_sql(table, column, "DROP NOT NULL", dialect)
            }),
        ),
        Change::DropNotNull { table, column } => (
            format!(
                "the down does not make `{table}.{column}` NOT NULL again; this statement drops the constraint"
            ),
            add(if dialect == Dialect::Mysql {
                modify_sql(table, &op.prior, column, dialect)
            } else {
                alter_column_sql(table, column, "SET NOT NULL", dialect)
            }),
        ),
        Change::SetDefault { table, column, .. } | Change::DropDefault { table, column } => {
            let (before, sql) = match prior_column(op).map(|c| c.default.as_deref()) {
                Some(Some(prev)) => (
                    format!("`{prev}` before this migration"),
                    alter_column_sql(table, column, &format!("SET DEFAULT {prev}"), dialect),
                ),
                Some(None) => (
                    "none before this migration".to_string(),
                    alter_column_sql(table, column, "DROP DEFAULT", dialect),
                ),
                None => (
                    "unknown to straddle".to_string(),
                    alter_column_sql(table, column, "SET DEFAULT <previous default>", dialect),
                ),
            };
            (
                format!(
                    "the down does not restore the default of `{table}.{column}` (it was {before}), which this statement changes"
                ),
                add(sql),
            )
        }
        Change::SetType { table, column, .. } => {
            let prev = prior_column(op)
                .and_then(|c| c.data_type.as_ref())
                .map(|t| t.to_string());
            let sql = if dialect == Dialect::Mysql {
                modify_sql(table, &op.prior, column, dialect)
            } else {
                alter_column_sql(
                    table,
                    column,
                    &format!("TYPE {}", prev.as_deref().unwrap_or("<previous type>")),
                    dialect,
                )
            };
            let was = prev
                .map(|p| format!(" (`{p}` before this migration)"))
                .unwrap_or_default();
            (
                format!(
                    "the down does not change `{table}.{column}` back to its previous type{was}, which this statement changes"
                ),
                add(sql),
            )
        }
        Change::Redefine {
            table,
            column,
            new_name,
        } => {
            let def = prior_column(op)
                .map(|c| column_definition(c, dialect))
                .unwrap_or_else(|| format!("{} <previous definition>", q(column)));
            (
                format!(
                    "the down does not restore the previous definition of `{table}.{column}`, which this statement changes"
                ),
                add(format!(
                    "ALTER TABLE {} CHANGE {} {def};",
                    q(table),
                    q(new_name)
                )),
            )
        }
        Change::Rebuild { table } => (
            format!(
                "the down does not rebuild table `{table}` back to its previous shape; this migration rebuilds it"
            ),
            format!(
                "rebuild it the same way in the down: `CREATE TABLE {t}_old (…previous columns…); \
                 INSERT INTO {t}_old SELECT … FROM {t}; DROP TABLE {t}; ALTER TABLE {t}_old RENAME TO {t};`",
                t = q(table)
            ),
        ),
        Change::AddEnumValue { type_name, value } => (
            format!("no down can remove value '{value}' from enum `{type_name}`"),
            String::new(),
        ),
    }
}

/// The up operations whose inverse the down lacks, one issue each, placed at
/// the up statement. An empty down yields nothing here (`empty-down` says
/// it once).
pub fn missing_inverses(ops: &MigrationOperations<'_>) -> Vec<Issue> {
    let Some(down) = ops.down_file else {
        return Vec::new();
    };
    let dialect = ops.dialect;
    let up_ops = ops.up();
    let names = Names::new(up_ops);
    let created = Created::new(up_ops, &names);
    let checker = Checker {
        down: ops.down(),
        down_file: down,
        names,
        created,
    };
    up_ops
        .iter()
        .filter(|op| needs_inverse(op))
        .filter(|op| !checker.satisfied(op))
        .map(|op| {
            let (message, help) = describe_missing(op, dialect);
            Issue {
                statement: op.statement,
                at: op.at,
                message,
                help,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Catalog;
    use crate::sql::parse_file;

    fn catalog(sql: &str) -> Catalog {
        let mut c = Catalog::new();
        for s in parse_file(sql, Dialect::Postgres).statements {
            c.apply(&s, "0");
        }
        c
    }

    fn missing(history: &str, up: &str, down: &str) -> Vec<String> {
        let before = catalog(history);
        let up_file = parse_file(up, Dialect::Postgres);
        let mut after = before.clone();
        for s in &up_file.statements {
            after.apply(s, "1");
        }
        let down_file = parse_file(down, Dialect::Postgres);
        let ops = MigrationOperations::replay(
            &up_file,
            Some(&down_file),
            &before,
            &after,
            Dialect::Postgres,
        );
        missing_inverses(&ops)
            .into_iter()
            .map(|i| format!("{} | {}", i.message, i.help))
            .collect()
    }

    #[test]
    fn add_column_needs_drop_column() {
        let found = missing(
            "CREATE TABLE users (id int)",
            "ALTER TABLE users ADD COLUMN email_address text",
            "SELECT 1",
        );
        assert_eq!(found.len(), 1);
        assert!(
            found[0].contains("ALTER TABLE users DROP COLUMN email_address;"),
            "{found:?}"
        );
        assert!(
            missing(
                "CREATE TABLE users (id int)",
                "ALTER TABLE users ADD COLUMN email_address text",
                "ALTER TABLE public.users DROP COLUMN IF EXISTS email_address",
            )
            .is_empty()
        );
    }

    #[test]
    fn things_inside_a_created_table_go_with_it() {
        let up = "CREATE TABLE t (id int); CREATE INDEX t_id ON t (id); \
                  ALTER TABLE t ADD CONSTRAINT t_pos CHECK (id > 0); \
                  ALTER TABLE t ALTER COLUMN id SET NOT NULL; \
                  CREATE TRIGGER trg BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION f()";
        assert!(missing("", up, "DROP TABLE t").is_empty());
        assert_eq!(missing("", up, "SELECT 1").len(), 5);
    }

    #[test]
    fn index_on_added_column_goes_with_the_column() {
        let found = missing(
            "CREATE TABLE users (id int)",
            "ALTER TABLE users ADD COLUMN email text; CREATE INDEX users_email ON users (email)",
            "ALTER TABLE users DROP COLUMN email",
        );
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn defaults_and_types_are_restored_from_the_catalog() {
        let history = "CREATE TABLE t (a int DEFAULT 0, b varchar(10), c int)";
        let up = "ALTER TABLE t ALTER COLUMN a SET DEFAULT 1; \
                  ALTER TABLE t ALTER COLUMN b TYPE text; \
                  ALTER TABLE t ALTER COLUMN c SET DEFAULT 5";
        let found = missing(history, up, "ALTER TABLE t ALTER COLUMN a SET DEFAULT 2");
        assert_eq!(found.len(), 3, "{found:?}");
        assert!(found[0].contains("SET DEFAULT 0"), "{found:?}");
        assert!(found[1].contains("TYPE VARCHAR(10)"), "{found:?}");
        assert!(found[2].contains("DROP DEFAULT"), "{found:?}");
        let found = missing(
            history,
            up,
            "ALTER TABLE t ALTER COLUMN a SET DEFAULT 0; \
             ALTER TABLE t ALTER COLUMN b TYPE character varying(10); \
             ALTER TABLE t ALTER COLUMN c DROP DEFAULT",
        );
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn renames_reverse_and_drops_recreate() {
        let history = "CREATE TABLE a (x int); CREATE INDEX a_x ON a (x)";
        let up = "ALTER TABLE a RENAME COLUMN x TO y; ALTER TABLE a RENAME TO b; DROP INDEX a_x";
        assert_eq!(missing(history, up, "SELECT 1").len(), 3);
        let found = missing(
            history,
            up,
            "CREATE INDEX a_x ON b (y); ALTER TABLE b RENAME TO a; ALTER TABLE a RENAME COLUMN y TO x",
        );
        assert!(found.is_empty(), "{found:?}");
        let found = missing(history, "DROP INDEX a_x", "SELECT 1");
        assert!(found[0].contains("CREATE INDEX a_x ON a (x)"), "{found:?}");
    }

    #[test]
    fn unreadable_down_statements_mentioning_the_object_count() {
        let found = missing(
            "CREATE TABLE t (id int)",
            "ALTER TABLE t ADD COLUMN email text",
            "DO $$ BEGIN ALTER TABLE t DROP COLUMN email; END $$",
        );
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn recreating_an_index_as_it_was_needs_nothing() {
        let history = "CREATE TABLE t (a int); CREATE UNIQUE INDEX t_a ON t (a)";
        let up = "DROP INDEX IF EXISTS t_a; CREATE UNIQUE INDEX t_a ON t (a)";
        assert!(missing(history, up, "SELECT 2").is_empty());
        let up = "DROP INDEX IF EXISTS t_a; CREATE UNIQUE INDEX t_a ON t (a, a)";
        assert_eq!(missing(history, up, "SELECT 2").len(), 1);
    }

    #[test]
    fn rebuilds_and_replacements() {
        let history = "CREATE TABLE t (a int); CREATE MATERIALIZED VIEW mv AS SELECT a FROM t";
        // A replaced materialized view takes its index with it.
        let up = "DROP MATERIALIZED VIEW mv; CREATE MATERIALIZED VIEW mv AS SELECT a + 1 AS a FROM t; \
                  CREATE UNIQUE INDEX mv_a ON mv (a)";
        let down = "DROP MATERIALIZED VIEW mv; CREATE MATERIALIZED VIEW mv AS SELECT a FROM t";
        assert!(
            missing(history, up, down).is_empty(),
            "{:?}",
            missing(history, up, down)
        );
        let found = missing(history, up, "DROP INDEX mv_a");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("previous materialized view"), "{found:?}");
        // A table renamed aside and re-created is rebuilt back the same way.
        let up = "ALTER TABLE t RENAME TO t_old; CREATE TABLE t (a bigint); \
                  INSERT INTO t SELECT a FROM t_old; DROP TABLE t_old";
        let down = "ALTER TABLE t RENAME TO t_new; CREATE TABLE t (a int); \
                    INSERT INTO t SELECT a FROM t_new; DROP TABLE t_new";
        assert!(missing(history, up, down).is_empty());
        assert_eq!(missing(history, up, "DROP TABLE IF EXISTS t_old").len(), 1);
    }

    #[test]
    fn procedure_calls_that_name_the_object_count() {
        let found = missing(
            "CREATE TABLE t (a int)",
            "CREATE UNIQUE INDEX t_a_key ON t (a)",
            "CALL drop_index_if_exists('t', 't_a_key')",
        );
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn normalisation() {
        assert_eq!(
            normal_type("character varying(10)"),
            normal_type("VARCHAR (10)")
        );
        assert_eq!(normal_type("INTEGER"), normal_type("int4"));
        assert_eq!(normal_type("text"), normal_type("varchar"));
        assert_ne!(normal_type("text"), normal_type("varchar(10)"));
        assert_eq!(
            normal_default("'a'::character varying"),
            normal_default("'a'")
        );
        assert_ne!(normal_default("'A'"), normal_default("'a'"));
    }
}
