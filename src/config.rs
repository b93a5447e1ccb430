//! `straddle.toml`: found by searching upward from the current folder, or
//! named with `--config`. Unknown keys and bad values are errors that name the
//! key and the file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::lint::Level;

pub const FILE_NAME: &str = "straddle.toml";

/// The file as written.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// The migrations folder, or several (`migrations = ["db/a", "db/b"]`),
    /// relative to the file. Each folder is linted on its own.
    #[serde(default, deserialize_with = "de_folders")]
    pub migrations: Vec<PathBuf>,
    pub dialect: Option<Dialect>,
    #[serde(default)]
    pub lint: LintSection,
    /// Rule id → `error`, `warning` or `off`.
    #[serde(default)]
    pub rules: BTreeMap<String, LevelName>,
    /// The database `straddle migrate` works on.
    #[serde(default)]
    pub database: DatabaseSection,
    /// How `straddle migrate` applies migrations.
    #[serde(default)]
    pub runner: RunnerSection,
    /// How a release rolls out between expand and contract.
    #[serde(default)]
    pub rollout: RolloutSection,
}

/// `[database]`
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSection {
    /// Used when neither `--database-url`, `DATABASE_URL` nor `.env` names one.
    pub url: Option<String>,
    /// The server's major version (`version = "15"`, or `"9.6"`, `"8.0"`):
    /// lint rules whose verdict depends on it (what rewrites a table on
    /// PostgreSQL 10 does not on 11, …) use it. Unset: the newest behaviour.
    #[serde(default, deserialize_with = "de_server_version")]
    pub version: Option<u32>,
}

/// `[runner]`: timeouts and retries of `straddle migrate`. Durations are
/// humantime strings (`2s`, `500ms`, `1m 30s`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunnerSection {
    /// How long one statement waits for a table lock before it gives up
    /// (PostgreSQL `lock_timeout`, MySQL `lock_wait_timeout`, SQLite busy
    /// timeout). `0s` switches it off.
    #[serde(deserialize_with = "de_duration")]
    pub lock_timeout: std::time::Duration,
    /// How long one statement may run (PostgreSQL `statement_timeout`,
    /// MariaDB `max_statement_time`); `0s` (the default) means no limit.
    #[serde(deserialize_with = "de_duration")]
    pub statement_timeout: std::time::Duration,
    /// How many times a statement that hit the lock timeout is tried again.
    pub lock_retries: u32,
    /// The first wait before a retry; it doubles each time (with jitter).
    #[serde(deserialize_with = "de_duration")]
    pub retry_backoff: std::time::Duration,
    /// The longest wait between two retries.
    #[serde(deserialize_with = "de_duration")]
    pub retry_backoff_max: std::time::Duration,
    /// How long a runner waits for another runner on the same database to
    /// finish before it exits with an error.
    #[serde(deserialize_with = "de_duration")]
    pub wait_for_runner: std::time::Duration,
}

impl Default for RunnerSection {
    fn default() -> Self {
        use std::time::Duration;
        RunnerSection {
            lock_timeout: Duration::from_secs(2),
            statement_timeout: Duration::ZERO,
            lock_retries: 5,
            retry_backoff: Duration::from_millis(500),
            retry_backoff_max: Duration::from_secs(30),
            wait_for_runner: Duration::from_secs(60),
        }
    }
}

