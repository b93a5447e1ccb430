//! Token edits for statements that real migrations write and sqlparser 0.63
//! rejects, where a small edit gives a statement it accepts with the same
//! meaning for linting: the rules then see a real AST.
//!
//! Each edit is tied to one known gap of sqlparser and runs only after the
//! statement failed to parse as written; the statement's text and tokens are
//! left as written, only the tokens handed to the parser change.
//!
//! | written | handed to the parser | lost from the AST |
//! | --- | --- | --- |
//! | `CREATE EXTENSION e SCHEMA s` | `… WITH SCHEMA s` | nothing |
//! | MySQL `ALTER TABLE t RENAME u` | `… RENAME TO u` | nothing |
//! | `ALTER TABLE t ALTER c TYPE text COLLATE "C"` | without `COLLATE "C"` | the collation |
//! | `CREATE TRIGGER IF NOT EXISTS trg …` | without `IF NOT EXISTS` | `IF NOT EXISTS` |
//! | `CREATE MATERIALIZED VIEW … WITH [NO] DATA` | without `WITH [NO] DATA` | whether it is filled |
//! | `CREATE INDEX … TABLESPACE ts` | without `TABLESPACE ts` | the tablespace |

use sqlparser::tokenizer::{Token, TokenWithSpan};

use super::split::is_trivia;

fn significant(tokens: &[TokenWithSpan]) -> Vec<usize> {
    (0..tokens.len())
        .filter(|&i| !is_trivia(&tokens[i].token) && tokens[i].token != Token::EOF)
        .collect()
}

fn word(tokens: &[TokenWithSpan], sig: &[usize], k: usize) -> Option<String> {
    match &tokens[*sig.get(k)?].token {
        Token::Word(w) if w.quote_style.is_none() => Some(w.value.to_ascii_uppercase()),
        _ => None,
    }
}

fn is(tokens: &[TokenWithSpan], sig: &[usize], k: usize, expected: &str) -> bool {
    word(tokens, sig, k).as_deref() == Some(expected)
}

fn starts(tokens: &[TokenWithSpan], sig: &[usize], seq: &[&str]) -> bool {
    seq.iter().enumerate().all(|(k, w)| is(tokens, sig, k, w))
}

/// Index (into `sig`) after `CREATE [OR REPLACE] [TEMP|TEMPORARY|UNIQUE|…]`.
fn after_create_modifiers(tokens: &[TokenWithSpan], sig: &[usize]) -> usize {
    let mut k = 1;
    while [
        "OR",
        "REPLACE",
        "TEMP",
        "TEMPORARY",
        "UNIQUE",
        "MATERIALIZED",
    ]
    .iter()
    .any(|w| is(tokens, sig, k, w))
    {
        k += 1;
    }
    k
}

fn keyword_at(token: &TokenWithSpan, text: &str) -> TokenWithSpan {
    TokenWithSpan::at(
        Token::make_keyword(text),
        token.span.start,
        token.span.start,
    )
}

/// The end (exclusive, into `sig`) of a possibly qualified name at `k`.
fn name_end(tokens: &[TokenWithSpan], sig: &[usize], mut k: usize) -> usize {
    while matches!(sig.get(k).map(|&i| &tokens[i].token), Some(Token::Word(_))) {
        k += 1;
        if matches!(sig.get(k).map(|&i| &tokens[i].token), Some(Token::Period)) {
            k += 1;
        } else {
            break;
        }
    }
    k
}

/// Applies every edit that fits; `None` when none did.
pub(crate) fn repair(chunk: &[TokenWithSpan]) -> Option<Vec<TokenWithSpan>> {
    let mut tokens = chunk.to_vec();
    let mut changed = false;
    for edit in [
        extension_schema,
        rename_without_to,
        alter_type_collate,
        trigger_if_not_exists,
        materialized_view_with_data,
        index_tablespace,
    ] {
        changed |= edit(&mut tokens);
    }
    changed.then_some(tokens)
}

/// `CREATE EXTENSION [IF NOT EXISTS] e SCHEMA s` → `… WITH SCHEMA s`.
fn extension_schema(tokens: &mut Vec<TokenWithSpan>) -> bool {
    let sig = significant(tokens);
    if !starts(tokens, &sig, &["CREATE", "EXTENSION"]) {
        return false;
    }
    let Some(k) = (2..sig.len()).find(|&k| is(tokens, &sig, k, "SCHEMA")) else {
        return false;
    };
    if is(tokens, &sig, k - 1, "WITH") {
        return false;
    }
    let at = sig[k];
    let with = keyword_at(&tokens[at], "WITH");
    tokens.insert(at, with);
    true
}

