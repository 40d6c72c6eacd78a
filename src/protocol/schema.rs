//! Schema reads and field edits under `/schema`. Paths take the singular snake_case
//! entity name (`/schema/custom_entity01/fields`). Answers keep the site's
//! `{value, editable}` pairs as they are: nothing is lost.

use crate::protocol::json::{Map, Value};

use super::common::{
    as_object, bare, check_field_name, check_id, child, decode_data, decode_data_object,
    decode_error, get, json, PathBuilder,
};
use super::error::Error;
use super::http::{HttpRequest, HttpResponse, Method};
use super::naming::{singular_segment, validate_entity_type};
use super::site::Site;

/// Field data types a field can be created with.
pub const DATA_TYPES: &[&str] = &[
    "checkbox",
    "currency",
    "date",
    "date_time",
    "duration",
    "entity",
    "float",
    "list",
    "multi_entity",
    "number",
    "percent",
    "status_list",
    "text",
    "timecode",
    "footage",
    "url",
    "uuid",
    "calculated",
];

fn schema_path(entity_type: Option<&str>) -> PathBuilder {
    let p = PathBuilder::new("/api/v1/schema");
    match entity_type {
        Some(t) => p.raw(&singular_segment(t)),
        None => p,
    }
}

fn with_project(mut p: PathBuilder, project_id: Option<u64>) -> String {
    if let Some(id) = project_id {
        p.pair("project_id", &crate::protocol::dec(id));
    }
    p.finish()
}

fn check_project(project_id: Option<u64>) -> Result<(), Error> {
    project_id.map_or(Ok(()), |id| check_id(id, "options.projectId"))
}

/// `GET /schema[?project_id=]`: every entity type's schema.
pub fn entities_request(site: &Site, project_id: Option<u64>) -> Result<HttpRequest, Error> {
    check_project(project_id)?;
    Ok(get(site.url(&with_project(schema_path(None), project_id))))
}

/// `GET /schema/{t}[?project_id=]`.
pub fn entity_request(
    site: &Site,
    entity_type: &str,
    project_id: Option<u64>,
) -> Result<HttpRequest, Error> {
    validate_entity_type(entity_type, "entityType")?;
    check_project(project_id)?;
    Ok(get(site.url(&with_project(
        schema_path(Some(entity_type)),
        project_id,
    ))))
}

/// `GET /schema/{t}/fields[?project_id=]`.
pub fn fields_request(
    site: &Site,
    entity_type: &str,
    project_id: Option<u64>,
) -> Result<HttpRequest, Error> {
    validate_entity_type(entity_type, "entityType")?;
    check_project(project_id)?;
    Ok(get(site.url(&with_project(
        schema_path(Some(entity_type)).raw("fields"),
        project_id,
    ))))
}

/// `GET /schema/{t}/fields/{name}[?project_id=]`.
pub fn field_request(
    site: &Site,
    entity_type: &str,
    field: &str,
    project_id: Option<u64>,
) -> Result<HttpRequest, Error> {
    validate_entity_type(entity_type, "entityType")?;
    check_field_name(field, "fieldName")?;
    check_project(project_id)?;
    Ok(get(site.url(&with_project(
        schema_path(Some(entity_type)).raw("fields").raw(field),
        project_id,
    ))))
}

/// Turns `{name: value}` into `[{property_name, value}]`, checking the names.
fn properties(props: &Value, path: &str) -> Result<Vec<Value>, Error> {
    let o = as_object(props, path)?;
    let mut out = Vec::with_capacity(o.len());
    for (name, value) in o {
        check_field_name(name, &child(path, name))?;
        out.push(crate::protocol::json::json!({ "property_name": name, "value": value }));
    }
    Ok(out)
}

/// `POST /schema/{t}/fields`: creates a field. `properties` is `{name: value}`; it must
/// carry the display `name`.
pub fn create_field_request(
    site: &Site,
    entity_type: &str,
    data_type: &str,
    props: &Value,
) -> Result<HttpRequest, Error> {
    validate_entity_type(entity_type, "entityType")?;
    if !DATA_TYPES.contains(&data_type) {
        let mut d = String::from("must be one of: ");
        d.push_str(&crate::protocol::join(DATA_TYPES, ", "));
        return Err(Error::invalid_input("dataType", d));
    }
    let list = properties(props, "properties")?;
    let has_name = as_object(props, "properties")?
        .get("name")
        .and_then(Value::as_str)
        .is_some_and(|n| !n.trim().is_empty());
    if !has_name {
        return Err(Error::invalid_input(
            "properties.name",
            "is required: the field's display name",
        ));
    }
    let body = crate::protocol::json::json!({ "data_type": data_type, "properties": list });
    let path = schema_path(Some(entity_type)).raw("fields").finish();
    Ok(json(Method::Post, site.url(&path), &body))
}

