//! Splitting a token stream into statements.
//!
//! Statements end at a top-level `;`. Inside the body of a `CREATE TRIGGER`,
//! `CREATE PROCEDURE`, `CREATE FUNCTION` or `CREATE EVENT` written with
//! `BEGIN … END` (SQLite, MySQL, and PostgreSQL's `BEGIN ATOMIC`), semicolons
//! end inner statements, not the outer one, so `BEGIN`/`CASE` … `END` depth is
//! tracked there. Dollar quotes, strings and comments are single tokens
//! already, so their semicolons never split.
//!
//! MySQL files written for the `mysql` client may change the delimiter with
//! `DELIMITER $$` … `DELIMITER ;` lines. Those lines are client commands, not
//! SQL: [`client_delimiters`] finds them before tokenizing, blanks them (and
//! every custom delimiter) out of the text the tokenizer sees, character for
//! character so that every line and column stays where it was, and returns
//! the ranges of the statements they delimit. Each such range is one
//! statement, whatever semicolons it holds.

use std::ops::Range;

use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Location, Token, TokenWithSpan, Whitespace};

/// A statement's tokens: `[first, last]` indexes into the token vector, both
/// significant (not whitespace), without the `;` that ends it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Chunk {
    pub first: usize,
    pub last: usize,
}

pub(crate) fn is_trivia(token: &Token) -> bool {
    matches!(token, Token::Whitespace(_))
}

fn keyword(token: &Token) -> Option<Keyword> {
    match token {
        Token::Word(w) if w.quote_style.is_none() => Some(w.keyword),
        _ => None,
    }
}

/// Whether a statement that starts with these tokens (significant ones,
/// at most the first dozen) has a compound body in which `;` does not end
/// the statement: `CREATE [OR REPLACE] [TEMP] [CONSTRAINT] [DEFINER = u@h]
/// {TRIGGER|PROCEDURE|FUNCTION|EVENT}`.
fn has_compound_body(head: &[&Token]) -> bool {
    if head.first().and_then(|t| keyword(t)) != Some(Keyword::CREATE) {
        return false;
    }
    let mut i = 1;
    while let Some(token) = head.get(i) {
        match keyword(token) {
            Some(Keyword::OR | Keyword::REPLACE | Keyword::TEMP | Keyword::TEMPORARY) => i += 1,
            Some(Keyword::CONSTRAINT | Keyword::AGGREGATE) => i += 1,
            Some(Keyword::DEFINER) => {
                // `DEFINER = user[@host]`, or `DEFINER = CURRENT_USER[()]`:
                // the kind of object follows within a few tokens.
                return head.iter().skip(i + 1).any(|t| {
                    matches!(
                        keyword(t),
                        Some(
                            Keyword::TRIGGER
                                | Keyword::PROCEDURE
                                | Keyword::FUNCTION
                                | Keyword::EVENT
                        )
                    )
                });
            }
            Some(Keyword::TRIGGER | Keyword::PROCEDURE | Keyword::FUNCTION | Keyword::EVENT) => {
                return true;
            }
            _ => return false,
        }
    }
    false
}

/// How many significant tokens [`has_compound_body`] looks at.
const HEAD: usize = 12;

