//! Webhook routes: `/api/v1/webhook/hooks…` and `/api/v1/webhook/deliveries…`.
//!
//! JSON bodies only (any other Content-Type gets 415). Decisions live in
//! [`crate::model::webhooks`].

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};

use crate::errors::{json_response, ApiError};
use crate::http::{AppState, Authenticated};
use crate::model::webhooks::{DeliveryFilter, DeliveryStatus, HookStatus, WebhookError};

/// The webhook routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/webhook/hooks", get(list_hooks).post(create_hook))
        .route(
            "/api/v1/webhook/hooks/{hook_id}",
            get(get_hook).put(update_hook).delete(delete_hook),
        )
        .route(
            "/api/v1/webhook/hooks/{hook_id}/deliveries",
            get(list_deliveries),
        )
        .route(
            "/api/v1/webhook/deliveries/{delivery_id}",
            get(get_delivery).put(acknowledge),
        )
        .route(
            "/api/v1/webhook/deliveries/{delivery_id}/redeliver",
            post(redeliver),
        )
}

impl From<WebhookError> for ApiError {
    fn from(e: WebhookError) -> Self {
        match e {
            WebhookError::HookNotFound(id) => {
                ApiError::not_found(format!("Webhook: {id} not found"))
            }
            WebhookError::DeliveryNotFound(id) => {
                ApiError::not_found(format!("Delivery: {id} not found"))
            }
            WebhookError::Invalid { param, message } => invalid(&param, &message),
            WebhookError::Persist(e) => crate::model::ModelError::Persist(e).into(),
        }
    }
}

/// 400, code 103, with `source: {param: [message]}`.
pub(crate) fn invalid(param: &str, message: &str) -> ApiError {
    let mut source = serde_json::Map::new();
    source.insert(param.to_string(), json!([message]));
    ApiError::invalid_params(Value::Object(source))
}

/// Parses a JSON request body: the Content-Type must be `application/json` (415
/// otherwise) and the body a JSON document (400, code 103, otherwise). An empty body
/// reads as `{}`.
pub(crate) fn json_body(headers: &HeaderMap, body: &[u8]) -> Result<Value, ApiError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
    if !is_json {
        return Err(ApiError::from_status(StatusCode::UNSUPPORTED_MEDIA_TYPE));
    }
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(body).map_err(|_| invalid("body", "the body is not valid JSON"))
}

/// Query pairs in order (all occurrences).
pub(crate) fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The first value of a query parameter.
pub(crate) fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// An optional integer query parameter (400 naming it when not an integer).
pub(crate) fn int_param(pairs: &[(String, String)], name: &str) -> Result<Option<i64>, ApiError> {
    param(pairs, name)
        .map(|v| {
            v.trim()
                .parse::<i64>()
                .map_err(|_| invalid(name, &format!("{name} must be an integer")))
        })
        .transpose()
}

/// `page[number]` (≥ 1, default 1) and `page[size]` (1..=5000, default 500).
fn page(pairs: &[(String, String)]) -> Result<(usize, usize), ApiError> {
    let bad = |m: &str| ApiError::invalid_params(json!({"page": [m]}));
    let number = match param(pairs, "page[number]") {
        None => 1,
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| bad("page[number] must be a positive integer"))?,
    };
    let size = match param(pairs, "page[size]") {
        None => 500,
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=5000).contains(n))
            .ok_or_else(|| bad("page[size] must be between 1 and 5000"))?,
    };
    Ok((number, size))
}

/// Renders one page of items with `links.self`, and `next`/`prev` where they exist.
fn paged(
    uri: &axum::http::Uri,
    pairs: &[(String, String)],
    items: Vec<Value>,
) -> Result<Response, ApiError> {
    let (number, size) = page(pairs)?;
    let total = items.len();
    let start = (number - 1).saturating_mul(size).min(total);
    let end = start.saturating_add(size).min(total);
    let data: Vec<Value> = items.into_iter().skip(start).take(end - start).collect();
    let link = |n: usize| {
        let mut ser = form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs.iter().filter(|(k, _)| !k.starts_with("page[")) {
            ser.append_pair(k, v);
        }
        ser.append_pair("page[number]", &n.to_string());
        ser.append_pair("page[size]", &size.to_string());
        format!("{}?{}", uri.path(), ser.finish())
    };
    let mut links = serde_json::Map::new();
    links.insert("self".into(), json!(link(number)));
    if end < total {
        links.insert("next".into(), json!(link(number + 1)));
    }
    if number > 1 {
        links.insert("prev".into(), json!(link(number - 1)));
    }
    Ok(json_response(
        StatusCode::OK,
        &json!({"data": data, "links": links}),
    ))
}

fn resolver(state: &AppState) -> impl Fn(&str) -> Option<String> + '_ {
    move |t: &str| state.backend.store().resolve_type(t).ok()
}

fn hook_doc(hook: Value, id: &str) -> Value {
    json!({"data": hook, "links": {"self": format!("/api/v1/webhook/hooks/{id}")}})
}

/// `GET /webhook/hooks?status=&url=&page[…]`.
async fn list_hooks(
    _auth: Authenticated,
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let pairs = query_pairs(query.as_deref());
    let status = match param(&pairs, "status") {
        None => None,
        Some(s) => Some(HookStatus::parse(s).ok_or_else(|| {
            invalid(
                "status",
                "status must be one of: active, unstable, failed, disabled",
            )
        })?),
    };
    let items: Vec<Value> = state
        .backend
        .webhooks()
        .list(status, param(&pairs, "url"))
        .into_iter()
        .map(|h| h.to_json())
        .collect();
    paged(&uri, &pairs, items)
}

