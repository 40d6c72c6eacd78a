//! `/_admin` routes for tests and fault injection, guarded by the admin secret
//! (`x-admin-secret` header). Without a configured secret every admin route answers 404
//! as if it did not exist; with one, a missing or wrong secret gets 401.
//!
//! - `GET|POST|DELETE /_admin/faults`: read, replace (JSON [`FaultConfig`]) or clear the
//!   fault configuration.
//! - `POST /_admin/expire_tokens`: expires every access token now (204).
//! - `GET /_admin/stats`: request counters ([`crate::faults::Stats`]) plus
//!   `token_grants` (successful grants).
//! - `POST /_admin/reset`: faults back to the start-up configuration, counters zeroed.
//! - `POST /_admin/session_token` `{"login"}`: a session token for the `session_token`
//!   grant.
//! - `GET /_admin/files/{attachment_id}/sha256`: `{attachment_id, sha256, size}` of an
//!   Attachment's stored file.

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};

use crate::auth::find_human_user;
use crate::errors::{json_response, ApiError, CODE_AUTH};
use crate::faults::FaultConfig;
use crate::http::AppState;

/// The admin routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/_admin/faults",
            get(get_faults).post(set_faults).delete(clear_faults),
        )
        .route("/_admin/expire_tokens", post(expire_tokens))
        .route("/_admin/stats", get(stats))
        .route("/_admin/reset", post(reset))
        .route("/_admin/session_token", post(session_token))
        .route("/_admin/files/{attachment_id}/sha256", get(file_sha256))
}

/// Header carrying the admin secret.
pub const ADMIN_SECRET_HEADER: &str = "x-admin-secret";

/// Extractor: the request carries the configured admin secret.
#[derive(Debug)]
pub struct Admin;

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(secret) = state.options.admin_secret.as_deref() else {
            return Err(ApiError::from_status(StatusCode::NOT_FOUND));
        };
        let given = parts
            .headers
            .get(ADMIN_SECRET_HEADER)
            .map(|v| v.as_bytes())
            .unwrap_or_default();
        let ok = given.len() == secret.len()
            && given
                .iter()
                .zip(secret.as_bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0;
        if ok {
            Ok(Admin)
        } else {
            Err(
                ApiError::new(StatusCode::UNAUTHORIZED, CODE_AUTH, "Unauthorized")
                    .with_detail("Missing or wrong x-admin-secret."),
            )
        }
    }
}

fn json_body(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        ApiError::invalid_params(json!({"body": [format!("body is not valid JSON: {e}")]}))
    })
}

async fn get_faults(_: Admin, State(state): State<AppState>) -> Response {
    json_response(StatusCode::OK, &state.faults.config())
}

async fn set_faults(_: Admin, State(state): State<AppState>, body: Bytes) -> Response {
    let result = json_body(&body).and_then(|v| {
        serde_json::from_value::<FaultConfig>(v).map_err(|e| {
            ApiError::invalid_params(json!({"body": [format!("invalid fault configuration: {e}")]}))
        })
    });
    let config = match result {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    match state.faults.set_config(config) {
        Ok(()) => json_response(StatusCode::OK, &state.faults.config()),
        Err(msg) => ApiError::invalid_params(json!({"body": [msg]})).into_response(),
    }
}

async fn clear_faults(_: Admin, State(state): State<AppState>) -> Response {
    // The default configuration is always valid.
    let _ = state.faults.set_config(FaultConfig::default());
    StatusCode::NO_CONTENT.into_response()
}

async fn expire_tokens(_: Admin, State(state): State<AppState>) -> Response {
    state.backend.auth().expire_access_tokens();
    StatusCode::NO_CONTENT.into_response()
}

async fn stats(_: Admin, State(state): State<AppState>) -> Response {
    let mut v = serde_json::to_value(state.faults.stats()).unwrap_or_else(|_| json!({}));
    if let Value::Object(m) = &mut v {
        m.insert(
            "token_grants".into(),
            state.backend.auth().grants_issued().into(),
        );
    }
    json_response(StatusCode::OK, &v)
}

async fn reset(_: Admin, State(state): State<AppState>) -> Response {
    state.faults.reset();
    state.backend.auth().reset_counters();
    StatusCode::NO_CONTENT.into_response()
}

async fn session_token(_: Admin, State(state): State<AppState>, body: Bytes) -> Response {
    let v = match json_body(&body) {
        Ok(v) => v,
        Err(e) => return e.into_response(),
    };
    let Some(login) = v.get("login").and_then(Value::as_str) else {
        return ApiError::invalid_params(json!({"login": ["login is required"]})).into_response();
    };
    if find_human_user(&state.backend.store(), login).is_none() {
        return ApiError::not_found(format!("HumanUser with login {login:?} not found"))
            .into_response();
    }
    let token = state.backend.auth().create_session_token(login);
    json_response(StatusCode::OK, &json!({"session_token": token}))
}

async fn file_sha256(_: Admin, State(state): State<AppState>, Path(raw): Path<String>) -> Response {
    let Ok(id) = raw.parse::<i64>() else {
        return ApiError::invalid_params(
            json!({"attachment_id": ["attachment_id must be an integer"]}),
        )
        .into_response();
    };
    let files = state.backend.files();
    match files.attachment_blob(id) {
        Some(blob) => json_response(
            StatusCode::OK,
            &json!({"attachment_id": id, "sha256": blob.sha256(), "size": blob.content.len()}),
        ),
        None => ApiError::not_found(format!("Attachment: {id} has no stored file")).into_response(),
    }
}
