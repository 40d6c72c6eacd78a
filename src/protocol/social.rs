//! Relationships, follows, activity streams, note threads and a project's last-accessed
//! time: the "around a record" endpoints under `/entity`.

use crate::protocol::json::{Map, Value};

use super::common::{
    as_object, check_field_name, check_id, child, decode_data, decode_data_list,
    decode_data_object, decode_error, get, indexed, json, json_id, record_or_link,
    records_or_links, PathBuilder,
};
use super::error::Error;
use super::filters::validate_field_path;
use super::http::{HttpRequest, HttpResponse, Method};
use super::naming::{url_segment, validate_entity_type};
use super::site::Site;

fn entity_base(entity_type: &str, id: u64) -> PathBuilder {
    PathBuilder::new("/api/v1/entity")
        .raw(&url_segment(entity_type))
        .raw(&crate::protocol::dec(id))
}

fn check_entity(entity_type: &str, id: u64, type_path: &str, id_path: &str) -> Result<(), Error> {
    validate_entity_type(entity_type, type_path)?;
    check_id(id, id_path)
}

/// `GET /entity/{t}/{id}/relationships/{field}`; `retired` asks for retired records.
pub fn relationship_request(
    site: &Site,
    entity_type: &str,
    id: u64,
    field: &str,
    retired: bool,
) -> Result<HttpRequest, Error> {
    check_entity(entity_type, id, "entityType", "id")?;
    check_field_name(field, "field")?;
    let mut p = entity_base(entity_type, id).raw("relationships").raw(field);
    if retired {
        p.pair("options[return_only]", "retired");
    }
    Ok(get(site.url(&p.finish())))
}

/// Decodes a relationship read: a list of linked records for a multi-entity field, one
/// record or `null` for an entity field.
pub fn decode_relationship(resp: &HttpResponse) -> Result<Value, Error> {
    match decode_data(resp)? {
        Value::Null => Ok(Value::Null),
        Value::Array(items) => records_or_links(resp, items).map(Value::Array),
        item => record_or_link(item)
            .ok_or_else(|| decode_error(resp, "the related record has no `type` and `id`")),
    }
}

/// Reads `{type, id}` links from one link or a list of them.
fn links(v: &Value, path: &str) -> Result<Vec<(String, u64)>, Error> {
    let items: Vec<(&Value, String)> = match v {
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .enumerate()
            .map(|(i, x)| (x, indexed(path, i)))
            .collect(),
        Value::Object(_) => vec![(v, path.to_owned())],
        _ => {
            return Err(Error::invalid_input(
                path,
                "must be an entity link { type, id } or a non-empty list of them",
            ))
        }
    };
    let mut out = Vec::with_capacity(items.len());
    for (item, p) in items {
        let o = as_object(item, &p)?;
        let ty = o.get("type").and_then(Value::as_str).unwrap_or_default();
        validate_entity_type(ty, &child(&p, "type"))?;
        let id = json_id(o.get("id"), &child(&p, "id"))?;
        out.push((ty.to_owned(), id));
    }
    Ok(out)
}

/// `POST /entity/human_users/{user}/follow` with `{entities: [{entity, record_id}]}`
/// (TitleCase types). `entity` is one link or a list. Answers 204.
pub fn follow_request(site: &Site, user_id: u64, entity: &Value) -> Result<HttpRequest, Error> {
    check_id(user_id, "userId")?;
    let entities: Vec<Value> = links(entity, "entity")?
        .into_iter()
        .map(|(t, id)| crate::protocol::json::json!({ "entity": t, "record_id": id }))
        .collect();
    let path = entity_base("HumanUser", user_id).raw("follow").finish();
    Ok(json(
        Method::Post,
        site.url(&path),
        &crate::protocol::json::json!({ "entities": entities }),
    ))
}

/// `PUT /entity/{t}/{id}/unfollow` with `{user_id}`. Answers 204.
pub fn unfollow_request(site: &Site, user_id: u64, entity: &Value) -> Result<HttpRequest, Error> {
    check_id(user_id, "userId")?;
    if entity.is_array() {
        return Err(Error::invalid_input(
            "entity",
            "must be one entity link { type, id }",
        ));
    }
    let Some((ty, id)) = links(entity, "entity")?.into_iter().next() else {
        return Err(Error::invalid_input("entity", "must be an entity link"));
    };
    let path = entity_base(&ty, id).raw("unfollow").finish();
    Ok(json(
        Method::Put,
        site.url(&path),
        &crate::protocol::json::json!({ "user_id": user_id }),
    ))
}

