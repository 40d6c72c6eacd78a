//! In-memory entity store: records keyed by entity type, then id.
//!
//! Each record is a map of field name → JSON value. Entity links are stored as
//! `{"type": T, "id": N}` (lists of them for multi-entity fields); their display name is
//! looked up when a record is read, so renames show everywhere at once.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::defaults::{self, FieldDef};
use super::schema::{self, FieldKind};
use super::ModelError;
use crate::naming::TypeResolver;

/// One stored record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The record's id, unique within its type.
    pub id: i64,
    /// Retired records are hidden from normal reads (deleted, but revivable).
    pub retired: bool,
    /// Field values, excluding `id` and `type`.
    pub fields: Map<String, Value>,
}

/// All records of one entity type, and the kinds of its fields.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Table {
    /// Declared fields and their kinds, in name order.
    pub fields: BTreeMap<String, FieldKind>,
    /// Records by id.
    pub records: BTreeMap<i64, Record>,
    next_id: i64,
    /// Full schema of every live field (same keys as `fields`).
    #[serde(default)]
    pub defs: BTreeMap<String, FieldDef>,
    /// Schema of retired (deleted, revivable) fields.
    #[serde(default)]
    pub retired_fields: BTreeMap<String, FieldDef>,
}

impl Table {
    /// The id the next inserted record gets.
    pub fn next_id(&self) -> i64 {
        self.next_id
    }
}

/// One undo step of a journaled write (see [`Store::begin`]).
#[derive(Debug, Clone)]
struct Undo {
    entity_type: String,
    id: i64,
    prev: Option<Record>,
    next_id: i64,
}

/// Which records a read may return (`options[return_only]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReturnOnly {
    /// Only live records (the default).
    #[default]
    Active,
    /// Only retired records.
    Retired,
}

/// Which fields a read returns (`fields=`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum FieldSelection {
    /// Every field of the type (`*`, or no `fields` parameter).
    #[default]
    All,
    /// The named fields; names the type does not have are ignored.
    Only(Vec<String>),
}

impl FieldSelection {
    /// Parses a `fields` query value: comma separated names, `*` meaning all.
    pub fn parse(raw: Option<&str>) -> Self {
        let Some(raw) = raw else {
            return FieldSelection::All;
        };
        let names: Vec<String> = raw
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        if names.is_empty() || names.iter().any(|n| n == "*") {
            FieldSelection::All
        } else {
            FieldSelection::Only(names)
        }
    }
}

/// A reference to another record, with its display name resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityRef {
    /// Canonical TitleCase type of the linked record.
    pub entity_type: String,
    /// Id of the linked record.
    pub id: i64,
    /// Display name of the linked record (null when it does not exist).
    pub name: Option<String>,
}

/// One field of a record as read.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    /// A plain value (rendered under `attributes`).
    Attribute(Value),
    /// A single entity link (rendered under `relationships`).
    Link(Option<EntityRef>),
    /// A multi-entity link (rendered under `relationships`).
    MultiLink(Vec<EntityRef>),
}

/// A record as read: the selected fields, with links resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct EntityView {
    /// Canonical TitleCase type.
    pub entity_type: String,
    /// Record id.
    pub id: i64,
    /// Selected fields in name order.
    pub fields: Vec<(String, FieldValue)>,
}

/// The site's data: every entity type and its records.
#[derive(Debug, Clone)]
pub struct Store {
    resolver: TypeResolver,
    tables: BTreeMap<String, Table>,
    journal: Option<Vec<Undo>>,
    /// The JSON of tables unchanged since they were last saved (see
    /// [`Store::section_json_cached`]); a table's entry goes as soon as it may change.
    saved: BTreeMap<String, std::sync::Arc<[u8]>>,
}

/// The serialisable form of a [`Store`] (for `--data` persistence).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoreSnapshot {
    /// Format version.
    pub version: u32,
    /// Every table by canonical type.
    pub tables: BTreeMap<String, Table>,
}

impl Default for Store {
    fn default() -> Self {
        Self::new()
    }
}

impl Store {
    /// An empty store that knows every built-in and custom entity type.
    pub fn new() -> Self {
        let types = schema::known_types();
        let resolver = TypeResolver::new(&types);
        let mut tables = BTreeMap::new();
        for t in types {
            let mut table = Table {
                next_id: 1,
                ..Table::default()
            };
            for (name, def) in defaults::default_fields(&t, schema::display_field(&t)) {
                table.fields.insert(name.clone(), def.kind);
                table.defs.insert(name, def);
            }
            tables.insert(t, table);
        }
        Store {
            resolver,
            tables,
            journal: None,
            saved: BTreeMap::new(),
        }
    }

