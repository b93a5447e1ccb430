//! MySQL and MariaDB: the schema from `information_schema`.

use std::collections::BTreeMap;

use super::names::{
    GENERATED, mysql_generated_check, mysql_generated_foreign_key, mysql_generated_index,
};
use super::schema::{Column, Constraint, ConstraintKind, Schema, Table, collapse};
use crate::db::{Backend, DbResult};

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
    format!("`{}`", ident.replace('`', "``"))
}

/// Reads the schema of the connected MySQL/MariaDB database.
pub async fn introspect<B: Backend>(db: &mut B) -> DbResult<Schema> {
    let database = rows(db, "SELECT CAST(DATABASE() AS CHAR)")
        .await?
        .into_iter()
        .next()
        .and_then(|r| r.into_iter().next())
        .unwrap_or_default();
    let mariadb = rows(db, "SELECT CAST(VERSION() AS CHAR)")
        .await?
        .into_iter()
        .next()
        .and_then(|r| r.into_iter().next())
        .unwrap_or_default()
        .to_ascii_lowercase()
        .contains("mariadb");
    let strip_db = |text: &str| {
        text.replace(&format!("{}.", quote(&database)), "")
            .replace(&format!("{database}."), "")
    };
    let mut schema = Schema::default();

    let tables = rows(
        db,
        &format!(
            "SELECT CAST(TABLE_NAME AS CHAR), CAST(ENGINE AS CHAR), CAST(TABLE_COLLATION AS CHAR), \
             CAST(TABLE_COMMENT AS CHAR) FROM information_schema.TABLES \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE' AND TABLE_NAME NOT IN {SKIP}"
        ),
    )
    .await?;
    let mut collations = BTreeMap::new();
    for r in tables {
        let mut table = Table {
            sql_name: quote(&r[0]),
            options: format!("engine {}, collate {}", r[1], r[2]),
            ..Table::default()
        };
        if !r[3].is_empty() {
            table
                .lines
                .push(format!("comment on table {}: {}", r[0], collapse(&r[3])));
        }
        collations.insert(r[0].clone(), r[2].clone());
        schema.tables.insert(r[0].clone(), table);
    }

    let columns = rows(
        db,
        &format!(
            "SELECT CAST(TABLE_NAME AS CHAR), CAST(COLUMN_NAME AS CHAR), CAST(COLUMN_TYPE AS CHAR), \
             CAST(IS_NULLABLE AS CHAR), CAST(COLUMN_DEFAULT AS CHAR), CAST(EXTRA AS CHAR), \
             CAST(ORDINAL_POSITION AS CHAR), CAST(DATA_TYPE AS CHAR), CAST(COLLATION_NAME AS CHAR), \
             CAST(COLUMN_COMMENT AS CHAR), CAST(GENERATION_EXPRESSION AS CHAR), \
             CAST(COLUMN_DEFAULT IS NULL AS CHAR) \
             FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME NOT IN {SKIP} \
             ORDER BY TABLE_NAME, ORDINAL_POSITION"
        ),
    )
    .await?;
    for r in columns {
        let Some(t) = schema.tables.get_mut(&r[0]) else {
            continue;
        };
        // MariaDB shows "no default" as the text NULL for nullable columns.
        let default = if r[11] == "1" || (mariadb && r[4] == "NULL") {
            None
        } else {
            Some(r[4].clone())
        };
        let extra_lower = r[5].to_ascii_lowercase();
        let mut extra = Vec::new();
        if !r[5].is_empty() {
            extra.push(r[5].to_ascii_lowercase());
        }
        if !r[10].is_empty() {
            extra.push(format!("as ({})", r[10]));
        }
        if !r[8].is_empty() && collations.get(&r[0]) != Some(&r[8]) {
            extra.push(format!("collate {}", r[8]));
        }
        if !r[9].is_empty() {
            t.lines.push(format!(
                "comment on column {}.{}: {}",
                r[0],
                r[1],
                collapse(&r[9])
            ));
        }
        t.columns.push(Column {
            name: r[1].clone(),
            ty: r[2].clone(),
            kind: r[7].to_ascii_lowercase(),
            not_null: r[3] == "NO",
            default,
            automatic: extra_lower.contains("auto_increment")
                || extra_lower.contains("generated")
                || extra_lower.contains("virtual")
                || extra_lower.contains("stored"),
            extra: extra.join(" "),
        });
    }

    // Indexes, including PRIMARY and UNIQUE keys.
    let stats = rows(
        db,
        &format!(
            "SELECT CAST(TABLE_NAME AS CHAR), CAST(INDEX_NAME AS CHAR), CAST(NON_UNIQUE AS CHAR), \
             CAST(INDEX_TYPE AS CHAR), CAST(COLUMN_NAME AS CHAR), CAST(SUB_PART AS CHAR), \
             CAST(COLLATION AS CHAR) FROM information_schema.STATISTICS \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME NOT IN {SKIP} \
             ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX"
        ),
    )
    .await?;
    let mut indexes: BTreeMap<(String, String), (bool, String, Vec<String>)> = BTreeMap::new();
    for r in stats {
        let entry = indexes
            .entry((r[0].clone(), r[1].clone()))
            .or_insert_with(|| (r[2] == "0", r[3].clone(), Vec::new()));
        let mut col = if r[4].is_empty() {
            "(expression)".to_string()
        } else {
            r[4].clone()
        };
        if !r[5].is_empty() {
            col.push_str(&format!("({})", r[5]));
        }
        if r[6] == "D" {
            col.push_str(" DESC");
        }
        entry.2.push(col);
    }

    // Foreign keys.
    let fks = rows(
        db,
        "SELECT CAST(k.TABLE_NAME AS CHAR), CAST(k.CONSTRAINT_NAME AS CHAR), CAST(k.COLUMN_NAME AS CHAR), \
         CAST(k.REFERENCED_TABLE_NAME AS CHAR), CAST(k.REFERENCED_COLUMN_NAME AS CHAR), \
         CAST(r.UPDATE_RULE AS CHAR), CAST(r.DELETE_RULE AS CHAR) \
         FROM information_schema.KEY_COLUMN_USAGE k JOIN information_schema.REFERENTIAL_CONSTRAINTS r \
         ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME \
         AND r.TABLE_NAME = k.TABLE_NAME \
         WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL \
         ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION",
    )
    .await?;
    let mut foreign: BTreeMap<(String, String), Constraint> = BTreeMap::new();
    for r in fks {
        let entry = foreign
            .entry((r[0].clone(), r[1].clone()))
            .or_insert_with(|| Constraint {
                name: match mysql_generated_foreign_key(&r[1], &r[0]) {
                    Some(base) => format!("{base}{GENERATED}"),
                    None => r[1].clone(),
                },
                kind: ConstraintKind::Foreign,
                columns: Vec::new(),
                references: Some((r[3].clone(), Vec::new())),
                definition: format!("on update {} on delete {}", r[5], r[6]),
            });
        entry.columns.push(r[2].clone());
        if let Some((_, cols)) = entry.references.as_mut() {
            cols.push(r[4].clone());
        }
    }
    let mut fk_names: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for ((table, name), mut k) in foreign {
        fk_names.entry(table.clone()).or_default().push(name);
        if let Some(t) = schema.tables.get_mut(&table) {
            let (target, cols) = k.references.clone().unwrap_or_default();
            k.definition = format!(
                "FOREIGN KEY ({}) REFERENCES {target}({}) {}",
                k.columns.join(", "),
                cols.join(", "),
                k.definition
            );
            t.constraints.push(k);
        }
    }

    for ((table, name), (unique, kind, cols)) in indexes {
        let Some(t) = schema.tables.get_mut(&table) else {
            continue;
        };
        if name == "PRIMARY" {
            t.constraints.push(Constraint {
                name: "PRIMARY".to_string(),
                kind: ConstraintKind::Primary,
                columns: cols.clone(),
                references: None,
                definition: format!("PRIMARY KEY ({})", cols.join(", ")),
            });
            continue;
        }
        let first = cols.first().cloned().unwrap_or_default();
        let generated = mysql_generated_index(&name, &first).or_else(|| {
            // The index InnoDB makes for a foreign key takes the key's name.
            fk_names
                .get(&table)
                .is_some_and(|n| n.contains(&name))
                .then(|| format!("for foreign key {name}"))
        });
        let shown = match generated {
            Some(base) => format!("{base}{GENERATED}"),
            None => name.clone(),
        };
        if unique {
            t.constraints.push(Constraint {
                name: shown,
                kind: ConstraintKind::Unique,
                columns: cols.clone(),
                references: None,
                definition: format!("UNIQUE {kind} ({})", cols.join(", ")),
            });
        } else {
            t.lines.push(format!(
                "index {table}.{shown}: {kind} ({})",
                cols.join(", ")
            ));
        }
    }

    // Check constraints (MariaDB lists the table; MySQL 8 needs a join).
    let checks_sql = if mariadb {
        "SELECT CAST(TABLE_NAME AS CHAR), CAST(CONSTRAINT_NAME AS CHAR), CAST(CHECK_CLAUSE AS CHAR) \
         FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()"
    } else {
        "SELECT CAST(t.TABLE_NAME AS CHAR), CAST(c.CONSTRAINT_NAME AS CHAR), CAST(c.CHECK_CLAUSE AS CHAR) \
         FROM information_schema.CHECK_CONSTRAINTS c JOIN information_schema.TABLE_CONSTRAINTS t \
         ON t.CONSTRAINT_SCHEMA = c.CONSTRAINT_SCHEMA AND t.CONSTRAINT_NAME = c.CONSTRAINT_NAME \
         AND t.CONSTRAINT_TYPE = 'CHECK' WHERE c.CONSTRAINT_SCHEMA = DATABASE()"
    };
    for r in rows(db, checks_sql).await.unwrap_or_default() {
        let Some(t) = schema.tables.get_mut(&r[0]) else {
            continue;
        };
        let names: Vec<String> = t.columns.iter().map(|c| c.name.clone()).collect();
        let shown = match mysql_generated_check(&r[1], &r[0], &names) {
            Some(base) => format!("{base}{GENERATED}"),
            None => r[1].clone(),
        };
        t.constraints.push(Constraint {
            name: shown,
            kind: ConstraintKind::Check,
            columns: Vec::new(),
            references: None,
            definition: format!("CHECK ({})", collapse(&strip_db(&r[2]))),
        });
    }
    for t in schema.tables.values_mut() {
        t.constraints
            .sort_by(|a, b| (&a.name, &a.definition).cmp(&(&b.name, &b.definition)));
    }

    for r in rows(
        db,
        "SELECT CAST(TABLE_NAME AS CHAR), CAST(VIEW_DEFINITION AS CHAR), CAST(CHECK_OPTION AS CHAR) \
         FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()",
    )
    .await?
    {
        schema.objects.push(format!(
            "view {}: {} check option {}",
            r[0],
            collapse(&strip_db(&r[1])),
            r[2]
        ));
    }
    for r in rows(
        db,
        "SELECT CAST(EVENT_OBJECT_TABLE AS CHAR), CAST(TRIGGER_NAME AS CHAR), CAST(ACTION_TIMING AS CHAR), \
         CAST(EVENT_MANIPULATION AS CHAR), CAST(ACTION_STATEMENT AS CHAR) \
         FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()",
    )
    .await?
    {
        let line = format!(
            "trigger {}.{}: {} {} {}",
            r[0],
            r[1],
            r[2],
            r[3],
            collapse(&strip_db(&r[4]))
        );
        match schema.tables.get_mut(&r[0]) {
            Some(t) => t.lines.push(line),
            None => schema.objects.push(line),
        }
    }
    for r in rows(
        db,
        "SELECT CAST(ROUTINE_TYPE AS CHAR), CAST(ROUTINE_NAME AS CHAR), CAST(DTD_IDENTIFIER AS CHAR), \
         CAST(ROUTINE_DEFINITION AS CHAR) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()",
    )
    .await?
    {
        schema.objects.push(format!(
            "{} {} returns {}: {}",
            r[0].to_ascii_lowercase(),
            r[1],
            r[2],
            collapse(&strip_db(&r[3]))
        ));
    }
    Ok(schema)
}
