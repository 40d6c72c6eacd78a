//! Fast path for pages of records: rewrites a JSON:API list document straight into the
//! JSON text of flat records `[{type, id, ...attributes, ...relationships}]`, with
//! borrowed raw values (no `Value` tree, field values copied as text). JS then parses
//! the result once with the native `JSON.parse`. Semantics are those of
//! [`super::record::flatten_resource`]: `type`/`id` cannot be overwritten by fields,
//! relationships give their `data`, links come out as `{type, id, name, …}`.

use std::borrow::Cow;

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::Value;

use super::error::Error;
use super::http::HttpResponse;

/// Records a runtime decoded itself (in wasm: a JS array of plain objects, parsed by the
/// engine's native `JSON.parse`), opaque to the protocol. The page's `ids` say how many
/// of them it keeps.
pub type RuntimeRecords = std::rc::Rc<dyn std::any::Any>;

/// A page of flat records: JSON texts written by the transcoder, or records the runtime
/// decoded ([`PageText::runtime`]; `records` is then empty). `ids` always holds one id
/// per record kept, in order.
#[derive(Clone, Default)]
pub struct PageText {
    /// The records, each a JSON object, in order (empty for a runtime page).
    pub records: Vec<String>,
    /// Their ids, in order.
    pub ids: Vec<i64>,
    /// Records decoded by the runtime; the first `ids.len()` of them are kept.
    pub runtime: Option<RuntimeRecords>,
}

impl PageText {
    /// Number of records kept.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the page keeps no record.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Keeps the first `n` records.
    pub fn truncate(&mut self, n: usize) {
        self.records.truncate(n);
        self.ids.truncate(n);
    }
}

impl fmt::Debug for PageText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PageText")
            .field("records", &self.records)
            .field("ids", &self.ids)
            .field("runtime", &self.runtime.is_some())
            .finish()
    }
}

impl PartialEq for PageText {
    fn eq(&self, other: &Self) -> bool {
        self.records == other.records
            && self.ids == other.ids
            && match (&self.runtime, &other.runtime) {
                (None, None) => true,
                (Some(a), Some(b)) => std::rc::Rc::ptr_eq(a, b),
                _ => false,
            }
    }
}

/// Joins record texts into one JSON array.
pub fn join_array<'a>(records: impl IntoIterator<Item = &'a String>) -> String {
    let mut out = String::from("[");
    for (i, r) in records.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(r);
    }
    out.push(']');
    out
}

/// The members of a JSON object in order, values left as borrowed raw text: one scan,
/// no buffering (serde's `flatten` buffers every member and was the slowest part of a
/// page). `None` when `text` is not an object.
fn members(text: &str) -> Option<Vec<(Cow<'_, str>, &RawValue)>> {
    struct Members;
    impl<'de> Visitor<'de> for Members {
        type Value = Vec<(Cow<'de, str>, &'de RawValue)>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::with_capacity(map.size_hint().unwrap_or(4));
            while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                out.push((key, map.next_value()?));
            }
            Ok(out)
        }
    }
    let mut de = serde_json::Deserializer::from_slice(text.as_bytes());
    let out = de.deserialize_map(Members).ok()?;
    de.end().ok()?;
    Some(out)
}

/// The value of member `key` (the first one).
fn member<'a>(members: &[(Cow<'_, str>, &'a RawValue)], key: &str) -> Option<&'a RawValue> {
    members.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
}

fn push_key(out: &mut String, key: &str) {
    if key.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push('"');
        out.push_str(key);
        out.push('"');
    } else {
        // Rare: keys that need escaping.
        out.push_str(&super::record::json_text(&Value::String(key.to_owned())));
    }
}

fn is_string(raw: &RawValue) -> bool {
    raw.get().starts_with('"')
}

/// Writes a relationship's `data` (a link, a list of links, or anything else as is).
fn push_rel_data(out: &mut String, rel: &RawValue) {
    let text = rel.get();
    // `{data, links}` in list responses; a bare link or list in some batch answers.
    let data: &str = if text.starts_with('{') {
        match members(text) {
            Some(m) => match member(&m, "data") {
                Some(d) => d.get(),
                None if member(&m, "type").is_some() && member(&m, "id").is_some() => text,
                None => "null",
            },
            None => "null",
        }
    } else if text.starts_with('[') {
        text
    } else {
        "null"
    };
    push_links(out, data);
}

