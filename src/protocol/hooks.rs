//! Webhook administration under `/webhook`: hooks (list, get, create, update, delete)
//! and their deliveries (list, get, acknowledge, redeliver). JSON only. Verifying the
//! signature of a delivery received by an app is a different matter (not here).

use crate::protocol::json::{Map, Value};

use super::common::{
    as_object, bare, check_field_name, child, decode_data, decode_data_list, decode_data_object,
    get, indexed, json, json_id, only_keys, PathBuilder,
};
use super::error::Error;
use super::http::{HttpRequest, HttpResponse, Method};
use super::naming::validate_entity_type;
use super::site::Site;

/// Largest acknowledgement the site keeps, in bytes.
pub const MAX_ACK_BYTES: usize = 4096;

/// Operations a webhook can subscribe to per entity type.
pub const OPERATIONS: &[&str] = &["create", "update", "delete", "revive"];

/// Checks a webhook or delivery id: the site uses UUIDs (hex digits and dashes).
pub fn check_uuid(id: &str, path: &str) -> Result<(), Error> {
    let ok =
        !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_input(
            path,
            "must be an id such as \"04684d89-1ff6-4775-9685-f6771f5d3658\"",
        ))
    }
}

fn hooks_path() -> PathBuilder {
    PathBuilder::new("/api/v1/webhook/hooks")
}

fn push_page(p: &mut PathBuilder, page: Option<u64>, page_size: Option<u64>) -> Result<(), Error> {
    if let Some(n) = page {
        if n == 0 || n > u64::from(u32::MAX) {
            return Err(Error::invalid_input(
                "options.page",
                "must be a positive integer",
            ));
        }
        p.pair("page[number]", &crate::protocol::dec(n));
    }
    if let Some(s) = page_size {
        if !(1..=5000).contains(&s) {
            return Err(Error::invalid_input(
                "options.pageSize",
                "must be an integer from 1 to 5000",
            ));
        }
        p.pair("page[size]", &crate::protocol::dec(s));
    }
    Ok(())
}

/// Options of `GET /webhook/hooks`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HookListOptions {
    /// Only hooks with this status.
    pub status: Option<String>,
    /// Only hooks with this URL.
    pub url: Option<String>,
    /// Page number (1-based).
    pub page: Option<u64>,
    /// Page size.
    pub page_size: Option<u64>,
}

/// Statuses a hook can be listed by.
pub const HOOK_STATUSES: &[&str] = &["active", "unstable", "failed", "disabled", "stable"];

/// `GET /webhook/hooks`.
pub fn list_request(site: &Site, opts: &HookListOptions) -> Result<HttpRequest, Error> {
    let mut p = hooks_path();
    if let Some(s) = &opts.status {
        if !HOOK_STATUSES.contains(&s.as_str()) {
            return Err(Error::invalid_input(
                "options.status",
                "must be \"active\", \"unstable\", \"failed\", \"disabled\" or \"stable\"",
            ));
        }
        p.pair("status", s);
    }
    if let Some(u) = &opts.url {
        check_url(u, "options.url")?;
        p.pair("url", u);
    }
    push_page(&mut p, opts.page, opts.page_size)?;
    Ok(get(site.url(&p.finish())))
}

/// `GET /webhook/hooks/{id}`.
pub fn get_request(site: &Site, id: &str) -> Result<HttpRequest, Error> {
    check_uuid(id, "id")?;
    Ok(get(site.url(&hooks_path().raw(id).finish())))
}

fn check_url(u: &str, path: &str) -> Result<(), Error> {
    let rest = u
        .strip_prefix("https://")
        .or_else(|| u.strip_prefix("http://"));
    let ok = rest.is_some_and(|r| {
        let host = r.split(['/', '?', '#']).next().unwrap_or_default();
        !host.is_empty() && !host.contains('@')
    }) && !u.chars().any(|c| c.is_whitespace() || c.is_control())
        && u.len() <= 2048;
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_input(
            path,
            "must be an absolute http(s) URL without credentials",
        ))
    }
}

