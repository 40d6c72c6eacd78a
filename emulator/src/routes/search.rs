//! Read-many routes: list, `_search`, `_text_search`, `_summarize`.
//!
//! - `GET /api/v1/entity/{entity}`: `filter[field]=v` (comma list → `in`), `fields`
//!   (`*` = all; absent = the type's display field), `sort=a,-b`, `page[number]`,
//!   `page[size]` (default 500, 1..=5000), `options[return_only]=active|retired`,
//!   `options[include_archived_projects]=true|false` (default false: records whose
//!   `project` is archived are hidden).
//! - `POST /api/v1/entity/{entity}/_search`: body `{"filters": …}`; Content-Type
//!   `application/vnd+shotgun.api3_array+json` for a list of conditions or
//!   `application/vnd+shotgun.api3_hash+json` for `{logical_operator, conditions}`
//!   (anything else → 415; a filter of the other shape → 400). `fields`, `sort`,
//!   `page` and `options` may be in the query string or, as real sites also accept, in
//!   the body; the query string wins.
//! - `POST /api/v1/entity/_text_search`: `{text, entity_types:{Type: filters}, sort,
//!   page}` with the same Content-Types; records come back as `{type, attributes:
//!   {name}, relationships:{}, id, links}`.
//! - `POST /api/v1/entity/{entity}/_summarize`: `{filters?, summary_fields, grouping?,
//!   options?}` with the same Content-Types → `{"data":{"summaries","groups"}}`.
//!
//! List responses are `{"data":[…],"links":{"self","next"[,"prev"]}}` as real sites
//! send them: `self` is the request path and query as sent; `next` is always present
//! (even on a short or empty last page); `prev` only after page 1; both carry the
//! query-string parameters sorted by name, escaped like Rails' `to_query`.

use std::borrow::Cow;
use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::Utc;
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::errors::{json_response, ApiError, JSON_CONTENT_TYPE};
use crate::http::{AppState, Authenticated};
use crate::model::schema::display_field;
use crate::model::store::FieldValueRef;
use crate::model::{FieldSelection, ReturnOnly, Store};
use crate::query::list::{self, parse_sort, ListQuery, Page};
use crate::query::{summarize, text, Filter, FilterSyntax, QueryError, SourcePath};

/// Content-Type of array filters.
pub const ARRAY_CONTENT_TYPE: &str = "application/vnd+shotgun.api3_array+json";
/// Content-Type of hash filters.
pub const HASH_CONTENT_TYPE: &str = "application/vnd+shotgun.api3_hash+json";

/// The read-many routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/entity/{entity}", get(list_records))
        .route("/api/v1/entity/{entity}/_search", post(search_records))
        .route(
            "/api/v1/entity/{entity}/_summarize",
            post(summarize_records),
        )
        .route("/api/v1/entity/_text_search", post(text_search))
}

// ---------------------------------------------------------------------------------------
// Parameters

/// Query-string pairs in order (every occurrence).
fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// Query-string parameters by name, first occurrence wins.
fn first_wins(pairs: &[(String, String)]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (k, v) in pairs {
        out.entry(k.clone()).or_insert_with(|| v.clone());
    }
    out
}

/// Escapes like Ruby's `CGI.escape` (what Rails' `to_query` uses).
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `path?k=v&…` with the parameters sorted by name and the page set.
fn page_link(path: &str, params: &BTreeMap<String, String>, number: usize, size: usize) -> String {
    let mut p = params.clone();
    p.insert("page[number]".into(), number.to_string());
    p.insert("page[size]".into(), size.to_string());
    let q: Vec<String> = p
        .iter()
        .map(|(k, v)| format!("{}={}", escape(k), escape(v)))
        .collect();
    format!("{path}?{}", q.join("&"))
}

/// Options shared by list-like reads.
struct ReadOpts {
    selection: FieldSelection,
    page: Page,
    return_only: ReturnOnly,
    include_archived_projects: bool,
    sort: Option<String>,
}

fn str_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => Some(
            items
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(","),
        ),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn default_selection(entity_type: &str) -> FieldSelection {
    FieldSelection::Only(vec![display_field(entity_type).to_string()])
}

