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
    /// The migrations folder, relative to the file.
    pub migrations: Option<PathBuf>,
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
}

/// `[database]`
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSection {
    /// Used when neither `--database-url`, `DATABASE_URL` nor `.env` names one.
    pub url: Option<String>,
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

    /// The migrations folder: the configured one (relative to the file), else
    /// `./migrations`.
    pub fn migrations_dir(&self) -> PathBuf {
        match (&self.file.migrations, self.base_dir()) {
            (Some(dir), Some(base)) if dir.is_relative() && base != Path::new("") => base.join(dir),
            (Some(dir), _) => dir.clone(),
            (None, _) => PathBuf::from("migrations"),
        }
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

/// Parses the file's text; errors name the file, line, column and key.
pub fn parse(text: &str, path: &Path) -> Result<ConfigFile> {
    toml::from_str::<ConfigFile>(text).map_err(|e| {
        let (line, column) = match e.span() {
            Some(span) => {
                let before = &text[..span.start.min(text.len())];
                let line = before.matches('\n').count() + 1;
                let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
                (Some(line), Some(column))
            }
            None => (None, None),
        };
        Error::Config {
            path: path.to_path_buf(),
            line,
            column,
            message: e.message().to_string(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
