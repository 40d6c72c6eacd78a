//! `_summarize`: totals and groups over the records that pass a filter.
//!
//! Summary types (reference enum) and the data types they accept:
//! `record_count` (number of records) and `count` (records whose field is set) on any
//! field; `sum`, `average`, `maximum`, `minimum` on numeric fields; `earliest`,
//! `latest` on dates; `percentage` (integer % of records whose field is set/checked,
//! or equal to the optional `value`) on any field; `status_percentage` (integer % of
//! records whose status is `value`, default `fin`) and `status_list` (object status →
//! count) on list/status_list fields; `checked`, `unchecked` (counts) on checkboxes.
//!
//! Grouping types: `exact` (any field; links give `{type,id,name}` values);
//! `tens` … `millions` (numeric: the bucket's lower bound, named `lo - hi`);
//! `day`, `week` (Monday), `month`, `quarter`, `year`, `oneday`, `fivedays`
//! (dates; oneday/fivedays also bucket durations by 8-hour days) and
//! `clustered_date` (relative to today: `Today`, `Yesterday`, `Last Week`, …);
//! `entitytype` (links: the linked type); `firstletter` (text and names). Groups are
//! ordered by value (`direction` asc|desc), the null group last; nested groupings nest
//! as `groups` inside each group.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use serde_json::{json, Map, Value};

use super::dates::{self, Period};
use super::filter::{Filter, FilterSyntax};
use super::list::{self};
use super::path::{field_kind, FieldPath};
use super::{QueryError, SourcePath};
use crate::model::schema::FieldKind;
use crate::model::{Record, ReturnOnly, Store};

/// Summary types, in the reference's order.
pub const SUMMARY_TYPES: &[&str] = &[
    "record_count",
    "count",
    "sum",
    "maximum",
    "minimum",
    "average",
    "earliest",
    "latest",
    "percentage",
    "status_percentage",
    "status_list",
    "checked",
    "unchecked",
];

/// Grouping types, in the reference's order.
pub const GROUPING_TYPES: &[&str] = &[
    "exact",
    "tens",
    "hundreds",
    "thousands",
    "tensofthousands",
    "hundredsofthousands",
    "millions",
    "day",
    "week",
    "month",
    "quarter",
    "year",
    "clustered_date",
    "oneday",
    "fivedays",
    "entitytype",
    "firstletter",
];

fn is_numeric(k: FieldKind) -> bool {
    matches!(
        k,
        FieldKind::Number
            | FieldKind::Float
            | FieldKind::Currency
            | FieldKind::Percent
            | FieldKind::Duration
            | FieldKind::Timecode
    )
}

fn is_date(k: FieldKind) -> bool {
    matches!(k, FieldKind::Date | FieldKind::DateTime)
}

fn summary_accepts(ty: &str, k: FieldKind) -> bool {
    match ty {
        "record_count" | "count" | "percentage" => true,
        "sum" | "maximum" | "minimum" | "average" => is_numeric(k),
        "earliest" | "latest" => is_date(k),
        "status_percentage" | "status_list" => {
            matches!(k, FieldKind::StatusList | FieldKind::List)
        }
        "checked" | "unchecked" => k == FieldKind::Checkbox,
        _ => false,
    }
}

fn grouping_accepts(ty: &str, k: FieldKind) -> bool {
    match ty {
        "exact" => true,
        "tens"
        | "hundreds"
        | "thousands"
        | "tensofthousands"
        | "hundredsofthousands"
        | "millions" => is_numeric(k),
        "day" | "week" | "month" | "quarter" | "year" | "clustered_date" => is_date(k),
        "oneday" | "fivedays" => is_date(k) || k == FieldKind::Duration,
        "entitytype" => k.is_link(),
        "firstletter" => matches!(
            k,
            FieldKind::Text
                | FieldKind::List
                | FieldKind::StatusList
                | FieldKind::Entity
                | FieldKind::MultiEntity
                | FieldKind::EntityType
        ),
        _ => false,
    }
}

