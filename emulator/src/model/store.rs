//! In-memory entity store: records keyed by entity type, then id.
//!
//! Each record is a map of field name → JSON value. Entity links are stored as
//! `{"type": T, "id": N}` (lists of them for multi-entity fields); their display name is
//! looked up when a record is read, so renames show everywhere at once.

use std::borrow::Cow;
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

/// The undo steps of a transaction (see [`Store::begin`]): the state each record had
/// before the transaction first changed it, once per record (a record written again
/// needs no second copy: rolling back restores its first).
#[derive(Debug, Clone, Default)]
struct Journal {
    undo: Vec<Undo>,
    touched: std::collections::HashSet<(String, i64)>,
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
    journal: Option<Journal>,
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
        self.journal = Some(Journal::default());
    }

    /// Stops journaling and keeps every write since [`Store::begin`].
    pub fn commit(&mut self) {
        self.journal = None;
    }

    /// The undo steps journaled since [`Store::begin`] (0 when not journaling).
    #[cfg(test)]
    fn journal_len(&self) -> usize {
        self.journal.as_ref().map_or(0, |j| j.undo.len())
    }

    /// Undoes every write since [`Store::begin`] and stops journaling.
    pub fn rollback(&mut self) {
        let Some(journal) = self.journal.take() else {
            return;
        };
        // Latest first: a table's `next_id` ends as its earliest undo step had it.
        for undo in journal.undo.into_iter().rev() {
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
        let Some(journal) = self.journal.as_mut() else {
            return;
        };
        let Some(table) = self.tables.get(entity_type) else {
            return;
        };
        if !journal.touched.insert((entity_type.to_string(), id)) {
            return;
        }
        journal.undo.push(Undo {
            entity_type: entity_type.to_string(),
            id,
            prev: table.records.get(&id).cloned(),
            next_id: table.next_id,
        });
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
        let plan = self.read_plan(entity_type, selection)?;
        let mut fields = Vec::new();
        plan.read_into(id, return_only, &mut fields)?;
        Ok(EntityView {
            entity_type: plan.entity_type.to_string(),
            id,
            fields: fields
                .into_iter()
                .map(|(name, value)| (name.to_string(), value.into_owned()))
                .collect(),
        })
    }

    /// Prepares reads of many records of one type with the same selection (see
    /// [`ReadPlan::read_into`]): the selection is checked against the type's fields
    /// once, not once per record.
    pub fn read_plan<'a>(
        &'a self,
        entity_type: &str,
        selection: &'a FieldSelection,
    ) -> Result<ReadPlan<'a>, ModelError> {
        let (entity_type, table) = self
            .tables
            .get_key_value(entity_type)
            .ok_or_else(|| ModelError::UnknownEntityType(entity_type.to_string()))?;
        let planned = |name: &'a str| PlannedField {
            name,
            kind: table.fields.get(name).copied(),
            retired: table.retired_fields.contains_key(name),
            column: None,
        };
        let fields = match selection {
            FieldSelection::All => table.fields.keys().map(|n| planned(n)).collect(),
            FieldSelection::Only(names) => {
                // First occurrences only; whether a name is read depends on the name
                // (and the record), so dropping repeats first changes nothing else.
                let mut seen = std::collections::HashSet::new();
                names
                    .iter()
                    .map(String::as_str)
                    .filter(|n| seen.insert(*n))
                    .map(planned)
                    .collect()
            }
        };
        Ok(ReadPlan {
            store: self,
            entity_type,
            table,
            all: matches!(selection, FieldSelection::All),
            fields,
        })
    }

    fn entity_ref<'v>(&'v self, v: &'v Value) -> Option<LinkRef<'v>> {
        let obj = v.as_object()?;
        let entity_type = obj.get("type")?.as_str()?;
        let id = obj.get("id")?.as_i64()?;
        let name = self
            .display_name_ref(entity_type, id)
            .or_else(|| obj.get("name").and_then(Value::as_str).map(Cow::Borrowed));
        Some(LinkRef {
            entity_type: Cow::Borrowed(entity_type),
            id,
            name,
        })
    }

    /// [`Store::display_name`], borrowing the name where it is a string.
    fn display_name_ref(&self, entity_type: &str, id: i64) -> Option<Cow<'_, str>> {
        let record = self.tables.get(entity_type)?.records.get(&id)?;
        match record.fields.get(schema::display_field(entity_type)) {
            Some(Value::String(s)) => Some(Cow::Borrowed(s)),
            Some(Value::Null) | None => None,
            Some(other) => Some(Cow::Owned(other.to_string())),
        }
    }

    /// The links of a multi-entity value (items that are not links are left out).
    fn entity_refs<'v>(&'v self, v: &'v Value) -> impl Iterator<Item = LinkRef<'v>> + 'v {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|item| self.entity_ref(item))
    }

    fn render_value<'v>(&'v self, kind: FieldKind, raw: Cow<'v, Value>) -> FieldValueRef<'v> {
        // An owned value was computed (the kind's empty value): links read from it
        // cannot borrow from it.
        match kind {
            FieldKind::Entity => FieldValueRef::Link(match raw {
                Cow::Borrowed(v) => self.entity_ref(v),
                Cow::Owned(v) => self.entity_ref(&v).map(LinkRef::into_owned),
            }),
            FieldKind::MultiEntity | FieldKind::Addressing => FieldValueRef::MultiLink(match raw {
                Cow::Borrowed(v) => self.entity_refs(v).collect(),
                Cow::Owned(v) => self.entity_refs(&v).map(LinkRef::into_owned).collect(),
            }),
            FieldKind::Password if !raw.is_null() => {
                FieldValueRef::Attribute(Cow::Owned(Value::String("*******".into())))
            }
            _ => FieldValueRef::Attribute(raw),
        }
    }
}

