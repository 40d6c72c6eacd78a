//! Engine tests: every relation on every data type, positive and negative, and the
//! validation errors with their sources.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{json, Map, Value};

use super::filter::{Filter, FilterSyntax};
use super::list::{self, parse_sort, ListQuery, Page};
use super::summarize;
use super::text;
use super::{QueryError, SourcePath};
use crate::model::schema::FieldKind;
use crate::model::{ReturnOnly, Store};

const T: &str = "CustomEntity01";

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn now() -> DateTime<Utc> {
    // A Sunday.
    Utc.with_ymd_and_hms(2024, 2, 11, 12, 0, 0).unwrap()
}

/// A store with one field of every kind on CustomEntity01 and three records.
fn store() -> Store {
    let mut s = Store::new();
    let kinds = [
        ("n", FieldKind::Number),
        ("f", FieldKind::Float),
        ("cur", FieldKind::Currency),
        ("pct", FieldKind::Percent),
        ("dur", FieldKind::Duration),
        ("tc", FieldKind::Timecode),
        ("ok", FieldKind::Checkbox),
        ("d", FieldKind::Date),
        ("dt", FieldKind::DateTime),
        ("st", FieldKind::StatusList),
        ("l", FieldKind::List),
        ("e", FieldKind::Entity),
        ("me", FieldKind::MultiEntity),
        ("addr", FieldKind::Addressing),
        ("img", FieldKind::Image),
        ("tags", FieldKind::TagList),
        ("col", FieldKind::Color),
        ("et", FieldKind::EntityType),
        ("u", FieldKind::Uuid),
        ("foot", FieldKind::Footage),
        ("pw", FieldKind::Password),
        ("ser", FieldKind::Serializable),
        ("url", FieldKind::Url),
        ("summ", FieldKind::Summary),
        ("project", FieldKind::Entity),
    ];
    for (f, k) in kinds {
        s.define_field(T, f, k).unwrap();
    }
    s.define_field("Asset", "project", FieldKind::Entity)
        .unwrap();
    s.define_field("Project", "archived", FieldKind::Checkbox)
        .unwrap();
    s.insert("Project", obj(json!({"name": "Demo", "archived": false})))
        .unwrap();
    s.insert("Project", obj(json!({"name": "Old", "archived": true})))
        .unwrap();
    s.insert("HumanUser", obj(json!({"name": "Ann"}))).unwrap();
    s.insert(
        "Asset",
        obj(json!({"code": "Teapot", "project": {"type": "Project", "id": 1}})),
    )
    .unwrap();
    s.insert("Shot", obj(json!({"code": "SH010"}))).unwrap();
    s.insert(
        T,
        obj(json!({
            "code": "Alpha", "n": 10, "f": 1.5, "cur": 100.0, "pct": 50, "dur": 480,
            "tc": 1000, "ok": true, "d": "2024-01-10", "dt": "2024-01-10T10:00:00Z",
            "st": "ip", "l": "Prop", "e": {"type": "Asset", "id": 1},
            "me": [{"type": "Asset", "id": 1}, {"type": "Shot", "id": 1}],
            "addr": [{"type": "HumanUser", "id": 1}], "img": "http://x/a.png",
            "tags": ["hero"], "col": "255,0,0", "et": "Shot", "u": "uuid-1",
            "foot": "10-00", "project": {"type": "Project", "id": 1}
        })),
    )
    .unwrap();
    s.insert(
        T,
        obj(json!({
            "code": "beta", "n": 20, "f": 2.5, "cur": 200.0, "pct": 75, "dur": 960,
            "tc": 2000, "ok": false, "d": "2024-02-10", "dt": "2024-02-10T10:00:00Z",
            "st": "fin", "l": "Character", "e": {"type": "Shot", "id": 1}, "me": [],
            "addr": [], "img": null, "tags": [], "et": "Asset",
            "project": {"type": "Project", "id": 1}
        })),
    )
    .unwrap();
    s.insert(T, obj(json!({"code": "Gamma ray"}))).unwrap();
    s
}

fn compile<'s>(s: &'s Store, f: &Value, syntax: FilterSyntax) -> Result<Filter<'s>, QueryError> {
    Filter::parse(s, T, f, syntax, &SourcePath::root("filters"), now())
}

fn ids(s: &Store, f: Value) -> Vec<i64> {
    let filter = compile(s, &f, FilterSyntax::Any).unwrap_or_else(|e| panic!("{f}: {e:?}"));
    list::matching(s, T, &filter, ReturnOnly::Active, true)
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect()
}

fn err(s: &Store, f: Value) -> QueryError {
    match compile(s, &f, FilterSyntax::Any) {
        Ok(_) => panic!("{f} should be rejected"),
        Err(e) => e,
    }
}