/// A humantime duration (`2s`, `500ms`, `1m 30s`).
fn de_duration<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<std::time::Duration, D::Error> {
    let text = String::deserialize(deserializer)?;
    humantime::parse_duration(text.trim()).map_err(|e| {
        serde::de::Error::custom(format!(
            "`{text}` is not a duration ({e}); write for example \"2s\", \"500ms\" or \"1m 30s\""
        ))
    })
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LintSection {
    /// Migrations up to this version are replayed but not reported.
    pub baseline: Option<String>,
    /// The runner sets a lock timeout for every migration.
    #[serde(default)]
    pub assume_lock_timeout: bool,
    /// What applies the migrations: `straddle` (default: `-- no-transaction`
    /// files run statement by statement, every migration under a lock
    /// timeout), `sqlx` or `diesel` (a file is one query).
    #[serde(default)]
    pub runner: crate::lint::Runner,
    /// Globs, relative to the file (`"migrations/legacy/**"`): migrations
    /// whose up or down file matches are replayed but not reported.
    #[serde(default, deserialize_with = "de_globs")]
    pub exclude: Vec<String>,
}

/// `[rollout]`: the rollout between `migrate expand` and `migrate contract`
/// and its contract gate. Durations are humantime strings.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RolloutSection {
    /// How long a completed rollout must run before a contract may follow.
    #[serde(deserialize_with = "de_duration")]
    pub bake: std::time::Duration,
    /// The `application_name` the app's sessions use on PostgreSQL, with
    /// `{version}` where the app version goes (`"shop@{version}"`): sessions
    /// of an older version hold a contract back.
    #[serde(deserialize_with = "de_application_name")]
    pub application_name: Option<String>,
    /// Heartbeat rows older than this are ignored (the instance is gone).
    #[serde(deserialize_with = "de_duration")]
    pub heartbeat_stale: std::time::Duration,
    /// A shell command that must exit 0 before a contract runs (for example
    /// `kubectl rollout status deployment/shop`).
    pub check_command: Option<String>,
    /// The health command run after applying a phase (`--health-cmd`).
    pub health_cmd: Option<String>,
    /// How long the health command is watched (`--watch`).
    #[serde(deserialize_with = "de_duration")]
    pub health_watch: std::time::Duration,
    /// The pause between two health checks (`--interval`).
    #[serde(deserialize_with = "de_duration")]
    pub health_interval: std::time::Duration,
    /// Failures in a row that trigger the automatic rollback.
    #[serde(deserialize_with = "de_positive")]
    pub health_failures: u32,
}

impl Default for RolloutSection {
    fn default() -> Self {
        use std::time::Duration;
        RolloutSection {
            bake: Duration::from_secs(60 * 60),
            application_name: None,
            heartbeat_stale: Duration::from_secs(5 * 60),
            check_command: None,
            health_cmd: None,
            health_watch: Duration::from_secs(10 * 60),
            health_interval: Duration::from_secs(15),
            health_failures: 3,
        }
    }
}

/// One folder or a list of folders.
fn de_folders<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<Vec<PathBuf>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Folders {
        One(PathBuf),
        Many(Vec<PathBuf>),
    }
    match Folders::deserialize(deserializer) {
        Ok(Folders::One(dir)) => Ok(vec![dir]),
        Ok(Folders::Many(dirs)) if !dirs.is_empty() => Ok(dirs),
        Ok(Folders::Many(_)) => Err(serde::de::Error::custom(
            "the list of migrations folders is empty; name at least one folder",
        )),
        Err(_) => Err(serde::de::Error::custom(
            "expected a folder (\"migrations\") or a list of folders ([\"db/a\", \"db/b\"])",
        )),
    }
}

/// A server version: `"15"`, `"9.6"`, `"8.0.36"` or `15`; keeps the major.
fn de_server_version<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<Option<u32>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Number(u32),
        Text(String),
    }
    let bad = |text: &str| {
        serde::de::Error::custom(format!(
            "`{text}` is not a server version; write its major version, for example \"16\""
        ))
    };
    match Raw::deserialize(deserializer) {
        Ok(Raw::Number(n)) if n > 0 => Ok(Some(n)),
        Ok(Raw::Number(n)) => Err(bad(&n.to_string())),
        Ok(Raw::Text(text)) => parse_server_version(&text)
            .map(Some)
            .ok_or_else(|| bad(&text)),
        Err(_) => Err(serde::de::Error::custom(
            "expected a version such as \"16\" or \"9.6\"",
        )),
    }
}

