//! The wasm-bindgen facade: what JS imports. Thin: it converts JS values to validated
//! Rust arguments, calls [`crate::client::Client`], and converts results and errors back.

mod caps;
mod convert;
mod extras;
mod ops;
pub use ops::{CALLS, SYNC};
mod upload;

use std::rc::Rc;

use crate::protocol::json::Value;
use convert::future_to_promise;
use js_sys::{Function, Promise};
use wasm_bindgen::prelude::*;

use crate::client::upload::Handle;
use crate::client::{
    decoded, AnswerKind, Client, Config, FirstAttempt, OneShot, PageWindow, StartPage,
    TokenListener, DEFAULT_REFRESH_MARGIN_MS, MAX_SAFE_ID,
};
use crate::protocol::auth::{Grant, ImportedTokens, Secret, TokenScope, Tokens};
use crate::protocol::filters::validate as validate_filters;
use crate::protocol::http::{HttpRequest, HttpResponse};
use crate::protocol::query::{Pager, ReadMethod, ReadQuery, ReturnOnly};
use crate::protocol::retry::RetryPolicy;
use crate::protocol::site::Site;
use crate::protocol::transcode::{join_array, PageText};
use crate::protocol::write::DEFAULT_BATCH_LIMIT;
use crate::protocol::Error;
use crate::transport::FetchTransport;
use convert::{error_to_js, js_to_json, json_to_js, text_to_js, Obj};
use std::cell::RefCell;
use std::sync::atomic::{AtomicU32, Ordering};

/// A connected ShotGrid client. Create one with `ShotGrid.connect(options)`.
#[wasm_bindgen]
pub struct ShotGrid {
    inner: Rc<Client<FetchTransport>>,
}

fn parse_grant(auth: &Obj) -> Result<Grant, Error> {
    let grant = auth.req_str("grant")?;
    let secret = |key: &str| auth.req_str(key).map(|s| Secret::new(s.to_owned()));
    let g = match grant {
        "client_credentials" => {
            auth.only(&["grant", "clientId", "clientSecret"])?;
            Grant::ClientCredentials {
                client_id: auth.req_str("clientId")?.to_owned(),
                client_secret: secret("clientSecret")?,
            }
        }
        "password" => {
            auth.only(&["grant", "login", "password"])?;
            Grant::Password {
                username: auth.req_str("login")?.to_owned(),
                password: secret("password")?,
            }
        }
        "session_token" => {
            auth.only(&["grant", "sessionToken"])?;
            Grant::SessionToken {
                session_token: secret("sessionToken")?,
            }
        }
        "refresh_token" => {
            auth.only(&["grant", "refreshToken"])?;
            Grant::RefreshToken {
                refresh_token: secret("refreshToken")?,
            }
        }
        _ => return Err(Error::invalid_input(
            "auth.grant",
            "must be \"client_credentials\", \"password\", \"session_token\" or \"refresh_token\"",
        )),
    };
    Ok(g)
}

/// `connect` options, validated.
struct ConnectArgs {
    config: Config,
    fetch: Option<Function>,
    on_tokens: Option<Function>,
    /// Default per-attempt timeout of every call, in ms.
    timeout_ms: Option<f64>,
}

fn parse_tokens(v: &Value) -> Result<Option<ImportedTokens>, Error> {
    let Some(t) = Obj::new_optional(v, "options.tokens")? else {
        return Ok(None);
    };
    t.only(&["accessToken", "refreshToken", "expiresAt"])?;
    let expires_at_ms = match t.get("expiresAt") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_f64()
                .filter(|n| n.is_finite() && *n >= 0.0)
                .ok_or_else(|| {
                    Error::invalid_input(
                        "options.tokens.expiresAt",
                        "must be a time in ms since the epoch",
                    )
                })?,
        ),
    };
    Ok(Some(ImportedTokens {
        access_token: t.opt_str("accessToken")?.map(|s| Secret::new(s.to_owned())),
        refresh_token: Secret::new(t.req_str("refreshToken")?.to_owned()),
        expires_at_ms,
    }))
}

