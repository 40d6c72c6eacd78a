//! Writes: create, update, delete (retire), revive and atomic batches, with validation
//! per data type, the event log, change publication and persistence.
//!
//! Every committed write inserts EventLogEntry records and publishes one
//! [`ChangeEvent`](super::ChangeEvent) per entry after the store lock is released.

use std::collections::BTreeSet;
use std::sync::Arc;

use serde_json::{json, Map, Value};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime, PrimitiveDateTime, UtcOffset};

use super::defaults::FieldDef;
use super::schema::{self, FieldKind};
use super::store::{FieldSelection, ReturnOnly, Store};
use super::{Backend, EntityView, ModelError};
use crate::auth::{Principal, Session};

/// One write of a request or of a batch.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteOp {
    /// Create a record of a type (any accepted spelling) with these fields.
    Create {
        /// Entity type as given.
        entity_type: String,
        /// Field values.
        data: Map<String, Value>,
    },
    /// Update fields of a live record.
    Update {
        /// Entity type as given.
        entity_type: String,
        /// Record id.
        id: i64,
        /// Field values (multi-entity fields may use `multi_entity_update_mode`).
        data: Map<String, Value>,
    },
    /// Retire a live record.
    Delete {
        /// Entity type as given.
        entity_type: String,
        /// Record id.
        id: i64,
    },
    /// Revive a retired record (a live one is left alone).
    Revive {
        /// Entity type as given.
        entity_type: String,
        /// Record id.
        id: i64,
    },
}

/// Which fields a write's result shows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ReturnFields {
    /// Create: the written fields plus the stamps and defaults; update: every field.
    #[default]
    Default,
    /// The given selection (`options[fields]`).
    Select(FieldSelection),
    /// No record (delete, revive).
    Nothing,
}

/// The result of one write.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteResult {
    /// Canonical entity type.
    pub entity_type: String,
    /// Record id.
    pub id: i64,
    /// For revive: whether the record was retired (and is now live).
    pub did_revive: bool,
    /// The record as read after the write, when asked for.
    pub view: Option<EntityView>,
}

/// Who is writing: the user recorded in created_by/updated_by and the event log.
#[derive(Debug, Clone, PartialEq)]
pub struct Actor {
    /// `{type, id}` of an ApiUser or HumanUser.
    pub user: Value,
    /// The token's session uuid, if any.
    pub session_uuid: Option<String>,
    /// Display name, for event descriptions.
    pub name: String,
}

/// The current time, in the API's one-second format `YYYY-MM-DDThh:mm:ssZ`.
pub fn now_stamp() -> String {
    format_stamp(OffsetDateTime::now_utc())
}

fn format_stamp(t: OffsetDateTime) -> String {
    let fmt = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    t.to_offset(UtcOffset::UTC)
        .format(&fmt)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_string())
}

/// The user a session's writes are attributed to: the HumanUser it acts as (a human
/// login, or a script's `sudo_as_login`), else the script's ApiUser (its `firstname` is
/// the script name; created if missing). Carries the session's `session_uuid`.
pub fn acting_user(store: &mut Store, session: &Session) -> Actor {
    let session_uuid = session.session_uuid.clone();
    if let Some(login) = session.acting_login() {
        if let Some(id) = crate::auth::find_human_user(store, login) {
            return Actor {
                user: json!({"type": "HumanUser", "id": id}),
                session_uuid,
                name: login.to_owned(),
            };
        }
    }
    let script = match &session.principal {
        Principal::Script(name) | Principal::Human(name) => name.clone(),
    };
    let id = ensure_api_user(store, &script);
    Actor {
        user: json!({"type": "ApiUser", "id": id}),
        session_uuid,
        name: script,
    }
}

/// The id of the ApiUser for a script name, creating the record if needed.
pub fn ensure_api_user(store: &mut Store, script: &str) -> i64 {
    if let Ok(table) = store.table("ApiUser") {
        if let Some(r) = table.records.values().find(|r| {
            !r.retired && r.fields.get("firstname").and_then(Value::as_str) == Some(script)
        }) {
            return r.id;
        }
    }
    let now = now_stamp();
    let mut m = Map::new();
    m.insert("firstname".into(), json!(script));
    m.insert("lastname".into(), json!("1.0"));
    m.insert("name".into(), json!(script));
    m.insert("generated".into(), json!(false));
    m.insert("created_at".into(), json!(now));
    m.insert("updated_at".into(), json!(now));
    store.insert("ApiUser", m).unwrap_or(0)
}

