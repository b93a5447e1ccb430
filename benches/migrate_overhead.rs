//! On-demand benchmark: the runner's overhead over plain `psql`.
//!
//! Applies the crates.io migration history (read at run time from the shared
//! corpora, never copied) to a fresh PostgreSQL database twice per round: once
//! with `straddle migrate up --no-lint`, once with a single `psql -f … -f …`
//! run of the same up files in the same order. Prints the medians and the
//! ratio, and checks that both databases end with the same schema.
//!
//! ```text
//! cargo bench --bench migrate_overhead
//! STRADDLE_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres \
//! STRADDLE_BENCH_CORPUS=/path/to/migrations STRADDLE_BENCH_ROUNDS=5 cargo bench --bench migrate_overhead
//! ```

use std::path::PathBuf;
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

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
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
        "corpus: {} ({} migrations, {statements} statements), {rounds} round(s)",
        corpus.display(),
        files.len()
    );
    let bin = env!("CARGO_BIN_EXE_straddle");
    let mut straddle_times = Vec::new();
    let mut psql_times = Vec::new();
    for round in 0..rounds {
        let a = format!("straddle_bench_{}_{round}_a", std::process::id());
        let b = format!("straddle_bench_{}_{round}_b", std::process::id());
        for name in [&a, &b] {
            admin(&rt, &server, &format!("DROP DATABASE IF EXISTS {name}"));
            admin(&rt, &server, &format!("CREATE DATABASE {name}"));
        }
        let url_a = with_database(&server, &a);
        let url_b = with_database(&server, &b);

        let start = Instant::now();
        let out = Command::new(bin)
            .args(["migrate", "up", "--no-lint", "--database-url", &url_a])
            .arg(&corpus)
            .output()
            .unwrap();
        let t_straddle = start.elapsed();
        assert!(
            out.status.success(),
            "straddle failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );

        let start = Instant::now();
        let mut psql = Command::new("psql");
        psql.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", &url_b]);
        for f in &files {
            psql.arg("-f").arg(f);
        }
        let out = psql.output().unwrap();
        let t_psql = start.elapsed();
        assert!(
            out.status.success(),
            "psql failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );

        let same = snapshot(&rt, &url_a) == snapshot(&rt, &url_b);
        println!(
            "round {round}: straddle {:.3} s, psql {:.3} s, ratio {:.2}, same schema: {same}",
            t_straddle.as_secs_f64(),
            t_psql.as_secs_f64(),
            t_straddle.as_secs_f64() / t_psql.as_secs_f64()
        );
        straddle_times.push(t_straddle);
        psql_times.push(t_psql);
        for name in [&a, &b] {
            admin(
                &rt,
                &server,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            );
        }
    }
    let (s, p) = (median(straddle_times), median(psql_times));
    println!(
        "median: straddle migrate up {:.3} s, psql -f {:.3} s, overhead ratio {:.2}x",
        s.as_secs_f64(),
        p.as_secs_f64(),
        s.as_secs_f64() / p.as_secs_f64()
    );
    let start = Instant::now();
    let out = Command::new(bin)
        .args(["lint", "--format", "json"])
        .arg(&corpus)
        .output()
        .unwrap();
    println!(
        "for reference, `straddle lint` of the same folder (what `migrate up` runs first without --no-lint): {:.3} s (exit {:?})",
        start.elapsed().as_secs_f64(),
        out.status.code()
    );
}
