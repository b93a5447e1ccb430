//! The SQL front end: a migration file becomes a list of statements, each with
//! its exact place in the file, its original text, and what it is (a
//! sqlparser AST, a statement recognised from its tokens, or unknown).
//!
//! Per statement: sqlparser first; then, for a few known gaps of sqlparser,
//! the same tokens with a small edit (`repair.rs`); then the token-level
//! recogniser (`recognise.rs`); else unknown, with sqlparser's message.
//! MySQL `DELIMITER` blocks, CRLF line endings and a leading byte-order mark
//! keep every line and column exact.
//!
//! This module knows nothing of rules or databases.

mod names;
mod parse;
mod recognise;
mod repair;
mod split;

use std::ops::Range;

use sqlparser::ast;
use sqlparser::tokenizer::TokenWithSpan;

pub use names::{ident_key, object_key, unquote};
pub use parse::{parse_file, split_file};
pub use recognise::Recognised;

use crate::finding::Position;

/// Where a piece of text sits in its file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Span {
    /// First character (1-based line and character column).
    pub start: Position,
    /// One past the last character.
    pub end: Position,
    /// The same range in bytes of the file's text.
    pub bytes: Range<usize>,
}

/// A comment found in a file, with its place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Comment {
    /// The text after `--`/`#`, or between `/*` and `*/`, untrimmed.
    pub text: String,
    pub span: Span,
    /// `true` for `--`/`#` comments, `false` for block comments.
    pub line_comment: bool,
}

/// What one statement is.
#[derive(Clone, Debug)]
pub enum StatementKind {
    /// sqlparser parsed it.
    Parsed(Box<ast::Statement>),
    /// sqlparser could not parse it, but the token-level recogniser knows what
    /// it is.
    Recognised(Recognised),
    /// Neither could; `message` is sqlparser's, `at` where it stopped.
    Unknown { message: String, at: Position },
}

/// One statement of a file.
#[derive(Clone, Debug)]
pub struct Statement {
    pub span: Span,
    /// The statement's text as written, without the trailing `;`.
    pub text: String,
    pub kind: StatementKind,
    /// The statement's tokens without whitespace and comments, with their
    /// places in the file. Rules use them for what the AST does not keep.
    pub tokens: Vec<TokenWithSpan>,
}

impl Statement {
    pub fn ast(&self) -> Option<&ast::Statement> {
        match &self.kind {
            StatementKind::Parsed(statement) => Some(statement),
            _ => None,
        }
    }

    pub fn recognised(&self) -> Option<&Recognised> {
        match &self.kind {
            StatementKind::Recognised(recognised) => Some(recognised),
            _ => None,
        }
    }

    /// The upper-cased words of the statement in order, keywords and
    /// identifiers alike; handy for token-level checks.
    pub fn words(&self) -> impl Iterator<Item = String> + '_ {
        self.tokens.iter().filter_map(|t| match &t.token {
            sqlparser::tokenizer::Token::Word(w) => Some(w.value.to_ascii_uppercase()),
            _ => None,
        })
    }

    /// Whether the statement's tokens contain this sequence of words
    /// (case-insensitive, adjacent tokens).
    pub fn has_words(&self, seq: &[&str]) -> bool {
        let words: Vec<Option<String>> = self
            .tokens
            .iter()
            .map(|t| match &t.token {
                sqlparser::tokenizer::Token::Word(w) if w.quote_style.is_none() => {
                    Some(w.value.to_ascii_uppercase())
                }
                _ => None,
            })
            .collect();
        words.windows(seq.len()).any(|window| {
            window
                .iter()
                .zip(seq)
                .all(|(w, s)| w.as_deref() == Some(*s))
        })
    }
}

/// A parsed file.
#[derive(Clone, Debug, Default)]
pub struct SqlFile {
    pub statements: Vec<Statement>,
    pub comments: Vec<Comment>,
    /// The tokenizer gave up here (an unterminated string or quote, say); the
    /// statements before it are still listed.
    pub tokenize_error: Option<(String, Position)>,
}

impl SqlFile {
    /// True when the file holds no statement (only comments and blanks).
    pub fn is_empty(&self) -> bool {
        self.statements.is_empty() && self.tokenize_error.is_none()
    }
}
