//! Records as JSON:API resource objects, written straight into a byte buffer.
//!
//! A record renders as
//! `{"type","attributes":{…},"relationships":{…},"id","links":{"self"}}`: plain values
//! under `attributes` in the order they were read (in name order when `serde_json` is
//! built without `preserve_order`, see [`map_sorts_keys`]), links under `relationships` in name
//! order, each `{"data", "links":{"self"[,"related"]}}` (`related` for a set single
//! link), a link's data being `{"id","name","type"}`.
//!
//! A page of 5,000 records is written from borrowed values ([`ReadPlan::read_into`])
//! without building a `serde_json::Value` tree or a [`EntityView`] per record: at that
//! size the allocations of those trees, not the JSON, were most of the time.

use std::fmt::Write as _;

use serde::{Serialize, Serializer};
use serde_json::value::RawValue;

use crate::http::API_PREFIX;
use crate::model::store::{FieldValueRef, LinkRef, ReadPlan};
use crate::model::{EntityView, Record, ReturnOnly, Store};
use crate::naming::url_name;

/// Writes records one after another, keeping its scratch buffers (URL names of the
/// types met, the link fields of the record) between records.
#[derive(Debug, Default)]
pub struct RecordWriter {
    /// `(type, url name)` of the types met so far (a page links to a handful).
    url_names: Vec<(String, String)>,
    /// Scratch for links.
    text: String,
    /// Indices of a record's plain and link fields, in the order they are written.
    attributes: Vec<usize>,
    links: Vec<usize>,
}

/// Whether `serde_json::Map` keeps its keys sorted, as it does unless its
/// `preserve_order` feature is on. A workspace build (`cargo test --workspace`) turns it
/// on for the client crate; `cargo build -p shotgrid-emulator` does not. `attributes`
/// used to be such a map, so its members came out in the map's order: it is kept, so
/// that no build's answers change.
fn map_sorts_keys() -> bool {
    static SORTED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *SORTED.get_or_init(|| {
        let mut m = serde_json::Map::new();
        m.insert("b".into(), serde_json::Value::Null);
        m.insert("a".into(), serde_json::Value::Null);
        m.keys().next().map(String::as_str) == Some("a")
    })
}

impl RecordWriter {
    /// A writer with empty scratch buffers.
    pub fn new() -> Self {
        RecordWriter::default()
    }

    fn url_name(&mut self, entity_type: &str) -> usize {
        match self.url_names.iter().position(|(t, _)| t == entity_type) {
            Some(i) => i,
            None => {
                self.url_names
                    .push((entity_type.to_string(), url_name(entity_type)));
                self.url_names.len() - 1
            }
        }
    }

    /// Writes `/api/v1/entity/<url name>/<id>` into `self.text` (cleared first).
    fn record_path(&mut self, entity_type: &str, id: i64) {
        let i = self.url_name(entity_type);
        self.text.clear();
        // Writing into a String cannot fail.
        let _ = write!(
            self.text,
            "{API_PREFIX}/entity/{}/{id}",
            self.url_names[i].1
        );
    }

