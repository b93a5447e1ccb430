//! Pairing expands with their contracts across a folder.

use serde::Serialize;

use crate::finding::{Finding, Position};
use crate::lint::context::make_finding;
use crate::lint::rules;
use crate::source::{Migration, MigrationSet, Phase};

/// One migration's place in the expand/contract scheme.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Role {
    /// A declared expand, with the version of its contract if there is one
    /// (the first later migration that names it).
    Expand { contract: Option<String> },
    /// A contract of the expand with this version.
    Contract { expand: String },
    /// No phase declared: treated as an expand when running.
    Undeclared,
}

/// Every migration's role, in version order.
pub fn roles(set: &MigrationSet) -> Vec<(&Migration, Role)> {
    set.migrations
        .iter()
        .map(|m| {
            let role = match &m.directives.phase {
                Some(Phase::Contract { expand }) => Role::Contract {
                    expand: expand.to_string(),
                },
                Some(Phase::Expand) => Role::Expand {
                    contract: set
                        .migrations
                        .iter()
                        .find(|c| {
                            matches!(&c.directives.phase,
                                Some(Phase::Contract { expand }) if *expand == m.version)
                                && c.version > m.version
                        })
                        .map(|c| c.version.to_string()),
                },
                None => Role::Undeclared,
            };
            (m, role)
        })
        .collect()
}

/// Checks the pairing rules; `reported` says which migrations' findings are
/// wanted.
pub fn check(set: &MigrationSet, reported: &dyn Fn(&Migration) -> bool) -> Vec<Finding> {
    let mut findings = Vec::new();
    for contract in &set.migrations {
        let Some(Phase::Contract { expand }) = &contract.directives.phase else {
            continue;
        };
        if !reported(contract) {
            continue;
        }
        let at = contract.directives.phase_at.unwrap_or(Position::new(1, 1));
        let path = &contract.up.path;
        let unknown = &rules::contract_without_expand::ContractWithoutExpand;
        let problem = if *expand == contract.version {
            Some(format!(
                "this contract names itself ({expand}) as its expand; a contract and its expand are two migrations"
            ))
        } else {
            match set.find(expand) {
                None => Some(format!(
                    "this contract completes expand {expand}, but there is no migration {expand} in {}",
                    set.dir.display()
                )),
                Some(target) if target.version > contract.version => Some(format!(
                    "this contract completes expand {expand}, which comes after it; the expand must run first"
                )),
                Some(target) => match &target.directives.phase {
                    Some(Phase::Contract { .. }) => Some(format!(
                        "this contract completes {expand}, which is itself a contract; name the expand it pairs with"
                    )),
                    None => Some(format!(
                        "this contract completes {expand}, which declares no phase; add `-- straddle: expand` to it"
                    )),
                    Some(Phase::Expand) => None,
                },
            }
        };
        if let Some(message) = problem {
            findings.push(make_finding(
                unknown,
                path,
                at,
                None,
                message,
                "write `-- straddle: contract <version>` with the version of the earlier expand \
                 migration whose temporary shape this contract removes"
                    .into(),
            ));
            continue;
        }
        let earlier_twin = set.migrations.iter().find(|other| {
            other.version < contract.version
                && matches!(&other.directives.phase,
                    Some(Phase::Contract { expand: e }) if e == expand)
        });
        if let Some(twin) = earlier_twin {
            findings.push(make_finding(
                &rules::duplicate_contract::DuplicateContract,
                path,
                at,
                None,
                format!(
                    "expand {expand} already has a contract ({}); one expand has at most one contract",
                    twin.version
                ),
                "give this change its own expand, or fold it into the existing contract if that \
                 has not been applied anywhere yet"
                    .into(),
            ));
        }
    }
    findings
}
