//! Migration versions. They sort as numbers, so that `9` comes before `10`;
//! separators are ignored, so diesel's `2019-11-11-162609` sorts with
//! sqlx-style `20191111162609` by date (crates.io's history mixes both).

use std::cmp::Ordering;
use std::fmt;

/// A version as written in the file name, compared by its numeric parts.
#[derive(Clone, Debug, Eq)]
pub struct Version {
    raw: String,
    /// The digits, separators removed, as one number.
    value: u128,
    parts: Vec<u128>,
}

impl Version {
    /// Parses a version: digits, optionally separated by `-`, `_` or `.`
    /// (`20240101120000`, `0001`, `2019-11-11-162609`, `1.2`). Returns `None`
    /// when it holds anything else.
    pub fn parse(raw: &str) -> Option<Version> {
        if raw.is_empty() {
            return None;
        }
        let mut parts = Vec::new();
        for part in raw.split(['-', '_', '.']) {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) || part.len() > 38 {
                return None;
            }
            parts.push(part.parse::<u128>().ok()?);
        }
        let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
        if digits.len() > 38 {
            return None;
        }
        Some(Version {
            raw: raw.to_string(),
            value: digits.parse().ok()?,
            parts,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// How many digits the version has, separators and leading zeros
    /// dropped.
    fn digit_count(&self) -> u32 {
        self.value.checked_ilog10().map_or(1, |n| n + 1)
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        // Timestamps (8 digits or more) compare as digit strings, as diesel
        // does, so a date-only version like `2024-03-13` sorts within its
        // day instead of before every full timestamp; short sequence numbers
        // (`9`, `10`, `0001`) compare as numbers.
        let (a, b) = (self.digit_count(), other.digit_count());
        let by_digits = if a >= 8 && b >= 8 {
            // As digit strings, without writing them out (sorting a large
            // folder compares often): pad the shorter with zeros on the
            // right, and on a tie the shorter (a prefix) comes first. At
            // most 38 digits, so the padded value fits.
            let width = a.max(b);
            let padded = |v: &Version, n: u32| v.value * 10u128.pow(width - n);
            padded(self, a).cmp(&padded(other, b)).then(a.cmp(&b))
        } else {
            self.value.cmp(&other.value)
        };
        by_digits.then_with(|| self.parts.cmp(&other.parts))
    }
}

impl std::hash::Hash for Version {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.value.hash(state);
        self.parts.hash(state);
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_numerically() {
        let mut v: Vec<Version> = ["10", "9", "0001", "2"]
            .iter()
            .map(|s| Version::parse(s).unwrap())
            .collect();
        v.sort();
        let order: Vec<&str> = v.iter().map(|v| v.as_str()).collect();
        assert_eq!(order, ["0001", "2", "9", "10"]);
        assert!(
            Version::parse("2019-11-11-162609").unwrap()
                < Version::parse("2019-12-01-000000").unwrap()
        );
        assert_eq!(Version::parse("0001"), Version::parse("1"));
        assert!(
            Version::parse("2017-10-08-193512").unwrap()
                > Version::parse("20161115110541").unwrap(),
            "diesel and sqlx styles sort together by date"
        );
        assert!(
            Version::parse("2024-03-13").unwrap() > Version::parse("20240312183000").unwrap()
                && Version::parse("2024-03-13").unwrap()
                    < Version::parse("2024-03-13-170001").unwrap(),
            "a date-only version sorts within its day"
        );
        assert!(Version::parse("abc").is_none());
        assert!(Version::parse("").is_none());
    }

    #[test]
    fn timestamps_compare_as_their_digit_strings() {
        let raw = [
            "20240313",
            "202403130",
            "202403139",
            "20240314",
            "2024-03-13-170000",
            "20240313170000",
            "99999999",
            "100000000",
            "00000000012345678",
            "12345678",
            "99999999999999999999999999999999999999",
            "1234567",
            "5",
        ];
        let digits = |v: &Version| v.value.to_string();
        for a in &raw {
            for b in &raw {
                let (va, vb) = (Version::parse(a).unwrap(), Version::parse(b).unwrap());
                let (da, db) = (digits(&va), digits(&vb));
                if da.len() >= 8 && db.len() >= 8 {
                    assert_eq!(
                        va.cmp(&vb),
                        da.cmp(&db).then_with(|| va.parts.cmp(&vb.parts)),
                        "{a} vs {b}"
                    );
                }
            }
        }
    }
}
