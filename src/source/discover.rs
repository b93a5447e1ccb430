//! Reading a migrations folder in any of the common layouts.

use std::fs;
use std::path::{Path, PathBuf};

use super::directives::parse_leading;
use super::{Layout, Migration, MigrationFile, MigrationSet, SourceProblem, Version};
use crate::error::{Error, Result};

/// Which half of a migration a file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Half {
    Up,
    Down,
    /// sqlx's lone `<version>_<name>.sql`: an up with no down by design.
    Simple,
}

/// A file name taken apart.
#[derive(Debug)]
struct Entry {
    version: Version,
    name: String,
    half: Half,
    layout: Layout,
    path: PathBuf,
    /// diesel's `metadata.toml` said `run_in_transaction = false`.
    no_transaction: bool,
}

/// `<version>_<name>` → (version, name). The name may be empty (`0001.up.sql`
/// has no `_`).
fn split_version(stem: &str) -> Option<(Version, String)> {
    let (version, name) = match stem.find('_') {
        Some(i) => (&stem[..i], &stem[i + 1..]),
        None => (stem, ""),
    };
    Some((Version::parse(version)?, name.to_string()))
}

/// Recognises a flat or dotted file name.
fn classify_file(file_name: &str) -> Option<(Version, String, Half, Layout)> {
    let stem = file_name.strip_suffix(".sql")?;
    let (stem, half) = if let Some(s) = stem.strip_suffix(".up") {
        (s, Half::Up)
    } else if let Some(s) = stem.strip_suffix(".down") {
        (s, Half::Down)
    } else {
        (stem, Half::Simple)
    };
    // `V0001.Name.up.sql` (Flyway-style numbering with up/down files).
    if let Some(rest) = stem.strip_prefix(['V', 'v'])
        && let Some(dot) = rest.find('.')
        && let Some(version) = Version::parse(&rest[..dot])
    {
        return Some((version, rest[dot + 1..].to_string(), half, Layout::Dotted));
    }
    let (version, name) = split_version(stem)?;
    Some((version, name, half, Layout::Flat))
}

/// Reads one migration file as UTF-8 text. Failures are problems of the folder
/// (reported as findings), not errors that stop the run.
pub fn read_migration_file(path: &Path) -> std::result::Result<MigrationFile, SourceProblem> {
    let bytes = fs::read(path).map_err(|e| SourceProblem {
        rule: "unreadable-file",
        path: path.to_path_buf(),
        message: format!("cannot read the file: {e}"),
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let valid = &e.as_bytes()[..offset];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = String::from_utf8_lossy(
            &valid[valid.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1)..],
        )
        .chars()
        .count()
            + 1;
        SourceProblem {
            rule: "unreadable-file",
            path: path.to_path_buf(),
            message: format!(
                "the file is not UTF-8 text (invalid byte at line {line}, column {column}); \
                 save it as UTF-8"
            ),
        }
    })?;
    let text = match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    };
    Ok(MigrationFile {
        path: path.to_path_buf(),
        text,
    })
}

/// diesel's `metadata.toml`: `run_in_transaction = false` means the
/// migration runs outside a transaction.
fn diesel_no_transaction(dir: &Path, problems: &mut Vec<SourceProblem>) -> bool {
    let path = dir.join("metadata.toml");
    let Ok(text) = fs::read_to_string(&path) else {
        return false;
    };
    match text.parse::<toml::Table>() {
        Ok(table) => matches!(
            table.get("run_in_transaction"),
            Some(toml::Value::Boolean(false))
        ),
        Err(e) => {
            problems.push(SourceProblem {
                rule: "unreadable-file",
                path,
                message: format!("invalid metadata.toml: {}", e.message()),
            });
            false
        }
    }
}

/// The folder's entries, sorted by name, each with whether it is a folder
/// (symbolic links followed). The type comes with the listing on most file
/// systems, so a folder of thousands of files costs no `stat` per file.
fn list_dir(dir: &Path) -> Result<Vec<(PathBuf, bool)>> {
    let mut names = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let is_dir = match entry.file_type() {
            Ok(t) if !t.is_symlink() => Some(t.is_dir()),
            _ => None,
        };
        names.push((entry.file_name(), is_dir));
    }
    names.sort_unstable();
    Ok(names
        .into_iter()
        .map(|(name, is_dir)| {
            let path = dir.join(name);
            let is_dir = is_dir.unwrap_or_else(|| path.is_dir());
            (path, is_dir)
        })
        .collect())
}

