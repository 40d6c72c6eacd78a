//! Uploads and downloads: the engine side of [`crate::protocol::upload`].
//!
//! File bytes never pass through this module: a [`Job`] hands out part bodies as
//! opaque [`Handle`]s (a JS `Blob` slice or `Uint8Array` view in wasm) that the
//! transport sends as they are, so wasm memory never holds a file or a part. Downloads
//! likewise return the runtime's response body as a handle.
//!
//! Safety rules: the bearer token goes only to URLs of the site that are not
//! pre-signed (S3 upload URLs and redirects to storage get no Authorization header);
//! part PUTs are retried per the retry policy (5xx, network errors), the completion
//! POST never; a failed or aborted multipart upload is given up with
//! `multipart_abort` unless the caller asked to keep the parts.

use std::any::Any;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::Poll;

use crate::protocol::json::Value;

use super::{with_bearer, Client, OneShot, Transport};
use crate::protocol::http::{HttpRequest, HttpResponse};
use crate::protocol::naming::validate_entity_type;
use crate::protocol::record::{parse_json, take_data};
use crate::protocol::retry::{retryable_status, Attempt, Decision};
use crate::protocol::upload::{
    abort_request, complete_request, decode_etag, decode_info, decode_next_part, field_request,
    info_request, is_multipart_refused, may_send_token, merge_sg_reply, metadata_url,
    next_part_request, part_link, plan, put_request, range_header, redirect_location, Alt, Storage,
    UploadInfo, UploadOptions, UploadPlan,
};
use crate::protocol::{Error, ErrorKind};

/// A value held by the runtime (a JS `Blob`, `Uint8Array`, `AbortSignal`, `Response`),
/// or plain bytes (`Vec<u8>`) for transports without a runtime. Opaque to the engine.
#[derive(Clone)]
pub struct Handle(Rc<dyn Any>);

impl Handle {
    /// Wraps a value.
    pub fn new<V: 'static>(value: V) -> Self {
        Handle(Rc::new(value))
    }

    /// The value, if it is a `V`.
    pub fn get<V: 'static>(&self) -> Option<&V> {
        self.0.downcast_ref::<V>()
    }
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Handle(..)")
    }
}

/// What a request needs beyond [`HttpRequest`] for uploads and downloads.
#[derive(Clone, Debug, Default)]
pub struct Extras {
    /// A body held by the runtime, sent instead of `req.body`.
    pub body: Option<Handle>,
    /// A cancellation signal the runtime honours while the request is in flight.
    pub signal: Option<Handle>,
    /// Return 3xx answers instead of following them (status 0 for a browser's opaque
    /// redirect, whose target cannot be read).
    pub manual_redirect: bool,
    /// Leave a 2xx answer's body in the runtime and return it as a handle.
    pub keep_body: bool,
}

/// The default of [`Transport::send_ext`]: bodies must be bytes (`Vec<u8>`); the
/// signal and redirect mode are ignored; response bodies are read.
pub async fn default_send_ext<T: Transport + ?Sized>(
    transport: &T,
    mut req: HttpRequest,
    extras: &Extras,
) -> Result<(HttpResponse, Option<Handle>), Error> {
    if let Some(body) = &extras.body {
        match body.get::<Vec<u8>>() {
            Some(bytes) => req.body = Some(bytes.clone()),
            None => {
                return Err(Error::invalid_input(
                    "data",
                    "this transport can only send bodies given as bytes",
                ))
            }
        }
    }
    transport.send(req).await.map(|r| (r, None))
}

/// The caller's side of an upload or download: the data, progress and cancellation.
#[allow(async_fn_in_trait)]
pub trait Job {
    /// Total bytes to upload.
    fn size(&self) -> u64 {
        0
    }
    /// The bytes `start..end` as a body handle. Called in increasing order of `start`.
    async fn read(&self, start: u64, end: u64) -> Result<Handle, Error> {
        let _ = (start, end);
        Err(Error::invalid_input("data", "nothing to read"))
    }
    /// Reports progress: `sent` of `total` bytes, never decreasing.
    fn progress(&self, sent: u64, total: u64) {
        let _ = (sent, total);
    }
    /// The signal given to every request of the job.
    fn signal(&self) -> Option<Handle> {
        None
    }
    /// `Some(error)` once the caller aborted.
    fn aborted(&self) -> Option<Error> {
        None
    }
    /// Cancels every request in flight (after a failure, so nothing keeps running).
    fn cancel(&self) {}
}

