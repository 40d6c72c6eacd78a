//! The JS facade of uploads and downloads: `sg.uploadSource(...)` (wrapped by
//! `sg.upload(...)` in the package's `upload.js`, which turns a Blob, bytes or a stream
//! into a source), `sg.download(...)` and `sg.fileInfo(...)`.
//!
//! File bytes stay in JS: a source hands out `Blob` slices or `Uint8Array` views that
//! go to `fetch` as they are, and downloads come back as the `Response`'s body.

use super::convert::future_to_promise;
use crate::protocol::json::Value;
use js_sys::{Function, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, AbortSignal};

use super::convert::{error_to_js, js_to_json, json_to_js, Obj};
use super::{entity_type_arg, parse_id, reject, ShotGrid};
use crate::client::upload::{aborted_error, Handle, Job};
use crate::protocol::upload::{Alt, UploadOptions, MAX_SIZE};
use crate::protocol::{Error, ErrorKind};

fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

/// A JS exception as a typed error: `ShotGridError`s keep their kind and source,
/// anything else becomes `invalid_input` on `data` (the source failed to read).
fn error_from_js(err: &JsValue) -> Error {
    let text = |k: &str| get(err, k).as_string();
    if text("name").as_deref() == Some("AbortError") {
        return aborted_error();
    }
    let kind = match text("kind").as_deref() {
        Some("http") => ErrorKind::Http,
        Some("auth") => ErrorKind::Auth,
        Some("network") => ErrorKind::Network,
        Some("timeout") => ErrorKind::Timeout,
        Some("aborted") => ErrorKind::Aborted,
        Some("rate_limited") => ErrorKind::RateLimited,
        Some("decode") => ErrorKind::Decode,
        _ => ErrorKind::InvalidInput,
    };
    let mut e = Error::new(
        kind,
        text("title").unwrap_or_else(|| "Invalid input".into()),
    );
    e.detail = text("detail").or_else(|| text("message"));
    e.source = Some(Value::String(
        text("source").unwrap_or_else(|| "data".into()),
    ));
    e
}

/// The caller's abort signal, linked to an internal controller that also stops every
/// request in flight when the upload fails.
///
/// The listener is the controller's own `abort`, bound (no Rust closure): its reason
/// is then the event, which nothing reads: a request stopped by either signal is
/// reported as aborted by the transport, and [`Abort::aborted`] reads the caller's.
struct Abort {
    user: Option<AbortSignal>,
    controller: Option<AbortController>,
    listener: Option<Function>,
}

impl Abort {
    fn new(signal: JsValue, internal: bool) -> Result<Abort, Error> {
        let user = if signal.is_undefined() || signal.is_null() {
            None
        } else if Reflect::has(&signal, &JsValue::from_str("aborted")).unwrap_or(false) {
            Some(signal.unchecked_into::<AbortSignal>())
        } else {
            return Err(Error::invalid_input(
                "options.signal",
                "must be an AbortSignal",
            ));
        };
        let controller = if internal {
            AbortController::new().ok()
        } else {
            None
        };
        let mut abort = Abort {
            user,
            controller,
            listener: None,
        };
        if let (Some(user), Some(controller)) = (&abort.user, &abort.controller) {
            if let Ok(f) = get(controller, "abort").dyn_into::<Function>() {
                let listener = f.bind0(controller);
                if let Ok(add) = get(user, "addEventListener").dyn_into::<Function>() {
                    let _ = add.call2(user, &JsValue::from_str("abort"), &listener);
                }
                abort.listener = Some(listener);
            }
        }
        Ok(abort)
    }

    fn signal(&self) -> Option<Handle> {
        match (&self.controller, &self.user) {
            (Some(c), _) => Some(Handle::new(JsValue::from(c.signal()))),
            (None, Some(u)) => Some(Handle::new(JsValue::from(u.clone()))),
            (None, None) => None,
        }
    }

    fn aborted(&self) -> Option<Error> {
        let user = self.user.as_ref().filter(|u| u.aborted())?;
        let reason = user.reason();
        let timeout = get(&reason, "name").as_string().as_deref() == Some("TimeoutError");
        Some(if timeout {
            let mut e = Error::new(ErrorKind::Timeout, "The operation timed out");
            e.retryable = true;
            e
        } else {
            aborted_error()
        })
    }

    fn cancel(&self) {
        if let Some(c) = &self.controller {
            c.abort();
        }
    }
}