fn collect(dir: &Path, problems: &mut Vec<SourceProblem>) -> Result<Vec<Entry>> {
    let listed = list_dir(dir)?;
    let mut entries = Vec::with_capacity(listed.len());
    for (path, is_dir) in listed {
        let Some(file_name) = path.file_name().and_then(|n| n.to_str()) else {
            let lossy = path.file_name().unwrap_or_default().to_string_lossy();
            if lossy.ends_with(".sql") || is_dir {
                problems.push(SourceProblem {
                    rule: "unrecognised-file",
                    path: path.clone(),
                    message: "this name is not valid UTF-8, so its version cannot be read; \
                              rename it with ASCII characters"
                        .into(),
                });
            }
            continue;
        };
        if file_name.starts_with('.') {
            continue;
        }
        if is_dir {
            let Some((version, name)) = split_version(file_name) else {
                continue;
            };
            let no_transaction = diesel_no_transaction(&path, problems);
            let mut found = false;
            for (half, file) in [(Half::Up, "up.sql"), (Half::Down, "down.sql")] {
                let file_path = path.join(file);
                if file_path.is_file() {
                    found = true;
                    entries.push(Entry {
                        version: version.clone(),
                        name: name.clone(),
                        half,
                        layout: Layout::Folders,
                        path: file_path,
                        no_transaction,
                    });
                }
            }
            if !found {
                problems.push(SourceProblem {
                    rule: "unrecognised-file",
                    path: path.clone(),
                    message: "this migration folder has neither up.sql nor down.sql".into(),
                });
            }
            continue;
        }
        if !file_name.ends_with(".sql") {
            continue;
        }
        match classify_file(file_name) {
            Some((version, name, half, layout)) => entries.push(Entry {
                version,
                name,
                half,
                layout,
                path,
                no_transaction: false,
            }),
            None => problems.push(SourceProblem {
                rule: "unrecognised-file",
                path,
                message: "this .sql file does not look like a migration: expected \
                          `<version>_<name>.up.sql`/`.down.sql`, `<version>_<name>.sql`, \
                          `V<version>.<name>.up.sql` or a `<version>_<name>/up.sql` folder"
                    .into(),
            }),
        }
    }
    Ok(entries)
}

/// The files found under one version and one name.
struct Group {
    name: String,
    up: Option<Entry>,
    down: Option<Entry>,
}

fn duplicate(entry: &Entry, first: &Path) -> SourceProblem {
    SourceProblem {
        rule: "duplicate-version",
        path: entry.path.clone(),
        message: format!(
            "version {} is used twice: here and in {}; give one of them a new, later version",
            entry.version,
            first.display()
        ),
    }
}

/// Pairs the files of one version into (up, down). Extra up files are
/// duplicate versions; a down file with no up of its name is an orphan,
/// unless it is the only down of a lone up (then it is a misnamed down, which
/// is still used, and reported).
fn pair(
    version: &Version,
    entries: Vec<Entry>,
    problems: &mut Vec<SourceProblem>,
) -> Option<(Entry, Option<Entry>)> {
    let mut groups: Vec<Group> = Vec::new();
    for entry in entries {
        let index = match groups.iter().position(|g| g.name == entry.name) {
            Some(index) => index,
            None => {
                groups.push(Group {
                    name: entry.name.clone(),
                    up: None,
                    down: None,
                });
                groups.len() - 1
            }
        };
        let group = &mut groups[index];
        let slot = match entry.half {
            Half::Up | Half::Simple => &mut group.up,
            Half::Down => &mut group.down,
        };
        match slot {
            Some(first) => problems.push(duplicate(&entry, &first.path)),
            None => *slot = Some(entry),
        }
    }

    let mut primary: Option<(Entry, Option<Entry>)> = None;
    let mut lone_downs: Vec<Entry> = Vec::new();
    for group in groups {
        match (group.up, &primary) {
            (Some(up), None) => primary = Some((up, group.down)),
            (Some(up), Some((first, _))) => {
                let mut problem = duplicate(&up, &first.path);
                if let Some(down) = &group.down {
                    problem.message.push_str(&format!(
                        " (its down file {} is skipped with it)",
                        down.path.display()
                    ));
                }
                problems.push(problem);
            }
            (None, _) => lone_downs.extend(group.down),
        }
    }
    let adopt_misnamed =
        lone_downs.len() == 1 && primary.as_ref().is_some_and(|(_, down)| down.is_none());
    for down in lone_downs {
        match &mut primary {
            Some((up, slot)) if adopt_misnamed => {
                problems.push(SourceProblem {
                    rule: "orphan-down",
                    path: down.path.clone(),
                    message: format!(
                        "the down file's name `{}` differs from its up file's `{}` ({}); \
                         rename it to match",
                        down.name,
                        up.name,
                        up.path.display()
                    ),
                });
                *slot = Some(down);
            }
            Some((up, _)) => problems.push(SourceProblem {
                rule: "orphan-down",
                path: down.path.clone(),
                message: format!(
                    "a down migration for version {version} named `{}`, but the up \
                     migration of that version is {}",
                    down.name,
                    up.path.display()
                ),
            }),
            None => problems.push(SourceProblem {
                rule: "orphan-down",
                path: down.path.clone(),
                message: format!("a down migration for version {version} without its up migration"),
            }),
        }
    }
    primary
}

/// The entries grouped by version, in version order; within a version they
/// keep their order (by file name).
fn by_version(mut entries: Vec<Entry>) -> Vec<(Version, Vec<Entry>)> {
    entries.sort_by(|a, b| a.version.cmp(&b.version));
    let mut groups: Vec<(Version, Vec<Entry>)> = Vec::new();
    for entry in entries {
        match groups.last_mut() {
            Some((version, group)) if *version == entry.version => group.push(entry),
            _ => groups.push((entry.version.clone(), vec![entry])),
        }
    }
    groups
}

