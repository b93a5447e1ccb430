//! # mysql-copying-alter
//!
//! **What it does.** Flags an `ALTER TABLE` on a table that existed before
//! this migration (MySQL and MariaDB) when InnoDB cannot make the change
//! online and will copy or rebuild the whole table, and the statement does
//! not pin an online algorithm with `ALGORITHM=INPLACE`, `ALGORITHM=INSTANT`
//! or `LOCK=NONE`:
//!
//! * changing a column's data type with `MODIFY` or `CHANGE` (per the
//!   catalog built from earlier migrations; a column whose type straddle
//!   does not know is reported too);
//! * making a column `NOT NULL`;
//! * `DROP PRIMARY KEY`, `ADD PRIMARY KEY`;
//! * adding a `STORED` generated column or an `AUTO_INCREMENT` column;
//! * `CONVERT TO CHARACTER SET`.
//!
//! What stays online on MySQL 8.0 and MariaDB 10.6+, for comparison:
//!
//! | change | algorithm | writes meanwhile |
//! | --- | --- | --- |
//! | `ADD COLUMN` (at the end; anywhere from MySQL 8.0.29), a `VIRTUAL` generated column | INSTANT | yes |
//! | `RENAME COLUMN`, `SET DEFAULT` / `DROP DEFAULT` | INSTANT | yes |
//! | `ADD INDEX`, `DROP INDEX`, `RENAME INDEX` | INPLACE, no rebuild | yes |
//! | growing a `VARCHAR` within its length-prefix size (≤ 255 bytes, or already above) | INPLACE | yes |
//! | adding `ENUM`/`SET` members at the end | INSTANT | yes |
//! | `DROP COLUMN` | INSTANT from MySQL 8.0.29, else INPLACE rebuild | yes |
//! | making a column `NOT NULL`, `ADD PRIMARY KEY` on `NOT NULL` columns | INPLACE **rebuild** | yes, but the whole table is rewritten |
//! | `ADD PRIMARY KEY` on nullable columns | **COPY** | no |
//! | a column type change, `DROP PRIMARY KEY` alone, a `STORED` generated column, `CONVERT TO CHARACTER SET` | **COPY** | no |
//! | an `AUTO_INCREMENT` column | INPLACE **rebuild** | no |
//!
//! **Why it is dangerous.** A copying `ALTER TABLE` rebuilds the table row by
//! row while every `INSERT`, `UPDATE` and `DELETE` waits, for minutes or
//! hours on a large table. Even an in-place rebuild rewrites the whole table,
//! and a replica applies the statement only after the primary has finished
//! it, then spends as long again replaying it, so replication lags by the
//! full duration. Without an explicit `ALGORITHM`, MySQL picks the copy
//! silently.
//!
//! **Safe alternative.** Say which algorithm you expect, so that MySQL
//! refuses with an error instead of silently copying:
//!
//! ```sql
//! ALTER TABLE orders MODIFY note varchar(60), ALGORITHM=INPLACE, LOCK=NONE;
//! ```
//!
//! When the change truly needs a copy (a type change, a new primary key) and
//! the table is large, run it with an online schema-change tool, which copies
//! in the background while writes continue and swaps the tables at the end:
//!
//! ```sql
//! -- gh-ost --alter="MODIFY total DECIMAL(14,2) NOT NULL" --table=orders --execute
//! -- pt-online-schema-change --alter "MODIFY total DECIMAL(14,2) NOT NULL" D=shop,t=orders --execute
//! ```
//!
//! or expand and contract: add a new column with the new type, backfill it
//! in batches, move the app over, then drop the old column.
//!
//! **Example.**
//!
//! ```sql
//! ALTER TABLE orders MODIFY total DECIMAL(14,2) NOT NULL; -- flagged: the table is copied
//! ALTER TABLE orders ADD COLUMN note varchar(200);          -- fine: INSTANT
//! ```
//!
//! A table created earlier in the same migration is exempt. straddle assumes
//! `utf8mb4` (4 bytes a character) when judging `VARCHAR` growth.

use sqlparser::ast::{
    AlterTableOperation, ColumnOption, DataType, Statement as Ast, TableConstraint,
};
use sqlparser::tokenizer::Token;

use super::stored_generated_column::stored_generation;
use crate::lint::mysql_ddl::{self, DdlKind};
use crate::lint::{Rule, RuleMeta, StatementCx};
use crate::schema::Column;
use crate::sql::ident_key;
use crate::{Category, Finding, Severity};

pub struct MysqlCopyingAlter;

static META: RuleMeta = RuleMeta {
    id: "mysql-copying-alter",
    category: Category::Locking,
    severity: Severity::Warning,
    summary: "an ALTER TABLE that InnoDB must copy or rebuild, with no ALGORITHM to stop it",
    why: "a table copy blocks writes for its whole duration, and any rebuild rewrites the table and lags replicas by as long",
    dialects: &[crate::Dialect::Mysql],
};