/// Makes sure a configured human user exists (by login) with the given password.
pub fn ensure_human_user(store: &mut Store, user: &crate::persist::HumanUserConfig) -> i64 {
    let existing = store.table("HumanUser").ok().and_then(|t| {
        t.records
            .values()
            .find(|r| r.fields.get("login").and_then(Value::as_str) == Some(user.login.as_str()))
            .map(|r| r.id)
    });
    if let Some(id) = existing {
        if let Some(r) = store.record_mut("HumanUser", id) {
            r.fields
                .insert("password_proxy".into(), json!(user.password));
        }
        return id;
    }
    let now = now_stamp();
    let mut m = Map::new();
    m.insert("login".into(), json!(user.login));
    m.insert(
        "name".into(),
        json!(user.name.clone().unwrap_or_else(|| user.login.clone())),
    );
    m.insert("email".into(), json!(user.email));
    m.insert("password_proxy".into(), json!(user.password));
    m.insert("sg_status_list".into(), json!("act"));
    m.insert("created_at".into(), json!(now));
    m.insert("updated_at".into(), json!(now));
    store.insert("HumanUser", m).unwrap_or(0)
}

/// Finds a live HumanUser by login and checks its password (stored in
/// `password_proxy`); returns the user's id.
pub fn check_human_password(store: &Store, login: &str, password: &str) -> Option<i64> {
    let table = store.table("HumanUser").ok()?;
    let r = table
        .records
        .values()
        .find(|r| !r.retired && r.fields.get("login").and_then(Value::as_str) == Some(login))?;
    let stored = r.fields.get("password_proxy").and_then(Value::as_str)?;
    let ok = stored.len() == password.len()
        && stored
            .bytes()
            .zip(password.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    ok.then_some(r.id)
}

fn invalid(title: impl Into<String>, source: Value) -> ModelError {
    ModelError::Invalid {
        title: title.into(),
        origin: source,
    }
}

fn field_error(op: &str, t: &str, field: &str, msg: String) -> ModelError {
    let mut src = Map::new();
    src.insert(field.to_string(), json!([msg.clone()]));
    invalid(format!("API {op}() {t}.{field} {msg}"), Value::Object(src))
}

fn ruby_class(v: &Value) -> String {
    match v {
        Value::Null => "NilClass".into(),
        Value::Bool(true) => "TrueClass".into(),
        Value::Bool(false) => "FalseClass".into(),
        Value::Number(n) if n.is_f64() => "Float".into(),
        Value::Number(_) => "Integer".into(),
        Value::String(_) => "String".into(),
        Value::Array(_) => "Array".into(),
        Value::Object(_) => "Hash".into(),
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(80).collect::<String>())
    } else {
        s
    }
}

fn expected(op: &str, t: &str, field: &str, classes: &str, got: &Value) -> ModelError {
    field_error(
        op,
        t,
        field,
        format!(
            "expected [{classes}] data type(s) but got {}: {}",
            ruby_class(got),
            short(got)
        ),
    )
}

/// Parses and normalises a `date_time` value to `YYYY-MM-DDThh:mm:ssZ`.
pub fn parse_date_time(s: &str) -> Option<String> {
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(format_stamp(t));
    }
    let fmt = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    PrimitiveDateTime::parse(s, &fmt)
        .ok()
        .map(|t| format_stamp(t.assume_utc()))
}

fn valid_date(s: &str) -> bool {
    let fmt = format_description!("[year]-[month]-[day]");
    Date::parse(s, &fmt).is_ok_and(|d| d.year() >= 1970)
}