/// `GET /entity/{t}/{id}/followers`.
pub fn followers_request(site: &Site, entity_type: &str, id: u64) -> Result<HttpRequest, Error> {
    check_entity(entity_type, id, "entityType", "id")?;
    Ok(get(site.url(
        &entity_base(entity_type, id).raw("followers").finish(),
    )))
}

/// `GET /entity/human_users/{user}/following[?entity=&project_id=]`.
pub fn following_request(
    site: &Site,
    user_id: u64,
    entity_type: Option<&str>,
    project_id: Option<u64>,
) -> Result<HttpRequest, Error> {
    check_id(user_id, "userId")?;
    let mut p = entity_base("HumanUser", user_id).raw("following");
    if let Some(t) = entity_type {
        validate_entity_type(t, "options.entityType")?;
        p.pair("entity", &url_segment(t));
    }
    if let Some(id) = project_id {
        check_id(id, "options.projectId")?;
        p.pair("project_id", &crate::protocol::dec(id));
    }
    Ok(get(site.url(&p.finish())))
}

/// Decodes followers or follows: a list of `{type, id, name?}`.
pub fn decode_links(resp: &HttpResponse) -> Result<Vec<Value>, Error> {
    let items = decode_data_list(resp)?;
    records_or_links(resp, items)
}

/// `entity_fields[Type]=a,b` pairs: which fields to return per entity type.
pub fn push_entity_fields(
    p: &mut PathBuilder,
    entity_fields: &Value,
    path: &str,
) -> Result<(), Error> {
    if entity_fields.is_null() {
        return Ok(());
    }
    let o = as_object(entity_fields, path)?;
    for (ty, fields) in o {
        let tpath = child(path, ty);
        validate_entity_type(ty, &tpath)?;
        let Value::Array(items) = fields else {
            return Err(Error::invalid_input(
                &tpath,
                "must be a list of field names",
            ));
        };
        let mut names = Vec::with_capacity(items.len());
        for (i, f) in items.iter().enumerate() {
            let fpath = indexed(&tpath, i);
            let f = f
                .as_str()
                .ok_or_else(|| Error::invalid_input(&fpath, "must be a string"))?;
            if f != "*" {
                validate_field_path(f, &fpath)?;
            }
            names.push(f.to_owned());
        }
        if names.is_empty() {
            return Err(Error::invalid_input(&tpath, "must list at least one field"));
        }
        let mut key = String::from("entity_fields[");
        key.push_str(ty);
        key.push(']');
        p.list(&key, &names);
    }
    Ok(())
}

/// Options of an activity stream read.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ActivityOptions {
    /// `{Type: [fields]}` to return per entity type.
    pub entity_fields: Value,
    /// Lowest update id.
    pub min_id: Option<u64>,
    /// Highest update id.
    pub max_id: Option<u64>,
    /// Most updates (1..=500; the site's default is 25).
    pub limit: Option<u64>,
}

/// `GET /entity/{t}/{id}/activity_stream`.
pub fn activity_stream_request(
    site: &Site,
    entity_type: &str,
    id: u64,
    opts: &ActivityOptions,
) -> Result<HttpRequest, Error> {
    check_entity(entity_type, id, "entityType", "id")?;
    let mut p = entity_base(entity_type, id).raw("activity_stream");
    push_entity_fields(&mut p, &opts.entity_fields, "options.entityFields")?;
    if let Some(min) = opts.min_id {
        p.pair("min_id", &crate::protocol::dec(min));
    }
    if let Some(max) = opts.max_id {
        p.pair("max_id", &crate::protocol::dec(max));
    }
    if let (Some(min), Some(max)) = (opts.min_id, opts.max_id) {
        if min > max {
            return Err(Error::invalid_input(
                "options.minId",
                "must not be greater than options.maxId",
            ));
        }
    }
    if let Some(limit) = opts.limit {
        if !(1..=500).contains(&limit) {
            return Err(Error::invalid_input(
                "options.limit",
                "must be an integer from 1 to 500",
            ));
        }
        p.pair("limit", &crate::protocol::dec(limit));
    }
    Ok(get(site.url(&p.finish())))
}

