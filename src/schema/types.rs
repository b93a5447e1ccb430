//! Judging a column type change: does it rewrite the table, can it lose data?
//!
//! [`classify`] compares a column's old and new declared types for one
//! dialect and says whether the change is a no-op, a metadata-only change, a
//! lossless rewrite, a change that may alter or reject values, or something
//! straddle cannot judge. [`verdict`] adds a short human reason that rules
//! put in their messages. [`type_changes`] lists the type changes a statement
//! makes (`ALTER COLUMN … TYPE`, `SET DATA TYPE`, MySQL `MODIFY`/`CHANGE`).
//!
//! Types are compared after normalisation: the case of the type name and the
//! usual aliases do not matter (`int4`/`integer`/`int`, `int8`/`bigint`,
//! `character varying`/`varchar`, `bool`/`boolean`, `timestamp without time
//! zone`/`timestamp`, MySQL display widths such as `int(11)`…).

use sqlparser::ast::{
    AlterColumnOperation, AlterTableOperation, ArrayElemTypeDef, CharacterLength, DataType,
    EnumMember, ExactNumberInfo, Expr, RenameTableNameKind, Statement as Ast, TimezoneInfo,
};

use crate::dialect::Dialect;
use crate::sql::{ident_key, object_key};

/// What a column type change does to the table and its values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TypeChange {
    /// The same type, perhaps spelled differently.
    Same,
    /// No rewrite of the table and no change to any value (PostgreSQL:
    /// binary-compatible; MySQL: `INPLACE`/`INSTANT`).
    Safe,
    /// No value is lost, but the table and its indexes are rewritten
    /// (PostgreSQL) or copied (MySQL).
    Rewrite,
    /// Values may be truncated, rounded, rejected or changed.
    Lossy,
    /// straddle cannot tell: treat it as a rewrite for locking, and as
    /// possibly lossy (callers decide).
    Unknown,
}

impl TypeChange {
    /// Whether the table is rewritten or copied (unknown changes count).
    pub fn rewrites(self) -> bool {
        matches!(
            self,
            TypeChange::Rewrite | TypeChange::Lossy | TypeChange::Unknown
        )
    }

    /// Whether the change is known to be harmless (no rewrite, no loss).
    pub fn is_harmless(self) -> bool {
        matches!(self, TypeChange::Same | TypeChange::Safe)
    }
}

/// A judgement with its reason, for messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub kind: TypeChange,
    /// One short sentence fragment, e.g. "values longer than 50 characters
    /// are rejected".
    pub reason: String,
}

impl Verdict {
    fn new(kind: TypeChange, reason: impl Into<String>) -> Self {
        Verdict {
            kind,
            reason: reason.into(),
        }
    }
}

/// Classifies the change of a column from type `from` to type `to`.
pub fn classify(dialect: Dialect, from: &DataType, to: &DataType) -> TypeChange {
    verdict(dialect, from, to).kind
}

/// Classifies the change of a column from type `from` to type `to`, with a
/// reason.
pub fn verdict(dialect: Dialect, from: &DataType, to: &DataType) -> Verdict {
    let a = Ty::of(dialect, from);
    let b = Ty::of(dialect, to);
    if a == b {
        return Verdict::new(TypeChange::Same, "the type does not change");
    }
    let names = Names {
        from: from.to_string(),
        to: to.to_string(),
    };
    match dialect {
        Dialect::Postgres => postgres(&a, &b, &names),
        Dialect::Mysql => mysql(&a, &b, &names),
        Dialect::Sqlite => sqlite(from, to, &names),
    }
}

/// One type change written in a statement.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeChangeSite<'a> {
    /// The table's catalog key.
    pub table: String,
    /// The column's catalog key, before the statement.
    pub column: String,
    /// MySQL `CHANGE old new …`: the new name when it differs.
    pub new_name: Option<String>,
    /// The new type.
    pub to: &'a DataType,
    /// PostgreSQL `USING expr`.
    pub using: Option<&'a Expr>,
}

/// The column type changes a statement makes, in order. MySQL `MODIFY` and
/// `CHANGE` are listed whatever their type; compare it with the old one.
pub fn type_changes(statement: &Ast) -> Vec<TypeChangeSite<'_>> {
    let Ast::AlterTable(alter) = statement else {
        return Vec::new();
    };
    let mut table = object_key(&alter.name);
    let mut sites = Vec::new();
    for operation in &alter.operations {
        match operation {
            AlterTableOperation::AlterColumn {
                column_name,
                op:
                    AlterColumnOperation::SetDataType {
                        data_type, using, ..
                    },
            } => sites.push(TypeChangeSite {
                table: table.clone(),
                column: ident_key(column_name),
                new_name: None,
                to: data_type,
                using: using.as_ref(),
            }),
            AlterTableOperation::ModifyColumn {
                col_name,
                data_type,
                ..
            } => sites.push(TypeChangeSite {
                table: table.clone(),
                column: ident_key(col_name),
                new_name: None,
                to: data_type,
                using: None,
            }),
            AlterTableOperation::ChangeColumn {
                old_name,
                new_name,
                data_type,
                ..
            } => {
                let old = ident_key(old_name);
                let new = ident_key(new_name);
                sites.push(TypeChangeSite {
                    table: table.clone(),
                    new_name: (new != old).then_some(new),
                    column: old,
                    to: data_type,
                    using: None,
                });
            }
            AlterTableOperation::RenameTable { table_name } => {
                let (RenameTableNameKind::As(name) | RenameTableNameKind::To(name)) = table_name;
                table = object_key(name);
            }
            _ => {}
        }
    }
    sites
}

/// Whether a `USING` expression merely names the column (possibly cast to
/// the new type), so that it changes nothing beyond the plain conversion.
pub fn using_is_plain(using: &Expr, column: &str) -> bool {
    match using {
        Expr::Identifier(ident) => ident_key(ident) == column,
        Expr::CompoundIdentifier(parts) => parts.last().is_some_and(|p| ident_key(p) == column),
        Expr::Nested(inner) => using_is_plain(inner, column),
        Expr::Cast { expr, .. } => using_is_plain(expr, column),
        _ => false,
    }
}

struct Names {
    from: String,
    to: String,
}

