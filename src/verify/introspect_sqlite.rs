//! SQLite: the schema from `sqlite_schema` and the table-valued pragmas, so
//! that two tables built by different statements (a `CREATE TABLE` and an
//! `ALTER TABLE … ADD COLUMN`, or a rebuilt copy) compare by meaning rather
//! than by the text that created them.

use std::collections::BTreeMap;

use super::names::{GENERATED, sqlite_generated_index};
use super::schema::{Column, Constraint, ConstraintKind, Schema, Table, collapse};
use crate::db::{Backend, DbResult};

/// (table, foreign key id) → (referenced table, columns, referenced
/// columns, actions), gathered from `pragma_foreign_key_list` rows.
type ForeignKeys = BTreeMap<(String, String), (String, Vec<String>, Vec<String>, String)>;

const SKIP: &str = "('straddle_migrations', '_sqlx_migrations', '__diesel_schema_migrations')";

type Row = Vec<String>;

async fn rows<B: Backend>(db: &mut B, sql: &str) -> DbResult<Vec<Row>> {
    Ok(db
        .query_texts(sql, &[])
        .await?
        .into_iter()
        .map(|r| r.into_iter().map(Option::unwrap_or_default).collect())
        .collect())
}

fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

/// Splits SQL text into words and punctuation, dropping comments and
/// keeping quoted text whole.
fn tokens(sql: &str) -> Vec<String> {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '-' && chars.get(i + 1) == Some(&'-') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && chars.get(i + 1) == Some(&'*') {
            i += 2;
            while i + 1 < chars.len() && !(chars[i] == '*' && chars[i + 1] == '/') {
                i += 1;
            }
            i += 2;
        } else if matches!(c, '\'' | '"' | '`' | '[') {
            let close = if c == '[' { ']' } else { c };
            let start = i;
            i += 1;
            while i < chars.len() {
                if chars[i] == close {
                    if close != ']' && chars.get(i + 1) == Some(&close) {
                        i += 2;
                        continue;
                    }
                    break;
                }
                i += 1;
            }
            i = (i + 1).min(chars.len());
            out.push(chars[start..i].iter().collect());
        } else if c.is_alphanumeric() || c == '_' || c == '$' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$')
            {
                i += 1;
            }
            out.push(chars[start..i].iter().collect());
        } else {
            out.push(c.to_string());
            i += 1;
        }
    }
    out
}

/// Joins tokens back with single spaces, without spaces inside parentheses
/// and before commas, so that formatting never matters.
fn join(tokens: &[String]) -> String {
    let mut out = String::new();
    for t in tokens {
        let glue = !(out.is_empty() || out.ends_with('(') || t == ")" || t == "," || t == "(");
        if glue {
            out.push(' ');
        }
        out.push_str(t);
    }
    out
}

/// `CHECK (…)` clauses of a `CREATE TABLE`, and its options after the
/// closing parenthesis.
fn table_clauses(sql: &str) -> (Vec<String>, Vec<String>) {
    let toks = tokens(sql);
    let mut checks = Vec::new();
    let mut depth = 0i32;
    let mut end = toks.len();
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        if t == "(" {
            depth += 1;
        } else if t == ")" {
            depth -= 1;
            if depth == 0 {
                end = i + 1;
            }
        } else if t.eq_ignore_ascii_case("CHECK") && toks.get(i + 1).is_some_and(|n| n == "(") {
            let start = i + 1;
            let mut d = 0;
            let mut j = start;
            while j < toks.len() {
                if toks[j] == "(" {
                    d += 1;
                } else if toks[j] == ")" {
                    d -= 1;
                    if d == 0 {
                        break;
                    }
                }
                j += 1;
            }
            let inner = &toks[start + 1..j.min(toks.len())];
            checks.push(format!("CHECK ({})", join(inner)));
        }
        i += 1;
    }
    let mut options: Vec<String> = Vec::new();
    let tail: Vec<String> = toks[end.min(toks.len())..]
        .iter()
        .map(|t| t.to_ascii_lowercase())
        .collect();
    if tail
        .windows(2)
        .any(|w| w[0] == "without" && w[1] == "rowid")
    {
        options.push("without rowid".to_string());
    }
    if tail.iter().any(|t| t == "strict") {
        options.push("strict".to_string());
    }
    if toks.iter().any(|t| t.eq_ignore_ascii_case("AUTOINCREMENT")) {
        options.push("autoincrement".to_string());
    }
    checks.sort();
    (checks, options)
}