/// MySQL `ALTER TABLE t RENAME u` (no `TO`/`AS`) → `… RENAME TO u`.
fn rename_without_to(tokens: &mut Vec<TokenWithSpan>) -> bool {
    let sig = significant(tokens);
    if !starts(tokens, &sig, &["ALTER", "TABLE"]) {
        return false;
    }
    let mut inserts = Vec::new();
    for k in 2..sig.len() {
        if !is(tokens, &sig, k, "RENAME") {
            continue;
        }
        let next_is_name = matches!(
            sig.get(k + 1).map(|&i| &tokens[i].token),
            Some(Token::Word(_))
        );
        let next_is_keyword = ["TO", "AS", "COLUMN", "INDEX", "KEY", "CONSTRAINT"]
            .iter()
            .any(|w| is(tokens, &sig, k + 1, w));
        if next_is_name && !next_is_keyword {
            inserts.push(sig[k + 1]);
        }
    }
    for &at in inserts.iter().rev() {
        let to = keyword_at(&tokens[at], "TO");
        tokens.insert(at, to);
    }
    !inserts.is_empty()
}

/// `ALTER TABLE … ALTER [COLUMN] c [SET DATA] TYPE t COLLATE x` → without
/// the `COLLATE x` (sqlparser keeps no collation on a type change).
fn alter_type_collate(tokens: &mut Vec<TokenWithSpan>) -> bool {
    let sig = significant(tokens);
    if !starts(tokens, &sig, &["ALTER", "TABLE"]) {
        return false;
    }
    let mut remove: Vec<std::ops::Range<usize>> = Vec::new();
    for k in 2..sig.len() {
        if !is(tokens, &sig, k, "COLLATE") {
            continue;
        }
        // The clause this COLLATE belongs to: back to the previous
        // top-level comma.
        let mut depth = 0i32;
        let mut has_type = false;
        for j in (0..k).rev() {
            match &tokens[sig[j]].token {
                Token::RParen => depth += 1,
                Token::LParen => depth -= 1,
                Token::Comma if depth == 0 => break,
                _ => {}
            }
            has_type |= depth == 0 && is(tokens, &sig, j, "TYPE");
        }
        let end = name_end(tokens, &sig, k + 1);
        if has_type && end > k + 1 {
            remove.push(k..end);
        }
    }
    if remove.is_empty() {
        return false;
    }
    let drop: Vec<usize> = remove.into_iter().flat_map(|r| r.map(|k| sig[k])).collect();
    let mut index = 0;
    tokens.retain(|_| {
        index += 1;
        !drop.contains(&(index - 1))
    });
    true
}

/// `CREATE [TEMP] TRIGGER IF NOT EXISTS trg …` → without `IF NOT EXISTS`.
fn trigger_if_not_exists(tokens: &mut Vec<TokenWithSpan>) -> bool {
    let sig = significant(tokens);
    if !is(tokens, &sig, 0, "CREATE") {
        return false;
    }
    let k = after_create_modifiers(tokens, &sig);
    if !(is(tokens, &sig, k, "TRIGGER")
        && is(tokens, &sig, k + 1, "IF")
        && is(tokens, &sig, k + 2, "NOT")
        && is(tokens, &sig, k + 3, "EXISTS"))
    {
        return false;
    }
    let drop = [sig[k + 1], sig[k + 2], sig[k + 3]];
    let mut index = 0;
    tokens.retain(|_| {
        index += 1;
        !drop.contains(&(index - 1))
    });
    true
}

/// `CREATE MATERIALIZED VIEW … WITH [NO] DATA` → without the last clause.
fn materialized_view_with_data(tokens: &mut Vec<TokenWithSpan>) -> bool {
    let sig = significant(tokens);
    if !is(tokens, &sig, 0, "CREATE") {
        return false;
    }
    let k = after_create_modifiers(tokens, &sig);
    if !(is(tokens, &sig, k - 1, "MATERIALIZED") && is(tokens, &sig, k, "VIEW")) {
        return false;
    }
    let n = sig.len();
    if n < 3 || !is(tokens, &sig, n - 1, "DATA") {
        return false;
    }
    let from = if is(tokens, &sig, n - 2, "NO") && is(tokens, &sig, n - 3, "WITH") {
        n - 3
    } else if is(tokens, &sig, n - 2, "WITH") {
        n - 2
    } else {
        return false;
    };
    tokens.truncate(sig[from]);
    true
}

/// `CREATE [UNIQUE] INDEX … TABLESPACE ts …` → without `TABLESPACE ts`.
fn index_tablespace(tokens: &mut Vec<TokenWithSpan>) -> bool {
    let sig = significant(tokens);
    if !is(tokens, &sig, 0, "CREATE") {
        return false;
    }
    let k = after_create_modifiers(tokens, &sig);
    if !is(tokens, &sig, k, "INDEX") {
        return false;
    }
    let Some(at) = (k..sig.len()).find(|&j| is(tokens, &sig, j, "TABLESPACE")) else {
        return false;
    };
    let end = name_end(tokens, &sig, at + 1);
    if end == at + 1 {
        return false;
    }
    let drop: Vec<usize> = (at..end).map(|j| sig[j]).collect();
    let mut index = 0;
    tokens.retain(|_| {
        index += 1;
        !drop.contains(&(index - 1))
    });
    true
}