/// One requested summary.
#[derive(Debug, Clone)]
pub struct SummaryField {
    /// Field name (the key in `summaries`).
    pub field: String,
    /// Kind of the field.
    pub kind: FieldKind,
    /// Summary type.
    pub ty: String,
    /// Optional `value` (percentage, status_percentage).
    pub value: Option<Value>,
}

/// One grouping level.
#[derive(Debug, Clone)]
pub struct Grouping<'s> {
    /// Field to group on.
    pub path: FieldPath<'s>,
    /// Grouping type.
    pub ty: String,
    /// Descending order of groups.
    pub desc: bool,
}

/// A parsed `_summarize` request.
#[derive(Debug, Clone)]
pub struct SummarizeQuery<'s> {
    /// Canonical entity type.
    pub entity_type: String,
    /// Compiled filter.
    pub filter: Filter<'s>,
    /// Summaries to compute.
    pub fields: Vec<SummaryField>,
    /// Grouping levels.
    pub grouping: Vec<Grouping<'s>>,
    /// Include records of archived projects.
    pub include_archived_projects: bool,
    /// Reference time for `clustered_date`.
    pub now: DateTime<Utc>,
}

/// Parses a `_summarize` body for the canonical type.
pub fn parse<'s>(
    store: &'s Store,
    entity_type: &str,
    body: &Value,
    syntax: FilterSyntax,
    now: DateTime<Utc>,
) -> Result<SummarizeQuery<'s>, QueryError> {
    let top = SourcePath::default();
    let obj = body
        .as_object()
        .ok_or_else(|| QueryError::invalid(&top, "body", "the body must be a JSON object"))?;
    let table = store
        .table(entity_type)
        .map_err(|_| QueryError::invalid(&top, "entity", "entity is not valid"))?;

    let mut fields = Vec::new();
    let at = SourcePath::root("summary_fields");
    match obj.get("summary_fields") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                let here = at.push(i);
                let Some(o) = item.as_object() else {
                    return Err(QueryError::invalid(
                        &at,
                        &i.to_string(),
                        "a summary field is {field, type}",
                    ));
                };
                let ty = o.get("type").and_then(Value::as_str).unwrap_or("");
                if !SUMMARY_TYPES.contains(&ty) {
                    return Err(QueryError::invalid(
                        &here,
                        "type",
                        format!("type must be one of: {}", SUMMARY_TYPES.join(", ")),
                    ));
                }
                let Some(field) = o.get("field").and_then(Value::as_str) else {
                    return Err(QueryError::invalid(
                        &here,
                        "field",
                        "field must be a string",
                    ));
                };
                let Some(kind) = field_kind(table, field) else {
                    return Err(QueryError::invalid(
                        &here,
                        "field",
                        format!("{entity_type}.{field} doesn't exist"),
                    ));
                };
                if !summary_accepts(ty, kind) {
                    return Err(QueryError::invalid(
                        &here,
                        "type",
                        format!(
                            "type {ty} can't summarize {entity_type}.{field} (data type {})",
                            kind.as_str()
                        ),
                    ));
                }
                fields.push(SummaryField {
                    field: field.to_string(),
                    kind,
                    ty: ty.to_string(),
                    value: o.get("value").cloned(),
                });
            }
        }
        Some(_) => {
            return Err(QueryError::invalid(
                &top,
                "summary_fields",
                "summary_fields must be an array",
            ))
        }
    }

    let mut grouping = Vec::new();
    let at = SourcePath::root("grouping");
    match obj.get("grouping") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                let here = at.push(i);
                let Some(o) = item.as_object() else {
                    return Err(QueryError::invalid(
                        &at,
                        &i.to_string(),
                        "a grouping is {field, type, direction}",
                    ));
                };
                let ty = o.get("type").and_then(Value::as_str).unwrap_or("exact");
                if !GROUPING_TYPES.contains(&ty) {
                    return Err(QueryError::invalid(
                        &here,
                        "type",
                        format!("type must be one of: {}", GROUPING_TYPES.join(", ")),
                    ));
                }
                let desc = match o.get("direction") {
                    None | Some(Value::Null) => false,
                    Some(Value::String(d)) if d == "asc" => false,
                    Some(Value::String(d)) if d == "desc" => true,
                    Some(_) => {
                        return Err(QueryError::invalid(
                            &here,
                            "direction",
                            "direction must be one of: asc, desc",
                        ))
                    }
                };
                let Some(field) = o.get("field").and_then(Value::as_str) else {
                    return Err(QueryError::invalid(
                        &here,
                        "field",
                        "field must be a string",
                    ));
                };
                let path = FieldPath::resolve(store, entity_type, field).map_err(|_| {
                    QueryError::invalid(
                        &here,
                        "field",
                        format!("{entity_type}.{field} doesn't exist"),
                    )
                })?;
                if !grouping_accepts(ty, path.kind) {
                    return Err(QueryError::invalid(
                        &here,
                        "type",
                        format!(
                            "type {ty} can't group {field} (data type {})",
                            path.kind.as_str()
                        ),
                    ));
                }
                grouping.push(Grouping {
                    path,
                    ty: ty.to_string(),
                    desc,
                });
            }
        }
        Some(_) => {
            return Err(QueryError::invalid(
                &top,
                "grouping",
                "grouping must be an array",
            ))
        }
    }

    let include_archived_projects = match obj.get("options") {
        None | Some(Value::Null) => false,
        Some(Value::Object(o)) => match o.get("include_archived_projects") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) if s == "true" || s == "false" => s == "true",
            Some(_) => {
                return Err(QueryError::invalid(
                    &SourcePath::root("options"),
                    "include_archived_projects",
                    "include_archived_projects must be true or false",
                ))
            }
        },
        Some(_) => {
            return Err(QueryError::invalid(
                &top,
                "options",
                "options must be an object",
            ))
        }
    };

    let filter = match obj.get("filters") {
        None | Some(Value::Null) => Filter::all(store),
        Some(f) => Filter::parse(
            store,
            entity_type,
            f,
            syntax,
            &SourcePath::root("filters"),
            now,
        )?,
    };
    Ok(SummarizeQuery {
        entity_type: entity_type.to_string(),
        filter,
        fields,
        grouping,
        include_archived_projects,
        now,
    })
}

