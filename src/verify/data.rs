//! Data survival: a few generated rows in every table before each
//! migration, per-table row counts and per-column checksums, and the
//! comparison that tells lost data from changed data.

use std::collections::{BTreeMap, BTreeSet};

use super::schema::{Column, ConstraintKind, Schema, Table};
use crate::db::{Backend, DbResult};
use crate::dialect::Dialect;

/// What one column holds: how many values are not NULL, and an
/// order-independent checksum of them.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ColumnData {
    pub values: u64,
    pub checksum: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct TableData {
    pub rows: u64,
    pub columns: BTreeMap<String, ColumnData>,
}

/// The data of every table, by the table's key in [`Schema::tables`].
pub type Data = BTreeMap<String, TableData>;

/// True when some table holds a row.
pub fn has_rows(data: &Data) -> bool {
    data.values().any(|t| t.rows > 0)
}

fn quote(dialect: Dialect, ident: &str) -> String {
    match dialect {
        Dialect::Mysql => format!("`{}`", ident.replace('`', "``")),
        _ => format!("\"{}\"", ident.replace('"', "\"\"")),
    }
}

fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// FNV-1a, 60 bits: a stable hash for the SQLite checksums computed here.
fn hash60(text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h >> 4
}

/// Row counts and column checksums of every table in `schema`.
pub async fn capture<B: Backend>(db: &mut B, dialect: Dialect, schema: &Schema) -> DbResult<Data> {
    let mut data = Data::new();
    if schema.tables.is_empty() {
        return Ok(data);
    }
    if dialect == Dialect::Sqlite {
        for (key, t) in &schema.tables {
            let cols: Vec<String> = t
                .columns
                .iter()
                .map(|c| format!("quote({})", quote(dialect, &c.name)))
                .collect();
            let sql = if cols.is_empty() {
                format!("SELECT 1 FROM {}", t.sql_name)
            } else {
                format!("SELECT {} FROM {}", cols.join(", "), t.sql_name)
            };
            let rows = db.query_texts(&sql, &[]).await?;
            let mut table = TableData {
                rows: rows.len() as u64,
                ..TableData::default()
            };
            for (i, c) in t.columns.iter().enumerate() {
                let mut values = 0u64;
                let mut sum = 0u128;
                for r in &rows {
                    let cell = r.get(i).cloned().flatten().unwrap_or_default();
                    if cell != "NULL" {
                        values += 1;
                        sum += u128::from(hash60(&cell));
                    }
                }
                table.columns.insert(
                    c.name.clone(),
                    ColumnData {
                        values,
                        checksum: sum.to_string(),
                    },
                );
            }
            data.insert(key.clone(), table);
        }
        return Ok(data);
    }
    if dialect == Dialect::Postgres {
        return capture_postgres(db, schema).await;
    }
    let mut parts = Vec::new();
    for (key, t) in &schema.tables {
        let mut exprs = vec!["CAST(COUNT(*) AS CHAR)".to_string()];
        for c in &t.columns {
            let q = quote(dialect, &c.name);
            exprs.push(format!(
                "CONCAT(COUNT({q}), ':', COALESCE(SUM(CAST(CONV(SUBSTRING(MD5({q}), 1, 15), 16, 10) AS UNSIGNED)), 0))"
            ));
        }
        parts.push(format!(
            "SELECT CAST({} AS CHAR), (SELECT CAST(CONCAT_WS(CHAR(31), {}) AS CHAR) FROM {})",
            literal(key),
            exprs.join(", "),
            t.sql_name
        ));
    }
    let rows = db.query_texts(&parts.join(" UNION ALL "), &[]).await?;
    for r in rows {
        let key = r.first().cloned().flatten().unwrap_or_default();
        let text = r.get(1).cloned().flatten().unwrap_or_default();
        let Some(t) = schema.tables.get(&key) else {
            continue;
        };
        let mut cells = text.split('\u{1f}');
        let mut table = TableData {
            rows: cells.next().and_then(|c| c.parse().ok()).unwrap_or(0),
            ..TableData::default()
        };
        for c in &t.columns {
            let cell = cells.next().unwrap_or("0:0");
            let (values, checksum) = cell.split_once(':').unwrap_or((cell, "0"));
            table.columns.insert(
                c.name.clone(),
                ColumnData {
                    values: values.parse().unwrap_or(0),
                    checksum: checksum.to_string(),
                },
            );
        }
        data.insert(key, table);
    }
    Ok(data)
}