/// `POST /webhook/hooks` → 201 with the new hook.
async fn create_hook(
    _auth: Authenticated,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body = json_body(&headers, &body)?;
    // Resolve entity types before taking the webhooks lock (store, then webhooks).
    let types: Vec<(String, Option<String>)> = body
        .get("entity_types")
        .and_then(Value::as_object)
        .map(|o| o.keys().map(|k| (k.clone(), resolver(&state)(k))).collect())
        .unwrap_or_default();
    let resolve = |t: &str| {
        types
            .iter()
            .find(|(k, _)| k == t)
            .and_then(|(_, c)| c.clone())
    };
    let last_event = last_event_id(&state);
    let (doc, id) = state.backend.change_webhooks(|hooks| {
        let (doc, id) = {
            let hook = hooks.create(&body, &resolve)?;
            (hook.to_json(), hook.id.clone())
        };
        hooks.set_after_event(&id, last_event);
        Ok((doc, id))
    })?;
    Ok(json_response(StatusCode::CREATED, &hook_doc(doc, &id)))
}

/// The id of the latest EventLogEntry (0 when there is none).
fn last_event_id(state: &AppState) -> i64 {
    state
        .backend
        .store()
        .table("EventLogEntry")
        .map_or(0, |t| t.next_id() - 1)
}

/// `GET /webhook/hooks/{hook_id}`.
async fn get_hook(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let hooks = state.backend.webhooks();
    let hook = hooks.get(&id)?;
    Ok(json_response(
        StatusCode::OK,
        &hook_doc(hook.to_json(), &id),
    ))
}

/// `PUT /webhook/hooks/{hook_id}`: change settings; `status` only to active/disabled.
async fn update_hook(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body = json_body(&headers, &body)?;
    let types: Vec<(String, Option<String>)> = body
        .get("entity_types")
        .and_then(Value::as_object)
        .map(|o| o.keys().map(|k| (k.clone(), resolver(&state)(k))).collect())
        .unwrap_or_default();
    let resolve = |t: &str| {
        types
            .iter()
            .find(|(k, _)| k == t)
            .and_then(|(_, c)| c.clone())
    };
    let last_event = last_event_id(&state);
    let doc = state.backend.change_webhooks(|hooks| {
        let was_delivering = hooks.get(&id)?.status.delivers();
        let doc = hooks.update(&id, &body, &resolve)?.to_json();
        // A new subscription, or a hook turned back on, starts from now.
        if body.get("entity_types").is_some() || !was_delivering {
            hooks.set_after_event(&id, last_event);
        }
        Ok(doc)
    })?;
    Ok(json_response(StatusCode::OK, &hook_doc(doc, &id)))
}

/// `DELETE /webhook/hooks/{hook_id}` → 204.
async fn delete_hook(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    state.backend.change_webhooks(|hooks| hooks.delete(&id))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /webhook/hooks/{hook_id}/deliveries` with the reference's filters.
async fn list_deliveries(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let pairs = query_pairs(query.as_deref());
    let status = match param(&pairs, "status") {
        None => None,
        Some("delivered") => Some(DeliveryStatus::Delivered),
        Some("failed") => Some(DeliveryStatus::Failed),
        Some(_) => {
            return Err(invalid(
                "status",
                "status must be one of: delivered, failed",
            ))
        }
    };
    let filter = DeliveryFilter {
        status,
        from: int_param(&pairs, "from")?,
        to: int_param(&pairs, "to")?,
        entity_id: int_param(&pairs, "entity_id")?,
        entity_type: param(&pairs, "entity_type").map(|t| {
            state
                .backend
                .store()
                .resolve_type(t)
                .unwrap_or_else(|_| t.to_string())
        }),
        acknowledgement: param(&pairs, "acknowledgement").map(str::to_string),
    };
    let items: Vec<Value> = state
        .backend
        .webhooks()
        .deliveries(&id, &filter)?
        .into_iter()
        .map(|d| d.to_json())
        .collect();
    paged(&uri, &pairs, items)
}

fn delivery_doc(d: Value, id: &str) -> Value {
    json!({"data": d, "links": {"self": format!("/api/v1/webhook/deliveries/{id}")}})
}

/// `GET /webhook/deliveries/{delivery_id}`.
async fn get_delivery(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let hooks = state.backend.webhooks();
    let d = hooks.delivery(&id)?;
    Ok(json_response(
        StatusCode::OK,
        &delivery_doc(d.to_json(), &id),
    ))
}

/// `PUT /webhook/deliveries/{delivery_id}` with `{"acknowledgement": "…"}` (≤ 4 KB).
async fn acknowledge(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body = json_body(&headers, &body)?;
    let doc = state
        .backend
        .change_webhooks(|hooks| Ok(hooks.acknowledge(&id, &body)?.to_json()))?;
    Ok(json_response(StatusCode::OK, &delivery_doc(doc, &id)))
}

/// `POST /webhook/deliveries/{delivery_id}/redeliver` → 204; sent in the background.
async fn redeliver(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    state.backend.webhooks().redeliver(&id)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
