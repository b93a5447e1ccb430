//! On-demand benchmark: the runner's overhead over plain `psql`.
//!
//! Applies the crates.io migration history (read at run time from the shared
//! corpora, never copied) to fresh PostgreSQL databases, each round:
//!
//! * `straddle migrate up --no-lint`: the runner alone;
//! * one `psql -f … -f …` run of the same up files in the same order;
//! * `straddle migrate up` with lint first, as by default (with every rule
//!   at `warning` through a temporary straddle.toml, since the corpus was
//!   not written for straddle and its errors would stop the run), so that
//!   the share of lint is visible;
//! * `straddle migrate up --no-lint` again on the migrated database: nothing
//!   to apply, so this is the fixed cost (discovery, connect, lock, reading
//!   the history, planning with drift checks), next to `psql -c 'SELECT 1'`
//!   for psql's own start-up.
//!
//! Prints the medians, the median of the per-round ratios, the machine's
//! load average (timings are only comparable on an idle machine), and checks
//! that the databases end with the same schema.
//!
//! ```text
//! cargo bench --bench migrate_overhead
//! STRADDLE_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres \
//! STRADDLE_BENCH_CORPUS=/path/to/migrations STRADDLE_BENCH_ROUNDS=5 cargo bench --bench migrate_overhead
//! ```

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use straddle::db::{Backend, DbUrl, connect};
use straddle::source::discover;

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

fn with_database(url: &str, name: &str) -> String {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let path_start = url[scheme_end..]
        .find('/')
        .map_or(url.len(), |i| scheme_end + i);
    format!("{}/{name}", &url[..path_start])
}

fn admin(rt: &tokio::runtime::Runtime, url: &str, sql: &str) {
    rt.block_on(async {
        let mut db = connect(&DbUrl::parse(url).unwrap(), false)
            .await
            .expect("connect to the benchmark server");
        db.execute(sql).await.expect(sql);
    });
}

