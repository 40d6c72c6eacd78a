//! Follows, activity streams, note threads, project last-accessed times and site
//! preferences.
//!
//! Follows and last-accessed times are kept here (they are not entities); activity
//! streams are built from the site's EventLogEntry records and note threads from Note,
//! Reply and Attachment records, so they always reflect what the store holds.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{json, Map, Value};

use super::store::{FieldSelection, FieldValue, ReturnOnly, Store};
use super::{Backend, ModelError};
use crate::naming::url_name;

/// Default number of activity stream updates.
pub const ACTIVITY_DEFAULT_LIMIT: i64 = 25;
/// Largest number of activity stream updates returned.
pub const ACTIVITY_MAX_LIMIT: i64 = 500;

/// Why a follow, stream, thread or last-accessed request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SocialError {
    /// Unknown type, or a missing record.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// A parameter is missing or invalid.
    #[error("{param}: {message}")]
    Invalid {
        /// The parameter's name.
        param: String,
        /// What is wrong with it.
        message: String,
    },
    /// The endpoint does not exist for this entity type (e.g. `thread_contents` of a
    /// Shot), answered like an unknown route.
    #[error("no such route")]
    NoRoute,
}

fn invalid(param: &str, message: impl Into<String>) -> SocialError {
    SocialError::Invalid {
        param: param.to_string(),
        message: message.into(),
    }
}

/// Extra fields to return per entity type (`entity_fields[Type]=a,b`).
pub type EntityFields = HashMap<String, FieldSelection>;

/// Follow relations and last-accessed times.
#[derive(Debug, Clone, Default)]
pub struct Social {
    /// (HumanUser id, entity type, entity id).
    follows: BTreeSet<(i64, String, i64)>,
    /// (Project id, HumanUser id) → `YYYY-MM-DDThh:mm:ssZ`.
    last_accessed: HashMap<(i64, i64), String>,
}

/// The persisted form of [`Social`].
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct SocialSnapshot {
    /// (HumanUser id, entity type, entity id) of every follow.
    pub follows: Vec<(i64, String, i64)>,
    /// (Project id, HumanUser id, time) of every last access.
    pub last_accessed: Vec<(i64, i64, String)>,
}

impl Social {
    /// The persisted form.
    pub fn snapshot(&self) -> SocialSnapshot {
        let mut last_accessed: Vec<(i64, i64, String)> = self
            .last_accessed
            .iter()
            .map(|((p, u), t)| (*p, *u, t.clone()))
            .collect();
        last_accessed.sort();
        SocialSnapshot {
            follows: self.follows.iter().cloned().collect(),
            last_accessed,
        }
    }

    /// The JSON of [`Social::snapshot`].
    pub fn section_json(&self) -> Vec<u8> {
        serde_json::to_vec(&self.snapshot()).unwrap_or_default()
    }

    /// Follows and last-accessed times from a snapshot.
    pub fn from_snapshot(s: SocialSnapshot) -> Self {
        Social {
            follows: s.follows.into_iter().collect(),
            last_accessed: s
                .last_accessed
                .into_iter()
                .map(|(p, u, t)| ((p, u), t))
                .collect(),
        }
    }
}

fn link_of(v: &Value) -> Option<(&str, i64)> {
    Some((v.get("type")?.as_str()?, v.get("id")?.as_i64()?))
}

fn is_link_to(v: Option<&Value>, entity_type: &str, id: i64) -> bool {
    match v {
        Some(Value::Array(items)) => items.iter().any(|i| link_of(i) == Some((entity_type, id))),
        Some(v) => link_of(v) == Some((entity_type, id)),
        None => false,
    }
}

/// Whether record `(t, id)` links to `(target, target_id)` through one of the fields
/// that put a new record into another's activity stream.
fn links_to(store: &Store, t: &str, id: i64, target: &str, target_id: i64) -> bool {
    let Ok(r) = store.get(t, id, ReturnOnly::Active) else {
        return false;
    };
    ["entity", "note_links", "attachment_links"]
        .iter()
        .any(|f| is_link_to(r.fields.get(*f), target, target_id))
}

