//! Two-version compatibility: `--old-queries` and `--new-queries` take the
//! application's queries (an sqlx offline folder, `.sqlx/query-*.json`, or a
//! `.sql` file of statements) and verify prepares them on the scratch
//! database around each migration.
//!
//! * **Old queries** (the release running before the rollout): after each
//!   expand's up (and its re-up), every old query that prepared before the
//!   expand must still prepare. An expand that breaks one is an error: the
//!   running release would fail the moment the expand is applied.
//! * **New queries** (the release rolled out before the contract): a new
//!   query that does not prepare before a contract but does after it means
//!   the new release needs the contract, so it fails during the window; a
//!   new query that prepares before a contract and not after it means the
//!   contract removes something the new release still uses. Both are errors.
//!
//! A query that does not prepare on either side of a migration says nothing
//! about that migration (it needs a later one, or is broken by itself); the
//! queries that never prepared anywhere are listed in the report's summary.
//!
//! Preparing never runs a query: PostgreSQL `PREPARE … AS` (parameter types
//! inferred) then `DEALLOCATE`, inside a savepoint when a transaction is
//! open; MySQL/MariaDB `PREPARE … FROM` then `DEALLOCATE PREPARE`; SQLite
//! `EXPLAIN`, which compiles the statement without running it.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::hook::Step;
use super::{Planned, Problem, ProblemKind, Severity};
use crate::db::{AnyBackend, Backend, DbError};
use crate::dialect::Dialect;

/// One query of the application.
#[derive(Clone, Debug)]
pub struct Query {
    /// Where it comes from: `queries.sql:12:1`, or the sqlx file
    /// (`.sqlx/query-1a2b….json`).
    pub place: String,
    /// The query's text as the application sends it.
    pub text: String,
    /// File and 1-based line and column of the query's first character,
    /// for moving the database's error position into the file.
    start: Option<(String, usize, usize)>,
}

impl Query {
    /// The query's first non-blank line, shortened for messages.
    pub fn headline(&self) -> String {
        let line = self
            .text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with("--"))
            .unwrap_or("");
        shorten(line, 70)
    }

    /// The place and the first line: what a message names.
    pub fn name(&self) -> String {
        format!("{} (`{}`)", self.place, self.headline())
    }

    /// `place` moved to the character the database pointed at (a 1-based
    /// character offset into the query), when it did.
    fn place_at(&self, position: Option<usize>) -> String {
        let (Some((file, line, column)), Some(p)) = (&self.start, position.filter(|p| *p > 0))
        else {
            return self.place.clone();
        };
        let before: String = self.text.chars().take(p - 1).collect();
        let newlines = before.matches('\n').count();
        let (line, column) = if newlines == 0 {
            (*line, column + before.chars().count())
        } else {
            (
                line + newlines,
                before.rsplit('\n').next().unwrap_or("").chars().count() + 1,
            )
        };
        format!("{file}:{line}:{column}")
    }
}

/// `text` cut to `max` characters, with an ellipsis when cut.
pub fn shorten(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The queries of one release.
#[derive(Clone, Debug)]
pub struct QuerySet {
    pub path: PathBuf,
    pub queries: Vec<Query>,
    /// Statements that cannot be prepared (DDL, `SET`…), left out, with
    /// their place.
    pub skipped: Vec<String>,
}

/// Whether a statement can be prepared: a query or a data change.
fn preparable(first_word: &str) -> bool {
    matches!(
        first_word.to_ascii_uppercase().as_str(),
        "SELECT"
            | "INSERT"
            | "UPDATE"
            | "DELETE"
            | "WITH"
            | "VALUES"
            | "TABLE"
            | "MERGE"
            | "REPLACE"
    )
}

/// The first word of a query, past comments and opening parentheses.
fn first_word(text: &str) -> String {
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '(');
        if let Some(r) = rest.strip_prefix("--") {
            rest = r.split_once('\n').map_or("", |(_, after)| after);
        } else if let Some(r) = rest.strip_prefix("/*") {
            rest = r.split_once("*/").map_or("", |(_, after)| after);
        } else {
            break;
        }
    }
    rest.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// Reads `--old-queries` / `--new-queries`: a folder of sqlx offline files
/// (the `.sqlx` folder itself, or a project folder holding one), or a file
/// of SQL statements.
pub fn load(path: &Path, dialect: Dialect) -> Result<QuerySet, String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let set = if meta.is_dir() {
        load_sqlx(path)?
    } else {
        load_sql(path, dialect)?
    };
    if set.queries.is_empty() {
        return Err(format!(
            "{}: no query that can be prepared (SELECT, INSERT, UPDATE, DELETE…)",
            path.display()
        ));
    }
    Ok(set)
}

