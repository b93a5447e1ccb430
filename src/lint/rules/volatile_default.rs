//! # volatile-default
//!
//! **What it does.** Flags `ALTER TABLE … ADD COLUMN` on a table that existed
//! before this migration when the new column's value must be computed row by
//! row:
//!
//! * a `DEFAULT` that calls a volatile function: `random()`,
//!   `gen_random_uuid()`, `uuid_generate_v4()`, `clock_timestamp()`,
//!   `timeofday()`, `nextval(…)` and the like;
//! * a `DEFAULT` that calls a function straddle does not know (a user-defined
//!   function may be volatile; reported as a warning);
//! * a `serial`/`bigserial`/`smallserial` column (an implicit
//!   `DEFAULT nextval(…)`), or an identity column
//!   (`GENERATED … AS IDENTITY`), both of which number every existing row.
//!
//! Constants, casts of constants, `ARRAY[]`, `now()`, `CURRENT_TIMESTAMP`,
//! `CURRENT_DATE` and other stable or immutable built-ins are fine: since
//! PostgreSQL 11 such a default is evaluated once and stored in the catalog,
//! and adding the column does not touch the rows. Older servers rewrite the
//! table for *any* default: with `[database] version` below 11 in
//! `straddle.toml`, every non-NULL default on an existing table is flagged.
//!
//! **Why it is dangerous.** A volatile default has a different value on
//! every row, so PostgreSQL rewrites the whole table to store them, holding
//! an `ACCESS EXCLUSIVE` lock for the duration: no reads, no writes. On a
//! large table that is minutes of downtime, plus a burst of WAL that
//! replicas must replay.
//!
//! **Safe alternative.** Add the column without a default (instant), then set
//! the default so new rows get a value, then fill the old rows in batches,
//! each in its own short transaction:
//!
//! ```sql
//! ALTER TABLE orders ADD COLUMN public_id uuid;
//! ALTER TABLE orders ALTER COLUMN public_id SET DEFAULT gen_random_uuid();
//! -- later, from a backfill job (or a `-- no-transaction` migration, whose
//! -- statements `straddle migrate` commits one by one), repeated until it
//! -- updates no row:
//! UPDATE orders SET public_id = gen_random_uuid()
//! WHERE id IN (SELECT id FROM orders WHERE public_id IS NULL LIMIT 10000);
//! ```
//!
//! `SET DEFAULT` changes only the catalog, so it is safe even with a volatile
//! expression. For a new numbering column, create the sequence, add the
//! column without default, `SET DEFAULT nextval('…')`, then backfill the same
//! way.
//!
//! **Example.**
//!
//! ```sql
//! ALTER TABLE orders ADD COLUMN public_id uuid DEFAULT gen_random_uuid(); -- flagged
//! ALTER TABLE orders ADD COLUMN created_at timestamptz DEFAULT now();     -- fine (PostgreSQL ≥ 11)
//! ALTER TABLE orders ADD COLUMN seq bigserial;                            -- flagged
//! -- with [database] version = "10":
//! ALTER TABLE orders ADD COLUMN currency text DEFAULT 'EUR';              -- flagged
//! ```
//!
//! A table created earlier in the same migration is empty, so it is exempt.

use sqlparser::ast::{
    AlterTableOperation, ColumnDef, ColumnOption, Expr, FunctionArg, FunctionArgExpr,
    FunctionArguments, GeneratedAs,
};

use crate::lint::{Rule, RuleMeta, StatementCx};
use crate::sql::{ident_key, object_key};
use crate::{Category, Finding, Severity};

pub struct VolatileDefault;

static META: RuleMeta = RuleMeta {
    id: "volatile-default",
    category: Category::Locking,
    severity: Severity::Error,
    summary: "adding a column whose default is volatile rewrites the table under an exclusive lock",
    why: "PostgreSQL must compute and store a value for every existing row, rewriting the table while it blocks all reads and writes",
    dialects: &[crate::Dialect::Postgres],
};