fn require_live(store: &Store, entity_type: &str, id: i64) -> Result<(), ModelError> {
    store.get(entity_type, id, ReturnOnly::Active).map(|_| ())
}

fn field_value(store: &Store, entity_type: &str, id: i64, field: &str) -> Value {
    store
        .get(entity_type, id, ReturnOnly::Active)
        .ok()
        .and_then(|r| r.fields.get(field).cloned())
        .unwrap_or(Value::Null)
}

/// The selected fields of a record as a flat JSON object (links as `{type, id, name}`).
fn extra_fields(
    store: &Store,
    entity_type: &str,
    id: i64,
    fields: &EntityFields,
) -> Map<String, Value> {
    let mut out = Map::new();
    let Some(selection) = fields.get(entity_type) else {
        return out;
    };
    let Ok(view) = store.read(entity_type, id, selection, ReturnOnly::Active) else {
        return out;
    };
    let link = |r: &super::EntityRef| json!({"type": r.entity_type, "id": r.id, "name": r.name});
    for (name, value) in view.fields {
        let v = match value {
            FieldValue::Attribute(v) => v,
            FieldValue::Link(None) => Value::Null,
            FieldValue::Link(Some(r)) => link(&r),
            FieldValue::MultiLink(items) => Value::Array(items.iter().map(link).collect()),
        };
        out.insert(name, v);
    }
    out
}

/// A user link as thread contents show it: `{id, name, type, image}`.
fn user_ref(store: &Store, v: &Value) -> Value {
    match link_of(v) {
        Some((t, id)) => json!({
            "id": id,
            "name": store.display_name(t, id),
            "type": t,
            "image": field_value(store, t, id, "image"),
        }),
        None => Value::Null,
    }
}

/// Parses `entity_fields[Type]=a,b` query pairs; types may be any accepted spelling.
pub fn parse_entity_fields(
    store: &Store,
    pairs: &[(String, String)],
) -> Result<EntityFields, SocialError> {
    let mut out = EntityFields::new();
    for (k, v) in pairs {
        let Some(rest) = k.strip_prefix("entity_fields[") else {
            continue;
        };
        let t = rest.strip_suffix(']').ok_or_else(|| {
            invalid(
                "entity_fields",
                "entity_fields must be given as entity_fields[Type]=field,field",
            )
        })?;
        let canonical = store
            .resolve_type(t)
            .map_err(|_| invalid("entity_fields", format!("{t} is not a valid entity type")))?;
        out.insert(canonical, FieldSelection::parse(Some(v)));
    }
    Ok(out)
}