#[test]
fn every_relation_on_every_type() {
    let s = store();
    let cases: Vec<(Value, Vec<i64>)> = vec![
        // text
        (json!([["code", "is", "ALPHA"]]), vec![1]),
        (json!([["code", "is_not", "alpha"]]), vec![2, 3]),
        (json!([["code", "contains", "MM"]]), vec![3]),
        (json!([["code", "not_contains", "et"]]), vec![1, 3]),
        (json!([["code", "starts_with", "gam"]]), vec![3]),
        (json!([["code", "ends_with", "RAY"]]), vec![3]),
        (json!([["code", "in", ["alpha", "beta"]]]), vec![1, 2]),
        (json!([["code", "in", "alpha", "beta"]]), vec![1, 2]),
        (json!([["code", "not_in", ["alpha", "beta"]]]), vec![3]),
        (json!([["code", "is", null]]), vec![]),
        (json!([["code", "is_not", null]]), vec![1, 2, 3]),
        // number
        (json!([["n", "is", 10]]), vec![1]),
        (json!([["n", "is", "10"]]), vec![1]),
        (json!([["n", "is_not", 10]]), vec![2, 3]),
        (json!([["n", "less_than", 15]]), vec![1]),
        (json!([["n", "greater_than", 15]]), vec![2]),
        (json!([["n", "between", [5, 15]]]), vec![1]),
        (json!([["n", "between", 5, 15]]), vec![1]),
        (json!([["n", "between", [null, 15]]]), vec![1]),
        (json!([["n", "not_between", [5, 15]]]), vec![2, 3]),
        (json!([["n", "in", [10, 20]]]), vec![1, 2]),
        (json!([["n", "in", [10, null]]]), vec![1, 3]),
        (json!([["n", "not_in", [10]]]), vec![2, 3]),
        (json!([["n", "is", null]]), vec![3]),
        (json!([["n", "less_than", null]]), vec![]),
        // float, currency, percent, duration, timecode
        (json!([["f", "greater_than", 2]]), vec![2]),
        (json!([["f", "between", [1, 2]]]), vec![1]),
        (json!([["f", "in", [1.5]]]), vec![1]),
        (json!([["f", "not_in", [1.5]]]), vec![2, 3]),
        (json!([["cur", "less_than", 150]]), vec![1]),
        (json!([["cur", "not_between", [50, 150]]]), vec![2, 3]),
        (json!([["pct", "is", 75]]), vec![2]),
        (json!([["pct", "between", [0, 60]]]), vec![1]),
        (json!([["dur", "greater_than", 500]]), vec![2]),
        (json!([["dur", "in", [480]]]), vec![1]),
        (json!([["tc", "less_than", 1500]]), vec![1]),
        (json!([["tc", "is_not", 1000]]), vec![2, 3]),
        // checkbox (unset counts as false)
        (json!([["ok", "is", true]]), vec![1]),
        (json!([["ok", "is", false]]), vec![2, 3]),
        (json!([["ok", "is_not", true]]), vec![2, 3]),
        // date
        (json!([["d", "is", "2024-01-10"]]), vec![1]),
        (json!([["d", "is_not", "2024-01-10"]]), vec![2, 3]),
        (json!([["d", "greater_than", "2024-01-31"]]), vec![2]),
        (json!([["d", "less_than", "2024-01-31"]]), vec![1]),
        (
            json!([["d", "between", ["2024-01-01", "2024-01-31"]]]),
            vec![1],
        ),
        (json!([["d", "in_last", [7, "DAY"]]]), vec![2]),
        (json!([["d", "in_last", 7, "DAY"]]), vec![2]),
        (json!([["d", "in_last", [2, "MONTH"]]]), vec![1, 2]),
        (json!([["d", "not_in_last", [7, "DAY"]]]), vec![1, 3]),
        (json!([["d", "in_next", [1, "WEEK"]]]), vec![]),
        (json!([["d", "not_in_next", [1, "YEAR"]]]), vec![1, 2, 3]),
        (json!([["d", "in_calendar_day", -1]]), vec![2]),
        (json!([["d", "in_calendar_day", 0]]), vec![]),
        (json!([["d", "in_calendar_week", 0]]), vec![2]),
        (json!([["d", "in_calendar_month", -1]]), vec![1]),
        (json!([["d", "in_calendar_month", 0]]), vec![2]),
        (json!([["d", "in_calendar_year", 0]]), vec![1, 2]),
        (json!([["d", "in_calendar_year", 1]]), vec![]),
        (
            json!([["d", "in", ["2024-01-10", "2024-02-10"]]]),
            vec![1, 2],
        ),
        (json!([["d", "not_in", ["2024-01-10"]]]), vec![2, 3]),
        // date_time
        (json!([["dt", "is", "2024-01-10T10:00:00Z"]]), vec![1]),
        (json!([["dt", "is", "2024-01-10T11:00:00+01:00"]]), vec![1]),
        (
            json!([["dt", "greater_than", "2024-01-10T10:00:00Z"]]),
            vec![2],
        ),
        (json!([["dt", "less_than", "2024-02-01"]]), vec![1]),
        (json!([["dt", "in_last", [2, "DAY"]]]), vec![2]),
        (json!([["dt", "in_last", [1, "HOUR"]]]), vec![]),
        (json!([["dt", "not_in_last", [1, "HOUR"]]]), vec![1, 2, 3]),
        (json!([["dt", "in_next", [1, "DAY"]]]), vec![]),
        (json!([["dt", "in_calendar_day", -1]]), vec![2]),
        (json!([["dt", "in_calendar_week", -1]]), vec![]),
        (json!([["dt", "in_calendar_month", -1]]), vec![1]),
        (
            json!([[
                "dt",
                "between",
                ["2024-01-01T00:00:00Z", "2024-01-31T00:00:00Z"]
            ]]),
            vec![1],
        ),
        (json!([["dt", "in", ["2024-02-10T10:00:00Z"]]]), vec![2]),
        (json!([["dt", "is", null]]), vec![3]),
        // status_list, list (exact)
        (json!([["st", "is", "ip"]]), vec![1]),
        (json!([["st", "is_not", "ip"]]), vec![2, 3]),
        (json!([["st", "in", ["ip", "fin"]]]), vec![1, 2]),
        (json!([["st", "not_in", ["ip"]]]), vec![2, 3]),
        (json!([["l", "is", "Prop"]]), vec![1]),
        (json!([["l", "is", "prop"]]), vec![]),
        (json!([["l", "in", ["Prop", "Character"]]]), vec![1, 2]),
        // entity
        (json!([["e", "is", {"type": "Asset", "id": 1}]]), vec![1]),
        (json!([["e", "is", {"type": "assets", "id": "1"}]]), vec![1]),
        (
            json!([["e", "is_not", {"type": "Asset", "id": 1}]]),
            vec![2, 3],
        ),
        (
            json!([["e", "in", [{"type": "Asset", "id": 1}, {"type": "Shot", "id": 1}]]]),
            vec![1, 2],
        ),
        (
            json!([["e", "not_in", [{"type": "Asset", "id": 1}]]]),
            vec![2, 3],
        ),
        (json!([["e", "type_is", "Shot"]]), vec![2]),
        (json!([["e", "type_is_not", "Shot"]]), vec![1, 3]),
        (json!([["e", "type_is", null]]), vec![3]),
        (json!([["e", "name_contains", "TEA"]]), vec![1]),
        (json!([["e", "name_not_contains", "tea"]]), vec![2, 3]),
        (json!([["e", "name_is", "sh010"]]), vec![2]),
        (json!([["e", "is", null]]), vec![3]),
        // multi_entity
        (json!([["me", "is", {"type": "Shot", "id": 1}]]), vec![1]),
        (
            json!([["me", "is_not", {"type": "Shot", "id": 1}]]),
            vec![2, 3],
        ),
        (json!([["me", "type_is", "Asset"]]), vec![1]),
        (json!([["me", "type_is_not", "Asset"]]), vec![2, 3]),
        (json!([["me", "name_contains", "sh0"]]), vec![1]),
        (json!([["me", "name_not_contains", "sh0"]]), vec![2, 3]),
        (json!([["me", "in", [{"type": "Shot", "id": 1}]]]), vec![1]),
        (
            json!([["me", "not_in", [{"type": "Shot", "id": 1}]]]),
            vec![2, 3],
        ),
        (json!([["me", "is", null]]), vec![2, 3]),
        // addressing
        (
            json!([["addr", "is", {"type": "HumanUser", "id": 1}]]),
            vec![1],
        ),
        (
            json!([["addr", "is_not", {"type": "HumanUser", "id": 1}]]),
            vec![2, 3],
        ),
        (
            json!([["addr", "contains", {"type": "HumanUser", "id": 1}]]),
            vec![1],
        ),
        (
            json!([["addr", "not_contains", {"type": "HumanUser", "id": 1}]]),
            vec![2, 3],
        ),
        (
            json!([["addr", "in", [{"type": "HumanUser", "id": 1}]]]),
            vec![1],
        ),
        (json!([["addr", "type_is", "HumanUser"]]), vec![1]),
        (json!([["addr", "type_is_not", "HumanUser"]]), vec![2, 3]),
        (json!([["addr", "name_contains", "nn"]]), vec![1]),
        (json!([["addr", "name_not_contains", "nn"]]), vec![2, 3]),
        (json!([["addr", "name_starts_with", "an"]]), vec![1]),
        (json!([["addr", "name_ends_with", "NN"]]), vec![1]),
        (json!([["addr", "name_ends_with", "x"]]), vec![]),
        // image
        (json!([["img", "is", null]]), vec![2, 3]),
        (json!([["img", "is_not", null]]), vec![1]),
        // tag_list, color, entity_type, uuid, footage
        (json!([["tags", "is", "hero"]]), vec![1]),
        (json!([["tags", "is_not", "hero"]]), vec![2, 3]),
        (json!([["tags", "name_contains", "ER"]]), vec![1]),
        (json!([["tags", "name_not_contains", "er"]]), vec![2, 3]),
        (json!([["tags", "name_is", "HERO"]]), vec![1]),
        (json!([["col", "is", "255,0,0"]]), vec![1]),
        (json!([["col", "not_in", ["255,0,0"]]]), vec![2, 3]),
        (json!([["et", "is", "Shot"]]), vec![1]),
        (json!([["et", "in", ["Shot", "Asset"]]]), vec![1, 2]),
        (json!([["u", "is", "uuid-1"]]), vec![1]),
        (json!([["foot", "is_not", "10-00"]]), vec![2, 3]),
        // implicit id
        (json!([["id", "is", 2]]), vec![2]),
        (json!([["id", "in", [1, 3]]]), vec![1, 3]),
        (json!([["id", "greater_than", 1]]), vec![2, 3]),
        // deep paths
        (json!([["e.Asset.code", "is", "Teapot"]]), vec![1]),
        (json!([["e.Shot.code", "is", "SH010"]]), vec![2]),
        (json!([["me.Shot.code", "is", "SH010"]]), vec![1]),
        (json!([["me.Asset.code", "is_not", "Teapot"]]), vec![2, 3]),
        (
            json!([["e.Asset.project.Project.name", "is", "Demo"]]),
            vec![1],
        ),
        (json!([["e.Asset.project.Project.id", "is", 1]]), vec![1]),
        (json!([["e.Asset.code", "is", null]]), vec![2, 3]),
        (
            json!([["project.Project.name", "contains", "dem"]]),
            vec![1, 2],
        ),
        // logic
        (json!([]), vec![1, 2, 3]),
        (json!({"logical_operator": "or", "conditions": []}), vec![]),
        (
            json!({"conditions": [["n", "is", 10], ["n", "is", 20]]}),
            vec![],
        ),
        (
            json!({"logical_operator": "or", "conditions": [
                ["n", "is", 10],
                {"logical_operator": "and", "conditions": [["n", "is", 20], ["code", "is", "beta"]]}
            ]}),
            vec![1, 2],
        ),
        (
            json!([{"path": "n", "relation": "is", "values": [10]}]),
            vec![1],
        ),
        (
            json!([{"path": "n", "relation": "in", "values": [10, 20]}]),
            vec![1, 2],
        ),
    ];
    for (f, want) in cases {
        assert_eq!(ids(&s, f.clone()), want, "{f}");
    }
}

