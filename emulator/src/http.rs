//! HTTP layer: routes, middleware and handlers.
//!
//! Handlers only parse the request, call the [`Backend`] and render the result as
//! JSON:API. All state and decisions live in [`crate::model`] and [`crate::auth`].

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{
    DefaultBodyLimit, FromRequestParts, OriginalUri, Path, RawQuery, Request, State,
};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::Engine as _;
use serde::Serialize;
use serde_json::{json, Map, Value};
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;

use crate::auth::{find_human_user, hex, AuthError, GrantOptions, Principal, Session, TokenGrant};
use crate::body_timeout;
use crate::errors::{json_response, ApiError, JSON_CONTENT_TYPE};
use crate::faults::{self, FaultConfig, Faults};
use crate::model::{Backend, FieldSelection, ReturnOnly};

/// The API prefix every route lives under.
pub const API_PREFIX: &str = "/api/v1";

/// The `x-request-id` header every response carries.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// Options of the HTTP layer that are not part of the site's data.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Log one line per request to stderr (method, path without query, status, ms).
    pub log_requests: bool,
    /// Largest accepted request body, in bytes; larger bodies get 413.
    pub body_limit: usize,
    /// Largest accepted body of upload routes (storage PUTs, `sg` upload PUTs, upload
    /// completion), in bytes; at least `body_limit`.
    pub upload_limit: usize,
    /// Origins allowed by CORS; empty means any origin.
    pub cors_origins: Vec<String>,
    /// Secret for the `/_admin` routes (header `x-admin-secret`); `None` disables them.
    pub admin_secret: Option<String>,
    /// Faults injected from start-up on (see [`crate::faults`]).
    pub faults: FaultConfig,
    /// Longest time a request body may take to arrive, counted from the request's
    /// arrival; a slower body is cut off with 408 (see [`crate::body_timeout`]).
    pub body_timeout: Duration,
    /// Longest time a request's headers may take to arrive once a connection is idle or
    /// new; a slower client is disconnected.
    pub header_timeout: Duration,
    /// Serve HTTPS (ALPN `h2` and `http/1.1`) instead of plain HTTP/1.1; `None` (the
    /// default) is plain HTTP. See [`crate::tls`].
    pub tls: Option<crate::tls::TlsConfig>,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            log_requests: false,
            body_limit: 10 * 1024 * 1024,
            upload_limit: 64 * 1024 * 1024,
            cors_origins: Vec::new(),
            admin_secret: None,
            faults: FaultConfig::default(),
            body_timeout: Duration::from_secs(30),
            header_timeout: Duration::from_secs(30),
            tls: None,
        }
    }
}

/// State shared by every handler.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The site's model.
    pub backend: Arc<Backend>,
    /// HTTP-layer options.
    pub options: ServerOptions,
    /// Fault injection and request counters.
    pub faults: Arc<Faults>,
}

/// The id of the current request, also sent back as `x-request-id`.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Builds the application router with all middleware.
pub fn router(backend: Arc<Backend>, options: ServerOptions) -> Router {
    let body_limit = options.body_limit;
    let upload_limit = options.upload_limit.max(body_limit);
    let allow_origin = if options.cors_origins.is_empty() {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            options
                .cors_origins
                .iter()
                .filter_map(|o| HeaderValue::from_str(o.trim_end_matches('/')).ok()),
        )
    };
    let state = AppState {
        backend,
        faults: Arc::new(Faults::new(options.faults.clone())),
        options,
    };
    let cors = CorsLayer::new()
        .allow_origin(allow_origin)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers(AllowHeaders::mirror_request())
        .expose_headers([
            HeaderName::from_static(REQUEST_ID_HEADER),
            header::CONTENT_RANGE,
            header::CONTENT_LENGTH,
            header::ETAG,
            header::RETRY_AFTER,
            header::ACCEPT_RANGES,
            header::LOCATION,
        ])
        .max_age(Duration::from_secs(600));

    Router::new()
        .route(API_PREFIX, get(server_info))
        .route("/api/v1/", get(server_info))
        .route("/api/v1/auth/access_token", post(access_token))
        .route("/api/v1/entity/{entity}/{record_id}", get(read_record))
        // One sub-router per area; each lives in its own file under routes/.
        .merge(crate::routes::router())
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(RequestBodyLimitLayer::new(body_limit))
        // Upload routes take larger bodies than the rest of the API.
        .merge(with_limit(crate::routes::files::router(), upload_limit))
        .fallback(unknown_route)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            faults::middleware,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            body_timeout::middleware,
        ))
        .layer(cors.clone())
        .layer(middleware::from_fn_with_state(
            state.clone(),
            request_context,
        ))
        // Storage answers like S3 (XML errors), outside the JSON:API error envelope.
        .merge(
            with_limit(crate::routes::storage::router(), upload_limit)
                .layer(middleware::from_fn_with_state(
                    state.clone(),
                    faults::middleware,
                ))
                .layer(middleware::from_fn_with_state(
                    state.clone(),
                    body_timeout::middleware,
                ))
                .layer(cors),
        )
        .with_state(state)
}