fn load_sqlx(dir: &Path) -> Result<QuerySet, String> {
    let folder = if dir.join(".sqlx").is_dir() {
        dir.join(".sqlx")
    } else {
        dir.to_path_buf()
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
        .map_err(|e| format!("{}: {e}", folder.display()))?
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("query-") && n.ends_with(".json"))
        })
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(format!(
            "{}: no sqlx offline query files (query-*.json; `cargo sqlx prepare` writes them)",
            folder.display()
        ));
    }
    let mut set = QuerySet {
        path: dir.to_path_buf(),
        queries: Vec::new(),
        skipped: Vec::new(),
    };
    for file in files {
        let text =
            std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        let json: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not an sqlx offline query file: {e}", file.display()))?;
        let Some(query) = json.get("query").and_then(|q| q.as_str()) else {
            return Err(format!(
                "{}: not an sqlx offline query file (no \"query\" field)",
                file.display()
            ));
        };
        let place = file.display().to_string();
        if preparable(&first_word(query)) {
            set.queries.push(Query {
                place,
                text: query.to_string(),
                start: None,
            });
        } else {
            set.skipped.push(place);
        }
    }
    Ok(set)
}

fn load_sql(path: &Path, dialect: Dialect) -> Result<QuerySet, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let file = crate::sql::split_file(&text, dialect);
    if let Some((message, at)) = &file.tokenize_error {
        return Err(format!(
            "{}:{at}: cannot split the file into statements: {message}",
            path.display()
        ));
    }
    let shown = path.display().to_string();
    let mut set = QuerySet {
        path: path.to_path_buf(),
        queries: Vec::new(),
        skipped: Vec::new(),
    };
    for s in &file.statements {
        let body = text
            .get(s.span.bytes.clone())
            .map(str::to_string)
            .unwrap_or_else(|| s.text.clone());
        let place = format!("{shown}:{}", s.span.start);
        if preparable(&first_word(&body)) {
            set.queries.push(Query {
                place,
                text: body,
                start: Some((shown.clone(), s.span.start.line, s.span.start.column)),
            });
        } else {
            set.skipped.push(place);
        }
    }
    Ok(set)
}

/// Prepares queries without running them.
struct Preparer {
    counter: usize,
}

impl Preparer {
    /// Prepares each query; `Err` holds the database's error, its position
    /// moved into the query.
    async fn check(&mut self, db: &mut AnyBackend, queries: &[Query]) -> Vec<Result<(), DbError>> {
        let mut out = Vec::with_capacity(queries.len());
        // PostgreSQL: a failing PREPARE aborts an open transaction, so each
        // one runs in a savepoint; outside a transaction there is none.
        let mut in_transaction = None;
        for q in queries {
            self.counter += 1;
            let result = match db.dialect() {
                Dialect::Postgres => {
                    let open = match in_transaction {
                        Some(open) => open,
                        None => {
                            let open = db.execute("SAVEPOINT straddle_query_check").await.is_ok();
                            in_transaction = Some(open);
                            if open {
                                let _ = db.execute("RELEASE SAVEPOINT straddle_query_check").await;
                            }
                            open
                        }
                    };
                    prepare_pg(db, q, self.counter, open).await
                }
                Dialect::Mysql => prepare_mysql(db, q).await,
                Dialect::Sqlite => db.execute(&format!("EXPLAIN {}", q.text)).await,
            };
            out.push(result);
        }
        out
    }
}

async fn prepare_pg(
    db: &mut AnyBackend,
    q: &Query,
    n: usize,
    savepoint: bool,
) -> Result<(), DbError> {
    let name = format!("straddle_query_{n}");
    let prefix = format!("PREPARE {name} AS ");
    if savepoint {
        db.execute("SAVEPOINT straddle_query_check").await?;
    }
    let result = db.execute(&format!("{prefix}{}", q.text)).await;
    match result {
        Ok(()) => {
            // Prepared statements belong to the session, not the transaction.
            let _ = db.execute(&format!("DEALLOCATE {name}")).await;
            if savepoint {
                let _ = db.execute("RELEASE SAVEPOINT straddle_query_check").await;
            }
            Ok(())
        }
        Err(mut e) => {
            if savepoint {
                let _ = db
                    .execute("ROLLBACK TO SAVEPOINT straddle_query_check")
                    .await;
                let _ = db.execute("RELEASE SAVEPOINT straddle_query_check").await;
            }
            let skip = prefix.chars().count();
            e.position = e
                .position
                .and_then(|p| p.checked_sub(skip))
                .filter(|p| *p > 0);
            Err(e)
        }
    }
}

