//! `_text_search`: records of several types whose display name contains the text.
//!
//! Matching is a case-insensitive substring test on each type's display field (`code`,
//! `name`, `content`…). Results of all types are merged, sorted by `sort` (default:
//! type in request order, then id) and paged.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::filter::{Filter, FilterSyntax};
use super::list::{self, Page, SortSpec};
use super::path::FieldPath;
use super::{QueryError, SourcePath};
use crate::model::schema::display_field;
use crate::model::{ReturnOnly, Store};

/// Shortest accepted search text.
pub const MIN_TEXT_LEN: usize = 3;

/// A parsed text search.
#[derive(Debug, Clone)]
pub struct TextQuery<'s> {
    /// Lower-cased search text.
    pub text: String,
    /// Canonical types with their filters, in request order.
    pub types: Vec<(String, Filter<'s>)>,
    /// Sort keys as written (`-id`, `code`…).
    pub sort: Vec<(String, bool)>,
    /// Which page.
    pub page: Page,
}

/// Parses `{text, entity_types:{Type: filters}, sort, page}`.
pub fn parse<'s>(
    store: &'s Store,
    body: &Value,
    syntax: FilterSyntax,
    now: DateTime<Utc>,
) -> Result<TextQuery<'s>, QueryError> {
    let top = SourcePath::default();
    let obj = body
        .as_object()
        .ok_or_else(|| QueryError::invalid(&top, "body", "the body must be a JSON object"))?;
    let text = match obj.get("text") {
        Some(Value::String(s)) if s.trim().chars().count() >= MIN_TEXT_LEN => {
            s.trim().to_lowercase()
        }
        Some(Value::String(_)) | None | Some(Value::Null) => {
            return Err(QueryError::invalid(
                &top,
                "text",
                format!("text must be at least {MIN_TEXT_LEN} characters long"),
            ))
        }
        Some(_) => return Err(QueryError::invalid(&top, "text", "text must be a string")),
    };
    let types_obj = match obj.get("entity_types") {
        Some(Value::Object(m)) if !m.is_empty() => m,
        _ => {
            return Err(QueryError::invalid(
                &top,
                "entity_types",
                "entity_types must be a non-empty object {EntityType: filters}",
            ))
        }
    };
    let at = SourcePath::root("entity_types");
    let mut types = Vec::new();
    for (name, filters) in types_obj {
        let canonical = store.resolve_type(name).map_err(|_| {
            QueryError::invalid(&at, name, format!("{name} is not a valid entity type"))
        })?;
        let filter = Filter::parse(store, &canonical, filters, syntax, &at.push(name), now)?;
        types.push((canonical, filter));
    }
    let sort = match obj.get("sort") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(s)) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| match s.strip_prefix('-') {
                Some(n) => (n.to_string(), true),
                None => (s.to_string(), false),
            })
            .collect(),
        Some(_) => {
            return Err(QueryError::invalid(
                &top,
                "sort",
                "sort must be a comma-separated string",
            ))
        }
    };
    for (field, _) in &sort {
        let known = types
            .iter()
            .any(|(t, _)| FieldPath::resolve(store, t, field).is_ok());
        if !known {
            return Err(QueryError::invalid(
                &top,
                "sort",
                format!("{field} is not a field of the searched types"),
            ));
        }
    }
    let page = match obj.get("page") {
        None | Some(Value::Null) => Page::default(),
        Some(Value::Object(p)) => Page::parse(p.get("number"), p.get("size"))?,
        Some(_) => {
            return Err(QueryError::invalid(
                &top,
                "page",
                "page must be an object {number, size}",
            ))
        }
    };
    Ok(TextQuery {
        text,
        types,
        sort,
        page,
    })
}

/// Runs the search: `(type, id)` of the requested page, in order.
pub fn run(store: &Store, q: &TextQuery<'_>) -> Result<Vec<(String, i64)>, QueryError> {
    let mut hits: Vec<(usize, &str, &crate::model::Record)> = Vec::new();
    for (i, (t, filter)) in q.types.iter().enumerate() {
        let display = display_field(t);
        for r in list::matching(store, t, filter, ReturnOnly::Active, false)? {
            let name = r.fields.get(display).and_then(Value::as_str).unwrap_or("");
            if name.to_lowercase().contains(&q.text) {
                hits.push((i, t.as_str(), r));
            }
        }
    }
    if !q.sort.is_empty() {
        // Sort each key across types: resolve the key per type, missing fields are null.
        let specs: Vec<Vec<Option<SortSpec<'_>>>> = q
            .types
            .iter()
            .map(|(t, _)| {
                q.sort
                    .iter()
                    .map(|(f, desc)| {
                        FieldPath::resolve(store, t, f)
                            .ok()
                            .map(|path| SortSpec { path, desc: *desc })
                    })
                    .collect()
            })
            .collect();
        hits.sort_by(|a, b| {
            for (k, (_, desc)) in q.sort.iter().enumerate() {
                let o = list::compare_records(
                    store,
                    specs[a.0][k].as_ref(),
                    a.2,
                    specs[b.0][k].as_ref(),
                    b.2,
                );
                let o = if *desc { o.reverse() } else { o };
                if o != std::cmp::Ordering::Equal {
                    return o;
                }
            }
            std::cmp::Ordering::Equal
        });
    }
    Ok(hits
        .into_iter()
        .skip(q.page.offset())
        .take(q.page.size)
        .map(|(_, t, r)| (t.to_string(), r.id))
        .collect())
}