/// The site preferences, in the order real sites send them.
pub fn all_preferences() -> Vec<(&'static str, Value)> {
    let view_master_settings = json!({
        "status_groups": [
            {"name": "Upcoming", "code": "upc_stgr", "status_list": ["wtg", "rdy"]},
            {"name": "Active", "code": "act_stgr", "status_list": ["ip", "kickbk", "rev", "act", "rsk", "blk", "late", "opn", "pndng", "tkt", "push", "rrq", "vwd", "out"]},
            {"name": "Done", "code": "done_stgr", "status_list": ["fin", "cmpt", "apr", "cbb", "clsd", "cfrm", "dlvr", "recd", "res"]}
        ],
        "entity_fields": {
            "Task": ["content", "sg_description", "sg_status_list", "due_date", "task_assignees", "task_reviewers", "time_logs_sum"],
            "Shot": ["code", "description", "sg_status_list", "created_at", "sg_cut_in", "sg_cut_out", "sg_cut_duration", "sg_cut_order"],
            "Asset": ["code", "description", "sg_status_list", "created_at"],
            "Sequence": ["code", "sg_status_list", "created_at"],
            "Version": ["code", "description", "sg_status_list"]
        },
        "status_default": {
            "Version": {"pending_review_status": ["rev"], "viewed_review_status": ["vwd"]},
            "Task": {"final_review_status": ["fin"]}
        },
        "entity_forms": {"TimeLog": ["date", "description", "duration"], "Note": ["content", "attachments"]},
        "enable_timelog_at_version_creation": false,
        "auto_update": true
    });
    vec![
        (
            "format_date_fields",
            json!("08/04/22 OR 04/08/22 (depending on the Month order preference)"),
        ),
        ("date_component_order", json!("month_day")),
        ("format_time_hour_fields", json!("12 hour")),
        ("format_currency_fields_display_dollar_sign", json!(false)),
        ("format_currency_fields_decimal_options", json!("$1,000.99")),
        ("format_currency_fields_negative_options", json!("- $1,000")),
        ("format_number_fields", json!("1,000")),
        ("format_float_fields", json!("9,999.99")),
        ("format_float_fields_rounding", json!("9.999999")),
        ("format_footage_fields", json!("10-05")),
        ("support_local_storage", json!(true)),
        // A JSON document in a string, as real sites send it.
        (
            "view_master_settings",
            json!(view_master_settings.to_string()),
        ),
        ("duration_units", json!("days")),
        ("hours_per_day", json!(8.0)),
        ("enable_rv_integration", json!(true)),
        ("enable_shotgun_review_for_rv", json!(false)),
    ]
}

/// Preferences for a `prefs` parameter: all when absent; otherwise the named ones
/// (unknown names are skipped), or all of them when the list holds `*`.
pub fn preferences(prefs: Option<&str>) -> Vec<(&'static str, Value)> {
    let all = all_preferences();
    let Some(raw) = prefs else {
        return all;
    };
    let names: Vec<&str> = raw
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if names.is_empty() || names.contains(&"*") {
        return all;
    }
    all.into_iter().filter(|(k, _)| names.contains(k)).collect()
}

impl Backend {
    /// Applies a change to follows or last-accessed times and persists it; when it
    /// can't be persisted, the change is undone.
    fn change_social(&self, f: impl FnOnce(&mut Social)) -> Result<(), SocialError> {
        let mut social = self.social();
        let before = social.clone();
        f(&mut social);
        if let Err(e) = self.save_sections(|| vec![("social", social.section_json())]) {
            *social = before;
            return Err(e.into());
        }
        Ok(())
    }

    fn human_user(&self, store: &Store, id: i64) -> Result<(), SocialError> {
        Ok(require_live(store, "HumanUser", id)?)
    }

    /// `POST /entity/human_users/{user_id}/follow`: the user follows every listed
    /// entity (`{"entities":[{"entity":"Shot","record_id":5}]}`, TitleCase types).
    /// All or nothing.
    pub fn follow(
        &self,
        user_path_type: &str,
        user_id: i64,
        body: &Value,
    ) -> Result<(), SocialError> {
        let store = self.store();
        if store.resolve_type(user_path_type)? != "HumanUser" {
            return Err(SocialError::NoRoute);
        }
        self.human_user(&store, user_id)?;
        let entities = match body.get("entities") {
            Some(Value::Array(items)) if !items.is_empty() => items,
            Some(Value::Array(_)) | None | Some(Value::Null) => {
                return Err(invalid(
                    "entities",
                    "entities must list at least one entity",
                ))
            }
            Some(_) => return Err(invalid("entities", "entities must be an array")),
        };
        let mut wanted = Vec::with_capacity(entities.len());
        for e in entities {
            let t = e.get("entity").and_then(Value::as_str).unwrap_or_default();
            // Follow bodies take the TitleCase type only.
            match store.resolve_type(t) {
                Ok(c) if c == t => {}
                _ => return Err(invalid("entity", "entity is not valid")),
            }
            let id = e
                .get("record_id")
                .and_then(Value::as_i64)
                .ok_or_else(|| invalid("record_id", "record_id must be an integer"))?;
            require_live(&store, t, id)?;
            wanted.push((user_id, t.to_string(), id));
        }
        drop(store);
        self.change_social(|s| s.follows.extend(wanted))
    }

