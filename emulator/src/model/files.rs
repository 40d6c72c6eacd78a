//! Uploaded files: pending uploads (single and multipart), stored blobs, and the
//! signatures of storage URLs.
//!
//! Nothing here knows about HTTP: the handlers in `routes/files.rs` and
//! `routes/storage.rs` build URLs and call these methods, which decide outcomes.
//! Blobs live in memory. Every stored file gives its SHA-256 ([`Blob::sha256`]) so
//! tests can compare what arrived with what was sent. It is worked out when first asked
//! for, not while the parts arrive (a site that persists hashes at completion, to save
//! the file under its hash), so an upload costs the emulator one MD5 per part (its
//! ETag) and no more: the CPU it would take is the client's, on a shared machine.
//!
//! Completing a multipart upload is cheap whatever its size: the stored file keeps the
//! parts as they arrived ([`Content`]) instead of copying them into one buffer.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use hmac::{Hmac, Mac};
use md5::{Digest as _, Md5};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::auth::hex;

/// Where uploads go, as announced in `storage_service`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StorageMode {
    /// `sg`: the bytes are PUT back to the site with the bearer token.
    Sg,
    /// `s3`: the bytes are PUT to a pre-signed storage URL, without the token.
    #[default]
    S3,
}

impl StorageMode {
    /// The `storage_service` value.
    pub fn as_str(self) -> &'static str {
        match self {
            StorageMode::Sg => "sg",
            StorageMode::S3 => "s3",
        }
    }
}

/// The S3 minimum size of every part but the last: 5 MiB.
pub const DEFAULT_MIN_PART_SIZE: usize = 5 * 1024 * 1024;
/// Lifetime of pre-signed URLs and of signed `sg` upload links.
pub const DEFAULT_URL_LIFETIME: Duration = Duration::from_secs(3600);
/// How long an upload may stay pending before it is forgotten.
const PENDING_LIFETIME: Duration = Duration::from_secs(24 * 60 * 60);
/// Highest S3 part number.
pub const MAX_PART_NUMBER: u32 = 10_000;

/// What an upload turns into on completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadType {
    /// An Attachment record.
    Attachment,
    /// The record's thumbnail (`image` field).
    Thumbnail,
}

impl UploadType {
    /// The `upload_type` value.
    pub fn as_str(self) -> &'static str {
        match self {
            UploadType::Attachment => "Attachment",
            UploadType::Thumbnail => "Thumbnail",
        }
    }
}

/// Where a pending upload will be linked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadTarget {
    /// Canonical entity type.
    pub entity_type: String,
    /// Record id.
    pub id: i64,
    /// Field name, if the upload was requested for a field.
    pub field: Option<String>,
}

/// An upload that has been announced but not completed.
#[derive(Debug, Clone)]
pub struct PendingUpload {
    /// Where it goes.
    pub target: UploadTarget,
    /// Attachment or thumbnail.
    pub upload_type: UploadType,
    /// Storage it was announced for.
    pub storage: StorageMode,
    /// `original_filename`.
    pub filename: String,
    /// Whether it is a multipart upload.
    pub multipart: bool,
    /// Content type sent with the bytes (or of the first part).
    pub content_type: Option<String>,
    /// The bytes of a single-part upload, once PUT.
    pub data: Option<Bytes>,
    /// Parts of a multipart upload by number: bytes and quoted ETag.
    pub parts: BTreeMap<u32, (Bytes, String)>,
    created: Instant,
}

impl PendingUpload {
    /// The content of the upload as it stands: its data, or its parts in order (not
    /// copied).
    fn content(&self) -> Content {
        if !self.multipart {
            return Content::from(self.data.clone().unwrap_or_default());
        }
        Content::from_parts(self.parts.values().map(|(b, _)| b.clone()).collect())
    }
}

/// A file's bytes, kept as the pieces they arrived in (the parts of a multipart
/// upload), so storing an upload never copies it.
#[derive(Debug, Clone, Default)]
pub struct Content {
    pieces: Vec<Bytes>,
    len: usize,
}

