//! `--from-url`: a dry run on a copy of an existing database's schema.
//!
//! The source is only ever read, in a read-only session and transaction
//! (PostgreSQL `default_transaction_read_only` and `BEGIN … READ ONLY`,
//! MySQL `START TRANSACTION READ ONLY`, SQLite opened with `mode=ro` and
//! `PRAGMA query_only`): its history (which migrations are applied), its
//! schema, the sizes of its tables from its statistics, and with
//! `--sample-rows N` up to N rows of each table. The schema comes from
//! `pg_dump --schema-only` (PostgreSQL; the password goes through
//! `PGPASSWORD`, never on a command line), `SHOW CREATE TABLE` (MySQL,
//! MariaDB) or `sqlite_schema` (SQLite). It is loaded into the scratch
//! database each time that one is made, and the pending migrations run there.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

use serde::Serialize;

use super::trace::{Size, display_name};
use crate::db::{AnyBackend, Backend, DbError, DbUrl, connect};
use crate::dialect::Dialect;

/// What the report says about the source.
#[derive(Clone, Debug, Serialize)]
pub struct SourceInfo {
    /// The source's URL, password masked.
    pub url: String,
    pub server: String,
    /// The history table the applied migrations were read from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<String>,
    /// Migrations the source has applied.
    pub applied: usize,
    /// Migrations of the folder it has not: the ones verified.
    pub pending: Vec<String>,
    pub tables: usize,
    /// Rows copied per table (`--sample-rows`).
    pub sample_rows: u64,
    /// Rows copied in all.
    pub rows_copied: usize,
    /// How the schema was read.
    pub schema_from: String,
}

/// What was read from the source, ready to load into a scratch database.
pub struct SourceCopy {
    pub info: SourceInfo,
    /// Versions the source's history holds.
    pub applied: Vec<String>,
    /// The schema, statement by statement, in order.
    pub schema: Vec<String>,
    /// `INSERT`s of the sampled rows.
    pub rows: Vec<String>,
    /// Sizes by display name (`users`, `audit.events`), indexes included.
    pub sizes: HashMap<String, Size>,
    dialect: Dialect,
}

fn db_error(what: &str, e: DbError) -> String {
    format!("{what}: {}", e.message)
}

fn cell(row: &[Option<String>], i: usize) -> String {
    row.get(i).cloned().flatten().unwrap_or_default()
}

fn number(row: &[Option<String>], i: usize) -> Option<i64> {
    row.get(i)
        .cloned()
        .flatten()
        .and_then(|t| t.trim().parse().ok())
}

/// The digits of a version (`20240101_120000` and `20240101120000` match).
fn digits(v: &str) -> String {
    v.chars()
        .filter(char::is_ascii_digit)
        .collect::<String>()
        .trim_start_matches('0')
        .to_string()
}

/// Whether the source's history holds `version`.
pub fn is_applied(applied: &[String], version: &str) -> bool {
    let d = digits(version);
    applied
        .iter()
        .any(|a| a == version || (!d.is_empty() && digits(a) == d))
}

/// Reads the source, read-only.
pub async fn read(url: &DbUrl, sample_rows: u64) -> Result<SourceCopy, String> {
    let dialect = url.dialect();
    let open_url = match dialect {
        Dialect::Sqlite => read_only_sqlite_url(url)?,
        _ => url.clone(),
    };
    let mut db = connect(&open_url, false)
        .await
        .map_err(|e| format!("cannot connect to the source {url}: {}", e.message))?;
    let guard = match dialect {
        Dialect::Postgres => {
            "SET default_transaction_read_only = on; BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
        }
        Dialect::Mysql => "START TRANSACTION READ ONLY",
        Dialect::Sqlite => "PRAGMA query_only = ON",
    };
    if dialect == Dialect::Mysql {
        db.execute("SET SESSION TRANSACTION READ ONLY")
            .await
            .map_err(|e| db_error("cannot make the source session read-only", e))?;
    }
    db.execute(guard)
        .await
        .map_err(|e| db_error("cannot make the source session read-only", e))?;
    let server = db.server_version().await.unwrap_or_default();
    let (history, applied) = history(&mut db).await?;
    let sizes = sizes(&mut db).await?;
    let (schema, schema_from) = match dialect {
        Dialect::Postgres => (pg_dump(url)?, "pg_dump --schema-only".to_string()),
        Dialect::Mysql => (
            mysql_schema(&mut db).await?,
            "SHOW CREATE TABLE".to_string(),
        ),
        Dialect::Sqlite => (sqlite_schema(&mut db).await?, "sqlite_schema".to_string()),
    };
    let rows = if sample_rows > 0 {
        sample(&mut db, sample_rows).await?
    } else {
        Vec::new()
    };
    if dialect != Dialect::Sqlite {
        let _ = db.rollback().await;
    }
    drop(db);
    let tables = count_tables(&schema);
    let info = SourceInfo {
        url: url.to_string(),
        server,
        history,
        applied: applied.len(),
        pending: Vec::new(),
        tables,
        sample_rows,
        rows_copied: rows.len(),
        schema_from,
    };
    Ok(SourceCopy {
        info,
        applied,
        schema,
        rows,
        sizes: sizes.into_iter().collect(),
        dialect,
    })
}

