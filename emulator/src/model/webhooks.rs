//! Webhooks: subscriptions, their health status, and the record of every delivery.
//!
//! This module holds the state and decides every outcome (validation, which hooks an
//! event matches, the payload and headers of a delivery, status transitions). The
//! network side lives in [`crate::webhook_delivery`], which asks this module what to
//! send and reports back what happened.
//!
//! Rules (REST-NOTES, "Webhooks"):
//! - statuses `active`, `unstable` (some failed deliveries in the last 24 h), `failed`
//!   ([`FAILED_THRESHOLD`] failed deliveries in 24 h: no further deliveries) and
//!   `disabled`; a PUT may only set `active` or `disabled` (setting `active` clears the
//!   failure history);
//! - a delivery succeeds when the consumer answers with a status below 400 within
//!   [`DELIVERY_TIMEOUT`] (batched: the larger of that and 1 s per delivery);
//! - `x-sg-signature: sha1=<hex HMAC-SHA1 of the raw body keyed by the token>` only when
//!   the hook has a token;
//! - payloads over [`MAX_PAYLOAD_BYTES`] lose `old_value`/`new_value` and gain a
//!   `warning` (both inside `meta`);
//! - acknowledgements are at most [`MAX_ACK_BYTES`] bytes.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use serde_json::{json, Map, Value};
use sha1::Sha1;
use tokio::sync::mpsc;

/// Failed deliveries within [`FAILURE_WINDOW`] that turn a hook `failed`.
pub const FAILED_THRESHOLD: usize = 100;
/// The window over which failed deliveries are counted.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(24 * 60 * 60);
/// Time a consumer has to answer one delivery.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(6);
/// Most deliveries sent in one batched request.
pub const MAX_BATCH: usize = 50;
/// Largest delivery payload before old and new values are dropped.
pub const MAX_PAYLOAD_BYTES: usize = 1024 * 1024;
/// Largest acknowledgement, in bytes.
pub const MAX_ACK_BYTES: usize = 4096;
/// Most bytes of a consumer's response body kept on the delivery record.
pub const MAX_KEPT_RESPONSE_BYTES: usize = 16 * 1024;

/// The operations a subscription can name.
pub const OPERATIONS: &[&str] = &["create", "update", "delete", "revive"];

/// A webhook's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HookStatus {
    /// Delivering; no failures in the last 24 h.
    Active,
    /// Delivering; some failures in the last 24 h.
    Unstable,
    /// Too many failures: no further deliveries until set `active` again.
    Failed,
    /// Turned off by a user: no deliveries.
    Disabled,
}

impl HookStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            HookStatus::Active => "active",
            HookStatus::Unstable => "unstable",
            HookStatus::Failed => "failed",
            HookStatus::Disabled => "disabled",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<HookStatus> {
        match s {
            "active" => Some(HookStatus::Active),
            "unstable" => Some(HookStatus::Unstable),
            "failed" => Some(HookStatus::Failed),
            "disabled" => Some(HookStatus::Disabled),
            _ => None,
        }
    }

    /// Whether events are delivered to a hook with this status.
    pub fn delivers(self) -> bool {
        matches!(self, HookStatus::Active | HookStatus::Unstable)
    }
}

/// A delivery's outcome so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Being sent (never listed for long).
    Pending,
    /// The consumer answered with a status below 400.
    Delivered,
    /// Error status, timeout or connection failure.
    Failed,
}

impl DeliveryStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }
}

/// One webhook.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Hook {
    /// UUID.
    pub id: String,
    /// Consumer URL.
    pub url: String,
    /// Display name.
    pub name: String,
    /// Free text.
    pub description: Option<String>,
    /// Subscription: entity type → operation → field names (empty: any field).
    pub entity_types: BTreeMap<String, BTreeMap<String, Vec<String>>>,
    /// Project ids the hook is restricted to (empty: all). Events of non-project
    /// entities are delivered regardless.
    pub projects: Vec<i64>,
    /// Secret used to sign payloads.
    pub token: Option<String>,
    /// Whether TLS certificates are checked (recorded; the emulator delivers over http).
    pub validate_ssl_cert: bool,
    /// Deliver up to [`MAX_BATCH`] pending deliveries per request, in `data.deliveries`.
    pub batch_deliveries: bool,
    /// Health.
    pub status: HookStatus,
    /// Deliveries made so far (each redelivery attempt counts too).
    pub num_deliveries: u64,
    /// Events up to this EventLogEntry id are not for this hook: they happened before
    /// it was created (or its subscription changed), or were already prepared for it.
    /// After a crash, later events are offered to it again (see
    /// [`super::Backend::replay_undelivered`]).
    #[serde(default)]
    pub after_event: i64,
    failures: VecDeque<SystemTime>,
    deliveries: Vec<String>,
}

impl Hook {
    /// The hook as the API shows it (never the token).
    pub fn to_json(&self) -> Value {
        let mut types = Map::new();
        for (t, ops) in &self.entity_types {
            let mut o = Map::new();
            for (op, fields) in ops {
                o.insert(op.clone(), json!(fields));
            }
            types.insert(t.clone(), Value::Object(o));
        }
        json!({
            "id": self.id,
            "num_deliveries": self.num_deliveries,
            "url": self.url,
            "entity_types": types,
            "status": self.status.as_str(),
            "name": self.name,
            "description": self.description,
            "validate_ssl_cert": self.validate_ssl_cert,
            "projects": self.projects,
            "batch_deliveries": self.batch_deliveries,
            "has_token": self.token.is_some(),
        })
    }