impl ReadOpts {
    /// From the query string, falling back to the body's `fields`, `sort`, `page` and
    /// `options`.
    fn new(
        entity_type: &str,
        params: &BTreeMap<String, String>,
        body: Option<&Map<String, Value>>,
    ) -> Result<ReadOpts, QueryError> {
        let from_body = |k: &str| body.and_then(|b| b.get(k));
        let body_sub = |k: &str, sub: &str| {
            from_body(k)
                .and_then(Value::as_object)
                .and_then(|o| o.get(sub))
                .cloned()
        };
        let fields = params
            .get("fields")
            .cloned()
            .or_else(|| from_body("fields").and_then(str_of));
        let selection = match fields {
            None => default_selection(entity_type),
            Some(f) => FieldSelection::parse(Some(&f)),
        };
        let sort = params
            .get("sort")
            .cloned()
            .or_else(|| from_body("sort").and_then(str_of));
        let pick = |q: &str, k: &str, sub: &str| -> Option<Value> {
            params
                .get(q)
                .map(|s| Value::String(s.clone()))
                .or_else(|| body_sub(k, sub))
        };
        let page = Page::parse(
            pick("page[number]", "page", "number").as_ref(),
            pick("page[size]", "page", "size").as_ref(),
        )?;
        let options = SourcePath::root("options");
        let return_only = match pick("options[return_only]", "options", "return_only") {
            None | Some(Value::Null) => ReturnOnly::Active,
            Some(Value::String(s)) if s == "active" => ReturnOnly::Active,
            Some(Value::String(s)) if s == "retired" => ReturnOnly::Retired,
            Some(_) => {
                return Err(QueryError::invalid(
                    &options,
                    "return_only",
                    "return_only must be one of: active, retired",
                ))
            }
        };
        let include_archived_projects = match pick(
            "options[include_archived_projects]",
            "options",
            "include_archived_projects",
        ) {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => b,
            Some(Value::String(s)) if s == "true" => true,
            Some(Value::String(s)) if s == "false" => false,
            Some(_) => {
                return Err(QueryError::invalid(
                    &options,
                    "include_archived_projects",
                    "include_archived_projects must be true or false",
                ))
            }
        };
        Ok(ReadOpts {
            selection,
            page,
            return_only,
            include_archived_projects,
            sort,
        })
    }
}

/// The filter syntax a Content-Type declares; anything else is 415.
fn filter_syntax(headers: &HeaderMap) -> Result<FilterSyntax, ApiError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match mime.as_str() {
        ARRAY_CONTENT_TYPE => Ok(FilterSyntax::Array),
        HASH_CONTENT_TYPE => Ok(FilterSyntax::Hash),
        _ => Err(ApiError::from_status(StatusCode::UNSUPPORTED_MEDIA_TYPE).with_detail(format!(
            "Content-Type must be {ARRAY_CONTENT_TYPE} (array filters) or {HASH_CONTENT_TYPE} (hash filters)"
        ))),
    }
}

/// Parses a JSON object body.
fn json_body(body: &Bytes) -> Result<Map<String, Value>, ApiError> {
    if body.is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(ApiError::invalid_params(
            json!({"body": ["the body must be a JSON object"]}),
        )),
        Err(e) => Err(
            ApiError::invalid_params(json!({"body": [format!("malformed JSON: {e}")]}))
                .with_detail("The request body is not valid JSON."),
        ),
    }
}

// ---------------------------------------------------------------------------------------
// Rendering: each record exactly as reading one record renders it
// ([`crate::render`]), written into the response one at a time.

#[derive(Serialize)]
struct PageLinks {
    #[serde(rename = "self")]
    self_: String,
    next: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    prev: Option<String>,
}

/// Rough bytes per rendered record, to size the buffers once.
const RECORD_BYTES_HINT: usize = 512;

fn internal(e: serde_json::Error) -> ApiError {
    ApiError::from_status(StatusCode::INTERNAL_SERVER_ERROR).with_detail(e.to_string())
}

/// A buffer sized for `records` records, holding `{"data":[`.
fn open_list(records: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(records * RECORD_BYTES_HINT + 1024);
    out.extend_from_slice(b"{\"data\":[");
    out
}