/// Runs the summary: `{"summaries":{…},"groups":[…]}`.
pub fn run(store: &Store, q: &SummarizeQuery<'_>) -> Result<Value, QueryError> {
    let records = list::matching(
        store,
        &q.entity_type,
        &q.filter,
        ReturnOnly::Active,
        q.include_archived_projects,
    )?;
    let mut out = Map::new();
    out.insert("summaries".into(), summaries(q, &records));
    out.insert("groups".into(), Value::Array(groups(store, q, &records, 0)));
    Ok(Value::Object(out))
}

fn field_value(r: &Record, field: &str) -> Value {
    match field {
        "id" => Value::from(r.id),
        f => r.fields.get(f).cloned().unwrap_or(Value::Null),
    }
}

fn is_set(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Array(a) => !a.is_empty(),
        Value::String(s) => !s.is_empty(),
        Value::Bool(b) => *b,
        _ => true,
    }
}

fn percent(n: usize, total: usize) -> Value {
    if total == 0 {
        Value::from(0)
    } else {
        Value::from(((n as f64) * 100.0 / (total as f64)).round() as i64)
    }
}

fn summaries(q: &SummarizeQuery<'_>, records: &[&Record]) -> Value {
    let mut out = Map::new();
    for f in &q.fields {
        let values: Vec<Value> = records.iter().map(|r| field_value(r, &f.field)).collect();
        let nums = || values.iter().filter_map(Value::as_f64);
        let all_int = values.iter().all(|v| v.is_null() || v.is_i64());
        let num_out = |x: f64| {
            if all_int && x.fract() == 0.0 && x.abs() < 9.0e15 {
                Value::from(x as i64)
            } else {
                Value::from(x)
            }
        };
        let v = match f.ty.as_str() {
            "record_count" => Value::from(records.len()),
            "count" => Value::from(
                values
                    .iter()
                    .filter(|v| is_set(v) || v.as_bool() == Some(false))
                    .count(),
            ),
            "sum" => num_out(nums().sum()),
            "maximum" => nums().reduce(f64::max).map_or(Value::Null, num_out),
            "minimum" => nums().reduce(f64::min).map_or(Value::Null, num_out),
            "average" => {
                let (s, n) = nums().fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
                if n == 0 {
                    Value::Null
                } else {
                    Value::from(s / n as f64)
                }
            }
            "earliest" | "latest" => {
                let it = values.iter().filter_map(Value::as_str);
                let pick = if f.ty == "earliest" {
                    it.min()
                } else {
                    it.max()
                };
                pick.map_or(Value::Null, |s| Value::String(s.to_string()))
            }
            "percentage" => {
                let n = match &f.value {
                    Some(want) => values.iter().filter(|v| *v == want).count(),
                    None => values.iter().filter(|v| is_set(v)).count(),
                };
                percent(n, records.len())
            }
            "status_percentage" => {
                let want = f
                    .value
                    .clone()
                    .unwrap_or_else(|| Value::String("fin".into()));
                percent(values.iter().filter(|v| **v == want).count(), records.len())
            }
            "status_list" => {
                let mut counts = Map::new();
                for v in &values {
                    let key = v.as_str().unwrap_or("").to_string();
                    let n = counts.get(&key).and_then(Value::as_u64).unwrap_or(0);
                    counts.insert(key, Value::from(n + 1));
                }
                Value::Object(counts)
            }
            "checked" => Value::from(values.iter().filter(|v| v.as_bool() == Some(true)).count()),
            "unchecked" => Value::from(values.iter().filter(|v| v.as_bool() != Some(true)).count()),
            _ => Value::Null,
        };
        out.insert(f.field.clone(), v);
    }
    Value::Object(out)
}