async fn prepare_mysql(db: &mut AnyBackend, q: &Query) -> Result<(), DbError> {
    // Through a user variable: no quoting of the query's text needed.
    db.execute_with("SET @straddle_query = ?", &[q.text.as_str().into()])
        .await?;
    db.execute("PREPARE straddle_query FROM @straddle_query")
        .await?;
    let _ = db.execute("DEALLOCATE PREPARE straddle_query").await;
    Ok(())
}

/// The first line of a database error (details follow on other lines).
fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

/// What the JSON and the summary say about the queries.
#[derive(Clone, Debug, Default, Serialize)]
pub struct QueriesSummary {
    /// `--old-queries`, and how many queries it holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<String>,
    pub old_queries: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<String>,
    pub new_queries: usize,
    /// Statements that cannot be prepared (DDL…), not checked.
    pub skipped: Vec<String>,
    /// Queries that prepared at no point they were checked (before an
    /// expand for old ones, around a contract for new ones): they need a
    /// table no migration here makes, or are broken by themselves.
    pub never_prepared: Vec<String>,
}

/// The `--old-queries` / `--new-queries` check, as a part of a hook.
pub struct QueryCheck {
    old: Option<QuerySet>,
    new: Option<QuerySet>,
    preparer: Preparer,
    /// Old queries that prepared before the current expand.
    old_before: Vec<bool>,
    /// New queries before the current contract.
    new_before: Vec<Result<(), DbError>>,
    old_ever: Vec<bool>,
    new_checked: Vec<bool>,
    new_ever: Vec<bool>,
    /// (version, query index) already reported, so that a re-up does not
    /// report a query twice.
    reported: HashSet<(String, usize)>,
}

impl QueryCheck {
    pub fn new(old: Option<QuerySet>, new: Option<QuerySet>) -> QueryCheck {
        let n_old = old.as_ref().map_or(0, |s| s.queries.len());
        let n_new = new.as_ref().map_or(0, |s| s.queries.len());
        QueryCheck {
            old,
            new,
            preparer: Preparer { counter: 0 },
            old_before: vec![false; n_old],
            new_before: Vec::new(),
            old_ever: vec![false; n_old],
            new_checked: vec![false; n_new],
            new_ever: vec![false; n_new],
            reported: HashSet::new(),
        }
    }

    pub async fn before_up(&mut self, db: &mut AnyBackend, m: &Planned) {
        if m.up_error.is_some() {
            return;
        }
        if !m.contract {
            if let Some(old) = &self.old {
                let results = self.preparer.check(db, &old.queries).await;
                self.old_before = results.iter().map(Result::is_ok).collect();
                for (ever, ok) in self.old_ever.iter_mut().zip(&self.old_before) {
                    *ever |= *ok;
                }
            }
        } else if let Some(new) = &self.new {
            self.new_before = self.preparer.check(db, &new.queries).await;
            for (ever, r) in self.new_ever.iter_mut().zip(&self.new_before) {
                *ever |= r.is_ok();
            }
        }
    }