fn source_of(e: &QueryError) -> &Value {
    &e.source
}

#[test]
fn unknown_fields_are_reported_like_real_sites() {
    let s = store();
    let e = err(&s, json!([["nope", "is", "NOPE"]]));
    assert_eq!(e.title, "API read() CustomEntity01.nope doesn't exist.");
    assert_eq!(
        e.source,
        json!({"CustomEntity01.nope": " does not exist. Value: {\"path\"=>\"nope\", \"relation\"=>\"is\", \"values\"=>[\"NOPE\"]}"})
    );
    let e = err(&s, json!([["e.Asset.nope", "in", [1, null]]]));
    assert_eq!(e.title, "API read() Asset.nope doesn't exist.");
    assert_eq!(
        e.source,
        json!({"Asset.nope": " does not exist. Value: {\"path\"=>\"e.Asset.nope\", \"relation\"=>\"in\", \"values\"=>[1, nil]}"})
    );
}

#[test]
fn validation_errors_name_the_condition() {
    let s = store();
    let relation = |i: &str| json!({"filters": {i: {"relation": [Value::Null]}}});
    let _ = relation;
    // (filter, the path of keys to the leaf, leaf key)
    let cases: Vec<(Value, Vec<&str>, &str)> = vec![
        (
            json!([["code", "less_than", "x"]]),
            vec!["filters", "0"],
            "relation",
        ),
        (
            json!([["n", "is", 1], ["code", "resembles", "x"]]),
            vec!["filters", "1"],
            "relation",
        ),
        (json!([["pw", "is", "x"]]), vec!["filters", "0"], "relation"),
        (json!([["ser", "is", {}]]), vec!["filters", "0"], "relation"),
        (
            json!([["url", "is", "x"]]),
            vec!["filters", "0"],
            "relation",
        ),
        (json!([["summ", "is", 1]]), vec!["filters", "0"], "relation"),
        (
            json!([["ok", "in", [true]]]),
            vec!["filters", "0"],
            "relation",
        ),
        (
            json!([["st", "contains", "i"]]),
            vec!["filters", "0"],
            "relation",
        ),
        (
            json!([["e", "contains", {"type": "Asset", "id": 1}]]),
            vec!["filters", "0"],
            "relation",
        ),
        (
            json!([["d", "not_between", ["2024-01-01", "2024-02-01"]]]),
            vec!["filters", "0"],
            "relation",
        ),
        (json!([["n", "is", "abc"]]), vec!["filters", "0"], "values"),
        (json!([["n", "is", true]]), vec!["filters", "0"], "values"),
        (json!([["n", "is", 1, 2]]), vec!["filters", "0"], "values"),
        (
            json!([["n", "between", [1]]]),
            vec!["filters", "0"],
            "values",
        ),
        (
            json!([["n", "between", 1, 2, 3]]),
            vec!["filters", "0"],
            "values",
        ),
        (json!([["code", "is", 5]]), vec!["filters", "0"], "values"),
        (
            json!([["code", "starts_with", null]]),
            vec!["filters", "0"],
            "values",
        ),
        (
            json!([["d", "is", "last tuesday"]]),
            vec!["filters", "0"],
            "values",
        ),
        (
            json!([["dt", "greater_than", 5]]),
            vec!["filters", "0"],
            "values",
        ),
        (
            json!([["d", "in_last", [1, "FORTNIGHT"]]]),
            vec!["filters", "0"],
            "values",
        ),
        (
            json!([["d", "in_last", ["x", "DAY"]]]),
            vec!["filters", "0"],
            "values",
        ),
        (
            json!([["d", "in_last", [1]]]),
            vec!["filters", "0"],
            "values",
        ),
        (
            json!([["d", "in_calendar_day", "today"]]),
            vec!["filters", "0"],
            "values",
        ),
        (json!([["ok", "is", "yes"]]), vec!["filters", "0"], "values"),
        (
            json!([["e", "is", {"type": "Nope", "id": 1}]]),
            vec!["filters", "0"],
            "values",
        ),
        (
            json!([["e", "is", {"type": "Asset"}]]),
            vec!["filters", "0"],
            "values",
        ),
        (json!([["e", "is", 1]]), vec!["filters", "0"], "values"),
        (
            json!([["e", "type_is", "Nope"]]),
            vec!["filters", "0"],
            "values",
        ),
        (
            json!([["me", "name_contains", 3]]),
            vec!["filters", "0"],
            "values",
        ),
        (
            json!([["img", "is", "http://x"]]),
            vec!["filters", "0"],
            "values",
        ),
        (json!([[5, "is", "x"]]), vec!["filters", "0"], "field"),
        (json!([["code", 5, "x"]]), vec!["filters", "0"], "relation"),
        (
            json!([["code.Shot.code", "is", "x"]]),
            vec!["filters", "0"],
            "field",
        ),
        (
            json!([["e.Nope.code", "is", "x"]]),
            vec!["filters", "0"],
            "field",
        ),
        (
            json!([["e.Asset", "is", "x"]]),
            vec!["filters", "0"],
            "field",
        ),
        (json!([["code", "is"]]), vec!["filters"], "0"),
        (json!(["code"]), vec!["filters"], "0"),
        (
            json!({"logical_operator": "xor", "conditions": []}),
            vec!["filters"],
            "logical_operator",
        ),
        (
            json!({"logical_operator": "and", "conditions": {}}),
            vec!["filters"],
            "conditions",
        ),
        (
            json!({"filter_operator": "all", "filters": []}),
            vec!["filters"],
            "filter_operator",
        ),
        (
            json!({"logical_operator": "or", "conditions": [["n", "is", 1], {"conditions": [["code", "is", 1]]}]}),
            vec!["filters", "conditions", "1", "conditions", "0"],
            "values",
        ),
        (json!("code is x"), vec![], "filters"),
    ];
    for (f, path, key) in cases {
        let e = err(&s, f.clone());
        assert_eq!(e.title, "Request Parameters invalid.", "{f}");
        let mut v = source_of(&e);
        for p in &path {
            v = v
                .get(*p)
                .unwrap_or_else(|| panic!("{f}: no {p} in {}", e.source));
        }
        let leaf = v
            .get(key)
            .unwrap_or_else(|| panic!("{f}: no {key} in {}", e.source));
        assert!(
            leaf.as_array()
                .is_some_and(|a| a.len() == 1 && a[0].is_string()),
            "{f}: {}",
            e.source
        );
    }
}