/// What an upload did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadSummary {
    /// `Attachment` or `Thumbnail`.
    pub upload_type: String,
    /// Where the site stored the file.
    pub storage: Storage,
    /// Whether it went in parts.
    pub multipart: bool,
    /// Number of PUTs of bytes (parts).
    pub parts: u64,
    /// Bytes sent.
    pub size: u64,
}

/// A downloaded body, still in the runtime.
#[derive(Debug)]
pub struct Download {
    /// The final answer's status (200, or 206 for a range).
    pub status: u16,
    /// The final answer's headers (over `fetch`, those the protocol reads:
    /// [`crate::protocol::http::RESPONSE_HEADERS`]).
    pub headers: Vec<(String, String)>,
    /// The body handle (`None` only from transports that read bodies).
    pub body: Option<Handle>,
}

/// Most redirects followed by a download.
const MAX_REDIRECTS: u32 = 5;

type Task<'a> = Pin<Box<dyn Future<Output = Event> + 'a>>;

enum Event {
    /// The answer for part `n`'s URL; `true` when asked with a link made from the
    /// first one ([`part_link`]) rather than given by the site.
    Url(u64, bool, Result<crate::protocol::upload::NextPart, Error>),
    Part(u64, Result<String, Error>),
}

/// Waits for the first of `tasks` to finish and removes it. Tasks keep their order, so
/// each starts (and a part reads its bytes) in the order it was added.
async fn next_done<'a>(tasks: &mut Vec<Task<'a>>) -> Option<Event> {
    if tasks.is_empty() {
        return None;
    }
    std::future::poll_fn(|cx| {
        for i in 0..tasks.len() {
            if let Some(t) = tasks.get_mut(i) {
                if let Poll::Ready(ev) = t.as_mut().poll(cx) {
                    drop(tasks.remove(i));
                    return Poll::Ready(Some(ev));
                }
            }
        }
        Poll::Pending
    })
    .await
}

/// Drops the values kept for parts `n` and after.
fn drop_from(list: &mut Vec<(u64, String)>, n: u64) {
    list.retain(|(k, _)| *k < n);
}

/// Removes and returns the value kept for part `n`.
fn take(list: &mut Vec<(u64, String)>, n: u64) -> Option<String> {
    let i = list.iter().position(|(k, _)| *k == n)?;
    Some(list.swap_remove(i).1)
}