/// A type after normalisation: aliases folded, defaults filled in.
#[derive(Clone, Debug, PartialEq)]
enum Ty {
    Int {
        bytes: u8,
        unsigned: bool,
    },
    /// `None`: PostgreSQL's unconstrained `numeric`.
    Numeric {
        ps: Option<(u64, i64)>,
        unsigned: bool,
    },
    Float {
        bytes: u8,
    },
    /// Blank-padded `char(n)`; `None` for PostgreSQL's `bpchar`.
    Char(Option<u64>),
    /// `None`: PostgreSQL's unbounded `varchar`.
    Varchar(Option<u64>),
    /// Capacity in bytes (MySQL's four text sizes); `u64::MAX` for
    /// PostgreSQL's `text`.
    Text(u64),
    Bool,
    Date,
    Time {
        tz: bool,
        precision: u64,
    },
    /// MySQL `TIMESTAMP` is `tz: true` (stored as UTC), `DATETIME` is
    /// `tz: false`.
    Timestamp {
        tz: bool,
        precision: u64,
    },
    Interval,
    Json,
    Jsonb,
    Uuid,
    /// MySQL `BINARY(n)`/`VARBINARY(n)`.
    Binary {
        fixed: bool,
        len: Option<u64>,
    },
    /// `bytea` and MySQL blobs, capacity in bytes.
    Blob(u64),
    Bit {
        varying: bool,
        len: Option<u64>,
    },
    Enum(Vec<String>),
    Set(Vec<String>),
    Array(Box<Ty>),
    /// A type known only by name (`cidr`, `citext`, a user enum…).
    Named(String),
    Other(String),
}

const TINY: u64 = 255;
const TEXT: u64 = 65_535;
const MEDIUM: u64 = 16_777_215;
const LONG: u64 = 4_294_967_295;
/// MySQL: the bytes one character may take (utf8mb4, the default since 8.0).
const MYSQL_BYTES_PER_CHAR: u64 = 4;

fn has_zone(tz: &TimezoneInfo) -> bool {
    matches!(tz, TimezoneInfo::WithTimeZone | TimezoneInfo::Tz)
}

/// Whether a bound `from` fits under a bound `to`; `None` is unbounded.
fn within(from: Option<u64>, to: Option<u64>) -> bool {
    match (from, to) {
        (_, None) => true,
        (Some(x), Some(y)) => x <= y,
        (None, Some(_)) => false,
    }
}

fn char_len(length: &Option<CharacterLength>) -> Option<u64> {
    match length {
        Some(CharacterLength::IntegerLength { length, .. }) => Some(*length),
        _ => None,
    }
}

impl Ty {
    fn of(dialect: Dialect, t: &DataType) -> Ty {
        let my = dialect == Dialect::Mysql;
        let int = Ty::int;
        let float = |info: &ExactNumberInfo| match info {
            ExactNumberInfo::None if my => Ty::Float { bytes: 4 },
            ExactNumberInfo::None => Ty::Float { bytes: 8 },
            ExactNumberInfo::Precision(p) if *p <= 24 => Ty::Float { bytes: 4 },
            ExactNumberInfo::Precision(_) => Ty::Float { bytes: 8 },
            ExactNumberInfo::PrecisionAndScale(..) if my => Ty::Float { bytes: 4 },
            ExactNumberInfo::PrecisionAndScale(..) => Ty::Other(t.to_string().to_lowercase()),
        };
        let numeric = |info: &ExactNumberInfo, unsigned: bool| Ty::Numeric {
            ps: match info {
                ExactNumberInfo::None if my => Some((10, 0)),
                ExactNumberInfo::None => None,
                ExactNumberInfo::Precision(p) => Some((*p, 0)),
                ExactNumberInfo::PrecisionAndScale(p, s) => Some((*p, *s)),
            },
            unsigned,
        };
        let default_precision = if my { 0 } else { 6 };
        match t {
            DataType::Character(l) | DataType::Char(l) => Ty::Char(Some(char_len(l).unwrap_or(1))),
            DataType::CharacterVarying(l)
            | DataType::CharVarying(l)
            | DataType::Varchar(l)
            | DataType::Nvarchar(l) => Ty::Varchar(char_len(l)),
            DataType::String(None) => Ty::Varchar(None),
            DataType::String(Some(n)) => Ty::Varchar(Some(*n)),
            DataType::Text if my => Ty::Text(TEXT),
            DataType::Text => Ty::Text(u64::MAX),
            DataType::TinyText => Ty::Text(TINY),
            DataType::MediumText => Ty::Text(MEDIUM),
            DataType::LongText => Ty::Text(LONG),
            DataType::CharacterLargeObject(_)
            | DataType::CharLargeObject(_)
            | DataType::Clob(_) => Ty::Text(LONG),
            DataType::Uuid => Ty::Uuid,
            DataType::Binary(n) => Ty::Binary {
                fixed: true,
                len: Some(n.unwrap_or(1)),
            },
            DataType::Varbinary(l) => Ty::Binary {
                fixed: false,
                len: match l {
                    Some(sqlparser::ast::BinaryLength::IntegerLength { length }) => Some(*length),
                    _ => None,
                },
            },
            DataType::TinyBlob => Ty::Blob(TINY),
            DataType::Blob(_) if my => Ty::Blob(TEXT),
            DataType::MediumBlob => Ty::Blob(MEDIUM),
            DataType::LongBlob | DataType::Blob(_) | DataType::Bytea | DataType::Bytes(_) => {
                Ty::Blob(LONG)
            }
            DataType::Numeric(i) | DataType::Decimal(i) | DataType::Dec(i) => numeric(i, false),
            DataType::DecimalUnsigned(i) | DataType::DecUnsigned(i) => numeric(i, true),
            DataType::Float(i) | DataType::FloatUnsigned(i) => float(i),
            DataType::Float4 | DataType::Float32 => Ty::Float { bytes: 4 },
            DataType::Real if !my => Ty::Float { bytes: 4 },
            DataType::Real
            | DataType::RealUnsigned
            | DataType::Float8
            | DataType::Float64
            | DataType::Double(_)
            | DataType::DoubleUnsigned(_)
            | DataType::DoublePrecision
            | DataType::DoublePrecisionUnsigned => Ty::Float { bytes: 8 },
            DataType::TinyInt(_) => int(1, false),
            DataType::TinyIntUnsigned(_) | DataType::UTinyInt | DataType::UInt8 => int(1, true),
            DataType::Int2(_) | DataType::SmallInt(_) | DataType::Int16 => int(2, false),
            DataType::Int2Unsigned(_)
            | DataType::SmallIntUnsigned(_)
            | DataType::USmallInt
            | DataType::UInt16 => int(2, true),
            DataType::MediumInt(_) => int(3, false),
            DataType::MediumIntUnsigned(_) => int(3, true),
            DataType::Int(_) | DataType::Int4(_) | DataType::Integer(_) | DataType::Int32 => {
                int(4, false)
            }
            DataType::IntUnsigned(_)
            | DataType::Int4Unsigned(_)
            | DataType::IntegerUnsigned(_)
            | DataType::UInt32 => int(4, true),
            DataType::BigInt(_)
            | DataType::Int8(_)
            | DataType::Int64
            | DataType::Signed
            | DataType::SignedInteger => int(8, false),
            DataType::BigIntUnsigned(_)
            | DataType::UBigInt
            | DataType::Int8Unsigned(_)
            | DataType::UInt64
            | DataType::Unsigned
            | DataType::UnsignedInteger => int(8, true),
            DataType::Bool | DataType::Boolean if my => int(1, false),
            DataType::Bool | DataType::Boolean => Ty::Bool,
            DataType::Date => Ty::Date,
            DataType::Time(p, tz) => Ty::Time {
                tz: has_zone(tz),
                precision: p.unwrap_or(default_precision),
            },
            DataType::Timestamp(p, _) if my => Ty::Timestamp {
                tz: true,
                precision: p.unwrap_or(0),
            },
            DataType::Timestamp(p, tz) => Ty::Timestamp {
                tz: has_zone(tz),
                precision: p.unwrap_or(default_precision),
            },
            DataType::Datetime(p) | DataType::TimestampNtz(p) => Ty::Timestamp {
                tz: false,
                precision: p.unwrap_or(default_precision),
            },
            DataType::Interval { .. } => Ty::Interval,
            DataType::JSON => Ty::Json,
            DataType::JSONB => Ty::Jsonb,
            DataType::Bit(n) => Ty::Bit {
                varying: false,
                len: Some(n.unwrap_or(1)),
            },
            DataType::BitVarying(n) | DataType::VarBit(n) => Ty::Bit {
                varying: true,
                len: *n,
            },
            DataType::Enum(members, _) => Ty::Enum(
                members
                    .iter()
                    .map(|m| match m {
                        EnumMember::Name(n) | EnumMember::NamedValue(n, _) => n.clone(),
                    })
                    .collect(),
            ),
            DataType::Set(members) => Ty::Set(members.clone()),
            DataType::Array(elem) => match elem {
                ArrayElemTypeDef::AngleBracket(inner)
                | ArrayElemTypeDef::SquareBracket(inner, _)
                | ArrayElemTypeDef::Parenthesis(inner)
                | ArrayElemTypeDef::Qualified(inner, _) => {
                    Ty::Array(Box::new(Ty::of(dialect, inner)))
                }
                ArrayElemTypeDef::None => Ty::Other("array".into()),
            },
            DataType::Custom(name, args) => Ty::custom(dialect, &object_key(name), args),
            other => Ty::Other(other.to_string().to_lowercase()),
        }
    }