fn parse_connect(options: &JsValue) -> Result<ConnectArgs, Error> {
    let fetch = convert::get_function(options, "fetch")?;
    let on_tokens = convert::get_function(options, "onTokens")?;
    let value = js_to_json(options, "options")?;
    let opts = Obj::new(&value, "options")?;
    opts.only(&[
        "site",
        "auth",
        "tokens",
        "onTokens",
        "sudoAs",
        "sessionUuid",
        "fetch",
        "refreshMarginMs",
        "batchLimit",
        "retry",
        "timeoutMs",
    ])?;
    let site = Site::parse(opts.req_str("site")?)?;
    let tokens = parse_tokens(opts.get("tokens").unwrap_or(&Value::Null))?;
    let grant = match (opts.get("auth"), &tokens) {
        // Imported tokens alone: resume with the refresh token, no fallback.
        (None | Some(Value::Null), Some(t)) => Grant::RefreshToken {
            refresh_token: t.refresh_token.clone(),
        },
        (auth, _) => parse_grant(&Obj::new(auth.unwrap_or(&Value::Null), "auth")?)?,
    };
    let scope = TokenScope {
        sudo_as: opts.opt_str("sudoAs")?.map(str::to_owned),
        session_uuid: opts.opt_str("sessionUuid")?.map(str::to_owned),
    };
    let refresh_margin_ms = match opts.get("refreshMarginMs") {
        None | Some(Value::Null) => DEFAULT_REFRESH_MARGIN_MS,
        Some(v) => v
            .as_f64()
            .filter(|m| m.is_finite() && *m >= 0.0)
            .ok_or_else(|| {
                Error::invalid_input("options.refreshMarginMs", "must be a non-negative number")
            })?,
    };
    let batch_limit = opts
        .opt_int("batchLimit", 1, 5000)?
        .map_or(DEFAULT_BATCH_LIMIT, |n| n as usize);
    let retry = parse_retry(opts.get("retry"))?;
    let timeout_ms = opts.opt_int("timeoutMs", 1, 86_400_000)?.map(|n| n as f64);
    Ok(ConnectArgs {
        config: Config {
            site,
            grant,
            scope,
            refresh_margin_ms,
            batch_limit,
            retry,
            tokens,
        },
        fetch,
        on_tokens,
        timeout_ms,
    })
}

/// Wraps the app's `onTokens(tokens)` callback. The tokens object is built property by
/// property (never through a JSON string). A throwing callback or a rejected promise it
/// returns is ignored: keeping tokens is the app's business and must not break calls.
fn token_listener(f: Function) -> TokenListener {
    let swallow = Closure::<dyn FnMut(JsValue)>::new(|_: JsValue| {});
    Box::new(move |t: &Tokens| {
        let obj = js_sys::Object::new();
        let set = |k: &str, v: JsValue| {
            let _ = js_sys::Reflect::set(&obj, &JsValue::from_str(k), &v);
        };
        set("accessToken", JsValue::from_str(t.access_token.expose()));
        set(
            "refreshToken",
            t.refresh_token
                .as_ref()
                .map_or(JsValue::NULL, |r| JsValue::from_str(r.expose())),
        );
        set("expiresAt", JsValue::from_f64(t.expires_at_ms));
        if let Ok(ret) = f.call1(&JsValue::NULL, &obj) {
            if let Some(p) = ret.dyn_ref::<Promise>() {
                let _ = p.catch(&swallow);
            }
        }
    })
}

/// `retry: false` (one attempt) or `{ maxAttempts, baseMs, slowDownBaseMs, capMs,
/// maxRetryAfterMs }`; absent means the defaults.
fn parse_retry(v: Option<&Value>) -> Result<RetryPolicy, Error> {
    let mut policy = RetryPolicy::default();
    match v {
        None | Some(Value::Null) | Some(Value::Bool(true)) => Ok(policy),
        Some(Value::Bool(false)) => {
            policy.max_attempts = 1;
            Ok(policy)
        }
        Some(v) => {
            let o = Obj::new(v, "options.retry")?;
            o.only(&[
                "maxAttempts",
                "baseMs",
                "slowDownBaseMs",
                "capMs",
                "maxRetryAfterMs",
            ])?;
            if let Some(n) = o.opt_int("maxAttempts", 1, 10)? {
                policy.max_attempts = n as u32;
            }
            for (key, slot) in [
                ("baseMs", &mut policy.base_ms),
                ("slowDownBaseMs", &mut policy.slow_down_base_ms),
                ("capMs", &mut policy.cap_ms),
                ("maxRetryAfterMs", &mut policy.max_retry_after_ms),
            ] {
                if let Some(ms) = o.opt_int(key, 0, 3_600_000)? {
                    *slot = ms as f64;
                }
            }
            Ok(policy)
        }
    }
}

