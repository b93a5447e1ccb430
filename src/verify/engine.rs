//! The round trip, migration by migration.

use std::time::Instant;

use super::data::{self, Data, Filler};
use super::hook::{Hook, Step};
use super::schema::{self, Schema};
use super::{
    MigrationReport, Planned, Problem, ProblemKind, Progress, Report, Scratch, Severity,
    VerifyError, VerifyOptions, introspect,
};
use crate::db::{AnyBackend, Backend, DbError, ErrorKind};
use crate::dialect::Dialect;
use crate::runner::PreparedStatement;

/// A statement that failed.
struct Failure {
    /// Its index among the file's statements.
    index: usize,
    place: String,
    error: DbError,
}

/// What the next migration starts from.
enum Next {
    /// The state after this migration's up; `data` is `None` when it must
    /// be read again.
    Go { schema: Schema, data: Option<Data> },
    /// The up failed: nothing after it can run.
    Stop,
}

struct SeedStatement {
    text: String,
    place: String,
}

struct Engine<'a, H: Hook> {
    scratch: &'a mut Scratch,
    db: Option<AnyBackend>,
    dialect: Dialect,
    migrations: &'a [Planned],
    options: &'a VerifyOptions,
    hook: &'a mut H,
    filler: Filler,
    seed_all: Vec<SeedStatement>,
    seed_pending: Vec<usize>,
}

fn fatal(what: &str, e: DbError) -> VerifyError {
    VerifyError::Database(format!("{what}: {}", e.message))
}

/// `file:line:column` of a statement, moved to the character the database
/// pointed at when it did (PostgreSQL's error position).
fn place(m: &Planned, s: &PreparedStatement, down: bool, position: Option<usize>) -> String {
    let path = if down {
        &m.prepared.down_path
    } else {
        &m.prepared.up_path
    };
    let file = path
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| m.prepared.version.clone());
    let (mut line, mut column) = (s.line, s.column);
    if let Some(p) = position.filter(|p| *p > 0) {
        let before: String = s.text.chars().take(p - 1).collect();
        let newlines = before.matches('\n').count();
        if newlines == 0 {
            column += before.chars().count();
        } else {
            line += newlines;
            column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
        }
    }
    format!("{file}:{line}:{column}")
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

fn failure_problem(kind: ProblemKind, message: String, f: &Failure) -> Problem {
    let mut p = Problem::new(kind, Severity::Error, message);
    p.place = Some(f.place.clone());
    p.error = Some(f.error.message.clone());
    p
}

