//! Suppressions: `-- straddle:allow rule -- reason` next to a statement and
//! `-- straddle:allow-file rule -- reason` in the leading comments. An allow
//! without a reason, one that names an unknown rule, and one that suppresses
//! nothing are findings themselves.

use std::path::{Path, PathBuf};

use super::context::make_finding;
use super::{find_rule, rules};
use crate::finding::{Finding, Position};
use crate::source::{Allow, Directive, Migration, parse_comment};
use crate::sql::SqlFile;

/// One allow and the lines it covers.
struct Scope {
    allow: Allow,
    file: PathBuf,
    /// Inclusive line range covered; `None` for a whole-migration allow.
    lines: Option<(usize, usize)>,
    used: bool,
}

impl Scope {
    fn covers(&self, finding: &Finding) -> bool {
        if !self.allow.rules.iter().any(|r| r == finding.rule) {
            return false;
        }
        match self.lines {
            None => true,
            Some((first, last)) => {
                finding.file == self.file && (first..=last).contains(&finding.line)
            }
        }
    }
}

/// Collects the statement-level allows of one file; malformed directives go
/// to `problems`, reported as `invalid-directive` findings.
fn inline_scopes(
    path: &Path,
    file: &SqlFile,
    scopes: &mut Vec<Scope>,
    problems: &mut Vec<(PathBuf, Position, String)>,
) {
    for comment in &file.comments {
        if !comment.line_comment {
            continue;
        }
        let at = comment.span.start;
        // The leading block (before the first statement) is read by `source`,
        // which reports its problems; statement-level allows there still count.
        let leading = file.statements.first().is_none_or(|s| at < s.span.start);
        let allow = match parse_comment(&comment.text, at) {
            Some(Ok(Directive::Allow(allow))) => allow,
            None => continue,
            Some(Ok(_)) if leading => continue,
            Some(Ok(_)) => {
                problems.push((
                    path.to_path_buf(),
                    at,
                    "phase and allow-file directives must stand in the leading comments, \
                     before the first statement"
                        .into(),
                ));
                continue;
            }
            Some(Err(problem)) => {
                if !leading {
                    problems.push((path.to_path_buf(), at, problem));
                }
                continue;
            }
        };
        // A trailing comment belongs to the statement it ends; otherwise the
        // allow covers the next statement.
        let trailing = file.statements.iter().find(|s| {
            s.span.end.line == at.line && s.span.end <= at && s.span.start.line <= at.line
        });
        let target = trailing.or_else(|| file.statements.iter().find(|s| s.span.start > at));
        let lines = match target {
            Some(s) => (s.span.start.line.min(at.line), s.span.end.line),
            None => (at.line, at.line),
        };
        scopes.push(Scope {
            allow,
            file: path.to_path_buf(),
            lines: Some(lines),
            used: false,
        });
    }
}

/// Removes the findings that an allow covers and adds findings about the
/// allows themselves.
pub(crate) fn apply(
    migration: &Migration,
    up: &SqlFile,
    down: Option<&SqlFile>,
    findings: &mut Vec<Finding>,
) {
    let mut scopes = Vec::new();
    let mut problems = Vec::new();
    inline_scopes(&migration.up.path, up, &mut scopes, &mut problems);
    if let (Some(down_file), Some(down)) = (&migration.down, down) {
        inline_scopes(&down_file.path, down, &mut scopes, &mut problems);
    }
    for allow in &migration.directives.allow_file {
        scopes.push(Scope {
            allow: allow.clone(),
            file: migration.up.path.clone(),
            lines: None,
            used: false,
        });
    }
    for (at, problem) in &migration.directives.problems {
        problems.push((migration.up.path.clone(), *at, problem.clone()));
    }

    findings.retain(|finding| {
        let mut suppressed = false;
        for scope in scopes.iter_mut() {
            if scope.covers(finding) {
                scope.used = true;
                suppressed = true;
            }
        }
        !suppressed
    });

    let invalid = &rules::invalid_directive::InvalidDirective;
    for (path, at, problem) in problems {
        findings.push(make_finding(
            invalid,
            &path,
            at,
            None,
            problem,
            "write directives as `-- straddle: expand`, `-- straddle: contract <version>`, \
             `-- straddle:allow <rule>[, <rule>] -- <reason>` or \
             `-- straddle:allow-file <rule> -- <reason>`"
                .into(),
        ));
    }

    let without_reason = &rules::allow_without_reason::AllowWithoutReason;
    let unused = &rules::unused_allow::UnusedAllow;
    for scope in &scopes {
        let names = scope.allow.rules.join(", ");
        if scope.allow.reason.is_none() {
            findings.push(make_finding(
                without_reason,
                &scope.file,
                scope.allow.at,
                None,
                format!("`straddle:allow {names}` gives no reason"),
                format!(
                    "say why it is safe after a second `--`: \
                     `-- straddle:allow {names} -- <why this is safe here>`"
                ),
            ));
        }
        for rule in &scope.allow.rules {
            if find_rule(rule).is_none() {
                findings.push(make_finding(
                    unused,
                    &scope.file,
                    scope.allow.at,
                    None,
                    format!("`{rule}` is not a straddle rule"),
                    "run `straddle rules` for the list of rule ids".into(),
                ));
            }
        }
        if !scope.used && scope.allow.rules.iter().all(|r| find_rule(r).is_some()) {
            let place = if scope.lines.is_some() {
                "the statement it stands next to"
            } else {
                "this migration"
            };
            findings.push(make_finding(
                unused,
                &scope.file,
                scope.allow.at,
                None,
                format!("`straddle:allow {names}` suppresses nothing: no such finding in {place}"),
                "remove the allow, or move it onto the line of the statement (or the line above)"
                    .into(),
            ));
        }
    }
}
