//! JSON:API error rendering.
//!
//! Every error leaves the server as
//! `{"errors":[{"id","status","code","title","source","detail","meta"}]}` with
//! `content-type: application/json; charset=utf-8`. The error `id` is the request's
//! `x-request-id`. Codes: 100 unknown (500), 102 authentication, 103 invalid parameters,
//! 104 not found.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use crate::auth::AuthError;
use crate::model::ModelError;

/// The JSON content type every JSON response carries.
pub const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";

/// Error code: unknown server error.
pub const CODE_UNKNOWN: u32 = 100;
/// Error code: authentication failed.
pub const CODE_AUTH: u32 = 102;
/// Error code: invalid request parameters.
pub const CODE_INVALID: u32 = 103;
/// Error code: record or route not found.
pub const CODE_NOT_FOUND: u32 = 104;

/// One API error, rendered as a JSON:API error envelope.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// ShotGrid error code.
    pub code: u32,
    /// Short summary.
    pub title: String,
    /// What in the request caused it (JSON, often null). Boxed, like `detail`, so that
    /// `Result<_, ApiError>` stays small.
    pub source: Box<Value>,
    /// Longer explanation (string or null).
    pub detail: Box<Value>,
}

impl ApiError {
    /// A new error with null source and detail.
    pub fn new(status: StatusCode, code: u32, title: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            title: title.into(),
            source: Box::new(Value::Null),
            detail: Box::new(Value::Null),
        }
    }

    /// Sets the detail string.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Box::new(Value::String(detail.into()));
        self
    }

    /// Sets the source object.
    pub fn with_source(mut self, source: Value) -> Self {
        self.source = Box::new(source);
        self
    }

    /// 401, code 102, "Unauthorized" with the given detail ("Token invalid", ...).
    pub fn unauthorized(detail: &str) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, CODE_AUTH, "Unauthorized").with_detail(detail)
    }

    /// 400, code 103, "Request Parameters invalid." with a source object.
    pub fn invalid_params(source: Value) -> Self {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            CODE_INVALID,
            "Request Parameters invalid.",
        )
        .with_source(source)
    }

    /// 404, code 104, "Not Found" with a detail.
    pub fn not_found(detail: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, CODE_NOT_FOUND, "Not Found").with_detail(detail)
    }

    /// The envelope for a status that came from the framework (unknown route, method
    /// not allowed, body too large, bad media type...), without leaking request data.
    pub fn from_status(status: StatusCode) -> Self {
        let reason = status.canonical_reason().unwrap_or("Error");
        match status {
            StatusCode::NOT_FOUND => ApiError::not_found("The requested resource does not exist."),
            StatusCode::METHOD_NOT_ALLOWED => ApiError::new(status, CODE_INVALID, reason)
                .with_detail("The HTTP method is not allowed on this resource."),
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(status, CODE_INVALID, reason)
                .with_detail("The request body is too large."),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::new(status, CODE_INVALID, reason)
                .with_detail("The request Content-Type is not supported by this endpoint."),
            StatusCode::UNAUTHORIZED => ApiError::unauthorized("Token invalid"),
            s if s.is_server_error() => ApiError::new(s, CODE_UNKNOWN, reason),
            s => ApiError::new(s, CODE_INVALID, reason),
        }
    }

    /// The envelope as JSON, with the given error id.
    pub fn to_json(&self, id: &str) -> Value {
        serde_json::to_value(self.envelope(id)).unwrap_or(Value::Null)
    }

    /// The envelope, serialising its keys in the order real sites send them.
    pub fn envelope<'a>(&'a self, id: &'a str) -> ErrorEnvelope<'a> {
        ErrorEnvelope {
            errors: [ErrorObject {
                id,
                status: self.status.as_u16(),
                code: self.code,
                title: &self.title,
                source: &self.source,
                detail: &self.detail,
                meta: &Value::Null,
            }],
        }
    }

    /// Renders the full response with the given error id.
    pub fn render(&self, id: &str) -> Response {
        json_response(self.status, &self.envelope(id))
    }
}

