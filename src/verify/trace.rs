//! `--trace`: what each statement of each up did to the running system.
//!
//! PostgreSQL: after every statement, inside the migration's transaction
//! and before it commits, the relation locks its own backend
//! (`pg_backend_pid()`) holds in `pg_locks` are compared with those held
//! before it: the new ones are the statement's. A table or index whose
//! `pg_class.relfilenode` changed was rewritten (a new file written while
//! the lock was held). And how long it ran. A statement run outside a
//! transaction (`-- no-transaction`, `CREATE INDEX CONCURRENTLY`) releases
//! its locks as it ends: its locks are "not traced", its rewrites and time
//! still are.
//!
//! MySQL/MariaDB and SQLite: time only, and (with `--from-url`) the tables a
//! statement names with their sizes.
//!
//! With `--from-url` every relation carries the source database's
//! statistics (rows, bytes), so "rewrites a 40 GiB table under ACCESS
//! EXCLUSIVE" is visible before the release.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write;
use std::time::Duration;

use serde::Serialize;

use super::hook::Step;
use super::queries::shorten;
use super::schema::Schema;
use super::{Planned, Problem, ProblemKind, Report, Severity};
use crate::db::{AnyBackend, Backend, DbError};
use crate::dialect::Dialect;
use crate::runner::PreparedStatement;

/// A relation's size in the source database (`--from-url`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Size {
    /// Estimated rows (PostgreSQL `reltuples`, MySQL `TABLE_ROWS`, SQLite
    /// `count(*)`); `None` when the database has no estimate yet.
    pub rows: Option<i64>,
    /// Bytes on disk, indexes and TOAST included.
    pub bytes: Option<i64>,
    /// Bytes of the relation's own heap (0: no data at all).
    #[serde(skip)]
    pub heap_bytes: Option<i64>,
}

impl Size {
    fn has_data(&self) -> bool {
        self.rows.is_some_and(|r| r > 0) || self.heap_bytes.is_some_and(|b| b > 0)
    }
}

/// A relation a statement locked, rewrote or named.
#[derive(Clone, Debug, Serialize)]
pub struct Relation {
    /// As the schema shows it: `users`, `audit.events`.
    pub name: String,
    /// `table`, `index`, `sequence`, `view`, `materialized view`…
    pub kind: String,
    /// An index's table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// The strongest lock the statement took on it (`ACCESS EXCLUSIVE`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lock: Option<String>,
    /// What that lock makes others wait for: `reads and writes`, `writes`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub blocks: Option<String>,
    /// A new file was written for it (relfilenode changed).
    pub rewritten: bool,
    /// It did not exist before the migration began.
    pub created: bool,
    /// Its size in the source database (`--from-url`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Size>,
}

/// One statement of an up, traced.
#[derive(Clone, Debug, Serialize)]
pub struct TracedStatement {
    /// `file:line:column`.
    pub place: String,
    /// The statement's first line, shortened.
    pub statement: String,
    pub milliseconds: f64,
    pub failed: bool,
    /// Whether its locks could be read (PostgreSQL, inside a transaction).
    pub locks_traced: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub relations: Vec<Relation>,
}

/// The trace of one migration's up.
#[derive(Clone, Debug, Serialize)]
pub struct MigrationTrace {
    pub version: String,
    pub name: String,
    pub statements: Vec<TracedStatement>,
}

/// A relation of the scratch database as `pg_class` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Rel {
    name: String,
    kind: String,
    filenode: String,
    table: Option<String>,
}

/// PostgreSQL's lock modes, weakest first.
const MODES: [&str; 8] = [
    "AccessShareLock",
    "RowShareLock",
    "RowExclusiveLock",
    "ShareUpdateExclusiveLock",
    "ShareLock",
    "ShareRowExclusiveLock",
    "ExclusiveLock",
    "AccessExclusiveLock",
];

fn strength(mode: &str) -> usize {
    MODES.iter().position(|m| *m == mode).unwrap_or(0)
}