/// Checks a hook body for create (`creating`) or update. Keys as the reference spells
/// them: `url`, `entity_types: {Type: {create|update|delete|revive: [fields]}}`, `name`,
/// `description`, `token`, `projects: [ids]`, `validate_ssl_cert`, `batch_deliveries`,
/// and on update `status` (`active` or `disabled`).
pub fn validate_hook(body: &Value, creating: bool) -> Result<(), Error> {
    let o = as_object(body, "hook")?;
    let mut allowed = vec![
        "url",
        "entity_types",
        "name",
        "description",
        "token",
        "projects",
        "validate_ssl_cert",
        "batch_deliveries",
    ];
    if !creating {
        allowed.push("status");
    }
    only_keys(o, &allowed, "hook")?;
    if !creating && o.is_empty() {
        return Err(Error::invalid_input(
            "hook",
            "must change at least one setting",
        ));
    }
    for key in ["url", "entity_types", "name"] {
        if creating && !o.contains_key(key) {
            return Err(Error::invalid_input(&child("hook", key), "is required"));
        }
    }
    if let Some(u) = o.get("url") {
        check_url(u.as_str().unwrap_or_default(), "hook.url")?;
    }
    for key in ["name", "description", "token"] {
        match o.get(key) {
            None | Some(Value::String(_)) => {}
            Some(Value::Null) if key != "name" => {}
            Some(_) => {
                return Err(Error::invalid_input(
                    &child("hook", key),
                    "must be a string",
                ))
            }
        }
    }
    if o.get("name")
        .and_then(Value::as_str)
        .is_some_and(|n| n.trim().is_empty())
    {
        return Err(Error::invalid_input("hook.name", "must not be empty"));
    }
    for key in ["validate_ssl_cert", "batch_deliveries"] {
        if o.get(key).is_some_and(|v| !v.is_boolean()) {
            return Err(Error::invalid_input(
                &child("hook", key),
                "must be true or false",
            ));
        }
    }
    if let Some(s) = o.get("status") {
        if !matches!(s.as_str(), Some("active" | "disabled")) {
            return Err(Error::invalid_input(
                "hook.status",
                "may only be set to \"active\" or \"disabled\"",
            ));
        }
    }
    if let Some(p) = o.get("projects") {
        let Value::Array(ids) = p else {
            return Err(Error::invalid_input(
                "hook.projects",
                "must be a list of project ids",
            ));
        };
        for (i, id) in ids.iter().enumerate() {
            json_id(Some(id), &indexed("hook.projects", i))?;
        }
    }
    if let Some(et) = o.get("entity_types") {
        let types = as_object(et, "hook.entity_types")?;
        if types.is_empty() {
            return Err(Error::invalid_input(
                "hook.entity_types",
                "must name at least one entity type",
            ));
        }
        for (ty, ops) in types {
            let tp = child("hook.entity_types", ty);
            validate_entity_type(ty, &tp)?;
            let ops = as_object(ops, &tp)?;
            if ops.is_empty() {
                return Err(Error::invalid_input(
                    &tp,
                    "must name at least one of create, update, delete, revive",
                ));
            }
            only_keys(ops, OPERATIONS, &tp)?;
            for (op, fields) in ops {
                let op_path = child(&tp, op);
                let Value::Array(fields) = fields else {
                    return Err(Error::invalid_input(
                        &op_path,
                        "must be a list of field names ([] for every field)",
                    ));
                };
                for (i, f) in fields.iter().enumerate() {
                    check_field_name(f.as_str().unwrap_or_default(), &indexed(&op_path, i))?;
                }
            }
        }
    }
    Ok(())
}

