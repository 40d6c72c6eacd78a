//! Site preferences (`GET /preferences`) and hierarchy navigation
//! (`POST /hierarchy/_expand`, `POST /hierarchy/_search`).

use crate::protocol::json::{Map, Value};

use super::common::{
    as_object, check_field_name, child, decode_data, decode_error, get, indexed, json, json_id,
    only_keys, PathBuilder,
};
use super::error::Error;
use super::http::{HttpRequest, HttpResponse, Method};
use super::naming::validate_entity_type;
use super::record::parse_json;
use super::site::Site;

/// `GET /preferences[?prefs=a,b]`. `names` chooses a subset (`*` means all).
pub fn preferences_request(site: &Site, names: Option<&[String]>) -> Result<HttpRequest, Error> {
    let mut p = PathBuilder::new("/api/v1/preferences");
    if let Some(names) = names {
        if names.is_empty() {
            return Err(Error::invalid_input(
                "names",
                "must list at least one preference (or \"*\")",
            ));
        }
        for (i, n) in names.iter().enumerate() {
            if n != "*" {
                check_field_name(n, &indexed("names", i))?;
            }
        }
        p.list("prefs", names);
    }
    Ok(get(site.url(&p.finish())))
}

/// Decodes preferences: real sites wrap them in `data` (recorded); the reference shows
/// the bare object. Both give `{name: value}`.
pub fn decode_preferences(resp: &HttpResponse) -> Result<Value, Error> {
    match parse_json(resp)? {
        Value::Object(mut o) => match o.remove("data") {
            Some(d @ Value::Object(_)) => Ok(d),
            Some(_) => Err(decode_error(
                resp,
                "the preferences' `data` is not an object",
            )),
            None => {
                o.remove("links");
                Ok(Value::Object(o))
            }
        },
        _ => Err(decode_error(resp, "the preferences are not an object")),
    }
}

fn opt_str<'a>(o: &'a Map<String, Value>, key: &str, path: &str) -> Result<Option<&'a str>, Error> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(s)),
        Some(_) => Err(Error::invalid_input(
            &child(path, key),
            "must be a non-empty string",
        )),
    }
}

fn check_hierarchy_path(p: &str, path: &str) -> Result<(), Error> {
    if !p.starts_with('/') || p.chars().any(char::is_control) || p.len() > 2048 {
        return Err(Error::invalid_input(
            path,
            "must be a hierarchy path starting with \"/\", e.g. \"/Project/70\"",
        ));
    }
    Ok(())
}

/// `POST /hierarchy/_expand`: `{path, entity_fields?: [{entity, fields}], seed_entity_field?}`.
pub fn expand_request(site: &Site, body: &Value) -> Result<HttpRequest, Error> {
    let o = as_object(body, "body")?;
    only_keys(o, &["path", "entity_fields", "seed_entity_field"], "body")?;
    let path = opt_str(o, "path", "body")?
        .ok_or_else(|| Error::invalid_input("body.path", "is required"))?;
    check_hierarchy_path(path, "body.path")?;
    if let Some(ef) = o.get("entity_fields").filter(|v| !v.is_null()) {
        let Value::Array(items) = ef else {
            return Err(Error::invalid_input(
                "body.entity_fields",
                "must be a list of { entity, fields }",
            ));
        };
        for (i, item) in items.iter().enumerate() {
            let p = indexed("body.entity_fields", i);
            let e = as_object(item, &p)?;
            only_keys(e, &["entity", "fields"], &p)?;
            let ty = e.get("entity").and_then(Value::as_str).unwrap_or_default();
            validate_entity_type(ty, &child(&p, "entity"))?;
            let fp = child(&p, "fields");
            let Some(Value::Array(fields)) = e.get("fields") else {
                return Err(Error::invalid_input(&fp, "must be a list of field names"));
            };
            for (j, f) in fields.iter().enumerate() {
                let f = f.as_str().unwrap_or_default();
                check_field_name(f, &indexed(&fp, j))?;
            }
        }
    }
    if let Some(seed) = opt_str(o, "seed_entity_field", "body")? {
        check_seed(seed, "body.seed_entity_field")?;
    }
    Ok(json(
        Method::Post,
        site.url("/api/v1/hierarchy/_expand"),
        body,
    ))
}