/// `AccessExclusiveLock` → `ACCESS EXCLUSIVE`.
pub fn mode_name(mode: &str) -> String {
    let base = mode.strip_suffix("Lock").unwrap_or(mode);
    let mut out = String::new();
    for c in base.chars() {
        if c.is_ascii_uppercase() && !out.is_empty() {
            out.push(' ');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

/// What other sessions wait for while a lock of this mode is held.
fn blocks(mode: &str) -> Option<&'static str> {
    match mode {
        "AccessExclusiveLock" => Some("reads and writes"),
        "ExclusiveLock" | "ShareRowExclusiveLock" | "ShareLock" => Some("writes"),
        _ => None,
    }
}

fn kind_name(relkind: &str) -> &'static str {
    match relkind {
        "r" => "table",
        "p" => "partitioned table",
        "i" | "I" => "index",
        "S" => "sequence",
        "v" => "view",
        "m" => "materialized view",
        "f" => "foreign table",
        "c" => "type",
        _ => "relation",
    }
}

/// `users` for `public.users`, else `schema.name`.
pub fn display_name(schema: &str, name: &str) -> String {
    if schema == "public" {
        name.to_string()
    } else {
        format!("{schema}.{name}")
    }
}

const USER_RELATIONS: &str = "SELECT c.oid::text, n.nspname::text, c.relname::text, c.relkind::text, \
     c.relfilenode::text, t.relname::text, tn.nspname::text \
     FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
     LEFT JOIN pg_index i ON i.indexrelid = c.oid \
     LEFT JOIN pg_class t ON t.oid = i.indrelid \
     LEFT JOIN pg_namespace tn ON tn.oid = t.relnamespace \
     WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') \
     AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'";

const OWN_LOCKS: &str = "SELECT relation::text, mode::text FROM pg_locks \
     WHERE pid = pg_backend_pid() AND locktype = 'relation' AND granted \
     AND database = (SELECT oid FROM pg_database WHERE datname = current_database())";

async fn relations(db: &mut AnyBackend) -> Result<HashMap<String, Rel>, DbError> {
    let rows = db.query_texts(USER_RELATIONS, &[]).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let cell = |i: usize| r.get(i).cloned().flatten().unwrap_or_default();
            let table = r
                .get(5)
                .cloned()
                .flatten()
                .map(|t| display_name(&cell(6), &t));
            (
                cell(0),
                Rel {
                    name: display_name(&cell(1), &cell(2)),
                    kind: kind_name(&cell(3)).to_string(),
                    filenode: cell(4),
                    table,
                },
            )
        })
        .collect())
}

/// oid → the strongest lock mode this backend holds on it.
async fn locks(db: &mut AnyBackend) -> Result<HashMap<String, String>, DbError> {
    let rows = db.query_texts(OWN_LOCKS, &[]).await?;
    let mut out: HashMap<String, String> = HashMap::new();
    for r in rows {
        let (Some(Some(oid)), Some(Some(mode))) = (r.first().cloned(), r.get(1).cloned()) else {
            continue;
        };
        let entry = out.entry(oid).or_insert_with(|| mode.clone());
        if strength(&mode) > strength(entry) {
            *entry = mode;
        }
    }
    Ok(out)
}

/// The lock trace, as a part of a hook.
pub struct Tracer {
    dialect: Dialect,
    /// Sizes in the source database, by display name (`--from-url`).
    sizes: Option<HashMap<String, Size>>,
    /// Relations before the current migration's up began.
    at_start: HashMap<String, Rel>,
    before: HashMap<String, Rel>,
    locks_before: HashMap<String, String>,
    /// The migration being traced and whether its up runs in a transaction.
    current: Option<String>,
    transactional: bool,
    /// Tables of the schema before the up (for naming, MySQL and SQLite).
    tables: BTreeSet<String>,
    traces: Vec<MigrationTrace>,
}

impl Tracer {
    pub fn new(dialect: Dialect, sizes: Option<HashMap<String, Size>>) -> Tracer {
        Tracer {
            dialect,
            sizes,
            at_start: HashMap::new(),
            before: HashMap::new(),
            locks_before: HashMap::new(),
            current: None,
            transactional: false,
            tables: BTreeSet::new(),
            traces: Vec::new(),
        }
    }

    fn size(&self, name: &str) -> Option<Size> {
        self.sizes
            .as_ref()
            .map(|s| s.get(name).copied().unwrap_or_default())
    }

    pub fn before_up(&mut self, schema: &Schema) {
        self.tables = schema.tables.keys().cloned().collect();
    }

    /// Whether `s` is the first statement the up runs (it may run twice:
    /// once more on empty tables when the generated rows were refused).
    fn is_first(m: &Planned, s: &PreparedStatement) -> bool {
        m.prepared
            .up
            .iter()
            .find(|x| !x.transaction_control)
            .is_some_and(|x| x.line == s.line && x.column == s.column)
    }