/// `POST /webhook/hooks`.
pub fn create_request(site: &Site, body: &Value) -> Result<HttpRequest, Error> {
    validate_hook(body, true)?;
    Ok(json(Method::Post, site.url(&hooks_path().finish()), body))
}

/// `PUT /webhook/hooks/{id}`.
pub fn update_request(site: &Site, id: &str, body: &Value) -> Result<HttpRequest, Error> {
    check_uuid(id, "id")?;
    validate_hook(body, false)?;
    Ok(json(
        Method::Put,
        site.url(&hooks_path().raw(id).finish()),
        body,
    ))
}

/// `DELETE /webhook/hooks/{id}` (204).
pub fn delete_request(site: &Site, id: &str) -> Result<HttpRequest, Error> {
    check_uuid(id, "id")?;
    Ok(bare(
        Method::Delete,
        site.url(&hooks_path().raw(id).finish()),
    ))
}

/// Options of `GET /webhook/hooks/{id}/deliveries`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeliveryListOptions {
    /// `delivered` or `failed`.
    pub status: Option<String>,
    /// From this UTC timestamp (seconds).
    pub from: Option<u64>,
    /// Up to this UTC timestamp (seconds).
    pub to: Option<u64>,
    /// Entity id in the delivered event.
    pub entity_id: Option<u64>,
    /// Entity type in the delivered event.
    pub entity_type: Option<String>,
    /// Acknowledgements containing this text.
    pub acknowledgement: Option<String>,
    /// Page number (1-based).
    pub page: Option<u64>,
    /// Page size.
    pub page_size: Option<u64>,
}

/// `GET /webhook/hooks/{id}/deliveries`.
pub fn deliveries_request(
    site: &Site,
    hook_id: &str,
    opts: &DeliveryListOptions,
) -> Result<HttpRequest, Error> {
    check_uuid(hook_id, "hookId")?;
    let mut p = hooks_path().raw(hook_id).raw("deliveries");
    if let Some(s) = &opts.status {
        if !matches!(s.as_str(), "delivered" | "failed") {
            return Err(Error::invalid_input(
                "options.status",
                "must be \"delivered\" or \"failed\"",
            ));
        }
        p.pair("status", s);
    }
    if let (Some(f), Some(t)) = (opts.from, opts.to) {
        if f > t {
            return Err(Error::invalid_input(
                "options.from",
                "must not be after options.to",
            ));
        }
    }
    if let Some(t) = opts.to {
        p.pair("to", &crate::protocol::dec(t));
    }
    if let Some(f) = opts.from {
        p.pair("from", &crate::protocol::dec(f));
    }
    if let Some(id) = opts.entity_id {
        json_id(Some(&Value::from(id)), "options.entityId")?;
        p.pair("entity_id", &crate::protocol::dec(id));
    }
    if let Some(t) = &opts.entity_type {
        validate_entity_type(t, "options.entityType")?;
        p.pair("entity_type", t);
    }
    if let Some(a) = &opts.acknowledgement {
        p.pair("acknowledgement", a);
    }
    push_page(&mut p, opts.page, opts.page_size)?;
    Ok(get(site.url(&p.finish())))
}

fn delivery_path(id: &str) -> PathBuilder {
    PathBuilder::new("/api/v1/webhook/deliveries").raw(id)
}

/// `GET /webhook/deliveries/{id}`.
pub fn delivery_request(site: &Site, id: &str) -> Result<HttpRequest, Error> {
    check_uuid(id, "id")?;
    Ok(get(site.url(&delivery_path(id).finish())))
}

/// `PUT /webhook/deliveries/{id}` with `{acknowledgement}` (≤ 4096 bytes of UTF-8).
pub fn acknowledge_request(site: &Site, id: &str, ack: &str) -> Result<HttpRequest, Error> {
    check_uuid(id, "id")?;
    if ack.len() > MAX_ACK_BYTES {
        let mut d = String::from("must be at most 4096 bytes of UTF-8 (it has ");
        d.push_str(&crate::protocol::dec(ack.len()));
        d.push(')');
        return Err(Error::invalid_input("acknowledgement", d));
    }
    let mut body = Map::new();
    body.insert("acknowledgement".into(), Value::String(ack.to_owned()));
    Ok(json(
        Method::Put,
        site.url(&delivery_path(id).finish()),
        &Value::Object(body),
    ))
}