/// Parses a `{type, id}` link, checking the type is allowed and the record is live.
fn parse_link(
    store: &Store,
    op: &str,
    t: &str,
    field: &str,
    def: &FieldDef,
    v: &Value,
) -> Result<Value, ModelError> {
    let obj = v
        .as_object()
        .ok_or_else(|| expected(op, t, field, "Hash, NilClass", v))?;
    let raw_type = obj.get("type").and_then(Value::as_str).ok_or_else(|| {
        field_error(
            op,
            t,
            field,
            "entity hash must have a string 'type' key".into(),
        )
    })?;
    let id = obj.get("id").and_then(Value::as_i64).ok_or_else(|| {
        field_error(
            op,
            t,
            field,
            "entity hash must have an integer 'id' key".into(),
        )
    })?;
    let target = store.resolve_type(raw_type).map_err(|_| {
        field_error(
            op,
            t,
            field,
            format!("entity type '{raw_type}' does not exist"),
        )
    })?;
    if !def.valid_types.is_empty() && !def.valid_types.contains(&target) {
        return Err(field_error(
            op,
            t,
            field,
            format!(
                "entity type '{target}' is not valid for this field; valid types: {}",
                def.valid_types.join(", ")
            ),
        ));
    }
    if store.get(&target, id, ReturnOnly::Active).is_err() {
        return Err(field_error(
            op,
            t,
            field,
            format!("links to {target} {id}, which does not exist"),
        ));
    }
    Ok(json!({"type": target, "id": id}))
}

fn link_key(v: &Value) -> Option<(String, i64)> {
    Some((v.get("type")?.as_str()?.to_string(), v.get("id")?.as_i64()?))
}

