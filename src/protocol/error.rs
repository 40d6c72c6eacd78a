//! The one error type of the client, and decoding of JSON:API error envelopes.

use crate::protocol::json::Value;
use std::fmt;

use super::http::HttpResponse;

/// What went wrong, coarsely; JS sees it as `error.kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The server answered with an error status.
    Http,
    /// Authentication failed (bad credentials, token rejected).
    Auth,
    /// The request did not get a response (connection refused, dropped, DNS, CORS).
    Network,
    /// An attempt or the overall deadline ran out.
    Timeout,
    /// The caller aborted the operation.
    Aborted,
    /// The server asked us to slow down for longer than we are willing to wait.
    RateLimited,
    /// The caller's input was rejected before anything was sent.
    InvalidInput,
    /// A response could not be understood.
    Decode,
}

impl ErrorKind {
    /// The name JS sees in `error.kind`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Http => "http",
            ErrorKind::Auth => "auth",
            ErrorKind::Network => "network",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Aborted => "aborted",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::Decode => "decode",
        }
    }
}

/// A client error. Never contains credentials or tokens. The details live in a box so
/// that `Result<T, Error>` stays one pointer wide on the error side; fields are reached
/// through `Deref` (`err.kind`, `err.status`, …).
#[derive(Clone, Debug, PartialEq)]
pub struct Error(Box<ErrorInfo>);

/// The details of an [`Error`].
#[derive(Clone, Debug, PartialEq)]
pub struct ErrorInfo {
    /// Coarse category.
    pub kind: ErrorKind,
    /// HTTP status, when the server answered.
    pub status: Option<u16>,
    /// ShotGrid error code (`errors[0].code`), when given.
    pub code: Option<i64>,
    /// Short title.
    pub title: String,
    /// Longer explanation, when known.
    pub detail: Option<String>,
    /// Where the problem is: the server's `source` object, or for invalid input the
    /// path of the offending argument, e.g. `"options.fields[2]"`.
    pub source: Option<Value>,
    /// The server's `x-request-id`, worth quoting to support.
    pub request_id: Option<String>,
    /// Whether retrying the same call may succeed.
    pub retryable: bool,
    /// A write (create, update, delete, revive, batch) failed after it may have reached
    /// the server: it may have been applied. Check before doing it again.
    pub maybe_applied: bool,
    /// How long the server asked us to wait (`Retry-After`), in ms, when it did.
    pub retry_after_ms: Option<f64>,
}

impl Error {
    /// An error of `kind` with a title and nothing else.
    pub fn new(kind: ErrorKind, title: impl Into<String>) -> Self {
        Error(Box::new(ErrorInfo {
            kind,
            status: None,
            code: None,
            title: title.into(),
            detail: None,
            source: None,
            request_id: None,
            retryable: false,
            maybe_applied: false,
            retry_after_ms: None,
        }))
    }

    /// Invalid caller input at `path` (e.g. `"auth.clientSecret"`).
    pub fn invalid_input(path: &str, detail: impl Into<String>) -> Self {
        let mut e = Error::new(ErrorKind::InvalidInput, "Invalid input");
        e.detail = Some(detail.into());
        e.source = Some(Value::String(path.to_owned()));
        e
    }

    /// A response that could not be decoded.
    pub fn decode(detail: impl Into<String>, status: u16, request_id: Option<String>) -> Self {
        let mut e = Error::new(ErrorKind::Decode, "Unexpected response");
        e.detail = Some(detail.into());
        e.status = Some(status);
        e.request_id = request_id;
        e
    }

    /// A response that could not be decoded, with its status, request id and a short
    /// snippet of the body (what a proxy's HTML page or an empty body looked like).
    pub fn decode_from(detail: &str, resp: &HttpResponse) -> Self {
        let text = String::from_utf8_lossy(&resp.body);
        let text = text.trim();
        let mut d = String::from(detail);
        if text.is_empty() {
            d.push_str(" (empty body)");
        } else {
            d.push_str(": ");
            d.push_str(&truncate_chars(text, 120));
        }
        Error::decode(
            d,
            resp.status,
            resp.header("x-request-id").map(str::to_owned),
        )
    }

    /// Builds the error for a non-2xx response. Tolerates bodies that are not JSON:API
    /// (HTML from a proxy, empty bodies).
    pub fn from_response(resp: &HttpResponse) -> Self {
        let request_id = resp.header("x-request-id").map(str::to_owned);
        let first = super::json::parse(&resp.body).and_then(|v| match v {
            Value::Object(mut o) => match o.remove("errors") {
                Some(Value::Array(errs)) => errs.into_iter().next(),
                _ => None,
            },
            _ => None,
        });
        let status = resp.status;
        let retryable = matches!(status, 408 | 429 | 500 | 502 | 503 | 504);
        let mut e = Error::new(
            if status == 429 {
                ErrorKind::RateLimited
            } else {
                ErrorKind::Http
            },
            reason_phrase(status),
        );
        e.status = Some(status);
        e.request_id = request_id;
        e.retryable = retryable;
        if let Some(Value::Object(obj)) = first {
            if let Some(code) = obj.get("code").and_then(Value::as_i64) {
                e.code = Some(code);
            }
            if let Some(title) = obj.get("title").and_then(Value::as_str) {
                e.title = title.to_owned();
            }
            e.detail = obj.get("detail").and_then(Value::as_str).map(str::to_owned);
            e.source = obj.get("source").filter(|s| !s.is_null()).cloned();
        } else {
            let snippet = String::from_utf8_lossy(&resp.body);
            let snippet = snippet.trim();
            if !snippet.is_empty() {
                e.detail = Some(truncate_chars(snippet, 200));
            }
        }
        // Code 102 is authentication; 401 is always an auth failure.
        if status == 401 || e.code == Some(102) {
            e.kind = ErrorKind::Auth;
        }
        e
    }