impl From<Bytes> for Content {
    fn from(bytes: Bytes) -> Self {
        Content::from_parts(vec![bytes])
    }
}

impl Content {
    /// The pieces in order, as one file.
    pub fn from_parts(pieces: Vec<Bytes>) -> Self {
        let len = pieces.iter().map(Bytes::len).sum();
        Content { pieces, len }
    }

    /// Size in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Lower-case hex SHA-256 of the bytes.
    pub fn sha256_hex(&self) -> String {
        let mut hasher = Sha256::new();
        for piece in &self.pieces {
            hasher.update(piece);
        }
        hex(&hasher.finalize())
    }

    /// Whether there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The pieces, in order.
    pub fn pieces(&self) -> &[Bytes] {
        &self.pieces
    }

    /// The bytes `start..end` as slices of the pieces (no copy); clamped to the content.
    pub fn range(&self, start: usize, end: usize) -> Vec<Bytes> {
        let end = end.min(self.len);
        let mut out = Vec::new();
        let mut at = 0;
        for piece in &self.pieces {
            let (a, b) = (at, at + piece.len());
            at = b;
            if b <= start || piece.is_empty() {
                continue;
            }
            if a >= end {
                break;
            }
            out.push(piece.slice(start.max(a) - a..end.min(b) - a));
        }
        out
    }

    /// The bytes in one buffer (a copy).
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len);
        for piece in &self.pieces {
            out.extend_from_slice(piece);
        }
        out
    }
}

/// A stored file.
#[derive(Debug, Clone)]
pub struct Blob {
    /// The bytes.
    pub content: Content,
    /// Lower-case hex SHA-256 of the bytes, worked out when first asked for
    /// ([`Blob::sha256`]): nothing on the upload path needs it unless the site persists
    /// (blobs are stored under it), so an upload's parts are never hashed while they
    /// arrive (~20 ms of CPU for each 8 MiB part, which the client under test would
    /// share the machine with).
    sha256: OnceLock<String>,
    /// Content type recorded at upload (`application/octet-stream` if none was sent).
    pub content_type: String,
    /// File name.
    pub filename: String,
}

impl Blob {
    /// Lower-case hex SHA-256 of the bytes (hashed on the first call).
    pub fn sha256(&self) -> &str {
        self.sha256.get_or_init(|| self.content.sha256_hex())
    }
}

/// Why a file operation failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    /// No pending upload with that id (never announced, completed, aborted, expired).
    #[error("upload_id is not valid")]
    UnknownUpload,
    /// The upload belongs to another record, field or storage.
    #[error("upload does not belong to this record or field")]
    WrongTarget,
    /// Nothing was uploaded yet.
    #[error("no data has been uploaded for this upload")]
    NoData,
    /// Multipart operation on a single-part upload or the reverse.
    #[error("{0}")]
    WrongKind(&'static str),
    /// Part number outside 1..=10000.
    #[error("part number must be between 1 and 10000")]
    BadPartNumber,
    /// `etags` missing or not matching the uploaded parts in order.
    #[error("{0}")]
    InvalidPart(String),
    /// A part other than the last is below the minimum part size.
    #[error("part {part} is {size} bytes, below the minimum part size of {min} bytes")]
    PartTooSmall {
        /// Offending part number.
        part: u32,
        /// Its size.
        size: usize,
        /// The minimum.
        min: usize,
    },
}

/// A stored file as the data file records it (its bytes are kept beside it, named by
/// their SHA-256; see [`crate::persist`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BlobMeta {
    /// Blob id.
    pub id: u64,
    /// Lower-case hex SHA-256 of the bytes.
    pub sha256: String,
    /// Recorded content type.
    pub content_type: String,
    /// File name.
    pub filename: String,
    /// Size in bytes.
    pub size: u64,
}

