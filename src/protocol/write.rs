//! Writes: create, update, delete, revive and batch. Validates record data before
//! anything is sent. Writes are never replayed by the engine once they may have reached
//! the server.

use crate::protocol::json::{Map, Value};

use super::error::Error;
use super::http::{percent_encode_into, HttpRequest, HttpResponse, Method};
use super::naming::{url_segment, validate_entity_type};
use super::record::{flatten_resource, parse_json, take_data};
use super::site::Site;

/// Default largest number of requests in one `_batch` call.
pub const DEFAULT_BATCH_LIMIT: usize = 100;

fn child(base: &str, key: &str) -> String {
    let mut p = String::from(base);
    p.push('.');
    p.push_str(key);
    p
}

fn indexed(base: &str, i: usize) -> String {
    let mut p = String::from(base);
    p.push('[');
    p.push_str(&crate::protocol::dec(i));
    p.push(']');
    p
}

fn check_link(v: &Map<String, Value>, path: &str) -> Result<(), Error> {
    let ty_ok = v
        .get("type")
        .and_then(Value::as_str)
        .is_some_and(|t| validate_entity_type(t, path).is_ok());
    let id_ok = v.get("id").and_then(Value::as_u64).is_some_and(|id| id > 0);
    if ty_ok && id_ok {
        Ok(())
    } else {
        Err(Error::invalid_input(
            path,
            "an entity link must be {type, id} with a TitleCase type and a positive integer id",
        ))
    }
}

