//! Executing a plan: each migration in one transaction with its history row
//! where the database allows it, otherwise statement by statement with the
//! progress recorded after each statement. Lock timeouts are retried with
//! exponential backoff and jitter.

use std::time::Instant;

use super::plan::{Action, Prepared, PreparedStatement, Step};
use super::{Event, Outcome, Plan, RunError, RunnerOptions, backoff};
use crate::db::{Backend, DbError, ErrorKind, History, HistoryRow, Status};

/// Runs the steps of `plan` in order. Stops at the first failure, with an
/// error that says what state the database was left in.
pub async fn execute<B: Backend>(
    db: &mut B,
    plan: &Plan,
    options: &RunnerOptions,
    log: &mut dyn FnMut(Event),
) -> Result<Outcome, RunError> {
    let mut outcome = Outcome::default();
    for step in &plan.steps {
        let m = &step.migration;
        log(Event::Start {
            version: m.version.clone(),
            name: m.name.clone(),
            phase: m.phase.clone(),
            action: step.action,
        });
        let started = Instant::now();
        let done = match step.action {
            Action::Apply | Action::Resume => apply(db, step, options, log).await?,
            Action::Revert => revert(db, step, options, log).await?,
            Action::Forget => {
                db.delete_history(&m.version).await?;
                true
            }
        };
        if !done {
            continue;
        }
        log(Event::Done {
            version: m.version.clone(),
            action: step.action,
            millis: started.elapsed().as_millis(),
        });
        match step.action {
            Action::Apply | Action::Resume => outcome.applied.push(m.version.clone()),
            Action::Revert | Action::Forget => outcome.reverted.push(m.version.clone()),
        }
    }
    Ok(outcome)
}

fn place(m: &Prepared, s: &PreparedStatement, down: bool) -> String {
    let path = if down { &m.down_path } else { &m.up_path };
    let file = match path {
        Some(p) => p.display().to_string(),
        None => format!(
            "(recorded {} text of {})",
            if down { "down" } else { "up" },
            m.version
        ),
    };
    format!("{file}:{}:{}", s.line, s.column)
}

fn row_for(m: &Prepared, options: &RunnerOptions, status: Status, done: usize) -> HistoryRow {
    HistoryRow {
        version: m.version.clone(),
        name: m.name.clone(),
        phase: m.phase.clone(),
        pair: m.pair.clone(),
        checksum: m.checksum.clone(),
        up_sql: Some(m.up_text.clone()),
        down_sql: m.down_text.clone(),
        no_transaction: m.no_transaction_up,
        status,
        statements_total: m.up.len() as i64,
        statements_done: done as i64,
        applied_at: None,
        duration_ms: 0,
        applied_by: options.applied_by.clone(),
    }
}

fn skipped(version: &str) -> Event {
    Event::Note(format!(
        "{version} was applied meanwhile by another runner; skipped"
    ))
}

/// The transaction of a migration could not even start (SQLite: another
/// connection kept the write lock past the busy timeout).
fn begin_failed(m: &Prepared, e: DbError, down: bool) -> RunError {
    if e.kind != ErrorKind::LockTimeout {
        return e.into();
    }
    let file = if down { &m.down_path } else { &m.up_path };
    RunError::Failed {
        version: m.version.clone(),
        place: file
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| m.version.clone()),
        error: e,
        state: "Its transaction could not start because another connection kept the database locked; \
                nothing of it ran. Run again when the database is less busy (or raise [runner] lock_timeout / lock_retries)."
            .to_string(),
    }
}

/// Sleeps before retry `attempt` of a statement that hit the lock timeout;
/// `false` when the attempts are used up.
async fn retry_after_lock_timeout(
    e: &DbError,
    attempt: &mut u32,
    options: &RunnerOptions,
    version: &str,
    line: usize,
    log: &mut dyn FnMut(Event),
) -> bool {
    if e.kind != ErrorKind::LockTimeout || *attempt > options.lock_retries {
        return false;
    }
    let wait = backoff(options.retry_backoff, options.retry_backoff_max, *attempt);
    log(Event::Retry {
        version: version.to_string(),
        line,
        attempt: *attempt,
        attempts: options.lock_retries + 1,
        wait,
        error: e.message.clone(),
    });
    tokio::time::sleep(wait).await;
    *attempt += 1;
    true
}

/// Applies (or resumes) one migration. `Ok(false)` when another runner had
/// already applied it.
async fn apply<B: Backend>(
    db: &mut B,
    step: &Step,
    options: &RunnerOptions,
    log: &mut dyn FnMut(Event),
) -> Result<bool, RunError> {
    let m = &step.migration;
    let statement_wise =
        m.no_transaction_up || !db.transactional_ddl() || step.action == Action::Resume;
    if statement_wise {
        apply_statement_wise(db, step, options, log).await
    } else {
        apply_in_transaction(db, m, options, log).await
    }
}

