//! Schema endpoints: entity types and field schemas in the `{value, editable}` shape,
//! and field create / update / delete / revive.

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Map, Value};

use crate::errors::{json_response, ApiError};
use crate::http::{query_params, AppState, Authenticated};
use crate::model::schema_ops::{entity_schema, field_schema};
use crate::routes::entities::json_body;

/// Routes of this area.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/schema", get(all_entities))
        .route("/api/v1/schema/{entity}", get(one_entity))
        .route(
            "/api/v1/schema/{entity}/fields",
            get(all_fields).post(create_field),
        )
        .route(
            "/api/v1/schema/{entity}/fields/{field}",
            get(one_field)
                .put(update_field)
                .delete(delete_field)
                .post(revive_field),
        )
}

/// Checks the optional `project_id` query parameter (accepted; the schema is the same
/// for every project).
fn check_project_id(query: Option<&str>) -> Result<(), ApiError> {
    let params = query_params(query);
    match params.get("project_id") {
        Some(v) if v.parse::<i64>().is_err() => Err(ApiError::invalid_params(
            json!({"project_id": ["project_id must be an integer"]}),
        )),
        _ => Ok(()),
    }
}

fn self_link(uri: &axum::http::Uri) -> String {
    uri.path().to_string()
}

async fn all_entities(
    _auth: Authenticated,
    State(state): State<AppState>,
    OriginalUri(uri): OriginalUri,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    check_project_id(query.as_deref())?;
    let store = state.backend.store();
    let data: Map<String, Value> = store
        .entity_types()
        .map(|t| (t.to_string(), entity_schema(t)))
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({"data": data, "links": {"self": self_link(&uri)}}),
    ))
}

async fn one_entity(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(entity): Path<String>,
    OriginalUri(uri): OriginalUri,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    check_project_id(query.as_deref())?;
    let t = state.backend.store().resolve_type(&entity)?;
    Ok(json_response(
        StatusCode::OK,
        &json!({"data": entity_schema(&t), "links": {"self": self_link(&uri)}}),
    ))
}

async fn all_fields(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(entity): Path<String>,
    OriginalUri(uri): OriginalUri,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    check_project_id(query.as_deref())?;
    let store = state.backend.store();
    let t = store.resolve_type(&entity)?;
    let data: Map<String, Value> = store
        .table(&t)?
        .defs
        .iter()
        .map(|(name, def)| (name.clone(), field_schema(&t, def)))
        .collect();
    Ok(json_response(
        StatusCode::OK,
        &json!({"data": data, "links": {"self": self_link(&uri)}}),
    ))
}

async fn one_field(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((entity, field)): Path<(String, String)>,
    OriginalUri(uri): OriginalUri,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    check_project_id(query.as_deref())?;
    let store = state.backend.store();
    let t = store.resolve_type(&entity)?;
    let def = store.table(&t)?.defs.get(&field).ok_or_else(|| {
        ApiError::from(crate::model::ModelError::NoSuchField {
            entity_type: t.clone(),
            field: field.clone(),
        })
    })?;
    Ok(json_response(
        StatusCode::OK,
        &json!({"data": field_schema(&t, def), "links": {"self": self_link(&uri)}}),
    ))
}

/// Parses `properties: [{property_name, value}]`.
fn properties(body: &Map<String, Value>, required: bool) -> Result<Vec<(String, Value)>, ApiError> {
    let list = match body.get("properties") {
        Some(Value::Array(a)) => a,
        None if !required => return Ok(Vec::new()),
        _ => {
            return Err(ApiError::invalid_params(
                json!({"properties": ["properties must be a list of {property_name, value}"]}),
            ))
        }
    };
    let mut out = Vec::with_capacity(list.len());
    for (i, p) in list.iter().enumerate() {
        let name = p.get("property_name").and_then(Value::as_str).ok_or_else(|| {
            ApiError::invalid_params(
                json!({"properties": {i.to_string(): {"property_name": ["property_name is missing"]}}}),
            )
        })?;
        let value = p.get("value").cloned().ok_or_else(|| {
            ApiError::invalid_params(
                json!({"properties": {i.to_string(): {"value": ["value is missing"]}}}),
            )
        })?;
        out.push((name.to_string(), value));
    }
    Ok(out)
}

fn object(headers: &HeaderMap, body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match json_body(headers, body)? {
        Value::Object(m) => Ok(m),
        _ => Err(ApiError::invalid_params(
            json!({"body": ["body must be a JSON object"]}),
        )),
    }
}

/// `POST /schema/{entity}/fields`: 201 with `{data: {<new field>: schema}}`.
async fn create_field(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path(entity): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    state.backend.store().resolve_type(&entity)?;
    let body = object(&headers, &body)?;
    let data_type = body
        .get("data_type")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::invalid_params(json!({"data_type": ["data_type is missing"]})))?;
    let props = properties(&body, true)?;
    let (t, field, doc) = state.backend.create_field(&entity, data_type, &props)?;
    let mut data = Map::new();
    data.insert(field.clone(), doc);
    Ok(json_response(
        StatusCode::CREATED,
        &json!({
            "data": data,
            "links": {"self": format!("/api/v1/schema/{}/fields/{field}", crate::naming::to_snake(&t))},
        }),
    ))
}

async fn update_field(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((entity, field)): Path<(String, String)>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    state.backend.store().resolve_type(&entity)?;
    let body = object(&headers, &body)?;
    if let Some(p) = body.get("project_id") {
        if !p.is_i64() && !p.is_null() {
            return Err(ApiError::invalid_params(
                json!({"project_id": ["project_id must be an integer"]}),
            ));
        }
    }
    let props = properties(&body, true)?;
    let (_, doc) = state.backend.update_field(&entity, &field, &props)?;
    Ok(json_response(
        StatusCode::OK,
        &json!({"data": doc, "links": {"self": self_link(&uri)}}),
    ))
}

async fn delete_field(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((entity, field)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    state.backend.delete_field(&entity, &field)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn revive_field(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((entity, field)): Path<(String, String)>,
    OriginalUri(uri): OriginalUri,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let params = query_params(query.as_deref());
    match params.get("revive").map(String::as_str) {
        Some("true") | Some("1") => {}
        _ => {
            return Err(ApiError::invalid_params(
                json!({"revive": ["revive must be true or 1"]}),
            ))
        }
    }
    let (_, doc) = state.backend.revive_field(&entity, &field)?;
    Ok(json_response(
        StatusCode::OK,
        &json!({"data": doc, "links": {"self": self_link(&uri)}}),
    ))
}