    /// `PUT /entity/{entity}/{record_id}/unfollow` with `{"user_id": N}`. Unfollowing
    /// something not followed succeeds too.
    pub fn unfollow(&self, entity: &str, id: i64, body: &Value) -> Result<(), SocialError> {
        let store = self.store();
        let t = store.resolve_type(entity)?;
        require_live(&store, &t, id)?;
        let user_id = match body.get("user_id") {
            Some(v) => v
                .as_i64()
                .ok_or_else(|| invalid("user_id", "user_id must be an integer"))?,
            None => return Err(invalid("user_id", "user_id is required")),
        };
        self.human_user(&store, user_id)?;
        drop(store);
        self.change_social(|s| {
            s.follows.remove(&(user_id, t, id));
        })
    }

    /// `GET /entity/human_users/{user_id}/following`, optionally restricted to one
    /// entity type and one project: `[{id, type, links:{self}}]`.
    pub fn following(
        &self,
        user_path_type: &str,
        user_id: i64,
        entity: Option<&str>,
        project_id: Option<i64>,
    ) -> Result<Vec<Value>, SocialError> {
        let store = self.store();
        if store.resolve_type(user_path_type)? != "HumanUser" {
            return Err(SocialError::NoRoute);
        }
        self.human_user(&store, user_id)?;
        let only_type = entity
            .map(|e| {
                store
                    .resolve_type(e)
                    .map_err(|_| invalid("entity", "entity is not valid"))
            })
            .transpose()?;
        let social = self.social();
        let mut out = Vec::new();
        for (_, t, id) in social.follows.iter().filter(|(u, _, _)| *u == user_id) {
            if only_type.as_deref().is_some_and(|o| o != t) {
                continue;
            }
            let Ok(record) = store.get(t, *id, ReturnOnly::Active) else {
                continue;
            };
            if let Some(pid) = project_id {
                let in_project = if t == "Project" {
                    *id == pid
                } else {
                    is_link_to(record.fields.get("project"), "Project", pid)
                };
                if !in_project {
                    continue;
                }
            }
            out.push(json!({
                "id": id,
                "type": t,
                "links": {"self": format!("/api/v1/entity/{}/{}", url_name(t), id)},
            }));
        }
        Ok(out)
    }

    /// `GET /entity/{entity}/{record_id}/followers`: `[{id, type, attributes:{name},
    /// links:{self}}]`.
    pub fn followers(&self, entity: &str, id: i64) -> Result<Vec<Value>, SocialError> {
        let store = self.store();
        let t = store.resolve_type(entity)?;
        require_live(&store, &t, id)?;
        let social = self.social();
        let mut out = Vec::new();
        for (user, ft, fid) in &social.follows {
            if *ft != t || *fid != id || require_live(&store, "HumanUser", *user).is_err() {
                continue;
            }
            out.push(json!({
                "id": user,
                "type": "HumanUser",
                "attributes": {"name": store.display_name("HumanUser", *user)},
                "links": {"self": format!("/api/v1/entity/human_users/{user}")},
            }));
        }
        Ok(out)
    }

    /// `PUT /entity/projects/{id}/_update_last_accessed` with `{"user_id": N}`.
    pub fn update_last_accessed(
        &self,
        entity: &str,
        project_id: i64,
        body: &Value,
    ) -> Result<(), SocialError> {
        let store = self.store();
        if store.resolve_type(entity)? != "Project" {
            return Err(SocialError::NoRoute);
        }
        require_live(&store, "Project", project_id)?;
        let user_id = match body.get("user_id") {
            Some(v) => v
                .as_i64()
                .ok_or_else(|| invalid("user_id", "user_id must be an integer"))?,
            None => return Err(invalid("user_id", "user_id is required")),
        };
        self.human_user(&store, user_id)?;
        drop(store);
        self.change_social(|s| {
            s.last_accessed
                .insert((project_id, user_id), super::webhooks::utc_timestamp());
        })
    }