async fn apply_in_transaction<B: Backend>(
    db: &mut B,
    m: &Prepared,
    options: &RunnerOptions,
    log: &mut dyn FnMut(Event),
) -> Result<bool, RunError> {
    let mut attempt = 1;
    let started = Instant::now();
    'attempts: loop {
        // Exactly once: with the runner lock held the history never has a
        // row for it, but that is read inside the transaction to be sure.
        let recorded = match db
            .begin_migration(&m.version, options.lock_timeout, options.statement_timeout)
            .await
        {
            Ok(recorded) => recorded,
            Err(e) => {
                let line = m.up.first().map_or(1, |s| s.line);
                if retry_after_lock_timeout(&e, &mut attempt, options, &m.version, line, log).await
                {
                    continue 'attempts;
                }
                return Err(begin_failed(m, e, false));
            }
        };
        if recorded {
            db.rollback().await?;
            log(skipped(&m.version));
            return Ok(false);
        }
        for s in &m.up {
            if s.transaction_control {
                continue;
            }
            if let Err(e) = db.execute(&s.text).await {
                let _ = db.rollback().await;
                if retry_after_lock_timeout(&e, &mut attempt, options, &m.version, s.line, log)
                    .await
                {
                    continue 'attempts;
                }
                return Err(RunError::Failed {
                    version: m.version.clone(),
                    place: place(m, s, false),
                    error: e,
                    state: "The migration's transaction was rolled back: the database is exactly as it was \
                            before this migration, and nothing after it ran. Fix the statement and run again."
                        .to_string(),
                });
            }
        }
        let mut row = row_for(m, options, Status::Applied, m.up.len());
        row.duration_ms = started.elapsed().as_millis() as i64;
        db.commit_migration(&row).await?;
        return Ok(true);
    }
}

/// Runs one statement, with its progress update in the same transaction
/// when the statement allows one.
async fn run_recorded<B: Backend>(
    db: &mut B,
    s: &PreparedStatement,
    wrap: bool,
    version: &str,
    status: Status,
    done_after: usize,
    started: Instant,
) -> Result<(), DbError> {
    let ms = started.elapsed().as_millis() as i64;
    if wrap {
        db.begin().await?;
        if let Err(e) = db.execute(&s.text).await {
            let _ = db.rollback().await;
            return Err(e);
        }
        if let Err(e) = db
            .set_progress(version, status, done_after as i64, ms)
            .await
        {
            let _ = db.rollback().await;
            return Err(e);
        }
        db.commit().await
    } else {
        db.execute(&s.text).await?;
        db.set_progress(version, status, done_after as i64, ms)
            .await
    }
}

/// Errors that mean "this already took effect" when a statement is run again
/// after an interruption.
fn already_done(e: &DbError, tolerate_exists: bool) -> bool {
    e.kind == ErrorKind::DoesNotExist || (tolerate_exists && e.kind == ErrorKind::AlreadyExists)
}

#[allow(clippy::too_many_arguments)]
async fn run_statements<B: Backend>(
    db: &mut B,
    m: &Prepared,
    statements: &[PreparedStatement],
    start: usize,
    down: bool,
    status: Status,
    // Statement index whose "already exists / does not exist" errors mean it
    // took effect before an interruption.
    tolerate_at: Option<usize>,
    // Every "does not exist" error is expected (undoing a partial up).
    tolerate_missing: bool,
    options: &RunnerOptions,
    log: &mut dyn FnMut(Event),
) -> Result<(), RunError> {
    let started = Instant::now();
    db.set_timeouts(options.lock_timeout, options.statement_timeout)
        .await?;
    for (i, s) in statements.iter().enumerate().skip(start) {
        if s.transaction_control {
            db.set_progress(&m.version, status, (i + 1) as i64, 0)
                .await?;
            continue;
        }
        let mut attempt = 1;
        let mut wrap = !s.needs_no_transaction;
        loop {
            match run_recorded(db, s, wrap, &m.version, status, i + 1, started).await {
                Ok(()) => break,
                Err(e) if e.kind == ErrorKind::NeedsNoTransaction && wrap => wrap = false,
                Err(e) => {
                    if retry_after_lock_timeout(&e, &mut attempt, options, &m.version, s.line, log)
                        .await
                    {
                        continue;
                    }
                    let tolerated = (tolerate_at == Some(i) && already_done(&e, true))
                        || (tolerate_missing && e.kind == ErrorKind::DoesNotExist);
                    if tolerated {
                        log(Event::Note(format!(
                            "{}: {}: `{}` (it took effect before an interruption, or its object was never made); \
                             counted as done",
                            m.version,
                            place(m, s, down),
                            e.message.lines().next().unwrap_or("")
                        )));
                        db.set_progress(&m.version, status, (i + 1) as i64, 0)
                            .await?;
                        break;
                    }
                    let state = if down {
                        format!(
                            "{i} of {} down statements ran and are recorded (status `reverting` in {}). \
                             Fix the failing statement in the down file and run `straddle migrate rollback` again \
                             to continue from it.",
                            statements.len(),
                            crate::db::HISTORY_TABLE
                        )
                    } else {
                        format!(
                            "{i} of {} statements of this migration ran and are recorded (status `partial` in {}); \
                             nothing after it ran. Fix the failing statement and run the same command again to resume \
                             from it, or run `straddle migrate rollback` to undo what ran.",
                            statements.len(),
                            crate::db::HISTORY_TABLE
                        )
                    };
                    return Err(RunError::Failed {
                        version: m.version.clone(),
                        place: place(m, s, down),
                        error: e,
                        state,
                    });
                }
            }
        }
    }
    Ok(())
}