/// PostgreSQL: one query per table, whose text changes only when the
/// table's columns do, so that its plan stays prepared across migrations
/// (one query over every table would be planned again after each DDL).
async fn capture_postgres<B: Backend>(db: &mut B, schema: &Schema) -> DbResult<Data> {
    let mut data = Data::new();
    for (key, t) in &schema.tables {
        let mut exprs = vec!["count(*)::text".to_string()];
        for c in &t.columns {
            let q = quote(Dialect::Postgres, &c.name);
            exprs.push(format!(
                "count({q})::text || ':' || coalesce(sum(('x' || substr(md5({q}::text), 1, 15))::bit(60)::bigint), 0)::text"
            ));
        }
        let sql = format!("SELECT {} FROM {}", exprs.join(", "), t.sql_name);
        let row = db
            .query_texts(&sql, &[])
            .await?
            .into_iter()
            .next()
            .unwrap_or_default();
        let mut cells = row.into_iter().map(Option::unwrap_or_default);
        let mut table = TableData {
            rows: cells.next().and_then(|c| c.parse().ok()).unwrap_or(0),
            ..TableData::default()
        };
        for c in &t.columns {
            let cell = cells.next().unwrap_or_default();
            let (values, checksum) = cell.split_once(':').unwrap_or(("0", "0"));
            table.columns.insert(
                c.name.clone(),
                ColumnData {
                    values: values.parse().unwrap_or(0),
                    checksum: checksum.to_string(),
                },
            );
        }
        data.insert(key.clone(), table);
    }
    Ok(data)
}

/// What a comparison of two data states found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DataChanges {
    /// Data that is gone: dropped tables or columns that held values, fewer
    /// rows, fewer values.
    pub lost: Vec<String>,
    /// Values that are still there but different.
    pub changed: Vec<String>,
}

impl DataChanges {
    pub fn is_empty(&self) -> bool {
        self.lost.is_empty() && self.changed.is_empty()
    }
}

fn same_values(a: &ColumnData, b: &ColumnData) -> bool {
    a.values == b.values && a.checksum == b.checksum
}

/// Compares the data of the tables in `before` with `after`. A table or
/// column that only changed its name (same rows, same values) is not lost.
pub fn compare(before: &Data, after: &Data) -> DataChanges {
    let mut out = DataChanges::default();
    for (name, old) in before {
        if old.rows == 0 {
            continue;
        }
        let Some(new) = after.get(name) else {
            let renamed = after.iter().any(|(n, t)| {
                !before.contains_key(n)
                    && t.rows == old.rows
                    && old
                        .columns
                        .values()
                        .filter(|c| c.values > 0)
                        .all(|c| t.columns.values().any(|d| same_values(c, d)))
            });
            if !renamed {
                out.lost.push(format!(
                    "table {name} was dropped with its {} row(s)",
                    old.rows
                ));
            }
            continue;
        };
        if new.rows < old.rows {
            out.lost.push(format!(
                "table {name}: {} of {} row(s) deleted",
                old.rows - new.rows,
                old.rows
            ));
            continue;
        }
        for (col, c) in &old.columns {
            match new.columns.get(col) {
                None => {
                    if c.values == 0 {
                        continue;
                    }
                    let renamed = new
                        .columns
                        .iter()
                        .any(|(n, d)| !old.columns.contains_key(n) && same_values(c, d));
                    if !renamed {
                        out.lost.push(format!(
                            "column {name}.{col} was dropped with {} value(s)",
                            c.values
                        ));
                    }
                }
                Some(d) if d.values < c.values && new.rows == old.rows => {
                    out.lost.push(format!(
                        "column {name}.{col}: {} of {} value(s) became NULL",
                        c.values - d.values,
                        c.values
                    ));
                }
                Some(d) if new.rows == old.rows && d.checksum != c.checksum => {
                    out.changed
                        .push(format!("column {name}.{col}: values changed"));
                }
                _ => {}
            }
        }
    }
    out
}