/// Validates one value for a field and returns what is stored.
fn coerce(
    store: &Store,
    op: &str,
    t: &str,
    field: &str,
    def: &FieldDef,
    value: &Value,
    current: Option<&Value>,
) -> Result<Value, ModelError> {
    use FieldKind as K;
    let int_range = |v: &Value| {
        v.as_i64()
            .filter(|n| *n >= i64::from(i32::MIN) && *n <= i64::from(i32::MAX))
            .map(Value::from)
    };
    let float_range = |v: &Value| {
        v.as_f64()
            .filter(|f| f.is_finite() && f.abs() <= 9_999_999_999_999.99)
            .map(|_| v.clone())
    };
    match def.kind {
        K::Text | K::EntityType | K::Uuid | K::Password => match value {
            Value::Null | Value::String(_) => Ok(value.clone()),
            _ => Err(expected(op, t, field, "String, NilClass", value)),
        },
        K::List | K::StatusList => match value {
            Value::Null => Ok(Value::Null),
            Value::String(s) => {
                if !def.valid_values.is_empty() && !def.valid_values.iter().any(|x| x == s) {
                    Err(field_error(
                        op,
                        t,
                        field,
                        format!(
                            "value '{s}' is not in the list of valid values: {}",
                            def.valid_values.join(", ")
                        ),
                    ))
                } else {
                    Ok(value.clone())
                }
            }
            _ => Err(expected(op, t, field, "String, NilClass", value)),
        },
        K::Color => match value {
            Value::Null => Ok(Value::Null),
            Value::String(s)
                if s == "pipeline_step"
                    || (s.split(',').count() == 3
                        && s.split(',').all(|p| p.trim().parse::<u8>().is_ok())) =>
            {
                Ok(value.clone())
            }
            _ => Err(field_error(
                op,
                t,
                field,
                format!("expects 'R,G,B' or 'pipeline_step', got {}", short(value)),
            )),
        },
        K::Footage => match value {
            Value::Null => Ok(Value::Null),
            Value::String(s)
                if s.split_once('-').is_some_and(|(a, b)| {
                    !a.is_empty()
                        && !b.is_empty()
                        && a.bytes().all(|c| c.is_ascii_digit())
                        && b.bytes().all(|c| c.is_ascii_digit())
                }) =>
            {
                Ok(value.clone())
            }
            _ => Err(field_error(
                op,
                t,
                field,
                format!("expects footage as 'FF-ff', got {}", short(value)),
            )),
        },
        K::Checkbox => match value {
            Value::Bool(_) => Ok(value.clone()),
            Value::Null => Ok(Value::Bool(false)),
            _ => Err(expected(op, t, field, "TrueClass, FalseClass", value)),
        },
        K::Number | K::Duration | K::Timecode | K::Percent => match value {
            Value::Null => Ok(Value::Null),
            v => int_range(v).ok_or_else(|| expected(op, t, field, "Integer, NilClass", value)),
        },
        K::Float | K::Currency => match value {
            Value::Null => Ok(Value::Null),
            v => float_range(v)
                .ok_or_else(|| expected(op, t, field, "Float, Integer, NilClass", value)),
        },
        K::Date => match value {
            Value::Null => Ok(Value::Null),
            Value::String(s) if valid_date(s) => Ok(value.clone()),
            _ => Err(field_error(
                op,
                t,
                field,
                format!(
                    "expects a date as YYYY-MM-DD (year >= 1970), got {}",
                    short(value)
                ),
            )),
        },
        K::DateTime => match value {
            Value::Null => Ok(Value::Null),
            Value::String(s) => parse_date_time(s).map(Value::String).ok_or_else(|| {
                field_error(
                    op,
                    t,
                    field,
                    format!(
                        "expects an ISO 8601 date time (YYYY-MM-DDThh:mm:ssZ), got {}",
                        short(value)
                    ),
                )
            }),
            _ => Err(expected(op, t, field, "String, NilClass", value)),
        },
        K::Entity => match value {
            Value::Null => Ok(Value::Null),
            v => parse_link(store, op, t, field, def, v),
        },
        K::MultiEntity | K::Addressing => {
            let (mode, items) = match value {
                Value::Null => ("set", Vec::new()),
                Value::Array(items) => ("set", items.clone()),
                Value::Object(o) if o.contains_key("multi_entity_update_mode") => {
                    let mode = o
                        .get("multi_entity_update_mode")
                        .and_then(Value::as_str)
                        .filter(|m| matches!(*m, "add" | "remove" | "set"))
                        .ok_or_else(|| {
                            field_error(
                                op,
                                t,
                                field,
                                "multi_entity_update_mode must be one of: add, remove, set".into(),
                            )
                        })?;
                    let items = match o.get("value") {
                        Some(Value::Array(a)) => a.clone(),
                        Some(Value::Null) | None => Vec::new(),
                        Some(other) => {
                            return Err(expected(op, t, field, "Array", other));
                        }
                    };
                    (mode, items)
                }
                _ => return Err(expected(op, t, field, "Array, NilClass", value)),
            };
            let mut parsed = Vec::with_capacity(items.len());
            for item in &items {
                if mode == "remove" {
                    // Removing need not name a live record.
                    let key = link_key(item).ok_or_else(|| expected(op, t, field, "Hash", item))?;
                    let target = store.resolve_type(&key.0).unwrap_or(key.0);
                    parsed.push(json!({"type": target, "id": key.1}));
                } else {
                    parsed.push(parse_link(store, op, t, field, def, item)?);
                }
            }
            let current: Vec<Value> = current
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let mut out: Vec<Value> = match mode {
                "add" => current.into_iter().chain(parsed).collect(),
                "remove" => {
                    let gone: BTreeSet<(String, i64)> =
                        parsed.iter().filter_map(link_key).collect();
                    current
                        .into_iter()
                        .filter(|v| link_key(v).is_none_or(|k| !gone.contains(&k)))
                        .collect()
                }
                _ => parsed,
            };
            let mut seen = BTreeSet::new();
            out.retain(|v| link_key(v).is_some_and(|k| seen.insert(k)));
            Ok(Value::Array(out))
        }
        K::TagList => match value {
            Value::Null => Ok(Value::Array(Vec::new())),
            Value::Array(items) if items.iter().all(Value::is_string) => Ok(value.clone()),
            _ => Err(expected(op, t, field, "Array of String", value)),
        },
        K::Url => match value {
            Value::Null => Ok(Value::Null),
            Value::Object(_) => Ok(value.clone()),
            Value::String(s) => Ok(json!({"url": s, "name": s, "link_type": "web"})),
            _ => Err(expected(op, t, field, "Hash, NilClass", value)),
        },
        K::Serializable | K::Other => Ok(value.clone()),
        K::Image | K::Summary | K::PivotColumn | K::Calculated => {
            Err(field_error(op, t, field, "is not editable".into()))
        }
    }
}

/// What a committed write produced: results and the event log entries to publish.
#[derive(Debug, Default)]
struct Applied {
    results: Vec<WriteResult>,
    events: Vec<Value>,
}

