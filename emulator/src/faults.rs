//! Fault injection and request statistics.
//!
//! A [`FaultConfig`] (from flags, or replaced at run time through
//! `POST /_admin/faults`) describes added latency and the rates of injected failures:
//! 500/503 answers, 429 with `Retry-After`, connections dropped before the handler runs
//! (nothing committed) and connections dropped after it ran (the write committed, the
//! client never hears so). One uniform draw per request picks at most one failure, from a
//! seeded [`StdRng`], so a sequential test run is reproducible with `seed`.
//!
//! Faults never apply to `/_admin` routes nor to CORS preflights (the CORS layer answers
//! those before this middleware runs). Every request is counted per [`RouteClass`].

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::errors::{ApiError, CODE_UNKNOWN};
use crate::http::AppState;

/// Which kind of endpoint a request is for; faults can be limited to some classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RouteClass {
    /// `POST /api/v1/auth/access_token`.
    Auth,
    /// `GET /api/v1/` (server info).
    Info,
    /// Other `GET`/`HEAD` under `/api/v1`, and the searches sent as `POST` but reading
    /// only (`_search`, `_text_search`, `_summarize`, `hierarchy/_expand`).
    Read,
    /// `POST`/`PUT`/`PATCH`/`DELETE` under `/api/v1` that may change the site (not
    /// uploads, not searches).
    Write,
    /// Upload bodies: `PUT` to storage URLs and `PUT …/_upload` (sg storage).
    Upload,
    /// `GET`/`HEAD` of storage URLs (downloads).
    Download,
    /// `/_admin/…` (never faulted).
    Admin,
    /// Anything else.
    Other,
}

impl RouteClass {
    /// Classifies a request by method and path.
    pub fn of(method: &Method, path: &str) -> RouteClass {
        let is_get = method == Method::GET || method == Method::HEAD;
        if path.starts_with("/_admin") {
            RouteClass::Admin
        } else if path.starts_with("/_storage/") {
            if is_get {
                RouteClass::Download
            } else {
                RouteClass::Upload
            }
        } else if path == "/api/v1" || path == "/api/v1/" {
            RouteClass::Info
        } else if path == "/api/v1/auth/access_token" {
            RouteClass::Auth
        } else if path.starts_with("/api/v1/") {
            let search = method == Method::POST
                && [
                    "/_search",
                    "/_text_search",
                    "/_summarize",
                    "/hierarchy/_expand",
                ]
                .iter()
                .any(|end| path.ends_with(end));
            if is_get || search {
                RouteClass::Read
            } else if method == Method::PUT && path.ends_with("/_upload") {
                RouteClass::Upload
            } else {
                RouteClass::Write
            }
        } else {
            RouteClass::Other
        }
    }
}

/// What to inject. Rates are probabilities in `[0, 1]` whose sum is at most 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    /// Fixed latency added to every faulted request, in ms.
    pub latency_ms: u64,
    /// Extra random latency, uniform in `[0, jitter_ms]`.
    pub jitter_ms: u64,
    /// Rate of 500/503 answers.
    pub error_rate: f64,
    /// Statuses an injected error picks from uniformly; default `[500, 503]`.
    pub error_statuses: Vec<u16>,
    /// Rate of 429 answers.
    pub rate_limit_rate: f64,
    /// `Retry-After` seconds sent with 429 (and with 503).
    pub retry_after_secs: u64,
    /// Rate of connections dropped before the handler runs (nothing happens).
    pub drop_rate: f64,
    /// Rate of connections dropped after the handler ran (the write committed), before
    /// any byte of the answer is sent.
    pub drop_after_commit_rate: f64,
    /// Rate of answers cut off mid-response: the handler ran (the write committed), the
    /// status, the headers and the first half of the body are sent, then the connection
    /// is dropped.
    pub drop_mid_response_rate: f64,
    /// Seed of the random generator; `None` seeds from the OS.
    pub seed: Option<u64>,
    /// Limit faults (including latency) to these classes; empty means every class but
    /// `admin`.
    pub classes: Vec<RouteClass>,
}

impl Default for FaultConfig {
    fn default() -> Self {
        FaultConfig {
            latency_ms: 0,
            jitter_ms: 0,
            error_rate: 0.0,
            error_statuses: vec![500, 503],
            rate_limit_rate: 0.0,
            retry_after_secs: 1,
            drop_rate: 0.0,
            drop_after_commit_rate: 0.0,
            drop_mid_response_rate: 0.0,
            seed: None,
            classes: Vec::new(),
        }
    }
}

