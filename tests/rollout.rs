//! Rollout coordination against real PostgreSQL, MySQL/MariaDB and SQLite,
//! each test in databases of its own: the contract gate (rollout, bake time,
//! old sessions, heartbeats), `--force` audited, `rollout abort --rollback`,
//! the health watch's automatic rollback, and waves over five databases.

mod runner_common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use runner_common::*;
use straddle::Dialect;
use straddle::db::Backend;

const CREATE: &str = "20240101000000";
const EXPAND: &str = "20240201000000";
const CONTRACT: &str = "20240201000100";

fn rollout_fixture(dialect: Dialect, name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/rollout")
        .join(dialect.name())
        .join(name)
}

fn health_script(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/rollout/health")
        .join(name)
        .display()
        .to_string()
}

/// A project folder holding a copy of a rollout fixture as `migrations/`.
fn project(db: &TestDb, fixture: &str, rollout: &str) -> PathBuf {
    let root = db.dir.path().join(format!("rollout_{fixture}"));
    copy_dir(
        &rollout_fixture(db.dialect, fixture),
        &root.join("migrations"),
    );
    write_config(&root, db.dialect, rollout);
    root
}

fn write_config(root: &Path, dialect: Dialect, rollout: &str) {
    std::fs::write(
        root.join("straddle.toml"),
        format!(
            "dialect = \"{}\"\nmigrations = \"migrations\"\n\n[rollout]\n{rollout}",
            dialect.name()
        ),
    )
    .unwrap();
}

