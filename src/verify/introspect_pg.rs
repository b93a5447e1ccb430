//! PostgreSQL: the whole schema from `pg_catalog` in one round trip.

use std::collections::BTreeMap;

use super::names::{GENERATED, pg_generated, pg_generated_check};
use super::schema::{Column, Constraint, ConstraintKind, Schema, Table, collapse};
use crate::db::{Backend, DbResult};

const WIDTH: usize = 13;

const USER: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema') \
     AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'";

const BOOKKEEPING: &str =
    "('straddle_migrations', '_sqlx_migrations', '__diesel_schema_migrations')";

fn not_extension(catalog: &str, oid: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = '{catalog}'::regclass \
         AND x.objid = {oid} AND x.deptype = 'e')"
    )
}

fn select(exprs: &[&str], from: &str) -> String {
    let mut cols: Vec<String> = exprs.iter().map(|e| format!("({e})::text")).collect();
    while cols.len() < WIDTH {
        cols.push("NULL::text".to_string());
    }
    format!("SELECT {} {from}", cols.join(", "))
}

fn query() -> String {
    let rel_ext = not_extension("pg_class", "c.oid");
    let parts = [
        select(
            &["'schema'", "n.nspname"],
            &format!(
                "FROM pg_namespace n WHERE {USER} AND n.nspname <> 'public' AND {}",
                not_extension("pg_namespace", "n.oid")
            ),
        ),
        select(
            &["'extension'", "NULL", "e.extname"],
            "FROM pg_extension e WHERE e.extname <> 'plpgsql'",
        ),
        select(
            &[
                "'enum'",
                "n.nspname",
                "t.typname",
                "format_type(t.oid, NULL)",
                "string_agg(e.enumlabel, chr(31) ORDER BY e.enumsortorder)",
            ],
            &format!(
                "FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
                 JOIN pg_enum e ON e.enumtypid = t.oid WHERE {USER} AND {} \
                 GROUP BY n.nspname, t.typname, t.oid",
                not_extension("pg_type", "t.oid")
            ),
        ),
        select(
            &[
                "'domain'",
                "n.nspname",
                "t.typname",
                "format_type(t.typbasetype, t.typtypmod)",
                "t.typnotnull",
                "t.typdefault",
                "(SELECT string_agg(pg_get_constraintdef(k.oid, true), ' ' \
                   ORDER BY pg_get_constraintdef(k.oid, true)) FROM pg_constraint k WHERE k.contypid = t.oid)",
            ],
            &format!(
                "FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
                 WHERE t.typtype = 'd' AND {USER} AND {}",
                not_extension("pg_type", "t.oid")
            ),
        ),
        select(
            &[
                "'composite'",
                "n.nspname",
                "t.typname",
                "(SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ', ' \
                   ORDER BY a.attnum) FROM pg_attribute a WHERE a.attrelid = t.typrelid \
                   AND a.attnum > 0 AND NOT a.attisdropped)",
            ],
            &format!(
                "FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
                 JOIN pg_class c ON c.oid = t.typrelid WHERE t.typtype = 'c' AND c.relkind = 'c' \
                 AND {USER} AND {}",
                not_extension("pg_type", "t.oid")
            ),
        ),
        select(
            &[
                "'table'",
                "n.nspname",
                "c.relname",
                "c.relkind",
                "c.relpersistence",
                "c.relrowsecurity",
                "obj_description(c.oid, 'pg_class')",
                "CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END",
                "pg_get_expr(c.relpartbound, c.oid)",
                "(SELECT string_agg(p.relname, ', ' ORDER BY p.relname) FROM pg_inherits i \
                   JOIN pg_class p ON p.oid = i.inhparent WHERE i.inhrelid = c.oid)",
            ],
            &format!(
                "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE c.relkind IN ('r', 'p') AND {USER} AND c.relname NOT IN {BOOKKEEPING} AND {rel_ext}"
            ),
        ),
        select(
            &[
                "'column'",
                "n.nspname",
                "c.relname",
                "a.attname",
                "format_type(a.atttypid, a.atttypmod)",
                "a.attnotnull",
                "pg_get_expr(d.adbin, d.adrelid)",
                "a.attidentity::text || '/' || a.attgenerated::text",
                "a.attnum",
                "t.typtype::text || t.typcategory::text",
                "CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) \
                   WHEN t.typcategory = 'A' THEN format_type(t.typelem, NULL) \
                   ELSE format_type(a.atttypid, NULL) END",
                "CASE WHEN a.attcollation <> t.typcollation THEN \
                   (SELECT collname FROM pg_collation WHERE oid = a.attcollation) END",
                "col_description(c.oid, a.attnum)",
            ],
            &format!(
                "FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
                 JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type t ON t.oid = a.atttypid \
                 LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
                 WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped AND {USER} \
                 AND c.relname NOT IN {BOOKKEEPING} AND {rel_ext}"
            ),
        ),
        select(
            &[
                "'constraint'",
                "n.nspname",
                "c.relname",
                "k.conname",
                "k.contype",
                "pg_get_constraintdef(k.oid, true)",
                "(SELECT string_agg(a.attname, chr(31) ORDER BY u.o) FROM unnest(k.conkey) \
                   WITH ORDINALITY u(n, o) JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.n)",
                "CASE WHEN k.confrelid <> 0 THEN (SELECT fn.nspname || chr(31) || f.relname \
                   FROM pg_class f JOIN pg_namespace fn ON fn.oid = f.relnamespace WHERE f.oid = k.confrelid) END",
                "(SELECT string_agg(a.attname, chr(31) ORDER BY u.o) FROM unnest(k.confkey) \
                   WITH ORDINALITY u(n, o) JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = u.n)",
            ],
            &format!(
                "FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE k.contype <> 'n' AND c.relkind IN ('r', 'p') AND {USER} \
                 AND c.relname NOT IN {BOOKKEEPING} AND {rel_ext}"
            ),
        ),
        select(
            &[
                "'index'",
                "n.nspname",
                "c.relname",
                "ic.relname",
                "pg_get_indexdef(i.indexrelid)",
                "i.indisvalid",
                "(SELECT string_agg(a.attname, chr(31) ORDER BY a.attnum) FROM pg_attribute a \
                   WHERE a.attrelid = i.indexrelid)",
            ],
            &format!(
                "FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid \
                 JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE c.relkind IN ('r', 'p', 'm') AND {USER} AND c.relname NOT IN {BOOKKEEPING} \
                 AND {rel_ext} AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid \
                 AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x'))"
            ),
        ),
        select(
            &[
                "'view'",
                "n.nspname",
                "c.relname",
                "c.relkind",
                "pg_get_viewdef(c.oid, true)",
                "obj_description(c.oid, 'pg_class')",
            ],
            &format!(
                "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE c.relkind IN ('v', 'm') AND {USER} AND {rel_ext}"
            ),
        ),
        select(
            &[
                "'sequence'",
                "n.nspname",
                "c.relname",
                "(SELECT t.relname || chr(31) || tn.nspname || chr(31) || a.attname || chr(31) || d.deptype::text \
                   FROM pg_depend d JOIN pg_class t ON t.oid = d.refobjid \
                   JOIN pg_namespace tn ON tn.oid = t.relnamespace \
                   JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid \
                   WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid \
                   AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') LIMIT 1)",
                "format_type(s.seqtypid, NULL) || ' start ' || s.seqstart || ' increment ' || s.seqincrement \
                   || ' min ' || s.seqmin || ' max ' || s.seqmax || ' cache ' || s.seqcache \
                   || CASE WHEN s.seqcycle THEN ' cycle' ELSE '' END",
            ],
            &format!(
                "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 JOIN pg_sequence s ON s.seqrelid = c.oid WHERE c.relkind = 'S' AND {USER} AND {rel_ext}"
            ),
        ),
        select(
            &[
                "'function'",
                "n.nspname",
                "p.proname",
                "pg_get_function_identity_arguments(p.oid)",
                "pg_get_function_result(p.oid)",
                "md5(regexp_replace(btrim(p.prosrc), '\\s+', ' ', 'g'))",
                "l.lanname",
                "p.prokind::text || p.provolatile::text \
                   || CASE WHEN p.prosecdef THEN ' security definer' ELSE '' END \
                   || CASE WHEN p.proisstrict THEN ' strict' ELSE '' END",
            ],
            &format!(
                "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
                 JOIN pg_language l ON l.oid = p.prolang WHERE {USER} AND {}",
                not_extension("pg_proc", "p.oid")
            ),
        ),
        select(
            &[
                "'trigger'",
                "n.nspname",
                "c.relname",
                "t.tgname",
                "pg_get_triggerdef(t.oid, true)",
                "t.tgenabled",
            ],
            &format!(
                "FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid \
                 JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE NOT t.tgisinternal AND {USER} AND c.relname NOT IN {BOOKKEEPING} AND {rel_ext}"
            ),
        ),
        select(
            &[
                "'policy'",
                "n.nspname",
                "c.relname",
                "p.polname",
                "p.polcmd",
                "p.polpermissive",
                "pg_get_expr(p.polqual, p.polrelid)",
                "pg_get_expr(p.polwithcheck, p.polrelid)",
            ],
            &format!(
                "FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid \
                 JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {USER}"
            ),
        ),
    ];
    parts.join("\nUNION ALL\n")
}