impl IntoResponse for ApiError {
    /// Renders with a fresh id and keeps the error in the response extensions, so the
    /// request-id middleware can re-render it with the request's own id.
    fn into_response(self) -> Response {
        let mut res = self.render(&crate::auth::hex(&rand::random::<[u8; 16]>()));
        res.extensions_mut().insert(self);
        res
    }
}

impl From<ModelError> for ApiError {
    fn from(e: ModelError) -> Self {
        match e {
            ModelError::UnknownEntityType(_) => {
                ApiError::invalid_params(json!({"entity": ["entity is not valid"]}))
            }
            // Recorded from a real site for `GET /entity/{t}/{id}` of a missing record.
            ModelError::NotFound { entity_type, id } => {
                ApiError::not_found(format!("{entity_type}: {id} not found"))
            }
            ModelError::Invalid { title, origin } => {
                ApiError::new(StatusCode::BAD_REQUEST, CODE_INVALID, title).with_source(origin)
            }
            e @ (ModelError::NoSuchEntity { .. } | ModelError::NoSuchField { .. }) => {
                ApiError::not_found(e.to_string())
            }
            ModelError::Batch { index, error } => {
                let inner = ApiError::from(*error);
                let detail = match inner.detail.as_str() {
                    Some(d) => format!("request {index}: {} {d}", inner.title),
                    None => format!("request {index}: {}", inner.title),
                };
                let mut requests = Map::new();
                requests.insert(index.to_string(), (*inner.source).clone());
                ApiError::new(inner.status, inner.code, inner.title)
                    .with_source(json!({ "requests": requests }))
                    .with_detail(detail)
            }
            ModelError::Persist(msg) => ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                CODE_UNKNOWN,
                "Internal Server Error",
            )
            .with_detail(msg),
        }
    }
}

impl From<serde_json::Error> for ApiError {
    /// Our own JSON could not be written: a bug, answered with 500.
    fn from(e: serde_json::Error) -> Self {
        ApiError::from_status(StatusCode::INTERNAL_SERVER_ERROR).with_detail(e.to_string())
    }
}

impl From<crate::render::RenderError> for ApiError {
    fn from(e: crate::render::RenderError) -> Self {
        match e {
            crate::render::RenderError::Model(e) => e.into(),
            crate::render::RenderError::Json(e) => e.into(),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::BadCredentials(client_id) => ApiError::new(
                StatusCode::BAD_REQUEST,
                CODE_AUTH,
                format!("Can't authenticate user '{client_id}'"),
            ),
            AuthError::TokenInvalid => ApiError::unauthorized("Token invalid"),
            AuthError::TokenExpired => ApiError::unauthorized("Token Expired"),
            AuthError::SudoNotAllowed => ApiError::new(
                StatusCode::BAD_REQUEST,
                CODE_AUTH,
                "Can't authenticate user: sudo_as_login is only available to API scripts",
            )
            .with_source(json!({"scope": ["scope is not allowed for this grant"]})),
            AuthError::UnknownSudoUser(login) => ApiError::new(
                StatusCode::BAD_REQUEST,
                CODE_AUTH,
                format!("Can't authenticate user '{login}'"),
            )
            .with_source(json!({"scope": ["sudo_as_login user not found"]})),
        }
    }
}

/// `{"errors":[…]}` with one error object.
#[derive(Debug, serde::Serialize)]
pub struct ErrorEnvelope<'a> {
    /// The single error.
    pub errors: [ErrorObject<'a>; 1],
}

/// One JSON:API error object, fields in wire order.
#[derive(Debug, serde::Serialize)]
pub struct ErrorObject<'a> {
    /// Error id (the request id).
    pub id: &'a str,
    /// HTTP status.
    pub status: u16,
    /// ShotGrid error code.
    pub code: u32,
    /// Summary.
    pub title: &'a str,
    /// Offending input, or null.
    pub source: &'a Value,
    /// Explanation, or null.
    pub detail: &'a Value,
    /// Always null.
    pub meta: &'a Value,
}

/// A JSON response with `content-type: application/json; charset=utf-8`.
pub fn json_response<T: serde::Serialize + ?Sized>(status: StatusCode, body: &T) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    let mut res = (status, bytes).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(JSON_CONTENT_TYPE),
    );
    res
}