/// Decodes an activity stream: `{entity_type, entity_id, latest_update_id,
/// earliest_update_id, updates: [...]}` as given.
pub fn decode_activity_stream(resp: &HttpResponse) -> Result<Value, Error> {
    let data = decode_data_object(resp)?;
    if !data.get("updates").is_some_and(Value::is_array) {
        return Err(decode_error(
            resp,
            "the activity stream has no `updates` list",
        ));
    }
    Ok(Value::Object(data))
}

/// `GET /entity/notes/{id}/thread_contents`.
pub fn note_thread_request(
    site: &Site,
    note_id: u64,
    entity_fields: &Value,
) -> Result<HttpRequest, Error> {
    check_id(note_id, "noteId")?;
    let mut p = entity_base("Note", note_id).raw("thread_contents");
    push_entity_fields(&mut p, entity_fields, "options.entityFields")?;
    Ok(get(site.url(&p.finish())))
}

/// Decodes a note thread: the Note then its replies and attachments, each a plain
/// `{type, id, ...}` object as the site sends them.
pub fn decode_note_thread(resp: &HttpResponse) -> Result<Vec<Value>, Error> {
    let items = decode_data_list(resp)?;
    if items
        .iter()
        .any(|i| !(i.get("type").is_some_and(Value::is_string) && i.get("id").is_some()))
    {
        return Err(decode_error(resp, "a thread item has no `type` and `id`"));
    }
    Ok(items)
}

/// `PUT /entity/projects/{id}/_update_last_accessed` with `{user_id}`.
pub fn last_accessed_request(
    site: &Site,
    project_id: u64,
    user_id: u64,
) -> Result<HttpRequest, Error> {
    check_id(project_id, "projectId")?;
    check_id(user_id, "userId")?;
    let path = entity_base("Project", project_id)
        .raw("_update_last_accessed")
        .finish();
    let mut body = Map::new();
    body.insert("user_id".into(), Value::from(user_id));
    Ok(json(Method::Put, site.url(&path), &Value::Object(body)))
}

/// Decodes the last-accessed answer: the project link `{type, id}`.
pub fn decode_last_accessed(resp: &HttpResponse) -> Result<Value, Error> {
    let data = decode_data(resp)?;
    record_or_link(data).ok_or_else(|| decode_error(resp, "the answer has no project link"))
}

#[cfg(test)]
mod tests {
    use super::super::common::testing::{body, resp, site, src};
    use super::*;
    use crate::protocol::json::sj as json;
    use crate::protocol::ErrorKind;

