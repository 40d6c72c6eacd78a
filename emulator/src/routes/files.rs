//! Uploads and downloads ("Uploading and Downloading Files" in the reference).
//!
//! - `GET /entity/{t}/{id}[/{field}]/_upload?filename=…[&multipart_upload=true]`: where
//!   to send the bytes (`data` + `links{upload, complete_upload, get_next_part?}`).
//!   The field `image` makes a thumbnail upload; other fields must be `url` or
//!   `multi_entity` fields. Multipart needs S3 storage and a field name (a real site
//!   answers 404 without one).
//! - `PUT /entity/{t}/{id}[/{field}]/_upload?filename&signature&user_id&user_type&
//!   expiration` (sg storage, bearer token required): the bytes; answers
//!   `{data{upload_id, original_filename}, links{complete_upload}}`.
//! - `GET /entity/{t}/{id}/{field}/_upload/multipart?…&upload_id&part_number`: the
//!   pre-signed URL of the next part.
//! - `POST /entity/{t}/{id}[/{field}]/_upload/multipart_abort` with the upload info:
//!   discards the parts (204).
//! - `POST /entity/{t}/{id}[/{field}]/_upload` `{upload_info, upload_data}`: links the
//!   file: an Attachment (201) linked from the record, or the field (url field: the url
//!   object; multi-entity field: one more link), or the thumbnail (204).
//! - `GET /entity/{t}/{id}/{field}[?alt=original|thumbnail]`: the field's value with a
//!   fresh download URL, or a 302 redirect to the file in storage.
//! - `GET /file_serve/attachment/{id}` (bearer token): 302 to an Attachment's file.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Map, Value};

use crate::auth::Session;
use crate::errors::{json_response, ApiError};
use crate::http::{AppState, AuthenticatedSession, API_PREFIX};
use crate::model::files::{
    iso8601, unix_now, Content, FileError, FileStore, StorageMode, UploadTarget, UploadType,
    MAX_PART_NUMBER,
};
use crate::model::schema::{display_field, FieldKind};
use crate::model::writes::{acting_user, Actor};
use crate::model::ModelError;
use crate::model::{ReturnOnly, Store};
use crate::naming::url_name;
use crate::routes::storage::{encode_segment, presign, presign_for};

/// Lifetime of the signed thumbnail URL stored in an `image` field.
const STORED_URL_LIFETIME: u64 = 24 * 60 * 60;

/// The upload and download routes (mounted with the larger upload body limit).
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/entity/{entity}/{record_id}/_upload",
            get(info_record).put(put_record).post(complete_record),
        )
        .route(
            "/api/v1/entity/{entity}/{record_id}/{field}/_upload",
            get(info_field).put(put_field).post(complete_field),
        )
        .route(
            "/api/v1/entity/{entity}/{record_id}/{field}/_upload/multipart",
            get(next_part),
        )
        .route(
            "/api/v1/entity/{entity}/{record_id}/_upload/multipart_abort",
            post(abort_record),
        )
        .route(
            "/api/v1/entity/{entity}/{record_id}/{field}/_upload/multipart_abort",
            post(abort_field),
        )
        .route(
            "/api/v1/entity/{entity}/{record_id}/{field}",
            get(read_file_field),
        )
        .route("/file_serve/attachment/{attachment_id}", get(file_serve))
}

fn query_map(raw: Option<&str>) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for (k, v) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        out.entry(k.into_owned()).or_insert_with(|| v.into_owned());
    }
    out
}

fn invalid(param: &str, message: &str) -> ApiError {
    let mut source = Map::new();
    source.insert(param.to_string(), json!([message]));
    ApiError::invalid_params(Value::Object(source))
}

/// `http://host` of the request (`https://` on a `--tls` site), for absolute links.
/// Over HTTP/2 the host comes from `:authority`, which the accept loop copies into `Host`.
fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-.:[]_".contains(&b))
        })
        .unwrap_or("localhost");
    let scheme = if state.options.tls.is_some() {
        "https"
    } else {
        "http"
    };
    format!("{scheme}://{host}")
}

