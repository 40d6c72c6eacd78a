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
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::Poll;

use serde_json::Value;

use super::{with_bearer, Client, OneShot, Transport};
use crate::protocol::http::{HttpRequest, HttpResponse};
use crate::protocol::naming::validate_entity_type;
use crate::protocol::record::{parse_json, take_data};
use crate::protocol::retry::{retryable_status, Attempt, Decision};
use crate::protocol::upload::{
    abort_request, complete_request, decode_etag, decode_info, decode_next_part, field_request,
    info_request, is_multipart_refused, may_send_token, merge_sg_reply, metadata_url,
    next_part_request, plan, put_request, range_header, redirect_location, Alt, Storage,
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
    /// The final answer's headers.
    pub headers: Vec<(String, String)>,
    /// The body handle (`None` only from transports that read bodies).
    pub body: Option<Handle>,
}

/// Most redirects followed by a download.
const MAX_REDIRECTS: u32 = 5;

type Task<'a> = Pin<Box<dyn Future<Output = Event> + 'a>>;

enum Event {
    Url(Result<crate::protocol::upload::NextPart, Error>),
    Part(u64, Result<String, Error>),
}

/// Waits for the first of `tasks` to finish and removes it.
async fn next_done<'a>(tasks: &mut Vec<Task<'a>>) -> Option<Event> {
    if tasks.is_empty() {
        return None;
    }
    std::future::poll_fn(|cx| {
        for i in 0..tasks.len() {
            if let Some(t) = tasks.get_mut(i) {
                if let Poll::Ready(ev) = t.as_mut().poll(cx) {
                    drop(tasks.swap_remove(i));
                    return Poll::Ready(Some(ev));
                }
            }
        }
        Poll::Pending
    })
    .await
}

