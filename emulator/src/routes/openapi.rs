//! The emulator's own OpenAPI 3 description: `GET /api/v1/spec.json` and
//! `GET /api/v1/spec.yaml` (like real sites' `GET /spec.{format}`, no token needed).
//!
//! The document is kept as `emulator/openapi.json`, embedded at build time; the YAML
//! form is converted from it once.

use std::sync::OnceLock;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::errors::{ApiError, JSON_CONTENT_TYPE};
use crate::http::AppState;

/// The OpenAPI document as JSON text.
pub const OPENAPI_JSON: &str = include_str!("../../openapi.json");

/// The content type of the YAML form.
pub const YAML_CONTENT_TYPE: &str = "application/yaml; charset=utf-8";

/// The OpenAPI document as YAML text (converted once from [`OPENAPI_JSON`]).
pub fn openapi_yaml() -> Result<&'static str, String> {
    static YAML: OnceLock<Result<String, String>> = OnceLock::new();
    YAML.get_or_init(|| {
        let doc: serde_json::Value =
            serde_json::from_str(OPENAPI_JSON).map_err(|e| e.to_string())?;
        serde_norway::to_string(&doc).map_err(|e| e.to_string())
    })
    .as_ref()
    .map(String::as_str)
    .map_err(Clone::clone)
}

/// The spec routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/spec.json", get(spec_json))
        .route("/api/v1/spec.yaml", get(spec_yaml))
}

fn text(body: &'static str, content_type: &'static str) -> Response {
    let mut res = (StatusCode::OK, body).into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    res
}

async fn spec_json() -> Response {
    text(OPENAPI_JSON, JSON_CONTENT_TYPE)
}

async fn spec_yaml() -> Response {
    match openapi_yaml() {
        Ok(y) => text(y, YAML_CONTENT_TYPE),
        Err(_) => ApiError::from_status(StatusCode::INTERNAL_SERVER_ERROR).into_response(),
    }
}
