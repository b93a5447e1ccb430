//! Names a database generates itself, recognised exactly so that they can be
//! normalised in snapshots: two states that differ only by such a name (say
//! `users_email_key` and `users_email_key1`) are the same schema. Only names
//! equal to the database's own default naming count; a name a migration
//! chose is always compared as written.

/// The suffix shown in snapshots after a normalised name.
pub const GENERATED: &str = " (generated name)";

/// PostgreSQL's `makeObjectName`: `name1[_name2]_label`, with the longer of
/// the two names clipped until the whole fits in 63 bytes.
pub fn pg_object_name(name1: &str, name2: Option<&str>, label: &str) -> String {
    const MAX: usize = 63;
    let mut overhead = 0;
    if name2.is_some() {
        overhead += 1;
    }
    if !label.is_empty() {
        overhead += label.len() + 1;
    }
    let avail = MAX.saturating_sub(overhead);
    let mut n1 = name1.len();
    let mut n2 = name2.map_or(0, str::len);
    while n1 + n2 > avail {
        if n1 > n2 {
            n1 -= 1;
        } else {
            n2 -= 1;
        }
    }
    let clip = |s: &str, mut n: usize| {
        while n > 0 && !s.is_char_boundary(n) {
            n -= 1;
        }
        s[..n].to_string()
    };
    let mut out = clip(name1, n1);
    if let Some(n) = name2 {
        out.push('_');
        out.push_str(&clip(n, n2));
    }
    if !label.is_empty() {
        out.push('_');
        out.push_str(label);
    }
    out
}

/// Whether `name` is what PostgreSQL chooses for an object of `table` over
/// `columns` with `label` (`pkey`, `key`, `fkey`, `check`, `excl`, `idx`,
/// `seq`), including the numbered variants it picks on a conflict
/// (`label1`, `label2`…). Returns the unnumbered name.
pub fn pg_generated(
    name: &str,
    table: &str,
    columns: Option<&[String]>,
    label: &str,
) -> Option<String> {
    let joined = columns.map(|c| c.join("_"));
    let base = pg_object_name(table, joined.as_deref(), label);
    if name == base {
        return Some(base);
    }
    // Numbered variants only when the name shares the unnumbered prefix
    // closely enough to be worth building.
    if !name.starts_with(&table[..table.len().min(8)]) {
        return None;
    }
    for pass in 1..=30 {
        let candidate = pg_object_name(table, joined.as_deref(), &format!("{label}{pass}"));
        if name == candidate {
            return Some(base);
        }
    }
    None
}

/// A check constraint's generated name: `table_check` or
/// `table_<column>_check` for one of the table's columns.
pub fn pg_generated_check(name: &str, table: &str, table_columns: &[String]) -> Option<String> {
    if let Some(n) = pg_generated(name, table, None, "check") {
        return Some(n);
    }
    for c in table_columns {
        if let Some(n) = pg_generated(name, table, Some(std::slice::from_ref(c)), "check") {
            return Some(n);
        }
    }
    None
}

/// MySQL/MariaDB foreign keys without a name: `<table>_ibfk_<n>`.
pub fn mysql_generated_foreign_key(name: &str, table: &str) -> Option<String> {
    let rest = name.strip_prefix(table)?.strip_prefix("_ibfk_")?;
    (!rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit())).then(|| format!("{table}_ibfk"))
}

/// MySQL/MariaDB indexes without a name take their first column's name,
/// with `_2`, `_3`… on a conflict.
pub fn mysql_generated_index(name: &str, first_column: &str) -> Option<String> {
    if name.eq_ignore_ascii_case(first_column) {
        return Some(first_column.to_string());
    }
    let rest = name.strip_prefix(first_column)?.strip_prefix('_')?;
    (!rest.is_empty() && rest.bytes().all(|b| b.is_ascii_digit())).then(|| first_column.to_string())
}

/// MySQL/MariaDB check constraints without a name: `CONSTRAINT_<n>`
/// (MariaDB, table level), the column's name (MariaDB, column level) or
/// `<table>_chk_<n>` (MySQL 8).
pub fn mysql_generated_check(name: &str, table: &str, table_columns: &[String]) -> Option<String> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if let Some(rest) = name.strip_prefix("CONSTRAINT_")
        && digits(rest)
    {
        return Some("CONSTRAINT".to_string());
    }
    if let Some(rest) = name
        .strip_prefix(table)
        .and_then(|r| r.strip_prefix("_chk_"))
        && digits(rest)
    {
        return Some(format!("{table}_chk"));
    }
    table_columns
        .iter()
        .find(|c| c.as_str() == name)
        .map(|c| c.to_string())
}

/// SQLite's indexes for `UNIQUE` and `PRIMARY KEY` constraints.
pub fn sqlite_generated_index(name: &str) -> bool {
    name.starts_with("sqlite_autoindex_")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(c: &[&str]) -> Vec<String> {
        c.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn postgres_default_names() {
        assert_eq!(pg_object_name("users", None, "pkey"), "users_pkey");
        assert_eq!(
            pg_object_name("users", Some("email"), "key"),
            "users_email_key"
        );
        assert!(pg_generated("users_pkey", "users", None, "pkey").is_some());
        assert!(
            pg_generated("users_email_key1", "users", Some(&cols(&["email"])), "key").is_some()
        );
        assert!(
            pg_generated(
                "users_email_unique",
                "users",
                Some(&cols(&["email"])),
                "key"
            )
            .is_none()
        );
        assert!(
            pg_generated(
                "crate_owners_crate_id_owner_id_fkey",
                "crate_owners",
                Some(&cols(&["crate_id", "owner_id"])),
                "fkey"
            )
            .is_some()
        );
        // 63-byte clipping: the longer name is shortened first.
        let long_table = "a".repeat(40);
        let long_col = "b".repeat(40);
        let name = pg_object_name(&long_table, Some(&long_col), "fkey");
        assert_eq!(name.len(), 63);
        assert!(name.ends_with("_fkey"));
        assert!(pg_generated_check("t_amount_check", "t", &cols(&["amount"])).is_some());
        assert!(pg_generated_check("t_check1", "t", &cols(&["amount"])).is_some());
        assert!(pg_generated_check("positive_amount", "t", &cols(&["amount"])).is_none());
    }

    #[test]
    fn mysql_default_names() {
        assert_eq!(
            mysql_generated_foreign_key("users_ibfk_2", "users").as_deref(),
            Some("users_ibfk")
        );
        assert!(mysql_generated_foreign_key("fk_users_org", "users").is_none());
        assert!(mysql_generated_index("email_2", "email").is_some());
        assert!(mysql_generated_index("idx_email", "email").is_none());
        assert!(mysql_generated_check("CONSTRAINT_1", "t", &[]).is_some());
        assert!(mysql_generated_check("t_chk_1", "t", &[]).is_some());
    }
}