    /// Whether an event (a [`super::ChangeEvent`] body) matches this hook's subscription.
    pub fn matches(&self, event: &Value) -> bool {
        if !self.status.delivers() {
            return false;
        }
        if event
            .get("event_log_entry_id")
            .and_then(Value::as_i64)
            .is_some_and(|id| id <= self.after_event)
        {
            return false;
        }
        let Some(entity_type) = event.pointer("/entity/type").and_then(Value::as_str) else {
            return false;
        };
        let Some(op) = event.get("operation").and_then(Value::as_str) else {
            return false;
        };
        let Some(fields) = self
            .entity_types
            .get(entity_type)
            .and_then(|ops| ops.get(op))
        else {
            return false;
        };
        if !fields.is_empty() {
            let attr = event
                .get("attribute_name")
                .and_then(Value::as_str)
                .or_else(|| {
                    event
                        .pointer("/meta/attribute_name")
                        .and_then(Value::as_str)
                });
            if !attr.is_some_and(|a| fields.iter().any(|f| f == a)) {
                return false;
            }
        }
        if !self.projects.is_empty() {
            if let Some(pid) = event.pointer("/project/id").and_then(Value::as_i64) {
                if !self.projects.contains(&pid) {
                    return false;
                }
            }
        }
        true
    }
}

/// One delivery and its last attempt.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Delivery {
    /// UUID.
    pub id: String,
    /// The hook it belongs to.
    pub hook_id: String,
    /// When the event was first sent (UNIX seconds).
    pub event_time: i64,
    /// Outcome of the last attempt.
    pub status: DeliveryStatus,
    /// Milliseconds the last attempt took.
    pub process_time: Option<u64>,
    /// The consumer's response body (or the connection error), possibly cut.
    pub body: String,
    /// The consumer's response status.
    pub response_code: Option<u16>,
    /// The JSON body of the last request that carried this delivery.
    pub request_body: Value,
    /// Set by the consumer through `PUT /webhook/deliveries/{id}`.
    pub acknowledgement: String,
    /// Headers of the last request.
    pub request_headers: Map<String, Value>,
    /// Headers of the last response.
    pub response_headers: Map<String, Value>,
    /// How many times it was sent.
    pub attempts: u32,
    /// The event as delivered (`data`, or one item of `data.deliveries`).
    pub item: Value,
}

impl Delivery {
    /// The delivery as the API shows it.
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "event_time": self.event_time,
            "status": self.status.as_str(),
            "process_time": self.process_time,
            "body": self.body,
            "response_code": self.response_code,
            "request_body": self.request_body,
            "acknowledgement": self.acknowledgement,
            "request_headers": self.request_headers,
            "response_headers": self.response_headers,
            "attempts": self.attempts,
            "webhook_id": self.hook_id,
        })
    }

    fn entity(&self) -> (Option<&str>, Option<i64>) {
        (
            self.item.pointer("/entity/type").and_then(Value::as_str),
            self.item.pointer("/entity/id").and_then(Value::as_i64),
        )
    }
}

/// Why a webhook request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// No webhook with that id.
    #[error("webhook {0} not found")]
    HookNotFound(String),
    /// No delivery with that id.
    #[error("delivery {0} not found")]
    DeliveryNotFound(String),
    /// A body parameter is missing or invalid.
    #[error("{param}: {message}")]
    Invalid {
        /// The parameter's name.
        param: String,
        /// What is wrong with it.
        message: String,
    },
    /// The change could not be made durable (`--data`); it was undone.
    #[error("could not persist the change: {0}")]
    Persist(String),
}

/// The persisted form of [`Webhooks`].
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct WebhooksSnapshot {
    /// Hooks in creation order.
    pub hooks: Vec<Hook>,
    /// Every delivery, in each hook's order.
    pub deliveries: Vec<Delivery>,
}

fn invalid(param: &str, message: impl Into<String>) -> WebhookError {
    WebhookError::Invalid {
        param: param.to_string(),
        message: message.into(),
    }
}

/// Filters of `GET /webhook/hooks/{id}/deliveries`.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    /// `delivered` or `failed`.
    pub status: Option<DeliveryStatus>,
    /// Earliest event time (UNIX seconds); default 24 h ago.
    pub from: Option<i64>,
    /// Latest event time (UNIX seconds).
    pub to: Option<i64>,
    /// Entity id of the delivered event.
    pub entity_id: Option<i64>,
    /// Entity type of the delivered event.
    pub entity_type: Option<String>,
    /// Substring of the acknowledgement.
    pub acknowledgement: Option<String>,
}

/// Work for a hook's delivery queue.
#[derive(Debug, Clone)]
pub enum Job {
    /// Deliver a new event.
    Event(super::ChangeEvent),
    /// Send an existing delivery again.
    Redeliver(String),
}

/// A request ready to be sent by the delivery engine.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The hook.
    pub hook_id: String,
    /// Consumer URL.
    pub url: String,
    /// Exact body bytes (the signature covers these).
    pub body: Vec<u8>,
    /// Request headers (content type included).
    pub headers: Vec<(String, String)>,
    /// Deliveries carried.
    pub delivery_ids: Vec<String>,
    /// How long the consumer has to answer.
    pub timeout: Duration,
}

/// What happened to one request.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Response status, if a response came.
    pub response_code: Option<u16>,
    /// Response body, or the error.
    pub body: String,
    /// Response headers.
    pub headers: Vec<(String, String)>,
    /// Elapsed milliseconds.
    pub process_time: u64,
}

/// All webhooks of a site and their deliveries.
#[derive(Debug)]
pub struct Webhooks {
    hooks: Vec<Hook>,
    deliveries: HashMap<String, Delivery>,
    jobs: mpsc::UnboundedSender<(String, Job)>,
    job_rx: Option<mpsc::UnboundedReceiver<(String, Job)>>,
    /// Base timeout per request (default [`DELIVERY_TIMEOUT`]; tests may lower it).
    pub delivery_timeout: Duration,
}

