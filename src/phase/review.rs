//! The phase review of one migration, after its rules ran and its allows
//! were applied:
//! * in a contract, backward-incompatible findings are dropped: the contract
//!   runs once no instance of the old version is left, which is the point of
//!   having one (data-loss findings stay: they need an allow with a reason);
//! * in a declared expand, a breaking or irrevocable statement is a
//!   `breaking-change-in-expand` finding;
//! * in an undeclared migration, it is an `undeclared-breaking-migration`
//!   finding that names the statements and says how to split them.

use crate::finding::{Category, Finding};
use crate::lint::context::make_finding;
use crate::lint::rules;
use crate::source::{Migration, Phase};

fn breaking(finding: &Finding) -> bool {
    matches!(
        finding.category,
        Category::BackwardIncompatible | Category::DataLoss
    )
}

/// Reviews `findings` (those of `migration`, already suppressed) in place.
pub fn review(migration: &Migration, findings: &mut Vec<Finding>) {
    let up = &migration.up.path;
    match &migration.directives.phase {
        Some(Phase::Contract { .. }) => {
            findings.retain(|f| !(f.category == Category::BackwardIncompatible && &f.file == up));
        }
        Some(Phase::Expand) => {
            let extra: Vec<Finding> = findings
                .iter()
                .filter(|f| breaking(f) && &f.file == up)
                .map(|f| {
                    make_finding(
                        &rules::breaking_change_in_expand::BreakingChangeInExpand,
                        up,
                        f.position(),
                        f.end,
                        format!(
                            "this expand holds a {} statement ({}): an expand must leave the running version working",
                            f.category, f.rule
                        ),
                        format!(
                            "move the statement to a contract migration that starts with \
                             `-- straddle: contract {}` and runs after the rollout",
                            migration.version
                        ),
                    )
                })
                .collect();
            findings.extend(extra);
        }
        None => {
            let mut culprits: Vec<&Finding> = findings
                .iter()
                .filter(|f| breaking(f) && &f.file == up)
                .collect();
            culprits.sort_by_key(|f| (f.line, f.column));
            culprits.dedup_by_key(|f| (f.line, f.column));
            let Some(first) = culprits.first() else {
                return;
            };
            let places: Vec<String> = culprits
                .iter()
                .map(|f| format!("line {} ({})", f.line, f.rule))
                .collect();
            let finding = make_finding(
                &rules::undeclared_breaking_migration::UndeclaredBreakingMigration,
                up,
                first.position(),
                first.end,
                format!(
                    "this migration declares no phase and breaks the running version at {}",
                    places.join(", ")
                ),
                format!(
                    "split it: keep the additive statements in this migration under \
                     `-- straddle: expand`, and move the statements at {} to a new migration \
                     that starts with `-- straddle: contract {}` and runs after the rollout",
                    places.join(", "),
                    migration.version
                ),
            );
            findings.push(finding);
        }
    }
}
