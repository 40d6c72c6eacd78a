//! Follows, activity stream, note threads, project last-accessed, preferences and the
//! navigation hierarchy. Decisions live in [`crate::model::social`] and
//! [`crate::model::hierarchy`].

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::Router;
use serde_json::{json, Map, Value};

use super::webhooks::{int_param, invalid, json_body, param, query_pairs};
use crate::errors::{json_response, ApiError};
use crate::http::{AppState, Authenticated};
use crate::model::social::{self, SocialError};
use crate::naming::url_name;

/// The routes of this area.
pub fn router() -> Router<AppState> {
    Router::new()
        // The reference spells these with literal `human_users`, `notes` and
        // `projects`; every accepted spelling of the type is taken, other types 404.
        .route("/api/v1/entity/{entity}/{record_id}/follow", post(follow))
        .route(
            "/api/v1/entity/{entity}/{record_id}/unfollow",
            put(unfollow),
        )
        .route(
            "/api/v1/entity/{entity}/{record_id}/following",
            get(following),
        )
        .route(
            "/api/v1/entity/{entity}/{record_id}/followers",
            get(followers),
        )
        .route(
            "/api/v1/entity/{entity}/{record_id}/activity_stream",
            get(activity_stream),
        )
        .route(
            "/api/v1/entity/{entity}/{record_id}/thread_contents",
            get(thread_contents),
        )
        .route(
            "/api/v1/entity/{entity}/{record_id}/_update_last_accessed",
            put(update_last_accessed),
        )
        .route("/api/v1/preferences", get(preferences))
        .route("/api/v1/hierarchy/_expand", post(hierarchy_expand))
        .route("/api/v1/hierarchy/_search", post(hierarchy_search))
}

impl From<SocialError> for ApiError {
    fn from(e: SocialError) -> Self {
        match e {
            SocialError::Model(m) => m.into(),
            SocialError::Invalid { param, message } => invalid(&param, &message),
            SocialError::NoRoute => ApiError::from_status(StatusCode::NOT_FOUND),
        }
    }
}

fn record_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .map_err(|_| invalid("record_id", "record_id must be an integer"))
}

/// `POST /entity/human_users/{user_id}/follow` → 204.
async fn follow(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((entity, raw_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let id = record_id(&raw_id)?;
    let body = json_body(&headers, &body)?;
    state.backend.follow(&entity, id, &body)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `PUT /entity/{entity}/{record_id}/unfollow` with `{"user_id": N}` → 204.
async fn unfollow(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((entity, raw_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let id = record_id(&raw_id)?;
    let body = json_body(&headers, &body)?;
    state.backend.unfollow(&entity, id, &body)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /entity/human_users/{user_id}/following?entity=&project_id=`.
async fn following(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((entity, raw_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let id = record_id(&raw_id)?;
    let pairs = query_pairs(query.as_deref());
    let project_id = int_param(&pairs, "project_id")?;
    let data = state
        .backend
        .following(&entity, id, param(&pairs, "entity"), project_id)?;
    Ok(json_response(StatusCode::OK, &json!({ "data": data })))
}

/// `GET /entity/{entity}/{record_id}/followers`.
async fn followers(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((entity, raw_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let id = record_id(&raw_id)?;
    let data = state.backend.followers(&entity, id)?;
    Ok(json_response(StatusCode::OK, &json!({ "data": data })))
}

fn self_link(uri: &axum::http::Uri) -> String {
    uri.path_and_query()
        .map_or_else(|| uri.path().to_string(), |pq| pq.as_str().to_string())
}

/// `GET /entity/{entity}/{record_id}/activity_stream?min_id&max_id&limit&entity_fields[T]`.
async fn activity_stream(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((entity, raw_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let id = record_id(&raw_id)?;
    let pairs = query_pairs(query.as_deref());
    let min_id = int_param(&pairs, "min_id")?;
    let max_id = int_param(&pairs, "max_id")?;
    let limit = int_param(&pairs, "limit")?;
    let fields = social::parse_entity_fields(&state.backend.store(), &pairs)?;
    let data = state
        .backend
        .activity_stream(&entity, id, min_id, max_id, limit, &fields)?;
    let link = format!(
        "/api/v1/entity/{}/{}/activity_stream",
        data["entity_type"]
            .as_str()
            .map(url_name)
            .unwrap_or_default(),
        id
    );
    Ok(json_response(
        StatusCode::OK,
        &json!({"data": data, "links": {"self": link}}),
    ))
}

/// `GET /entity/notes/{record_id}/thread_contents?entity_fields[T]=…`.
async fn thread_contents(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((entity, raw_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let id = record_id(&raw_id)?;
    let pairs = query_pairs(query.as_deref());
    let fields = social::parse_entity_fields(&state.backend.store(), &pairs)?;
    let data = state.backend.thread_contents(&entity, id, &fields)?;
    Ok(json_response(
        StatusCode::OK,
        &json!({"data": data, "links": {"self": format!("/api/v1/entity/notes/{id}/thread_contents")}}),
    ))
}

/// `PUT /entity/projects/{record_id}/_update_last_accessed` with `{"user_id": N}`.
async fn update_last_accessed(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((entity, raw_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let id = record_id(&raw_id)?;
    let body = json_body(&headers, &body)?;
    state.backend.update_last_accessed(&entity, id, &body)?;
    Ok(json_response(
        StatusCode::OK,
        &json!({"data": {"id": id, "type": "Project"}, "links": {"self": format!("/api/v1/entity/projects/{id}")}}),
    ))
}

/// `GET /preferences?prefs=a,b` (`*` for all).
async fn preferences(
    _auth: Authenticated,
    OriginalUri(uri): OriginalUri,
    RawQuery(query): RawQuery,
) -> Response {
    let pairs = query_pairs(query.as_deref());
    let data: Map<String, Value> = social::preferences(param(&pairs, "prefs"))
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    json_response(
        StatusCode::OK,
        &json!({"data": data, "links": {"self": self_link(&uri)}}),
    )
}

/// `POST /hierarchy/_expand` with `{path, entity_fields?, seed_entity_field?}`.
async fn hierarchy_expand(
    _auth: Authenticated,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body = json_body(&headers, &body)?;
    let data = state.backend.hierarchy_expand(&body)?;
    Ok(json_response(StatusCode::OK, &json!({ "data": data })))
}

/// `POST /hierarchy/_search` with `{root_path?, search_criteria, seed_entity_field?}`.
async fn hierarchy_search(
    _auth: Authenticated,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body = json_body(&headers, &body)?;
    let data = state.backend.hierarchy_search(&body)?;
    Ok(json_response(StatusCode::OK, &json!({ "data": data })))
}