/// Functions whose result changes from row to row (PostgreSQL `VOLATILE`).
const VOLATILE: &[&str] = &[
    "random",
    "random_normal",
    "setseed",
    "gen_random_uuid",
    "gen_random_bytes",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "uuidv4",
    "uuidv7",
    "uuid_generate_v7",
    "clock_timestamp",
    "timeofday",
    "nextval",
    "currval",
    "lastval",
    "setval",
    "gen_salt",
];

/// Built-ins (and type names that look like calls in casts) that are stable
/// or immutable: a default using only these is evaluated once.
const NOT_VOLATILE: &[&str] = &[
    // date and time, stable within a transaction
    "now",
    "current_timestamp",
    "current_date",
    "current_time",
    "localtime",
    "localtimestamp",
    "transaction_timestamp",
    "statement_timestamp",
    "date_trunc",
    "date_part",
    "extract",
    "make_date",
    "make_time",
    "make_timestamp",
    "make_timestamptz",
    "make_interval",
    "to_timestamp",
    "to_date",
    "to_char",
    "timezone",
    // session information
    "current_user",
    "session_user",
    "user",
    "current_role",
    "current_schema",
    "current_database",
    "current_setting",
    // stable: the same value for the whole transaction
    "txid_current",
    "pg_current_xact_id",
    // strings, numbers, json, arrays
    "lower",
    "upper",
    "btrim",
    "ltrim",
    "rtrim",
    "trim",
    "concat",
    "concat_ws",
    "format",
    "substring",
    "substr",
    "replace",
    "left",
    "right",
    "length",
    "md5",
    // pgcrypto: immutable (its salt, from `gen_salt`, is what varies)
    "crypt",
    "abs",
    "round",
    "floor",
    "ceil",
    "ceiling",
    "coalesce",
    "nullif",
    "greatest",
    "least",
    "to_json",
    "to_jsonb",
    "json_build_object",
    "jsonb_build_object",
    "json_build_array",
    "jsonb_build_array",
    "array_fill",
    "uuid_nil",
    "inet",
    "cast",
    "row",
    // type names that appear with a modifier inside casts
    "varchar",
    "character",
    "char",
    "numeric",
    "decimal",
    "bit",
    "varbit",
    "timestamp",
    "timestamptz",
    "time",
    "timetz",
    "interval",
];

/// How a default expression behaves.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Volatility {
    /// Evaluated once: PostgreSQL ≥ 11 adds the column without a rewrite.
    Once,
    /// Calls a function straddle does not know.
    Unknown(String),
    /// Calls a volatile function.
    Volatile(String),
}

fn function_volatility(name: &str) -> Volatility {
    let short = name.rsplit('.').next().unwrap_or(name).to_ascii_lowercase();
    if VOLATILE.contains(&short.as_str()) {
        Volatility::Volatile(short)
    } else if NOT_VOLATILE.contains(&short.as_str()) {
        Volatility::Once
    } else {
        Volatility::Unknown(name.to_string())
    }
}

fn worst(items: impl IntoIterator<Item = Volatility>) -> Volatility {
    items.into_iter().max().unwrap_or(Volatility::Once)
}

/// The names called in an expression's SQL text (an identifier directly
/// followed by `(`), outside string literals. Used for the expression forms
/// the walk below does not take apart.
fn called_names(sql: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut word = String::new();
    let mut in_string = false;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            if c == '\'' {
                in_string = false;
            }
            continue;
        }
        if c == '\'' {
            in_string = true;
            word.clear();
        } else if c.is_alphanumeric() || c == '_' || c == '.' || c == '"' {
            word.push(c);
        } else {
            if c == '(' && !word.is_empty() {
                names.push(word.replace('"', ""));
            }
            if !c.is_whitespace() || chars.peek() != Some(&'(') {
                word.clear();
            }
        }
    }
    names
}

fn args_volatility(args: &FunctionArguments) -> Volatility {
    match args {
        FunctionArguments::None => Volatility::Once,
        FunctionArguments::Subquery(_) => Volatility::Unknown("a subquery".to_string()),
        FunctionArguments::List(list) => worst(list.args.iter().map(|arg| {
            let expr = match arg {
                FunctionArg::Named { arg, .. }
                | FunctionArg::ExprNamed { arg, .. }
                | FunctionArg::Unnamed(arg) => arg,
            };
            match expr {
                FunctionArgExpr::Expr(e) => volatility(e),
                _ => Volatility::Once,
            }
        })),
    }
}

