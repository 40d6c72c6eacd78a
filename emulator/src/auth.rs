//! Credentials and tokens: script users, issued access tokens and refresh tokens.
//!
//! Access tokens live for the configured lifetime; refresh tokens are single use and
//! live 24 hours. Expired access tokens are remembered for a while so that using one
//! answers "Token Expired" rather than "Token invalid", as real sites do.

use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How long a refresh token stays usable.
pub const REFRESH_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

/// How long an expired access token is still recognised as "expired" (not "invalid").
const EXPIRED_MEMORY: Duration = Duration::from_secs(24 * 60 * 60);

/// Who a token was issued to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// An API script (client_credentials grant), by script name.
    Script(String),
}

/// A successful grant: what the token endpoint returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenGrant {
    /// The bearer token.
    pub access_token: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// The single-use refresh token.
    pub refresh_token: String,
}

/// Why authentication failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// Unknown client id or wrong secret (carries the client id as given).
    #[error("can't authenticate user {0:?}")]
    BadCredentials(String),
    /// Unknown, garbage, reused or expired refresh token; unknown access token.
    #[error("token invalid")]
    TokenInvalid,
    /// A known access token past its lifetime.
    #[error("token expired")]
    TokenExpired,
}

#[derive(Debug, Clone)]
struct Issued {
    principal: Principal,
    expires_at: Instant,
}

/// The site's credential store.
#[derive(Debug)]
pub struct AuthStore {
    scripts: HashMap<String, String>,
    access: HashMap<String, Issued>,
    refresh: HashMap<String, Issued>,
    access_lifetime: Duration,
}

impl AuthStore {
    /// An empty store issuing access tokens valid for `access_lifetime`.
    pub fn new(access_lifetime: Duration) -> Self {
        AuthStore {
            scripts: HashMap::new(),
            access: HashMap::new(),
            refresh: HashMap::new(),
            access_lifetime,
        }
    }

    /// Adds (or replaces) a script user: `name` is the client_id, `key` the secret.
    pub fn add_script_user(&mut self, name: &str, key: &str) {
        self.scripts.insert(name.to_string(), key.to_string());
    }

    /// Whether a script user with this name exists.
    pub fn has_script_user(&self, name: &str) -> bool {
        self.scripts.contains_key(name)
    }

    /// The `client_credentials` grant.
    pub fn client_credentials(
        &mut self,
        client_id: &str,
        client_secret: &str,
    ) -> Result<TokenGrant, AuthError> {
        match self.scripts.get(client_id) {
            Some(key) if constant_time_eq(key.as_bytes(), client_secret.as_bytes()) => {
                Ok(self.issue(Principal::Script(client_id.to_string())))
            }
            _ => Err(AuthError::BadCredentials(client_id.to_string())),
        }
    }

    /// The `refresh_token` grant: consumes the refresh token and issues a new pair.
    pub fn refresh(&mut self, refresh_token: &str) -> Result<TokenGrant, AuthError> {
        let issued = self
            .refresh
            .remove(refresh_token)
            .ok_or(AuthError::TokenInvalid)?;
        if issued.expires_at <= Instant::now() {
            return Err(AuthError::TokenInvalid);
        }
        if !self.principal_exists(&issued.principal) {
            return Err(AuthError::TokenInvalid);
        }
        Ok(self.issue(issued.principal))
    }

    fn principal_exists(&self, principal: &Principal) -> bool {
        match principal {
            Principal::Script(name) => self.scripts.contains_key(name),
        }
    }

    /// Checks a bearer token.
    pub fn authenticate(&self, access_token: &str) -> Result<Principal, AuthError> {
        let issued = self
            .access
            .get(access_token)
            .ok_or(AuthError::TokenInvalid)?;
        if issued.expires_at <= Instant::now() {
            return Err(AuthError::TokenExpired);
        }
        Ok(issued.principal.clone())
    }

    /// Expires every access token now (for fault injection and tests); refresh tokens
    /// stay valid.
    pub fn expire_access_tokens(&mut self) {
        let now = Instant::now();
        for issued in self.access.values_mut() {
            issued.expires_at = now;
        }
    }

    fn issue(&mut self, principal: Principal) -> TokenGrant {
        self.prune();
        let now = Instant::now();
        let access_token = random_token();
        let refresh_token = random_token();
        self.access.insert(
            access_token.clone(),
            Issued {
                principal: principal.clone(),
                expires_at: now + self.access_lifetime,
            },
        );
        self.refresh.insert(
            refresh_token.clone(),
            Issued {
                principal,
                expires_at: now + REFRESH_TOKEN_LIFETIME,
            },
        );
        TokenGrant {
            access_token,
            expires_in: self.access_lifetime.as_secs(),
            refresh_token,
        }
    }

    /// Forgets tokens nobody can use any more, so memory stays bounded.
    fn prune(&mut self) {
        let now = Instant::now();
        self.access
            .retain(|_, i| i.expires_at + EXPIRED_MEMORY > now);
        self.refresh.retain(|_, i| i.expires_at > now);
    }
}

/// A new random token: 32 random bytes, hex encoded.
pub fn random_token() -> String {
    hex(&rand::random::<[u8; 32]>())
}

/// Lower-case hex of some bytes.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    s
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grant_refresh_once_then_invalid() {
        let mut a = AuthStore::new(Duration::from_secs(600));
        a.add_script_user("s", "k");
        assert_eq!(
            a.client_credentials("s", "nope"),
            Err(AuthError::BadCredentials("s".into()))
        );
        let g = a.client_credentials("s", "k").unwrap();
        assert_eq!(g.expires_in, 600);
        assert_eq!(g.access_token.len(), 64);
        assert_eq!(
            a.authenticate(&g.access_token),
            Ok(Principal::Script("s".into()))
        );
        let g2 = a.refresh(&g.refresh_token).unwrap();
        assert_eq!(a.refresh(&g.refresh_token), Err(AuthError::TokenInvalid));
        assert!(a.authenticate(&g2.access_token).is_ok());
        a.expire_access_tokens();
        assert_eq!(
            a.authenticate(&g2.access_token),
            Err(AuthError::TokenExpired)
        );
        assert_eq!(a.authenticate("garbage"), Err(AuthError::TokenInvalid));
    }
}
