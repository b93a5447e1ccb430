//! Can the down run in the order it is written? Objects that depend on others
//! (a child table's foreign key on its parent, a trigger on its function, a
//! column on its enum type, a view on its tables) must go first, and nothing
//! may be dropped twice: an index is gone once its table is.
//!
//! When the down re-creates what the up dropped, the order is the other way
//! round: a parent table before the child that references it.

use std::collections::{BTreeMap, BTreeSet};

use super::MigrationOperations;
use super::inverse::{Change, ObjectKind, Operation};
use super::reversal::{Issue, Names};
use crate::dialect::Dialect;
use crate::schema::Catalog;
use crate::sql::Statement;

/// A schema object, by canonical name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Node {
    Table(String),
    Column(String, String),
    Index(String),
    Constraint(String, String),
    Trigger(String),
    View(String),
    Function(String),
    Type(String),
    Schema(String),
    Sequence(String),
    Extension(String),
}

impl Node {
    fn describe(&self) -> String {
        match self {
            Node::Table(t) => format!("table `{t}`"),
            Node::Column(t, c) => format!("column `{t}.{c}`"),
            Node::Index(i) => format!("index `{i}`"),
            Node::Constraint(t, c) => format!("constraint `{c}` of `{t}`"),
            Node::Trigger(t) => format!("trigger `{t}`"),
            Node::View(v) => format!("view `{v}`"),
            Node::Function(f) => format!("function `{f}`"),
            Node::Type(t) => format!("type `{t}`"),
            Node::Schema(s) => format!("schema `{s}`"),
            Node::Sequence(s) => format!("sequence `{s}`"),
            Node::Extension(e) => format!("extension `{e}`"),
        }
    }

    fn name(&self) -> &str {
        match self {
            Node::Table(n)
            | Node::Column(_, n)
            | Node::Index(n)
            | Node::Constraint(_, n)
            | Node::Trigger(n)
            | Node::View(n)
            | Node::Function(n)
            | Node::Type(n)
            | Node::Schema(n)
            | Node::Sequence(n)
            | Node::Extension(n) => n,
        }
    }
}

fn object_node(kind: ObjectKind, name: &str, names: &Names) -> Node {
    match kind {
        ObjectKind::Table => Node::Table(names.table(name)),
        ObjectKind::Index => Node::Index(name.to_string()),
        ObjectKind::Type | ObjectKind::Domain => Node::Type(name.to_string()),
        ObjectKind::View | ObjectKind::MaterializedView => Node::View(name.to_string()),
        ObjectKind::Function | ObjectKind::Procedure => Node::Function(name.to_string()),
        ObjectKind::Trigger => Node::Trigger(name.to_string()),
        ObjectKind::Sequence => Node::Sequence(name.to_string()),
        ObjectKind::Schema => Node::Schema(name.to_string()),
        ObjectKind::Extension => Node::Extension(name.to_string()),
    }
}

fn column_node(table: &str, column: &str, names: &Names) -> Node {
    let (t, c) = names.column(table, column);
    Node::Column(t, c)
}

/// What the dialect enforces when objects are dropped.
#[derive(Clone, Copy)]
struct Enforced {
    foreign_keys: bool,
    /// Views, triggers' functions, column types, schemas (PostgreSQL).
    other_dependencies: bool,
}

/// Who depends on whom after the up.
#[derive(Default)]
struct Graph {
    /// Container → what goes away with it.
    contains: BTreeMap<Node, Vec<Node>>,
    /// Blocked → the objects that prevent dropping it while they exist.
    blocked_by: BTreeMap<Node, Vec<Node>>,
}

impl Graph {
    fn contain(&mut self, parent: Node, child: Node) {
        self.contains.entry(parent).or_default().push(child);
    }

    fn block(&mut self, blocked: Node, by: Node) {
        if blocked != by {
            self.blocked_by.entry(blocked).or_default().push(by);
        }
    }

    /// `node` and everything that goes away with it.
    fn closure(&self, node: &Node, into: &mut BTreeSet<Node>) {
        if !into.insert(node.clone()) {
            return;
        }
        for child in self.contains.get(node).into_iter().flatten() {
            self.closure(child, into);
        }
    }

