//! Mutation testing of the SQL front end and the rules: real migration files
//! (the corpora in `../shared/corpora`, or the repository's own fixtures
//! when the corpora are missing), truncated, spliced, sprinkled with random
//! bytes and cut, go through `sql::parse_file` and the whole linter in all
//! three dialects. Nothing may panic, and every statement's byte range must
//! hold its text.
//!
//! Deterministic: a fixed seed drives a small PRNG, so a failure reproduces.
//! Crash reproducers found by `cargo fuzz` live in `tests/fixtures/fuzz/`
//! and run here as they are.

mod support;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use straddle::Dialect;
use straddle::lint::{LintOptions, lint_text};
use straddle::sql::parse_file;
use support::{corpora_root, sql_files};

/// splitmix64: tiny, good enough, and no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`0` when `n` is 0).
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Pieces that stress the splitter and the recogniser.
const SPICE: &[&str] = &[
    ";",
    "'",
    "\"",
    "`",
    "$$",
    "$tag$",
    "--",
    "/*",
    "*/",
    "#",
    "\r",
    "\n",
    "\r\n",
    "\u{feff}",
    "\0",
    "(",
    ")",
    "BEGIN ",
    " END",
    " END IF",
    " END CASE",
    "CASE ",
    "\nDELIMITER $$\n",
    "\nDELIMITER ;\n",
    "\ndelimiter //\n",
    "CREATE TRIGGER IF NOT EXISTS ",
    "CREATE PROCEDURE ",
    "DROP INDEX CONCURRENTLY ",
    "ALTER TABLE ",
    " RENAME ",
    " COLLATE ",
    " TABLESPACE ",
    " WITH NO DATA",
    " << ",
    "é",
    "𝄞",
    "\u{2028}",
    "E'\\'",
    "/* TEMPLATE: schema */",
    "-- safety-assured:start\n",
    "-- straddle:allow drop-table -- x\n",
];

fn boundaries(text: &str) -> Vec<usize> {
    text.char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(text.len()))
        .collect()
}

fn at_boundary(rng: &mut Rng, text: &str) -> usize {
    *rng.pick(&boundaries(text))
}

fn insert_random(rng: &mut Rng, text: &str) -> String {
    let mut out = text.to_string();
    for _ in 0..1 + rng.below(4) {
        let at = at_boundary(rng, &out);
        let piece = if rng.below(3) == 0 {
            // Raw random bytes, made valid UTF-8 the lossy way.
            let bytes: Vec<u8> = (0..1 + rng.below(6)).map(|_| rng.next() as u8).collect();
            String::from_utf8_lossy(&bytes).into_owned()
        } else {
            rng.pick(SPICE).to_string()
        };
        out.insert_str(at, &piece);
    }
    out
}

fn delete_random(rng: &mut Rng, text: &str) -> String {
    let mut out = text.to_string();
    for _ in 0..1 + rng.below(3) {
        let b = boundaries(&out);
        let from = rng.below(b.len());
        let to = (from + 1 + rng.below(40)).min(b.len() - 1);
        if from < to {
            out.replace_range(b[from]..b[to], "");
        }
    }
    out
}

fn splice(rng: &mut Rng, a: &str, b: &str) -> String {
    let cut_a = at_boundary(rng, a);
    let cut_b = at_boundary(rng, b);
    format!("{}{}", &a[..cut_a], &b[cut_b..])
}

/// Runs one input through everything, in every dialect; returns a
/// description of the failure, if any.
fn check(text: &str, down: Option<&str>) -> Result<(), String> {
    for dialect in Dialect::ALL {
        let result = catch_unwind(AssertUnwindSafe(|| {
            let file = parse_file(text, dialect);
            for statement in &file.statements {
                if text.get(statement.span.bytes.clone()) != Some(statement.text.as_str()) {
                    return Err(format!(
                        "{dialect}: statement at {} has a byte range {:?} that does not hold its text",
                        statement.span.start, statement.span.bytes
                    ));
                }
            }
            let options = LintOptions {
                dialect,
                ..LintOptions::default()
            };
            let _ = lint_text(text, down, &options);
            Ok(())
        }));
        match result {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(e),
            Err(panic) => {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                return Err(format!("{dialect}: panic: {message}"));
            }
        }
    }
    Ok(())
}

