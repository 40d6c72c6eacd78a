//! Entity writes: create, update, delete, revive, `_batch`, and the relationships
//! endpoint. Handlers parse and render; [`crate::model::writes`] decides.

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Map, Value};

use crate::errors::{json_response, ApiError};
use crate::http::{
    query_params, record_id, render_record, return_only, AppState, Authenticated,
    AuthenticatedSession, API_PREFIX,
};
use crate::model::store::FieldValue;
use crate::model::writes::{ReturnFields, WriteOp, WriteResult};
use crate::model::{EntityRef, FieldSelection};
use crate::naming::url_name;

/// Routes of this area.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/entity/_batch", post(batch))
        .route("/api/v1/entity/{entity}", post(create))
        .route(
            "/api/v1/entity/{entity}/{record_id}",
            post(revive).put(update).delete(delete),
        )
        .route(
            "/api/v1/entity/{entity}/{record_id}/relationships/{field}",
            get(relationships),
        )
}

fn invalid(source: Value) -> ApiError {
    ApiError::invalid_params(source)
}

/// Parses a JSON request body: `Content-Type` must be JSON (else 415), the body valid
/// JSON (else 400, code 103).
pub fn json_body(headers: &HeaderMap, body: &[u8]) -> Result<Value, ApiError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .is_some_and(|v| {
            v == "application/json" || (v.starts_with("application/") && v.ends_with("+json"))
        });
    if !is_json {
        return Err(ApiError::from_status(StatusCode::UNSUPPORTED_MEDIA_TYPE));
    }
    serde_json::from_slice(body)
        .map_err(|e| invalid(json!({"body": [format!("body is not valid JSON: {e}")]})))
}

fn body_object(headers: &HeaderMap, body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match json_body(headers, body)? {
        Value::Object(m) => Ok(m),
        _ => Err(invalid(
            json!({"body": ["body must be a JSON object of field values"]}),
        )),
    }
}

fn options_fields(params: &std::collections::HashMap<String, String>) -> ReturnFields {
    match params.get("options[fields]") {
        Some(raw) => ReturnFields::Select(FieldSelection::parse(Some(raw))),
        None => ReturnFields::Default,
    }
}

fn single(result: &WriteResult, status: StatusCode) -> Result<Response, ApiError> {
    let self_link = format!(
        "{API_PREFIX}/entity/{}/{}",
        url_name(&result.entity_type),
        result.id
    );
    let data = match &result.view {
        Some(v) => render_record(v)?.to_value()?,
        None => minimal(result),
    };
    Ok(json_response(
        status,
        &json!({"data": data, "links": {"self": self_link}}),
    ))
}

fn minimal(result: &WriteResult) -> Value {
    json!({
        "type": result.entity_type,
        "id": result.id,
        "links": {"self": format!("{API_PREFIX}/entity/{}/{}", url_name(&result.entity_type), result.id)},
    })
}

/// `POST /api/v1/entity/{entity}`: create, 201.
async fn create(
    AuthenticatedSession(principal): AuthenticatedSession,
    State(state): State<AppState>,
    Path(entity): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let params = query_params(query.as_deref());
    // Resolve the type first: an unknown type is reported before body problems.
    state.backend.store().resolve_type(&entity)?;
    let data = body_object(&headers, &body)?;
    let result = state.backend.write(
        &principal,
        WriteOp::Create {
            entity_type: entity,
            data,
        },
        options_fields(&params),
    )?;
    single(&result, StatusCode::CREATED)
}