impl FaultConfig {
    /// Checks rates and statuses; the message names the bad setting.
    pub fn validate(&self) -> Result<(), String> {
        let rates = [
            ("error_rate", self.error_rate),
            ("rate_limit_rate", self.rate_limit_rate),
            ("drop_rate", self.drop_rate),
            ("drop_after_commit_rate", self.drop_after_commit_rate),
            ("drop_mid_response_rate", self.drop_mid_response_rate),
        ];
        for (name, r) in rates {
            if !(0.0..=1.0).contains(&r) {
                return Err(format!("{name} must be between 0 and 1"));
            }
        }
        if rates.iter().map(|(_, r)| r).sum::<f64>() > 1.0 + 1e-9 {
            return Err("the sum of the rates must not exceed 1".into());
        }
        if self
            .error_statuses
            .iter()
            .any(|s| !(500..=599).contains(s) || StatusCode::from_u16(*s).is_err())
        {
            return Err("error_statuses must be 5xx statuses".into());
        }
        if self.error_rate > 0.0 && self.error_statuses.is_empty() {
            return Err("error_statuses must not be empty when error_rate > 0".into());
        }
        if self.latency_ms > 60_000 || self.jitter_ms > 60_000 {
            return Err("latency_ms and jitter_ms must be at most 60000".into());
        }
        Ok(())
    }

    fn applies_to(&self, class: RouteClass) -> bool {
        class != RouteClass::Admin && (self.classes.is_empty() || self.classes.contains(&class))
    }
}

/// What happens to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Handled normally.
    Pass,
    /// Answered with this 5xx status.
    Error(u16),
    /// Answered 429.
    RateLimited,
    /// Connection dropped, handler not run.
    Drop,
    /// Handler run, then connection dropped before any byte of the answer.
    DropAfterCommit,
    /// Handler run, the answer begun (status, headers, half the body), then the
    /// connection dropped.
    DropMidResponse,
}

/// Counters since start or the last reset.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// Requests per route class.
    pub requests: BTreeMap<RouteClass, u64>,
    /// Token endpoint requests that reached the site (whatever their outcome).
    pub token_requests: u64,
    /// Requests to storage URLs that carried an `Authorization` header.
    pub storage_requests_with_authorization: u64,
    /// Injected faults by kind: `error`, `rate_limited`, `drop`, `drop_after_commit`,
    /// `delayed`.
    pub faults: BTreeMap<&'static str, u64>,
}

#[derive(Debug)]
struct Inner {
    initial: FaultConfig,
    config: FaultConfig,
    rng: StdRng,
    stats: Stats,
}

/// The fault injector of a site: configuration, random generator and counters.
#[derive(Debug)]
pub struct Faults {
    inner: Mutex<Inner>,
}

fn rng_for(seed: Option<u64>) -> StdRng {
    match seed {
        Some(s) => StdRng::seed_from_u64(s),
        None => StdRng::from_os_rng(),
    }
}

