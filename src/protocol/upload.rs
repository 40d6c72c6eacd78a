//! Sans-IO uploads and downloads ("Uploading and Downloading Files" in the reference,
//! and the Files section of REST-NOTES): upload plans and part ranges, the Content-Type
//! guessed from a file name, a builder for every request of the three-step flow, and
//! decoders for the answers. No I/O: the engine in `client::upload` moves the bytes.
//!
//! The flow:
//! 1. `GET /entity/{t}/{id}[/{field}]/_upload?filename=…[&multipart_upload=true]`
//!    ([`info_request`], [`decode_info`]).
//! 2. `sg` storage: one `PUT` of the bytes to `links.upload` with the bearer token; the
//!    reply's `data` is merged into the upload info ([`merge_sg_reply`]). `s3` storage:
//!    one `PUT` to the pre-signed URL *without* the Authorization header; multipart:
//!    one `PUT` per part, each answering a quoted `ETag` ([`decode_etag`]), the next
//!    part's URL fetched from `get_next_part` ([`decode_next_part`]).
//! 3. `POST complete_upload` with `{upload_info, upload_data}` ([`complete_request`]);
//!    to give up a multipart upload, `POST {complete_upload}/multipart_abort` with the
//!    bare upload info ([`abort_request`]).

use crate::protocol::json::{Map, Value};

use crate::protocol::json::json;

use super::http::{percent_encode_into, split_scheme, HttpRequest, HttpResponse, Method};
use super::naming::url_segment;
use super::record::{json_text, parse_json};
use super::site::Site;
use super::Error;

/// 1 MiB.
const MIB: u64 = 1024 * 1024;

/// Smallest part S3 accepts (all parts but the last): 5 MiB. Tests against an emulator
/// started with a lower `--min-part-size` may lower it per upload (`minPartSize`).
pub const MIN_PART_SIZE: u64 = 5 * MIB;

/// Largest part size accepted (REST-NOTES: parts of 5 MB to 500 MB).
pub const MAX_PART_SIZE: u64 = 500 * MIB;

/// Default part size: 8 MiB, grown when needed to stay within [`MAX_PARTS`].
pub const DEFAULT_PART_SIZE: u64 = 8 * MIB;

/// Default multipart threshold: files of 500 MB or more must use multipart.
pub const DEFAULT_MULTIPART_THRESHOLD: u64 = 500_000_000;

/// Most parts of one multipart upload (S3's limit).
pub const MAX_PARTS: u64 = 10_000;

/// Default number of parts in flight.
pub const DEFAULT_CONCURRENCY: u32 = 4;

/// Most parts in flight (Cloudflare Workers: 4, see the JS facade).
pub const MAX_CONCURRENCY: u32 = 16;

/// Largest upload size: JS numbers are exact up to 2^53.
pub const MAX_SIZE: u64 = (1 << 53) - 1;

/// Where the site keeps uploaded files (`storage_service`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Storage {
    /// The ShotGrid application server: one PUT with the bearer token.
    Sg,
    /// S3: PUTs to pre-signed URLs without the Authorization header.
    S3,
}

impl Storage {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Storage::Sg => "sg",
            Storage::S3 => "s3",
        }
    }
}

/// What a validated upload call asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadOptions {
    /// The field to upload to (`image` for a thumbnail); `None` attaches to the record.
    pub field: Option<String>,
    /// The file name sent as `filename` (and used to guess the Content-Type).
    pub filename: String,
    /// `upload_data.display_name` of the Attachment.
    pub display_name: Option<String>,
    /// Tag ids for `upload_data.tags`.
    pub tags: Vec<u64>,
    /// Content-Type of the bytes; guessed from `filename` when `None`.
    pub content_type: Option<String>,
    /// Part size for multipart uploads; `None` chooses one.
    pub part_size: Option<u64>,
    /// Parts in flight.
    pub concurrency: u32,
    /// Files of this size or more use multipart.
    pub multipart_threshold: u64,
    /// Smallest part allowed (the site's rule; 5 MiB on S3).
    pub min_part_size: u64,
    /// Keep the parts of a failed multipart upload (no `multipart_abort`).
    pub leave_parts_on_error: bool,
}

impl UploadOptions {
    /// Defaults for a file name.
    pub fn new(filename: impl Into<String>) -> Self {
        UploadOptions {
            field: None,
            filename: filename.into(),
            display_name: None,
            tags: Vec::new(),
            content_type: None,
            part_size: None,
            concurrency: DEFAULT_CONCURRENCY,
            multipart_threshold: DEFAULT_MULTIPART_THRESHOLD,
            min_part_size: MIN_PART_SIZE,
            leave_parts_on_error: false,
        }
    }

