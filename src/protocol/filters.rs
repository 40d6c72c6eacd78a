//! ShotGrid filters, validated client-side before anything is sent.
//!
//! Accepts the forms users already write: an array of conditions (AND), or a hash
//! `{logical_operator: "and"|"or", conditions: [...]}` whose conditions may nest. A
//! condition is `[field, relation, value…]`. Checks the relation is known, its arity,
//! and the value's type for the relation; errors name the offending place, e.g.
//! `filters.conditions[2][1]`. Normalises `between`/`in_last`/`in_next` and `in` to
//! the two-element value form (`["d", "in_last", [1, "DAY"]]`).

use crate::protocol::json::{Map, Value};

use super::error::Error;
use super::naming::validate_entity_type;

/// How a relation's value is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Arg {
    /// One value of any type (or null); entities must be `{type, id}`.
    Any,
    /// One number, string or null.
    Comparable,
    /// One string.
    Text,
    /// Two comparable values (or nulls).
    Range,
    /// An integer and a unit (HOUR, DAY, WEEK, MONTH, YEAR).
    Relative,
    /// A list of values.
    List,
    /// An entity type name, or null.
    TypeName,
    /// An integer offset.
    Offset,
}

/// Every relation of the reference ("Operators and Arguments" and "Valid Operators By
/// Data Type") with its argument kind.
const RELATIONS: &[(&str, Arg)] = &[
    ("is", Arg::Any),
    ("is_not", Arg::Any),
    ("less_than", Arg::Comparable),
    ("greater_than", Arg::Comparable),
    ("contains", Arg::Any),
    ("not_contains", Arg::Any),
    ("starts_with", Arg::Text),
    ("ends_with", Arg::Text),
    ("between", Arg::Range),
    ("not_between", Arg::Range),
    ("in_last", Arg::Relative),
    ("not_in_last", Arg::Relative),
    ("in_next", Arg::Relative),
    ("not_in_next", Arg::Relative),
    ("in", Arg::List),
    ("not_in", Arg::List),
    ("type_is", Arg::TypeName),
    ("type_is_not", Arg::TypeName),
    ("in_calendar_day", Arg::Offset),
    ("in_calendar_week", Arg::Offset),
    ("in_calendar_month", Arg::Offset),
    ("in_calendar_year", Arg::Offset),
    ("name_contains", Arg::Text),
    ("name_not_contains", Arg::Text),
    ("name_is", Arg::Text),
    ("name_starts_with", Arg::Text),
    ("name_ends_with", Arg::Text),
];

/// The units `in_last`/`in_next` accept.
pub const RELATIVE_UNITS: &[&str] = &["HOUR", "DAY", "WEEK", "MONTH", "YEAR"];

/// The wire form a set of filters needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterForm {
    /// A list of conditions joined by AND: `application/vnd+shotgun.api3_array+json`.
    Array,
    /// `{logical_operator, conditions}`: `application/vnd+shotgun.api3_hash+json`.
    Hash,
}

impl FilterForm {
    /// The `_search` Content-Type for this form.
    pub fn content_type(self) -> &'static str {
        match self {
            FilterForm::Array => "application/vnd+shotgun.api3_array+json",
            FilterForm::Hash => "application/vnd+shotgun.api3_hash+json",
        }
    }
}

/// Validated, normalised filters.
#[derive(Clone, Debug, PartialEq)]
pub struct Filters {
    /// Array or hash form.
    pub form: FilterForm,
    /// The normalised filters, ready for the `_search` body.
    pub value: Value,
}

impl Filters {
    /// No conditions at all.
    pub fn is_empty(&self) -> bool {
        match &self.value {
            Value::Array(a) => a.is_empty(),
            Value::Object(o) => o
                .get("conditions")
                .and_then(Value::as_array)
                .is_none_or(Vec::is_empty),
            _ => true,
        }
    }