/// A group key: order, name and value.
#[derive(Debug, Clone)]
struct Key {
    order: Value,
    name: Value,
    value: Value,
}

fn bucket_size(ty: &str) -> f64 {
    match ty {
        "tens" => 10.0,
        "hundreds" => 100.0,
        "thousands" => 1_000.0,
        "tensofthousands" => 10_000.0,
        "hundredsofthousands" => 100_000.0,
        _ => 1_000_000.0,
    }
}

fn date_of(v: &Value) -> Option<NaiveDate> {
    v.as_str().and_then(dates::parse_date)
}

fn clustered(d: NaiveDate, today: NaiveDate) -> (i64, &'static str) {
    let days = (d - today).num_days();
    let in_period = |p: Period, off: i64| {
        dates::calendar_range(today, p, off).is_some_and(|(s, e)| d >= s && d < e)
    };
    match days {
        0 => (0, "Today"),
        -1 => (-1, "Yesterday"),
        1 => (1, "Tomorrow"),
        _ if in_period(Period::Week, 0) => {
            if days < 0 {
                (-2, "Earlier this week")
            } else {
                (2, "Later this week")
            }
        }
        _ if in_period(Period::Week, -1) => (-3, "Last week"),
        _ if in_period(Period::Week, 1) => (3, "Next week"),
        _ if in_period(Period::Month, 0) => {
            if days < 0 {
                (-4, "Earlier this month")
            } else {
                (4, "Later this month")
            }
        }
        _ if in_period(Period::Month, -1) => (-5, "Last month"),
        _ if in_period(Period::Month, 1) => (5, "Next month"),
        _ if in_period(Period::Year, 0) => {
            if days < 0 {
                (-6, "Earlier this year")
            } else {
                (6, "Later this year")
            }
        }
        _ if days < 0 => (-7, "Older"),
        _ => (7, "Later"),
    }
}