    /// Marks a failure of a write that may have reached the server: a network error or
    /// timeout after the request was sent, or an answer that could not be read (the
    /// site accepted the write, but what it answered is lost, e.g. a body cut off
    /// mid-response). Such a write is never retried automatically.
    pub fn mark_write_outcome_unknown(mut self) -> Self {
        if matches!(
            self.kind,
            ErrorKind::Network | ErrorKind::Timeout | ErrorKind::Decode
        ) {
            self.maybe_applied = true;
            self.retryable = false;
            let mut d = String::from("the write may have been applied; check before repeating it");
            if let Some(old) = self.detail.take() {
                d.push_str(" (");
                d.push_str(&old);
                d.push(')');
            }
            self.detail = Some(d);
        }
        self
    }

    /// Whether this is the server's "Token Expired" answer (401, code 102).
    pub fn is_token_expired(&self) -> bool {
        self.status == Some(401)
            && self
                .detail
                .as_deref()
                .is_some_and(|d| d.eq_ignore_ascii_case("token expired"))
    }

    /// One-line human-readable message, used as the JS `Error.message`.
    pub fn message(&self) -> String {
        let mut m = String::from("ShotGrid ");
        m.push_str(self.kind.as_str());
        if let Some(s) = self.status {
            m.push(' ');
            m.push_str(&crate::protocol::dec(s));
        }
        if let Some(c) = self.code {
            m.push_str(" (code ");
            if c < 0 {
                m.push('-');
            }
            m.push_str(&crate::protocol::dec(c.unsigned_abs()));
            m.push(')');
        }
        m.push_str(": ");
        m.push_str(&self.title);
        if let Some(d) = &self.detail {
            if d != &self.title {
                m.push_str(": ");
                m.push_str(d);
            }
        }
        if let (ErrorKind::InvalidInput, Some(Value::String(p))) = (self.kind, &self.source) {
            m.push_str(" (at ");
            m.push_str(p);
            m.push(')');
        }
        m
    }
}

impl std::ops::Deref for Error {
    type Target = ErrorInfo;
    fn deref(&self) -> &ErrorInfo {
        &self.0
    }
}

impl std::ops::DerefMut for Error {
    fn deref_mut(&mut self) -> &mut ErrorInfo {
        &mut self.0
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for Error {}

fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => {
            let mut t = s[..i].to_owned();
            t.push('…');
            t
        }
        None => s.to_owned(),
    }
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "HTTP error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            headers: vec![("x-request-id".into(), "rid-1".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn decodes_recorded_not_found() {
        // Body as recorded from a production site (fixtures/recorded, Entities find).
        let e = Error::from_response(&resp(
            404,
            r#"{"errors":[{"id":"3e4e40aed59d34e1e7bb596debec75e7","status":404,"code":104,"title":"Not Found","source":null,"detail":"Entity of type [Asset] with id=400000 does not exist.","meta":null}]}"#,
        ));
        assert_eq!(e.kind, ErrorKind::Http);
        assert_eq!(e.status, Some(404));
        assert_eq!(e.code, Some(104));
        assert_eq!(e.title, "Not Found");
        assert_eq!(
            e.detail.as_deref(),
            Some("Entity of type [Asset] with id=400000 does not exist.")
        );
        assert_eq!(e.source, None);
        assert_eq!(e.request_id.as_deref(), Some("rid-1"));
        assert!(!e.retryable);
    }

    #[test]
    fn auth_errors_are_auth_kind() {
        let e = Error::from_response(&resp(
            400,
            r#"{"errors":[{"status":400,"code":102,"title":"Can't authenticate user 'x'"}]}"#,
        ));
        assert_eq!(e.kind, ErrorKind::Auth);
        let e = Error::from_response(&resp(
            401,
            r#"{"errors":[{"status":401,"code":102,"title":"Unauthorized","detail":"Token Expired"}]}"#,
        ));
        assert_eq!(e.kind, ErrorKind::Auth);
        assert!(e.is_token_expired());
    }

    #[test]
    fn tolerates_html_and_empty_bodies() {
        let e = Error::from_response(&resp(502, "<html><body>Bad gateway</body></html>"));
        assert_eq!(e.kind, ErrorKind::Http);
        assert_eq!(e.title, "Bad Gateway");
        assert!(e.retryable);
        assert!(e.detail.clone().unwrap_or_default().contains("Bad gateway"));
        let e = Error::from_response(&resp(503, ""));
        assert_eq!(e.detail, None);
        let e = Error::from_response(&resp(500, r#"{"errors":"nonsense"}"#));
        assert_eq!(e.code, None);
        let e = Error::from_response(&resp(429, "[1,2]"));
        assert_eq!(e.kind, ErrorKind::RateLimited);
    }

    #[test]
    fn long_detail_is_truncated_on_char_boundary() {
        let body = "é".repeat(500);
        let e = Error::from_response(&resp(500, &body));
        let d = e.detail.clone().unwrap_or_default();
        assert_eq!(d.chars().count(), 201);
    }

    #[test]
    fn message_names_invalid_input_path() {
        let e = Error::invalid_input("auth.clientId", "must be a non-empty string");
        assert_eq!(
            e.message(),
            "ShotGrid invalid_input: Invalid input: must be a non-empty string (at auth.clientId)"
        );
    }
}
