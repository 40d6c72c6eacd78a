//! Fast path for pages of records: rewrites a JSON:API list document straight into the
//! JSON text of flat records `[{type, id, ...attributes, ...relationships}]`, with
//! borrowed raw values (no `Value` tree, field values copied as text). JS then parses
//! the result once with the native `JSON.parse`. Semantics are those of
//! [`super::record::flatten_resource`]: `type`/`id` cannot be overwritten by fields,
//! relationships give their `data`, links come out as `{type, id, name, …}`.

use std::borrow::Cow;

use std::fmt;

use super::error::Error;
use super::http::HttpResponse;
use super::json::{self, Reader};

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
/// no buffering. `None` when `text` is not an object.
fn members(text: &str) -> Option<Vec<(Cow<'_, str>, &str)>> {
    let mut r = Reader::new(text);
    let mut out = Vec::new();
    r.object(|r, key| {
        out.push((key, r.raw()?));
        Some(())
    })?;
    r.end()?;
    Some(out)
}

/// The value of member `key` (the first one).
fn member<'a>(members: &[(Cow<'_, str>, &'a str)], key: &str) -> Option<&'a str> {
    members.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
}

fn push_key(out: &mut String, key: &str) {
    if key.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push('"');
        out.push_str(key);
        out.push('"');
    } else {
        // Rare: keys that need escaping.
        json::write_str(out, key);
    }
}

/// Writes a relationship's `data` (a link, a list of links, or anything else as is).
fn push_rel_data(out: &mut String, text: &str) {
    // `{data, links}` in list responses; a bare link or list in some batch answers.
    let data: &str = if text.starts_with('{') {
        match members(text) {
            Some(m) => match member(&m, "data") {
                Some(d) => d,
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
                out.push_str(ty);
                out.push_str(",\"id\":");
                out.push_str(id);
                if let Some(name) = member(&m, "name") {
                    out.push_str(",\"name\":");
                    out.push_str(name);
                }
                for (k, v) in &m {
                    if k != "type" && k != "id" && k != "name" {
                        out.push(',');
                        push_key(out, k);
                        out.push(':');
                        out.push_str(v);
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
        let mut r = Reader::new(data);
        let mut items = Vec::new();
        let listed = r
            .array(|r| {
                items.push(r.raw()?);
                Some(())
            })
            .and_then(|()| r.end());
        if listed.is_some() {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_links(out, item);
            }
            out.push(']');
        } else {
            out.push_str(data);
        }
        return;
    }
    out.push_str(data);
}

/// Writes `,"key":value` for each member of an `attributes` (or, with `links`,
/// `relationships`, their data normalised) object, except `type`/`id`. The value
/// must be an object or `null`.
fn push_fields(r: &mut Reader<'_>, out: &mut String, links: bool) -> Option<()> {
    if r.peek()? == b'n' {
        return (r.raw()? == "null").then_some(());
    }
    r.object(|r, key| {
        let value = r.raw()?;
        if key != "type" && key != "id" {
            out.push(',');
            push_key(out, &key);
            out.push(':');
            if links {
                push_rel_data(out, value);
            } else {
                out.push_str(value);
            }
        }
        Some(())
    })
}

/// One resource object → a flat record text and its id (`Some(None)` when
/// `type`/`id` are missing or of the wrong kind; `None` when it is not an object of
/// well-formed members).
fn resource(r: &mut Reader<'_>) -> Option<Option<(String, i64)>> {
    let mut ty = None;
    let mut id = None;
    let mut body = String::new();
    let mut rels = String::new();
    r.object(|r, key| {
        match key.as_ref() {
            "type" => ty = Some(r.raw()?),
            "id" => id = Some(r.raw()?),
            "attributes" => push_fields(r, &mut body, false)?,
            "relationships" => push_fields(r, &mut rels, true)?,
            _ => drop(r.raw()?),
        }
        Some(())
    })?;
    let (Some(ty), Some(id)) = (ty, id) else {
        return Some(None);
    };
    let Ok(id_num) = id.parse::<i64>() else {
        return Some(None);
    };
    if !ty.starts_with('"') {
        return Some(None);
    }
    let mut out = String::with_capacity(24 + ty.len() + body.len() + rels.len());
    out.push_str("{\"type\":");
    out.push_str(ty);
    out.push_str(",\"id\":");
    out.push_str(id);
    out.push_str(&body);
    out.push_str(&rels);
    out.push('}');
    Some(Some((out, id_num)))
}

/// The `data` member of a document: one resource or a list of them.
enum Want {
    One,
    Many,
}

/// What a document held: its records (`None` entries were invalid resources).
type Records = Vec<Option<(String, i64)>>;

/// The records of a document's `data` (the last `data` member); `None` when the body
/// is not a JSON object or `data` is not what `want` asks for.
fn doc_records(body: &[u8], want: Want) -> Option<Records> {
    let mut r = Reader::new(std::str::from_utf8(body).ok()?);
    let mut data = None;
    r.object(|r, key| {
        if key != "data" {
            return r.raw().map(drop);
        }
        data = Some(match want {
            Want::One => vec![resource(r)?],
            Want::Many => {
                let mut list = Vec::new();
                r.array(|r| {
                    list.push(resource(r)?);
                    Some(())
                })?;
                list
            }
        });
        Some(())
    })?;
    r.end()?;
    data
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
    let records = doc_records(&resp.body, want).ok_or_else(fail)?;
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
    use crate::protocol::json::{sj as json, Value};
    use crate::protocol::query::decode_page;

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
