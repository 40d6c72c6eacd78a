//! The `fetch` transport for every JS runtime (browsers, Node ≥ 18, workerd).
//!
//! Runtime-agnostic by construction: it calls a `fetch` function (the global one or one
//! injected by the caller) with an absolute URL and a plain init object, and never sets
//! `credentials`, `mode` or `referrer`, which workerd rejects.

mod ext;

use js_sys::{Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, AbortSignal, RequestInit, Response};

use crate::client::upload::Handle;
use crate::client::{AnswerKind, Transport};
use crate::protocol::http::{HttpRequest, HttpResponse, RESPONSE_HEADERS};
use crate::protocol::transcode::{not_a_page, PageText};
use crate::protocol::{Error, ErrorKind};

/// The response header of the request id, the one copied from 2xx answers.
const REQUEST_ID: &str = "x-request-id";

/// Default longest wait for one attempt's response, in ms.
pub const DEFAULT_ATTEMPT_TIMEOUT_MS: f64 = 30_000.0;

/// Sends requests with a JS `fetch` function. A transport may be scoped to one call
/// ([`FetchTransport::scoped`]): the caller's `AbortSignal`, a per-attempt timeout and
/// an overall deadline then apply to every request and retry sleep of that call.
#[derive(Clone)]
pub struct FetchTransport {
    fetch: Function,
    signal: Option<AbortSignal>,
    attempt_timeout_ms: f64,
    /// Whether the caller chose the attempt timeout (it then also bounds uploads).
    explicit_timeout: bool,
    deadline_ms: Option<f64>,
    /// The package's attempt sender (`send.js`) and the response header names it
    /// copies ([`RESPONSE_HEADERS`]): one JS call and one promise per attempt instead
    /// of a dozen boundary crossings, and the records decoded as they arrive.
    sender: SendFn,
    names: JsValue,
}

#[wasm_bindgen::prelude::wasm_bindgen]
extern "C" {
    /// `send(fetch, url, method, head, body, signal, ms, names, mode)` of the package's
    /// `send.js`: one attempt. `head` is `name\nvalue\n…`; it resolves (never rejects) to `[0,
    /// status, headers ("name\nvalue\n…" of `names` present, or null), Uint8Array]`,
    /// `[1]` when `ms` passed first, `[2]` when `signal` aborted first, `[3, error]`
    /// when `fetch` or the body failed, `[4]` when `fetch` gave no Response. With
    /// `mode` 1 (one record) or 2 (a page), a 2xx answer that decodes is `[0, status,
    /// null, null, decoded]` (the page decoder's answer; the body stays in JS).
    #[wasm_bindgen(js_name = Function)]
    #[derive(Clone)]
    pub type SendFn;
    #[wasm_bindgen(method, catch, js_name = call)]
    #[allow(clippy::too_many_arguments)]
    fn send(
        this: &SendFn,
        ctx: &JsValue,
        fetch: &Function,
        url: &str,
        method: &str,
        head: &str,
        body: &JsValue,
        signal: Option<&AbortSignal>,
        ms: f64,
        names: &JsValue,
        mode: u32,
    ) -> Result<Promise, JsValue>;
}

/// What a fetch attempt ended with.
enum Outcome {
    Done(JsValue),
    TimedOut,
}

impl FetchTransport {
    /// Uses `fetch` if given (service bindings, proxies, tests), else `globalThis.fetch`.
    /// Each attempt of [`Transport::send`] goes through `sender` (see [`SendFn`]), the
    /// package's JS helper, which also decodes records. It copies the
    /// [`RESPONSE_HEADERS`] of error answers, and only the request id of 2xx answers:
    /// the others matter for retries, redirects and upload parts, which are errors,
    /// 3xx or [`Transport::send_ext`].
    pub fn new(fetch: Option<Function>, sender: Function) -> Result<Self, Error> {
        let fetch = match fetch {
            Some(f) => f,
            None => Reflect::get(&js_sys::global(), &JsValue::from_str("fetch"))
                .ok()
                .and_then(|f| f.dyn_into::<Function>().ok())
                .ok_or_else(|| {
                    Error::invalid_input(
                        "fetch",
                        "this runtime has no global fetch; pass one in the options",
                    )
                })?,
        };
        // The request id first, then the others.
        let names: js_sys::Array = std::iter::once(REQUEST_ID)
            .chain(
                RESPONSE_HEADERS
                    .iter()
                    .copied()
                    .filter(|&n| n != REQUEST_ID),
            )
            .map(JsValue::from_str)
            .collect();
        Ok(FetchTransport {
            fetch,
            signal: None,
            attempt_timeout_ms: DEFAULT_ATTEMPT_TIMEOUT_MS,
            explicit_timeout: false,
            deadline_ms: None,
            sender: sender.unchecked_into(),
            names: names.into(),
        })
    }