fn parse_id(id: &JsValue) -> Result<u64, Error> {
    id.as_f64()
        .filter(|n| n.fract() == 0.0 && *n >= 1.0 && *n <= MAX_SAFE_ID as f64)
        .map(|n| n as u64)
        .ok_or_else(|| Error::invalid_input("id", "must be a positive integer"))
}

/// `{ fields?, raw? }` of `read`.
fn parse_fields(options: &Value) -> Result<(Option<Vec<String>>, bool), Error> {
    let opts = Obj::new_optional(options, "options")?;
    let Some(opts) = opts else {
        return Ok((None, false));
    };
    opts.only(&["fields", "raw"])?;
    Ok((
        opts.opt_str_list("fields")?,
        opts.opt_bool("raw")?.unwrap_or(false),
    ))
}

/// Arguments of `find`, `findOne` and `iterate`.
struct FindArgs {
    query: ReadQuery,
    limit: Option<u64>,
    /// Requests in flight at most (`options.concurrency`, else the runtime's default).
    concurrency: u32,
    /// No `options.concurrency`: page 1 alone first, the default window after it.
    ramp: bool,
    /// Give the JSON:API documents instead of flat records.
    raw: bool,
}

fn parse_find(
    entity_type: &JsValue,
    filters: &JsValue,
    options: &JsValue,
    forced_limit: Option<u64>,
) -> Result<FindArgs, Error> {
    let ty = entity_type
        .as_string()
        .ok_or_else(|| Error::invalid_input("entityType", "must be a string such as \"Shot\""))?;
    let filters = validate_filters(&js_to_json(filters, "filters")?)?;
    let opts_value = js_to_json(options, "options")?;
    let opts = Obj::new_optional(&opts_value, "options")?;
    let empty = crate::protocol::json::Map::new();
    let empty_value = Value::Object(empty);
    let opts = match opts {
        Some(o) => o,
        None => Obj::new(&empty_value, "options")?,
    };
    opts.only(&[
        "fields",
        "sort",
        "limit",
        "pageSize",
        "retired",
        "includeArchivedProjects",
        "method",
        "concurrency",
        "raw",
    ])?;
    let method = match opts.opt_str("method")? {
        None | Some("auto") => ReadMethod::Auto,
        Some("get") => ReadMethod::Get,
        Some("search") => ReadMethod::Search,
        Some(_) => {
            return Err(Error::invalid_input(
                "options.method",
                "must be \"auto\", \"get\" or \"search\"",
            ))
        }
    };
    let limit = match forced_limit {
        Some(l) => Some(l),
        None => opts.opt_int("limit", 0, MAX_SAFE_ID)?,
    };
    let mut page_size = opts.opt_int("pageSize", 1, 5000)?.map(|n| n as u32);
    // A small limit needs no bigger page.
    if let (None, Some(l)) = (page_size, limit) {
        if (1..500).contains(&l) {
            page_size = Some(l as u32);
        }
    }
    let return_only = if opts.opt_bool("retired")?.unwrap_or(false) {
        ReturnOnly::Retired
    } else {
        ReturnOnly::Active
    };
    let query = ReadQuery::new(
        &ty,
        filters,
        opts.opt_str_list("fields")?.unwrap_or_default(),
        opts.opt_str_list("sort")?.unwrap_or_default(),
        page_size,
        return_only,
        opts.opt_bool("includeArchivedProjects")?.unwrap_or(false),
        method,
    )?;
    let chosen = opts.opt_int("concurrency", 1, 16)?.map(|n| n as u32);
    let concurrency = chosen.unwrap_or_else(|| DEFAULT_PREFETCH.load(Ordering::Relaxed));
    let raw = opts.opt_bool("raw")?.unwrap_or(false);
    Ok(FindArgs {
        query,
        limit,
        concurrency,
        ramp: chosen.is_none(),
        raw,
    })
}

/// Pages in flight when a read does not say (`options.concurrency`): 1 (no prefetch)
/// unless the package's entry for the runtime sets it (browsers 6, Node 4, Workers 2;
/// see [`set_default_prefetch`]).
static DEFAULT_PREFETCH: AtomicU32 = AtomicU32::new(1);

/// Sets the pages in flight of reads that do not choose (1–16). Called once by the
/// package's browser entry (6: HTTP/1.1 allows 6 connections per host there, so more
/// requests would only queue in the browser), its Node entry (4) and its Workers
/// entry (2).
#[wasm_bindgen(js_name = setDefaultPrefetch)]
pub fn set_default_prefetch(n: u32) {
    DEFAULT_PREFETCH.store(n.clamp(1, 16), Ordering::Relaxed);
}