impl Default for Webhooks {
    fn default() -> Self {
        Self::new()
    }
}

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// `YYYY-MM-DDThh:mm:ssZ` for now.
pub fn utc_timestamp() -> String {
    let now = time::OffsetDateTime::now_utc();
    let now = now.replace_nanosecond(0).unwrap_or(now);
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Checks a consumer URL: absolute http(s) with a host, and not an internal or
/// reserved address, except the loopback addresses this machine's tests listen on.
pub fn validate_url(raw: &str) -> Result<String, WebhookError> {
    let bad = || invalid("url", "url is not valid");
    let url = reqwest::Url::parse(raw.trim()).map_err(|_| bad())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("url", "url must use http or https"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("url", "url must not carry credentials"));
    }
    let refused = || invalid("url", "url points to an internal or reserved host");
    match url.host() {
        None => return Err(bad()),
        Some(url::Host::Domain(d)) => {
            let d = d.to_ascii_lowercase();
            let internal_suffix = [".local", ".internal", ".localdomain"];
            if d != "localhost"
                && (!d.contains('.') || internal_suffix.iter().any(|s| d.ends_with(s)))
            {
                return Err(refused());
            }
        }
        Some(url::Host::Ipv4(ip)) => {
            if !allowed_ip(IpAddr::V4(ip)) {
                return Err(refused());
            }
        }
        Some(url::Host::Ipv6(ip)) => {
            if !allowed_ip(IpAddr::V6(ip)) {
                return Err(refused());
            }
        }
    }
    Ok(url.to_string())
}

fn allowed_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            if v4.is_loopback() {
                return true;
            }
            let o = v4.octets();
            let cgnat = o[0] == 100 && (64..128).contains(&o[1]);
            !(v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || cgnat
                || o[0] == 0
                || o[0] >= 240
                || v4 == Ipv4Addr::new(169, 254, 169, 254))
        }
        IpAddr::V6(v6) => {
            if v6 == Ipv6Addr::LOCALHOST {
                return true;
            }
            if let Some(v4) = v6.to_ipv4_mapped() {
                return allowed_ip(IpAddr::V4(v4));
            }
            let seg0 = v6.segments()[0];
            let unique_local = (seg0 & 0xfe00) == 0xfc00;
            let link_local = (seg0 & 0xffc0) == 0xfe80;
            !(v6.is_unspecified() || v6.is_multicast() || unique_local || link_local)
        }
    }
}

fn opt_string(
    body: &Map<String, Value>,
    key: &str,
) -> Result<Option<Option<String>>, WebhookError> {
    match body.get(key) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(s)) => Ok(Some(Some(s.clone()))),
        Some(_) => Err(invalid(key, format!("{key} must be a string"))),
    }
}

fn opt_bool(body: &Map<String, Value>, key: &str) -> Result<Option<bool>, WebhookError> {
    match body.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(invalid(key, format!("{key} must be a boolean"))),
    }
}

/// Parses a subscription `{Type: {operation: [fields]}}`; `resolve` maps a type name
/// to its canonical form (or `None` when unknown).
fn parse_entity_types(
    v: &Value,
    resolve: &dyn Fn(&str) -> Option<String>,
) -> Result<BTreeMap<String, BTreeMap<String, Vec<String>>>, WebhookError> {
    let key = "entity_types";
    let obj = v.as_object().ok_or_else(|| {
        invalid(
            key,
            "entity_types must be an object of entity type to operations",
        )
    })?;
    if obj.is_empty() {
        return Err(invalid(
            key,
            "entity_types must name at least one entity type",
        ));
    }
    let mut out = BTreeMap::new();
    for (t, ops) in obj {
        let canonical =
            resolve(t).ok_or_else(|| invalid(key, format!("{t} is not a valid entity type")))?;
        let ops = ops.as_object().ok_or_else(|| {
            invalid(
                key,
                format!("{t} must map operations to lists of field names"),
            )
        })?;
        if ops.is_empty() {
            return Err(invalid(
                key,
                format!("{t} must name at least one operation"),
            ));
        }
        let mut parsed = BTreeMap::new();
        for (op, fields) in ops {
            if !OPERATIONS.contains(&op.as_str()) {
                return Err(invalid(
                    key,
                    format!("{op} is not an operation (create, update, delete, revive)"),
                ));
            }
            let list = match fields {
                Value::Null => Vec::new(),
                Value::Array(items) => items
                    .iter()
                    .map(|f| f.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| {
                        invalid(key, format!("{t}.{op} must be a list of field names"))
                    })?,
                _ => {
                    return Err(invalid(
                        key,
                        format!("{t}.{op} must be a list of field names"),
                    ))
                }
            };
            parsed.insert(op.clone(), list);
        }
        out.insert(canonical, parsed);
    }
    Ok(out)
}

fn parse_projects(v: &Value) -> Result<Vec<i64>, WebhookError> {
    match v {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => items
            .iter()
            .map(|p| p.as_i64().or_else(|| p.get("id").and_then(Value::as_i64)))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| invalid("projects", "projects must be a list of project ids")),
        _ => Err(invalid(
            "projects",
            "projects must be a list of project ids",
        )),
    }
}

fn hmac_hex(key: &[u8], body: &[u8]) -> String {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail here.
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(body);
    crate::auth::hex(&mac.finalize().into_bytes())
}

/// The `x-sg-signature` value for a body and token: `sha1=<hex HMAC-SHA1>`.
pub fn signature(token: &str, body: &[u8]) -> String {
    format!("sha1={}", hmac_hex(token.as_bytes(), body))
}

