//! The async engine: moves requests built by [`crate::protocol`] through a
//! [`Transport`], keeping the access token fresh. It never panics on server input.

mod caps;
pub mod events;
mod gate;
pub mod upload;
mod window;

pub use caps::{decoded, OneShot};
pub use window::{PageFuture, PageWindow, StartPage};

use std::cell::RefCell;
use std::rc::Rc;

use gate::{Gate, Turn};

use crate::protocol::json::Value;

use crate::protocol::auth::{
    parse_token_response, token_request, Grant, ImportedTokens, Secret, TokenScope, Tokens,
};
use crate::protocol::http::{percent_encode_into, HttpRequest, HttpResponse, Method};
use crate::protocol::naming::{url_segment, validate_entity_type};
use crate::protocol::query::{decode_page, Pager, ReadQuery};
use crate::protocol::record::{parse_json, take_data};
use crate::protocol::retry::{
    decide, retryable_status, Attempt, Decision, RetryBudget, RetryPolicy,
};
use crate::protocol::site::Site;
use crate::protocol::transcode::{join_array, transcode_page, transcode_single, PageText};
use crate::protocol::write::{
    batch_request, create_request, decode_batch, decode_revive, delete_request, plan_batch,
    revive_request, update_request, validate_data,
};
use crate::protocol::{Error, ErrorKind};

/// Sends HTTP requests and tells the time. Implemented over `fetch` in wasm and by
/// scripted fakes in tests.
#[allow(async_fn_in_trait)]
pub trait Transport {
    /// Sends one request. Failures without a response are errors of kind `network`,
    /// `timeout` or `aborted`.
    async fn send(&self, req: HttpRequest) -> Result<HttpResponse, Error>;
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> f64;
    /// Waits `ms` milliseconds (backoff between retries).
    async fn sleep(&self, ms: f64);
    /// A uniform random number in [0, 1) (backoff jitter).
    fn random(&self) -> f64;
    /// Decodes a successful page of records. The default is the transcoder; a runtime
    /// with a faster native JSON parser may decode the page itself (same records, same
    /// errors) and return them as [`PageText::runtime`].
    ///
    /// `kept` is what [`Transport::send_expecting`] returned with the answer (the page
    /// the runtime decoded on arrival), if anything.
    fn decode_page(
        &self,
        resp: &HttpResponse,
        kept: Option<&upload::Handle>,
    ) -> Result<PageText, Error> {
        let _ = kept;
        transcode_page(resp)
    }
    /// Sends one request whose 2xx answer should be `kind` (one record, a page of
    /// records). A runtime with a faster native JSON parser may decode such an answer
    /// on arrival (the records and errors of [`transcode_single`] and
    /// [`transcode_page`]) and return the result as a handle instead of the body
    /// bytes, which then never enter the engine; an answer that does not decode comes
    /// back with its bytes, as from [`Transport::send`]. The default is `send`.
    /// `None`: nothing is known of the answer, it comes back as from `send`.
    async fn send_expecting(
        &self,
        req: HttpRequest,
        kind: Option<AnswerKind>,
    ) -> Result<(HttpResponse, Option<upload::Handle>), Error> {
        let _ = kind;
        self.send(req).await.map(|resp| (resp, None))
    }
    /// Sends one request with runtime extras (a body or signal held by the runtime,
    /// manual redirects, a response body left in the runtime). The default accepts
    /// only byte bodies and ignores the rest.
    async fn send_ext(
        &self,
        req: HttpRequest,
        extras: &upload::Extras,
    ) -> Result<(HttpResponse, Option<upload::Handle>), Error> {
        upload::default_send_ext(self, req, extras).await
    }
}

/// The first attempt of a call, sent before the engine's loop took it over: the token
/// it carried and what it ended with (see [`Client::send_with_token_from`]).
pub type FirstAttempt = (
    Secret,
    Result<(HttpResponse, Option<upload::Handle>), Error>,
);