/// The persisted part of a [`FileStore`]: stored files and what uses them, and the
/// URL-signing secret (so URLs handed out before a restart stay valid). Pending
/// uploads are not kept: an upload interrupted by a restart is started again.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FilesSnapshot {
    /// The URL-signing secret.
    pub secret: [u8; 32],
    /// The id the next blob gets.
    pub next_blob: u64,
    /// Stored files.
    pub blobs: Vec<BlobMeta>,
    /// Attachment id → blob id.
    pub attachments: BTreeMap<i64, u64>,
    /// (entity type, id, blob id) of every thumbnail.
    pub thumbnails: Vec<(String, i64, u64)>,
}

/// All file state of a site.
#[derive(Debug, Clone)]
pub struct FileStore {
    secret: [u8; 32],
    storage: StorageMode,
    min_part_size: usize,
    url_lifetime: Duration,
    pending: HashMap<String, PendingUpload>,
    blobs: HashMap<u64, Blob>,
    next_blob: u64,
    attachments: HashMap<i64, u64>,
    thumbnails: HashMap<(String, i64), u64>,
}

impl Default for FileStore {
    fn default() -> Self {
        FileStore::new(StorageMode::default(), DEFAULT_MIN_PART_SIZE)
    }
}

impl FileStore {
    /// An empty file store with a fresh random signing secret.
    pub fn new(storage: StorageMode, min_part_size: usize) -> Self {
        FileStore {
            secret: rand::random(),
            storage,
            min_part_size,
            url_lifetime: DEFAULT_URL_LIFETIME,
            pending: HashMap::new(),
            blobs: HashMap::new(),
            next_blob: 1,
            attachments: HashMap::new(),
            thumbnails: HashMap::new(),
        }
    }

    /// Sets the storage mode and the minimum part size (applies to new uploads).
    pub fn configure(&mut self, storage: StorageMode, min_part_size: usize) {
        self.storage = storage;
        self.min_part_size = min_part_size;
    }

    /// The storage mode new uploads are announced with.
    pub fn storage(&self) -> StorageMode {
        self.storage
    }

    /// The minimum size of every multipart part but the last.
    pub fn min_part_size(&self) -> usize {
        self.min_part_size
    }

    /// Lifetime given to newly signed URLs.
    pub fn url_lifetime(&self) -> Duration {
        self.url_lifetime
    }

    /// Changes the lifetime of newly signed URLs (tests use 0 to get expired ones).
    pub fn set_url_lifetime(&mut self, lifetime: Duration) {
        self.url_lifetime = lifetime;
    }

