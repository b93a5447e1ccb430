//! The [`Hook`] `straddle verify` runs with: the old/new query checks
//! ([`super::queries`]), the lock trace ([`super::trace`]) and the copy of
//! an existing database's schema ([`super::copy`]), each optional.

use std::fmt::Write;
use std::time::Duration;

use super::copy::{SourceCopy, SourceInfo, load_into};
use super::hook::{Hook, Step};
use super::queries::{QueriesSummary, QueryCheck};
use super::schema::Schema;
use super::trace::Tracer;
use super::{Planned, Problem, Report};
use crate::db::{AnyBackend, DbError, DbUrl};
use crate::runner::PreparedStatement;

#[derive(Default)]
pub struct Checks {
    pub queries: Option<QueryCheck>,
    pub tracer: Option<Tracer>,
    /// `--from-url`: loaded into every new scratch database.
    pub copy: Option<SourceCopy>,
    /// The scratch database's URL, for loading the copy through a
    /// connection of its own (PostgreSQL, MySQL).
    pub scratch_url: Option<DbUrl>,
}

impl Hook for Checks {
    async fn fresh_database(&mut self, db: &mut AnyBackend) -> Result<(), String> {
        match &self.copy {
            Some(copy) => load_into(copy, self.scratch_url.as_ref(), db).await,
            None => Ok(()),
        }
    }

    async fn before_up(
        &mut self,
        db: &mut AnyBackend,
        migration: &Planned,
        schema: &Schema,
    ) -> Vec<Problem> {
        if let Some(q) = &mut self.queries {
            q.before_up(db, migration).await;
        }
        if let Some(t) = &mut self.tracer {
            t.before_up(schema);
        }
        Vec::new()
    }

    async fn before_statement(
        &mut self,
        db: &mut AnyBackend,
        migration: &Planned,
        step: Step,
        statement: &PreparedStatement,
    ) {
        if let Some(t) = &mut self.tracer {
            t.before_statement(db, migration, step, statement).await;
        }
    }

    async fn after_statement(
        &mut self,
        db: &mut AnyBackend,
        migration: &Planned,
        step: Step,
        statement: &PreparedStatement,
        elapsed: Duration,
        error: Option<&DbError>,
    ) {
        if let Some(t) = &mut self.tracer {
            t.after_statement(db, migration, step, statement, elapsed, error)
                .await;
        }
    }

    async fn after_up(
        &mut self,
        db: &mut AnyBackend,
        migration: &Planned,
        step: Step,
        _schema: &Schema,
    ) -> Vec<Problem> {
        let mut out = Vec::new();
        if let Some(q) = &mut self.queries {
            out.extend(q.after_up(db, migration, step).await);
        }
        if let Some(t) = &self.tracer {
            out.extend(t.after_up(migration, step));
        }
        out
    }
}

impl Checks {
    /// Puts what the checks gathered into the report: each migration's
    /// trace, the queries' summary, the source's description.
    pub fn finish(&mut self, report: &mut Report) {
        if let Some(t) = &mut self.tracer {
            for trace in t.take() {
                if let Some(m) = report
                    .migrations
                    .iter_mut()
                    .find(|m| m.version == trace.version)
                {
                    m.trace = trace.statements;
                }
            }
        }
        if let Some(q) = &self.queries {
            report.queries = Some(q.summary());
        }
        if let Some(copy) = &self.copy {
            report.source = Some(copy.info.clone());
        }
        report.summarise();
    }
}

fn source_line(s: &SourceInfo) -> String {
    let history = match &s.history {
        Some(h) => format!("{} applied in {h}", s.applied),
        None => "no history table, so every migration counts as pending".to_string(),
    };
    let mut text = format!(
        "dry run on a copy of {} ({}): schema from {}, {} table(s), {history}, {} pending",
        s.url,
        s.server,
        s.schema_from,
        s.tables,
        s.pending.len()
    );
    if s.sample_rows > 0 {
        text.push_str(&format!(
            ", {} sampled row(s) (up to {} per table)",
            s.rows_copied, s.sample_rows
        ));
    }
    text
}

fn queries_lines(q: &QueriesSummary) -> Vec<String> {
    let mut out = Vec::new();
    let mut parts = Vec::new();
    if let Some(old) = &q.old {
        parts.push(format!("{} old from {old}", q.old_queries));
    }
    if let Some(new) = &q.new {
        parts.push(format!("{} new from {new}", q.new_queries));
    }
    out.push(format!("queries checked: {}", parts.join(", ")));
    if !q.skipped.is_empty() {
        out.push(format!(
            "not checked (cannot be prepared): {}",
            q.skipped.join(", ")
        ));
    }
    for n in &q.never_prepared {
        out.push(format!(
            "warning: query never prepared at any point it was checked: {n}"
        ));
    }
    out
}

/// The sections the checks add to the human report.
pub fn human(report: &Report) -> String {
    let mut out = String::new();
    if let Some(s) = &report.source {
        let _ = writeln!(out, "\n{}", source_line(s));
    }
    if let Some(q) = &report.queries {
        let _ = writeln!(out);
        for line in queries_lines(q) {
            let _ = writeln!(out, "{line}");
        }
    }
    out.push_str(&super::trace::human(report));
    out
}

/// The sections the checks add to the markdown report.
pub fn markdown(report: &Report) -> String {
    let mut out = String::new();
    if let Some(s) = &report.source {
        let _ = writeln!(out, "\n{}.", source_line(s).replace('|', "\\|"));
    }
    if let Some(q) = &report.queries {
        let _ = writeln!(out);
        for line in queries_lines(q) {
            let _ = writeln!(out, "- {}", line.replace('|', "\\|"));
        }
    }
    out.push_str(&super::trace::markdown(report));
    out
}