/// Splits `tokens` into statement chunks. `hard` lists ranges of the file
/// (from a `DELIMITER` block, see [`client_delimiters`]) that are one
/// statement each, whatever they contain.
pub(crate) fn split(tokens: &[TokenWithSpan], hard: &[(Location, Location)]) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    let mut first: Option<usize> = None;
    let mut last = 0usize;
    let mut head: Vec<&Token> = Vec::new();
    let mut depth = 0usize;
    let mut compound = false;
    // Set after an `END` that closes a block by name (`END CASE`, `END IF`):
    // the name is not an opener.
    let mut skip_opener = false;

    let mut i = 0;
    while i < tokens.len() {
        let token = &tokens[i].token;
        if is_trivia(token) || matches!(token, Token::EOF) {
            i += 1;
            continue;
        }
        let start = tokens[i].span.start;
        if let Some((_, end)) = hard.iter().find(|(s, e)| *s <= start && start < *e) {
            // A statement of a `DELIMITER` block: everything up to its end.
            if let Some(open) = first.take() {
                chunks.push(Chunk { first: open, last });
            }
            head.clear();
            (depth, compound, skip_opener) = (0, false, false);
            let from = i;
            let mut to = None;
            while i < tokens.len() && tokens[i].span.start < *end {
                let t = &tokens[i].token;
                if !is_trivia(t) && !matches!(t, Token::EOF | Token::SemiColon) {
                    to = Some(i);
                }
                i += 1;
            }
            if let Some(to) = to {
                let from = (from..=to)
                    .find(|&j| !is_trivia(&tokens[j].token) && tokens[j].token != Token::SemiColon)
                    .unwrap_or(to);
                chunks.push(Chunk {
                    first: from,
                    last: to,
                });
            }
            continue;
        }
        if matches!(token, Token::SemiColon) && depth == 0 {
            if let Some(open) = first.take() {
                chunks.push(Chunk { first: open, last });
            }
            head.clear();
            (compound, skip_opener) = (false, false);
            i += 1;
            continue;
        }
        if first.is_none() {
            first = Some(i);
        }
        last = i;
        if head.len() < HEAD {
            head.push(token);
            compound = has_compound_body(&head);
        }
        if compound {
            let was_skip = std::mem::take(&mut skip_opener);
            match keyword(token) {
                Some(Keyword::BEGIN) | Some(Keyword::CASE) if !was_skip => depth += 1,
                Some(Keyword::END) => {
                    // `END IF`, `END LOOP`, `END WHILE`, `END REPEAT` close
                    // blocks that were not counted; `END CASE` closes a
                    // counted `CASE` and must not open another.
                    let next = next_significant(tokens, i + 1).map(|j| &tokens[j].token);
                    let named = |names: &[&str]| {
                        matches!(next, Some(Token::Word(w)) if w.quote_style.is_none()
                            && names.iter().any(|n| w.value.eq_ignore_ascii_case(n)))
                    };
                    if named(&["IF", "LOOP", "WHILE", "REPEAT"]) {
                        skip_opener = true;
                    } else if named(&["CASE"]) {
                        skip_opener = true;
                        depth = depth.saturating_sub(1);
                    } else {
                        depth = depth.saturating_sub(1);
                    }
                }
                _ => {}
            }
        }
        i += 1;
    }
    if let Some(open) = first {
        chunks.push(Chunk { first: open, last });
    }
    chunks
}

pub(crate) fn next_significant(tokens: &[TokenWithSpan], from: usize) -> Option<usize> {
    (from..tokens.len()).find(|&j| !is_trivia(&tokens[j].token) && tokens[j].token != Token::EOF)
}

/// The comments among `tokens`, with their token index.
pub(crate) fn comments(tokens: &[TokenWithSpan]) -> impl Iterator<Item = (usize, &Whitespace)> {
    tokens
        .iter()
        .enumerate()
        .filter_map(|(i, t)| match &t.token {
            Token::Whitespace(w @ Whitespace::SingleLineComment { .. })
            | Token::Whitespace(w @ Whitespace::MultiLineComment(_)) => Some((i, w)),
            _ => None,
        })
}

/// A MySQL file with `DELIMITER` client commands, prepared for the tokenizer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ClientDelimiters {
    /// The text with every `DELIMITER` line and every custom delimiter
    /// replaced by spaces, one space per character (newlines kept), so that
    /// lines and character columns are those of the original text.
    pub masked: String,
    /// Byte ranges of the original text, each one statement ended by a
    /// custom delimiter (or by the next `DELIMITER` line, or the file's end).
    pub statements: Vec<Range<usize>>,
}

fn starts_with_ignore_case(text: &str, at: usize, word: &str) -> bool {
    text.as_bytes()
        .get(at..at + word.len())
        .is_some_and(|b| b.eq_ignore_ascii_case(word.as_bytes()))
}

