//! Token-level facts about MySQL/MariaDB DDL that the online-DDL rules share:
//! which table an `ALTER TABLE`, `CREATE INDEX` or `DROP INDEX` works on, and
//! its `ALGORITHM=` and `LOCK=` clauses. Read from the tokens so that
//! statements sqlparser cannot parse (`ALTER TABLE t CONVERT TO …`,
//! `DROP INDEX i ON t LOCK=SHARED`) are covered too.

use sqlparser::tokenizer::{Token, TokenWithSpan};

use crate::finding::Position;
use crate::sql::{Statement, unquote};

/// The kind of DDL statement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DdlKind {
    AlterTable,
    CreateIndex,
    DropIndex,
}

/// One `ALGORITHM [=] value` or `LOCK [=] value` clause.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Clause {
    /// Upper-cased: `COPY`, `INPLACE`, `INSTANT`, `DEFAULT`; `NONE`,
    /// `SHARED`, `EXCLUSIVE`.
    pub value: String,
    /// Where the clause starts.
    pub at: Position,
}

/// What the tokens say about a DDL statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Ddl {
    pub kind: DdlKind,
    /// The table's catalog key, when the statement names it.
    pub table: Option<String>,
    pub algorithm: Option<Clause>,
    pub lock: Option<Clause>,
}

impl Ddl {
    /// `ALGORITHM=INPLACE|INSTANT` or `LOCK=NONE`: MySQL refuses the
    /// statement rather than fall back to a blocking table copy.
    pub fn refuses_copy(&self) -> bool {
        self.algorithm
            .as_ref()
            .is_some_and(|a| a.value == "INPLACE" || a.value == "INSTANT")
            || self.lock.as_ref().is_some_and(|l| l.value == "NONE")
    }
}

fn word(token: &TokenWithSpan) -> Option<String> {
    match &token.token {
        Token::Word(w) if w.quote_style.is_none() => Some(w.value.to_ascii_uppercase()),
        _ => None,
    }
}

fn is_word(tokens: &[TokenWithSpan], i: usize, expected: &str) -> bool {
    tokens.get(i).and_then(word).as_deref() == Some(expected)
}

/// A possibly qualified name at `i`, as a catalog key.
fn name_at(tokens: &[TokenWithSpan], mut i: usize) -> Option<String> {
    let mut parts = Vec::new();
    while let Some(Token::Word(_)) = tokens.get(i).map(|t| &t.token) {
        parts.push(unquote(&tokens[i].token.to_string()));
        i += 1;
        if matches!(tokens.get(i).map(|t| &t.token), Some(Token::Period)) {
            i += 1;
        } else {
            break;
        }
    }
    (!parts.is_empty()).then(|| parts.join("."))
}