/// A type's text with integer display widths and synonyms folded away.
fn normalised(data_type: &DataType) -> String {
    let text = data_type.to_string().to_ascii_lowercase();
    let text = text.replace("integer", "int");
    let text = match text.as_str() {
        "bool" | "boolean" => "tinyint".to_string(),
        _ => text,
    };
    for int in ["tinyint", "smallint", "mediumint", "bigint", "int"] {
        if let Some(rest) = text.strip_prefix(int)
            && let Some(after) = rest.strip_prefix('(')
            && let Some(close) = after.find(')')
        {
            return format!("{int}{}", &after[close + 1..]);
        }
    }
    text
}

fn varchar_length(data_type: &DataType) -> Option<u64> {
    let text = normalised(data_type);
    let inner = text
        .strip_prefix("varchar(")
        .or_else(|| text.strip_prefix("character varying("))?;
    inner.strip_suffix(')')?.trim().parse().ok()
}

/// The storage bytes of a `SET` with `n` members.
fn set_bytes(n: usize) -> usize {
    match n.div_ceil(8) {
        0 | 1 => 1,
        2 => 2,
        3 => 3,
        4 => 4,
        _ => 8,
    }
}

/// Whether InnoDB changes `old` to `new` without copying the table.
fn changes_in_place(old: &DataType, new: &DataType) -> bool {
    if normalised(old) == normalised(new) {
        return true;
    }
    if let (Some(n), Some(m)) = (varchar_length(old), varchar_length(new)) {
        // The length prefix is 1 byte up to 255 bytes, 2 above; utf8mb4
        // takes up to 4 bytes a character.
        return m >= n && (m * 4 <= 255 || n * 4 > 255);
    }
    match (old, new) {
        (DataType::Enum(a, _), DataType::Enum(b, _)) => {
            b.len() >= a.len() && b[..a.len()] == a[..] && (b.len() <= 255 || a.len() > 255)
        }
        (DataType::Set(a), DataType::Set(b)) => {
            b.len() >= a.len() && b[..a.len()] == a[..] && set_bytes(a.len()) == set_bytes(b.len())
        }
        _ => false,
    }
}

/// What `MODIFY`/`CHANGE` of `column` does to the table, if it copies or
/// rebuilds it.
fn column_change(
    table: &str,
    column: &str,
    old: Option<&Column>,
    data_type: &DataType,
    options: &[ColumnOption],
) -> Option<String> {
    let Some(old_type) = old.and_then(|c| c.data_type.as_ref()) else {
        return Some(format!(
            "redefines `{table}.{column}`, whose current type straddle does not know: if the type changes, \
             InnoDB copies the whole table while writes wait"
        ));
    };
    if !changes_in_place(old_type, data_type) {
        return Some(format!(
            "changes `{table}.{column}` from {old_type} to {data_type}: InnoDB copies the whole table while \
             writes wait"
        ));
    }
    let not_null = options.iter().any(|o| matches!(o, ColumnOption::NotNull));
    if not_null && old.is_some_and(|c| !c.not_null) {
        return Some(format!(
            "makes `{table}.{column}` NOT NULL: InnoDB rebuilds the whole table (in place, and the statement fails \
             if a row holds NULL), and replicas lag by as long"
        ));
    }
    None
}

fn is_auto_increment(data_type: &DataType, options: &[ColumnOption]) -> bool {
    data_type.to_string().eq_ignore_ascii_case("serial")
        || options.iter().any(|o| match o {
            ColumnOption::DialectSpecific(tokens) => tokens.iter().any(
                |t| matches!(t, Token::Word(w) if w.value.eq_ignore_ascii_case("AUTO_INCREMENT")),
            ),
            _ => false,
        })
}