/// One field a [`ReadPlan`] reads.
#[derive(Debug, Clone)]
struct PlannedField<'a> {
    name: &'a str,
    /// The declared kind, if the type declares the field.
    kind: Option<FieldKind>,
    /// The field was deleted (its values stay hidden).
    retired: bool,
    /// The field's values in row order, when a column of them is at hand.
    column: Option<&'a [Value]>,
}

/// Reads of many records of one type with one selection (see [`Store::read_plan`]).
#[derive(Debug, Clone)]
pub struct ReadPlan<'a> {
    store: &'a Store,
    entity_type: &'a str,
    table: &'a Table,
    /// Every field (`*`): the declared ones (in `fields`), then any others a record has.
    all: bool,
    /// The declared fields (`*`) or the named ones, in the order they are read.
    fields: Vec<PlannedField<'a>>,
}

impl<'a> ReadPlan<'a> {
    /// The canonical type read.
    pub fn entity_type(&self) -> &'a str {
        self.entity_type
    }

    /// Reads declared fields from `column(name)` where it gives one: the field's value
    /// for every record of the type in id order, live and retired alike (a missing
    /// value being null), as [`crate::query::cache::Cache`] keeps them. Only
    /// [`ReadPlan::read_row`] uses them.
    pub fn with_columns(mut self, column: impl Fn(&str) -> Option<&'a [Value]>) -> Self {
        for f in &mut self.fields {
            if f.kind.is_some() {
                f.column = column(f.name).filter(|c| c.len() == self.table.records.len());
            }
        }
        self
    }

    /// Reads one record: its selected fields, in the order [`Store::read`] gives them,
    /// replace the contents of `out`. Values borrow from the store where they can.
    pub fn read_into(
        &self,
        id: i64,
        return_only: ReturnOnly,
        out: &mut Vec<(&'a str, FieldValueRef<'a>)>,
    ) -> Result<(), ModelError> {
        let wanted_retired = return_only == ReturnOnly::Retired;
        let record = self
            .table
            .records
            .get(&id)
            .filter(|r| r.retired == wanted_retired)
            .ok_or_else(|| ModelError::NotFound {
                entity_type: self.entity_type.to_string(),
                id,
            })?;
        self.read_record(record, None, out);
        Ok(())
    }

    /// [`ReadPlan::read_into`] for a record already found, at `row` in id order among
    /// the type's records (see [`ReadPlan::with_columns`]).
    pub fn read_row(
        &self,
        row: usize,
        record: &'a Record,
        out: &mut Vec<(&'a str, FieldValueRef<'a>)>,
    ) {
        self.read_record(record, Some(row), out);
    }

    fn read_record(
        &self,
        record: &'a Record,
        row: Option<usize>,
        out: &mut Vec<(&'a str, FieldValueRef<'a>)>,
    ) {
        out.clear();
        let mut push = |name: &'a str, kind: Option<FieldKind>, raw: Option<&'a Value>| {
            if name == "id" || name == "type" {
                return;
            }
            let kind = kind.unwrap_or_else(|| raw.map_or(FieldKind::Other, infer_kind));
            let raw = match raw {
                Some(v) if !v.is_null() => Cow::Borrowed(v),
                _ => Cow::Owned(computed_or_empty(self.entity_type, record, name, kind)),
            };
            out.push((name, self.store.render_value(kind, raw)));
        };
        for f in &self.fields {
            // A declared field is always read; another one when the record has it.
            if f.kind.is_none() && (self.all || f.retired || !record.fields.contains_key(f.name)) {
                continue;
            }
            let raw = match (f.column, row) {
                (Some(col), Some(row)) => col.get(row),
                _ => record.fields.get(f.name),
            };
            push(f.name, f.kind, raw);
        }
        if self.all {
            for (name, raw) in &record.fields {
                if !self.table.fields.contains_key(name)
                    && !self.table.retired_fields.contains_key(name)
                {
                    push(name, None, Some(raw));
                }
            }
        }
    }
}