/// Fills tables with a few generated rows.
pub struct Filler {
    /// Rows wanted in every table.
    pub rows: u64,
    salt: String,
    /// Tables that could not be filled, by their shape when it failed: not
    /// tried again until the table changes.
    failed: BTreeMap<String, String>,
}

/// The result of one fill.
#[derive(Debug, Default)]
pub struct Filled {
    pub inserted: u64,
    /// Tables that could not be filled (first time only), with the reason.
    pub skipped: Vec<String>,
}

enum Value {
    Sql(String),
    Default,
    Impossible(String),
}

fn shape(t: &Table) -> String {
    format!("{:?}|{:?}", t.columns, t.constraints)
}

fn type_length(ty: &str) -> Option<usize> {
    let open = ty.find('(')?;
    let close = ty[open..].find(')')? + open;
    ty[open + 1..close].split(',').next()?.trim().parse().ok()
}

fn uuid() -> String {
    let hex: String = (0..32)
        .map(|_| char::from_digit(fastrand::u32(0..16), 16).unwrap_or('0'))
        .collect();
    format!(
        "{}-{}-4{}-8{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

impl Filler {
    pub fn new(rows: u64) -> Filler {
        // Digits: a valid text, but also a valid number and JSON value when
        // a later migration casts the column.
        let salt = fastrand::u32(1000..10000).to_string();
        Filler {
            rows,
            salt,
            failed: BTreeMap::new(),
        }
    }

    /// A text value for row `i`, at most `max` characters, distinct per row.
    fn text(&self, i: u64, max: Option<usize>) -> String {
        let full = format!("{}{i}", self.salt);
        match max {
            Some(n) if n < full.len() => full[full.len() - n..].to_string(),
            _ => full,
        }
    }

    fn value(&self, dialect: Dialect, schema: &Schema, c: &Column, i: u64) -> Value {
        let kind = c.kind.as_str();
        let ty = c.ty.to_ascii_lowercase();
        let day = (i % 28) + 1;
        let v = match dialect {
            Dialect::Postgres => {
                let (cat, base) = kind.split_once(':').unwrap_or((kind, ""));
                let category = cat.chars().nth(1).unwrap_or('X');
                match category {
                    'A' => Some("'{}'".to_string()),
                    'E' => schema.enums.get(base).and_then(|labels| {
                        (!labels.is_empty())
                            .then(|| literal(&labels[(i as usize - 1) % labels.len()]))
                    }),
                    'B' => Some(if i % 2 == 1 { "true" } else { "false" }.to_string()),
                    'N' => Some(i.to_string()),
                    'S' => {
                        let max = if base.starts_with("character") || base.starts_with("bpchar") {
                            type_length(&ty)
                        } else {
                            None
                        };
                        Some(literal(&self.text(i, max)))
                    }
                    'D' => Some(if base == "date" {
                        format!("'2024-01-{day:02}'")
                    } else if base.starts_with("time ") || base == "time" {
                        format!("'12:00:{day:02}'")
                    } else {
                        format!("'2024-01-{day:02} 12:00:00'")
                    }),
                    'T' => Some(format!("'{i} days'")),
                    'U' => match base {
                        "uuid" => Some(literal(&uuid())),
                        "json" | "jsonb" => Some(format!("'{{\"straddle\": {i}}}'")),
                        "bytea" => Some(format!("'\\x{i:02x}'")),
                        "xml" => Some("'<straddle/>'".to_string()),
                        "tsvector" | "hstore" => Some("''".to_string()),
                        "ltree" => Some(literal(&self.text(i, None))),
                        _ => None,
                    },
                    'I' => Some(if base == "cidr" {
                        format!("'10.0.{i}.0/24'")
                    } else {
                        format!("'10.0.0.{i}'")
                    }),
                    'V' => {
                        let n = if base == "bit" {
                            type_length(&ty).unwrap_or(1)
                        } else {
                            1
                        };
                        Some(format!("B'{}1'", "0".repeat(n.saturating_sub(1))))
                    }
                    'R' => Some("'empty'".to_string()),
                    _ => None,
                }
            }
            Dialect::Mysql => match kind {
                "tinyint" | "smallint" | "mediumint" | "int" | "integer" | "bigint" | "decimal"
                | "numeric" | "float" | "double" | "real" => Some(i.to_string()),
                "bit" => Some("b'1'".to_string()),
                "char" | "varchar" | "tinytext" | "text" | "mediumtext" | "longtext" => {
                    let max = type_length(&ty);
                    // Digits are also valid JSON: MariaDB's JSON columns are
                    // text with a json_valid() check.
                    Some(literal(&self.text(i, max)))
                }
                "binary" | "varbinary" | "tinyblob" | "blob" | "mediumblob" | "longblob" => {
                    Some(literal(&self.text(i, type_length(&ty))))
                }
                "date" => Some(format!("'2024-01-{day:02}'")),
                "datetime" | "timestamp" => Some(format!("'2024-01-{day:02} 12:00:00'")),
                "time" => Some(format!("'12:00:{day:02}'")),
                "year" => Some("2024".to_string()),
                "json" => Some(format!("'{{\"straddle\": {i}}}'")),
                "uuid" => Some(literal(&uuid())),
                "inet4" => Some(format!("'10.0.0.{i}'")),
                "inet6" => Some(format!("'::{i}'")),
                "enum" => {
                    let labels: Vec<String> =
                        c.ty.trim_start_matches("enum(")
                            .trim_end_matches(')')
                            .split(',')
                            .map(|l| l.trim().trim_matches('\'').replace("''", "'"))
                            .collect();
                    (!labels.is_empty()).then(|| literal(&labels[(i as usize - 1) % labels.len()]))
                }
                "set" => Some("''".to_string()),
                _ => None,
            },
            Dialect::Sqlite => {
                let t = kind.to_ascii_uppercase();
                Some(if t.is_empty() || t.contains("INT") {
                    i.to_string()
                } else if t.contains("JSON") {
                    format!("'{{\"straddle\": {i}}}'")
                } else if t.contains("UUID") {
                    literal(&uuid())
                } else if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") {
                    literal(&self.text(i, None))
                } else if t.contains("BLOB") {
                    format!("X'{i:02x}'")
                } else if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") {
                    format!("{i}.5")
                } else if t.contains("BOOL") {
                    (i % 2).to_string()
                } else if t.contains("DATETIME") || t.contains("TIMESTAMP") {
                    format!("'2024-01-{day:02} 12:00:00'")
                } else if t.contains("DATE") {
                    format!("'2024-01-{day:02}'")
                } else if t.contains("TIME") {
                    format!("'12:00:{day:02}'")
                } else {
                    i.to_string()
                })
            }
        };
        match v {
            Some(v) => Value::Sql(v),
            None => Value::Impossible(format!("no value of type {} for column {}", c.ty, c.name)),
        }
    }

    fn column_value(&self, at: &Filling<'_>, key: &str, t: &Table, c: &Column, i: u64) -> Value {
        let (dialect, schema, counts) = (at.dialect, at.schema, at.counts);
        if c.automatic {
            return Value::Default;
        }
        let fk = t
            .constraints
            .iter()
            .find(|k| k.kind == ConstraintKind::Foreign && k.columns.iter().any(|n| n == &c.name));
        if let Some(k) = fk
            && let Some((target, ref_cols)) = &k.references
        {
            let null_or = |reason: String| {
                if c.not_null {
                    Value::Impossible(reason)
                } else {
                    Value::Sql("NULL".to_string())
                }
            };
            if target == key {
                return null_or(format!("column {} references its own table", c.name));
            }
            let Some(target_table) = schema.tables.get(target) else {
                return null_or(format!(
                    "column {} references unknown table {target}",
                    c.name
                ));
            };
            let rows = counts.get(target).copied().unwrap_or(0);
            if rows == 0 {
                return null_or(format!(
                    "column {} references {target}, which has no rows",
                    c.name
                ));
            }
            let pos = k.columns.iter().position(|n| n == &c.name).unwrap_or(0);
            let Some(ref_col) = ref_cols.get(pos) else {
                return null_or(format!("foreign key of column {} is incomplete", c.name));
            };
            let order: Vec<String> = ref_cols.iter().map(|r| quote(dialect, r)).collect();
            return Value::Sql(format!(
                "(SELECT {} FROM {} ORDER BY {} LIMIT 1 OFFSET {})",
                quote(dialect, ref_col),
                target_table.sql_name,
                order.join(", "),
                (i - 1) % rows
            ));
        }
        if c.default.is_some() {
            return Value::Default;
        }
        match self.value(dialect, schema, c, i) {
            Value::Impossible(reason) if !c.not_null => {
                let _ = reason;
                Value::Sql("NULL".to_string())
            }
            v => v,
        }
    }

    /// Tables in an order where referenced tables come first.
    fn order(schema: &Schema) -> Vec<String> {
        let mut deps: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for (name, t) in &schema.tables {
            let set = deps.entry(name.as_str()).or_default();
            for k in &t.constraints {
                if let Some((target, _)) = &k.references
                    && target != name
                    && schema.tables.contains_key(target)
                {
                    set.insert(target.as_str());
                }
            }
        }
        let mut done: Vec<String> = Vec::new();
        let mut placed: BTreeSet<&str> = BTreeSet::new();
        loop {
            let ready: Vec<&str> = deps
                .iter()
                .filter(|(n, d)| !placed.contains(*n) && d.iter().all(|x| placed.contains(x)))
                .map(|(n, _)| *n)
                .collect();
            if ready.is_empty() {
                break;
            }
            for n in ready {
                placed.insert(n);
                done.push(n.to_string());
            }
        }
        for n in deps.keys() {
            if !placed.contains(n) {
                done.push(n.to_string());
            }
        }
        done
    }

    /// Tops every table up to [`Filler::rows`] rows. Each row is its own
    /// statement (autocommit): a row the table refuses is simply not there.
    pub async fn fill<B: Backend>(
        &mut self,
        db: &mut B,
        dialect: Dialect,
        schema: &Schema,
        data: &Data,
    ) -> DbResult<Filled> {
        let mut filled = Filled::default();
        if self.rows == 0 {
            return Ok(filled);
        }
        let mut counts: BTreeMap<String, u64> =
            data.iter().map(|(k, t)| (k.clone(), t.rows)).collect();
        for key in Self::order(schema) {
            let Some(t) = schema.tables.get(&key) else {
                continue;
            };
            let have = counts.get(&key).copied().unwrap_or(0);
            if have >= self.rows {
                continue;
            }
            let now = shape(t);
            if self.failed.get(&key) == Some(&now) {
                continue;
            }
            let mut problem = None;
            for i in have + 1..=self.rows {
                let mut cols = Vec::new();
                let mut vals = Vec::new();
                for c in &t.columns {
                    let at = Filling {
                        dialect,
                        schema,
                        counts: &counts,
                    };
                    match self.column_value(&at, &key, t, c, i) {
                        Value::Sql(v) => {
                            cols.push(quote(dialect, &c.name));
                            vals.push(v);
                        }
                        Value::Default => {}
                        Value::Impossible(reason) => {
                            problem = Some(reason);
                            break;
                        }
                    }
                }
                if problem.is_some() {
                    break;
                }
                let sql = if cols.is_empty() {
                    match dialect {
                        Dialect::Mysql => format!("INSERT INTO {} () VALUES ()", t.sql_name),
                        _ => format!("INSERT INTO {} DEFAULT VALUES", t.sql_name),
                    }
                } else {
                    format!(
                        "INSERT INTO {} ({}) VALUES ({})",
                        t.sql_name,
                        cols.join(", "),
                        vals.join(", ")
                    )
                };
                let mut result = db.execute(&sql).await;
                if dialect == Dialect::Postgres
                    && result
                        .as_ref()
                        .is_err_and(|e| e.message.contains("when preparing the plan"))
                {
                    // A trigger's plan cached in this session before a
                    // column changed type: plan again and retry.
                    db.execute("DISCARD PLANS").await?;
                    result = db.execute(&sql).await;
                }
                match result {
                    Ok(()) => {
                        *counts.entry(key.clone()).or_insert(0) += 1;
                        filled.inserted += 1;
                    }
                    Err(e) => {
                        problem = Some(e.message.lines().next().unwrap_or("").to_string());
                        break;
                    }
                }
            }
            if let Some(reason) = problem
                && counts.get(&key).copied().unwrap_or(0) == 0
            {
                filled
                    .skipped
                    .push(format!("table {key} left empty: {reason}"));
                self.failed.insert(key.clone(), now);
            }
        }
        Ok(filled)
    }
}

