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
    let wanted = args.rule.trim().to_ascii_lowercase().replace('_', "-");
    let Some(rule) = find_rule(&wanted) else {
        let close = suggestions(&wanted);
        let hint = if close.is_empty() {
            "run `straddle rules` for the list".to_string()
        } else {
            format!(
                "did you mean {}? (`straddle rules` lists them all)",
                close
                    .iter()
                    .map(|id| format!("`{id}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
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

/// Edit distance between two ids (insertions, deletions, substitutions).
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

/// Rule ids close to `wanted`: a few typos away, containing it, or sharing a
/// meaningful word with it; the closest first, at most five.
fn suggestions(wanted: &str) -> Vec<&'static str> {
    let words: Vec<&str> = wanted.split('-').filter(|w| w.len() > 3).collect();
    let mut close: Vec<(usize, &'static str)> = all_rules()
        .iter()
        .map(|r| r.meta().id)
        .filter_map(|id| {
            let d = distance(wanted, id);
            let typo = d <= (id.len() / 3).max(2);
            let contains = wanted.len() > 2 && (id.contains(wanted) || wanted.contains(id));
            let shares = words.iter().any(|w| id.split('-').any(|part| part == *w));
            (typo || contains || shares).then_some((d, id))
        })
        .collect();
    close.sort();
    close.into_iter().take(5).map(|(_, id)| id).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_counts_edits() {
        assert_eq!(distance("drop-table", "drop-table"), 0);
        assert_eq!(distance("drop-tabel", "drop-table"), 2);
        assert_eq!(distance("drop-tab", "drop-table"), 2);
        assert_eq!(distance("", "abc"), 3);
    }

    #[test]
    fn suggests_close_ids() {
        assert_eq!(suggestions("drop-tabel").first(), Some(&"drop-table"));
        assert!(suggestions("table").contains(&"drop-table"));
        assert!(suggestions("zzzzzzzzzzzzzzzz").is_empty());
    }
}