    fn custom(dialect: Dialect, name: &str, args: &[String]) -> Ty {
        if let Some(bare) = name.strip_prefix("pg_catalog.") {
            // `pg_catalog.int4`: the parser knows the bare name.
            let text = if args.is_empty() {
                bare.to_string()
            } else {
                format!("{bare}({})", args.join(","))
            };
            if let Some(t) = parse_type(dialect, &text)
                && !matches!(t, DataType::Custom(..))
            {
                return Ty::of(dialect, &t);
            }
        }
        let name = name.strip_prefix("pg_catalog.").unwrap_or(name);
        let first = args.first().and_then(|a| a.trim().parse::<u64>().ok());
        match (name, dialect) {
            ("serial" | "serial4", _) => Ty::int(4, false),
            ("bigserial" | "serial8", Dialect::Postgres | Dialect::Sqlite) => Ty::int(8, false),
            // MySQL: SERIAL is BIGINT UNSIGNED NOT NULL AUTO_INCREMENT UNIQUE.
            ("bigserial" | "serial8", Dialect::Mysql) => Ty::int(8, true),
            ("smallserial" | "serial2", _) => Ty::int(2, false),
            ("bpchar", _) => Ty::Char(first),
            ("timestamptz", _) => Ty::Timestamp {
                tz: true,
                precision: first.unwrap_or(6),
            },
            ("timetz", _) => Ty::Time {
                tz: true,
                precision: first.unwrap_or(6),
            },
            ("varbit", _) => Ty::Bit {
                varying: true,
                len: first,
            },
            _ if args.is_empty() => Ty::Named(name.to_string()),
            _ => Ty::Named(format!("{name}({})", args.join(","))),
        }
    }

    fn int(bytes: u8, unsigned: bool) -> Ty {
        Ty::Int { bytes, unsigned }
    }

    /// The zone flags and fractional-second precisions of two values of the
    /// same clock type (both `time` or both `timestamp`).
    fn clocks(a: &Ty, b: &Ty) -> Option<((bool, u64), (bool, u64))> {
        match (a, b) {
            (
                Ty::Timestamp {
                    tz: ftz,
                    precision: fp,
                },
                Ty::Timestamp {
                    tz: ttz,
                    precision: tp,
                },
            )
            | (
                Ty::Time {
                    tz: ftz,
                    precision: fp,
                },
                Ty::Time {
                    tz: ttz,
                    precision: tp,
                },
            ) => Some(((*ftz, *fp), (*ttz, *tp))),
            _ => None,
        }
    }

    fn is_string(&self) -> bool {
        matches!(self, Ty::Char(_) | Ty::Varchar(_) | Ty::Text(_))
    }

    /// Whether values of this type have a well-known text form that a string
    /// column can take, and that can be parsed back.
    fn has_text_form(&self) -> bool {
        matches!(
            self,
            Ty::Int { .. }
                | Ty::Numeric { .. }
                | Ty::Float { .. }
                | Ty::Bool
                | Ty::Date
                | Ty::Time { .. }
                | Ty::Timestamp { .. }
                | Ty::Interval
                | Ty::Json
                | Ty::Jsonb
                | Ty::Uuid
                | Ty::Bit { .. }
                | Ty::Enum(_)
                | Ty::Set(_)
        )
    }