/// The major version of `"15"`, `"9.6"`, `"8.0.36"`, `"PostgreSQL 16"`.
pub fn parse_server_version(text: &str) -> Option<u32> {
    let text = text.trim();
    let text = text
        .strip_prefix("PostgreSQL")
        .or_else(|| text.strip_prefix("postgresql"))
        .or_else(|| text.strip_prefix("postgres"))
        .unwrap_or(text)
        .trim();
    let mut parts = text.split('.');
    let major: u32 = parts.next()?.parse().ok()?;
    if major == 0 || !parts.all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    Some(major)
}

/// Glob patterns, each checked.
fn de_globs<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<Vec<String>, D::Error> {
    let globs = Vec::<String>::deserialize(deserializer)?;
    for glob in &globs {
        globset::Glob::new(glob).map_err(|e| {
            serde::de::Error::custom(format!("`{glob}` is not a valid glob: {}", e.kind()))
        })?;
    }
    Ok(globs)
}

fn de_application_name<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<Option<String>, D::Error> {
    let text = String::deserialize(deserializer)?;
    if !text.contains("{version}") {
        return Err(serde::de::Error::custom(format!(
            "`{text}` has no `{{version}}`: write where the app version goes, for example \"shop@{{version}}\""
        )));
    }
    Ok(Some(text))
}

fn de_positive<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<u32, D::Error> {
    let n = u32::deserialize(deserializer)?;
    if n == 0 {
        return Err(serde::de::Error::custom("must be at least 1"));
    }
    Ok(n)
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LevelName {
    Error,
    Warning,
    Off,
}

impl From<LevelName> for Level {
    fn from(level: LevelName) -> Self {
        match level {
            LevelName::Error => Level::Error,
            LevelName::Warning => Level::Warning,
            LevelName::Off => Level::Off,
        }
    }
}

/// A loaded configuration and where it came from.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// The file it was read from; `None` when there is none.
    pub path: Option<PathBuf>,
    pub file: ConfigFile,
}

impl Config {
    /// Loads `explicit` if given, else the nearest `straddle.toml` above
    /// `start`, else the defaults.
    pub fn load(explicit: Option<&Path>, start: &Path) -> Result<Config> {
        let path = match explicit {
            Some(path) => Some(path.to_path_buf()),
            None => find_upward(start),
        };
        let Some(path) = path else {
            return Ok(Config::default());
        };
        let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        let file = parse(&text, &path)?;
        Ok(Config {
            path: Some(path),
            file,
        })
    }

    /// The folder the configuration file sits in.
    pub fn base_dir(&self) -> Option<&Path> {
        self.path.as_deref().and_then(Path::parent)
    }

    /// The migrations folder: the first configured one (relative to the
    /// file), else `./migrations`.
    pub fn migrations_dir(&self) -> PathBuf {
        self.migrations_dirs()
            .into_iter()
            .next()
            .unwrap_or_else(|| PathBuf::from("migrations"))
    }

    /// Every configured migrations folder (relative to the file), else
    /// `./migrations`.
    pub fn migrations_dirs(&self) -> Vec<PathBuf> {
        if self.file.migrations.is_empty() {
            return vec![PathBuf::from("migrations")];
        }
        self.file
            .migrations
            .iter()
            .map(|dir| self.resolve(dir))
            .collect()
    }