/// A page-by-page read started by `sg.iterate(...)`; the package's JS layer wraps it in
/// async iterators. It keeps up to `concurrency` page requests in flight (a sliding
/// window, [`PageWindow`]) and hands pages out in order; freeing it drops (cancels)
/// what is in flight.
#[wasm_bindgen]
pub struct Cursor {
    /// The window; taken out while a `nextPage` runs.
    window: Rc<RefCell<Option<PageWindow<'static>>>>,
    /// Requests in flight at most.
    concurrency: u32,
}

#[wasm_bindgen]
impl Cursor {
    /// The next page of records, or `null` when there are no more.
    #[wasm_bindgen(js_name = nextPage, unchecked_return_type = "Promise<ShotGridRecord[] | null>")]
    pub fn next_page(&self) -> Promise {
        let state = self.window.clone();
        future_to_promise(async move {
            // Take the window out while waiting, so an overlapping call sees "busy"
            // instead of corrupting the page order.
            let taken = state.borrow_mut().take();
            let Some(mut window) = taken else {
                return Err(error_to_js(&Error::invalid_input(
                    "nextPage",
                    "called again before the previous page arrived",
                )));
            };
            let result = window.next_page().await;
            *state.borrow_mut() = Some(window);
            let page = result.map_err(|e| error_to_js(&e))?;
            Ok(page.map_or(JsValue::NULL, page_to_js))
        })
    }

    /// Page requests kept in flight at most (the read's `concurrency`, or the
    /// runtime's default when it chose none).
    #[wasm_bindgen(getter)]
    pub fn concurrency(&self) -> u32 {
        self.concurrency
    }
}

fn entity_type_arg(v: &JsValue) -> Result<String, Error> {
    v.as_string()
        .ok_or_else(|| Error::invalid_input("entityType", "must be a string such as \"Shot\""))
}

/// `{ fields?: string[] }` of create/update.
fn write_fields(options: &JsValue) -> Result<Vec<String>, Error> {
    let v = js_to_json(options, "options")?;
    match Obj::new_optional(&v, "options")? {
        None => Ok(Vec::new()),
        Some(o) => {
            o.only(&["fields"])?;
            Ok(o.opt_str_list("fields")?.unwrap_or_default())
        }
    }
}

/// Runs `f` on the client in a promise, converting the result with `to_js`.
fn spawn<F, Fut, R: 'static>(
    inner: &Rc<Client<FetchTransport>>,
    f: F,
    to_js: fn(R) -> JsValue,
) -> Promise
where
    F: FnOnce(Rc<Client<FetchTransport>>) -> Fut + 'static,
    Fut: std::future::Future<Output = Result<R, Error>> + 'static,
{
    let inner = inner.clone();
    future_to_promise(async move { f(inner).await.map(to_js).map_err(|e| error_to_js(&e)) })
}

/// Runs a [`OneShot`] in a promise. Only the request is awaited; the answer is decoded
/// and converted by a boxed continuation, so the .wasm holds one async state machine
/// for every result type, not one per type (nor per method).
fn run_one<R: 'static>(
    inner: &Rc<Client<FetchTransport>>,
    call: OneShot<R>,
    to_js: fn(R) -> JsValue,
) -> Promise {
    let (req, write, auth, decode) = call.into_parts();
    send_one(
        inner,
        req,
        (write, auth, None),
        Box::new(move |resp, _| decode(resp).map(to_js)),
        None,
    )
}

/// Runs a call whose answer is one record (read, create, update; `write` for the
/// last two): decoded in JS by the package's sender as the answer arrives (the bytes
/// never enter wasm, and the .wasm holds no decoder for them).
fn run_record(
    inner: &Rc<Client<FetchTransport>>,
    req: Result<HttpRequest, Error>,
    write: bool,
) -> Promise {
    send_one(
        inner,
        req,
        (write, true, Some(AnswerKind::Record)),
        Box::new(crate::transport::decode_record),
        None,
    )
}

/// A one-record call whose first attempt is in flight (see [`plan_record`]), until
/// the package's JS settles it with [`ShotGrid::plan_ok`] or [`ShotGrid::resume`].
struct Planned {
    client: Rc<Client<FetchTransport>>,
    req: HttpRequest,
    write: bool,
    token: Secret,
    budget: f64,
}