fn count_tables(schema: &[String]) -> usize {
    schema
        .iter()
        .filter(|s| {
            let upper = s.trim_start().to_ascii_uppercase();
            let head = upper.lines().next().unwrap_or("");
            upper.starts_with("CREATE TABLE")
                && ![
                    "STRADDLE_",
                    "_SQLX_MIGRATIONS",
                    "__DIESEL_SCHEMA_MIGRATIONS",
                ]
                .iter()
                .any(|b| head.contains(b))
        })
        .count()
}

/// `url` opened read-only (`mode=ro`).
fn read_only_sqlite_url(url: &DbUrl) -> Result<DbUrl, String> {
    let raw = url.expose();
    if raw.contains(":memory:") {
        return Err("--from-url cannot read an in-memory SQLite database: name a file".to_string());
    }
    let Some(path) = url.sqlite_path() else {
        return Err(format!("--from-url {url}: not an SQLite file URL"));
    };
    if !path.is_file() {
        return Err(format!("--from-url {url}: no such file {}", path.display()));
    }
    let text = if raw.contains("mode=") {
        raw.to_string()
    } else if raw.contains('?') {
        format!("{raw}&mode=ro")
    } else {
        format!("{raw}?mode=ro")
    };
    DbUrl::parse(&text)
}

/// The history table found and the versions it holds.
async fn history(db: &mut AnyBackend) -> Result<(Option<String>, Vec<String>), String> {
    for (table, filter) in [
        (crate::db::HISTORY_TABLE, ""),
        ("_sqlx_migrations", " WHERE success"),
        ("__diesel_schema_migrations", ""),
    ] {
        let exists = db
            .table_exists(table)
            .await
            .map_err(|e| db_error("cannot read the source's history", e))?;
        if !exists {
            continue;
        }
        let sql = format!("SELECT {} FROM {table}{filter}", db.as_text("version"));
        let rows = db
            .query_texts(&sql, &[])
            .await
            .map_err(|e| db_error(&format!("cannot read the source's {table}"), e))?;
        let versions = rows.iter().map(|r| cell(r, 0)).collect();
        return Ok((Some(table.to_string()), versions));
    }
    Ok((None, Vec::new()))
}

const PG_SIZES: &str = "SELECT n.nspname::text, c.relname::text, \
     CASE WHEN c.reltuples < 0 THEN NULL ELSE c.reltuples::bigint::text END, \
     pg_total_relation_size(c.oid)::text, pg_relation_size(c.oid)::text \
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE c.relkind IN ('r', 'p', 'm', 'i') AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
     AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'";

const MYSQL_SIZES: &str = "SELECT CAST(TABLE_NAME AS CHAR), CAST(TABLE_ROWS AS CHAR), \
     CAST(DATA_LENGTH + INDEX_LENGTH AS CHAR), CAST(DATA_LENGTH AS CHAR) \
     FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'";