fn check_aborted<J: Job>(job: &J) -> Result<(), Error> {
    match job.aborted() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

impl<T: Transport> Client<T> {
    /// Sends a request with `extras`, retrying idempotent ones per the policy (5xx,
    /// network errors), writes never. With `token`, to the site only, with the bearer
    /// token and one replay on "Token Expired" (as `send_with_token`); without, to
    /// storage, never with a token. Non-2xx final answers are errors, but with
    /// `manual_redirect` 3xx (and status 0) answers are returned.
    ///
    /// The one request loop of uploads and downloads: every caller awaits this same
    /// state machine (an await of its own per path measured larger).
    async fn send_ext_retry(
        &self,
        req: HttpRequest,
        extras: &Extras,
        token: bool,
        write: bool,
    ) -> Result<(HttpResponse, Option<Handle>), Error> {
        if token && !self.config.site.owns(&req.url) {
            return Err(Error::invalid_input(
                "url",
                "refusing to send the token to another host",
            ));
        }
        let mut attempt = 1;
        let mut replayed = false;
        loop {
            let used = if token {
                Some(self.bearer().await?)
            } else {
                None
            };
            let sent = match &used {
                Some(t) => with_bearer(req.clone(), t),
                None => req.clone(),
            };
            let result = self.transport.send_ext(sent, extras).await;
            let decision = match &result {
                Ok((resp, _))
                    if resp.is_success()
                        || (extras.manual_redirect
                            && (resp.status == 0 || (300..400).contains(&resp.status))) =>
                {
                    self.budget.borrow_mut().earn();
                    return result;
                }
                Ok((resp, _)) => {
                    let err = Error::from_response(resp);
                    if let Some(t) = used.as_ref().filter(|_| err.is_token_expired()) {
                        if !replayed {
                            replayed = true;
                            self.token_refused(t);
                            continue;
                        }
                    }
                    if write || !retryable_status(resp.status) {
                        return Err(err);
                    }
                    self.decide(Attempt::Response(resp), attempt)
                }
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

    /// Uploads `job.size()` bytes to a record (an Attachment), a field (`url` or
    /// multi-entity field: an Attachment linked there) or `image` (the thumbnail).
    pub async fn upload<J: Job>(
        &self,
        entity_type: &str,
        id: u64,
        opts: &UploadOptions,
        job: &J,
    ) -> Result<UploadSummary, Error> {
        validate_entity_type(entity_type, "entityType")?;
        Self::check_id(id)?;
        let plan = plan(job.size(), opts)?;
        check_aborted(job)?;
        let extras = Extras {
            signal: job.signal(),
            ..Extras::default()
        };
        let site = &self.config.site;
        let field = opts.field.as_deref();
        let mut ask_multipart = plan.multipart;
        let mut info = loop {
            let ask = info_request(site, entity_type, id, field, &opts.filename, ask_multipart);
            match self.send_ext_retry(ask, &extras, true, false).await {
                Ok((resp, _)) => break decode_info(&resp, site)?,
                // sg storage refuses multipart: one PUT instead.
                Err(e) if ask_multipart && is_multipart_refused(&e) => {
                    check_aborted(job)?;
                    ask_multipart = false;
                }
                Err(e) => return Err(self.aborted_or(job, e)),
            }
        };
        let multipart = info.multipart && plan.multipart;
        // The bytes: every part, or one PUT (to the site for sg storage, whose answer
        // completes the upload info).
        let sent = if multipart {
            self.send_parts(&plan, opts, &info, job).await.map(Some)
        } else {
            job.progress(0, plan.size);
            let sg = info.storage == Storage::Sg;
            let url = info.upload_url.clone();
            match self.send_part(&url, 0, plan.size, sg, opts, job).await {
                Ok(resp) => {
                    job.progress(plan.size, plan.size);
                    if sg {
                        merge_sg_reply(&mut info, &resp).map(|()| None)
                    } else {
                        Ok(None)
                    }
                }
                Err(e) => Err(e),
            }
        };
        let completed = match sent.and_then(|etags| check_aborted(job).map(|()| etags)) {
            Ok(etags) => {
                let req = complete_request(
                    &info,
                    etags.as_deref(),
                    opts.display_name.as_deref(),
                    &opts.tags,
                );
                self.send_ext_retry(req, &extras, true, true).await
            }
            Err(e) => Err(e),
        };
        match completed {
            Ok(_) => Ok(UploadSummary {
                upload_type: upload_type(&info),
                storage: info.storage,
                multipart,
                parts: if multipart { plan.parts } else { 1 },
                size: plan.size,
            }),
            Err(e) => {
                if multipart {
                    job.cancel();
                    // A completion that may have been applied is not undone.
                    if !opts.leave_parts_on_error && !e.maybe_applied {
                        // Best effort, without the (possibly aborted) signal.
                        let _ = self
                            .send_ext_retry(abort_request(&info), &Extras::default(), true, true)
                            .await;
                    }
                }
                Err(self.aborted_or(job, e))
            }
        }
    }

    /// The caller's abort wins over the error it caused.
    fn aborted_or<J: Job>(&self, job: &J, e: Error) -> Error {
        job.aborted().unwrap_or(e)
    }

    /// Sends every part, up to `opts.concurrency` at a time, in part order, and returns
    /// the ETags in part order. Part URLs are asked for up to `concurrency` ahead of the
    /// PUTs, all at once: part k's with the site's `get_next_part` link for part 2 with
    /// its `part_number` set to k. If that link does not name part 2, or the site
    /// refuses such a made link (a 4xx other than auth or rate limiting) or answers it
    /// with a link that does not name part k + 1, the URLs from there on follow the
    /// site's chain of `get_next_part` links, one after another.
    async fn send_parts<J: Job>(
        &self,
        plan: &UploadPlan,
        opts: &UploadOptions,
        info: &UploadInfo,
        job: &J,
    ) -> Result<Vec<String>, Error> {
        let concurrency = usize::try_from(opts.concurrency).unwrap_or(1).max(1);
        let total = plan.size;
        let mut etags: Vec<Option<String>> = Vec::new();
        etags.resize(usize::try_from(plan.parts).unwrap_or(0), None);
        // URLs of parts not sent yet, and the site's get_next_part links by part.
        let mut urls = vec![(1, info.upload_url.clone())];
        let mut links = Vec::new();
        if let Some(l) = &info.next_part_url {
            links.push((2, l.clone()));
        }
        let mut template = info
            .next_part_url
            .clone()
            .filter(|l| part_link(l, 2, 2).is_some());
        // Answers to made links for parts from here on are ignored (after a fallback).
        let mut ignore_from = u64::MAX;
        let mut next_put: u64 = 1;
        let mut next_url: u64 = 2;
        let mut urls_in_flight = 0usize;
        let mut parts_in_flight = 0usize;
        let mut sent: u64 = 0;
        let mut tasks: Vec<Task<'_>> = Vec::new();
        job.progress(0, total);
        loop {
            check_aborted(job)?;
            while parts_in_flight < concurrency {
                let n = next_put;
                let Some(url) = take(&mut urls, n) else {
                    break;
                };
                take(&mut links, n);
                let (start, end) = plan
                    .part_range(n)
                    .ok_or_else(|| Error::decode("a part number is out of range", 200, None))?;
                tasks.push(Box::pin(async move {
                    let r = self.send_part(&url, start, end, false, opts, job).await;
                    Event::Part(n, r.and_then(|resp| decode_etag(&resp)))
                }));
                parts_in_flight += 1;
                next_put += 1;
            }
            while next_url <= plan.parts && urls.len() + urls_in_flight < concurrency {
                let n = next_url;
                let made = template.as_deref().and_then(|t| part_link(t, 2, n));
                let derived = made.is_some();
                let Some(link) = made.or_else(|| take(&mut links, n)) else {
                    // Waiting for the answer that holds the link.
                    break;
                };
                let extras = Extras {
                    signal: job.signal(),
                    ..Extras::default()
                };
                tasks.push(Box::pin(async move {
                    let r = self
                        .send_ext_retry(next_part_request(&link), &extras, true, false)
                        .await;
                    let r = r.and_then(|(resp, _)| decode_next_part(&resp, &self.config.site));
                    Event::Url(n, derived, r)
                }));
                urls_in_flight += 1;
                next_url += 1;
            }
            let Some(event) = next_done(&mut tasks).await else {
                break;
            };
            let fallback_at = match event {
                Event::Url(n, derived, result) => {
                    urls_in_flight = urls_in_flight.saturating_sub(1);
                    match result {
                        _ if derived && n >= ignore_from => None,
                        // A made link must be answered with the link of the part after.
                        Ok(next)
                            if !derived
                                || next
                                    .next_part_url
                                    .as_deref()
                                    .is_none_or(|l| part_link(l, n + 1, n + 1).is_some()) =>
                        {
                            if n >= next_put {
                                urls.push((n, next.upload_url));
                            }
                            // Links are kept for parts not sent yet (dropped when sent).
                            if let Some(l) = next.next_part_url.filter(|_| n + 1 >= next_put) {
                                links.push((n + 1, l));
                            }
                            None
                        }
                        Ok(_) => Some(n),
                        Err(e)
                            if derived
                                && e.kind == ErrorKind::Http
                                && e.status.is_some_and(|s| s / 100 == 4 && s != 403) =>
                        {
                            Some(n)
                        }
                        Err(e) => {
                            // Stop the others now; the caller aborts the upload.
                            job.cancel();
                            drop(tasks);
                            return Err(e);
                        }
                    }
                }
                Event::Part(n, Ok(etag)) => {
                    if let Some(slot) = usize::try_from(n - 1).ok().and_then(|i| etags.get_mut(i)) {
                        *slot = Some(etag);
                    }
                    parts_in_flight = parts_in_flight.saturating_sub(1);
                    if let Some((start, end)) = plan.part_range(n) {
                        sent += end - start;
                    }
                    job.progress(sent, total);
                    None
                }
                Event::Part(_, Err(e)) => {
                    job.cancel();
                    drop(tasks);
                    return Err(e);
                }
            };
            if let Some(n) = fallback_at {
                // From part n on, the site's chain: its link comes with part n - 1's URL.
                template = None;
                ignore_from = ignore_from.min(n);
                next_url = next_url.min(n);
                drop_from(&mut urls, n);
                drop_from(&mut links, n + 1);
            }
        }
        etags
            .into_iter()
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                Error::decode(
                    "the site gave no get_next_part link for the next part",
                    200,
                    None,
                )
            })
    }

    /// Reads the bytes `start..end` and PUTs them to `url`: to the site with the token
    /// (`token`, sg storage's single PUT) or to storage without.
    async fn send_part<J: Job>(
        &self,
        url: &str,
        start: u64,
        end: u64,
        token: bool,
        opts: &UploadOptions,
        job: &J,
    ) -> Result<HttpResponse, Error> {
        let body = job.read(start, end).await?;
        check_aborted(job)?;
        let extras = Extras {
            body: Some(body),
            signal: job.signal(),
            ..Extras::default()
        };
        let put = put_request(url, opts.content_type());
        let (resp, _) = self.send_ext_retry(put, &extras, token, false).await?;
        Ok(resp)
    }

    /// A file field's value (`GET /entity/{t}/{id}/{field}`): for a file/link field
    /// `{url, name, content_type, link_type, type, id}`, for an image field its URL.
    pub async fn file_info(&self, entity_type: &str, id: u64, field: &str) -> Result<Value, Error> {
        self.run(self.file_info_call(entity_type, id, field)).await
    }

    /// [`Client::file_info`] as a [`OneShot`].
    pub fn file_info_call(&self, entity_type: &str, id: u64, field: &str) -> OneShot<Value> {
        let req = (|| {
            validate_entity_type(entity_type, "entityType")?;
            Self::check_id(id)?;
            check_field(field)?;
            Ok(field_request(
                &self.config.site,
                entity_type,
                id,
                field,
                None,
            ))
        })();
        OneShot::read(req, |resp| take_data(parse_json(resp)?, resp))
    }

    /// Downloads a file field's file (or thumbnail), optionally a byte range
    /// `start..end` (end exclusive). Redirects are followed here: the bearer token goes
    /// only to the site's own, non-pre-signed URLs.
    pub async fn download<J: Job>(
        &self,
        entity_type: &str,
        id: u64,
        field: &str,
        alt: Alt,
        range: Option<(u64, Option<u64>)>,
        job: &J,
    ) -> Result<Download, Error> {
        validate_entity_type(entity_type, "entityType")?;
        Self::check_id(id)?;
        check_field(field)?;
        let range = match range {
            Some((start, end)) => Some(range_header(start, end).ok_or_else(|| {
                Error::invalid_input("options.range", "end must be greater than start")
            })?),
            None => None,
        };
        check_aborted(job)?;
        let extras = Extras {
            signal: job.signal(),
            manual_redirect: true,
            keep_body: true,
            ..Extras::default()
        };
        let meta_extras = Extras {
            signal: job.signal(),
            ..Extras::default()
        };
        let site = &self.config.site;
        let with_range = |req: HttpRequest| match &range {
            Some(r) => req.header("Range", r.clone()),
            None => req,
        };
        // One request at a time: the file (first with the token), a redirect's target,
        // or (after a browser's opaque redirect) the field's metadata, which holds it.
        let mut req = with_range(field_request(site, entity_type, id, field, Some(alt)));
        let mut url = req.url.clone();
        let mut token = true;
        let mut meta = false;
        let mut redirects = 0;
        loop {
            let (resp, body) = self
                .send_ext_retry(req, if meta { &meta_extras } else { &extras }, token, false)
                .await
                .map_err(|e| self.aborted_or(job, e))?;
            let target = if meta {
                meta = false;
                metadata_url(&resp, site)?
            } else if resp.is_success() {
                return Ok(Download {
                    status: resp.status,
                    headers: resp.headers,
                    body,
                });
            } else if redirects == MAX_REDIRECTS {
                return Err(Error::decode("too many redirects", 302, None));
            } else if resp.status == 0 {
                // A browser's opaque redirect: the target comes from the metadata.
                let meta_field = match alt {
                    Alt::Original => field,
                    Alt::Thumbnail => "image",
                };
                req = field_request(site, entity_type, id, meta_field, None);
                token = true;
                meta = true;
                continue;
            } else {
                redirect_location(&resp, &url).ok_or_else(|| {
                    Error::decode("a redirect without a usable Location", resp.status, None)
                })?
            };
            check_aborted(job)?;
            redirects += 1;
            token = may_send_token(site, &target);
            req = with_range(HttpRequest::new(
                crate::protocol::http::Method::Get,
                target.clone(),
            ));
            url = target;
        }
    }
}

fn check_field(field: &str) -> Result<(), Error> {
    let ok = !field.is_empty()
        && field.len() <= 256
        && field.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_input(
            "field",
            "must be a field name such as \"sg_uploaded_movie\" or \"image\"",
        ))
    }
}