/// A seed entity field is `Type.field` (e.g. `Version.entity`).
fn check_seed(seed: &str, path: &str) -> Result<(), Error> {
    let ok = seed.split_once('.').is_some_and(|(t, f)| {
        validate_entity_type(t, path).is_ok() && check_field_name(f, path).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_input(
            path,
            "must be an entity field as \"Type.field\", e.g. \"Version.entity\"",
        ))
    }
}

/// `POST /hierarchy/_search`: `{root_path?, search_criteria: {search_string} |
/// {entity: {type, id}}, seed_entity_field?}`; the criteria hold exactly one of the two.
pub fn search_request(site: &Site, body: &Value) -> Result<HttpRequest, Error> {
    let o = as_object(body, "body")?;
    only_keys(
        o,
        &["root_path", "search_criteria", "seed_entity_field"],
        "body",
    )?;
    if let Some(root) = opt_str(o, "root_path", "body")? {
        check_hierarchy_path(root, "body.root_path")?;
    }
    let cp = "body.search_criteria";
    let criteria = match o.get("search_criteria") {
        Some(c) => as_object(c, cp)?,
        None => return Err(Error::invalid_input(cp, "is required")),
    };
    only_keys(criteria, &["search_string", "entity"], cp)?;
    match (criteria.get("search_string"), criteria.get("entity")) {
        (Some(s), None) => {
            if s.as_str().is_none_or(|s| s.trim().is_empty()) {
                return Err(Error::invalid_input(
                    &child(cp, "search_string"),
                    "must be a non-empty string",
                ));
            }
        }
        (None, Some(e)) => {
            let ep = child(cp, "entity");
            let e = as_object(e, &ep)?;
            only_keys(e, &["type", "id"], &ep)?;
            validate_entity_type(
                e.get("type").and_then(Value::as_str).unwrap_or_default(),
                &child(&ep, "type"),
            )?;
            json_id(e.get("id"), &child(&ep, "id"))?;
        }
        _ => {
            return Err(Error::invalid_input(
                cp,
                "must hold exactly one of search_string and entity",
            ))
        }
    }
    if let Some(seed) = opt_str(o, "seed_entity_field", "body")? {
        check_seed(seed, "body.seed_entity_field")?;
    }
    Ok(json(
        Method::Post,
        site.url("/api/v1/hierarchy/_search"),
        body,
    ))
}

/// Decodes a hierarchy answer: the `data` member as given (a tree node for `_expand`,
/// a list of matches for `_search`).
pub fn decode_hierarchy(resp: &HttpResponse) -> Result<Value, Error> {
    decode_data(resp)
}

#[cfg(test)]
mod tests {
    use super::super::common::testing::{recorded_bodies, resp, site, src};
    use super::*;
    use crate::protocol::json::sj as json;
    use crate::protocol::ErrorKind;