    pub async fn after_up(&mut self, db: &mut AnyBackend, m: &Planned, step: Step) -> Vec<Problem> {
        let mut problems = Vec::new();
        if !m.contract {
            let Some(old) = &self.old else {
                return problems;
            };
            let wanted: Vec<usize> = (0..old.queries.len())
                .filter(|i| self.old_before.get(*i).copied().unwrap_or(false))
                .filter(|i| !self.reported.contains(&(m.prepared.version.clone(), *i)))
                .collect();
            let queries: Vec<Query> = wanted.iter().map(|i| old.queries[*i].clone()).collect();
            let results = self.preparer.check(db, &queries).await;
            for ((i, q), result) in wanted.iter().zip(&queries).zip(results) {
                let Err(e) = result else { continue };
                self.reported.insert((m.prepared.version.clone(), *i));
                let when = if step == Step::ReUp {
                    " (when the up runs again after the down)"
                } else {
                    ""
                };
                let mut p = Problem::new(
                    ProblemKind::OldQueryBroken,
                    Severity::Error,
                    format!(
                        "this expand breaks the old release's query {}{when}: it prepared before the \
                         expand, not after it ({}); the running release would fail as soon as the \
                         expand is applied, so keep what it uses until the contract",
                        q.name(),
                        first_line(&e.message)
                    ),
                );
                p.place = Some(q.place_at(e.position));
                p.error = Some(e.message.clone());
                problems.push(p);
            }
            return problems;
        }
        if step != Step::Up {
            return problems;
        }
        let Some(new) = &self.new else {
            return problems;
        };
        let after = self.preparer.check(db, &new.queries).await;
        for (i, (q, after)) in new.queries.iter().zip(&after).enumerate() {
            let Some(before) = self.new_before.get(i) else {
                continue;
            };
            self.new_checked[i] = true;
            self.new_ever[i] |= after.is_ok();
            let (message, e) = match (before, after) {
                (Err(e), Ok(())) => (
                    format!(
                        "the new release's query {} does not prepare before this contract, only after \
                         it ({}): the new release is rolled out before the contract runs, so it would \
                         fail during the window; make what it needs in an expand",
                        q.name(),
                        first_line(&e.message)
                    ),
                    e,
                ),
                (Ok(()), Err(e)) => (
                    format!(
                        "this contract breaks the new release's query {} ({}): a contract may only \
                         remove what the old release alone used",
                        q.name(),
                        first_line(&e.message)
                    ),
                    e,
                ),
                _ => continue,
            };
            let mut p = Problem::new(ProblemKind::NewQueryBroken, Severity::Error, message);
            p.place = Some(q.place_at(e.position));
            p.error = Some(e.message.clone());
            problems.push(p);
        }
        problems
    }

    /// The summary for the report, once every migration ran.
    pub fn summary(&self) -> QueriesSummary {
        let mut s = QueriesSummary::default();
        if let Some(old) = &self.old {
            s.old = Some(old.path.display().to_string());
            s.old_queries = old.queries.len();
            s.skipped.extend(old.skipped.iter().cloned());
            for (q, ever) in old.queries.iter().zip(&self.old_ever) {
                if !ever {
                    s.never_prepared.push(format!("old: {}", q.name()));
                }
            }
        }
        if let Some(new) = &self.new {
            s.new = Some(new.path.display().to_string());
            s.new_queries = new.queries.len();
            s.skipped.extend(new.skipped.iter().cloned());
            for ((q, ever), checked) in new
                .queries
                .iter()
                .zip(&self.new_ever)
                .zip(&self.new_checked)
            {
                if *checked && !ever {
                    s.never_prepared.push(format!("new: {}", q.name()));
                }
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_words_skip_comments_and_parentheses() {
        assert_eq!(first_word("-- hi\n/* x */ (SELECT 1)"), "SELECT");
        assert_eq!(first_word("  insert into t values (1)"), "insert");
        assert!(preparable(&first_word(
            "WITH x AS (SELECT 1) SELECT * FROM x"
        )));
        assert!(!preparable(&first_word("CREATE TABLE t (id int)")));
    }

    #[test]
    fn error_positions_move_into_the_file() {
        let q = Query {
            place: "q.sql:3:1".into(),
            text: "SELECT a,\n  nope FROM t".into(),
            start: Some(("q.sql".into(), 3, 1)),
        };
        assert_eq!(q.place_at(Some(13)), "q.sql:4:3");
        assert_eq!(q.place_at(Some(8)), "q.sql:3:8");
        assert_eq!(q.place_at(None), "q.sql:3:1");
        assert_eq!(q.headline(), "SELECT a,");
    }

    #[test]
    fn sqlx_folders_and_sql_files_load() {
        let dir = tempfile::tempdir().unwrap();
        let sqlx = dir.path().join(".sqlx");
        std::fs::create_dir(&sqlx).unwrap();
        std::fs::write(
            sqlx.join("query-abc.json"),
            r#"{"db_name":"PostgreSQL","query":"SELECT id FROM users WHERE id = $1","describe":{},"hash":"abc"}"#,
        )
        .unwrap();
        let set = load(dir.path(), Dialect::Postgres).unwrap();
        assert_eq!(set.queries.len(), 1);
        assert!(set.queries[0].place.ends_with("query-abc.json"));

        let file = dir.path().join("q.sql");
        std::fs::write(
            &file,
            "SELECT 1;\nCREATE TABLE x (id int);\n\nUPDATE t SET a = 1;\n",
        )
        .unwrap();
        let set = load(&file, Dialect::Postgres).unwrap();
        assert_eq!(set.queries.len(), 2);
        assert_eq!(set.skipped.len(), 1);
        assert!(
            set.queries[1].place.ends_with("q.sql:4:1"),
            "{}",
            set.queries[1].place
        );
        assert!(load(&dir.path().join("none.sql"), Dialect::Postgres).is_err());
    }
}