impl Store {
    /// Validates `data` for a create or update of `t`, returning the values to store.
    fn validate(
        &self,
        op: &str,
        t: &str,
        data: &Map<String, Value>,
        current: Option<&Map<String, Value>>,
    ) -> Result<Map<String, Value>, ModelError> {
        let table = self.table(t)?;
        let mut out = Map::new();
        for (field, value) in data {
            let def = table.defs.get(field).ok_or_else(|| {
                invalid(format!("API {op}() {t}.{field} doesn't exist."), json!({}))
            })?;
            if !def.editable {
                return Err(field_error(op, t, field, "is not editable".into()));
            }
            let stored = coerce(
                self,
                op,
                t,
                field,
                def,
                value,
                current.and_then(|c| c.get(field)),
            )?;
            out.insert(field.clone(), stored);
        }
        Ok(out)
    }

    fn project_of(&self, t: &str, id: i64) -> Value {
        if t == "Project" {
            return json!({"type": "Project", "id": id});
        }
        self.table(t)
            .ok()
            .and_then(|tb| tb.records.get(&id))
            .and_then(|r| r.fields.get("project"))
            .filter(|v| v.is_object())
            .and_then(|v| link_key(v).map(|(ty, i)| json!({"type": ty, "id": i})))
            .unwrap_or(Value::Null)
    }