    /// The `filter[field]=value` pairs for the list GET, when every condition is an
    /// AND-ed `is`/`in` on a plain field with plain values that survive a comma list.
    /// `None` means the filters need `_search`.
    pub fn simple_query(&self) -> Option<Vec<(String, String)>> {
        let conditions = match &self.value {
            Value::Array(a) => a,
            Value::Object(o) => {
                if o.get("logical_operator").and_then(Value::as_str) != Some("and") {
                    return None;
                }
                o.get("conditions")?.as_array()?
            }
            _ => return None,
        };
        let mut out = Vec::with_capacity(conditions.len());
        for c in conditions {
            let c = c.as_array()?;
            let (field, relation, value) = (c.first()?.as_str()?, c.get(1)?.as_str()?, c.get(2)?);
            if field.contains('.') || out.iter().any(|(f, _): &(String, String)| f == field) {
                return None;
            }
            let text = match (relation, value) {
                ("is", v) => simple_scalar(v)?,
                ("in", Value::Array(items)) if !items.is_empty() => {
                    let parts: Option<Vec<String>> = items.iter().map(simple_scalar).collect();
                    crate::protocol::join(&parts?, ",")
                }
                _ => return None,
            };
            out.push((field.to_owned(), text));
        }
        Some(out)
    }
}

fn simple_scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() && !s.contains(',') && s.trim() == s => Some(s.clone()),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some(crate::protocol::json::text(v)),
        _ => None,
    }
}

/// Validates and normalises filters. `null` means no filters (an empty array).
pub fn validate(filters: &Value) -> Result<Filters, Error> {
    let root = "filters";
    match filters {
        Value::Null => Ok(Filters {
            form: FilterForm::Array,
            value: Value::Array(Vec::new()),
        }),
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, c) in items.iter().enumerate() {
                let path = index_path(root, i);
                if c.is_object() {
                    return Err(Error::invalid_input(
                        &path,
                        "a list of filters holds only [field, relation, value] conditions; use {logical_operator, conditions} to nest",
                    ));
                }
                out.push(condition(c, &path)?);
            }
            Ok(Filters {
                form: FilterForm::Array,
                value: Value::Array(out),
            })
        }
        Value::Object(_) => Ok(Filters {
            form: FilterForm::Hash,
            value: group(filters, root, 0)?,
        }),
        _ => Err(Error::invalid_input(
            root,
            "must be a list of [field, relation, value] conditions or {logical_operator, conditions}",
        )),
    }
}

/// Deepest nesting accepted (guards the recursion against hostile input).
const MAX_DEPTH: usize = 32;

fn group(v: &Value, path: &str, depth: usize) -> Result<Value, Error> {
    if depth > MAX_DEPTH {
        return Err(Error::invalid_input(path, "filters are nested too deeply"));
    }
    let Value::Object(obj) = v else {
        return Err(Error::invalid_input(
            path,
            "must be {logical_operator, conditions}",
        ));
    };
    if let Some(k) = obj
        .keys()
        .find(|k| *k != "logical_operator" && *k != "conditions")
    {
        return Err(Error::invalid_input(
            &member_path(path, k),
            "unknown key; a filter group has only logical_operator and conditions",
        ));
    }
    let op = match obj.get("logical_operator") {
        None => "and",
        Some(Value::String(s)) if s == "and" || s == "or" => s.as_str(),
        Some(_) => {
            return Err(Error::invalid_input(
                &member_path(path, "logical_operator"),
                "must be \"and\" or \"or\"",
            ))
        }
    };
    let cpath = member_path(path, "conditions");
    let items = match obj.get("conditions") {
        Some(Value::Array(items)) => items,
        _ => return Err(Error::invalid_input(&cpath, "must be a list of conditions")),
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, c) in items.iter().enumerate() {
        let p = index_path(&cpath, i);
        out.push(if c.is_object() {
            group(c, &p, depth + 1)?
        } else {
            condition(c, &p)?
        });
    }
    let mut m = Map::new();
    m.insert("logical_operator".into(), Value::String(op.into()));
    m.insert("conditions".into(), Value::Array(out));
    Ok(Value::Object(m))
}