/// What a request's 2xx answer is, for a transport that decodes it on arrival
/// ([`Transport::send_expecting`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnswerKind {
    /// One record: `{data: {...}}` (read, create, update).
    Record,
    /// A page of records: `{data: [...]}`.
    Page,
}

/// Connection settings, validated.
#[derive(Clone, Debug)]
pub struct Config {
    /// The site.
    pub site: Site,
    /// How to authenticate.
    pub grant: Grant,
    /// sudo_as / session_uuid.
    pub scope: TokenScope,
    /// Renew the access token this long before it expires.
    pub refresh_margin_ms: f64,
    /// Most requests sent in one `_batch` call.
    pub batch_limit: usize,
    /// Retries of idempotent requests.
    pub retry: RetryPolicy,
    /// Tokens kept from an earlier session: connecting resumes it without a new grant
    /// while they are good.
    pub tokens: Option<ImportedTokens>,
}

/// Called with the new tokens after every grant and refresh, so an app can keep them
/// (the client itself never persists anything).
pub type TokenListener = Box<dyn Fn(&Tokens)>;

/// Default renewal margin: one minute before expiry.
pub const DEFAULT_REFRESH_MARGIN_MS: f64 = 60_000.0;

/// A connected client.
pub struct Client<T> {
    shared: Rc<Shared>,
    transport: T,
}

/// The state every call of one connected client shares: settings, tokens, the
/// single-flight refresh gate and the retry budget. Calls may use different transports
/// (each with its own cancellation signal and timeouts) over the same `Shared`.
pub struct Shared {
    pub(crate) config: Config,
    pub(crate) tokens: RefCell<Option<Tokens>>,
    pub(crate) refresh: Gate,
    pub(crate) budget: RefCell<RetryBudget>,
    pub(crate) on_tokens: Option<TokenListener>,
}

impl<T> std::ops::Deref for Client<T> {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.shared
    }
}

impl<T> Client<T> {
    /// The same client (tokens, refresh, budget shared) over another transport: how a
    /// call gets its own cancellation signal and timeouts.
    pub fn with_transport<U>(&self, transport: U) -> Client<U> {
        Client {
            shared: Rc::clone(&self.shared),
            transport,
        }
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.transport
    }
}

impl<T> std::fmt::Debug for Client<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("site", &self.config.site.base())
            .field("grant", &self.config.grant.name())
            .finish_non_exhaustive()
    }
}

impl<T: Transport> Client<T> {
    /// Authenticates against the site (so bad credentials fail here) and returns the client.
    pub async fn connect(config: Config, transport: T) -> Result<Self, Error> {
        Self::connect_with(config, transport, None).await
    }

    /// Like [`Client::connect`], calling `on_tokens` after every grant and refresh.
    /// With imported tokens whose access token is still good, nothing is sent.
    pub async fn connect_with(
        mut config: Config,
        transport: T,
        on_tokens: Option<TokenListener>,
    ) -> Result<Self, Error> {
        let imported = config
            .tokens
            .take()
            .map(|t| t.into_tokens(transport.now_ms()));
        let client = Client {
            shared: Rc::new(Shared {
                config,
                tokens: RefCell::new(imported),
                refresh: Gate::default(),
                budget: RefCell::new(RetryBudget::default()),
                on_tokens,
            }),
            transport,
        };
        client.bearer().await?;
        Ok(client)
    }

    /// The site this client talks to.
    pub fn site(&self) -> &Site {
        &self.config.site
    }

    /// When the current access token expires (ms since epoch), if there is one.
    pub fn token_expires_at_ms(&self) -> Option<f64> {
        self.tokens.borrow().as_ref().map(|t| t.expires_at_ms)
    }

