//! Lints the real migration histories in `../shared/corpora` (outside the
//! repository, read-only): nothing may panic, the statement forms that
//! sqlparser cannot parse but straddle recognises must never be reported as
//! parse errors, positions must survive CRLF line endings and a byte-order
//! mark, and the statements crates.io wrapped in `-- safety-assured` blocks
//! (known risky statements) must be flagged.
//!
//! Run with `--nocapture` to see the per-corpus counts of findings by rule.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use straddle::finding::Position;
use straddle::lint::{LintOptions, lint_set};
use straddle::source::{discover, read_migration_file};
use straddle::sql::{SqlFile, Statement, StatementKind, parse_file};
use straddle::{Category, Dialect, Finding};
use support::{corpora_available, corpora_root, corpus_dirs, dialect_of, sql_files};

/// Statement forms sqlparser 0.63 rejects and straddle must still classify:
/// none of them may end up as a `parse-error` finding.
fn is_known_form(statement: &Statement) -> Option<&'static str> {
    let words: Vec<String> = statement.words().take(12).collect();
    let starts = |seq: &[&str]| {
        words.len() >= seq.len() && seq.iter().zip(&words).all(|(a, b)| *a == b.as_str())
    };
    let has = |seq: &[&str]| words.windows(seq.len()).any(|w| w == seq);
    let forms: &[(&str, bool)] = &[
        (
            "DROP INDEX CONCURRENTLY",
            starts(&["DROP", "INDEX", "CONCURRENTLY"]),
        ),
        ("REINDEX", starts(&["REINDEX"])),
        ("DO", starts(&["DO"])),
        ("ALTER SEQUENCE", starts(&["ALTER", "SEQUENCE"])),
        ("CREATE SEQUENCE", starts(&["CREATE", "SEQUENCE"])),
        (
            "REFRESH MATERIALIZED VIEW",
            starts(&["REFRESH", "MATERIALIZED", "VIEW"]),
        ),
        (
            "ALTER TABLE ATTACH PARTITION",
            starts(&["ALTER", "TABLE"]) && has(&["ATTACH", "PARTITION"]),
        ),
        (
            "ALTER TABLE DETACH PARTITION",
            starts(&["ALTER", "TABLE"]) && has(&["DETACH", "PARTITION"]),
        ),
        ("ALTER INDEX", starts(&["ALTER", "INDEX"])),
        ("VACUUM", starts(&["VACUUM"])),
        ("CLUSTER", starts(&["CLUSTER"])),
        ("PRAGMA", starts(&["PRAGMA"])),
        (
            "CREATE PROCEDURE",
            has(&["PROCEDURE"]) && starts(&["CREATE"]),
        ),
        (
            "CREATE TRIGGER IF NOT EXISTS",
            starts(&["CREATE"]) && has(&["TRIGGER", "IF", "NOT", "EXISTS"]),
        ),
        ("DELIMITER", starts(&["DELIMITER"])),
    ];
    forms.iter().find(|(_, hit)| *hit).map(|(name, _)| *name)
}

/// The statement of `file` that holds `at`.
fn statement_at(file: &SqlFile, at: Position) -> Option<&Statement> {
    file.statements
        .iter()
        .find(|s| s.span.start <= at && at <= s.span.end)
}

fn read(path: &Path) -> Option<String> {
    read_migration_file(path).ok().map(|f| f.text)
}

