//! JSON:API resources → plain records `{type, id, ...fields}` (the shape users know from
//! the Python API), linked entities as `{type, id, name}`.

use crate::protocol::json::{Map, Value};

use super::error::Error;
use super::http::HttpResponse;

/// Flattens one JSON:API resource object. Returns `None` when it lacks `type` or `id`.
/// Attribute and relationship names never overwrite `type` and `id`.
pub fn flatten_resource(resource: Value) -> Option<Value> {
    let Value::Object(mut obj) = resource else {
        return None;
    };
    let ty = obj.remove("type").filter(Value::is_string)?;
    let id = obj.remove("id").filter(Value::is_number)?;
    // Gathered, then made an object once (`Map::from_members`: a field in both
    // `attributes` and `relationships` keeps its first place and the relationship's
    // value), so a record with many fields is not a quadratic series of inserts.
    let mut out = vec![("type".to_owned(), ty), ("id".to_owned(), id)];
    if let Some(Value::Object(attrs)) = obj.remove("attributes") {
        for (k, v) in attrs {
            if k != "type" && k != "id" {
                out.push((k, v));
            }
        }
    }
    if let Some(Value::Object(rels)) = obj.remove("relationships") {
        for (k, v) in rels {
            if k == "type" || k == "id" {
                continue;
            }
            // Usually `{data, links}`; batch responses were documented with the bare
            // link or list instead.
            let data = match v {
                Value::Object(mut r) => match r.remove("data") {
                    Some(d) => d,
                    None if r.contains_key("type") && r.contains_key("id") => Value::Object(r),
                    None => Value::Null,
                },
                list @ Value::Array(_) => list,
                _ => Value::Null,
            };
            out.push((k, normalize_link(data)));
        }
    }
    Some(Value::Object(Map::from_members(out)))
}

/// Puts a linked entity's keys in the order users read them: `{type, id, name, …}`
/// (sites send `{id, name, type}`); lists of links are normalised item by item.
fn normalize_link(v: Value) -> Value {
    match v {
        Value::Object(mut o) if o.contains_key("type") && o.contains_key("id") => {
            let mut out = Map::with_capacity(o.len());
            for key in ["type", "id", "name"] {
                if let Some(val) = o.remove(key) {
                    out.insert(key.to_owned(), val);
                }
            }
            out.extend(o);
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(normalize_link).collect()),
        other => other,
    }
}

/// Parses a successful response body as JSON. Empty or non-JSON bodies are decode errors.
pub fn parse_json(resp: &HttpResponse) -> Result<Value, Error> {
    super::json::parse(&resp.body)
        .ok_or_else(|| Error::decode_from("the response body is not JSON", resp))
}

/// A value as compact JSON text ([`super::json::text`]: no serde serializer, no
/// `Value` `Display` with its pretty printer, in the .wasm).
pub fn json_text(v: &Value) -> String {
    super::json::text(v)
}

/// Takes the top-level `data` member of a JSON:API document.
pub fn take_data(doc: Value, resp: &HttpResponse) -> Result<Value, Error> {
    match doc {
        Value::Object(mut o) => o.remove("data").ok_or(()),
        _ => Err(()),
    }
    .map_err(|()| Error::decode_from("the response has no `data` member", resp))
}

/// Decodes a single-record document into a flat record.
pub fn decode_single(resp: &HttpResponse) -> Result<Value, Error> {
    let data = take_data(parse_json(resp)?, resp)?;
    flatten_resource(data)
        .ok_or_else(|| Error::decode_from("the record has no `type` and `id`", resp))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::json::sj as json;

    fn ok(body: &str) -> HttpResponse {
        HttpResponse {
            status: 200,
            headers: vec![],
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn flattens_recorded_record() {
        let r = decode_single(&ok(r#"{"data":{"type":"Asset","attributes":{"code":"Acorn","description":null},"relationships":{"project":{"data":{"id":70,"name":"Demo","type":"Project"},"links":{"related":"/api/v1/entity/projects/70"}},"tags":{"data":[]}},"id":1399,"links":{"self":"/api/v1/entity/assets/1399"}},"links":{"self":"/api/v1/entity/assets/1399"}}"#)).unwrap();
        assert_eq!(
            r,
            json!({"type":"Asset","id":1399,"code":"Acorn","description":null,
                   "project":{"id":70,"name":"Demo","type":"Project"},"tags":[]})
        );
        // Keys come out as type, id, name (JSON text order matters to people reading it).
        assert_eq!(
            serde_json::to_string(&r["project"]).unwrap(),
            r#"{"type":"Project","id":70,"name":"Demo"}"#
        );
    }

    #[test]
    fn accepts_bare_relationships_of_batch_responses() {
        let r = flatten_resource(
            json!({"id":82,"type":"Project","attributes":{"name":"Demo Project"},
            "relationships":{"users":[{"id":19,"name":"Artist 1","type":"HumanUser"}],
                             "created_by":{"id":24,"name":"Shotgun Support","type":"HumanUser"}},
            "links":{"self":"/api/v1/projects/82"}}),
        )
        .unwrap();
        assert_eq!(r["users"][0]["name"], "Artist 1");
        assert_eq!(r["created_by"]["id"], 24);
    }

    #[test]
    fn hostile_fields_cannot_replace_type_or_id() {
        let r = flatten_resource(json!({"type":"Shot","id":1,"attributes":{"id":99,"type":"X"},"relationships":{"id":{"data":1}}})).unwrap();
        assert_eq!(r, json!({"type":"Shot","id":1}));
    }

    #[test]
    fn malformed_documents_are_decode_errors() {
        for b in [
            "",
            "null",
            "[]",
            r#"{"links":{}}"#,
            r#"{"data":{"id":1}}"#,
            r#"{"data":{"type":"Shot","id":"1"}}"#,
            "<html>",
        ] {
            assert!(decode_single(&ok(b)).is_err(), "{b}");
        }
    }
}