#[test]
fn content_type_shapes_are_enforced() {
    let s = store();
    let e = compile(&s, &json!({"conditions": []}), FilterSyntax::Array).unwrap_err();
    assert!(e.source["filters"].is_array(), "{}", e.source);
    let e = compile(&s, &json!([["n", "is", 1]]), FilterSyntax::Hash).unwrap_err();
    assert!(e.source["filters"].is_array(), "{}", e.source);
    assert!(compile(&s, &json!([["n", "is", 1]]), FilterSyntax::Array).is_ok());
    assert!(compile(&s, &json!({"conditions": []}), FilterSyntax::Hash).is_ok());
}

#[test]
fn query_string_filters_coerce_and_validate() {
    let s = store();
    let run = |pairs: &[(&str, &str)]| -> Result<Vec<i64>, QueryError> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        let f = Filter::from_query(&s, T, &pairs, now())?;
        Ok(list::matching(&s, T, &f, ReturnOnly::Active, true)?
            .iter()
            .map(|r| r.id)
            .collect())
    };
    assert_eq!(run(&[("n", "10")]).unwrap(), vec![1]);
    assert_eq!(run(&[("n", "10,20")]).unwrap(), vec![1, 2]);
    assert_eq!(run(&[("st", "ip,fin"), ("code", "beta")]).unwrap(), vec![2]);
    assert_eq!(run(&[("ok", "true")]).unwrap(), vec![1]);
    assert_eq!(run(&[("e", "Asset:1")]).unwrap(), vec![1]);
    assert_eq!(run(&[("e.Shot.code", "SH010")]).unwrap(), vec![2]);
    let e = run(&[("n", "ten")]).unwrap_err();
    assert!(e.source["filter"]["n"].is_array(), "{}", e.source);
    let e = run(&[("ok", "maybe")]).unwrap_err();
    assert!(e.source["filter"]["ok"].is_array(), "{}", e.source);
    let e = run(&[("pw", "x")]).unwrap_err();
    assert!(e.source["filter"]["pw"].is_array(), "{}", e.source);
    let e = run(&[("not_existing_field", "NOPE")]).unwrap_err();
    assert_eq!(
        e.source,
        json!({"CustomEntity01.not_existing_field": " does not exist. Value: {\"path\"=>\"not_existing_field\", \"relation\"=>\"is\", \"values\"=>[\"NOPE\"]}"})
    );
}