/// Checks the field values of a create or update. Objects carrying `type`/`id` are
/// entity links and must be well formed; `{multi_entity_update_mode, value}` is allowed
/// only in updates. Other objects (url, serializable fields) pass as they are.
pub fn validate_data(data: &Value, path: &str, update: bool) -> Result<(), Error> {
    let Value::Object(fields) = data else {
        return Err(Error::invalid_input(
            path,
            "must be an object of field values",
        ));
    };
    if fields.is_empty() && !update {
        return Err(Error::invalid_input(path, "must set at least one field"));
    }
    for (name, value) in fields {
        let fpath = child(path, name);
        let name_ok = !name.is_empty()
            && name.len() <= 256
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !name_ok {
            return Err(Error::invalid_input(
                &fpath,
                "is not a field name (letters, digits and _)",
            ));
        }
        if name == "id" || name == "type" {
            return Err(Error::invalid_input(
                &fpath,
                "cannot be written; give the entity type and id as arguments",
            ));
        }
        match value {
            Value::Object(o) if o.contains_key("multi_entity_update_mode") => {
                if !update {
                    return Err(Error::invalid_input(
                        &fpath,
                        "multi_entity_update_mode is only for updates",
                    ));
                }
                let mode_ok = matches!(
                    o.get("multi_entity_update_mode").and_then(Value::as_str),
                    Some("add" | "remove" | "set")
                );
                if !mode_ok {
                    return Err(Error::invalid_input(
                        &child(&fpath, "multi_entity_update_mode"),
                        "must be \"add\", \"remove\" or \"set\"",
                    ));
                }
                if let Some(k) = o
                    .keys()
                    .find(|k| *k != "multi_entity_update_mode" && *k != "value")
                {
                    return Err(Error::invalid_input(
                        &child(&fpath, k),
                        "unknown key; expected multi_entity_update_mode and value",
                    ));
                }
                let vpath = child(&fpath, "value");
                let Some(Value::Array(items)) = o.get("value") else {
                    return Err(Error::invalid_input(
                        &vpath,
                        "must be a list of entity links",
                    ));
                };
                for (i, item) in items.iter().enumerate() {
                    match item {
                        Value::Object(l) => check_link(l, &indexed(&vpath, i))?,
                        _ => {
                            return Err(Error::invalid_input(
                                &indexed(&vpath, i),
                                "must be an entity link {type, id}",
                            ))
                        }
                    }
                }
            }
            Value::Object(o) if o.contains_key("type") && o.contains_key("id") => {
                check_link(o, &fpath)?;
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    if let Value::Object(l) = item {
                        if l.contains_key("type") || l.contains_key("id") {
                            check_link(l, &indexed(&fpath, i))?;
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn entity_path(entity_type: &str, id: Option<u64>) -> String {
    let mut path = String::from("/api/v1/entity/");
    path.push_str(&url_segment(entity_type));
    if let Some(id) = id {
        path.push('/');
        path.push_str(&crate::protocol::dec(id));
    }
    path
}

fn push_options_fields(path: &mut String, fields: &[String]) {
    if fields.is_empty() {
        return;
    }
    path.push_str(if path.contains('?') { "&" } else { "?" });
    percent_encode_into(path, "options[fields]");
    path.push('=');
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            path.push(',');
        }
        percent_encode_into(path, f);
    }
}

fn json_request(method: Method, url: String, body: &Value) -> HttpRequest {
    HttpRequest::new(method, url)
        .header("Accept", "application/json")
        .header("Content-Type", "application/json")
        .body(super::record::json_text(body).into_bytes())
}

/// `POST /entity/{t}`: `data` must have passed [`validate_data`].
pub fn create_request(
    site: &Site,
    entity_type: &str,
    data: &Value,
    fields: &[String],
) -> HttpRequest {
    let mut path = entity_path(entity_type, None);
    push_options_fields(&mut path, fields);
    json_request(Method::Post, site.url(&path), data)
}

/// `PUT /entity/{t}/{id}`.
pub fn update_request(
    site: &Site,
    entity_type: &str,
    id: u64,
    data: &Value,
    fields: &[String],
) -> HttpRequest {
    let mut path = entity_path(entity_type, Some(id));
    push_options_fields(&mut path, fields);
    json_request(Method::Put, site.url(&path), data)
}

/// `DELETE /entity/{t}/{id}` (retires the record).
pub fn delete_request(site: &Site, entity_type: &str, id: u64) -> HttpRequest {
    HttpRequest::new(
        Method::Delete,
        site.url(&entity_path(entity_type, Some(id))),
    )
    .header("Accept", "application/json")
}

/// `POST /entity/{t}/{id}?revive=true` with no body.
pub fn revive_request(site: &Site, entity_type: &str, id: u64) -> HttpRequest {
    let mut path = entity_path(entity_type, Some(id));
    path.push_str("?revive=true");
    HttpRequest::new(Method::Post, site.url(&path)).header("Accept", "application/json")
}

/// Whether a revive brought the record back (`meta.did_revive`).
pub fn decode_revive(resp: &HttpResponse) -> Result<bool, Error> {
    let doc = parse_json(resp)?;
    doc.get("meta")
        .and_then(|m| m.get("did_revive"))
        .and_then(Value::as_bool)
        .ok_or_else(|| Error::decode_from("the revive response has no meta.did_revive", resp))
}

/// Validates batch requests and splits them into chunks of at most `limit`. More than
/// `limit` requests is an error unless `split` is set; chunks are sent in order and are
/// NOT atomic together (each chunk is its own transaction).
pub fn plan_batch(requests: &Value, limit: usize, split: bool) -> Result<Vec<Vec<Value>>, Error> {
    let Value::Array(items) = requests else {
        return Err(Error::invalid_input(
            "requests",
            "must be a list of {request_type, entity, record_id?, data?, options?}",
        ));
    };
    if items.is_empty() {
        return Err(Error::invalid_input("requests", "must not be empty"));
    }
    if items.len() > limit && !split {
        let mut d = String::from("has ");
        d.push_str(&crate::protocol::dec(items.len()));
        d.push_str(" requests, more than one batch call takes (");
        d.push_str(&crate::protocol::dec(limit));
        d.push_str("); pass { split: true } to send ordered chunks, which are not atomic together");
        return Err(Error::invalid_input("requests", d));
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        out.push(batch_item(item, &indexed("requests", i))?);
    }
    Ok(out.chunks(limit.max(1)).map(<[Value]>::to_vec).collect())
}

fn batch_item(item: &Value, path: &str) -> Result<Value, Error> {
    let Value::Object(o) = item else {
        return Err(Error::invalid_input(
            path,
            "must be {request_type, entity, record_id?, data?, options?}",
        ));
    };
    if let Some(k) = o.keys().find(|k| {
        !matches!(
            k.as_str(),
            "request_type" | "entity" | "record_id" | "data" | "options"
        )
    }) {
        return Err(Error::invalid_input(&child(path, k), "unknown key"));
    }
    let kind = o.get("request_type").and_then(Value::as_str);
    let Some(kind @ ("create" | "update" | "delete")) = kind else {
        return Err(Error::invalid_input(
            &child(path, "request_type"),
            "must be \"create\", \"update\" or \"delete\"",
        ));
    };
    let entity = o.get("entity").and_then(Value::as_str).unwrap_or_default();
    validate_entity_type(entity, &child(path, "entity"))?;
    let id_ok = o
        .get("record_id")
        .and_then(Value::as_u64)
        .is_some_and(|id| id > 0);
    match kind {
        "create" if o.contains_key("record_id") => {
            return Err(Error::invalid_input(
                &child(path, "record_id"),
                "a create takes no record_id",
            ))
        }
        "update" | "delete" if !id_ok => {
            return Err(Error::invalid_input(
                &child(path, "record_id"),
                "must be a positive integer",
            ))
        }
        _ => {}
    }
    match (kind, o.get("data")) {
        ("delete", Some(_)) => {
            return Err(Error::invalid_input(
                &child(path, "data"),
                "a delete takes no data",
            ))
        }
        ("delete", None) => {}
        (_, Some(d)) => validate_data(d, &child(path, "data"), kind == "update")?,
        (_, None) => return Err(Error::invalid_input(&child(path, "data"), "is required")),
    }
    if let Some(opts) = o.get("options") {
        let fields_ok = match opts {
            Value::Object(m) => {
                m.keys().all(|k| k == "fields")
                    && m.get("fields").is_none_or(|f| {
                        f.as_array().is_some_and(|a| a.iter().all(Value::is_string))
                    })
            }
            _ => false,
        };
        if !fields_ok {
            return Err(Error::invalid_input(
                &child(path, "options"),
                "must be { fields: [names] }",
            ));
        }
    }
    Ok(item.clone())
}

/// `POST /entity/_batch` for one chunk (plain JSON).
pub fn batch_request(site: &Site, chunk: &[Value]) -> HttpRequest {
    let body = crate::protocol::json::json!({ "requests": chunk });
    json_request(Method::Post, site.url("/api/v1/entity/_batch"), &body)
}

/// Decodes a batch response: records flattened, other results (e.g. of deletes) as given.
pub fn decode_batch(resp: &HttpResponse) -> Result<Vec<Value>, Error> {
    match take_data(parse_json(resp)?, resp)? {
        Value::Array(items) => Ok(items
            .into_iter()
            .map(|item| match item {
                Value::Object(ref o) if o.contains_key("type") && o.contains_key("id") => {
                    flatten_resource(item.clone()).unwrap_or(item)
                }
                other => other,
            })
            .collect()),
        _ => Err(Error::decode_from(
            "the batch response's `data` is not a list",
            resp,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::super::common::testing::src;
    use super::*;
    use crate::protocol::json::sj as json;

    #[test]
    fn validates_data() {
        assert!(validate_data(&json!({"code": "a", "project": {"type": "Project", "id": 1}, "assets": [{"type": "Asset", "id": 2}], "sg_meta": {"any": "thing"}}), "data", false).is_ok());
        assert!(validate_data(&json!({"assets": {"multi_entity_update_mode": "add", "value": [{"type": "Asset", "id": 2}]}}), "data", true).is_ok());
        let cases = [
            (json!([1]), false, "data"),
            (json!({}), false, "data"),
            (json!({"co de": 1}), false, "data.co de"),
            (json!({"id": 3}), true, "data.id"),
            (
                json!({"project": {"type": "project", "id": 1}}),
                false,
                "data.project",
            ),
            (
                json!({"project": {"type": "Project", "id": -1}}),
                false,
                "data.project",
            ),
            (
                json!({"assets": [{"type": "Asset", "id": 0}]}),
                false,
                "data.assets[0]",
            ),
            (
                json!({"assets": {"multi_entity_update_mode": "add", "value": []}}),
                false,
                "data.assets",
            ),
            (
                json!({"assets": {"multi_entity_update_mode": "merge", "value": []}}),
                true,
                "data.assets.multi_entity_update_mode",
            ),
            (
                json!({"assets": {"multi_entity_update_mode": "add", "value": [1]}}),
                true,
                "data.assets.value[0]",
            ),
            (
                json!({"assets": {"multi_entity_update_mode": "add"}}),
                true,
                "data.assets.value",
            ),
            (
                json!({"assets": {"multi_entity_update_mode": "add", "value": [], "x": 1}}),
                true,
                "data.assets.x",
            ),
        ];
        for (data, update, path) in cases {
            assert_eq!(
                src(validate_data(&data, "data", update).unwrap_err()),
                path,
                "{data}"
            );
        }
        assert!(validate_data(&json!({}), "data", true).is_ok());
    }

    #[test]
    fn builds_write_requests() {
        let site = Site::parse("http://h:1").unwrap();
        let r = create_request(
            &site,
            "Shot",
            &json!({"code": "a"}),
            &["code".into(), "project".into()],
        );
        assert_eq!(
            (r.method, r.url.as_str()),
            (
                Method::Post,
                "http://h:1/api/v1/entity/shots?options%5Bfields%5D=code,project"
            )
        );
        assert_eq!(r.body.as_deref(), Some(br#"{"code":"a"}"#.as_slice()));
        let r = update_request(&site, "CustomEntity01", 5, &json!({"code": "b"}), &[]);
        assert_eq!(
            (r.method, r.url.as_str()),
            (Method::Put, "http://h:1/api/v1/entity/custom_entity01s/5")
        );
        let r = delete_request(&site, "Shot", 5);
        assert_eq!(
            (r.method, r.url.as_str(), r.body.is_none()),
            (Method::Delete, "http://h:1/api/v1/entity/shots/5", true)
        );
        let r = revive_request(&site, "Shot", 5);
        assert_eq!(
            (r.method, r.url.as_str(), r.body.is_none()),
            (
                Method::Post,
                "http://h:1/api/v1/entity/shots/5?revive=true",
                true
            )
        );
    }

    #[test]
    fn decodes_revive() {
        let ok = |b: &str| HttpResponse {
            status: 200,
            headers: vec![],
            body: b.as_bytes().to_vec(),
        };
        assert!(decode_revive(&ok(
            r#"{"data":{"type":"Shot","id":1},"meta":{"did_revive":true}}"#
        ))
        .unwrap());
        assert!(!decode_revive(&ok(r#"{"data":{},"meta":{"did_revive":false}}"#)).unwrap());
        assert!(decode_revive(&ok(r#"{"data":{}}"#)).is_err());
    }

    #[test]
    fn plans_batches() {
        let reqs = |n: usize| {
            Value::Array((0..n).map(|i| json!({"request_type": "create", "entity": "Shot", "data": {"code": i.to_string()}})).collect())
        };
        assert_eq!(plan_batch(&reqs(3), 100, false).unwrap().len(), 1);
        let e = plan_batch(&reqs(101), 100, false).unwrap_err();
        assert_eq!(src(e.clone()), "requests");
        assert!(e.detail.clone().unwrap_or_default().contains("not atomic"));
        let chunks = plan_batch(&reqs(250), 100, true).unwrap();
        assert_eq!(
            chunks.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![100, 100, 50]
        );
        assert_eq!(chunks[2][0]["data"]["code"], "200", "order kept");
        let bad = [
            (json!({}), "requests"),
            (json!([]), "requests"),
            (json!([1]), "requests[0]"),
            (
                json!([{"request_type": "upsert", "entity": "Shot"}]),
                "requests[0].request_type",
            ),
            (
                json!([{"request_type": "create", "entity": "shot", "data": {"a": 1}}]),
                "requests[0].entity",
            ),
            (
                json!([{"request_type": "create", "entity": "Shot"}]),
                "requests[0].data",
            ),
            (
                json!([{"request_type": "create", "entity": "Shot", "record_id": 1, "data": {"a": 1}}]),
                "requests[0].record_id",
            ),
            (
                json!([{"request_type": "update", "entity": "Shot", "data": {"a": 1}}]),
                "requests[0].record_id",
            ),
            (
                json!([{"request_type": "delete", "entity": "Shot", "record_id": 1, "data": {}}]),
                "requests[0].data",
            ),
            (
                json!([{"request_type": "delete", "entity": "Shot", "record_id": 1, "extra": 1}]),
                "requests[0].extra",
            ),
            (
                json!([{"request_type": "update", "entity": "Shot", "record_id": 1, "data": {"p": {"type": "P", "id": "1"}}}]),
                "requests[0].data.p",
            ),
            (
                json!([{"request_type": "create", "entity": "Shot", "data": {"a": 1}, "options": {"fields": "code"}}]),
                "requests[0].options",
            ),
        ];
        for (v, path) in bad {
            assert_eq!(src(plan_batch(&v, 100, false).unwrap_err()), path, "{v}");
        }
    }

    #[test]
    fn decodes_batch_results() {
        let resp = HttpResponse { status: 200, headers: vec![], body: br#"{"data":[{"id":82,"type":"Project","attributes":{"name":"P"},"relationships":{}},true]}"#.to_vec() };
        assert_eq!(
            decode_batch(&resp).unwrap(),
            vec![json!({"type":"Project","id":82,"name":"P"}), json!(true)]
        );
    }
}