/// Deletes every row of every table (generated rows a migration refused).
pub async fn clear<B: Backend>(db: &mut B, dialect: Dialect, schema: &Schema) -> DbResult<()> {
    if schema.tables.is_empty() {
        return Ok(());
    }
    match dialect {
        Dialect::Postgres => {
            let names: Vec<&str> = schema
                .tables
                .values()
                .map(|t| t.sql_name.as_str())
                .collect();
            db.execute(&format!(
                "TRUNCATE {} RESTART IDENTITY CASCADE",
                names.join(", ")
            ))
            .await
        }
        Dialect::Mysql => {
            db.execute("SET FOREIGN_KEY_CHECKS = 0").await?;
            let mut result = Ok(());
            for t in schema.tables.values() {
                if let Err(e) = db.execute(&format!("TRUNCATE TABLE {}", t.sql_name)).await {
                    result = Err(e);
                    break;
                }
            }
            db.execute("SET FOREIGN_KEY_CHECKS = 1").await?;
            result
        }
        Dialect::Sqlite => {
            let _ = db.execute("PRAGMA defer_foreign_keys = ON").await;
            for key in Filler::order(schema).iter().rev() {
                if let Some(t) = schema.tables.get(key) {
                    db.execute(&format!("DELETE FROM {}", t.sql_name)).await?;
                }
            }
            // Restart AUTOINCREMENT counters too (the table exists only when
            // some table uses AUTOINCREMENT).
            let _ = db.execute("DELETE FROM sqlite_sequence").await;
            Ok(())
        }
    }
}

