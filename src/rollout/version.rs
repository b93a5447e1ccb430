//! App versions: ordering them the way people number releases (`1.10.0` after
//! `1.9.2`, `2.0.0-rc.1` before `2.0.0`, a leading `v` ignored), and reading
//! the version out of a PostgreSQL `application_name` written after a
//! pattern such as `shop@{version}`.

use std::cmp::Ordering;

/// A version split into its numeric core and its pre-release part.
struct Parsed<'a> {
    core: Vec<u64>,
    pre: Option<&'a str>,
}

fn parse(text: &str) -> Option<Parsed<'_>> {
    let text = text.trim();
    let text = text
        .strip_prefix('v')
        .or_else(|| text.strip_prefix('V'))
        .unwrap_or(text);
    // Build metadata never orders.
    let text = text.split('+').next().unwrap_or("");
    let (core, pre) = match text.find('-') {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    };
    if core.is_empty() {
        return None;
    }
    let mut numbers = Vec::new();
    for part in core.split('.') {
        if part.is_empty() || part.len() > 19 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        numbers.push(part.parse().ok()?);
    }
    Some(Parsed {
        core: numbers,
        pre: pre.filter(|p| !p.is_empty()),
    })
}

fn compare_pre(a: &str, b: &str) -> Ordering {
    let mut left = a.split(['.', '-']);
    let mut right = b.split(['.', '-']);
    loop {
        match (left.next(), right.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let order = match (x.parse::<u64>(), y.parse::<u64>()) {
                    (Ok(m), Ok(n)) => m.cmp(&n),
                    // Numeric identifiers sort before alphanumeric ones.
                    (Ok(_), Err(_)) => Ordering::Less,
                    (Err(_), Ok(_)) => Ordering::Greater,
                    (Err(_), Err(_)) => x.cmp(y),
                };
                if order != Ordering::Equal {
                    return order;
                }
            }
        }
    }
}

/// Orders two app versions: numeric parts compared as numbers (missing parts
/// count as 0, so `2.0` equals `2.0.0`), a pre-release before its release.
/// `None` when either is not a dotted number (a commit hash, a date
/// string…) and the two are not the same text.
pub fn compare(a: &str, b: &str) -> Option<Ordering> {
    if a.trim() == b.trim() {
        return Some(Ordering::Equal);
    }
    let (x, y) = (parse(a)?, parse(b)?);
    let len = x.core.len().max(y.core.len());
    for i in 0..len {
        let m = x.core.get(i).copied().unwrap_or(0);
        let n = y.core.get(i).copied().unwrap_or(0);
        if m != n {
            return Some(m.cmp(&n));
        }
    }
    Some(match (x.pre, y.pre) {
        (None, None) => Ordering::Equal,
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (Some(p), Some(q)) => compare_pre(p, q),
    })
}

/// Whether `version` is older than every version in `new`: the versions of
/// the rollout that a contract waits for and of any later rollout. A version
/// that cannot be ordered against them counts as old unless it is one of
/// them: holding a contract back is the safe mistake.
pub fn is_older(version: &str, new: &[String]) -> bool {
    if new.iter().any(|n| n.trim() == version.trim()) {
        return false;
    }
    let Some(target) = new.first() else {
        return false;
    };
    match compare(version, target) {
        Some(Ordering::Less) => true,
        Some(_) => false,
        None => !new.iter().any(|n| {
            matches!(
                compare(version, n),
                Some(Ordering::Greater | Ordering::Equal)
            )
        }),
    }
}

/// An `application_name` pattern with one `{version}` placeholder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NamePattern {
    prefix: String,
    suffix: String,
}

impl NamePattern {
    /// `None` when the pattern has no `{version}`.
    pub fn new(pattern: &str) -> Option<NamePattern> {
        let (prefix, suffix) = pattern.split_once("{version}")?;
        Some(NamePattern {
            prefix: prefix.to_string(),
            suffix: suffix.to_string(),
        })
    }

    /// The version in `name` when it follows the pattern.
    pub fn version_of<'a>(&self, name: &'a str) -> Option<&'a str> {
        let rest = name.strip_prefix(self.prefix.as_str())?;
        let version = rest.strip_suffix(self.suffix.as_str())?;
        (!version.trim().is_empty()).then_some(version)
    }

    /// A SQL `LIKE` pattern that preselects matching names (`%` for the
    /// version, `_` and `%` of the pattern escaped with `\`).
    pub fn like(&self) -> String {
        fn escape(text: &str) -> String {
            text.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        }
        format!("{}%{}", escape(&self.prefix), escape(&self.suffix))
    }

    /// The name an app of `version` would use.
    pub fn name_for(&self, version: &str) -> String {
        format!("{}{version}{}", self.prefix, self.suffix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_order_by_numbers() {
        assert_eq!(compare("1.9.2", "1.10.0"), Some(Ordering::Less));
        assert_eq!(compare("v2.0", "2.0.0"), Some(Ordering::Equal));
        assert_eq!(compare("2.0.0-rc.1", "2.0.0"), Some(Ordering::Less));
        assert_eq!(compare("2.0.0-rc.2", "2.0.0-rc.10"), Some(Ordering::Less));
        assert_eq!(compare("2.0.0-alpha", "2.0.0-1"), Some(Ordering::Greater));
        assert_eq!(compare("2.0.0+build5", "2.0.0"), Some(Ordering::Equal));
        assert_eq!(compare("10", "9.9"), Some(Ordering::Greater));
        assert_eq!(compare("abc123", "2.0"), None);
        assert_eq!(compare("abc123", "abc123"), Some(Ordering::Equal));
    }

    #[test]
    fn older_means_below_the_rolled_out_version() {
        let new = vec!["2.0.0".to_string(), "2.1.0".to_string()];
        assert!(is_older("1.4.0", &new));
        assert!(!is_older("2.0.0", &new));
        assert!(!is_older("2.0.5", &new));
        assert!(!is_older("2.1.0", &new));
        // Unorderable: old unless it is one of the new versions.
        assert!(is_older("deadbeef", &new));
        let hashes = vec!["c0ffee".to_string()];
        assert!(!is_older("c0ffee", &hashes));
        assert!(is_older("deadbeef", &hashes));
    }

    #[test]
    fn application_names_follow_the_pattern() {
        let p = NamePattern::new("shop@{version}").unwrap();
        assert_eq!(p.version_of("shop@1.4.0"), Some("1.4.0"));
        assert_eq!(p.version_of("shop@"), None);
        assert_eq!(p.version_of("psql"), None);
        assert_eq!(p.like(), "shop@%");
        let p = NamePattern::new("web_{version}-worker").unwrap();
        assert_eq!(p.version_of("web_2.0-worker"), Some("2.0"));
        assert_eq!(p.like(), "web\\_%-worker");
        assert_eq!(p.name_for("3"), "web_3-worker");
        assert!(NamePattern::new("shop").is_none());
    }
}
