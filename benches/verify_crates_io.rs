//! On demand: `cargo bench --bench verify_crates_io`.
//!
//! Times `straddle verify` over the whole crates.io history (../shared/
//! corpora, read-only) on the PostgreSQL server of
//! `STRADDLE_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/
//! postgres`), where it creates and drops its own scratch database, and
//! prints migrations per second. `STRADDLE_BENCH_ROWS` sets the generated
//! rows per table (default 3; 0 measures the schema round trip alone).

use std::path::Path;
use std::time::Instant;

use straddle::Dialect;
use straddle::db::DbUrl;
use straddle::source::discover;
use straddle::verify::{self, NoHook, Scratch, VerifyOptions};

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpora/rust-lang__crates.io/migrations");
    if !dir.is_dir() {
        println!("skipped: no crates.io corpus at {}", dir.display());
        return;
    }
    let url = std::env::var("STRADDLE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string());
    let url = DbUrl::parse(&url).expect("a PostgreSQL URL");
    let rows: u64 = std::env::var("STRADDLE_BENCH_ROWS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let set = discover(&dir).expect("the crates.io migrations");
    let planned = verify::plan(&set, Dialect::Postgres);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        let mut scratch = match Scratch::open(Dialect::Postgres, Some(&url)).await {
            Ok(s) => s,
            Err(e) => {
                println!("skipped: {e}");
                return;
            }
        };
        let options = VerifyOptions {
            rows,
            ..VerifyOptions::default()
        };
        let started = Instant::now();
        let result = verify::run(&mut scratch, &planned, &options, &mut NoHook, &mut |_| {}).await;
        let elapsed = started.elapsed().as_secs_f64();
        let _ = scratch.cleanup().await;
        match result {
            Ok(report) => {
                let s = &report.summary;
                println!(
                    "verify crates.io ({} rows per table): {} migrations in {elapsed:.2} s = {:.1} migrations/s",
                    rows,
                    s.migrations,
                    s.verified as f64 / elapsed
                );
                println!(
                    "  failing downs {}, non-restoring downs {}, failing re-ups {}, column order only {}, losing data {}",
                    s.failing_downs,
                    s.non_restoring_downs,
                    s.failing_re_ups,
                    s.column_order_only,
                    s.data_lost
                );
            }
            Err(e) => println!("verify failed to run: {e}"),
        }
    });
}
