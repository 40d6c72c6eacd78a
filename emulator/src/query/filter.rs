//! ShotGrid filters: parsing, validation per data type, and evaluation.
//!
//! Accepted shapes (reference, "Searching"):
//! - array: `[[field, relation, value…], …]`, all conditions joined with AND;
//! - hash: `{"logical_operator": "and"|"or", "conditions": [condition | hash, …]}`
//!   (`logical_operator` defaults to `and`);
//! - a condition may also be the object form real sites echo in errors:
//!   `{"path": field, "relation": r, "values": [v…]}`.
//!
//! Values: `["f","in",[a,b]]` and `["f","in",a,b]` are the same; `between`,
//! `in_last` and `in_next` (and their negations) take `[x, y]` or `x, y`.
//!
//! Semantics (documented choices where the reference is silent):
//! - text comparisons (`is`, `contains`, `starts_with`, `ends_with`, `in`, `name_*`) are
//!   case-insensitive; list, status_list, entity_type, color, uuid, footage and tag names
//!   compare exactly;
//! - negated operators (`is_not`, `not_contains`, `not_in`, `not_between`,
//!   `not_in_last`, `not_in_next`, `type_is_not`, `name_not_contains`) are the exact
//!   complement of their positive form, so records whose value is null match them;
//! - ordering operators never match null;
//! - `is null` matches a null scalar, an unset checkbox, an empty multi-entity list and a
//!   broken link chain; an unset checkbox also counts as `false`;
//! - on multi-entity fields and through multi-entity hops a positive condition matches
//!   when any reached value matches;
//! - dates are compared in UTC; calendar weeks start on Monday; `in_last N DAY` on a
//!   date field covers the N days before today and today.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::cache::ColumnSet;
use super::dates::{self, Period, Unit};
use super::path::{FieldPath, PathError};
use super::{QueryError, SourcePath};
use crate::model::schema::FieldKind;
use crate::model::{Record, Store};

/// The cached columns of a filter's conditions (from [`Filter::bind`]): looked up by the
/// condition's address, so testing a row never compares field names.
#[derive(Debug, Default)]
pub struct BoundColumns<'c> {
    slots: Vec<(usize, &'c [Value])>,
}

impl BoundColumns<'_> {
    fn get(&self, c: &Cond<'_>, row: usize) -> Option<&Value> {
        let key = cond_key(c);
        self.slots
            .iter()
            .find(|(k, _)| *k == key)
            .and_then(|(_, col)| col.get(row))
    }
}

fn cond_key(c: &Cond<'_>) -> usize {
    std::ptr::from_ref(c) as usize
}

/// Which top-level filter shape a request declared (by its Content-Type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterSyntax {
    /// `application/vnd+shotgun.api3_array+json`: a list of conditions.
    Array,
    /// `application/vnd+shotgun.api3_hash+json`: `{logical_operator, conditions}`.
    Hash,
    /// Either shape.
    Any,
}

/// Every relation of the reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `is`.
    Is,
    /// `is_not`.
    IsNot,
    /// `less_than`.
    LessThan,
    /// `greater_than`.
    GreaterThan,
    /// `contains`.
    Contains,
    /// `not_contains`.
    NotContains,
    /// `starts_with`.
    StartsWith,
    /// `ends_with`.
    EndsWith,
    /// `between`.
    Between,
    /// `not_between`.
    NotBetween,
    /// `in_last`.
    InLast,
    /// `not_in_last`.
    NotInLast,
    /// `in_next`.
    InNext,
    /// `not_in_next`.
    NotInNext,
    /// `in`.
    In,
    /// `not_in`.
    NotIn,
    /// `type_is`.
    TypeIs,
    /// `type_is_not`.
    TypeIsNot,
    /// `in_calendar_day`.
    InCalendarDay,
    /// `in_calendar_week`.
    InCalendarWeek,
    /// `in_calendar_month`.
    InCalendarMonth,
    /// `in_calendar_year`.
    InCalendarYear,
    /// `name_contains`.
    NameContains,
    /// `name_not_contains`.
    NameNotContains,
    /// `name_starts_with`.
    NameStartsWith,
    /// `name_ends_with`.
    NameEndsWith,
    /// `name_is`.
    NameIs,
}

/// Relation names, in the reference's order.
pub const OPS: &[(Op, &str)] = &[
    (Op::Is, "is"),
    (Op::IsNot, "is_not"),
    (Op::LessThan, "less_than"),
    (Op::GreaterThan, "greater_than"),
    (Op::Contains, "contains"),
    (Op::NotContains, "not_contains"),
    (Op::StartsWith, "starts_with"),
    (Op::EndsWith, "ends_with"),
    (Op::Between, "between"),
    (Op::NotBetween, "not_between"),
    (Op::InLast, "in_last"),
    (Op::NotInLast, "not_in_last"),
    (Op::InNext, "in_next"),
    (Op::NotInNext, "not_in_next"),
    (Op::In, "in"),
    (Op::NotIn, "not_in"),
    (Op::TypeIs, "type_is"),
    (Op::TypeIsNot, "type_is_not"),
    (Op::InCalendarDay, "in_calendar_day"),
    (Op::InCalendarWeek, "in_calendar_week"),
    (Op::InCalendarMonth, "in_calendar_month"),
    (Op::InCalendarYear, "in_calendar_year"),
    (Op::NameContains, "name_contains"),
    (Op::NameNotContains, "name_not_contains"),
    (Op::NameStartsWith, "name_starts_with"),
    (Op::NameEndsWith, "name_ends_with"),
    (Op::NameIs, "name_is"),
];