    /// Checks the options against each other; errors name the option.
    pub fn validate(&self) -> Result<(), Error> {
        if self.filename.is_empty() || self.filename.len() > 1024 {
            return Err(Error::invalid_input(
                "options.filename",
                "must be a file name of 1 to 1024 bytes",
            ));
        }
        if let Some(f) = &self.field {
            let ok = !f.is_empty()
                && f.len() <= 256
                && f.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !ok {
                return Err(Error::invalid_input(
                    "options.field",
                    "must be a field name such as \"sg_uploaded_movie\" or \"image\"",
                ));
            }
        }
        if let Some(ct) = &self.content_type {
            let ok = !ct.is_empty()
                && ct.len() <= 256
                && ct.contains('/')
                && ct.bytes().all(|b| (0x20..0x7f).contains(&b));
            if !ok {
                return Err(Error::invalid_input(
                    "options.contentType",
                    "must be a MIME type such as \"video/mp4\"",
                ));
            }
        }
        if self.min_part_size == 0 || self.min_part_size > MAX_PART_SIZE {
            return Err(Error::invalid_input(
                "options.minPartSize",
                "must be from 1 byte to 500 MiB",
            ));
        }
        if let Some(p) = self.part_size {
            if p < self.min_part_size || p > MAX_PART_SIZE {
                return Err(Error::invalid_input(
                    "options.partSize",
                    "must be from 5 MiB (or options.minPartSize) to 500 MiB",
                ));
            }
        }
        if self.multipart_threshold < self.min_part_size {
            return Err(Error::invalid_input(
                "options.multipartThreshold",
                "must be at least 5 MiB (or options.minPartSize)",
            ));
        }
        if self.concurrency == 0 || self.concurrency > MAX_CONCURRENCY {
            return Err(Error::invalid_input(
                "options.concurrency",
                "must be an integer from 1 to 16",
            ));
        }
        Ok(())
    }

    /// The Content-Type to send: the given one, else guessed from the file name.
    pub fn content_type(&self) -> &str {
        self.content_type
            .as_deref()
            .unwrap_or_else(|| guess_content_type(&self.filename))
    }
}

/// How a file of a given size is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UploadPlan {
    /// Total bytes.
    pub size: u64,
    /// Whether to ask for a multipart upload (S3 only; sg storage falls back to one PUT).
    pub multipart: bool,
    /// Bytes per part (all but the last); the whole size for a single PUT.
    pub part_size: u64,
    /// Number of parts (1 for a single PUT).
    pub parts: u64,
}

/// Plans an upload of `size` bytes.
pub fn plan(size: u64, opts: &UploadOptions) -> Result<UploadPlan, Error> {
    opts.validate()?;
    if size > MAX_SIZE {
        return Err(Error::invalid_input(
            "data",
            "is larger than 2^53 - 1 bytes",
        ));
    }
    let multipart = size >= opts.multipart_threshold && size > 0;
    if !multipart {
        return Ok(UploadPlan {
            size,
            multipart: false,
            part_size: size,
            parts: 1,
        });
    }
    if opts.field.is_none() {
        return Err(Error::invalid_input(
            "options.field",
            "a multipart upload (at or above options.multipartThreshold) must name a field, e.g. \"sg_uploaded_movie\" or \"attachments\"",
        ));
    }
    let fitted = size.div_ceil(MAX_PARTS).div_ceil(MIB) * MIB;
    let part_size = match opts.part_size {
        Some(p) if p.saturating_mul(MAX_PARTS) < size => {
            return Err(Error::invalid_input(
                "options.partSize",
                "is too small: a multipart upload has at most 10000 parts",
            ))
        }
        Some(p) => p,
        None => DEFAULT_PART_SIZE.max(fitted).max(opts.min_part_size),
    };
    if part_size > MAX_PART_SIZE {
        return Err(Error::invalid_input(
            "data",
            "is too large for 10000 parts of at most 500 MiB",
        ));
    }
    Ok(UploadPlan {
        size,
        multipart: true,
        part_size,
        parts: size.div_ceil(part_size),
    })
}

impl UploadPlan {
    /// Byte range `start..end` of part `n` (1-based), or `None` past the last part.
    pub fn part_range(&self, n: u64) -> Option<(u64, u64)> {
        if n == 0 || n > self.parts {
            return None;
        }
        let start = (n - 1).checked_mul(self.part_size)?;
        let end = start.saturating_add(self.part_size).min(self.size);
        Some((start, end))
    }
}