fn page_ids(s: &Store, sort: &str, page: Page, f: Value) -> Vec<i64> {
    let q = ListQuery {
        entity_type: T,
        filter: compile(s, &f, FilterSyntax::Any).unwrap(),
        sort: parse_sort(s, T, sort).unwrap(),
        page,
        return_only: ReturnOnly::Active,
        include_archived_projects: false,
    };
    list::run(s, &q).unwrap()
}

#[test]
fn sorting_paging_and_archived_projects() {
    let mut s = store();
    let p = Page::default();
    assert_eq!(page_ids(&s, "code", p, json!([])), vec![1, 2, 3]);
    assert_eq!(page_ids(&s, "-code", p, json!([])), vec![3, 2, 1]);
    // Nulls last ascending, first descending; ties keep id order.
    assert_eq!(page_ids(&s, "n", p, json!([])), vec![1, 2, 3]);
    assert_eq!(page_ids(&s, "-n", p, json!([])), vec![3, 2, 1]);
    assert_eq!(page_ids(&s, "project,-id", p, json!([])), vec![2, 1, 3]);
    assert_eq!(page_ids(&s, "e", p, json!([])), vec![2, 1, 3]); // SH010 < Teapot
    assert_eq!(page_ids(&s, "e.Asset.code", p, json!([])), vec![1, 2, 3]);
    let p2 = Page { number: 2, size: 2 };
    assert_eq!(page_ids(&s, "-code", p2, json!([])), vec![1]);
    let p9 = Page { number: 9, size: 2 };
    assert_eq!(page_ids(&s, "", p9, json!([])), Vec::<i64>::new());
    assert!(parse_sort(&s, T, "nope").is_err());
    // Record 3 moves to the archived project 2 and disappears by default.
    s.insert(
        T,
        obj(json!({"code": "Archived", "project": {"type": "Project", "id": 2}})),
    )
    .unwrap();
    assert_eq!(page_ids(&s, "", p, json!([])), vec![1, 2, 3]);
    let f = Filter::all(&s);
    assert_eq!(
        list::matching(&s, T, &f, ReturnOnly::Active, true)
            .unwrap()
            .len(),
        4
    );
    s.retire(T, 1).unwrap();
    let f = Filter::all(&s);
    assert_eq!(
        list::matching(&s, T, &f, ReturnOnly::Retired, true)
            .unwrap()
            .iter()
            .map(|r| r.id)
            .collect::<Vec<_>>(),
        vec![1]
    );
}

#[test]
fn page_validation() {
    assert_eq!(Page::parse(None, None).unwrap(), Page::default());
    assert_eq!(
        Page::parse(Some(&json!("2")), Some(&json!(5000))).unwrap(),
        Page {
            number: 2,
            size: 5000
        }
    );
    for (n, size, key) in [
        (json!(1), json!(0), "size"),
        (json!(1), json!(5001), "size"),
        (json!(1), json!("x"), "size"),
        (json!(0), json!(10), "number"),
        (json!(-1), json!(10), "number"),
        (json!([1]), json!(10), "number"),
    ] {
        let e = Page::parse(Some(&n), Some(&size)).unwrap_err();
        assert!(e.source["page"][key].is_array(), "{n} {size}: {}", e.source);
    }
}

fn summarize(s: &Store, body: Value) -> Result<Value, QueryError> {
    let q = summarize::parse(s, T, &body, FilterSyntax::Any, now())?;
    summarize::run(s, &q)
}