fn reasons(cx: &StatementCx<'_>, table: &str) -> Vec<String> {
    let mut out = Vec::new();
    let Some(Ast::AlterTable(alter)) = cx.statement.ast() else {
        if cx
            .statement
            .has_words(&["CONVERT", "TO", "CHARACTER", "SET"])
            || cx.statement.has_words(&["CONVERT", "TO", "CHARSET"])
        {
            out.push(format!(
                "converts every text column of `{table}` to another character set: InnoDB copies the whole \
                 table while writes wait"
            ));
        }
        return out;
    };
    let drops_pk = alter
        .operations
        .iter()
        .any(|o| matches!(o, AlterTableOperation::DropPrimaryKey { .. }));
    let added_pk = alter.operations.iter().find_map(|o| match o {
        AlterTableOperation::AddConstraint {
            constraint: TableConstraint::PrimaryKey(pk),
            ..
        } => Some(pk),
        _ => None,
    });
    match (drops_pk, added_pk) {
        (true, None) => out.push(format!(
            "drops the primary key of `{table}` without adding another: InnoDB copies the whole table while \
             writes wait"
        )),
        (drops, Some(pk)) => {
            let nullable: Vec<String> = pk
                .columns
                .iter()
                .map(|c| c.column.expr.to_string().trim_matches('`').to_lowercase())
                .filter(|c| cx.catalog.column(table, c).is_some_and(|c| !c.not_null))
                .collect();
            if nullable.is_empty() {
                out.push(format!(
                    "{} `{table}`: InnoDB rebuilds the whole table, and replicas lag by as long",
                    if drops {
                        "replaces the primary key of"
                    } else {
                        "adds a primary key to"
                    }
                ));
            } else {
                out.push(format!(
                    "adds a primary key on the nullable column(s) `{}` of `{table}`: they must become NOT NULL, so \
                     InnoDB copies the whole table while writes wait",
                    nullable.join("`, `")
                ));
            }
        }
        (false, None) => {}
    }
    for operation in &alter.operations {
        match operation {
            AlterTableOperation::ModifyColumn {
                col_name,
                data_type,
                options,
                ..
            } => {
                let column = ident_key(col_name);
                let old = cx.catalog.column(table, &column);
                out.extend(column_change(table, &column, old, data_type, options));
            }
            AlterTableOperation::ChangeColumn {
                old_name,
                data_type,
                options,
                ..
            } => {
                let column = ident_key(old_name);
                let old = cx.catalog.column(table, &column);
                out.extend(column_change(table, &column, old, data_type, options));
            }
            AlterTableOperation::AddColumn { column_def, .. } => {
                let column = ident_key(&column_def.name);
                let options: Vec<ColumnOption> = column_def
                    .options
                    .iter()
                    .map(|o| o.option.clone())
                    .collect();
                if stored_generation(&options).is_some() {
                    out.push(format!(
                        "adds the STORED generated column `{column}` to `{table}`: InnoDB copies the whole table \
                         while writes wait (a VIRTUAL column would be instant)"
                    ));
                } else if is_auto_increment(&column_def.data_type, &options) {
                    out.push(format!(
                        "adds the AUTO_INCREMENT column `{column}` to `{table}`: InnoDB rebuilds the whole table \
                         while writes wait"
                    ));
                }
            }
            _ => {}
        }
    }
    out
}

impl Rule for MysqlCopyingAlter {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_statement(&self, cx: &StatementCx<'_>, out: &mut Vec<Finding>) {
        let Some(ddl) = mysql_ddl::read(cx.statement) else {
            return;
        };
        if ddl.kind != DdlKind::AlterTable || ddl.refuses_copy() {
            return;
        }
        // An explicit ALGORITHM=COPY is mysql-algorithm-copy's finding.
        if ddl.algorithm.as_ref().is_some_and(|a| a.value == "COPY") {
            return;
        }
        let Some(table) = ddl.table else {
            return;
        };
        if !cx.existed_before(&table) {
            return;
        }
        for reason in reasons(cx, &table) {
            out.push(cx.finding(
                self,
                format!("this ALTER TABLE {reason}"),
                format!(
                    "append `, ALGORITHM=INPLACE, LOCK=NONE` so MySQL refuses instead of silently blocking; if it \
                     refuses and `{table}` is large, run the change with gh-ost or pt-online-schema-change, or add \
                     a new column and backfill it in batches; for a small table, allow this rule and give its size \
                     as the reason"
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::testing::check_fixture;

    #[test]
    fn fixtures() {
        check_fixture("mysql-copying-alter");
    }

    #[test]
    fn judges_type_changes() {
        use sqlparser::ast::{CharacterLength, EnumMember};
        let varchar = |n| {
            DataType::Varchar(Some(CharacterLength::IntegerLength {
                length: n,
                unit: None,
            }))
        };
        assert!(changes_in_place(&varchar(20), &varchar(60)));
        assert!(!changes_in_place(&varchar(50), &varchar(100)));
        assert!(changes_in_place(&varchar(100), &varchar(200)));
        assert!(!changes_in_place(&varchar(200), &varchar(100)));
        assert!(changes_in_place(
            &DataType::Int(Some(11)),
            &DataType::Int(None)
        ));
        assert!(!changes_in_place(
            &DataType::Int(None),
            &DataType::BigInt(None)
        ));
        let e = |v: &[&str]| {
            DataType::Enum(
                v.iter().map(|s| EnumMember::Name(s.to_string())).collect(),
                None,
            )
        };
        assert!(changes_in_place(&e(&["a", "b"]), &e(&["a", "b", "c"])));
        assert!(!changes_in_place(&e(&["a", "b"]), &e(&["c", "a", "b"])));
    }
}