/// Writes a link as `{type, id, name?, ...rest}` (members in their order after those),
/// a list of links likewise, anything else as is.
fn push_links(out: &mut String, data: &str) {
    if data.starts_with('{') {
        if let Some(m) = members(data) {
            if let (Some(ty), Some(id)) = (member(&m, "type"), member(&m, "id")) {
                out.push_str("{\"type\":");
                out.push_str(ty.get());
                out.push_str(",\"id\":");
                out.push_str(id.get());
                if let Some(name) = member(&m, "name") {
                    out.push_str(",\"name\":");
                    out.push_str(name.get());
                }
                for (k, v) in &m {
                    if k != "type" && k != "id" && k != "name" {
                        out.push(',');
                        push_key(out, k);
                        out.push(':');
                        out.push_str(v.get());
                    }
                }
                out.push('}');
                return;
            }
        }
        out.push_str(data);
        return;
    }
    if data.starts_with('[') {
        match serde_json::from_slice::<Vec<&RawValue>>(data.as_bytes()) {
            Ok(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    push_links(out, item.get());
                }
                out.push(']');
            }
            Err(_) => out.push_str(data),
        }
        return;
    }
    out.push_str(data);
}

/// Writes `,"key":value` for each member of an attributes object (not `type`/`id`).
struct Attributes<'o>(&'o mut String);

impl<'de> DeserializeSeed<'de> for Attributes<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Attributes<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of attributes")
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            let value: &'de RawValue = map.next_value()?;
            if key == "type" || key == "id" {
                continue;
            }
            self.0.push(',');
            push_key(self.0, &key);
            self.0.push(':');
            self.0.push_str(value.get());
        }
        Ok(())
    }
}

/// Writes `,"field":data` for each relationship, links normalised.
struct Relationships<'o>(&'o mut String);

impl<'de> DeserializeSeed<'de> for Relationships<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Relationships<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of relationships")
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            let value: &'de RawValue = map.next_value()?;
            if key == "type" || key == "id" {
                continue;
            }
            self.0.push(',');
            push_key(self.0, &key);
            self.0.push(':');
            push_rel_data(self.0, value);
        }
        Ok(())
    }
}

/// One resource object → a flat record text and its id. `None` when `type`/`id` are
/// missing or of the wrong kind.
struct ResourceSeed;

impl<'de> DeserializeSeed<'de> for ResourceSeed {
    type Value = Option<(String, i64)>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ResourceSeed {
    type Value = Option<(String, i64)>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON:API resource object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut ty: Option<&'de RawValue> = None;
        let mut id: Option<&'de RawValue> = None;
        let mut body = String::new();
        let mut rels = String::new();
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match key.as_ref() {
                "type" => ty = Some(map.next_value()?),
                "id" => id = Some(map.next_value()?),
                "attributes" => map.next_value_seed(Attributes(&mut body))?,
                "relationships" => map.next_value_seed(Relationships(&mut rels))?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let (Some(ty), Some(id)) = (ty, id) else {
            return Ok(None);
        };
        let Ok(id_num) = id.get().parse::<i64>() else {
            return Ok(None);
        };
        if !is_string(ty) {
            return Ok(None);
        }
        let mut out = String::with_capacity(24 + ty.get().len() + body.len() + rels.len());
        out.push_str("{\"type\":");
        out.push_str(ty.get());
        out.push_str(",\"id\":");
        out.push_str(id.get());
        out.push_str(&body);
        out.push_str(&rels);
        out.push('}');
        Ok(Some((out, id_num)))
    }
}

/// The `data` member of a document: one resource or a list of them.
enum Want {
    One,
    Many,
}

struct DocSeed(Want);

/// What a document held: its records (`None` entries were invalid resources).
type Records = Vec<Option<(String, i64)>>;

impl<'de> DeserializeSeed<'de> for DocSeed {
    type Value = Option<Records>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for DocSeed {
    type Value = Option<Records>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON:API document")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut data = None;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if key == "data" {
                data = Some(match self.0 {
                    Want::One => vec![map.next_value_seed(ResourceSeed)?],
                    Want::Many => map.next_value_seed(ListSeed)?,
                });
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(data)
    }
}

struct ListSeed;

impl<'de> DeserializeSeed<'de> for ListSeed {
    type Value = Records;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ListSeed {
    type Value = Records;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of resources")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(r) = seq.next_element_seed(ResourceSeed)? {
            out.push(r);
        }
        Ok(out)
    }
}