/// What every column of a fill needs to know: the dialect, the schema and the
/// rows each table holds so far.
struct Filling<'a> {
    dialect: Dialect,
    schema: &'a Schema,
    counts: &'a BTreeMap<String, u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(values: u64, checksum: &str) -> ColumnData {
        ColumnData {
            values,
            checksum: checksum.to_string(),
        }
    }

    #[test]
    fn lost_renamed_and_changed_data() {
        let mut before = Data::new();
        before.insert(
            "users".into(),
            TableData {
                rows: 3,
                columns: [
                    ("id".to_string(), col(3, "1")),
                    ("email".to_string(), col(3, "2")),
                ]
                .into_iter()
                .collect(),
            },
        );
        // A renamed column keeps its values: nothing lost.
        let mut renamed = before.clone();
        let t = renamed.get_mut("users").unwrap();
        let c = t.columns.remove("email").unwrap();
        t.columns.insert("email_address".into(), c);
        assert!(compare(&before, &renamed).is_empty());
        // A dropped column is lost.
        let mut dropped = before.clone();
        dropped.get_mut("users").unwrap().columns.remove("email");
        assert_eq!(compare(&before, &dropped).lost.len(), 1);
        // A re-added column that is empty is lost too.
        let mut emptied = before.clone();
        emptied
            .get_mut("users")
            .unwrap()
            .columns
            .insert("email".into(), col(0, "0"));
        assert_eq!(compare(&before, &emptied).lost.len(), 1);
        // Changed values are changes, not losses.
        let mut changed = before.clone();
        changed
            .get_mut("users")
            .unwrap()
            .columns
            .insert("email".into(), col(3, "9"));
        let c = compare(&before, &changed);
        assert!(c.lost.is_empty());
        assert_eq!(c.changed.len(), 1);
        // A dropped table is lost; a renamed one is not.
        let mut gone = Data::new();
        assert_eq!(compare(&before, &gone).lost.len(), 1);
        gone.insert("people".into(), before["users"].clone());
        assert!(compare(&before, &gone).is_empty());
    }
}