    /// This transport for one call: `signal` cancels it, `attempt_timeout_ms` bounds
    /// each attempt, `deadline_ms` (ms since the epoch) bounds the whole call,
    /// retries included. `None` keeps this transport's setting.
    pub fn scoped(
        &self,
        signal: Option<AbortSignal>,
        attempt_timeout_ms: Option<f64>,
        deadline_ms: Option<f64>,
    ) -> FetchTransport {
        FetchTransport {
            fetch: self.fetch.clone(),
            signal: signal.or_else(|| self.signal.clone()),
            attempt_timeout_ms: attempt_timeout_ms.unwrap_or(self.attempt_timeout_ms),
            explicit_timeout: self.explicit_timeout || attempt_timeout_ms.is_some(),
            deadline_ms: deadline_ms.or(self.deadline_ms),
            sender: self.sender.clone(),
            names: self.names.clone(),
        }
    }

    /// The time this attempt may take: the attempt timeout, cut to the deadline. A
    /// request sending a large body (an upload part) is bounded only by the deadline,
    /// unless the caller set the attempt timeout.
    fn attempt_budget(&self, large_body: bool) -> Result<f64, Error> {
        let mut ms = if large_body && !self.explicit_timeout {
            f64::INFINITY
        } else {
            self.attempt_timeout_ms
        };
        if let Some(deadline) = self.deadline_ms {
            let left = deadline - js_sys::Date::now();
            if left <= 0.0 {
                let mut e = Error::new(ErrorKind::Timeout, "The call's deadline passed");
                e.detail = Some("no time left for another attempt".to_owned());
                e.retryable = false;
                return Err(e);
            }
            ms = ms.min(left);
        }
        Ok(ms)
    }

    /// Calls `fetch(url, init)` under a fresh `AbortController` that the caller's
    /// signals (this call's, and `extra` from an upload) and the attempt timeout abort.
    /// Returns the Response and the listener guard (keep it while reading the body);
    /// the attempt timeout bounds the wait for the response head.
    pub(crate) async fn call_fetch(
        &self,
        url: &str,
        init: &RequestInit,
        extra: Option<&JsValue>,
        large_body: bool,
    ) -> Result<(Response, ListenerGuard), Error> {
        let signals: Vec<AbortSignal> = self
            .signal
            .iter()
            .cloned()
            .chain(extra.and_then(|s| s.dyn_ref::<AbortSignal>().cloned()))
            .collect();
        if signals.iter().any(AbortSignal::aborted) {
            return Err(aborted());
        }
        let budget = self.attempt_budget(large_body)?;
        let ctrl = AbortController::new().map_err(|e| js_failure(&e))?;
        let guard = ListenerGuard::attach(&ctrl, signals);
        init.set_signal(Some(&ctrl.signal()));
        let promise = self
            .fetch
            .call2(&JsValue::UNDEFINED, &JsValue::from_str(url), init)
            .map_err(|e| js_failure(&e))?;
        let timer = Timer::start(budget);
        match Timer::race(timer.as_ref(), &Promise::resolve(&promise)).await {
            Ok(Outcome::Done(value)) => {
                let resp: Response = value.dyn_into().map_err(|_| {
                    Error::new(ErrorKind::Decode, "fetch did not return a Response")
                })?;
                Ok((resp, guard))
            }
            Ok(Outcome::TimedOut) => {
                ctrl.abort();
                Err(timed_out(budget))
            }
            Err(_) if guard.any_aborted() => Err(aborted()),
            Err(e) => Err(js_failure(&e)),
        }
    }
}