/// The inputs: the corpora's files when present, else the repository's own
/// SQL files.
fn inputs() -> Vec<(PathBuf, String)> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = Vec::new();
    let corpora = corpora_root();
    if corpora.is_dir() {
        paths.extend(sql_files(&corpora));
    } else {
        eprintln!(
            "corpora missing at {}; mutating the repository's fixtures instead",
            corpora.display()
        );
        paths.extend(sql_files(&manifest.join("tests/fixtures")));
        paths.extend(sql_files(&manifest.join("migrations-examples")));
        paths.extend(sql_files(&manifest.join("fuzz/seeds")));
    }
    paths
        .into_iter()
        .filter_map(|p| {
            let text = std::fs::read_to_string(&p).ok()?;
            // Keep each run short: very large files add time, not cases.
            (text.len() <= 24 * 1024).then_some((p, text))
        })
        .collect()
}

/// How many files are mutated, and the wall-clock cap (a safety net: the
/// counts are chosen to finish well within it in a debug build).
const FILES: usize = 40;
const CAP: Duration = Duration::from_secs(10);

#[test]
fn mutated_migrations_never_panic() {
    let inputs = inputs();
    assert!(!inputs.is_empty(), "no SQL files to mutate");
    let mut rng = Rng(0x5EED_2026_0001);
    let started = Instant::now();
    let mut failures = Vec::new();
    let mut cases = 0usize;
    let mut fail = |what: String, text: &str, result: Result<(), String>| {
        if let Err(e) = result {
            failures.push(format!("{what}: {e}\n--- input ---\n{text:?}"));
        }
    };
    for round in 0..FILES {
        if started.elapsed() > CAP {
            eprintln!("stopped after {round} files: time cap reached");
            break;
        }
        let (path, text) = rng.pick(&inputs).clone();
        let (_, other) = rng.pick(&inputs).clone();
        let name = path.display().to_string();

        // Truncated at every N-th character boundary (about a dozen cuts).
        let b = boundaries(&text);
        let step = (b.len() / 12).max(1);
        for &cut in b.iter().step_by(step) {
            let truncated = &text[..cut];
            cases += 1;
            fail(
                format!("{name} cut at {cut}"),
                truncated,
                check(truncated, None),
            );
        }
        for _ in 0..3 {
            let spliced = splice(&mut rng, &text, &other);
            cases += 1;
            fail(
                format!("{name} spliced"),
                &spliced,
                check(&spliced, Some(&text)),
            );
            let inserted = insert_random(&mut rng, &text);
            cases += 1;
            fail(
                format!("{name} with insertions"),
                &inserted,
                check(&inserted, None),
            );
            let deleted = delete_random(&mut rng, &text);
            cases += 1;
            fail(
                format!("{name} with deletions"),
                &deleted,
                check(&deleted, Some(&other)),
            );
        }
    }
    eprintln!(
        "{cases} mutated inputs × 3 dialects in {:.1?}",
        started.elapsed()
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// Inputs that once crashed (found by `cargo fuzz`, or by the test above),
/// kept as files. A file may hold an up and a down separated by a NUL byte,
/// as the fuzz target reads them.
#[test]
fn fuzz_reproducers_never_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    let mut failures = Vec::new();
    for path in paths {
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let text = String::from_utf8_lossy(&bytes);
        let (up, down) = match text.split_once('\0') {
            Some((up, down)) => (up, Some(down)),
            None => (&*text, None),
        };
        if let Err(e) = check(up, down) {
            failures.push(format!("{}: {e}", path.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
