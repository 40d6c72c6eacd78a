//! Plain HTTP request/response values exchanged between the protocol core and a transport.

use std::fmt;

/// HTTP method of a request built by the protocol core.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// GET
    Get,
    /// POST
    Post,
    /// PUT
    Put,
    /// PATCH
    Patch,
    /// DELETE
    Delete,
}

impl Method {
    /// The method name as sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// A request ready to be sent by a transport. The URL is always absolute.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// Method.
    pub method: Method,
    /// Absolute URL. Never carries credentials.
    pub url: String,
    /// Header name/value pairs. May carry the bearer token: never log them unredacted.
    pub headers: Vec<(String, String)>,
    /// Body bytes, if any.
    pub body: Option<Vec<u8>>,
}

impl HttpRequest {
    /// A request without headers or body.
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        HttpRequest {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: None,
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: Vec<u8>) -> Self {
        self.body = Some(body);
        self
    }
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Headers and bodies may hold tokens or credentials: show only their size.
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &self.headers.len())
            .field("body_len", &self.body.as_ref().map(Vec::len))
            .finish()
    }
}

/// A response received by a transport.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Header name/value pairs; names compared case-insensitively.
    pub headers: Vec<(String, String)>,
    /// Body bytes (possibly empty).
    pub body: Vec<u8>,
}

/// The response headers the protocol reads (lower case): the request id for errors,
/// `Retry-After` for backoff, and the `ETag`/`Location` of upload steps. A transport
/// may copy only these into [`HttpResponse::headers`].
pub const RESPONSE_HEADERS: &[&str] = &["x-request-id", "retry-after", "etag", "location"];

impl HttpResponse {
    /// First value of a header, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Splits `scheme://rest` at the first `://`, like `split_once("://")` but with a char
/// search: no substring searcher in the .wasm for one pattern.
pub fn split_scheme(s: &str) -> Option<(&str, &str)> {
    s.match_indices(':')
        .find_map(|(i, _)| Some((s.get(..i)?, s.get(i..)?.strip_prefix("://")?)))
}

/// Appends `value` to `out` percent-encoded for a URL query component or a form body
/// (`application/x-www-form-urlencoded`: space as `%20`, which every server accepts).
pub fn percent_encode_into(out: &mut String, value: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in value.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        }
    }
}

/// Encodes name/value pairs as `a=1&b=2`, percent-encoding both sides.
pub fn encode_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (name, value) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        percent_encode_into(&mut out, name);
        out.push('=');
        percent_encode_into(&mut out, value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_scheme_is_split_once_at_the_first_separator() {
        for s in [
            "https://a.b/c",
            "host:8443",
            "a:b://c://d",
            "://x",
            "x:/y",
            "",
            ":",
            "é://ü",
        ] {
            assert_eq!(split_scheme(s), s.split_once("://"), "{s}");
        }
    }

    #[test]
    fn encodes_reserved_and_unicode() {
        assert_eq!(
            encode_pairs([("a b", "x&y=z"), ("k", "é/+")]),
            "a%20b=x%26y%3Dz&k=%C3%A9%2F%2B"
        );
    }

    #[test]
    fn header_lookup_is_case_insensitive() {
        let r = HttpResponse {
            status: 200,
            headers: vec![("X-Request-Id".into(), "abc".into())],
            body: vec![],
        };
        assert_eq!(r.header("x-request-id"), Some("abc"));
        assert_eq!(r.header("etag"), None);
    }

    #[test]
    fn debug_hides_headers_and_body() {
        let r = HttpRequest::new(Method::Post, "https://x/")
            .header("Authorization", "Bearer secret-token")
            .body(b"client_secret=hunter2".to_vec());
        let s = format!("{r:?}");
        assert!(!s.contains("secret-token") && !s.contains("hunter2"), "{s}");
    }
}