/// `PUT /schema/{t}/fields/{name}`: updates properties (at least one); `project_id`
/// chooses the project whose `visible` property changes.
pub fn update_field_request(
    site: &Site,
    entity_type: &str,
    field: &str,
    props: &Value,
    project_id: Option<u64>,
) -> Result<HttpRequest, Error> {
    validate_entity_type(entity_type, "entityType")?;
    check_field_name(field, "fieldName")?;
    let list = properties(props, "properties")?;
    if list.is_empty() {
        return Err(Error::invalid_input(
            "properties",
            "must set at least one property",
        ));
    }
    check_project(project_id)?;
    let mut body = Map::new();
    body.insert("properties".into(), Value::Array(list));
    if let Some(id) = project_id {
        body.insert("project_id".into(), Value::from(id));
    }
    let path = schema_path(Some(entity_type))
        .raw("fields")
        .raw(field)
        .finish();
    Ok(json(Method::Put, site.url(&path), &Value::Object(body)))
}

/// `DELETE /schema/{t}/fields/{name}` (204).
pub fn delete_field_request(
    site: &Site,
    entity_type: &str,
    field: &str,
) -> Result<HttpRequest, Error> {
    validate_entity_type(entity_type, "entityType")?;
    check_field_name(field, "fieldName")?;
    let path = schema_path(Some(entity_type))
        .raw("fields")
        .raw(field)
        .finish();
    Ok(bare(Method::Delete, site.url(&path)))
}

/// `POST /schema/{t}/fields/{name}?revive=true` (204).
pub fn revive_field_request(
    site: &Site,
    entity_type: &str,
    field: &str,
) -> Result<HttpRequest, Error> {
    validate_entity_type(entity_type, "entityType")?;
    check_field_name(field, "fieldName")?;
    let mut p = schema_path(Some(entity_type)).raw("fields").raw(field);
    p.pair("revive", "true");
    Ok(bare(Method::Post, site.url(&p.finish())))
}

/// Decodes `GET /schema`: real sites answer `data` as a list holding one object of
/// `{Type: {name, visible}}`; an object is accepted too. Returns one merged object.
pub fn decode_entities(resp: &HttpResponse) -> Result<Value, Error> {
    match decode_data(resp)? {
        Value::Object(o) => Ok(Value::Object(o)),
        Value::Array(items) => {
            let mut out = Map::new();
            for item in items {
                match item {
                    Value::Object(o) => out.extend(o),
                    _ => return Err(decode_error(resp, "the schema list holds a non-object")),
                }
            }
            Ok(Value::Object(out))
        }
        _ => Err(decode_error(resp, "the schema's `data` is not an object")),
    }
}

/// Decodes an entity, field or fields schema: the `data` object, `{value, editable}`
/// pairs kept.
pub fn decode_schema_object(resp: &HttpResponse) -> Result<Value, Error> {
    decode_data_object(resp).map(Value::Object)
}

#[cfg(test)]
mod tests {
    use super::super::common::testing::{body, recorded_bodies, resp, site, src};
    use super::*;
    use crate::protocol::json::sj as json;
    use crate::protocol::ErrorKind;

    #[test]
    fn schema_reads_use_singular_snake_case() {
        let s = site();
        let cases = [
            (
                entities_request(&s, None).unwrap(),
                "http://h:1/api/v1/schema",
            ),
            (
                entities_request(&s, Some(4)).unwrap(),
                "http://h:1/api/v1/schema?project_id=4",
            ),
            (
                entity_request(&s, "CustomEntity01", None).unwrap(),
                "http://h:1/api/v1/schema/custom_entity01",
            ),
            (
                fields_request(&s, "HumanUser", Some(2)).unwrap(),
                "http://h:1/api/v1/schema/human_user/fields?project_id=2",
            ),
            (
                field_request(&s, "Shot", "sg_status_list", None).unwrap(),
                "http://h:1/api/v1/schema/shot/fields/sg_status_list",
            ),
        ];
        for (r, url) in cases {
            assert_eq!((r.method, r.url.as_str()), (Method::Get, url));
            assert!(r.body.is_none());
        }
    }