fn out(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The schema without straddle's own tables, whitespace removed (SQLite
/// keeps the text of `CREATE TABLE` as `ALTER TABLE` last rewrote it).
fn schema(db: &TestDb) -> String {
    db.snapshot()
        .lines()
        .filter(|l| !l.contains("straddle_"))
        .map(|l| l.split_whitespace().collect::<String>())
        .collect::<Vec<_>>()
        .join("\n")
}

/// `(kind, actor, reason, migrations)` of every audit event, in order.
fn events(db: &TestDb) -> Vec<(String, String, String, String)> {
    db.with(async |c| {
        straddle::rollout::store::events(c)
            .await
            .expect("events")
            .into_iter()
            .map(|e| {
                (
                    e.kind,
                    e.actor,
                    e.reason.unwrap_or_default(),
                    e.migrations.unwrap_or_default(),
                )
            })
            .collect()
    })
}

#[track_caller]
fn assert_blocked(o: &Output, conditions: &[&str]) {
    assert_code(o, 1);
    let text = out(o);
    assert!(text.contains("held back by its gate"), "{text}");
    for c in conditions {
        assert!(
            text.contains(&format!("  - {c}: ")),
            "missing `{c}`:\n{text}"
        );
    }
}

fn gate(db: TestDb) {
    let pg = db.dialect == Dialect::Postgres;
    let project = project(
        &db,
        "release",
        "bake = \"1h\"\napplication_name = \"shop@{version}\"\nheartbeat_stale = \"1m\"\n",
    );
    assert_ok(&db.straddle(&project, &["migrate", "expand"]));
    assert_eq!(applied(&db), [CREATE, EXPAND]);

    // No rollout has started since the expand.
    let o = db.straddle(&project, &["migrate", "contract"]);
    assert_blocked(&o, &["rollout"]);
    assert!(out(&o).contains("no rollout has started"), "{}", out(&o));
    assert_eq!(applied(&db), [CREATE, EXPAND]);

    let o = db.straddle(
        &project,
        &[
            "rollout",
            "start",
            "--app-version",
            "2.0.0",
            "--actor",
            "alice",
            "--reason",
            "release 2.0",
        ],
    );
    assert_ok(&o);
    assert!(
        out(&o).contains("rollout #1 of app 2.0.0 started"),
        "{}",
        out(&o)
    );
    // A second start while one is in progress is refused.
    let o = db.straddle(&project, &["rollout", "start", "--app-version", "2.1.0"]);
    assert_code(&o, 1);
    assert!(out(&o).contains("is in progress"), "{}", out(&o));

    let o = db.straddle(
        &project,
        &[
            "rollout",
            "progress",
            "--percent",
            "40",
            "--stage",
            "canary",
        ],
    );
    assert_ok(&o);
    let o = db.straddle(&project, &["migrate", "contract"]);
    assert_blocked(&o, &["rollout"]);
    assert!(
        out(&o).contains("in progress (40%, stage canary)"),
        "{}",
        out(&o)
    );

    // The window shows in both status commands.
    let o = db.straddle(&project, &["migrate", "status"]);
    assert_ok(&o);
    assert!(
        out(&o).contains("rollout #1 of app 2.0.0: in progress"),
        "{}",
        out(&o)
    );
    let o = db.straddle(&project, &["rollout", "status", "--format", "json"]);
    assert_ok(&o);
    let status: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(status["current"]["app_version"], "2.0.0");
    assert_eq!(status["window"]["expands"][1]["version"], EXPAND);
    assert_eq!(status["window"]["contracts"][0]["version"], CONTRACT);
    assert_eq!(
        status["window"]["contracts"][0]["state"],
        "rollout-in-progress"
    );

    // Complete: now the bake time holds it back.
    assert_ok(&db.straddle(&project, &["rollout", "complete", "--actor", "alice"]));
    let o = db.straddle(&project, &["migrate", "contract"]);
    assert_blocked(&o, &["bake"]);
    assert!(!out(&o).contains("  - rollout: "), "{}", out(&o));

    // A tiny bake: over after a second. Old instances still hold it back:
    // a heartbeat everywhere, and on PostgreSQL a session of shop@1.9.0.
    write_config(
        &project,
        db.dialect,
        "bake = \"1s\"\napplication_name = \"shop@{version}\"\nheartbeat_stale = \"1m\"\n",
    );
    std::thread::sleep(Duration::from_millis(1200));
    let o = db.straddle(
        &project,
        &[
            "heartbeat",
            "--app-version",
            "1.9.0",
            "--instance",
            "web-old",
        ],
    );
    assert_ok(&o);
    let o = db.straddle(
        &project,
        &[
            "heartbeat",
            "--app-version",
            "2.0.0",
            "--instance",
            "web-new",
        ],
    );
    assert_ok(&o);
    let rt = runtime();
    let mut old_session = pg.then(|| {
        rt.block_on(async {
            let mut c = db.connect().await;
            c.execute("SET application_name = 'shop@1.9.0'")
                .await
                .unwrap();
            c
        })
    });
    let o = db.straddle(&project, &["migrate", "contract"]);
    if pg {
        assert_blocked(&o, &["old-sessions", "heartbeats"]);
        assert!(out(&o).contains("shop@1.9.0"), "{}", out(&o));
    } else {
        assert_blocked(&o, &["heartbeats"]);
    }
    assert!(out(&o).contains("web-old (1.9.0"), "{}", out(&o));
    assert!(!out(&o).contains("web-new"), "{}", out(&o));
    assert!(!out(&o).contains("  - bake: "), "{}", out(&o));
    assert_eq!(applied(&db), [CREATE, EXPAND]);

    // The old instance goes away: its heartbeat removed, its session closed.
    let o = db.straddle(
        &project,
        &["heartbeat", "--instance", "web-old", "--remove"],
    );
    assert_ok(&o);
    if let Some(session) = old_session.take() {
        drop(session);
        wait_for_sessions_to_close(&db, &rt);
    }
    let o = db.straddle(&project, &["migrate", "contract"]);
    assert_ok(&o);
    assert_eq!(applied(&db), [CREATE, EXPAND, CONTRACT]);

    let kinds: Vec<String> = events(&db).into_iter().map(|e| e.0).collect();
    assert_eq!(kinds, ["start", "progress", "complete"]);
    let start = &events(&db)[0];
    assert_eq!(
        (start.1.as_str(), start.2.as_str()),
        ("alice", "release 2.0")
    );
    assert_eq!(start.3, format!("{CREATE},{EXPAND}"));
}

fn wait_for_sessions_to_close(db: &TestDb, rt: &tokio::runtime::Runtime) {
    let started = Instant::now();
    rt.block_on(async {
        let mut c = db.connect().await;
        loop {
            let rows = c
                .query_texts(
                    "SELECT count(*)::text FROM pg_stat_activity WHERE application_name = 'shop@1.9.0'",
                    &[],
                )
                .await
                .unwrap();
            if rows[0][0].as_deref() == Some("0") || started.elapsed() > Duration::from_secs(10) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
}

#[test]
fn contract_gate_holds_until_the_rollout_is_safe() {
    each_dialect(gate);
}

fn force(db: TestDb) {
    let project = project(&db, "release", "bake = \"1h\"\n");
    assert_ok(&db.straddle(&project, &["migrate", "expand"]));
    // --force needs a reason.
    let o = db.straddle(&project, &["migrate", "contract", "--force"]);
    assert_code(&o, 2);
    assert!(out(&o).contains("--reason"), "{}", out(&o));
    // --force is for contracts only.
    let o = db.straddle(
        &project,
        &["migrate", "expand", "--force", "--reason", "why not"],
    );
    assert_code(&o, 2);
    assert_eq!(applied(&db), [CREATE, EXPAND]);

    let o = db.straddle(
        &project,
        &[
            "migrate",
            "contract",
            "--force",
            "--reason",
            "hotfix 2.0.1 needs the column gone now",
            "--actor",
            "bob",
        ],
    );
    assert_ok(&o);
    assert!(out(&o).contains("--force bypasses the gate"), "{}", out(&o));
    assert_eq!(applied(&db), [CREATE, EXPAND, CONTRACT]);
    let events = events(&db);
    assert_eq!(events.len(), 1, "{events:?}");
    let (kind, actor, reason, migrations) = &events[0];
    assert_eq!(kind, "force-contract");
    assert_eq!(actor, "bob");
    assert_eq!(reason, "hotfix 2.0.1 needs the column gone now");
    assert_eq!(migrations, CONTRACT);
    let detail = db.column("SELECT detail FROM straddle_rollout_events");
    assert!(detail[0].contains("no rollout has started"), "{detail:?}");
}

#[test]
fn force_with_a_reason_bypasses_the_gate_and_is_audited() {
    each_dialect(force);
}

fn abort(db: TestDb) {
    let project = project(&db, "release", "bake = \"0s\"\n");
    // Release 1: the users table, rolled out and complete.
    assert_ok(&db.straddle(&project, &["migrate", "up", "--to", CREATE]));
    let release_1 = schema(&db);
    assert_ok(&db.straddle(&project, &["rollout", "start", "--app-version", "1.0.0"]));
    assert_ok(&db.straddle(&project, &["rollout", "complete"]));
    // Release 2: expand, rollout, contract.
    assert_ok(&db.straddle(&project, &["migrate", "expand"]));
    let o = db.straddle(&project, &["rollout", "start", "--app-version", "2.0.0"]);
    assert_ok(&o);
    assert!(
        out(&o).contains(EXPAND) && !out(&o).contains(CREATE),
        "{}",
        out(&o)
    );
    assert_ok(&db.straddle(&project, &["rollout", "complete"]));
    assert_ok(&db.straddle(&project, &["migrate", "contract"]));
    assert_eq!(applied(&db), [CREATE, EXPAND, CONTRACT]);

    // 2.0 misbehaves: abort, and roll back its window (the contract first).
    let o = db.straddle(
        &project,
        &[
            "rollout",
            "abort",
            "--rollback",
            "--reason",
            "2.0 loses orders",
        ],
    );
    assert_ok(&o);
    let text = out(&o);
    let contract_at = text.find(&format!("rolled back {CONTRACT}")).expect(&text);
    let expand_at = text.find(&format!("rolled back {EXPAND}")).expect(&text);
    assert!(contract_at < expand_at, "{text}");
    assert_eq!(applied(&db), [CREATE]);
    assert_eq!(schema(&db), release_1);
    let kinds: Vec<(String, String)> = events(&db).into_iter().map(|e| (e.0, e.3)).collect();
    assert_eq!(
        kinds[kinds.len() - 2..],
        [
            ("abort".to_string(), EXPAND.to_string()),
            ("rollback".to_string(), format!("{CONTRACT},{EXPAND}")),
        ]
    );
    // Nothing left to abort but release 1, whose expand stays without --rollback.
    let o = db.straddle(&project, &["rollout", "abort"]);
    assert_ok(&o);
    assert!(
        out(&o).contains("straddle migrate rollback --to 0"),
        "{}",
        out(&o)
    );
    assert_eq!(applied(&db), [CREATE]);
}

#[test]
fn abort_with_rollback_undoes_the_window_contract_first() {
    each_dialect(abort);
}

fn health(db: TestDb) {
    let project = project(&db, "release", "");
    let empty = schema(&db);
    // A passing watch says so only after the whole watch time.
    let started = Instant::now();
    let o = db.straddle(
        &project,
        &[
            "migrate",
            "up",
            "--to",
            CREATE,
            "--health-cmd",
            "true",
            "--watch",
            "1s",
            "--interval",
            "300ms",
        ],
    );
    assert_ok(&o);
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert!(out(&o).contains("all clear"), "{}", out(&o));
    let release_1 = schema(&db);
    assert_ne!(release_1, empty);

    // A failing health command rolls back what this run applied, only that.
    let o = db.straddle(
        &project,
        &[
            "migrate",
            "expand",
            "--health-cmd",
            &health_script("unhealthy.sh"),
            "--watch",
            "30s",
            "--interval",
            "100ms",
            "--failures",
            "2",
            "--actor",
            "deploy-bot",
        ],
    );
    assert_code(&o, 1);
    let text = out(&o);
    assert!(text.contains("failed 2 time(s) in a row"), "{text}");
    assert!(text.contains("GET /health: 503"), "{text}");
    assert!(!text.contains("all clear"), "{text}");
    assert_eq!(applied(&db), [CREATE]);
    assert_eq!(schema(&db), release_1);
    let events = events(&db);
    let (kind, actor, reason, migrations) = events.last().expect("an event");
    assert_eq!(kind, "auto-rollback");
    assert_eq!(actor, "deploy-bot");
    assert!(reason.contains("unhealthy.sh"), "{reason}");
    assert_eq!(migrations, EXPAND);
}

#[test]
fn failing_health_command_rolls_back_automatically() {
    each_dialect(health);
}

/// Five databases with the users table, the third with two users sharing an
/// email (the fleet fixture's second expand fails there).
fn fleet(dialect: Dialect, bad: Option<usize>) -> Option<(Vec<TestDb>, PathBuf)> {
    let mut dbs = Vec::new();
    for _ in 0..5 {
        dbs.push(TestDb::new(dialect)?);
    }
    let root = dbs[0].dir.path().join("fleet");
    copy_dir(&rollout_fixture(dialect, "fleet"), &root.join("migrations"));
    write_config(&root, dialect, "");
    let mut targets = String::new();
    for (i, db) in dbs.iter().enumerate() {
        assert_ok(&db.straddle(&root, &["migrate", "up", "--to", CREATE]));
        let email2 = if bad == Some(i) {
            "a@example.com"
        } else {
            "b@example.com"
        };
        db.with(async |c| {
            c.execute(&format!(
                "INSERT INTO users (id, email) VALUES (1, 'a@example.com'), (2, '{email2}')"
            ))
            .await
            .unwrap()
        });
        targets.push_str(&format!(
            "[[target]]\nname = \"db{}\"\nurl = \"{}\"\n\n",
            i + 1,
            db.url
        ));
    }
    std::fs::write(root.join("targets.toml"), targets).unwrap();
    Some((dbs, root))
}

fn fleet_command(root: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.current_dir(root)
        .args(args)
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1");
    cmd
}

const WAVE_ARGS: [&str; 8] = [
    "migrate",
    "expand",
    "--targets",
    "targets.toml",
    "--waves",
    "1,3,100%",
    "--parallel",
    "2",
];

fn waves_stop_at_a_failing_database(dialect: Dialect) {
    let Some((dbs, root)) = fleet(dialect, Some(2)) else {
        return;
    };
    let before: Vec<String> = dbs.iter().map(schema).collect();
    let o = fleet_command(&root, &WAVE_ARGS).output().unwrap();
    assert_code(&o, 1);
    let text = out(&o);
    assert!(
        text.contains("wave 2 of `migrate expand` failed on db3"),
        "{text}"
    );
    // Wave 1 (db1) stays fully expanded.
    assert_eq!(
        applied(&dbs[0]),
        [CREATE, EXPAND, "20240201000100"],
        "{text}"
    );
    // Wave 2 (db2, db3) is fully rolled back; wave 3 never started.
    for (i, db) in dbs.iter().enumerate().skip(1) {
        assert_eq!(applied(db), [CREATE], "db{}: {text}", i + 1);
        assert_eq!(schema(db), before[i], "db{}: {text}", i + 1);
    }
    assert!(text.contains("db4: untouched"), "{text}");
    let rolled: Vec<String> = events(&dbs[1]).into_iter().map(|e| e.0).collect();
    assert_eq!(rolled, ["auto-rollback"]);
}

#[test]
fn waves_stop_and_roll_back_at_a_failing_database() {
    for dialect in Dialect::ALL {
        waves_stop_at_a_failing_database(dialect);
    }
}

fn waves_stop_at_a_failing_health_check(dialect: Dialect) {
    let Some((dbs, root)) = fleet(dialect, None) else {
        return;
    };
    let before: Vec<String> = dbs.iter().map(schema).collect();
    let mut args = WAVE_ARGS.to_vec();
    let script = health_script("fail-on-wave.sh");
    args.extend([
        "--health-cmd",
        &script,
        "--watch",
        "500ms",
        "--interval",
        "100ms",
        "--failures",
        "2",
    ]);
    let o = fleet_command(&root, &args)
        .env("FAIL_WAVE", "2")
        .output()
        .unwrap();
    assert_code(&o, 1);
    let text = out(&o);
    assert!(text.contains("wave 1: healthy"), "{text}");
    assert!(text.contains("after wave 2"), "{text}");
    let all = [CREATE, EXPAND, "20240201000100"];
    assert_eq!(applied(&dbs[0]), all, "{text}");
    for (i, db) in dbs.iter().enumerate().skip(1) {
        assert_eq!(applied(db), [CREATE], "db{}: {text}", i + 1);
        assert_eq!(schema(db), before[i], "db{}: {text}", i + 1);
    }
    // Without the injected failure the same run migrates every database.
    let o = fleet_command(&root, &args).output().unwrap();
    assert_ok(&o);
    for db in &dbs {
        assert_eq!(applied(db), all, "{}", out(&o));
    }
}

#[test]
fn waves_stop_and_roll_back_at_a_failing_health_check() {
    for dialect in Dialect::ALL {
        waves_stop_at_a_failing_health_check(dialect);
    }
}

#[test]
fn the_release_walkthrough_runs_end_to_end() {
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations-examples/release/walkthrough.sh");
    let tmp = tempfile::tempdir().unwrap();
    let o = Command::new("sh")
        .arg(&script)
        .env("STRADDLE", BIN)
        .env("TMPDIR", tmp.path())
        .env_remove("DATABASE_URL")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_ok(&o);
    let text = out(&o);
    for expected in [
        "  - rollout: no rollout has started since expand 20240701090000",
        "  - heartbeats: 1 instance of an app version older than 2.0.0",
        "  - bake: rollout #2 (app 2.0.0) completed",
        "applied 20240715090000",
    ] {
        assert!(text.contains(expected), "missing `{expected}`:\n{text}");
    }
}