impl Op {
    /// Parses a relation name.
    pub fn parse(s: &str) -> Option<Op> {
        OPS.iter().find(|(_, n)| *n == s).map(|(o, _)| *o)
    }

    /// The relation's name.
    pub fn as_str(self) -> &'static str {
        OPS.iter()
            .find(|(o, _)| *o == self)
            .map_or("is", |(_, n)| n)
    }
}

/// The relations valid for a data type: the reference's "Valid Operators By Data Type"
/// table; for types it does not list, `is`/`is_not`/`in`/`not_in` (color, entity_type,
/// uuid, footage) and the Python API's set for tag_list. Empty: not filterable
/// (password, serializable, summary, url and the computed types).
pub fn valid_ops(kind: FieldKind) -> &'static [Op] {
    use Op::*;
    const NUMERIC_FULL: &[Op] = &[
        Is,
        IsNot,
        LessThan,
        GreaterThan,
        Between,
        NotBetween,
        In,
        NotIn,
    ];
    const NUMERIC: &[Op] = &[Is, IsNot, GreaterThan, LessThan, Between, In, NotIn];
    const DATES: &[Op] = &[
        Is,
        IsNot,
        GreaterThan,
        LessThan,
        InLast,
        NotInLast,
        InNext,
        NotInNext,
        InCalendarDay,
        InCalendarWeek,
        InCalendarMonth,
        InCalendarYear,
        Between,
        In,
        NotIn,
    ];
    const EXACT: &[Op] = &[Is, IsNot, In, NotIn];
    match kind {
        FieldKind::Addressing => &[
            Is,
            IsNot,
            Contains,
            NotContains,
            In,
            TypeIs,
            TypeIsNot,
            NameContains,
            NameNotContains,
            NameStartsWith,
            NameEndsWith,
        ],
        FieldKind::Checkbox => &[Is, IsNot],
        FieldKind::Currency | FieldKind::Number => NUMERIC_FULL,
        FieldKind::Date | FieldKind::DateTime => DATES,
        FieldKind::Duration | FieldKind::Float | FieldKind::Percent | FieldKind::Timecode => {
            NUMERIC
        }
        FieldKind::Entity => &[
            Is,
            IsNot,
            TypeIs,
            TypeIsNot,
            NameContains,
            NameNotContains,
            NameIs,
            In,
            NotIn,
        ],
        FieldKind::Image => &[Is, IsNot],
        FieldKind::List | FieldKind::StatusList => EXACT,
        FieldKind::MultiEntity => &[
            Is,
            IsNot,
            TypeIs,
            TypeIsNot,
            NameContains,
            NameNotContains,
            In,
            NotIn,
        ],
        FieldKind::Text => &[
            Is,
            IsNot,
            Contains,
            NotContains,
            StartsWith,
            EndsWith,
            In,
            NotIn,
        ],
        FieldKind::Color | FieldKind::EntityType | FieldKind::Uuid | FieldKind::Footage => EXACT,
        FieldKind::TagList => &[Is, IsNot, NameContains, NameNotContains, NameIs],
        FieldKind::Password
        | FieldKind::Serializable
        | FieldKind::Summary
        | FieldKind::Url
        | FieldKind::PivotColumn
        | FieldKind::Calculated
        | FieldKind::Other => &[],
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Lt,
    Gt,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DateKind {
    Date,
    DateTime,
}

/// A compiled per-value test (the positive form of a relation).
#[derive(Debug, Clone)]
enum Test {
    /// Every reached value is null (see module docs).
    IsNull,
    /// Matches nothing.
    Never,
    /// `v <op> x`.
    Num(Cmp, f64),
    /// `v == x` for one of the numbers.
    NumIn(Vec<f64>),
    /// `lo <= v <= hi`, open ends allowed.
    NumRange(Option<f64>, Option<f64>),
    /// Case-insensitive equality with one of the (lower-cased) strings.
    TextIn(Vec<String>),
    /// Case-insensitive substring.
    Contains(String),
    /// Case-insensitive prefix.
    StartsWith(String),
    /// Case-insensitive suffix.
    EndsWith(String),
    /// Exact equality with one of the strings (or a linked tag's name).
    Exact(Vec<String>),
    /// Date ordering against a canonical string.
    DateCmp(DateKind, Cmp, String),
    /// `lo <= v` and `v <= hi` (or `< hi` when not inclusive).
    DateRange(DateKind, Option<String>, Option<String>, bool),
    /// Date equality with one of the canonical strings.
    DateIn(DateKind, Vec<String>),
    /// Checkbox value (null counts as false).
    Bool(bool),
    /// Link to one of the `(type, id)`s.
    Entity(Vec<(String, i64)>),
    /// Link of one of the types.
    TypeIn(Vec<String>),
    /// Text test on a link's display name (or on a tag name).
    Name(Box<Test>),
    /// Null, or the inner test (`in [a, null]`).
    OrNull(Box<Test>),
}

#[derive(Debug, Clone)]
struct Cond<'s> {
    path: FieldPath<'s>,
    test: Test,
    negate: bool,
}

