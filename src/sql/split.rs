//! Splitting a token stream into statements.
//!
//! Statements end at a top-level `;`. Inside the body of a `CREATE TRIGGER`,
//! `CREATE PROCEDURE`, `CREATE FUNCTION` or `CREATE EVENT` written with
//! `BEGIN … END` (SQLite, MySQL, and PostgreSQL's `BEGIN ATOMIC`), semicolons
//! end inner statements, not the outer one, so `BEGIN`/`CASE` … `END` depth is
//! tracked there. Dollar quotes, strings and comments are single tokens
//! already, so their semicolons never split.

use sqlparser::keywords::Keyword;
use sqlparser::tokenizer::{Token, TokenWithSpan, Whitespace};

/// A statement's tokens: `[first, last]` indexes into the token vector, both
/// significant (not whitespace), and the index of its `;` if it had one.
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

/// Whether a statement that starts with these keywords has a compound body in
/// which `;` does not end the statement.
fn has_compound_body(head: &[Keyword]) -> bool {
    if head.first() != Some(&Keyword::CREATE) {
        return false;
    }
    head.iter().skip(1).take(6).any(|k| {
        matches!(
            k,
            Keyword::TRIGGER | Keyword::PROCEDURE | Keyword::FUNCTION | Keyword::EVENT
        )
    })
}

/// Splits `tokens` into statement chunks.
pub(crate) fn split(tokens: &[TokenWithSpan]) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    let mut first: Option<usize> = None;
    let mut last = 0usize;
    let mut head: Vec<Keyword> = Vec::new();
    let mut depth = 0usize;
    let mut compound = false;

    let mut i = 0;
    while i < tokens.len() {
        let token = &tokens[i].token;
        if is_trivia(token) || matches!(token, Token::EOF) {
            i += 1;
            continue;
        }
        if matches!(token, Token::SemiColon) && depth == 0 {
            if let Some(start) = first.take() {
                chunks.push(Chunk { first: start, last });
            }
            head.clear();
            compound = false;
            i += 1;
            continue;
        }
        if first.is_none() {
            first = Some(i);
        }
        last = i;
        if head.len() < 8 {
            head.push(keyword(token).unwrap_or(Keyword::NoKeyword));
            if head.len() <= 7 {
                compound = has_compound_body(&head);
            }
        }
        if compound {
            match keyword(token) {
                Some(Keyword::BEGIN) | Some(Keyword::CASE) => depth += 1,
                Some(Keyword::END) => {
                    // `END IF`, `END LOOP`, `END WHILE`, `END REPEAT` close
                    // blocks that were not counted.
                    let next = next_significant(tokens, i + 1).map(|j| &tokens[j].token);
                    let closes_uncounted = matches!(
                        next,
                        Some(Token::Word(w)) if w.quote_style.is_none()
                            && ["IF", "LOOP", "WHILE", "REPEAT"]
                                .iter()
                                .any(|k| w.value.eq_ignore_ascii_case(k))
                    );
                    if !closes_uncounted {
                        depth = depth.saturating_sub(1);
                    }
                }
                _ => {}
            }
        }
        i += 1;
    }
    if let Some(start) = first {
        chunks.push(Chunk { first: start, last });
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
