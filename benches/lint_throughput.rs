//! Lint throughput, memory and pre-commit latency on real migration
//! histories. Run on demand: `cargo bench --bench lint_throughput`.
//!
//! At run time it builds a temporary folder that replicates the PostgreSQL
//! migrations of the corpora in `../shared/corpora` (crates.io, docs.rs,
//! svix, river, vaultwarden, authelia, Plume) in the sqlx flat layout, until
//! it holds at least 10,000 files (nothing is copied into the repository).
//! It then measures:
//!
//! * linting the whole folder through the library (`discover` + `lint_set`):
//!   files per second and total time;
//! * peak resident memory of this process (`VmHWM`);
//! * the latency of `straddle lint FILE` on one migration of that folder, the
//!   way a pre-commit hook runs it (the whole folder is replayed for
//!   context): median of several runs of the release binary;
//! * when a `squawk` binary is on the PATH (`pip install squawk-cli`), or
//!   named by `$SQUAWK`, the same two measures for squawk on the up files,
//!   and both tools on the newest crates.io migration (a pre-commit hook in
//!   a project of ordinary size).
//!
//! Environment: `STRADDLE_BENCH_FILES` (default 10000) sets the target
//! number of files, `STRADDLE_BENCH_RUNS` (default 5) the runs per latency
//! median, and `STRADDLE_BENCH_KEEP=DIR` builds the folder in `DIR` (which
//! must not exist) and keeps it, for profiling outside the bench.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use straddle::Dialect;
use straddle::lint::{LintOptions, lint_set};
use straddle::source::{Migration, discover};

fn corpora_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpora"))
}

/// The PostgreSQL corpus folders, relative to the corpora root.
const POSTGRES: &[&str] = &[
    "rust-lang__crates.io/migrations",
    "rust-lang__docs.rs/crates/lib/docs_rs_database/migrations",
    "svix__svix-webhooks/server/svix-server/migrations",
    "riverqueue__river/riverdriver/riverpgxv5/migration/main",
    "dani-garcia__vaultwarden/migrations/postgresql",
    "authelia__authelia/internal/storage/migrations/postgres",
    "Plume-org__Plume/migrations/postgres",
];

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A file name part made of safe characters.
fn slug(name: &str) -> String {
    let slug: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if slug.is_empty() {
        "migration".into()
    } else {
        slug
    }
}

/// Writes replicas of `sources` into `dir` until it holds `target` files.
/// Returns the number of files written and the path of the last up file.
fn replicate(sources: &[Vec<Migration>], dir: &Path, target: usize) -> (usize, PathBuf) {
    let mut files = 0;
    let mut last = PathBuf::new();
    let mut version: u64 = 1_000_000;
    'outer: for replica in 0.. {
        for source in sources {
            for migration in source {
                version += 1;
                let name = format!("{version}_r{replica}_{}", slug(&migration.name));
                let up = dir.join(format!("{name}.up.sql"));
                std::fs::write(&up, &migration.up.text).expect("write up");
                files += 1;
                last = up;
                if let Some(down) = &migration.down {
                    std::fs::write(dir.join(format!("{name}.down.sql")), &down.text)
                        .expect("write down");
                    files += 1;
                }
                if files >= target {
                    break 'outer;
                }
            }
        }
        if sources.iter().all(|s| s.is_empty()) {
            break;
        }
    }
    (files, last)
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

/// Runs `command` `runs` times; the median wall time, or why it failed.
fn time_command(runs: usize, mut make: impl FnMut() -> Command) -> Result<Duration, String> {
    let mut samples = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        let status = make()
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|e| e.to_string())?;
        samples.push(started.elapsed());
        // Exit 1 means "findings", which is expected here.
        if !matches!(status.code(), Some(0) | Some(1)) {
            return Err(format!("exited with {status}"));
        }
    }
    Ok(median(samples))
}

/// A timing, or why there is none.
fn shown(timing: &Result<Duration, String>) -> String {
    match timing {
        Ok(d) => format!("{d:.2?}"),
        Err(e) => format!("(failed: {e})"),
    }
}