    /// Inserts the EventLogEntry of one change (`kind`: New, Change, Retirement,
    /// Revival; `attribute` for a Change: field, kind, old and new value) and queues
    /// its change event in `events` (published once the write commits).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn log_event(
        &mut self,
        actor: &Actor,
        now: &str,
        t: &str,
        id: i64,
        kind: &str,
        operation: &str,
        attribute: Option<(&str, FieldKind, &Value, &Value)>,
        events: &mut Vec<Value>,
    ) {
        if t == "EventLogEntry" {
            return;
        }
        let entity = json!({"type": t, "id": id});
        let project = self.project_of(t, id);
        let event_type = format!("Shotgun_{t}_{kind}");
        let name = self.display_name(t, id).unwrap_or_default();
        let (meta, attribute_name, description) = match attribute {
            Some((field, fk, old, new)) => {
                let mut meta = json!({
                    "type": "attribute_change",
                    "attribute_name": field,
                    "entity_type": t,
                    "entity_id": id,
                    "field_data_type": fk.as_str(),
                });
                if matches!(fk, FieldKind::MultiEntity | FieldKind::Addressing) {
                    // As real sites do: what was added and removed, not the whole
                    // lists (linear in the list sizes, not quadratic).
                    let (added, removed) = list_delta(old, new);
                    meta["added"] = Value::Array(added);
                    meta["removed"] = Value::Array(removed);
                } else {
                    meta["old_value"] = old.clone();
                    meta["new_value"] = new.clone();
                }
                (
                    meta,
                    Value::String(field.to_string()),
                    format!("{} changed \"{field}\" on {t} {name}", actor.name),
                )
            }
            None => {
                let meta_type = match kind {
                    "New" => "new_entity",
                    "Retirement" => "entity_retirement",
                    _ => "entity_revival",
                };
                let verb = match kind {
                    "New" => "created new",
                    "Retirement" => "retired",
                    _ => "revived",
                };
                (
                    json!({"type": meta_type, "entity_type": t, "entity_id": id}),
                    Value::Null,
                    format!("{} {verb} {t} {name}", actor.name),
                )
            }
        };
        let session = actor
            .session_uuid
            .as_ref()
            .map_or(Value::Null, |s| Value::String(s.clone()));
        let mut rec = Map::new();
        rec.insert("event_type".into(), json!(event_type));
        rec.insert("description".into(), json!(description));
        rec.insert("entity".into(), entity.clone());
        rec.insert("project".into(), project.clone());
        rec.insert("user".into(), actor.user.clone());
        rec.insert("meta".into(), meta.clone());
        rec.insert("attribute_name".into(), attribute_name.clone());
        rec.insert("session_uuid".into(), session.clone());
        rec.insert("created_at".into(), json!(now));
        rec.insert("updated_at".into(), json!(now));
        rec.insert("created_by".into(), actor.user.clone());
        rec.insert("updated_by".into(), actor.user.clone());
        let Ok(eid) = self.insert("EventLogEntry", rec) else {
            return;
        };
        events.push(json!({
            "id": eid,
            "event_log_entry_id": eid,
            "event_type": event_type,
            "operation": operation,
            "user": actor.user,
            "entity": entity,
            "project": project,
            "meta": meta,
            "created_at": now,
            "attribute_name": attribute_name,
            "session_uuid": session,
        }));
    }

    fn apply_op(
        &mut self,
        op: &WriteOp,
        ret: &ReturnFields,
        actor: &Actor,
        now: &str,
        applied: &mut Applied,
    ) -> Result<(), ModelError> {
        let result = match op {
            WriteOp::Create { entity_type, data } => {
                let t = self.resolve_type(entity_type)?;
                let mut values = self.validate("create", &t, data, None)?;
                let table = self.table(&t)?;
                let mut defaulted = Vec::new();
                for (name, def) in &table.defs {
                    if values.contains_key(name) {
                        continue;
                    }
                    if def.mandatory {
                        return Err(field_error(
                            "create",
                            &t,
                            name,
                            "is mandatory and must be given".into(),
                        ));
                    }
                    if !def.default_value.is_null() {
                        values.insert(name.clone(), def.default_value.clone());
                        defaulted.push(name.clone());
                    }
                }
                let written: Vec<String> = data.keys().cloned().collect();
                for (k, v) in [
                    ("created_at", json!(now)),
                    ("updated_at", json!(now)),
                    ("created_by", actor.user.clone()),
                    ("updated_by", actor.user.clone()),
                ] {
                    values.insert(k.to_string(), v);
                }
                let paired: Vec<(String, Value)> = values
                    .iter()
                    .filter(|(f, _)| super::links::has_partner(&t, f))
                    .map(|(f, v)| (f.clone(), v.clone()))
                    .collect();
                let id = self.insert(&t, values)?;
                let display = schema::display_field(&t);
                if self
                    .get(&t, id, ReturnOnly::Active)
                    .ok()
                    .and_then(|r| r.fields.get(display))
                    .is_none_or(Value::is_null)
                    && self
                        .table(&t)?
                        .defs
                        .get(display)
                        .is_some_and(|d| d.kind == FieldKind::Text)
                {
                    // Real sites name unnamed records "New <Type> <id>".
                    let name = format!("New {} {id}", super::defaults::entity_display_name(&t));
                    if let Some(r) = self.record_mut(&t, id) {
                        r.fields.insert(display.to_string(), json!(name));
                    }
                    defaulted.push(display.to_string());
                    self.refresh_display_name(&t, id);
                }
                if t == "Note" {
                    self.refresh_open_notes(id, None);
                }
                self.log_event(
                    actor,
                    now,
                    &t,
                    id,
                    "New",
                    "create",
                    None,
                    &mut applied.events,
                );
                for (field, value) in &paired {
                    self.sync_links(
                        actor,
                        now,
                        &t,
                        id,
                        field,
                        &Value::Null,
                        value,
                        &mut applied.events,
                    );
                }
                let selection = match ret {
                    ReturnFields::Default => {
                        let mut names: Vec<String> = written;
                        names.extend(defaulted);
                        names.extend(
                            ["created_at", "updated_at", "created_by", "updated_by"]
                                .iter()
                                .map(|s| s.to_string()),
                        );
                        Some(FieldSelection::Only(names))
                    }
                    ReturnFields::Select(s) => Some(s.clone()),
                    ReturnFields::Nothing => None,
                };
                let view = match selection {
                    Some(s) => Some(self.read(&t, id, &s, ReturnOnly::Active)?),
                    None => None,
                };
                WriteResult {
                    entity_type: t,
                    id,
                    did_revive: false,
                    view,
                }
            }
            WriteOp::Update {
                entity_type,
                id,
                data,
            } => {
                let t = self.resolve_type(entity_type)?;
                let missing = || ModelError::NoSuchEntity {
                    entity_type: t.clone(),
                    id: *id,
                };
                let current = self
                    .get(&t, *id, ReturnOnly::Active)
                    .map_err(|_| missing())?
                    .fields
                    .clone();
                let values = self.validate("update", &t, data, Some(&current))?;
                let kinds = self.table(&t)?.fields.clone();
                let mut changes = Vec::new();
                for (field, new) in values {
                    let kind = kinds.get(&field).copied().unwrap_or(FieldKind::Other);
                    let old = current
                        .get(&field)
                        .cloned()
                        .unwrap_or_else(|| kind.empty_value());
                    if old != new {
                        changes.push((field, kind, old, new));
                    }
                }
                if !changes.is_empty() {
                    if let Some(r) = self.record_mut(&t, *id) {
                        for (field, _, _, new) in &changes {
                            r.fields.insert(field.clone(), new.clone());
                        }
                        r.fields.insert("updated_at".into(), json!(now));
                        r.fields.insert("updated_by".into(), actor.user.clone());
                    }
                    for (field, kind, old, new) in &changes {
                        self.log_event(
                            actor,
                            now,
                            &t,
                            *id,
                            "Change",
                            "update",
                            Some((field, *kind, old, new)),
                            &mut applied.events,
                        );
                    }
                    for (field, _, old, new) in &changes {
                        self.sync_links(actor, now, &t, *id, field, old, new, &mut applied.events);
                    }
                    self.refresh_display_name(&t, *id);
                    if t == "Note" {
                        self.refresh_open_notes(*id, current.get("note_links"));
                    }
                }
                let selection = match ret {
                    ReturnFields::Default => Some(FieldSelection::All),
                    ReturnFields::Select(s) => Some(s.clone()),
                    ReturnFields::Nothing => None,
                };
                let view = match selection {
                    Some(s) => Some(self.read(&t, *id, &s, ReturnOnly::Active)?),
                    None => None,
                };
                WriteResult {
                    entity_type: t,
                    id: *id,
                    did_revive: false,
                    view,
                }
            }
            WriteOp::Delete { entity_type, id } => {
                let t = self.resolve_type(entity_type)?;
                self.retire(&t, *id).map_err(|_| ModelError::NoSuchEntity {
                    entity_type: t.clone(),
                    id: *id,
                })?;
                self.unlink_retired(&t, *id);
                if t == "Note" {
                    self.refresh_open_notes(*id, None);
                }
                self.log_event(
                    actor,
                    now,
                    &t,
                    *id,
                    "Retirement",
                    "delete",
                    None,
                    &mut applied.events,
                );
                WriteResult {
                    entity_type: t,
                    id: *id,
                    did_revive: false,
                    view: None,
                }
            }
            WriteOp::Revive { entity_type, id } => {
                let t = self.resolve_type(entity_type)?;
                let retired = match self.table(&t)?.records.get(id) {
                    Some(r) => r.retired,
                    None => {
                        return Err(ModelError::NoSuchEntity {
                            entity_type: t,
                            id: *id,
                        })
                    }
                };
                if retired {
                    if let Some(r) = self.record_mut(&t, *id) {
                        r.retired = false;
                    }
                    self.relink_revived(&t, *id);
                    if t == "Note" {
                        self.refresh_open_notes(*id, None);
                    }
                    self.log_event(
                        actor,
                        now,
                        &t,
                        *id,
                        "Revival",
                        "revive",
                        None,
                        &mut applied.events,
                    );
                }
                WriteResult {
                    entity_type: t,
                    id: *id,
                    did_revive: retired,
                    view: None,
                }
            }
        };
        applied.results.push(result);
        Ok(())
    }
}