/// Content-Types by lower-case file extension.
const CONTENT_TYPES: &[(&str, &str)] = &[
    ("jpg", "image/jpeg"),
    ("jpeg", "image/jpeg"),
    ("jpe", "image/jpeg"),
    ("png", "image/png"),
    ("gif", "image/gif"),
    ("webp", "image/webp"),
    ("avif", "image/avif"),
    ("bmp", "image/bmp"),
    ("svg", "image/svg+xml"),
    ("tif", "image/tiff"),
    ("tiff", "image/tiff"),
    ("exr", "image/x-exr"),
    ("dpx", "image/x-dpx"),
    ("psd", "image/vnd.adobe.photoshop"),
    ("ico", "image/vnd.microsoft.icon"),
    ("mov", "video/quicktime"),
    ("qt", "video/quicktime"),
    ("mp4", "video/mp4"),
    ("m4v", "video/mp4"),
    ("webm", "video/webm"),
    ("mkv", "video/x-matroska"),
    ("avi", "video/x-msvideo"),
    ("mxf", "application/mxf"),
    ("mpg", "video/mpeg"),
    ("mpeg", "video/mpeg"),
    ("wav", "audio/wav"),
    ("mp3", "audio/mpeg"),
    ("aac", "audio/aac"),
    ("flac", "audio/flac"),
    ("ogg", "audio/ogg"),
    ("pdf", "application/pdf"),
    ("txt", "text/plain"),
    ("text", "text/plain"),
    ("log", "text/plain"),
    ("csv", "text/csv"),
    ("html", "text/html"),
    ("htm", "text/html"),
    ("md", "text/markdown"),
    ("json", "application/json"),
    ("xml", "application/xml"),
    ("zip", "application/zip"),
    ("gz", "application/gzip"),
    ("tgz", "application/gzip"),
    ("tar", "application/x-tar"),
    ("7z", "application/x-7z-compressed"),
    ("obj", "model/obj"),
    ("gltf", "model/gltf+json"),
    ("glb", "model/gltf-binary"),
    ("usd", "model/vnd.usd"),
    ("usda", "model/vnd.usd"),
    ("usdc", "model/vnd.usd"),
    ("usdz", "model/vnd.usd"),
];

/// A Content-Type guessed from a file name's extension; `application/octet-stream`
/// when unknown (what the site would record anyway).
pub fn guess_content_type(filename: &str) -> &'static str {
    let ext = match crate::protocol::rsplit_ascii(filename, b'.') {
        Some((_, e)) if !e.is_empty() && e.len() <= 8 => e.to_ascii_lowercase(),
        _ => return "application/octet-stream",
    };
    CONTENT_TYPES
        .iter()
        .find(|(e, _)| *e == ext)
        .map_or("application/octet-stream", |(_, t)| t)
}

fn record_path(entity_type: &str, id: u64, field: Option<&str>) -> String {
    let mut p = String::from("/api/v1/entity/");
    p.push_str(&url_segment(entity_type));
    p.push('/');
    p.push_str(&crate::protocol::dec(id));
    if let Some(f) = field {
        p.push('/');
        percent_encode_into(&mut p, f);
    }
    p
}

/// Step 1: `GET …/_upload?filename=…[&multipart_upload=true]`.
pub fn info_request(
    site: &Site,
    entity_type: &str,
    id: u64,
    field: Option<&str>,
    filename: &str,
    multipart: bool,
) -> HttpRequest {
    let mut path = record_path(entity_type, id, field);
    path.push_str("/_upload?filename=");
    percent_encode_into(&mut path, filename);
    if multipart {
        path.push_str("&multipart_upload=true");
    }
    HttpRequest::new(Method::Get, site.url(&path)).header("Accept", "application/json")
}

/// The answer to step 1.
#[derive(Clone, Debug, PartialEq)]
pub struct UploadInfo {
    /// The `data` object, sent back (with `etags`) at completion and abort.
    pub data: Map<String, Value>,
    /// Where the storage service wants the (first part's) bytes.
    pub storage: Storage,
    /// Whether the site agreed to a multipart upload.
    pub multipart: bool,
    /// Absolute URL for the bytes (part 1 for multipart).
    pub upload_url: String,
    /// Absolute URL of `complete_upload`.
    pub complete_url: String,
    /// Absolute URL of `get_next_part`, for multipart.
    pub next_part_url: Option<String>,
}

/// Resolves a link of a response: absolute `http(s)://` URLs as they are, paths
/// against the site.
pub fn resolve_link(site: &Site, link: &str, what: &str, status: u16) -> Result<String, Error> {
    if link.starts_with("https://") || link.starts_with("http://") {
        Ok(link.to_owned())
    } else if link.starts_with('/') && !link.starts_with("//") {
        Ok(site.url(link))
    } else {
        let mut d = String::from("links.");
        d.push_str(what);
        d.push_str(" is not a URL");
        Err(Error::decode(d, status, None))
    }
}