/// `POST /webhook/deliveries/{id}/redeliver` (204).
pub fn redeliver_request(site: &Site, id: &str) -> Result<HttpRequest, Error> {
    check_uuid(id, "id")?;
    Ok(bare(
        Method::Post,
        site.url(&delivery_path(id).raw("redeliver").finish()),
    ))
}

/// Decodes one hook or delivery: the `data` object.
pub fn decode_one(resp: &HttpResponse) -> Result<Value, Error> {
    decode_data_object(resp).map(Value::Object)
}

/// Decodes a list of hooks or deliveries: the `data` list.
pub fn decode_list(resp: &HttpResponse) -> Result<Vec<Value>, Error> {
    decode_data_list(resp)
}

/// Decodes a create or update answer: the hook in `data` when the site sends a body,
/// `null` for an empty one.
pub fn decode_optional(resp: &HttpResponse) -> Result<Value, Error> {
    if resp.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    decode_data(resp)
}

#[cfg(test)]
mod tests {
    use super::super::common::testing::{resp, site, src};
    use super::*;
    use crate::protocol::json::sj as json;
    use crate::protocol::ErrorKind;

    const ID: &str = "04684d89-1ff6-4775-9685-f6771f5d3658";

    fn hook() -> Value {
        json!({"url": "http://sometargeturl.com", "entity_types": {"Asset": {"create": [], "update": ["code", "description"]}},
               "token": "some_token_to_sign_payload", "projects": [1, 2], "name": "Asset Webhook",
               "description": "Webhook for Asset creation", "validate_ssl_cert": true})
    }

