//! `straddle rules`

use std::io::Write;

use clap::Args;

use crate::error::Error;
use crate::lint::all_rules;

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: RulesArgs) -> Result<u8, Error> {
    let mut out = anstream::stdout();
    let write_err = |e| Error::io("<stdout>", e);
    if args.json {
        let rules: Vec<serde_json::Value> = all_rules()
            .iter()
            .map(|r| {
                let m = r.meta();
                serde_json::json!({
                    "id": m.id,
                    "category": m.category,
                    "severity": m.severity,
                    "summary": m.summary,
                    "dialects": m.dialects.iter().map(|d| d.name()).collect::<Vec<_>>(),
                })
            })
            .collect();
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&rules).expect("json")
        )
        .map_err(write_err)?;
        return Ok(super::EXIT_OK);
    }
    let width = all_rules()
        .iter()
        .map(|r| r.meta().id.len())
        .max()
        .unwrap_or(0);
    for rule in all_rules() {
        let m = rule.meta();
        let dialects = if m.dialects.is_empty() {
            String::new()
        } else {
            format!(
                " [{}]",
                m.dialects
                    .iter()
                    .map(|d| d.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        writeln!(
            out,
            "{:<width$}  {:<21}  {:<7}  {}{}",
            m.id,
            m.category.name(),
            m.severity.name(),
            m.summary,
            dialects,
        )
        .map_err(write_err)?;
    }
    Ok(super::EXIT_OK)
}
