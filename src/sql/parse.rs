//! From a file's text to a [`SqlFile`]: tokenize once, split, parse each
//! statement with sqlparser on the file's own tokens (so sqlparser's error
//! positions are positions in the file), and fall back to the token-level
//! recogniser where sqlparser gives up.

use sqlparser::ast;
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Location, Token, TokenWithSpan, Tokenizer, Whitespace};

use super::recognise::recognise;
use super::repair::repair;
use super::split::{client_delimiters, comments, is_trivia, location_of, split};
use super::{Comment, Span, SqlFile, Statement, StatementKind};
use crate::dialect::Dialect;
use crate::finding::Position;

/// Maps sqlparser's (line, character column) locations to byte offsets.
struct LineIndex<'a> {
    text: &'a str,
    /// Byte offset of each line's start, and whether the line is ASCII (so
    /// that columns are bytes).
    lines: Vec<(usize, bool)>,
}

impl<'a> LineIndex<'a> {
    fn new(text: &'a str) -> Self {
        let mut lines = Vec::new();
        let mut start = 0;
        for line in text.split_inclusive('\n') {
            lines.push((start, line.is_ascii()));
            start += line.len();
        }
        if lines.is_empty() || text.ends_with('\n') {
            lines.push((start, true));
        }
        LineIndex { text, lines }
    }

    fn offset(&self, line: u64, column: u64) -> usize {
        let Some(&(start, ascii)) = self.lines.get((line as usize).saturating_sub(1)) else {
            return self.text.len();
        };
        let chars = (column as usize).saturating_sub(1);
        let line_end = self
            .lines
            .get(line as usize)
            .map_or(self.text.len(), |&(next, _)| next);
        if ascii && start + chars <= line_end {
            return start + chars;
        }
        let rest = self.text.get(start..).unwrap_or_default();
        rest.char_indices()
            .nth(chars)
            .map(|(i, _)| start + i)
            .unwrap_or(self.text.len())
    }
}

fn position(location: sqlparser::tokenizer::Location) -> Position {
    Position::new(location.line as usize, location.column as usize)
}