    #[test]
    fn builds_requests() {
        let s = site();
        let r = relationship_request(&s, "Shot", 5, "assets", false).unwrap();
        assert_eq!(
            (r.method, r.url.as_str()),
            (
                Method::Get,
                "http://h:1/api/v1/entity/shots/5/relationships/assets"
            )
        );
        let r = relationship_request(&s, "Shot", 5, "assets", true).unwrap();
        assert_eq!(r.url, "http://h:1/api/v1/entity/shots/5/relationships/assets?options%5Breturn_only%5D=retired");

        let r = follow_request(&s, 7, &json!({"type": "Task", "id": 5})).unwrap();
        assert_eq!(
            (r.method, r.url.as_str()),
            (
                Method::Post,
                "http://h:1/api/v1/entity/human_users/7/follow"
            )
        );
        assert_eq!(
            body(&r),
            json!({"entities": [{"entity": "Task", "record_id": 5}]})
        );
        let r = follow_request(
            &s,
            7,
            &json!([{"type": "Task", "id": 5}, {"type": "Shot", "id": 6, "name": "x"}]),
        )
        .unwrap();
        assert_eq!(
            body(&r)["entities"][1],
            json!({"entity": "Shot", "record_id": 6})
        );

        let r = unfollow_request(&s, 7, &json!({"type": "CustomEntity01", "id": 5})).unwrap();
        assert_eq!(
            (r.method, r.url.as_str()),
            (
                Method::Put,
                "http://h:1/api/v1/entity/custom_entity01s/5/unfollow"
            )
        );
        assert_eq!(body(&r), json!({"user_id": 7}));

        let r = followers_request(&s, "Shot", 5).unwrap();
        assert_eq!(
            (r.method, r.url.as_str()),
            (Method::Get, "http://h:1/api/v1/entity/shots/5/followers")
        );
        let r = following_request(&s, 7, None, None).unwrap();
        assert_eq!(r.url, "http://h:1/api/v1/entity/human_users/7/following");
        let r = following_request(&s, 7, Some("Task"), Some(3)).unwrap();
        assert_eq!(
            r.url,
            "http://h:1/api/v1/entity/human_users/7/following?entity=tasks&project_id=3"
        );

        let opts = ActivityOptions {
            entity_fields: json!({"Shot": ["code", "sg_status_list"], "Note": ["*"]}),
            min_id: Some(2),
            max_id: Some(9),
            limit: Some(50),
        };
        let r = activity_stream_request(&s, "Shot", 5, &opts).unwrap();
        assert_eq!(r.url, "http://h:1/api/v1/entity/shots/5/activity_stream?entity_fields%5BShot%5D=code,sg_status_list&entity_fields%5BNote%5D=%2A&min_id=2&max_id=9&limit=50");
        let r = activity_stream_request(&s, "Shot", 5, &ActivityOptions::default()).unwrap();
        assert_eq!(r.url, "http://h:1/api/v1/entity/shots/5/activity_stream");

        let r = note_thread_request(
            &s,
            1,
            &json!({"Reply": ["content", "user.HumanUser.login"]}),
        )
        .unwrap();
        assert_eq!(r.url, "http://h:1/api/v1/entity/notes/1/thread_contents?entity_fields%5BReply%5D=content,user.HumanUser.login");

        let r = last_accessed_request(&s, 82, 5).unwrap();
        assert_eq!(
            (r.method, r.url.as_str()),
            (
                Method::Put,
                "http://h:1/api/v1/entity/projects/82/_update_last_accessed"
            )
        );
        assert_eq!(body(&r), json!({"user_id": 5}));
    }

