//! Credentials and tokens: script users, human users (login/password), session tokens,
//! issued access tokens and refresh tokens.
//!
//! Access tokens live for the configured lifetime; refresh tokens are single use and
//! live 24 hours. Expired access tokens are remembered for a while so that using one
//! answers "Token Expired" rather than "Token invalid", as real sites do.
//!
//! Every issued token carries a [`Session`]: who authenticated ([`Principal`]), the
//! HumanUser a script acts as (`scope=sudo_as_login:<login>`), and the caller's
//! `session_uuid`. A refresh keeps the session of the token it replaces.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::model::Store;

/// Login of the human user the demo seed can log in as (`password` grant).
pub const DEMO_HUMAN_LOGIN: &str = "admin";
/// Password of [`DEMO_HUMAN_LOGIN`] on the demo seed.
pub const DEMO_HUMAN_PASSWORD: &str = "admin-password-demo";

/// How long a session token (for the `session_token` grant) stays usable.
pub const SESSION_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

/// How long a refresh token stays usable.
pub const REFRESH_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);

/// How long an expired access token is still recognised as "expired" (not "invalid").
const EXPIRED_MEMORY: Duration = Duration::from_secs(24 * 60 * 60);

/// Who a token was issued to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// An API script (client_credentials grant), by script name.
    Script(String),
    /// A human user (password or session_token grant), by login.
    Human(String),
}

/// Everything an access token stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Who authenticated.
    pub principal: Principal,
    /// Login of the HumanUser a script acts as (`scope=sudo_as_login:<login>`).
    pub sudo_as: Option<String>,
    /// The caller's `session_uuid`, carried into the events its writes cause.
    pub session_uuid: Option<String>,
}

impl Session {
    /// A session without sudo or session uuid.
    pub fn of(principal: Principal) -> Self {
        Session {
            principal,
            sudo_as: None,
            session_uuid: None,
        }
    }

    /// Login of the HumanUser acting: the sudo target, or the human who logged in;
    /// `None` for a script acting as itself.
    pub fn acting_login(&self) -> Option<&str> {
        match (&self.sudo_as, &self.principal) {
            (Some(login), _) => Some(login),
            (None, Principal::Human(login)) => Some(login),
            (None, Principal::Script(_)) => None,
        }
    }

    /// The entity that writes made with this session are attributed to (for
    /// `created_by`/`updated_by`/event `user`): the acting HumanUser as `{type, id}`,
    /// else the script's ApiUser record (matched by `firstname` or name) if the store
    /// has one, else `None`.
    pub fn acting_user(&self, store: &Store) -> Option<Value> {
        if let Some(login) = self.acting_login() {
            return find_human_user(store, login)
                .map(|id| serde_json::json!({"type": "HumanUser", "id": id}));
        }
        let Principal::Script(name) = &self.principal else {
            return None;
        };
        let table = store.table("ApiUser").ok()?;
        table
            .records
            .values()
            .find(|r| {
                !r.retired
                    && ["firstname", "name", "code"]
                        .iter()
                        .any(|f| r.fields.get(*f).and_then(Value::as_str) == Some(name))
            })
            .map(|r| serde_json::json!({"type": "ApiUser", "id": r.id}))
    }
}

/// Optional parts of a grant request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantOptions {
    /// `scope=sudo_as_login:<login>`: the login to act as (already checked to exist).
    pub sudo_as: Option<String>,
    /// `session_uuid`.
    pub session_uuid: Option<String>,
}

/// Id of the active (not retired, not disabled) HumanUser with this login.
pub fn find_human_user(store: &Store, login: &str) -> Option<i64> {
    let table = store.table("HumanUser").ok()?;
    table
        .records
        .values()
        .find(|r| {
            !r.retired
                && r.fields.get("login").and_then(Value::as_str) == Some(login)
                && r.fields.get("sg_status_list").and_then(Value::as_str) != Some("dis")
        })
        .map(|r| r.id)
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
    /// `sudo_as_login` asked by a principal that may not use it (only scripts may).
    #[error("sudo_as_login is only available to API scripts")]
    SudoNotAllowed,
    /// `sudo_as_login` names no active HumanUser.
    #[error("sudo_as_login user {0:?} not found")]
    UnknownSudoUser(String),
}