impl<H: Hook> Engine<'_, H> {
    fn db(&mut self) -> &mut AnyBackend {
        self.db.as_mut().expect("the scratch connection is open")
    }

    async fn introspect(&mut self) -> Result<Schema, VerifyError> {
        introspect(self.db())
            .await
            .map_err(|e| fatal("cannot read the scratch database's schema", e))
    }

    async fn capture(&mut self, schema: &Schema) -> Result<Data, VerifyError> {
        let dialect = self.dialect;
        data::capture(self.db(), dialect, schema)
            .await
            .map_err(|e| fatal("cannot read the scratch database's data", e))
    }

    /// Runs one of the migration's files, statement by statement.
    async fn run_step(&mut self, m: &Planned, step: Step) -> Result<(), Failure> {
        let statements = if step == Step::Down {
            &m.prepared.down
        } else {
            &m.prepared.up
        };
        let db = self.db.as_mut().expect("the scratch connection is open");
        for (index, s) in statements.iter().enumerate() {
            if s.transaction_control {
                continue;
            }
            self.hook.before_statement(db, m, step, s).await;
            let started = Instant::now();
            let result = db.execute(&s.text).await;
            self.hook
                .after_statement(db, m, step, s, started.elapsed(), result.as_ref().err())
                .await;
            if let Err(error) = result {
                return Err(Failure {
                    index,
                    place: place(m, s, step == Step::Down, error.position),
                    error,
                });
            }
        }
        Ok(())
    }

    fn transactional(&self, m: &Planned) -> bool {
        let db = self.db.as_ref().expect("the scratch connection is open");
        db.transactional_ddl()
            && !m.prepared.no_transaction_up
            && !m.prepared.no_transaction_down
            && !m
                .prepared
                .up
                .iter()
                .chain(&m.prepared.down)
                .any(|s| s.needs_no_transaction)
    }

    /// The `--session-sql` statements, on a new connection.
    async fn session(&mut self) -> Result<(), VerifyError> {
        let statements = self.options.session.clone();
        for sql in statements {
            self.db().execute(&sql).await.map_err(|e| {
                VerifyError::Database(format!("--session-sql `{sql}`: {}", e.message))
            })?;
        }
        Ok(())
    }

    /// Prepares a new scratch database: the session statements, then what
    /// the hook loads into every fresh database.
    async fn start_database(&mut self) -> Result<(), VerifyError> {
        self.session().await?;
        let db = self.db.as_mut().expect("the scratch connection is open");
        self.hook
            .fresh_database(db)
            .await
            .map_err(VerifyError::Database)
    }

    async fn seed_start(&mut self) -> Result<(), VerifyError> {
        let Some(seed) = &self.options.seed else {
            return Ok(());
        };
        let file = crate::sql::parse_file(&seed.text, self.dialect);
        if let Some((message, at)) = &file.tokenize_error {
            return Err(VerifyError::Seed(format!(
                "{}:{at}: cannot split the seed file into statements: {message}",
                seed.path.display()
            )));
        }
        self.seed_all = file
            .statements
            .iter()
            .map(|s| SeedStatement {
                text: seed
                    .text
                    .get(s.span.bytes.clone())
                    .map(str::to_string)
                    .unwrap_or_else(|| s.text.clone()),
                place: format!("{}:{}", seed.path.display(), s.span.start),
            })
            .collect();
        self.seed_pending = (0..self.seed_all.len()).collect();
        self.seed_retry().await.map(|_| ())
    }

    /// Runs the seed statements whose tables did not exist yet; `true` when
    /// one ran.
    async fn seed_retry(&mut self) -> Result<bool, VerifyError> {
        let mut ran = false;
        let pending = std::mem::take(&mut self.seed_pending);
        for i in pending {
            let text = self.seed_all[i].text.clone();
            match self.db().execute(&text).await {
                Ok(()) => ran = true,
                Err(e) if e.kind == ErrorKind::DoesNotExist => self.seed_pending.push(i),
                Err(e) => {
                    return Err(VerifyError::Seed(format!(
                        "{}: the seed statement failed: {}",
                        self.seed_all[i].place, e.message
                    )));
                }
            }
        }
        Ok(ran)
    }

    /// Drops the scratch database, makes it again and replays the ups of
    /// the first `count` migrations (without generated rows).
    async fn rebuild(&mut self, count: usize) -> Result<(), VerifyError> {
        let old = self.db.take().expect("the scratch connection is open");
        let db = self
            .scratch
            .recreate(old)
            .await
            .map_err(|e| fatal("cannot recreate the scratch database", e))?;
        self.db = Some(db);
        self.start_database().await?;
        self.seed_pending = (0..self.seed_all.len()).collect();
        let migrations = self.migrations;
        for m in &migrations[..count] {
            let db = self.db();
            for s in m.prepared.up.iter().filter(|s| !s.transaction_control) {
                if let Err(e) = db.execute(&s.text).await {
                    return Err(VerifyError::Database(format!(
                        "replaying the history into a fresh scratch database failed at {}: {}",
                        place(m, s, false, e.position),
                        e.message
                    )));
                }
            }
        }
        Ok(())
    }

    /// Brings the database back to the state after migration `index`'s up
    /// (schema `after_up`): nothing to do when it is still there.
    async fn restore(&mut self, index: usize, after_up: &Schema) -> Result<(), VerifyError> {
        let now = self.introspect().await?;
        if now.render() == after_up.render() && now.column_order() == after_up.column_order() {
            return Ok(());
        }
        self.rebuild(index + 1).await
    }

    fn check_data(
        &self,
        rep: &mut MigrationReport,
        m: &Planned,
        step: Step,
        before: &Data,
        after: &Data,
    ) {
        let changes = data::compare(before, after);
        if !changes.lost.is_empty() {
            let list = changes.lost.join("; ");
            let (severity, message) = match (step, m.contract) {
                (Step::Down, false) => (
                    Severity::Error,
                    format!("the down of this expand lost data: {list}"),
                ),
                (Step::Down, true) => (
                    Severity::Note,
                    format!("the down of this contract cannot bring back its data: {list}"),
                ),
                (_, false) => (
                    Severity::Error,
                    format!(
                        "this expand lost data: {list}; an expand must keep every row and value the \
                         running version uses (move the removal to a contract)"
                    ),
                ),
                (_, true) if m.data_loss_allowed => (
                    Severity::Note,
                    format!("this contract removes data, as its straddle:allow says: {list}"),
                ),
                (_, true) => (
                    Severity::Error,
                    format!(
                        "this contract lost data without saying so: {list}; acknowledge it with \
                         `-- straddle:allow <data-loss rule> -- <reason>` in the up file"
                    ),
                ),
            };
            rep.problems
                .push(Problem::new(ProblemKind::DataLost, severity, message));
        }
        if !changes.changed.is_empty() {
            let when = if step == Step::Down {
                "after the down, compared with before the up"
            } else {
                "after the up"
            };
            rep.problems.push(Problem::new(
                ProblemKind::DataChanged,
                Severity::Warning,
                format!("{when}: {}", changes.changed.join("; ")),
            ));
        }
    }

    fn check_schema(
        rep: &mut MigrationReport,
        kind: ProblemKind,
        expected: &Schema,
        actual: &Schema,
        labels: (&str, &str),
    ) {
        let cmp = schema::compare(expected, actual, labels.0, labels.1);
        if let Some(diff) = cmp.diff {
            let message = match kind {
                ProblemKind::DownNotRestoring => {
                    "the down does not restore the schema from before the up"
                }
                _ => "running the up again after the down gives another schema than the first up",
            };
            let mut p = Problem::new(kind, Severity::Error, message);
            p.diff = Some(diff);
            rep.problems.push(p);
        }
        if !cmp.column_order.is_empty() {
            rep.problems.push(Problem::new(
                ProblemKind::ColumnOrder,
                Severity::Warning,
                format!(
                    "{} ({} vs {}; matters for SELECT * and INSERT without a column list)",
                    cmp.column_order.join("; "),
                    labels.1,
                    labels.0
                ),
            ));
        }
    }

    /// The first up, with one more try on empty tables when it failed with
    /// generated rows present. `Err` when it cannot run at all.
    async fn first_up(
        &mut self,
        index: usize,
        m: &Planned,
        rep: &mut MigrationReport,
        s0: &Schema,
        d0: &mut Data,
        transactional: bool,
    ) -> Result<bool, VerifyError> {
        if transactional {
            self.db()
                .begin()
                .await
                .map_err(|e| fatal("cannot start a transaction", e))?;
        }
        let Err(f) = self.run_step(m, Step::Up).await else {
            return Ok(true);
        };
        if f.error.kind == ErrorKind::Connection {
            return Err(fatal("the scratch database went away", f.error));
        }
        if transactional {
            let _ = self.db().rollback().await;
        }
        if !data::has_rows(d0) {
            rep.problems.push(failure_problem(
                ProblemKind::UpFailed,
                format!("the up failed: {}", first_line(&f.error.message)),
                &f,
            ));
            return Ok(false);
        }
        // Maybe only the generated rows were in the way (a new foreign key,
        // a CHECK, a NOT NULL): try again on empty tables.
        let dialect = self.dialect;
        if transactional {
            self.db()
                .begin()
                .await
                .map_err(|e| fatal("cannot start a transaction", e))?;
            data::clear(self.db(), dialect, s0)
                .await
                .map_err(|e| fatal("cannot empty the tables", e))?;
        } else if f.index == 0 {
            data::clear(self.db(), dialect, s0)
                .await
                .map_err(|e| fatal("cannot empty the tables", e))?;
        } else {
            self.rebuild(index).await?;
        }
        *d0 = self.capture(s0).await?;
        match self.run_step(m, Step::Up).await {
            Ok(()) => {
                let mut p = Problem::new(
                    ProblemKind::RowsRejected,
                    Severity::Note,
                    format!(
                        "the up refused the generated rows ({}); it was verified on empty tables",
                        first_line(&f.error.message)
                    ),
                );
                p.place = Some(f.place.clone());
                rep.problems.push(p);
                Ok(true)
            }
            Err(f2) => {
                if transactional {
                    let _ = self.db().rollback().await;
                }
                rep.problems.push(failure_problem(
                    ProblemKind::UpFailed,
                    format!("the up failed: {}", first_line(&f2.error.message)),
                    &f2,
                ));
                Ok(false)
            }
        }
    }

    async fn verify_one(
        &mut self,
        index: usize,
        m: &Planned,
        rep: &mut MigrationReport,
        s0: Schema,
        mut d0: Data,
    ) -> Result<Next, VerifyError> {
        if let Some(e) = &m.up_error {
            rep.problems.push(Problem::new(
                ProblemKind::UpFailed,
                Severity::Error,
                e.clone(),
            ));
            return Ok(Next::Stop);
        }
        let dialect = self.dialect;
        // Rows first: the seed's pending statements, or generated ones.
        let mut inserted = self.seed_retry().await?;
        if self.options.seed.is_none() {
            let filled = self
                .filler
                .fill(
                    self.db.as_mut().expect("the scratch connection is open"),
                    dialect,
                    &s0,
                    &d0,
                )
                .await
                .map_err(|e| fatal("cannot fill the tables", e))?;
            for s in filled.skipped {
                rep.problems
                    .push(Problem::new(ProblemKind::TableNotFilled, Severity::Note, s));
            }
            inserted |= filled.inserted > 0;
        }
        if inserted {
            d0 = self.capture(&s0).await?;
        }
        let db = self.db.as_mut().expect("the scratch connection is open");
        let added = self.hook.before_up(db, m, &s0).await;
        rep.problems.extend(added);

        let transactional = self.transactional(m);
        if !self
            .first_up(index, m, rep, &s0, &mut d0, transactional)
            .await?
        {
            return Ok(Next::Stop);
        }
        let s1 = self.introspect().await?;
        let d1 = self.capture(&s1).await?;
        self.check_data(rep, m, Step::Up, &d0, &d1);
        let db = self.db.as_mut().expect("the scratch connection is open");
        let added = self.hook.after_up(db, m, Step::Up, &s1).await;
        rep.problems.extend(added);

        let keep = |data: Data| if transactional { Some(data) } else { None };
        if m.prepared.down_text.is_none() {
            rep.problems.push(Problem::new(
                ProblemKind::DownMissing,
                Severity::Error,
                "there is no down migration: this migration cannot be rolled back (write a down file \
                 that undoes the up)",
            ));
            if transactional {
                self.db()
                    .commit()
                    .await
                    .map_err(|e| fatal("cannot commit", e))?;
            }
            return Ok(Next::Go {
                schema: s1,
                data: keep(d1),
            });
        }
        if let Some(e) = &m.down_error {
            rep.problems.push(Problem::new(
                ProblemKind::DownFailed,
                Severity::Error,
                e.clone(),
            ));
            if transactional {
                self.db()
                    .commit()
                    .await
                    .map_err(|e| fatal("cannot commit", e))?;
            }
            return Ok(Next::Go {
                schema: s1,
                data: keep(d1),
            });
        }

        const SAVEPOINT: &str = "straddle_round_trip";
        if transactional {
            self.db()
                .execute(&format!("SAVEPOINT {SAVEPOINT}"))
                .await
                .map_err(|e| fatal("cannot set a savepoint", e))?;
        }
        // Undo what the round trip did (transactional) or check that the
        // state after the up is still there (otherwise).
        macro_rules! finish {
            () => {{
                if transactional {
                    let db = self.db();
                    db.execute(&format!("ROLLBACK TO SAVEPOINT {SAVEPOINT}"))
                        .await
                        .map_err(|e| fatal("cannot roll back to the savepoint", e))?;
                    db.commit().await.map_err(|e| fatal("cannot commit", e))?;
                } else {
                    self.restore(index, &s1).await?;
                }
                return Ok(Next::Go {
                    schema: s1,
                    data: keep(d1),
                });
            }};
        }

        if let Err(f) = self.run_step(m, Step::Down).await {
            if f.error.kind == ErrorKind::Connection {
                return Err(fatal("the scratch database went away", f.error));
            }
            rep.problems.push(failure_problem(
                ProblemKind::DownFailed,
                format!("the down failed: {}", first_line(&f.error.message)),
                &f,
            ));
            finish!();
        }
        let s2 = self.introspect().await?;
        let d2 = self.capture(&s2).await?;
        Self::check_schema(
            rep,
            ProblemKind::DownNotRestoring,
            &s0,
            &s2,
            ("before up", "after down"),
        );
        self.check_data(rep, m, Step::Down, &d0, &d2);
        let db = self.db.as_mut().expect("the scratch connection is open");
        let added = self.hook.after_down(db, m, &s2).await;
        rep.problems.extend(added);

        if let Err(f) = self.run_step(m, Step::ReUp).await {
            if f.error.kind == ErrorKind::Connection {
                return Err(fatal("the scratch database went away", f.error));
            }
            let hint = if m.prepared.down.iter().all(|s| s.transaction_control) {
                " (the down file is empty)"
            } else {
                ""
            };
            rep.problems.push(failure_problem(
                ProblemKind::ReUpFailed,
                format!(
                    "the up cannot run again after the down{hint}: {}",
                    first_line(&f.error.message)
                ),
                &f,
            ));
            finish!();
        }
        let s3 = self.introspect().await?;
        Self::check_schema(
            rep,
            ProblemKind::ReUpDiffers,
            &s1,
            &s3,
            ("after up", "after down and up again"),
        );
        let db = self.db.as_mut().expect("the scratch connection is open");
        let added = self.hook.after_up(db, m, Step::ReUp, &s3).await;
        rep.problems.extend(added);
        finish!();
    }
}