    #[test]
    fn invalid_arguments_name_the_place() {
        let s = site();
        let opts = |v: Value| ActivityOptions {
            entity_fields: v,
            ..Default::default()
        };
        let cases: Vec<(Result<HttpRequest, Error>, &str)> = vec![
            (
                relationship_request(&s, "shot", 5, "assets", false),
                "entityType",
            ),
            (relationship_request(&s, "Shot", 0, "assets", false), "id"),
            (
                relationship_request(&s, "Shot", 5, "assets/1", false),
                "field",
            ),
            (
                follow_request(&s, 0, &json!({"type": "Task", "id": 5})),
                "userId",
            ),
            (follow_request(&s, 7, &json!([])), "entity"),
            (follow_request(&s, 7, &json!("Task")), "entity"),
            (
                follow_request(&s, 7, &json!({"type": "task", "id": 5})),
                "entity.type",
            ),
            (
                follow_request(
                    &s,
                    7,
                    &json!([{"type": "Task", "id": 5}, {"type": "Task", "id": "6"}]),
                ),
                "entity[1].id",
            ),
            (
                unfollow_request(&s, 7, &json!([{"type": "Task", "id": 5}])),
                "entity",
            ),
            (
                unfollow_request(&s, 7, &json!({"type": "Task", "id": 0})),
                "entity.id",
            ),
            (followers_request(&s, "Shot", 0), "id"),
            (
                following_request(&s, 7, Some("tasks"), None),
                "options.entityType",
            ),
            (following_request(&s, 7, None, Some(0)), "options.projectId"),
            (
                activity_stream_request(&s, "Shot", 5, &opts(json!([]))),
                "options.entityFields",
            ),
            (
                activity_stream_request(&s, "Shot", 5, &opts(json!({"Shot": "code"}))),
                "options.entityFields.Shot",
            ),
            (
                activity_stream_request(&s, "Shot", 5, &opts(json!({"Shot": []}))),
                "options.entityFields.Shot",
            ),
            (
                activity_stream_request(&s, "Shot", 5, &opts(json!({"Shot": ["a b"]}))),
                "options.entityFields.Shot[0]",
            ),
            (
                activity_stream_request(&s, "Shot", 5, &opts(json!({"Shot": [1]}))),
                "options.entityFields.Shot[0]",
            ),
            (
                activity_stream_request(
                    &s,
                    "Shot",
                    5,
                    &ActivityOptions {
                        limit: Some(501),
                        ..Default::default()
                    },
                ),
                "options.limit",
            ),
            (
                activity_stream_request(
                    &s,
                    "Shot",
                    5,
                    &ActivityOptions {
                        min_id: Some(9),
                        max_id: Some(2),
                        ..Default::default()
                    },
                ),
                "options.minId",
            ),
            (note_thread_request(&s, 0, &Value::Null), "noteId"),
            (last_accessed_request(&s, 0, 1), "projectId"),
            (last_accessed_request(&s, 1, 0), "userId"),
        ];
        for (r, path) in cases {
            let e = r.unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidInput);
            assert_eq!(src(e), path);
        }
    }

    #[test]
    fn decodes_answers() {
        // Real sites answer relationships with bare links.
        let v = decode_relationship(&resp(
            200,
            r#"{"data":[{"id":3,"name":"Bunny","type":"Asset"}],"links":{"self":"/x"}}"#,
        ))
        .unwrap();
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"[{"type":"Asset","id":3,"name":"Bunny"}]"#
        );
        let v = decode_relationship(&resp(
            200,
            r#"{"data":{"id":1,"name":"P","type":"Project"}}"#,
        ))
        .unwrap();
        assert_eq!(v["id"], 1);
        assert_eq!(
            decode_relationship(&resp(200, r#"{"data":null}"#)).unwrap(),
            Value::Null
        );
        assert!(decode_relationship(&resp(200, r#"{"data":[{"id":1}]}"#)).is_err());

        // Reference examples.
        let v = decode_links(&resp(200, r#"{"data":[{"id":5,"type":"HumanUser","attributes":{"name":"Artist 1"},"links":{"self":"/api/v1/entity/human_users/5"}}]}"#)).unwrap();
        assert_eq!(
            v,
            vec![json!({"type": "HumanUser", "id": 5, "name": "Artist 1"})]
        );
        let v = decode_links(&resp(
            200,
            r#"{"data":[{"id":82,"type":"Task","links":{"self":"/api/v1/projects/82"}}]}"#,
        ))
        .unwrap();
        assert_eq!(v, vec![json!({"type": "Task", "id": 82})]);
        assert!(decode_links(&resp(200, r#"{"data":{}}"#)).is_err());

        let v = decode_activity_stream(&resp(200, r#"{"data":{"entity_type":"Shot","entity_id":5,"latest_update_id":9,"earliest_update_id":0,"updates":[{"id":9,"update_type":"update","meta":{"type":"attribute_change","attribute_name":"sg_status_list"},"created_at":"2018-05-30T04:57:24Z","read":false,"primary_entity":{"type":"Shot","id":5,"name":"shot 5","status":"act"},"created_by":{"type":"ApiUser","id":10,"name":"A api user","status":"act","image":null}}]},"links":{"self":"/api/v1/entity/shots/5/activity_stream"}}"#)).unwrap();
        assert_eq!(v["updates"][0]["primary_entity"]["name"], "shot 5");
        assert!(decode_activity_stream(&resp(200, r#"{"data":{"entity_id":5}}"#)).is_err());

        let v = decode_note_thread(&resp(200, r#"{"data":[{"type":"Note","id":1,"content":"Hello, this is my note","created_at":"2006-04-10T14:19:57Z","created_by":null},{"type":"Reply","id":1,"content":"admin reply","user":{"id":8,"name":"Admin User","type":"HumanUser","image":null},"created_at":"2007-04-10T14:19:57Z"}],"links":{"self":"/api/v1/entity/notes/1/thread_contents"}}"#)).unwrap();
        assert_eq!((v.len(), v[1]["type"].as_str()), (2, Some("Reply")));
        assert!(decode_note_thread(&resp(200, r#"{"data":[{"content":"x"}]}"#)).is_err());

        let v = decode_last_accessed(&resp(
            200,
            r#"{"data":{"id":82,"type":"Project"},"links":{"self":"/api/v1/projects/82"}}"#,
        ))
        .unwrap();
        assert_eq!(v, json!({"type": "Project", "id": 82}));
        assert_eq!(
            decode_last_accessed(&resp(200, "")).unwrap_err().kind,
            ErrorKind::Decode
        );
    }
}