async fn sizes(db: &mut AnyBackend) -> Result<Vec<(String, Size)>, String> {
    let err = |e| db_error("cannot read the source's table sizes", e);
    match db.dialect() {
        Dialect::Postgres => {
            let rows = db.query_texts(PG_SIZES, &[]).await.map_err(err)?;
            Ok(rows
                .iter()
                .map(|r| {
                    (
                        display_name(&cell(r, 0), &cell(r, 1)),
                        Size {
                            rows: number(r, 2),
                            bytes: number(r, 3),
                            heap_bytes: number(r, 4),
                        },
                    )
                })
                .collect())
        }
        Dialect::Mysql => {
            let rows = db.query_texts(MYSQL_SIZES, &[]).await.map_err(err)?;
            Ok(rows
                .iter()
                .map(|r| {
                    (
                        cell(r, 0),
                        Size {
                            rows: number(r, 1),
                            bytes: number(r, 2),
                            heap_bytes: number(r, 3),
                        },
                    )
                })
                .collect())
        }
        Dialect::Sqlite => {
            let names = db
                .query_texts(
                    "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite!_%' ESCAPE '!'",
                    &[],
                )
                .await
                .map_err(err)?;
            let mut out = Vec::new();
            for r in names {
                let name = cell(&r, 0);
                let count = db
                    .query_texts(
                        &format!("SELECT CAST(count(*) AS TEXT) FROM {}", sqlite_quote(&name)),
                        &[],
                    )
                    .await
                    .map_err(err)?;
                // dbstat is not in every build: bytes are optional.
                let bytes = db
                    .query_texts(
                        "SELECT CAST(SUM(pgsize) AS TEXT) FROM dbstat WHERE name = ?",
                        &[name.as_str().into()],
                    )
                    .await
                    .ok()
                    .and_then(|rows| rows.first().and_then(|r| number(r, 0)));
                let rows = count.first().and_then(|r| number(r, 0));
                out.push((
                    name,
                    Size {
                        rows,
                        bytes,
                        heap_bytes: bytes,
                    },
                ));
            }
            Ok(out)
        }
    }
}