#[derive(Debug, Clone)]
struct Issued {
    session: Session,
    expires_at: Instant,
}

/// The site's credential store.
#[derive(Debug)]
pub struct AuthStore {
    scripts: HashMap<String, String>,
    humans: HashMap<String, String>,
    sessions: HashMap<String, (String, Instant)>,
    access: HashMap<String, Issued>,
    refresh: HashMap<String, Issued>,
    access_lifetime: Duration,
    grants_issued: u64,
}

impl AuthStore {
    /// An empty store issuing access tokens valid for `access_lifetime`.
    pub fn new(access_lifetime: Duration) -> Self {
        AuthStore {
            scripts: HashMap::new(),
            humans: HashMap::new(),
            sessions: HashMap::new(),
            access: HashMap::new(),
            refresh: HashMap::new(),
            access_lifetime,
            grants_issued: 0,
        }
    }

    /// Adds (or replaces) a human user's password credential. The HumanUser record
    /// with that login must exist in the store for the `password` grant to succeed.
    pub fn add_human_user(&mut self, login: &str, password: &str) {
        self.humans.insert(login.to_string(), password.to_string());
    }

    /// Whether a password credential exists for this login.
    pub fn has_human_user(&self, login: &str) -> bool {
        self.humans.contains_key(login)
    }

    /// Issues a session token for a login (what a browser session of that user would
    /// hold), usable with the `session_token` grant for 24 hours. The caller checks
    /// that the HumanUser exists.
    pub fn create_session_token(&mut self, login: &str) -> String {
        let now = Instant::now();
        self.sessions.retain(|_, (_, exp)| *exp > now);
        let token = random_token();
        self.sessions.insert(
            token.clone(),
            (login.to_string(), now + SESSION_TOKEN_LIFETIME),
        );
        token
    }

    /// Number of successful grants (of any type) since start or the last
    /// [`AuthStore::reset_counters`].
    pub fn grants_issued(&self) -> u64 {
        self.grants_issued
    }

    /// Resets [`AuthStore::grants_issued`].
    pub fn reset_counters(&mut self) {
        self.grants_issued = 0;
    }

    /// The `client_credentials` grant with scope and session uuid.
    pub fn client_credentials_with(
        &mut self,
        client_id: &str,
        client_secret: &str,
        options: GrantOptions,
    ) -> Result<TokenGrant, AuthError> {
        match self.scripts.get(client_id) {
            Some(key) if constant_time_eq(key.as_bytes(), client_secret.as_bytes()) => Ok(self
                .issue(Session {
                    principal: Principal::Script(client_id.to_string()),
                    sudo_as: options.sudo_as,
                    session_uuid: options.session_uuid,
                })),
            _ => Err(AuthError::BadCredentials(client_id.to_string())),
        }
    }

    /// The `password` grant. `sudo_as` is refused: only scripts may act as others.
    pub fn password(
        &mut self,
        login: &str,
        password: &str,
        options: GrantOptions,
    ) -> Result<TokenGrant, AuthError> {
        match self.humans.get(login) {
            Some(pw) if constant_time_eq(pw.as_bytes(), password.as_bytes()) => {
                if options.sudo_as.is_some() {
                    return Err(AuthError::SudoNotAllowed);
                }
                Ok(self.issue(Session {
                    principal: Principal::Human(login.to_string()),
                    sudo_as: None,
                    session_uuid: options.session_uuid,
                }))
            }
            _ => Err(AuthError::BadCredentials(login.to_string())),
        }
    }

    /// The login a session token belongs to, if it is known and not expired.
    pub fn session_token_login(&self, session_token: &str) -> Option<String> {
        self.sessions
            .get(session_token)
            .filter(|(_, exp)| *exp > Instant::now())
            .map(|(login, _)| login.clone())
    }