fn with_limit(router: Router<AppState>, limit: usize) -> Router<AppState> {
    router
        .layer(DefaultBodyLimit::max(limit))
        .layer(RequestBodyLimitLayer::new(limit))
}

/// Outermost middleware: assigns the request id, turns every error into the JSON:API
/// envelope carrying that id, sets `x-request-id`, and logs the request.
async fn request_context(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = hex(&rand::random::<[u8; 16]>());
    let method = req.method().clone();
    // Only the path: query strings may carry values that must not reach logs.
    let path = req.uri().path().to_string();
    req.extensions_mut().insert(RequestId(id.clone()));

    let res = next.run(req).await;
    let mut res = envelope_errors(res, &id);
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID_HEADER), v);
    }
    if state.options.log_requests {
        eprintln!(
            "{} {} {} {}ms",
            method,
            path.escape_debug(),
            res.status().as_u16(),
            started.elapsed().as_millis()
        );
    }
    res
}

/// Re-renders error responses as the JSON:API envelope with the request's id: our own
/// [`ApiError`]s, and the framework's plain-text ones (405, 413, 415, path rejections).
fn envelope_errors(res: Response, id: &str) -> Response {
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let error = match res.extensions().get::<ApiError>() {
        Some(e) => e.clone(),
        None => {
            let is_json = res
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/json"));
            if is_json {
                return res;
            }
            ApiError::from_status(status)
        }
    };
    let (mut parts, _) = res.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(JSON_CONTENT_TYPE),
    );
    let body = serde_json::to_vec(&error.envelope(id)).unwrap_or_default();
    Response::from_parts(parts, Body::from(body))
}

async fn unknown_route() -> ApiError {
    ApiError::from_status(StatusCode::NOT_FOUND)
}

#[derive(Serialize)]
struct ServerInfoDoc {
    data: ServerInfo,
}

#[derive(Serialize)]
struct ServerInfo {
    shotgun_version: &'static str,
    api_version: &'static str,
    shotgun_version_number: &'static str,
    shotgun_build_number: &'static str,
    portfolio_version: &'static str,
    unified_login_flow_enabled: bool,
    user_authentication_method: &'static str,
    site_id: &'static str,
    site_name: &'static str,
}

/// `GET /api/v1/` and `GET /api/v1` (no token needed).
async fn server_info() -> Response {
    // Field order as real sites send it.
    let doc = ServerInfoDoc {
        data: ServerInfo {
            shotgun_version: "v8.50.0.0 (build emulator)",
            api_version: "v1",
            shotgun_version_number: "8.50.0.0",
            shotgun_build_number: "emulator",
            portfolio_version: "8.50.0.0",
            unified_login_flow_enabled: false,
            user_authentication_method: "default",
            site_id: "1",
            site_name: "shotgrid-emulator",
        },
    };
    json_response(StatusCode::OK, &doc)
}

// ---------------------------------------------------------------------------------------
// Authentication

