//! OAuth grants: token request bodies and token responses. No I/O, no clock: times are
//! passed in as milliseconds since the epoch.

use crate::protocol::json::Value;
use std::fmt;

use super::error::{Error, ErrorKind};
use super::http::{encode_pairs, HttpRequest, HttpResponse, Method};
use super::site::Site;

/// A string that must never be shown: `Debug` prints `"<redacted>"`.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The secret itself; only for building request bodies and headers.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"<redacted>\"")
    }
}

/// How the client authenticates.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Grant {
    /// A script user: `client_id` is the script name, `client_secret` its key.
    ClientCredentials {
        /// Script name.
        client_id: String,
        /// Script key.
        client_secret: Secret,
    },
    /// A human user's login and password.
    Password {
        /// Login.
        username: String,
        /// Password.
        password: Secret,
    },
    /// An existing web session token.
    SessionToken {
        /// The session token.
        session_token: Secret,
    },
    /// Only a refresh token (e.g. restored from a previous session); cannot fall back.
    RefreshToken {
        /// The refresh token.
        refresh_token: Secret,
    },
}

impl Grant {
    /// The grant's OAuth name.
    pub fn name(&self) -> &'static str {
        match self {
            Grant::ClientCredentials { .. } => "client_credentials",
            Grant::Password { .. } => "password",
            Grant::SessionToken { .. } => "session_token",
            Grant::RefreshToken { .. } => "refresh_token",
        }
    }
}

/// Extra token request parameters shared by every grant.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TokenScope {
    /// Act as this human user (`scope=sudo_as_login:<login>`).
    pub sudo_as: Option<String>,
    /// Session UUID to associate with events.
    pub session_uuid: Option<String>,
}