fn sqlite_quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn mysql_quote(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// `pg_dump`: on PATH, else the newest `/usr/lib/postgresql/<v>/bin`.
fn find_pg_dump() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let bin = dir.join("pg_dump");
            if bin.is_file() {
                return Some(bin);
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_string_lossy().parse().ok()?;
            let bin = e.path().join("bin/pg_dump");
            bin.is_file().then_some((v, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && bytes[i + 1].is_ascii_hexdigit()
            && bytes[i + 2].is_ascii_hexdigit()
            && let Ok(b) = u8::from_str_radix(&text[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The URL without its password, and the password (percent-decoded).
pub fn split_password(raw: &str) -> (String, Option<String>) {
    let (base, query) = match raw.find('?') {
        Some(q) => (&raw[..q], &raw[q + 1..]),
        None => (raw, ""),
    };
    let mut password = None;
    let mut base = base.to_string();
    if let Some(scheme_end) = base.find("://").map(|i| i + 3) {
        let rest = &base[scheme_end..];
        let authority_end = rest.find('/').unwrap_or(rest.len());
        let authority = &rest[..authority_end];
        if let Some(at) = authority.rfind('@') {
            let userinfo = &authority[..at];
            if let Some((user, pass)) = userinfo.split_once(':') {
                password = Some(percent_decode(pass));
                base = format!(
                    "{}{user}{}",
                    &base[..scheme_end],
                    &base[scheme_end + userinfo.len()..]
                );
            }
        }
    }
    let kept: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .filter(|p| {
            if let Some(v) = p.strip_prefix("password=") {
                password = Some(percent_decode(v));
                false
            } else {
                true
            }
        })
        .collect();
    if kept.is_empty() {
        (base, password)
    } else {
        (format!("{base}?{}", kept.join("&")), password)
    }
}

/// The schema as `pg_dump --schema-only` writes it, split into statements.
fn pg_dump(url: &DbUrl) -> Result<Vec<String>, String> {
    let Some(bin) = find_pg_dump() else {
        return Err(
            "--from-url on PostgreSQL needs pg_dump (to read the schema): install PostgreSQL's client \
             tools (e.g. `apt-get install postgresql-client`) and put pg_dump on PATH"
                .to_string(),
        );
    };
    let (no_password, password) = split_password(url.expose());
    let mut cmd = Command::new(&bin);
    cmd.args([
        "--schema-only",
        "--no-owner",
        "--no-privileges",
        "--no-tablespaces",
        "--no-publications",
        "--no-subscriptions",
        "--no-security-labels",
    ])
    .arg(format!("--dbname={no_password}"))
    // Never ask for a password on the terminal, and never write.
    .arg("--no-password")
    .env("PGOPTIONS", "-c default_transaction_read_only=on");
    match password {
        Some(p) => cmd.env("PGPASSWORD", p),
        None => cmd.env_remove("PGPASSWORD"),
    };
    let out = cmd
        .output()
        .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        return Err(url.mask(&format!(
            "pg_dump ({}) could not read the source's schema: {}",
            bin.display(),
            stderr.trim()
        )));
    }
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    Ok(pg_statements(&text))
}

/// The statements of a `pg_dump` script worth running in the scratch
/// database: psql meta-commands (`\restrict`) and the session settings are
/// left out (the loading connection sets what matters itself).
pub fn pg_statements(text: &str) -> Vec<String> {
    let body: String = text
        .lines()
        .map(|l| if l.starts_with('\\') { "" } else { l })
        .collect::<Vec<_>>()
        .join("\n");
    let file = crate::sql::split_file(&body, Dialect::Postgres);
    file.statements
        .iter()
        .map(|s| {
            body.get(s.span.bytes.clone())
                .map(str::to_string)
                .unwrap_or_else(|| s.text.clone())
        })
        .filter(|s| {
            let upper = s.trim_start().to_ascii_uppercase();
            !(upper.starts_with("SET ")
                || upper.starts_with("SELECT PG_CATALOG.SET_CONFIG")
                || upper.is_empty())
        })
        .collect()
}

/// `DEFINER=`x`@`%`` taken out of a view or trigger definition, so that it
/// can be made by another user.
fn strip_definer(sql: &str) -> String {
    let Some(start) = sql.find("DEFINER=") else {
        return sql.to_string();
    };
    let rest = &sql[start + "DEFINER=".len()..];
    let mut end = 0;
    let mut in_quote: Option<char> = None;
    for (i, c) in rest.char_indices() {
        match in_quote {
            Some(q) if c == q => in_quote = None,
            Some(_) => {}
            None if c == '`' || c == '\'' => in_quote = Some(c),
            None if c.is_whitespace() => {
                end = i;
                break;
            }
            None => {}
        }
        end = i + c.len_utf8();
    }
    format!("{}{}", &sql[..start], rest[end..].trim_start())
}

async fn mysql_schema(db: &mut AnyBackend) -> Result<Vec<String>, String> {
    let err = |e| db_error("cannot read the source's schema", e);
    let tables = db
        .query_texts(
            "SELECT CAST(TABLE_NAME AS CHAR), CAST(TABLE_TYPE AS CHAR) FROM information_schema.TABLES \
             WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME",
            &[],
        )
        .await
        .map_err(err)?;
    let mut out = Vec::new();
    let mut views = Vec::new();
    for t in &tables {
        let (name, kind) = (cell(t, 0), cell(t, 1));
        if kind == "VIEW" {
            let rows = db
                .query_texts(&format!("SHOW CREATE VIEW {}", mysql_quote(&name)), &[])
                .await
                .map_err(err)?;
            if let Some(r) = rows.first() {
                views.push(strip_definer(&cell(r, 1)));
            }
        } else {
            let rows = db
                .query_texts(&format!("SHOW CREATE TABLE {}", mysql_quote(&name)), &[])
                .await
                .map_err(err)?;
            if let Some(r) = rows.first() {
                out.push(cell(r, 1));
            }
        }
    }
    out.extend(views);
    let triggers = db
        .query_texts(
            "SELECT CAST(TRIGGER_NAME AS CHAR) FROM information_schema.TRIGGERS \
             WHERE TRIGGER_SCHEMA = DATABASE() ORDER BY TRIGGER_NAME",
            &[],
        )
        .await
        .map_err(err)?;
    for t in &triggers {
        let rows = db
            .query_texts(
                &format!("SHOW CREATE TRIGGER {}", mysql_quote(&cell(t, 0))),
                &[],
            )
            .await
            .map_err(err)?;
        if let Some(r) = rows.first() {
            out.push(strip_definer(&cell(r, 2)));
        }
    }
    Ok(out)
}

async fn sqlite_schema(db: &mut AnyBackend) -> Result<Vec<String>, String> {
    let rows = db
        .query_texts(
            "SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite!_%' ESCAPE '!' \
             ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 WHEN 'view' THEN 2 ELSE 3 END, rowid",
            &[],
        )
        .await
        .map_err(|e| db_error("cannot read the source's sqlite_schema", e))?;
    Ok(rows.iter().map(|r| cell(r, 0)).collect())
}

/// Up to `n` rows of each table, as `INSERT` statements of literals the
/// source database quoted itself.
async fn sample(db: &mut AnyBackend, n: u64) -> Result<Vec<String>, String> {
    let err = |e| db_error("cannot read sample rows from the source", e);
    // (table as SQL names it, column names as SQL names them)
    let mut tables: Vec<(String, Vec<String>)> = Vec::new();
    let (columns_sql, quote_fn) = match db.dialect() {
        Dialect::Postgres => (
            "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname), quote_ident(a.attname) \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
             WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND a.attgenerated = '' \
             AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
             AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%' \
             AND c.relname NOT IN ('straddle_migrations', '_sqlx_migrations', '__diesel_schema_migrations') \
             ORDER BY 1, a.attnum"
                .to_string(),
            "quote_nullable",
        ),
        Dialect::Mysql => (
            "SELECT CONCAT('`', REPLACE(c.TABLE_NAME, '`', '``'), '`'), CONCAT('`', REPLACE(c.COLUMN_NAME, '`', '``'), '`') \
             FROM information_schema.COLUMNS c JOIN information_schema.TABLES t \
             ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME \
             WHERE c.TABLE_SCHEMA = DATABASE() AND t.TABLE_TYPE = 'BASE TABLE' \
             AND c.EXTRA NOT LIKE '%GENERATED%' \
             AND c.TABLE_NAME NOT IN ('straddle_migrations', '_sqlx_migrations', '__diesel_schema_migrations') \
             ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION"
                .to_string(),
            "QUOTE",
        ),
        Dialect::Sqlite => (
            "SELECT '\"' || replace(m.name, '\"', '\"\"') || '\"', '\"' || replace(p.name, '\"', '\"\"') || '\"' \
             FROM sqlite_schema m JOIN pragma_table_xinfo(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite!_%' ESCAPE '!' AND p.hidden = 0 \
             AND m.name NOT IN ('straddle_migrations', '_sqlx_migrations', '__diesel_schema_migrations') \
             ORDER BY m.rowid, p.cid"
                .to_string(),
            "quote",
        ),
    };
    for r in db.query_texts(&columns_sql, &[]).await.map_err(err)? {
        let (table, column) = (cell(&r, 0), cell(&r, 1));
        match tables.last_mut() {
            Some((t, cols)) if *t == table => cols.push(column),
            _ => tables.push((table, vec![column])),
        }
    }
    let mut out = Vec::new();
    let dialect = db.dialect();
    for (table, columns) in tables {
        let select: Vec<String> = columns
            .iter()
            .map(|c| match dialect {
                Dialect::Mysql => format!("CAST({quote_fn}({c}) AS CHAR)"),
                Dialect::Postgres => format!("{quote_fn}({c})::text"),
                Dialect::Sqlite => format!("{quote_fn}({c})"),
            })
            .collect();
        let sql = format!("SELECT {} FROM {table} LIMIT {n}", select.join(", "));
        let rows = db.query_texts(&sql, &[]).await.map_err(err)?;
        let overriding = if dialect == Dialect::Postgres {
            " OVERRIDING SYSTEM VALUE"
        } else {
            ""
        };
        for r in rows {
            let values: Vec<String> = (0..columns.len())
                .map(|i| {
                    r.get(i)
                        .cloned()
                        .flatten()
                        .unwrap_or_else(|| "NULL".to_string())
                })
                .collect();
            out.push(format!(
                "INSERT INTO {table} ({}){overriding} VALUES ({})",
                columns.join(", "),
                values.join(", ")
            ));
        }
    }
    Ok(out)
}

impl SourceCopy {
    /// Loads the schema (and the sampled rows) into an empty scratch
    /// database.
    pub async fn load(&self, db: &mut AnyBackend) -> Result<(), String> {
        let before: &[&str] = match self.dialect {
            Dialect::Postgres => &["SET check_function_bodies = false"],
            Dialect::Mysql => &["SET FOREIGN_KEY_CHECKS = 0"],
            Dialect::Sqlite => &["PRAGMA foreign_keys = OFF"],
        };
        let after: &[&str] = match self.dialect {
            Dialect::Postgres => &["RESET check_function_bodies"],
            Dialect::Mysql => &["SET FOREIGN_KEY_CHECKS = 1"],
            Dialect::Sqlite => &["PRAGMA foreign_keys = ON"],
        };
        for s in before {
            let _ = db.execute(s).await;
        }
        let result = self.load_all(db).await;
        for s in after {
            let _ = db.execute(s).await;
        }
        result
    }

    async fn load_all(&self, db: &mut AnyBackend) -> Result<(), String> {
        // MySQL views may name views made after them: retry those.
        let mut pending: Vec<&String> = self.schema.iter().collect();
        loop {
            let mut failed: Vec<(&String, DbError)> = Vec::new();
            for s in &pending {
                if let Err(e) = db.execute(s).await {
                    failed.push((s, e));
                }
            }
            if failed.is_empty() {
                break;
            }
            if failed.len() == pending.len() || self.dialect != Dialect::Mysql {
                let (s, e) = &failed[0];
                return Err(format!(
                    "cannot make the source's schema in the scratch database: `{}` failed: {}",
                    super::queries::shorten(s.lines().next().unwrap_or(""), 80),
                    e.message
                ));
            }
            pending = failed.into_iter().map(|(s, _)| s).collect();
        }
        if self.rows.is_empty() {
            return Ok(());
        }
        // Sampled rows need not hold together (a row's parent may not be
        // in the sample): triggers and foreign keys are set aside where the
        // database allows it, and rows it still refuses are skipped.
        if self.dialect == Dialect::Postgres {
            let _ = db.execute("SET session_replication_role = replica").await;
        }
        for insert in &self.rows {
            let _ = db.execute(insert).await;
        }
        if self.dialect == Dialect::Postgres {
            let _ = db.execute("RESET session_replication_role").await;
        }
        Ok(())
    }

    /// Whether the source's history holds `version`.
    pub fn is_applied(&self, version: &str) -> bool {
        is_applied(&self.applied, version)
    }
}

/// Where the PostgreSQL and MySQL loader connects: its own connection to
/// the scratch database, so that the settings it changes stay there.
pub async fn load_into(
    copy: &SourceCopy,
    url: Option<&DbUrl>,
    db: &mut AnyBackend,
) -> Result<(), String> {
    match url {
        Some(u) if u.dialect() != Dialect::Sqlite => {
            let mut own = connect(u, false)
                .await
                .map_err(|e| db_error("cannot connect to the scratch database", e))?;
            copy.load(&mut own).await
        }
        _ => copy.load(db).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_taken_out_of_the_url() {
        let (url, pw) = split_password("postgres://alice:s%40cret@db:5432/prod?sslmode=require");
        assert_eq!(url, "postgres://alice@db:5432/prod?sslmode=require");
        assert_eq!(pw.as_deref(), Some("s@cret"));
        let (url, pw) = split_password("postgres://db/prod?password=x&sslmode=disable");
        assert_eq!(url, "postgres://db/prod?sslmode=disable");
        assert_eq!(pw.as_deref(), Some("x"));
        let (url, pw) = split_password("postgres://bob@db/prod");
        assert_eq!(url, "postgres://bob@db/prod");
        assert_eq!(pw, None);
    }

    #[test]
    fn dump_scripts_lose_settings_and_meta_commands() {
        let text = "\\restrict abc\nSET statement_timeout = 0;\nSELECT pg_catalog.set_config('search_path', '', false);\n\
                    CREATE TABLE public.t (id integer);\nCREATE FUNCTION public.f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;\n\\unrestrict abc\n";
        let s = pg_statements(text);
        assert_eq!(s.len(), 2, "{s:?}");
        assert!(s[0].starts_with("CREATE TABLE public.t"));
        assert!(s[1].contains("SELECT 1; $$"));
    }

    #[test]
    fn definers_are_dropped() {
        assert_eq!(
            strip_definer(
                "CREATE ALGORITHM=UNDEFINED DEFINER=`root`@`%` SQL SECURITY DEFINER VIEW `v` AS select 1"
            ),
            "CREATE ALGORITHM=UNDEFINED SQL SECURITY DEFINER VIEW `v` AS select 1"
        );
    }

    #[test]
    fn versions_match_by_digits() {
        let applied = vec!["20240101120000".to_string(), "2".to_string()];
        assert!(is_applied(&applied, "20240101_120000"));
        assert!(is_applied(&applied, "0002"));
        assert!(!is_applied(&applied, "3"));
    }
}
