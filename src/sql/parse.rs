//! From a file's text to a [`SqlFile`]: tokenize once, split, parse each
//! statement with sqlparser on the file's own tokens (so sqlparser's error
//! positions are positions in the file), and fall back to the token-level
//! recogniser where sqlparser gives up.

use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer, Whitespace};

use super::recognise::recognise;
use super::split::{comments, is_trivia, split};
use super::{Comment, Span, SqlFile, Statement, StatementKind};
use crate::dialect::Dialect;
use crate::finding::Position;

/// Maps sqlparser's (line, character column) locations to byte offsets.
struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, starts }
    }

    fn offset(&self, line: u64, column: u64) -> usize {
        let Some(&start) = self.starts.get((line as usize).saturating_sub(1)) else {
            return self.text.len();
        };
        let rest = &self.text[start..];
        let chars = (column as usize).saturating_sub(1);
        rest.char_indices()
            .nth(chars)
            .map(|(i, _)| start + i)
            .unwrap_or(self.text.len())
    }
}

fn position(location: sqlparser::tokenizer::Location) -> Position {
    Position::new(location.line as usize, location.column as usize)
}

fn span_of(index: &LineIndex<'_>, first: &TokenWithSpan, last: &TokenWithSpan) -> Span {
    let (start, end) = (first.span.start, last.span.end);
    Span {
        start: position(start),
        end: position(end),
        bytes: index.offset(start.line, start.column)..index.offset(end.line, end.column),
    }
}

/// Pulls `at Line: L, Column: C` out of a sqlparser error message.
fn split_error_location(message: &str) -> (String, Option<Position>) {
    if let Some(at) = message.rfind(" at Line: ") {
        let rest = &message[at + " at Line: ".len()..];
        let mut parts = rest.splitn(2, ", Column: ");
        let line = parts.next().and_then(|l| l.trim().parse::<usize>().ok());
        let column = parts.next().and_then(|c| {
            c.trim()
                .trim_end_matches(|ch: char| !ch.is_ascii_digit())
                .parse::<usize>()
                .ok()
        });
        if let (Some(line), Some(column)) = (line, column) {
            return (message[..at].to_string(), Some(Position::new(line, column)));
        }
    }
    (message.to_string(), None)
}

/// Tokenizes, splits and parses a whole file. Never fails: what cannot be
/// understood becomes [`StatementKind::Unknown`] or [`SqlFile::tokenize_error`].
pub fn parse_file(text: &str, dialect: Dialect) -> SqlFile {
    let parser_dialect = dialect.parser_dialect();
    let mut tokens: Vec<TokenWithSpan> = Vec::new();
    let tokenize_error = Tokenizer::new(parser_dialect.as_ref(), text)
        .with_unescape(false)
        .tokenize_with_location_into_buf(&mut tokens)
        .err()
        .map(|e| (e.message.clone(), position(e.location)));

    let index = LineIndex::new(text);
    let mut file = SqlFile {
        tokenize_error,
        ..SqlFile::default()
    };

    for (i, whitespace) in comments(&tokens) {
        let token = &tokens[i];
        let (comment_text, line_comment) = match whitespace {
            Whitespace::SingleLineComment { comment, .. } => (comment.clone(), true),
            Whitespace::MultiLineComment(comment) => (comment.clone(), false),
            _ => continue,
        };
        file.comments.push(Comment {
            text: comment_text,
            span: span_of(&index, token, token),
            line_comment,
        });
    }

    for chunk in split(&tokens) {
        let first = &tokens[chunk.first];
        let last = &tokens[chunk.last];
        let span = span_of(&index, first, last);
        let statement_text = text[span.bytes.clone()].to_string();
        let significant: Vec<TokenWithSpan> = tokens[chunk.first..=chunk.last]
            .iter()
            .filter(|t| !is_trivia(&t.token))
            .cloned()
            .collect();
        let kind = parse_chunk(&tokens[chunk.first..=chunk.last], &significant, dialect);
        file.statements.push(Statement {
            span,
            text: statement_text,
            kind,
            tokens: significant,
        });
    }
    file
}