/// The error for a body that is not a JSON:API document of records (also what a
/// runtime decoding pages itself reports).
pub fn not_a_page(resp: &HttpResponse) -> Error {
    Error::decode_from(
        "the response is not a JSON:API document of records with `type` and `id`",
        resp,
    )
}

fn decode_doc(resp: &HttpResponse, want: Want) -> Result<Vec<(String, i64)>, Error> {
    let fail = || not_a_page(resp);
    let mut de = serde_json::Deserializer::from_slice(&resp.body);
    let records = DocSeed(want)
        .deserialize(&mut de)
        .ok()
        .flatten()
        .ok_or_else(fail)?;
    de.end().map_err(|_| fail())?;
    records.into_iter().map(|r| r.ok_or_else(fail)).collect()
}

/// Transcodes a single-record response (`{data: {...}}`) into one flat record text.
pub fn transcode_single(resp: &HttpResponse) -> Result<String, Error> {
    decode_doc(resp, Want::One)?
        .pop()
        .map(|(text, _)| text)
        .ok_or_else(|| Error::decode("the response has no record", resp.status, None))
}

/// Transcodes a list response into flat record texts.
pub fn transcode_page(resp: &HttpResponse) -> Result<PageText, Error> {
    let (records, ids) = decode_doc(resp, Want::Many)?.into_iter().unzip();
    Ok(PageText {
        records,
        ids,
        runtime: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::query::decode_page;
    use serde_json::{json, Value};

    fn resp(body: &str) -> HttpResponse {
        HttpResponse {
            status: 200,
            headers: vec![],
            body: body.as_bytes().to_vec(),
        }
    }

    /// The fast path must give exactly what the Value-based flattener gives, key order
    /// included.
    fn same_as_flatten(body: &str) {
        let fast = transcode_page(&resp(body)).unwrap();
        let text = join_array(&fast.records);
        let slow = Value::Array(decode_page(&resp(body)).unwrap());
        let parsed: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed, slow, "{body}");
        // Same keys in the same order (Value equality ignores order; text does not).
        assert_eq!(
            serde_json::to_string(&parsed).unwrap(),
            serde_json::to_string(&slow).unwrap()
        );
    }

    #[test]
    fn matches_the_flattener_on_recorded_and_tricky_pages() {
        same_as_flatten(
            r#"{"data":[{"type":"Asset","attributes":{"code":"Young Bunny"},"relationships":{},"id":1243,"links":{"self":"/api/v1/entity/assets/1243"}},{"type":"Asset","attributes":{"code":"Whiskers"},"relationships":{},"id":1307,"links":{"self":"/x"}}],"links":{"self":"/s","next":"/n"}}"#,
        );
        same_as_flatten(
            r#"{"data":[{"type":"Shot","id":7,"attributes":{"code":"a\"b\\c\u00e9","n":1.5,"l":[1,{"x":null}],"o":{"k":"v"},"t":true,"z":null,"id":99,"type":"X"},"relationships":{"project":{"data":{"id":70,"name":"Demo","type":"Project"},"links":{"related":"/p"}},"assets":{"data":[{"id":1,"name":"A","type":"Asset"},{"type":"Asset","id":2,"name":null,"extra":1}]},"empty":{"data":null},"nolinks":{"links":{}},"id":{"data":1}}}]}"#,
        );
        same_as_flatten(r#"{"data":[]}"#);
        same_as_flatten(r#"{"data":[{"type":"Shot","id":1}]}"#);
        // Bare relationships as documented for batch responses.
        same_as_flatten(
            r#"{"data":[{"type":"Project","id":82,"relationships":{"users":[{"id":19,"name":"Artist 1","type":"HumanUser"}],"created_by":{"id":24,"name":"Support","type":"HumanUser"}}}]}"#,
        );
        // Escaped keys.
        same_as_flatten(r#"{"data":[{"type":"Shot","id":1,"attributes":{"we\"ird\n":1}}]}"#);
        // Links without an id stay as they are; `data: null` wins over a bare link's
        // keys; nested lists and escaped link keys; links with null members.
        same_as_flatten(
            r#"{"data":[{"type":"Shot","id":1,"relationships":{"a":{"data":{"type":"Asset","name":"x"}},"b":{"data":null,"type":"Asset","id":3},"c":{"data":[[{"id":4,"type":"Asset"}],5,null]},"d":{"data":{"id":null,"type":null,"name":null,"k\"ey":[1,2]}},"e":"text","f":{"links":{"related":"/x"},"data":{"name":"n","id":6,"type":"Sequence","extra":{"deep":[{"id":1}]}}}}}]}"#,
        );
    }

    #[test]
    fn single_records_match_the_flattener() {
        let body = r#"{"data":{"type":"Asset","attributes":{"code":"Acorn","description":null},"relationships":{"project":{"data":{"id":70,"name":"Demo","type":"Project"},"links":{"related":"/api/v1/entity/projects/70"}},"tags":{"data":[]}},"id":1399,"links":{"self":"/api/v1/entity/assets/1399"}},"links":{"self":"/api/v1/entity/assets/1399"}}"#;
        let fast: Value = serde_json::from_str(&transcode_single(&resp(body)).unwrap()).unwrap();
        let slow = crate::protocol::record::decode_single(&resp(body)).unwrap();
        assert_eq!(
            serde_json::to_string(&fast).unwrap(),
            serde_json::to_string(&slow).unwrap()
        );
        for bad in ["", "{}", r#"{"data":[]}"#, r#"{"data":{"type":"Shot"}}"#] {
            assert!(transcode_single(&resp(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn keeps_ids_and_truncates() {
        let mut p = transcode_page(&resp(
            r#"{"data":[{"type":"Shot","id":3},{"type":"Shot","id":9}]}"#,
        ))
        .unwrap();
        assert_eq!(p.ids, vec![3, 9]);
        p.truncate(1);
        assert_eq!(
            join_array(&p.records),
            json!([{"type": "Shot", "id": 3}]).to_string()
        );
    }

    #[test]
    fn malformed_pages_are_decode_errors() {
        for bad in [
            "",
            "null",
            "[]",
            r#"{"data":{}}"#,
            r#"{"data":[{"id":1}]}"#,
            r#"{"data":[{"type":"Shot","id":"1"}]}"#,
            r#"{"data":[{"type":1,"id":1}]}"#,
            r#"{"data":[{"type":"Shot","id":1.5}]}"#,
            "<html>",
        ] {
            assert!(transcode_page(&resp(bad)).is_err(), "{bad}");
        }
    }
}

#[cfg(test)]
mod snippet_tests {
    use super::*;

    #[test]
    fn decode_errors_carry_the_status_and_a_short_snippet() {
        let resp = |status: u16, body: &str| HttpResponse {
            status,
            headers: vec![("x-request-id".into(), "rid".into())],
            body: body.as_bytes().to_vec(),
        };
        let long_html = format!(
            "<html><body>{}</body></html>",
            "Gateway says no. ".repeat(40)
        );
        let e = transcode_page(&resp(200, &long_html)).unwrap_err();
        assert_eq!(
            (e.kind, e.status),
            (crate::protocol::ErrorKind::Decode, Some(200))
        );
        let d = e.detail.clone().unwrap_or_default();
        assert!(d.contains("<html><body>Gateway says no."), "{d}");
        assert!(d.chars().count() < 260, "snippet is short: {d}");
        assert_eq!(e.request_id.as_deref(), Some("rid"));
        let e = transcode_single(&resp(200, "")).unwrap_err();
        assert!(
            e.detail.clone().unwrap_or_default().contains("empty body"),
            "{:?}",
            e.detail
        );
        let e = crate::protocol::record::decode_single(&resp(201, "not json")).unwrap_err();
        assert!(
            e.detail.clone().unwrap_or_default().contains("not json"),
            "{:?}",
            e.detail
        );
    }
}