#[derive(Debug, Clone)]
enum Node<'s> {
    All(Vec<Node<'s>>),
    Any(Vec<Node<'s>>),
    Cond(Box<Cond<'s>>),
}

/// A compiled filter over one entity type, borrowing the store it was compiled for.
#[derive(Debug, Clone)]
pub struct Filter<'s> {
    store: &'s Store,
    root: Node<'s>,
}

struct Parser<'s> {
    store: &'s Store,
    entity_type: String,
    now: DateTime<Utc>,
}

fn lower(s: &str) -> String {
    s.to_lowercase()
}

fn eq_ci(a: &str, lowered: &str) -> bool {
    if a.is_ascii() && lowered.is_ascii() {
        a.eq_ignore_ascii_case(lowered)
    } else {
        a.to_lowercase() == lowered
    }
}

fn lowered(a: &str) -> Cow<'_, str> {
    if a.bytes().any(|b| b.is_ascii_uppercase()) || !a.is_ascii() {
        Cow::Owned(a.to_lowercase())
    } else {
        Cow::Borrowed(a)
    }
}

fn kind_name(kind: FieldKind) -> &'static str {
    kind.as_str()
}

impl<'s> Filter<'s> {
    /// A filter that matches every record.
    pub fn all(store: &'s Store) -> Self {
        Filter {
            store,
            root: Node::All(Vec::new()),
        }
    }

    /// Compiles a JSON filter (array or hash shape) for the canonical `entity_type`.
    /// `at` is where the filter sits in the request (for error sources); `now` anchors
    /// relative date operators.
    pub fn parse(
        store: &'s Store,
        entity_type: &str,
        filters: &Value,
        syntax: FilterSyntax,
        at: &SourcePath,
        now: DateTime<Utc>,
    ) -> Result<Self, QueryError> {
        let p = Parser {
            store,
            entity_type: entity_type.to_string(),
            now,
        };
        let (parent, key) = at.split_last();
        let root = match (filters, syntax) {
            (Value::Null, _) => Node::All(Vec::new()),
            (Value::Array(items), FilterSyntax::Array | FilterSyntax::Any) => {
                Node::All(p.parse_list(items, at)?)
            }
            (Value::Object(obj), FilterSyntax::Hash | FilterSyntax::Any) => {
                p.parse_hash(obj, at)?
            }
            (Value::Array(_), FilterSyntax::Hash) => {
                return Err(QueryError::invalid(
                    &parent,
                    &key,
                    "filters must be a hash {\"logical_operator\", \"conditions\"} with Content-Type application/vnd+shotgun.api3_hash+json",
                ))
            }
            (Value::Object(_), FilterSyntax::Array) => {
                return Err(QueryError::invalid(
                    &parent,
                    &key,
                    "filters must be an array of conditions with Content-Type application/vnd+shotgun.api3_array+json",
                ))
            }
            _ => {
                return Err(QueryError::invalid(
                    &parent,
                    &key,
                    "filters must be an array of conditions or a hash {\"logical_operator\", \"conditions\"}",
                ))
            }
        };
        Ok(Filter { store, root })
    }

    /// Compiles query-string filters (`filter[field]=v`, comma list → `in`): values are
    /// converted to the field's type. Errors name `{"filter":{field:[…]}}`.
    pub fn from_query(
        store: &'s Store,
        entity_type: &str,
        pairs: &[(String, String)],
        now: DateTime<Utc>,
    ) -> Result<Self, QueryError> {
        let p = Parser {
            store,
            entity_type: entity_type.to_string(),
            now,
        };
        let root = SourcePath::root("filter");
        let mut conds = Vec::new();
        for (field, raw) in pairs {
            let parts: Vec<&str> = raw.split(',').collect();
            let op = if parts.len() > 1 { Op::In } else { Op::Is };
            let strings: Vec<Value> = parts.iter().map(|s| Value::String(s.to_string())).collect();
            let path = match FieldPath::resolve(store, entity_type, field) {
                Ok(path) => path,
                Err(e) => return Err(p.path_error(e, field, op.as_str(), &strings, &root, field)),
            };
            let mut values = Vec::with_capacity(parts.len());
            for s in &parts {
                values.push(
                    coerce_query_value(path.kind, s)
                        .map_err(|m| QueryError::invalid(&root, field, m))?,
                );
            }
            conds.push(p.compile(path, op, &values, &root, field)?);
        }
        Ok(Filter {
            store,
            root: Node::All(conds),
        })
    }

    /// Whether a record matches.
    pub fn matches(&self, record: &Record) -> bool {
        self.eval(&self.root, record, None)
    }

