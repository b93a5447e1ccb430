//! `straddle explain RULE`

use std::io::Write;

use clap::Args;

use crate::error::Error;
use crate::lint::{all_rules, find_rule, rule_doc};

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The rule id, as printed by `straddle rules` and in findings.
    pub rule: String,
}

pub fn run(args: ExplainArgs) -> Result<u8, Error> {
    let Some(rule) = find_rule(&args.rule) else {
        let close: Vec<&str> = all_rules()
            .iter()
            .map(|r| r.meta().id)
            .filter(|id| {
                id.contains(args.rule.as_str())
                    || args
                        .rule
                        .split('-')
                        .any(|part| part.len() > 2 && id.contains(part))
            })
            .collect();
        let hint = if close.is_empty() {
            "run `straddle rules` for the list".to_string()
        } else {
            format!("did you mean {}?", close.join(", "))
        };
        return Err(Error::usage(format!("no rule `{}`: {hint}", args.rule)));
    };
    let meta = rule.meta();
    let doc = rule_doc(meta.id).unwrap_or("");
    let mut out = anstream::stdout();
    writeln!(
        out,
        "{doc}\n\ncategory: {}   default severity: {}",
        meta.category, meta.severity
    )
    .map_err(|e| Error::io("<stdout>", e))?;
    Ok(super::EXIT_OK)
}
