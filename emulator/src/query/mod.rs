//! The read-many engine: ShotGrid filters, list pages, text search and summaries.
//!
//! Nothing in here knows about HTTP: [`crate::routes::search`] parses requests into the
//! inputs below and renders what comes back. Every function works on a borrowed
//! [`Store`] (the caller holds the read lock) and never clones a table: filters are
//! compiled once per request ([`filter::Filter`]) against the store's tables and then
//! evaluated record by record.
//!
//! Errors are [`QueryError`]s: always HTTP 400, code 103. Their `source` mirrors the
//! JSON path of the offending input, Rails style, with the messages in an array at the
//! leaf, e.g. `{"filters":{"conditions":{"1":{"relation":["…"]}}}}` for the second
//! condition of a hash filter, `{"filters":{"0":{"values":["…"]}}}` for the first of an
//! array filter, `{"filter":{"sg_cut_in":["…"]}}` for a query-string filter,
//! `{"entity_types":{"Shot":{…}}}` for text search. A field that does not exist is
//! reported exactly like a real site: title `API read() Asset.nope doesn't exist.` and
//! source `{"Asset.nope":" does not exist. Value: {\"path\"=>…}"}`.

pub mod cache;
pub mod dates;
pub mod filter;
pub mod list;
pub mod path;
pub mod summarize;
#[cfg(test)]
mod tests_engine;
pub mod text;

use serde_json::{Map, Value};

use crate::errors::ApiError;

pub use filter::{Filter, FilterSyntax};
pub use list::{ListQuery, Page, SortSpec};
pub use path::FieldPath;

/// Default `page[size]`.
pub const DEFAULT_PAGE_SIZE: usize = 500;
/// Largest accepted `page[size]`.
pub const MAX_PAGE_SIZE: usize = 5000;

/// A rejected query: rendered as 400, code 103.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryError {
    /// Error title.
    pub title: String,
    /// Where in the request the problem is (see the module docs).
    pub source: Value,
    /// Optional human explanation.
    pub detail: Option<String>,
}

impl QueryError {
    /// "Request Parameters invalid." with `source` built from `at` and `message`.
    pub fn invalid(at: &SourcePath, key: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        QueryError {
            title: "Request Parameters invalid.".into(),
            source: at.leaf(key, &message),
            detail: Some(message),
        }
    }

    /// The real site's error for a field that does not exist.
    pub fn unknown_field(entity_type: &str, field: &str, condition: &Value) -> Self {
        let name = format!("{entity_type}.{field}");
        let mut source = Map::new();
        source.insert(
            name.clone(),
            Value::String(format!(
                " does not exist. Value: {}",
                ruby_inspect(condition)
            )),
        );
        QueryError {
            title: format!("API read() {name} doesn't exist."),
            source: Value::Object(source),
            detail: None,
        }
    }
}

impl From<QueryError> for ApiError {
    fn from(e: QueryError) -> Self {
        let mut api = ApiError::invalid_params(e.source);
        api.title = e.title;
        if let Some(d) = e.detail {
            api = api.with_detail(d);
        }
        api
    }
}

/// A JSON path into the request, used to build error sources.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourcePath(Vec<String>);

impl SourcePath {
    /// A path starting at a top-level key (`filters`, `filter`, `summary_fields`…).
    pub fn root(key: &str) -> Self {
        SourcePath(vec![key.to_string()])
    }

    /// This path extended by one key (an object key or an array index).
    pub fn push(&self, key: impl ToString) -> Self {
        let mut v = self.0.clone();
        v.push(key.to_string());
        SourcePath(v)
    }

    /// `{"a":{"b":{key:[message]}}}` for the path `a.b`.
    pub fn leaf(&self, key: &str, message: &str) -> Value {
        let mut inner = Map::new();
        inner.insert(
            key.to_string(),
            Value::Array(vec![Value::String(message.to_string())]),
        );
        let mut v = Value::Object(inner);
        for seg in self.0.iter().rev() {
            let mut m = Map::new();
            m.insert(seg.clone(), v);
            v = Value::Object(m);
        }
        v
    }
}

/// Formats a JSON value like Ruby's `inspect` of the parsed value, as real sites do in
/// error messages: `{"path"=>"code", "relation"=>"is", "values"=>["x", 1, nil]}`.
pub fn ruby_inspect(v: &Value) -> String {
    match v {
        Value::Null => "nil".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => serde_json::to_string(s).unwrap_or_default(),
        Value::Array(items) => format!(
            "[{}]",
            items
                .iter()
                .map(ruby_inspect)
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Object(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!(
                    "{}=>{}",
                    serde_json::to_string(k).unwrap_or_default(),
                    ruby_inspect(v)
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Ids of projects whose `archived` checkbox is set (none when the field is absent).
pub fn archived_projects(store: &crate::model::Store) -> std::collections::HashSet<i64> {
    store
        .table("Project")
        .map(|t| {
            t.records
                .values()
                .filter(|r| r.fields.get("archived").and_then(Value::as_bool) == Some(true))
                .map(|r| r.id)
                .collect()
        })
        .unwrap_or_default()
}

/// Whether a record is linked to one of the given archived projects.
pub fn in_archived_project(
    record: &crate::model::Record,
    archived: &std::collections::HashSet<i64>,
) -> bool {
    if archived.is_empty() {
        return false;
    }
    record
        .fields
        .get("project")
        .and_then(|p| p.as_object())
        .filter(|p| p.get("type").and_then(Value::as_str) == Some("Project"))
        .and_then(|p| p.get("id"))
        .and_then(Value::as_i64)
        .is_some_and(|id| archived.contains(&id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn source_paths_nest() {
        let p = SourcePath::root("filters").push("conditions").push(2);
        assert_eq!(
            p.leaf("relation", "bad"),
            json!({"filters": {"conditions": {"2": {"relation": ["bad"]}}}})
        );
    }

    #[test]
    fn ruby_inspect_matches_real_messages() {
        let v = json!({"path": "not_existing_field", "relation": "is", "values": ["NOPE", 1, null, true]});
        assert_eq!(
            ruby_inspect(&v),
            r#"{"path"=>"not_existing_field", "relation"=>"is", "values"=>["NOPE", 1, nil, true]}"#
        );
    }
}