fn volatility(expr: &Expr) -> Volatility {
    match expr {
        Expr::Value(_)
        | Expr::TypedString(_)
        | Expr::Identifier(_)
        | Expr::CompoundIdentifier(_) => Volatility::Once,
        Expr::Cast { expr, .. }
        | Expr::Nested(expr)
        | Expr::UnaryOp { expr, .. }
        | Expr::Collate { expr, .. }
        | Expr::IsNull(expr)
        | Expr::IsNotNull(expr) => volatility(expr),
        Expr::Interval(interval) => volatility(&interval.value),
        Expr::BinaryOp { left, right, .. } => worst([volatility(left), volatility(right)]),
        Expr::AtTimeZone {
            timestamp,
            time_zone,
        } => worst([volatility(timestamp), volatility(time_zone)]),
        Expr::Array(array) => worst(array.elem.iter().map(volatility)),
        Expr::Tuple(items) => worst(items.iter().map(volatility)),
        Expr::Case {
            operand,
            conditions,
            else_result,
            ..
        } => worst(
            operand
                .iter()
                .map(|e| volatility(e))
                .chain(
                    conditions
                        .iter()
                        .flat_map(|w| [volatility(&w.condition), volatility(&w.result)]),
                )
                .chain(else_result.iter().map(|e| volatility(e))),
        ),
        Expr::Function(function) => worst([
            function_volatility(&object_key(&function.name)),
            args_volatility(&function.args),
        ]),
        Expr::Subquery(_) => Volatility::Unknown("a subquery".to_string()),
        other => worst(
            called_names(&other.to_string())
                .iter()
                .map(|n| function_volatility(n)),
        ),
    }
}

const SERIALS: &[&str] = &[
    "serial",
    "serial4",
    "bigserial",
    "serial8",
    "smallserial",
    "serial2",
];

/// Why adding this column fills every existing row, if it does: how volatile
/// the value is, the reason in words, and the default for new rows as SQL.
fn row_by_row(def: &ColumnDef, table: &str) -> Option<(Volatility, String, String)> {
    let column = ident_key(&def.name);
    let type_name = def.data_type.to_string().to_ascii_lowercase();
    if SERIALS.contains(&type_name.as_str()) {
        return Some((
            Volatility::Volatile("nextval".to_string()),
            format!(
                "a `{type_name}` column takes `DEFAULT nextval(…)`, so every existing row gets its own number"
            ),
            format!("nextval('{table}_{column}_seq')"),
        ));
    }
    for option in &def.options {
        match &option.option {
            ColumnOption::Generated {
                generated_as: GeneratedAs::Always | GeneratedAs::ByDefault,
                generation_expr: None,
                ..
            } => {
                return Some((
                    Volatility::Volatile("nextval".to_string()),
                    "an identity column numbers every existing row from its sequence".to_string(),
                    format!("nextval('{table}_{column}_seq')"),
                ));
            }
            ColumnOption::Default(expr) => match volatility(expr) {
                Volatility::Once => {}
                Volatility::Volatile(name) => {
                    return Some((
                        Volatility::Volatile(name.clone()),
                        format!(
                            "its default `{expr}` calls the volatile function `{name}()`, evaluated once per existing row"
                        ),
                        expr.to_string(),
                    ));
                }
                Volatility::Unknown(name) => {
                    return Some((
                        Volatility::Unknown(name.clone()),
                        format!(
                            "its default `{expr}` calls `{name}`, which straddle cannot tell is not volatile"
                        ),
                        expr.to_string(),
                    ));
                }
            },
            _ => {}
        }
    }
    None
}

/// The non-NULL default of a column, if it has one.
fn constant_default(def: &ColumnDef) -> Option<&Expr> {
    def.options.iter().find_map(|option| match &option.option {
        ColumnOption::Default(Expr::Value(value))
            if matches!(value.value, sqlparser::ast::Value::Null) =>
        {
            None
        }
        ColumnOption::Default(expr) => Some(expr),
        _ => None,
    })
}