fn snapshot(rt: &tokio::runtime::Runtime, url: &str) -> String {
    rt.block_on(async {
        let mut db = connect(&DbUrl::parse(url).unwrap(), false).await.unwrap();
        db.snapshot().await.unwrap()
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_string())
}

/// Runs `command`, which must succeed; returns its wall time.
fn timed(command: &mut Command, what: &str) -> Duration {
    let start = Instant::now();
    let out = command.output().unwrap();
    let elapsed = start.elapsed();
    assert!(
        out.status.success(),
        "{what} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    elapsed
}

/// A straddle.toml that sets every rule to `warning`.
fn all_warnings(dir: &Path) -> PathBuf {
    let mut text = String::from("[rules]\n");
    for rule in straddle::lint::all_rules() {
        text.push_str(&format!("{} = \"warning\"\n", rule.meta().id));
    }
    let path = dir.join("straddle.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[derive(Default)]
struct Times {
    straddle: Vec<f64>,
    psql: Vec<f64>,
    with_lint: Vec<f64>,
    start_up: Vec<f64>,
    psql_start_up: Vec<f64>,
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is understood.
    let server = std::env::var("STRADDLE_BENCH_POSTGRES_URL")
        .or_else(|_| std::env::var("STRADDLE_TEST_POSTGRES_URL"))
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string());
    let corpus = PathBuf::from(env_or(
        "STRADDLE_BENCH_CORPUS",
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/corpora/rust-lang__crates.io/migrations"
        ),
    ));
    let rounds: usize = env_or("STRADDLE_BENCH_ROUNDS", "3").parse().unwrap_or(3);
    if !corpus.is_dir() {
        println!("skipped: no corpus at {}", corpus.display());
        return;
    }
    if Command::new("psql").arg("--version").output().is_err() {
        println!("skipped: psql is not installed");
        return;
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    if rt
        .block_on(connect(&DbUrl::parse(&server).unwrap(), false))
        .is_err()
    {
        println!(
            "skipped: no PostgreSQL server at {}",
            DbUrl::parse(&server).unwrap()
        );
        return;
    }
    let set = discover(&corpus).expect("read the corpus");
    let files: Vec<PathBuf> = set.migrations.iter().map(|m| m.up.path.clone()).collect();
    let statements: usize = set
        .migrations
        .iter()
        .map(|m| {
            straddle::sql::parse_file(&m.up.text, straddle::Dialect::Postgres)
                .statements
                .len()
        })
        .sum();
    println!(
        "corpus: {} ({} migrations, {statements} statements), {rounds} round(s), load average {}",
        corpus.display(),
        files.len(),
        load()
    );
    let config_dir = tempfile::tempdir().unwrap();
    let config = all_warnings(config_dir.path());
    let bin = env!("CARGO_BIN_EXE_straddle");
    let straddle_up = |url: &str, lint: bool| {
        let mut c = Command::new(bin);
        c.arg("--config").arg(&config).args(["migrate", "up"]);
        if !lint {
            c.arg("--no-lint");
        }
        c.args(["--database-url", url]).arg(&corpus);
        c
    };
    let mut times = Times::default();
    for round in 0..rounds {
        let names: Vec<String> = ["a", "b", "c"]
            .iter()
            .map(|x| format!("straddle_bench_{}_{round}_{x}", std::process::id()))
            .collect();
        for name in &names {
            admin(&rt, &server, &format!("DROP DATABASE IF EXISTS {name}"));
            admin(&rt, &server, &format!("CREATE DATABASE {name}"));
        }
        let urls: Vec<String> = names.iter().map(|n| with_database(&server, n)).collect();

        let t_straddle = timed(&mut straddle_up(&urls[0], false), "straddle --no-lint");
        let mut psql = Command::new("psql");
        psql.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", &urls[1]]);
        for f in &files {
            psql.arg("-f").arg(f);
        }
        let t_psql = timed(&mut psql, "psql");
        let t_lint = timed(&mut straddle_up(&urls[2], true), "straddle with lint");
        let t_start = timed(&mut straddle_up(&urls[0], false), "straddle, nothing to do");
        let t_psql_start = timed(
            Command::new("psql").args(["-X", "-q", "-d", &urls[1], "-c", "SELECT 1"]),
            "psql -c 'SELECT 1'",
        );

        let b = snapshot(&rt, &urls[1]);
        let same = snapshot(&rt, &urls[0]) == b && snapshot(&rt, &urls[2]) == b;
        let s = |d: Duration| d.as_secs_f64();
        println!(
            "round {round}: straddle --no-lint {:.3} s, psql {:.3} s, ratio {:.2}; with lint {:.3} s, ratio {:.2}; \
             nothing to do {:.3} s (psql SELECT 1 {:.3} s); same schema: {same}",
            s(t_straddle),
            s(t_psql),
            s(t_straddle) / s(t_psql),
            s(t_lint),
            s(t_lint) / s(t_psql),
            s(t_start),
            s(t_psql_start),
        );
        times.straddle.push(s(t_straddle));
        times.psql.push(s(t_psql));
        times.with_lint.push(s(t_lint));
        times.start_up.push(s(t_start));
        times.psql_start_up.push(s(t_psql_start));
        for name in &names {
            admin(
                &rt,
                &server,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            );
        }
    }
    let ratios =
        |v: &[f64]| -> Vec<f64> { v.iter().zip(&times.psql).map(|(a, b)| a / b).collect() };
    let (straddle, psql, with_lint) = (
        median(times.straddle.clone()),
        median(times.psql.clone()),
        median(times.with_lint.clone()),
    );
    println!(
        "median: straddle migrate up --no-lint {straddle:.3} s, psql -f {psql:.3} s, overhead ratio {:.2}x \
         (median of round ratios {:.2}x)",
        straddle / psql,
        median(ratios(&times.straddle))
    );
    println!(
        "median: straddle migrate up (lint first) {with_lint:.3} s, ratio {:.2}x (median of round ratios {:.2}x); \
         lint's share about {:.3} s",
        with_lint / psql,
        median(ratios(&times.with_lint)),
        with_lint - straddle
    );
    println!(
        "median: fixed start-up (migrate up with nothing to do) {:.3} s; psql -c 'SELECT 1' {:.3} s",
        median(times.start_up),
        median(times.psql_start_up)
    );
    println!("load average at the end: {}", load());
}