fn link(
    site: &Site,
    doc: &Value,
    name: &str,
    status: u16,
    required: bool,
) -> Result<Option<String>, Error> {
    match doc
        .get("links")
        .and_then(|l| l.get(name))
        .and_then(Value::as_str)
    {
        Some(l) => resolve_link(site, l, name, status).map(Some),
        None if required => {
            let mut d = String::from("the answer has no links.");
            d.push_str(name);
            Err(Error::decode(d, status, None))
        }
        None => Ok(None),
    }
}

fn success_json(resp: &HttpResponse) -> Result<Value, Error> {
    if !resp.is_success() {
        return Err(Error::from_response(resp));
    }
    parse_json(resp)
}

/// Decodes the answer to step 1.
pub fn decode_info(resp: &HttpResponse, site: &Site) -> Result<UploadInfo, Error> {
    let doc = success_json(resp)?;
    let status = resp.status;
    let data = doc
        .get("data")
        .and_then(Value::as_object)
        .cloned()
        .ok_or_else(|| Error::decode("the upload info has no data object", status, None))?;
    let storage = match data.get("storage_service").and_then(Value::as_str) {
        Some("sg") => Storage::Sg,
        Some("s3") => Storage::S3,
        _ => {
            return Err(Error::decode(
                "data.storage_service is neither \"sg\" nor \"s3\"",
                status,
                None,
            ))
        }
    };
    let multipart = data
        .get("multipart_upload")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let upload_url = link(site, &doc, "upload", status, true)?.unwrap_or_default();
    let complete_url = link(site, &doc, "complete_upload", status, true)?.unwrap_or_default();
    let next_part_url = link(site, &doc, "get_next_part", status, false)?;
    Ok(UploadInfo {
        data,
        storage,
        multipart,
        upload_url,
        complete_url,
        next_part_url,
    })
}

/// Whether an error answering a multipart step-1 request means "this site stores files
/// itself, send one PUT" (400, code 103: sg storage refuses multipart).
pub fn is_multipart_refused(err: &Error) -> bool {
    err.status == Some(400) && err.code == Some(103)
}

/// The `PUT` of bytes (or of one part) to `url`. The body is supplied by the engine;
/// the Authorization header is added only for `sg` storage, by the engine.
pub fn put_request(url: &str, content_type: &str) -> HttpRequest {
    HttpRequest::new(Method::Put, url).header("Content-Type", content_type)
}

/// Merges the `data` of the sg storage PUT's answer (`upload_id`, `original_filename`)
/// into the upload info.
pub fn merge_sg_reply(info: &mut UploadInfo, resp: &HttpResponse) -> Result<(), Error> {
    let doc = success_json(resp)?;
    match doc.get("data") {
        Some(Value::Object(m)) => {
            info.data
                .extend(m.iter().map(|(k, v)| (k.clone(), v.clone())));
            Ok(())
        }
        _ => Err(Error::decode(
            "the storage answer has no data object",
            resp.status,
            None,
        )),
    }
}

/// The `ETag` of a part's answer, kept as sent (with its quotes).
pub fn decode_etag(resp: &HttpResponse) -> Result<String, Error> {
    if !resp.is_success() {
        return Err(Error::from_response(resp));
    }
    match resp.header("etag").map(str::trim) {
        Some(e) if !e.is_empty() => Ok(e.to_owned()),
        _ => Err(Error::decode(
            "the storage answer has no ETag header (a browser sees it only when the storage exposes it through CORS)",
            resp.status,
            None,
        )),
    }
}

/// `GET get_next_part` for the URL of part `n`: the link already names the part.
pub fn next_part_request(url: &str) -> HttpRequest {
    HttpRequest::new(Method::Get, url).header("Accept", "application/json")
}

/// The value of the one `part_number` query parameter of a `get_next_part` link, with
/// the link before and after it; `None` unless there is exactly one.
fn part_number_param(link: &str) -> Option<(&str, &str, &str)> {
    let (_, query) = link.split_once('?')?;
    let mut at = link.len() - query.len();
    let mut found = None;
    for pair in query.split('&') {
        let name = pair.split('=').next().unwrap_or_default();
        if name == "part_number" {
            if found.is_some() {
                return None;
            }
            found = Some((at + name.len() + 1, at + pair.len()));
        }
        at += pair.len() + 1;
    }
    let (start, end) = found?;
    Some((link.get(..start)?, link.get(start..end)?, link.get(end..)?))
}

/// The `get_next_part` link of part `n` made from `link`, the site's link for part
/// `expected`, by setting its `part_number` (the site answers any part number, as the
/// official Python API asks for any part). `None` unless `link` carries exactly one
/// `part_number`, equal to `expected`: then only the site's chain of links is followed.
pub fn part_link(link: &str, expected: u64, n: u64) -> Option<String> {
    let (before, value, after) = part_number_param(link)?;
    if value.parse() != Ok(expected) || value.starts_with('0') {
        return None;
    }
    let mut out = String::from(before);
    out.push_str(&crate::protocol::dec(n));
    out.push_str(after);
    Some(out)
}

