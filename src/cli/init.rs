//! `straddle init`: writes a commented default `straddle.toml`.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;

use crate::config::FILE_NAME;
use crate::dialect::Dialect;
use crate::error::{Error, Result};

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The migrations folder, relative to the new file (default: migrations).
    #[arg(long, value_name = "DIR")]
    pub migrations: Option<PathBuf>,

    /// SQL dialect (default: postgres).
    #[arg(long, value_name = "DIALECT")]
    pub dialect: Option<Dialect>,
}

/// The file `straddle init` writes. Every key but the first two is
/// commented out at its default value.
const TEMPLATE: &str = r#"# straddle.toml: straddle's configuration, found by searching upward from
# the current folder (or named with --config). Paths are relative to this
# file. Command-line flags override what is set here. Unknown keys and bad
# values are errors that name the key, this file and the line.

# The migrations folder, or a list of folders, each linted on its own:
# migrations = ["db/main", "db/audit"]
migrations = "{migrations}"

# The SQL dialect: "postgres", "mysql" or "sqlite".
dialect = "{dialect}"

[database]
# The server's major version. Some verdicts depend on it: before PostgreSQL
# 11 any column default rewrites the table, before 12 a validated CHECK does
# not spare SET NOT NULL its scan. Unset means a current server.
# version = "16"
# The database `straddle migrate` works on, when neither --database-url,
# DATABASE_URL nor a .env file names one.
# url = "postgres://localhost/app"

[lint]
# Adoption on an old history: migrations up to this version are replayed to
# build the schema model but not reported. `straddle baseline` sets it to the
# newest migration.
# baseline = "20240101120000"
# Globs (relative to this file): matching migrations are replayed, not reported.
# exclude = ["migrations/legacy/**"]
# What applies the migrations: "straddle", "sqlx" or "diesel".
# runner = "straddle"
# Every migration runs under a lock timeout set by the runner.
# assume_lock_timeout = false

[rules]
# A rule's severity: "error", "warning" or "off" (`straddle rules` lists them).
# lock-timeout-missing = "error"

[runner]
# Timeouts and retries of `straddle migrate`; durations such as "2s", "1m 30s".
# lock_timeout = "2s"
# statement_timeout = "0s"
# lock_retries = 5
# retry_backoff = "500ms"
# retry_backoff_max = "30s"
# wait_for_runner = "60s"

[rollout]
# The rollout between `migrate expand` and `migrate contract`.
# How long a completed rollout bakes before a contract may run.
# bake = "60m"
# The application_name of the app's PostgreSQL sessions, with {version}.
# application_name = "shop@{version}"
# Heartbeat rows older than this are ignored.
# heartbeat_stale = "5m"
# A command that must exit 0 before a contract runs.
# check_command = "kubectl rollout status deployment/shop"
# Health check after applying a phase, and when to roll back automatically.
# health_cmd = "curl -fsS https://shop.example/health"
# health_watch = "10m"
# health_interval = "15s"
# health_failures = 3
"#;

/// The default configuration text for a folder and a dialect.
pub fn default_config(migrations: &Path, dialect: Dialect) -> String {
    let folder = migrations
        .to_string_lossy()
        .replace('\\', "/")
        .replace('"', "\\\"");
    TEMPLATE
        .replace("{migrations}", &folder)
        .replace("{dialect}", dialect.name())
}

/// Writes the file to `path` (default `./straddle.toml`); refuses to replace
/// one that exists.
pub fn run(args: InitArgs, path: Option<&Path>) -> Result<u8> {
    let path = path.map_or_else(|| PathBuf::from(FILE_NAME), Path::to_path_buf);
    let migrations = args
        .migrations
        .unwrap_or_else(|| PathBuf::from("migrations"));
    let text = default_config(&migrations, args.dialect.unwrap_or_default());
    let mut file = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(Error::usage(format!(
                "{} already exists; straddle init does not overwrite it (edit it, or remove it first)",
                path.display()
            )));
        }
        Err(e) => return Err(Error::io(&path, e)),
    };
    file.write_all(text.as_bytes())
        .map_err(|e| Error::io(&path, e))?;
    let mut out = anstream::stdout();
    let _ = writeln!(
        out,
        "wrote {} (migrations in {}); `straddle lint` uses it from this folder and below",
        path.display(),
        migrations.display()
    );
    Ok(super::EXIT_OK)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::parse;

    #[test]
    fn the_default_parses() {
        let text = default_config(Path::new("db/migrations"), Dialect::Mysql);
        let file = parse(&text, Path::new("straddle.toml")).unwrap();
        assert_eq!(file.migrations, vec![PathBuf::from("db/migrations")]);
        assert_eq!(file.dialect, Some(Dialect::Mysql));
    }

    /// Every key shown commented out is a real key with a valid value.
    #[test]
    fn every_commented_key_is_valid() {
        let text = default_config(Path::new("migrations"), Dialect::Postgres);
        let mut seen_list = false;
        let uncommented: String = text
            .lines()
            .map(|line| {
                let Some(rest) = line.strip_prefix("# ") else {
                    return line.to_string();
                };
                let is_key = rest
                    .split_once(" = ")
                    .is_some_and(|(k, _)| !k.is_empty() && !k.contains(' '));
                // The list form of `migrations` would repeat the key.
                if rest.starts_with("migrations = [") {
                    seen_list = true;
                    return line.to_string();
                }
                if is_key {
                    rest.to_string()
                } else {
                    line.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        assert!(seen_list);
        let file = parse(&uncommented, Path::new("straddle.toml"))
            .unwrap_or_else(|e| panic!("{e}\n{uncommented}"));
        assert_eq!(file.database.version, Some(16));
        assert_eq!(file.lint.baseline.as_deref(), Some("20240101120000"));
        assert_eq!(file.rollout.bake, std::time::Duration::from_secs(3600));
        assert_eq!(file.rollout.health_failures, 3);
    }
}
