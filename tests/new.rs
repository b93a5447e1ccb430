//! `straddle new`: every recipe, for every dialect, writes files that lint
//! without errors; bad arguments write nothing.

mod runner_common;

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use straddle::Dialect;
use straddle::finding::Severity;
use straddle::lint::{LintOptions, lint_set};
use straddle::recipe::{Column, Recipe, Target, write_plan};
use straddle::source::discover;

fn fixture(dialect: Dialect) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/new")
        .join(dialect.name());
    let dir = tmp.path().join("migrations");
    std::fs::create_dir(&dir).unwrap();
    for entry in std::fs::read_dir(src).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
    }
    (tmp, dir)
}

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_750_000_000)
}

fn apply(dir: &Path, dialect: Dialect, recipe: &Recipe) -> straddle::Result<usize> {
    let target = Target::load(dir, dialect)?;
    let plan = recipe.plan(&target, &recipe.default_name())?;
    Ok(write_plan(&target, &plan, now())?.len())
}

fn errors(dir: &Path, dialect: Dialect) -> Vec<String> {
    let set = discover(dir).unwrap();
    let outcome = lint_set(
        &set,
        &LintOptions {
            dialect,
            ..LintOptions::default()
        },
    );
    outcome
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| format!("{}:{} {} {}", f.file.display(), f.line, f.rule, f.message))
        .collect()
}

fn files(dir: &Path) -> usize {
    std::fs::read_dir(dir).unwrap().count()
}

fn recipes(dialect: Dialect) -> Vec<Recipe> {
    let col = |s: &str| Column::parse(s).unwrap();
    let text = if dialect == Dialect::Mysql {
        "VARCHAR(100)"
    } else {
        "text"
    };
    let mut all = vec![
        Recipe::Empty,
        Recipe::AddColumn {
            column: col("users.display_name"),
            ty: text.into(),
            default: None,
            not_null: false,
        },
        Recipe::AddColumn {
            column: col("users.status"),
            ty: text.into(),
            default: Some("'active'".into()),
            not_null: true,
        },
        Recipe::AddIndex {
            table: "orders".into(),
            columns: vec!["user_id".into()],
            unique: false,
        },
        Recipe::AddIndex {
            table: "users".into(),
            columns: vec!["email".into()],
            unique: true,
        },
    ];
    let bigint = if dialect == Dialect::Sqlite {
        "REAL"
    } else {
        "bigint"
    };
    all.extend([
        Recipe::RenameColumn {
            column: col("users.email"),
            new_name: "users.email_address".into(),
        },
        Recipe::RenameColumn {
            column: col("users.nickname"),
            new_name: "handle".into(),
        },
        Recipe::ChangeType {
            column: col("orders.total_cents"),
            new_type: bigint.into(),
            into: None,
        },
        Recipe::DropColumn {
            column: col("users.nickname"),
        },
        Recipe::DropColumn {
            column: col("orders.total_cents"),
        },
        Recipe::RenameTable {
            old: "orders".into(),
            new: "purchases".into(),
        },
    ]);
    if dialect != Dialect::Sqlite {
        all.extend([
            Recipe::AddColumn {
                column: col("users.country"),
                ty: text.into(),
                default: None,
                not_null: true,
            },
            Recipe::DropColumn {
                column: col("users.email"),
            },
            Recipe::AddForeignKey {
                column: col("orders.user_id"),
                references: "users".into(),
                referenced_columns: vec!["id".into()],
            },
            Recipe::SetNotNull {
                column: col("users.nickname"),
                default: None,
            },
            Recipe::SetNotNull {
                column: col("users.nickname"),
                default: Some("'anonymous'".into()),
            },
        ]);
    }
    all
}

#[test]
fn every_recipe_lints_clean_in_every_dialect() {
    for dialect in Dialect::ALL {
        for recipe in recipes(dialect) {
            let (_tmp, dir) = fixture(dialect);
            let before = files(&dir);
            let written = apply(&dir, dialect, &recipe)
                .unwrap_or_else(|e| panic!("{dialect} {recipe:?}: {e}"));
            assert!(written >= 1);
            assert_eq!(files(&dir), before + 2 * written, "{dialect} {recipe:?}");
            let errors = errors(&dir, dialect);
            assert!(
                errors.is_empty(),
                "{dialect} {recipe:?} wrote files with lint errors:\n{}",
                errors.join("\n")
            );
        }
    }
}