#[derive(Serialize)]
struct TokenResponse {
    token_type: &'static str,
    access_token: String,
    expires_in: u64,
    refresh_token: String,
}

impl From<TokenGrant> for TokenResponse {
    fn from(g: TokenGrant) -> Self {
        TokenResponse {
            token_type: "Bearer",
            access_token: g.access_token,
            expires_in: g.expires_in,
            refresh_token: g.refresh_token,
        }
    }
}

fn required(field: &str) -> ApiError {
    let mut source = Map::new();
    source.insert(field.to_string(), json!([format!("{field} is required")]));
    ApiError::invalid_params(Value::Object(source))
}

/// Client id and secret from an `Authorization: Basic` header, if there is one.
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed =
        || ApiError::invalid_params(json!({"authorization": ["malformed Basic credentials"]}));
    let value = value.to_str().map_err(|_| malformed())?;
    let Some((scheme, rest)) = value.trim().split_once(' ') else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(rest.trim())
        .map_err(|_| malformed())?;
    let decoded = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    Ok(Some((id.to_string(), secret.to_string())))
}

/// `POST /api/v1/auth/access_token`. Only the form body and the Basic header are read:
/// credentials in the query string are ignored, as if missing.
async fn access_token(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    match access_token_inner(&state, &headers, &body) {
        Ok(grant) => {
            let mut res = json_response(StatusCode::OK, &TokenResponse::from(grant));
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Err(e) => e.into_response(),
    }
}

fn access_token_inner(
    state: &AppState,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<TokenGrant, ApiError> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !is_form {
        return Err(ApiError::from_status(StatusCode::UNSUPPORTED_MEDIA_TYPE));
    }
    let mut form: HashMap<String, String> = HashMap::new();
    for (k, v) in form_urlencoded::parse(body) {
        form.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    let param = |name: &str| form.get(name).map(String::as_str).filter(|v| !v.is_empty());

    let grant_type = param("grant_type").ok_or_else(|| required("grant_type"))?;
    let options = grant_options(state, grant_type, param("scope"), param("session_uuid"))?;
    match grant_type {
        "client_credentials" => {
            let (id, secret) = match (param("client_id"), param("client_secret")) {
                (Some(id), Some(secret)) => (id.to_string(), secret.to_string()),
                (None, None) => basic_credentials(headers)?.ok_or_else(|| required("client_id"))?,
                (None, Some(_)) => return Err(required("client_id")),
                (Some(_), None) => return Err(required("client_secret")),
            };
            Ok(state
                .backend
                .auth()
                .client_credentials_with(&id, &secret, options)?)
        }
        "password" => {
            let login = param("username").ok_or_else(|| required("username"))?;
            let password = param("password").ok_or_else(|| required("password"))?;
            // The credential must belong to an active HumanUser record.
            if find_human_user(&state.backend.store(), login).is_none() {
                return Err(AuthError::BadCredentials(login.to_string()).into());
            }
            Ok(state.backend.auth().password(login, password, options)?)
        }
        "session_token" => {
            let token = param("session_token").ok_or_else(|| required("session_token"))?;
            // Never hold the auth lock while taking the store lock.
            let login = state
                .backend
                .auth()
                .session_token_login(token)
                .ok_or(AuthError::TokenInvalid)?;
            if find_human_user(&state.backend.store(), &login).is_none() {
                return Err(AuthError::TokenInvalid.into());
            }
            Ok(state.backend.auth().session_token(token, options)?)
        }
        "refresh_token" | "refresh" => {
            let token = param("refresh_token").ok_or_else(|| required("refresh_token"))?;
            Ok(state.backend.auth().refresh(token)?)
        }
        _ => Err(ApiError::invalid_params(
            json!({"grant_type": ["grant_type is not supported"]}),
        )),
    }
}

/// Parses `scope` (only `sudo_as_login:<login>` exists) and `session_uuid`. The sudo
/// target must be an active HumanUser; only `client_credentials` may use it.
fn grant_options(
    state: &AppState,
    grant_type: &str,
    scope: Option<&str>,
    session_uuid: Option<&str>,
) -> Result<GrantOptions, ApiError> {
    let sudo_as = match scope {
        None => None,
        Some(scope) => {
            let login = scope
                .strip_prefix("sudo_as_login:")
                .filter(|l| !l.is_empty())
                .ok_or_else(|| {
                    ApiError::invalid_params(json!({"scope": ["scope is not valid"]}))
                })?;
            if matches!(grant_type, "password" | "session_token") {
                return Err(AuthError::SudoNotAllowed.into());
            }
            if find_human_user(&state.backend.store(), login).is_none() {
                return Err(AuthError::UnknownSudoUser(login.to_string()).into());
            }
            Some(login.to_string())
        }
    };
    Ok(GrantOptions {
        sudo_as,
        session_uuid: session_uuid.map(str::to_string),
    })
}

/// Extractor for endpoints that need a valid `Authorization: Bearer` token.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Principal);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token.trim())
            .filter(|t| !t.is_empty())
            .ok_or(AuthError::TokenInvalid)?;
        let principal = state.backend.auth().authenticate(token)?;
        Ok(Authenticated(principal))
    }
}