impl Faults {
    /// An injector starting with `config` (also what [`Faults::reset`] returns to).
    pub fn new(config: FaultConfig) -> Self {
        Faults {
            inner: Mutex::new(Inner {
                rng: rng_for(config.seed),
                initial: config.clone(),
                config,
                stats: Stats::default(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The current configuration.
    pub fn config(&self) -> FaultConfig {
        self.lock().config.clone()
    }

    /// Replaces the configuration (after validating it) and reseeds the generator.
    pub fn set_config(&self, config: FaultConfig) -> Result<(), String> {
        config.validate()?;
        let mut inner = self.lock();
        inner.rng = rng_for(config.seed);
        inner.config = config;
        Ok(())
    }

    /// Back to the start-up configuration, reseeded, with zeroed counters.
    pub fn reset(&self) {
        let mut inner = self.lock();
        inner.config = inner.initial.clone();
        inner.rng = rng_for(inner.config.seed);
        inner.stats = Stats::default();
    }

    /// A copy of the counters.
    pub fn stats(&self) -> Stats {
        self.lock().stats.clone()
    }

    /// Counts a storage request that carried an `Authorization` header.
    pub fn count_storage_authorization(&self) {
        self.lock().stats.storage_requests_with_authorization += 1;
    }

    /// Counts a request and decides its fate and added delay.
    pub fn decide(&self, class: RouteClass) -> (Outcome, Duration) {
        let mut inner = self.lock();
        let inner = &mut *inner;
        *inner.stats.requests.entry(class).or_insert(0) += 1;
        if class == RouteClass::Auth {
            inner.stats.token_requests += 1;
        }
        let c = &inner.config;
        if !c.applies_to(class) {
            return (Outcome::Pass, Duration::ZERO);
        }
        let mut delay = c.latency_ms;
        if c.jitter_ms > 0 {
            delay += inner.rng.random_range(0..=c.jitter_ms);
        }
        let draw: f64 = inner.rng.random();
        let mut edge = 0.0;
        let mut outcome = Outcome::Pass;
        for (rate, o) in [
            (c.drop_rate, Outcome::Drop),
            (c.error_rate, Outcome::Error(0)),
            (c.rate_limit_rate, Outcome::RateLimited),
            (c.drop_after_commit_rate, Outcome::DropAfterCommit),
            (c.drop_mid_response_rate, Outcome::DropMidResponse),
        ] {
            edge += rate;
            if draw < edge {
                outcome = o;
                break;
            }
        }
        if outcome == Outcome::Error(0) {
            let i = inner.rng.random_range(0..c.error_statuses.len().max(1));
            outcome = Outcome::Error(c.error_statuses.get(i).copied().unwrap_or(500));
        }
        let kind = match outcome {
            Outcome::Pass => None,
            Outcome::Error(_) => Some("error"),
            Outcome::RateLimited => Some("rate_limited"),
            Outcome::Drop => Some("drop"),
            Outcome::DropAfterCommit => Some("drop_after_commit"),
            Outcome::DropMidResponse => Some("drop_mid_response"),
        };
        if let Some(k) = kind {
            *inner.stats.faults.entry(k).or_insert(0) += 1;
        }
        if delay > 0 {
            *inner.stats.faults.entry("delayed").or_insert(0) += 1;
        }
        (outcome, Duration::from_millis(delay))
    }

    fn retry_after(&self) -> u64 {
        self.lock().config.retry_after_secs
    }
}

/// A response body that fails at once: hyper then closes the connection without a
/// complete response, which the client sees as a network error.
#[derive(Debug)]
struct BrokenBody;

impl http_body::Body for BrokenBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "fault injection: connection dropped",
        ))))
    }
}

/// The first bytes of a body, then (after a pause, so they are flushed to the client
/// first) an error that makes the server drop the connection.
struct CutBody {
    head: Option<Bytes>,
    pause: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl http_body::Body for CutBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
        if let Some(head) = self.head.take() {
            self.pause = Some(Box::pin(tokio::time::sleep(Duration::from_millis(50))));
            if !head.is_empty() {
                return Poll::Ready(Some(Ok(http_body::Frame::data(head))));
            }
        }
        if let Some(pause) = self.pause.as_mut() {
            if pause.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
        }
        Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "fault injection: connection dropped mid-response",
        ))))
    }
}

/// The handler's answer cut off: its status, its headers (without `Content-Length`)
/// and the first half of its body, then the connection drops.
async fn cut_off(res: Response) -> Response {
    let (mut parts, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    // No `Connection: close`: a real cut is not announced (and Node's fetch takes the
    // end of an announced-closing connection for the end of a chunked body).
    parts.headers.remove(header::CONTENT_LENGTH);
    let head = bytes.slice(..bytes.len() / 2);
    Response::from_parts(
        parts,
        Body::new(CutBody {
            head: Some(head),
            pause: None,
        }),
    )
}

/// A response that makes the server drop the connection.
pub fn dropped_connection() -> Response {
    let mut res = Response::new(Body::new(BrokenBody));
    res.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    res
}

/// Middleware applying the site's [`Faults`]. Add it inside the CORS layer so
/// preflights never reach it.
pub async fn middleware(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let class = RouteClass::of(req.method(), req.uri().path());
    let faults = &state.faults;
    if matches!(class, RouteClass::Download | RouteClass::Upload)
        && req.uri().path().starts_with("/_storage/")
        && req.headers().contains_key(header::AUTHORIZATION)
    {
        faults.count_storage_authorization();
    }
    let (outcome, delay) = faults.decide(class);
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    match outcome {
        Outcome::Pass => next.run(req).await,
        Outcome::Drop => dropped_connection(),
        Outcome::DropAfterCommit => {
            let res = next.run(req).await;
            drop(res);
            dropped_connection()
        }
        Outcome::DropMidResponse => cut_off(next.run(req).await).await,
        Outcome::Error(status) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut res = ApiError::new(
                status,
                CODE_UNKNOWN,
                status.canonical_reason().unwrap_or("Server Error"),
            )
            .with_detail("Injected fault.")
            .into_response();
            if status == StatusCode::SERVICE_UNAVAILABLE {
                set_retry_after(&mut res, faults.retry_after());
            }
            res
        }
        Outcome::RateLimited => {
            let mut res = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                CODE_UNKNOWN,
                "Too Many Requests",
            )
            .with_detail("Injected fault: rate limited.")
            .into_response();
            set_retry_after(&mut res, faults.retry_after());
            res
        }
    }
}

