//! Shared by the integration tests that read the real migration corpora in
//! `/work/shared/corpora` (outside the repository, read-only).

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use straddle::Dialect;

/// Where the corpora live: next to the crate, never inside it.
pub fn corpora_root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpora"))
}

/// The dialect of a corpus folder, from its path: `mysql`, `sqlite` (river's
/// `riversqlite` too) or else PostgreSQL (`postgres`, `postgresql`,
/// crates.io, docs.rs, svix, river's `riverpgxv5`).
pub fn dialect_of(relative: &Path) -> Dialect {
    let text = relative.to_string_lossy().to_ascii_lowercase();
    if text.contains("mysql") {
        Dialect::Mysql
    } else if text.contains("sqlite") {
        Dialect::Sqlite
    } else {
        Dialect::Postgres
    }
}

fn is_migration_file(name: &str) -> bool {
    name.ends_with(".sql")
}

/// Every folder under `root` that directly holds migrations (`*.sql` files or
/// diesel `<version>_<name>/up.sql` folders), sorted, relative to `root`.
pub fn corpus_dirs(root: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    walk(root, root, &mut found);
    found.sort();
    found
}

fn walk(root: &Path, dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut subdirs = Vec::new();
    let mut holds_migrations = false;
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if path.join("up.sql").is_file() {
                holds_migrations = true;
            } else {
                subdirs.push(path);
            }
        } else if is_migration_file(&name) {
            holds_migrations = true;
        }
    }
    if holds_migrations {
        if let Ok(relative) = dir.strip_prefix(root) {
            found.push(relative.to_path_buf());
        }
        return;
    }
    for sub in subdirs {
        walk(root, &sub, found);
    }
}

/// Every `.sql` file below `dir`, sorted.
pub fn sql_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "sql") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Whether the corpora are there; when they are not, says why, and panics
/// when `CI` is set (CI must have them).
pub fn corpora_available() -> bool {
    let root = corpora_root();
    if root.is_dir() {
        return true;
    }
    let reason = format!(
        "the migration corpora are missing at {}; skipping",
        root.display()
    );
    if std::env::var_os("CI").is_some() {
        panic!("{reason} (CI is set, so they are required)");
    }
    eprintln!("{reason}");
    false
}