    /// The `session_token` grant. Session tokens stay valid (they are not consumed).
    pub fn session_token(
        &mut self,
        session_token: &str,
        options: GrantOptions,
    ) -> Result<TokenGrant, AuthError> {
        let login = self
            .session_token_login(session_token)
            .ok_or(AuthError::TokenInvalid)?;
        if options.sudo_as.is_some() {
            return Err(AuthError::SudoNotAllowed);
        }
        Ok(self.issue(Session {
            principal: Principal::Human(login),
            sudo_as: None,
            session_uuid: options.session_uuid,
        }))
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
        self.client_credentials_with(client_id, client_secret, GrantOptions::default())
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
        if !self.principal_exists(&issued.session.principal) {
            return Err(AuthError::TokenInvalid);
        }
        Ok(self.issue(issued.session))
    }

    fn principal_exists(&self, principal: &Principal) -> bool {
        match principal {
            Principal::Script(name) => self.scripts.contains_key(name),
            // Humans may hold only a session token; the HTTP layer checks the record.
            Principal::Human(_) => true,
        }
    }

    /// Checks a bearer token.
    pub fn authenticate(&self, access_token: &str) -> Result<Principal, AuthError> {
        self.authenticate_session(access_token).map(|s| s.principal)
    }

    /// Checks a bearer token and returns the whole session it stands for.
    pub fn authenticate_session(&self, access_token: &str) -> Result<Session, AuthError> {
        let issued = self
            .access
            .get(access_token)
            .ok_or(AuthError::TokenInvalid)?;
        if issued.expires_at <= Instant::now() {
            return Err(AuthError::TokenExpired);
        }
        Ok(issued.session.clone())
    }

    /// Expires every access token now (for fault injection and tests); refresh tokens
    /// stay valid.
    pub fn expire_access_tokens(&mut self) {
        let now = Instant::now();
        for issued in self.access.values_mut() {
            issued.expires_at = now;
        }
    }

    fn issue(&mut self, session: Session) -> TokenGrant {
        self.prune();
        self.grants_issued += 1;
        let now = Instant::now();
        let access_token = random_token();
        let refresh_token = random_token();
        self.access.insert(
            access_token.clone(),
            Issued {
                session: session.clone(),
                expires_at: now + self.access_lifetime,
            },
        );
        self.refresh.insert(
            refresh_token.clone(),
            Issued {
                session,
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
        assert_eq!(a.grants_issued(), 2);
    }

    #[test]
    fn password_session_token_and_sudo() {
        let mut a = AuthStore::new(Duration::from_secs(600));
        a.add_human_user("artist", "pw");
        a.add_script_user("s", "k");
        assert_eq!(
            a.password("artist", "bad", GrantOptions::default()),
            Err(AuthError::BadCredentials("artist".into()))
        );
        assert_eq!(
            a.password("nobody", "pw", GrantOptions::default()),
            Err(AuthError::BadCredentials("nobody".into()))
        );
        let opts = GrantOptions {
            sudo_as: Some("artist".into()),
            session_uuid: Some("u-1".into()),
        };
        assert_eq!(
            a.password("artist", "pw", opts.clone()),
            Err(AuthError::SudoNotAllowed)
        );
        let g = a.password("artist", "pw", GrantOptions::default()).unwrap();
        let s = a.authenticate_session(&g.access_token).unwrap();
        assert_eq!(s.principal, Principal::Human("artist".into()));
        assert_eq!(s.acting_login(), Some("artist"));

        let g = a.client_credentials_with("s", "k", opts).unwrap();
        let s = a.authenticate_session(&g.access_token).unwrap();
        assert_eq!(s.sudo_as.as_deref(), Some("artist"));
        assert_eq!(s.session_uuid.as_deref(), Some("u-1"));
        // A refresh keeps the session.
        let g2 = a.refresh(&g.refresh_token).unwrap();
        assert_eq!(a.authenticate_session(&g2.access_token).unwrap(), s);

        let st = a.create_session_token("artist");
        assert_eq!(
            a.session_token("nope", GrantOptions::default()),
            Err(AuthError::TokenInvalid)
        );
        let g = a.session_token(&st, GrantOptions::default()).unwrap();
        assert_eq!(
            a.authenticate(&g.access_token),
            Ok(Principal::Human("artist".into()))
        );
        // Session tokens are reusable.
        assert!(a.session_token(&st, GrantOptions::default()).is_ok());
    }
}
