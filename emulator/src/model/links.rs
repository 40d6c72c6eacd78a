//! Reverse links: pairs of entity fields that mirror each other, kept in sync by every
//! write.
//!
//! When `Shot.assets` gains Asset 7, Asset 7's `shots` gains the Shot; when a
//! Version's `entity` moves from Shot 1 to Shot 2, Shot 1's `sg_versions` loses it and
//! Shot 2's gains it. A single-entity side that is taken over displaces its old link
//! (moving Shot 5 into Sequence 2's `shots` takes it out of Sequence 1's). A pair is
//! only kept while both fields exist in the schema. Retiring a record takes it out of
//! its partners' multi-entity fields (its own fields keep the links), and reviving it
//! puts it back into the partners that are still live, so a revived record comes back
//! connected.
//! Only live partner records are changed, and an entity field is never cleared by a
//! retirement (a Reply keeps its Note, a Task its Shot).

use serde_json::{json, Value};

use super::schema::FieldKind;
use super::store::Store;
use super::writes::Actor;

/// `(type A, field on A, type B, field on B)`: A's field holds B records exactly when
/// B's field holds the A record.
pub const PAIRS: &[(&str, &str, &str, &str)] = &[
    ("Asset", "shots", "Shot", "assets"),
    ("Asset", "sequences", "Sequence", "assets"),
    ("Asset", "parents", "Asset", "assets"),
    ("Sequence", "shots", "Shot", "sg_sequence"),
    ("Shot", "tasks", "Task", "entity"),
    ("Asset", "tasks", "Task", "entity"),
    ("Sequence", "tasks", "Task", "entity"),
    ("Shot", "sg_versions", "Version", "entity"),
    ("Task", "sg_versions", "Version", "sg_task"),
    ("Playlist", "versions", "Version", "playlists"),
    ("Version", "published_files", "PublishedFile", "version"),
    (
        "PublishedFile",
        "upstream_published_files",
        "PublishedFile",
        "downstream_published_files",
    ),
    ("Note", "replies", "Reply", "entity"),
    ("Note", "tasks", "Task", "notes"),
    ("Note", "attachments", "Attachment", "attachment_links"),
    ("Shot", "notes", "Note", "note_links"),
    ("Asset", "notes", "Note", "note_links"),
    ("Sequence", "notes", "Note", "note_links"),
    ("Version", "notes", "Note", "note_links"),
    ("Playlist", "notes", "Note", "note_links"),
    ("Group", "users", "HumanUser", "groups"),
    ("Project", "users", "HumanUser", "projects"),
];

/// The fields mirroring `entity_type.field`, as `(partner type, partner field)`.
pub fn partners(entity_type: &str, field: &str) -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    for &(a, f, b, g) in PAIRS {
        if a == entity_type && f == field {
            out.push((b, g));
        }
        if b == entity_type && g == field && !(a == b && f == g) {
            out.push((a, f));
        }
    }
    out
}

/// Whether a field of a type has a mirror.
pub fn has_partner(entity_type: &str, field: &str) -> bool {
    PAIRS
        .iter()
        .any(|&(a, f, b, g)| (a == entity_type && f == field) || (b == entity_type && g == field))
}

fn key(v: &Value) -> Option<(String, i64)> {
    Some((v.get("type")?.as_str()?.to_string(), v.get("id")?.as_i64()?))
}

/// Whether `v` is the link `{type: t, id}`, without allocating (a list may hold
/// thousands of links, each checked on every write that links or unlinks one).
/// A link is a small object (`type`, `id`, maybe `name`): walking its members is
/// several times cheaper than two hashed lookups.
fn is_link(v: &Value, t: &str, id: i64) -> bool {
    let Value::Object(m) = v else {
        return false;
    };
    let (mut same_id, mut same_type) = (false, false);
    for (k, x) in m {
        match k.as_str() {
            "id" => same_id = x.as_i64() == Some(id),
            "type" => same_type = x.as_str() == Some(t),
            _ => {}
        }
    }
    same_id && same_type
}

/// The `(type, id)` links a field value holds (one for an entity field, any number for
/// a multi-entity field).
fn links_of(v: &Value) -> Vec<(String, i64)> {
    match v {
        Value::Array(items) => items.iter().filter_map(key).collect(),
        Value::Object(_) => key(v).into_iter().collect(),
        _ => Vec::new(),
    }
}

/// What a write changed in a partner's field, for the event log.
struct Change {
    entity_type: String,
    id: i64,
    field: String,
    kind: FieldKind,
    old: Value,
    new: Value,
}

impl Store {
    fn live_field_kind(&self, entity_type: &str, id: i64, field: &str) -> Option<FieldKind> {
        let table = self.table(entity_type).ok()?;
        let kind = table.fields.get(field).copied()?;
        table.records.get(&id).filter(|r| !r.retired)?;
        Some(kind)
    }

    fn field_of(&self, entity_type: &str, id: i64, field: &str) -> Value {
        self.table(entity_type)
            .ok()
            .and_then(|t| t.records.get(&id))
            .and_then(|r| r.fields.get(field).cloned())
            .unwrap_or(Value::Null)
    }