/// Ends the list opened by [`open_list`] with its `links`.
fn close_list(mut out: Vec<u8>, links: &PageLinks) -> Result<Vec<u8>, ApiError> {
    out.extend_from_slice(b"],\"links\":");
    serde_json::to_writer(&mut out, links).map_err(internal)?;
    out.push(b'}');
    Ok(out)
}

fn json_bytes(body: Vec<u8>) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, JSON_CONTENT_TYPE)],
        body,
    )
        .into_response()
}

fn self_link(uri: &axum::http::Uri) -> String {
    uri.path_and_query()
        .map(|pq| pq.as_str().to_string())
        .unwrap_or_else(|| uri.path().to_string())
}

fn page_links(uri: &axum::http::Uri, params: &BTreeMap<String, String>, page: Page) -> PageLinks {
    PageLinks {
        self_: self_link(uri),
        next: page_link(uri.path(), params, page.number.saturating_add(1), page.size),
        prev: (page.number > 1).then(|| page_link(uri.path(), params, page.number - 1, page.size)),
    }
}

// ---------------------------------------------------------------------------------------
// List and search

/// Runs a list query under the store lock and renders the page.
fn read_page(
    store: &Store,
    cache: (&crate::query::cache::Cache, u64),
    entity_type: &str,
    filter: Filter<'_>,
    opts: &ReadOpts,
    links: &PageLinks,
) -> Result<Vec<u8>, ApiError> {
    let sort = match &opts.sort {
        Some(s) => parse_sort(store, entity_type, s)?,
        None => Vec::new(),
    };
    let q = ListQuery {
        entity_type,
        filter,
        sort,
        page: opts.page,
        return_only: opts.return_only,
        include_archived_projects: opts.include_archived_projects,
    };
    let cols = cache
        .0
        .columns(store, cache.1, entity_type, list::fields_read(&q));
    let rows = page_rows(store, cache, &q, &cols)?;
    // The page's values come from the columns the query loaded where it has them
    // (the filter's and sort's fields): one slot per value instead of a search of each
    // record's field map.
    let plan = store
        .read_plan(entity_type, &opts.selection)?
        .with_columns(|f| cols.get(f));
    let mut out = open_list(rows.len());
    crate::render::RecordWriter::new().write_rows(&mut out, &plan, &rows)?;
    close_list(out, links)
}

/// The rows of the page `q` asks for. With the cache's shortcuts on (the default), an
/// unfiltered read's rows come from the list kept for its sort until the next write
/// (each page a slice of it), and id order is read without sorting; otherwise every
/// matching row is sorted.
fn page_rows<'s>(
    store: &'s Store,
    (cache, generation): (&crate::query::cache::Cache, u64),
    q: &ListQuery<'s>,
    cols: &crate::query::cache::ColumnSet,
) -> Result<Vec<(usize, &'s crate::model::Record)>, QueryError> {
    if !cache.shortcuts() {
        return list::run_rows_sorted(store, q, cols);
    }
    if !q.filter.is_trivial() {
        return list::run_rows_with(store, q, cols);
    }
    let table = store.table(q.entity_type).map_err(|_| {
        QueryError::invalid(&SourcePath::default(), "entity", "entity is not valid")
    })?;
    let key = crate::query::cache::OrderKey {
        entity_type: q.entity_type.to_string(),
        // The keys as parsed (`+code` and `code` are one order).
        sort: q
            .sort
            .iter()
            .map(|s| format!("{}{}", if s.desc { "-" } else { "" }, s.path.raw))
            .collect::<Vec<_>>()
            .join(","),
        retired: q.return_only == ReturnOnly::Retired,
        include_archived_projects: q.include_archived_projects,
    };
    let order = cache.ordered_rows(generation, table.records.len(), key, || {
        list::ordered_rows(store, q, cols)
    })?;
    let page = order
        .get(q.page.offset().min(order.len())..)
        .unwrap_or_default()
        .iter()
        .take(q.page.size);
    let mut rows = Vec::with_capacity(q.page.size.min(order.len()));
    for &(row, id) in page {
        match table.records.get(&id) {
            Some(r) => rows.push((row, r)),
            // Cannot happen while the generation holds; never serve a partial page.
            None => return list::run_rows_sorted(store, q, cols),
        }
    }
    Ok(rows)
}