    pub async fn before_statement(
        &mut self,
        db: &mut AnyBackend,
        m: &Planned,
        step: Step,
        s: &PreparedStatement,
    ) {
        if step != Step::Up {
            return;
        }
        let first = Self::is_first(m, s);
        if first || self.current.as_deref() != Some(m.prepared.version.as_str()) {
            self.traces.retain(|t| t.version != m.prepared.version);
            self.traces.push(MigrationTrace {
                version: m.prepared.version.clone(),
                name: m.prepared.name.clone(),
                statements: Vec::new(),
            });
            self.current = Some(m.prepared.version.clone());
            self.transactional = !m.prepared.no_transaction_up
                && !m.prepared.no_transaction_down
                && !m
                    .prepared
                    .up
                    .iter()
                    .chain(&m.prepared.down)
                    .any(|x| x.needs_no_transaction);
            self.at_start.clear();
        }
        if self.dialect != Dialect::Postgres {
            return;
        }
        self.before = relations(db).await.unwrap_or_default();
        if first || self.at_start.is_empty() {
            self.at_start = self.before.clone();
        }
        self.locks_before = if self.transactional {
            locks(db).await.unwrap_or_default()
        } else {
            HashMap::new()
        };
    }

    pub async fn after_statement(
        &mut self,
        db: &mut AnyBackend,
        m: &Planned,
        step: Step,
        s: &PreparedStatement,
        elapsed: Duration,
        error: Option<&DbError>,
    ) {
        if step != Step::Up {
            return;
        }
        let file = m
            .prepared
            .up_path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| m.prepared.version.clone());
        let mut traced = TracedStatement {
            place: format!("{file}:{}:{}", s.line, s.column),
            statement: shorten(first_line(&s.text), 60),
            milliseconds: (elapsed.as_secs_f64() * 1000.0 * 100.0).round() / 100.0,
            failed: error.is_some(),
            locks_traced: false,
            note: None,
            relations: Vec::new(),
        };
        if error.is_some() {
            traced.note = Some("failed".to_string());
        } else if self.dialect == Dialect::Postgres {
            self.trace_pg(db, s, &mut traced).await;
        } else {
            traced.note = Some(format!("locks not traced on {}", self.dialect.name()));
            traced.relations = self.named_tables(s);
        }
        if let Some(t) = self.traces.last_mut() {
            t.statements.push(traced);
        }
    }

    async fn trace_pg(
        &mut self,
        db: &mut AnyBackend,
        s: &PreparedStatement,
        traced: &mut TracedStatement,
    ) {
        let after = match relations(db).await {
            Ok(r) => r,
            Err(e) => {
                traced.note = Some(format!("not traced: {}", first_line(&e.message)));
                return;
            }
        };
        let in_transaction = self.transactional && !s.needs_no_transaction;
        let mut taken: HashMap<String, String> = HashMap::new();
        if in_transaction {
            match locks(db).await {
                Ok(now) => {
                    traced.locks_traced = true;
                    for (oid, mode) in now {
                        let had = self
                            .locks_before
                            .get(&oid)
                            .map_or(-1, |m| strength(m) as i64);
                        if strength(&mode) as i64 > had {
                            taken.insert(oid, mode);
                        }
                    }
                }
                Err(e) => {
                    traced.note = Some(format!("locks not traced: {}", first_line(&e.message)))
                }
            }
        } else {
            traced.note = Some(
                "locks not traced: it runs outside a transaction, so its locks end with it"
                    .to_string(),
            );
        }
        let named = if traced.locks_traced {
            Vec::new()
        } else {
            self.named_tables(s)
        };
        let rewritten: BTreeSet<&String> = self
            .before
            .iter()
            .filter(|(oid, rel)| {
                after.get(*oid).is_some_and(|a| {
                    a.filenode != rel.filenode && a.filenode != "0" && rel.filenode != "0"
                })
            })
            .map(|(oid, _)| oid)
            .collect();
        // A relation dropped and made again under the same name by this
        // statement (an index rebuilt by ALTER COLUMN … TYPE) was rebuilt:
        // new oid → old oid.
        let rebuilt: HashMap<&String, &String> = after
            .iter()
            .filter(|(oid, _)| !self.before.contains_key(*oid))
            .filter_map(|(oid, rel)| {
                self.before
                    .iter()
                    .find(|(old, r)| {
                        !after.contains_key(*old) && r.name == rel.name && r.kind == rel.kind
                    })
                    .map(|(old, _)| (oid, old))
            })
            .collect();
        let replaced: BTreeSet<&String> = rebuilt.values().copied().collect();
        let mut oids: BTreeSet<&String> = taken.keys().collect();
        oids.extend(rewritten.iter().copied());
        oids.extend(rebuilt.keys().copied());
        let mut rels: Vec<Relation> = Vec::new();
        for oid in oids {
            if replaced.contains(oid) {
                continue;
            }
            // Unknown oids are catalog relations: not the user's.
            let Some(rel) = after.get(oid).or_else(|| self.before.get(oid)) else {
                continue;
            };
            let old = rebuilt.get(oid).copied();
            let mode = [Some(oid), old]
                .into_iter()
                .flatten()
                .filter_map(|o| taken.get(o))
                .max_by_key(|m| strength(m));
            let existed = self.at_start.contains_key(oid)
                || old.is_some_and(|o| self.at_start.contains_key(o));
            rels.push(Relation {
                name: rel.name.clone(),
                kind: rel.kind.clone(),
                table: rel.table.clone(),
                lock: mode.map(|m| mode_name(m)),
                // Nobody else can see a relation this migration made.
                blocks: mode
                    .filter(|_| existed)
                    .and_then(|m| blocks(m))
                    .map(str::to_string),
                rewritten: rewritten.contains(oid) || old.is_some(),
                created: !existed,
                source: self.size(&rel.name),
            });
        }
        // Tables first, strongest lock first, then by name.
        rels.sort_by(|a, b| {
            let rank = |r: &Relation| {
                let lock = r.lock.as_deref().unwrap_or("");
                let strength = MODES.iter().position(|m| mode_name(m) == lock).unwrap_or(0);
                (
                    r.created,
                    r.kind != "table" && r.kind != "partitioned table",
                    std::cmp::Reverse(strength),
                )
            };
            rank(a).cmp(&rank(b)).then_with(|| a.name.cmp(&b.name))
        });
        for n in named {
            if !rels.iter().any(|r| r.name == n.name) {
                rels.push(n);
            }
        }
        traced.relations = rels;
    }

    /// MySQL and SQLite: the known tables the statement names.
    fn named_tables(&self, s: &PreparedStatement) -> Vec<Relation> {
        let file = crate::sql::split_file(&s.text, self.dialect);
        let words: BTreeSet<String> = file
            .statements
            .iter()
            .flat_map(|st| st.tokens.iter())
            .filter_map(|t| match &t.token {
                sqlparser::tokenizer::Token::Word(w) => Some(w.value.to_ascii_lowercase()),
                _ => None,
            })
            .collect();
        let mut known: BTreeSet<String> = self.tables.clone();
        if let Some(sizes) = &self.sizes {
            known.extend(sizes.keys().cloned());
        }
        known
            .into_iter()
            .filter(|t| words.contains(&t.to_ascii_lowercase()))
            .map(|t| Relation {
                source: self.size(&t),
                created: !self.tables.contains(&t),
                name: t,
                kind: "table".to_string(),
                table: None,
                lock: None,
                blocks: None,
                rewritten: false,
            })
            .collect()
    }

    /// With source sizes: a warning for each statement that holds a lock
    /// blocking writes for as long as it works through a table with data.
    pub fn after_up(&self, m: &Planned, step: Step) -> Vec<Problem> {
        let mut out = Vec::new();
        if step != Step::Up || self.sizes.is_none() {
            return out;
        }
        let Some(trace) = self.traces.iter().find(|t| t.version == m.prepared.version) else {
            return out;
        };
        for s in &trace.statements {
            for r in &s.relations {
                if r.created || !r.kind.contains("table") {
                    continue;
                }
                let Some(size) = r.source.filter(Size::has_data) else {
                    continue;
                };
                let lock = r.lock.as_deref().unwrap_or("its lock");
                let what = if r.rewritten {
                    Some(format!(
                        "rewrites table {} ({}) under {lock}: {} wait until the whole table is written again",
                        r.name,
                        describe_size(&size),
                        r.blocks.as_deref().unwrap_or("others")
                    ))
                } else if let Some(index) = s.relations.iter().find(|i| {
                    i.created && i.kind == "index" && i.table.as_deref() == Some(r.name.as_str())
                }) && r.blocks.is_some()
                {
                    Some(format!(
                        "builds index {} on table {} ({}) under {lock}: writes wait for the whole build \
                         (CREATE INDEX CONCURRENTLY, in a no-transaction migration, does not block them)",
                        index.name,
                        r.name,
                        describe_size(&size)
                    ))
                } else {
                    None
                };
                if let Some(what) = what {
                    let mut p = Problem::new(
                        ProblemKind::LongLock,
                        Severity::Warning,
                        format!("on the source database's data this statement {what}"),
                    );
                    p.place = Some(s.place.clone());
                    out.push(p);
                }
            }
        }
        out
    }

    /// The traces, in the order the migrations ran.
    pub fn take(&mut self) -> Vec<MigrationTrace> {
        std::mem::take(&mut self.traces)
    }
}