    /// Whether a record matches, reading plain fields from cached columns at `row`
    /// when they were loaded (see [`Filter::bind`]).
    pub fn matches_row(&self, record: &Record, cols: &BoundColumns<'_>, row: usize) -> bool {
        self.eval(&self.root, record, Some((cols, row)))
    }

    /// Finds, once per query, the cached column each condition reads.
    pub fn bind<'c>(&self, cols: &'c ColumnSet) -> BoundColumns<'c> {
        fn walk<'c>(n: &Node<'_>, cols: &'c ColumnSet, out: &mut Vec<(usize, &'c [Value])>) {
            match n {
                Node::All(items) | Node::Any(items) => {
                    items.iter().for_each(|i| walk(i, cols, out))
                }
                Node::Cond(c) if c.path.hops.is_empty() => {
                    if let Some(col) = cols.get(&c.path.field) {
                        out.push((cond_key(c), col));
                    }
                }
                Node::Cond(_) => {}
            }
        }
        let mut slots = Vec::new();
        walk(&self.root, cols, &mut slots);
        BoundColumns { slots }
    }

    /// The plain (no-hop) fields the filter reads.
    pub fn plain_fields(&self) -> Vec<&str> {
        fn walk<'a>(n: &'a Node<'_>, out: &mut Vec<&'a str>) {
            match n {
                Node::All(items) | Node::Any(items) => items.iter().for_each(|i| walk(i, out)),
                Node::Cond(c) if c.path.hops.is_empty() => out.push(c.path.field.as_str()),
                Node::Cond(_) => {}
            }
        }
        let mut out = Vec::new();
        walk(&self.root, &mut out);
        out
    }

    /// Whether the filter is the empty AND (matches everything).
    pub fn is_trivial(&self) -> bool {
        matches!(&self.root, Node::All(v) if v.is_empty())
    }

    fn eval(
        &self,
        node: &Node<'s>,
        record: &Record,
        cols: Option<(&BoundColumns<'_>, usize)>,
    ) -> bool {
        match node {
            Node::All(items) => items.iter().all(|n| self.eval(n, record, cols)),
            Node::Any(items) => items.iter().any(|n| self.eval(n, record, cols)),
            Node::Cond(c) => {
                if let Some(v) = cols.and_then(|(bound, row)| bound.get(c, row)) {
                    let multi = super::path::is_multi(c.path.kind);
                    let hit = match (&c.test, v) {
                        (Test::IsNull, Value::Array(items)) if multi => items.is_empty(),
                        (Test::IsNull, v) => v.is_null(),
                        (t, Value::Array(items)) if multi => items.iter().any(|i| self.item(t, i)),
                        (_, Value::Null) if multi => false,
                        (t, v) => self.item(t, v),
                    };
                    return hit != c.negate;
                }
                let hit = match &c.test {
                    Test::IsNull => !c.path.any_value(record, &mut |v| !v.is_null()),
                    t => c.path.any_value(record, &mut |v| self.item(t, v)),
                };
                hit != c.negate
            }
        }
    }

    fn name_of(&self, v: &Value) -> Option<String> {
        match v {
            Value::String(s) => Some(s.clone()),
            Value::Object(o) => {
                let t = o.get("type").and_then(Value::as_str)?;
                let id = o.get("id").and_then(Value::as_i64)?;
                self.store
                    .display_name(t, id)
                    .or_else(|| o.get("name").and_then(Value::as_str).map(str::to_string))
            }
            _ => None,
        }
    }

    fn item(&self, t: &Test, v: &Value) -> bool {
        match t {
            Test::IsNull => v.is_null(),
            Test::Never => false,
            Test::Num(cmp, x) => v.as_f64().is_some_and(|n| match cmp {
                Cmp::Lt => n < *x,
                Cmp::Gt => n > *x,
            }),
            Test::NumIn(xs) => v.as_f64().is_some_and(|n| xs.contains(&n)),
            Test::NumRange(lo, hi) => v
                .as_f64()
                .is_some_and(|n| lo.is_none_or(|lo| n >= lo) && hi.is_none_or(|hi| n <= hi)),
            Test::TextIn(xs) => v.as_str().is_some_and(|s| xs.iter().any(|x| eq_ci(s, x))),
            Test::Contains(x) => v.as_str().is_some_and(|s| lowered(s).contains(x.as_str())),
            Test::StartsWith(x) => v
                .as_str()
                .is_some_and(|s| lowered(s).starts_with(x.as_str())),
            Test::EndsWith(x) => v.as_str().is_some_and(|s| lowered(s).ends_with(x.as_str())),
            Test::Exact(xs) => match v {
                Value::String(s) => xs.iter().any(|x| x == s),
                Value::Object(_) => self.name_of(v).is_some_and(|n| xs.contains(&n)),
                _ => false,
            },
            Test::DateCmp(k, cmp, x) => date_of(*k, v).is_some_and(|d| match cmp {
                Cmp::Lt => d.as_ref() < x.as_str(),
                Cmp::Gt => d.as_ref() > x.as_str(),
            }),
            Test::DateRange(k, lo, hi, hi_incl) => date_of(*k, v).is_some_and(|d| {
                let d = d.as_ref();
                lo.as_deref().is_none_or(|lo| d >= lo)
                    && hi
                        .as_deref()
                        .is_none_or(|hi| if *hi_incl { d <= hi } else { d < hi })
            }),
            Test::DateIn(k, xs) => {
                date_of(*k, v).is_some_and(|d| xs.iter().any(|x| x == d.as_ref()))
            }
            Test::Bool(b) => match v {
                Value::Bool(x) => x == b,
                Value::Null => !*b,
                _ => false,
            },
            Test::Entity(refs) => v.as_object().is_some_and(|o| {
                let ty = o.get("type").and_then(Value::as_str);
                let id = o.get("id").and_then(Value::as_i64);
                refs.iter()
                    .any(|(t, i)| ty == Some(t.as_str()) && id == Some(*i))
            }),
            Test::TypeIn(types) => v
                .get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| types.iter().any(|x| x == t)),
            Test::Name(inner) => self
                .name_of(v)
                .is_some_and(|n| self.item(inner, &Value::String(n))),
            Test::OrNull(inner) => v.is_null() || self.item(inner, v),
        }
    }
}

