//! One runner at a time: several runners started at once apply each migration
//! exactly once; a second runner waits (bounded, with a message) or exits with
//! a clear error; lock timeouts are retried with backoff.

mod runner_common;

use std::sync::mpsc;
use std::time::Duration;

use runner_common::*;
use straddle::Dialect;
use straddle::db::Backend;

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn concurrent_runners(db: TestDb) {
    let project = db.project("many", "");
    let children: Vec<_> = (0..5)
        .map(|_| {
            db.command(&project, &["migrate", "up", "--no-lint"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<_> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    for o in &outputs {
        assert_ok(o);
    }
    let applied_total: usize = outputs
        .iter()
        .map(|o| {
            stdout(o).matches("\napplied ").count() + stdout(o).starts_with("applied ") as usize
        })
        .sum();
    assert_eq!(
        applied_total, 8,
        "each migration applied by exactly one runner"
    );
    assert_eq!(applied(&db).len(), 8);
    let mut log = db.column("SELECT migration FROM runs_log");
    log.sort();
    let expected: Vec<String> = (1..=8).map(|i| format!("{i:04}")).collect();
    assert_eq!(
        log, expected,
        "each migration's statements ran exactly once"
    );
    assert!(
        outputs
            .iter()
            .any(|o| stdout(o).contains("another straddle runner")),
        "a runner that waited says so"
    );
}

#[test]
fn concurrent_runners_sqlite() {
    concurrent_runners(TestDb::new(Dialect::Sqlite).unwrap());
}

#[test]
fn concurrent_runners_postgres() {
    if let Some(db) = TestDb::new(Dialect::Postgres) {
        concurrent_runners(db);
    }
}

#[test]
fn concurrent_runners_mysql() {
    if let Some(db) = TestDb::new(Dialect::Mysql) {
        concurrent_runners(db);
    }
}

/// Holds something in a thread of its own for `hold`; returns once it is held.
fn hold_in_thread(
    db: &TestDb,
    hold: Duration,
    take: fn(&mut straddle::db::AnyBackend) -> std::pin::Pin<Box<dyn Future<Output = ()> + '_>>,
) -> std::thread::JoinHandle<()> {
    let url = db.url.clone();
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::spawn(move || {
        let rt = runtime();
        rt.block_on(async {
            let mut c = straddle::db::connect(&straddle::db::DbUrl::parse(&url).unwrap(), true)
                .await
                .unwrap();
            take(&mut c).await;
            tx.send(()).unwrap();
            tokio::time::sleep(hold).await;
            let _ = c.rollback().await;
            let _ = c.unlock().await;
        });
    });
    rx.recv_timeout(Duration::from_secs(30)).unwrap();
    handle
}

fn take_runner_lock(
    c: &mut straddle::db::AnyBackend,
) -> std::pin::Pin<Box<dyn Future<Output = ()> + '_>> {
    Box::pin(async move {
        assert!(c.try_lock().await.unwrap());
    })
}

fn second_runner_waits(db: TestDb) {
    let project = db.project("basic", "[runner]\nwait_for_runner = \"20s\"\n");
    let holder = hold_in_thread(&db, Duration::from_millis(1500), take_runner_lock);
    let o = db.straddle(&project, &["migrate", "up", "--no-lint"]);
    holder.join().unwrap();
    assert_ok(&o);
    assert!(
        stdout(&o).contains("another straddle runner is migrating this database"),
        "{}",
        text(&o)
    );
    assert_eq!(applied(&db).len(), 5);

    let project = db.project("failing", "[runner]\nwait_for_runner = \"1s\"\n");
    let holder = hold_in_thread(&db, Duration::from_secs(4), take_runner_lock);
    let o = db.straddle(&project, &["migrate", "up", "--no-lint", "--allow-missing"]);
    holder.join().unwrap();
    assert_code(&o, 1);
    assert!(
        stderr(&o).contains("still holds the migration lock"),
        "{}",
        text(&o)
    );
}

#[test]
fn second_runner_waits_sqlite() {
    second_runner_waits(TestDb::new(Dialect::Sqlite).unwrap());
}

#[test]
fn second_runner_waits_postgres() {
    if let Some(db) = TestDb::new(Dialect::Postgres) {
        second_runner_waits(db);
    }
}

#[test]
fn second_runner_waits_mysql() {
    if let Some(db) = TestDb::new(Dialect::Mysql) {
        second_runner_waits(db);
    }
}

fn lock_users(
    c: &mut straddle::db::AnyBackend,
) -> std::pin::Pin<Box<dyn Future<Output = ()> + '_>> {
    Box::pin(async move {
        match c.dialect() {
            Dialect::Postgres => {
                c.begin().await.unwrap();
                c.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
                    .await
                    .unwrap();
            }
            Dialect::Mysql => c.execute("LOCK TABLES users WRITE").await.unwrap(),
            Dialect::Sqlite => c.begin().await.unwrap(),
        }
    })
}

/// A statement that hits the lock timeout is retried with backoff, each
/// attempt logged; when the attempts run out the migration fails cleanly.
fn lock_timeout_retries(db: TestDb) {
    let timeout = if db.dialect == Dialect::Mysql {
        "1s"
    } else {
        "300ms"
    };
    let config = format!(
        "[runner]\nlock_timeout = \"{timeout}\"\nlock_retries = 8\nretry_backoff = \"100ms\"\nretry_backoff_max = \"400ms\"\n"
    );
    let project = db.project("basic", &config);
    assert_ok(&db.straddle(
        &project,
        &["migrate", "up", "--no-lint", "--to", "20240101000000"],
    ));
    let before = db.snapshot();
    let hold = if db.dialect == Dialect::Mysql {
        2500
    } else {
        1500
    };
    let holder = hold_in_thread(&db, Duration::from_millis(hold), lock_users);
    let o = db.straddle(
        &project,
        &["migrate", "up", "--no-lint", "--to", "20240102000000"],
    );
    holder.join().unwrap();
    assert_ok(&o);
    let out = stdout(&o);
    assert!(
        out.contains("lock timeout in 20240102000000"),
        "{}",
        text(&o)
    );
    assert!(out.contains("attempt 1 of 9 failed"), "{}", text(&o));
    assert_eq!(applied(&db).len(), 2);

    // attempts used up: the migration fails, the database as before it
    assert_ok(&db.straddle(&project, &["migrate", "rollback"]));
    assert_eq!(db.snapshot(), before);
    let config = format!(
        "[runner]\nlock_timeout = \"{timeout}\"\nlock_retries = 1\nretry_backoff = \"100ms\"\n"
    );
    let project = db.project("basic", &config);
    let holder = hold_in_thread(&db, Duration::from_secs(5), lock_users);
    let o = db.straddle(
        &project,
        &["migrate", "up", "--no-lint", "--to", "20240102000000"],
    );
    holder.join().unwrap();
    assert_code(&o, 1);
    assert!(stdout(&o).contains("attempt 1 of 2 failed"), "{}", text(&o));
    assert!(
        stderr(&o).contains("migration 20240102000000 failed"),
        "{}",
        text(&o)
    );
    if db.dialect != Dialect::Mysql {
        assert_eq!(db.snapshot(), before);
        assert_eq!(applied(&db).len(), 1);
        assert_eq!(db.history().len(), 1);
    } else {
        // MySQL: resumable, and resuming now works.
        assert_ok(&db.straddle(
            &project,
            &["migrate", "up", "--no-lint", "--to", "20240102000000"],
        ));
        assert_eq!(applied(&db).len(), 2);
    }
}

#[test]
fn lock_timeout_retries_sqlite() {
    lock_timeout_retries(TestDb::new(Dialect::Sqlite).unwrap());
}

#[test]
fn lock_timeout_retries_postgres() {
    if let Some(db) = TestDb::new(Dialect::Postgres) {
        lock_timeout_retries(db);
    }
}

#[test]
fn lock_timeout_retries_mysql() {
    if let Some(db) = TestDb::new(Dialect::Mysql) {
        lock_timeout_retries(db);
    }
}