    /// The largest number of characters a string type holds (`None`:
    /// unbounded), counting MySQL text capacities in bytes.
    fn char_limit(&self) -> Option<u64> {
        match self {
            Ty::Char(n) | Ty::Varchar(n) => *n,
            Ty::Text(bytes) if *bytes == u64::MAX => None,
            Ty::Text(bytes) => Some(*bytes),
            _ => None,
        }
    }

    /// The longest text form of a value of this type, when bounded.
    fn text_width(&self) -> Option<u64> {
        match self {
            Ty::Int { bytes, unsigned } => {
                let (min, max) = int_range(*bytes, *unsigned);
                Some(min.to_string().len().max(max.to_string().len()) as u64)
            }
            Ty::Numeric {
                ps: Some((p, s)), ..
            } => Some(p + 2 + u64::from(*s < 0) * s.unsigned_abs()),
            Ty::Bool => Some(5),
            Ty::Uuid => Some(36),
            Ty::Date => Some(13),
            Ty::Enum(members) => members.iter().map(|m| m.chars().count() as u64).max(),
            Ty::Set(members) => Some(members.iter().map(|m| m.chars().count() as u64 + 1).sum()),
            _ => None,
        }
    }
}

/// Parses a type name on its own.
fn parse_type(dialect: Dialect, text: &str) -> Option<DataType> {
    let parser_dialect = dialect.parser_dialect();
    let mut parser = sqlparser::parser::Parser::new(&*parser_dialect)
        .try_with_sql(text)
        .ok()?;
    let parsed = parser.parse_data_type().ok()?;
    (parser.peek_token_ref().token == sqlparser::tokenizer::Token::EOF).then_some(parsed)
}