/// The column's type without the implicit sequence of `serial` types.
fn plain_type(def: &ColumnDef) -> String {
    match def.data_type.to_string().to_ascii_lowercase().as_str() {
        "serial" | "serial4" => "integer".to_string(),
        "bigserial" | "serial8" => "bigint".to_string(),
        "smallserial" | "serial2" => "smallint".to_string(),
        _ => def.data_type.to_string(),
    }
}

/// Before PostgreSQL 11 every non-NULL default is written into every row.
fn before_11(
    rule: &VolatileDefault,
    cx: &StatementCx<'_>,
    table: &str,
    def: &ColumnDef,
    default: &Expr,
) -> Finding {
    let column = ident_key(&def.name);
    let data_type = plain_type(def);
    let version = cx.options.database_version.unwrap_or(0);
    cx.finding(
        rule,
        format!(
            "adding column `{column}` to `{table}` with `DEFAULT {default}` rewrites the whole \
             table under an ACCESS EXCLUSIVE lock on PostgreSQL {version}: before PostgreSQL 11 \
             every default is written into every existing row"
        ),
        format!(
            "add the column without a default: `ALTER TABLE {table} ADD COLUMN {column} {data_type};`, \
             then `ALTER TABLE {table} ALTER COLUMN {column} SET DEFAULT {default};` (new rows only, \
             no rewrite), then backfill the existing rows in batches of a few thousand, each in its \
             own transaction"
        ),
    )
}

impl Rule for VolatileDefault {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_statement(&self, cx: &StatementCx<'_>, out: &mut Vec<Finding>) {
        let Some((alter, table)) = cx.alter_existing() else {
            return;
        };
        for operation in &alter.operations {
            let AlterTableOperation::AddColumn { column_def, .. } = operation else {
                continue;
            };
            let Some((kind, reason, default)) = row_by_row(column_def, &table) else {
                if cx.options.postgres_older_than(11)
                    && let Some(default) = constant_default(column_def)
                {
                    out.push(before_11(self, cx, &table, column_def, default));
                }
                continue;
            };
            let column = ident_key(&column_def.name);
            let data_type = plain_type(column_def);
            let unknown = matches!(kind, Volatility::Unknown(_));
            let message = format!(
                "adding column `{column}` to `{table}` {} the whole table under an ACCESS EXCLUSIVE lock: {reason}",
                if unknown { "may rewrite" } else { "rewrites" }
            );
            let not_null = column_def.options.iter().any(|o| {
                matches!(
                    o.option,
                    ColumnOption::NotNull | ColumnOption::PrimaryKey(_)
                )
            });
            let sequence = format!("{table}_{column}_seq");
            let create_sequence = if default == format!("nextval('{sequence}')") {
                format!(
                    ", create its sequence: `CREATE SEQUENCE {sequence} OWNED BY {table}.{column};`"
                )
            } else {
                String::new()
            };
            let mut help = format!(
                "add the column without a default: `ALTER TABLE {table} ADD COLUMN {column} {data_type};`\
                 {create_sequence}, give new rows their value with `ALTER TABLE {table} ALTER COLUMN {column} SET DEFAULT {default};` \
                 (a catalog change, no rewrite), then backfill the existing rows in batches of a few thousand, \
                 each in its own transaction"
            );
            if not_null {
                help.push_str(
                    "; make it NOT NULL once every row is filled (CHECK … NOT VALID, VALIDATE, then SET NOT NULL)",
                );
            }
            if unknown {
                help.push_str(
                    "; if the function is STABLE or IMMUTABLE, allow this rule here and say so in the reason",
                );
            }
            let mut finding = cx.finding(self, message, help);
            finding.severity = if unknown {
                Severity::Warning
            } else {
                Severity::Error
            };
            out.push(finding);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::testing::check_fixture;

    #[test]
    fn fixtures() {
        check_fixture("volatile-default");
    }

    #[test]
    fn finds_called_names_outside_strings() {
        assert_eq!(
            called_names("EXTRACT(EPOCH FROM my_fn()) || 'random()'"),
            vec!["EXTRACT".to_string(), "my_fn".to_string()]
        );
    }
}