#[test]
fn every_summary_type() {
    let s = store();
    let body = json!({"summary_fields": [
        {"field": "id", "type": "record_count"},
        {"field": "n", "type": "count"},
        {"field": "n", "type": "sum"},
        {"field": "f", "type": "maximum"},
        {"field": "cur", "type": "minimum"},
        {"field": "pct", "type": "average"},
        {"field": "d", "type": "earliest"},
        {"field": "dt", "type": "latest"},
        {"field": "img", "type": "percentage"},
        {"field": "st", "type": "status_percentage", "value": "ip"},
        {"field": "l", "type": "status_list"},
        {"field": "ok", "type": "checked"},
        {"field": "code", "type": "record_count"}
    ]});
    let out = summarize(&s, body).unwrap();
    let sums = &out["summaries"];
    assert_eq!(sums["id"], 3);
    assert_eq!(sums["n"], 30); // the later summary of a field wins
    assert_eq!(sums["f"], 2.5);
    assert_eq!(sums["cur"], 100.0);
    assert_eq!(sums["pct"], 62.5);
    assert_eq!(sums["d"], "2024-01-10");
    assert_eq!(sums["dt"], "2024-02-10T10:00:00Z");
    assert_eq!(sums["img"], 33);
    assert_eq!(sums["st"], 33);
    assert_eq!(sums["l"], json!({"Prop": 1, "Character": 1, "": 1}));
    assert_eq!(sums["ok"], 1);
    assert_eq!(sums["code"], 3);
    assert_eq!(out["groups"], json!([]));
    let out = summarize(&s, json!({"summary_fields": [{"field": "ok", "type": "unchecked"}, {"field": "n", "type": "count"}]})).unwrap();
    assert_eq!(out["summaries"], json!({"ok": 2, "n": 2}));
    let out = summarize(&s, json!({"summary_fields": [{"field": "n", "type": "maximum"}], "filters": [["n", "is", null]]})).unwrap();
    assert_eq!(out["summaries"], json!({"n": null}));
}

