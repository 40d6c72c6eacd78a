//! The emulated object storage (what S3 is to a real site), under `/_storage/`.
//!
//! Every URL is pre-signed: `X-Amz-Date` + `X-Amz-Expires` bound its life and
//! `X-Amz-Signature` (HMAC-SHA256 under the site's secret of the method, path and the
//! other query parameters) binds it to one object and method. Like S3, storage answers
//! with XML errors, and a PUT carrying an `Authorization` header is refused (400
//! `InvalidArgument`, "Only one auth mechanism allowed"): clients must never send their
//! bearer token here.
//!
//! Downloads (`GET`) ignore an `Authorization` header instead of refusing it: a browser
//! following the same-origin redirect of `?alt=original` forwards it, which it would
//! not do to a real, cross-origin S3 (the header is counted in `/_admin/stats` as
//! `storage_requests_with_authorization`).
//!
//! - `PUT /_storage/uploads/{upload_id}[?partNumber=N&uploadId=…]`: a single-part
//!   upload or one part of a multipart upload; answers 200 with a quoted `ETag`.
//! - `GET|HEAD /_storage/blobs/{blob_id}/{filename}`: a stored file, honouring `Range`.

use axum::body::{Body, Bytes};
use axum::extract::{OriginalUri, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::Router;

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use http_body::{Frame, SizeHint};

use crate::http::AppState;
use crate::model::files::{amz_date, etag, parse_amz_date, unix_now, FileError, FileStore};

/// The storage routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/_storage/uploads/{upload_id}", put(put_object))
        .route("/_storage/blobs/{blob_id}/{filename}", get(get_object))
}

/// Percent-encodes one path segment.
pub fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn canonical_query(pairs: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = pairs
        .iter()
        .filter(|(k, _)| k != "X-Amz-Signature")
        .collect();
    sorted.sort();
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in sorted {
        ser.append_pair(k, v);
    }
    ser.finish()
}

fn string_to_sign(method: &str, path: &str, pairs: &[(String, String)]) -> String {
    format!("{method}\n{path}\n{}", canonical_query(pairs))
}

/// A pre-signed storage URL for `method` on `path` (already percent-encoded), valid
/// for the file store's URL lifetime, with `extra` query parameters.
pub fn presign(
    files: &FileStore,
    base: &str,
    method: &str,
    path: &str,
    extra: &[(&str, String)],
) -> String {
    presign_for(
        files,
        base,
        method,
        path,
        extra,
        files.url_lifetime().as_secs(),
    )
}

/// Like [`presign`] with an explicit lifetime in seconds.
pub fn presign_for(
    files: &FileStore,
    base: &str,
    method: &str,
    path: &str,
    extra: &[(&str, String)],
    lifetime_secs: u64,
) -> String {
    let mut pairs: Vec<(String, String)> = extra
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    pairs.extend([
        ("X-Amz-Algorithm".into(), "AWS4-HMAC-SHA256".into()),
        (
            "X-Amz-Credential".into(),
            "EMULATOR/us-east-1/s3/aws4_request".into(),
        ),
        ("X-Amz-Date".into(), amz_date(unix_now())),
        ("X-Amz-Expires".into(), lifetime_secs.to_string()),
        ("X-Amz-SignedHeaders".into(), "host".into()),
    ]);
    let signature = files.sign(&string_to_sign(method, path, &pairs));
    pairs.push(("X-Amz-Signature".into(), signature));
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in &pairs {
        ser.append_pair(k, v);
    }
    format!("{base}{path}?{}", ser.finish())
}