fn main() {
    // `cargo bench` passes `--bench`; other arguments are not used.
    let root = corpora_root();
    if !root.is_dir() {
        println!(
            "lint_throughput: the corpora are missing at {}; nothing to measure",
            root.display()
        );
        return;
    }
    let target = env_number("STRADDLE_BENCH_FILES", 10_000);
    let runs = env_number("STRADDLE_BENCH_RUNS", 5).max(1);

    let sources: Vec<Vec<Migration>> = POSTGRES
        .iter()
        .filter_map(|relative| discover(&root.join(relative)).ok())
        .map(|set| set.migrations)
        .collect();
    let source_files: usize = sources
        .iter()
        .flatten()
        .map(|m| 1 + usize::from(m.down.is_some()))
        .sum();
    let temp = tempfile::tempdir().expect("temp dir");
    let dir = match std::env::var_os("STRADDLE_BENCH_KEEP") {
        Some(keep) => PathBuf::from(keep),
        None => temp.path().join("migrations"),
    };
    std::fs::create_dir_all(&dir).expect("create migrations dir");
    if std::fs::read_dir(&dir).map_or(0, |d| d.count()) > 0 {
        eprintln!(
            "STRADDLE_BENCH_KEEP: {} is not empty; give an empty or new folder",
            dir.display()
        );
        std::process::exit(2);
    }
    let started = Instant::now();
    let (files, last_up) = replicate(&sources, &dir, target);
    println!(
        "built {} with {files} files ({source_files} distinct PostgreSQL migration files replicated) in {:.2?}",
        dir.display(),
        started.elapsed()
    );

    // 1. The whole folder through the library.
    let options = LintOptions {
        dialect: Dialect::Postgres,
        ..LintOptions::default()
    };
    let started = Instant::now();
    let set = discover(&dir).expect("discover");
    let discovered = started.elapsed();
    let outcome = lint_set(&set, &options);
    let total = started.elapsed();
    println!(
        "library: {} migrations, {} findings: discover {:.2?}, total {:.2?}, {:.0} files/s",
        outcome.migrations_checked,
        outcome.findings.len(),
        discovered,
        total,
        files as f64 / total.as_secs_f64()
    );
    // The front end alone: split and parse every file.
    let started = Instant::now();
    let mut statements = 0;
    for migration in &set.migrations {
        for file in std::iter::once(&migration.up).chain(migration.down.as_ref()) {
            statements += straddle::sql::parse_file(&file.text, Dialect::Postgres)
                .statements
                .len();
        }
    }
    let parsed = started.elapsed();
    println!(
        "front end only (sql::parse_file): {statements} statements in {:.2?}, {:.0} files/s",
        parsed,
        files as f64 / parsed.as_secs_f64()
    );
    if std::env::var_os("STRADDLE_BENCH_PER_RULE").is_some() {
        // Each rule alone on the folder: where the time goes.
        let ids: Vec<&str> = straddle::lint::all_rules()
            .iter()
            .map(|r| r.meta().id)
            .collect();
        let mut baseline_options = options.clone();
        for id in &ids {
            baseline_options
                .levels
                .insert(id.to_string(), straddle::lint::Level::Off);
        }
        let started = Instant::now();
        lint_set(&set, &baseline_options);
        let baseline = started.elapsed();
        println!("  no rule at all (replay only): {baseline:.2?}");
        let mut costs = Vec::new();
        for id in &ids {
            let mut one = baseline_options.clone();
            one.levels.remove(*id);
            let started = Instant::now();
            lint_set(&set, &one);
            costs.push((started.elapsed().saturating_sub(baseline), *id));
        }
        costs.sort();
        for (cost, id) in costs.iter().rev().take(8) {
            println!("  {id}: +{cost:.2?}");
        }
    }
    match peak_rss_kib() {
        Some(kib) => println!(
            "peak RSS (VmHWM) of the bench process: {:.1} MiB",
            kib as f64 / 1024.0
        ),
        None => println!("peak RSS: /proc/self/status not readable"),
    }

    // 2. `straddle lint FILE`, as a pre-commit hook runs it.
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_straddle"));
    let one_file = time_command(runs, || {
        let mut c = Command::new(&binary);
        c.current_dir(temp.path())
            .arg("lint")
            .arg("--dialect")
            .arg("postgres")
            .arg(&last_up);
        c
    });
    let whole = time_command(runs.min(3), || {
        let mut c = Command::new(&binary);
        c.current_dir(temp.path())
            .arg("lint")
            .arg("--dialect")
            .arg("postgres")
            .arg(&dir);
        c
    });
    match (&one_file, &whole) {
        (Ok(one), Ok(all)) => println!(
            "binary: `straddle lint FILE` (one migration, {} replayed): median {:.2?} of {runs}; `straddle lint DIR`: median {:.2?}",
            set.migrations.len(),
            one,
            all
        ),
        (a, b) => println!("binary: could not time straddle: {a:?} {b:?}"),
    }

    // 3. squawk, when it is there.
    let squawk = std::env::var("SQUAWK").unwrap_or_else(|_| "squawk".into());
    let version = Command::new(&squawk).arg("--version").output();
    let Some(version) = version.ok().filter(|o| o.status.success()) else {
        println!("squawk: not found (pip install squawk-cli, or set $SQUAWK); skipped");
        return;
    };
    let version = String::from_utf8_lossy(&version.stdout).trim().to_string();
    let ups = set.migrations.len();
    let pattern = dir.join("*.up.sql");
    let squawk_all = time_command(runs.min(3), || {
        let mut c = Command::new(&squawk);
        c.current_dir(temp.path()).arg(&pattern);
        c
    });
    let squawk_one = time_command(runs, || {
        let mut c = Command::new(&squawk);
        c.current_dir(temp.path()).arg(&last_up);
        c
    });
    // A real history of ordinary size: the newest crates.io migration, its
    // 284 predecessors replayed, against squawk on that one file.
    let crates = discover(&root.join(POSTGRES[0])).ok();
    if let Some(newest) = crates.as_ref().and_then(|s| s.migrations.last()) {
        let file = &newest.up.path;
        let ours = time_command(runs, || {
            let mut c = Command::new(&binary);
            c.arg("lint").arg("--dialect").arg("postgres").arg(file);
            c
        });
        let theirs = time_command(runs, || {
            let mut c = Command::new(&squawk);
            c.arg(file);
            c
        });
        println!(
            "one crates.io file ({} migrations in the folder): straddle median {}, {version} median {}",
            crates.as_ref().map_or(0, |s| s.migrations.len()),
            shown(&ours),
            shown(&theirs)
        );
    }
    match (squawk_all, squawk_one) {
        (Ok(all), Ok(one)) => {
            println!(
                "{version}: {ups} up files in {:.2?} ({:.0} files/s); one file: median {:.2?}",
                all,
                ups as f64 / all.as_secs_f64(),
                one
            );
            if let Ok(whole) = whole {
                println!(
                    "straddle binary on the folder (ups and downs, {files} files, with replay): {:.2?} ({:.0} files/s)",
                    whole,
                    files as f64 / whole.as_secs_f64()
                );
            }
        }
        (a, b) => println!("{version}: could not time it: {a:?} {b:?}"),
    }
}
