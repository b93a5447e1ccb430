//! A token-level recogniser for statements that real migrations use but
//! sqlparser 0.63 cannot parse. It only classifies: enough for the rules and
//! the catalog to know what the statement does, never a full parse.

use sqlparser::tokenizer::{Token, TokenWithSpan};

use super::names::unquote;
use crate::dialect::Dialect;

/// A statement known from its tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recognised {
    /// `DROP INDEX [CONCURRENTLY] [IF EXISTS] name[, …]`
    DropIndex {
        concurrently: bool,
        if_exists: bool,
        names: Vec<String>,
    },
    /// `REINDEX [(…)] {INDEX|TABLE|SCHEMA|DATABASE|SYSTEM} [CONCURRENTLY] name`
    Reindex {
        concurrently: bool,
        target: String,
        name: Option<String>,
    },
    /// `DO [LANGUAGE l] $$ … $$`
    DoBlock,
    /// `ALTER SEQUENCE name …`
    AlterSequence { name: String },
    /// `CREATE SEQUENCE name …` in an option order sqlparser refuses.
    CreateSequence { name: String },
    /// `REFRESH MATERIALIZED VIEW [CONCURRENTLY] name`
    RefreshMaterializedView { concurrently: bool, name: String },
    /// `ALTER TABLE t ATTACH PARTITION p …`
    AttachPartition { table: String, partition: String },
    /// `ALTER TABLE t DETACH PARTITION p [CONCURRENTLY|FINALIZE]`
    DetachPartition {
        table: String,
        partition: String,
        concurrently: bool,
    },
    /// `ALTER INDEX name …` forms other than `RENAME TO`.
    AlterIndex { name: String },
    /// `VACUUM [FULL] [(…)] [table, …]`
    Vacuum { full: bool, tables: Vec<String> },
    /// `CLUSTER [VERBOSE] [table [USING index]]`
    Cluster { table: Option<String> },
    /// SQLite `PRAGMA name [= value]` / `PRAGMA name(value)`
    Pragma { name: String, value: Option<String> },
    /// `CREATE [OR REPLACE] PROCEDURE name …` (MySQL, and PostgreSQL ≥ 11)
    CreateProcedure { name: String },
    /// `ALTER TABLE t ALTER COLUMN c {SET STATISTICS|SET STORAGE|SET COMPRESSION|DROP IDENTITY|SET GENERATED} …`
    AlterColumnOption { table: String, column: String },
    /// `ALTER TABLE t SET SCHEMA s`
    AlterTableSetSchema { table: String, schema: String },
    /// `CREATE [TEMP] TRIGGER [IF NOT EXISTS] name … ON table …` whose body
    /// sqlparser cannot parse.
    CreateTrigger { name: String, table: String },
    /// MySQL `ALTER TABLE t ENGINE=…, CONVERT TO CHARACTER SET …, FORCE, …`:
    /// table options sqlparser does not know. `options` holds the first word
    /// of each clause, upper-cased (`ENGINE`, `CONVERT`, `FORCE`, …); most of
    /// them rebuild the table.
    AlterTableOptions { table: String, options: Vec<String> },
    /// MySQL `ALTER TABLE t RENAME {INDEX|KEY} a TO b`
    RenameIndex {
        table: String,
        from: String,
        to: String,
    },
    /// Other DDL known by its leading words (`ALTER EXTENSION`, `CREATE
    /// STATISTICS`, `ALTER DEFAULT PRIVILEGES`, `COMMENT ON …`, …): harmless
    /// for the rules, so it is classified rather than reported.
    Other { what: String },
}

/// MySQL `ALTER TABLE` clauses that sqlparser does not know.
const TABLE_OPTIONS: &[&str] = &[
    "ENGINE",
    "CONVERT",
    "FORCE",
    "CHARACTER",
    "CHARSET",
    "DEFAULT",
    "COLLATE",
    "COMMENT",
    "ROW_FORMAT",
    "KEY_BLOCK_SIZE",
    "STATS_PERSISTENT",
    "AVG_ROW_LENGTH",
    "CHECKSUM",
    "PACK_KEYS",
];

/// Text of a token as written (identifiers with their quotes).
fn text(token: &Token) -> String {
    token.to_string()
}