fn first_line(text: &str) -> &str {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with("--"))
        .unwrap_or("")
}

/// `1.2 M rows, 40 GiB`.
pub fn describe_size(size: &Size) -> String {
    let mut parts = Vec::new();
    if let Some(rows) = size.rows.filter(|r| *r >= 0) {
        parts.push(format!("{} rows", human_count(rows)));
    }
    if let Some(bytes) = size.bytes {
        parts.push(human_bytes(bytes));
    }
    if parts.is_empty() {
        "size unknown".to_string()
    } else {
        parts.join(", ")
    }
}

pub fn human_count(n: i64) -> String {
    let f = n as f64;
    let (value, unit) = if n < 1000 {
        return n.to_string();
    } else if n < 1_000_000 {
        (f / 1e3, "k")
    } else if n < 1_000_000_000 {
        (f / 1e6, "M")
    } else {
        (f / 1e9, "G")
    };
    if value < 10.0 {
        format!("{value:.1} {unit}")
    } else {
        format!("{value:.0} {unit}")
    }
}

pub fn human_bytes(n: i64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut f = n as f64;
    let mut unit = 0;
    while f >= 1024.0 && unit < UNITS.len() - 1 {
        f /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else if f < 10.0 {
        format!("{f:.1} {}", UNITS[unit])
    } else {
        format!("{f:.0} {}", UNITS[unit])
    }
}

fn time(ms: f64) -> String {
    if ms < 10.0 {
        format!("{ms:.1} ms")
    } else if ms < 10_000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.1} s", ms / 1000.0)
    }
}