/// The calls in flight that [`plan_record`] started, by id; `free` lists the ids
/// whose slots are empty.
#[derive(Default)]
struct PlannedCalls {
    slots: Vec<Option<Planned>>,
    free: Vec<u32>,
}

impl PlannedCalls {
    /// An empty slot's id, taken before anything is sent (so a call that cannot be
    /// kept is never sent twice).
    fn reserve(&mut self) -> Option<u32> {
        if let Some(id) = self.free.pop() {
            return Some(id);
        }
        let id = u32::try_from(self.slots.len()).ok()?;
        self.slots.push(None);
        Some(id)
    }

    /// Puts the call in its reserved slot.
    fn fill(&mut self, id: u32, p: Planned) {
        if let Some(slot) = self.slots.get_mut(id as usize) {
            *slot = Some(p);
        }
    }

    /// Gives back a reserved slot that was never filled (nothing was sent).
    fn release(&mut self, id: u32) {
        self.free.push(id);
    }

    /// Empties the slot `id` and hands back what it held (a call is settled once: an
    /// empty slot stays as it is).
    fn take(&mut self, id: u32) -> Option<Planned> {
        let taken = self.slots.get_mut(id as usize)?.take();
        if taken.is_some() {
            self.free.push(id);
        }
        taken
    }
}

thread_local! {
    static PLANNED: RefCell<PlannedCalls> = RefCell::new(PlannedCalls::default());
}

fn planned<R>(f: impl FnOnce(&mut PlannedCalls) -> R) -> R {
    PLANNED.with(|cell| f(&mut cell.borrow_mut()))
}

/// The fast path of a one-record call (read, create, update): its first attempt is
/// sent at once, with no future, closure or task, and answers `[id, promise of the
/// sender's outcome]`. The package's JS takes a 2xx record decoded on arrival as the
/// answer and tells [`ShotGrid::plan_ok`]; anything else goes to
/// [`ShotGrid::resume`], which carries on from that attempt as the engine's loop
/// would have (retries, the token replay, errors). `None`, when nothing was sent (the
/// caller then uses the async path): no token that is not due for renewal, a request
/// that cannot be sent as it is; the async path gives the same call its typed error
/// or its token first.
fn plan_record(
    inner: &Rc<Client<FetchTransport>>,
    req: HttpRequest,
    write: bool,
) -> Option<JsValue> {
    // Never the token to another host (the engine's loop refuses such a request too).
    if !inner.site().owns(&req.url) {
        return None;
    }
    let token = inner.fresh_token()?;
    let id = planned(PlannedCalls::reserve)?;
    let authorization = crate::client::bearer_value(&token);
    let started = inner
        .transport()
        .start_js(&req, Some(&authorization), Some(AnswerKind::Record));
    let Ok((promise, budget)) = started else {
        planned(|calls| calls.release(id));
        return None;
    };
    let call = Planned {
        client: inner.clone(),
        req,
        write,
        token,
        budget,
    };
    planned(|calls| calls.fill(id, call));
    Some(js_sys::Array::of2(&JsValue::from(id), &promise).into())
}

/// The continuation of [`run_one`]: decodes an answer (and what the transport kept of
/// it) into the promise's value.
type Finish = Box<dyn FnOnce(&HttpResponse, Option<&Handle>) -> Result<JsValue, Error>>;

fn send_one(
    inner: &Rc<Client<FetchTransport>>,
    req: Result<HttpRequest, Error>,
    (write, auth, kind): (bool, bool, Option<AnswerKind>),
    finish: Finish,
    first: Option<FirstAttempt>,
) -> Promise {
    let inner = inner.clone();
    future_to_promise(async move {
        let (resp, kept) = inner
            .send_call_expecting(req, write, auth, kind, first)
            .await
            .map_err(|e| error_to_js(&e))?;
        decoded(write, finish(&resp, kept.as_ref())).map_err(|e| error_to_js(&e))
    })
}

/// One page's records as a JS array: the runtime's own array (cut to the records
/// kept), or the transcoder's text parsed once.
fn page_to_js(page: PageText) -> JsValue {
    match page
        .runtime
        .as_ref()
        .and_then(|r| r.downcast_ref::<JsValue>())
    {
        Some(records) => {
            let records: &js_sys::Array = records.unchecked_ref();
            if records.length() as usize == page.len() {
                records.clone().into()
            } else {
                records.slice(0, page.len() as u32).into()
            }
        }
        None => text_to_js(&join_array(&page.records)),
    }
}