/// Like [`Authenticated`], but yields the whole [`Session`] behind the token: the
/// principal, the HumanUser a script acts as (`sudo_as`) and the `session_uuid`.
#[derive(Debug, Clone)]
pub struct AuthenticatedSession(pub Session);

impl FromRequestParts<AppState> for AuthenticatedSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer_token(&parts.headers).ok_or(AuthError::TokenInvalid)?;
        let session = state.backend.auth().authenticate_session(token)?;
        Ok(AuthenticatedSession(session))
    }
}

/// The bearer token of an `Authorization: Bearer …` header, if there is one.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|t| !t.is_empty())
}

// ---------------------------------------------------------------------------------------
// Entities

/// Query parameters, first occurrence wins. Parsing never fails.
pub fn query_params(raw: Option<&str>) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for (k, v) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        out.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    out
}

/// Parses `options[return_only]` (active|retired).
pub fn return_only(params: &HashMap<String, String>) -> Result<ReturnOnly, ApiError> {
    match params.get("options[return_only]").map(String::as_str) {
        None | Some("active") => Ok(ReturnOnly::Active),
        Some("retired") => Ok(ReturnOnly::Retired),
        Some(_) => Err(ApiError::invalid_params(
            json!({"options": {"return_only": ["return_only must be one of: active, retired"]}}),
        )),
    }
}

/// Parses a record id from a path segment.
pub fn record_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>().map_err(|_| {
        ApiError::invalid_params(json!({"record_id": ["record_id must be an integer"]}))
    })
}

/// JSON:API `links` with `self` and an optional `related`.
#[derive(Serialize)]
pub struct Links {
    /// `self` link.
    #[serde(rename = "self")]
    pub self_: String,
    /// `related` link.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub related: Option<String>,
}

pub use crate::render::{render_record, RecordDoc};

#[derive(Serialize)]
struct SingleDoc {
    data: RecordDoc,
    links: Links,
}

/// `GET /api/v1/entity/{entity}/{record_id}`.
async fn read_record(
    _auth: Authenticated,
    State(state): State<AppState>,
    Path((entity, raw_id)): Path<(String, String)>,
    OriginalUri(uri): OriginalUri,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let params = query_params(query.as_deref());
    let id = record_id(&raw_id)?;
    let selection = FieldSelection::parse(params.get("fields").map(String::as_str));
    let return_only = return_only(&params)?;
    let view = state
        .backend
        .read_record(&entity, id, &selection, return_only)?;
    let self_link = uri
        .path_and_query()
        .map(|pq| pq.as_str().to_string())
        .unwrap_or_else(|| uri.path().to_string());
    let doc = SingleDoc {
        data: render_record(&view).map_err(ApiError::from)?,
        links: Links {
            self_: self_link,
            related: None,
        },
    };
    Ok(json_response(StatusCode::OK, &doc))
}