/// The `WHERE` clause of a partial index.
fn index_where(sql: &str) -> Option<String> {
    let toks = tokens(sql);
    let mut depth = 0;
    for (i, t) in toks.iter().enumerate() {
        match t.as_str() {
            "(" => depth += 1,
            ")" => depth -= 1,
            _ if depth == 0 && t.eq_ignore_ascii_case("WHERE") => {
                return Some(join(&toks[i + 1..]));
            }
            _ => {}
        }
    }
    None
}

/// Reads the schema of the connected SQLite database.
pub async fn introspect<B: Backend>(db: &mut B) -> DbResult<Schema> {
    let mut schema = Schema::default();
    let objects = rows(
        db,
        &format!(
            "SELECT type, name, tbl_name, sql FROM sqlite_schema \
             WHERE name NOT LIKE 'sqlite_%' AND tbl_name NOT IN {SKIP}"
        ),
    )
    .await?;
    let mut index_sql: BTreeMap<String, String> = BTreeMap::new();
    for r in &objects {
        match r[0].as_str() {
            "table" => {
                let (checks, options) = table_clauses(&r[3]);
                let mut table = Table {
                    sql_name: quote(&r[1]),
                    options: options.join(", "),
                    ..Table::default()
                };
                for (n, c) in checks.into_iter().enumerate() {
                    table.constraints.push(Constraint {
                        name: format!("check {}", n + 1),
                        kind: ConstraintKind::Check,
                        columns: Vec::new(),
                        references: None,
                        definition: c,
                    });
                }
                schema.tables.insert(r[1].clone(), table);
            }
            "index" => {
                index_sql.insert(r[1].clone(), r[3].clone());
            }
            "view" => schema
                .objects
                .push(format!("view {}: {}", r[1], join(&tokens(&r[3])))),
            "trigger" => schema.objects.push(format!(
                "trigger {}.{}: {}",
                r[2],
                r[1],
                join(&tokens(&r[3]))
            )),
            other => schema.objects.push(format!("{other} {}", r[1])),
        }
    }

    let filter =
        format!("m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT IN {SKIP}");
    let cols = rows(
        db,
        &format!(
            "SELECT m.name, p.cid, p.name, p.type, p.\"notnull\", p.dflt_value, p.pk, p.hidden \
             FROM sqlite_schema m JOIN pragma_table_xinfo(m.name) p WHERE {filter} ORDER BY m.name, p.cid"
        ),
    )
    .await?;
    let mut pks: BTreeMap<String, Vec<(i64, String)>> = BTreeMap::new();
    for r in &cols {
        let pk: i64 = r[6].parse().unwrap_or(0);
        if pk > 0 {
            pks.entry(r[0].clone())
                .or_default()
                .push((pk, r[2].clone()));
        }
    }
    for r in cols {
        let Some(t) = schema.tables.get_mut(&r[0]) else {
            continue;
        };
        let ty = collapse(&r[3]).to_ascii_uppercase();
        let hidden: i64 = r[7].parse().unwrap_or(0);
        let table_pk = pks.get(&r[0]).map(Vec::len).unwrap_or(0);
        let rowid_alias =
            ty == "INTEGER" && r[6] == "1" && table_pk == 1 && !t.options.contains("without rowid");
        let mut extra = Vec::new();
        if hidden == 2 || hidden == 3 {
            extra.push("generated".to_string());
        }
        t.columns.push(Column {
            name: r[2].clone(),
            ty: ty.clone(),
            kind: ty,
            not_null: r[4] == "1",
            default: (!r[5].is_empty()).then(|| r[5].clone()),
            automatic: rowid_alias || hidden == 2 || hidden == 3,
            extra: extra.join(" "),
        });
    }
    for (table, mut key) in pks {
        key.sort();
        let cols: Vec<String> = key.into_iter().map(|(_, c)| c).collect();
        if let Some(t) = schema.tables.get_mut(&table) {
            t.constraints.push(Constraint {
                name: "primary key".to_string(),
                kind: ConstraintKind::Primary,
                columns: cols.clone(),
                references: None,
                definition: format!("PRIMARY KEY ({})", cols.join(", ")),
            });
        }
    }

    let idx = rows(
        db,
        &format!(
            "SELECT m.name, il.name, il.\"unique\", il.origin, il.partial, ii.seqno, ii.name, ii.\"desc\", ii.coll \
             FROM sqlite_schema m JOIN pragma_index_list(m.name) il JOIN pragma_index_xinfo(il.name) ii \
             WHERE {filter} AND ii.key = 1 ORDER BY m.name, il.name, ii.seqno"
        ),
    )
    .await?;
    let mut indexes: BTreeMap<(String, String), (bool, String, Vec<String>)> = BTreeMap::new();
    for r in idx {
        let entry = indexes
            .entry((r[0].clone(), r[1].clone()))
            .or_insert_with(|| (r[2] == "1", r[3].clone(), Vec::new()));
        let mut col = if r[6].is_empty() {
            "(expression)".to_string()
        } else {
            r[6].clone()
        };
        if r[7] == "1" {
            col.push_str(" DESC");
        }
        if !r[8].is_empty() && !r[8].eq_ignore_ascii_case("BINARY") {
            col.push_str(&format!(" COLLATE {}", r[8]));
        }
        entry.2.push(col);
    }
    for ((table, name), (unique, origin, cols)) in indexes {
        let Some(t) = schema.tables.get_mut(&table) else {
            continue;
        };
        if origin == "pk" {
            continue; // the primary key constraint says it
        }
        if origin == "u" || sqlite_generated_index(&name) {
            t.constraints.push(Constraint {
                name: format!("unique{GENERATED}"),
                kind: ConstraintKind::Unique,
                columns: cols.clone(),
                references: None,
                definition: format!("UNIQUE ({})", cols.join(", ")),
            });
            continue;
        }
        let sql = index_sql.get(&name).cloned().unwrap_or_default();
        let mut line = format!(
            "index {table}.{name}: {}({})",
            if unique { "UNIQUE " } else { "" },
            cols.join(", ")
        );
        if cols.iter().any(|c| c.starts_with("(expression)")) {
            line.push_str(&format!(" [{}]", join(&tokens(&sql))));
        }
        if let Some(w) = index_where(&sql) {
            line.push_str(&format!(" WHERE {w}"));
        }
        t.lines.push(line);
    }

    let fks = rows(
        db,
        &format!(
            "SELECT m.name, f.id, f.seq, f.\"table\", f.\"from\", f.\"to\", f.on_update, f.on_delete \
             FROM sqlite_schema m JOIN pragma_foreign_key_list(m.name) f WHERE {filter} \
             ORDER BY m.name, f.id, f.seq"
        ),
    )
    .await?;
    let mut foreign: ForeignKeys = BTreeMap::new();
    for r in fks {
        let entry = foreign
            .entry((r[0].clone(), r[1].clone()))
            .or_insert_with(|| {
                (
                    r[3].clone(),
                    Vec::new(),
                    Vec::new(),
                    format!("on update {} on delete {}", r[6], r[7]),
                )
            });
        entry.1.push(r[4].clone());
        entry.2.push(r[5].clone());
    }
    let pk_of = |schema: &Schema, table: &str| -> Vec<String> {
        schema
            .tables
            .get(table)
            .and_then(|t| {
                t.constraints
                    .iter()
                    .find(|k| k.kind == ConstraintKind::Primary)
            })
            .map(|k| k.columns.clone())
            .unwrap_or_default()
    };
    let mut built = Vec::new();
    for ((table, _), (target, from, to, rules)) in foreign {
        let to = if to.iter().all(String::is_empty) {
            pk_of(&schema, &target)
        } else {
            to
        };
        built.push((table, target, from, to, rules));
    }
    for (table, target, from, to, rules) in built {
        if let Some(t) = schema.tables.get_mut(&table) {
            t.constraints.push(Constraint {
                name: format!("foreign key ({})", from.join(", ")),
                kind: ConstraintKind::Foreign,
                columns: from.clone(),
                references: Some((target.clone(), to.clone())),
                definition: format!(
                    "FOREIGN KEY ({}) REFERENCES {target}({}) {rules}",
                    from.join(", "),
                    to.join(", ")
                ),
            });
        }
    }
    for t in schema.tables.values_mut() {
        t.constraints
            .sort_by(|a, b| (&a.name, &a.definition).cmp(&(&b.name, &b.definition)));
    }
    Ok(schema)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_and_options_ignore_formatting() {
        let (checks, options) = table_clauses(
            "CREATE TABLE t (a INTEGER PRIMARY KEY AUTOINCREMENT, b TEXT CHECK(length(b)  < 10),\n CHECK (a>0)) WITHOUT ROWID",
        );
        assert_eq!(checks, vec!["CHECK (a > 0)", "CHECK (length(b) < 10)"]);
        assert_eq!(options, vec!["without rowid", "autoincrement"]);
        assert_eq!(
            index_where("CREATE INDEX i ON t (a) WHERE b IS NOT NULL").as_deref(),
            Some("b IS NOT NULL")
        );
    }
}
