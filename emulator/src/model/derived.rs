//! Fields a site computes from other data and stores, so that filters, sorts and
//! summaries see the same value a read shows:
//!
//! - `cached_display_name`: the record's display name (its `code`, `name`, `content`…
//!   field, see [`schema::display_field`]), refreshed whenever that field changes;
//! - `open_notes_count`: how many live Notes with status `opn` link to the record in
//!   their `note_links`, refreshed whenever a Note is created, changed, retired or
//!   revived.

use std::collections::{BTreeSet, HashMap};

use serde_json::Value;

use super::schema;
use super::store::Store;

/// The display-name cache field.
pub const CACHED_DISPLAY_NAME: &str = "cached_display_name";
/// The open-notes summary field.
pub const OPEN_NOTES_COUNT: &str = "open_notes_count";
/// The status of an open Note.
const OPEN: &str = "opn";

fn display_of(v: Option<&Value>) -> Value {
    match v {
        None | Some(Value::Null) => Value::Null,
        Some(Value::String(s)) => Value::String(s.clone()),
        Some(other) => Value::String(other.to_string()),
    }
}

fn note_targets(v: Option<&Value>) -> Vec<(String, i64)> {
    v.and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|l| {
                    Some((l.get("type")?.as_str()?.to_string(), l.get("id")?.as_i64()?))
                })
                .collect()
        })
        .unwrap_or_default()
}

impl Store {
    fn has_field(&self, entity_type: &str, field: &str) -> bool {
        self.table(entity_type)
            .is_ok_and(|t| t.fields.contains_key(field))
    }

    /// Sets a record's `cached_display_name` from its display field (journaled; a
    /// no-op when it is already right).
    pub fn refresh_display_name(&mut self, entity_type: &str, id: i64) {
        if !self.has_field(entity_type, CACHED_DISPLAY_NAME) {
            return;
        }
        let Some(record) = self
            .table(entity_type)
            .ok()
            .and_then(|t| t.records.get(&id))
        else {
            return;
        };
        let want = display_of(record.fields.get(schema::display_field(entity_type)));
        if record.fields.get(CACHED_DISPLAY_NAME) == Some(&want) {
            return;
        }
        if let Some(r) = self.record_mut(entity_type, id) {
            r.fields.insert(CACHED_DISPLAY_NAME.to_string(), want);
        }
    }

    fn open_notes_of(&self, entity_type: &str, id: i64) -> i64 {
        let Ok(notes) = self.table("Note") else {
            return 0;
        };
        notes
            .records
            .values()
            .filter(|n| !n.retired)
            .filter(|n| n.fields.get("sg_status_list").and_then(Value::as_str) == Some(OPEN))
            .filter(|n| {
                note_targets(n.fields.get("note_links"))
                    .iter()
                    .any(|(t, i)| t == entity_type && *i == id)
            })
            .count() as i64
    }

    /// Refreshes `open_notes_count` of the records a Note links to now and of those
    /// in `old_links` (its `note_links` before the write).
    pub fn refresh_open_notes(&mut self, note_id: i64, old_links: Option<&Value>) {
        let now = self
            .table("Note")
            .ok()
            .and_then(|t| t.records.get(&note_id))
            .and_then(|r| r.fields.get("note_links").cloned());
        let targets: BTreeSet<(String, i64)> = note_targets(now.as_ref())
            .into_iter()
            .chain(note_targets(old_links))
            .collect();
        for (t, id) in targets {
            if !self.has_field(&t, OPEN_NOTES_COUNT) {
                continue;
            }
            let count = Value::from(self.open_notes_of(&t, id));
            let exists = self
                .table(&t)
                .ok()
                .and_then(|tb| tb.records.get(&id))
                .map(|r| r.fields.get(OPEN_NOTES_COUNT) == Some(&count));
            if exists == Some(false) {
                if let Some(r) = self.record_mut(&t, id) {
                    r.fields.insert(OPEN_NOTES_COUNT.to_string(), count);
                }
            }
        }
    }

    /// Recomputes every derived field of every record (after seeding or loading).
    pub fn refresh_all_derived(&mut self) {
        let mut open: HashMap<(String, i64), i64> = HashMap::new();
        if let Ok(notes) = self.table("Note") {
            for n in notes.records.values().filter(|n| !n.retired) {
                if n.fields.get("sg_status_list").and_then(Value::as_str) != Some(OPEN) {
                    continue;
                }
                for target in note_targets(n.fields.get("note_links")) {
                    *open.entry(target).or_default() += 1;
                }
            }
        }
        let types: Vec<String> = self.entity_types().map(str::to_string).collect();
        for t in types {
            let display = schema::display_field(&t);
            let with_name = self.has_field(&t, CACHED_DISPLAY_NAME);
            let with_count = self.has_field(&t, OPEN_NOTES_COUNT);
            if !with_name && !with_count {
                continue;
            }
            let Ok(table) = self.table_schema_mut(&t) else {
                continue;
            };
            for r in table.records.values_mut() {
                if with_name {
                    let name = display_of(r.fields.get(display));
                    r.fields.insert(CACHED_DISPLAY_NAME.to_string(), name);
                }
                if with_count {
                    let n = open.get(&(t.clone(), r.id)).copied().unwrap_or(0);
                    r.fields
                        .insert(OPEN_NOTES_COUNT.to_string(), Value::from(n));
                }
            }
        }
    }
}