/// Drops old and new values from an item whose payload would exceed the size limit.
fn limit_item_size(item: &mut Value) {
    let size = serde_json::to_vec(item).map_or(0, |v| v.len());
    if size <= MAX_PAYLOAD_BYTES {
        return;
    }
    if let Some(meta) = item.get_mut("meta").and_then(Value::as_object_mut) {
        meta.remove("old_value");
        meta.remove("new_value");
        meta.insert(
            "warning".into(),
            json!("The payload exceeded 1 MB: old_value and new_value were removed. Read the EventLogEntry for the full change."),
        );
    }
}

impl Webhooks {
    /// No webhooks.
    pub fn new() -> Self {
        let (jobs, job_rx) = mpsc::unbounded_channel();
        Webhooks {
            hooks: Vec::new(),
            deliveries: HashMap::new(),
            jobs,
            job_rx: Some(job_rx),
            delivery_timeout: DELIVERY_TIMEOUT,
        }
    }

    /// The persisted form.
    pub fn snapshot(&self) -> WebhooksSnapshot {
        let deliveries = self
            .hooks
            .iter()
            .flat_map(|h| h.deliveries.iter())
            .filter_map(|id| self.deliveries.get(id).cloned())
            .collect();
        WebhooksSnapshot {
            hooks: self.hooks.clone(),
            deliveries,
        }
    }

    /// The JSON of [`Webhooks::snapshot`].
    pub fn section_json(&self) -> Vec<u8> {
        serde_json::to_vec(&self.snapshot()).unwrap_or_default()
    }

    /// Replaces hooks and deliveries with a snapshot's (the delivery queue and timeout
    /// stay). Deliveries that were being sent when the snapshot was taken are queued
    /// to be sent again; their ids are returned.
    pub fn restore(&mut self, snapshot: WebhooksSnapshot) -> Vec<String> {
        self.replace(snapshot);
        let mut pending: Vec<String> = self
            .hooks
            .iter()
            .flat_map(|h| h.deliveries.iter())
            .filter(|id| {
                self.deliveries
                    .get(*id)
                    .is_some_and(|d| d.status == DeliveryStatus::Pending)
            })
            .cloned()
            .collect();
        pending.retain(|id| self.redeliver(id).is_ok());
        pending
    }

    /// Marks a hook as not concerned by events up to `event_id` (call on creation and
    /// when its subscription changes, with the latest EventLogEntry id).
    pub fn set_after_event(&mut self, hook_id: &str, event_id: i64) {
        if let Ok(idx) = self.index(hook_id) {
            self.hooks[idx].after_event = event_id;
        }
    }

    /// The lowest event id a delivering hook may still be owed events after.
    pub fn replay_from(&self) -> Option<i64> {
        self.hooks
            .iter()
            .filter(|h| h.status.delivers())
            .map(|h| h.after_event)
            .min()
    }

    fn replace(&mut self, snapshot: WebhooksSnapshot) {
        self.hooks = snapshot.hooks;
        self.deliveries = snapshot
            .deliveries
            .into_iter()
            .map(|d| (d.id.clone(), d))
            .collect();
    }

    /// Hands the queue of redelivery requests to the delivery engine (once).
    pub fn take_job_receiver(&mut self) -> Option<mpsc::UnboundedReceiver<(String, Job)>> {
        self.job_rx.take()
    }

    /// Creates a webhook from a request body. `resolve` maps entity type names.
    pub fn create(
        &mut self,
        body: &Value,
        resolve: &dyn Fn(&str) -> Option<String>,
    ) -> Result<&Hook, WebhookError> {
        let body = body
            .as_object()
            .ok_or_else(|| invalid("body", "the body must be a JSON object"))?;
        let url = match body.get("url") {
            Some(Value::String(s)) => validate_url(s)?,
            None | Some(Value::Null) => return Err(invalid("url", "url is required")),
            Some(_) => return Err(invalid("url", "url must be a string")),
        };
        let name = match opt_string(body, "name")? {
            Some(Some(n)) if !n.trim().is_empty() => n,
            _ => return Err(invalid("name", "name is required")),
        };
        let entity_types = match body.get("entity_types") {
            None | Some(Value::Null) => {
                return Err(invalid("entity_types", "entity_types is required"))
            }
            Some(v) => parse_entity_types(v, resolve)?,
        };
        let status = match opt_string(body, "status")? {
            None | Some(None) => HookStatus::Active,
            Some(Some(s)) => match HookStatus::parse(&s) {
                Some(st @ (HookStatus::Active | HookStatus::Disabled)) => st,
                _ => return Err(invalid("status", "status must be one of: active, disabled")),
            },
        };
        let hook = Hook {
            id: uuid::Uuid::new_v4().to_string(),
            url,
            name,
            description: opt_string(body, "description")?.flatten(),
            entity_types,
            projects: body
                .get("projects")
                .map_or(Ok(Vec::new()), parse_projects)?,
            token: opt_string(body, "token")?
                .flatten()
                .filter(|t| !t.is_empty()),
            validate_ssl_cert: opt_bool(body, "validate_ssl_cert")?.unwrap_or(true),
            batch_deliveries: opt_bool(body, "batch_deliveries")?.unwrap_or(false),
            status,
            num_deliveries: 0,
            after_event: 0,
            failures: VecDeque::new(),
            deliveries: Vec::new(),
        };
        self.hooks.push(hook);
        Ok(self.hooks.last().expect("just pushed"))
    }