/// `PUT /api/v1/entity/{entity}/{record_id}`: update, 200.
async fn update(
    AuthenticatedSession(principal): AuthenticatedSession,
    State(state): State<AppState>,
    Path((entity, raw_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let params = query_params(query.as_deref());
    let id = record_id(&raw_id)?;
    state.backend.store().resolve_type(&entity)?;
    let data = body_object(&headers, &body)?;
    let result = state.backend.write(
        &principal,
        WriteOp::Update {
            entity_type: entity,
            id,
            data,
        },
        options_fields(&params),
    )?;
    single(&result, StatusCode::OK)
}

/// `DELETE /api/v1/entity/{entity}/{record_id}`: retire, 204 with no body.
async fn delete(
    AuthenticatedSession(principal): AuthenticatedSession,
    State(state): State<AppState>,
    Path((entity, raw_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let id = record_id(&raw_id)?;
    state.backend.write(
        &principal,
        WriteOp::Delete {
            entity_type: entity,
            id,
        },
        ReturnFields::Nothing,
    )?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `POST /api/v1/entity/{entity}/{record_id}?revive=true`: revive, 200 with
/// `meta.did_revive`.
async fn revive(
    AuthenticatedSession(principal): AuthenticatedSession,
    State(state): State<AppState>,
    Path((entity, raw_id)): Path<(String, String)>,
    OriginalUri(uri): OriginalUri,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let params = query_params(query.as_deref());
    let id = record_id(&raw_id)?;
    match params.get("revive").map(String::as_str) {
        Some("true") | Some("1") => {}
        _ => return Err(invalid(json!({"revive": ["revive must be true or 1"]}))),
    }
    let result = state.backend.write(
        &principal,
        WriteOp::Revive {
            entity_type: entity,
            id,
        },
        ReturnFields::Nothing,
    )?;
    // As recorded from a real site: the self link is the request path.
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "data": {"type": result.entity_type, "id": result.id},
            "links": {"self": uri.path()},
            "meta": {"did_revive": result.did_revive},
        }),
    ))
}

fn batch_error(index: usize, source: Value) -> ApiError {
    let mut m = Map::new();
    m.insert(index.to_string(), source);
    invalid(json!({"requests": m}))
}

/// Parses one `_batch` request.
fn parse_batch_request(index: usize, req: &Value) -> Result<(WriteOp, ReturnFields), ApiError> {
    let err = |s: Value| batch_error(index, s);
    let obj = req
        .as_object()
        .ok_or_else(|| err(json!(["request must be an object"])))?;
    let request_type = obj
        .get("request_type")
        .and_then(Value::as_str)
        .ok_or_else(|| err(json!({"request_type": ["request_type is missing"]})))?;
    let entity = obj
        .get("entity")
        .and_then(Value::as_str)
        .ok_or_else(|| err(json!({"entity": ["entity is missing"]})))?
        .to_string();
    let record_id = || {
        obj.get("record_id")
            .and_then(Value::as_i64)
            .ok_or_else(|| err(json!({"record_id": ["record_id is missing or not an integer"]})))
    };
    let data = |required: bool| match obj.get("data") {
        Some(Value::Object(m)) => Ok(m.clone()),
        None if !required => Ok(Map::new()),
        _ => Err(err(
            json!({"data": ["data must be an object of field values"]}),
        )),
    };
    let ret = match obj.get("options").and_then(|o| o.get("fields")) {
        None => ReturnFields::Default,
        Some(Value::Array(a)) if a.is_empty() => ReturnFields::Nothing,
        Some(Value::Array(a)) => {
            let names: Option<Vec<&str>> = a.iter().map(Value::as_str).collect();
            let names = names.ok_or_else(|| {
                err(json!({"options": {"fields": ["fields must be a list of field names"]}}))
            })?;
            ReturnFields::Select(FieldSelection::parse(Some(&names.join(","))))
        }
        Some(Value::String(s)) => ReturnFields::Select(FieldSelection::parse(Some(s))),
        Some(_) => {
            return Err(err(
                json!({"options": {"fields": ["fields must be a list of field names"]}}),
            ))
        }
    };
    let op = match request_type {
        "create" => WriteOp::Create {
            entity_type: entity,
            data: data(true)?,
        },
        "update" => WriteOp::Update {
            entity_type: entity,
            id: record_id()?,
            data: data(false)?,
        },
        "delete" => WriteOp::Delete {
            entity_type: entity,
            id: record_id()?,
        },
        _ => {
            return Err(err(
                json!({"request_type": ["request_type must be one of: create, update, delete"]}),
            ))
        }
    };
    Ok((op, ret))
}

/// `POST /api/v1/entity/_batch`: atomic create/update/delete; 200 with the results in
/// request order (a delete's result is the bare `{type, id, links}`).
async fn batch(
    AuthenticatedSession(principal): AuthenticatedSession,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body = body_object(&headers, &body)?;
    let requests = body
        .get("requests")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid(json!({"requests": ["requests must be a list of requests"]})))?;
    if requests.is_empty() {
        return Err(invalid(json!({"requests": ["requests must not be empty"]})));
    }
    let mut ops = Vec::with_capacity(requests.len());
    for (i, r) in requests.iter().enumerate() {
        ops.push(parse_batch_request(i, r)?);
    }
    let results = state.backend.batch(&principal, ops)?;
    let data = results
        .iter()
        .map(|r| match &r.view {
            Some(v) => Ok(render_record(v)?.to_value()?),
            None => Ok(minimal(r)),
        })
        .collect::<Result<Vec<Value>, ApiError>>()?;
    Ok(json_response(StatusCode::OK, &json!({"data": data})))
}

fn ref_json(r: &EntityRef) -> Value {
    json!({"id": r.id, "name": r.name, "type": r.entity_type})
}

/// `GET /api/v1/entity/{entity}/{record_id}/relationships/{field}`: the linked records
/// of an entity or multi-entity field.
async fn relationships(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((entity, raw_id, field)): Path<(String, String, String)>,
    OriginalUri(uri): OriginalUri,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let params = query_params(query.as_deref());
    let id = record_id(&raw_id)?;
    let return_only = return_only(&params)?;
    let store = state.backend.store();
    let t = store.resolve_type(&entity)?;
    let kind = store
        .table(&t)?
        .fields
        .get(&field)
        .copied()
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                crate::errors::CODE_INVALID,
                format!("API read() {t}.{field} doesn't exist."),
            )
            .with_source(json!({"related_field": [format!("{field} is not a field of {t}")]}))
        })?;
    if !kind.is_link() {
        return Err(invalid(
            json!({"related_field": [format!("{field} is not an entity or multi-entity field")]}),
        ));
    }
    let view = store.read(
        &t,
        id,
        &FieldSelection::Only(vec![field.clone()]),
        return_only,
    )?;
    let data = match view.fields.first().map(|(_, v)| v) {
        Some(FieldValue::Link(Some(r))) => ref_json(r),
        Some(FieldValue::MultiLink(items)) => Value::Array(items.iter().map(ref_json).collect()),
        _ => Value::Null,
    };
    let self_link = uri
        .path_and_query()
        .map(|pq| pq.as_str().to_string())
        .unwrap_or_else(|| uri.path().to_string());
    Ok(json_response(
        StatusCode::OK,
        &json!({"data": data, "links": {"self": self_link}}),
    ))
}