fn upper(token: &TokenWithSpan) -> Option<String> {
    match &token.token {
        Token::Word(w) if w.quote_style.is_none() => Some(w.value.to_ascii_uppercase()),
        _ => None,
    }
}

/// Reads a possibly qualified name starting at `i`; returns it and the index
/// after it.
fn name_at(tokens: &[TokenWithSpan], mut i: usize) -> Option<(String, usize)> {
    let mut parts = Vec::new();
    while let Some(Token::Word(_)) = tokens.get(i).map(|t| &t.token) {
        parts.push(unquote(&text(&tokens[i].token)));
        i += 1;
        if matches!(tokens.get(i).map(|t| &t.token), Some(Token::Period)) {
            i += 1;
        } else {
            break;
        }
    }
    if parts.is_empty() {
        return None;
    }
    if parts.len() > 1 && (parts[0] == "public" || parts[0] == "main") {
        parts.remove(0);
    }
    Some((parts.join("."), i))
}

struct Words<'a> {
    tokens: &'a [TokenWithSpan],
    upper: Vec<Option<String>>,
}

impl<'a> Words<'a> {
    fn new(tokens: &'a [TokenWithSpan]) -> Self {
        Words {
            tokens,
            upper: tokens.iter().map(upper).collect(),
        }
    }

    fn is(&self, i: usize, word: &str) -> bool {
        self.upper.get(i).and_then(|w| w.as_deref()) == Some(word)
    }

    fn starts(&self, seq: &[&str]) -> bool {
        seq.iter().enumerate().all(|(i, w)| self.is(i, w))
    }

    /// Skips the listed words wherever they stand, from `i` on.
    fn skip(&self, mut i: usize, words: &[&str]) -> usize {
        while words.iter().any(|w| self.is(i, w)) {
            i += 1;
        }
        i
    }

    fn find(&self, word: &str) -> Option<usize> {
        (0..self.upper.len()).find(|&i| self.is(i, word))
    }

    fn name(&self, i: usize) -> Option<(String, usize)> {
        name_at(self.tokens, i)
    }
}