    /// Lower-case hex HMAC-SHA256 of `message` under the site's secret.
    pub fn sign(&self, message: &str) -> String {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.secret)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(message.as_bytes());
        hex(&mac.finalize().into_bytes())
    }

    /// Whether `signature` is the signature of `message` (constant time).
    pub fn verify(&self, message: &str, signature: &str) -> bool {
        let expected = self.sign(message);
        expected.len() == signature.len()
            && expected
                .bytes()
                .zip(signature.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }

    /// Announces an upload and returns its id.
    pub fn begin(
        &mut self,
        target: UploadTarget,
        upload_type: UploadType,
        storage: StorageMode,
        filename: &str,
        multipart: bool,
    ) -> String {
        self.prune();
        let id = new_upload_id();
        self.pending.insert(
            id.clone(),
            PendingUpload {
                target,
                upload_type,
                storage,
                filename: filename.to_string(),
                multipart,
                content_type: None,
                data: None,
                parts: BTreeMap::new(),
                created: Instant::now(),
            },
        );
        id
    }

    /// A pending upload.
    pub fn pending(&self, upload_id: &str) -> Option<&PendingUpload> {
        self.pending.get(upload_id)
    }

    /// Stores the bytes of a single-part upload (a repeated PUT replaces them) and
    /// returns the quoted ETag.
    pub fn put_single(
        &mut self,
        upload_id: &str,
        bytes: Bytes,
        content_type: Option<String>,
    ) -> Result<String, FileError> {
        let p = self
            .pending
            .get_mut(upload_id)
            .ok_or(FileError::UnknownUpload)?;
        if p.multipart {
            return Err(FileError::WrongKind(
                "this is a multipart upload: a part number is required",
            ));
        }
        let etag = etag(&bytes);
        p.data = Some(bytes);
        if content_type.is_some() {
            p.content_type = content_type;
        }
        Ok(etag)
    }

    /// Stores one part of a multipart upload (a repeated part replaces it) and
    /// returns its quoted ETag.
    pub fn put_part(
        &mut self,
        upload_id: &str,
        part: u32,
        bytes: Bytes,
        content_type: Option<String>,
    ) -> Result<String, FileError> {
        let etag = etag(&bytes);
        self.put_part_tagged(upload_id, part, bytes, etag, content_type)
    }

    /// [`FileStore::put_part`] with the part's ETag ([`etag`]) computed by the caller,
    /// outside the lock that guards the store.
    pub fn put_part_tagged(
        &mut self,
        upload_id: &str,
        part: u32,
        bytes: Bytes,
        etag: String,
        content_type: Option<String>,
    ) -> Result<String, FileError> {
        if !(1..=MAX_PART_NUMBER).contains(&part) {
            return Err(FileError::BadPartNumber);
        }
        let p = self
            .pending
            .get_mut(upload_id)
            .ok_or(FileError::UnknownUpload)?;
        if !p.multipart {
            return Err(FileError::WrongKind("this is not a multipart upload"));
        }
        p.parts.insert(part, (bytes, etag.clone()));
        if p.content_type.is_none() {
            p.content_type = content_type;
        }
        Ok(etag)
    }

    /// Discards a multipart upload and its parts.
    pub fn abort(&mut self, upload_id: &str, target: &UploadTarget) -> Result<(), FileError> {
        let p = self
            .pending
            .get(upload_id)
            .ok_or(FileError::UnknownUpload)?;
        if &p.target != target {
            return Err(FileError::WrongTarget);
        }
        if !p.multipart {
            return Err(FileError::WrongKind("this is not a multipart upload"));
        }
        self.pending.remove(upload_id);
        Ok(())
    }

    /// Checks a pending upload against the completion request (target, storage,
    /// etags, part sizes) without consuming it.
    pub fn check_complete(
        &self,
        upload_id: &str,
        target: &UploadTarget,
        etags: Option<&[String]>,
    ) -> Result<&PendingUpload, FileError> {
        let p = self
            .pending
            .get(upload_id)
            .ok_or(FileError::UnknownUpload)?;
        if &p.target != target {
            return Err(FileError::WrongTarget);
        }
        if !p.multipart {
            return if p.data.is_some() {
                Ok(p)
            } else {
                Err(FileError::NoData)
            };
        }
        let etags = etags.ok_or_else(|| {
            FileError::InvalidPart("etags are required for a multipart upload".into())
        })?;
        if p.parts.is_empty() {
            return Err(FileError::NoData);
        }
        if etags.len() != p.parts.len() {
            return Err(FileError::InvalidPart(format!(
                "{} etags given for {} uploaded parts",
                etags.len(),
                p.parts.len()
            )));
        }
        let last = p.parts.len();
        for (i, ((number, (bytes, etag)), given)) in p.parts.iter().zip(etags).enumerate() {
            if *number as usize != i + 1 {
                return Err(FileError::InvalidPart(format!("part {} is missing", i + 1)));
            }
            if given != etag {
                return Err(FileError::InvalidPart(format!(
                    "etag {} does not match part {number}",
                    i + 1
                )));
            }
            if i + 1 < last && bytes.len() < self.min_part_size {
                return Err(FileError::PartTooSmall {
                    part: *number,
                    size: bytes.len(),
                    min: self.min_part_size,
                });
            }
        }
        Ok(p)
    }

    /// Completes an upload after [`FileStore::check_complete`]: stores its bytes as a
    /// blob and returns the blob id and the consumed upload.
    pub fn finish(&mut self, upload_id: &str) -> Result<(u64, PendingUpload), FileError> {
        let content = self.completed(upload_id)?;
        self.finish_completed(upload_id, content, None)
    }

    /// [`FileStore::finish`] with the content already taken by
    /// [`FileStore::completed`], and its SHA-256 if it was worked out (to persist it).
    pub fn finish_completed(
        &mut self,
        upload_id: &str,
        content: Content,
        sha256: Option<String>,
    ) -> Result<(u64, PendingUpload), FileError> {
        let p = self
            .pending
            .remove(upload_id)
            .ok_or(FileError::UnknownUpload)?;
        let blob = self.store_blob(content, sha256, p.content_type.as_deref(), &p.filename);
        Ok((blob, p))
    }

    /// Stores content (whose lower-case hex SHA-256 is `sha256`, if known) as a new
    /// blob and returns its id.
    fn store_blob(
        &mut self,
        content: Content,
        sha256: Option<String>,
        content_type: Option<&str>,
        filename: &str,
    ) -> u64 {
        let id = self.next_blob;
        self.next_blob += 1;
        self.blobs.insert(
            id,
            Blob {
                content,
                sha256: sha256.map(OnceLock::from).unwrap_or_default(),
                content_type: content_type
                    .filter(|c| !c.is_empty())
                    .unwrap_or("application/octet-stream")
                    .to_string(),
                filename: filename.to_string(),
            },
        );
        id
    }

    /// A stored blob.
    pub fn blob(&self, blob_id: u64) -> Option<&Blob> {
        self.blobs.get(&blob_id)
    }

    /// Records that an Attachment's file is a blob.
    pub fn set_attachment_blob(&mut self, attachment_id: i64, blob_id: u64) {
        self.attachments.insert(attachment_id, blob_id);
    }

    /// The blob id of an Attachment's file.
    pub fn attachment_blob_id(&self, attachment_id: i64) -> Option<u64> {
        self.attachments.get(&attachment_id).copied()
    }

    /// The stored file of an Attachment.
    pub fn attachment_blob(&self, attachment_id: i64) -> Option<&Blob> {
        self.blob(self.attachment_blob_id(attachment_id)?)
    }

    /// Records a record's thumbnail.
    pub fn set_thumbnail(&mut self, entity_type: &str, id: i64, blob_id: u64) {
        self.thumbnails
            .insert((entity_type.to_string(), id), blob_id);
    }

    /// The blob id of a record's thumbnail.
    pub fn thumbnail_blob_id(&self, entity_type: &str, id: i64) -> Option<u64> {
        self.thumbnails.get(&(entity_type.to_string(), id)).copied()
    }

    /// The persisted part of the store.
    pub fn snapshot(&self) -> FilesSnapshot {
        let mut blobs: Vec<BlobMeta> = self
            .blobs
            .iter()
            .map(|(id, b)| BlobMeta {
                id: *id,
                sha256: b.sha256().to_string(),
                content_type: b.content_type.clone(),
                filename: b.filename.clone(),
                size: b.content.len() as u64,
            })
            .collect();
        blobs.sort_by_key(|b| b.id);
        let mut thumbnails: Vec<(String, i64, u64)> = self
            .thumbnails
            .iter()
            .map(|((t, id), b)| (t.clone(), *id, *b))
            .collect();
        thumbnails.sort();
        FilesSnapshot {
            secret: self.secret,
            next_blob: self.next_blob,
            blobs,
            attachments: self.attachments.iter().map(|(a, b)| (*a, *b)).collect(),
            thumbnails,
        }
    }

    /// The JSON of [`FileStore::snapshot`].
    pub fn section_json(&self) -> Vec<u8> {
        serde_json::to_vec(&self.snapshot()).unwrap_or_default()
    }

    /// Restores stored files from a snapshot; `read` fetches a blob's bytes by SHA-256.
    /// A blob whose bytes are missing or altered is dropped (with a warning in the
    /// returned list) rather than served wrong. Keeps the storage settings.
    pub fn restore(
        &mut self,
        snapshot: FilesSnapshot,
        read: &dyn Fn(&str) -> std::io::Result<Vec<u8>>,
    ) -> Vec<String> {
        let mut warnings = Vec::new();
        self.secret = snapshot.secret;
        self.blobs.clear();
        for meta in snapshot.blobs {
            match read(&meta.sha256) {
                Ok(bytes) if sha256_hex(&bytes) == meta.sha256 => {
                    self.blobs.insert(
                        meta.id,
                        Blob {
                            content: Content::from(Bytes::from(bytes)),
                            sha256: OnceLock::from(meta.sha256),
                            content_type: meta.content_type,
                            filename: meta.filename,
                        },
                    );
                }
                Ok(_) => warnings.push(format!(
                    "stored file {} ({}) does not match its checksum: dropped",
                    meta.id, meta.filename
                )),
                Err(e) => warnings.push(format!(
                    "stored file {} ({}) is unreadable: {e}: dropped",
                    meta.id, meta.filename
                )),
            }
        }
        let max_id = self.blobs.keys().max().copied().unwrap_or(0);
        self.next_blob = snapshot.next_blob.max(max_id + 1).max(1);
        self.attachments = snapshot
            .attachments
            .into_iter()
            .filter(|(_, b)| self.blobs.contains_key(b))
            .collect();
        self.thumbnails = snapshot
            .thumbnails
            .into_iter()
            .filter(|(_, _, b)| self.blobs.contains_key(b))
            .map(|(t, id, b)| ((t, id), b))
            .collect();
        warnings
    }

    /// The SHA-256 of every stored file.
    pub fn blob_hashes(&self) -> std::collections::HashSet<String> {
        self.blobs
            .values()
            .map(|b| b.sha256().to_string())
            .collect()
    }

    /// The content a completion would store, without consuming the upload (call after
    /// [`FileStore::check_complete`]). Cheap: the parts are not copied.
    pub fn completed(&self, upload_id: &str) -> Result<Content, FileError> {
        let p = self
            .pending
            .get(upload_id)
            .ok_or(FileError::UnknownUpload)?;
        Ok(p.content())
    }

    /// Forgets uploads pending for more than a day.
    fn prune(&mut self) {
        let now = Instant::now();
        self.pending
            .retain(|_, p| p.created + PENDING_LIFETIME > now);
    }
}