/// The resolved record (and field) of an upload route.
struct Target {
    entity_type: String,
    id: i64,
    field: Option<String>,
    upload_type: UploadType,
    /// Kind of the named field (`None` for record-level and `image`).
    kind: Option<FieldKind>,
}

impl Target {
    fn upload_target(&self) -> UploadTarget {
        UploadTarget {
            entity_type: self.entity_type.clone(),
            id: self.id,
            field: self.field.clone(),
        }
    }

    /// `/api/v1/entity/{plural}/{id}[/{field}]/_upload`.
    fn upload_path(&self) -> String {
        let mut p = format!(
            "{API_PREFIX}/entity/{}/{}",
            url_name(&self.entity_type),
            self.id
        );
        if let Some(f) = &self.field {
            p.push('/');
            p.push_str(&encode_segment(f));
        }
        p.push_str("/_upload");
        p
    }
}

/// Resolves type, id and field; the record must be live.
fn resolve(
    store: &Store,
    entity: &str,
    raw_id: &str,
    field: Option<&str>,
) -> Result<Target, ApiError> {
    let entity_type = store.resolve_type(entity)?;
    let id = raw_id
        .parse::<i64>()
        .map_err(|_| invalid("record_id", "record_id must be an integer"))?;
    store.get(&entity_type, id, ReturnOnly::Active)?;
    let (upload_type, kind) = match field {
        None => (UploadType::Attachment, None),
        Some("image") => (UploadType::Thumbnail, None),
        Some(f) => {
            let table = store.table(&entity_type)?;
            match table.fields.get(f) {
                Some(k @ (FieldKind::Url | FieldKind::MultiEntity)) => {
                    (UploadType::Attachment, Some(*k))
                }
                Some(FieldKind::Image) => (UploadType::Thumbnail, None),
                Some(_) => {
                    return Err(invalid(
                        "field_name",
                        "field_name must be an url (file/link), image or multi-entity field",
                    ))
                }
                None => return Err(invalid("field_name", "field_name is not valid")),
            }
        }
    };
    Ok(Target {
        entity_type,
        id,
        field: field.map(str::to_string),
        upload_type,
        kind,
    })
}

/// The user an upload is signed for: the acting HumanUser, else the ApiUser.
fn signer(session: &Session, store: &Store) -> (String, i64) {
    session
        .acting_user(store)
        .and_then(|v| Some((v.get("type")?.as_str()?.to_string(), v.get("id")?.as_i64()?)))
        .unwrap_or_else(|| ("ApiUser".to_string(), 0))
}

fn sg_message(
    t: &UploadTarget,
    filename: &str,
    user_type: &str,
    user_id: &str,
    expiration: &str,
) -> String {
    format!(
        "sg-upload\n{}\n{}\n{}\n{filename}\n{user_type}\n{user_id}\n{expiration}",
        t.entity_type,
        t.id,
        t.field.as_deref().unwrap_or("")
    )
}

fn part_url(files: &FileStore, base: &str, upload_id: &str, part: u32) -> String {
    presign(
        files,
        base,
        "PUT",
        &format!("/_storage/uploads/{}", encode_segment(upload_id)),
        &[
            ("partNumber", part.to_string()),
            ("uploadId", upload_id.to_string()),
        ],
    )
}

fn next_part_link(target: &Target, info: &Value, part: u32) -> String {
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for key in ["filename", "timestamp", "upload_type", "upload_id"] {
        let v = match key {
            "filename" => info.get("original_filename"),
            k => info.get(k),
        };
        ser.append_pair(key, v.and_then(Value::as_str).unwrap_or(""));
    }
    ser.append_pair("part_number", &part.to_string());
    format!("{}/multipart?{}", target.upload_path(), ser.finish())
}