    #[test]
    fn builds_requests() {
        let s = site();
        let r = list_request(&s, &HookListOptions::default()).unwrap();
        assert_eq!(
            (r.method, r.url.as_str()),
            (Method::Get, "http://h:1/api/v1/webhook/hooks")
        );
        let r = list_request(
            &s,
            &HookListOptions {
                status: Some("active".into()),
                url: Some("https://x.test/a?b=1".into()),
                page: Some(2),
                page_size: Some(10),
            },
        )
        .unwrap();
        assert_eq!(r.url, "http://h:1/api/v1/webhook/hooks?status=active&url=https%3A%2F%2Fx.test%2Fa%3Fb%3D1&page%5Bnumber%5D=2&page%5Bsize%5D=10");
        let r = get_request(&s, ID).unwrap();
        assert_eq!(r.url, format!("http://h:1/api/v1/webhook/hooks/{ID}"));
        let r = create_request(&s, &hook()).unwrap();
        assert_eq!(
            (r.method, r.url.as_str()),
            (Method::Post, "http://h:1/api/v1/webhook/hooks")
        );
        assert_eq!(
            serde_json::from_slice::<Value>(r.body.as_deref().unwrap()).unwrap(),
            hook()
        );
        assert!(r
            .headers
            .contains(&("Content-Type".into(), "application/json".into())));
        let r = update_request(&s, ID, &json!({"status": "disabled"})).unwrap();
        assert_eq!(
            (r.method, r.url.as_str()),
            (
                Method::Put,
                format!("http://h:1/api/v1/webhook/hooks/{ID}").as_str()
            )
        );
        let r = delete_request(&s, ID).unwrap();
        assert_eq!((r.method, r.body.is_none()), (Method::Delete, true));
        let r = deliveries_request(
            &s,
            ID,
            &DeliveryListOptions {
                status: Some("failed".into()),
                from: Some(1),
                to: Some(2),
                entity_id: Some(99),
                entity_type: Some("Asset".into()),
                acknowledgement: Some("ok".into()),
                page: None,
                page_size: Some(50),
            },
        )
        .unwrap();
        assert_eq!(r.url, format!("http://h:1/api/v1/webhook/hooks/{ID}/deliveries?status=failed&to=2&from=1&entity_id=99&entity_type=Asset&acknowledgement=ok&page%5Bsize%5D=50"));
        let r = delivery_request(&s, ID).unwrap();
        assert_eq!(r.url, format!("http://h:1/api/v1/webhook/deliveries/{ID}"));
        let r = acknowledge_request(&s, ID, "done").unwrap();
        assert_eq!(
            (r.method, r.body.as_deref()),
            (
                Method::Put,
                Some(br#"{"acknowledgement":"done"}"#.as_slice())
            )
        );
        let r = redeliver_request(&s, ID).unwrap();
        assert_eq!(
            (r.method, r.url.as_str(), r.body.is_none()),
            (
                Method::Post,
                format!("http://h:1/api/v1/webhook/deliveries/{ID}/redeliver").as_str(),
                true
            )
        );
    }

    #[test]
    fn acknowledgements_are_at_most_4_kb() {
        let s = site();
        assert!(acknowledge_request(&s, ID, &"a".repeat(4096)).is_ok());
        let e = acknowledge_request(&s, ID, &"a".repeat(4097)).unwrap_err();
        assert_eq!(src(e), "acknowledgement");
        // Bytes, not characters: 2049 two-byte characters are 4098 bytes.
        assert!(acknowledge_request(&s, ID, &"é".repeat(2049)).is_err());
        assert!(acknowledge_request(&s, ID, "").is_ok());
    }

    #[test]
    fn invalid_hooks_name_the_place() {
        let with = |k: &str, v: Value| {
            let mut h = hook();
            h[k] = v;
            h
        };
        let mut no_url = hook();
        no_url.as_object_mut().unwrap().remove("url");
        let cases = [
            (json!([]), true, "hook"),
            (no_url, true, "hook.url"),
            (with("url", json!("ftp://x")), true, "hook.url"),
            (with("url", json!("https://u:p@x")), true, "hook.url"),
            (with("url", json!(3)), true, "hook.url"),
            (with("name", json!("")), true, "hook.name"),
            (with("name", json!(1)), true, "hook.name"),
            (
                with("validate_ssl_cert", json!("yes")),
                true,
                "hook.validate_ssl_cert",
            ),
            (with("projects", json!([1, 0])), true, "hook.projects[1]"),
            (with("projects", json!(1)), true, "hook.projects"),
            (with("entity_types", json!({})), true, "hook.entity_types"),
            (
                with("entity_types", json!({"asset": {"create": []}})),
                true,
                "hook.entity_types.asset",
            ),
            (
                with("entity_types", json!({"Asset": {}})),
                true,
                "hook.entity_types.Asset",
            ),
            (
                with("entity_types", json!({"Asset": {"retire": []}})),
                true,
                "hook.entity_types.Asset.retire",
            ),
            (
                with("entity_types", json!({"Asset": {"update": "code"}})),
                true,
                "hook.entity_types.Asset.update",
            ),
            (
                with("entity_types", json!({"Asset": {"update": ["co de"]}})),
                true,
                "hook.entity_types.Asset.update[0]",
            ),
            (with("status", json!("active")), true, "hook.status"),
            (with("secret", json!("x")), true, "hook.secret"),
            (json!({}), false, "hook"),
            (json!({"status": "failed"}), false, "hook.status"),
        ];
        for (h, creating, path) in cases {
            let e = validate_hook(&h, creating).unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidInput);
            assert_eq!(src(e), path, "{h}");
        }
        assert!(validate_hook(&json!({"status": "active", "name": "n"}), false).is_ok());
    }

