//! Extension points of the round trip: a [`Hook`] is called around every
//! statement and after every up and down, on the scratch connection (inside
//! the migration's transaction where there is one), and may add problems to
//! the migration's report. Old/new query checks, the lock trace and the dry
//! run on a copy of production plug in here.

use std::time::Duration;

use serde::Serialize;

use super::schema::Schema;
use super::{Planned, Problem};
use crate::db::{AnyBackend, DbError};
use crate::runner::PreparedStatement;

/// Which run of a migration's files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Step {
    /// The first up (its effects are kept for the next migration).
    Up,
    /// The down.
    Down,
    /// The up run again after the down.
    ReUp,
}

impl Step {
    pub fn name(self) -> &'static str {
        match self {
            Step::Up => "up",
            Step::Down => "down",
            Step::ReUp => "re-up",
        }
    }
}

#[allow(async_fn_in_trait)]
pub trait Hook {
    /// On a new, empty scratch database (at the start, and again each time
    /// verify makes it anew to replay the history), before anything else:
    /// loads what every run starts from (`--from-url`'s copy of a schema).
    /// `Err` stops verify (exit 2).
    async fn fresh_database(&mut self, _db: &mut AnyBackend) -> Result<(), String> {
        Ok(())
    }

    /// Before the first up, with the schema it starts from (S0). For a
    /// contract: the new version's queries must work here.
    async fn before_up(
        &mut self,
        _db: &mut AnyBackend,
        _migration: &Planned,
        _schema: &Schema,
    ) -> Vec<Problem> {
        Vec::new()
    }

    /// Just before a statement runs.
    async fn before_statement(
        &mut self,
        _db: &mut AnyBackend,
        _migration: &Planned,
        _step: Step,
        _statement: &PreparedStatement,
    ) {
    }

    /// Just after a statement ran (or failed with `error`).
    async fn after_statement(
        &mut self,
        _db: &mut AnyBackend,
        _migration: &Planned,
        _step: Step,
        _statement: &PreparedStatement,
        _elapsed: Duration,
        _error: Option<&DbError>,
    ) {
    }

    /// After an up (`Step::Up` or `Step::ReUp`) succeeded, with the schema
    /// it left. For an expand: the old version's queries must still work.
    async fn after_up(
        &mut self,
        _db: &mut AnyBackend,
        _migration: &Planned,
        _step: Step,
        _schema: &Schema,
    ) -> Vec<Problem> {
        Vec::new()
    }

    /// After the down succeeded, with the schema it left.
    async fn after_down(
        &mut self,
        _db: &mut AnyBackend,
        _migration: &Planned,
        _schema: &Schema,
    ) -> Vec<Problem> {
        Vec::new()
    }
}

/// No extension.
pub struct NoHook;

impl Hook for NoHook {}