    /// Takes `(t, id)` out of `owner.field`. Returns the change, if any.
    fn unlink(&mut self, owner: (&str, i64), field: &str, t: &str, id: i64) -> Option<Change> {
        let kind = self.live_field_kind(owner.0, owner.1, field)?;
        let gone = |v: &Value| is_link(v, t, id);
        let r = self.record_mut(owner.0, owner.1)?;
        let (old, new) = match (r.fields.get_mut(field)?, kind) {
            // A list changes in place; the change carries only what left it (its
            // event tells what was removed, never the whole list).
            (Value::Array(items), _) if items.iter().any(gone) => {
                let removed: Vec<Value> = items.iter().filter(|v| gone(v)).cloned().collect();
                items.retain(|v| !gone(v));
                (Value::Array(removed), Value::Array(Vec::new()))
            }
            (v @ Value::Object(_), FieldKind::Entity) if gone(v) => {
                (std::mem::replace(v, Value::Null), Value::Null)
            }
            _ => return None,
        };
        Some(Change {
            entity_type: owner.0.to_string(),
            id: owner.1,
            field: field.to_string(),
            kind,
            old,
            new,
        })
    }

    /// Puts `(t, id)` into `owner.field` (appended to a list, or set on an entity
    /// field). Returns the change and, for an entity field, the link it displaced.
    fn link(
        &mut self,
        owner: (&str, i64),
        field: &str,
        t: &str,
        id: i64,
    ) -> Option<(Change, Option<(String, i64)>)> {
        let kind = self.live_field_kind(owner.0, owner.1, field)?;
        let here = |v: &Value| is_link(v, t, id);
        let link = json!({"type": t, "id": id});
        let r = self.record_mut(owner.0, owner.1)?;
        let slot = r.fields.entry(field.to_string()).or_insert(Value::Null);
        let (old, new, displaced) = match kind {
            FieldKind::Entity => {
                if here(slot) {
                    return None;
                }
                let old = std::mem::replace(slot, link.clone());
                let displaced = key(&old);
                (old, link, displaced)
            }
            // A list changes in place; the change carries only what joined it (its
            // event tells what was added, never the whole list).
            FieldKind::MultiEntity | FieldKind::Addressing => {
                if !slot.is_array() {
                    *slot = Value::Array(Vec::new());
                }
                let Value::Array(items) = slot else {
                    return None;
                };
                if items.iter().any(here) {
                    return None;
                }
                items.push(link.clone());
                (Value::Array(Vec::new()), Value::Array(vec![link]), None)
            }
            _ => return None,
        };
        Some((
            Change {
                entity_type: owner.0.to_string(),
                id: owner.1,
                field: field.to_string(),
                kind,
                old,
                new,
            },
            displaced,
        ))
    }

    /// Mirrors a change of `t.field` on record `id` from `old` to `new` into the
    /// partner fields. Returns the partner changes.
    fn mirror(&mut self, t: &str, id: i64, field: &str, old: &Value, new: &Value) -> Vec<Change> {
        let mut changes = Vec::new();
        let (old, new) = (links_of(old), links_of(new));
        for (pt, pf) in partners(t, field) {
            if !self.table(pt).is_ok_and(|tb| tb.fields.contains_key(pf)) {
                continue;
            }
            for (lt, lid) in old.iter().filter(|l| l.0 == pt && !new.contains(l)) {
                changes.extend(self.unlink((lt, *lid), pf, t, id));
            }
            for (lt, lid) in new.iter().filter(|l| l.0 == pt && !old.contains(l)) {
                let Some((change, displaced)) = self.link((lt, *lid), pf, t, id) else {
                    continue;
                };
                changes.push(change);
                // The partner's entity field pointed elsewhere: take the partner out
                // of that record's mirror field.
                if let Some((dt, did)) = displaced {
                    for (qt, qf) in partners(pt, pf) {
                        if qt == dt {
                            changes.extend(self.unlink((&dt, did), qf, lt, *lid));
                        }
                    }
                }
            }
        }
        changes
    }