/// `0002_widen.up.sql:3` for `migrations/0002_widen.up.sql:3:1`.
fn short_place(place: &str) -> String {
    let file = place.rsplit(['/', '\\']).next().unwrap_or(place);
    match file.rsplit_once(':') {
        Some((rest, _column)) if rest.contains(':') => rest.to_string(),
        _ => file.to_string(),
    }
}

/// One row per (statement, relation) of a trace.
struct Row {
    place: String,
    statement: String,
    time: String,
    lock: String,
    relation: String,
    size: String,
    rewrite: String,
}

fn rows(trace: &[TracedStatement], with_sizes: bool) -> Vec<Row> {
    let mut out = Vec::new();
    for s in trace {
        let mut first = true;
        let head = |first: bool| {
            if first {
                (
                    short_place(&s.place),
                    s.statement.clone(),
                    time(s.milliseconds),
                )
            } else {
                (String::new(), String::new(), String::new())
            }
        };
        if s.relations.is_empty() {
            let (place, statement, t) = head(true);
            let lock = match &s.note {
                Some(n) => n.clone(),
                None if s.locks_traced => "no new lock".to_string(),
                None => String::new(),
            };
            out.push(Row {
                place,
                statement,
                time: t,
                lock,
                relation: String::new(),
                size: String::new(),
                rewrite: String::new(),
            });
            continue;
        }
        for r in &s.relations {
            let (place, statement, t) = head(first);
            let mut relation = r.name.clone();
            if r.kind != "table" {
                relation.push_str(&format!(" ({})", r.kind));
            }
            if r.created {
                relation.push_str(" (new)");
            }
            let lock = match (&r.lock, &r.blocks) {
                (Some(l), Some(b)) => format!("{l} (blocks {b})"),
                (Some(l), None) => l.clone(),
                (None, _) if first => s.note.clone().unwrap_or_default(),
                (None, _) => String::new(),
            };
            out.push(Row {
                place,
                statement,
                time: t,
                lock,
                relation,
                size: if with_sizes && !r.created {
                    r.source.map(|s| describe_size(&s)).unwrap_or_default()
                } else {
                    String::new()
                },
                rewrite: if r.rewritten {
                    "rewritten".to_string()
                } else {
                    String::new()
                },
            });
            first = false;
        }
    }
    out
}

fn with_sizes(report: &Report) -> bool {
    report.source.is_some()
}