    fn build(up: &[Operation], names: &Names, after: &Catalog, enforced: Enforced) -> Graph {
        let mut g = Graph::default();
        let created_tables: BTreeSet<String> = up
            .iter()
            .filter_map(|op| match &op.change {
                Change::Create { object } if object.kind == ObjectKind::Table => {
                    Some(names.table(&object.name))
                }
                _ => None,
            })
            .collect();
        for op in up {
            let table_of = op.change.table().map(|t| names.table(t));
            let columns_inside = |g: &mut Graph, table: &str, node: &Node, cols: &[String]| {
                g.contain(Node::Table(table.to_string()), node.clone());
                for c in cols {
                    g.contain(column_node(table, c, names), node.clone());
                }
            };
            match &op.change {
                Change::Create { object } => {
                    let node = object_node(object.kind, &object.name, names);
                    match object.kind {
                        ObjectKind::Table => {
                            let t = names.table(&object.name);
                            for c in &op.refs.columns {
                                g.contain(Node::Table(t.clone()), column_node(&t, c, names));
                            }
                        }
                        ObjectKind::Index | ObjectKind::Trigger => {
                            if let Some(t) = &table_of {
                                columns_inside(&mut g, t, &node, &op.refs.columns);
                                // An index on a materialized view goes with it.
                                g.contain(Node::View(t.clone()), node.clone());
                            }
                            if enforced.other_dependencies
                                && let Some(f) = &op.refs.function
                            {
                                g.block(Node::Function(f.clone()), node.clone());
                            }
                        }
                        ObjectKind::View | ObjectKind::MaterializedView
                            if enforced.other_dependencies =>
                        {
                            for w in &op.refs.words {
                                let t = names.table(w);
                                if created_tables.contains(&t) || after.tables.contains_key(&t) {
                                    g.block(Node::Table(t), node.clone());
                                } else if after.views.contains_key(w) && w != &object.name {
                                    g.block(Node::View(w.clone()), node.clone());
                                }
                            }
                        }
                        _ => {}
                    }
                    if enforced.other_dependencies
                        && object.kind != ObjectKind::Schema
                        && let Some((schema, _)) = object.name.split_once('.')
                    {
                        g.block(Node::Schema(schema.to_string()), node);
                    }
                }
                Change::AddColumn { table, column } => {
                    let t = names.table(table);
                    g.contain(Node::Table(t), column_node(table, column, names));
                }
                Change::AddConstraint { table, name } => {
                    let t = names.table(table);
                    let name = name
                        .clone()
                        .or_else(|| op.refs.foreign_keys.first().map(|fk| fk.name.clone()));
                    if let Some(name) = name {
                        let node = Node::Constraint(t.clone(), name);
                        columns_inside(&mut g, &t, &node, &op.refs.columns);
                    }
                }
                _ => {}
            }
            // Foreign keys and column types, wherever they were declared.
            let declares = matches!(
                &op.change,
                Change::Create { object } if object.kind == ObjectKind::Table
            ) || matches!(
                &op.change,
                Change::AddColumn { .. } | Change::AddConstraint { .. }
            );
            if let Some(t) = &table_of
                && declares
            {
                for fk in &op.refs.foreign_keys {
                    let node = Node::Constraint(t.clone(), fk.name.clone());
                    columns_inside(&mut g, t, &node, &fk.columns);
                    let target = names.table(&fk.target);
                    if enforced.foreign_keys && &target != t {
                        g.block(Node::Table(target), node);
                    }
                }
                if enforced.other_dependencies {
                    for (column, ty) in &op.refs.column_types {
                        g.block(Node::Type(ty.clone()), column_node(t, column, names));
                    }
                }
            }
        }
        g
    }
}

/// What a down operation removes, with its `IF EXISTS` and `CASCADE`.
fn removal(op: &Operation, names: &Names) -> Option<(Node, bool, bool)> {
    match &op.change {
        Change::Drop {
            object,
            if_exists,
            cascade,
        } => Some((
            object_node(object.kind, &object.name, names),
            *if_exists,
            *cascade,
        )),
        Change::DropColumn {
            table,
            column,
            if_exists,
            cascade,
        } => Some((column_node(table, column, names), *if_exists, *cascade)),
        Change::DropConstraint {
            table,
            name: Some(name),
            if_exists,
            cascade,
        } => Some((
            Node::Constraint(names.table(table), name.clone()),
            *if_exists,
            *cascade,
        )),
        _ => None,
    }
}