/// Classifies a statement from its significant tokens, or `None` when it is
/// not one of the known forms.
pub fn recognise(tokens: &[TokenWithSpan], dialect: Dialect) -> Option<Recognised> {
    let w = Words::new(tokens);
    if w.starts(&["DROP", "INDEX"]) {
        let mut i = 2;
        let concurrently = w.is(i, "CONCURRENTLY");
        if concurrently {
            i += 1;
        }
        let if_exists = w.is(i, "IF") && w.is(i + 1, "EXISTS");
        if if_exists {
            i += 2;
        }
        let mut names = Vec::new();
        while let Some((name, next)) = w.name(i) {
            if matches!(
                name.to_ascii_uppercase().as_str(),
                "CASCADE" | "RESTRICT" | "ON"
            ) {
                break;
            }
            names.push(name);
            i = next;
            if matches!(tokens.get(i).map(|t| &t.token), Some(Token::Comma)) {
                i += 1;
            } else {
                break;
            }
        }
        return Some(Recognised::DropIndex {
            concurrently,
            if_exists,
            names,
        });
    }
    if w.is(0, "REINDEX") {
        let mut i = 1;
        if matches!(tokens.get(i).map(|t| &t.token), Some(Token::LParen)) {
            while i < tokens.len() && tokens[i].token != Token::RParen {
                i += 1;
            }
            i += 1;
        }
        let target = w.upper.get(i).cloned().flatten().unwrap_or_default();
        i += 1;
        let concurrently = w.is(i, "CONCURRENTLY");
        if concurrently {
            i += 1;
        }
        let name = w.name(i).map(|(n, _)| n);
        return Some(Recognised::Reindex {
            concurrently,
            target,
            name,
        });
    }
    if w.is(0, "DO") {
        return Some(Recognised::DoBlock);
    }
    if w.starts(&["ALTER", "SEQUENCE"]) {
        let i = if w.is(2, "IF") && w.is(3, "EXISTS") {
            4
        } else {
            2
        };
        return w
            .name(i)
            .map(|(name, _)| Recognised::AlterSequence { name });
    }
    if w.is(0, "CREATE") {
        let i = w.skip(1, &["TEMPORARY", "TEMP", "UNLOGGED"]);
        if w.is(i, "SEQUENCE") {
            let j = if w.is(i + 1, "IF") && w.is(i + 2, "NOT") && w.is(i + 3, "EXISTS") {
                i + 4
            } else {
                i + 1
            };
            return w
                .name(j)
                .map(|(name, _)| Recognised::CreateSequence { name });
        }
        let i = if w.is(1, "OR") && w.is(2, "REPLACE") {
            3
        } else {
            1
        };
        let i = if w.is(i, "DEFINER") {
            // MySQL `CREATE DEFINER = user PROCEDURE`
            (i..tokens.len())
                .find(|&j| w.is(j, "PROCEDURE"))
                .unwrap_or(i)
        } else {
            i
        };
        if w.is(i, "PROCEDURE") {
            return w
                .name(i + 1)
                .map(|(name, _)| Recognised::CreateProcedure { name });
        }
    }
    if w.is(0, "CREATE") {
        let mut i = 1;
        while ["OR", "REPLACE", "TEMP", "TEMPORARY", "CONSTRAINT"]
            .iter()
            .any(|o| w.is(i, o))
        {
            i += 1;
        }
        if w.is(i, "TRIGGER") {
            let i = if w.is(i + 1, "IF") && w.is(i + 2, "NOT") && w.is(i + 3, "EXISTS") {
                i + 4
            } else {
                i + 1
            };
            let (name, after) = w.name(i)?;
            let on = (after..tokens.len()).find(|&j| w.is(j, "ON"))?;
            let (table, _) = w.name(on + 1)?;
            return Some(Recognised::CreateTrigger { name, table });
        }
    }
    if w.starts(&["REFRESH", "MATERIALIZED", "VIEW"]) {
        let concurrently = w.is(3, "CONCURRENTLY");
        let i = if concurrently { 4 } else { 3 };
        return w
            .name(i)
            .map(|(name, _)| Recognised::RefreshMaterializedView { concurrently, name });
    }
    if w.starts(&["ALTER", "TABLE"]) {
        let mut i = 2;
        if w.is(i, "IF") && w.is(i + 1, "EXISTS") {
            i += 2;
        }
        if w.is(i, "ONLY") {
            i += 1;
        }
        let (table, i) = w.name(i)?;
        if w.is(i, "ATTACH") && w.is(i + 1, "PARTITION") {
            let (partition, _) = w.name(i + 2)?;
            return Some(Recognised::AttachPartition { table, partition });
        }
        if w.is(i, "DETACH") && w.is(i + 1, "PARTITION") {
            let (partition, _) = w.name(i + 2)?;
            return Some(Recognised::DetachPartition {
                table,
                partition,
                concurrently: w.find("CONCURRENTLY").is_some(),
            });
        }
        if w.is(i, "SET") && w.is(i + 1, "SCHEMA") {
            let (schema, _) = w.name(i + 2)?;
            return Some(Recognised::AlterTableSetSchema { table, schema });
        }
        if w.is(i, "RENAME") && (w.is(i + 1, "INDEX") || w.is(i + 1, "KEY")) {
            let (from, j) = w.name(i + 2)?;
            if !w.is(j, "TO") {
                return None;
            }
            let (to, _) = w.name(j + 1)?;
            return Some(Recognised::RenameIndex { table, from, to });
        }
        if TABLE_OPTIONS.iter().any(|o| w.is(i, o)) {
            // The first word of each top-level clause.
            let mut options = Vec::new();
            let mut depth = 0usize;
            let mut clause_start = true;
            for (j, token) in tokens.iter().enumerate().skip(i) {
                match token.token {
                    Token::LParen => depth += 1,
                    Token::RParen => depth = depth.saturating_sub(1),
                    Token::Comma if depth == 0 => {
                        clause_start = true;
                        continue;
                    }
                    _ => {}
                }
                if clause_start {
                    options.push(w.upper.get(j).cloned().flatten().unwrap_or_default());
                    clause_start = false;
                }
            }
            return Some(Recognised::AlterTableOptions { table, options });
        }
        if w.is(i, "ALTER") && w.is(i + 1, "CONSTRAINT") {
            return Some(Recognised::Other {
                what: "ALTER TABLE ALTER CONSTRAINT".into(),
            });
        }
        if w.is(i, "ALTER") {
            let j = if w.is(i + 1, "COLUMN") { i + 2 } else { i + 1 };
            let (column, k) = w.name(j)?;
            let known = (w.is(k, "SET")
                && ["STATISTICS", "STORAGE", "COMPRESSION", "GENERATED"]
                    .iter()
                    .any(|o| w.is(k + 1, o)))
                || (w.is(k, "DROP") && w.is(k + 1, "IDENTITY"))
                || (w.is(k, "RESTART"));
            if known {
                return Some(Recognised::AlterColumnOption { table, column });
            }
        }
        return None;
    }
    if w.starts(&["ALTER", "INDEX"]) {
        let i = if w.is(2, "IF") && w.is(3, "EXISTS") {
            4
        } else {
            2
        };
        return w.name(i).map(|(name, _)| Recognised::AlterIndex { name });
    }
    if w.is(0, "VACUUM") {
        let mut i = 1;
        let mut full = false;
        if matches!(tokens.get(i).map(|t| &t.token), Some(Token::LParen)) {
            while i < tokens.len() && tokens[i].token != Token::RParen {
                full |= w.is(i, "FULL");
                i += 1;
            }
            i += 1;
        }
        while ["FULL", "FREEZE", "VERBOSE", "ANALYZE", "ANALYSE"]
            .iter()
            .any(|o| w.is(i, o))
        {
            full |= w.is(i, "FULL");
            i += 1;
        }
        let mut tables = Vec::new();
        while let Some((name, next)) = w.name(i) {
            tables.push(name);
            i = next;
            // Skip a column list.
            if matches!(tokens.get(i).map(|t| &t.token), Some(Token::LParen)) {
                while i < tokens.len() && tokens[i].token != Token::RParen {
                    i += 1;
                }
                i += 1;
            }
            if matches!(tokens.get(i).map(|t| &t.token), Some(Token::Comma)) {
                i += 1;
            } else {
                break;
            }
        }
        return Some(Recognised::Vacuum { full, tables });
    }
    if w.is(0, "CLUSTER") {
        let i = w.skip(1, &["VERBOSE"]);
        let table = w.name(i).map(|(n, _)| n);
        return Some(Recognised::Cluster { table });
    }
    if w.is(0, "PRAGMA") && dialect == Dialect::Sqlite {
        let (name, i) = w.name(1)?;
        let value = tokens
            .get(i + 1..)
            .filter(|rest| !rest.is_empty())
            .map(|rest| {
                rest.iter()
                    .filter(|t| !matches!(t.token, Token::LParen | Token::RParen))
                    .map(|t| text(&t.token))
                    .collect::<Vec<_>>()
                    .join(" ")
            });
        return Some(Recognised::Pragma { name, value });
    }
    const OTHER: &[&[&str]] = &[
        &["ALTER", "EXTENSION"],
        &["ALTER", "DATABASE"],
        &["ALTER", "DEFAULT", "PRIVILEGES"],
        &["ALTER", "MATERIALIZED", "VIEW"],
        &["ALTER", "VIEW"],
        &["ALTER", "TYPE"],
        &["ALTER", "FUNCTION"],
        &["ALTER", "DOMAIN"],
        &["COMMENT", "ON"],
        &["CREATE", "STATISTICS"],
        &["CREATE", "CAST"],
        &["CREATE", "AGGREGATE"],
        &["CREATE", "RULE"],
        &["CREATE", "PUBLICATION"],
        &["CREATE", "COLLATION"],
        &["CREATE", "TEXT", "SEARCH"],
        &["SECURITY", "LABEL"],
        &["ANALYZE"],
        &["OPTIMIZE", "TABLE"],
        &["PREPARE"],
        &["CREATE", "FOREIGN", "TABLE"],
        &["IMPORT", "FOREIGN", "SCHEMA"],
        &["CREATE", "EXTENSION"],
        &["CREATE", "USER"],
        &["ALTER", "USER"],
        &["ALTER", "ROLE"],
        &["ALTER", "SCHEMA"],
        &["ALTER", "SERVER"],
        &["ALTER", "PUBLICATION"],
        &["ALTER", "SUBSCRIPTION"],
        &["CREATE", "SUBSCRIPTION"],
    ];
    OTHER
        .iter()
        .find(|seq| w.starts(seq))
        .map(|seq| Recognised::Other {
            what: seq.join(" "),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::{StatementKind, parse_file};

    /// What the recogniser makes of the statement, whether or not sqlparser
    /// parses it (it parses some forms, such as `VACUUM FULL t`).
    fn recognised(sql: &str, dialect: Dialect) -> Recognised {
        let file = parse_file(sql, dialect);
        let statement = &file.statements[0];
        match &statement.kind {
            StatementKind::Recognised(r) => r.clone(),
            _ => recognise(&statement.tokens, dialect)
                .unwrap_or_else(|| panic!("{sql}: not recognised")),
        }
    }

    #[test]
    fn classifies_what_sqlparser_cannot_parse() {
        use Recognised::*;
        let pg = Dialect::Postgres;
        assert_eq!(
            recognised("DROP INDEX CONCURRENTLY IF EXISTS public.idx_a", pg),
            DropIndex {
                concurrently: true,
                if_exists: true,
                names: vec!["idx_a".into()]
            }
        );
        assert_eq!(
            recognised("REINDEX INDEX CONCURRENTLY idx_a", pg),
            Reindex {
                concurrently: true,
                target: "INDEX".into(),
                name: Some("idx_a".into())
            }
        );
        assert_eq!(recognised("DO $$ BEGIN PERFORM 1; END $$", pg), DoBlock);
        assert_eq!(
            recognised("ALTER SEQUENCE s RESTART WITH 5", pg),
            AlterSequence { name: "s".into() }
        );
        assert_eq!(
            recognised(
                "CREATE SEQUENCE s START WITH 1 INCREMENT BY 1 NO MINVALUE NO MAXVALUE CACHE 1",
                pg
            ),
            CreateSequence { name: "s".into() }
        );
        assert_eq!(
            recognised("REFRESH MATERIALIZED VIEW CONCURRENTLY mv", pg),
            RefreshMaterializedView {
                concurrently: true,
                name: "mv".into()
            }
        );
        assert!(matches!(
            recognised(
                "ALTER TABLE m ATTACH PARTITION p FOR VALUES FROM (1) TO (2)",
                pg
            ),
            AttachPartition { .. }
        ));
        assert!(matches!(
            recognised("ALTER TABLE m DETACH PARTITION p CONCURRENTLY", pg),
            DetachPartition {
                concurrently: true,
                ..
            }
        ));
        assert!(matches!(
            recognised("ALTER INDEX i SET (fillfactor = 70)", pg),
            AlterIndex { .. }
        ));
        assert_eq!(
            recognised("VACUUM FULL users", pg),
            Vacuum {
                full: true,
                tables: vec!["users".into()]
            }
        );
        assert_eq!(
            recognised("CLUSTER users USING users_pkey", pg),
            Cluster {
                table: Some("users".into())
            }
        );
        assert_eq!(
            recognised("PRAGMA foreign_keys = OFF", Dialect::Sqlite),
            Pragma {
                name: "foreign_keys".into(),
                value: Some("OFF".into())
            }
        );
        assert!(matches!(
            recognised(
                "CREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END",
                Dialect::Mysql
            ),
            CreateProcedure { .. }
        ));
    }

    #[test]
    fn classifies_the_corpora_forms() {
        use Recognised::*;
        assert_eq!(
            recognised(
                "ALTER TABLE authentication_logs\n    ENGINE=InnoDB,\n    CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_520_ci",
                Dialect::Mysql
            ),
            AlterTableOptions {
                table: "authentication_logs".into(),
                options: vec!["ENGINE".into(), "CONVERT".into()]
            }
        );
        assert_eq!(
            recognised("ALTER TABLE t RENAME INDEX a TO b", Dialect::Mysql),
            RenameIndex {
                table: "t".into(),
                from: "a".into(),
                to: "b".into()
            }
        );
        assert_eq!(
            recognised("PREPARE stmt FROM @drop_sso_fk", Dialect::Mysql),
            Other {
                what: "PREPARE".into()
            }
        );
        // A trigger whose body sqlparser cannot read is still a trigger.
        assert_eq!(
            recognised(
                "CREATE TRIGGER IF NOT EXISTS trg AFTER INSERT ON main.t BEGIN FROBNICATE; END",
                Dialect::Sqlite
            ),
            CreateTrigger {
                name: "trg".into(),
                table: "t".into()
            }
        );
    }
}