#[test]
fn bad_arguments_write_nothing() {
    let (_tmp, dir) = fixture(Dialect::Postgres);
    let before = files(&dir);
    let col = |s: &str| Column::parse(s).unwrap();
    let cases = [
        Recipe::AddColumn {
            column: col("nosuch.x"),
            ty: "text".into(),
            default: None,
            not_null: false,
        },
        Recipe::AddColumn {
            column: col("users.email"),
            ty: "text".into(),
            default: None,
            not_null: false,
        },
        Recipe::AddColumn {
            column: col("users.x"),
            ty: "not a type at all".into(),
            default: None,
            not_null: false,
        },
        Recipe::AddColumn {
            column: col("users.x"),
            ty: "uuid".into(),
            default: Some("gen_random_uuid()".into()),
            not_null: false,
        },
        Recipe::AddIndex {
            table: "users".into(),
            columns: vec!["nosuch".into()],
            unique: false,
        },
        Recipe::RenameColumn {
            column: col("users.email"),
            new_name: "users.nickname".into(),
        },
        Recipe::RenameColumn {
            column: col("users.email"),
            new_name: "orders.email".into(),
        },
        Recipe::ChangeType {
            column: col("users.email"),
            new_type: "text".into(),
            into: None,
        },
        Recipe::RenameTable {
            old: "orders".into(),
            new: "users".into(),
        },
        Recipe::AddForeignKey {
            column: col("orders.user_id"),
            references: "nosuch".into(),
            referenced_columns: vec!["id".into()],
        },
        Recipe::SetNotNull {
            column: col("users.email"),
            default: None,
        },
    ];
    for recipe in cases {
        let err = apply(&dir, Dialect::Postgres, &recipe).expect_err(&format!("{recipe:?}"));
        assert!(!err.to_string().is_empty());
        assert_eq!(files(&dir), before, "{recipe:?} wrote something");
    }
}

#[test]
fn contract_names_its_expand() {
    let (_tmp, dir) = fixture(Dialect::Postgres);
    let recipe = Recipe::AddColumn {
        column: Column::parse("users.country").unwrap(),
        ty: "text".into(),
        default: None,
        not_null: true,
    };
    assert_eq!(apply(&dir, Dialect::Postgres, &recipe).unwrap(), 2);
    let set = discover(&dir).unwrap();
    let expand = &set.migrations[1];
    let contract = &set.migrations[2];
    assert_eq!(
        contract.directives.phase,
        Some(straddle::source::Phase::Contract {
            expand: expand.version.clone()
        })
    );
    assert!(contract.no_transaction);
}

#[test]
fn sqlite_refuses_what_it_cannot_do_online() {
    let (_tmp, dir) = fixture(Dialect::Sqlite);
    let before = files(&dir);
    let col = |s: &str| Column::parse(s).unwrap();
    for recipe in [
        Recipe::AddForeignKey {
            column: col("orders.user_id"),
            references: "users".into(),
            referenced_columns: vec!["id".into()],
        },
        Recipe::SetNotNull {
            column: col("users.nickname"),
            default: None,
        },
        Recipe::AddColumn {
            column: col("users.country"),
            ty: "TEXT".into(),
            default: None,
            not_null: true,
        },
    ] {
        let err = apply(&dir, Dialect::Sqlite, &recipe).expect_err(&format!("{recipe:?}"));
        assert!(err.to_string().contains("SQLite"), "{err}");
    }
    assert_eq!(files(&dir), before);
}