impl FetchTransport {
    /// Starts one attempt through the package's JS sender: the promise of its outcome
    /// (see [`SendFn`]) and the attempt's budget, the same budget, signal and errors
    /// as [`Transport::send_ext`]. With a `kind`, a 2xx answer that decodes comes back
    /// decoded and without its body. Nothing is awaited: [`FetchTransport::outcome`]
    /// reads what the promise gives. `authorization`: an `Authorization` value sent
    /// after `req`'s own headers (so a caller need not copy the request to add it).
    pub(crate) fn start_js(
        &self,
        req: &HttpRequest,
        authorization: Option<&str>,
        kind: Option<AnswerKind>,
    ) -> Result<(Promise, f64), Error> {
        if self.signal.as_ref().is_some_and(AbortSignal::aborted) {
            return Err(aborted());
        }
        let budget = self.attempt_budget(false)?;
        let mut head = String::new();
        let extra = authorization.map(|v| ("Authorization", v));
        let headers = req.headers.iter().map(|(n, v)| (n.as_str(), v.as_str()));
        for (name, value) in headers.chain(extra) {
            if !valid_header_value(value) {
                return Err(Error::invalid_input(
                    "headers",
                    "a header value is not valid",
                ));
            }
            if !head.is_empty() {
                head.push('\n');
            }
            head.push_str(name);
            head.push('\n');
            head.push_str(value);
        }
        let body = req.body.as_ref().map_or(JsValue::UNDEFINED, |b| {
            Uint8Array::from(b.as_slice()).into()
        });
        let promise = self
            .sender
            .send(
                &JsValue::UNDEFINED,
                &self.fetch,
                &req.url,
                req.method.as_str(),
                &head,
                &body,
                self.signal.as_ref(),
                budget,
                &self.names,
                match kind {
                    None => 0,
                    Some(AnswerKind::Record) => 1,
                    Some(AnswerKind::Page) => 2,
                },
            )
            .map_err(|e| js_failure(&e))?;
        Ok((promise, budget))
    }

    /// What an attempt started with [`FetchTransport::start_js`] ended with, from the
    /// value its promise gave (`budget`: the attempt's, for a timeout's message).
    pub(crate) fn outcome(
        outcome: &JsValue,
        budget: f64,
        kind: Option<AnswerKind>,
    ) -> Result<(HttpResponse, Option<Handle>), Error> {
        let outcome: &js_sys::Array = match outcome.dyn_ref() {
            Some(a) => a,
            None => return Err(js_failure(outcome)),
        };
        match outcome.get(0).as_f64() {
            Some(0.0) => {
                let status = outcome
                    .get(1)
                    .as_f64()
                    .filter(|s| (0.0..=999.0).contains(s))
                    .map_or(0, |s| s as u16);
                let mut headers = Vec::new();
                if let Some(text) = outcome.get(2).as_string() {
                    let mut parts = text.split('\n');
                    while let (Some(k), Some(v)) = (parts.next(), parts.next()) {
                        headers.push((k.to_owned(), v.to_owned()));
                    }
                }
                let body = outcome
                    .get(3)
                    .dyn_into::<Uint8Array>()
                    .map_or_else(|_| Vec::new(), |b| b.to_vec());
                // Only a 2xx answer asked for decoded carries it.
                let decoded = outcome.get(4);
                let kept = (kind.is_some() && !decoded.is_undefined() && !decoded.is_null())
                    .then(|| Handle::new(decoded));
                Ok((
                    HttpResponse {
                        status,
                        headers,
                        body,
                    },
                    kept,
                ))
            }
            Some(1.0) => Err(timed_out(budget)),
            Some(2.0) => Err(aborted()),
            Some(4.0) => Err(Error::new(
                ErrorKind::Decode,
                "fetch did not return a Response",
            )),
            _ => Err(js_failure(&outcome.get(1))),
        }
    }
}

/// A single-record answer (`{data: {...}}`) as the plain JS record the package's
/// sender decoded on arrival (`kept`, see [`Transport::send_expecting`] and
/// [`FetchTransport::decodes_in_js`]): the record and errors of
/// [`crate::protocol::transcode::transcode_single`]. An answer the sender could not
/// decode (nothing kept) is the transcoder's decode error.
pub fn decode_record(resp: &HttpResponse, kept: Option<&Handle>) -> Result<JsValue, Error> {
    kept.and_then(Handle::get::<JsValue>)
        .filter(|v| v.is_object())
        .cloned()
        .ok_or_else(|| not_a_page(resp))
}

/// Whether `fetch` takes `value` as a header value as it is: no NUL, CR or LF, and
/// every character a byte (what `Headers.append` rejects; the JS sender passes plain
/// pairs, so the check is made here, with the Rust path's error).
fn valid_header_value(value: &str) -> bool {
    value
        .chars()
        .all(|c| !matches!(c, '\0' | '\r' | '\n') && u32::from(c) <= 0xFF)
}