    /// Writes one record (its fields as [`ReadPlan::read_into`] gives them) to `out`.
    pub fn write(
        &mut self,
        out: &mut Vec<u8>,
        entity_type: &str,
        id: i64,
        fields: &[(&str, FieldValueRef<'_>)],
    ) -> serde_json::Result<()> {
        out.extend_from_slice(b"{\"type\":");
        write_str(out, entity_type)?;
        out.extend_from_slice(b",\"attributes\":{");
        self.links.clear();
        self.attributes.clear();
        for (i, (_, value)) in fields.iter().enumerate() {
            match value {
                FieldValueRef::Attribute(_) => self.attributes.push(i),
                _ => self.links.push(i),
            }
        }
        if map_sorts_keys() {
            self.attributes
                .sort_unstable_by(|a, b| fields[*a].0.cmp(fields[*b].0));
        }
        for (n, i) in self.attributes.iter().enumerate() {
            if let Some((name, FieldValueRef::Attribute(v))) = fields.get(*i) {
                if n > 0 {
                    out.push(b',');
                }
                write_str(out, name)?;
                out.push(b':');
                serde_json::to_writer(&mut *out, v.as_ref())?;
            }
        }
        out.extend_from_slice(b"},\"relationships\":{");
        let mut links = std::mem::take(&mut self.links);
        links.sort_unstable_by(|a, b| fields[*a].0.cmp(fields[*b].0));
        let result = self.write_links(out, entity_type, id, fields, &links);
        self.links = links;
        result?;
        out.extend_from_slice(b"},\"id\":");
        serde_json::to_writer(&mut *out, &id)?;
        out.extend_from_slice(b",\"links\":{\"self\":");
        self.record_path(entity_type, id);
        write_str(out, &self.text)?;
        out.extend_from_slice(b"}}");
        Ok(())
    }

    /// The `relationships` members of the fields at `order`.
    fn write_links(
        &mut self,
        out: &mut Vec<u8>,
        entity_type: &str,
        id: i64,
        fields: &[(&str, FieldValueRef<'_>)],
        order: &[usize],
    ) -> serde_json::Result<()> {
        for (n, i) in order.iter().enumerate() {
            let Some((name, value)) = fields.get(*i) else {
                continue;
            };
            if n > 0 {
                out.push(b',');
            }
            write_str(out, name)?;
            out.extend_from_slice(b":{\"data\":");
            let related = match value {
                FieldValueRef::Link(Some(r)) => {
                    write_link(out, r)?;
                    Some(r)
                }
                FieldValueRef::MultiLink(items) => {
                    out.push(b'[');
                    for (k, r) in items.iter().enumerate() {
                        if k > 0 {
                            out.push(b',');
                        }
                        write_link(out, r)?;
                    }
                    out.push(b']');
                    None
                }
                FieldValueRef::Link(None) | FieldValueRef::Attribute(_) => {
                    out.extend_from_slice(b"null");
                    None
                }
            };
            out.extend_from_slice(b",\"links\":{\"self\":");
            self.record_path(entity_type, id);
            self.text.push_str("/relationships/");
            self.text.push_str(name);
            write_str(out, &self.text)?;
            if let Some(r) = related {
                out.extend_from_slice(b",\"related\":");
                self.record_path(&r.entity_type, r.id);
                write_str(out, &self.text)?;
            }
            out.extend_from_slice(b"}}");
        }
        Ok(())
    }

    /// Reads the records `ids` with `plan` and writes them to `out`, separated by
    /// commas.
    pub fn write_records(
        &mut self,
        out: &mut Vec<u8>,
        plan: &ReadPlan<'_>,
        ids: &[i64],
        return_only: ReturnOnly,
    ) -> Result<(), RenderError> {
        let mut fields = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            plan.read_into(*id, return_only, &mut fields)?;
            self.write(out, plan.entity_type(), *id, &fields)?;
        }
        Ok(())
    }
}

impl RecordWriter {
    /// Writes the records `rows` (each with its row, see [`ReadPlan::read_row`]) to
    /// `out`, separated by commas.
    pub fn write_rows<'a>(
        &mut self,
        out: &mut Vec<u8>,
        plan: &ReadPlan<'a>,
        rows: &[(usize, &'a Record)],
    ) -> serde_json::Result<()> {
        let mut fields = Vec::new();
        for (i, (row, record)) in rows.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            plan.read_row(*row, record, &mut fields);
            self.write(out, plan.entity_type(), record.id, &fields)?;
        }
        Ok(())
    }
}

/// Why records could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// A record could not be read.
    #[error(transparent)]
    Model(#[from] crate::model::ModelError),
    /// A value could not be written as JSON.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

fn write_str(out: &mut Vec<u8>, s: &str) -> serde_json::Result<()> {
    serde_json::to_writer(out, s)
}

/// `{"id","name","type"}` of a link.
fn write_link(out: &mut Vec<u8>, r: &LinkRef<'_>) -> serde_json::Result<()> {
    out.extend_from_slice(b"{\"id\":");
    serde_json::to_writer(&mut *out, &r.id)?;
    out.extend_from_slice(b",\"name\":");
    match &r.name {
        Some(n) => write_str(out, n)?,
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"type\":");
    write_str(out, &r.entity_type)?;
    out.push(b'}');
    Ok(())
}

/// One record as a JSON:API resource object, ready to be serialised as part of a
/// larger document (see [`render_record`]).
#[derive(Debug)]
pub struct RecordDoc(Box<RawValue>);

impl Serialize for RecordDoc {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl RecordDoc {
    /// The record as a `serde_json::Value`.
    pub fn to_value(&self) -> serde_json::Result<serde_json::Value> {
        serde_json::from_str(self.0.get())
    }
}

/// Renders a record read with [`Store::read`] as a JSON:API resource object, exactly
/// as list pages render it.
pub fn render_record(view: &EntityView) -> serde_json::Result<RecordDoc> {
    let fields: Vec<(&str, FieldValueRef<'_>)> = view
        .fields
        .iter()
        .map(|(name, value)| (name.as_str(), FieldValueRef::from(value)))
        .collect();
    let mut out = Vec::with_capacity(256);
    RecordWriter::new().write(&mut out, &view.entity_type, view.id, &fields)?;
    // Our own output: valid UTF-8 and valid JSON.
    let text = String::from_utf8(out).map_err(serde::ser::Error::custom)?;
    Ok(RecordDoc(RawValue::from_string(text)?))
}

/// Renders the records `ids` of `entity_type` read with `selection`, comma separated,
/// into `out`.
pub fn write_records(
    out: &mut Vec<u8>,
    store: &Store,
    entity_type: &str,
    ids: &[i64],
    selection: &crate::model::FieldSelection,
    return_only: ReturnOnly,
) -> Result<(), RenderError> {
    let plan = store.read_plan(entity_type, selection)?;
    RecordWriter::new().write_records(out, &plan, ids, return_only)
}

#[cfg(test)]
mod tests {
    //! The writer against the renderer it replaced (a `serde_json::Value` tree per
    //! record, kept here as the reference): the same bytes for every record.

    use std::collections::BTreeMap;
    use std::time::Duration;

    use serde_json::{json, Map, Value};

    use super::*;
    use crate::model::schema::FieldKind;
    use crate::model::store::{computed_or_empty, infer_kind};
    use crate::model::{EntityRef, FieldSelection, FieldValue};

    /// [`Store::read`] as it was before [`ReadPlan`].
    fn reference_read(
        store: &Store,
        entity_type: &str,
        id: i64,
        selection: &FieldSelection,
        return_only: ReturnOnly,
    ) -> Option<EntityView> {
        let table = store.table(entity_type).ok()?;
        let record = store.get(entity_type, id, return_only).ok()?;
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
        let entity_ref = |v: &Value| -> Option<EntityRef> {
            let obj = v.as_object()?;
            let entity_type = obj.get("type")?.as_str()?.to_string();
            let id = obj.get("id")?.as_i64()?;
            let name = store
                .display_name(&entity_type, id)
                .or_else(|| obj.get("name").and_then(Value::as_str).map(str::to_string));
            Some(EntityRef {
                entity_type,
                id,
                name,
            })
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
                let value = match kind {
                    FieldKind::Entity => FieldValue::Link(entity_ref(&raw)),
                    FieldKind::MultiEntity | FieldKind::Addressing => FieldValue::MultiLink(
                        raw.as_array()
                            .map(|items| items.iter().filter_map(entity_ref).collect())
                            .unwrap_or_default(),
                    ),
                    FieldKind::Password if !raw.is_null() => {
                        FieldValue::Attribute(Value::String("*******".into()))
                    }
                    _ => FieldValue::Attribute(raw),
                };
                (name, value)
            })
            .collect();
        Some(EntityView {
            entity_type: entity_type.to_string(),
            id,
            fields,
        })
    }

    #[derive(serde::Serialize)]
    struct Links {
        #[serde(rename = "self")]
        self_: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        related: Option<String>,
    }

    #[derive(serde::Serialize)]
    struct Relationship {
        data: Value,
        links: Links,
    }

    #[derive(serde::Serialize)]
    struct Doc {
        #[serde(rename = "type")]
        type_: String,
        attributes: Map<String, Value>,
        relationships: BTreeMap<String, Relationship>,
        id: i64,
        links: Links,
    }

    /// The renderer [`RecordWriter`] replaced.
    fn reference_render(view: &EntityView) -> Vec<u8> {
        let link = |r: &EntityRef| json!({"id": r.id, "name": r.name, "type": r.entity_type});
        let base = format!(
            "{API_PREFIX}/entity/{}/{}",
            url_name(&view.entity_type),
            view.id
        );
        let mut attributes = Map::new();
        let mut relationships = BTreeMap::new();
        for (name, value) in &view.fields {
            let self_ = format!("{base}/relationships/{name}");
            let (data, related) = match value {
                FieldValue::Attribute(v) => {
                    attributes.insert(name.clone(), v.clone());
                    continue;
                }
                FieldValue::Link(None) => (Value::Null, None),
                FieldValue::Link(Some(r)) => (
                    link(r),
                    Some(format!(
                        "{API_PREFIX}/entity/{}/{}",
                        url_name(&r.entity_type),
                        r.id
                    )),
                ),
                FieldValue::MultiLink(items) => {
                    (Value::Array(items.iter().map(link).collect()), None)
                }
            };
            relationships.insert(
                name.clone(),
                Relationship {
                    data,
                    links: Links { self_, related },
                },
            );
        }
        let doc = Doc {
            type_: view.entity_type.clone(),
            attributes,
            relationships,
            id: view.id,
            links: Links {
                self_: base,
                related: None,
            },
        };
        serde_json::to_vec(&doc).expect("reference renders")
    }

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    /// The demo studio plus records with what few have.
    fn store() -> Store {
        let mut store = Store::new();
        let mut auth = crate::auth::AuthStore::new(Duration::from_secs(600));
        crate::seed::apply(crate::seed::Seed::Demo, &mut store, &mut auth).expect("demo seed");
        store
            .define_field("Shot", "sg_secret", FieldKind::Password)
            .expect("field");
        for fields in [
            json!({"code": "ODD_1", "sg_undeclared_link": {"type": "Asset", "id": 1},
                   "sg_undeclared_text": "x\"y\\z\u{1}é\u{2028}", "sg_secret": "hunter2",
                   "project": {"type": "Project", "id": 999},
                   "sg_sequence": {"type": "Sequence", "id": 4242, "name": "Gone"},
                   "assets": [{"type": "Asset", "id": 2}, {"id": 3}, "junk",
                              {"type": "Asset", "id": 777, "name": "Lost"}],
                   "sg_undeclared_list": [{"type": "Shot", "id": 1}]}),
            json!({"code": null, "project": null, "sg_sequence": {"type": "Sequence"},
                   "assets": "not a list", "description": null, "sg_secret": null}),
            json!({"code": 42, "sg_undeclared_num": 1.5, "sg_undeclared_null": null}),
        ] {
            store.insert("Shot", obj(fields)).expect("insert");
        }
        // A retired record, and a retired field whose values stay in the records.
        store.retire("Shot", 1).expect("retire");
        let table = store.table_schema_mut("Shot").expect("table");
        table.fields.remove("description");
        let def = table
            .defs
            .remove("description")
            .expect("description is declared");
        table.retired_fields.insert("description".into(), def);
        store
    }

    #[test]
    fn writes_the_bytes_the_value_tree_renderer_wrote() {
        let store = store();
        let selections = [
            FieldSelection::All,
            FieldSelection::parse(Some(
                "code,project,code,no_such,id,type,sg_undeclared_link,assets,sg_secret,\
                 sg_undeclared_text,name,content,entity,user,sg_undeclared_num,\
                 sg_undeclared_null,sg_undeclared_list,created_by,cached_display_name,\
                 description",
            )),
            FieldSelection::parse(Some("id")),
        ];
        let mut compared = 0;
        for t in store.entity_types().map(str::to_string).collect::<Vec<_>>() {
            let table = store.table(&t).expect("table");
            let ids: Vec<(i64, bool)> = table.records.values().map(|r| (r.id, r.retired)).collect();
            for selection in &selections {
                let plan = store.read_plan(&t, selection).expect("plan");
                for return_only in [ReturnOnly::Active, ReturnOnly::Retired] {
                    let wanted: Vec<i64> = ids
                        .iter()
                        .filter(|(_, retired)| *retired == (return_only == ReturnOnly::Retired))
                        .map(|(id, _)| *id)
                        .collect();
                    let mut page = Vec::new();
                    RecordWriter::new()
                        .write_records(&mut page, &plan, &wanted, return_only)
                        .expect("writes");
                    let mut expected = Vec::new();
                    for (i, id) in wanted.iter().enumerate() {
                        if i > 0 {
                            expected.push(b',');
                        }
                        let view = reference_read(&store, &t, *id, selection, return_only)
                            .expect("reference read");
                        let bytes = reference_render(&view);
                        // Single reads: Store::read + render_record, same bytes.
                        let single = store.read(&t, *id, selection, return_only).expect("read");
                        assert_eq!(single, view, "{t} {id}");
                        let doc = render_record(&single).expect("render");
                        assert_eq!(
                            serde_json::to_string(&doc).expect("doc"),
                            String::from_utf8_lossy(&bytes),
                            "{t} {id}"
                        );
                        expected.extend_from_slice(&bytes);
                        compared += 1;
                    }
                    assert_eq!(
                        String::from_utf8_lossy(&page),
                        String::from_utf8_lossy(&expected),
                        "{t} {selection:?} {return_only:?}"
                    );
                }
            }
        }
        assert!(compared > 1000, "only {compared} records compared");
    }

    #[test]
    fn a_missing_record_is_not_found() {
        let store = store();
        let plan = store.read_plan("Shot", &FieldSelection::All).expect("plan");
        let mut out = Vec::new();
        let err = RecordWriter::new()
            .write_records(&mut out, &plan, &[2, 1], ReturnOnly::Active)
            .expect_err("Shot 1 is retired");
        assert!(matches!(
            err,
            RenderError::Model(crate::model::ModelError::NotFound { id: 1, .. })
        ));
        assert!(store.read_plan("Nope", &FieldSelection::All).is_err());
    }
}