fn parse_chunk(
    chunk: &[TokenWithSpan],
    significant: &[TokenWithSpan],
    dialect: Dialect,
) -> StatementKind {
    let parser_dialect = dialect.parser_dialect();
    let mut input: Vec<TokenWithSpan> = chunk.to_vec();
    let end = chunk
        .last()
        .map(|t| t.span.end)
        .unwrap_or(sqlparser::tokenizer::Location { line: 0, column: 0 });
    input.push(TokenWithSpan::at(Token::SemiColon, end, end));
    let result = Parser::new(parser_dialect.as_ref())
        .with_tokens_with_locations(input)
        .parse_statements();
    let error = match result {
        Ok(mut statements) if statements.len() == 1 => {
            return StatementKind::Parsed(Box::new(statements.remove(0)));
        }
        Ok(statements) => format!(
            "expected one statement here, sqlparser read {}",
            statements.len()
        ),
        Err(e) => e.to_string(),
    };
    if let Some(recognised) = recognise(significant, dialect) {
        return StatementKind::Recognised(recognised);
    }
    let (message, at) = split_error_location(&error);
    let at = at.unwrap_or_else(|| {
        significant
            .first()
            .map(|t| position(t.span.start))
            .unwrap_or_default()
    });
    let message = message
        .strip_prefix("sql parser error: ")
        .unwrap_or(&message)
        .to_string();
    StatementKind::Unknown { message, at }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str, dialect: Dialect) -> Vec<String> {
        parse_file(text, dialect)
            .statements
            .iter()
            .map(|s| match &s.kind {
                StatementKind::Parsed(_) => format!("parsed {}:{}", s.span.start, s.text),
                StatementKind::Recognised(r) => format!("recognised {r:?}"),
                StatementKind::Unknown { message, at } => format!("unknown {at} {message}"),
            })
            .collect()
    }

    #[test]
    fn splits_with_exact_places() {
        let sql = "-- c; not a split\nCREATE TABLE t (a int);\n\n  ALTER TABLE t ADD COLUMN b text DEFAULT 'x;y';\n";
        let file = parse_file(sql, Dialect::Postgres);
        assert_eq!(file.statements.len(), 2);
        assert_eq!(file.statements[0].span.start, Position::new(2, 1));
        assert_eq!(file.statements[0].text, "CREATE TABLE t (a int)");
        assert_eq!(file.statements[1].span.start, Position::new(4, 3));
        assert_eq!(
            file.statements[1].text,
            "ALTER TABLE t ADD COLUMN b text DEFAULT 'x;y'"
        );
        assert_eq!(file.comments.len(), 1);
        assert!(file.statements.iter().all(|s| s.ast().is_some()));
    }

    #[test]
    fn dollar_quotes_and_trigger_bodies_stay_whole() {
        let pg = "CREATE FUNCTION f() RETURNS trigger AS $$ BEGIN x := 1; RETURN NEW; END; $$ LANGUAGE plpgsql;\nSELECT 1;";
        assert_eq!(parse_file(pg, Dialect::Postgres).statements.len(), 2);
        let lite = "CREATE TRIGGER trg AFTER UPDATE ON t BEGIN\n  UPDATE t SET a = 1;\n  UPDATE t SET b = CASE WHEN 1 THEN 2 END;\nEND;\nSELECT 1;";
        let file = parse_file(lite, Dialect::Sqlite);
        assert_eq!(
            file.statements.len(),
            2,
            "{:?}",
            kinds(lite, Dialect::Sqlite)
        );
        assert!(file.statements[0].ast().is_some());
    }

    #[test]
    fn unknown_statement_keeps_file_position_and_rest_is_parsed() {
        let sql = "SELECT 1;\nFROBNICATE the table;\nSELECT 2;";
        let file = parse_file(sql, Dialect::Postgres);
        assert_eq!(file.statements.len(), 3);
        match &file.statements[1].kind {
            StatementKind::Unknown { at, message } => {
                assert_eq!(*at, Position::new(2, 1));
                assert!(message.contains("FROBNICATE"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        assert!(file.statements[2].ast().is_some());
    }

    #[test]
    fn unterminated_string_reports_and_keeps_earlier_statements() {
        let file = parse_file("SELECT 1;\nSELECT 'oops", Dialect::Postgres);
        assert!(file.tokenize_error.is_some());
        assert!(!file.statements.is_empty());
    }
}