/// What a down operation creates.
fn creation(op: &Operation, names: &Names) -> Option<Node> {
    match &op.change {
        Change::Create { object } => Some(object_node(object.kind, &object.name, names)),
        Change::AddColumn { table, column } => Some(column_node(table, column, names)),
        _ => None,
    }
}

/// What a down operation needs to exist already.
fn needs(op: &Operation, names: &Names, enforced: Enforced) -> Vec<Node> {
    let mut out = Vec::new();
    let own_table = op.change.table().map(|t| names.table(t));
    match &op.change {
        Change::Create { object } if object.kind == ObjectKind::Table => {}
        Change::Create { object }
            if matches!(object.kind, ObjectKind::Index | ObjectKind::Trigger) =>
        {
            out.extend(own_table.clone().map(Node::Table));
        }
        Change::AddColumn { .. } | Change::AddConstraint { .. } => {
            out.extend(own_table.clone().map(Node::Table));
        }
        _ => return out,
    }
    if enforced.foreign_keys {
        for fk in &op.refs.foreign_keys {
            let target = names.table(&fk.target);
            if Some(&target) != own_table.as_ref() {
                out.push(Node::Table(target));
            }
        }
    }
    if enforced.other_dependencies {
        for (_, ty) in &op.refs.column_types {
            out.push(Node::Type(ty.clone()));
        }
        if let Some(f) = &op.refs.function {
            out.push(Node::Function(f.clone()));
        }
    }
    out
}

fn headline(statement: Option<&Statement>) -> String {
    // The statement up to its first parenthesis: `CREATE TABLE members`.
    let text = statement
        .map(|s| {
            let head = s.text.split('(').next().unwrap_or(&s.text);
            head.split_whitespace().collect::<Vec<_>>().join(" ")
        })
        .unwrap_or_default();
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(59).collect::<String>())
    } else {
        text
    }
}