    /// When a user last accessed a project (`YYYY-MM-DDThh:mm:ssZ`), if ever.
    pub fn last_accessed(&self, project_id: i64, user_id: i64) -> Option<String> {
        self.social()
            .last_accessed
            .get(&(project_id, user_id))
            .cloned()
    }

    /// `GET /entity/{entity}/{record_id}/activity_stream`: the record's EventLogEntry
    /// records, newest first, as activity updates.
    pub fn activity_stream(
        &self,
        entity: &str,
        id: i64,
        min_id: Option<i64>,
        max_id: Option<i64>,
        limit: Option<i64>,
        fields: &EntityFields,
    ) -> Result<Value, SocialError> {
        let store = self.store();
        let t = store.resolve_type(entity)?;
        require_live(&store, &t, id)?;
        let limit = match limit {
            None => ACTIVITY_DEFAULT_LIMIT,
            Some(l) if l >= 1 => l.min(ACTIVITY_MAX_LIMIT),
            Some(_) => return Err(invalid("limit", "limit must be a positive integer")),
        };
        let log = store.table("EventLogEntry")?;
        let mut updates = Vec::new();
        for (eid, rec) in log.records.iter().rev() {
            if rec.retired || min_id.is_some_and(|m| *eid < m) || max_id.is_some_and(|m| *eid > m) {
                continue;
            }
            let event_type = rec
                .fields
                .get("event_type")
                .and_then(Value::as_str)
                .unwrap_or("");
            // The record's own events, and the creation of records linked to it (a
            // Note on it, a Version of it, an uploaded Attachment, a Reply to it).
            let primary_ref = if is_link_to(rec.fields.get("entity"), &t, id) {
                (t.clone(), id)
            } else {
                match rec.fields.get("entity").and_then(link_of) {
                    Some((et, e))
                        if event_type.ends_with("_New") && links_to(&store, et, e, &t, id) =>
                    {
                        (et.to_string(), e)
                    }
                    _ => continue,
                }
            };
            if updates.len() as i64 >= limit {
                break;
            }
            let update_type = if event_type == "Shotgun_Reply_New" && primary_ref.0 == "Reply" {
                "create_reply"
            } else if event_type.ends_with("_New") {
                "create"
            } else if event_type.ends_with("_Retirement") {
                "delete"
            } else if event_type.ends_with("_Revival") {
                "revive"
            } else {
                "update"
            };
            let (pt, pid) = (primary_ref.0.as_str(), primary_ref.1);
            let mut primary = Map::new();
            primary.insert("type".into(), json!(pt));
            primary.insert("id".into(), json!(pid));
            primary.insert("name".into(), json!(store.display_name(pt, pid)));
            primary.insert(
                "status".into(),
                field_value(&store, pt, pid, "sg_status_list"),
            );
            primary.extend(extra_fields(&store, pt, pid, fields));
            let created_by = match rec.fields.get("user").and_then(link_of) {
                Some((ut, uid)) => {
                    let mut u = Map::new();
                    u.insert("type".into(), json!(ut));
                    u.insert("id".into(), json!(uid));
                    u.insert("name".into(), json!(store.display_name(ut, uid)));
                    u.insert(
                        "status".into(),
                        field_value(&store, ut, uid, "sg_status_list"),
                    );
                    u.insert("image".into(), field_value(&store, ut, uid, "image"));
                    u.extend(extra_fields(&store, ut, uid, fields));
                    Value::Object(u)
                }
                None => Value::Null,
            };
            updates.push(json!({
                "id": eid,
                "update_type": update_type,
                "meta": rec.fields.get("meta").cloned().unwrap_or(Value::Null),
                "created_at": rec.fields.get("created_at").cloned().unwrap_or(Value::Null),
                "read": false,
                "primary_entity": primary,
                "created_by": created_by,
            }));
        }
        let ids = updates.iter().filter_map(|u| u["id"].as_i64());
        let latest = ids.clone().max().unwrap_or(0);
        let earliest = ids.min().unwrap_or(0);
        Ok(json!({
            "entity_type": t,
            "entity_id": id,
            "latest_update_id": latest,
            "earliest_update_id": earliest,
            "updates": updates,
        }))
    }

