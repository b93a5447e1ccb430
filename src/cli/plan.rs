//! `straddle plan [DIR]`: the expand/contract pairs of a folder, from its files.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::phase::pairs::{Role, roles};
use crate::source::{MigrationSet, discover};

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The migrations folder (default: from straddle.toml, else ./migrations).
    pub dir: Option<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = PlanFormat::Human)]
    pub format: PlanFormat,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum PlanFormat {
    Human,
    Json,
}

#[derive(Serialize)]
struct Entry<'a> {
    version: &'a str,
    name: &'a str,
    #[serde(flatten)]
    role: &'a Role,
}

#[derive(Serialize)]
struct Pair<'a> {
    expand: &'a str,
    contract: Option<&'a str>,
}

#[derive(Serialize)]
struct Plan<'a> {
    migrations: Vec<Entry<'a>>,
    pairs: Vec<Pair<'a>>,
}

/// (version, name, role) of every migration.
type Entries = Vec<(String, String, Role)>;
/// (expand version, contract version) of every declared expand.
type Pairs = Vec<(String, Option<String>)>;

fn build(set: &MigrationSet) -> (Entries, Pairs) {
    let roles = roles(set);
    let pairs = roles
        .iter()
        .filter_map(|(m, role)| match role {
            Role::Expand { contract } => Some((m.version.to_string(), contract.clone())),
            _ => None,
        })
        .collect();
    let entries = roles
        .into_iter()
        .map(|(m, role)| (m.version.to_string(), m.name.clone(), role))
        .collect();
    (entries, pairs)
}

pub fn run(args: PlanArgs, config: &Config) -> Result<u8> {
    let dir = args.dir.unwrap_or_else(|| config.migrations_dir());
    let set = discover(&dir)?;
    let (entries, pairs) = build(&set);
    let mut out = anstream::stdout();
    let io = |e| Error::io("<stdout>", e);
    if args.format == PlanFormat::Json {
        let plan = Plan {
            migrations: entries
                .iter()
                .map(|(version, name, role)| Entry {
                    version,
                    name,
                    role,
                })
                .collect(),
            pairs: pairs
                .iter()
                .map(|(expand, contract)| Pair {
                    expand,
                    contract: contract.as_deref(),
                })
                .collect(),
        };
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&plan).expect("json")
        )
        .map_err(io)?;
        return Ok(super::EXIT_OK);
    }
    let name_of = |version: &str| {
        entries
            .iter()
            .find(|(v, _, _)| v == version)
            .map(|(v, n, _)| format!("{v} {n}"))
            .unwrap_or_else(|| format!("{version} (missing)"))
    };
    writeln!(out, "Pairs (expand → contract):").map_err(io)?;
    if pairs.is_empty() {
        writeln!(out, "  none: no migration declares `-- straddle: expand`").map_err(io)?;
    }
    let width = pairs
        .iter()
        .map(|(expand, _)| name_of(expand).chars().count())
        .max()
        .unwrap_or(0);
    for (expand, contract) in &pairs {
        let right = match contract {
            Some(c) => name_of(c),
            None => "no contract yet".to_string(),
        };
        writeln!(out, "  {:<width$}  →  {right}", name_of(expand)).map_err(io)?;
    }
    let orphans: Vec<_> = entries
        .iter()
        .filter(|(v, _, role)| match role {
            Role::Contract { expand } => !pairs
                .iter()
                .any(|(e, c)| e == expand && c.as_deref() == Some(v.as_str())),
            _ => false,
        })
        .collect();
    if !orphans.is_empty() {
        writeln!(out, "\nContracts that pair with no expand (a wrong version, or a second contract; see `straddle lint`):").map_err(io)?;
        for (version, name, role) in orphans {
            if let Role::Contract { expand } = role {
                writeln!(out, "  {version} {name}  (names {expand})").map_err(io)?;
            }
        }
    }
    let neither: Vec<_> = entries
        .iter()
        .filter(|(_, _, role)| *role == Role::Undeclared)
        .collect();
    if !neither.is_empty() {
        writeln!(
            out,
            "\nNeither expand nor contract (no phase declared; they run as expands):"
        )
        .map_err(io)?;
        for (version, name, _) in neither {
            writeln!(out, "  {version} {name}").map_err(io)?;
        }
    }
    Ok(super::EXIT_OK)
}