async fn info_record(
    session: AuthenticatedSession,
    State(state): State<AppState>,
    Path((entity, raw_id)): Path<(String, String)>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    upload_info(
        &state,
        &session.0,
        &entity,
        &raw_id,
        None,
        &headers,
        q.as_deref(),
    )
}

async fn info_field(
    session: AuthenticatedSession,
    State(state): State<AppState>,
    Path((entity, raw_id, field)): Path<(String, String, String)>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    upload_info(
        &state,
        &session.0,
        &entity,
        &raw_id,
        Some(&field),
        &headers,
        q.as_deref(),
    )
}

fn upload_info(
    state: &AppState,
    session: &Session,
    entity: &str,
    raw_id: &str,
    field: Option<&str>,
    headers: &HeaderMap,
    query: Option<&str>,
) -> Result<Response, ApiError> {
    let params = query_map(query);
    let (target, (user_type, user_id)) = {
        let store = state.backend.store();
        let target = resolve(&store, entity, raw_id, field)?;
        (target, signer(session, &store))
    };
    let filename = params
        .get("filename")
        .filter(|f| !f.is_empty())
        .ok_or_else(|| invalid("filename", "filename is required"))?
        .clone();
    let multipart = match params.get("multipart_upload").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            return Err(invalid(
                "multipart_upload",
                "multipart_upload must be a boolean",
            ))
        }
    };
    let mut files = state.backend.files();
    let storage = files.storage();
    if multipart && storage == StorageMode::Sg {
        return Err(invalid(
            "multipart_upload",
            "multipart uploads are not available with sg storage",
        ));
    }
    if multipart && field.is_none() {
        return Err(ApiError::not_found(
            "Multipart uploads must name a field: /entity/{entity}/{record_id}/{field_name}/_upload",
        ));
    }
    let base = base_url(state, headers);
    let timestamp = iso8601(unix_now());
    let upload_id = match storage {
        StorageMode::S3 => Some(files.begin(
            target.upload_target(),
            target.upload_type,
            storage,
            &filename,
            multipart,
        )),
        StorageMode::Sg => None,
    };
    let data = json!({
        "timestamp": timestamp,
        "upload_type": target.upload_type.as_str(),
        "upload_id": upload_id,
        "storage_service": storage.as_str(),
        "original_filename": filename,
        "multipart_upload": multipart,
    });
    let mut links = Map::new();
    let upload = match (&upload_id, multipart) {
        (Some(id), true) => part_url(&files, &base, id, 1),
        (Some(id), false) => presign(
            &files,
            &base,
            "PUT",
            &format!("/_storage/uploads/{}", encode_segment(id)),
            &[],
        ),
        (None, _) => {
            let expiration = (unix_now() + files.url_lifetime().as_secs()).to_string();
            let uid = user_id.to_string();
            let signature = files.sign(&sg_message(
                &target.upload_target(),
                &filename,
                &user_type,
                &uid,
                &expiration,
            ));
            let mut ser = form_urlencoded::Serializer::new(String::new());
            ser.append_pair("filename", &filename)
                .append_pair("signature", &signature)
                .append_pair("user_id", &uid)
                .append_pair("user_type", &user_type)
                .append_pair("expiration", &expiration);
            format!("{base}{}?{}", target.upload_path(), ser.finish())
        }
    };
    links.insert("upload".into(), upload.into());
    links.insert("complete_upload".into(), target.upload_path().into());
    if multipart {
        links.insert(
            "get_next_part".into(),
            next_part_link(&target, &data, 2).into(),
        );
    }
    Ok(json_response(
        StatusCode::OK,
        &json!({"data": data, "links": links}),
    ))
}

async fn put_record(
    session: AuthenticatedSession,
    State(state): State<AppState>,
    Path((entity, raw_id)): Path<(String, String)>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    sg_put(
        &state,
        &session.0,
        &entity,
        &raw_id,
        None,
        &headers,
        q.as_deref(),
        body,
    )
}