fn upload_type(info: &UploadInfo) -> String {
    info.data
        .get("upload_type")
        .and_then(Value::as_str)
        .unwrap_or("Attachment")
        .to_owned()
}

/// An aborted error, as every runtime reports a fired signal.
pub fn aborted_error() -> Error {
    let mut e = Error::new(ErrorKind::Aborted, "The operation was aborted");
    e.retryable = false;
    e
}

// Native only: they drive concurrency with the `futures` executor.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::client::Config;
    use crate::protocol::auth::{Grant, Secret, TokenScope};
    use crate::protocol::retry::RetryPolicy;
    use crate::protocol::site::Site;
    use std::cell::{Cell, RefCell};

    /// How the fake site answers `get_next_part` links.
    #[derive(Clone, Copy, PartialEq, Debug)]
    enum Links {
        /// Any part number, in any order (as the emulator and real sites do).
        AnyPart,
        /// Only links it gave; a made link gets 400.
        RefusesMade,
        /// Only links it gave; a made link gets 403.
        ForbidsMade,
        /// The part comes from its own `seq` parameter; `part_number` is only shown.
        OwnSequence,
        /// Links without `part_number`.
        NoPartNumber,
        /// Any part number, but a made link for part 3 gets 400 (once).
        RefusesPart3,
    }

    /// A site with S3 storage, every answer after a few executor turns so requests
    /// overlap. Records what a test checks.
    struct FakeSite {
        links: Links,
        /// Part numbers of the URL answers, in order, and the most asked at once.
        url_parts: RefCell<Vec<u64>>,
        urls_now: Cell<u32>,
        urls_max: Cell<u32>,
        /// Part numbers PUT, in order of completion, and the parts whose URL came from
        /// a made link.
        puts: RefCell<Vec<u64>>,
        made_puts: RefCell<Vec<u64>>,
        /// Parts read and not yet PUT, and the most at once.
        held: Cell<u32>,
        held_max: Cell<u32>,
        completed: RefCell<Option<Value>>,
        aborted: Cell<bool>,
        turn: Cell<u32>,
        /// Made links refused.
        refused: Cell<u32>,
    }

    impl FakeSite {
        fn new(links: Links) -> Self {
            FakeSite {
                links,
                url_parts: RefCell::new(vec![]),
                urls_now: Cell::new(0),
                urls_max: Cell::new(0),
                puts: RefCell::new(vec![]),
                made_puts: RefCell::new(vec![]),
                held: Cell::new(0),
                held_max: Cell::new(0),
                completed: RefCell::new(None),
                aborted: Cell::new(false),
                turn: Cell::new(0),
                refused: Cell::new(0),
            }
        }

        fn link(&self, n: u64) -> String {
            let base =
                "http://site.test/api/v1/entity/versions/7/sg_uploaded_movie/_upload/multipart?";
            let q = match self.links {
                Links::OwnSequence => format!("seq={n}&upload_id=u1&part_number={n}"),
                Links::NoPartNumber => format!("seq={n}&upload_id=u1"),
                // `for` tells the site's own links from made ones.
                _ => format!("upload_id=u1&part_number={n}&for={n}"),
            };
            format!("{base}{q}")
        }

        fn answer_url(&self, url: &str) -> (u16, String) {
            let param = |name: &str| {
                url.split(['?', '&'])
                    .find_map(|p| p.strip_prefix(name)?.strip_prefix('='))
                    .and_then(|v| v.parse::<u64>().ok())
            };
            let given = param("for") == param("part_number");
            if !given && matches!(self.links, Links::RefusesMade | Links::ForbidsMade) {
                self.refused.set(self.refused.get() + 1);
            }
            match self.links {
                Links::RefusesMade if !given => {
                    return (
                        400,
                        r#"{"errors":[{"status":400,"code":103,"title":"bad part"}]}"#.into(),
                    )
                }
                Links::ForbidsMade if !given => {
                    return (
                        403,
                        r#"{"errors":[{"status":403,"code":103,"title":"no"}]}"#.into(),
                    )
                }
                Links::RefusesPart3
                    if !given && param("part_number") == Some(3) && self.refused.get() == 0 =>
                {
                    self.refused.set(1);
                    return (
                        400,
                        r#"{"errors":[{"status":400,"code":103,"title":"bad part"}]}"#.into(),
                    );
                }
                _ => {}
            }
            let part = match self.links {
                Links::OwnSequence | Links::NoPartNumber => param("seq"),
                _ => param("part_number"),
            };
            let Some(part) = part else {
                return (400, "{}".into());
            };
            self.url_parts.borrow_mut().push(part);
            let body = crate::protocol::json::sj!({
                "data": {"upload_id": "u1"},
                "links": {"upload": format!("http://s3.test/up?partNumber={part}{}", if given { "" } else { "&via=made" }),
                          "get_next_part": self.link(part + 1)},
            });
            (200, body.to_string())
        }
    }

    struct Turns(u32);

    impl Future for Turns {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<()> {
            if self.0 == 0 {
                return Poll::Ready(());
            }
            self.0 -= 1;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }

    impl Transport for &FakeSite {
        async fn send(&self, req: HttpRequest) -> Result<HttpResponse, Error> {
            let url = req.url.clone();
            let t = self.turn.get();
            self.turn.set(t + 1);
            let (status, headers, body) = if url.ends_with("/auth/access_token") {
                (200, vec![], r#"{"token_type":"Bearer","access_token":"A","expires_in":600,"refresh_token":"R"}"#.to_owned())
            } else if url.contains("/_upload?filename=") {
                let body = crate::protocol::json::sj!({
                    "data": {"timestamp": "2026-01-01T00:00:00Z", "upload_type": "Attachment",
                             "upload_id": "u1", "storage_service": "s3",
                             "original_filename": "a.mov", "multipart_upload": true},
                    "links": {"upload": "http://s3.test/up?partNumber=1",
                              "complete_upload": "/api/v1/entity/versions/7/sg_uploaded_movie/_upload",
                              "get_next_part": self.link(2)},
                });
                (200, vec![], body.to_string())
            } else if url.contains("/_upload/multipart?") {
                self.urls_now.set(self.urls_now.get() + 1);
                self.urls_max
                    .set(self.urls_max.get().max(self.urls_now.get()));
                Turns(1 + t % 3).await;
                self.urls_now.set(self.urls_now.get() - 1);
                let (status, body) = self.answer_url(&url);
                (status, vec![], body)
            } else if let Some(n) = url.strip_prefix("http://s3.test/up?partNumber=") {
                assert!(auth_free(&req), "no token to storage");
                Turns(2 + t % 5).await;
                let (n, made) = match n.split_once('&') {
                    Some((n, _)) => (n, true),
                    None => (n, false),
                };
                let n: u64 = n.parse().unwrap();
                self.puts.borrow_mut().push(n);
                if made {
                    self.made_puts.borrow_mut().push(n);
                }
                self.held.set(self.held.get() - 1);
                (
                    200,
                    vec![("ETag".to_owned(), format!("\"e{n}\""))],
                    String::new(),
                )
            } else if url.ends_with("/multipart_abort") {
                self.aborted.set(true);
                (204, vec![], String::new())
            } else if url.ends_with("/sg_uploaded_movie/_upload") {
                let body: Value = serde_json::from_slice(req.body.as_deref().unwrap()).unwrap();
                *self.completed.borrow_mut() = Some(body);
                (201, vec![], "{}".to_owned())
            } else {
                panic!("unexpected request {url}");
            };
            Ok(HttpResponse {
                status,
                headers,
                body: body.into_bytes(),
            })
        }
        fn now_ms(&self) -> f64 {
            1_000_000.0
        }
        async fn sleep(&self, _ms: f64) {}
        fn random(&self) -> f64 {
            0.5
        }
    }

    fn auth_free(req: &HttpRequest) -> bool {
        !req.headers.iter().any(|(k, _)| k == "Authorization")
    }

    /// Bytes of a file, read part by part; checks the reads come in order.
    struct Bytes<'a> {
        size: u64,
        site: &'a FakeSite,
        next_start: Cell<u64>,
        progress: RefCell<Vec<u64>>,
    }

    impl Job for Bytes<'_> {
        fn size(&self) -> u64 {
            self.size
        }
        async fn read(&self, start: u64, end: u64) -> Result<Handle, Error> {
            assert_eq!(start, self.next_start.get(), "parts are read in order");
            self.next_start.set(end);
            let held = self.site.held.get() + 1;
            self.site.held.set(held);
            self.site.held_max.set(self.site.held_max.get().max(held));
            Ok(Handle::new(vec![7u8; (end - start) as usize]))
        }
        fn progress(&self, sent: u64, _total: u64) {
            self.progress.borrow_mut().push(sent);
        }
    }

    /// Uploads `parts` parts of 10 bytes (the last 7) at `concurrency` to a fake site.
    fn upload(
        links: Links,
        parts: u64,
        concurrency: u32,
    ) -> (FakeSite, Result<UploadSummary, Error>, Vec<u64>) {
        let site = FakeSite::new(links);
        let config = Config {
            site: Site::parse("http://site.test").unwrap(),
            grant: Grant::ClientCredentials {
                client_id: "script".into(),
                client_secret: Secret::new("key"),
            },
            scope: TokenScope::default(),
            refresh_margin_ms: 60_000.0,
            batch_limit: 100,
            retry: RetryPolicy::default(),
            tokens: None,
        };
        let mut opts = UploadOptions::new("a.mov");
        opts.field = Some("sg_uploaded_movie".into());
        opts.min_part_size = 1;
        opts.part_size = Some(10);
        opts.multipart_threshold = 10;
        opts.concurrency = concurrency;
        let job = Bytes {
            size: parts * 10 - 3,
            site: &site,
            next_start: Cell::new(0),
            progress: RefCell::new(vec![]),
        };
        let result = futures::executor::block_on(async {
            let client = Client::connect(config, &site).await.unwrap();
            client.upload("Version", 7, &opts, &job).await
        });
        let progress = job.progress.take();
        (site, result, progress)
    }

    /// The upload completed with every part PUT once and the ETags in part order.
    fn assert_complete(
        site: &FakeSite,
        result: Result<UploadSummary, Error>,
        progress: &[u64],
        parts: u64,
        concurrency: u32,
    ) {
        let summary = result.unwrap();
        assert_eq!((summary.parts, summary.size), (parts, parts * 10 - 3));
        let mut puts = site.puts.borrow().clone();
        puts.sort_unstable();
        assert_eq!(puts, (1..=parts).collect::<Vec<_>>(), "each part PUT once");
        let done = site.completed.borrow().clone().expect("completed");
        let want: Vec<String> = (1..=parts).map(|n| format!("\"e{n}\"")).collect();
        assert_eq!(
            done["upload_info"]["etags"],
            crate::protocol::json::sj!(want)
        );
        assert!(
            site.held_max.get() <= concurrency,
            "at most {concurrency} parts held, saw {}",
            site.held_max.get()
        );
        assert!(progress.windows(2).all(|w| w[0] <= w[1]), "{progress:?}");
        assert_eq!(progress.last(), Some(&(parts * 10 - 3)));
        assert!(!site.aborted.get());
    }

    #[test]
    fn part_urls_are_asked_for_concurrently_with_made_links() {
        for concurrency in [1, 2, 4, 16] {
            let (site, result, progress) = upload(Links::AnyPart, 23, concurrency);
            assert_complete(&site, result, &progress, 23, concurrency);
            let mut asked = site.url_parts.borrow().clone();
            asked.sort_unstable();
            assert_eq!(
                asked,
                (2..=23).collect::<Vec<_>>(),
                "one URL request per part"
            );
            let max = site.urls_max.get();
            if concurrency == 1 {
                assert_eq!(max, 1);
            } else {
                assert!(
                    max >= concurrency.min(4),
                    "c{concurrency}: {max} URL requests at once"
                );
            }
            assert!(
                max <= concurrency,
                "c{concurrency}: at most concurrency URLs ahead, saw {max}"
            );
        }
    }

    #[test]
    fn without_a_part_number_the_site_chain_is_followed() {
        let (site, result, progress) = upload(Links::NoPartNumber, 9, 4);
        assert_complete(&site, result, &progress, 9, 4);
        assert_eq!(*site.url_parts.borrow(), (2..=9).collect::<Vec<_>>());
        assert_eq!(site.urls_max.get(), 1, "one after another");
    }

    #[test]
    fn a_site_refusing_made_links_gets_the_chain() {
        let (site, result, progress) = upload(Links::RefusesMade, 30, 4);
        assert_complete(&site, result, &progress, 30, 4);
        // Every URL answer came from a link the site gave, once per part.
        assert_eq!(*site.url_parts.borrow(), (2..=30).collect::<Vec<_>>());
        // Made links were tried, and stopped soon (those sent before the first refusal
        // was seen), not one per part (28).
        let refused = site.refused.get();
        assert!((1..=8).contains(&refused), "{refused} made links refused");
    }

    #[test]
    fn a_site_ignoring_part_number_is_caught_and_chained() {
        let (site, result, progress) = upload(Links::OwnSequence, 12, 4);
        assert_complete(&site, result, &progress, 12, 4);
        // PUT URLs are those of the right parts (checked by the ETags above), and the
        // chain asked for each of parts 3.. once more after the made links misled.
        let asked = site.url_parts.borrow();
        for n in 2..=12 {
            assert!(asked.contains(&n), "part {n}: {asked:?}");
        }
        assert!(
            asked.len() > 11,
            "made links were tried and answered: {asked:?}"
        );
    }

    #[test]
    fn after_a_refusal_answers_to_made_links_are_not_used() {
        for concurrency in [2, 4, 8] {
            let (site, result, progress) = upload(Links::RefusesPart3, 14, concurrency);
            assert_complete(&site, result, &progress, 14, concurrency);
            assert_eq!(site.refused.get(), 1);
            let made = site.made_puts.borrow();
            assert!(
                made.iter().all(|n| *n < 3),
                "c{concurrency}: parts from 3 on follow the chain: {made:?}"
            );
        }
        let (site, _, _) = upload(Links::AnyPart, 14, 4);
        assert_eq!(
            site.made_puts.borrow().len(),
            12,
            "parts 3..14 from made links"
        );
    }

    #[test]
    fn an_auth_refusal_of_a_made_link_fails_the_upload() {
        let (site, result, _) = upload(Links::ForbidsMade, 12, 4);
        let e = result.unwrap_err();
        assert_eq!(e.status, Some(403));
        assert!(site.aborted.get(), "the upload is given up");
        assert!(site.completed.borrow().is_none());
    }
}