    /// The serialisable contents of the store.
    pub fn snapshot(&self) -> StoreSnapshot {
        StoreSnapshot {
            version: 1,
            tables: self.tables.clone(),
        }
    }

    /// The JSON of [`Store::snapshot`], written without copying the tables.
    pub fn section_json(&self) -> Vec<u8> {
        #[derive(Serialize)]
        struct SnapshotRef<'a> {
            version: u32,
            tables: &'a BTreeMap<String, Table>,
        }
        // Maps with string keys and plain values always serialise.
        serde_json::to_vec(&SnapshotRef {
            version: 1,
            tables: &self.tables,
        })
        .unwrap_or_default()
    }

    /// The same JSON as [`Store::section_json`], re-serialising only the tables that
    /// changed since the last call (a write to one record of a big site doesn't pay
    /// for the other tables).
    pub fn section_json_cached(&mut self) -> Vec<u8> {
        let Store { tables, saved, .. } = self;
        let mut out = Vec::with_capacity(saved.values().map(|b| b.len() + 32).sum::<usize>() + 64);
        out.extend_from_slice(b"{\"version\":1,\"tables\":{");
        for (i, (name, table)) in tables.iter().enumerate() {
            let bytes = saved
                .entry(name.clone())
                .or_insert_with(|| serde_json::to_vec(table).unwrap_or_default().into());
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(&serde_json::to_vec(name).unwrap_or_default());
            out.push(b':');
            out.extend_from_slice(bytes);
        }
        out.extend_from_slice(b"}}");
        out
    }

    /// A store from a snapshot; types the snapshot lacks start empty.
    pub fn from_snapshot(snapshot: StoreSnapshot) -> Self {
        let mut store = Store::new();
        for (t, mut table) in snapshot.tables {
            // Older snapshots may lack full field definitions.
            for (name, kind) in &table.fields {
                if !table.defs.contains_key(name) {
                    table.defs.insert(name.clone(), FieldDef::new(name, *kind));
                }
            }
            table.next_id = table.next_id.max(1);
            store.resolver.add(&t);
            store.tables.insert(t, table);
        }
        store.refresh_all_derived();
        store
    }

    /// Every canonical entity type name, in name order.
    pub fn entity_types(&self) -> impl Iterator<Item = &str> {
        self.tables.keys().map(String::as_str)
    }

    /// Starts journaling writes so that [`Store::rollback`] can undo them.
    pub fn begin(&mut self) {
        self.journal = Some(Vec::new());
    }

    /// Stops journaling and keeps every write since [`Store::begin`].
    pub fn commit(&mut self) {
        self.journal = None;
    }

    /// Undoes every write since [`Store::begin`] and stops journaling.
    pub fn rollback(&mut self) {
        let Some(journal) = self.journal.take() else {
            return;
        };
        for undo in journal.into_iter().rev() {
            self.saved.remove(&undo.entity_type);
            if let Some(table) = self.tables.get_mut(&undo.entity_type) {
                match undo.prev {
                    Some(r) => {
                        table.records.insert(undo.id, r);
                    }
                    None => {
                        table.records.remove(&undo.id);
                    }
                }
                table.next_id = undo.next_id;
            }
        }
    }

    /// Records the current state of a record before it changes (when journaling).
    fn touch(&mut self, entity_type: &str, id: i64) {
        self.saved.remove(entity_type);
        if self.journal.is_none() {
            return;
        }
        let Some(table) = self.tables.get(entity_type) else {
            return;
        };
        let undo = Undo {
            entity_type: entity_type.to_string(),
            id,
            prev: table.records.get(&id).cloned(),
            next_id: table.next_id,
        };
        if let Some(j) = self.journal.as_mut() {
            j.push(undo);
        }
    }

    /// Mutable access to one record (live or retired), journaled.
    pub fn record_mut(&mut self, entity_type: &str, id: i64) -> Option<&mut Record> {
        self.touch(entity_type, id);
        self.tables.get_mut(entity_type)?.records.get_mut(&id)
    }

    /// Mutable access to a table's field schema (not journaled).
    pub fn table_schema_mut(&mut self, entity_type: &str) -> Result<&mut Table, ModelError> {
        self.table_mut(entity_type)
    }

    /// Resolves a type name as written in a URL to its canonical TitleCase form.
    pub fn resolve_type(&self, input: &str) -> Result<String, ModelError> {
        self.resolver
            .resolve(input)
            .map(str::to_string)
            .ok_or_else(|| ModelError::UnknownEntityType(input.to_string()))
    }

    /// The table of a canonical type.
    pub fn table(&self, entity_type: &str) -> Result<&Table, ModelError> {
        self.tables
            .get(entity_type)
            .ok_or_else(|| ModelError::UnknownEntityType(entity_type.to_string()))
    }

    fn table_mut(&mut self, entity_type: &str) -> Result<&mut Table, ModelError> {
        self.saved.remove(entity_type);
        self.tables
            .get_mut(entity_type)
            .ok_or_else(|| ModelError::UnknownEntityType(entity_type.to_string()))
    }

    /// Declares (or redeclares) a field of a type.
    pub fn define_field(
        &mut self,
        entity_type: &str,
        field: &str,
        kind: FieldKind,
    ) -> Result<(), ModelError> {
        let table = self.table_mut(entity_type)?;
        table.fields.insert(field.to_string(), kind);
        match table.defs.get_mut(field) {
            Some(def) => def.kind = kind,
            None => {
                table
                    .defs
                    .insert(field.to_string(), FieldDef::new(field, kind));
            }
        }
        Ok(())
    }

    /// Declares a field with a full schema definition.
    pub fn define_field_def(
        &mut self,
        entity_type: &str,
        field: &str,
        def: FieldDef,
    ) -> Result<(), ModelError> {
        let table = self.table_mut(entity_type)?;
        table.fields.insert(field.to_string(), def.kind);
        table.retired_fields.remove(field);
        table.defs.insert(field.to_string(), def);
        Ok(())
    }

    /// Inserts a record with the next id of its type and returns that id. Fields not
    /// yet declared are declared with a kind inferred from their value.
    pub fn insert(
        &mut self,
        entity_type: &str,
        mut fields: Map<String, Value>,
    ) -> Result<i64, ModelError> {
        let next = self.table(entity_type)?.next_id;
        self.touch(entity_type, next);
        let table = self.table_mut(entity_type)?;
        let id = table.next_id;
        table.next_id += 1;
        for (name, value) in &fields {
            if !table.fields.contains_key(name) {
                let kind = infer_kind(value);
                table.fields.insert(name.clone(), kind);
                table.defs.insert(name.clone(), FieldDef::new(name, kind));
            }
        }
        if table
            .fields
            .contains_key(super::derived::CACHED_DISPLAY_NAME)
        {
            let name = match fields.get(schema::display_field(entity_type)) {
                None | Some(Value::Null) => Value::Null,
                Some(Value::String(s)) => Value::String(s.clone()),
                Some(other) => Value::String(other.to_string()),
            };
            fields.insert(super::derived::CACHED_DISPLAY_NAME.to_string(), name);
        }
        table.records.insert(
            id,
            Record {
                id,
                retired: false,
                fields,
            },
        );
        Ok(id)
    }

    /// Marks a record retired (deleted but revivable).
    pub fn retire(&mut self, entity_type: &str, id: i64) -> Result<(), ModelError> {
        self.touch(entity_type, id);
        let table = self.table_mut(entity_type)?;
        match table.records.get_mut(&id) {
            Some(r) if !r.retired => {
                r.retired = true;
                Ok(())
            }
            _ => Err(ModelError::NotFound {
                entity_type: entity_type.to_string(),
                id,
            }),
        }
    }

    /// Sets one field of a live record (declaring it, with a kind inferred from the
    /// value, if needed). Used by uploads to link files; does not touch `updated_at`.
    pub fn set_field(
        &mut self,
        entity_type: &str,
        id: i64,
        field: &str,
        value: Value,
    ) -> Result<(), ModelError> {
        self.touch(entity_type, id);
        let table = self.table_mut(entity_type)?;
        if !table.fields.contains_key(field) {
            table.fields.insert(field.to_string(), infer_kind(&value));
        }
        match table.records.get_mut(&id) {
            Some(r) if !r.retired => {
                r.fields.insert(field.to_string(), value);
                if field == schema::display_field(entity_type) {
                    self.refresh_display_name(entity_type, id);
                }
                Ok(())
            }
            _ => Err(ModelError::NotFound {
                entity_type: entity_type.to_string(),
                id,
            }),
        }
    }

    /// Finds a record of a canonical type, honouring `return_only`.
    pub fn get(
        &self,
        entity_type: &str,
        id: i64,
        return_only: ReturnOnly,
    ) -> Result<&Record, ModelError> {
        let wanted_retired = return_only == ReturnOnly::Retired;
        self.table(entity_type)?
            .records
            .get(&id)
            .filter(|r| r.retired == wanted_retired)
            .ok_or_else(|| ModelError::NotFound {
                entity_type: entity_type.to_string(),
                id,
            })
    }

    /// Display name of a record, whether live or retired; `None` when it doesn't exist.
    pub fn display_name(&self, entity_type: &str, id: i64) -> Option<String> {
        let record = self.tables.get(entity_type)?.records.get(&id)?;
        match record.fields.get(schema::display_field(entity_type)) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Null) | None => None,
            Some(other) => Some(other.to_string()),
        }
    }

    /// Reads one record with the selected fields and links resolved.
    pub fn read(
        &self,
        entity_type: &str,
        id: i64,
        selection: &FieldSelection,
        return_only: ReturnOnly,
    ) -> Result<EntityView, ModelError> {
        let table = self.table(entity_type)?;
        let record = self.get(entity_type, id, return_only)?;
        let names: Vec<String> = match selection {
            FieldSelection::All => {
                let mut all: Vec<String> = table.fields.keys().cloned().collect();
                for k in record.fields.keys() {
                    if !table.fields.contains_key(k) && !table.retired_fields.contains_key(k) {
                        all.push(k.clone());
                    }
                }
                all
            }
            FieldSelection::Only(names) => {
                let mut seen = std::collections::BTreeSet::new();
                names
                    .iter()
                    .filter(|n| {
                        table.fields.contains_key(*n)
                            || (record.fields.contains_key(*n)
                                && !table.retired_fields.contains_key(*n))
                    })
                    .filter(|n| seen.insert((*n).clone()))
                    .cloned()
                    .collect()
            }
        };
        let fields = names
            .into_iter()
            .filter(|n| n != "id" && n != "type")
            .map(|name| {
                let kind = table.fields.get(&name).copied();
                let raw = record.fields.get(&name).cloned();
                let kind =
                    kind.unwrap_or_else(|| raw.as_ref().map_or(FieldKind::Other, infer_kind));
                let raw = match raw {
                    Some(v) if !v.is_null() => v,
                    _ => computed_or_empty(entity_type, record, &name, kind),
                };
                let value = self.render_value(kind, raw);
                (name, value)
            })
            .collect();
        Ok(EntityView {
            entity_type: entity_type.to_string(),
            id,
            fields,
        })
    }

    fn entity_ref(&self, v: &Value) -> Option<EntityRef> {
        let obj = v.as_object()?;
        let entity_type = obj.get("type")?.as_str()?.to_string();
        let id = obj.get("id")?.as_i64()?;
        let name = self
            .display_name(&entity_type, id)
            .or_else(|| obj.get("name").and_then(Value::as_str).map(str::to_string));
        Some(EntityRef {
            entity_type,
            id,
            name,
        })
    }

    fn render_value(&self, kind: FieldKind, raw: Value) -> FieldValue {
        match kind {
            FieldKind::Entity => FieldValue::Link(self.entity_ref(&raw)),
            FieldKind::MultiEntity | FieldKind::Addressing => FieldValue::MultiLink(
                raw.as_array()
                    .map(|items| items.iter().filter_map(|v| self.entity_ref(v)).collect())
                    .unwrap_or_default(),
            ),
            FieldKind::Password if !raw.is_null() => {
                FieldValue::Attribute(Value::String("*******".into()))
            }
            _ => FieldValue::Attribute(raw),
        }
    }
}