    /// Updates a webhook from a request body; only the keys present change.
    pub fn update(
        &mut self,
        id: &str,
        body: &Value,
        resolve: &dyn Fn(&str) -> Option<String>,
    ) -> Result<&Hook, WebhookError> {
        let body = body
            .as_object()
            .ok_or_else(|| invalid("body", "the body must be a JSON object"))?;
        let idx = self.index(id)?;
        // Validate everything before changing anything.
        let url = match body.get("url") {
            None => None,
            Some(Value::String(s)) => Some(validate_url(s)?),
            Some(_) => return Err(invalid("url", "url must be a string")),
        };
        let name = match opt_string(body, "name")? {
            None => None,
            Some(Some(n)) if !n.trim().is_empty() => Some(n),
            Some(_) => return Err(invalid("name", "name must be a non-empty string")),
        };
        let entity_types = match body.get("entity_types") {
            None => None,
            Some(v) => Some(parse_entity_types(v, resolve)?),
        };
        let status = match opt_string(body, "status")? {
            None => None,
            Some(Some(s)) => match HookStatus::parse(&s) {
                Some(st @ (HookStatus::Active | HookStatus::Disabled)) => Some(st),
                _ => return Err(invalid("status", "status must be one of: active, disabled")),
            },
            Some(None) => return Err(invalid("status", "status must be one of: active, disabled")),
        };
        let description = opt_string(body, "description")?;
        let projects = body.get("projects").map(parse_projects).transpose()?;
        let token = opt_string(body, "token")?;
        let validate_ssl_cert = opt_bool(body, "validate_ssl_cert")?;
        let batch = opt_bool(body, "batch_deliveries")?;

        let hook = &mut self.hooks[idx];
        if let Some(u) = url {
            hook.url = u;
        }
        if let Some(n) = name {
            hook.name = n;
        }
        if let Some(t) = entity_types {
            hook.entity_types = t;
        }
        if let Some(d) = description {
            hook.description = d;
        }
        if let Some(p) = projects {
            hook.projects = p;
        }
        if let Some(t) = token {
            hook.token = t.filter(|t| !t.is_empty());
        }
        if let Some(v) = validate_ssl_cert {
            hook.validate_ssl_cert = v;
        }
        if let Some(b) = batch {
            hook.batch_deliveries = b;
        }
        if let Some(s) = status {
            if s == HookStatus::Active && hook.status != HookStatus::Active {
                hook.failures.clear();
            }
            hook.status = s;
        }
        Ok(&self.hooks[idx])
    }

    fn index(&self, id: &str) -> Result<usize, WebhookError> {
        self.hooks
            .iter()
            .position(|h| h.id == id)
            .ok_or_else(|| WebhookError::HookNotFound(id.to_string()))
    }

    /// One webhook.
    pub fn get(&self, id: &str) -> Result<&Hook, WebhookError> {
        Ok(&self.hooks[self.index(id)?])
    }

    /// Deletes a webhook and its deliveries.
    pub fn delete(&mut self, id: &str) -> Result<(), WebhookError> {
        let idx = self.index(id)?;
        let hook = self.hooks.remove(idx);
        for d in hook.deliveries {
            self.deliveries.remove(&d);
        }
        Ok(())
    }

    /// Webhooks in creation order, optionally filtered by status and exact URL.
    pub fn list(&self, status: Option<HookStatus>, url: Option<&str>) -> Vec<&Hook> {
        self.hooks
            .iter()
            .filter(|h| status.is_none_or(|s| h.status == s))
            .filter(|h| {
                url.is_none_or(|u| {
                    h.url == u || h.url.trim_end_matches('/') == u.trim_end_matches('/')
                })
            })
            .collect()
    }

    /// Ids of the hooks an event goes to.
    pub fn matching(&self, event: &Value) -> Vec<String> {
        self.hooks
            .iter()
            .filter(|h| h.matches(event))
            .map(|h| h.id.clone())
            .collect()
    }

    /// Deliveries of a hook in event order, filtered.
    pub fn deliveries(
        &self,
        hook_id: &str,
        filter: &DeliveryFilter,
    ) -> Result<Vec<&Delivery>, WebhookError> {
        let hook = self.get(hook_id)?;
        let from = filter
            .from
            .unwrap_or_else(|| now_unix() - FAILURE_WINDOW.as_secs() as i64);
        Ok(hook
            .deliveries
            .iter()
            .filter_map(|id| self.deliveries.get(id))
            .filter(|d| d.event_time >= from)
            .filter(|d| filter.to.is_none_or(|to| d.event_time <= to))
            .filter(|d| filter.status.is_none_or(|s| d.status == s))
            .filter(|d| {
                let (t, id) = d.entity();
                filter.entity_id.is_none_or(|want| id == Some(want))
                    && filter
                        .entity_type
                        .as_deref()
                        .is_none_or(|want| t == Some(want))
            })
            .filter(|d| {
                filter
                    .acknowledgement
                    .as_deref()
                    .is_none_or(|a| d.acknowledgement.contains(a))
            })
            .collect())
    }

    /// One delivery.
    pub fn delivery(&self, id: &str) -> Result<&Delivery, WebhookError> {
        self.deliveries
            .get(id)
            .ok_or_else(|| WebhookError::DeliveryNotFound(id.to_string()))
    }

    /// Sets a delivery's acknowledgement (a string of at most [`MAX_ACK_BYTES`] bytes).
    pub fn acknowledge(&mut self, id: &str, body: &Value) -> Result<&Delivery, WebhookError> {
        let ack = match body.get("acknowledgement") {
            Some(Value::String(s)) => s.clone(),
            None | Some(Value::Null) => {
                return Err(invalid("acknowledgement", "acknowledgement is required"))
            }
            Some(_) => {
                return Err(invalid(
                    "acknowledgement",
                    "acknowledgement must be a string",
                ))
            }
        };
        if ack.len() > MAX_ACK_BYTES {
            return Err(invalid(
                "acknowledgement",
                format!("acknowledgement must be {MAX_ACK_BYTES} bytes long or less"),
            ));
        }
        let d = self
            .deliveries
            .get_mut(id)
            .ok_or_else(|| WebhookError::DeliveryNotFound(id.to_string()))?;
        d.acknowledgement = ack;
        Ok(d)
    }