    /// A new access token, single-flight: concurrent callers share one token request.
    async fn authenticate(&self) -> Result<Secret, Error> {
        loop {
            match self.refresh.turn() {
                Turn::Lead(leader) => {
                    let result = self.request_tokens().await;
                    // A token request cancelled by this caller's signal is not the
                    // other callers' answer: end the flight without one so a waiter
                    // takes over.
                    if matches!(&result, Err(e) if e.kind == ErrorKind::Aborted) {
                        drop(leader);
                        return result;
                    }
                    return leader.finish(result);
                }
                Turn::Wait(flight) => {
                    if let Some(result) = flight.await {
                        return result;
                    }
                    // The leader was cancelled: take a turn again.
                }
            }
        }
    }

    /// Obtains new tokens: with the refresh token while it is usable, otherwise (or if
    /// the refresh is refused) with the full grant.
    async fn request_tokens(&self) -> Result<Secret, Error> {
        let now = self.transport.now_ms();
        let mut refresh = self
            .tokens
            .borrow()
            .as_ref()
            .and_then(|t| t.usable_refresh_token(now).cloned());
        // One request await: the refresh, then (if refused) the full grant.
        loop {
            let req = token_request(
                &self.config.site,
                &self.config.grant,
                &self.config.scope,
                refresh.as_ref(),
            );
            let resp = self.send_idempotent(&req).await?;
            match parse_token_response(&resp, self.transport.now_ms()) {
                Ok(t) => return Ok(self.store(t)),
                // A spent or expired refresh token: fall back to the full grant when we
                // hold one.
                Err(e)
                    if refresh.is_some()
                        && e.kind == ErrorKind::Auth
                        && !matches!(self.config.grant, Grant::RefreshToken { .. }) =>
                {
                    refresh = None;
                }
                Err(e) => return Err(e),
            }
        }
    }

    fn store(&self, tokens: Tokens) -> Secret {
        let access = tokens.access_token.clone();
        if let Some(listener) = &self.on_tokens {
            listener(&tokens);
        }
        *self.tokens.borrow_mut() = Some(tokens);
        access
    }

    /// The site answered "Token Expired" to a request sent with `used`: that token is
    /// dead. Only if it is still the current one is it dropped; when another call has
    /// already renewed it, the new token stays (dropping it would make every late 401
    /// of a burst start a token request of its own, and the calls replayed with the
    /// dropped token fail).
    pub(crate) fn token_refused(&self, used: &Secret) {
        if let Some(t) = self.tokens.borrow_mut().as_mut() {
            if t.access_token == *used {
                t.expires_at_ms = 0.0;
            }
        }
    }

    async fn bearer(&self) -> Result<Secret, Error> {
        match self.fresh_token() {
            Some(t) => Ok(t),
            None => self.authenticate().await,
        }
    }

    /// The access token, if there is one not due for renewal: what a call's first
    /// attempt may be sent with at once, with no await (the package's one-record calls
    /// do: see `js::plan_record`). `None`: the call goes the async way, which renews.
    pub(crate) fn fresh_token(&self) -> Option<Secret> {
        let now = self.transport.now_ms();
        self.tokens
            .borrow()
            .as_ref()
            .filter(|t| !t.needs_refresh(now, self.config.refresh_margin_ms))
            .map(|t| t.access_token.clone())
    }

    /// Sends a request to the site with the bearer token. On 401 "Token Expired" gets a
    /// new token and replays once (the server refused the first attempt, so nothing was
    /// applied). Non-2xx answers become errors.
    async fn send_authed(&self, req: HttpRequest) -> Result<HttpResponse, Error> {
        self.send_with_token(req, false, None)
            .await
            .map(|(resp, _)| resp)
    }

    /// Like [`Client::send_authed`] for a write: a failure after sending is marked as
    /// possibly applied.
    async fn send_write(&self, req: HttpRequest) -> Result<HttpResponse, Error> {
        self.send_with_token(req, true, None)
            .await
            .map(|(resp, _)| resp)
    }