/// Builds the token request: a form body, never credentials in the URL.
/// With `refresh` set, asks for a refresh with that single-use refresh token.
pub fn token_request(
    site: &Site,
    grant: &Grant,
    scope: &TokenScope,
    refresh: Option<&Secret>,
) -> HttpRequest {
    let mut pairs: Vec<(&str, &str)> = Vec::with_capacity(5);
    match (refresh, grant) {
        (Some(rt), _) | (None, Grant::RefreshToken { refresh_token: rt }) => {
            pairs.push(("grant_type", "refresh_token"));
            pairs.push(("refresh_token", rt.expose()));
        }
        (
            None,
            Grant::ClientCredentials {
                client_id,
                client_secret,
            },
        ) => {
            pairs.push(("grant_type", "client_credentials"));
            pairs.push(("client_id", client_id));
            pairs.push(("client_secret", client_secret.expose()));
        }
        (None, Grant::Password { username, password }) => {
            pairs.push(("grant_type", "password"));
            pairs.push(("username", username));
            pairs.push(("password", password.expose()));
        }
        (None, Grant::SessionToken { session_token }) => {
            pairs.push(("grant_type", "session_token"));
            pairs.push(("session_token", session_token.expose()));
        }
    }
    let scope_value = scope.sudo_as.as_ref().map(|l| {
        let mut s = String::from("sudo_as_login:");
        s.push_str(l);
        s
    });
    if let Some(s) = &scope_value {
        pairs.push(("scope", s));
    }
    if let Some(u) = &scope.session_uuid {
        pairs.push(("session_uuid", u));
    }
    HttpRequest::new(Method::Post, site.url("/api/v1/auth/access_token"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Accept", "application/json")
        .body(encode_pairs(pairs).into_bytes())
}

/// Tokens obtained from the site.
#[derive(Clone, Debug, PartialEq)]
pub struct Tokens {
    /// Bearer token.
    pub access_token: Secret,
    /// Single-use refresh token, if the site gave one.
    pub refresh_token: Option<Secret>,
    /// When the access token expires (ms since epoch).
    pub expires_at_ms: f64,
    /// When the refresh token was issued (ms since epoch); they live 24 h.
    pub refresh_issued_at_ms: f64,
}

/// Refresh tokens live 24 hours.
pub const REFRESH_TOKEN_LIFETIME_MS: f64 = 24.0 * 3600.0 * 1000.0;

impl Tokens {
    /// Whether the access token should be renewed at `now_ms`, `margin_ms` ahead of expiry.
    pub fn needs_refresh(&self, now_ms: f64, margin_ms: f64) -> bool {
        now_ms + margin_ms >= self.expires_at_ms
    }

    /// The refresh token, if it is still within its 24 h life at `now_ms`.
    pub fn usable_refresh_token(&self, now_ms: f64) -> Option<&Secret> {
        self.refresh_token
            .as_ref()
            .filter(|_| now_ms < self.refresh_issued_at_ms + REFRESH_TOKEN_LIFETIME_MS - 60_000.0)
    }
}

/// Tokens an app kept from an earlier session and hands back to resume it without a
/// new grant. Expiry is in ms since the epoch.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportedTokens {
    /// The access token, if still worth trying.
    pub access_token: Option<Secret>,
    /// The refresh token.
    pub refresh_token: Secret,
    /// When the access token expires; unknown means it is used until the site answers
    /// "Token Expired" or the shortest lifetime seen (600 s) has passed.
    pub expires_at_ms: Option<f64>,
}

impl ImportedTokens {
    /// The token state at `now_ms`. Without an access token the state is already due for
    /// a refresh. The refresh token's issue time is unknown: it is taken as `now_ms`, and
    /// a site that refuses it makes the client fall back to the full grant.
    pub fn into_tokens(self, now_ms: f64) -> Tokens {
        let expires_at_ms = match (&self.access_token, self.expires_at_ms) {
            (None, _) => 0.0,
            (Some(_), Some(t)) if t.is_finite() => t,
            (Some(_), _) => now_ms + 600_000.0,
        };
        Tokens {
            access_token: self.access_token.unwrap_or_default(),
            refresh_token: Some(self.refresh_token),
            expires_at_ms,
            refresh_issued_at_ms: now_ms,
        }
    }
}

/// The fields of a token response. Read from a parsed `Value` rather than through a
/// derived `Deserialize`: the .wasm already holds the `Value` parser, and a derive
/// brings a second, typed one.
struct TokenBody {
    access_token: String,
    token_type: Option<String>,
    expires_in: Option<f64>,
    refresh_token: Option<String>,
}

impl TokenBody {
    /// `None` unless the body is an object whose `access_token` is a string and whose
    /// other known fields are absent, null or of their type (unknown fields are ignored).
    fn parse(body: &[u8]) -> Option<TokenBody> {
        let v = super::json::parse(body)?;
        let o = v.as_object()?;
        let opt = |key: &str| -> Option<Option<&Value>> {
            match o.get(key) {
                None | Some(Value::Null) => Some(None),
                Some(v) => Some(Some(v)),
            }
        };
        let opt_str = |key: &str| -> Option<Option<String>> {
            match opt(key)? {
                None => Some(None),
                Some(v) => v.as_str().map(|s| Some(s.to_owned())),
            }
        };
        Some(TokenBody {
            access_token: o.get("access_token")?.as_str()?.to_owned(),
            token_type: opt_str("token_type")?,
            expires_in: match opt("expires_in")? {
                None => None,
                Some(v) => Some(v.as_f64()?),
            },
            refresh_token: opt_str("refresh_token")?,
        })
    }
}

/// Decodes a token response received at `now_ms`. Non-2xx answers become auth errors.
pub fn parse_token_response(resp: &HttpResponse, now_ms: f64) -> Result<Tokens, Error> {
    if !resp.is_success() {
        let mut e = Error::from_response(resp);
        if matches!(resp.status, 400 | 401 | 403) {
            e.kind = ErrorKind::Auth;
        }
        return Err(e);
    }
    let body = TokenBody::parse(&resp.body).ok_or_else(|| {
        Error::decode_from("the token response is not the expected JSON object", resp)
    })?;
    if body.access_token.is_empty()
        || body
            .token_type
            .as_deref()
            .is_some_and(|t| !t.eq_ignore_ascii_case("bearer"))
    {
        return Err(Error::decode_from(
            "the token response has no bearer access token",
            resp,
        ));
    }
    // Missing or absurd lifetimes fall back to the shortest seen on real sites.
    let expires_in = body
        .expires_in
        .filter(|s| s.is_finite() && *s > 0.0)
        .unwrap_or(600.0);
    Ok(Tokens {
        access_token: Secret::new(body.access_token),
        refresh_token: body
            .refresh_token
            .filter(|r| !r.is_empty())
            .map(Secret::new),
        expires_at_ms: now_ms + expires_in * 1000.0,
        refresh_issued_at_ms: now_ms,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> Site {
        Site::parse("https://s.example.com").unwrap()
    }

    fn body(r: &HttpRequest) -> String {
        String::from_utf8(r.body.clone().unwrap_or_default()).unwrap()
    }

    #[test]
    fn client_credentials_go_in_the_form_body() {
        let g = Grant::ClientCredentials {
            client_id: "my script".into(),
            client_secret: Secret::new("s&cr=t"),
        };
        let r = token_request(&site(), &g, &TokenScope::default(), None);
        assert_eq!(r.method, Method::Post);
        assert_eq!(r.url, "https://s.example.com/api/v1/auth/access_token");
        assert_eq!(
            body(&r),
            "grant_type=client_credentials&client_id=my%20script&client_secret=s%26cr%3Dt"
        );
        assert!(r.headers.contains(&(
            "Content-Type".into(),
            "application/x-www-form-urlencoded".into()
        )));
    }

    #[test]
    fn every_grant_and_scope() {
        let scope = TokenScope {
            sudo_as: Some("jane".into()),
            session_uuid: Some("u-1".into()),
        };
        let g = Grant::Password {
            username: "bob".into(),
            password: Secret::new("pw"),
        };
        assert_eq!(
            body(&token_request(&site(), &g, &scope, None)),
            "grant_type=password&username=bob&password=pw&scope=sudo_as_login%3Ajane&session_uuid=u-1"
        );
        let g = Grant::SessionToken {
            session_token: Secret::new("st"),
        };
        assert_eq!(
            body(&token_request(&site(), &g, &TokenScope::default(), None)),
            "grant_type=session_token&session_token=st"
        );
        let rt = Secret::new("r1");
        assert_eq!(
            body(&token_request(
                &site(),
                &g,
                &TokenScope::default(),
                Some(&rt)
            )),
            "grant_type=refresh_token&refresh_token=r1"
        );
        let g = Grant::RefreshToken {
            refresh_token: Secret::new("r2"),
        };
        assert_eq!(
            body(&token_request(&site(), &g, &TokenScope::default(), None)),
            "grant_type=refresh_token&refresh_token=r2"
        );
    }

    #[test]
    fn parses_recorded_token_response() {
        let resp = HttpResponse {
            status: 200,
            headers: vec![],
            body: br#"{"token_type":"Bearer","access_token":"<ACCESS_TOKEN>","expires_in":600,"refresh_token":"<REFRESH_TOKEN>"}"#.to_vec(),
        };
        let t = parse_token_response(&resp, 1000.0).unwrap();
        assert_eq!(t.access_token.expose(), "<ACCESS_TOKEN>");
        assert_eq!(t.expires_at_ms, 601_000.0);
        assert!(!t.needs_refresh(1000.0, 60_000.0));
        assert!(t.needs_refresh(541_000.0, 60_000.0));
        assert!(t.usable_refresh_token(1000.0).is_some());
        assert!(t
            .usable_refresh_token(1000.0 + REFRESH_TOKEN_LIFETIME_MS)
            .is_none());
    }

    #[test]
    fn optional_token_fields_may_be_null_or_absent() {
        let resp = HttpResponse {
            status: 200,
            headers: vec![],
            body: br#"{"access_token":"a","token_type":null,"expires_in":null,"refresh_token":null,"scope":1}"#.to_vec(),
        };
        let t = parse_token_response(&resp, 0.0).unwrap();
        assert_eq!(t.access_token.expose(), "a");
        assert_eq!(t.expires_at_ms, 600_000.0);
        assert!(t.refresh_token.is_none());
        let resp = HttpResponse {
            body: br#"{"access_token":"a","expires_in":90.5}"#.to_vec(),
            ..resp
        };
        assert_eq!(
            parse_token_response(&resp, 0.0).unwrap().expires_at_ms,
            90_500.0
        );
    }

    #[test]
    fn bad_token_responses_are_typed_errors() {
        for (status, b, kind) in [
            (200, "not json", ErrorKind::Decode),
            (200, r#"{"access_token":""}"#, ErrorKind::Decode),
            (200, r#"["access_token"]"#, ErrorKind::Decode),
            (200, r#"{"token_type":"Bearer"}"#, ErrorKind::Decode),
            (200, r#"{"access_token":7}"#, ErrorKind::Decode),
            (
                200,
                r#"{"access_token":"x","expires_in":"600"}"#,
                ErrorKind::Decode,
            ),
            (
                200,
                r#"{"access_token":"x","refresh_token":5}"#,
                ErrorKind::Decode,
            ),
            (
                200,
                r#"{"access_token":"x","token_type":true}"#,
                ErrorKind::Decode,
            ),
            (
                200,
                r#"{"access_token":"x","token_type":"mac"}"#,
                ErrorKind::Decode,
            ),
            (
                400,
                r#"{"errors":[{"code":102,"title":"Can't authenticate user 'x'"}]}"#,
                ErrorKind::Auth,
            ),
            (401, "", ErrorKind::Auth),
            (503, "", ErrorKind::Http),
        ] {
            let resp = HttpResponse {
                status,
                headers: vec![],
                body: b.as_bytes().to_vec(),
            };
            assert_eq!(
                parse_token_response(&resp, 0.0)
                    .map(|_| ())
                    .unwrap_err()
                    .kind,
                kind,
                "{b}"
            );
        }
    }

    #[test]
    fn imported_tokens() {
        let t = ImportedTokens {
            access_token: Some(Secret::new("a")),
            refresh_token: Secret::new("r"),
            expires_at_ms: Some(5000.0),
        }
        .into_tokens(1000.0);
        assert_eq!(t.expires_at_ms, 5000.0);
        assert_eq!(
            t.usable_refresh_token(1000.0).map(Secret::expose),
            Some("r")
        );
        let t = ImportedTokens {
            access_token: None,
            refresh_token: Secret::new("r"),
            expires_at_ms: Some(5000.0),
        }
        .into_tokens(1000.0);
        assert!(t.needs_refresh(1000.0, 0.0));
        let t = ImportedTokens {
            access_token: Some(Secret::new("a")),
            refresh_token: Secret::new("r"),
            expires_at_ms: None,
        }
        .into_tokens(1000.0);
        assert_eq!(t.expires_at_ms, 601_000.0);
        assert!(!format!("{t:?}").contains("\"a\""));
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        let g = Grant::ClientCredentials {
            client_id: "id".into(),
            client_secret: Secret::new("hunter2"),
        };
        assert!(!format!("{g:?}").contains("hunter2"));
    }
}