    /// Queues a delivery to be sent again.
    pub fn redeliver(&mut self, id: &str) -> Result<(), WebhookError> {
        let d = self.delivery(id)?;
        let hook_id = d.hook_id.clone();
        // The engine may be gone during shutdown: nothing to do then.
        let _ = self.jobs.send((hook_id, Job::Redeliver(id.to_string())));
        Ok(())
    }

    fn headers(
        &self,
        hook: &Hook,
        body: &[u8],
        delivery_id: &str,
        batch_size: usize,
        site_url: &str,
    ) -> Vec<(String, String)> {
        let mut h = vec![
            ("content-type".to_string(), "application/json".to_string()),
            ("x-sg-webhook-id".to_string(), hook.id.clone()),
            ("x-sg-delivery-id".to_string(), delivery_id.to_string()),
            (
                "x-sg-event-batch-id".to_string(),
                uuid::Uuid::new_v4().to_string(),
            ),
            ("x-sg-event-batch-size".to_string(), batch_size.to_string()),
            ("x-sg-event-batch-index".to_string(), "0".to_string()),
            ("x-sg-webhook-site-url".to_string(), site_url.to_string()),
        ];
        if let Some(token) = &hook.token {
            h.push(("x-sg-signature".to_string(), signature(token, body)));
        }
        h
    }

    fn timeout_for(&self, n: usize) -> Duration {
        // Batched: the larger of the base timeout and 1 s per delivery.
        if n > 1 {
            self.delivery_timeout.max(Duration::from_secs(n as u64))
        } else {
            self.delivery_timeout
        }
    }

    /// Builds the request for new events of a hook, creating their delivery records.
    /// `None` when the hook is gone or not delivering any more (the events are dropped).
    pub fn prepare_events(
        &mut self,
        hook_id: &str,
        events: &[super::ChangeEvent],
        site_url: &str,
    ) -> Option<Prepared> {
        let idx = self.index(hook_id).ok()?;
        if !self.hooks[idx].status.delivers() || events.is_empty() {
            return None;
        }
        let batched = self.hooks[idx].batch_deliveries;
        let mut items = Vec::with_capacity(events.len());
        let mut ids = Vec::with_capacity(events.len());
        for ev in events {
            let id = uuid::Uuid::new_v4().to_string();
            let mut item = (**ev).clone();
            if let Some(o) = item.as_object_mut() {
                o.insert("delivery_id".into(), json!(id));
            }
            limit_item_size(&mut item);
            items.push(item);
            ids.push(id);
        }
        let last = events
            .iter()
            .filter_map(|e| e.get("event_log_entry_id").and_then(Value::as_i64))
            .max()
            .unwrap_or(0);
        let hook = &mut self.hooks[idx];
        hook.after_event = hook.after_event.max(last);
        let timestamp = utc_timestamp();
        let payload = if batched {
            json!({"timestamp": timestamp, "data": {"deliveries": items}})
        } else {
            json!({"data": items[0], "timestamp": timestamp})
        };
        let body = serde_json::to_vec(&payload).unwrap_or_default();
        let headers = self.headers(&self.hooks[idx], &body, &ids[0], ids.len(), site_url);
        let now = now_unix();
        let header_map = headers_json(&headers);
        for (id, item) in ids.iter().zip(items) {
            self.deliveries.insert(
                id.clone(),
                Delivery {
                    id: id.clone(),
                    hook_id: hook_id.to_string(),
                    event_time: now,
                    status: DeliveryStatus::Pending,
                    process_time: None,
                    body: String::new(),
                    response_code: None,
                    request_body: payload.clone(),
                    acknowledgement: String::new(),
                    request_headers: header_map.clone(),
                    response_headers: Map::new(),
                    attempts: 1,
                    item,
                },
            );
            self.hooks[idx].deliveries.push(id.clone());
        }
        Some(Prepared {
            hook_id: hook_id.to_string(),
            url: self.hooks[idx].url.clone(),
            body,
            headers,
            timeout: self.timeout_for(ids.len()),
            delivery_ids: ids,
        })
    }

    /// Builds the request that sends an existing delivery again (in the hook's current
    /// format, with a fresh timestamp and signature).
    pub fn prepare_redelivery(&mut self, delivery_id: &str, site_url: &str) -> Option<Prepared> {
        let d = self.deliveries.get(delivery_id)?;
        let idx = self.index(&d.hook_id).ok()?;
        let hook = &self.hooks[idx];
        let timestamp = utc_timestamp();
        let payload = if hook.batch_deliveries {
            json!({"timestamp": timestamp, "data": {"deliveries": [d.item]}})
        } else {
            json!({"data": d.item, "timestamp": timestamp})
        };
        let body = serde_json::to_vec(&payload).unwrap_or_default();
        let headers = self.headers(hook, &body, delivery_id, 1, site_url);
        let prepared = Prepared {
            hook_id: hook.id.clone(),
            url: hook.url.clone(),
            body,
            headers: headers.clone(),
            delivery_ids: vec![delivery_id.to_string()],
            timeout: self.timeout_for(1),
        };
        if let Some(d) = self.deliveries.get_mut(delivery_id) {
            d.attempts += 1;
            d.status = DeliveryStatus::Pending;
            d.request_body = payload;
            d.request_headers = headers_json(&headers);
        }
        Some(prepared)
    }