/// The range of an integer type.
fn int_range(bytes: u8, unsigned: bool) -> (i128, i128) {
    let bits = u32::from(bytes) * 8;
    if unsigned {
        (0, (1i128 << bits) - 1)
    } else {
        (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
    }
}

/// The digits before the decimal point of `numeric(p, s)`.
fn int_part(precision: u64, scale: i64) -> i128 {
    i128::from(precision) - i128::from(scale)
}

/// The decimal digits an integer type needs.
fn int_digits(bytes: u8, unsigned: bool) -> u64 {
    let (min, max) = int_range(bytes, unsigned);
    min.unsigned_abs().max(max.unsigned_abs()).to_string().len() as u64
}

fn int_name(bytes: u8, unsigned: bool) -> String {
    let name = match bytes {
        1 => "tinyint",
        2 => "smallint",
        3 => "mediumint",
        4 => "integer",
        _ => "bigint",
    };
    if unsigned {
        format!("{name} unsigned")
    } else {
        name.to_string()
    }
}

use TypeChange::{Lossy, Rewrite, Safe, Unknown};

/// Judgements shared by PostgreSQL and MySQL; `None` when the dialect must
/// decide. `rewrite` names what a lossless change costs ("the table is
/// rewritten" / "the table is copied").
fn common(a: &Ty, b: &Ty, n: &Names, rewrite: &str) -> Option<Verdict> {
    let v = |kind, reason: String| Some(Verdict::new(kind, reason));
    if let Some(((_, fp), (_, tp))) = Ty::clocks(a, b)
        && tp < fp
    {
        return v(
            Lossy,
            format!("fractional seconds are rounded from {fp} to {tp} digits"),
        );
    }
    match (a, b) {
        (
            Ty::Numeric {
                ps: Some((_, s)), ..
            },
            Ty::Numeric {
                ps: Some((_, t)), ..
            },
        ) if t < s => v(
            Lossy,
            format!("values are rounded from {s} to {t} decimal places"),
        ),
        (
            Ty::Numeric {
                ps: Some((p, s)), ..
            },
            Ty::Numeric {
                ps: Some((q, t)), ..
            },
        ) if int_part(*q, *t) < int_part(*p, *s) => v(
            Lossy,
            format!(
                "values with more than {} integer digits are rejected",
                int_part(*q, *t)
            ),
        ),
        (
            Ty::Int {
                bytes: fb,
                unsigned: fu,
            },
            Ty::Int {
                bytes: tb,
                unsigned: tu,
            },
        ) => {
            let (fmin, fmax) = int_range(*fb, *fu);
            let (tmin, tmax) = int_range(*tb, *tu);
            if tmin <= fmin && tmax >= fmax {
                v(
                    Rewrite,
                    format!("nothing is lost, but {rewrite} and its indexes rebuilt"),
                )
            } else if *tu && !*fu {
                v(
                    Lossy,
                    format!(
                        "negative values do not fit {} and are rejected or clipped",
                        int_name(*tb, *tu)
                    ),
                )
            } else {
                v(
                    Lossy,
                    format!(
                        "values outside {tmin}..{tmax} do not fit {} and are rejected or clipped",
                        int_name(*tb, *tu)
                    ),
                )
            }
        }
        (Ty::Int { bytes, unsigned }, Ty::Numeric { ps, unsigned: tu }) => {
            let digits = int_digits(*bytes, *unsigned);
            let room = ps.map(|(p, s)| int_part(p, s));
            if (*tu && !*unsigned) || room.is_some_and(|r| r < i128::from(digits)) {
                v(
                    Lossy,
                    format!(
                        "{} holds values that {} cannot (it needs {digits} integer digits)",
                        n.from, n.to
                    ),
                )
            } else {
                v(
                    Rewrite,
                    format!(
                        "every integer fits {}, but {rewrite} and its indexes rebuilt",
                        n.to
                    ),
                )
            }
        }
        (Ty::Numeric { ps, unsigned: fu }, Ty::Int { bytes, unsigned }) => match ps {
            Some((p, 0)) if *p < int_digits(*bytes, *unsigned) && (!*unsigned || *fu) => v(
                Rewrite,
                format!("every value fits, but {rewrite} and its indexes rebuilt"),
            ),
            _ => v(
                Lossy,
                format!(
                    "fractions are rounded away and values outside the range of {} are rejected",
                    n.to
                ),
            ),
        },
        (Ty::Int { bytes, .. }, Ty::Float { bytes: fb }) => {
            // float4 keeps 24 bits of mantissa, float8 53.
            let exact = (*fb == 4 && *bytes <= 2) || (*fb == 8 && *bytes <= 4);
            if exact {
                v(
                    Rewrite,
                    format!(
                        "every integer is exact in {}, but {rewrite} and its indexes rebuilt",
                        n.to
                    ),
                )
            } else {
                v(
                    Lossy,
                    format!(
                        "large integers are rounded to the nearest value {} can hold",
                        n.to
                    ),
                )
            }
        }
        (Ty::Float { bytes: fb }, Ty::Float { bytes: tb }) => {
            if tb >= fb {
                v(
                    Rewrite,
                    format!("the conversion is exact, but {rewrite} and its indexes rebuilt"),
                )
            } else {
                v(
                    Lossy,
                    format!("values are rounded to the precision of {}", n.to),
                )
            }
        }
        (Ty::Float { .. }, Ty::Int { .. } | Ty::Numeric { .. }) => v(
            Lossy,
            format!(
                "floating-point values are rounded to fit {}, and out-of-range values are rejected",
                n.to
            ),
        ),
        (Ty::Numeric { .. }, Ty::Float { .. }) => v(
            Lossy,
            format!(
                "exact decimals are rounded to the binary precision of {}",
                n.to
            ),
        ),
        (Ty::Date, Ty::Timestamp { .. }) => v(
            Rewrite,
            format!(
                "dates become midnight timestamps; nothing is lost, but {rewrite} and its indexes rebuilt"
            ),
        ),
        (Ty::Timestamp { .. }, Ty::Date) => v(
            Lossy,
            "the time of day is dropped from every value".to_string(),
        ),
        (Ty::Timestamp { .. }, Ty::Time { .. }) => {
            v(Lossy, "the date is dropped from every value".to_string())
        }
        (from, to) if from.is_string() && to.has_text_form() => v(
            Lossy,
            format!("text values that are not a valid {} are rejected", n.to),
        ),
        (from, to) if from.has_text_form() && to.is_string() => {
            if within(from.text_width(), to.char_limit()) {
                v(
                    Rewrite,
                    format!(
                        "values are stored as their text form; {rewrite} and its indexes rebuilt, and the app now gets strings"
                    ),
                )
            } else {
                v(
                    Lossy,
                    format!(
                        "the text form of some {} values is longer than {} allows",
                        n.from, n.to
                    ),
                )
            }
        }
        _ => None,
    }
}

fn postgres(a: &Ty, b: &Ty, n: &Names) -> Verdict {
    const REWRITE: &str = "the table is rewritten";
    let v = Verdict::new;
    if a.is_string() && b.is_string() {
        let limit = b.char_limit();
        if !within(a.char_limit(), limit) {
            let limit = limit.unwrap_or_default();
            return v(
                Lossy,
                format!(
                    "values longer than {limit} characters are rejected (every row is checked and the table rewritten)"
                ),
            );
        }
        return match (a, b) {
            (Ty::Char(_), Ty::Char(_)) => {
                v(Rewrite, format!("every value is re-padded and {REWRITE}"))
            }
            (Ty::Char(_), _) => v(
                Rewrite,
                format!("trailing blanks are stripped from every value and {REWRITE}"),
            ),
            (_, Ty::Char(_)) => v(
                Rewrite,
                format!(
                    "values are blank-padded, trailing blanks stop counting in comparisons, and {REWRITE}"
                ),
            ),
            _ => v(Safe, "binary-compatible: no rewrite, no scan".to_string()),
        };
    }
    if let Some(verdict) = common(a, b, n, REWRITE) {
        return verdict;
    }
    // Lower precision is judged in `common`.
    if let Some(((ftz, _), (ttz, _))) = Ty::clocks(a, b) {
        return if ftz == ttz {
            v(Safe, "only the precision grows: no rewrite".to_string())
        } else if ttz {
            v(
                Rewrite,
                "existing values are read as local times in the session's TimeZone and the table is rewritten (PostgreSQL 12+ skips the rewrite only when that zone is UTC)"
                    .to_string(),
            )
        } else {
            v(
                Rewrite,
                "values are converted to local times of the session's TimeZone and the table is rewritten (PostgreSQL 12+ skips the rewrite only when that zone is UTC)"
                    .to_string(),
            )
        };
    }
    match (a, b) {
        (Ty::Numeric { ps: from, .. }, Ty::Numeric { ps: to, .. }) => match (from, to) {
            (_, None) => v(Safe, "only the limit is dropped: no rewrite".to_string()),
            (None, Some((p, s))) => v(
                Lossy,
                format!("values are rounded to {s} decimal places and must fit {p} digits"),
            ),
            // Narrowing is judged in `common`.
            (Some((_, s)), Some((_, t))) => {
                if t == s {
                    v(Safe, "only the precision grows: no rewrite".to_string())
                } else {
                    v(
                        Rewrite,
                        format!(
                            "changing the scale from {s} to {t} loses nothing, but {REWRITE} and its indexes rebuilt"
                        ),
                    )
                }
            }
        },
        (Ty::Json, Ty::Jsonb) => v(
            Rewrite,
            format!(
                "json → jsonb re-parses every value (whitespace, key order and duplicate keys are not kept) and {REWRITE}"
            ),
        ),
        (Ty::Jsonb, Ty::Json) => v(
            Rewrite,
            format!("jsonb → json stores every value as text again and {REWRITE}"),
        ),
        (Ty::Bool, Ty::Int { .. }) => v(
            Rewrite,
            format!("booleans become 0 and 1; {REWRITE} and its indexes rebuilt"),
        ),
        (Ty::Int { .. }, Ty::Bool) => v(Lossy, "every non-zero value becomes true".to_string()),
        (Ty::Named(x), Ty::Named(y)) if x == "cidr" && y == "inet" => v(
            Safe,
            "cidr → inet is binary-compatible: no rewrite, no scan".to_string(),
        ),
        (Ty::Named(x), Ty::Named(y)) if x == "inet" && y == "cidr" => v(
            Lossy,
            "inet values with host bits set are rejected".to_string(),
        ),
        (
            Ty::Bit {
                varying: true,
                len: fl,
            },
            Ty::Bit {
                varying: true,
                len: tl,
            },
        ) => match (fl, tl) {
            (_, None) => v(
                Safe,
                "only the length limit is dropped: no rewrite".to_string(),
            ),
            (Some(x), Some(y)) if x <= y => v(
                Safe,
                "only the length limit is raised: no rewrite".to_string(),
            ),
            _ => v(
                Lossy,
                format!("bit strings longer than {} are rejected", n.to),
            ),
        },
        (Ty::Bit { .. }, Ty::Bit { .. }) => v(
            Lossy,
            format!(
                "bit strings whose length does not match {} are rejected",
                n.to
            ),
        ),
        (Ty::Array(x), Ty::Array(y)) => {
            let inner = postgres(x, y, n);
            match inner.kind {
                TypeChange::Same | Safe | Rewrite => v(
                    Rewrite,
                    format!("every array is converted element by element and {REWRITE}"),
                ),
                Lossy => v(Lossy, format!("array elements: {}", inner.reason)),
                _ => unknown(n, "PostgreSQL"),
            }
        }
        _ => unknown(n, "PostgreSQL"),
    }
}

fn unknown(n: &Names, database: &str) -> Verdict {
    Verdict::new(
        Unknown,
        format!(
            "straddle cannot tell how {database} converts {} to {}: assume a full table rewrite and check that every value converts",
            n.from, n.to
        ),
    )
}

/// MySQL's VARCHAR length prefix: 1 byte up to 255 bytes, 2 beyond.
fn mysql_length_bytes(chars: u64) -> u8 {
    if chars.saturating_mul(MYSQL_BYTES_PER_CHAR) <= 255 {
        1
    } else {
        2
    }
}

fn mysql(a: &Ty, b: &Ty, n: &Names) -> Verdict {
    const COPY: &str = "the table is copied (ALGORITHM=COPY)";
    let v = Verdict::new;
    let copied = || v(Rewrite, format!("nothing is lost, but {COPY}"));
    if a.is_string() && b.is_string() {
        // Capacities in bytes (utf8mb4) to compare with the text sizes.
        let bytes = |t: &Ty| match t {
            Ty::Char(Some(c)) | Ty::Varchar(Some(c)) => c.saturating_mul(MYSQL_BYTES_PER_CHAR),
            Ty::Text(cap) => *cap,
            _ => u64::MAX,
        };
        let fits = match (a, b) {
            (Ty::Text(x), Ty::Text(y)) => x <= y,
            (Ty::Text(x), Ty::Char(Some(c)) | Ty::Varchar(Some(c))) => x <= c,
            (_, Ty::Text(_)) => bytes(a) <= bytes(b),
            _ => within(a.char_limit(), b.char_limit()),
        };
        if !fits {
            return v(
                Lossy,
                format!(
                    "values that do not fit {} are rejected in strict mode and truncated otherwise",
                    n.to
                ),
            );
        }
        return match (a, b) {
            (Ty::Varchar(Some(x)), Ty::Varchar(Some(y))) => {
                if mysql_length_bytes(*x) == mysql_length_bytes(*y) {
                    v(
                        Safe,
                        format!(
                            "the {}-byte length prefix stays (assuming utf8mb4): INPLACE, no table copy",
                            mysql_length_bytes(*x)
                        ),
                    )
                } else {
                    v(
                        Rewrite,
                        format!(
                            "the maximum length crosses 255 bytes (63 utf8mb4 characters), so the length prefix grows and {COPY}"
                        ),
                    )
                }
            }
            (_, Ty::Char(_)) => v(
                Rewrite,
                format!("trailing spaces are stripped when CHAR values are read back, and {COPY}"),
            ),
            _ => copied(),
        };
    }
    if let (Ty::Date, Ty::Timestamp { tz: true, .. }) = (a, b) {
        return v(
            Lossy,
            "TIMESTAMP only holds 1970-01-01 to 2038-01-19 UTC; older and later dates are rejected"
                .to_string(),
        );
    }
    if let Some(verdict) = common(a, b, n, COPY) {
        return verdict;
    }
    // Lower precision is judged in `common`.
    if let Some(((ftz, _), (ttz, _))) = Ty::clocks(a, b) {
        return if !ftz && ttz {
            v(
                Lossy,
                "TIMESTAMP only holds 1970-01-01 to 2038-01-19 UTC, and values are converted with the session time zone".to_string(),
            )
        } else {
            copied()
        };
    }
    match (a, b) {
        // Narrowing is judged in `common`.
        (
            Ty::Numeric {
                ps: Some(_),
                unsigned: fu,
            },
            Ty::Numeric {
                ps: Some(_),
                unsigned: tu,
            },
        ) => {
            if *tu && !*fu {
                v(Lossy, "negative values are rejected".to_string())
            } else {
                copied()
            }
        }
        (Ty::Enum(x), Ty::Enum(y)) | (Ty::Set(x), Ty::Set(y)) => {
            let is_set = matches!(a, Ty::Set(_));
            let size = |count: usize| {
                if is_set {
                    count.div_ceil(8).max(1)
                } else if count <= 255 {
                    1
                } else {
                    2
                }
            };
            if x.iter().any(|m| !y.contains(m)) {
                v(
                    Lossy,
                    "rows holding a removed member get an empty value or are rejected".to_string(),
                )
            } else if y.starts_with(x) && size(x.len()) == size(y.len()) {
                v(
                    Safe,
                    "members are only appended at the end: INSTANT, no table copy".to_string(),
                )
            } else {
                v(
                    Rewrite,
                    format!(
                        "members are inserted or reordered (or the storage size grows), so {COPY}"
                    ),
                )
            }
        }
        (Ty::Binary { len: Some(x), .. }, Ty::Binary { len: Some(y), .. })
        | (Ty::Blob(x), Ty::Blob(y)) => {
            if y < x {
                v(
                    Lossy,
                    format!("values longer than {y} bytes are rejected or truncated"),
                )
            } else {
                copied()
            }
        }
        (Ty::Bit { len: Some(x), .. }, Ty::Bit { len: Some(y), .. }) => {
            if y < x {
                v(Lossy, format!("values wider than {y} bits are rejected"))
            } else {
                copied()
            }
        }
        _ => unknown(n, "MySQL"),
    }
}

/// SQLite's type affinity of a declared type (section 3.1 of its datatype
/// documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Affinity {
    Integer,
    Text,
    Blob,
    Real,
    Numeric,
}