/// Forwards the caller's `abort` events to one attempt's controller; removes the
/// listeners when dropped.
pub(crate) struct ListenerGuard {
    signals: Vec<AbortSignal>,
    listener: Option<Function>,
}

impl ListenerGuard {
    fn attach(ctrl: &AbortController, signals: Vec<AbortSignal>) -> ListenerGuard {
        if signals.is_empty() {
            // Nothing to forward (the common call without a signal): no bound listener.
            return ListenerGuard {
                signals,
                listener: None,
            };
        }
        let listener = Reflect::get(ctrl, &JsValue::from_str("abort"))
            .ok()
            .and_then(|f| f.dyn_into::<Function>().ok())
            .map(|f| f.bind0(ctrl));
        if let Some(l) = &listener {
            for s in &signals {
                let _ = s.add_event_listener_with_callback("abort", l);
            }
        }
        ListenerGuard { signals, listener }
    }

    pub(crate) fn any_aborted(&self) -> bool {
        self.signals.iter().any(AbortSignal::aborted)
    }

    /// Keeps forwarding for a body that outlives this call (a download stream).
    pub(crate) fn keep(mut self) {
        self.listener = None;
    }
}

impl Drop for ListenerGuard {
    fn drop(&mut self) {
        if let Some(l) = &self.listener {
            for s in &self.signals {
                let _ = s.remove_event_listener_with_callback("abort", l);
            }
        }
    }
}

pub(crate) fn aborted() -> Error {
    Error::new(ErrorKind::Aborted, "The operation was aborted")
}

fn timed_out(ms: f64) -> Error {
    let mut e = Error::new(ErrorKind::Timeout, "The request timed out");
    let mut d = String::from("no response within ");
    d.push_str(&crate::protocol::dec(ms.round() as u64));
    d.push_str(" ms");
    e.detail = Some(d);
    e.retryable = true;
    e
}

/// A timer: a promise resolving after `ms` with `value`, and its id for
/// [`clear_timer`]. Every timer we start is cleared once its race is decided, so no
/// pending timer keeps Node's event loop or a Worker alive.
fn delay(ms: f64, value: &JsValue) -> (Promise, JsValue) {
    let mut id = JsValue::UNDEFINED;
    let promise = Promise::new(&mut |resolve, _reject| {
        let global = js_sys::global();
        match Reflect::get(&global, &JsValue::from_str("setTimeout"))
            .and_then(|f| f.dyn_into::<Function>())
        {
            Ok(set_timeout) => {
                id = set_timeout
                    .call3(&global, &resolve, &JsValue::from_f64(ms.max(0.0)), value)
                    .unwrap_or(JsValue::UNDEFINED);
            }
            Err(_) => {
                let _ = resolve.call1(&JsValue::UNDEFINED, value);
            }
        }
    });
    (promise, id)
}

/// Cancels a timer started by [`delay`].
fn clear_timer(id: &JsValue) {
    if id.is_undefined() {
        return;
    }
    let global = js_sys::global();
    if let Ok(clear) = Reflect::get(&global, &JsValue::from_str("clearTimeout"))
        .and_then(|f| f.dyn_into::<Function>())
    {
        let _ = clear.call1(&global, id);
    }
}

/// One attempt's timer: a promise that resolves to a private marker after `ms`;
/// cleared when dropped, so no pending timer keeps Node's event loop or a Worker
/// alive once the attempt is decided.
pub(crate) struct Timer {
    promise: Promise,
    id: JsValue,
    marker: JsValue,
}

impl Timer {
    /// Starts a timer; none for an unbounded wait.
    fn start(ms: f64) -> Option<Timer> {
        if !ms.is_finite() {
            return None;
        }
        let marker: JsValue = Object::new().into();
        let (promise, id) = delay(ms, &marker);
        Some(Timer {
            promise,
            id,
            marker,
        })
    }

    /// Waits for `promise`, at most until `timer` fires (forever without one).
    async fn race(timer: Option<&Timer>, promise: &Promise) -> Result<Outcome, JsValue> {
        let Some(t) = timer else {
            return JsFuture::from(promise.clone()).await.map(Outcome::Done);
        };
        let value = JsFuture::from(Promise::race(&js_sys::Array::of2(promise, &t.promise))).await?;
        Ok(if Object::is(&value, &t.marker) {
            Outcome::TimedOut
        } else {
            Outcome::Done(value)
        })
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        clear_timer(&self.id);
    }
}