    /// Records what happened to a request and updates the hook's status: a failure
    /// makes an active hook `unstable`, [`FAILED_THRESHOLD`] failures in 24 h make it
    /// `failed`; an unstable hook with no failure left in the window is `active` again.
    pub fn record_outcome(&mut self, prepared: &Prepared, outcome: &Outcome) {
        let ok = outcome.response_code.is_some_and(|c| c < 400);
        let mut body = outcome.body.clone();
        if body.len() > MAX_KEPT_RESPONSE_BYTES {
            let mut cut = MAX_KEPT_RESPONSE_BYTES;
            while !body.is_char_boundary(cut) {
                cut -= 1;
            }
            body.truncate(cut);
        }
        let response_headers = headers_json(&outcome.headers);
        for id in &prepared.delivery_ids {
            if let Some(d) = self.deliveries.get_mut(id) {
                d.status = if ok {
                    DeliveryStatus::Delivered
                } else {
                    DeliveryStatus::Failed
                };
                d.process_time = Some(outcome.process_time);
                d.body = body.clone();
                d.response_code = outcome.response_code;
                d.response_headers = response_headers.clone();
            }
        }
        let Ok(idx) = self.index(&prepared.hook_id) else {
            return;
        };
        let hook = &mut self.hooks[idx];
        hook.num_deliveries += prepared.delivery_ids.len() as u64;
        let now = SystemTime::now();
        if !ok {
            for _ in &prepared.delivery_ids {
                hook.failures.push_back(now);
            }
        }
        while hook
            .failures
            .front()
            .is_some_and(|t| now.duration_since(*t).unwrap_or_default() > FAILURE_WINDOW)
        {
            hook.failures.pop_front();
        }
        hook.status = match hook.status {
            HookStatus::Disabled | HookStatus::Failed => hook.status,
            _ if hook.failures.len() >= FAILED_THRESHOLD => HookStatus::Failed,
            _ if hook.failures.is_empty() => HookStatus::Active,
            _ => HookStatus::Unstable,
        };
    }
}

impl super::Backend {
    /// Applies a change to the webhooks through `f` and persists it (`--data`); when
    /// it can't be persisted, the change is undone and the error says so.
    pub fn change_webhooks<R>(
        &self,
        f: impl FnOnce(&mut Webhooks) -> Result<R, WebhookError>,
    ) -> Result<R, WebhookError> {
        let mut hooks = self.webhooks();
        let before = self.persister().map(|_| hooks.snapshot());
        let out = f(&mut hooks)?;
        if let Err(e) = self.save_sections(|| vec![("webhooks", hooks.section_json())]) {
            if let Some(b) = before {
                hooks.replace(b);
            }
            return Err(WebhookError::Persist(e.to_string()));
        }
        Ok(out)
    }

    /// Offers again the events committed after the last ones prepared for each
    /// delivering hook: after a crash between a write and its delivery, the write's
    /// EventLogEntry records are in the store but their deliveries were never made.
    /// Call once the delivery engine runs. Returns how many events were offered.
    pub fn replay_undelivered(&self) -> usize {
        let events: Vec<Value> = {
            let store = self.store();
            let hooks = self.webhooks();
            let Some(from) = hooks.replay_from() else {
                return 0;
            };
            let Ok(log) = store.table("EventLogEntry") else {
                return 0;
            };
            log.records
                .range(from + 1..)
                .filter(|(_, r)| !r.retired)
                .map(|(id, r)| change_event(*id, &r.fields))
                .filter(|ev| !hooks.matching(ev).is_empty())
                .collect()
        };
        let n = events.len();
        for ev in events {
            self.publish(std::sync::Arc::new(ev));
        }
        n
    }

    /// Persists the webhooks after the delivery engine changed them (a failure is
    /// reported on stderr: the engine has no caller to tell).
    pub fn persist_webhooks(&self) {
        let hooks = self.webhooks();
        if let Err(e) = self.save_sections(|| vec![("webhooks", hooks.section_json())]) {
            eprintln!("shotgrid-emulator: could not persist webhook deliveries: {e}");
        }
    }
}

/// The change event of a stored EventLogEntry (the shape writes publish).
fn change_event(id: i64, f: &Map<String, Value>) -> Value {
    let get = |k: &str| f.get(k).cloned().unwrap_or(Value::Null);
    let event_type = f.get("event_type").and_then(Value::as_str).unwrap_or("");
    let operation = match event_type.rsplit('_').next() {
        Some("New") => "create",
        Some("Retirement") => "delete",
        Some("Revival") => "revive",
        _ => "update",
    };
    json!({
        "id": id,
        "event_log_entry_id": id,
        "event_type": event_type,
        "operation": operation,
        "user": get("user"),
        "entity": get("entity"),
        "project": get("project"),
        "meta": get("meta"),
        "created_at": get("created_at"),
        "attribute_name": get("attribute_name"),
        "session_uuid": get("session_uuid"),
    })
}