/// The value a real site shows for an unset field: checkboxes are `false`, never null;
/// `cached_display_name` is the record's display name; summary counts (e.g.
/// `open_notes_count`) are `0` when nothing is counted; anything else is the kind's
/// empty value.
fn computed_or_empty(entity_type: &str, record: &Record, name: &str, kind: FieldKind) -> Value {
    match kind {
        FieldKind::Checkbox => Value::Bool(false),
        FieldKind::Summary if name.ends_with("_count") => Value::from(0),
        _ if name == "cached_display_name" => record
            .fields
            .get(schema::display_field(entity_type))
            .filter(|v| !v.is_null())
            .map(|v| match v {
                Value::String(s) => Value::String(s.clone()),
                other => Value::String(other.to_string()),
            })
            .unwrap_or(Value::Null),
        _ => kind.empty_value(),
    }
}

/// Guesses a field's kind from a value, for fields that were never declared.
pub fn infer_kind(value: &Value) -> FieldKind {
    let is_ref = |v: &Value| {
        v.as_object()
            .is_some_and(|o| o.get("type").is_some_and(Value::is_string) && o.get("id").is_some())
    };
    match value {
        Value::Bool(_) => FieldKind::Checkbox,
        Value::Number(n) if n.is_i64() || n.is_u64() => FieldKind::Number,
        Value::Number(_) => FieldKind::Float,
        Value::String(_) => FieldKind::Text,
        v if is_ref(v) => FieldKind::Entity,
        Value::Array(items) if !items.is_empty() && items.iter().all(is_ref) => {
            FieldKind::MultiEntity
        }
        _ => FieldKind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn insert_assigns_ids_per_type_and_resolves_links() {
        let mut s = Store::new();
        let p = s
            .insert("Project", obj(json!({"name": "Demo Project"})))
            .unwrap();
        assert_eq!(p, 1);
        let a = s
            .insert(
                "Shot",
                obj(json!({"code": "a", "project": {"type": "Project", "id": 1}})),
            )
            .unwrap();
        let b = s.insert("Shot", obj(json!({"code": "b"}))).unwrap();
        assert_eq!((a, b), (1, 2));
        let view = s
            .read(
                "Shot",
                1,
                &FieldSelection::parse(Some("code,project")),
                ReturnOnly::Active,
            )
            .unwrap();
        assert_eq!(
            view.fields,
            vec![
                ("code".into(), FieldValue::Attribute(json!("a"))),
                (
                    "project".into(),
                    FieldValue::Link(Some(EntityRef {
                        entity_type: "Project".into(),
                        id: 1,
                        name: Some("Demo Project".into())
                    }))
                ),
            ]
        );
    }

    #[test]
    fn retired_records_are_hidden_unless_asked_for() {
        let mut s = Store::new();
        let id = s.insert("Asset", obj(json!({"code": "x"}))).unwrap();
        s.retire("Asset", id).unwrap();
        assert!(matches!(
            s.get("Asset", id, ReturnOnly::Active),
            Err(ModelError::NotFound { .. })
        ));
        assert!(s.get("Asset", id, ReturnOnly::Retired).is_ok());
    }

    #[test]
    fn cached_section_always_matches_the_store() {
        let mut s = Store::new();
        let same = |s: &mut Store| {
            let cached: Value = serde_json::from_slice(&s.section_json_cached()).unwrap();
            let full: Value = serde_json::from_slice(&s.section_json()).unwrap();
            assert_eq!(cached, full);
        };
        same(&mut s);
        let id = s.insert("Shot", obj(json!({"code": "a"}))).unwrap();
        same(&mut s);
        if let Some(r) = s.record_mut("Shot", id) {
            r.fields.insert("code".into(), json!("b"));
        }
        same(&mut s);
        // A rolled-back write leaves no stale table behind.
        s.begin();
        s.insert("Asset", obj(json!({"code": "gone"}))).unwrap();
        if let Some(r) = s.record_mut("Shot", id) {
            r.fields.insert("code".into(), json!("c"));
        }
        same(&mut s);
        s.rollback();
        same(&mut s);
        assert!(!String::from_utf8(s.section_json_cached())
            .unwrap()
            .contains("gone"));
        s.define_field("Shot", "sg_new", FieldKind::Text).unwrap();
        s.retire("Shot", id).unwrap();
        same(&mut s);
        // A round trip through the cached form loads the same store.
        let back: StoreSnapshot = serde_json::from_slice(&s.section_json_cached()).unwrap();
        let back = Store::from_snapshot(back);
        assert!(back.table("Shot").unwrap().fields.contains_key("sg_new"));
        assert!(back.get("Shot", id, ReturnOnly::Retired).is_ok());
    }

    #[test]
    fn field_selection_parsing() {
        assert_eq!(FieldSelection::parse(None), FieldSelection::All);
        assert_eq!(FieldSelection::parse(Some("*")), FieldSelection::All);
        assert_eq!(FieldSelection::parse(Some("code,*")), FieldSelection::All);
        assert_eq!(FieldSelection::parse(Some("")), FieldSelection::All);
        assert_eq!(
            FieldSelection::parse(Some("code, description,")),
            FieldSelection::Only(vec!["code".into(), "description".into()])
        );
    }
}