    /// A path written in the file, made relative to the file's folder.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        match self.base_dir() {
            Some(base) if path.is_relative() && base != Path::new("") => base.join(path),
            _ => path.to_path_buf(),
        }
    }

    /// The database server's major version (`[database] version`).
    pub fn database_version(&self) -> Option<u32> {
        self.file.database.version
    }

    /// The `[lint] exclude` globs, relative to the file's folder.
    pub fn exclude(&self) -> Result<PathFilter> {
        let base = self
            .base_dir()
            .filter(|b| *b != Path::new(""))
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        PathFilter::new(&base, &self.file.lint.exclude).map_err(|e| self.error(e))
    }

    pub fn dialect(&self) -> Dialect {
        self.file.dialect.unwrap_or_default()
    }

    /// Rule levels, with rule ids checked.
    pub fn levels(&self) -> Result<BTreeMap<String, Level>> {
        let mut levels = BTreeMap::new();
        for (id, level) in &self.file.rules {
            if crate::lint::find_rule(id).is_none() {
                return Err(self.error(format!(
                    "[rules] names `{id}`, which is not a straddle rule (see `straddle rules`)"
                )));
            }
            levels.insert(id.clone(), Level::from(*level));
        }
        Ok(levels)
    }

    pub fn error(&self, message: String) -> Error {
        Error::Config {
            path: self
                .path
                .clone()
                .unwrap_or_else(|| PathBuf::from(FILE_NAME)),
            line: None,
            column: None,
            message,
        }
    }
}

/// Glob patterns matched against paths relative to a base folder, the way
/// `.gitignore` patterns are: `*` stays within one folder, `**` crosses
/// folders, and a pattern without `/` matches the file name anywhere.
#[derive(Clone, Debug)]
pub struct PathFilter {
    base: PathBuf,
    with_folders: globset::GlobSet,
    names: globset::GlobSet,
    empty: bool,
}