/// Finds the `mysql` client's `DELIMITER` commands. `None` when the file has
/// none (the common case, decided quickly).
pub(crate) fn client_delimiters(text: &str) -> Option<ClientDelimiters> {
    let bytes = text.as_bytes();
    if !bytes
        .windows(9)
        .any(|w| w.eq_ignore_ascii_case(b"delimiter"))
    {
        return None;
    }
    let mut delimiter = String::from(";");
    let mut blank: Vec<Range<usize>> = Vec::new();
    let mut statements = Vec::new();
    let mut statement_start = 0usize;
    // Something other than whitespace and comments since the last statement
    // ended: a `DELIMITER` word there is SQL, not a command.
    let mut in_statement = false;
    let mut i = 0usize;
    while i < bytes.len() {
        let b = bytes[i];
        if !in_statement
            && starts_with_ignore_case(text, i, "delimiter")
            && bytes.get(i + 9).is_some_and(|c| *c == b' ' || *c == b'\t')
            && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric() && bytes[i - 1] != b'_')
        {
            let line_end = text[i..].find('\n').map_or(text.len(), |n| i + n);
            let new = text[i + 9..line_end]
                .split_whitespace()
                .next()
                .unwrap_or("");
            if !new.is_empty() {
                if delimiter != ";" {
                    statements.push(statement_start..i);
                }
                blank.push(i..line_end);
                delimiter = new.to_string();
                statement_start = line_end;
                i = line_end;
                continue;
            }
        }
        if delimiter != ";" && text[i..].starts_with(delimiter.as_str()) {
            statements.push(statement_start..i);
            blank.push(i..i + delimiter.len());
            i += delimiter.len();
            statement_start = i;
            in_statement = false;
            continue;
        }
        match b {
            b'\'' | b'"' | b'`' => {
                in_statement = true;
                i += 1;
                while i < bytes.len() && bytes[i] != b {
                    if bytes[i] == b'\\' && b != b'`' {
                        i += 1;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'#' => i = text[i..].find('\n').map_or(text.len(), |n| i + n),
            b'-' if bytes.get(i + 1) == Some(&b'-')
                && bytes.get(i + 2).is_none_or(|c| c.is_ascii_whitespace()) =>
            {
                i = text[i..].find('\n').map_or(text.len(), |n| i + n);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = text[i + 2..]
                    .find("*/")
                    .map_or(text.len(), |n| i + 2 + n + 2);
            }
            b';' if delimiter == ";" => {
                in_statement = false;
                i += 1;
            }
            _ => {
                if !b.is_ascii_whitespace() {
                    in_statement = true;
                }
                // Step over a whole character, so `i` stays on a boundary.
                i += text[i..].chars().next().map_or(1, char::len_utf8);
            }
        }
    }
    if blank.is_empty() {
        return None;
    }
    if delimiter != ";" {
        statements.push(statement_start..text.len());
    }
    statements.retain(|r| text.get(r.clone()).is_some_and(|s| !s.trim().is_empty()));
    let mut masked = String::with_capacity(text.len());
    let mut from = 0;
    for range in &blank {
        let (start, end) = (range.start.min(text.len()), range.end.min(text.len()));
        if start < from || !text.is_char_boundary(start) || !text.is_char_boundary(end) {
            continue;
        }
        masked.push_str(&text[from..start]);
        masked.extend(
            text[start..end]
                .chars()
                .map(|c| if c == '\n' || c == '\r' { c } else { ' ' }),
        );
        from = end;
    }
    masked.push_str(text.get(from..).unwrap_or(""));
    Some(ClientDelimiters { masked, statements })
}

/// The 1-based line and character column of byte `offset` of `text`.
pub(crate) fn location_of(text: &str, offset: usize) -> Location {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |n| n + 1);
    let column = before[line_start..].chars().count() + 1;
    Location {
        line: line as u64,
        column: column as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_delimiters_are_blanked_in_place() {
        let sql = "SELECT 1;\nDELIMITER $$\nCREATE PROCEDURE p() BEGIN SELECT 1; END$$\nDELIMITER ;\nSELECT 'é';\n";
        let found = client_delimiters(sql).expect("delimiters");
        assert_eq!(found.masked.len(), sql.len());
        assert_eq!(found.masked.lines().count(), sql.lines().count());
        assert!(!found.masked.contains("DELIMITER"));
        assert!(!found.masked.contains("$$"));
        assert_eq!(found.statements.len(), 1);
        assert_eq!(
            &sql[found.statements[0].clone()].trim(),
            &"CREATE PROCEDURE p() BEGIN SELECT 1; END"
        );
    }

    #[test]
    fn delimiter_as_a_column_name_is_sql() {
        assert_eq!(
            client_delimiters("CREATE TABLE t (\ndelimiter VARCHAR(1)\n);"),
            None
        );
        assert_eq!(client_delimiters("SELECT 1; -- DELIMITER $$\n"), None);
    }

    #[test]
    fn locations_count_characters() {
        let text = "ab\nçd\r\nx";
        assert_eq!(location_of(text, 0), Location { line: 1, column: 1 });
        assert_eq!(location_of(text, 4), Location { line: 2, column: 1 });
        assert_eq!(location_of(text, 5), Location { line: 2, column: 2 });
        assert_eq!(location_of(text, 8), Location { line: 3, column: 1 });
        assert_eq!(location_of(text, 99), Location { line: 3, column: 2 });
    }
}