/// The clause `keyword [=] value` among the statement's top-level tokens,
/// when `value` is one of `values`.
fn clause(tokens: &[TokenWithSpan], keyword: &str, values: &[&str]) -> Option<Clause> {
    let mut depth = 0usize;
    for (i, token) in tokens.iter().enumerate() {
        match token.token {
            Token::LParen => depth += 1,
            Token::RParen => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth > 0 || word(token).as_deref() != Some(keyword) {
            continue;
        }
        let mut j = i + 1;
        if matches!(tokens.get(j).map(|t| &t.token), Some(Token::Eq)) {
            j += 1;
        }
        if let Some(value) = tokens.get(j).and_then(word)
            && values.contains(&value.as_str())
        {
            return Some(Clause {
                value,
                at: Position::new(
                    token.span.start.line as usize,
                    token.span.start.column as usize,
                ),
            });
        }
    }
    None
}

/// The table after the first top-level `ON` from `start`.
fn table_after_on(tokens: &[TokenWithSpan], start: usize) -> Option<String> {
    let mut depth = 0usize;
    for i in start..tokens.len() {
        match tokens[i].token {
            Token::LParen => depth += 1,
            Token::RParen => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth == 0 && is_word(tokens, i, "ON") {
            return name_at(tokens, i + 1);
        }
    }
    None
}

/// Reads an `ALTER TABLE`, `CREATE INDEX` or `DROP INDEX` statement; `None`
/// for anything else.
pub(crate) fn read(statement: &Statement) -> Option<Ddl> {
    let tokens = &statement.tokens;
    let (kind, table) = if is_word(tokens, 0, "ALTER") {
        let mut i = 1;
        while ["ONLINE", "OFFLINE", "IGNORE"]
            .iter()
            .any(|w| is_word(tokens, i, w))
        {
            i += 1;
        }
        if !is_word(tokens, i, "TABLE") {
            return None;
        }
        i += 1;
        if is_word(tokens, i, "IF") && is_word(tokens, i + 1, "EXISTS") {
            i += 2;
        }
        (DdlKind::AlterTable, name_at(tokens, i))
    } else if is_word(tokens, 0, "CREATE") {
        let mut i = 1;
        if is_word(tokens, i, "OR") && is_word(tokens, i + 1, "REPLACE") {
            i += 2;
        }
        while ["ONLINE", "OFFLINE", "UNIQUE", "FULLTEXT", "SPATIAL"]
            .iter()
            .any(|w| is_word(tokens, i, w))
        {
            i += 1;
        }
        if !is_word(tokens, i, "INDEX") {
            return None;
        }
        (DdlKind::CreateIndex, table_after_on(tokens, i + 1))
    } else if is_word(tokens, 0, "DROP") {
        let mut i = 1;
        while ["ONLINE", "OFFLINE"].iter().any(|w| is_word(tokens, i, w)) {
            i += 1;
        }
        if !is_word(tokens, i, "INDEX") {
            return None;
        }
        (DdlKind::DropIndex, table_after_on(tokens, i + 1))
    } else {
        return None;
    };
    Some(Ddl {
        kind,
        table,
        algorithm: clause(
            tokens,
            "ALGORITHM",
            &["COPY", "INPLACE", "INSTANT", "NOCOPY", "DEFAULT"],
        ),
        lock: clause(tokens, "LOCK", &["NONE", "SHARED", "EXCLUSIVE", "DEFAULT"]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Dialect;
    use crate::sql::parse_file;

    fn ddl(sql: &str) -> Option<Ddl> {
        let file = parse_file(sql, Dialect::Mysql);
        read(&file.statements[0])
    }

    #[test]
    fn reads_tables_and_clauses() {
        let d = ddl("ALTER TABLE `Shop`.orders ADD INDEX i (c), ALGORITHM=COPY, LOCK = SHARED")
            .unwrap();
        assert_eq!(d.kind, DdlKind::AlterTable);
        assert_eq!(d.table.as_deref(), Some("Shop.orders"));
        assert_eq!(d.algorithm.unwrap().value, "COPY");
        let lock = d.lock.unwrap();
        assert_eq!(lock.value, "SHARED");
        assert_eq!(lock.at, Position::new(1, 60));

        let d = ddl("DROP INDEX i ON orders LOCK=EXCLUSIVE").unwrap();
        assert_eq!(d.kind, DdlKind::DropIndex);
        assert_eq!(d.table.as_deref(), Some("orders"));
        assert_eq!(d.lock.unwrap().value, "EXCLUSIVE");

        let d = ddl("CREATE UNIQUE INDEX i ON orders (a, b) ALGORITHM INPLACE").unwrap();
        assert_eq!(d.table.as_deref(), Some("orders"));
        assert!(d.refuses_copy());

        // A column called `algorithm` is not a clause.
        let d = ddl("ALTER TABLE t ADD COLUMN algorithm varchar(10)").unwrap();
        assert_eq!(d.algorithm, None);
        assert!(ddl("UPDATE t SET lock = 1").is_none());
    }
}