/// Verifies `migrations` in order on the scratch database. Failing
/// migrations are reported, not returned as errors: `Err` means verify could
/// not run (the scratch database broke, or the seed failed).
pub async fn run<H: Hook>(
    scratch: &mut Scratch,
    migrations: &[Planned],
    options: &VerifyOptions,
    hook: &mut H,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<Report, VerifyError> {
    let started = Instant::now();
    let dialect = scratch.dialect();
    let mut db = scratch
        .connect()
        .await
        .map_err(|e| fatal("cannot connect to the scratch database", e))?;
    let server = db.server_version().await.unwrap_or_default();
    let description = scratch.description.clone();
    let database = scratch.database().map(str::to_string);
    let mut engine = Engine {
        scratch,
        db: Some(db),
        dialect,
        migrations,
        options,
        hook,
        filler: Filler::new(options.rows),
        seed_all: Vec::new(),
        seed_pending: Vec::new(),
    };
    engine.start_database().await?;
    engine.seed_start().await?;
    let mut schema = engine.introspect().await?;
    let mut data: Option<Data> = None;
    let mut stop: Option<String> = None;
    let mut reports: Vec<MigrationReport> = Vec::new();
    let total = migrations.len();
    for (index, m) in migrations.iter().enumerate() {
        progress(Progress::Start {
            index,
            total,
            migration: m,
        });
        let mut rep = MigrationReport::new(m);
        if let Some(reason) = &stop {
            rep.problems.push(Problem::new(
                ProblemKind::NotRun,
                Severity::Note,
                reason.clone(),
            ));
        } else {
            let t = Instant::now();
            let d0 = match data.take() {
                Some(d) => d,
                None => engine.capture(&schema).await?,
            };
            match engine
                .verify_one(index, m, &mut rep, schema.clone(), d0)
                .await?
            {
                Next::Go { schema: s, data: d } => {
                    schema = s;
                    data = d;
                }
                Next::Stop => {
                    stop = Some(format!(
                        "not verified: the up of {} failed, so the migrations after it cannot run",
                        m.version()
                    ));
                }
            }
            if stop.is_none() && options.fail_fast && rep.failed() {
                stop = Some(format!(
                    "not verified: --fail-fast stopped at {}",
                    m.version()
                ));
            }
            rep.seconds = t.elapsed().as_secs_f64();
        }
        reports.push(rep);
        if let Some(report) = reports.last() {
            progress(Progress::Done {
                index,
                total,
                report,
            });
        }
    }
    drop(engine);
    let mut report = Report {
        dialect,
        server,
        scratch: description,
        scratch_database: database,
        seconds: started.elapsed().as_secs_f64(),
        summary: Default::default(),
        migrations: reports,
        source: None,
        queries: None,
    };
    report.summarise();
    Ok(report)
}
