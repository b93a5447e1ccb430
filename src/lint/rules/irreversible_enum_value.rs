//! # irreversible-enum-value
//!
//! **What it does.** Flags PostgreSQL `ALTER TYPE … ADD VALUE` on an enum that
//! existed before the migration, unless the down re-creates the type.
//!
//! **Why it is dangerous.** PostgreSQL cannot remove a value from an enum:
//! there is no `ALTER TYPE … DROP VALUE`. The down cannot reverse the
//! change, so a rollback leaves the value in place; rows written with it by
//! the new release keep it, and the old release may not know what it means.
//!
//! **Safe alternative.** Replace the type instead of extending it, in both
//! directions: rename the old type aside, create the new one under the old
//! name, convert the columns, drop the old type. The down does the same with
//! the previous list of values, after mapping the rows that use the new
//! value:
//!
//! ```sql
//! -- up
//! ALTER TYPE order_status RENAME TO order_status_old;
//! CREATE TYPE order_status AS ENUM ('new', 'paid', 'shipped', 'refunded');
//! ALTER TABLE orders ALTER COLUMN status TYPE order_status
//!     USING status::text::order_status;
//! DROP TYPE order_status_old;
//!
//! -- down
//! ALTER TYPE order_status RENAME TO order_status_new;
//! CREATE TYPE order_status AS ENUM ('new', 'paid', 'shipped');
//! UPDATE orders SET status = 'paid' WHERE status = 'refunded';
//! ALTER TABLE orders ALTER COLUMN status TYPE order_status
//!     USING status::text::order_status;
//! DROP TYPE order_status_new;
//! ```
//!
//! A column with a default of the type must have it dropped before the
//! conversion and set again after it. Converting a column rewrites its table
//! under an ACCESS EXCLUSIVE lock: do it on a small table, or accept the
//! value as permanent with
//! `-- straddle:allow irreversible-enum-value -- <why keeping the value is fine>`.
//!
//! **Example.**
//!
//! ```sql
//! ALTER TYPE order_status ADD VALUE 'refunded'; -- flagged: no down can remove it
//! ```

use sqlparser::ast::{AlterTypeOperation, Statement as Ast};

use crate::dialect::Dialect;
use crate::lint::{MigrationCx, Rule, RuleMeta};
use crate::phase::inverse::{Change, ObjectKind, RenameTarget};
use crate::sql::object_key;
use crate::{Category, Finding, Severity};

pub struct IrreversibleEnumValue;

static META: RuleMeta = RuleMeta {
    id: "irreversible-enum-value",
    category: Category::Reversibility,
    severity: Severity::Error,
    summary: "a value added to an enum cannot be removed by any down",
    why: "PostgreSQL has no way to drop an enum value, so a rollback leaves it in the type and in the rows that use it",
    dialects: &[Dialect::Postgres],
};

impl Rule for IrreversibleEnumValue {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check_migration(&self, cx: &MigrationCx<'_>, out: &mut Vec<Finding>) {
        // Most migrations add no enum value: skip the replay of both files.
        let adds_value = cx.up.statements.iter().any(|s| {
            matches!(s.ast(), Some(Ast::AlterType(alter))
                if matches!(alter.operation, AlterTypeOperation::AddValue(_)))
        });
        if !adds_value {
            return;
        }
        let down_ops = cx.operations.down_raw();
        // The down puts the previous type back: it is reversible after all.
        let recreated = |type_name: &str| {
            down_ops.iter().any(|op| {
                matches!(&op.change, Change::Create { object }
                    if object.kind == ObjectKind::Type && object.name == type_name)
                    || matches!(&op.change, Change::Rename { target: RenameTarget::Type, to, .. }
                        if to == type_name)
            })
        };
        let up_ops = cx.operations.up_raw();
        for (index, statement) in cx.up.statements.iter().enumerate() {
            let Some(Ast::AlterType(alter)) = statement.ast() else {
                continue;
            };
            let AlterTypeOperation::AddValue(add) = &alter.operation else {
                continue;
            };
            let type_name = object_key(&alter.name);
            // A type created earlier in the same up goes away with the down.
            let created_here = up_ops.iter().any(|op| {
                op.statement < index
                    && matches!(&op.change, Change::Create { object }
                        if object.kind == ObjectKind::Type && object.name == type_name)
            });
            if created_here || recreated(&type_name) {
                continue;
            }
            let value = add.value.value.replace('\'', "''");
            // `RENAME TO` takes a bare name.
            let short = type_name.rsplit('.').next().unwrap_or(&type_name);
            out.push(cx.up_finding(
                self,
                statement.span.start,
                format!(
                    "`ALTER TYPE {type_name} ADD VALUE '{value}'` cannot be undone: no down can \
                     remove a value from an enum"
                ),
                format!(
                    "replace the type instead: `ALTER TYPE {type_name} RENAME TO {short}_old`, \
                     `CREATE TYPE {type_name} AS ENUM (…, '{value}')`, \
                     `ALTER TABLE <table> ALTER COLUMN <column> TYPE {type_name} USING <column>::text::{type_name}` \
                     (this rewrites the table), then drop the old type; the down does the same with the \
                     previous values. Or keep the value for good with \
                     `-- straddle:allow irreversible-enum-value -- <reason>`"
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
        check_fixture("irreversible-enum-value");
    }
}