fn index_path(base: &str, i: usize) -> String {
    let mut p = String::with_capacity(base.len() + 6);
    p.push_str(base);
    p.push('[');
    p.push_str(&crate::protocol::dec(i));
    p.push(']');
    p
}

fn member_path(base: &str, key: &str) -> String {
    let mut p = String::with_capacity(base.len() + key.len() + 1);
    p.push_str(base);
    p.push('.');
    p.push_str(key);
    p
}

/// Checks a field path: `code`, or `link.Type.field` hops (`project.Project.name`).
pub fn validate_field_path(path: &str, arg: &str) -> Result<(), Error> {
    let bad = || {
        Error::invalid_input(
            arg,
            "must be a field name such as \"code\", or a path through links such as \"project.Project.name\"",
        )
    };
    if path.is_empty() || path.len() > 512 {
        return Err(bad());
    }
    let segments: Vec<&str> = path.split('.').collect();
    if segments.len() % 2 == 0 {
        return Err(bad());
    }
    for (i, seg) in segments.iter().enumerate() {
        let ok = if i % 2 == 1 {
            validate_entity_type(seg, arg).is_ok()
        } else {
            !seg.is_empty() && seg.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        if !ok {
            return Err(bad());
        }
    }
    Ok(())
}

fn condition(c: &Value, path: &str) -> Result<Value, Error> {
    let Value::Array(items) = c else {
        return Err(Error::invalid_input(
            path,
            "must be a [field, relation, value] condition",
        ));
    };
    let field_path = index_path(path, 0);
    let rel_path = index_path(path, 1);
    let val_path = index_path(path, 2);
    let field = match items.first() {
        Some(Value::String(f)) => f,
        _ => return Err(Error::invalid_input(&field_path, "must be a field name")),
    };
    validate_field_path(field, &field_path)?;
    let relation = match items.get(1) {
        Some(Value::String(r)) => r.as_str(),
        _ => {
            return Err(Error::invalid_input(
                &rel_path,
                "must be a relation such as \"is\"",
            ))
        }
    };
    let Some(&(_, arg)) = RELATIONS.iter().find(|(name, _)| *name == relation) else {
        return Err(Error::invalid_input(
            &rel_path,
            unknown_relation_detail(relation),
        ));
    };
    let values = items.get(2..).unwrap_or_default();
    let value = check_args(arg, values, &val_path)?;
    Ok(Value::Array(vec![
        Value::String(field.clone()),
        Value::String(relation.to_owned()),
        value,
    ]))
}

fn unknown_relation_detail(relation: &str) -> String {
    let mut d = String::from("unknown relation \"");
    d.push_str(relation);
    d.push_str("\"; expected one of: ");
    for (i, (name, _)) in RELATIONS.iter().enumerate() {
        if i > 0 {
            d.push_str(", ");
        }
        d.push_str(name);
    }
    d
}

fn check_args(arg: Arg, values: &[Value], path: &str) -> Result<Value, Error> {
    let one = || -> Result<&Value, Error> {
        match values {
            [v] => Ok(v),
            [] => Err(Error::invalid_input(path, "a value is required")),
            _ => Err(Error::invalid_input(
                path,
                "this relation takes exactly one value",
            )),
        }
    };
    // Two-value relations accept `a, b` and `[a, b]`.
    let pair = || -> Result<(&Value, &Value), Error> {
        match values {
            [a, b] => Ok((a, b)),
            [Value::Array(inner)] if inner.len() == 2 => Ok((&inner[0], &inner[1])),
            _ => Err(Error::invalid_input(
                path,
                "this relation takes two values: [from, to]",
            )),
        }
    };
    match arg {
        Arg::Any => {
            let v = one()?;
            check_plain_value(v, path)?;
            Ok(v.clone())
        }
        Arg::Comparable => {
            let v = one()?;
            if matches!(v, Value::Number(_) | Value::String(_) | Value::Null) {
                Ok(v.clone())
            } else {
                Err(Error::invalid_input(
                    path,
                    "must be a number, a date string or null",
                ))
            }
        }
        Arg::Text => match one()? {
            Value::String(s) => Ok(Value::String(s.clone())),
            _ => Err(Error::invalid_input(path, "must be a string")),
        },
        Arg::Range => {
            let (a, b) = pair()?;
            for v in [a, b] {
                if !matches!(v, Value::Number(_) | Value::String(_) | Value::Null) {
                    return Err(Error::invalid_input(
                        path,
                        "range ends must be numbers, date strings or null",
                    ));
                }
            }
            Ok(Value::Array(vec![a.clone(), b.clone()]))
        }
        Arg::Relative => {
            let (n, unit) = pair()?;
            let n_ok = n.as_i64().is_some();
            let unit_ok = unit.as_str().is_some_and(|u| RELATIVE_UNITS.contains(&u));
            if !n_ok || !unit_ok {
                return Err(Error::invalid_input(
                    path,
                    "must be [count, unit] with an integer count and unit HOUR, DAY, WEEK, MONTH or YEAR",
                ));
            }
            Ok(Value::Array(vec![n.clone(), unit.clone()]))
        }
        Arg::List => {
            let list: &[Value] = match values {
                [Value::Array(inner)] => inner,
                [] => return Err(Error::invalid_input(path, "a list of values is required")),
                many => many,
            };
            for (i, v) in list.iter().enumerate() {
                check_plain_value(v, &index_path(path, i))?;
                if v.is_array() {
                    return Err(Error::invalid_input(
                        &index_path(path, i),
                        "must be a single value",
                    ));
                }
            }
            Ok(Value::Array(list.to_vec()))
        }
        Arg::TypeName => match one()? {
            Value::Null => Ok(Value::Null),
            Value::String(s) => {
                validate_entity_type(s, path)?;
                Ok(Value::String(s.clone()))
            }
            _ => Err(Error::invalid_input(path, "must be an entity type name")),
        },
        Arg::Offset => match one()? {
            v @ Value::Number(n) if n.as_i64().is_some() => Ok(v.clone()),
            _ => Err(Error::invalid_input(
                path,
                "must be an integer offset (0 = this period, -1 = the previous one)",
            )),
        },
    }
}

/// Objects in filter values must be entity links `{type, id}`.
fn check_plain_value(v: &Value, path: &str) -> Result<(), Error> {
    match v {
        Value::Object(o) => {
            let ty_ok = o
                .get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| validate_entity_type(t, path).is_ok());
            let id_ok = o.get("id").and_then(Value::as_u64).is_some_and(|id| id > 0);
            if ty_ok && id_ok {
                Ok(())
            } else {
                Err(Error::invalid_input(path, "an entity value must be {type, id} with a TitleCase type and a positive integer id"))
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                if item.is_array() {
                    return Err(Error::invalid_input(
                        &index_path(path, i),
                        "must be a single value",
                    ));
                }
                check_plain_value(item, &index_path(path, i))?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::json::sj as json;

    fn err_source(v: Value) -> String {
        let e = validate(&v).unwrap_err();
        assert_eq!(e.kind, super::super::ErrorKind::InvalidInput);
        e.source
            .as_ref()
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    }

    #[test]
    fn array_and_hash_forms() {
        let f = validate(&json!([
            ["code", "is", "a"],
            ["sg_status_list", "in", ["ip", "fin"]]
        ]))
        .unwrap();
        assert_eq!(f.form, FilterForm::Array);
        assert_eq!(
            f.form.content_type(),
            "application/vnd+shotgun.api3_array+json"
        );
        let f = validate(&json!({"logical_operator": "or", "conditions": [
            ["code", "is", "a"],
            {"logical_operator": "and", "conditions": [["project.Project.name", "contains", "Demo"]]}
        ]}))
        .unwrap();
        assert_eq!(f.form, FilterForm::Hash);
        assert_eq!(
            f.form.content_type(),
            "application/vnd+shotgun.api3_hash+json"
        );
        // A hash without logical_operator means and.
        let f = validate(&json!({"conditions": [["id", "is", 1]]})).unwrap();
        assert_eq!(f.value["logical_operator"], "and");
        assert!(validate(&Value::Null).unwrap().is_empty());
        assert!(validate(&json!({"conditions": []})).unwrap().is_empty());
    }

    #[test]
    fn normalises_flattened_values() {
        let f = validate(&json!([
            ["due_date", "in_last", 1, "DAY"],
            ["due_date", "in_next", [2, "WEEK"]],
            ["sg_cut_in", "between", 1, 10],
            ["sg_cut_in", "not_between", [1, 10]],
            ["id", "in", 1, 2, 3],
            ["id", "not_in", [4]],
        ]))
        .unwrap();
        assert_eq!(
            f.value,
            json!([
                ["due_date", "in_last", [1, "DAY"]],
                ["due_date", "in_next", [2, "WEEK"]],
                ["sg_cut_in", "between", [1, 10]],
                ["sg_cut_in", "not_between", [1, 10]],
                ["id", "in", [1, 2, 3]],
                ["id", "not_in", [4]],
            ])
        );
    }

    #[test]
    fn every_relation_accepts_its_value_shape() {
        let ok = json!([
            ["code", "is", null], ["code", "is_not", "x"], ["project", "is", {"type": "Project", "id": 1}],
            ["sg_cut_in", "less_than", 5], ["created_at", "greater_than", "2024-01-01T00:00:00Z"],
            ["code", "contains", "a"], ["code", "not_contains", "a"], ["code", "starts_with", "a"],
            ["code", "ends_with", "a"], ["entity", "type_is", "Shot"], ["entity", "type_is_not", null],
            ["due_date", "in_calendar_day", 0], ["due_date", "in_calendar_week", -1],
            ["due_date", "in_calendar_month", 1], ["due_date", "in_calendar_year", 0],
            ["entity", "name_contains", "x"], ["entity", "name_not_contains", "x"], ["entity", "name_is", "x"],
            ["entity", "name_starts_with", "x"], ["entity", "name_ends_with", "x"],
            ["due_date", "not_in_last", 3, "MONTH"], ["due_date", "not_in_next", 1, "YEAR"],
            ["created_at", "in_last", 4, "HOUR"],
            ["assets", "in", [{"type": "Asset", "id": 1}, {"type": "Asset", "id": 2}]],
        ]);
        let n = ok.as_array().map_or(0, Vec::len);
        assert_eq!(
            validate(&ok).unwrap().value.as_array().map_or(0, Vec::len),
            n
        );
        assert_eq!(RELATIONS.len(), 27);
    }

    #[test]
    fn errors_name_the_condition() {
        assert_eq!(
            err_source(json!([["code", "is", "a"], ["code", "iz", "a"]])),
            "filters[1][1]"
        );
        assert_eq!(err_source(json!([["code", "is"]])), "filters[0][2]");
        assert_eq!(err_source(json!([["code", "is", 1, 2]])), "filters[0][2]");
        assert_eq!(
            err_source(json!([["code", "starts_with", 3]])),
            "filters[0][2]"
        );
        assert_eq!(
            err_source(json!([["d", "in_last", 1, "DECADE"]])),
            "filters[0][2]"
        );
        assert_eq!(
            err_source(json!([["d", "in_last", "1", "DAY"]])),
            "filters[0][2]"
        );
        assert_eq!(err_source(json!([["d", "between", 1]])), "filters[0][2]");
        assert_eq!(
            err_source(json!([["d", "between", [1, {}]]])),
            "filters[0][2]"
        );
        assert_eq!(err_source(json!([["id", "in"]])), "filters[0][2]");
        assert_eq!(
            err_source(json!([["id", "in", [1, [2]]]])),
            "filters[0][2][1]"
        );
        assert_eq!(
            err_source(json!([["project", "is", {"type": "Project"}]])),
            "filters[0][2]"
        );
        assert_eq!(
            err_source(json!([["project", "is", {"type": "project", "id": 1}]])),
            "filters[0][2]"
        );
        assert_eq!(
            err_source(json!([["entity", "type_is", "shots"]])),
            "filters[0][2]"
        );
        assert_eq!(
            err_source(json!([["d", "in_calendar_day", 0.5]])),
            "filters[0][2]"
        );
        assert_eq!(err_source(json!([[1, "is", 1]])), "filters[0][0]");
        assert_eq!(
            err_source(json!([["project.name", "is", 1]])),
            "filters[0][0]"
        );
        assert_eq!(
            err_source(json!([["project.project.name", "is", 1]])),
            "filters[0][0]"
        );
        assert_eq!(err_source(json!([["co de", "is", 1]])), "filters[0][0]");
        assert_eq!(err_source(json!([["code", 1, 1]])), "filters[0][1]");
        assert_eq!(err_source(json!([{"conditions": []}])), "filters[0]");
        assert_eq!(err_source(json!(["code"])), "filters[0]");
        assert_eq!(err_source(json!("code is a")), "filters");
        assert_eq!(
            err_source(
                json!({"logical_operator": "or", "conditions": [["a", "is", 1], ["b", "is", 1], {"conditions": [["c", "nope", 1]]}]})
            ),
            "filters.conditions[2].conditions[0][1]"
        );
        assert_eq!(
            err_source(json!({"logical_operator": "xor", "conditions": []})),
            "filters.logical_operator"
        );
        assert_eq!(
            err_source(json!({"logical_operator": "and"})),
            "filters.conditions"
        );
        assert_eq!(
            err_source(json!({"conditions": [], "filter_operator": "all"})),
            "filters.filter_operator"
        );
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let mut v = json!({"conditions": [["id", "is", 1]]});
        // serde_json's parser caps input nesting at 128, so 200 is beyond anything JS
        // can hand us; the validator must stop at MAX_DEPTH without recursing further.
        for _ in 0..200 {
            v = json!({"conditions": [v]});
        }
        let e = validate(&v).unwrap_err();
        assert!(e
            .detail
            .clone()
            .unwrap_or_default()
            .contains("nested too deeply"));
    }

    #[test]
    fn unknown_relation_lists_the_valid_ones() {
        let e = validate(&json!([["code", "like", "a"]])).unwrap_err();
        let d = e.detail.clone().unwrap_or_default();
        assert!(
            d.contains("\"like\"") && d.contains("name_ends_with"),
            "{d}"
        );
    }

    #[test]
    fn simple_filters_use_the_list_query() {
        let f = validate(&json!([
            ["code", "is", "sh010"],
            ["id", "in", [1, 2]],
            ["sg_cut_in", "is", 5]
        ]))
        .unwrap();
        assert_eq!(
            f.simple_query(),
            Some(vec![
                ("code".into(), "sh010".into()),
                ("id".into(), "1,2".into()),
                ("sg_cut_in".into(), "5".into())
            ])
        );
        for not_simple in [
            json!([["code", "contains", "a"]]),
            json!([["code", "is", "a,b"]]),
            json!([["code", "is", null]]),
            json!([["code", "is", true]]),
            json!([["project.Project.name", "is", "x"]]),
            json!([["project", "is", {"type": "Project", "id": 1}]]),
            json!([["code", "is", "a"], ["code", "is", "b"]]),
            json!({"logical_operator": "or", "conditions": [["code", "is", "a"]]}),
            json!([["id", "in", []]]),
            json!([["code", "is", " padded"]]),
        ] {
            assert_eq!(
                validate(&not_simple).unwrap().simple_query(),
                None,
                "{not_simple}"
            );
        }
        let f = validate(&json!({"logical_operator": "and", "conditions": [["code", "is", "a"]]}))
            .unwrap();
        assert_eq!(f.simple_query(), Some(vec![("code".into(), "a".into())]));
    }
}