fn check_aborted<J: Job>(job: &J) -> Result<(), Error> {
    match job.aborted() {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

impl<T: Transport> Client<T> {
    /// Sends a request to the site with the bearer token and `extras`; like
    /// `send_with_token`: one replay on "Token Expired", idempotent requests retried
    /// per the policy, writes never. With `manual_redirect`, 3xx (and status 0) answers
    /// are returned.
    async fn send_site_ext(
        &self,
        req: HttpRequest,
        extras: &Extras,
        write: bool,
    ) -> Result<(HttpResponse, Option<Handle>), Error> {
        if !self.config.site.owns(&req.url) {
            return Err(Error::invalid_input(
                "url",
                "refusing to send the token to another host",
            ));
        }
        let mut attempt = 1;
        let mut replayed = false;
        loop {
            let token = self.bearer().await?;
            let result = self
                .transport
                .send_ext(with_bearer(req.clone(), &token), extras)
                .await;
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

    /// Sends an idempotent request to storage, never with a token, retrying 5xx and
    /// network errors per the policy; non-2xx final answers are errors (3xx returned
    /// with `manual_redirect`).
    async fn send_storage(
        &self,
        req: HttpRequest,
        extras: &Extras,
    ) -> Result<(HttpResponse, Option<Handle>), Error> {
        let mut attempt = 1;
        loop {
            let result = self.transport.send_ext(req.clone(), extras).await;
            let decision = match &result {
                Ok((resp, _))
                    if resp.is_success()
                        || (extras.manual_redirect
                            && (resp.status == 0 || (300..400).contains(&resp.status))) =>
                {
                    self.budget.borrow_mut().earn();
                    return result;
                }
                Ok((resp, _)) if !retryable_status(resp.status) => {
                    return Err(Error::from_response(resp))
                }
                Ok((resp, _)) => self.decide(Attempt::Response(resp), attempt),
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
        let ask = |multipart| info_request(site, entity_type, id, field, &opts.filename, multipart);
        let info = match self
            .send_site_ext(ask(plan.multipart), &extras, false)
            .await
        {
            Ok((resp, _)) => decode_info(&resp, site)?,
            // sg storage refuses multipart: one PUT instead.
            Err(e) if plan.multipart && is_multipart_refused(&e) => {
                check_aborted(job)?;
                let (resp, _) = self.send_site_ext(ask(false), &extras, false).await?;
                decode_info(&resp, site)?
            }
            Err(e) => return Err(self.aborted_or(job, e)),
        };
        let result = if info.multipart && plan.multipart {
            self.upload_parts(&plan, opts, &info, job).await
        } else {
            self.upload_single(&plan, opts, info, job).await
        };
        result.map_err(|e| self.aborted_or(job, e))
    }

    /// The caller's abort wins over the error it caused.
    fn aborted_or<J: Job>(&self, job: &J, e: Error) -> Error {
        job.aborted().unwrap_or(e)
    }

    async fn upload_single<J: Job>(
        &self,
        plan: &UploadPlan,
        opts: &UploadOptions,
        mut info: UploadInfo,
        job: &J,
    ) -> Result<UploadSummary, Error> {
        let extras = Extras {
            signal: job.signal(),
            ..Extras::default()
        };
        job.progress(0, plan.size);
        let body = job.read(0, plan.size).await?;
        check_aborted(job)?;
        let put = put_request(&info.upload_url, opts.content_type());
        let with_body = Extras {
            body: Some(body),
            ..extras.clone()
        };
        match info.storage {
            Storage::Sg => {
                let (resp, _) = self.send_site_ext(put, &with_body, false).await?;
                merge_sg_reply(&mut info, &resp)?;
            }
            Storage::S3 => {
                self.send_storage(put, &with_body).await?;
            }
        }
        job.progress(plan.size, plan.size);
        check_aborted(job)?;
        let req = complete_request(&info, None, opts.display_name.as_deref(), &opts.tags);
        self.send_site_ext(req, &extras, true).await?;
        Ok(UploadSummary {
            upload_type: upload_type(&info),
            storage: info.storage,
            multipart: false,
            parts: 1,
            size: plan.size,
        })
    }

    async fn upload_parts<J: Job>(
        &self,
        plan: &UploadPlan,
        opts: &UploadOptions,
        info: &UploadInfo,
        job: &J,
    ) -> Result<UploadSummary, Error> {
        let result = self.send_parts(plan, opts, info, job).await;
        let completed = match result {
            Ok(etags) => {
                let extras = Extras {
                    signal: job.signal(),
                    ..Extras::default()
                };
                match check_aborted(job) {
                    Err(e) => Err(e),
                    Ok(()) => {
                        let req = complete_request(
                            info,
                            Some(&etags),
                            opts.display_name.as_deref(),
                            &opts.tags,
                        );
                        self.send_site_ext(req, &extras, true).await.map(|_| ())
                    }
                }
            }
            Err(e) => Err(e),
        };
        match completed {
            Ok(()) => Ok(UploadSummary {
                upload_type: upload_type(info),
                storage: info.storage,
                multipart: true,
                parts: plan.parts,
                size: plan.size,
            }),
            Err(e) => {
                job.cancel();
                // A completion that may have been applied is not undone.
                if !opts.leave_parts_on_error && !e.maybe_applied {
                    // Best effort, without the (possibly aborted) signal.
                    let _ = self
                        .send_site_ext(abort_request(info), &Extras::default(), true)
                        .await;
                }
                Err(e)
            }
        }
    }

    /// Sends every part, up to `opts.concurrency` at a time, fetching next-part URLs as
    /// needed; returns the ETags in part order.
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
        let mut ready: VecDeque<(u64, String)> = VecDeque::new();
        ready.push_back((1, info.upload_url.clone()));
        let mut next_link = info.next_part_url.clone();
        let mut next_url_part: u64 = 2;
        let mut url_in_flight = false;
        let mut parts_in_flight = 0usize;
        let mut sent: u64 = 0;
        let mut tasks: Vec<Task<'_>> = Vec::new();
        job.progress(0, total);
        loop {
            check_aborted(job)?;
            while parts_in_flight < concurrency {
                let Some((n, url)) = ready.pop_front() else {
                    break;
                };
                let (start, end) = plan
                    .part_range(n)
                    .ok_or_else(|| Error::decode("a part number is out of range", 200, None))?;
                tasks.push(Box::pin(async move {
                    Event::Part(n, self.send_part(&url, start, end, opts, job).await)
                }));
                parts_in_flight += 1;
            }
            // Fetch the next URL while parts are in flight, one ahead.
            if !url_in_flight
                && next_url_part <= plan.parts
                && ready.len() + parts_in_flight <= concurrency
            {
                let link = next_link.take().ok_or_else(|| {
                    Error::decode(
                        "the site gave no get_next_part link for the next part",
                        200,
                        None,
                    )
                })?;
                let extras = Extras {
                    signal: job.signal(),
                    ..Extras::default()
                };
                tasks.push(Box::pin(async move {
                    let r = self
                        .send_site_ext(next_part_request(&link), &extras, false)
                        .await;
                    Event::Url(r.and_then(|(resp, _)| decode_next_part(&resp, &self.config.site)))
                }));
                url_in_flight = true;
            }
            let Some(event) = next_done(&mut tasks).await else {
                break;
            };
            match event {
                Event::Url(Ok(next)) => {
                    ready.push_back((next_url_part, next.upload_url));
                    next_link = next.next_part_url;
                    next_url_part += 1;
                    url_in_flight = false;
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
                }
                Event::Url(Err(e)) | Event::Part(_, Err(e)) => {
                    // Stop the others now; the caller aborts the upload.
                    job.cancel();
                    drop(tasks);
                    return Err(e);
                }
            }
        }
        etags
            .into_iter()
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| Error::decode("a part was not uploaded", 200, None))
    }

    async fn send_part<J: Job>(
        &self,
        url: &str,
        start: u64,
        end: u64,
        opts: &UploadOptions,
        job: &J,
    ) -> Result<String, Error> {
        let body = job.read(start, end).await?;
        check_aborted(job)?;
        let extras = Extras {
            body: Some(body),
            signal: job.signal(),
            ..Extras::default()
        };
        let (resp, _) = self
            .send_storage(put_request(url, opts.content_type()), &extras)
            .await?;
        decode_etag(&resp)
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
        let site = &self.config.site;
        let with_range = |req: HttpRequest| match &range {
            Some(r) => req.header("Range", r.clone()),
            None => req,
        };
        let first = with_range(field_request(site, entity_type, id, field, Some(alt)));
        let mut url = first.url.clone();
        let mut result = self
            .send_site_ext(first, &extras, false)
            .await
            .map_err(|e| self.aborted_or(job, e))?;
        for _ in 0..=MAX_REDIRECTS {
            let (resp, body) = result;
            if resp.is_success() {
                return Ok(Download {
                    status: resp.status,
                    headers: resp.headers,
                    body,
                });
            }
            let target = if resp.status == 0 {
                // A browser's opaque redirect: the target comes from the metadata.
                let meta_field = match alt {
                    Alt::Original => field,
                    Alt::Thumbnail => "image",
                };
                let meta = self
                    .send_authed(field_request(site, entity_type, id, meta_field, None))
                    .await
                    .map_err(|e| self.aborted_or(job, e))?;
                metadata_url(&meta, site)?
            } else {
                redirect_location(&resp, &url).ok_or_else(|| {
                    Error::decode("a redirect without a usable Location", resp.status, None)
                })?
            };
            check_aborted(job)?;
            let req = with_range(HttpRequest::new(
                crate::protocol::http::Method::Get,
                target.clone(),
            ));
            result = if may_send_token(site, &target) {
                self.send_site_ext(req, &extras, false).await
            } else {
                self.send_storage(req, &extras).await
            }
            .map_err(|e| self.aborted_or(job, e))?;
            url = target;
        }
        Err(Error::decode("too many redirects", 302, None))
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
