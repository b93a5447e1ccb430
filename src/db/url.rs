//! Database URLs, and keeping their passwords out of every message.

use std::fmt;

use crate::dialect::Dialect;

/// A database URL. `Display` and `Debug` print it with the password masked;
/// [`DbUrl::expose`] gives the real text to the driver and nobody else.
#[derive(Clone)]
pub struct DbUrl {
    raw: String,
    dialect: Dialect,
    /// The password, when the URL holds one (in the authority or as a
    /// `password=` parameter), to scrub from messages.
    secrets: Vec<String>,
}

const MASK: &str = "****";

impl DbUrl {
    /// Parses the scheme: `postgres://`, `postgresql://`, `mysql://`,
    /// `mariadb://`, `sqlite:`.
    pub fn parse(raw: &str) -> Result<DbUrl, String> {
        let raw = raw.trim().to_string();
        let scheme = raw.split(':').next().unwrap_or("").to_ascii_lowercase();
        let dialect = match scheme.as_str() {
            "postgres" | "postgresql" => Dialect::Postgres,
            "mysql" | "mariadb" => Dialect::Mysql,
            "sqlite" => Dialect::Sqlite,
            _ => {
                let shown = DbUrl {
                    secrets: find_secrets(&raw),
                    raw: raw.clone(),
                    dialect: Dialect::Postgres,
                };
                return Err(format!(
                    "`{shown}` is not a database URL straddle knows: it must start with \
                     postgres://, mysql:// (also for MariaDB) or sqlite:"
                ));
            }
        };
        let mut url = DbUrl {
            secrets: find_secrets(&raw),
            raw,
            dialect,
        };
        if scheme == "mariadb" {
            url.raw = format!("mysql{}", &url.raw["mariadb".len()..]);
        }
        Ok(url)
    }

    /// The URL of an SQLite file.
    pub fn sqlite_file(path: &std::path::Path) -> DbUrl {
        DbUrl {
            raw: format!("sqlite://{}", path.display()),
            dialect: Dialect::Sqlite,
            secrets: Vec::new(),
        }
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The URL with its password. Only for the driver.
    pub fn expose(&self) -> &str {
        &self.raw
    }

    /// `text` with every password of this URL replaced by `****`.
    pub fn mask(&self, text: &str) -> String {
        let mut out = text.to_string();
        for secret in &self.secrets {
            out = out.replace(secret.as_str(), MASK);
            let decoded = percent_decode(secret);
            if decoded != *secret && !decoded.is_empty() {
                out = out.replace(decoded.as_str(), MASK);
            }
        }
        out
    }

    /// The SQLite file path, for `sqlite:` URLs (`None` for in-memory ones).
    pub fn sqlite_path(&self) -> Option<std::path::PathBuf> {
        if self.dialect != Dialect::Sqlite {
            return None;
        }
        let rest = self.raw["sqlite:".len()..].trim_start_matches("//");
        let path = rest.split('?').next().unwrap_or("");
        if path.is_empty() || path == ":memory:" || self.raw.contains("mode=memory") {
            return None;
        }
        Some(std::path::PathBuf::from(percent_decode(path)))
    }
}

/// Passwords in a URL: `scheme://user:PASSWORD@host` and `password=PASSWORD`
/// query parameters.
fn find_secrets(raw: &str) -> Vec<String> {
    let mut secrets = Vec::new();
    if let Some(scheme_end) = raw.find("://") {
        let rest = &raw[scheme_end + 3..];
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let authority = &rest[..authority_end];
        if let Some(at) = authority.rfind('@') {
            let userinfo = &authority[..at];
            if let Some(colon) = userinfo.find(':') {
                let password = &userinfo[colon + 1..];
                if !password.is_empty() {
                    secrets.push(password.to_string());
                }
            }
        }
    }
    if let Some(q) = raw.find('?') {
        for pair in raw[q + 1..].split('&') {
            if let Some((key, value)) = pair.split_once('=')
                && (key.eq_ignore_ascii_case("password") || key.eq_ignore_ascii_case("pass"))
                && !value.is_empty()
            {
                secrets.push(value.to_string());
            }
        }
    }
    secrets
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && bytes[i + 1].is_ascii_hexdigit()
            && bytes[i + 2].is_ascii_hexdigit()
        {
            let hex = |b: u8| (b as char).to_digit(16).unwrap_or(0) as u8;
            out.push(hex(bytes[i + 1]) * 16 + hex(bytes[i + 2]));
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl fmt::Display for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.mask(&self.raw))
    }
}

impl fmt::Debug for DbUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DbUrl({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_masked() {
        let url = DbUrl::parse("postgres://app:s3cr%40t@db.example:5432/shop").unwrap();
        assert_eq!(url.to_string(), "postgres://app:****@db.example:5432/shop");
        assert_eq!(url.mask("auth failed for s3cr@t"), "auth failed for ****");
        assert_eq!(url.dialect(), Dialect::Postgres);
        let url = DbUrl::parse("mysql://root@127.0.0.1/x?password=hunter22").unwrap();
        assert!(!url.to_string().contains("hunter22"));
        let url = DbUrl::parse("mariadb://u:pw12@h/db").unwrap();
        assert_eq!(url.dialect(), Dialect::Mysql);
        assert!(url.expose().starts_with("mysql://"));
        assert!(
            DbUrl::parse("oracle://u:topsecret@h")
                .unwrap_err()
                .contains("****")
        );
        let url = DbUrl::parse("sqlite://./x/straddle.db?mode=rwc").unwrap();
        assert_eq!(
            url.sqlite_path(),
            Some(std::path::PathBuf::from("./x/straddle.db"))
        );
        assert_eq!(DbUrl::parse("sqlite::memory:").unwrap().sqlite_path(), None);
    }
}