    /// The loop behind [`Client::send_authed`] and [`Client::send_write`], for a
    /// request whose 2xx answer is `kind` (if known): the answer comes with what
    /// [`Transport::send_expecting`] kept of it.
    pub(crate) async fn send_with_token(
        &self,
        req: HttpRequest,
        write: bool,
        kind: Option<AnswerKind>,
    ) -> Result<(HttpResponse, Option<upload::Handle>), Error> {
        self.send_with_token_from(req, write, kind, None).await
    }

    /// [`Client::send_with_token`] whose first attempt was already sent (with `token`)
    /// and ended with the result given, when there is one: the retries, the replay
    /// after "Token Expired" and the errors then follow from it exactly as if this
    /// loop had sent it (see [`Client::fresh_token`]).
    pub(crate) async fn send_with_token_from(
        &self,
        req: HttpRequest,
        write: bool,
        kind: Option<AnswerKind>,
        mut first: Option<FirstAttempt>,
    ) -> Result<(HttpResponse, Option<upload::Handle>), Error> {
        if !self.config.site.owns(&req.url) {
            return Err(Error::invalid_input(
                "url",
                "refusing to send the token to another host",
            ));
        }
        let mut attempt = 1;
        let mut replayed = false;
        loop {
            let (token, result) = match first.take() {
                Some(sent) => sent,
                None => {
                    let token = self.bearer().await?;
                    let result = self
                        .transport
                        .send_expecting(with_bearer(req.clone(), &token), kind)
                        .await;
                    (token, result)
                }
            };
            let decision = match &result {
                Ok((resp, _)) if resp.is_success() => {
                    self.budget.borrow_mut().earn();
                    return result;
                }
                Ok((resp, _)) => {
                    let err = Error::from_response(resp);
                    // The server refused the attempt, so replaying it is safe even for
                    // a write: once, with a new token.
                    if err.is_token_expired() && !replayed {
                        replayed = true;
                        self.token_refused(&token);
                        continue;
                    }
                    if write || !retryable_status(resp.status) {
                        return Err(err);
                    }
                    self.decide(Attempt::Response(resp), attempt)
                }
                // A write that got no answer may have been applied: never replayed.
                Err(e) if write => return Err(e.clone().mark_write_outcome_unknown()),
                Err(e) => self.decide(Attempt::NoResponse(e), attempt),
            };
            match decision {
                Decision::RetryAfter(ms) => self.transport.sleep(ms).await,
                Decision::Fail(e) => return Err(e),
            }
            attempt += 1;
        }
    }

    fn decide(&self, outcome: Attempt<'_>, attempt: u32) -> Decision {
        decide(
            &self.config.retry,
            outcome,
            attempt,
            self.transport.random(),
            self.transport.now_ms(),
            &mut self.budget.borrow_mut(),
        )
    }

    /// Sends an idempotent request without a token (server info, token requests),
    /// retrying per the policy. Returns the first answer that is not worth retrying,
    /// success or not; fails when the retries run out.
    async fn send_idempotent(&self, req: &HttpRequest) -> Result<HttpResponse, Error> {
        let mut attempt = 1;
        loop {
            let result = self.transport.send(req.clone()).await;
            let decision = match &result {
                Ok(resp) if resp.is_success() => {
                    self.budget.borrow_mut().earn();
                    return result;
                }
                Ok(resp) if !retryable_status(resp.status) => return result,
                Ok(resp) => self.decide(Attempt::Response(resp), attempt),
                Err(e) => self.decide(Attempt::NoResponse(e), attempt),
            };
            match decision {
                Decision::RetryAfter(ms) => self.transport.sleep(ms).await,
                Decision::Fail(e) => return Err(e),
            }
            attempt += 1;
        }
    }

    /// Server info (`GET /api/v1/`): the `data` object. Needs no token.
    pub async fn info(&self) -> Result<Value, Error> {
        self.run(self.info_call()).await
    }

    /// [`Client::info`] as a [`OneShot`] (sent without the token).
    pub fn info_call(&self) -> OneShot<Value> {
        let req = HttpRequest::new(Method::Get, self.config.site.url("/api/v1/"))
            .header("Accept", "application/json");
        OneShot::public(Ok(req), |resp| take_data(parse_json(resp)?, resp))
    }