#[test]
fn every_grouping_type() {
    let s = store();
    let g = |field: &str, ty: &str, dir: &str| -> Vec<(Value, Value)> {
        let out = summarize(
            &s,
            json!({"summary_fields": [{"field": "id", "type": "record_count"}],
                   "grouping": [{"field": field, "type": ty, "direction": dir}]}),
        )
        .unwrap_or_else(|e| panic!("{field} {ty}: {e:?}"));
        out["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| (g["group_value"].clone(), g["summaries"]["id"].clone()))
            .collect()
    };
    let null = Value::Null;
    assert_eq!(
        g("st", "exact", "asc"),
        vec![
            (json!("fin"), json!(1)),
            (json!("ip"), json!(1)),
            (null.clone(), json!(1))
        ]
    );
    assert_eq!(
        g("st", "exact", "desc"),
        vec![
            (json!("ip"), json!(1)),
            (json!("fin"), json!(1)),
            (null.clone(), json!(1))
        ]
    );
    assert_eq!(
        g("e", "exact", "asc"),
        vec![
            (json!({"type": "Shot", "id": 1, "name": "SH010"}), json!(1)),
            (
                json!({"type": "Asset", "id": 1, "name": "Teapot"}),
                json!(1)
            ),
            (null.clone(), json!(1))
        ]
    );
    assert_eq!(
        g("me", "exact", "asc"),
        vec![
            (json!({"type": "Shot", "id": 1, "name": "SH010"}), json!(1)),
            (
                json!({"type": "Asset", "id": 1, "name": "Teapot"}),
                json!(1)
            ),
            (null.clone(), json!(2))
        ]
    );
    assert_eq!(g("n", "tens", "asc")[0], (json!(10), json!(1)));
    assert_eq!(g("dur", "hundreds", "asc")[1], (json!(900), json!(1)));
    assert_eq!(g("cur", "thousands", "asc")[0], (json!(0), json!(2)));
    assert_eq!(g("tc", "tensofthousands", "asc")[0], (json!(0), json!(2)));
    assert_eq!(
        g("tc", "hundredsofthousands", "asc")[0],
        (json!(0), json!(2))
    );
    assert_eq!(g("tc", "millions", "asc")[0], (json!(0), json!(2)));
    assert_eq!(g("d", "day", "asc")[0], (json!("2024-01-10"), json!(1)));
    assert_eq!(g("dt", "week", "asc")[0], (json!("2024-01-08"), json!(1)));
    assert_eq!(g("d", "month", "desc")[0], (json!("2024-02"), json!(1)));
    assert_eq!(g("d", "quarter", "asc")[0], (json!("2024-Q1"), json!(2)));
    assert_eq!(g("dt", "year", "asc")[0], (json!("2024"), json!(2)));
    assert_eq!(
        g("d", "clustered_date", "asc")[0],
        (json!("Last month"), json!(1))
    );
    assert_eq!(
        g("d", "clustered_date", "asc")[1],
        (json!("Yesterday"), json!(1))
    );
    assert_eq!(g("d", "oneday", "asc")[0], (json!("2024-01-10"), json!(1)));
    assert_eq!(g("d", "fivedays", "asc")[0].1, json!(1));
    assert_eq!(g("dur", "oneday", "asc")[0], (json!(1), json!(1)));
    assert_eq!(g("e", "entitytype", "asc")[0], (json!("Asset"), json!(1)));
    assert_eq!(g("code", "firstletter", "asc")[0], (json!("A"), json!(1)));
    // Nested groupings nest.
    let out = summarize(
        &s,
        json!({"summary_fields": [{"field": "id", "type": "record_count"}],
               "grouping": [{"field": "project", "type": "exact"}, {"field": "st", "type": "exact"}]}),
    )
    .unwrap();
    assert_eq!(out["groups"][0]["group_value"]["name"], "Demo");
    assert_eq!(out["groups"][0]["groups"].as_array().map(Vec::len), Some(2));
    assert_eq!(out["summaries"]["id"], 3);
}

#[test]
fn summarize_validation() {
    let s = store();
    let e = summarize(
        &s,
        json!({"summary_fields": [{"field": "not_existing_field", "type": "not_possible"}]}),
    )
    .unwrap_err();
    assert_eq!(
        e.source,
        json!({"summary_fields": {"0": {"type": ["type must be one of: record_count, count, sum, maximum, minimum, average, earliest, latest, percentage, status_percentage, status_list, checked, unchecked"]}}})
    );
    for (body, path) in [
        (
            json!({"summary_fields": [{"field": "nope", "type": "count"}]}),
            "/summary_fields/0/field",
        ),
        (
            json!({"summary_fields": [{"field": "code", "type": "sum"}]}),
            "/summary_fields/0/type",
        ),
        (
            json!({"summary_fields": [{"field": "n", "type": "earliest"}]}),
            "/summary_fields/0/type",
        ),
        (
            json!({"summary_fields": [{"field": "n", "type": "checked"}]}),
            "/summary_fields/0/type",
        ),
        (json!({"summary_fields": "id"}), "/summary_fields"),
        (
            json!({"grouping": [{"field": "n", "type": "nope"}]}),
            "/grouping/0/type",
        ),
        (
            json!({"grouping": [{"field": "code", "type": "tens"}]}),
            "/grouping/0/type",
        ),
        (
            json!({"grouping": [{"field": "n", "type": "exact", "direction": "up"}]}),
            "/grouping/0/direction",
        ),
        (
            json!({"grouping": [{"field": "nope", "type": "exact"}]}),
            "/grouping/0/field",
        ),
        (
            json!({"options": {"include_archived_projects": "yes"}}),
            "/options/include_archived_projects",
        ),
        (
            json!({"filters": [["nope", "is", 1]]}),
            "/CustomEntity01.nope",
        ),
        (json!({"filters": [["n", "is", "x"]]}), "/filters/0/values"),
    ] {
        let e = summarize(&s, body.clone()).unwrap_err();
        assert!(e.source.pointer(path).is_some(), "{body}: {}", e.source);
    }
}

#[test]
fn text_search_matches_display_names() {
    let s = store();
    let run = |body: Value| -> Result<Vec<(String, i64)>, QueryError> {
        let q = text::parse(&s, &body, FilterSyntax::Any, now())?;
        text::run(&s, &q)
    };
    assert_eq!(
        run(json!({"text": "ALP", "entity_types": {T: []}})).unwrap(),
        vec![(T.to_string(), 1)]
    );
    assert_eq!(
        run(json!({"text": "a", "entity_types": {T: []}}))
            .unwrap_err()
            .source,
        json!({"text": ["text must be at least 3 characters long"]})
    );
    let hits = run(json!({"text": "010", "entity_types": {"Shot": [], "Asset": []}})).unwrap();
    assert_eq!(hits, vec![("Shot".to_string(), 1)]);
    let hits =
        run(json!({"text": "eta", "entity_types": {T: [["n", "is", 20]], "Asset": []}})).unwrap();
    assert_eq!(hits, vec![(T.to_string(), 2)]);
    let hits = run(json!({"text": "a r", "entity_types": {T: {"conditions": []}}, "sort": "-id"}))
        .unwrap();
    assert_eq!(hits, vec![(T.to_string(), 3)]);
    for (body, path) in [
        (json!({"text": "abc"}), "/entity_types"),
        (
            json!({"text": "abc", "entity_types": {"Nope": []}}),
            "/entity_types/Nope",
        ),
        (
            json!({"text": "abc", "entity_types": {T: [["nope", "is", 1]]}}),
            "/CustomEntity01.nope",
        ),
        (
            json!({"text": "abc", "entity_types": {T: [["n", "is", "x"]]}}),
            "/entity_types/CustomEntity01/0/values",
        ),
        (
            json!({"text": "abc", "entity_types": {T: []}, "sort": "nope"}),
            "/sort",
        ),
        (
            json!({"text": "abc", "entity_types": {T: []}, "page": {"size": 0}}),
            "/page/size",
        ),
        (json!({"text": 5, "entity_types": {T: []}}), "/text"),
    ] {
        let e = run(body.clone()).unwrap_err();
        assert!(e.source.pointer(path).is_some(), "{body}: {}", e.source);
    }
}

/// Pages of a two-key sort over a table large enough for cached columns, checked
/// against a plain full sort: negative, signed-zero, nearly equal and null numbers,
/// mixed-case texts, ties broken by id, with and without the column cache.
#[test]
fn sorted_pages_match_a_full_sort() {
    let mut s = Store::new();
    s.define_field(T, "f", FieldKind::Float).unwrap();
    let near = 1.0 + f64::EPSILON;
    let mut expect: Vec<(Option<f64>, String, i64)> = Vec::new();
    let mut seed = 7u64;
    for _ in 0..2500 {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let f = match (seed >> 33) % 9 {
            0 => None,
            1 => Some(-0.0),
            2 => Some(0.0),
            3 => Some(1.0),
            4 => Some(near),
            5 => Some(-2.5),
            6 => Some(1e300),
            _ => Some(((seed >> 40) % 50) as f64 - 25.0),
        };
        let code = format!(
            "{}{}",
            ["a", "B", "b", "A"][((seed >> 20) % 4) as usize],
            (seed >> 50) % 30
        );
        let id = s
            .insert(T, obj(json!({"f": f, "code": code.clone()})))
            .unwrap();
        expect.push((f, code, id));
    }
    let cmp_f = |a: &Option<f64>, b: &Option<f64>| match (a, b) {
        (Some(x), Some(y)) => x.partial_cmp(y).unwrap(),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    };
    let cmp_code = |a: &String, b: &String| a.to_lowercase().cmp(&b.to_lowercase()).then(a.cmp(b));
    let cache = super::cache::Cache::new();
    for (sort, desc_f, desc_code) in [
        ("f,code", false, false),
        ("-f,code", true, false),
        ("-f,-code", true, true),
        ("code,-f", true, false),
    ] {
        let mut want = expect.clone();
        want.sort_by(|a, b| {
            let (kf, kc) = (cmp_f(&a.0, &b.0), cmp_code(&a.1, &b.1));
            let kf = if desc_f { kf.reverse() } else { kf };
            let kc = if desc_code { kc.reverse() } else { kc };
            let keys = if sort.starts_with("code") {
                kc.then(kf)
            } else {
                kf.then(kc)
            };
            keys.then(a.2.cmp(&b.2))
        });
        let want: Vec<i64> = want.iter().map(|r| r.2).collect();
        for size in [1, 7, 100, 999, 2500, 5000] {
            for number in [1, 2, 3, 9] {
                let page = Page { number, size };
                let q = ListQuery {
                    entity_type: T,
                    filter: Filter::all(&s),
                    sort: parse_sort(&s, T, sort).unwrap(),
                    page,
                    return_only: ReturnOnly::Active,
                    include_archived_projects: true,
                };
                let cols = cache.columns(&s, 0, T, list::fields_read(&q));
                assert!(cols.get("f").is_some());
                let expected: Vec<i64> = want
                    .iter()
                    .copied()
                    .skip(page.offset())
                    .take(size)
                    .collect();
                assert_eq!(list::run(&s, &q).unwrap(), expected, "{sort} {page:?}");
                assert_eq!(
                    list::run_with(&s, &q, &cols).unwrap(),
                    expected,
                    "{sort} {page:?} cached"
                );
            }
        }
    }
}

/// Id order needs no sort: a first key `id` (or `-id`) on the record itself, or no
/// keys. A path ending in `id` through a link is a sort like any other.
#[test]
fn id_order_is_recognised_only_for_the_records_own_id() {
    let s = store();
    let order = |sort: &str| list::id_order(&parse_sort(&s, T, sort).unwrap());
    assert_eq!(order(""), Some(false));
    assert_eq!(order("id"), Some(false));
    assert_eq!(order("+id,-code"), Some(false));
    assert_eq!(order("-id"), Some(true));
    assert_eq!(order("-id,code"), Some(true));
    assert_eq!(order("code,id"), None);
    assert_eq!(order("n"), None);
    assert_eq!(order("project.Project.id"), None);
    assert_eq!(order("-project.Project.id"), None);
}

/// The id-order scan (stopping at the end of its page) finds the page a full sort
/// finds, for every page, with filters, retired records and archived projects, with
/// and without cached columns.
#[test]
fn id_order_pages_match_the_sorted_pages() {
    let mut s = Store::new();
    s.define_field(T, "n", FieldKind::Number).unwrap();
    s.define_field(T, "project", FieldKind::Entity).unwrap();
    s.define_field("Project", "archived", FieldKind::Checkbox)
        .unwrap();
    s.insert("Project", obj(json!({"name": "Live", "archived": false})))
        .unwrap();
    s.insert("Project", obj(json!({"name": "Old", "archived": true})))
        .unwrap();
    for i in 0..2300i64 {
        let id = s
            .insert(
                T,
                obj(json!({"n": (i * 37) % 11, "project": {"type": "Project", "id": 1 + i % 3 / 2}})),
            )
            .unwrap();
        if i % 7 == 3 {
            s.retire(T, id).unwrap();
        }
    }
    let cache = super::cache::Cache::new();
    let filters = [
        json!([]),
        json!([["n", "less_than", 4]]),
        json!([["n", "is", 99]]),
    ];
    for f in &filters {
        for sort in ["id", "-id", "", "-id,n"] {
            for return_only in [ReturnOnly::Active, ReturnOnly::Retired] {
                for include_archived_projects in [false, true] {
                    for (number, size) in [
                        (1, 1),
                        (2, 7),
                        (1, 500),
                        (3, 500),
                        (5, 500),
                        (9, 300),
                        (40, 500),
                        (1, 5000),
                    ] {
                        let q = ListQuery {
                            entity_type: T,
                            filter: compile(&s, f, FilterSyntax::Any).unwrap(),
                            sort: parse_sort(&s, T, sort).unwrap(),
                            page: Page { number, size },
                            return_only,
                            include_archived_projects,
                        };
                        let cols = cache.columns(&s, 0, T, list::fields_read(&q));
                        for cols in [&cols, &Default::default()] {
                            let ids = |rows: Vec<(usize, &crate::model::Record)>| {
                                rows.iter().map(|(row, r)| (*row, r.id)).collect::<Vec<_>>()
                            };
                            let fast = ids(list::run_rows_with(&s, &q, cols).unwrap());
                            let slow = ids(list::run_rows_sorted(&s, &q, cols).unwrap());
                            assert_eq!(fast, slow, "{f} {sort:?} {return_only:?} {include_archived_projects} {number}/{size}");
                        }
                    }
                }
            }
        }
    }
    // Not a page of nothing: the cases above found records.
    let q = ListQuery {
        entity_type: T,
        filter: Filter::all(&s),
        sort: parse_sort(&s, T, "-id").unwrap(),
        page: Page { number: 1, size: 3 },
        return_only: ReturnOnly::Active,
        include_archived_projects: false,
    };
    let got: Vec<i64> = list::run_rows_with(&s, &q, &Default::default())
        .unwrap()
        .iter()
        .map(|(_, r)| r.id)
        .collect();
    // Ids of T are 1..=2300 (id = i + 1): 2300 is retired (2299 % 7 == 3), 2298 is in
    // the archived project (2297 % 3 == 2); 2299, 2297 and 2296 are live.
    assert_eq!(got, vec![2299, 2297, 2296]);
}