/// The up and down file of one version.
struct Pair {
    version: Version,
    up: Entry,
    down: Option<Entry>,
    /// Whether the down's text is wanted (else it keeps its path only).
    read_down: bool,
}

type ReadFile = std::result::Result<MigrationFile, SourceProblem>;

/// The up file read, and the down file read where there is one.
type ReadPair = (ReadFile, Option<ReadFile>);

fn read_pair(pair: &Pair) -> ReadPair {
    let down = pair.down.as_ref().map(|d| {
        if pair.read_down {
            read_migration_file(&d.path)
        } else {
            Ok(MigrationFile {
                path: d.path.clone(),
                text: String::new(),
            })
        }
    });
    (read_migration_file(&pair.up.path), down)
}

/// Reads the files of every pair, in order (`None` where a version has no
/// pair). A large folder is read by a few threads at once: when the files
/// are not in the page cache, reading thousands of small files is mostly
/// waiting on the disk, and several requests in flight roughly halve it
/// (5,000 files: 0.48 s on one thread, 0.27 s on eight, on this project's
/// machine; with the files cached it makes no difference).
fn read_all(paired: &[(Vec<SourceProblem>, Option<Pair>)]) -> Vec<Option<ReadPair>> {
    const THREADS: usize = 8;
    let read = |part: &[(Vec<SourceProblem>, Option<Pair>)]| -> Vec<Option<ReadPair>> {
        part.iter()
            .map(|(_, p)| p.as_ref().map(read_pair))
            .collect()
    };
    if paired.len() < 256 {
        return read(paired);
    }
    let chunk = paired.len().div_ceil(THREADS);
    std::thread::scope(|scope| {
        let handles: Vec<_> = paired
            .chunks(chunk)
            .map(|part| scope.spawn(move || read(part)))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// Finds every migration in `dir`, in version order. Problems with single
/// files (unreadable, duplicate version, orphan down) are collected in
/// [`MigrationSet::problems`]; only an unreadable folder is an error.
pub fn discover(dir: &Path) -> Result<MigrationSet> {
    discover_for(dir, &|_, _| true)
}

/// Like [`discover`], but reads a down file only where `read_down(up, down)`
/// says so; the others keep their path and an empty text. For
/// `lint FILE…`, which needs the downs of the named migrations only: in a
/// folder of thousands, that halves what is read from disk.
pub fn discover_for(dir: &Path, read_down: &dyn Fn(&Path, &Path) -> bool) -> Result<MigrationSet> {
    let mut problems = Vec::new();
    if !dir.is_dir() {
        let message = if dir.exists() {
            "not a folder: give the migrations folder, or the migration files themselves"
        } else {
            "no such migrations folder (give one, or set `migrations` in straddle.toml)"
        };
        return Err(Error::io(
            dir,
            std::io::Error::new(std::io::ErrorKind::NotFound, message),
        ));
    }
    let entries = collect(dir, &mut problems)?;

    let mut layouts: Vec<Layout> = Vec::new();
    for entry in &entries {
        if !layouts.contains(&entry.layout) {
            layouts.push(entry.layout);
        }
    }

    // Pair first, read after (on a few threads in a large folder), and
    // report in version order: each version's pairing problems, then its
    // reading problems.
    let paired: Vec<(Vec<SourceProblem>, Option<Pair>)> = by_version(entries)
        .into_iter()
        .map(|(version, entries)| {
            let mut found = Vec::new();
            let pair = pair(&version, entries, &mut found).map(|(up, down)| Pair {
                read_down: down.as_ref().is_some_and(|d| read_down(&up.path, &d.path)),
                version,
                up,
                down,
            });
            (found, pair)
        })
        .collect();
    let read = read_all(&paired);
    let mut migrations = Vec::with_capacity(read.len());
    for ((found, pair), read) in paired.into_iter().zip(read) {
        problems.extend(found);
        let (Some(pair), Some((up_file, down_file))) = (pair, read) else {
            continue;
        };
        let up_file = match up_file {
            Ok(file) => file,
            Err(problem) => {
                problems.push(problem);
                continue;
            }
        };
        let down_file = match down_file {
            Some(Ok(file)) => Some(file),
            Some(Err(problem)) => {
                problems.push(problem);
                None
            }
            None => None,
        };
        let directives = parse_leading(&up_file.text);
        migrations.push(Migration {
            no_transaction: pair.up.no_transaction || directives.no_transaction,
            version: pair.version,
            name: pair.up.name,
            up: up_file,
            down: down_file,
            directives,
        });
    }

    if layouts.len() > 1 {
        problems.push(SourceProblem {
            rule: "unrecognised-file",
            path: dir.to_path_buf(),
            message: format!(
                "this folder mixes migration layouts ({}); keep to one",
                layouts
                    .iter()
                    .map(|l| format!("{l:?}").to_lowercase())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }

    Ok(MigrationSet {
        dir: dir.to_path_buf(),
        layout: layouts.first().copied(),
        migrations,
        problems,
    })
}