impl Drop for Abort {
    fn drop(&mut self) {
        if let (Some(user), Some(listener)) = (&self.user, &self.listener) {
            if let Ok(remove) = get(user, "removeEventListener").dyn_into::<Function>() {
                let _ = remove.call2(user, &JsValue::from_str("abort"), listener);
            }
        }
    }
}

/// An upload or download driven from JS.
struct JsJob {
    source: JsValue,
    read: Option<Function>,
    size: u64,
    progress: Option<Function>,
    abort: Abort,
}

impl Job for JsJob {
    fn size(&self) -> u64 {
        self.size
    }

    async fn read(&self, start: u64, end: u64) -> Result<Handle, Error> {
        let read = self
            .read
            .as_ref()
            .ok_or_else(|| Error::invalid_input("source.read", "must be a function"))?;
        let value = read
            .call2(
                &self.source,
                &JsValue::from_f64(start as f64),
                &JsValue::from_f64(end as f64),
            )
            .map_err(|e| error_from_js(&e))?;
        let value = JsFuture::from(Promise::resolve(&value))
            .await
            .map_err(|e| error_from_js(&e))?;
        // A Blob (slice) or a Uint8Array view: handed to fetch as it is.
        let len = get(&value, "size")
            .as_f64()
            .or_else(|| get(&value, "byteLength").as_f64());
        if len != Some((end - start) as f64) {
            return Err(Error::invalid_input(
                "source.read",
                "must resolve to a Blob or Uint8Array of exactly end - start bytes",
            ));
        }
        Ok(Handle::new(value))
    }

    fn progress(&self, sent: u64, total: u64) {
        if let Some(f) = &self.progress {
            let o = Object::new();
            let _ = Reflect::set(&o, &"sent".into(), &JsValue::from_f64(sent as f64));
            let _ = Reflect::set(&o, &"total".into(), &JsValue::from_f64(total as f64));
            // A throwing callback does not stop the upload.
            let _ = f.call1(&JsValue::UNDEFINED, &o);
        }
    }

    fn signal(&self) -> Option<Handle> {
        self.abort.signal()
    }

    fn aborted(&self) -> Option<Error> {
        self.abort.aborted()
    }

    fn cancel(&self) {
        self.abort.cancel();
    }
}

fn string_arg(v: &JsValue, path: &str, example: &str) -> Result<String, Error> {
    v.as_string().filter(|s| !s.is_empty()).ok_or_else(|| {
        let mut d = String::from("must be a string such as ");
        d.push_str(example);
        Error::invalid_input(path, d)
    })
}

/// Parses `uploadSource`'s options; `name` is the source's file name, if any.
fn parse_upload_options(options: &JsValue, name: Option<String>) -> Result<UploadOptions, Error> {
    let v = js_to_json(options, "options")?;
    let empty = Value::Object(crate::protocol::json::Map::new());
    let o = Obj::new_optional(&v, "options")?.unwrap_or(Obj::new(&empty, "options")?);
    o.only(&[
        "field",
        "filename",
        "displayName",
        "tags",
        "contentType",
        "partSize",
        "concurrency",
        "multipartThreshold",
        "minPartSize",
        "leavePartsOnError",
        "onProgress",
        "signal",
    ])?;
    let filename = match o.opt_str("filename")? {
        Some(f) => f.to_owned(),
        None => name.filter(|n| !n.is_empty()).ok_or_else(|| {
            Error::invalid_input(
                "options.filename",
                "is required when data has no name (a File or { stream, size, name } has one)",
            )
        })?,
    };
    let mut opts = UploadOptions::new(filename);
    opts.field = o.opt_str("field")?.map(str::to_owned);
    opts.display_name = o.opt_str("displayName")?.map(str::to_owned);
    opts.content_type = o.opt_str("contentType")?.map(str::to_owned);
    opts.part_size = o.opt_int("partSize", 1, MAX_SIZE)?;
    if let Some(n) = o.opt_int("concurrency", 1, 16)? {
        opts.concurrency = n as u32;
    }
    if let Some(n) = o.opt_int("multipartThreshold", 1, MAX_SIZE)? {
        opts.multipart_threshold = n;
    }
    if let Some(n) = o.opt_int("minPartSize", 1, MAX_SIZE)? {
        opts.min_part_size = n;
    }
    opts.leave_parts_on_error = o.opt_bool("leavePartsOnError")?.unwrap_or(false);
    if let Some(tags) = o.get("tags").filter(|t| !t.is_null()) {
        let list = tags
            .as_array()
            .ok_or_else(|| Error::invalid_input("options.tags", "must be an array"))?;
        for (i, t) in list.iter().enumerate() {
            let id = t
                .as_u64()
                .or_else(|| {
                    (t.get("type").and_then(Value::as_str) == Some("Tag"))
                        .then(|| t.get("id").and_then(Value::as_u64))
                        .flatten()
                })
                .filter(|id| *id >= 1 && *id <= MAX_SIZE);
            match id {
                Some(id) => opts.tags.push(id),
                None => {
                    let mut p = String::from("options.tags[");
                    p.push_str(&crate::protocol::dec(i));
                    p.push(']');
                    return Err(Error::invalid_input(
                        &p,
                        "must be a Tag id or { type: \"Tag\", id }",
                    ));
                }
            }
        }
    }
    opts.validate()?;
    Ok(opts)
}

