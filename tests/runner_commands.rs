//! Each `straddle migrate` command, against real PostgreSQL, MySQL/MariaDB and
//! SQLite, each test in a database of its own.

mod runner_common;

use runner_common::*;
use straddle::Dialect;
use straddle::db::{Backend, History, Status};

const ALL: [&str; 5] = [
    "20240101000000",
    "20240102000000",
    "20240103000000",
    "20240104000000",
    "20240105000000",
];

fn stdout(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs `straddle ARGS…` in `project` and checks that it succeeds.
#[track_caller]
fn ok(db: &TestDb, project: &std::path::Path, args: &[&str]) -> std::process::Output {
    let o = db.straddle(project, args);
    assert_ok(&o);
    o
}

/// Checks that `o` printed `needle` on its standard output.
#[track_caller]
fn assert_stdout(o: &std::process::Output, needle: &str) {
    assert_printed(o, &stdout(o), needle);
}

/// Checks that `o` printed `needle` on its standard error.
#[track_caller]
fn assert_stderr(o: &std::process::Output, needle: &str) {
    assert_printed(o, &stderr(o), needle);
}

#[track_caller]
fn assert_printed(o: &std::process::Output, stream: &str, needle: &str) {
    assert!(stream.contains(needle), "{needle:?} missing:\n{}", text(o));
}

fn runs(db: &TestDb) -> Vec<String> {
    let mut v = db.column("SELECT migration FROM runs");
    v.sort();
    v
}

/// The contract gate (issue "rollout"): the rollout of the app version that
/// needs the expands is recorded as started and complete.
fn complete_rollout(db: &TestDb, project: &std::path::Path) {
    ok(db, project, &["rollout", "start", "--app-version", "2.0.0"]);
    ok(db, project, &["rollout", "complete"]);
}

/// `#[test]`s running `check` on SQLite and on each server (skipped, as in
/// runner_common, when the server is not there), under the names given.
macro_rules! test_each_dialect {
    ($check:ident: $sqlite:ident, $postgres:ident, $mysql:ident) => {
        #[test]
        fn $sqlite() {
            $check(TestDb::new(Dialect::Sqlite).expect("SQLite needs no server"));
        }

        #[test]
        fn $postgres() {
            if let Some(db) = TestDb::new(Dialect::Postgres) {
                $check(db);
            }
        }

        #[test]
        fn $mysql() {
            if let Some(db) = TestDb::new(Dialect::Mysql) {
                $check(db);
            }
        }
    };
}

const NO_BAKE: &str = "[rollout]\nbake = \"0s\"\n";

fn commands(db: TestDb) {
    let project = db.project("basic", NO_BAKE);
    let empty = db.snapshot();
    // status: everything pending
    let o = ok(&db, &project, &["migrate", "status"]);
    assert_eq!(stdout(&o).matches("pending").count(), 5, "{}", text(&o));
    assert_stdout(&o, "contract");

    // dry run: the plan and its SQL, nothing touched
    let o = ok(
        &db,
        &project,
        &["migrate", "expand", "--dry-run", "--no-lint"],
    );
    let out = stdout(&o);
    assert!(out.contains("apply 20240101000000 create_users"), "{out}");
    assert!(out.contains("CREATE TABLE users"), "{out}");
    assert!(out.contains("stopped at contract 20240104000000"), "{out}");
    assert!(out.contains("nothing was changed"), "{out}");
    assert!(
        !db.with(async |c| c.history_exists().await.unwrap()),
        "a dry run created the history table"
    );

    // expand: 1, 2, 3, then stops at the contract
    let o = ok(&db, &project, &["migrate", "expand", "--no-lint"]);
    assert_stdout(&o, "stopped at contract 20240104000000");
    assert_eq!(applied(&db), ALL[..3]);
    assert_eq!(runs(&db), ["1", "2", "3"]);
    let history = db.history();
    assert_eq!(history[0].phase, "expand");
    assert_eq!(history[0].checksum.len(), 96);
    assert!(
        history[0]
            .up_sql
            .as_deref()
            .unwrap()
            .contains("CREATE TABLE users")
    );
    assert!(
        history[0]
            .down_sql
            .as_deref()
            .unwrap()
            .contains("DROP TABLE users")
    );
    assert!(history[0].applied_by.starts_with("straddle "));
    assert!(history[0].applied_at.as_deref().unwrap().ends_with('Z'));
    assert_eq!(history[2].no_transaction, db.dialect == Dialect::Postgres);

    // expand again: nothing to apply, still stopped at the contract
    let o = ok(&db, &project, &["migrate", "expand", "--no-lint"]);
    assert_stdout(&o, "nothing to apply");

    // contract: 4 (its expand 2 is applied, and the rollout of the app
    // version that needs it is complete), then stops at the expand 5
    complete_rollout(&db, &project);
    let o = ok(&db, &project, &["migrate", "contract", "--no-lint"]);
    assert_stdout(&o, "stopped at expand 20240105000000");
    assert_eq!(applied(&db), ALL[..4]);
    let history = db.history();
    assert_eq!(history[3].phase, "contract");
    assert_eq!(history[3].pair.as_deref(), Some("20240102000000"));

    // up --to: the last one
    ok(
        &db,
        &project,
        &["migrate", "up", "--no-lint", "--to", "20240105000000"],
    );
    assert_eq!(applied(&db), ALL);
    let full = db.snapshot();
    assert!(full.contains("orders"), "{full}");

    // status, as JSON
    let o = ok(&db, &project, &["migrate", "status", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(json["summary"]["applied"], 5, "{json}");
    assert_eq!(json["migrations"][3]["phase"], "contract");
    assert_eq!(json["migrations"][3]["pair"], "20240102000000");
    assert_eq!(json["migrations"][0]["checksum"], "ok");

    // rollback: one step by default
    ok(&db, &project, &["migrate", "rollback"]);
    assert_eq!(applied(&db), ALL[..4]);
    // rollback --dry-run shows the down SQL and changes nothing
    let o = ok(
        &db,
        &project,
        &["migrate", "rollback", "--steps", "2", "--dry-run"],
    );
    assert_stdout(&o, "ADD COLUMN nickname");
    assert_eq!(applied(&db), ALL[..4]);
    // rollback --steps 2: the contract and the (PostgreSQL: no-transaction) index
    ok(&db, &project, &["migrate", "rollback", "--steps", "2"]);
    assert_eq!(applied(&db), ALL[..2]);
    assert_eq!(runs(&db), ["1", "2"]);

    // up again: the same schema as the first time, each migration ran once
    ok(&db, &project, &["migrate", "up", "--no-lint"]);
    assert_eq!(applied(&db), ALL);
    assert_eq!(runs(&db), ["1", "2", "3", "4", "5"]);
    assert_eq!(db.snapshot(), full);

    // rollback --to 0: everything, back to the empty schema
    ok(&db, &project, &["migrate", "rollback", "--to", "0"]);
    assert!(applied(&db).is_empty());
    assert_eq!(db.snapshot(), empty);
}

test_each_dialect!(commands: commands_sqlite, commands_postgres, commands_mysql);

/// Applies 0001, then runs `migrate up` into the 0002 that fails: exit 1,
/// with an error naming `place`. Returns the snapshot after 0001, and the run.
#[track_caller]
fn fail_after_0001(
    db: &TestDb,
    project: &std::path::Path,
    place: &str,
) -> (String, std::process::Output) {
    ok(db, project, &["migrate", "up", "--no-lint", "--to", "0001"]);
    let before = db.snapshot();
    let o = db.straddle(project, &["migrate", "up", "--no-lint"]);
    assert_code(&o, 1);
    assert_stderr(&o, place);
    (before, o)
}

/// Replaces `from` with `to` in the migration file `name` of `project`.
fn fix(project: &std::path::Path, name: &str, from: &str, to: &str) {
    let file = project.join("migrations").join(name);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains(from), "{from:?} not in {}", file.display());
    std::fs::write(&file, text.replace(from, to)).unwrap();
}

/// A failing migration leaves a transactional database exactly as before it;
/// on MySQL it stops resumable, with a clear message, and both a resume and a
/// rollback work.
fn failing(db: TestDb) {
    let project = db.project("failing", "");
    let (before, o) = fail_after_0001(&db, &project, "0002_add_plans.up.sql:3:1");
    assert_stderr(&o, "plans_typo");
    if db.dialect == Dialect::Mysql {
        assert_stderr(&o, "2 of 4 statements");
        assert_stderr(&o, "resume");
        let row = db
            .history()
            .into_iter()
            .find(|r| r.version == "0002")
            .unwrap();
        assert_eq!((row.status, row.statements_done), (Status::Partial, 2));
        // status shows it
        let o = db.straddle(&project, &["migrate", "status"]);
        assert_stdout(&o, "partial 2/4");
        // rollback undoes exactly what ran
        ok(&db, &project, &["migrate", "rollback"]);
        assert_eq!(applied(&db), ["0001"]);
        assert_eq!(db.snapshot(), before);
        // run it again up to the failure, fix the file, resume
        let o = db.straddle(&project, &["migrate", "up", "--no-lint"]);
        assert_code(&o, 1);
    } else {
        assert_stderr(&o, "exactly as it was");
        assert_eq!(db.snapshot(), before);
        assert_eq!(applied(&db), ["0001"]);
        assert_eq!(db.history().len(), 1);
    }
    fix(&project, "0002_add_plans.up.sql", "plans_typo", "plans");
    ok(&db, &project, &["migrate", "up", "--no-lint"]);
    assert_eq!(applied(&db), ["0001", "0002"]);
    assert_eq!(
        db.column("SELECT title FROM plans ORDER BY id"),
        ["basic", "pro"]
    );
}

test_each_dialect!(failing: failing_sqlite, failing_postgres, failing_mysql);

/// An applied migration whose file changed is refused with a diff; one
/// missing on disk is reported.
fn drift(db: TestDb) {
    let project = db.project("basic", NO_BAKE);
    ok(&db, &project, &["migrate", "expand", "--no-lint"]);
    let file = project.join("migrations/20240102000000_add_display_name.up.sql");
    let original = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, original.replace("display_name", "shown_name")).unwrap();
    let o = db.straddle(&project, &["migrate", "up", "--no-lint"]);
    assert_code(&o, 1);
    assert_stderr(&o, "20240102000000");
    assert_stderr(&o, "has changed");
    assert_stderr(&o, "-ALTER TABLE users ADD COLUMN display_name");
    assert_stderr(&o, "+ALTER TABLE users ADD COLUMN shown_name");
    assert_eq!(applied(&db), ALL[..3], "nothing may run after drift");
    let o = db.straddle(&project, &["migrate", "status"]);
    assert_code(&o, 1);
    assert_stdout(&o, "changed");
    std::fs::write(&file, original).unwrap();

    // missing on disk
    for name in ["up", "down"] {
        std::fs::remove_file(
            project.join(format!("migrations/20240103000000_index_email.{name}.sql")),
        )
        .unwrap();
    }
    let o = db.straddle(&project, &["migrate", "contract", "--no-lint"]);
    assert_code(&o, 1);
    assert_stderr(&o, "missing on disk");
    let o = db.straddle(&project, &["migrate", "status"]);
    assert_stdout(&o, "missing");
    complete_rollout(&db, &project);
    let o = ok(
        &db,
        &project,
        &["migrate", "contract", "--no-lint", "--allow-missing"],
    );
    assert_stderr(&o, "missing on disk");
    assert_eq!(applied(&db), ALL[..4]);
    // rollback of a migration whose files are gone uses the recorded down
    ok(&db, &project, &["migrate", "rollback", "--steps", "2"]);
    assert_eq!(applied(&db), ALL[..2]);
}

test_each_dialect!(drift: drift_sqlite, drift_postgres, drift_mysql);

/// Lint runs first: an error stops the run (nothing applied) unless
/// `--no-lint`.
#[test]
fn lint_errors_stop_the_run() {
    let db = TestDb::new(Dialect::Sqlite).unwrap();
    let project = db.project("basic", "");
    std::fs::write(
        project.join("migrations/20240106000000_drop_orders.up.sql"),
        "-- straddle: expand\nDROP TABLE orders;\n",
    )
    .unwrap();
    std::fs::write(
        project.join("migrations/20240106000000_drop_orders.down.sql"),
        "CREATE TABLE orders (id INTEGER NOT NULL PRIMARY KEY, user_id INTEGER NOT NULL);\n",
    )
    .unwrap();
    ok(
        &db,
        &project,
        &["migrate", "up", "--no-lint", "--to", "20240105000000"],
    );
    let o = db.straddle(&project, &["migrate", "up"]);
    assert_code(&o, 1);
    assert_stdout(&o, "drop-table");
    assert_stderr(&o, "nothing was applied");
    assert_eq!(applied(&db).len(), 5);
    ok(&db, &project, &["migrate", "up", "--no-lint"]);
    assert_eq!(applied(&db).len(), 6);
}

/// With no database configured, the embedded SQLite file is used, and the
/// output says so.
#[test]
fn embedded_sqlite_default() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path();
    copy_dir(
        &fixture(Dialect::Sqlite, "basic"),
        &project.join("migrations"),
    );
    std::fs::write(project.join("straddle.toml"), "dialect = \"sqlite\"\n").unwrap();
    // No --database-url and no DATABASE_URL.
    let migrate_up_without_url = || {
        let o = std::process::Command::new(BIN)
            .current_dir(project)
            .args(["migrate", "up", "--no-lint"])
            .env_remove("DATABASE_URL")
            .output()
            .unwrap();
        assert_ok(&o);
        o
    };
    let o = migrate_up_without_url();
    assert_stderr(&o, "embedded SQLite database");
    assert!(project.join("straddle.db").is_file());
    // .env is read when there is no flag and no DATABASE_URL
    std::fs::write(
        project.join(".env"),
        format!(
            "# local\nexport DATABASE_URL=\"sqlite://{}\"\n",
            project.join("other.db").display()
        ),
    )
    .unwrap();
    let o = migrate_up_without_url();
    assert_stderr(&o, "from .env");
    assert!(project.join("other.db").is_file());
}