fn headers_json(headers: &[(String, String)]) -> Map<String, Value> {
    headers
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn resolve(t: &str) -> Option<String> {
        ["Asset", "Shot"].contains(&t).then(|| t.to_string())
    }

    fn hook(w: &mut Webhooks, body: Value) -> String {
        w.create(&body, &resolve).expect("created").id.clone()
    }

    #[test]
    fn url_rules() {
        assert!(validate_url("http://127.0.0.1:9000/hook").is_ok());
        assert!(validate_url("http://localhost/x").is_ok());
        assert!(validate_url("http://[::1]:80/").is_ok());
        assert!(validate_url("https://example.com/hook").is_ok());
        for bad in [
            "",
            "not a url",
            "ftp://example.com/",
            "http://10.0.0.1/",
            "http://192.168.1.2/",
            "http://172.16.0.1/",
            "http://169.254.169.254/latest",
            "http://0.0.0.0/",
            "http://[fd00::1]/",
            "http://intranet/",
            "http://user:pw@example.com/",
        ] {
            assert!(validate_url(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn signature_matches_known_vector() {
        // RFC 2202 test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha1=effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"
        );
    }

    #[test]
    fn subscription_matching() {
        let mut w = Webhooks::new();
        let id = hook(
            &mut w,
            json!({"url": "http://127.0.0.1:1/", "name": "h", "projects": [1],
                   "entity_types": {"Asset": {"create": [], "update": ["code"]}}}),
        );
        let ev = |op: &str, t: &str, attr: Value, project: Value| json!({"operation": op, "entity": {"type": t, "id": 1}, "attribute_name": attr, "project": project});
        let p1 = json!({"type": "Project", "id": 1});
        assert_eq!(
            w.matching(&ev("create", "Asset", Value::Null, p1.clone())),
            vec![id.clone()]
        );
        assert_eq!(
            w.matching(&ev("update", "Asset", json!("code"), p1.clone()))
                .len(),
            1
        );
        assert!(w
            .matching(&ev("update", "Asset", json!("description"), p1.clone()))
            .is_empty());
        assert!(w
            .matching(&ev("delete", "Asset", Value::Null, p1.clone()))
            .is_empty());
        assert!(w
            .matching(&ev("create", "Shot", Value::Null, p1))
            .is_empty());
        assert!(w
            .matching(&ev(
                "create",
                "Asset",
                Value::Null,
                json!({"type": "Project", "id": 2})
            ))
            .is_empty());
        w.update(&id, &json!({"status": "disabled"}), &resolve)
            .unwrap();
        assert!(w
            .matching(&ev(
                "create",
                "Asset",
                Value::Null,
                json!({"type": "Project", "id": 1})
            ))
            .is_empty());
    }

    #[test]
    fn invalid_bodies_change_nothing() {
        let mut w = Webhooks::new();
        for (body, param) in [
            (json!([]), "body"),
            (
                json!({"name": "x", "entity_types": {"Asset": {"create": []}}}),
                "url",
            ),
            (
                json!({"url": "http://127.0.0.1/", "entity_types": {"Asset": {"create": []}}}),
                "name",
            ),
            (
                json!({"url": "http://127.0.0.1/", "name": "x"}),
                "entity_types",
            ),
            (
                json!({"url": "http://127.0.0.1/", "name": "x", "entity_types": {"Widget": {"create": []}}}),
                "entity_types",
            ),
            (
                json!({"url": "http://127.0.0.1/", "name": "x", "entity_types": {"Asset": {"explode": []}}}),
                "entity_types",
            ),
            (
                json!({"url": "http://127.0.0.1/", "name": "x", "entity_types": {"Asset": {"update": [1]}}}),
                "entity_types",
            ),
            (
                json!({"url": "http://127.0.0.1/", "name": "x", "entity_types": {"Asset": {"create": []}}, "status": "failed"}),
                "status",
            ),
            (
                json!({"url": "http://127.0.0.1/", "name": "x", "entity_types": {"Asset": {"create": []}}, "projects": ["a"]}),
                "projects",
            ),
            (
                json!({"url": "http://127.0.0.1/", "name": "x", "entity_types": {"Asset": {"create": []}}, "batch_deliveries": "yes"}),
                "batch_deliveries",
            ),
        ] {
            match w.create(&body, &resolve) {
                Err(WebhookError::Invalid { param: p, .. }) => assert_eq!(p, param, "{body}"),
                other => panic!("{body}: {other:?}"),
            }
        }
        assert!(w.list(None, None).is_empty());
        let id = hook(
            &mut w,
            json!({"url": "http://127.0.0.1/", "name": "x", "entity_types": {"Asset": {"create": []}}}),
        );
        assert!(w
            .update(
                &id,
                &json!({"status": "unstable", "name": "changed"}),
                &resolve
            )
            .is_err());
        assert_eq!(w.get(&id).unwrap().name, "x");
    }

    #[test]
    fn status_transitions() {
        let mut w = Webhooks::new();
        let id = hook(
            &mut w,
            json!({"url": "http://127.0.0.1/", "name": "x", "entity_types": {"Asset": {"create": []}}}),
        );
        let ev: super::super::ChangeEvent =
            Arc::new(json!({"operation": "create", "entity": {"type": "Asset", "id": 1}}));
        let fail = Outcome {
            response_code: Some(500),
            body: String::new(),
            headers: vec![],
            process_time: 1,
        };
        let ok = Outcome {
            response_code: Some(200),
            ..fail.clone()
        };
        let p = w
            .prepare_events(&id, std::slice::from_ref(&ev), "http://site")
            .unwrap();
        w.record_outcome(&p, &ok);
        assert_eq!(w.get(&id).unwrap().status, HookStatus::Active);
        let p = w
            .prepare_events(&id, std::slice::from_ref(&ev), "http://site")
            .unwrap();
        w.record_outcome(&p, &fail);
        assert_eq!(w.get(&id).unwrap().status, HookStatus::Unstable);
        for _ in 1..FAILED_THRESHOLD {
            let p = w
                .prepare_events(&id, std::slice::from_ref(&ev), "http://site")
                .unwrap();
            w.record_outcome(&p, &fail);
        }
        assert_eq!(w.get(&id).unwrap().status, HookStatus::Failed);
        assert!(w
            .prepare_events(&id, std::slice::from_ref(&ev), "http://site")
            .is_none());
        w.update(&id, &json!({"status": "active"}), &resolve)
            .unwrap();
        let p = w.prepare_events(&id, &[ev], "http://site").unwrap();
        w.record_outcome(&p, &ok);
        assert_eq!(w.get(&id).unwrap().status, HookStatus::Active);
    }

    #[test]
    fn oversized_payload_loses_values() {
        let mut item =
            json!({"meta": {"old_value": "a".repeat(MAX_PAYLOAD_BYTES), "new_value": "b"}});
        limit_item_size(&mut item);
        assert!(item["meta"].get("old_value").is_none());
        assert!(item["meta"].get("new_value").is_none());
        assert!(item["meta"]["warning"].is_string());
    }
}