/// `GET /api/v1/entity/{entity}`.
async fn list_records(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(entity): Path<String>,
    OriginalUri(uri): OriginalUri,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let pairs = query_pairs(query.as_deref());
    let params = first_wins(&pairs);
    let mut seen = std::collections::HashSet::new();
    let filters: Vec<(String, String)> = pairs
        .iter()
        .filter_map(|(k, v)| {
            let f = k.strip_prefix("filter[")?.strip_suffix(']')?;
            seen.insert(f.to_string())
                .then(|| (f.to_string(), v.clone()))
        })
        .collect();
    let body = {
        let store = state.backend.store();
        let entity_type = store.resolve_type(&entity)?;
        let opts = ReadOpts::new(&entity_type, &params, None)?;
        let filter = Filter::from_query(&store, &entity_type, &filters, Utc::now())?;
        let cache = (state.backend.query_cache(), state.backend.generation());
        let links = page_links(&uri, &params, opts.page);
        read_page(&store, cache, &entity_type, filter, &opts, &links)?
    };
    Ok(json_bytes(body))
}

/// `POST /api/v1/entity/{entity}/_search`.
async fn search_records(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(entity): Path<String>,
    OriginalUri(uri): OriginalUri,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let syntax = filter_syntax(&headers)?;
    let body = json_body(&body)?;
    let params = first_wins(&query_pairs(query.as_deref()));
    let body = {
        let store = state.backend.store();
        let entity_type = store.resolve_type(&entity)?;
        let opts = ReadOpts::new(&entity_type, &params, Some(&body))?;
        let filter = match body.get("filters") {
            None => Filter::all(&store),
            Some(f) => Filter::parse(
                &store,
                &entity_type,
                f,
                syntax,
                &SourcePath::root("filters"),
                Utc::now(),
            )?,
        };
        let cache = (state.backend.query_cache(), state.backend.generation());
        let links = page_links(&uri, &params, opts.page);
        read_page(&store, cache, &entity_type, filter, &opts, &links)?
    };
    Ok(json_bytes(body))
}

/// `POST /api/v1/entity/_text_search`.
async fn text_search(
    _auth: Authenticated,
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let syntax = filter_syntax(&headers)?;
    let body = Value::Object(json_body(&body)?);
    let params = first_wins(&query_pairs(query.as_deref()));
    let body = {
        let store = state.backend.store();
        let q = text::parse(&store, &body, syntax, Utc::now())?;
        let hits = text::run(&store, &q)?;
        let mut out = open_list(hits.len());
        let mut writer = crate::render::RecordWriter::new();
        for (i, (entity_type, id)) in hits.into_iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            // A hit is rendered like a read of the record with only `name`: its
            // display name (null when it has none).
            let name = store
                .display_name(&entity_type, id)
                .map_or(Value::Null, Value::String);
            let fields = [("name", FieldValueRef::Attribute(Cow::Owned(name)))];
            writer.write(&mut out, &entity_type, id, &fields)?;
        }
        close_list(out, &page_links(&uri, &params, q.page))?
    };
    Ok(json_bytes(body))
}

/// `POST /api/v1/entity/{entity}/_summarize`.
async fn summarize_records(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(entity): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let syntax = filter_syntax(&headers)?;
    let body = Value::Object(json_body(&body)?);
    let data = {
        let store = state.backend.store();
        let entity_type = store.resolve_type(&entity)?;
        let q = summarize::parse(&store, &entity_type, &body, syntax, Utc::now())?;
        summarize::run(&store, &q)?
    };
    Ok(json_response(StatusCode::OK, &json!({ "data": data })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_rails() {
        assert_eq!(escape("page[number]"), "page%5Bnumber%5D");
        assert_eq!(escape("*"), "%2A");
        assert_eq!(escape("a b,c"), "a+b%2Cc");
        let mut p = BTreeMap::new();
        p.insert("sort".to_string(), "code".to_string());
        p.insert("fields".to_string(), "*".to_string());
        assert_eq!(
            page_link("/api/v1/entity/Asset", &p, 3, 1),
            "/api/v1/entity/Asset?fields=%2A&page%5Bnumber%5D=3&page%5Bsize%5D=1&sort=code"
        );
    }
}
