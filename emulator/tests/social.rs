//! Follows, activity stream, note threads, project last accessed, preferences and the
//! hierarchy, over real HTTP.

mod common;

use common::Site;
use reqwest::StatusCode;
use serde_json::{json, Value};

const ID: &str = "tests";
const SECRET: &str = "social-secret";

/// A demo site acting as the script user `tests`.
type Api = Site;

impl Site {
    async fn new() -> Api {
        Site::demo(ID, SECRET).await
    }
}

fn source(body: &Value, status: u16) -> &Value {
    let e = &body["errors"][0];
    assert_eq!(e["status"], status, "{body}");
    assert_eq!(e["code"], if status == 404 { 104 } else { 103 }, "{body}");
    &e["source"]
}

#[tokio::test]
async fn follow_following_followers_unfollow() {
    let api = Api::new().await;
    let artist = api.insert("HumanUser", json!({"name": "Artist 1", "login": "artist1"}));

    let follow = |entities: Value| json!({ "entities": entities });
    let (s, body) = api
        .call(
            "POST",
            &format!("/api/v1/entity/human_users/{artist}/follow"),
            Some(follow(json!([{"entity": "Shot", "record_id": 1}, {"entity": "Asset", "record_id": 2}, {"entity": "Project", "record_id": 2}]))),
        )
        .await;
    assert_eq!((s, body), (StatusCode::NO_CONTENT, Value::Null));
    // Admin (user 1) follows Shot 1 too; following twice is fine.
    for _ in 0..2 {
        let (s, _) = api
            .call(
                "POST",
                "/api/v1/entity/HumanUsers/1/follow",
                Some(follow(json!([{"entity": "Shot", "record_id": 1}]))),
            )
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT);
    }

    let (s, body) = api
        .call(
            "GET",
            &format!("/api/v1/entity/human_users/{artist}/following"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let data = body["data"].as_array().unwrap();
    assert_eq!(data.len(), 3);
    assert!(data
        .contains(&json!({"id": 1, "type": "Shot", "links": {"self": "/api/v1/entity/shots/1"}})));
    let (_, body) = api
        .call(
            "GET",
            &format!("/api/v1/entity/human_users/{artist}/following?entity=shots"),
            None,
        )
        .await;
    assert_eq!(
        body["data"],
        json!([{"id": 1, "type": "Shot", "links": {"self": "/api/v1/entity/shots/1"}}])
    );
    let (_, body) = api
        .call(
            "GET",
            &format!("/api/v1/entity/human_users/{artist}/following?project_id=2"),
            None,
        )
        .await;
    assert_eq!(
        body["data"],
        json!([{"id": 2, "type": "Project", "links": {"self": "/api/v1/entity/projects/2"}}])
    );
    let (_, body) = api
        .call(
            "GET",
            &format!("/api/v1/entity/human_users/{artist}/following?project_id=1&entity=Asset"),
            None,
        )
        .await;
    assert_eq!(body["data"].as_array().unwrap().len(), 1);

    let (s, body) = api
        .call("GET", "/api/v1/entity/shots/1/followers", None)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        body["data"],
        json!([
            {"id": 1, "type": "HumanUser", "attributes": {"name": "Demo Admin"}, "links": {"self": "/api/v1/entity/human_users/1"}},
            {"id": artist, "type": "HumanUser", "attributes": {"name": "Artist 1"}, "links": {"self": format!("/api/v1/entity/human_users/{artist}")}},
        ])
    );

    let (s, body) = api
        .call(
            "PUT",
            "/api/v1/entity/shots/1/unfollow",
            Some(json!({"user_id": artist})),
        )
        .await;
    assert_eq!((s, body), (StatusCode::NO_CONTENT, Value::Null));
    let (_, body) = api
        .call("GET", "/api/v1/entity/Shot/1/followers", None)
        .await;
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
    // Unfollowing again is harmless.
    let (s, _) = api
        .call(
            "PUT",
            "/api/v1/entity/shots/1/unfollow",
            Some(json!({"user_id": artist})),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);

    // Negative cases.
    let path = format!("/api/v1/entity/human_users/{artist}/follow");
    let (s, body) = api
        .call(
            "POST",
            &path,
            Some(follow(json!([{"entity": "shots", "record_id": 1}]))),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::BAD_REQUEST,
        "follow bodies take the TitleCase type"
    );
    assert_eq!(source(&body, 400)["entity"], json!(["entity is not valid"]));
    let (s, body) = api
        .call(
            "POST",
            &path,
            Some(follow(json!([{"entity": "Widget", "record_id": 1}]))),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(source(&body, 400)["entity"].is_array());
    let (s, body) = api
        .call(
            "POST",
            &path,
            Some(follow(json!([{"entity": "Shot", "record_id": "one"}]))),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(source(&body, 400)["record_id"].is_array());
    let (s, body) = api.call("POST", &path, Some(json!({}))).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(source(&body, 400)["entities"].is_array());
    // All or nothing: a missing second entity leaves the first unfollowed.
    let (s, body) = api
        .call(
            "POST",
            &path,
            Some(follow(
                json!([{"entity": "Asset", "record_id": 3}, {"entity": "Shot", "record_id": 9999}]),
            )),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    source(&body, 404);
    let (_, body) = api
        .call("GET", "/api/v1/entity/assets/3/followers", None)
        .await;
    assert_eq!(body["data"], json!([]));
    let (s, _) = api
        .call(
            "POST",
            "/api/v1/entity/human_users/9999/follow",
            Some(follow(json!([{"entity": "Shot", "record_id": 1}]))),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = api
        .call(
            "POST",
            "/api/v1/entity/shots/1/follow",
            Some(follow(json!([{"entity": "Shot", "record_id": 1}]))),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "follow is a HumanUser route");
    let (s, _) = api
        .call("GET", "/api/v1/entity/shots/1/following", None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, body) = api
        .call(
            "GET",
            &format!("/api/v1/entity/human_users/{artist}/following?entity=widgets"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(source(&body, 400)["entity"].is_array());
    let (s, body) = api
        .call(
            "GET",
            &format!("/api/v1/entity/human_users/{artist}/following?project_id=x"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(source(&body, 400)["project_id"].is_array());
    let (s, _) = api
        .call("GET", "/api/v1/entity/shots/9999/followers", None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, body) = api
        .call("GET", "/api/v1/entity/widgets/1/followers", None)
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(source(&body, 400)["entity"].is_array());
    let (s, body) = api
        .call("PUT", "/api/v1/entity/shots/1/unfollow", Some(json!({})))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(source(&body, 400)["user_id"].is_array());
    let (s, _) = api
        .call(
            "PUT",
            "/api/v1/entity/shots/1/unfollow",
            Some(json!({"user_id": 9999})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let res = api
        .client
        .post(format!("{}{path}", api.url))
        .bearer_auth(&api.token)
        .header("content-type", "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let res = api
        .client
        .get(format!("{}/api/v1/entity/shots/1/followers", api.url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn activity_stream_from_event_log() {
    let api = Api::new().await;
    let mut ids = Vec::new();
    for (i, (et, attr, new)) in [
        ("Shotgun_Shot_New", Value::Null, Value::Null),
        ("Shotgun_Shot_Change", json!("sg_status_list"), json!("ip")),
        ("Shotgun_Shot_Change", json!("code"), json!("renamed")),
    ]
    .into_iter()
    .enumerate()
    {
        ids.push(api.insert(
            "EventLogEntry",
            json!({"event_type": et, "entity": {"type": "Shot", "id": 5}, "user": {"type": "HumanUser", "id": 1},
                   "project": {"type": "Project", "id": 1}, "attribute_name": attr,
                   "meta": {"type": "attribute_change", "attribute_name": attr, "entity_type": "Shot", "entity_id": 5,
                            "field_data_type": "text", "old_value": null, "new_value": new},
                   "created_at": format!("2024-01-01T00:00:0{i}Z")}),
        ));
        // Another entity's events are not in Shot 5's stream.
        api.insert(
            "EventLogEntry",
            json!({"event_type": "Shotgun_Shot_Change", "entity": {"type": "Shot", "id": 6}}),
        );
    }
    let (s, body) = api
        .call("GET", "/api/v1/entity/shots/5/activity_stream", None)
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let d = &body["data"];
    assert_eq!(d["entity_type"], "Shot");
    assert_eq!(d["entity_id"], 5);
    assert_eq!(d["latest_update_id"], ids[2]);
    assert_eq!(d["earliest_update_id"], ids[0]);
    assert_eq!(
        body["links"]["self"],
        "/api/v1/entity/shots/5/activity_stream"
    );
    let updates = d["updates"].as_array().unwrap();
    let got: Vec<i64> = updates.iter().map(|u| u["id"].as_i64().unwrap()).collect();
    assert_eq!(got, vec![ids[2], ids[1], ids[0]], "newest first");
    assert_eq!(updates[2]["update_type"], "create");
    assert_eq!(updates[1]["update_type"], "update");
    let u = &updates[1];
    assert_eq!(u["meta"]["new_value"], "ip");
    assert_eq!(u["read"], false);
    assert_eq!(u["created_at"], "2024-01-01T00:00:01Z");
    assert_eq!(u["primary_entity"]["type"], "Shot");
    assert_eq!(u["primary_entity"]["name"], "SQ020_0010");
    assert!(u["primary_entity"].get("status").is_some());
    assert_eq!(u["created_by"]["name"], "Demo Admin");
    assert_eq!(u["created_by"]["type"], "HumanUser");
    assert_eq!(u["created_by"]["status"], "act");

    let (_, body) = api
        .call(
            "GET",
            "/api/v1/entity/shots/5/activity_stream?limit=1",
            None,
        )
        .await;
    assert_eq!(body["data"]["updates"].as_array().unwrap().len(), 1);
    let (_, body) = api
        .call(
            "GET",
            &format!(
                "/api/v1/entity/Shot/5/activity_stream?min_id={}&max_id={}",
                ids[1], ids[1]
            ),
            None,
        )
        .await;
    assert_eq!(body["data"]["updates"][0]["id"], ids[1]);
    assert_eq!(body["data"]["updates"].as_array().unwrap().len(), 1);
    let (_, body) = api
        .call(
            "GET",
            "/api/v1/entity/shots/5/activity_stream?entity_fields[Shot]=description,sg_sequence",
            None,
        )
        .await;
    let pe = &body["data"]["updates"][0]["primary_entity"];
    assert_eq!(pe["sg_sequence"]["type"], "Sequence");
    assert!(pe["description"].is_string());
    let (_, body) = api
        .call("GET", "/api/v1/entity/shots/1/activity_stream", None)
        .await;
    assert_eq!(body["data"]["updates"], json!([]));

    for (q, param) in [
        ("limit=0", "limit"),
        ("limit=x", "limit"),
        ("min_id=x", "min_id"),
        ("max_id=1.5", "max_id"),
        ("entity_fields[Widget]=code", "entity_fields"),
    ] {
        let (s, body) = api
            .call(
                "GET",
                &format!("/api/v1/entity/shots/5/activity_stream?{q}"),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{q}");
        assert!(source(&body, 400)[param].is_array(), "{q}: {body}");
    }
    let (s, _) = api
        .call("GET", "/api/v1/entity/shots/9999/activity_stream", None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = api
        .call("GET", "/api/v1/entity/shots/abc/activity_stream", None)
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn note_thread_contents() {
    let api = Api::new().await;
    let note = api.insert(
        "Note",
        json!({"subject": "Look at this", "content": "Hello, this is my note", "created_at": "2024-01-01T00:00:00Z",
               "created_by": {"type": "HumanUser", "id": 1}, "project": {"type": "Project", "id": 1}}),
    );
    let r2 = api.insert("Reply", json!({"content": "second", "entity": {"type": "Note", "id": note}, "user": {"type": "HumanUser", "id": 1}, "created_at": "2024-01-03T00:00:00Z"}));
    let r1 = api.insert("Reply", json!({"content": "first", "entity": {"type": "Note", "id": note}, "user": {"type": "HumanUser", "id": 1}, "created_at": "2024-01-02T00:00:00Z"}));
    let att = api.insert("Attachment", json!({"this_file": {"name": "a.png", "url": "x"}, "attachment_links": [{"type": "Note", "id": note}], "created_at": "2024-01-02T12:00:00Z"}));
    let other = api.insert("Note", json!({"content": "other"}));
    api.insert(
        "Reply",
        json!({"content": "elsewhere", "entity": {"type": "Note", "id": other}}),
    );

    let (s, body) = api
        .call(
            "GET",
            &format!("/api/v1/entity/notes/{note}/thread_contents"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(
        body["links"]["self"],
        format!("/api/v1/entity/notes/{note}/thread_contents")
    );
    let items = body["data"].as_array().unwrap();
    let order: Vec<(String, i64)> = items
        .iter()
        .map(|i| {
            (
                i["type"].as_str().unwrap().to_string(),
                i["id"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        order,
        vec![
            ("Note".into(), note),
            ("Reply".into(), r1),
            ("Attachment".into(), att),
            ("Reply".into(), r2)
        ]
    );
    assert_eq!(items[0]["content"], "Hello, this is my note");
    assert_eq!(
        items[0]["created_by"],
        json!({"id": 1, "name": "Demo Admin", "type": "HumanUser", "image": null})
    );
    assert_eq!(items[1]["user"]["name"], "Demo Admin");
    assert_eq!(items[1]["content"], "first");
    assert_eq!(items[2]["this_file"]["name"], "a.png");

    let (_, body) = api
        .call(
            "GET",
            &format!(
                "/api/v1/entity/notes/{note}/thread_contents?entity_fields[Note]=subject,project"
            ),
            None,
        )
        .await;
    assert_eq!(body["data"][0]["subject"], "Look at this");
    assert_eq!(body["data"][0]["project"]["name"], "Demo Project");

    let (s, _) = api
        .call("GET", "/api/v1/entity/notes/9999/thread_contents", None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = api
        .call("GET", "/api/v1/entity/shots/1/thread_contents", None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "only Note has thread contents");
    let (s, body) = api
        .call(
            "GET",
            &format!("/api/v1/entity/notes/{note}/thread_contents?entity_fields[Nope]=x"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(source(&body, 400)["entity_fields"].is_array());
}

#[tokio::test]
async fn project_last_accessed() {
    let api = Api::new().await;
    let (s, body) = api
        .call(
            "PUT",
            "/api/v1/entity/projects/2/_update_last_accessed",
            Some(json!({"user_id": 1})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["data"], json!({"id": 2, "type": "Project"}));
    assert_eq!(body["links"]["self"], "/api/v1/entity/projects/2");
    let when = api.site.backend().last_accessed(2, 1).expect("recorded");
    assert!(when.ends_with('Z') && when.len() == 20, "{when}");
    assert_eq!(api.site.backend().last_accessed(1, 1), None);

    let (s, body) = api
        .call(
            "PUT",
            "/api/v1/entity/projects/2/_update_last_accessed",
            Some(json!({})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(source(&body, 400)["user_id"].is_array());
    let (s, _) = api
        .call(
            "PUT",
            "/api/v1/entity/projects/2/_update_last_accessed",
            Some(json!({"user_id": "1"})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = api
        .call(
            "PUT",
            "/api/v1/entity/projects/2/_update_last_accessed",
            Some(json!({"user_id": 999})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = api
        .call(
            "PUT",
            "/api/v1/entity/projects/999/_update_last_accessed",
            Some(json!({"user_id": 1})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = api
        .call(
            "PUT",
            "/api/v1/entity/shots/1/_update_last_accessed",
            Some(json!({"user_id": 1})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = api
        .call(
            "GET",
            "/api/v1/entity/projects/2/_update_last_accessed",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn preferences_all_and_subset() {
    let api = Api::new().await;
    let (s, body) = api.call("GET", "/api/v1/preferences", None).await;
    assert_eq!(s, StatusCode::OK);
    let keys: Vec<&str> = body["data"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    // The keys a real site returned (fixture ShotgridApiRuby_Preferences).
    for k in [
        "format_date_fields",
        "date_component_order",
        "format_time_hour_fields",
        "format_currency_fields_display_dollar_sign",
        "format_currency_fields_decimal_options",
        "format_currency_fields_negative_options",
        "format_number_fields",
        "format_float_fields",
        "format_float_fields_rounding",
        "format_footage_fields",
        "support_local_storage",
        "view_master_settings",
        "duration_units",
        "hours_per_day",
        "enable_rv_integration",
        "enable_shotgun_review_for_rv",
    ] {
        assert!(keys.contains(&k), "missing {k}");
    }
    assert_eq!(keys.len(), 16);
    assert_eq!(body["links"]["self"], "/api/v1/preferences");
    assert_eq!(body["data"]["hours_per_day"], 8.0);
    let vms: Value =
        serde_json::from_str(body["data"]["view_master_settings"].as_str().unwrap()).unwrap();
    assert!(vms["status_groups"].is_array());

    let (_, body) = api
        .call(
            "GET",
            "/api/v1/preferences?prefs=hours_per_day,format_date_fields,nope",
            None,
        )
        .await;
    assert_eq!(
        body["data"],
        json!({"format_date_fields": "08/04/22 OR 04/08/22 (depending on the Month order preference)", "hours_per_day": 8.0})
    );
    let (_, body) = api
        .call("GET", "/api/v1/preferences?prefs=*,hours_per_day", None)
        .await;
    assert_eq!(body["data"].as_object().unwrap().len(), 16);
    let (_, body) = api
        .call("GET", "/api/v1/preferences?prefs=nope", None)
        .await;
    assert_eq!(body["data"], json!({}));
    let res = api
        .client
        .get(format!("{}/api/v1/preferences", api.url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn hierarchy_expand_and_search() {
    let api = Api::new().await;
    let (s, created) = api
        .call(
            "POST",
            "/api/v1/entity/projects",
            Some(json!({"name": "Empty Project"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let empty_id = created["data"]["id"].as_i64().unwrap();
    let (s, body) = api
        .call(
            "POST",
            "/api/v1/hierarchy/_expand",
            Some(json!({"path": "/"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let root = &body["data"];
    assert_eq!(root["path"], "/");
    assert_eq!(root["has_children"], true);
    let projects = root["children"].as_array().unwrap();
    // The demo seed has three projects; "Old Project" is archived and hidden.
    assert_eq!(projects.len(), 3);
    assert!(projects.iter().all(|p| p["label"] != "Old Project"));
    assert_eq!(
        projects[0]["ref"],
        json!({"kind": "entity", "value": {"type": "Project", "id": 1}})
    );
    assert_eq!(projects[0]["label"], "Demo Project");
    assert_eq!(projects[0]["path"], "/Project/1");
    assert_eq!(projects[1]["has_children"], true, "project 2 has records");
    let empty = projects
        .iter()
        .find(|p| p["path"] == format!("/Project/{empty_id}"))
        .unwrap();
    assert_eq!(empty["has_children"], false, "a new project is empty");

    let (_, body) = api
        .call(
            "POST",
            "/api/v1/hierarchy/_expand",
            Some(json!({"path": "/Project/1", "seed_entity_field": "Version.entity"})),
        )
        .await;
    let p = &body["data"];
    assert_eq!(p["label"], "Demo Project");
    assert_eq!(p["parent_path"], "/");
    assert_eq!(p["ref"]["value"], json!({"type": "Project", "id": 1}));
    assert_eq!(
        p["target_entities"],
        json!({"type": "Version", "additional_filter_presets": [{"preset_name": "NAV_ENTRIES", "path": "/Project/1", "seed": {"type": "Version", "field": "entity"}}]})
    );
    let labels: Vec<&str> = p["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, vec!["Assets", "Sequences", "Shots"]);
    let shots = &p["children"][2];
    assert_eq!(
        shots["ref"],
        json!({"kind": "entity_type", "value": "Shot"})
    );
    assert_eq!(shots["path"], "/Project/1/Shot");
    assert_eq!(
        shots["target_entities"]["additional_filter_presets"][0]["path"],
        "/Project/1/Shot"
    );

    let (_, body) = api
        .call("POST", "/api/v1/hierarchy/_expand", Some(json!({"path": "/Project/1/Shot", "entity_fields": [{"entity": "Shot", "fields": ["sg_status_list"]}]})))
        .await;
    let kids = body["data"]["children"].as_array().unwrap();
    let shots_in_project_1 = api
        .site
        .backend()
        .store()
        .table("Shot")
        .unwrap()
        .records
        .values()
        .filter(|r| {
            !r.retired && r.fields.get("project").and_then(|p| p.get("id")) == Some(&json!(1))
        })
        .count();
    assert!(shots_in_project_1 > 0);
    assert_eq!(kids.len(), shots_in_project_1);
    assert_eq!(kids[0]["label"], "SQ010_0010");
    assert_eq!(kids[0]["ref"]["value"]["type"], "Shot");
    assert!(kids[0]["ref"]["value"]["sg_status_list"].is_string());
    assert_eq!(kids[0]["has_children"], false);
    assert_eq!(body["data"]["parent_path"], "/Project/1");

    let (s, body) = api
        .call(
            "POST",
            "/api/v1/hierarchy/_expand",
            Some(json!({"path": "/Project/1/Shot/3"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body["data"]["children"], json!([]));

    for (b, param) in [
        (json!({}), "path"),
        (json!({"path": 3}), "path"),
        (json!({"path": "/Widget/1"}), "path"),
        (json!({"path": "/Project/2/Shot/3"}), "path"),
        (
            json!({"path": "/", "seed_entity_field": "Nope.entity"}),
            "seed_entity_field",
        ),
        (
            json!({"path": "/", "entity_fields": {"entity": "Shot"}}),
            "entity_fields",
        ),
    ] {
        let (s, body) = api
            .call("POST", "/api/v1/hierarchy/_expand", Some(b.clone()))
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
        assert!(source(&body, 400)[param].is_array(), "{b}: {body}");
    }
    let (s, _) = api
        .call(
            "POST",
            "/api/v1/hierarchy/_expand",
            Some(json!({"path": "/Project/99"})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Search.
    let (s, body) = api
        .call(
            "POST",
            "/api/v1/hierarchy/_search",
            Some(json!({"search_criteria": {"search_string": "sq010_00"}})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let hits = body["data"].as_array().unwrap();
    assert_eq!(hits.len(), 4);
    assert_eq!(
        hits[0],
        json!({"label": "SQ010_0010", "incremental_path": ["/", "/Project/1", "/Project/1/Shot", "/Project/1/Shot/1"],
               "path_label": "Demo Project > Shots > SQ010_0010", "ref": {"id": 1, "type": "Shot"}, "project_id": 1})
    );
    let (_, body) = api
        .call(
            "POST",
            "/api/v1/hierarchy/_search",
            Some(json!({"root_path": "/Project/2", "search_criteria": {"search_string": "SQ"}})),
        )
        .await;
    let hits = body["data"].as_array().unwrap();
    assert!(!hits.is_empty());
    assert!(
        hits.iter().all(|h| h["project_id"] == 2),
        "a root path limits the search to that project"
    );
    let (_, body) = api
        .call(
            "POST",
            "/api/v1/hierarchy/_search",
            Some(json!({"root_path": format!("/Project/{empty_id}"), "search_criteria": {"search_string": "SQ"}})),
        )
        .await;
    assert_eq!(body["data"], json!([]), "nothing under an empty project");
    let (_, body) = api
        .call(
            "POST",
            "/api/v1/hierarchy/_search",
            Some(json!({"search_criteria": {"entity": {"type": "Asset", "id": 2}}})),
        )
        .await;
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
    assert_eq!(body["data"][0]["label"], "Rabbit Hole");
    let (_, body) = api
        .call(
            "POST",
            "/api/v1/hierarchy/_search",
            Some(json!({"search_criteria": {"search_string": "project"}})),
        )
        .await;
    let labels: Vec<&str> = body["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["label"].as_str())
        .collect();
    assert!(
        !labels.contains(&"Old Project"),
        "archived projects are hidden"
    );
    assert_eq!(
        body["data"].as_array().unwrap().len(),
        3,
        "projects match by name (Demo, Second and the test's Empty Project)"
    );

    for (b, param) in [
        (json!({}), "search_criteria"),
        (json!({"search_criteria": {}}), "search_criteria"),
        (
            json!({"search_criteria": {"search_string": "a", "entity": {"type": "Shot", "id": 1}}}),
            "search_criteria",
        ),
        (
            json!({"search_criteria": {"search_string": "  "}}),
            "search_string",
        ),
        (
            json!({"search_criteria": {"entity": {"type": "Shot"}}}),
            "entity",
        ),
        (
            json!({"root_path": "nowhere", "search_criteria": {"search_string": "a"}}),
            "root_path",
        ),
    ] {
        let (s, body) = api
            .call("POST", "/api/v1/hierarchy/_search", Some(b.clone()))
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{b}");
        assert!(source(&body, 400)[param].is_array(), "{b}: {body}");
    }
    let res = api
        .client
        .post(format!("{}/api/v1/hierarchy/_search", api.url))
        .bearer_auth(&api.token)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("a=b")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}