fn set_retry_after(res: &mut Response, secs: u64) {
    if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        use RouteClass::*;
        let g = Method::GET;
        let p = Method::POST;
        assert_eq!(RouteClass::of(&g, "/api/v1/"), Info);
        assert_eq!(RouteClass::of(&p, "/api/v1/auth/access_token"), Auth);
        assert_eq!(RouteClass::of(&g, "/api/v1/entity/shots"), Read);
        assert_eq!(RouteClass::of(&p, "/api/v1/entity/shots"), Write);
        // Searches are POSTs that only read.
        for search in [
            "/api/v1/entity/shots/_search",
            "/api/v1/entity/_text_search",
            "/api/v1/entity/shots/_summarize",
            "/api/v1/hierarchy/_search",
            "/api/v1/hierarchy/_expand",
        ] {
            assert_eq!(RouteClass::of(&p, search), Read, "{search}");
        }
        assert_eq!(RouteClass::of(&p, "/api/v1/entity/_batch"), Write);
        assert_eq!(
            RouteClass::of(&Method::PUT, "/api/v1/entity/shots/1"),
            Write
        );
        assert_eq!(
            RouteClass::of(&Method::PUT, "/api/v1/entity/shots/1/_upload"),
            Upload
        );
        assert_eq!(RouteClass::of(&Method::PUT, "/_storage/uploads/x"), Upload);
        assert_eq!(RouteClass::of(&g, "/_storage/blobs/1/a"), Download);
        assert_eq!(RouteClass::of(&p, "/_admin/faults"), Admin);
    }

    #[test]
    fn seeded_draws_are_reproducible_and_near_the_rates() {
        let config = FaultConfig {
            error_rate: 0.2,
            rate_limit_rate: 0.1,
            seed: Some(7),
            ..FaultConfig::default()
        };
        let run = || {
            let f = Faults::new(config.clone());
            (0..2000)
                .map(|_| f.decide(RouteClass::Read).0)
                .collect::<Vec<_>>()
        };
        let a = run();
        assert_eq!(a, run());
        let errors = a.iter().filter(|o| matches!(o, Outcome::Error(_))).count();
        let limited = a.iter().filter(|o| **o == Outcome::RateLimited).count();
        assert!((320..480).contains(&errors), "{errors}");
        assert!((140..260).contains(&limited), "{limited}");
        assert!(a.contains(&Outcome::Error(500)) && a.contains(&Outcome::Error(503)));
        // Admin is never faulted.
        let f = Faults::new(FaultConfig {
            error_rate: 1.0,
            ..FaultConfig::default()
        });
        assert_eq!(f.decide(RouteClass::Admin).0, Outcome::Pass);
        assert!(matches!(
            f.decide(RouteClass::Read).0,
            Outcome::Error(500 | 503)
        ));
    }

    #[test]
    fn validation() {
        let bad = FaultConfig {
            error_rate: 0.7,
            drop_rate: 0.7,
            ..FaultConfig::default()
        };
        assert!(bad.validate().is_err());
        let bad = FaultConfig {
            error_rate: -0.1,
            ..FaultConfig::default()
        };
        assert!(bad.validate().unwrap_err().contains("error_rate"));
        let bad = FaultConfig {
            error_statuses: vec![404],
            ..FaultConfig::default()
        };
        assert!(bad.validate().is_err());
        assert!(FaultConfig::default().validate().is_ok());
    }
}