/// A link as read, borrowing from the store where it can (see [`EntityRef`]).
#[derive(Debug, Clone, PartialEq)]
pub struct LinkRef<'a> {
    /// Canonical TitleCase type of the linked record.
    pub entity_type: Cow<'a, str>,
    /// Id of the linked record.
    pub id: i64,
    /// Display name of the linked record (null when it does not exist).
    pub name: Option<Cow<'a, str>>,
}

impl LinkRef<'_> {
    /// A copy that borrows nothing.
    pub fn into_owned(self) -> LinkRef<'static> {
        LinkRef {
            entity_type: Cow::Owned(self.entity_type.into_owned()),
            id: self.id,
            name: self.name.map(|n| Cow::Owned(n.into_owned())),
        }
    }

    /// The owned [`EntityRef`].
    pub fn to_entity_ref(&self) -> EntityRef {
        EntityRef {
            entity_type: self.entity_type.to_string(),
            id: self.id,
            name: self.name.as_ref().map(|n| n.to_string()),
        }
    }
}

impl<'a> From<&'a EntityRef> for LinkRef<'a> {
    fn from(r: &'a EntityRef) -> Self {
        LinkRef {
            entity_type: Cow::Borrowed(&r.entity_type),
            id: r.id,
            name: r.name.as_deref().map(Cow::Borrowed),
        }
    }
}

/// A field value as read, borrowing from the store where it can (see [`FieldValue`]).
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValueRef<'a> {
    /// A plain value (rendered under `attributes`).
    Attribute(Cow<'a, Value>),
    /// A single entity link (rendered under `relationships`).
    Link(Option<LinkRef<'a>>),
    /// A multi-entity link (rendered under `relationships`).
    MultiLink(Vec<LinkRef<'a>>),
}

impl FieldValueRef<'_> {
    /// The owned [`FieldValue`].
    pub fn into_owned(self) -> FieldValue {
        match self {
            FieldValueRef::Attribute(v) => FieldValue::Attribute(v.into_owned()),
            FieldValueRef::Link(r) => FieldValue::Link(r.as_ref().map(LinkRef::to_entity_ref)),
            FieldValueRef::MultiLink(items) => {
                FieldValue::MultiLink(items.iter().map(LinkRef::to_entity_ref).collect())
            }
        }
    }
}

impl<'a> From<&'a FieldValue> for FieldValueRef<'a> {
    fn from(v: &'a FieldValue) -> Self {
        match v {
            FieldValue::Attribute(v) => FieldValueRef::Attribute(Cow::Borrowed(v)),
            FieldValue::Link(r) => FieldValueRef::Link(r.as_ref().map(LinkRef::from)),
            FieldValue::MultiLink(items) => {
                FieldValueRef::MultiLink(items.iter().map(LinkRef::from).collect())
            }
        }
    }
}

/// The value a real site shows for an unset field: checkboxes are `false`, never null;
/// `cached_display_name` is the record's display name; summary counts (e.g.
/// `open_notes_count`) are `0` when nothing is counted; anything else is the kind's
/// empty value.
pub(crate) fn computed_or_empty(
    entity_type: &str,
    record: &Record,
    name: &str,
    kind: FieldKind,
) -> Value {
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
    fn a_transaction_keeps_one_undo_per_record_and_rolls_back_to_its_start() {
        let mut s = Store::new();
        let id = s.insert("Shot", obj(json!({"code": "a"}))).unwrap();
        let before_next = s.table("Shot").unwrap().next_id;
        s.begin();
        // A record written many times in one transaction (a Sequence whose `shots`
        // list grows with every Shot of a batch) is copied into the journal once: its
        // state at the start is all a rollback needs.
        for i in 0..100 {
            if let Some(r) = s.record_mut("Shot", id) {
                r.fields.insert("code".into(), json!(format!("v{i}")));
            }
        }
        let created = s.insert("Shot", obj(json!({"code": "new"}))).unwrap();
        if let Some(r) = s.record_mut("Shot", created) {
            r.fields.insert("code".into(), json!("newer"));
        }
        assert_eq!(s.journal_len(), 2, "one undo for each record touched");
        s.rollback();
        let r = s.get("Shot", id, ReturnOnly::Active).unwrap();
        assert_eq!(r.fields.get("code"), Some(&json!("a")));
        assert!(s.get("Shot", created, ReturnOnly::Active).is_err());
        assert!(s.get("Shot", created, ReturnOnly::Retired).is_err());
        assert_eq!(s.table("Shot").unwrap().next_id, before_next);
        // A new transaction journals afresh.
        s.begin();
        if let Some(r) = s.record_mut("Shot", id) {
            r.fields.insert("code".into(), json!("b"));
        }
        assert_eq!(s.journal_len(), 1);
        s.commit();
        let r = s.get("Shot", id, ReturnOnly::Active).unwrap();
        assert_eq!(r.fields.get("code"), Some(&json!("b")));
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