    /// `GET /entity/notes/{record_id}/thread_contents`: the Note, then its Replies and
    /// Attachments in creation order.
    pub fn thread_contents(
        &self,
        entity: &str,
        note_id: i64,
        fields: &EntityFields,
    ) -> Result<Vec<Value>, SocialError> {
        let store = self.store();
        if store.resolve_type(entity)? != "Note" {
            return Err(SocialError::NoRoute);
        }
        let note = store.get("Note", note_id, ReturnOnly::Active)?;
        let get = |r: &super::Record, f: &str| r.fields.get(f).cloned().unwrap_or(Value::Null);
        let mut head = Map::new();
        head.insert("type".into(), json!("Note"));
        head.insert("id".into(), json!(note_id));
        head.insert("content".into(), get(note, "content"));
        head.insert("created_at".into(), get(note, "created_at"));
        head.insert(
            "created_by".into(),
            note.fields
                .get("created_by")
                .map_or(Value::Null, |v| user_ref(&store, v)),
        );
        head.extend(extra_fields(&store, "Note", note_id, fields));

        // (created_at, type, id) → item
        let mut rest: BTreeMap<(String, &str, i64), Value> = BTreeMap::new();
        let key = |r: &super::Record| {
            r.fields
                .get("created_at")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        for (rid, r) in &store.table("Reply")?.records {
            if r.retired || !is_link_to(r.fields.get("entity"), "Note", note_id) {
                continue;
            }
            let mut item = Map::new();
            item.insert("type".into(), json!("Reply"));
            item.insert("id".into(), json!(rid));
            item.insert("content".into(), get(r, "content"));
            item.insert(
                "user".into(),
                r.fields
                    .get("user")
                    .or_else(|| r.fields.get("created_by"))
                    .map_or(Value::Null, |v| user_ref(&store, v)),
            );
            item.insert("created_at".into(), get(r, "created_at"));
            item.extend(extra_fields(&store, "Reply", *rid, fields));
            rest.insert((key(r), "Reply", *rid), Value::Object(item));
        }
        let listed: Vec<i64> = match note.fields.get("attachments") {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(link_of)
                .filter(|(t, _)| *t == "Attachment")
                .map(|(_, id)| id)
                .collect(),
            _ => Vec::new(),
        };
        for (aid, a) in &store.table("Attachment")?.records {
            let linked = listed.contains(aid)
                || is_link_to(a.fields.get("attachment_links"), "Note", note_id);
            if a.retired || !linked {
                continue;
            }
            let mut item = Map::new();
            item.insert("type".into(), json!("Attachment"));
            item.insert("id".into(), json!(aid));
            item.insert("this_file".into(), get(a, "this_file"));
            item.insert("created_at".into(), get(a, "created_at"));
            item.insert(
                "created_by".into(),
                a.fields
                    .get("created_by")
                    .map_or(Value::Null, |v| user_ref(&store, v)),
            );
            item.extend(extra_fields(&store, "Attachment", *aid, fields));
            rest.insert((key(a), "Attachment", *aid), Value::Object(item));
        }
        let mut out = vec![Value::Object(head)];
        out.extend(rest.into_values());
        Ok(out)
    }
}