async fn put_field(
    session: AuthenticatedSession,
    State(state): State<AppState>,
    Path((entity, raw_id, field)): Path<(String, String, String)>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    sg_put(
        &state,
        &session.0,
        &entity,
        &raw_id,
        Some(&field),
        &headers,
        q.as_deref(),
        body,
    )
}

#[allow(clippy::too_many_arguments)]
fn sg_put(
    state: &AppState,
    _session: &Session,
    entity: &str,
    raw_id: &str,
    field: Option<&str>,
    headers: &HeaderMap,
    query: Option<&str>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let params = query_map(query);
    let target = resolve(&state.backend.store(), entity, raw_id, field)?;
    let param = |name: &str| {
        params
            .get(name)
            .map(String::as_str)
            .ok_or_else(|| invalid(name, &format!("{name} is required")))
    };
    let (filename, signature) = (param("filename")?, param("signature")?);
    let (user_id, user_type, expiration) =
        (param("user_id")?, param("user_type")?, param("expiration")?);
    let mut files = state.backend.files();
    let message = sg_message(
        &target.upload_target(),
        filename,
        user_type,
        user_id,
        expiration,
    );
    if !files.verify(&message, signature) {
        return Err(invalid("signature", "signature is not valid"));
    }
    if expiration.parse::<u64>().map_or(true, |e| e <= unix_now()) {
        return Err(invalid("expiration", "the upload link has expired"));
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let upload_id = files.begin(
        target.upload_target(),
        target.upload_type,
        StorageMode::Sg,
        filename,
        false,
    );
    files
        .put_single(&upload_id, body, content_type)
        .map_err(file_error)?;
    Ok(json_response(
        StatusCode::OK,
        &json!({
            "data": {"upload_id": upload_id, "original_filename": filename},
            "links": {"complete_upload": target.upload_path()},
        }),
    ))
}

fn file_error(e: FileError) -> ApiError {
    let message = e.to_string();
    let source = match e {
        FileError::UnknownUpload | FileError::WrongTarget => {
            json!({"upload_info": {"upload_id": [message]}})
        }
        FileError::InvalidPart(_) | FileError::PartTooSmall { .. } => {
            json!({"upload_info": {"etags": [message]}})
        }
        FileError::BadPartNumber => json!({"part_number": [message]}),
        FileError::NoData | FileError::WrongKind(_) => json!({"upload_info": [message]}),
    };
    ApiError::invalid_params(source).with_detail(message)
}

fn json_object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(invalid("body", "body must be a JSON object")),
        Err(e) => Err(invalid("body", &format!("body is not valid JSON: {e}"))),
    }
}

async fn complete_record(
    session: AuthenticatedSession,
    State(state): State<AppState>,
    Path((entity, raw_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    complete(&state, &session.0, &entity, &raw_id, None, &headers, &body)
}

async fn complete_field(
    session: AuthenticatedSession,
    State(state): State<AppState>,
    Path((entity, raw_id, field)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    complete(
        &state,
        &session.0,
        &entity,
        &raw_id,
        Some(&field),
        &headers,
        &body,
    )
}

/// The parsed body of a completion request.
struct Completion {
    upload_id: String,
    etags: Option<Vec<String>>,
    timestamp: Option<String>,
    display_name: Option<String>,
    tags: Vec<Value>,
}

fn parse_completion(body: &[u8]) -> Result<Completion, ApiError> {
    let body = json_object(body)?;
    let info = body
        .get("upload_info")
        .and_then(Value::as_object)
        .ok_or_else(|| invalid("upload_info", "upload_info is required"))?;
    let bad =
        |field: &str, msg: &str| ApiError::invalid_params(json!({"upload_info": {field: [msg]}}));
    let upload_id = info
        .get("upload_id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| bad("upload_id", "upload_id is required"))?
        .to_string();
    let etags = match info.get("etags") {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => Some(
            items
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| bad("etags", "etags must be a list of strings"))?,
        ),
        Some(_) => return Err(bad("etags", "etags must be a list of strings")),
    };
    let timestamp = info
        .get("timestamp")
        .and_then(Value::as_str)
        .filter(|t| t.len() == 20 && t.ends_with('Z'))
        .map(str::to_string);
    let data = match body.get("upload_data") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return Err(invalid("upload_data", "upload_data must be an object")),
    };
    let display_name = match data.get("display_name") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            return Err(ApiError::invalid_params(
                json!({"upload_data": {"display_name": ["display_name must be a string"]}}),
            ))
        }
    };
    let tags = match data.get("tags") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => {
            let mut out = Vec::new();
            for t in items {
                let ok = t.get("type").and_then(Value::as_str) == Some("Tag");
                match (ok, t.get("id").and_then(Value::as_i64)) {
                    (true, Some(id)) => out.push(json!({"type": "Tag", "id": id})),
                    _ => {
                        return Err(ApiError::invalid_params(
                            json!({"upload_data": {"tags": ["tags must be a list of {type: Tag, id}"]}}),
                        ))
                    }
                }
            }
            out
        }
        Some(_) => {
            return Err(ApiError::invalid_params(
                json!({"upload_data": {"tags": ["tags must be a list of {type: Tag, id}"]}}),
            ))
        }
    };
    Ok(Completion {
        upload_id,
        etags,
        timestamp,
        display_name,
        tags,
    })
}

