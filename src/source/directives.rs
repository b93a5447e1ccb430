//! Directives: `-- straddle: …` comments that tell straddle about a migration.
//!
//! In the leading comment block of an up file:
//! ```sql
//! -- straddle: expand
//! -- straddle: contract 20240102120000
//! -- straddle:allow-file rule-id[, rule-id] -- reason
//! ```
//! and next to a statement:
//! ```sql
//! -- straddle:allow rule-id[, rule-id] -- reason
//! ```
//! sqlx's `-- no-transaction` must be the very first line when used.

use super::Version;
use crate::finding::Position;

/// The phase an up file declares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Phase {
    Expand,
    /// A contract completes the expand with this version.
    Contract {
        expand: Version,
    },
}

/// One `straddle:allow` or `straddle:allow-file` comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allow {
    /// Rule ids, as written (lower case expected).
    pub rules: Vec<String>,
    /// The text after the second `--`; `None` when missing or blank.
    pub reason: Option<String>,
    /// Where the comment starts.
    pub at: Position,
}

/// What the leading comments of an up file say.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Directives {
    pub phase: Option<Phase>,
    pub phase_at: Option<Position>,
    pub allow_file: Vec<Allow>,
    /// `-- no-transaction` as the first line.
    pub no_transaction: bool,
    /// Malformed directives: where, and what is wrong.
    pub problems: Vec<(Position, String)>,
}

/// What one comment holds, if it is a straddle directive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Directive {
    Phase(Phase),
    Allow(Allow),
    AllowFile(Allow),
}

/// Parses the text of one comment (without its `--`). Returns `None` when the
/// comment is not a straddle directive at all, `Some(Err(..))` when it is one
/// but malformed.
pub fn parse_comment(comment: &str, at: Position) -> Option<Result<Directive, String>> {
    let body = comment.trim();
    let rest = body.strip_prefix("straddle")?;
    let rest = rest.trim_start();
    let rest = rest.strip_prefix(':')?.trim_start();
    Some(parse_body(rest, at))
}

fn parse_body(rest: &str, at: Position) -> Result<Directive, String> {
    let (word, args) = match rest.find(char::is_whitespace) {
        Some(i) => (&rest[..i], rest[i..].trim()),
        None => (rest, ""),
    };
    match word {
        "expand" => {
            if args.is_empty() {
                Ok(Directive::Phase(Phase::Expand))
            } else {
                Err(format!(
                    "`straddle: expand` takes no argument, found `{args}`"
                ))
            }
        }
        "contract" => {
            let version = args.split_whitespace().next().unwrap_or("");
            if version.is_empty() {
                return Err(
                    "`straddle: contract` needs the version of the expand it completes, \
                     e.g. `-- straddle: contract 20240102120000`"
                        .into(),
                );
            }
            Version::parse(version)
                .map(|expand| Directive::Phase(Phase::Contract { expand }))
                .ok_or_else(|| format!("`{version}` is not a migration version"))
        }
        "allow" | "allow-file" => {
            let (list, reason) = match args.find("--") {
                Some(i) => (&args[..i], Some(args[i + 2..].trim())),
                None => (args, None),
            };
            let rules: Vec<String> = list
                .split(',')
                .map(|r| r.trim().to_string())
                .filter(|r| !r.is_empty())
                .collect();
            if rules.is_empty() {
                return Err(format!(
                    "`straddle:{word}` needs at least one rule id, \
                     e.g. `-- straddle:{word} drop-column -- copied to archive in 20240101`"
                ));
            }
            let allow = Allow {
                rules,
                reason: reason.filter(|r| !r.is_empty()).map(str::to_string),
                at,
            };
            Ok(if word == "allow" {
                Directive::Allow(allow)
            } else {
                Directive::AllowFile(allow)
            })
        }
        other => Err(format!(
            "unknown directive `straddle: {other}`: expected `expand`, `contract <version>`, \
             `allow <rules> -- <reason>` or `allow-file <rules> -- <reason>`"
        )),
    }
}

/// Reads the directives in the leading comment block of an up file: the
/// comment lines (and blank lines) before the first statement.
pub fn parse_leading(text: &str) -> Directives {
    let mut directives = Directives::default();
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut in_block = false;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        let trimmed = line.trim();
        if in_block {
            if let Some(end) = trimmed.find("*/") {
                in_block = false;
                if !trimmed[end + 2..].trim().is_empty() {
                    break;
                }
            }
            continue;
        }
        if trimmed.is_empty() {
            continue;
        }
        if let Some(body) = trimmed.strip_prefix("/*") {
            in_block = !body.contains("*/");
            continue;
        }
        let Some(comment) = trimmed.strip_prefix("--") else {
            break;
        };
        if number == 1 && comment.trim() == "no-transaction" {
            directives.no_transaction = true;
            continue;
        }
        let column = line.len() - line.trim_start().len() + 1;
        let at = Position::new(number, column);
        match parse_comment(comment, at) {
            None => {}
            Some(Err(problem)) => directives.problems.push((at, problem)),
            Some(Ok(Directive::Phase(phase))) => {
                if directives.phase.is_some() {
                    directives
                        .problems
                        .push((at, "a second phase directive; keep one".into()));
                } else {
                    directives.phase = Some(phase);
                    directives.phase_at = Some(at);
                }
            }
            Some(Ok(Directive::AllowFile(allow))) => directives.allow_file.push(allow),
            // A statement-level allow in the leading block applies to the
            // first statement; the linter reads those from the comments.
            Some(Ok(Directive::Allow(_))) => {}
        }
    }
    directives
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_phase_allow_file_and_no_transaction() {
        let text = "-- no-transaction\n-- straddle: contract 20240102\n-- straddle:allow-file drop-column, drop-table -- archived in 20240101\nDROP TABLE t;\n-- straddle: expand\n";
        let d = parse_leading(text);
        assert!(d.no_transaction);
        assert_eq!(
            d.phase,
            Some(Phase::Contract {
                expand: Version::parse("20240102").unwrap()
            })
        );
        assert_eq!(d.allow_file.len(), 1);
        assert_eq!(d.allow_file[0].rules, ["drop-column", "drop-table"]);
        assert_eq!(
            d.allow_file[0].reason.as_deref(),
            Some("archived in 20240101")
        );
        assert!(d.problems.is_empty());
    }

    #[test]
    fn no_transaction_only_on_first_line_and_problems_are_kept() {
        let d =
            parse_leading("\n-- no-transaction\n-- straddle: contract\n-- straddle: frobnicate\n");
        assert!(!d.no_transaction);
        assert_eq!(d.problems.len(), 2);
        assert_eq!(d.problems[0].0, Position::new(3, 1));
    }

    #[test]
    fn allow_without_reason_is_kept_with_none() {
        match parse_comment(" straddle:allow drop-table", Position::new(1, 1)) {
            Some(Ok(Directive::Allow(a))) => assert_eq!(a.reason, None),
            other => panic!("{other:?}"),
        }
        assert!(parse_comment(" just a comment", Position::new(1, 1)).is_none());
    }
}