impl Backend {
    /// Applies one write for a principal.
    pub fn write(
        &self,
        session: &Session,
        op: WriteOp,
        ret: ReturnFields,
    ) -> Result<WriteResult, ModelError> {
        let mut results = self.write_all(session, vec![(op, ret)], false)?;
        results.pop().ok_or(ModelError::Persist("no result".into()))
    }

    /// Applies a batch atomically: either every write is applied, or none is and the
    /// error names the failing request's index.
    pub fn batch(
        &self,
        session: &Session,
        ops: Vec<(WriteOp, ReturnFields)>,
    ) -> Result<Vec<WriteResult>, ModelError> {
        self.write_all(session, ops, true)
    }

    fn write_all(
        &self,
        session: &Session,
        ops: Vec<(WriteOp, ReturnFields)>,
        batch: bool,
    ) -> Result<Vec<WriteResult>, ModelError> {
        let events = {
            let mut store = self.store_mut();
            let actor = acting_user(&mut store, session);
            let now = now_stamp();
            store.begin();
            let mut applied = Applied::default();
            for (index, (op, ret)) in ops.iter().enumerate() {
                if let Err(e) = store.apply_op(op, ret, &actor, &now, &mut applied) {
                    store.rollback();
                    return Err(if batch {
                        ModelError::Batch {
                            index,
                            error: Box::new(e),
                        }
                    } else {
                        e
                    });
                }
            }
            if let Err(e) = self.persist_locked(&mut store) {
                store.rollback();
                return Err(e);
            }
            store.commit();
            (applied.events, applied.results)
        };
        let (events, results) = events;
        for e in events {
            self.publish(Arc::new(e));
        }
        Ok(results)
    }