#[test]
fn every_corpus_lints_without_panic_or_parse_errors_on_known_forms() {
    if !corpora_available() {
        return;
    }
    let root = corpora_root();
    let dirs = corpus_dirs(&root);
    assert!(
        dirs.len() >= 13,
        "expected the 13 corpus folders, found {dirs:?}"
    );
    let mut wrong = Vec::new();
    let mut totals: BTreeMap<&'static str, usize> = BTreeMap::new();
    for relative in &dirs {
        let dialect = dialect_of(relative);
        let dir = root.join(relative);
        let set = discover(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let options = LintOptions {
            dialect,
            ..LintOptions::default()
        };
        let outcome = lint_set(&set, &options);
        let mut by_rule: BTreeMap<&'static str, usize> = BTreeMap::new();
        for finding in &outcome.findings {
            *by_rule.entry(finding.rule).or_default() += 1;
            *totals.entry(finding.rule).or_default() += 1;
            if finding.rule != "parse-error" {
                continue;
            }
            let Some(text) = read(&finding.file) else {
                continue;
            };
            let file = parse_file(&text, dialect);
            if let Some(statement) = statement_at(&file, finding.position())
                && let Some(form) = is_known_form(statement)
            {
                wrong.push(format!(
                    "{}:{}:{} ({form}): {}",
                    finding.file.display(),
                    finding.line,
                    finding.column,
                    finding.message
                ));
            }
        }
        println!(
            "{} [{dialect}]: {} migrations, {} findings",
            relative.display(),
            outcome.migrations_checked,
            outcome.findings.len()
        );
        for (rule, count) in by_rule {
            println!("    {count:5}  {rule}");
        }
    }
    println!("all corpora:");
    for (rule, count) in totals {
        println!("    {count:5}  {rule}");
    }
    assert!(
        wrong.is_empty(),
        "statements straddle should recognise were reported as parse errors:\n{}",
        wrong.join("\n")
    );
}

/// Statements of the corpora that are really broken SQL (their own bugs, all
/// in down files), by file and starting line: the only ones that may stay
/// unknown.
const KNOWN_BROKEN: &[(&str, usize)] = &[
    // `INSERT INTO SELECT * FROM posts`: the table name is missing.
    (
        "Plume-org__Plume/migrations/sqlite/2018-10-06-161156_change_default_license/down.sql",
        38,
    ),
    // Two `CREATE TABLE … )` without their `;`, each merged with the
    // `INSERT` that follows.
    (
        "Plume-org__Plume/migrations/sqlite/2018-12-08-182930_constraints/down.sql",
        26,
    ),
    (
        "Plume-org__Plume/migrations/sqlite/2018-12-08-182930_constraints/down.sql",
        114,
    ),
    // `ALTER TABLE … DROP CONSTRAINT …` without its `;`.
    (
        "rust-lang__crates.io/migrations/20170318181441_downloads_need_no_id/down.sql",
        1,
    ),
];

#[test]
fn only_really_broken_statements_stay_unknown() {
    if !corpora_available() {
        return;
    }
    let root = corpora_root();
    let mut unexpected = Vec::new();
    let mut recognised: BTreeMap<String, usize> = BTreeMap::new();
    let (mut parsed, mut unknown) = (0usize, 0usize);
    for relative in corpus_dirs(&root) {
        let dialect = dialect_of(&relative);
        for path in sql_files(&root.join(&relative)) {
            let Some(text) = read(&path) else { continue };
            let name = path
                .strip_prefix(&root)
                .unwrap_or(&path)
                .to_string_lossy()
                .into_owned();
            for statement in parse_file(&text, dialect).statements {
                match &statement.kind {
                    StatementKind::Parsed(_) => parsed += 1,
                    StatementKind::Recognised(r) => {
                        let variant = format!("{r:?}");
                        let variant = variant
                            .split([' ', '{', '('])
                            .next()
                            .unwrap_or_default()
                            .to_string();
                        *recognised.entry(variant).or_default() += 1;
                    }
                    StatementKind::Unknown { message, at } => {
                        unknown += 1;
                        let known = KNOWN_BROKEN.iter().any(|(file, line)| {
                            name == *file && statement.span.start.line == *line
                        });
                        if !known {
                            unexpected.push(format!("{name}:{at}: {message}"));
                        }
                    }
                }
            }
        }
    }
    println!(
        "parsed {parsed}, recognised {}, unknown {unknown}",
        recognised.values().sum::<usize>()
    );
    for (variant, count) in &recognised {
        println!("    {count:5}  {variant}");
    }
    assert!(
        unexpected.is_empty(),
        "statements straddle can neither parse nor recognise:\n{}",
        unexpected.join("\n")
    );
}

/// Independent of the crate: the byte offset of a 1-based (line, character
/// column) position.
fn byte_offset(text: &str, at: Position) -> Option<usize> {
    let mut line_start = 0;
    for _ in 1..at.line {
        line_start += text[line_start..].find('\n')? + 1;
    }
    let line = &text[line_start..];
    match line.char_indices().nth(at.column.checked_sub(1)?) {
        Some((i, _)) => Some(line_start + i),
        None => Some(line_start + line.len()),
    }
}

/// Checks that every statement's span and text agree with the file.
fn check_places(path: &Path, text: &str, file: &SqlFile, problems: &mut Vec<String>) {
    for statement in &file.statements {
        let place = format!("{}:{}", path.display(), statement.span.start);
        if text.get(statement.span.bytes.clone()) != Some(statement.text.as_str()) {
            problems.push(format!(
                "{place}: byte range does not hold the statement text"
            ));
            continue;
        }
        let body = text.strip_prefix('\u{feff}').unwrap_or(text);
        let shift = text.len() - body.len();
        match byte_offset(body, statement.span.start) {
            Some(offset) if offset + shift == statement.span.bytes.start => {}
            other => problems.push(format!(
                "{place}: line:column points at byte {other:?}, the text starts at {}",
                statement.span.bytes.start
            )),
        }
        match byte_offset(body, statement.span.end) {
            Some(offset) if offset + shift == statement.span.bytes.end => {}
            other => problems.push(format!(
                "{place}: end {} points at byte {other:?}, the text ends at {}",
                statement.span.end, statement.span.bytes.end
            )),
        }
        if statement.text.trim() != statement.text || statement.text.ends_with(';') {
            problems.push(format!("{place}: untrimmed statement text"));
        }
    }
}

fn kind_name(kind: &StatementKind) -> String {
    match kind {
        StatementKind::Parsed(ast) => format!("parsed {ast}"),
        StatementKind::Recognised(r) => format!("recognised {r:?}"),
        StatementKind::Unknown { message, .. } => format!("unknown {message}"),
    }
}

#[test]
fn positions_are_exact_with_crlf_and_bom() {
    if !corpora_available() {
        return;
    }
    let root = corpora_root();
    let mut problems = Vec::new();
    let mut files = 0;
    for relative in corpus_dirs(&root) {
        let dialect = dialect_of(&relative);
        for path in sql_files(&root.join(&relative)) {
            let Some(lf) = read(&path) else { continue };
            files += 1;
            let plain = parse_file(&lf, dialect);
            check_places(&path, &lf, &plain, &mut problems);
            let crlf = lf.replace("\r\n", "\n").replace('\n', "\r\n");
            let with_bom = format!("\u{feff}{crlf}");
            for (what, text) in [("crlf", &crlf), ("bom+crlf", &with_bom)] {
                let other = parse_file(text, dialect);
                check_places(&path, text, &other, &mut problems);
                if other.statements.len() != plain.statements.len() {
                    problems.push(format!(
                        "{} ({what}): {} statements instead of {}",
                        path.display(),
                        other.statements.len(),
                        plain.statements.len()
                    ));
                    continue;
                }
                for (a, b) in plain.statements.iter().zip(&other.statements) {
                    if (a.span.start, a.span.end) != (b.span.start, b.span.end)
                        || a.text != b.text.replace('\r', "")
                        || kind_name(&a.kind) != kind_name(&b.kind).replace('\r', "")
                    {
                        problems.push(format!(
                            "{}:{} ({what}): differs from the LF file: {} vs {}",
                            path.display(),
                            a.span.start,
                            kind_name(&a.kind),
                            kind_name(&b.kind)
                        ));
                    }
                }
                if plain.comments.iter().map(|c| &c.text).collect::<Vec<_>>()
                    != other.comments.iter().map(|c| &c.text).collect::<Vec<_>>()
                {
                    problems.push(format!("{} ({what}): comments differ", path.display()));
                }
            }
        }
    }
    println!("{files} files checked as LF, CRLF and BOM+CRLF");
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// A statement between `-- safety-assured:start` and `-- safety-assured:end`.
struct Wrapped {
    path: PathBuf,
    start: Position,
    end: Position,
    text: String,
}

fn wrapped_statements(path: &Path, file: &SqlFile) -> Vec<Wrapped> {
    let mut blocks = Vec::new();
    let mut open: Option<Position> = None;
    for comment in &file.comments {
        match comment.text.trim() {
            "safety-assured:start" => open = Some(comment.span.end),
            "safety-assured:end" => {
                if let Some(start) = open.take() {
                    blocks.push((start, comment.span.start));
                }
            }
            _ => {}
        }
    }
    file.statements
        .iter()
        .filter(|s| {
            blocks
                .iter()
                .any(|(from, to)| *from <= s.span.start && s.span.end <= *to)
        })
        .map(|s| Wrapped {
            path: path.to_path_buf(),
            start: s.span.start,
            end: s.span.end,
            text: s.text.clone(),
        })
        .collect()
}

fn flags(finding: &Finding, wrapped: &Wrapped) -> bool {
    matches!(
        finding.category,
        Category::Locking | Category::DataLoss | Category::BackwardIncompatible
    ) && finding.file == wrapped.path
        && wrapped.start <= finding.position()
        && finding.position() <= wrapped.end
}

/// crates.io wraps the statements its own linter (diesel-guard) flagged in
/// `-- safety-assured:start/end`. Every such statement of an up file must
/// get a locking, data-loss or backward-incompatible finding from straddle,
/// except where straddle knows better and says why: a `COMMENT ON`, and an
/// index on a table created earlier in the same file (crates.io's own comments
/// say so: "This table doesn't exist yet, so creating this index
/// concurrently isn't necessary"). Statement rules lint up files, so wrapped
/// statements of down files are listed, not required. crates.io applies its
/// migrations with diesel, so they are linted as diesel runs them.
#[test]
fn crates_io_safety_assured_statements_are_flagged() {
    if !corpora_available() {
        return;
    }
    let dir = corpora_root().join("rust-lang__crates.io/migrations");
    let set = discover(&dir).unwrap_or_else(|e| panic!("{e}"));
    let outcome = lint_set(
        &set,
        &LintOptions {
            dialect: Dialect::Postgres,
            runner: straddle::lint::Runner::Diesel,
            ..LintOptions::default()
        },
    );
    let mut wrapped = Vec::new();
    let mut exempt: Vec<String> = Vec::new();
    for migration in &set.migrations {
        for (is_up, file) in std::iter::once((true, &migration.up))
            .chain(migration.down.as_ref().map(|d| (false, d)))
        {
            let parsed = parse_file(&file.text, Dialect::Postgres);
            for w in wrapped_statements(&file.path, &parsed) {
                let words: Vec<String> = w
                    .text
                    .split_whitespace()
                    .map(|x| x.to_ascii_uppercase())
                    .collect();
                let why = if !is_up {
                    Some("in a down file")
                } else if words.first().is_some_and(|x| x == "COMMENT") {
                    Some("a comment")
                } else if words.first().is_some_and(|x| x == "CREATE")
                    && words.iter().take(3).any(|x| x == "INDEX")
                    && index_on_table_created_before(&parsed, &w)
                {
                    Some("an index on a table created earlier in the same file")
                } else {
                    None
                };
                match why {
                    Some(why) => {
                        exempt.push(format!("{}:{} ({why})", file.path.display(), w.start))
                    }
                    None => wrapped.push(w),
                }
            }
        }
    }
    println!("exempt, with the reason:\n  {}", exempt.join("\n  "));
    assert!(
        wrapped.len() >= 8,
        "expected the safety-assured blocks of crates.io, found {} statements",
        wrapped.len()
    );
    let missed: Vec<&Wrapped> = wrapped
        .iter()
        .filter(|w| !outcome.findings.iter().any(|f| flags(f, w)))
        .collect();
    println!(
        "{} of {} safety-assured statements flagged",
        wrapped.len() - missed.len(),
        wrapped.len()
    );
    let shown: Vec<String> = missed
        .iter()
        .map(|w| {
            let relative = w.path.strip_prefix(&dir).unwrap_or(&w.path);
            format!(
                "{}:{}: {}",
                relative.display(),
                w.start,
                w.text.split_whitespace().collect::<Vec<_>>().join(" ")
            )
        })
        .collect();
    assert!(
        missed.is_empty(),
        "{} safety-assured statements have no locking/data-loss/backward-incompatible finding:\n{}",
        missed.len(),
        shown.join("\n")
    );
}

/// Whether the `CREATE INDEX` statement `w` indexes a table that a `CREATE
/// TABLE` earlier in the same file created.
fn index_on_table_created_before(file: &straddle::sql::SqlFile, w: &Wrapped) -> bool {
    let text = w.text.to_ascii_lowercase();
    let Some(on) = text.split(" on ").nth(1) else {
        return false;
    };
    let table = on
        .trim_start()
        .trim_start_matches("only ")
        .split(|c: char| c.is_whitespace() || c == '(')
        .next()
        .unwrap_or("")
        .trim_matches('"')
        .to_string();
    file.statements.iter().any(|s| {
        s.span.start.line < w.start.line
            && matches!(s.ast(), Some(sqlparser::ast::Statement::CreateTable(t))
                if straddle::sql::object_key(&t.name) == table)
    })
}