fn date_of(k: DateKind, v: &Value) -> Option<Cow<'_, str>> {
    let s = v.as_str()?;
    match k {
        DateKind::Date => dates::date_key(s),
        DateKind::DateTime => dates::datetime_key(s),
    }
}

/// Converts one query-string value to JSON of the field's type.
fn coerce_query_value(kind: FieldKind, s: &str) -> Result<Value, String> {
    match kind {
        FieldKind::Number
        | FieldKind::Float
        | FieldKind::Currency
        | FieldKind::Percent
        | FieldKind::Duration
        | FieldKind::Timecode => {
            if let Ok(i) = s.trim().parse::<i64>() {
                Ok(Value::from(i))
            } else {
                s.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|f| f.is_finite())
                    .map(Value::from)
                    .ok_or_else(|| format!("{s:?} is not a valid {}", kind.as_str()))
            }
        }
        FieldKind::Checkbox => match s.trim() {
            "true" | "1" => Ok(Value::Bool(true)),
            "false" | "0" => Ok(Value::Bool(false)),
            _ => Err(format!(
                "{s:?} is not a valid checkbox value (true or false)"
            )),
        },
        FieldKind::Entity | FieldKind::MultiEntity | FieldKind::Addressing => {
            // `Type:id`, or a JSON object.
            if let Some((t, id)) = s.split_once(':') {
                if let Ok(id) = id.trim().parse::<i64>() {
                    return Ok(serde_json::json!({"type": t.trim(), "id": id}));
                }
            }
            match serde_json::from_str::<Value>(s) {
                Ok(v @ Value::Object(_)) => Ok(v),
                _ => Err(format!(
                    "{s:?} is not an entity: use Type:id, or filter on field.Type.id"
                )),
            }
        }
        _ => Ok(Value::String(s.to_string())),
    }
}

impl SourcePath {
    /// The path without its last segment, and that segment (`("", "")` for an empty
    /// path).
    pub fn split_last(&self) -> (SourcePath, String) {
        let mut v = self.0.clone();
        let last = v.pop().unwrap_or_default();
        (SourcePath(v), last)
    }
}