/// Pages' records as one JS array, in order.
fn pages_to_js(pages: Vec<PageText>) -> JsValue {
    if pages.len() == 1 {
        return pages.into_iter().next().map_or(JsValue::NULL, page_to_js);
    }
    let all: js_sys::Array = pages.into_iter().map(page_to_js).collect();
    all.flat(1).into()
}

/// `read`'s arguments: entity type, id, `options.fields`, `options.raw`.
#[allow(clippy::type_complexity)]
fn read_args(
    entity_type: &JsValue,
    id: &JsValue,
    options: &JsValue,
) -> Result<(String, u64, Option<Vec<String>>, bool), Error> {
    let ty = entity_type_arg(entity_type)?;
    let id = parse_id(id)?;
    let (fields, raw) = parse_fields(&js_to_json(options, "options")?)?;
    Ok((ty, id, fields, raw))
}

fn reject(e: Error) -> Promise {
    Promise::reject(&error_to_js(&e))
}

#[wasm_bindgen]
impl ShotGrid {
    /// Settles a call started by `__plan` whose first attempt answered with its record
    /// (the package's `api.js` calls it).
    #[wasm_bindgen(js_name = __ok)]
    pub fn plan_ok(id: u32) {
        if let Some(p) = planned(|calls| calls.take(id)) {
            p.client.budget.borrow_mut().earn();
        }
    }

    /// Carries on a call started by `__plan` from its first attempt's `outcome` (the
    /// sender's answer): retries, the token replay and errors, as `__call` would have
    /// (the package's `api.js` calls it).
    #[wasm_bindgen(js_name = __resume)]
    pub fn resume(id: u32, outcome: JsValue) -> Promise {
        let Some(p) = planned(|calls| calls.take(id)) else {
            return reject(Error::invalid_input("id", "no call waits on it"));
        };
        let first = FetchTransport::outcome(&outcome, p.budget, Some(AnswerKind::Record));
        send_one(
            &p.client,
            Ok(p.req),
            (p.write, true, Some(AnswerKind::Record)),
            Box::new(crate::transport::decode_record),
            Some((p.token, first)),
        )
    }

    /// Authenticates and returns a connected client.
    #[wasm_bindgen(unchecked_return_type = "Promise<ShotGrid>")]
    pub fn connect(options: JsValue) -> Promise {
        let args = match parse_connect(&options) {
            Ok(v) => v,
            Err(e) => return reject(e),
        };
        // The package's entry points pass their sender, which decodes records; the
        // engine has no other decoder in the .wasm (see `transport::SendFn`).
        let Some(sender) = convert::sender(&options) else {
            return reject(Error::invalid_input(
                "options",
                "connect through the package's entry point (import from \"shotgrid-wasm\"), which supplies the attempt sender",
            ));
        };
        let transport = match FetchTransport::new(args.fetch, sender) {
            Ok(t) => t.scoped(None, args.timeout_ms, None),
            Err(e) => return reject(e),
        };
        let listener = args.on_tokens.map(token_listener);
        let config = args.config;
        future_to_promise(async move {
            let client = Client::connect_with(config, transport, listener)
                .await
                .map_err(|e| error_to_js(&e))?;
            Ok(JsValue::from(ShotGrid {
                inner: Rc::new(client),
            }))
        })
    }
}

impl ShotGrid {
    /// Server info (`GET /api/v1/`).
    pub(crate) fn info(&self) -> Promise {
        run_one(&self.inner, self.inner.info_call(), |v| json_to_js(&v))
    }

    /// Reads one record by id: `{ type, id, ...fields }`. Rejects with status 404 when
    /// it does not exist.
    pub(crate) fn read(&self, entity_type: JsValue, id: JsValue, options: JsValue) -> Promise {
        let (ty, id, fields, raw) = match read_args(&entity_type, &id, &options) {
            Ok(a) => a,
            Err(e) => return reject(e),
        };
        if raw {
            run_one(
                &self.inner,
                self.inner.read_raw_call(&ty, id, fields.as_deref()),
                |doc| json_to_js(&doc),
            )
        } else {
            run_record(
                &self.inner,
                self.inner.read_req(&ty, id, fields.as_deref()),
                false,
            )
        }
    }

    /// Every record matching `filters`, up to `options.limit`.
    pub(crate) fn find(&self, entity_type: JsValue, filters: JsValue, options: JsValue) -> Promise {
        self.run_find(parse_find(&entity_type, &filters, &options, None), false)
    }

