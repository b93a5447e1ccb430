//! The runner process is killed (SIGKILL) at many points of a multi-migration
//! run. Each time, once the killed runner's session is gone, the schema must
//! match the history exactly (statement by statement for migrations that run
//! outside a transaction), and the next run must complete.

mod runner_common;

use std::time::{Duration, Instant};

use runner_common::*;
use straddle::Dialect;
use straddle::db::{Backend, Status};
use straddle::runner::Prepared;

/// Reference snapshots: `levels[i][j]` is the schema after migrations `..i`
/// and the first `j` statements of migration `i`; `last` after all.
struct Reference {
    migrations: Vec<Prepared>,
    levels: Vec<Vec<String>>,
    last: String,
}

fn reference(dialect: Dialect) -> Option<Reference> {
    let db = TestDb::new(dialect)?;
    let set = straddle::source::discover(&fixture(dialect, "many")).unwrap();
    let migrations: Vec<Prepared> = set
        .migrations
        .iter()
        .map(|m| straddle::runner::prepare(m, dialect).unwrap())
        .collect();
    let (levels, last) = db.with(async |c| {
        let mut levels = Vec::new();
        for m in &migrations {
            let mut snaps = vec![c.snapshot().await.unwrap()];
            for s in &m.up {
                c.execute(&s.text).await.unwrap();
                snaps.push(c.snapshot().await.unwrap());
            }
            levels.push(snaps);
        }
        let last = c.snapshot().await.unwrap();
        (levels, last)
    });
    Some(Reference {
        migrations,
        levels,
        last,
    })
}

/// Waits until no runner holds the lock (a killed runner's server session
/// may outlive its process for a moment).
fn wait_for_lock(db: &TestDb) {
    db.with(async |c| {
        let start = Instant::now();
        while !c.try_lock().await.unwrap() {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "lock never freed"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        c.unlock().await.unwrap();
    });
}

/// The schema matches the history.
fn check_consistent(db: &TestDb, r: &Reference, context: &str) {
    let history = db.history();
    let snapshot = db.snapshot();
    let applied = history
        .iter()
        .take_while(|h| h.status == Status::Applied)
        .count();
    for (h, m) in history.iter().zip(&r.migrations) {
        assert_eq!(h.version, m.version, "{context}: history out of order");
    }
    assert!(history.len() <= applied + 1, "{context}: {history:?}");
    let ok = match history.get(applied) {
        None if applied == r.migrations.len() => snapshot == r.last,
        None => snapshot == r.levels[applied][0],
        Some(row) => {
            assert_eq!(row.status, Status::Partial, "{context}");
            let done = row.statements_done as usize;
            let m = &r.migrations[applied];
            // A statement outside a transaction (or MySQL DDL, which commits
            // by itself) may have taken effect just before its progress
            // could be recorded.
            let may_be_ahead = db.dialect == Dialect::Mysql
                || m.up.get(done).is_some_and(|s| s.needs_no_transaction);
            let levels = &r.levels[applied];
            snapshot == levels[done]
                || (may_be_ahead
                    && (levels.get(done + 1) == Some(&snapshot)
                        || (done + 1 == m.up.len() && snapshot == next_level(r, applied))))
        }
    };
    assert!(
        ok,
        "{context}: the schema does not match the history {:?}\n{snapshot}",
        history
            .iter()
            .map(|h| (h.version.clone(), h.status, h.statements_done))
            .collect::<Vec<_>>()
    );
}

/// How many migrations the history records as applied (read on the test's
/// own connection while a runner works).
async fn applied_count(db: &mut straddle::db::AnyBackend) -> usize {
    use straddle::db::History;
    db.read_history()
        .await
        .expect("history")
        .iter()
        .filter(|h| h.status == Status::Applied)
        .count()
}

fn next_level(r: &Reference, i: usize) -> String {
    r.levels
        .get(i + 1)
        .map(|l| l[0].clone())
        .unwrap_or_else(|| r.last.clone())
}

fn kill_at_many_points(dialect: Dialect, iterations: u32) {
    let Some(r) = reference(dialect) else {
        return;
    };
    let Some(db) = TestDb::new(dialect) else {
        return;
    };
    let project = db.project("many", "");
    // How long an uninterrupted run takes.
    let start = Instant::now();
    assert_ok(&db.straddle(&project, &["migrate", "up", "--no-lint"]));
    let full = start.elapsed();
    assert_eq!(db.snapshot(), r.last);
    assert_ok(&db.straddle(&project, &["migrate", "rollback", "--to", "0"]));
    check_consistent(&db, &r, "after rollback");
    let n = r.migrations.len();
    let per_migration = full / n as u32;
    let rt = runtime();
    let mut watcher = rt.block_on(db.connect());
    let mut kills_mid_run = 0;
    for i in 0..iterations {
        // The kill points spread over the run whatever the machine's speed:
        // wait until `k` migrations are recorded, then for a random part of
        // one migration's time.
        let k = i as usize * n / iterations as usize;
        let delay = per_migration.mul_f64(fastrand::f64());
        let mut child = db
            .command(&project, &["migrate", "up", "--no-lint"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let waited = Instant::now();
        while child.try_wait().unwrap().is_none() && rt.block_on(applied_count(&mut watcher)) < k {
            assert!(
                waited.elapsed() < Duration::from_secs(120),
                "iteration {i}: {k} migrations never got applied"
            );
            std::thread::sleep(Duration::from_millis(2));
        }
        std::thread::sleep(delay);
        // `Child::kill` sends SIGKILL on Unix.
        let finished = child.try_wait().unwrap().is_some();
        let _ = child.kill();
        let _ = child.wait();
        wait_for_lock(&db);
        let context = format!("iteration {i}, killed {delay:?} after {k} migrations were applied");
        check_consistent(&db, &r, &context);
        if !finished && applied(&db).len() < r.migrations.len() {
            kills_mid_run += 1;
        }
        // The next run completes.
        let o = db.straddle(&project, &["migrate", "up", "--no-lint"]);
        assert_ok(&o);
        assert_eq!(db.snapshot(), r.last, "{context}");
        let mut log = db.column("SELECT migration FROM runs_log");
        log.sort();
        let expected: Vec<String> = r.migrations.iter().map(|m| m.version.clone()).collect();
        assert_eq!(
            log, expected,
            "{context}: a migration ran twice or not at all"
        );

        // Kill a rollback too; the next rollback completes.
        let mut child = db
            .command(&project, &["migrate", "rollback", "--to", "0"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay / 2);
        let _ = child.kill();
        let _ = child.wait();
        wait_for_lock(&db);
        let o = db.straddle(&project, &["migrate", "rollback", "--to", "0"]);
        assert_ok(&o);
        assert!(db.history().is_empty(), "{context}");
        assert_eq!(db.snapshot(), r.levels[0][0], "{context}");
    }
    println!(
        "{}: {kills_mid_run} of {iterations} kills landed in the middle of a run",
        dialect.name()
    );
    assert!(
        kills_mid_run >= iterations / 2,
        "only {kills_mid_run} of {iterations} kills landed in the middle of a run"
    );
}

#[test]
fn kill_sqlite() {
    kill_at_many_points(Dialect::Sqlite, 12);
}

#[test]
fn kill_postgres() {
    kill_at_many_points(Dialect::Postgres, 12);
}

#[test]
fn kill_mysql() {
    kill_at_many_points(Dialect::Mysql, 8);
}
