//! # mysql-copying-alter
//!
//! **What it does.** Flags an `ALTER TABLE` on a table that existed before
//! this migration (MySQL and MariaDB) when InnoDB cannot make the change
//! online and will copy or rebuild the whole table, and the statement does
//! not pin an online algorithm with `ALGORITHM=INPLACE`, `ALGORITHM=INSTANT`
//! or `LOCK=NONE`:
//!
//! * making a column `NOT NULL`;
//! * `DROP PRIMARY KEY`, `ADD PRIMARY KEY`;
//! * adding a `STORED` generated column or an `AUTO_INCREMENT` column;
//! * `CONVERT TO CHARACTER SET`.
//!
//! How InnoDB makes each kind of change, for comparison (MySQL 8.0 and
//! MariaDB 10.4+; the MariaDB column was checked on 10.11):
//!
//! | change | algorithm | writes meanwhile |
//! | --- | --- | --- |
//! | `ADD COLUMN` (at the end; anywhere from MySQL 8.0.29 and on MariaDB), a `VIRTUAL` generated column | INSTANT | yes |
//! | `RENAME COLUMN` (INPLACE without rebuild before MySQL 8.0.28), `SET DEFAULT` / `DROP DEFAULT` | INSTANT | yes |
//! | `ADD INDEX`, `DROP INDEX`, `RENAME INDEX` | INPLACE, no rebuild | yes |
//! | growing a `VARCHAR` within its length-prefix size (≤ 255 bytes, or already above) | INPLACE (INSTANT on MariaDB) | yes |
//! | adding `ENUM`/`SET` members at the end | INSTANT | yes |
//! | `DROP COLUMN` | INSTANT from MySQL 8.0.29 and on MariaDB, else INPLACE rebuild | yes |
//! | making a column `NOT NULL`, `ADD PRIMARY KEY` (its nullable columns become `NOT NULL`) | INPLACE **rebuild** (MySQL needs strict SQL mode, its default, for that) | yes, but the whole table is rewritten |
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
//! -- note was varchar(40) in utf8mb4: 240 bytes at most, still a 1-byte length prefix
//! ALTER TABLE orders MODIFY note varchar(60), ALGORITHM=INPLACE, LOCK=NONE;
//! ```
//!
//! When the change truly needs a copy (a type change, a new primary key) and
//! the table is large, run it with an online schema-change tool, which copies
//! in the background while writes continue and swaps the tables at the end:
//!
//! ```sql
//! -- gh-ost --database=shop --table=orders --alter="MODIFY total DECIMAL(14,2) NOT NULL" --execute
//! -- pt-online-schema-change --alter "MODIFY total DECIMAL(14,2) NOT NULL" D=shop,t=orders --execute
//! ```
//!
//! or expand and contract: add a new column with the new type, backfill it
//! in batches, move the app over, then drop the old column.
//!
//! A column type change (`MODIFY`/`CHANGE` with another type) copies the
//! table too; `rewriting-type-change` reports it, with the type rules of
//! `schema::types`, so it is not reported twice.
//!
//! **Example.**
//!
//! ```sql
//! ALTER TABLE orders MODIFY note varchar(200) NOT NULL; -- flagged: the table is rebuilt
//! ALTER TABLE orders DROP PRIMARY KEY;                   -- flagged: the table is copied
//! ALTER TABLE orders ADD COLUMN memo varchar(200);       -- fine: INSTANT
//! ```
//!
//! A table created earlier in the same migration is exempt.

use sqlparser::ast::{
    AlterTableOperation, ColumnOption, DataType, Statement as Ast, TableConstraint,
};
use sqlparser::tokenizer::Token;

use super::stored_generated_column::stored_generation;
use crate::Dialect;
use crate::lint::mysql_ddl::{self, DdlKind};
use crate::lint::{Rule, RuleMeta, StatementCx};
use crate::schema::Column;
use crate::schema::types::{TypeChange, classify};
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

/// What `MODIFY`/`CHANGE` of `column` does to the table, if it rebuilds it
/// for a reason other than a type change (type changes are judged by
/// `rewriting-type-change`, so they are not reported twice).
fn column_change(
    table: &str,
    column: &str,
    old: Option<&Column>,
    data_type: &DataType,
    options: &[ColumnOption],
) -> Option<String> {
    let old = old?;
    let same_type = old.data_type.as_ref().is_some_and(|t| {
        matches!(
            classify(Dialect::Mysql, t, data_type),
            TypeChange::Same | TypeChange::Safe
        )
    });
    let not_null = options.iter().any(|o| matches!(o, ColumnOption::NotNull));
    if same_type && not_null && !old.not_null {
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
                    "adds a primary key on the nullable column(s) `{}` of `{table}`: they become NOT NULL and \
                     InnoDB rebuilds the whole table (with a copy that blocks writes when MySQL is not in strict \
                     SQL mode), the statement fails if a row holds NULL, and replicas lag by as long",
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
    use crate::lint::testing::check_fixture;

    #[test]
    fn fixtures() {
        check_fixture("mysql-copying-alter");
    }
}