    /// The first record matching `filters` (in `options.sort` order), or `null`.
    pub(crate) fn find_one(
        &self,
        entity_type: JsValue,
        filters: JsValue,
        options: JsValue,
    ) -> Promise {
        self.run_find(parse_find(&entity_type, &filters, &options, Some(1)), true)
    }

    /// `find`, or `findOne` when `one` (its arguments were parsed with a limit of 1):
    /// one async state machine for both.
    fn run_find(&self, args: Result<FindArgs, Error>, one: bool) -> Promise {
        let args = match args {
            Ok(a) => a,
            Err(e) => return reject(e),
        };
        let inner = self.inner.clone();
        future_to_promise(async move {
            if args.raw {
                let mut docs = inner
                    .find_raw(&args.query, args.limit)
                    .await
                    .map_err(|e| error_to_js(&e))?;
                if one {
                    // The document of the one page read (its `data` holds 0 or 1 resources).
                    return Ok(docs.pop().map_or(JsValue::NULL, |d| json_to_js(&d)));
                }
                return Ok(json_to_js(&Value::Array(docs)));
            }
            let (concurrency, ramp) = if one {
                (1, false)
            } else {
                (args.concurrency, args.ramp)
            };
            let pages = inner
                .find_pages(&args.query, args.limit, concurrency, ramp)
                .await
                .map_err(|e| error_to_js(&e))?;
            let all = pages_to_js(pages);
            if !one {
                return Ok(all);
            }
            let first =
                js_sys::Reflect::get(&all, &JsValue::from_f64(0.0)).unwrap_or(JsValue::NULL);
            Ok(if first.is_undefined() {
                JsValue::NULL
            } else {
                first
            })
        })
    }

    /// Creates a record; resolves to it (`options.fields` chooses the returned fields).
    pub(crate) fn create(&self, entity_type: JsValue, data: JsValue, options: JsValue) -> Promise {
        run_record(
            &self.inner,
            self.create_req(&entity_type, &data, &options),
            true,
        )
    }

    fn create_req(
        &self,
        entity_type: &JsValue,
        data: &JsValue,
        options: &JsValue,
    ) -> Result<HttpRequest, Error> {
        let ty = entity_type_arg(entity_type)?;
        let data = js_to_json(data, "data")?;
        let fields = write_fields(options)?;
        self.inner.create_req(&ty, &data, &fields)
    }

    /// Updates a record; resolves to it. Multi-entity fields take a list, or
    /// `{ multi_entity_update_mode: "add" | "remove" | "set", value: [...] }`.
    pub(crate) fn update(
        &self,
        entity_type: JsValue,
        id: JsValue,
        data: JsValue,
        options: JsValue,
    ) -> Promise {
        run_record(
            &self.inner,
            self.update_req(&entity_type, &id, &data, &options),
            true,
        )
    }

    fn update_req(
        &self,
        entity_type: &JsValue,
        id: &JsValue,
        data: &JsValue,
        options: &JsValue,
    ) -> Result<HttpRequest, Error> {
        let ty = entity_type_arg(entity_type)?;
        let id = parse_id(id)?;
        let data = js_to_json(data, "data")?;
        let fields = write_fields(options)?;
        self.inner.update_req(&ty, id, &data, &fields)
    }

    /// Deletes (retires) a record.
    pub(crate) fn delete(&self, entity_type: JsValue, id: JsValue) -> Promise {
        let args = (|| Ok::<_, Error>((entity_type_arg(&entity_type)?, parse_id(&id)?)))();
        let (ty, id) = match args {
            Ok(a) => a,
            Err(e) => return reject(e),
        };
        run_one(&self.inner, self.inner.delete_call(&ty, id), |()| {
            JsValue::UNDEFINED
        })
    }

    /// Revives a retired record; resolves to whether it was revived.
    pub(crate) fn revive(&self, entity_type: JsValue, id: JsValue) -> Promise {
        let args = (|| Ok::<_, Error>((entity_type_arg(&entity_type)?, parse_id(&id)?)))();
        let (ty, id) = match args {
            Ok(a) => a,
            Err(e) => return reject(e),
        };
        run_one(
            &self.inner,
            self.inner.revive_call(&ty, id),
            JsValue::from_bool,
        )
    }