/// Passwords never appear in the output, also when connecting fails.
#[test]
fn passwords_are_masked() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(
        &fixture(Dialect::Postgres, "basic"),
        &dir.path().join("migrations"),
    );
    for url in [
        "postgres://someone:Hunter2Secret@127.0.0.1:1/nowhere",
        "mysql://someone:Hunter2Secret@127.0.0.1:1/nowhere",
    ] {
        let o = std::process::Command::new(BIN)
            .current_dir(dir.path())
            .args(["migrate", "status", "--database-url", url])
            .output()
            .unwrap();
        assert_code(&o, 2);
        let all = text(&o);
        assert!(!all.contains("Hunter2Secret"), "{all}");
        assert!(all.contains("****"), "{all}");
    }
}

/// `straddle adopt` records what sqlx and diesel applied; `migrate up` then
/// runs only the rest.
fn adopt(db: TestDb) {
    let project = db.project("basic", "");
    let set = straddle::source::discover(&project.join("migrations")).unwrap();
    let dialect = db.dialect;
    let sqlx_ddl = match dialect {
        Dialect::Postgres => {
            "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, \
             installed_on TIMESTAMPTZ NOT NULL DEFAULT now(), success BOOLEAN NOT NULL, \
             checksum BYTEA NOT NULL, execution_time BIGINT NOT NULL)"
        }
        _ => {
            "CREATE TABLE _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT NOT NULL, \
             installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, success BOOLEAN NOT NULL, \
             checksum BLOB NOT NULL, execution_time BIGINT NOT NULL)"
        }
    };
    let hex_literal = |hex: &str| match dialect {
        Dialect::Postgres => format!("decode('{hex}', 'hex')"),
        _ => format!("X'{hex}'"),
    };
    let migrations = set.migrations.clone();
    let inserts: Vec<String> = migrations[..2]
        .iter()
        .map(|m| {
            format!(
                "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
                 VALUES ({}, '{}', TRUE, {}, 1500000)",
                m.version,
                m.name.replace('_', " "),
                hex_literal(&straddle::runner::checksum(&m.up.text))
            )
        })
        .collect();
    db.with(async |c| {
        for m in &migrations[..3] {
            let prepared = straddle::runner::prepare(m, dialect).unwrap();
            for s in &prepared.up {
                c.execute(&s.text).await.unwrap();
            }
        }
        c.execute(sqlx_ddl).await.unwrap();
        for i in &inserts {
            c.execute(i).await.unwrap();
        }
        c.execute(
            "CREATE TABLE __diesel_schema_migrations (version VARCHAR(50) PRIMARY KEY, \
             run_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP)",
        )
        .await
        .unwrap();
        c.execute("INSERT INTO __diesel_schema_migrations (version) VALUES ('20240103000000')")
            .await
            .unwrap();
    });
    let o = ok(&db, &project, &["adopt", "--dry-run"]);
    assert_stdout(&o, "would adopt 20240101000000");
    assert!(applied(&db).is_empty());
    ok(&db, &project, &["adopt", "--from", "sqlx"]);
    assert_eq!(applied(&db), ALL[..2]);
    let o = ok(&db, &project, &["adopt"]);
    assert_stdout(&o, "2 already");
    assert_eq!(applied(&db), ALL[..3]);
    let rows = db.history();
    assert!(
        rows[0].applied_by.contains("_sqlx_migrations"),
        "{:?}",
        rows[0]
    );
    assert!(rows[2].applied_by.contains("__diesel_schema_migrations"));
    ok(&db, &project, &["migrate", "status"]);
    ok(&db, &project, &["migrate", "up", "--no-lint"]);
    assert_eq!(applied(&db), ALL);
    assert_eq!(runs(&db), ["1", "2", "3", "4", "5"]);
}