fn summary_to_js(s: crate::client::upload::UploadSummary) -> JsValue {
    json_to_js(&crate::protocol::json::json!({
        "uploadType": s.upload_type,
        "storage": s.storage.as_str(),
        "multipart": s.multipart,
        "parts": s.parts,
        "size": s.size,
    }))
}

/// How `download` returns the bytes.
#[derive(Clone, Copy)]
enum As {
    Bytes,
    Blob,
    Stream,
}

#[allow(clippy::type_complexity)]
fn parse_download_options(
    options: &JsValue,
) -> Result<(Alt, As, Option<(u64, Option<u64>)>, JsValue), Error> {
    let v = js_to_json(options, "options")?;
    let empty = Value::Object(crate::protocol::json::Map::new());
    let o = Obj::new_optional(&v, "options")?.unwrap_or(Obj::new(&empty, "options")?);
    o.only(&["alt", "as", "range", "signal"])?;
    let alt = match o.opt_str("alt")? {
        None | Some("original") => Alt::Original,
        Some("thumbnail") => Alt::Thumbnail,
        Some(_) => {
            return Err(Error::invalid_input(
                "options.alt",
                "must be \"original\" or \"thumbnail\"",
            ))
        }
    };
    let r#as = match o.opt_str("as")? {
        None | Some("bytes") => As::Bytes,
        Some("blob") => As::Blob,
        Some("stream") => As::Stream,
        Some(_) => {
            return Err(Error::invalid_input(
                "options.as",
                "must be \"bytes\", \"blob\" or \"stream\"",
            ))
        }
    };
    let range = match o.get("range").filter(|r| !r.is_null()) {
        None => None,
        Some(r) => {
            let ro = Obj::new(r, "options.range")?;
            ro.only(&["start", "end"])?;
            let start = ro.opt_int("start", 0, MAX_SIZE)?.unwrap_or(0);
            let end = ro.opt_int("end", 1, MAX_SIZE)?;
            if end.is_some_and(|e| e <= start) {
                return Err(Error::invalid_input(
                    "options.range.end",
                    "must be greater than start (end is exclusive)",
                ));
            }
            Some((start, end))
        }
    };
    let signal = if options.is_object() {
        get(options, "signal")
    } else {
        JsValue::UNDEFINED
    };
    Ok((alt, r#as, range, signal))
}

/// Turns a `Response` (what the transport returns for a kept body) into bytes, a
/// Blob or its body stream.
async fn body_as(resp: &JsValue, r#as: As) -> Result<JsValue, Error> {
    let resp: &web_sys::Response = resp.unchecked_ref();
    let read = match r#as {
        As::Bytes => resp.array_buffer(),
        As::Blob => resp.blob(),
        As::Stream => {
            let body = get(resp, "body");
            if body.is_object() {
                return Ok(body);
            }
            // An empty body: an empty stream, built from an empty Response.
            let empty = web_sys::Response::new().map_err(|e| error_from_js(&e))?;
            let body = get(&empty, "body");
            return if body.is_object() {
                Ok(body)
            } else {
                Err(Error::new(
                    ErrorKind::Decode,
                    "this runtime has no ReadableStream bodies",
                ))
            };
        }
    };
    let value = JsFuture::from(read.map_err(|e| error_from_js(&e))?)
        .await
        .map_err(|e| error_from_js(&e))?;
    Ok(match r#as {
        As::Bytes => Uint8Array::new(&value).into(),
        _ => value,
    })
}