    #[test]
    fn field_edits() {
        let s = site();
        let r = create_field_request(
            &s,
            "Shot",
            "text",
            &json!({"name": "My Field", "description": "d"}),
        )
        .unwrap();
        assert_eq!(
            (r.method, r.url.as_str()),
            (Method::Post, "http://h:1/api/v1/schema/shot/fields")
        );
        assert_eq!(
            body(&r),
            json!({"data_type": "text", "properties": [
                {"property_name": "name", "value": "My Field"},
                {"property_name": "description", "value": "d"}]})
        );
        let r = update_field_request(
            &s,
            "CustomNonProjectEntity01",
            "sg_x",
            &json!({"visible": false}),
            Some(3),
        )
        .unwrap();
        assert_eq!(
            (r.method, r.url.as_str()),
            (
                Method::Put,
                "http://h:1/api/v1/schema/custom_non_project_entity01/fields/sg_x"
            )
        );
        assert_eq!(
            body(&r),
            json!({"properties": [{"property_name": "visible", "value": false}], "project_id": 3})
        );
        let r = delete_field_request(&s, "Shot", "sg_x").unwrap();
        assert_eq!(
            (r.method, r.url.as_str(), r.body.is_none()),
            (
                Method::Delete,
                "http://h:1/api/v1/schema/shot/fields/sg_x",
                true
            )
        );
        let r = revive_field_request(&s, "Shot", "sg_x").unwrap();
        assert_eq!(
            (r.method, r.url.as_str(), r.body.is_none()),
            (
                Method::Post,
                "http://h:1/api/v1/schema/shot/fields/sg_x?revive=true",
                true
            )
        );
    }

    #[test]
    fn invalid_schema_arguments() {
        let s = site();
        let cases: Vec<(Result<HttpRequest, Error>, &str)> = vec![
            (entity_request(&s, "shots", None), "entityType"),
            (entities_request(&s, Some(0)), "options.projectId"),
            (fields_request(&s, "Shot", Some(0)), "options.projectId"),
            (field_request(&s, "Shot", "a/b", None), "fieldName"),
            (field_request(&s, "Shot", "", None), "fieldName"),
            (
                create_field_request(&s, "Shot", "string", &json!({"name": "x"})),
                "dataType",
            ),
            (
                create_field_request(&s, "Shot", "text", &json!([])),
                "properties",
            ),
            (
                create_field_request(&s, "Shot", "text", &json!({"description": "x"})),
                "properties.name",
            ),
            (
                create_field_request(&s, "Shot", "text", &json!({"name": "x", "bad key": 1})),
                "properties.bad key",
            ),
            (
                update_field_request(&s, "Shot", "code", &json!({}), None),
                "properties",
            ),
            (
                update_field_request(&s, "Shot", "co de", &json!({"name": "x"}), None),
                "fieldName",
            ),
            (delete_field_request(&s, "Shot", "x?y"), "fieldName"),
            (revive_field_request(&s, "Shot!", "x"), "entityType"),
        ];
        for (r, path) in cases {
            let e = r.unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidInput);
            assert_eq!(src(e), path);
        }
    }

    #[test]
    fn decodes_schema_answers() {
        // Recorded `GET /schema/Asset`.
        let v = decode_schema_object(&resp(200, r#"{"data":{"name":{"value":"Asset","editable":false},"visible":{"value":true,"editable":false}},"links":{"self":"/api/v1/schema/Asset"}}"#)).unwrap();
        assert_eq!(
            v,
            json!({"name": {"value": "Asset", "editable": false}, "visible": {"value": true, "editable": false}})
        );
        // The reference's `GET /schema` (a list holding one object).
        let v = decode_entities(&resp(200, r#"{"data":[{"Asset":{"name":{"value":"Asset","editable":false},"visible":{"value":true,"editable":false}},"ApiUser":{"name":{"value":"Script","editable":false}}}],"links":{"self":"/api/v1/schema"}}"#)).unwrap();
        assert_eq!(v["ApiUser"]["name"]["value"], "Script");
        assert_eq!(v["Asset"]["visible"]["editable"], false);
        assert_eq!(
            decode_entities(&resp(200, r#"{"data":{"Asset":{}}}"#)).unwrap(),
            json!({"Asset": {}})
        );
        for bad in ["", "[]", r#"{"data":[1]}"#, r#"{"data":3}"#] {
            assert_eq!(
                decode_entities(&resp(200, bad)).unwrap_err().kind,
                ErrorKind::Decode,
                "{bad}"
            );
        }
        assert!(decode_schema_object(&resp(200, r#"{"data":[]}"#)).is_err());
        for cassette in [
            "ShotgridApiRuby_Entities_Schema/1_1/schema_read/reads_the_schema.yml",
            "ShotgridApiRuby_Entities_Schema/1_1/fields_read/reads_the_schema.yml",
        ] {
            if let Some(bodies) = recorded_bodies(cassette) {
                let v = decode_schema_object(&resp(200, bodies.last().unwrap())).unwrap();
                let o = v.as_object().unwrap();
                assert!(!o.is_empty());
                if cassette.contains("fields_read") {
                    assert_eq!(
                        v["image"]["data_type"],
                        json!({"value": "image", "editable": false})
                    );
                    assert!(o.values().all(|f| f["data_type"]["value"].is_string()));
                } else {
                    assert_eq!(v["name"]["value"], "Asset");
                }
            }
        }
    }
}