    /// Reads one record by id as the JSON text of `{type, id, ...fields}`. A missing or
    /// retired record is an error with status 404 (code 104).
    pub async fn read(
        &self,
        entity_type: &str,
        id: u64,
        fields: Option<&[String]>,
    ) -> Result<String, Error> {
        self.run(self.read_call(entity_type, id, fields)).await
    }

    /// [`Client::read`] as a [`OneShot`].
    pub fn read_call(
        &self,
        entity_type: &str,
        id: u64,
        fields: Option<&[String]>,
    ) -> OneShot<String> {
        OneShot::read(self.read_req(entity_type, id, fields), transcode_single)
    }

    /// [`Client::read`]'s request, validated: for a runtime that decodes the record
    /// itself (the package's sender), so no decoder is kept with it.
    pub fn read_req(
        &self,
        entity_type: &str,
        id: u64,
        fields: Option<&[String]>,
    ) -> Result<HttpRequest, Error> {
        read_request(&self.config.site, entity_type, id, fields)
    }
}

/// `GET /entity/{type}/{id}[?fields=…]`, validated.
fn read_request(
    site: &Site,
    entity_type: &str,
    id: u64,
    fields: Option<&[String]>,
) -> Result<HttpRequest, Error> {
    validate_entity_type(entity_type, "entityType")?;
    if id == 0 || id > MAX_SAFE_ID {
        return Err(Error::invalid_input("id", "must be a positive integer"));
    }
    let mut path = String::from("/api/v1/entity/");
    path.push_str(&url_segment(entity_type));
    path.push('/');
    path.push_str(&crate::protocol::dec(id));
    if let Some(fields) = fields {
        push_fields_query(&mut path, fields, "options.fields")?;
    }
    Ok(HttpRequest::new(Method::Get, site.url(&path)).header("Accept", "application/json"))
}

impl<T: Transport> Client<T> {
    /// Fetches one page (1-based) of a read as flat record texts (the fast path: no
    /// `Value` trees; see [`crate::protocol::transcode`]).
    pub async fn fetch_page(&self, query: &ReadQuery, page: u32) -> Result<PageText, Error> {
        let (resp, kept) = self
            .send_with_token(
                query.page_request(&self.config.site, page),
                false,
                Some(AnswerKind::Page),
            )
            .await?;
        self.transport.decode_page(&resp, kept.as_ref())
    }

    /// Fetches one page as records (`Value`s) for the engine's own use (events); JS
    /// callers get the text of [`Client::fetch_page`].
    pub async fn fetch_page_values(
        &self,
        query: &ReadQuery,
        page: u32,
    ) -> Result<Vec<Value>, Error> {
        let resp = self
            .send_authed(query.page_request(&self.config.site, page))
            .await?;
        decode_page(&resp)
    }

    /// The pages of a read, up to `limit` records, fetched ahead in a sliding window
    /// of `concurrency` requests (see [`PageWindow`]; `ramp`: page 1 alone first).
    pub fn page_window<'a>(
        &'a self,
        query: &'a ReadQuery,
        limit: Option<u64>,
        concurrency: u32,
        ramp: bool,
    ) -> PageWindow<'a> {
        PageWindow::new(
            Pager::new(query.page_size, limit),
            query.page_size,
            concurrency,
            ramp,
            Box::new(move |page| Box::pin(self.fetch_page(query, page))),
        )
    }

    /// Every matching record, up to `limit`, page by page in order, with up to
    /// `concurrency` requests in flight (`ramp`: page 1 alone first).
    pub async fn find_pages(
        &self,
        query: &ReadQuery,
        limit: Option<u64>,
        concurrency: u32,
        ramp: bool,
    ) -> Result<Vec<PageText>, Error> {
        let mut window = self.page_window(query, limit, concurrency, ramp);
        let mut pages = Vec::new();
        while let Some(page) = window.next_page().await? {
            pages.push(page);
        }
        Ok(pages)
    }

    /// [`Client::find_pages`] as the JSON text of an array of flat records. For a
    /// transport that leaves pages to the transcoder; a runtime page has no text and
    /// is an error here (use `find_pages`).
    pub async fn find(
        &self,
        query: &ReadQuery,
        limit: Option<u64>,
        concurrency: u32,
    ) -> Result<String, Error> {
        let pages = self.find_pages(query, limit, concurrency, false).await?;
        if pages.iter().any(|p| p.runtime.is_some()) {
            return Err(Error::new(
                ErrorKind::Decode,
                "pages decoded by the runtime have no text; use find_pages",
            ));
        }
        Ok(join_array(pages.iter().flat_map(|p| &p.records)))
    }
}