/// The group keys of one value (one per element for list fields).
fn keys_of(store: &Store, g: &Grouping<'_>, v: &Value, now: DateTime<Utc>) -> Vec<Key> {
    let null = || Key {
        order: Value::Null,
        name: Value::Null,
        value: Value::Null,
    };
    if let Value::Array(items) = v {
        if items.is_empty() {
            return vec![null()];
        }
        return items
            .iter()
            .flat_map(|i| keys_of(store, g, i, now))
            .collect();
    }
    if v.is_null() {
        return vec![null()];
    }
    let entity = |v: &Value| -> Option<(String, i64, Option<String>)> {
        let o = v.as_object()?;
        let t = o.get("type")?.as_str()?.to_string();
        let id = o.get("id")?.as_i64()?;
        let name = store.display_name(&t, id);
        Some((t, id, name))
    };
    let s = |x: String| Value::String(x);
    let key = match g.ty.as_str() {
        "exact" => match entity(v) {
            Some((t, id, name)) => Key {
                order: json!(name.clone().unwrap_or_default().to_lowercase()),
                name: json!(name),
                value: json!({"type": t, "id": id, "name": name}),
            },
            None => Key {
                order: v.clone(),
                name: match v {
                    Value::String(x) => s(x.clone()),
                    other => s(other.to_string()),
                },
                value: v.clone(),
            },
        },
        "tens"
        | "hundreds"
        | "thousands"
        | "tensofthousands"
        | "hundredsofthousands"
        | "millions" => {
            let Some(x) = v.as_f64() else {
                return vec![null()];
            };
            let size = bucket_size(&g.ty);
            let lo = (x / size).floor() * size;
            let lo_i = lo as i64;
            Key {
                order: json!(lo),
                name: s(format!("{} - {}", lo_i, lo_i + size as i64 - 1)),
                value: json!(lo_i),
            }
        }
        "entitytype" => match entity(v) {
            Some((t, _, _)) => Key {
                order: s(t.clone()),
                name: s(t.clone()),
                value: s(t),
            },
            None => null(),
        },
        "firstletter" => {
            let text = match (v, entity(v)) {
                (_, Some((_, _, name))) => name.unwrap_or_default(),
                (Value::String(x), _) => x.clone(),
                (other, _) => other.to_string(),
            };
            match text.chars().next() {
                Some(c) => {
                    let l: String = c.to_uppercase().collect();
                    Key {
                        order: s(l.clone()),
                        name: s(l.clone()),
                        value: s(l),
                    }
                }
                None => null(),
            }
        }
        "oneday" | "fivedays" if g.path.kind == FieldKind::Duration => {
            let Some(minutes) = v.as_f64() else {
                return vec![null()];
            };
            let span = if g.ty == "oneday" { 1.0 } else { 5.0 };
            let day = 8.0 * 60.0; // a working day
            let lo = (minutes / (day * span)).floor() * span;
            Key {
                order: json!(lo),
                name: s(format!("{} - {} days", lo as i64, (lo + span) as i64)),
                value: json!(lo as i64),
            }
        }
        ty => {
            let Some(d) = date_of(v) else {
                return vec![null()];
            };
            match ty {
                "day" | "oneday" => {
                    let x = dates::fmt_date(d);
                    Key {
                        order: s(x.clone()),
                        name: s(x.clone()),
                        value: s(x),
                    }
                }
                "fivedays" => {
                    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
                    let n = (d - epoch).num_days().div_euclid(5) * 5;
                    let start = epoch + Duration::days(n);
                    let end = start + Duration::days(4);
                    Key {
                        order: s(dates::fmt_date(start)),
                        name: s(format!(
                            "{} - {}",
                            dates::fmt_date(start),
                            dates::fmt_date(end)
                        )),
                        value: s(dates::fmt_date(start)),
                    }
                }
                "week" => {
                    let start = dates::period_start(d, Period::Week);
                    Key {
                        order: s(dates::fmt_date(start)),
                        name: s(format!("Week of {}", dates::fmt_date(start))),
                        value: s(dates::fmt_date(start)),
                    }
                }
                "month" => {
                    let x = d.format("%Y-%m").to_string();
                    Key {
                        order: s(x.clone()),
                        name: s(d.format("%B %Y").to_string()),
                        value: s(x),
                    }
                }
                "quarter" => {
                    let q = (d.month0() / 3) + 1;
                    let x = format!("{}-Q{q}", d.year());
                    Key {
                        order: s(x.clone()),
                        name: s(format!("Q{q} {}", d.year())),
                        value: s(x),
                    }
                }
                "year" => {
                    let x = d.year().to_string();
                    Key {
                        order: s(x.clone()),
                        name: s(x.clone()),
                        value: s(x),
                    }
                }
                _ => {
                    // clustered_date
                    let (rank, label) = clustered(d, now.date_naive());
                    Key {
                        order: json!(rank),
                        name: s(label.to_string()),
                        value: s(label.to_string()),
                    }
                }
            }
        }
    };
    vec![key]
}