    /// Sets where committed writes are persisted. Only the first call has an effect.
    pub fn set_persister(&self, persister: crate::persist::Persister) {
        let _ = self.persister.set(persister);
    }

    /// Persists the store's section (call while holding the store lock).
    pub(crate) fn persist_locked(&self, store: &mut Store) -> Result<(), ModelError> {
        self.save_sections(|| vec![("store", store.section_json_cached())])
    }
}

/// The links of list `new` not in `old` (added) and of `old` not in `new` (removed), in
/// list order, compared by `(type, id)` (other keys, such as a name, do not count).
pub(crate) fn list_delta(old: &Value, new: &Value) -> (Vec<Value>, Vec<Value>) {
    fn key(v: &Value) -> (Option<&str>, Option<i64>) {
        (
            v.get("type").and_then(Value::as_str),
            v.get("id").and_then(Value::as_i64),
        )
    }
    fn keys(l: &[Value]) -> std::collections::HashSet<(Option<&str>, Option<i64>)> {
        l.iter().map(key).collect()
    }
    let empty = Vec::new();
    let o = old.as_array().unwrap_or(&empty);
    let n = new.as_array().unwrap_or(&empty);
    let (ok, nk) = (keys(o), keys(n));
    let added = n
        .iter()
        .filter(|x| !ok.contains(&key(x)))
        .cloned()
        .collect();
    let removed = o
        .iter()
        .filter(|x| !nk.contains(&key(x)))
        .cloned()
        .collect();
    (added, removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_times_normalise_to_seconds_utc() {
        assert_eq!(
            parse_date_time("2024-01-15T09:00:00Z").as_deref(),
            Some("2024-01-15T09:00:00Z")
        );
        assert_eq!(
            parse_date_time("2024-01-15T10:00:00.123+01:00").as_deref(),
            Some("2024-01-15T09:00:00Z")
        );
        assert_eq!(
            parse_date_time("2024-01-15T09:00:00").as_deref(),
            Some("2024-01-15T09:00:00Z")
        );
        assert_eq!(parse_date_time("yesterday"), None);
        assert!(valid_date("2024-02-29"));
        assert!(!valid_date("2023-02-29"));
        assert!(!valid_date("1969-12-31"));
        assert_eq!(now_stamp().len(), 20);
    }

    #[test]
    fn batch_rolls_back_everything() {
        let backend = Backend::new(
            Store::new(),
            crate::auth::AuthStore::new(std::time::Duration::from_secs(60)),
        );
        let p = Session::of(Principal::Script("s".into()));
        let mk = |code: &str| WriteOp::Create {
            entity_type: "Shot".into(),
            data: json!({"code": code})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        };
        let before_events = backend
            .store()
            .table("EventLogEntry")
            .unwrap()
            .records
            .len();
        let err = backend
            .batch(
                &p,
                vec![
                    (mk("a"), ReturnFields::Nothing),
                    (
                        WriteOp::Update {
                            entity_type: "Shot".into(),
                            id: 99,
                            data: Map::new(),
                        },
                        ReturnFields::Nothing,
                    ),
                ],
            )
            .unwrap_err();
        assert!(matches!(err, ModelError::Batch { index: 1, .. }), "{err:?}");
        let s = backend.store();
        assert!(s.table("Shot").unwrap().records.is_empty());
        assert_eq!(s.table("Shot").unwrap().next_id(), 1);
        assert_eq!(
            s.table("EventLogEntry").unwrap().records.len(),
            before_events
        );
    }
}