impl Affinity {
    fn of(declared: &str) -> Affinity {
        let t = declared.to_ascii_uppercase();
        if t.contains("INT") {
            Affinity::Integer
        } else if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") {
            Affinity::Text
        } else if t.contains("BLOB") || t.trim().is_empty() {
            Affinity::Blob
        } else if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") {
            Affinity::Real
        } else {
            Affinity::Numeric
        }
    }

    fn name(self) -> &'static str {
        match self {
            Affinity::Integer => "INTEGER",
            Affinity::Text => "TEXT",
            Affinity::Blob => "BLOB",
            Affinity::Real => "REAL",
            Affinity::Numeric => "NUMERIC",
        }
    }
}

fn sqlite(from: &DataType, to: &DataType, n: &Names) -> Verdict {
    let (a, b) = (
        Affinity::of(&from.to_string()),
        Affinity::of(&to.to_string()),
    );
    if a == b {
        return Verdict::new(
            Safe,
            format!(
                "both have {} affinity and SQLite ignores declared lengths, so no stored value changes",
                a.name()
            ),
        );
    }
    match (a, b) {
        (Affinity::Text, Affinity::Integer | Affinity::Real | Affinity::Numeric) => Verdict::new(
            Lossy,
            format!(
                "with {} affinity, text that looks like a number is stored as a number ('007' becomes 7)",
                b.name()
            ),
        ),
        _ => Verdict::new(
            Unknown,
            format!(
                "SQLite stores values by affinity; {} ({}) → {} ({}) may change how some values are stored",
                n.from,
                a.name(),
                n.to,
                b.name()
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlparser::parser::Parser;

    fn ty(dialect: Dialect, text: &str) -> DataType {
        let sql = format!("CREATE TABLE t (c {text})");
        let parsed = Parser::parse_sql(&*dialect.parser_dialect(), &sql)
            .unwrap_or_else(|e| panic!("{text}: {e}"));
        match &parsed[0] {
            Ast::CreateTable(c) => c.columns[0].data_type.clone(),
            other => panic!("{other:?}"),
        }
    }

    fn kind(dialect: Dialect, from: &str, to: &str) -> TypeChange {
        let v = verdict(dialect, &ty(dialect, from), &ty(dialect, to));
        assert!(!v.reason.is_empty());
        v.kind
    }

    /// Checks each `(from, to, expected)` change in `dialect`.
    fn expect(dialect: Dialect, cases: &[(&str, &str, TypeChange)]) {
        for &(from, to, want) in cases {
            assert_eq!(kind(dialect, from, to), want, "{dialect:?}: {from} → {to}");
        }
    }

    use TypeChange::Same;

    #[test]
    fn aliases_are_the_same_type() {
        for (a, b) in [
            ("int4", "integer"),
            ("INT", "int4"),
            ("int8", "BIGINT"),
            ("int2", "smallint"),
            ("serial", "integer"),
            ("bigserial", "int8"),
            ("character varying(20)", "VARCHAR(20)"),
            ("char varying", "varchar"),
            ("bool", "boolean"),
            ("timestamp without time zone", "timestamp"),
            ("timestamp(6)", "timestamp"),
            ("timestamptz", "timestamp with time zone"),
            ("float8", "double precision"),
            ("float", "float8"),
            ("float4", "real"),
            ("float(10)", "real"),
            ("decimal(10,2)", "numeric(10,2)"),
            ("numeric(10)", "numeric(10,0)"),
            ("char", "character(1)"),
            ("pg_catalog.int4", "int"),
            ("CIDR", "cidr"),
            ("int[]", "integer[]"),
        ] {
            assert_eq!(kind(Dialect::Postgres, a, b), Same, "{a} = {b}");
        }
        for (a, b) in [
            ("int(11)", "int"),
            ("INTEGER", "int(10)"),
            ("tinyint(1)", "boolean"),
            ("bool", "tinyint"),
            ("int unsigned", "integer(10) unsigned"),
            ("decimal", "decimal(10,0)"),
            ("real", "double"),
            ("datetime", "datetime(0)"),
            ("character varying(20)", "varchar(20)"),
        ] {
            assert_eq!(kind(Dialect::Mysql, a, b), Same, "{a} = {b}");
        }
    }

    #[test]
    fn postgres_strings() {
        expect(
            Dialect::Postgres,
            &[
                ("varchar(50)", "varchar(100)", Safe),
                ("varchar(50)", "varchar(50)", Same),
                ("varchar(50)", "text", Safe),
                ("varchar(50)", "varchar", Safe),
                ("varchar", "text", Safe),
                ("text", "varchar", Safe),
                ("text", "varchar(50)", Lossy),
                ("varchar(100)", "varchar(50)", Lossy),
                ("char(10)", "text", Rewrite),
                ("char(10)", "varchar(10)", Rewrite),
                ("char(10)", "varchar(5)", Lossy),
                ("char(10)", "char(20)", Rewrite),
                ("char(10)", "char(5)", Lossy),
                ("varchar(5)", "char(10)", Rewrite),
                ("text", "char(10)", Lossy),
            ],
        );
        let v = verdict(
            Dialect::Postgres,
            &ty(Dialect::Postgres, "varchar(100)"),
            &ty(Dialect::Postgres, "varchar(50)"),
        );
        assert!(v.reason.contains("50 characters"), "{}", v.reason);
    }

    #[test]
    fn postgres_numbers() {
        expect(
            Dialect::Postgres,
            &[
                ("int", "bigint", Rewrite),
                ("smallint", "int", Rewrite),
                ("serial", "bigint", Rewrite),
                ("bigint", "int", Lossy),
                ("int", "smallint", Lossy),
                ("numeric(10,2)", "numeric(12,2)", Safe),
                ("numeric(10,2)", "numeric", Safe),
                ("numeric(10,2)", "numeric(8,2)", Lossy),
                ("numeric(10,2)", "numeric(12,4)", Rewrite),
                ("numeric(10,2)", "numeric(11,4)", Lossy),
                ("numeric(10,2)", "numeric(10,1)", Lossy),
                ("numeric", "numeric(10,2)", Lossy),
                ("int", "numeric", Rewrite),
                ("int", "numeric(12,2)", Rewrite),
                ("int", "numeric(10,2)", Lossy),
                ("bigint", "numeric(19,0)", Rewrite),
                ("numeric(10,2)", "int", Lossy),
                ("numeric(9,0)", "int", Rewrite),
                ("int", "double precision", Rewrite),
                ("bigint", "double precision", Lossy),
                ("int", "real", Lossy),
                ("real", "double precision", Rewrite),
                ("double precision", "real", Lossy),
                ("double precision", "numeric", Lossy),
                ("numeric", "double precision", Lossy),
                ("real", "int", Lossy),
            ],
        );
    }

    #[test]
    fn postgres_times_and_others() {
        expect(
            Dialect::Postgres,
            &[
                ("timestamp", "timestamptz", Rewrite),
                ("timestamptz", "timestamp", Rewrite),
                ("timestamp(3)", "timestamp", Safe),
                ("timestamp", "timestamp(3)", Lossy),
                ("timestamp(3)", "timestamptz", Rewrite),
                ("time", "timetz", Rewrite),
                ("date", "timestamp", Rewrite),
                ("timestamp", "date", Lossy),
                ("cidr", "inet", Safe),
                ("inet", "cidr", Lossy),
                ("json", "jsonb", Rewrite),
                ("jsonb", "json", Rewrite),
                ("jsonb", "text", Rewrite),
                ("text", "jsonb", Lossy),
                ("text", "uuid", Lossy),
                ("uuid", "text", Rewrite),
                ("uuid", "varchar(36)", Rewrite),
                ("uuid", "varchar(20)", Lossy),
                ("int", "text", Rewrite),
                ("bigint", "varchar(10)", Lossy),
                ("varchar(20)", "int", Lossy),
                ("boolean", "int", Rewrite),
                ("int", "boolean", Lossy),
                ("varbit(8)", "varbit(16)", Safe),
                ("bit(8)", "bit(16)", Lossy),
                ("int[]", "bigint[]", Rewrite),
                ("bigint[]", "int[]", Lossy),
                ("text", "citext", Unknown),
                ("my_enum", "other_enum", Unknown),
                ("bytea", "text", Unknown),
            ],
        );
        assert!(Unknown.rewrites() && Lossy.rewrites() && Rewrite.rewrites());
        assert!(!Safe.rewrites() && !Same.rewrites());
    }

    #[test]
    fn mysql_changes() {
        expect(
            Dialect::Mysql,
            &[
                ("varchar(20)", "varchar(63)", Safe),
                ("varchar(20)", "varchar(64)", Rewrite),
                ("varchar(100)", "varchar(255)", Safe),
                ("varchar(255)", "varchar(100)", Lossy),
                ("varchar(255)", "text", Rewrite),
                ("varchar(255)", "tinytext", Lossy),
                ("text", "varchar(255)", Lossy),
                ("text", "mediumtext", Rewrite),
                ("longtext", "text", Lossy),
                ("char(10)", "varchar(10)", Rewrite),
                ("int", "bigint", Rewrite),
                ("int(11)", "bigint(20)", Rewrite),
                ("bigint", "int", Lossy),
                ("int", "int unsigned", Lossy),
                ("int unsigned", "bigint", Rewrite),
                ("int unsigned", "int", Lossy),
                ("tinyint(1)", "int", Rewrite),
                ("decimal(10,2)", "decimal(12,2)", Rewrite),
                ("decimal(10,2)", "decimal(10,1)", Lossy),
                ("float", "double", Rewrite),
                ("double", "float", Lossy),
                ("datetime", "timestamp", Lossy),
                ("timestamp", "datetime", Rewrite),
                ("datetime(6)", "datetime", Lossy),
                ("enum('a','b')", "enum('a','b','c')", Safe),
                ("enum('a','b')", "enum('c','a','b')", Rewrite),
                ("enum('a','b')", "enum('a')", Lossy),
                ("varchar(10)", "int", Lossy),
                ("int", "varchar(11)", Rewrite),
                ("blob", "mediumblob", Rewrite),
                ("json", "year", Unknown),
            ],
        );
    }

    #[test]
    fn sqlite_affinities() {
        expect(
            Dialect::Sqlite,
            &[
                ("varchar(50)", "varchar(10)", Safe),
                ("varchar(50)", "text", Safe),
                ("int", "bigint", Safe),
                ("int", "integer", Same),
                ("text", "integer", Lossy),
                ("varchar(10)", "numeric", Lossy),
                ("integer", "text", Unknown),
                ("real", "integer", Unknown),
            ],
        );
    }

    fn changes(dialect: Dialect, sql: &str) -> Vec<(String, String, Option<String>, String)> {
        let parsed = Parser::parse_sql(&*dialect.parser_dialect(), sql).unwrap();
        type_changes(&parsed[0])
            .into_iter()
            .map(|s| (s.table, s.column, s.new_name, s.to.to_string()))
            .collect()
    }

    #[test]
    fn finds_type_changes_in_statements() {
        assert_eq!(
            changes(
                Dialect::Postgres,
                "ALTER TABLE public.Users ALTER COLUMN Email TYPE varchar(10) USING email::varchar, \
                 ALTER age SET DATA TYPE bigint, ADD COLUMN x int"
            ),
            vec![
                ("users".into(), "email".into(), None, "VARCHAR(10)".into()),
                ("users".into(), "age".into(), None, "BIGINT".into()),
            ]
        );
        assert_eq!(
            changes(
                Dialect::Mysql,
                "ALTER TABLE t MODIFY a varchar(10) NOT NULL, CHANGE b c int, CHANGE d d text"
            ),
            vec![
                ("t".into(), "a".into(), None, "VARCHAR(10)".into()),
                ("t".into(), "b".into(), Some("c".into()), "INT".into()),
                ("t".into(), "d".into(), None, "TEXT".into()),
            ]
        );
        assert!(changes(Dialect::Postgres, "ALTER TABLE t ADD COLUMN c int").is_empty());
        assert!(changes(Dialect::Postgres, "SELECT 1").is_empty());
    }

    #[test]
    fn plain_using() {
        let parsed = Parser::parse_sql(
            &sqlparser::dialect::PostgreSqlDialect {},
            "ALTER TABLE t ALTER c TYPE text USING c::text, ALTER d TYPE int USING length(d)",
        )
        .unwrap();
        let sites = type_changes(&parsed[0]);
        assert!(using_is_plain(sites[0].using.unwrap(), "c"));
        assert!(!using_is_plain(sites[1].using.unwrap(), "d"));
    }
}