impl ShotGrid {
    /// Uploads from a source `{ size, name?, read(start, end) }` whose `read` resolves
    /// to a `Blob` or `Uint8Array` of exactly `end - start` bytes (called in increasing
    /// order). `sg.upload(...)` builds the source from a Blob, bytes or a stream; use
    /// this directly only for custom sources.
    pub(crate) fn upload_source(
        &self,
        entity_type: JsValue,
        id: JsValue,
        source: JsValue,
        options: JsValue,
    ) -> Promise {
        let args = (|| {
            let ty = entity_type_arg(&entity_type)?;
            let id = parse_id(&id)?;
            if !source.is_object() {
                return Err(Error::invalid_input("source", "must be an object"));
            }
            let size = get(&source, "size")
                .as_f64()
                .filter(|n| n.fract() == 0.0 && *n >= 0.0 && *n <= MAX_SIZE as f64)
                .ok_or_else(|| {
                    Error::invalid_input("data.size", "must be a non-negative integer")
                })? as u64;
            let read = get(&source, "read").dyn_into::<Function>().ok();
            if read.is_none() {
                return Err(Error::invalid_input("source.read", "must be a function"));
            }
            let opts = parse_upload_options(&options, get(&source, "name").as_string())?;
            let progress = super::convert::get_function(&options, "onProgress")?;
            let signal = if options.is_object() {
                get(&options, "signal")
            } else {
                JsValue::UNDEFINED
            };
            let abort = Abort::new(signal, true)?;
            let job = JsJob {
                source: source.clone(),
                read,
                size,
                progress,
                abort,
            };
            Ok::<_, Error>((ty, id, opts, job))
        })();
        let (ty, id, opts, job) = match args {
            Ok(a) => a,
            Err(e) => return reject(e),
        };
        let inner = self.inner.clone();
        future_to_promise(async move {
            let result = inner.upload(&ty, id, &opts, &job).await;
            drop(job);
            result.map(summary_to_js).map_err(|e| error_to_js(&e))
        })
    }

    /// Downloads a file field's file: `options.alt` `"original"` (default) or
    /// `"thumbnail"`, `options.as` `"bytes"` (default, a Uint8Array), `"blob"` or
    /// `"stream"`, `options.range` `{ start, end }` (end exclusive), `options.signal`.
    /// Redirects to storage are followed without the bearer token.
    pub(crate) fn download(
        &self,
        entity_type: JsValue,
        id: JsValue,
        field: JsValue,
        options: JsValue,
    ) -> Promise {
        let args = (|| {
            let ty = entity_type_arg(&entity_type)?;
            let id = parse_id(&id)?;
            let field = string_arg(&field, "field", "\"sg_uploaded_movie\"")?;
            let (alt, r#as, range, signal) = parse_download_options(&options)?;
            let job = JsJob {
                source: JsValue::UNDEFINED,
                read: None,
                size: 0,
                progress: None,
                abort: Abort::new(signal, false)?,
            };
            Ok::<_, Error>((ty, id, field, alt, r#as, range, job))
        })();
        let (ty, id, field, alt, r#as, range, job) = match args {
            Ok(a) => a,
            Err(e) => return reject(e),
        };
        let inner = self.inner.clone();
        future_to_promise(async move {
            let run = async {
                let d = inner.download(&ty, id, &field, alt, range, &job).await?;
                let resp = d
                    .body
                    .as_ref()
                    .and_then(|h| h.get::<JsValue>())
                    .cloned()
                    .ok_or_else(|| Error::new(ErrorKind::Decode, "no response body"))?;
                body_as(&resp, r#as)
                    .await
                    .map_err(|e| job.aborted().unwrap_or(e))
            };
            run.await.map_err(|e| error_to_js(&e))
        })
    }

    /// A file field's value (`GET /entity/{t}/{id}/{field}`): for a file/link field
    /// `{ url, name, content_type, link_type, type, id }`, for an image field its URL.
    pub(crate) fn file_info(&self, entity_type: JsValue, id: JsValue, field: JsValue) -> Promise {
        let args = (|| {
            Ok::<_, Error>((
                entity_type_arg(&entity_type)?,
                parse_id(&id)?,
                string_arg(&field, "field", "\"sg_uploaded_movie\"")?,
            ))
        })();
        let (ty, id, field) = match args {
            Ok(a) => a,
            Err(e) => return reject(e),
        };
        super::run_one(
            &self.inner,
            self.inner.file_info_call(&ty, id, &field),
            |v| json_to_js(&v),
        )
    }
}