/// An S3-style XML error.
fn s3_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{}</Message></Error>",
        xml_escape(message)
    );
    let mut res = (status, body).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    res
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Checks the signature and expiry of a storage request; returns the query pairs.
fn verify(
    files: &FileStore,
    method: &str,
    path: &str,
    query: Option<&str>,
) -> Result<Vec<(String, String)>, Box<Response>> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let denied = |m: &str| Box::new(s3_error(StatusCode::FORBIDDEN, "AccessDenied", m));
    let (Some(signature), Some(date), Some(expires)) = (
        get("X-Amz-Signature"),
        get("X-Amz-Date"),
        get("X-Amz-Expires"),
    ) else {
        return Err(denied(
            "Query-string authentication requires the X-Amz-Signature, X-Amz-Date and X-Amz-Expires parameters",
        ));
    };
    if !files.verify(&string_to_sign(method, path, &pairs), signature) {
        return Err(Box::new(s3_error(
            StatusCode::FORBIDDEN,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided.",
        )));
    }
    let (Some(date), Ok(expires)) = (parse_amz_date(date), expires.parse::<u64>()) else {
        return Err(denied("X-Amz-Date or X-Amz-Expires is malformed"));
    };
    if unix_now() >= date.saturating_add(expires) {
        return Err(denied("Request has expired"));
    }
    Ok(pairs)
}

async fn put_object(
    State(state): State<AppState>,
    Path(upload_id): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if headers.contains_key(header::AUTHORIZATION) {
        return s3_error(
            StatusCode::BAD_REQUEST,
            "InvalidArgument",
            "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified",
        );
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    // Hashed before the store is locked, so parts PUT at once are hashed in parallel.
    let tag = etag(&body);
    let mut files = state.backend.files();
    let pairs = match verify(&files, "PUT", uri.path(), uri.query()) {
        Ok(p) => p,
        Err(res) => return *res,
    };
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let result = match get("partNumber") {
        None => files.put_single(&upload_id, body, content_type),
        Some(raw) => {
            if get("uploadId") != Some(upload_id.as_str()) {
                return s3_error(
                    StatusCode::BAD_REQUEST,
                    "InvalidArgument",
                    "uploadId does not match the object",
                );
            }
            match raw.parse::<u32>() {
                Ok(n) => files.put_part_tagged(&upload_id, n, body, tag, content_type),
                Err(_) => Err(FileError::BadPartNumber),
            }
        }
    };
    match result {
        Ok(etag) => {
            let mut res = StatusCode::OK.into_response();
            if let Ok(v) = HeaderValue::from_str(&etag) {
                res.headers_mut().insert(header::ETAG, v);
            }
            res
        }
        Err(FileError::UnknownUpload) => s3_error(
            StatusCode::NOT_FOUND,
            "NoSuchUpload",
            "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
        ),
        Err(FileError::BadPartNumber) => s3_error(
            StatusCode::BAD_REQUEST,
            "InvalidArgument",
            "Part number must be an integer between 1 and 10000, inclusive",
        ),
        Err(e) => s3_error(StatusCode::BAD_REQUEST, "InvalidRequest", &e.to_string()),
    }
}

/// A parsed `Range` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeRequest {
    /// No (usable) range: the whole body.
    Full,
    /// Bytes `start..=end`.
    Partial(u64, u64),
    /// Cannot be satisfied (416).
    Unsatisfiable,
}

/// Parses a `Range` header against a body length. Malformed headers and multiple
/// ranges are ignored (the whole body is sent), as RFC 9110 allows.
pub fn parse_range(header: Option<&str>, len: u64) -> RangeRequest {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return RangeRequest::Full;
    };
    if spec.contains(',') {
        return RangeRequest::Full;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return RangeRequest::Full;
    };
    let num = |s: &str| -> Option<u64> {
        if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
            None
        } else {
            s.parse().ok()
        }
    };
    match (a.is_empty(), b.is_empty()) {
        (true, true) => RangeRequest::Full,
        (true, false) => match num(b) {
            None => RangeRequest::Full,
            Some(0) => RangeRequest::Unsatisfiable,
            Some(_) if len == 0 => RangeRequest::Unsatisfiable,
            Some(n) => RangeRequest::Partial(len.saturating_sub(n), len - 1),
        },
        (false, _) => {
            let Some(start) = num(a) else {
                return RangeRequest::Full;
            };
            let end = if b.is_empty() {
                None
            } else {
                match num(b) {
                    Some(e) => Some(e),
                    None => return RangeRequest::Full,
                }
            };
            if end.is_some_and(|e| e < start) {
                return RangeRequest::Full;
            }
            if start >= len {
                return RangeRequest::Unsatisfiable;
            }
            let last = len - 1;
            RangeRequest::Partial(start, end.map_or(last, |e| e.min(last)))
        }
    }
}