impl<'s> Parser<'s> {
    fn parse_list(&self, items: &[Value], at: &SourcePath) -> Result<Vec<Node<'s>>, QueryError> {
        items
            .iter()
            .enumerate()
            .map(|(i, item)| self.parse_item(item, at, i))
            .collect()
    }

    fn parse_item(
        &self,
        item: &Value,
        list: &SourcePath,
        i: usize,
    ) -> Result<Node<'s>, QueryError> {
        let here = list.push(i);
        match item {
            Value::Array(parts) => {
                if parts.len() < 3 {
                    return Err(QueryError::invalid(
                        list,
                        &i.to_string(),
                        "a condition is [field, relation, value(s)]",
                    ));
                }
                self.parse_condition(&parts[0], &parts[1], &parts[2..], &here)
            }
            Value::Object(obj) if obj.contains_key("path") && obj.contains_key("relation") => {
                let values = match obj.get("values") {
                    Some(Value::Array(v)) => v.clone(),
                    Some(v) => vec![v.clone()],
                    None => Vec::new(),
                };
                let path = obj.get("path").cloned().unwrap_or(Value::Null);
                let relation = obj.get("relation").cloned().unwrap_or(Value::Null);
                if values.is_empty() {
                    return Err(QueryError::invalid(&here, "values", "values are required"));
                }
                // The object form always lists values: keep single values unwrapped.
                self.parse_condition(&path, &relation, &values, &here)
            }
            Value::Object(obj) => self.parse_hash(obj, &here),
            _ => Err(QueryError::invalid(
                list,
                &i.to_string(),
                "a condition is [field, relation, value(s)] or a hash {\"logical_operator\", \"conditions\"}",
            )),
        }
    }

    fn parse_hash(
        &self,
        obj: &Map<String, Value>,
        at: &SourcePath,
    ) -> Result<Node<'s>, QueryError> {
        for k in obj.keys() {
            if k != "logical_operator" && k != "conditions" {
                return Err(QueryError::invalid(
                    at,
                    k,
                    format!(
                        "{k} is not allowed: a hash filter has logical_operator and conditions"
                    ),
                ));
            }
        }
        let any = match obj.get("logical_operator") {
            None | Some(Value::Null) => false,
            Some(Value::String(s)) if s == "and" => false,
            Some(Value::String(s)) if s == "or" => true,
            Some(_) => {
                return Err(QueryError::invalid(
                    at,
                    "logical_operator",
                    "logical_operator must be one of: and, or",
                ))
            }
        };
        let items = match obj.get("conditions") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => self.parse_list(items, &at.push("conditions"))?,
            Some(_) => {
                return Err(QueryError::invalid(
                    at,
                    "conditions",
                    "conditions must be an array",
                ))
            }
        };
        Ok(if any {
            Node::Any(items)
        } else {
            Node::All(items)
        })
    }

    /// The `{"path","relation","values"}` echo of a condition used in error messages.
    fn echo(field: &str, relation: &str, values: &[Value]) -> Value {
        let mut m = Map::new();
        m.insert("path".into(), Value::String(field.into()));
        m.insert("relation".into(), Value::String(relation.into()));
        m.insert("values".into(), Value::Array(values.to_vec()));
        Value::Object(m)
    }

    fn path_error(
        &self,
        e: PathError,
        field: &str,
        relation: &str,
        values: &[Value],
        at: &SourcePath,
        key: &str,
    ) -> QueryError {
        match e {
            PathError::UnknownField { owner, field: f } => {
                QueryError::unknown_field(&owner, &f, &Self::echo(field, relation, values))
            }
            PathError::BadHop(m) => QueryError::invalid(at, key, m),
        }
    }

    fn parse_condition(
        &self,
        field: &Value,
        relation: &Value,
        raw: &[Value],
        at: &SourcePath,
    ) -> Result<Node<'s>, QueryError> {
        let Some(field) = field.as_str() else {
            return Err(QueryError::invalid(at, "field", "field must be a string"));
        };
        let Some(rel) = relation.as_str() else {
            return Err(QueryError::invalid(
                at,
                "relation",
                "relation must be a string",
            ));
        };
        let Some(op) = Op::parse(rel) else {
            return Err(QueryError::invalid(
                at,
                "relation",
                format!(
                    "{rel:?} is not a valid relation; relations are: {}",
                    OPS.iter().map(|(_, n)| *n).collect::<Vec<_>>().join(", ")
                ),
            ));
        };
        // `["f","in",[a,b]]` and `["f","in",a,b]` are the same.
        let spreads = matches!(
            op,
            Op::In
                | Op::NotIn
                | Op::Between
                | Op::NotBetween
                | Op::InLast
                | Op::NotInLast
                | Op::InNext
                | Op::NotInNext
        );
        let values: Vec<Value> = match raw {
            [Value::Array(inner)] if spreads => inner.clone(),
            _ => raw.to_vec(),
        };
        let path = FieldPath::resolve(self.store, &self.entity_type, field)
            .map_err(|e| self.path_error(e, field, rel, &values, at, "field"))?;
        self.compile(path, op, &values, at, "values")
    }

    /// Validates `op` and `values` against the path's type and compiles the test.
    fn compile(
        &self,
        path: FieldPath<'s>,
        op: Op,
        values: &[Value],
        at: &SourcePath,
        key: &str,
    ) -> Result<Node<'s>, QueryError> {
        let kind = path.kind;
        let allowed = valid_ops(kind);
        let at_rel = |m: String| {
            if key == "values" {
                QueryError::invalid(at, "relation", m)
            } else {
                QueryError::invalid(at, key, m)
            }
        };
        if allowed.is_empty() {
            return Err(at_rel(format!(
                "filtering on {}.{} (data type {}) is not supported",
                path.owner,
                path.field,
                kind_name(kind)
            )));
        }
        if !allowed.contains(&op) {
            return Err(at_rel(format!(
                "relation {} is not valid for {}.{} (data type {}); valid relations: {}",
                op.as_str(),
                path.owner,
                path.field,
                kind_name(kind),
                allowed
                    .iter()
                    .map(|o| o.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let bad = |m: String| QueryError::invalid(at, key, m);
        let (test, negate) = self
            .test_for(kind, op, values, &path)
            .map_err(|m| bad(format!("{} {}: {m}", path.raw, op.as_str())))?;
        Ok(Node::Cond(Box::new(Cond { path, test, negate })))
    }

    fn one(values: &[Value]) -> Result<&Value, String> {
        match values {
            [v] => Ok(v),
            _ => Err(format!("expects exactly one value, got {}", values.len())),
        }
    }

    fn two(values: &[Value]) -> Result<(&Value, &Value), String> {
        match values {
            [a, b] => Ok((a, b)),
            _ => Err(format!(
                "expects two values ([a, b] or a, b), got {}",
                values.len()
            )),
        }
    }

    fn test_for(
        &self,
        kind: FieldKind,
        op: Op,
        values: &[Value],
        path: &FieldPath<'s>,
    ) -> Result<(Test, bool), String> {
        let _ = path;
        let negate = matches!(
            op,
            Op::IsNot
                | Op::NotContains
                | Op::NotBetween
                | Op::NotInLast
                | Op::NotInNext
                | Op::NotIn
                | Op::TypeIsNot
                | Op::NameNotContains
        );
        let test = match op {
            Op::Is | Op::IsNot => {
                let v = Self::one(values)?;
                if v.is_null() {
                    Test::IsNull
                } else {
                    self.equality(kind, std::slice::from_ref(v))?
                }
            }
            Op::In | Op::NotIn => {
                let has_null = values.iter().any(Value::is_null);
                let rest: Vec<Value> = values.iter().filter(|v| !v.is_null()).cloned().collect();
                let inner = if rest.is_empty() {
                    Test::Never
                } else {
                    self.equality(kind, &rest)?
                };
                if has_null {
                    Test::OrNull(Box::new(inner))
                } else {
                    inner
                }
            }
            Op::LessThan | Op::GreaterThan => {
                let cmp = if op == Op::LessThan { Cmp::Lt } else { Cmp::Gt };
                let v = Self::one(values)?;
                match date_kind(kind) {
                    Some(dk) => match date_operand(dk, v)? {
                        Some(s) => Test::DateCmp(dk, cmp, s),
                        None => Test::Never,
                    },
                    None => match num_operand(v)? {
                        Some(x) => Test::Num(cmp, x),
                        None => Test::Never,
                    },
                }
            }
            Op::Contains | Op::NotContains => {
                let v = Self::one(values)?;
                if kind == FieldKind::Addressing {
                    match entity_operand(self.store, v)? {
                        Some(e) => Test::Entity(vec![e]),
                        None => Test::IsNull,
                    }
                } else {
                    match text_operand(v)? {
                        Some(s) => Test::Contains(lower(&s)),
                        None => Test::IsNull,
                    }
                }
            }
            Op::StartsWith | Op::EndsWith => {
                let s = text_operand(Self::one(values)?)?
                    .ok_or_else(|| "expects a string".to_string())?;
                if op == Op::StartsWith {
                    Test::StartsWith(lower(&s))
                } else {
                    Test::EndsWith(lower(&s))
                }
            }
            Op::NameContains
            | Op::NameNotContains
            | Op::NameStartsWith
            | Op::NameEndsWith
            | Op::NameIs => {
                let s = text_operand(Self::one(values)?)?
                    .ok_or_else(|| "expects a string".to_string())?;
                let inner = match op {
                    Op::NameStartsWith => Test::StartsWith(lower(&s)),
                    Op::NameEndsWith => Test::EndsWith(lower(&s)),
                    Op::NameIs => Test::TextIn(vec![lower(&s)]),
                    _ => Test::Contains(lower(&s)),
                };
                Test::Name(Box::new(inner))
            }
            Op::Between | Op::NotBetween => {
                let (a, b) = Self::two(values)?;
                match date_kind(kind) {
                    Some(dk) => {
                        Test::DateRange(dk, date_operand(dk, a)?, date_operand(dk, b)?, true)
                    }
                    None => Test::NumRange(num_operand(a)?, num_operand(b)?),
                }
            }
            Op::InLast | Op::NotInLast | Op::InNext | Op::NotInNext => {
                let dk = date_kind(kind).ok_or("only applies to dates")?;
                let (n, unit) = Self::two(values)?;
                let n = int_operand(n)?;
                let unit = unit
                    .as_str()
                    .and_then(Unit::parse)
                    .ok_or("the unit must be one of HOUR, DAY, WEEK, MONTH, YEAR")?;
                let past = matches!(op, Op::InLast | Op::NotInLast);
                let other = dates::shift(self.now, if past { -n } else { n }, unit)
                    .ok_or("the offset is out of range")?;
                let (lo, hi) = if past {
                    (other, self.now)
                } else {
                    (self.now, other)
                };
                match dk {
                    DateKind::DateTime => Test::DateRange(
                        dk,
                        Some(dates::fmt_datetime(lo)),
                        Some(dates::fmt_datetime(hi)),
                        true,
                    ),
                    DateKind::Date => Test::DateRange(
                        dk,
                        Some(dates::fmt_date(lo.date_naive())),
                        Some(dates::fmt_date(hi.date_naive())),
                        true,
                    ),
                }
            }
            Op::InCalendarDay | Op::InCalendarWeek | Op::InCalendarMonth | Op::InCalendarYear => {
                let dk = date_kind(kind).ok_or("only applies to dates")?;
                let offset = int_operand(Self::one(values)?)?;
                let period = match op {
                    Op::InCalendarDay => Period::Day,
                    Op::InCalendarWeek => Period::Week,
                    Op::InCalendarMonth => Period::Month,
                    _ => Period::Year,
                };
                let (s, e) = dates::calendar_range(self.now.date_naive(), period, offset)
                    .ok_or("the offset is out of range")?;
                match dk {
                    DateKind::DateTime => Test::DateRange(
                        dk,
                        Some(dates::fmt_datetime(dates::midnight(s))),
                        Some(dates::fmt_datetime(dates::midnight(e))),
                        false,
                    ),
                    DateKind::Date => Test::DateRange(
                        dk,
                        Some(dates::fmt_date(s)),
                        Some(dates::fmt_date(e)),
                        false,
                    ),
                }
            }
            Op::TypeIs | Op::TypeIsNot => {
                let v = Self::one(values)?;
                match v {
                    Value::Null => Test::IsNull,
                    Value::String(t) => Test::TypeIn(vec![self
                        .store
                        .resolve_type(t)
                        .map_err(|_| format!("{t:?} is not a valid entity type"))?]),
                    _ => return Err("expects an entity type name".into()),
                }
            }
        };
        Ok((test, negate))
    }

    /// The test for `is`/`in` with non-null values.
    fn equality(&self, kind: FieldKind, values: &[Value]) -> Result<Test, String> {
        Ok(match kind {
            FieldKind::Number
            | FieldKind::Float
            | FieldKind::Currency
            | FieldKind::Percent
            | FieldKind::Duration
            | FieldKind::Timecode => Test::NumIn(
                values
                    .iter()
                    .map(|v| num_operand(v)?.ok_or_else(|| "expects a number".to_string()))
                    .collect::<Result<_, _>>()?,
            ),
            FieldKind::Text => Test::TextIn(
                values
                    .iter()
                    .map(|v| {
                        text_operand(v)?
                            .map(|s| lower(&s))
                            .ok_or_else(|| "expects a string".to_string())
                    })
                    .collect::<Result<_, _>>()?,
            ),
            FieldKind::Date | FieldKind::DateTime => {
                let dk = date_kind(kind).unwrap_or(DateKind::Date);
                Test::DateIn(
                    dk,
                    values
                        .iter()
                        .map(|v| date_operand(dk, v)?.ok_or_else(|| "expects a date".to_string()))
                        .collect::<Result<_, _>>()?,
                )
            }
            FieldKind::Checkbox => match values {
                [Value::Bool(b)] => Test::Bool(*b),
                _ => return Err("expects true or false".into()),
            },
            FieldKind::Entity | FieldKind::MultiEntity | FieldKind::Addressing => Test::Entity(
                values
                    .iter()
                    .map(|v| {
                        entity_operand(self.store, v)?
                            .ok_or_else(|| "expects an entity {\"type\", \"id\"}".to_string())
                    })
                    .collect::<Result<_, _>>()?,
            ),
            FieldKind::Image => return Err("only null is supported for image fields".into()),
            _ => Test::Exact(
                values
                    .iter()
                    .map(|v| text_operand(v)?.ok_or_else(|| "expects a string".to_string()))
                    .collect::<Result<_, _>>()?,
            ),
        })
    }
}

fn date_kind(kind: FieldKind) -> Option<DateKind> {
    match kind {
        FieldKind::Date => Some(DateKind::Date),
        FieldKind::DateTime => Some(DateKind::DateTime),
        _ => None,
    }
}

fn num_operand(v: &Value) -> Result<Option<f64>, String> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => n.as_f64().map(Some).ok_or_else(|| "bad number".into()),
        Value::String(s) => s
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(Some)
            .ok_or_else(|| format!("expects a number, got {s:?}")),
        other => Err(format!("expects a number, got {other}")),
    }
}

fn int_operand(v: &Value) -> Result<i64, String> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .ok_or_else(|| format!("expects an integer, got {n}")),
        Value::String(s) => s
            .trim()
            .parse::<i64>()
            .map_err(|_| format!("expects an integer, got {s:?}")),
        other => Err(format!("expects an integer, got {other}")),
    }
}