/// The answer to `get_next_part`: the part's upload URL and the link to the next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NextPart {
    /// Absolute pre-signed URL of this part.
    pub upload_url: String,
    /// Absolute URL of the following `get_next_part`.
    pub next_part_url: Option<String>,
}

/// Decodes the answer to `get_next_part`.
pub fn decode_next_part(resp: &HttpResponse, site: &Site) -> Result<NextPart, Error> {
    let doc = success_json(resp)?;
    Ok(NextPart {
        upload_url: link(site, &doc, "upload", resp.status, true)?.unwrap_or_default(),
        next_part_url: link(site, &doc, "get_next_part", resp.status, false)?,
    })
}

/// Step 3: `POST complete_upload` with `{upload_info: {…data, etags?}, upload_data}`.
pub fn complete_request(
    info: &UploadInfo,
    etags: Option<&[String]>,
    display_name: Option<&str>,
    tags: &[u64],
) -> HttpRequest {
    let mut upload_info = info.data.clone();
    if let Some(etags) = etags {
        upload_info.insert("etags".into(), json!(etags));
    }
    let mut upload_data = Map::new();
    if let Some(n) = display_name {
        upload_data.insert("display_name".into(), Value::String(n.to_owned()));
    }
    if !tags.is_empty() {
        let list: Vec<Value> = tags
            .iter()
            .map(|id| json!({"type": "Tag", "id": id}))
            .collect();
        upload_data.insert("tags".into(), Value::Array(list));
    }
    let body = json!({"upload_info": upload_info, "upload_data": upload_data});
    HttpRequest::new(Method::Post, info.complete_url.clone())
        .header("Content-Type", "application/json")
        .header("Accept", "application/json")
        .body(json_text(&body).into_bytes())
}

/// `POST {complete_upload}/multipart_abort` with the bare upload info.
pub fn abort_request(info: &UploadInfo) -> HttpRequest {
    let (path, query) = match info.complete_url.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (info.complete_url.as_str(), None),
    };
    let mut url = String::from(path.trim_end_matches('/'));
    url.push_str("/multipart_abort");
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    HttpRequest::new(Method::Post, url)
        .header("Content-Type", "application/json")
        .header("Accept", "application/json")
        .body(json_text(&Value::Object(info.data.clone())).into_bytes())
}

/// What to download from a file field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alt {
    /// The file itself.
    Original,
    /// Its thumbnail.
    Thumbnail,
}

impl Alt {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Alt::Original => "original",
            Alt::Thumbnail => "thumbnail",
        }
    }
}

/// `GET /entity/{t}/{id}/{field}[?alt=…]`: the field's metadata, or with `alt` the
/// bytes (a redirect to storage on real sites).
pub fn field_request(
    site: &Site,
    entity_type: &str,
    id: u64,
    field: &str,
    alt: Option<Alt>,
) -> HttpRequest {
    let mut path = record_path(entity_type, id, Some(field));
    if let Some(a) = alt {
        path.push_str("?alt=");
        path.push_str(a.as_str());
    }
    let accept = if alt.is_some() {
        "*/*"
    } else {
        "application/json"
    };
    HttpRequest::new(Method::Get, site.url(&path)).header("Accept", accept)
}

/// A byte range `start..end` (end exclusive, `None` for "to the end") as a `Range`
/// header value; `None` when it is empty.
pub fn range_header(start: u64, end: Option<u64>) -> Option<String> {
    let mut v = String::from("bytes=");
    v.push_str(&crate::protocol::dec(start));
    v.push('-');
    if let Some(end) = end {
        if end <= start {
            return None;
        }
        v.push_str(&crate::protocol::dec(end - 1));
    }
    Some(v)
}

/// The target of a redirect answer, resolved against the URL it answered.
pub fn redirect_location(resp: &HttpResponse, request_url: &str) -> Option<String> {
    if !matches!(resp.status, 301 | 302 | 303 | 307 | 308) {
        return None;
    }
    let loc = resp.header("location")?.trim();
    if loc.starts_with("https://") || loc.starts_with("http://") {
        return Some(loc.to_owned());
    }
    if loc.starts_with('/') && !loc.starts_with("//") {
        // scheme://authority of the request URL.
        let after_scheme = request_url.len() - split_scheme(request_url)?.1.len();
        let end = request_url
            .get(after_scheme..)?
            .find('/')
            .map_or(request_url.len(), |i| after_scheme + i);
        let mut out = request_url.get(..end)?.to_owned();
        out.push_str(loc);
        return Some(out);
    }
    None
}