#[test]
fn cli_writes_into_the_folder_layout() {
    let (_tmp, dir) = fixture(Dialect::Postgres);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_straddle"))
        .args(["new", "--dir"])
        .arg(&dir)
        .args(["--add-column", "users.bio", "text"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("_add_users_bio.up.sql"), "{stdout}");
    assert!(stdout.contains("Next:"), "{stdout}");

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_straddle"))
        .args(["new", "--dir"])
        .arg(&dir)
        .args(["--add-column", "users.bio", "text"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
}

/// Rows for the fixture's tables, so that backfills and syncs meet data.
fn seed(dialect: Dialect) -> &'static [&'static str] {
    match dialect {
        Dialect::Postgres | Dialect::Sqlite => &[
            "INSERT INTO users (email, nickname) VALUES ('a@example.com', 'a'), ('b@example.com', NULL)",
            "INSERT INTO orders (user_id, total_cents) VALUES (1, 100), (2, 250)",
        ],
        Dialect::Mysql => &[
            "INSERT INTO users (email, nickname) VALUES ('a@example.com', 'a'), ('b@example.com', NULL)",
            "INSERT INTO orders (user_id, total_cents) VALUES (1, 100), (2, 250)",
        ],
    }
}

/// The schema as `straddle verify` compares it: normalised, column order
/// left out (a column a down adds back lands at the end of its table).
fn schema(db: &runner_common::TestDb) -> String {
    db.with(async |backend| {
        straddle::verify::introspect(backend)
            .await
            .unwrap()
            .render()
    })
}

/// What the team does between the phases of recipes whose contract needs
/// every row filled first (the app writes the column, a job fills old rows).
fn fill_between_phases(recipe: &Recipe) -> Option<&'static str> {
    match recipe {
        Recipe::AddColumn {
            default: None,
            not_null: true,
            ..
        } => Some("UPDATE users SET country = 'NL'"),
        Recipe::SetNotNull { default: None, .. } => {
            Some("UPDATE users SET nickname = 'anonymous' WHERE nickname IS NULL")
        }
        _ => None,
    }
}

/// Every recipe, on every database this machine has: the generated up runs,
/// its down restores the schema, and the up runs again to the same schema.
#[test]
fn every_recipe_round_trips_on_a_real_database() {
    runner_common::each_dialect(|db| {
        let dialect = db.dialect;
        for recipe in recipes(dialect) {
            if matches!(recipe, Recipe::Empty) {
                continue;
            }
            let tag = format!("{dialect} {recipe:?}");
            // SQLite cannot add a NOT NULL column without a default, so the
            // contract's down brings `users.email` back nullable (the recipe
            // says so when it writes the files).
            if dialect == Dialect::Sqlite
                && matches!(&recipe, Recipe::RenameColumn { column, .. } if column.column == "email")
            {
                continue;
            }
            // A fresh database for each recipe: the previous one is dropped
            // with its guard.
            let Some(db) = runner_common::TestDb::new(dialect) else {
                return;
            };
            let root = db.dir.path().join("project");
            let dir = root.join("migrations");
            runner_common::copy_dir(
                &Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("tests/fixtures/new")
                    .join(dialect.name()),
                &dir,
            );
            std::fs::write(
                root.join("straddle.toml"),
                format!(
                    "dialect = \"{}\"\nmigrations = \"migrations\"\n",
                    dialect.name()
                ),
            )
            .unwrap();
            runner_common::assert_ok(&db.straddle(&root, &["migrate", "up"]));
            db.with(async |backend| {
                for sql in seed(dialect) {
                    straddle::db::Backend::execute(backend, sql).await.unwrap();
                }
            });
            let s0 = schema(&db);

            let target = Target::load(&dir, dialect).unwrap();
            let plan = recipe.plan(&target, &recipe.default_name()).unwrap();
            let written = write_plan(&target, &plan, now()).unwrap();
            // Each new migration on its own, as `straddle verify` does: up,
            // down back to the schema before it, up again to the same schema.
            let mut before = s0;
            for (i, w) in written.iter().enumerate() {
                let step = format!("{tag} #{i} ({})", w.version);
                if i > 0
                    && let Some(fill) = fill_between_phases(&recipe)
                {
                    db.with(async |backend| {
                        straddle::db::Backend::execute(backend, fill).await.unwrap();
                    });
                    before = schema(&db);
                }
                let run = |args: &[&str], what: &str| {
                    let out = db.straddle(&root, args);
                    assert_eq!(
                        out.status.code(),
                        Some(0),
                        "{step}: {what}\n{}",
                        runner_common::text(&out)
                    );
                };
                run(&["migrate", "up", "--to", &w.version], "up");
                // Some expands change nothing in the schema (the expand of a
                // dropped nullable column is the app's rollout); that is fine.
                let after = schema(&db);
                run(&["migrate", "rollback", "--steps", "1"], "down");
                assert_eq!(
                    before.lines().collect::<Vec<_>>(),
                    schema(&db).lines().collect::<Vec<_>>(),
                    "{step}: the down did not restore the schema"
                );
                run(&["migrate", "up", "--to", &w.version], "up again");
                assert_eq!(
                    schema(&db),
                    after,
                    "{step}: the second up left another schema"
                );
                before = after;
            }
        }
    });
}