fn text_operand(v: &Value) -> Result<Option<String>, String> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        other => Err(format!("expects a string, got {other}")),
    }
}

fn date_operand(k: DateKind, v: &Value) -> Result<Option<String>, String> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => match k {
            DateKind::Date => dates::parse_date(s)
                .map(|d| Some(dates::fmt_date(d)))
                .ok_or_else(|| format!("expects a date YYYY-MM-DD, got {s:?}")),
            DateKind::DateTime => dates::parse_datetime(s)
                .map(|d| Some(dates::fmt_datetime(d)))
                .ok_or_else(|| format!("expects a date-time YYYY-MM-DDThh:mm:ssZ, got {s:?}")),
        },
        other => Err(format!("expects a date string, got {other}")),
    }
}

fn entity_operand(store: &Store, v: &Value) -> Result<Option<(String, i64)>, String> {
    match v {
        Value::Null => Ok(None),
        Value::Object(o) => {
            let t = o
                .get("type")
                .and_then(Value::as_str)
                .ok_or("an entity needs a string \"type\"")?;
            let id = match o.get("id") {
                Some(Value::Number(n)) => n.as_i64(),
                Some(Value::String(s)) => s.trim().parse().ok(),
                _ => None,
            }
            .ok_or("an entity needs an integer \"id\"")?;
            let t = store
                .resolve_type(t)
                .map_err(|_| format!("{t:?} is not a valid entity type"))?;
            Ok(Some((t, id)))
        }
        other => Err(format!(
            "expects an entity {{\"type\", \"id\"}}, got {other}"
        )),
    }
}