async fn get_object(
    State(state): State<AppState>,
    method: Method,
    Path((blob_id, _filename)): Path<(String, String)>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
) -> Response {
    let files = state.backend.files();
    // HEAD uses the GET signature, as on S3.
    if let Err(res) = verify(&files, "GET", uri.path(), uri.query()) {
        return *res;
    }
    let Some(blob) = blob_id.parse::<u64>().ok().and_then(|id| files.blob(id)) else {
        return s3_error(
            StatusCode::NOT_FOUND,
            "NoSuchKey",
            "The specified key does not exist.",
        );
    };
    let content = blob.content.clone();
    let content_type = blob.content_type.clone();
    drop(files);
    let len = content.len() as u64;
    let range = parse_range(
        headers.get(header::RANGE).and_then(|v| v.to_str().ok()),
        len,
    );
    let (status, body, content_range) = match range {
        RangeRequest::Full => (StatusCode::OK, content.range(0, content.len()), None),
        RangeRequest::Partial(a, b) => (
            StatusCode::PARTIAL_CONTENT,
            // a <= b < len: the range is within the content.
            content.range(a as usize, b as usize + 1),
            Some(format!("bytes {a}-{b}/{len}")),
        ),
        RangeRequest::Unsatisfiable => {
            let mut res = s3_error(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "InvalidRange",
                "The requested range is not satisfiable",
            );
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{len}")) {
                res.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return res;
        }
    };
    let body_len: u64 = body.iter().map(|b| b.len() as u64).sum();
    let mut res = Response::new(if method == Method::HEAD {
        Body::empty()
    } else {
        Body::new(Pieces(body.into()))
    });
    *res.status_mut() = status;
    let h = res.headers_mut();
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Ok(v) = HeaderValue::from_str(&content_type) {
        h.insert(header::CONTENT_TYPE, v);
    }
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(body_len));
    if let Some(cr) = content_range.and_then(|c| HeaderValue::from_str(&c).ok()) {
        h.insert(header::CONTENT_RANGE, cr);
    }
    res
}

/// A response body sent as slices of a stored file's pieces, one frame each (a file
/// stored in parts is never copied into one buffer to be served).
struct Pieces(VecDeque<Bytes>);

impl http_body::Body for Pieces {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.0.pop_front().map(|b| Ok(Frame::data(b))))
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.0.iter().map(|b| b.len() as u64).sum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        use RangeRequest::*;
        assert_eq!(parse_range(None, 10), Full);
        assert_eq!(parse_range(Some("bytes=0-3"), 10), Partial(0, 3));
        assert_eq!(parse_range(Some("bytes=5-"), 10), Partial(5, 9));
        assert_eq!(parse_range(Some("bytes=5-100"), 10), Partial(5, 9));
        assert_eq!(parse_range(Some("bytes=-3"), 10), Partial(7, 9));
        assert_eq!(parse_range(Some("bytes=-30"), 10), Partial(0, 9));
        assert_eq!(parse_range(Some("bytes=10-"), 10), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=-0"), 10), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=0-0"), 0), Unsatisfiable);
        assert_eq!(parse_range(Some("bytes=4-2"), 10), Full);
        assert_eq!(parse_range(Some("bytes=0-1,3-4"), 10), Full);
        assert_eq!(parse_range(Some("items=0-1"), 10), Full);
        assert_eq!(parse_range(Some("bytes=x-1"), 10), Full);
    }

    #[test]
    fn segments_are_encoded() {
        assert_eq!(encode_segment("a b/é.png"), "a%20b%2F%C3%A9.png");
    }
}