impl PathFilter {
    /// `base` is the folder the patterns are relative to.
    pub fn new(base: &Path, patterns: &[String]) -> std::result::Result<PathFilter, String> {
        let mut with_folders = globset::GlobSetBuilder::new();
        let mut names = globset::GlobSetBuilder::new();
        for pattern in patterns {
            let trimmed = pattern.trim_start_matches("./");
            let glob = globset::GlobBuilder::new(trimmed.trim_start_matches('/'))
                .literal_separator(true)
                .build()
                .map_err(|e| format!("exclude: `{pattern}` is not a valid glob: {}", e.kind()))?;
            if trimmed.contains('/') {
                with_folders.add(glob);
            } else {
                names.add(glob);
            }
        }
        let build = |b: globset::GlobSetBuilder| b.build().map_err(|e| e.to_string());
        Ok(PathFilter {
            base: base.canonicalize().unwrap_or_else(|_| base.to_path_buf()),
            with_folders: build(with_folders)?,
            names: build(names)?,
            empty: patterns.is_empty(),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.empty
    }

    /// Whether `path` (relative to the current folder, or absolute) matches.
    pub fn matches(&self, path: &Path) -> bool {
        if self.empty {
            return false;
        }
        if path
            .file_name()
            .is_some_and(|name| self.names.is_match(Path::new(name)))
        {
            return true;
        }
        let absolute = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        let relative = absolute.strip_prefix(&self.base).unwrap_or(path);
        let text = relative.to_string_lossy().replace('\\', "/");
        self.with_folders.is_match(Path::new(&text))
            || self
                .with_folders
                .is_match(Path::new(path.to_string_lossy().trim_start_matches("./")))
    }
}

fn find_upward(start: &Path) -> Option<PathBuf> {
    let start = start.canonicalize().ok()?;
    let mut dir = Some(start.as_path());
    while let Some(d) = dir {
        let candidate = d.join(FILE_NAME);
        if candidate.is_file() {
            // Keep it relative to the current folder when it is the current
            // folder's own file, so messages stay short.
            return Some(candidate);
        }
        dir = d.parent();
    }
    None
}

/// The 1-based line and column of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, column)
}

/// The dotted key whose value holds byte `offset` (`rollout.bake`), and
/// whether the offset is on the key itself rather than on its value.
fn key_at(text: &str, offset: usize) -> Option<(String, bool)> {
    fn walk(
        table: &dyn toml_edit::TableLike,
        offset: usize,
        prefix: &str,
    ) -> Option<(String, bool)> {
        for (name, _) in table.iter() {
            let Some((key, item)) = table.get_key_value(name) else {
                continue;
            };
            let dotted = if prefix.is_empty() {
                name.to_string()
            } else {
                format!("{prefix}.{name}")
            };
            if key.span().is_some_and(|s| s.contains(&offset)) {
                return Some((dotted, true));
            }
            if let Some(inner) = item.as_table_like()
                && let Some(found) = walk(inner, offset, &dotted)
            {
                return Some(found);
            }
            if item.span().is_some_and(|s| s.contains(&offset)) {
                return Some((dotted, false));
            }
        }
        None
    }
    let document = toml_edit::Document::parse(text).ok()?;
    walk(document.as_table(), offset, "")
}

/// Parses the file's text; errors name the file, line, column and key.
pub fn parse(text: &str, path: &Path) -> Result<ConfigFile> {
    let file = toml::from_str::<ConfigFile>(text).map_err(|e| {
        let mut message = e.message().trim_end().to_string();
        let (line, column) = match e.span() {
            Some(span) => {
                if let Some((key, false)) = key_at(text, span.start) {
                    message = format!("`{key}`: {message}");
                }
                let (line, column) = line_column(text, span.start);
                (Some(line), Some(column))
            }
            None => (None, None),
        };
        Error::Config {
            path: path.to_path_buf(),
            line,
            column,
            message,
        }
    })?;
    check_rule_ids(&file, text, path)?;
    Ok(file)
}

/// Every key of `[rules]` must name a rule.
fn check_rule_ids(file: &ConfigFile, text: &str, path: &Path) -> Result<()> {
    let Some(id) = file
        .rules
        .keys()
        .find(|id| crate::lint::find_rule(id).is_none())
    else {
        return Ok(());
    };
    let place = toml_edit::Document::parse(text).ok().and_then(|doc| {
        let rules = doc.as_table().get("rules")?.as_table_like()?;
        let (key, _) = rules.get_key_value(id)?;
        key.span().map(|s| line_column(text, s.start))
    });
    Err(Error::Config {
        path: path.to_path_buf(),
        line: place.map(|p| p.0),
        column: place.map(|p| p.1),
        message: format!(
            "[rules] names `{id}`, which is not a straddle rule (`straddle rules` lists them)"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclude_globs_match_like_gitignore() {
        let filter = PathFilter::new(
            Path::new("/nowhere"),
            &["db/legacy/*".to_string(), "*_seed.up.sql".to_string()],
        )
        .unwrap();
        assert!(filter.matches(Path::new("db/legacy/0001_a.up.sql")));
        assert!(filter.matches(Path::new("./db/legacy/0001_a.up.sql")));
        assert!(!filter.matches(Path::new("db/legacy/sub/0001_a.up.sql")));
        assert!(filter.matches(Path::new("anywhere/0002_seed.up.sql")));
        assert!(!filter.matches(Path::new("db/0003_b.up.sql")));
        assert!(PathFilter::new(Path::new("."), &["a[".to_string()]).is_err());
    }

    #[test]
    fn server_versions() {
        assert_eq!(parse_server_version("16"), Some(16));
        assert_eq!(parse_server_version("9.6"), Some(9));
        assert_eq!(parse_server_version("8.0.36"), Some(8));
        assert_eq!(parse_server_version("PostgreSQL 15"), Some(15));
        assert_eq!(parse_server_version("fifteen"), None);
        assert_eq!(parse_server_version("0"), None);
        assert_eq!(parse_server_version("15."), None);
    }

    #[test]
    fn unknown_key_names_key_and_place() {
        let err = parse(
            "dialect = \"postgres\"\nfrobnicate = 1\n",
            Path::new("straddle.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("straddle.toml:2:1:"), "{err}");
        assert!(err.contains("frobnicate"), "{err}");
        let err = parse("dialect = \"oracle\"\n", Path::new("s.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("oracle"), "{err}");
    }
}