fn display(schema: &str, name: &str) -> String {
    if schema == "public" {
        name.to_string()
    } else {
        format!("{schema}.{name}")
    }
}

fn quote(ident: &str) -> String {
    format!("\"{}\"", ident.replace('"', "\"\""))
}

fn split31(text: &str) -> Vec<String> {
    if text.is_empty() {
        return Vec::new();
    }
    text.split('\u{1f}').map(str::to_string).collect()
}

type Row = Vec<String>;

/// Reads the schema of the connected PostgreSQL database.
pub async fn introspect<B: Backend>(db: &mut B) -> DbResult<Schema> {
    let rows = db.query_texts(&query(), &[]).await?;
    let rows: Vec<Row> = rows
        .into_iter()
        .map(|r| r.into_iter().map(Option::unwrap_or_default).collect())
        .collect();
    let mut by_kind: BTreeMap<String, Vec<Row>> = BTreeMap::new();
    for row in rows {
        by_kind.entry(row[0].clone()).or_default().push(row);
    }
    let kind = |k: &str| by_kind.get(k).cloned().unwrap_or_default();
    let mut schema = Schema::default();

    for r in kind("schema") {
        schema.objects.push(format!("schema {}", r[1]));
    }
    for r in kind("extension") {
        schema.objects.push(format!("extension {}", r[2]));
    }
    for r in kind("enum") {
        let labels = split31(&r[4]);
        schema.objects.push(format!(
            "enum {}: {}",
            display(&r[1], &r[2]),
            labels.join(", ")
        ));
        schema.enums.insert(r[3].clone(), labels);
    }
    for r in kind("domain") {
        let mut line = format!("domain {}: {}", display(&r[1], &r[2]), r[3]);
        if r[4] == "true" {
            line.push_str(" not null");
        }
        if !r[5].is_empty() {
            line.push_str(&format!(" default {}", r[5]));
        }
        if !r[6].is_empty() {
            line.push_str(&format!(" {}", r[6]));
        }
        schema.objects.push(line);
    }
    for r in kind("composite") {
        schema
            .objects
            .push(format!("type {}: ({})", display(&r[1], &r[2]), r[3]));
    }

    // Tables, then what hangs off them.
    let mut relnames: BTreeMap<String, String> = BTreeMap::new();
    for r in kind("table") {
        let name = display(&r[1], &r[2]);
        let mut options = Vec::new();
        if r[3] == "p" {
            options.push(format!("partitioned by {}", r[7]));
        }
        if r[4] == "u" {
            options.push("unlogged".to_string());
        }
        if r[5] == "true" {
            options.push("row level security".to_string());
        }
        if !r[8].is_empty() {
            options.push(format!("partition {}", r[8]));
        }
        if !r[9].is_empty() {
            options.push(format!("inherits {}", r[9]));
        }
        let mut table = Table {
            sql_name: format!("{}.{}", quote(&r[1]), quote(&r[2])),
            options: options.join(", "),
            ..Table::default()
        };
        if !r[6].is_empty() {
            table
                .lines
                .push(format!("comment on table {name}: {}", collapse(&r[6])));
        }
        relnames.insert(name.clone(), r[2].clone());
        schema.tables.insert(name, table);
    }

    // Sequences first: column defaults name them.
    let mut sequence_names: BTreeMap<String, String> = BTreeMap::new();
    for r in kind("sequence") {
        let owner = split31(&r[3]);
        if owner.len() == 4 {
            let (table, tschema, column, deptype) = (&owner[0], &owner[1], &owner[2], &owner[3]);
            if deptype == "i" {
                continue; // identity: shown on the column
            }
            let shown = match pg_generated(&r[2], table, Some(std::slice::from_ref(column)), "seq")
            {
                Some(base) => {
                    let shown = format!("{base}{GENERATED}");
                    sequence_names.insert(r[2].clone(), shown.clone());
                    sequence_names.insert(format!("{}.{}", r[1], r[2]), shown.clone());
                    shown
                }
                None => display(&r[1], &r[2]),
            };
            schema.objects.push(format!(
                "sequence {shown} owned by {}.{column}: {}",
                display(tschema, table),
                r[4]
            ));
        } else {
            schema
                .objects
                .push(format!("sequence {}: {}", display(&r[1], &r[2]), r[4]));
        }
    }

    let mut columns: Vec<(i64, String, Column)> = Vec::new();
    for r in kind("column") {
        let table = display(&r[1], &r[2]);
        let ids: Vec<&str> = r[7].split('/').collect();
        let identity = ids.first().copied().unwrap_or("");
        let generated = ids.get(1).copied().unwrap_or("");
        // `DEFAULT CURRENT_TIMESTAMP` and `DEFAULT now()` are the same
        // function; the catalog prints them as written.
        let mut default = (!r[6].is_empty()).then(|| match r[6].as_str() {
            "CURRENT_TIMESTAMP" => "now()".to_string(),
            other => other.to_string(),
        });
        let mut extra = Vec::new();
        match identity {
            "a" => extra.push("generated always as identity".to_string()),
            "d" => extra.push("generated by default as identity".to_string()),
            _ => {}
        }
        if generated == "s" {
            extra.push(format!(
                "generated always as ({}) stored",
                default.take().unwrap_or_default()
            ));
        }
        let serial = default
            .as_deref()
            .is_some_and(|d| d.starts_with("nextval("));
        if let Some(d) = default.as_mut() {
            for (seq, shown) in &sequence_names {
                let needle = format!("'{seq}'::regclass");
                if d.contains(&needle) {
                    *d = d.replace(&needle, &format!("<{shown}>"));
                }
            }
        }
        if !r[11].is_empty() {
            extra.push(format!("collate {}", r[11]));
        }
        let column = Column {
            name: r[3].clone(),
            ty: r[4].clone(),
            kind: format!("{}:{}", r[9], r[10]),
            not_null: r[5] == "true",
            default,
            automatic: !identity.is_empty() || !generated.is_empty() || serial,
            extra: extra.join(" "),
        };
        if !r[12].is_empty()
            && let Some(t) = schema.tables.get_mut(&table)
        {
            t.lines.push(format!(
                "comment on column {table}.{}: {}",
                r[3],
                collapse(&r[12])
            ));
        }
        columns.push((r[8].parse().unwrap_or(0), table, column));
    }
    columns.sort_by(|a, b| (&a.1, a.0).cmp(&(&b.1, b.0)));
    for (_, table, column) in columns {
        if let Some(t) = schema.tables.get_mut(&table) {
            t.columns.push(column);
        }
    }

    for r in kind("constraint") {
        let table = display(&r[1], &r[2]);
        let Some(t) = schema.tables.get_mut(&table) else {
            continue;
        };
        let relname = &r[2];
        let cols = split31(&r[6]);
        let (kind, generated) = match r[4].as_str() {
            "p" => (
                ConstraintKind::Primary,
                pg_generated(&r[3], relname, None, "pkey"),
            ),
            "u" => (
                ConstraintKind::Unique,
                pg_generated(&r[3], relname, Some(&cols), "key"),
            ),
            "f" => (
                ConstraintKind::Foreign,
                pg_generated(&r[3], relname, Some(&cols), "fkey"),
            ),
            "c" => {
                let names: Vec<String> = t.columns.iter().map(|c| c.name.clone()).collect();
                (
                    ConstraintKind::Check,
                    pg_generated_check(&r[3], relname, &names),
                )
            }
            "x" => (
                ConstraintKind::Other,
                pg_generated(&r[3], relname, Some(&cols), "excl"),
            ),
            _ => (ConstraintKind::Other, None),
        };
        let name = match generated {
            Some(base) => format!("{base}{GENERATED}"),
            None => r[3].clone(),
        };
        let references = (!r[7].is_empty()).then(|| {
            let parts = split31(&r[7]);
            let target = display(
                parts.first().map(String::as_str).unwrap_or(""),
                parts.get(1).map(String::as_str).unwrap_or(""),
            );
            (target, split31(&r[8]))
        });
        t.constraints.push(Constraint {
            name,
            kind,
            columns: cols,
            references,
            definition: r[5].clone(),
        });
    }
    for t in schema.tables.values_mut() {
        t.constraints
            .sort_by(|a, b| (&a.name, &a.definition).cmp(&(&b.name, &b.definition)));
    }

    for r in kind("index") {
        let table = display(&r[1], &r[2]);
        let cols = split31(&r[6]);
        let shown = match pg_generated(&r[3], &r[2], Some(&cols), "idx") {
            Some(base) => format!("{base}{GENERATED}"),
            None => r[3].clone(),
        };
        let def = r[4]
            .replacen(&format!(" INDEX {} ON ", r[3]), " INDEX ON ", 1)
            .replacen(&format!(" INDEX {} ON ", quote(&r[3])), " INDEX ON ", 1)
            .replace(" ON public.", " ON ")
            .replace(" ON ONLY public.", " ON ONLY ");
        let invalid = if r[5] == "true" { "" } else { " INVALID" };
        let line = format!("index {table}.{shown}: {def}{invalid}");
        match schema.tables.get_mut(&table) {
            Some(t) => t.lines.push(line),
            None => schema.objects.push(line),
        }
    }

    for r in kind("view") {
        let what = if r[3] == "m" {
            "materialized view"
        } else {
            "view"
        };
        let name = display(&r[1], &r[2]);
        schema
            .objects
            .push(format!("{what} {name}: {}", collapse(&r[4])));
        if !r[5].is_empty() {
            schema
                .objects
                .push(format!("comment on {what} {name}: {}", collapse(&r[5])));
        }
    }
    for r in kind("function") {
        let (prokind, rest) = r[7].split_at(r[7].len().min(1));
        let what = match prokind {
            "p" => "procedure",
            "a" => "aggregate",
            "w" => "window function",
            _ => "function",
        };
        let volatility = match rest.chars().next() {
            Some('i') => "immutable",
            Some('s') => "stable",
            _ => "volatile",
        };
        let flags = rest.get(1..).unwrap_or("");
        schema.objects.push(format!(
            "{what} {}({}) returns {} language {} {volatility}{flags} body {}",
            display(&r[1], &r[2]),
            r[3],
            r[4],
            r[6],
            &r[5][..r[5].len().min(12)]
        ));
    }
    for r in kind("trigger") {
        let table = display(&r[1], &r[2]);
        let disabled = if r[5] == "O" || r[5].is_empty() {
            String::new()
        } else {
            format!(" (enabled {})", r[5])
        };
        let line = format!(
            "trigger {table}.{}: {}{disabled}",
            r[3],
            r[4].replace(" ON public.", " ON ")
        );
        match schema.tables.get_mut(&table) {
            Some(t) => t.lines.push(line),
            None => schema.objects.push(line),
        }
    }
    for r in kind("policy") {
        let table = display(&r[1], &r[2]);
        let mut line = format!(
            "policy {table}.{} for {} {}",
            r[3],
            r[4],
            if r[5] == "true" {
                "permissive"
            } else {
                "restrictive"
            }
        );
        if !r[6].is_empty() {
            line.push_str(&format!(" using ({})", r[6]));
        }
        if !r[7].is_empty() {
            line.push_str(&format!(" with check ({})", r[7]));
        }
        match schema.tables.get_mut(&table) {
            Some(t) => t.lines.push(line),
            None => schema.objects.push(line),
        }
    }
    let _ = relnames;
    Ok(schema)
}