/// The statements of the down that cannot run in the order written, one
/// issue each, placed at the down statement.
pub fn wrong_order(ops: &MigrationOperations<'_>) -> Vec<Issue> {
    let Some(down) = ops.down_file else {
        return Vec::new();
    };
    let (dialect, after) = (ops.dialect, ops.after);
    let up_ops = ops.up();
    let down_ops = ops.down_raw();
    let names = Names::new(up_ops);
    let fk_checks_off = dialect == Dialect::Mysql
        && down
            .statements
            .iter()
            .any(|s| s.words().any(|w| w == "FOREIGN_KEY_CHECKS"));
    let enforced = Enforced {
        foreign_keys: match dialect {
            Dialect::Postgres => true,
            Dialect::Mysql => !fk_checks_off,
            _ => false,
        },
        other_dependencies: dialect == Dialect::Postgres,
    };
    let graph = Graph::build(up_ops, &names, after, enforced);
    let mut issues = Vec::new();

    // Statement index → what it removes.
    let mut removals: BTreeMap<usize, Vec<(Node, bool, bool)>> = BTreeMap::new();
    for op in down_ops {
        if let Some(r) = removal(op, &names) {
            removals.entry(op.statement).or_default().push(r);
        }
    }
    // Node → the first statement that removes it (explicitly or with its
    // container), for "drop X first" hints.
    let mut first_removal: BTreeMap<Node, usize> = BTreeMap::new();
    for (&k, list) in &removals {
        for (node, _, _) in list {
            let mut set = BTreeSet::new();
            graph.closure(node, &mut set);
            for n in set {
                first_removal.entry(n).or_insert(k);
            }
        }
    }

    let mut gone: BTreeMap<Node, usize> = BTreeMap::new();
    for (&k, list) in &removals {
        let statement = down.statements.get(k);
        let at = statement.map(|s| s.span.start).unwrap_or_default();
        let this = headline(statement);
        let mut now = BTreeSet::new();
        for (node, _, cascade) in list {
            graph.closure(node, &mut now);
            if *cascade {
                for blocker in graph.blocked_by.get(node).into_iter().flatten() {
                    graph.closure(blocker, &mut now);
                }
            }
        }
        for (node, if_exists, cascade) in list {
            if let Some(&earlier) = gone.get(node) {
                if !if_exists {
                    let line = down.statements.get(earlier).map(|s| s.span.start.line);
                    issues.push(Issue {
                        statement: k,
                        at,
                        message: format!(
                            "`{this}` cannot run: {} is already gone, dropped with `{}` (line {})",
                            node.describe(),
                            headline(down.statements.get(earlier)),
                            line.unwrap_or(0)
                        ),
                        help: format!(
                            "move this statement before line {}, or leave it out: {} goes away with its container",
                            line.unwrap_or(0),
                            node.describe()
                        ),
                    });
                }
                continue;
            }
            if *cascade {
                continue;
            }
            for blocker in graph.blocked_by.get(node).into_iter().flatten() {
                if gone.contains_key(blocker) || now.contains(blocker) {
                    continue;
                }
                // Only an order problem when the down does drop it, later.
                let Some(&later) = first_removal.get(blocker) else {
                    continue;
                };
                if later <= k {
                    continue;
                }
                let line = down.statements.get(later).map(|s| s.span.start.line);
                issues.push(Issue {
                    statement: k,
                    at,
                    message: format!(
                        "`{this}` cannot run: {} still depends on {} until line {}",
                        blocker.describe(),
                        node.describe(),
                        line.unwrap_or(0)
                    ),
                    help: format!(
                        "drop the dependent object first: move `{}` (line {}) before this statement",
                        headline(down.statements.get(later)),
                        line.unwrap_or(0)
                    ),
                });
            }
        }
        for n in now {
            gone.entry(n).or_insert(k);
        }
    }

    // Re-creations: what the up dropped must come back parents first.
    let up_dropped: BTreeSet<Node> = up_ops
        .iter()
        .filter_map(|op| removal(op, &names).map(|(n, _, _)| n))
        .collect();
    let mut first_creation: BTreeMap<Node, usize> = BTreeMap::new();
    for op in down_ops {
        if let Some(node) = creation(op, &names) {
            first_creation.entry(node).or_insert(op.statement);
        }
    }
    let mut reported = BTreeSet::new();
    for op in down_ops {
        for need in needs(op, &names, enforced) {
            if !up_dropped.contains(&need) {
                continue;
            }
            let Some(&later) = first_creation.get(&need) else {
                continue;
            };
            if later <= op.statement || !reported.insert((op.statement, need.clone())) {
                continue;
            }
            let statement = down.statements.get(op.statement);
            let line = down.statements.get(later).map(|s| s.span.start.line);
            issues.push(Issue {
                statement: op.statement,
                at: statement.map(|s| s.span.start).unwrap_or_default(),
                message: format!(
                    "`{}` cannot run: it needs {}, which the up dropped and this down re-creates only at line {}",
                    headline(statement),
                    need.describe(),
                    line.unwrap_or(0)
                ),
                help: format!(
                    "re-create `{}` first: move `{}` (line {}) before this statement",
                    need.name(),
                    headline(down.statements.get(later)),
                    line.unwrap_or(0)
                ),
            });
        }
    }
    issues.sort_by_key(|i| i.statement);
    issues
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::parse_file;

    fn order(dialect: Dialect, history: &str, up: &str, down: &str) -> Vec<String> {
        let mut before = Catalog::new();
        for s in parse_file(history, dialect).statements {
            before.apply(&s, "0");
        }
        let up_file = parse_file(up, dialect);
        let mut after = before.clone();
        for s in &up_file.statements {
            after.apply(s, "1");
        }
        let down_file = parse_file(down, dialect);
        wrong_order(&MigrationOperations::replay(
            &up_file,
            Some(&down_file),
            &before,
            &after,
            dialect,
        ))
        .into_iter()
        .map(|i| format!("{}: {}", i.statement, i.message))
        .collect()
    }

    const UP: &str = "CREATE TABLE parent (id int PRIMARY KEY);\
                      CREATE TABLE child (id int, parent_id int REFERENCES parent(id));\
                      CREATE INDEX child_parent ON child (parent_id)";

    #[test]
    fn parent_after_child() {
        let pg = Dialect::Postgres;
        assert!(order(pg, "", UP, "DROP TABLE child; DROP TABLE parent").is_empty());
        assert!(order(pg, "", UP, "DROP TABLE child, parent").is_empty());
        assert!(order(pg, "", UP, "DROP TABLE parent CASCADE; DROP TABLE child").is_empty());
        let found = order(pg, "", UP, "DROP TABLE parent; DROP TABLE child");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("0: `DROP TABLE parent`"), "{found:?}");
        // SQLite does not enforce it on DROP TABLE.
        assert!(
            order(
                Dialect::Sqlite,
                "",
                UP,
                "DROP TABLE parent; DROP TABLE child"
            )
            .is_empty()
        );
    }

    #[test]
    fn mysql_enforces_table_level_foreign_keys_only() {
        let my = Dialect::Mysql;
        let down = "DROP TABLE parent; DROP TABLE child";
        assert!(order(my, "", UP, down).is_empty());
        let up = "CREATE TABLE parent (id int PRIMARY KEY);\
                  CREATE TABLE child (id int, parent_id int, FOREIGN KEY (parent_id) REFERENCES parent (id))";
        assert_eq!(order(my, "", up, down).len(), 1);
        let off = "SET FOREIGN_KEY_CHECKS = 0; DROP TABLE parent; DROP TABLE child";
        assert!(order(my, "", up, off).is_empty());
    }

    #[test]
    fn nothing_dropped_twice() {
        let pg = Dialect::Postgres;
        let found = order(
            pg,
            "",
            UP,
            "DROP TABLE child; DROP INDEX child_parent; DROP TABLE parent",
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("1: "), "{found:?}");
        assert!(
            order(
                pg,
                "",
                UP,
                "DROP TABLE child; DROP INDEX IF EXISTS child_parent; DROP TABLE parent"
            )
            .is_empty()
        );
        let found = order(
            pg,
            "CREATE TABLE users (id int)",
            "ALTER TABLE users ADD COLUMN email text; CREATE INDEX users_email ON users (email)",
            "ALTER TABLE users DROP COLUMN email; DROP INDEX users_email",
        );
        assert_eq!(found.len(), 1, "{found:?}");
    }

    #[test]
    fn types_functions_and_views() {
        let pg = Dialect::Postgres;
        let up = "CREATE TYPE mood AS ENUM ('a'); CREATE TABLE t (m mood);\
                  CREATE FUNCTION f() RETURNS trigger AS $$ BEGIN RETURN NEW; END $$ LANGUAGE plpgsql;\
                  CREATE TRIGGER trg BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION f();\
                  CREATE VIEW v AS SELECT m FROM t";
        assert!(
            order(
                pg,
                "",
                up,
                "DROP VIEW v; DROP TRIGGER trg ON t; DROP FUNCTION f; DROP TABLE t; DROP TYPE mood"
            )
            .is_empty()
        );
        let found = order(
            pg,
            "",
            up,
            "DROP TYPE mood; DROP FUNCTION f; DROP TABLE t; DROP VIEW v",
        );
        assert_eq!(found.len(), 3, "{found:?}");
    }

    #[test]
    fn recreate_parent_first() {
        let pg = Dialect::Postgres;
        let history = "CREATE TABLE parent (id int PRIMARY KEY); CREATE TABLE child (id int, parent_id int REFERENCES parent(id))";
        let up = "DROP TABLE child; DROP TABLE parent";
        let found = order(
            pg,
            history,
            up,
            "CREATE TABLE child (id int, parent_id int REFERENCES parent(id)); CREATE TABLE parent (id int PRIMARY KEY)",
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(order(
            pg,
            history,
            up,
            "CREATE TABLE parent (id int PRIMARY KEY); CREATE TABLE child (id int, parent_id int REFERENCES parent(id))",
        )
        .is_empty());
    }
}