/// Whether a URL carries its own authorization in the query string (pre-signed S3,
/// CloudFront or GCS URLs): such URLs never get an Authorization header.
pub fn is_presigned(url: &str) -> bool {
    let Some((_, query)) = url.split_once('?') else {
        return false;
    };
    query.split('&').any(|pair| {
        let name = pair.split('=').next().unwrap_or_default();
        matches!(
            name,
            "X-Amz-Signature" | "Signature" | "X-Goog-Signature" | "signature" | "Expires"
        )
    })
}

/// Whether a download request to `url` may carry the bearer token: only URLs of the
/// site itself that are not pre-signed.
pub fn may_send_token(site: &Site, url: &str) -> bool {
    site.owns(url) && !is_presigned(url)
}

/// The storage URL in a file field's metadata (`data.url`, or `data` itself for an
/// image field, which holds a URL string).
pub fn metadata_url(resp: &HttpResponse, site: &Site) -> Result<String, Error> {
    let doc = success_json(resp)?;
    let url = match doc.get("data") {
        Some(Value::String(s)) => Some(s.as_str()),
        Some(Value::Object(m)) => m.get("url").and_then(Value::as_str),
        _ => None,
    };
    match url {
        Some(u) => resolve_link(site, u, "url", resp.status),
        None => {
            let mut e = Error::new(super::ErrorKind::Http, "Not Found");
            e.status = Some(404);
            e.detail = Some("the field has no file".into());
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::json::sj as json;

    fn site() -> Site {
        Site::parse("https://studio.shotgrid.autodesk.com").unwrap()
    }

    fn opts() -> UploadOptions {
        let mut o = UploadOptions::new("movie.mov");
        o.field = Some("sg_uploaded_movie".into());
        o
    }

    fn resp(status: u16, body: Value) -> HttpResponse {
        HttpResponse {
            status,
            headers: vec![],
            body: body.to_string().into_bytes(),
        }
    }

    #[test]
    fn small_files_are_one_put() {
        let p = plan(1, &opts()).unwrap();
        assert_eq!(
            (p.multipart, p.parts, p.part_range(1)),
            (false, 1, Some((0, 1)))
        );
        let p = plan(0, &opts()).unwrap();
        assert_eq!((p.multipart, p.parts), (false, 1));
        let p = plan(DEFAULT_MULTIPART_THRESHOLD - 1, &opts()).unwrap();
        assert!(!p.multipart);
    }

    #[test]
    fn multipart_parts_cover_the_file_with_a_short_last_part() {
        let mut o = opts();
        o.min_part_size = MIB;
        o.multipart_threshold = MIB;
        o.part_size = Some(MIB);
        let size = 3 * MIB + 123;
        let p = plan(size, &o).unwrap();
        assert_eq!((p.multipart, p.parts), (true, 4));
        assert_eq!(p.part_range(1), Some((0, MIB)));
        assert_eq!(p.part_range(4), Some((3 * MIB, size)));
        assert_eq!(p.part_range(5), None);
        assert_eq!(p.part_range(0), None);
        // Exactly divisible: no empty last part.
        let p = plan(4 * MIB, &o).unwrap();
        assert_eq!(p.parts, 4);
        assert_eq!(p.part_range(4), Some((3 * MIB, 4 * MIB)));
    }

    #[test]
    fn default_part_size_grows_to_fit_10000_parts() {
        let p = plan(200_000 * MIB, &opts()).unwrap();
        assert!(p.parts <= MAX_PARTS, "{p:?}");
        assert_eq!(p.part_size % MIB, 0);
        let p = plan(600 * MIB, &opts()).unwrap();
        assert_eq!((p.part_size, p.parts), (DEFAULT_PART_SIZE, 75));
    }

    #[test]
    fn options_are_validated_with_paths() {
        let mut o = opts();
        o.part_size = Some(MIB);
        assert_eq!(
            plan(600 * MIB, &o).unwrap_err().source,
            Some(json!("options.partSize"))
        );
        let mut o = opts();
        o.multipart_threshold = MIB;
        assert_eq!(
            o.validate().unwrap_err().source,
            Some(json!("options.multipartThreshold"))
        );
        let mut o = opts();
        o.concurrency = 0;
        assert!(o.validate().is_err());
        let mut o = opts();
        o.field = None;
        assert_eq!(
            plan(600 * MIB, &o).unwrap_err().source,
            Some(json!("options.field"))
        );
        let mut o = opts();
        o.field = Some("a/b".into());
        assert!(o.validate().is_err());
        let mut o = opts();
        o.content_type = Some("nonsense".into());
        assert!(o.validate().is_err());
        let mut o = opts();
        o.part_size = Some(10 * MIB);
        o.part_size = Some(1);
        assert!(o.validate().is_err());
    }

    #[test]
    fn content_types_are_guessed() {
        assert_eq!(guess_content_type("A.MOV"), "video/quicktime");
        assert_eq!(guess_content_type("x.tar.gz"), "application/gzip");
        assert_eq!(guess_content_type("thumb.png"), "image/png");
        assert_eq!(guess_content_type("noext"), "application/octet-stream");
        assert_eq!(guess_content_type("trailing."), "application/octet-stream");
        assert_eq!(guess_content_type("shot.USDZ"), "model/vnd.usd");
        assert_eq!(guess_content_type("a.7z"), "application/x-7z-compressed");
        assert_eq!(guess_content_type("a.jpe"), "image/jpeg");
        assert_eq!(guess_content_type("cache.abc"), "application/octet-stream");
        let mut o = opts();
        assert_eq!(o.content_type(), "video/quicktime");
        o.content_type = Some("video/mp4".into());
        assert_eq!(o.content_type(), "video/mp4");
    }

    #[test]
    fn info_request_names_field_and_encodes_filename() {
        let r = info_request(
            &site(),
            "Version",
            7,
            Some("sg_uploaded_movie"),
            "a b&c.mov",
            true,
        );
        assert_eq!(
            r.url,
            "https://studio.shotgrid.autodesk.com/api/v1/entity/versions/7/sg_uploaded_movie/_upload?filename=a%20b%26c.mov&multipart_upload=true"
        );
        let r = info_request(&site(), "Shot", 1, None, "x.png", false);
        assert!(r.url.ends_with("/entity/shots/1/_upload?filename=x.png"));
    }

    #[test]
    fn decodes_info_and_resolves_links() {
        let body = json!({
            "data": {"timestamp": "2018-04-04T00:06:48Z", "upload_type": "Attachment",
                     "upload_id": "abc", "storage_service": "s3",
                     "original_filename": "m.mov", "multipart_upload": true},
            "links": {"upload": "https://s3.example.com/x?X-Amz-Signature=1",
                      "complete_upload": "/api/v1/entity/versions/7/sg_uploaded_movie/_upload",
                      "get_next_part": "/api/v1/entity/versions/7/sg_uploaded_movie/_upload/multipart?part_number=2"}
        });
        let info = decode_info(&resp(200, body), &site()).unwrap();
        assert_eq!(info.storage, Storage::S3);
        assert!(info.multipart);
        assert_eq!(
            info.complete_url,
            "https://studio.shotgrid.autodesk.com/api/v1/entity/versions/7/sg_uploaded_movie/_upload"
        );
        assert!(info
            .next_part_url
            .as_deref()
            .unwrap()
            .ends_with("part_number=2"));
        let abort = abort_request(&info);
        assert!(abort
            .url
            .ends_with("/sg_uploaded_movie/_upload/multipart_abort"));
        let sent: Value = serde_json::from_slice(abort.body.as_deref().unwrap()).unwrap();
        assert_eq!(sent["upload_id"], "abc", "bare upload info, not wrapped");

        let etags = vec!["\"a\"".to_owned(), "\"b\"".to_owned()];
        let c = complete_request(&info, Some(&etags), Some("Big Buck Bunny"), &[3]);
        let sent: Value = serde_json::from_slice(c.body.as_deref().unwrap()).unwrap();
        assert_eq!(sent["upload_info"]["etags"], json!(["\"a\"", "\"b\""]));
        assert_eq!(sent["upload_info"]["upload_id"], "abc");
        assert_eq!(sent["upload_data"]["display_name"], "Big Buck Bunny");
        assert_eq!(
            sent["upload_data"]["tags"],
            json!([{"type": "Tag", "id": 3}])
        );
    }

    #[test]
    fn bad_info_answers_are_typed_errors() {
        let e = decode_info(&resp(200, json!({"data": {}})), &site()).unwrap_err();
        assert_eq!(e.kind, crate::protocol::ErrorKind::Decode);
        let e = decode_info(
            &resp(200, json!({"data": {"storage_service": "sg"}, "links": {"upload": "ftp://x", "complete_upload": "/c"}})),
            &site(),
        )
        .unwrap_err();
        assert_eq!(e.kind, crate::protocol::ErrorKind::Decode);
        let refused = Error::from_response(&resp(
            400,
            json!({"errors": [{"status": 400, "code": 103, "title": "x"}]}),
        ));
        assert!(is_multipart_refused(&refused));
        let html = HttpResponse {
            status: 200,
            headers: vec![],
            body: b"<html>".to_vec(),
        };
        assert!(decode_info(&html, &site()).is_err());
    }

    #[test]
    fn sg_reply_is_merged() {
        let body = json!({
            "data": {"timestamp": "t", "upload_type": "Thumbnail", "upload_id": null,
                     "storage_service": "sg", "original_filename": "x.png", "multipart_upload": false},
            "links": {"upload": "/api/v1/entity/shots/1/image/_upload?filename=x.png&signature=s",
                      "complete_upload": "/api/v1/entity/shots/1/image/_upload"}
        });
        let mut info = decode_info(&resp(200, body), &site()).unwrap();
        assert_eq!(info.storage, Storage::Sg);
        assert!(is_presigned(&info.upload_url));
        merge_sg_reply(
            &mut info,
            &resp(
                200,
                json!({"data": {"upload_id": "u1", "original_filename": "x.png"}}),
            ),
        )
        .unwrap();
        assert_eq!(info.data["upload_id"], "u1");
        assert_eq!(info.data["storage_service"], "sg");
    }

    #[test]
    fn part_links_are_made_only_from_links_naming_the_expected_part() {
        let link = "/api/v1/entity/versions/7/f/_upload/multipart?filename=a.mov&timestamp=t&upload_id=u&part_number=2";
        assert_eq!(
            part_link(link, 2, 31).as_deref(),
            Some("/api/v1/entity/versions/7/f/_upload/multipart?filename=a.mov&timestamp=t&upload_id=u&part_number=31")
        );
        assert_eq!(part_link(link, 2, 2).as_deref(), Some(link));
        let first = "https://s/m?part_number=2&upload_id=u";
        assert_eq!(
            part_link(first, 2, 10).as_deref(),
            Some("https://s/m?part_number=10&upload_id=u")
        );
        // Not the expected part, none, two, an empty or look-alike name: no template.
        assert_eq!(part_link(link, 3, 4), None);
        for bad in [
            "/m?upload_id=u",
            "/m",
            "/m?part_number=2&part_number=2",
            "/m?part_number=2&part_number",
            "/m?part_number=",
            "/m?xpart_number=2",
            "/m?part_number=02",
            "/m?part_numbers=2",
        ] {
            assert_eq!(part_link(bad, 2, 5), None, "{bad}");
        }
        // A look-alike beside the real one is left alone.
        assert_eq!(
            part_link("/m?my_part_number=2&part_number=2", 2, 3).as_deref(),
            Some("/m?my_part_number=2&part_number=3")
        );
    }

    #[test]
    fn etags_keep_their_quotes() {
        let r = HttpResponse {
            status: 200,
            headers: vec![("ETag".into(), "\"abc\"".into())],
            body: vec![],
        };
        assert_eq!(decode_etag(&r).unwrap(), "\"abc\"");
        let r = HttpResponse {
            status: 200,
            ..HttpResponse::default()
        };
        assert!(decode_etag(&r).is_err());
        let r = HttpResponse {
            status: 503,
            ..HttpResponse::default()
        };
        assert_eq!(decode_etag(&r).unwrap_err().status, Some(503));
    }

    #[test]
    fn downloads() {
        let r = field_request(
            &site(),
            "Version",
            7,
            "sg_uploaded_movie",
            Some(Alt::Thumbnail),
        );
        assert!(r
            .url
            .ends_with("/entity/versions/7/sg_uploaded_movie?alt=thumbnail"));
        assert_eq!(range_header(0, Some(10)).unwrap(), "bytes=0-9");
        assert_eq!(range_header(5, None).unwrap(), "bytes=5-");
        assert_eq!(range_header(5, Some(5)), None);
        let redirect = HttpResponse {
            status: 302,
            headers: vec![(
                "Location".into(),
                "/_storage/blobs/1/x?X-Amz-Signature=z".into(),
            )],
            body: vec![],
        };
        let loc = redirect_location(
            &redirect,
            "http://127.0.0.1:9/api/v1/entity/x/1/f?alt=original",
        )
        .unwrap();
        assert_eq!(
            loc,
            "http://127.0.0.1:9/_storage/blobs/1/x?X-Amz-Signature=z"
        );
        let s = Site::parse("http://127.0.0.1:9").unwrap();
        assert!(!may_send_token(&s, &loc), "pre-signed URLs get no token");
        assert!(may_send_token(
            &s,
            "http://127.0.0.1:9/file_serve/attachment/3"
        ));
        assert!(!may_send_token(&s, "https://s3.amazonaws.com/b/k"));
        let meta = resp(
            200,
            json!({"data": {"url": "https://s3/x", "type": "Attachment", "id": 1}}),
        );
        assert_eq!(metadata_url(&meta, &s).unwrap(), "https://s3/x");
        let meta = resp(200, json!({"data": "https://s3/thumb.png"}));
        assert_eq!(metadata_url(&meta, &s).unwrap(), "https://s3/thumb.png");
        assert_eq!(
            metadata_url(&resp(200, json!({"data": null})), &s)
                .unwrap_err()
                .status,
            Some(404)
        );
    }
}
