//! What changed in a migrations folder since a git ref, for
//! `straddle lint --changed-since REF`. Uses the `git` command line.
//!
//! * **changed**: files added or modified on this branch (`git diff
//!   REF...HEAD`, that is since the branch left `REF`), plus uncommitted and
//!   untracked ones;
//! * **existed at REF**: the files in `REF`'s own tree (`git ls-tree REF`),
//!   so that a migration merged into the base after this branch left it
//!   still counts as shipped.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Error, Result};
use crate::lint::ChangedSince;
use crate::source::Version;

/// The changes in one migrations folder.
#[derive(Clone, Debug, Default)]
pub struct FolderChanges {
    /// Files of the folder added or modified since the ref, canonical.
    pub changed: Vec<PathBuf>,
    /// What the lint rules need to know.
    pub since: ChangedSince,
}

fn git(dir: &Path, args: &[&str]) -> Result<std::process::Output> {
    Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .map_err(|e| {
            Error::usage(format!(
                "--changed-since needs the `git` command, which could not be run: {e}"
            ))
        })
}

/// Runs git and returns its standard output, or an error quoting git.
fn git_ok(dir: &Path, args: &[&str], what: &str) -> Result<Vec<u8>> {
    let output = git(dir, args)?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(Error::usage(format!(
            "--changed-since: {what} failed (`git {}`): {}",
            args.join(" "),
            stderr.trim()
        )));
    }
    Ok(output.stdout)
}

/// NUL-separated paths (`-z` output), relative to the repository root.
fn paths(output: &[u8]) -> Vec<PathBuf> {
    output
        .split(|b| *b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| PathBuf::from(String::from_utf8_lossy(p).into_owned()))
        .collect()
}

/// The version in a migration path relative to its folder: `V_name.up.sql`,
/// `V_name.sql`, `VN.name.up.sql` or diesel's `V_name/up.sql`.
fn version_in(relative: &Path) -> Option<Version> {
    let parts: Vec<&str> = relative.iter().filter_map(|p| p.to_str()).collect();
    let stem = match parts.as_slice() {
        [file] => file.strip_suffix(".sql")?,
        [folder, "up.sql" | "down.sql"] => folder,
        _ => return None,
    };
    let stem = stem
        .strip_suffix(".up")
        .or_else(|| stem.strip_suffix(".down"))
        .unwrap_or(stem);
    if let Some(rest) = stem.strip_prefix(['V', 'v'])
        && let Some(dot) = rest.find('.')
        && let Some(version) = Version::parse(&rest[..dot])
    {
        return Some(version);
    }
    Version::parse(stem.split('_').next().unwrap_or(stem))
}

/// What changed in the migrations folder `dir` since `git_ref`.
pub fn changes_since(dir: &Path, git_ref: &str) -> Result<FolderChanges> {
    let dir = dir.canonicalize().map_err(|e| Error::io(dir, e))?;
    let top = git(&dir, &["rev-parse", "--show-toplevel"])?;
    if !top.status.success() {
        return Err(Error::usage(format!(
            "--changed-since: {} is not inside a git repository",
            dir.display()
        )));
    }
    let top = PathBuf::from(String::from_utf8_lossy(&top.stdout).trim().to_string());
    let top = top.canonicalize().map_err(|e| Error::io(&top, e))?;
    let commit = format!("{git_ref}^{{commit}}");
    let known = git(&top, &["rev-parse", "--verify", "--quiet", &commit])?;
    if !known.status.success() {
        return Err(Error::usage(format!(
            "--changed-since: git does not know `{git_ref}`; fetch it first (in GitHub Actions, \
             check out with `fetch-depth: 0`; in GitLab CI, set `GIT_DEPTH: 0`)"
        )));
    }
    let relative = dir.strip_prefix(&top).unwrap_or(Path::new(""));
    let spec = if relative.as_os_str().is_empty() {
        ".".to_string()
    } else {
        relative.to_string_lossy().into_owned()
    };
    let range = format!("{git_ref}...HEAD");
    let mut changed: BTreeSet<PathBuf> = BTreeSet::new();
    for (args, what) in [
        (
            vec![
                "diff",
                "--name-only",
                "-z",
                "--no-renames",
                "--diff-filter=d",
                range.as_str(),
                "--",
                spec.as_str(),
            ],
            "listing the changes since the ref",
        ),
        (
            vec![
                "diff",
                "--name-only",
                "-z",
                "--no-renames",
                "--diff-filter=d",
                "HEAD",
                "--",
                spec.as_str(),
            ],
            "listing the uncommitted changes",
        ),
        (
            vec![
                "ls-files",
                "--others",
                "--exclude-standard",
                "-z",
                "--",
                spec.as_str(),
            ],
            "listing the untracked files",
        ),
    ] {
        for path in paths(&git_ok(&top, &args, what)?) {
            let absolute = top.join(path);
            if absolute.is_file() {
                changed.insert(absolute);
            }
        }
    }
    let at_ref: BTreeSet<PathBuf> = paths(&git_ok(
        &top,
        &["ls-tree", "-r", "-z", "--name-only", git_ref, "--", &spec],
        "listing the files at the ref",
    )?)
    .into_iter()
    .map(|p| top.join(p))
    .collect();
    let mut versions_at_ref: Vec<Version> = at_ref
        .iter()
        .filter_map(|p| p.strip_prefix(&dir).ok())
        .filter_map(version_in)
        .collect();
    versions_at_ref.sort();
    versions_at_ref.dedup();
    let modified = changed
        .iter()
        .filter(|p| at_ref.contains(*p))
        .cloned()
        .collect();
    Ok(FolderChanges {
        changed: changed.into_iter().collect(),
        since: ChangedSince {
            git_ref: git_ref.to_string(),
            modified,
            versions_at_ref,
            newest_in_folder: None,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_versions_of_every_layout() {
        let v = |p: &str| version_in(Path::new(p)).map(|v| v.as_str().to_string());
        assert_eq!(v("0001_users.up.sql").as_deref(), Some("0001"));
        assert_eq!(v("0001_users.sql").as_deref(), Some("0001"));
        assert_eq!(v("0002.down.sql").as_deref(), Some("0002"));
        assert_eq!(v("V3.add_users.up.sql").as_deref(), Some("3"));
        assert_eq!(
            v("2024-01-01-000000_users/up.sql").as_deref(),
            Some("2024-01-01-000000")
        );
        assert_eq!(v("README.md"), None);
        assert_eq!(v("sub/dir/0001_x.sql"), None);
    }
}