/// A promise resolving when `signal` aborts (at once if it has), and the listener to
/// remove afterwards.
fn on_abort(signal: &AbortSignal) -> (Promise, Option<Function>) {
    let mut listener = None;
    let promise = Promise::new(&mut |resolve, _reject| {
        if signal.aborted() {
            let _ = resolve.call0(&JsValue::UNDEFINED);
        } else {
            let _ = signal.add_event_listener_with_callback("abort", &resolve);
            listener = Some(resolve);
        }
    });
    (promise, listener)
}

fn js_failure(err: &JsValue) -> Error {
    let name = Reflect::get(err, &JsValue::from_str("name"))
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default();
    let message = Reflect::get(err, &JsValue::from_str("message"))
        .ok()
        .and_then(|v| v.as_string())
        .unwrap_or_default();
    let (kind, title) = match name.as_str() {
        "AbortError" => (ErrorKind::Aborted, "The operation was aborted"),
        "TimeoutError" => (ErrorKind::Timeout, "The request timed out"),
        _ => (ErrorKind::Network, "The request did not get a response"),
    };
    let mut e = Error::new(kind, title);
    if !message.is_empty() {
        e.detail = Some(message);
    }
    e.retryable = kind != ErrorKind::Aborted;
    e
}

impl Transport for FetchTransport {
    async fn send(&self, req: HttpRequest) -> Result<HttpResponse, Error> {
        self.send_expecting(req, None).await.map(|(resp, _)| resp)
    }

    fn now_ms(&self) -> f64 {
        js_sys::Date::now()
    }

    async fn sleep(&self, ms: f64) {
        // Cut short by the call's deadline and signal: the next attempt then fails at
        // once with `timeout` or `aborted`, so nothing lingers after an abort.
        let mut ms = ms.max(0.0);
        if let Some(deadline) = self.deadline_ms {
            ms = ms.min((deadline - js_sys::Date::now()).max(0.0));
        }
        let (wait, id) = delay(ms, &JsValue::UNDEFINED);
        match &self.signal {
            Some(signal) => {
                let (aborted, listener) = on_abort(signal);
                let _ = JsFuture::from(Promise::race(&js_sys::Array::of2(&wait, &aborted))).await;
                if let Some(l) = listener {
                    let _ = signal.remove_event_listener_with_callback("abort", &l);
                }
            }
            None => {
                let _ = JsFuture::from(wait).await;
            }
        }
        clear_timer(&id);
    }

    fn random(&self) -> f64 {
        js_sys::Math::random()
    }

    async fn send_expecting(
        &self,
        req: HttpRequest,
        kind: Option<AnswerKind>,
    ) -> Result<(HttpResponse, Option<Handle>), Error> {
        let (promise, budget) = self.start_js(&req, None, kind)?;
        let outcome = JsFuture::from(promise).await.map_err(|e| js_failure(&e))?;
        Self::outcome(&outcome, budget, kind)
    }

    fn decode_page(&self, resp: &HttpResponse, kept: Option<&Handle>) -> Result<PageText, Error> {
        // Decoded by the JS sender on arrival; nothing kept: it could not decode it.
        let decoded = kept
            .and_then(Handle::get::<JsValue>)
            .and_then(|v| v.dyn_ref::<js_sys::Array>())
            .ok_or_else(|| not_a_page(resp))?;
        let records = decoded.get(0);
        let ids = decoded
            .get(1)
            .dyn_into::<js_sys::Float64Array>()
            .map_err(|_| not_a_page(resp))?
            .to_vec();
        let ids = ids
            .into_iter()
            .map(|id| {
                // Integral and exactly representable (|id| < 2^63 as f64).
                if id.fract() == 0.0 && id.abs() < 9.2e18 {
                    Ok(id as i64)
                } else {
                    Err(not_a_page(resp))
                }
            })
            .collect::<Result<Vec<i64>, Error>>()?;
        let len = js_sys::Reflect::get(&records, &JsValue::from_str("length"))
            .ok()
            .and_then(|n| n.as_f64());
        if !js_sys::Array::is_array(&records) || len != Some(ids.len() as f64) {
            return Err(not_a_page(resp));
        }
        Ok(PageText {
            records: Vec::new(),
            ids,
            runtime: Some(std::rc::Rc::new(records)),
        })
    }

    async fn send_ext(
        &self,
        req: HttpRequest,
        extras: &crate::client::upload::Extras,
    ) -> Result<(HttpResponse, Option<crate::client::upload::Handle>), Error> {
        ext::send(self, req, extras).await
    }
}
