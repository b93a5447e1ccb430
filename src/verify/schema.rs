//! The schema of a scratch database as a structured model (for generating
//! rows) and as sorted, normalised text lines (for comparing two states).
//!
//! Names the database generated itself are already normalised by the
//! introspection ([`super::names`]); the physical column order is kept apart
//! so that a changed order alone is a warning, not a difference.

use std::collections::{BTreeMap, BTreeSet};

use similar::TextDiff;

/// What kind of value a column holds, enough to generate one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    /// The type as the catalog shows it (`character varying(255)`,
    /// `int(11) unsigned`, `TEXT`).
    pub ty: String,
    /// A hint for generating values: PostgreSQL's type category and base
    /// type, MySQL's `DATA_TYPE`, SQLite's declared type.
    pub kind: String,
    pub not_null: bool,
    pub default: Option<String>,
    /// Filled in by the database (identity, serial, auto-increment,
    /// generated column, SQLite's rowid alias): never given a value.
    pub automatic: bool,
    /// Everything else worth comparing: identity, collation, comment.
    pub extra: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ConstraintKind {
    Primary,
    Unique,
    Foreign,
    Check,
    Other,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Constraint {
    /// The name as shown (normalised when the database generated it).
    pub name: String,
    pub kind: ConstraintKind,
    pub columns: Vec<String>,
    /// Foreign keys: the referenced table (its key in [`Schema::tables`])
    /// and columns.
    pub references: Option<(String, Vec<String>)>,
    /// The definition as the catalog prints it.
    pub definition: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Table {
    /// The table as SQL names it (quoted, schema-qualified when needed).
    pub sql_name: String,
    /// Persistence, engine, options…
    pub options: String,
    /// In physical order.
    pub columns: Vec<Column>,
    pub constraints: Vec<Constraint>,
    /// Normalised lines of indexes, triggers, comments, policies.
    pub lines: Vec<String>,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// One state of a database's schema.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Schema {
    /// Keyed by the display name (`users`, `audit.events`).
    pub tables: BTreeMap<String, Table>,
    /// Every other object (views, functions, sequences, types, extensions),
    /// one normalised line each.
    pub objects: Vec<String>,
    /// Enum types, by the name columns show them with → labels in order.
    pub enums: BTreeMap<String, Vec<String>>,
}

/// Collapses runs of whitespace to one space and trims.
pub fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Schema {
    /// The sorted, normalised text of this schema (column order left out).
    pub fn render(&self) -> String {
        let mut lines: Vec<String> = Vec::new();
        for (name, t) in &self.tables {
            let options = if t.options.is_empty() {
                String::new()
            } else {
                format!(" ({})", t.options)
            };
            lines.push(format!("table {name}{options}"));
            for c in &t.columns {
                let mut line = format!("column {name}.{}: {}", c.name, c.ty);
                if c.not_null {
                    line.push_str(" not null");
                }
                if let Some(d) = &c.default {
                    line.push_str(" default ");
                    line.push_str(d);
                }
                if !c.extra.is_empty() {
                    line.push(' ');
                    line.push_str(&c.extra);
                }
                lines.push(line);
            }
            for k in &t.constraints {
                lines.push(format!("constraint {name}.{}: {}", k.name, k.definition));
            }
            lines.extend(t.lines.iter().cloned());
        }
        lines.extend(self.objects.iter().cloned());
        lines.sort();
        let mut out = lines.join("\n");
        if !out.is_empty() {
            out.push('\n');
        }
        out
    }

    /// Each table's columns in physical order.
    pub fn column_order(&self) -> BTreeMap<&str, Vec<&str>> {
        self.tables
            .iter()
            .map(|(n, t)| {
                (
                    n.as_str(),
                    t.columns.iter().map(|c| c.name.as_str()).collect(),
                )
            })
            .collect()
    }
}

/// How two schema states differ.
#[derive(Clone, Debug, Default)]
pub struct Comparison {
    /// A unified diff of the normalised text; `None` when equal.
    pub diff: Option<String>,
    /// Tables whose columns are the same but in another order: one message
    /// each.
    pub column_order: Vec<String>,
}

impl Comparison {
    pub fn is_equal(&self) -> bool {
        self.diff.is_none() && self.column_order.is_empty()
    }
}

/// Compares `before` with `after`; the labels head the diff.
pub fn compare(
    before: &Schema,
    after: &Schema,
    before_label: &str,
    after_label: &str,
) -> Comparison {
    let a = before.render();
    let b = after.render();
    let diff = if a == b {
        None
    } else {
        let text = TextDiff::from_lines(&a, &b)
            .unified_diff()
            .context_radius(2)
            .header(before_label, after_label)
            .to_string();
        Some(text)
    };
    let mut column_order = Vec::new();
    let old = before.column_order();
    let new = after.column_order();
    for (table, cols) in &old {
        let Some(now) = new.get(table) else { continue };
        if cols == now {
            continue;
        }
        let set_a: BTreeSet<&&str> = cols.iter().collect();
        let set_b: BTreeSet<&&str> = now.iter().collect();
        if set_a == set_b {
            column_order.push(format!(
                "table {table}: columns were ({}), now ({})",
                cols.join(", "),
                now.join(", ")
            ));
        }
    }
    Comparison { diff, column_order }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(cols: &[&str]) -> Table {
        Table {
            sql_name: "t".into(),
            columns: cols
                .iter()
                .map(|c| Column {
                    name: c.to_string(),
                    ty: "integer".into(),
                    ..Column::default()
                })
                .collect(),
            ..Table::default()
        }
    }

    #[test]
    fn column_order_alone_is_not_a_difference() {
        let mut a = Schema::default();
        a.tables.insert("t".into(), table(&["a", "b", "c"]));
        let mut b = Schema::default();
        b.tables.insert("t".into(), table(&["a", "c", "b"]));
        let cmp = compare(&a, &b, "before", "after");
        assert!(cmp.diff.is_none());
        assert_eq!(cmp.column_order.len(), 1);
        let mut c = Schema::default();
        c.tables.insert("t".into(), table(&["a", "b"]));
        let cmp = compare(&a, &c, "before", "after");
        let diff = cmp.diff.unwrap();
        assert!(diff.contains("-column t.c: integer"), "{diff}");
        assert!(cmp.column_order.is_empty());
    }
}