fn group_value_of(store: &Store, g: &Grouping<'_>, r: &Record) -> Value {
    let mut vals: Vec<Value> = Vec::new();
    g.path.any_value(r, &mut |v| {
        vals.push(v.clone());
        false
    });
    match vals.len() {
        0 => Value::Null,
        1 if !super::path::is_multi(g.path.kind) => vals.pop().unwrap_or(Value::Null),
        _ => {
            let _ = store;
            Value::Array(vals)
        }
    }
}

fn cmp_order(a: &Value, b: &Value) -> std::cmp::Ordering {
    use std::cmp::Ordering::*;
    match (a, b) {
        (Value::Null, Value::Null) => Equal,
        (Value::Null, _) => Greater,
        (_, Value::Null) => Less,
        (Value::Number(x), Value::Number(y)) => {
            x.as_f64().partial_cmp(&y.as_f64()).unwrap_or(Equal)
        }
        (Value::String(x), Value::String(y)) => x.to_lowercase().cmp(&y.to_lowercase()),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        _ => a.to_string().cmp(&b.to_string()),
    }
}

fn groups(store: &Store, q: &SummarizeQuery<'_>, records: &[&Record], level: usize) -> Vec<Value> {
    let Some(g) = q.grouping.get(level) else {
        return Vec::new();
    };
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut buckets: Vec<(Key, Vec<&Record>)> = Vec::new();
    for r in records {
        let v = group_value_of(store, g, r);
        for k in keys_of(store, g, &v, q.now) {
            let id = k.value.to_string();
            let i = *index.entry(id).or_insert_with(|| {
                buckets.push((k.clone(), Vec::new()));
                buckets.len() - 1
            });
            buckets[i].1.push(r);
        }
    }
    buckets.sort_by(|(a, _), (b, _)| {
        let o = cmp_order(&a.order, &b.order);
        // The null group stays last in both directions.
        if g.desc && !a.order.is_null() && !b.order.is_null() {
            o.reverse()
        } else {
            o
        }
    });
    buckets
        .into_iter()
        .map(|(k, rs)| {
            let mut m = Map::new();
            m.insert("group_name".into(), k.name);
            m.insert("group_value".into(), k.value);
            m.insert("summaries".into(), summaries(q, &rs));
            if level + 1 < q.grouping.len() {
                m.insert(
                    "groups".into(),
                    Value::Array(groups(store, q, &rs, level + 1)),
                );
            }
            Value::Object(m)
        })
        .collect()
}
