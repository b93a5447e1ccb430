//! Picking the version of a new migration in the folder's own style.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::source::{MigrationSet, Version};

/// Civil date and time (UTC) of a UNIX time.
fn civil(secs: u64) -> (i64, u32, u32, u32, u32, u32) {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        month,
        day,
        (rem / 3600) as u32,
        (rem % 3600 / 60) as u32,
        (rem % 60) as u32,
    )
}

/// The style of the versions already in the folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Style {
    /// `20240101120000`
    Timestamp,
    /// diesel's `2024-01-01-120000`
    Dashed,
    /// `0001`, `1`: sequence numbers of this width.
    Sequence(usize),
}

fn style(set: Option<&MigrationSet>) -> Style {
    let Some(last) = set.and_then(|s| s.migrations.last()) else {
        return Style::Timestamp;
    };
    let raw = last.version.as_str();
    if raw.contains('-') {
        Style::Dashed
    } else if raw.len() >= 12 {
        Style::Timestamp
    } else {
        Style::Sequence(raw.len())
    }
}

fn format(style: Style, n: u128) -> String {
    match style {
        Style::Timestamp => format!("{n:014}"),
        Style::Sequence(width) => format!("{n:0width$}"),
        Style::Dashed => {
            let s = format!("{n:014}");
            format!("{}-{}-{}-{}", &s[..4], &s[4..6], &s[6..8], &s[8..])
        }
    }
}

/// `count` new versions, each later than every version in the folder.
pub fn next_versions(set: Option<&MigrationSet>, now: SystemTime, count: usize) -> Vec<String> {
    let style = style(set);
    let last: Option<u128> = set.and_then(|s| s.migrations.last()).and_then(|m| {
        let digits: String = m
            .version
            .as_str()
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        digits.parse().ok()
    });
    let start = match style {
        Style::Sequence(_) => last.map_or(1, |l| l + 1),
        Style::Timestamp | Style::Dashed => {
            let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
            let (y, mo, d, h, mi, s) = civil(secs);
            let stamp: u128 = format!("{y:04}{mo:02}{d:02}{h:02}{mi:02}{s:02}")
                .parse()
                .unwrap_or(0);
            match last {
                Some(l) if l >= stamp => l + 1,
                _ => stamp,
            }
        }
    };
    (0..count as u128)
        .map(|i| format(style, start + i))
        .filter(|v| Version::parse(v).is_some())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_from_unix_time() {
        // 2024-02-29 13:45:07 UTC
        let t = UNIX_EPOCH + Duration::from_secs(1_709_214_307);
        assert_eq!(
            next_versions(None, t, 2),
            ["20240229134507", "20240229134508"]
        );
        assert_eq!(format(Style::Dashed, 20240229134507), "2024-02-29-134507");
        assert_eq!(format(Style::Sequence(4), 12), "0012");
    }
}