/// The span from the start of `first` to the end of `last`; byte offsets
/// are shifted by `shift` (the byte-order mark skipped before tokenizing).
fn span_of(
    index: &LineIndex<'_>,
    first: &TokenWithSpan,
    last: &TokenWithSpan,
    shift: usize,
) -> Span {
    let (start, end) = (first.span.start, last.span.end.max(first.span.start));
    let from = index.offset(start.line, start.column);
    let to = index.offset(end.line, end.column).max(from);
    Span {
        start: position(start),
        end: position(end),
        bytes: from + shift..to + shift,
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

/// The byte-order mark some editors put at the start of a file.
const BOM: char = '\u{feff}';

/// Tokenizes, splits and parses a whole file. Never fails: what cannot be
/// understood becomes [`StatementKind::Unknown`] or [`SqlFile::tokenize_error`].
///
/// A leading byte-order mark is skipped: columns on the first line count
/// from the character after it (as editors show them), byte ranges index
/// `text` as given. MySQL `DELIMITER` client commands are honoured (see
/// [`client_delimiters`]).
pub fn parse_file(text: &str, dialect: Dialect) -> SqlFile {
    scan_file(text, dialect, true)
}

/// Like [`parse_file`], but only splits: every statement's kind is
/// [`StatementKind::Unknown`] with an empty message. For the runner, which
/// needs the statements' exact text and tokens, not their AST.
pub fn split_file(text: &str, dialect: Dialect) -> SqlFile {
    scan_file(text, dialect, false)
}

fn scan_file(text: &str, dialect: Dialect, parse: bool) -> SqlFile {
    let (body, shift) = match text.strip_prefix(BOM) {
        Some(rest) => (rest, BOM.len_utf8()),
        None => (text, 0),
    };
    let delimited = match dialect {
        Dialect::Mysql => client_delimiters(body),
        _ => None,
    };
    let tokenized: &str = delimited.as_ref().map_or(body, |d| d.masked.as_str());
    let hard: Vec<(Location, Location)> = delimited
        .as_ref()
        .map(|d| {
            d.statements
                .iter()
                .map(|r| (location_of(body, r.start), location_of(body, r.end)))
                .collect()
        })
        .unwrap_or_default();

    let parser_dialect = dialect.parser_dialect();
    let mut tokens: Vec<TokenWithSpan> = Vec::new();
    let tokenize_error = Tokenizer::new(parser_dialect.as_ref(), tokenized)
        .with_unescape(false)
        .tokenize_with_location_into_buf(&mut tokens)
        .err()
        .map(|e| (e.message.clone(), position(e.location)));

    let index = LineIndex::new(body);
    let mut file = SqlFile {
        tokenize_error,
        ..SqlFile::default()
    };

    for (i, whitespace) in comments(&tokens) {
        let token = &tokens[i];
        let (comment_text, line_comment) = match whitespace {
            Whitespace::SingleLineComment { comment, .. } => {
                // A CRLF file's line comments end with the `\r`.
                (
                    comment.strip_suffix('\r').unwrap_or(comment).to_string(),
                    true,
                )
            }
            Whitespace::MultiLineComment(comment) => (comment.clone(), false),
            _ => continue,
        };
        file.comments.push(Comment {
            text: comment_text,
            span: span_of(&index, token, token, shift),
            line_comment,
        });
    }

    for chunk in split(&tokens, &hard) {
        let (Some(first), Some(last)) = (tokens.get(chunk.first), tokens.get(chunk.last)) else {
            continue;
        };
        let span = span_of(&index, first, last, shift);
        let local = span.bytes.start - shift..span.bytes.end - shift;
        let statement_text = body.get(local).unwrap_or_default().to_string();
        let all = &tokens[chunk.first..=chunk.last];
        let significant: Vec<TokenWithSpan> = all
            .iter()
            .filter(|t| !is_trivia(&t.token))
            .cloned()
            .collect();
        let kind = if parse {
            parse_chunk(all, &significant, dialect)
        } else {
            StatementKind::Unknown {
                message: String::new(),
                at: span.start,
            }
        };
        file.statements.push(Statement {
            span,
            text: statement_text,
            kind,
            tokens: significant,
        });
    }
    file
}

/// Parses the tokens as exactly one statement.
fn parse_one(
    tokens: &[TokenWithSpan],
    parser_dialect: &dyn sqlparser::dialect::Dialect,
) -> Result<ast::Statement, String> {
    let mut input: Vec<TokenWithSpan> = tokens.to_vec();
    let end = tokens
        .last()
        .map(|t| t.span.end)
        .unwrap_or(Location { line: 0, column: 0 });
    input.push(TokenWithSpan::at(Token::SemiColon, end, end));
    match Parser::new(parser_dialect)
        .with_tokens_with_locations(input)
        .parse_statements()
    {
        Ok(mut statements) if statements.len() == 1 => Ok(statements.remove(0)),
        Ok(statements) => Err(format!(
            "expected one statement here, sqlparser read {}",
            statements.len()
        )),
        Err(e) => Err(e.to_string()),
    }
}

fn parse_chunk(
    chunk: &[TokenWithSpan],
    significant: &[TokenWithSpan],
    dialect: Dialect,
) -> StatementKind {
    let parser_dialect = dialect.parser_dialect();
    let error = match parse_one(chunk, parser_dialect.as_ref()) {
        Ok(statement) => return StatementKind::Parsed(Box::new(statement)),
        Err(error) => error,
    };
    if let Some(repaired) = repair(chunk)
        && let Ok(statement) = parse_one(&repaired, parser_dialect.as_ref())
    {
        return StatementKind::Parsed(Box::new(statement));
    }
    // sqlparser's SQLite dialect lacks the `<<`/`>>` operators that SQLite
    // has; the generic dialect has them.
    if dialect == Dialect::Sqlite
        && significant
            .iter()
            .any(|t| matches!(t.token, Token::ShiftLeft | Token::ShiftRight))
        && let Ok(statement) = parse_one(chunk, &GenericDialect {})
    {
        return StatementKind::Parsed(Box::new(statement));
    }
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

    #[test]
    fn mysql_delimiter_blocks_stay_whole_with_exact_places() {
        let sql = "SELECT 1;\nDELIMITER $$\nCREATE PROCEDURE p(IN x INT)\nBEGIN\n  IF x > 0 THEN SELECT 1; END IF;\nEND$$\n\nCREATE TRIGGER trg BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1; $$\nDELIMITER ;\nSELECT 'é'; SELECT 3;\n";
        let file = parse_file(sql, Dialect::Mysql);
        let texts: Vec<&str> = file.statements.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "SELECT 1",
                "CREATE PROCEDURE p(IN x INT)\nBEGIN\n  IF x > 0 THEN SELECT 1; END IF;\nEND",
                "CREATE TRIGGER trg BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1",
                "SELECT 'é'",
                "SELECT 3",
            ]
        );
        assert_eq!(file.statements[1].span.start, Position::new(3, 1));
        assert_eq!(file.statements[1].span.end, Position::new(6, 4));
        assert_eq!(file.statements[4].span.start, Position::new(10, 13));
        for statement in &file.statements {
            assert_eq!(&sql[statement.span.bytes.clone()], statement.text);
            assert!(
                !matches!(statement.kind, StatementKind::Unknown { .. }),
                "{statement:?}"
            );
        }
        // Without the client commands the dialects that have none see them
        // as unknown statements, not as a reason to panic.
        assert!(!parse_file(sql, Dialect::Postgres).statements.is_empty());
    }

    #[test]
    fn crlf_and_bom_keep_columns() {
        let lf = "-- note\nCREATE TABLE t (a int);\n  DROP TABLE t;\n";
        let crlf = format!("\u{feff}{}", lf.replace('\n', "\r\n"));
        for dialect in Dialect::ALL {
            let a = parse_file(lf, dialect);
            let b = parse_file(&crlf, dialect);
            assert_eq!(a.statements.len(), 2);
            assert_eq!(b.statements.len(), 2);
            for (x, y) in a.statements.iter().zip(&b.statements) {
                assert_eq!((x.span.start, x.span.end), (y.span.start, y.span.end));
                assert_eq!(x.text, y.text);
                assert_eq!(&crlf[y.span.bytes.clone()], y.text);
                assert!(y.ast().is_some());
            }
            assert_eq!(b.statements[1].span.start, Position::new(3, 3));
            assert_eq!(b.comments[0].text, " note");
        }
    }

    #[test]
    fn repairs_give_an_ast() {
        let cases = [
            (
                Dialect::Postgres,
                "CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public",
            ),
            (
                Dialect::Postgres,
                "ALTER TABLE m ALTER uid TYPE VARCHAR COLLATE \"C\"",
            ),
            (Dialect::Mysql, "ALTER TABLE totp\n    RENAME _bkp_totp"),
            (
                Dialect::Sqlite,
                "CREATE TRIGGER IF NOT EXISTS trg AFTER UPDATE ON t BEGIN\n  UPDATE t SET a = 1;\nEND",
            ),
            (
                Dialect::Postgres,
                "CREATE MATERIALIZED VIEW mv AS SELECT 1 WITH NO DATA",
            ),
            (
                Dialect::Postgres,
                "CREATE INDEX i ON t (a) TABLESPACE fast WHERE a > 0",
            ),
            (
                Dialect::Sqlite,
                "CREATE INDEX i ON t (k) WHERE CASE s WHEN 'a' THEN f & (1 << 0) ELSE 0 END >= 1",
            ),
        ];
        for (dialect, sql) in cases {
            let file = parse_file(sql, dialect);
            assert_eq!(file.statements.len(), 1, "{sql}");
            assert!(
                file.statements[0].ast().is_some(),
                "{sql}: {:?}",
                file.statements[0].kind
            );
            assert_eq!(file.statements[0].text, sql);
        }
        let file = parse_file("ALTER TABLE t RENAME u", Dialect::Mysql);
        let Some(ast::Statement::AlterTable(alter)) = file.statements[0].ast() else {
            panic!("{:?}", file.statements[0].kind);
        };
        assert!(matches!(
            alter.operations[0],
            ast::AlterTableOperation::RenameTable { .. }
        ));
    }

    #[test]
    fn end_case_does_not_open_a_block() {
        let sql = "CREATE PROCEDURE p() BEGIN CASE x WHEN 1 THEN SELECT 1; END CASE; SELECT 2; END;\nSELECT 3;";
        let file = parse_file(sql, Dialect::Mysql);
        assert_eq!(file.statements.len(), 2, "{:?}", kinds(sql, Dialect::Mysql));
        assert_eq!(file.statements[1].text, "SELECT 3");
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        for sql in [
            "",
            ";",
            ";;;",
            "\u{feff}",
            "\u{feff};",
            "é;𝄞",
            "\r",
            "\r\r\n;",
            "DELIMITER",
            "DELIMITER $$",
            "DELIMITER $$\n",
            "DELIMITER $$\nSELECT 1",
            "delimiter é\nSELECT 1é\n",
            "CREATE TRIGGER",
            "CREATE TRIGGER IF NOT EXISTS",
            "ALTER TABLE t RENAME",
            "ALTER TABLE t ALTER c TYPE x COLLATE",
            "CREATE MATERIALIZED VIEW WITH DATA",
            "CREATE INDEX TABLESPACE",
            "CREATE EXTENSION SCHEMA",
            "BEGIN; CREATE FUNCTION f() BEGIN END END END;",
            "'",
            "$$",
            "/*",
            "\"",
            "`",
        ] {
            for dialect in Dialect::ALL {
                let file = parse_file(sql, dialect);
                for statement in &file.statements {
                    assert_eq!(
                        sql.get(statement.span.bytes.clone()),
                        Some(statement.text.as_str())
                    );
                }
            }
        }
    }
}