async fn apply_statement_wise<B: Backend>(
    db: &mut B,
    step: &Step,
    options: &RunnerOptions,
    log: &mut dyn FnMut(Event),
) -> Result<bool, RunError> {
    let m = &step.migration;
    let started = Instant::now();
    if step.action == Action::Apply {
        // Claim the migration: its row, with no statement done yet.
        let recorded = db
            .begin_migration(&m.version, options.lock_timeout, options.statement_timeout)
            .await?;
        if recorded {
            db.rollback().await?;
            log(skipped(&m.version));
            return Ok(false);
        }
        db.commit_migration(&row_for(m, options, Status::Partial, 0))
            .await?;
    } else {
        // Resuming with a corrected file: record the text that now runs.
        db.set_text(
            &m.version,
            &m.checksum,
            &m.up_text,
            m.down_text.as_deref(),
            m.up.len() as i64,
        )
        .await?;
    }
    let tolerate_at = (step.action == Action::Resume).then_some(step.start);
    run_statements(
        db,
        m,
        &m.up,
        step.start,
        false,
        Status::Partial,
        tolerate_at,
        false,
        options,
        log,
    )
    .await?;
    db.set_progress(
        &m.version,
        Status::Applied,
        m.up.len() as i64,
        started.elapsed().as_millis() as i64,
    )
    .await?;
    Ok(true)
}

async fn revert<B: Backend>(
    db: &mut B,
    step: &Step,
    options: &RunnerOptions,
    log: &mut dyn FnMut(Event),
) -> Result<bool, RunError> {
    let m = &step.migration;
    let statement_wise =
        m.no_transaction_down || !db.transactional_ddl() || step.start > 0 || step.undo_partial;
    if !statement_wise {
        let mut attempt = 1;
        'attempts: loop {
            db.set_timeouts(options.lock_timeout, options.statement_timeout)
                .await?;
            if let Err(e) = db.begin().await {
                let line = m.down.first().map_or(1, |s| s.line);
                if retry_after_lock_timeout(&e, &mut attempt, options, &m.version, line, log).await
                {
                    continue 'attempts;
                }
                return Err(begin_failed(m, e, true));
            }
            for s in &m.down {
                if s.transaction_control {
                    continue;
                }
                if let Err(e) = db.execute(&s.text).await {
                    let _ = db.rollback().await;
                    if retry_after_lock_timeout(&e, &mut attempt, options, &m.version, s.line, log)
                        .await
                    {
                        continue 'attempts;
                    }
                    return Err(RunError::Failed {
                        version: m.version.clone(),
                        place: place(m, s, true),
                        error: e,
                        state: format!(
                            "The rollback's transaction was rolled back: migration {} is still applied, \
                             and the database is exactly as it was before this rollback.",
                            m.version
                        ),
                    });
                }
            }
            if let Err(e) = db.delete_history(&m.version).await {
                let _ = db.rollback().await;
                return Err(e.into());
            }
            db.commit().await?;
            return Ok(true);
        }
    }
    // Statement by statement: mark the row as reverting, with the down text
    // that runs, then record each statement.
    db.set_text(
        &m.version,
        &m.checksum,
        &m.up_text,
        m.down_text.as_deref(),
        m.down.len() as i64,
    )
    .await?;
    db.set_progress(&m.version, Status::Reverting, step.start as i64, 0)
        .await?;
    let tolerate_at = (step.start > 0).then_some(step.start);
    run_statements(
        db,
        m,
        &m.down,
        step.start,
        true,
        Status::Reverting,
        tolerate_at,
        step.undo_partial,
        options,
        log,
    )
    .await?;
    db.delete_history(&m.version).await?;
    Ok(true)
}