impl<T: Transport> Client<T> {
    fn check_id(id: u64) -> Result<(), Error> {
        if id == 0 || id > MAX_SAFE_ID {
            Err(Error::invalid_input("id", "must be a positive integer"))
        } else {
            Ok(())
        }
    }

    fn check_fields(fields: &[String]) -> Result<(), Error> {
        for (i, f) in fields.iter().enumerate() {
            if f != "*" {
                let mut p = String::from("options.fields[");
                p.push_str(&crate::protocol::dec(i));
                p.push(']');
                crate::protocol::filters::validate_field_path(f, &p)?;
            }
        }
        Ok(())
    }

    /// Creates a record; returns it as `{type, id, ...fields}` (`fields` chooses which).
    pub async fn create(
        &self,
        entity_type: &str,
        data: &Value,
        fields: &[String],
    ) -> Result<String, Error> {
        self.run(self.create_call(entity_type, data, fields)).await
    }

    /// [`Client::create`] as a [`OneShot`].
    pub fn create_call(
        &self,
        entity_type: &str,
        data: &Value,
        fields: &[String],
    ) -> OneShot<String> {
        OneShot::write(self.create_req(entity_type, data, fields), transcode_single)
    }

    /// [`Client::create`]'s request, validated (see [`Client::read_req`]).
    pub fn create_req(
        &self,
        entity_type: &str,
        data: &Value,
        fields: &[String],
    ) -> Result<HttpRequest, Error> {
        validate_entity_type(entity_type, "entityType")?;
        validate_data(data, "data", false)?;
        Self::check_fields(fields)?;
        Ok(create_request(&self.config.site, entity_type, data, fields))
    }

    /// Updates a record; multi-entity fields take a list or
    /// `{multi_entity_update_mode: add|remove|set, value}`.
    pub async fn update(
        &self,
        entity_type: &str,
        id: u64,
        data: &Value,
        fields: &[String],
    ) -> Result<String, Error> {
        self.run(self.update_call(entity_type, id, data, fields))
            .await
    }

    /// [`Client::update`] as a [`OneShot`].
    pub fn update_call(
        &self,
        entity_type: &str,
        id: u64,
        data: &Value,
        fields: &[String],
    ) -> OneShot<String> {
        OneShot::write(
            self.update_req(entity_type, id, data, fields),
            transcode_single,
        )
    }

    /// [`Client::update`]'s request, validated (see [`Client::read_req`]).
    pub fn update_req(
        &self,
        entity_type: &str,
        id: u64,
        data: &Value,
        fields: &[String],
    ) -> Result<HttpRequest, Error> {
        validate_entity_type(entity_type, "entityType")?;
        Self::check_id(id)?;
        validate_data(data, "data", true)?;
        Self::check_fields(fields)?;
        Ok(update_request(
            &self.config.site,
            entity_type,
            id,
            data,
            fields,
        ))
    }

    /// Deletes (retires) a record.
    pub async fn delete(&self, entity_type: &str, id: u64) -> Result<(), Error> {
        self.run(self.delete_call(entity_type, id)).await
    }

