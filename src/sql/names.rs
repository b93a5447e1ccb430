//! Normalised names, so that `Users`, `users` and `public.users` meet in the
//! catalog while `"Users"` stays distinct.

use sqlparser::ast::{Ident, ObjectName};

/// The catalog key of an identifier: unquoted identifiers fold to lower case
/// (as PostgreSQL does, and as MySQL and SQLite compare them), quoted ones are
/// kept as written.
pub fn ident_key(ident: &Ident) -> String {
    match ident.quote_style {
        Some(_) => ident.value.clone(),
        None => ident.value.to_lowercase(),
    }
}

/// The catalog key of a possibly qualified name. The default schemas
/// (`public`, `main`) are dropped so that qualified and bare names agree.
pub fn object_key(name: &ObjectName) -> String {
    let parts: Vec<String> = name
        .0
        .iter()
        .filter_map(|part| part.as_ident().map(ident_key))
        .collect();
    let parts: &[String] = match parts.as_slice() {
        [schema, rest @ ..] if !rest.is_empty() && (schema == "public" || schema == "main") => rest,
        all => all,
    };
    parts.join(".")
}

/// Removes one level of identifier quotes (`"x"`, `` `x` ``, `[x]`) from a
/// token's text and folds unquoted text to lower case.
pub fn unquote(text: &str) -> String {
    let bytes = text.as_bytes();
    if bytes.len() >= 2 {
        let (first, last) = (bytes[0], bytes[bytes.len() - 1]);
        if (first == b'"' && last == b'"')
            || (first == b'`' && last == b'`')
            || (first == b'[' && last == b']')
        {
            return text[1..text.len() - 1].to_string();
        }
    }
    text.to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_unquoted_and_drops_default_schema() {
        let name = ObjectName::from(vec![Ident::new("public"), Ident::new("Users")]);
        assert_eq!(object_key(&name), "users");
        let name = ObjectName::from(vec![Ident::new("app"), Ident::with_quote('"', "Users")]);
        assert_eq!(object_key(&name), "app.Users");
        assert_eq!(unquote("\"Mixed\""), "Mixed");
        assert_eq!(unquote("Mixed"), "mixed");
    }
}