/// Lower-case hex SHA-256 of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// The quoted ETag S3 gives a PUT: the MD5 of the bytes in hex, in double quotes.
pub fn etag(bytes: &[u8]) -> String {
    format!("\"{}\"", hex(&Md5::digest(bytes)))
}

/// A new upload id: a random UUID-shaped string.
fn new_upload_id() -> String {
    let h = hex(&rand::random::<[u8; 16]>());
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Seconds since the Unix epoch, now.
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Days since 1970-01-01 → (year, month, day) (Howard Hinnant's civil_from_days).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// (year, month, day) → days since 1970-01-01.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn split_time(secs: u64) -> (i64, u32, u32, u64, u64, u64) {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, mo, d) = civil_from_days(days);
    (y, mo, d, rem / 3600, rem % 3600 / 60, rem % 60)
}

/// `YYYY-MM-DDThh:mm:ssZ` for a Unix time.
pub fn iso8601(secs: u64) -> String {
    let (y, mo, d, h, mi, s) = split_time(secs);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// `YYYYMMDDThhmmssZ` (the `X-Amz-Date` form) for a Unix time.
pub fn amz_date(secs: u64) -> String {
    let (y, mo, d, h, mi, s) = split_time(secs);
    format!("{y:04}{mo:02}{d:02}T{h:02}{mi:02}{s:02}Z")
}

/// Parses an `X-Amz-Date` value back to a Unix time.
pub fn parse_amz_date(v: &str) -> Option<u64> {
    let b = v.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u64> {
        let s = v.get(r)?;
        if !s.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let (y, mo, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (h, mi, s) = (num(9..11)?, num(11..13)?, num(13..15)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let days = days_from_civil(y as i64, mo as u32, d as u32);
    u64::try_from(days)
        .ok()
        .map(|d| d * 86_400 + h * 3600 + mi * 60 + s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> UploadTarget {
        UploadTarget {
            entity_type: "Shot".into(),
            id: 1,
            field: Some("attachments".into()),
        }
    }

    #[test]
    fn dates_round_trip() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(1_523_914_933), "2018-04-16T21:42:13Z");
        assert_eq!(amz_date(1_523_914_933), "20180416T214213Z");
        for t in [0, 951_782_400, 1_523_914_933, 4_102_444_799] {
            assert_eq!(parse_amz_date(&amz_date(t)), Some(t));
        }
        assert_eq!(parse_amz_date("2018-04-16T21:42:13Z"), None);
        assert_eq!(parse_amz_date("20181316T214213Z"), None);
    }

    #[test]
    fn etag_is_quoted_md5() {
        assert_eq!(etag(b""), "\"d41d8cd98f00b204e9800998ecf8427e\"");
    }

    #[test]
    fn multipart_checks_order_sizes_and_etags() {
        let mut f = FileStore::new(StorageMode::S3, 4);
        let id = f.begin(
            target(),
            UploadType::Attachment,
            StorageMode::S3,
            "a.bin",
            true,
        );
        assert_eq!(
            f.put_single(&id, Bytes::from_static(b"x"), None),
            Err(FileError::WrongKind(
                "this is a multipart upload: a part number is required"
            ))
        );
        assert_eq!(
            f.put_part(&id, 0, Bytes::new(), None),
            Err(FileError::BadPartNumber)
        );
        let e1 = f
            .put_part(&id, 1, Bytes::from_static(b"abc"), None)
            .unwrap();
        let e2 = f.put_part(&id, 2, Bytes::from_static(b"de"), None).unwrap();
        // Part 1 is below the minimum of 4 bytes.
        assert!(matches!(
            f.check_complete(&id, &target(), Some(&[e1.clone(), e2.clone()])),
            Err(FileError::PartTooSmall {
                part: 1,
                size: 3,
                min: 4
            })
        ));
        let e1 = f
            .put_part(&id, 1, Bytes::from_static(b"abcd"), None)
            .unwrap();
        assert!(matches!(
            f.check_complete(&id, &target(), Some(&[e2.clone(), e1.clone()])),
            Err(FileError::InvalidPart(_))
        ));
        assert!(matches!(
            f.check_complete(&id, &target(), None),
            Err(FileError::InvalidPart(_))
        ));
        let other = UploadTarget { id: 2, ..target() };
        assert_eq!(
            f.check_complete(&id, &other, Some(&[e1.clone(), e2.clone()]))
                .err(),
            Some(FileError::WrongTarget)
        );
        f.check_complete(&id, &target(), Some(&[e1, e2])).unwrap();
        let (blob, _) = f.finish(&id).unwrap();
        assert_eq!(f.blob(blob).unwrap().content.to_vec(), b"abcdde");
        assert_eq!(f.finish(&id).err(), Some(FileError::UnknownUpload));
    }

    /// Completes a multipart upload of `parts` PUT in the given order (a part may come
    /// more than once: the last PUT wins) and returns the stored bytes and SHA-256.
    fn complete_parts(puts: &[(u32, &'static [u8])]) -> (Vec<u8>, String) {
        let mut f = FileStore::new(StorageMode::S3, 1);
        let id = f.begin(target(), UploadType::Attachment, StorageMode::S3, "a", true);
        let mut etags = BTreeMap::new();
        for (n, bytes) in puts {
            let e = f
                .put_part(&id, *n, Bytes::from_static(bytes), None)
                .unwrap();
            etags.insert(*n, e);
        }
        let etags: Vec<String> = etags.into_values().collect();
        f.check_complete(&id, &target(), Some(&etags)).unwrap();
        let (blob, _) = f.finish(&id).unwrap();
        let b = f.blob(blob).unwrap();
        (b.content.to_vec(), b.sha256().to_string())
    }

    #[test]
    fn the_hash_is_that_of_the_parts_in_order_whatever_their_arrival() {
        let whole = b"aaaabbbbccccd";
        let want = sha256_hex(whole);
        for puts in [
            vec![(1, &b"aaaa"[..]), (2, b"bbbb"), (3, b"cccc"), (4, b"d")],
            vec![(4, &b"d"[..]), (2, b"bbbb"), (3, b"cccc"), (1, b"aaaa")],
            vec![(3, &b"cccc"[..]), (1, b"aaaa"), (4, b"d"), (2, b"bbbb")],
            // A retried part with the same bytes.
            vec![
                (1, &b"aaaa"[..]),
                (2, b"bbbb"),
                (2, b"bbbb"),
                (3, b"cccc"),
                (4, b"d"),
            ],
            // A part replaced by other bytes, then by the right ones.
            vec![
                (1, &b"aaaa"[..]),
                (2, b"xxxx"),
                (3, b"cccc"),
                (2, b"bbbb"),
                (4, b"d"),
            ],
            // Replaced after every part is in.
            vec![
                (1, &b"zzzz"[..]),
                (2, b"bbbb"),
                (3, b"cccc"),
                (4, b"d"),
                (1, b"aaaa"),
            ],
        ] {
            let (bytes, sha) = complete_parts(&puts);
            assert_eq!(bytes, whole, "{puts:?}");
            assert_eq!(sha, want, "{puts:?}");
        }
        // A part replaced by a different one is what gets stored and hashed.
        let (bytes, sha) = complete_parts(&[(1, b"aaaa"), (2, b"bbbb"), (1, b"AAAA")]);
        assert_eq!(bytes, b"AAAAbbbb");
        assert_eq!(sha, sha256_hex(b"AAAAbbbb"));
    }

    #[test]
    fn a_blob_is_hashed_when_first_asked_not_while_its_parts_arrive() {
        let mut f = FileStore::new(StorageMode::S3, 1);
        let id = f.begin(target(), UploadType::Attachment, StorageMode::S3, "a", true);
        let e1 = f.put_part(&id, 1, Bytes::from_static(b"ab"), None).unwrap();
        let e2 = f.put_part(&id, 2, Bytes::from_static(b"c"), None).unwrap();
        f.check_complete(&id, &target(), Some(&[e1, e2])).unwrap();
        let (blob, _) = f.finish(&id).unwrap();
        let b = f.blob(blob).unwrap();
        assert!(b.sha256.get().is_none(), "hashed before anyone asked");
        assert_eq!(b.sha256(), sha256_hex(b"abc"));
        assert_eq!(
            b.sha256.get().map(String::as_str),
            Some(sha256_hex(b"abc").as_str())
        );
        // A hash worked out for persisting is kept, not worked out again.
        let id = f.begin(
            target(),
            UploadType::Attachment,
            StorageMode::S3,
            "b",
            false,
        );
        f.put_single(&id, Bytes::from_static(b"xyz"), None).unwrap();
        let content = f.completed(&id).unwrap();
        let (blob, _) = f
            .finish_completed(&id, content, Some("given".into()))
            .unwrap();
        assert_eq!(f.blob(blob).unwrap().sha256(), "given");
    }

    #[test]
    fn content_ranges_cross_pieces_without_copying() {
        let c = Content::from_parts(vec![
            Bytes::from_static(b"abc"),
            Bytes::new(),
            Bytes::from_static(b"defg"),
            Bytes::from_static(b"h"),
        ]);
        assert_eq!(c.len(), 8);
        let joined = |v: Vec<Bytes>| v.iter().flat_map(|b| b.to_vec()).collect::<Vec<u8>>();
        for start in 0..=8 {
            for end in start..=9 {
                let got = joined(c.range(start, end));
                assert_eq!(got, &b"abcdefgh"[start..end.min(8)], "{start}..{end}");
            }
        }
        assert_eq!(c.range(0, 8).len(), 3, "one slice per non-empty piece");
        assert!(Content::default().is_empty());
    }

    #[test]
    fn signatures_verify_only_their_message() {
        let f = FileStore::default();
        let s = f.sign("PUT\n/a");
        assert!(f.verify("PUT\n/a", &s));
        assert!(!f.verify("PUT\n/b", &s));
        assert!(!f.verify("PUT\n/a", "00"));
    }
}