    /// [`Client::delete`] as a [`OneShot`].
    pub fn delete_call(&self, entity_type: &str, id: u64) -> OneShot<()> {
        let req = (|| {
            validate_entity_type(entity_type, "entityType")?;
            Self::check_id(id)?;
            Ok(delete_request(&self.config.site, entity_type, id))
        })();
        OneShot::write(req, |_| Ok(()))
    }

    /// Revives a retired record; returns whether it was revived.
    pub async fn revive(&self, entity_type: &str, id: u64) -> Result<bool, Error> {
        self.run(self.revive_call(entity_type, id)).await
    }

    /// [`Client::revive`] as a [`OneShot`].
    pub fn revive_call(&self, entity_type: &str, id: u64) -> OneShot<bool> {
        let req = (|| {
            validate_entity_type(entity_type, "entityType")?;
            Self::check_id(id)?;
            Ok(revive_request(&self.config.site, entity_type, id))
        })();
        OneShot::write(req, decode_revive)
    }

    /// Runs batch requests in one transaction; with `split`, inputs above the batch limit go in
    /// ordered chunks that are separate transactions (a failure stops at its chunk, and
    /// the error's `source` says which requests were already applied).
    pub async fn batch(&self, requests: &Value, split: bool) -> Result<Vec<Value>, Error> {
        let chunks = plan_batch(requests, self.config.batch_limit, split)?;
        let mut out = Vec::new();
        let total_chunks = chunks.len();
        for (i, chunk) in chunks.iter().enumerate() {
            let result = match self
                .send_write(batch_request(&self.config.site, chunk))
                .await
            {
                Ok(resp) => decode_batch(&resp).map_err(Error::mark_write_outcome_unknown),
                Err(e) => Err(e),
            };
            match result {
                Ok(mut results) => out.append(&mut results),
                Err(mut e) if total_chunks > 1 => {
                    let mut d = e.detail.take().unwrap_or_default();
                    if !d.is_empty() {
                        d.push_str("; ");
                    }
                    d.push_str("batch chunk ");
                    d.push_str(&crate::protocol::dec(i + 1));
                    d.push_str(" of ");
                    d.push_str(&crate::protocol::dec(total_chunks));
                    d.push_str(" failed; requests before index ");
                    d.push_str(&crate::protocol::dec(out.len()));
                    d.push_str(" were applied");
                    e.detail = Some(d);
                    return Err(e);
                }
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }
}

/// Largest id JS can represent exactly.
pub const MAX_SAFE_ID: u64 = (1 << 53) - 1;

/// `req` with `Authorization: Bearer {token}`.
fn with_bearer(req: HttpRequest, token: &Secret) -> HttpRequest {
    req.header("Authorization", bearer_value(token))
}

/// `Bearer {token}`: the value of the `Authorization` header.
pub(crate) fn bearer_value(token: &Secret) -> String {
    let mut value = String::with_capacity(7 + token.expose().len());
    value.push_str("Bearer ");
    value.push_str(token.expose());
    value
}

/// Validates field names and appends `?fields=a,b` to `path`.
fn push_fields_query(path: &mut String, fields: &[String], arg: &str) -> Result<(), Error> {
    if fields.is_empty() {
        return Err(Error::invalid_input(
            arg,
            "must list at least one field (or \"*\")",
        ));
    }
    path.push_str("?fields=");
    for (i, f) in fields.iter().enumerate() {
        let valid = f == "*"
            || (!f.is_empty()
                && f.len() <= 256
                && f.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.'));
        if !valid {
            let mut p = String::from(arg);
            p.push('[');
            p.push_str(&crate::protocol::dec(i));
            p.push(']');
            return Err(Error::invalid_input(
                &p,
                "must be a field name such as \"code\" or \"project.Project.name\"",
            ));
        }
        if i > 0 {
            path.push(',');
        }
        percent_encode_into(path, f);
    }
    Ok(())
}

// Native only: they drive concurrency with the `futures` executor.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests;