fn file_extension(name: &str) -> String {
    name.rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default()
}

fn complete(
    state: &AppState,
    session: &Session,
    entity: &str,
    raw_id: &str,
    field: Option<&str>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, ApiError> {
    let req = parse_completion(body)?;
    let base = base_url(state, headers);
    let backend = &state.backend;
    // Lock order: store, then files.
    let mut store = backend.store_mut();
    let target = resolve(&store, entity, raw_id, field)?;
    let mut files = backend.files();
    files
        .check_complete(
            &req.upload_id,
            &target.upload_target(),
            req.etags.as_deref(),
        )
        .map_err(file_error)?;
    // Cheap: the parts are not copied.
    let content = files.completed(&req.upload_id).map_err(file_error)?;
    // The bytes are durable before any record refers to them, stored under their
    // SHA-256 (worked out here only when the site persists: see `Blob::sha256`).
    let sha256 = match backend.persister() {
        Some(p) => {
            let sha256 = content.sha256_hex();
            p.save_blob(&sha256, content.pieces())
                .map_err(|e| ModelError::Persist(e.to_string()))?;
            Some(sha256)
        }
        None => None,
    };
    let actor = acting_user(&mut store, session);
    let files_before = files.clone();
    store.begin();
    let mut events = Vec::new();
    let linked = link_upload(
        &mut store,
        &mut files,
        &target,
        &req,
        (content, sha256),
        &actor,
        &base,
        &mut events,
    )
    .and_then(|status| {
        backend.save_sections(|| {
            vec![
                ("store", store.section_json_cached()),
                ("files", files.section_json()),
            ]
        })?;
        Ok(status)
    });
    let status = match linked {
        Ok(status) => {
            store.commit();
            status
        }
        Err(e) => {
            store.rollback();
            *files = files_before;
            return Err(e);
        }
    };
    drop(files);
    drop(store);
    for e in events {
        backend.publish(std::sync::Arc::new(e));
    }
    Ok(status.into_response())
}

/// Stores a completed upload and links it where it was uploaded to, logging an event
/// for every change: a thumbnail sets the record's `image` (a Change); anything else
/// creates an Attachment (a New) linked from the record, and from the field if one was
/// named (a Change of that field). The store must be journaling: on error the caller
/// rolls back.
#[allow(clippy::too_many_arguments)]
fn link_upload(
    store: &mut Store,
    files: &mut FileStore,
    target: &Target,
    req: &Completion,
    (content, sha256): (Content, Option<String>),
    actor: &Actor,
    base: &str,
    events: &mut Vec<Value>,
) -> Result<StatusCode, ApiError> {
    let (blob_id, pending) = files
        .finish_completed(&req.upload_id, content, sha256)
        .map_err(file_error)?;
    let now = iso8601(unix_now());
    let blob = files
        .blob(blob_id)
        .map(|b| (b.content_type.clone(), b.content.len()))
        .unwrap_or_else(|| ("application/octet-stream".into(), 0));
    let (t, id) = (target.entity_type.as_str(), target.id);
    let old_of = |store: &Store, f: &str| {
        store
            .get(t, id, ReturnOnly::Active)
            .ok()
            .and_then(|r| r.fields.get(f).cloned())
            .unwrap_or(Value::Null)
    };

    if pending.upload_type == UploadType::Thumbnail {
        let url = presign_for(
            files,
            base,
            "GET",
            &blob_path(blob_id, &pending.filename),
            &[],
            STORED_URL_LIFETIME,
        );
        files.set_thumbnail(t, id, blob_id);
        let old = old_of(store, "image");
        let new = Value::String(url);
        store.set_field(t, id, "image", new.clone())?;
        store.log_event(
            actor,
            &now,
            t,
            id,
            "Change",
            "update",
            Some(("image", FieldKind::Image, &old, &new)),
            events,
        );
        return Ok(StatusCode::NO_CONTENT);
    }

    let name = req
        .display_name
        .clone()
        .unwrap_or_else(|| pending.filename.clone());
    let project = store
        .get(t, id, ReturnOnly::Active)?
        .fields
        .get("project")
        .cloned()
        .filter(|p| p.is_object());
    let mut fields = Map::new();
    fields.insert(display_field("Attachment").into(), name.clone().into());
    fields.insert("filename".into(), pending.filename.clone().into());
    fields.insert("original_fname".into(), pending.filename.clone().into());
    fields.insert("file_size".into(), (blob.1 as u64).into());
    fields.insert(
        "file_extension".into(),
        file_extension(&pending.filename).into(),
    );
    fields.insert("attachment_links".into(), json!([{"type": t, "id": id}]));
    fields.insert("tags".into(), Value::Array(req.tags.clone()));
    if let Some(p) = project {
        fields.insert("project".into(), p);
    }
    let stamp = req.timestamp.clone().unwrap_or(now.clone());
    fields.insert("created_at".into(), stamp.into());
    fields.insert("updated_at".into(), now.clone().into());
    fields.insert("created_by".into(), actor.user.clone());
    fields.insert("updated_by".into(), actor.user.clone());
    for (f, k) in [
        ("this_file", FieldKind::Url),
        ("attachment_links", FieldKind::MultiEntity),
        ("tags", FieldKind::MultiEntity),
        ("project", FieldKind::Entity),
        ("file_size", FieldKind::Number),
    ] {
        if store
            .table("Attachment")
            .is_ok_and(|t| !t.fields.contains_key(f))
        {
            store.define_field("Attachment", f, k)?;
        }
    }
    let attachment_id = store.insert("Attachment", fields)?;
    let this_file = json!({
        "url": format!("{base}/file_serve/attachment/{attachment_id}"),
        "name": name,
        "content_type": blob.0,
        "link_type": "upload",
        "type": "Attachment",
        "id": attachment_id,
    });
    files.set_attachment_blob(attachment_id, blob_id);
    store.set_field("Attachment", attachment_id, "this_file", this_file.clone())?;
    store.log_event(
        actor,
        &now,
        "Attachment",
        attachment_id,
        "New",
        "create",
        None,
        events,
    );
    // A Note's `attachments` mirror the Attachment's links.
    store.sync_links(
        actor,
        &now,
        "Attachment",
        attachment_id,
        "attachment_links",
        &Value::Null,
        &json!([{"type": t, "id": id}]),
        events,
    );
    let (Some(f), Some(kind)) = (&target.field, target.kind) else {
        return Ok(StatusCode::CREATED);
    };
    let old = old_of(store, f);
    let link = json!({"type": "Attachment", "id": attachment_id});
    let new = match kind {
        FieldKind::Url => this_file,
        FieldKind::MultiEntity if old.as_array().is_some_and(|l| l.contains(&link)) => {
            // Already linked through the mirror above.
            return Ok(StatusCode::CREATED);
        }
        FieldKind::MultiEntity => {
            let mut list = old.as_array().cloned().unwrap_or_default();
            list.push(link);
            Value::Array(list)
        }
        _ => return Ok(StatusCode::CREATED),
    };
    store.set_field(t, id, f, new.clone())?;
    store.sync_links(actor, &now, t, id, f, &old, &new, events);
    store.log_event(
        actor,
        &now,
        t,
        id,
        "Change",
        "update",
        Some((f, kind, &old, &new)),
        events,
    );
    Ok(StatusCode::CREATED)
}

async fn next_part(
    _session: AuthenticatedSession,
    State(state): State<AppState>,
    Path((entity, raw_id, field)): Path<(String, String, String)>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let params = query_map(q.as_deref());
    let target = resolve(&state.backend.store(), &entity, &raw_id, Some(&field))?;
    let upload_id = params
        .get("upload_id")
        .ok_or_else(|| invalid("upload_id", "upload_id is required"))?;
    let part = params
        .get("part_number")
        .and_then(|p| p.parse::<u32>().ok())
        .filter(|p| (1..=MAX_PART_NUMBER).contains(p))
        .ok_or_else(|| invalid("part_number", "part_number must be between 1 and 10000"))?;
    let files = state.backend.files();
    let pending = files
        .pending(upload_id)
        .filter(|p| p.target == target.upload_target())
        .ok_or_else(|| file_error(FileError::UnknownUpload))?;
    if !pending.multipart {
        return Err(file_error(FileError::WrongKind(
            "this is not a multipart upload",
        )));
    }
    let data = json!({
        "timestamp": params.get("timestamp").cloned().unwrap_or_else(|| iso8601(unix_now())),
        "upload_type": pending.upload_type.as_str(),
        "upload_id": upload_id,
        "storage_service": pending.storage.as_str(),
        "original_filename": pending.filename,
        "multipart_upload": true,
    });
    let base = base_url(&state, &headers);
    let mut links = Map::new();
    links.insert(
        "upload".into(),
        part_url(&files, &base, upload_id, part).into(),
    );
    links.insert("complete_upload".into(), target.upload_path().into());
    if part < MAX_PART_NUMBER {
        links.insert(
            "get_next_part".into(),
            next_part_link(&target, &data, part + 1).into(),
        );
    }
    Ok(json_response(
        StatusCode::OK,
        &json!({"data": data, "links": links}),
    ))
}

async fn abort_record(
    _session: AuthenticatedSession,
    State(state): State<AppState>,
    Path((entity, raw_id)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    abort(&state, &entity, &raw_id, None, &body)
}

async fn abort_field(
    _session: AuthenticatedSession,
    State(state): State<AppState>,
    Path((entity, raw_id, field)): Path<(String, String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    abort(&state, &entity, &raw_id, Some(&field), &body)
}

fn abort(
    state: &AppState,
    entity: &str,
    raw_id: &str,
    field: Option<&str>,
    body: &[u8],
) -> Result<Response, ApiError> {
    let body = json_object(body)?;
    // The bare upload info; a wrapped `{upload_info: …}` is accepted too.
    let info = body
        .get("upload_info")
        .and_then(Value::as_object)
        .unwrap_or(&body);
    let upload_id = info
        .get("upload_id")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("upload_id", "upload_id is required"))?;
    let target = resolve(&state.backend.store(), entity, raw_id, field)?;
    state
        .backend
        .files()
        .abort(upload_id, &target.upload_target())
        .map_err(file_error)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn blob_path(blob_id: u64, filename: &str) -> String {
    let name = if filename.is_empty() {
        "file"
    } else {
        filename
    };
    format!("/_storage/blobs/{blob_id}/{}", encode_segment(name))
}

fn blob_url(files: &FileStore, base: &str, blob_id: u64) -> Option<String> {
    let blob = files.blob(blob_id)?;
    Some(presign(
        files,
        base,
        "GET",
        &blob_path(blob_id, &blob.filename),
        &[],
    ))
}

fn redirect(location: &str) -> Response {
    let mut res = StatusCode::FOUND.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res
}

fn no_file() -> ApiError {
    ApiError::not_found("The field has no file.")
}

async fn read_file_field(
    _session: AuthenticatedSession,
    State(state): State<AppState>,
    Path((entity, raw_id, field)): Path<(String, String, String)>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Result<Response, ApiError> {
    let params = query_map(q.as_deref());
    let alt = match params.get("alt").map(String::as_str) {
        None => None,
        Some(a @ ("original" | "thumbnail")) => Some(a.to_string()),
        Some(_) => return Err(invalid("alt", "alt must be one of: original, thumbnail")),
    };
    let (entity_type, id, is_image, value) = {
        let store = state.backend.store();
        let entity_type = store.resolve_type(&entity)?;
        let id = raw_id
            .parse::<i64>()
            .map_err(|_| invalid("record_id", "record_id must be an integer"))?;
        let record = store.get(&entity_type, id, ReturnOnly::Active)?;
        let kind = store.table(&entity_type)?.fields.get(&field).copied();
        let is_image = field == "image" || kind == Some(FieldKind::Image);
        if !is_image && kind != Some(FieldKind::Url) {
            return Err(invalid(
                "field_name",
                "field_name must be an image or url (file/link) field",
            ));
        }
        let value = record.fields.get(&field).cloned().unwrap_or(Value::Null);
        (entity_type, id, is_image, value)
    };
    let base = base_url(&state, &headers);
    let files = state.backend.files();
    let thumb = files.thumbnail_blob_id(&entity_type, id);
    let attachment_blob = value
        .get("link_type")
        .and_then(Value::as_str)
        .filter(|t| *t == "upload")
        .and_then(|_| value.get("id").and_then(Value::as_i64))
        .and_then(|att| files.attachment_blob_id(att));

    match alt.as_deref() {
        Some("original") => {
            let blob = if is_image { thumb } else { attachment_blob };
            if let Some(url) = blob.and_then(|b| blob_url(&files, &base, b)) {
                return Ok(redirect(&url));
            }
            // A web link: redirect to it.
            if let Some(url) = value.get("url").and_then(Value::as_str) {
                return Ok(redirect(url));
            }
            Err(no_file())
        }
        Some(_) => {
            // Thumbnails are the uploaded image itself.
            let url = thumb
                .and_then(|b| blob_url(&files, &base, b))
                .ok_or_else(no_file)?;
            Ok(redirect(&url))
        }
        None => {
            let data = if is_image {
                match thumb.and_then(|b| blob_url(&files, &base, b)) {
                    Some(url) => Value::String(url),
                    None => value,
                }
            } else {
                let mut v = value;
                if let (Some(b), Value::Object(m)) = (attachment_blob, &mut v) {
                    if let Some(url) = blob_url(&files, &base, b) {
                        m.insert("url".into(), url.into());
                    }
                }
                v
            };
            let self_link = uri
                .path_and_query()
                .map(|pq| pq.as_str().to_string())
                .unwrap_or_else(|| uri.path().to_string());
            Ok(json_response(
                StatusCode::OK,
                &json!({"data": data, "links": {"self": self_link}}),
            ))
        }
    }
}

async fn file_serve(
    _session: AuthenticatedSession,
    State(state): State<AppState>,
    Path(raw): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id = raw
        .parse::<i64>()
        .map_err(|_| invalid("attachment_id", "attachment_id must be an integer"))?;
    let files = state.backend.files();
    let url = files
        .attachment_blob_id(id)
        .and_then(|b| blob_url(&files, &base_url(&state, &headers), b))
        .ok_or_else(|| ApiError::not_found(format!("Attachment: {id} not found")))?;
    Ok(redirect(&url))
}