test_each_dialect!(adopt: adopt_sqlite, adopt_postgres, adopt_mysql);

/// A `-- no-transaction` migration that fails part way on PostgreSQL: the
/// statements that ran are recorded; rollback undoes them, and after the file
/// is fixed the same command resumes from the failing statement.
#[test]
fn no_transaction_failure_postgres() {
    let Some(db) = TestDb::new(Dialect::Postgres) else {
        return;
    };
    let project = db.project("no_transaction_failing", "");
    let (before, o) = fail_after_0001(&db, &project, "0002_index_accounts.up.sql:3:1");
    assert_stderr(&o, "1 of 3 statements");
    let o = db.straddle(&project, &["migrate", "status"]);
    assert_stdout(&o, "partial 1/3");
    assert!(db.snapshot().contains("accounts_email_idx"));
    // rollback undoes exactly what ran
    ok(&db, &project, &["migrate", "rollback"]);
    assert_eq!(db.snapshot(), before);
    assert_eq!(applied(&db), ["0001"]);
    // fail again, fix, resume
    assert_code(&db.straddle(&project, &["migrate", "up", "--no-lint"]), 1);
    fix(
        &project,
        "0002_index_accounts.up.sql",
        "accounts_typo (email)",
        "accounts (lower(email))",
    );
    let o = ok(&db, &project, &["migrate", "up", "--no-lint"]);
    assert_stdout(&o, "resuming 0002");
    let snapshot = db.snapshot();
    for index in [
        "accounts_email_idx",
        "accounts_typo_idx",
        "accounts_id_email_idx",
    ] {
        assert!(snapshot.contains(index), "{snapshot}");
    }
    assert!(!snapshot.contains("INVALID"), "{snapshot}");
    assert_eq!(applied(&db), ["0001", "0002"]);
}