    #[test]
    fn invalid_ids_and_options() {
        let s = site();
        for bad in ["", "../x", "abc/def", "zz", &"a".repeat(65)] {
            assert_eq!(src(get_request(&s, bad).unwrap_err()), "id");
            assert_eq!(
                src(deliveries_request(&s, bad, &DeliveryListOptions::default()).unwrap_err()),
                "hookId"
            );
        }
        let cases: Vec<(Result<HttpRequest, Error>, &str)> = vec![
            (
                list_request(
                    &s,
                    &HookListOptions {
                        status: Some("on".into()),
                        ..Default::default()
                    },
                ),
                "options.status",
            ),
            (
                list_request(
                    &s,
                    &HookListOptions {
                        url: Some("x".into()),
                        ..Default::default()
                    },
                ),
                "options.url",
            ),
            (
                list_request(
                    &s,
                    &HookListOptions {
                        page: Some(0),
                        ..Default::default()
                    },
                ),
                "options.page",
            ),
            (
                list_request(
                    &s,
                    &HookListOptions {
                        page_size: Some(5001),
                        ..Default::default()
                    },
                ),
                "options.pageSize",
            ),
            (
                deliveries_request(
                    &s,
                    ID,
                    &DeliveryListOptions {
                        status: Some("ok".into()),
                        ..Default::default()
                    },
                ),
                "options.status",
            ),
            (
                deliveries_request(
                    &s,
                    ID,
                    &DeliveryListOptions {
                        from: Some(5),
                        to: Some(1),
                        ..Default::default()
                    },
                ),
                "options.from",
            ),
            (
                deliveries_request(
                    &s,
                    ID,
                    &DeliveryListOptions {
                        entity_type: Some("asset".into()),
                        ..Default::default()
                    },
                ),
                "options.entityType",
            ),
            (
                deliveries_request(
                    &s,
                    ID,
                    &DeliveryListOptions {
                        entity_id: Some(0),
                        ..Default::default()
                    },
                ),
                "options.entityId",
            ),
            (
                update_request(&s, "x y", &json!({"status": "active"})),
                "id",
            ),
            (redeliver_request(&s, "?"), "id"),
            (delete_request(&s, ""), "id"),
        ];
        for (r, path) in cases {
            assert_eq!(src(r.unwrap_err()), path);
        }
    }

    #[test]
    fn decodes_reference_answers() {
        let list = decode_list(&resp(200, r#"{"data":[{"id":"04684d89-1ff6-4775-9685-f6771f5d3658","num_deliveries":0,"url":"https://test_server","entity_types":{"Asset":{"create":[]}},"status":"stable","name":"Asset Create Webhook","description":"Webhook for Asset creation","validate_ssl_cert":true}],"links":{"self":"/x"}}"#)).unwrap();
        assert_eq!(list[0]["entity_types"]["Asset"]["create"], json!([]));
        let d = decode_one(&resp(200, r#"{"data":{"id":"008b4850-d5d2-4c2b-bfb4-8c4331233c4a","event_time":1540909354,"status":"delivered","process_time":936,"body":"","response_code":204,"request_body":{"data":{"id":857},"timestamp":"2019-02-28T21:52:57Z"},"acknowledgement":"","request_headers":{},"response_headers":{}},"links":{"self":"/x"}}"#)).unwrap();
        assert_eq!(d["response_code"], 204);
        assert_eq!(decode_optional(&resp(200, "")).unwrap(), Value::Null);
        assert_eq!(
            decode_optional(&resp(201, r#"{"data":{"id":"a"}}"#)).unwrap()["id"],
            "a"
        );
        assert_eq!(
            decode_list(&resp(200, r#"{"data":{}}"#)).unwrap_err().kind,
            ErrorKind::Decode
        );
        assert_eq!(
            decode_one(&resp(200, "<html>")).unwrap_err().kind,
            ErrorKind::Decode
        );
    }
}