    /// Runs create/update/delete requests in one transaction. More requests than the
    /// batch limit is an error unless `options.split` is true; then they go in ordered
    /// chunks, each its own transaction (not atomic together).
    pub(crate) fn batch(&self, requests: JsValue, options: JsValue) -> Promise {
        let args = (|| {
            let requests = js_to_json(&requests, "requests")?;
            let v = js_to_json(&options, "options")?;
            let split = match Obj::new_optional(&v, "options")? {
                None => false,
                Some(o) => {
                    o.only(&["split"])?;
                    o.opt_bool("split")?.unwrap_or(false)
                }
            };
            Ok::<_, Error>((requests, split))
        })();
        let (requests, split) = match args {
            Ok(a) => a,
            Err(e) => return reject(e),
        };
        spawn(
            &self.inner,
            move |c| async move { c.batch(&requests, split).await },
            |v| json_to_js(&Value::Array(v)),
        )
    }

    /// Starts a page-by-page read (used by `iterate`). Throws `ShotGridError` on invalid
    /// arguments.
    pub(crate) fn cursor(
        &self,
        entity_type: JsValue,
        filters: JsValue,
        options: JsValue,
    ) -> Result<Cursor, JsValue> {
        let args =
            parse_find(&entity_type, &filters, &options, None).map_err(|e| error_to_js(&e))?;
        if args.raw {
            return Err(error_to_js(&Error::invalid_input(
                "options.raw",
                "iterate gives flat records; use find with { raw: true } for documents",
            )));
        }
        let client = self.inner.clone();
        let query = Rc::new(args.query);
        let page_size = query.page_size;
        let start: StartPage<'static> = Box::new(move |page| {
            let client = client.clone();
            let query = query.clone();
            Box::pin(async move { client.fetch_page(&query, page).await })
        });
        Ok(Cursor {
            window: Rc::new(RefCell::new(Some(PageWindow::new(
                Pager::new(page_size, args.limit),
                page_size,
                args.concurrency,
                args.ramp,
                start,
            )))),
            concurrency: args.concurrency,
        })
    }

    /// This client for one call: the same session (tokens, refresh, retry budget) with
    /// the call's `signal` (an `AbortSignal`), per-attempt `timeoutMs` and overall
    /// `deadlineMs` (ms from now, retries included). The package's JS layer calls it
    /// for every method whose options carry these keys.
    pub(crate) fn scoped(
        &self,
        signal: JsValue,
        timeout_ms: JsValue,
        deadline_ms: JsValue,
    ) -> Result<ShotGrid, JsValue> {
        let signal = if signal.is_undefined() || signal.is_null() {
            None
        } else {
            Some(signal.dyn_into::<web_sys::AbortSignal>().map_err(|_| {
                error_to_js(&Error::invalid_input(
                    "options.signal",
                    "must be an AbortSignal",
                ))
            })?)
        };
        let ms = |v: &JsValue, path: &str| -> Result<Option<f64>, JsValue> {
            if v.is_undefined() || v.is_null() {
                return Ok(None);
            }
            v.as_f64()
                .filter(|n| n.is_finite() && *n > 0.0 && *n <= 86_400_000.0)
                .map(Some)
                .ok_or_else(|| {
                    error_to_js(&Error::invalid_input(
                        path,
                        "must be a number of milliseconds, above 0 and at most a day",
                    ))
                })
        };
        let timeout = ms(&timeout_ms, "options.timeoutMs")?;
        let deadline = ms(&deadline_ms, "options.deadlineMs")?.map(|d| js_sys::Date::now() + d);
        let transport = self.inner.transport().scoped(signal, timeout, deadline);
        Ok(ShotGrid {
            inner: Rc::new(self.inner.with_transport(transport)),
        })
    }

    /// The site URL.
    pub(crate) fn site(&self) -> String {
        self.inner.site().base().to_owned()
    }

    /// When the current access token expires, in ms since the epoch.
    pub(crate) fn token_expires_at(&self) -> Option<f64> {
        self.inner.token_expires_at_ms()
    }

    /// `ShotGrid(<site>)`: never shows credentials or tokens.
    pub(crate) fn to_js_string(&self) -> String {
        let mut s = String::from("ShotGrid(");
        s.push_str(self.inner.site().base());
        s.push(')');
        s
    }

    /// `{ site }`: what `JSON.stringify(sg)` shows; never credentials or tokens.
    pub(crate) fn to_json(&self) -> JsValue {
        json_to_js(&crate::protocol::json::json!({ "site": self.inner.site().base() }))
    }
}