/// The trace as aligned text tables, one per migration.
pub fn human(report: &Report) -> String {
    let mut out = String::new();
    let sizes = with_sizes(report);
    for m in &report.migrations {
        let trace = &m.trace;
        if trace.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\ntrace of {} {} (up):", m.version, m.name);
        let mut header = vec!["statement", "", "time", "lock", "relation"];
        if sizes {
            header.push("source size");
        }
        header.push("rewrite");
        let table: Vec<Vec<String>> = rows(trace, sizes)
            .into_iter()
            .map(|r| {
                let mut cells = vec![r.place, r.statement, r.time, r.lock, r.relation];
                if sizes {
                    cells.push(r.size);
                }
                cells.push(r.rewrite);
                cells
            })
            .collect();
        let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
        for row in &table {
            for (w, c) in widths.iter_mut().zip(row) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |cells: &[String]| {
            let mut text = String::from(" ");
            for (c, w) in cells.iter().zip(&widths) {
                text.push(' ');
                text.push_str(c);
                text.push_str(&" ".repeat(w.saturating_sub(c.chars().count()) + 1));
            }
            text.trim_end().to_string()
        };
        let head: Vec<String> = header.iter().map(|h| h.to_string()).collect();
        let _ = writeln!(out, "{}", line(&head));
        for row in &table {
            let _ = writeln!(out, "{}", line(row));
        }
    }
    out
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}

/// The trace as markdown tables (one per migration), for a pull request
/// comment.
pub fn markdown(report: &Report) -> String {
    let mut out = String::new();
    let sizes = with_sizes(report);
    let traced: Vec<_> = report
        .migrations
        .iter()
        .filter(|m| !m.trace.is_empty())
        .collect();
    if traced.is_empty() {
        return out;
    }
    let _ = writeln!(out, "\n### Locks and rewrites\n");
    if let Some(source) = &report.source {
        let _ = writeln!(
            out,
            "Sizes are those of `{}` (from its statistics).\n",
            cell(&source.url)
        );
    }
    for m in traced {
        let trace = &m.trace;
        let _ = writeln!(out, "**`{}_{}`** (up)\n", m.version, m.name);
        if sizes {
            let _ = writeln!(
                out,
                "| statement | time | lock | relation | source size | rewrite |"
            );
            let _ = writeln!(out, "| --- | --- | --- | --- | --- | --- |");
        } else {
            let _ = writeln!(out, "| statement | time | lock | relation | rewrite |");
            let _ = writeln!(out, "| --- | --- | --- | --- | --- |");
        }
        for r in rows(trace, sizes) {
            let statement = if r.statement.is_empty() {
                String::new()
            } else {
                format!("`{}` <sub>{}</sub>", cell(&r.statement), cell(&r.place))
            };
            let lock = if r.lock.contains("(blocks ") {
                format!("**{}**", cell(&r.lock))
            } else {
                cell(&r.lock)
            };
            let relation = if r.relation.is_empty() {
                String::new()
            } else {
                format!("`{}`", cell(&r.relation))
            };
            let rewrite = if r.rewrite.is_empty() {
                String::new()
            } else {
                "⚠️ rewritten".to_string()
            };
            if sizes {
                let _ = writeln!(
                    out,
                    "| {statement} | {} | {lock} | {relation} | {} | {rewrite} |",
                    r.time,
                    cell(&r.size)
                );
            } else {
                let _ = writeln!(
                    out,
                    "| {statement} | {} | {lock} | {relation} | {rewrite} |",
                    r.time
                );
            }
        }
        let _ = writeln!(out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_modes_read_as_in_the_documentation() {
        assert_eq!(mode_name("AccessExclusiveLock"), "ACCESS EXCLUSIVE");
        assert_eq!(mode_name("ShareLock"), "SHARE");
        assert_eq!(mode_name("ShareRowExclusiveLock"), "SHARE ROW EXCLUSIVE");
        assert!(strength("AccessExclusiveLock") > strength("ShareLock"));
        assert_eq!(blocks("ShareLock"), Some("writes"));
        assert_eq!(blocks("RowExclusiveLock"), None);
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(40 * 1024 * 1024 * 1024), "40 GiB");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_count(1_234_567), "1.2 M");
        assert_eq!(human_count(200_000), "200 k");
        assert_eq!(human_count(999), "999");
        let size = Size {
            rows: Some(12),
            bytes: Some(16384),
            heap_bytes: Some(8192),
        };
        assert_eq!(describe_size(&size), "12 rows, 16 KiB");
        assert!(size.has_data());
    }
}