    #[test]
    fn preferences() {
        let r = preferences_request(&site(), None).unwrap();
        assert_eq!(
            (r.method, r.url.as_str()),
            (Method::Get, "http://h:1/api/v1/preferences")
        );
        let names = vec!["format_date_fields".to_owned(), "*".to_owned()];
        let r = preferences_request(&site(), Some(&names)).unwrap();
        assert_eq!(
            r.url,
            "http://h:1/api/v1/preferences?prefs=format_date_fields,%2A"
        );
        assert_eq!(
            src(preferences_request(&site(), Some(&[])).unwrap_err()),
            "names"
        );
        assert_eq!(
            src(preferences_request(&site(), Some(&["a,b".into()])).unwrap_err()),
            "names[0]"
        );

        // Recorded (wrapped in data) and reference (bare) forms.
        let v = decode_preferences(&resp(200, r#"{"data":{"format_date_fields":"08/04/22","hours_per_day":8.0,"support_local_storage":true},"links":{"self":"/api/v1/preferences"}}"#)).unwrap();
        assert_eq!(v["hours_per_day"], 8.0);
        let v = decode_preferences(&resp(
            200,
            r#"{"format_number_fields":"1,000","support_local_storage":true}"#,
        ))
        .unwrap();
        assert_eq!(
            v,
            json!({"format_number_fields": "1,000", "support_local_storage": true})
        );
        for bad in ["", "[]", r#"{"data":[]}"#] {
            assert_eq!(
                decode_preferences(&resp(200, bad)).unwrap_err().kind,
                ErrorKind::Decode
            );
        }
        if let Some(bodies) = recorded_bodies(
            "ShotgridApiRuby_Preferences/1_1/all_preferences/parses_the_preferences_from_shotgrid.yml",
        ) {
            let v = decode_preferences(&resp(200, bodies.last().unwrap())).unwrap();
            assert_eq!(v["date_component_order"], "month_day");
            assert_eq!(v["format_currency_fields_negative_options"], "- $1,000");
            assert!(v["view_master_settings"].as_str().unwrap().starts_with("{\"status_groups\""));
        }
    }

    #[test]
    fn hierarchy_requests() {
        let b = json!({"path": "/Project/70", "entity_fields": [{"entity": "Version", "fields": ["code"]}], "seed_entity_field": "Version.entity"});
        let r = expand_request(&site(), &b).unwrap();
        assert_eq!(
            (r.method, r.url.as_str()),
            (Method::Post, "http://h:1/api/v1/hierarchy/_expand")
        );
        assert_eq!(
            serde_json::from_slice::<Value>(r.body.as_deref().unwrap()).unwrap(),
            b
        );
        let b = json!({"root_path": "/Project/70", "search_criteria": {"search_string": "bunny"}});
        let r = search_request(&site(), &b).unwrap();
        assert_eq!(
            (r.method, r.url.as_str()),
            (Method::Post, "http://h:1/api/v1/hierarchy/_search")
        );
        assert!(search_request(
            &site(),
            &json!({"search_criteria": {"entity": {"type": "Shot", "id": 2}}})
        )
        .is_ok());

        let cases = [
            (json!(null), true, "body"),
            (json!({}), true, "body.path"),
            (json!({"path": "Project/70"}), true, "body.path"),
            (json!({"path": "/", "extra": 1}), true, "body.extra"),
            (
                json!({"path": "/", "entity_fields": {}}),
                true,
                "body.entity_fields",
            ),
            (
                json!({"path": "/", "entity_fields": [{"entity": "version", "fields": []}]}),
                true,
                "body.entity_fields[0].entity",
            ),
            (
                json!({"path": "/", "entity_fields": [{"entity": "Version"}]}),
                true,
                "body.entity_fields[0].fields",
            ),
            (
                json!({"path": "/", "entity_fields": [{"entity": "Version", "fields": ["a b"]}]}),
                true,
                "body.entity_fields[0].fields[0]",
            ),
            (
                json!({"path": "/", "seed_entity_field": "entity"}),
                true,
                "body.seed_entity_field",
            ),
            (json!({}), false, "body.search_criteria"),
            (
                json!({"search_criteria": {}}),
                false,
                "body.search_criteria",
            ),
            (
                json!({"search_criteria": {"search_string": "a", "entity": {"type": "Shot", "id": 1}}}),
                false,
                "body.search_criteria",
            ),
            (
                json!({"search_criteria": {"search_string": ""}}),
                false,
                "body.search_criteria.search_string",
            ),
            (
                json!({"search_criteria": {"entity": {"type": "Shot", "id": 0}}}),
                false,
                "body.search_criteria.entity.id",
            ),
            (
                json!({"search_criteria": {"entity": {"type": "shot", "id": 1}}}),
                false,
                "body.search_criteria.entity.type",
            ),
            (
                json!({"search_criteria": {"search_string": "a", "x": 1}}),
                false,
                "body.search_criteria.x",
            ),
            (
                json!({"root_path": "x", "search_criteria": {"search_string": "a"}}),
                false,
                "body.root_path",
            ),
        ];
        for (b, expand, path) in cases {
            let r = if expand {
                expand_request(&site(), &b)
            } else {
                search_request(&site(), &b)
            };
            let e = r.unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidInput);
            assert_eq!(src(e), path, "{b}");
        }
    }

    #[test]
    fn decodes_hierarchy() {
        let v = decode_hierarchy(&resp(200, r#"{"data":{"label":"Demo: Animation","ref":{"kind":"entity","value":{"type":"Project","id":70}},"parent_path":"/","path":"/Project/70","has_children":true,"children":[{"label":"Assets","ref":{"kind":"entity_type","value":"Asset"},"path":"/Project/70/Asset","has_children":true}]}}"#)).unwrap();
        assert_eq!(v["children"][0]["path"], "/Project/70/Asset");
        let v = decode_hierarchy(&resp(200, r#"{"data":[{"label":"string","incremental_path":["string"],"path_label":"string","ref":{"id":0,"type":"string"},"project_id":0}]}"#)).unwrap();
        assert!(v.is_array());
        assert!(decode_hierarchy(&resp(200, "{}")).is_err());
    }
}