    /// Keeps reverse links in sync after a create or an update of `t` record `id`
    /// changed `field` from `old` to `new`; logs a Change event for every partner
    /// field that changed.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn sync_links(
        &mut self,
        actor: &Actor,
        now: &str,
        t: &str,
        id: i64,
        field: &str,
        old: &Value,
        new: &Value,
        events: &mut Vec<Value>,
    ) {
        if !has_partner(t, field) {
            return;
        }
        for c in self.mirror(t, id, field, old, new) {
            self.log_event(
                actor,
                now,
                &c.entity_type,
                c.id,
                "Change",
                "update",
                Some((&c.field, c.kind, &c.old, &c.new)),
                events,
            );
        }
    }

    fn partner_kind(&self, t: &str, field: &str) -> Option<FieldKind> {
        self.table(t).ok()?.fields.get(field).copied()
    }

    /// The fields of a record that have mirrors, with their values.
    fn paired_fields(&self, t: &str, id: i64) -> Vec<(String, Value)> {
        let Ok(table) = self.table(t) else {
            return Vec::new();
        };
        let Some(r) = table.records.get(&id) else {
            return Vec::new();
        };
        table
            .fields
            .keys()
            .filter(|f| has_partner(t, f))
            .filter_map(|f| r.fields.get(f).map(|v| (f.clone(), v.clone())))
            .collect()
    }

    /// After `t` record `id` was retired: takes it out of its partners' fields (its
    /// own fields keep the links for a revive).
    pub(crate) fn unlink_retired(&mut self, t: &str, id: i64) {
        for (field, value) in self.paired_fields(t, id) {
            for (pt, pf) in partners(t, &field) {
                // An entity field keeps pointing at the retired record (a Reply's
                // Note, a Task's Shot): nothing is lost, and reads show the name.
                if self.partner_kind(pt, pf) == Some(FieldKind::Entity) {
                    continue;
                }
                for (lt, lid) in links_of(&value).iter().filter(|l| l.0 == pt) {
                    let _ = self.unlink((lt, *lid), pf, t, id);
                }
            }
        }
    }

    /// After `t` record `id` was revived: puts it back into the partners its own
    /// fields still name (live ones), and drops from its own fields the partners
    /// that are gone.
    pub(crate) fn relink_revived(&mut self, t: &str, id: i64) {
        for (field, value) in self.paired_fields(t, id) {
            let mut gone = Vec::new();
            for (lt, lid) in links_of(&value) {
                let partner_fields: Vec<_> = partners(t, &field)
                    .into_iter()
                    .filter(|(pt, pf)| {
                        *pt == lt && self.table(pt).is_ok_and(|tb| tb.fields.contains_key(*pf))
                    })
                    .collect();
                let Some(&(_, first)) = partner_fields.first() else {
                    continue;
                };
                if self.live_field_kind(&lt, lid, first).is_none() {
                    gone.push((lt, lid));
                    continue;
                }
                for (_, pf) in partner_fields {
                    if self.partner_kind(&lt, pf) == Some(FieldKind::Entity) {
                        // Moved elsewhere while this record was retired: it stays
                        // there, and this record lets it go.
                        let current = self.field_of(&lt, lid, pf);
                        if !current.is_null() && key(&current) != Some((t.to_string(), id)) {
                            gone.push((lt.clone(), lid));
                            continue;
                        }
                    }
                    let _ = self.link((&lt, lid), pf, t, id);
                }
            }
            if !gone.is_empty() {
                let kept = match &value {
                    Value::Array(items) => Value::Array(
                        items
                            .iter()
                            .filter(|v| key(v).is_none_or(|k| !gone.contains(&k)))
                            .cloned()
                            .collect(),
                    ),
                    _ => Value::Null,
                };
                if let Some(r) = self.record_mut(t, id) {
                    r.fields.insert(field, kept);
                }
            }
        }
    }
}

impl Store {
    /// Completes every mirror from whichever side holds a link (used after seeding):
    /// a link on one side is added to the other; where the other side is an entity
    /// field that already points elsewhere, that field wins and the link is dropped.
    pub fn reconcile_links(&mut self) {
        for &(a, f, b, g) in PAIRS {
            for (x, xf, y, yf) in [(a, f, b, g), (b, g, a, f)] {
                let kind = |s: &Store, t: &str, field: &str| {
                    s.table(t).ok().and_then(|tb| tb.fields.get(field).copied())
                };
                if kind(self, x, xf).is_none() {
                    continue;
                }
                let Some(y_kind) = kind(self, y, yf) else {
                    continue;
                };
                let Ok(tx) = self.table(x) else { continue };
                let links: Vec<(i64, i64)> = tx
                    .records
                    .values()
                    .filter(|r| !r.retired)
                    .flat_map(|r| {
                        links_of(r.fields.get(xf).unwrap_or(&Value::Null))
                            .into_iter()
                            .filter(|(t, _)| t == y)
                            .map(move |(_, lid)| (r.id, lid))
                    })
                    .collect();
                for (rid, lid) in links {
                    if self.live_field_kind(y, lid, yf).is_none() {
                        continue;
                    }
                    let back = self.field_of(y, lid, yf);
                    if links_of(&back).contains(&(x.to_string(), rid)) {
                        continue;
                    }
                    if y_kind == FieldKind::Entity && !back.is_null() {
                        let _ = self.unlink((x, rid), xf, y, lid);
                    } else {
                        let _ = self.link((y, lid), yf, x, rid);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pair_names_link_fields_of_the_default_schema() {
        let store = Store::new();
        for &(a, f, b, g) in PAIRS {
            for (t, field) in [(a, f), (b, g)] {
                let kind = store.table(t).unwrap().fields.get(field).copied();
                assert!(
                    matches!(kind, Some(k) if k.is_link()),
                    "{t}.{field} is {kind:?}"
                );
            }
        }
        assert_eq!(partners("Shot", "assets"), vec![("Asset", "shots")]);
        assert_eq!(partners("Asset", "assets"), vec![("Asset", "parents")]);
        assert_eq!(partners("Asset", "parents"), vec![("Asset", "assets")]);
        assert!(partners("Shot", "code").is_empty());
    }
}
