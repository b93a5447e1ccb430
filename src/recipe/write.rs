//! Writing a plan's drafts as files: all of them or none.

use std::fs;
use std::path::PathBuf;
use std::time::SystemTime;

use super::version::next_versions;
use super::{DraftPhase, Plan, Target};
use crate::error::{Error, Result};
use crate::source::Layout;

/// One migration as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    pub version: String,
    pub up: PathBuf,
    pub down: PathBuf,
    /// Extra files (diesel's `metadata.toml`).
    pub extra: Vec<PathBuf>,
}

fn header(no_transaction: bool, directive: Option<&str>) -> String {
    let mut text = String::new();
    if no_transaction {
        text.push_str("-- no-transaction\n");
    }
    if let Some(directive) = directive {
        text.push_str(directive);
        text.push('\n');
    }
    if !text.is_empty() {
        text.push('\n');
    }
    text
}

/// Writes every draft of `plan` into the target folder, in its layout, with
/// new versions. Refuses to overwrite anything; on any failure removes what it
/// wrote.
pub fn write_plan(target: &Target, plan: &Plan, now: SystemTime) -> Result<Vec<Written>> {
    let versions = next_versions(target.set.as_ref(), now, plan.drafts.len());
    if versions.len() != plan.drafts.len() {
        return Err(Error::usage(
            "cannot find a version after the folder's last one".to_string(),
        ));
    }
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    let mut written = Vec::new();
    for (draft, version) in plan.drafts.iter().zip(&versions) {
        let directive = match draft.phase {
            DraftPhase::Expand => "-- straddle: expand".to_string(),
            DraftPhase::ContractOf(i) => format!("-- straddle: contract {}", versions[i]),
        };
        let up_text = format!(
            "{}{}",
            header(draft.no_transaction, Some(&directive)),
            draft.up
        );
        let down_text = format!("{}{}", header(draft.no_transaction, None), draft.down);
        let fill = |text: String| {
            versions
                .iter()
                .enumerate()
                .fold(text, |text, (i, v)| text.replace(&super::version_of(i), v))
        };
        let (up_text, down_text) = (fill(up_text), fill(down_text));
        let stem = format!("{version}_{}", draft.name);
        let mut entry = Written {
            version: version.clone(),
            up: PathBuf::new(),
            down: PathBuf::new(),
            extra: Vec::new(),
        };
        match target.layout {
            Layout::Flat => {
                entry.up = target.dir.join(format!("{stem}.up.sql"));
                entry.down = target.dir.join(format!("{stem}.down.sql"));
            }
            Layout::Dotted => {
                entry.up = target.dir.join(format!("V{version}.{}.up.sql", draft.name));
                entry.down = target
                    .dir
                    .join(format!("V{version}.{}.down.sql", draft.name));
            }
            Layout::Folders => {
                let folder = target.dir.join(&stem);
                entry.up = folder.join("up.sql");
                entry.down = folder.join("down.sql");
                if draft.no_transaction {
                    let metadata = folder.join("metadata.toml");
                    files.push((metadata.clone(), "run_in_transaction = false\n".into()));
                    entry.extra.push(metadata);
                }
            }
        }
        files.push((entry.up.clone(), up_text));
        files.push((entry.down.clone(), down_text));
        written.push(entry);
    }
    if let Some((existing, _)) = files.iter().find(|(path, _)| path.exists()) {
        return Err(Error::usage(format!(
            "{} exists already; nothing was written",
            existing.display()
        )));
    }
    let mut created: Vec<PathBuf> = Vec::new();
    let result = (|| -> Result<()> {
        for (path, text) in &files {
            if let Some(parent) = path.parent()
                && !parent.exists()
            {
                fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
                created.push(parent.to_path_buf());
            }
            fs::write(path, text).map_err(|e| Error::io(path, e))?;
            created.push(path.clone());
        }
        Ok(())
    })();
    if let Err(e) = result {
        for path in created.iter().rev() {
            let _ = if path.is_dir() {
                fs::remove_dir(path)
            } else {
                fs::remove_file(path)
            };
        }
        return Err(e);
    }
    Ok(written)
}
