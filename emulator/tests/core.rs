//! Data core over real HTTP: writes, validation, batch, event log, schema endpoints,
//! persistence.

mod common;

use common::{error as err, Site};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use shotgrid_emulator::{start, Config, Seed, ServerOptions};

const ID: &str = "demo_script";
const SECRET: &str = "demo-key-0123456789";

async fn site_with(config: Config, options: ServerOptions) -> Site {
    Site::start(config, options, ID, SECRET).await
}

async fn demo() -> Site {
    site_with(
        Config {
            seed: Seed::Demo,
            ..Config::default()
        },
        ServerOptions::default(),
    )
    .await
}

#[tokio::test]
async fn create_returns_201_with_written_fields_and_stamps() {
    let s = demo().await;
    let (st, body) = s
        .call(
            Method::POST,
            "/api/v1/entity/shots",
            Some(json!({"code": "NEW_0010", "project": {"type": "Project", "id": 1}, "sg_cut_in": 1001})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    let d = &body["data"];
    assert_eq!(d["type"], "Shot");
    let id = d["id"].as_i64().unwrap();
    assert_eq!(id, 201);
    assert_eq!(body["links"]["self"], format!("/api/v1/entity/shots/{id}"));
    assert_eq!(d["attributes"]["code"], "NEW_0010");
    assert_eq!(d["attributes"]["sg_cut_in"], 1001);
    // Defaults are applied and returned.
    assert_eq!(d["attributes"]["sg_status_list"], "wtg");
    let created = d["attributes"]["created_at"].as_str().unwrap();
    assert!(created.len() == 20 && created.ends_with('Z'), "{created}");
    assert_eq!(
        d["relationships"]["project"]["data"]["name"],
        "Demo Project"
    );
    let by = &d["relationships"]["created_by"]["data"];
    assert_eq!(by["type"], "ApiUser");
    assert_eq!(by["name"], ID);
    // Fields not written are not returned by default.
    assert!(d["attributes"].get("description").is_none());

    // options[fields] selects the returned fields.
    let (st, body) = s
        .call(
            Method::POST,
            "/api/v1/entity/Asset?options%5Bfields%5D=code,sg_asset_type",
            Some(json!({"code": "Lamp", "sg_asset_type": "Prop", "project": {"type": "Project", "id": 2}})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    assert_eq!(
        body["data"]["attributes"],
        json!({"code": "Lamp", "sg_asset_type": "Prop"})
    );
    assert_eq!(body["data"]["relationships"], json!({}));

    // A record created without a name is named like real sites do.
    let (st, body) = s
        .call(Method::POST, "/api/v1/entity/assets", Some(json!({})))
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let id = body["data"]["id"].as_i64().unwrap();
    assert_eq!(
        body["data"]["attributes"]["code"],
        format!("New Asset {id}")
    );

    // The created record reads back.
    let (st, body) = s
        .call(Method::GET, "/api/v1/entity/shots/201?fields=code", None)
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(body["data"]["attributes"]["code"], "NEW_0010");
    s.site.shutdown().await;
}

#[tokio::test]
async fn bad_values_are_refused_per_data_type_and_nothing_is_written() {
    let s = demo().await;
    let before = s.count("Shot");
    let events_before = s.count("EventLogEntry");

    // Unknown field: exactly as recorded from a real site.
    let (st, body) = s
        .call(
            Method::POST,
            "/api/v1/entity/Shot",
            Some(json!({"not_existing_field": 1234})),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let e = err(&body, 400, 103);
    assert_eq!(
        e["title"],
        "API create() Shot.not_existing_field doesn't exist."
    );
    assert_eq!(e["source"], json!({}));

    let cases: Vec<(&str, Value)> = vec![
        ("sg_cut_in", json!("abc")),
        ("sg_cut_in", json!(1.5)),
        ("sg_cut_in", json!(4_000_000_000i64)),
        ("sg_frame_rate", json!("fast")),
        ("code", json!(12)),
        ("code", json!({"a": 1})),
        ("sg_status_list", json!("nope")),
        ("sg_status_list", json!(3)),
        ("sg_shot_type", json!("Unknown Type")),
        ("sg_sequence", json!({"type": "Asset", "id": 1})),
        ("sg_sequence", json!({"type": "Sequence", "id": 99999})),
        ("sg_sequence", json!({"type": "Sequence"})),
        ("sg_sequence", json!("SQ010")),
        ("sg_sequence", json!({"type": "Widget", "id": 1})),
        ("assets", json!({"type": "Asset", "id": 1})),
        ("assets", json!([{"type": "Shot", "id": 1}])),
        (
            "assets",
            json!({"multi_entity_update_mode": "merge", "value": []}),
        ),
        ("tasks", json!([1, 2])),
        ("sg_working_duration", json!("1h")),
        ("image", json!("http://example.com/x.png")),
        ("open_notes_count", json!(3)),
        ("created_at", json!("2024-01-01T00:00:00Z")),
        ("updated_by", json!({"type": "HumanUser", "id": 1})),
    ];
    for (field, value) in cases {
        let (st, body) = s
            .call(
                Method::POST,
                "/api/v1/entity/shots",
                Some(json!({ field: value })),
            )
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{field}={value}: {body}");
        let e = err(&body, 400, 103);
        assert!(e["source"].get(field).is_some(), "{field}={value}: {e}");
        assert!(e["title"].as_str().unwrap().contains(field), "{e}");
    }
    // Other types.
    for (t, field, value) in [
        ("Task", "start_date", json!("2024-13-01")),
        ("Task", "due_date", json!("15/01/2024")),
        ("Task", "milestone", json!("yes")),
        ("Task", "color", json!("red")),
        ("Playlist", "sg_date_and_time", json!("tomorrow")),
        ("Attachment", "tag_list", json!("a,b")),
        ("Attachment", "this_file", json!(5)),
        ("Note", "addressings_to", json!([{"type": "Shot", "id": 1}])),
    ] {
        let (st, body) = s
            .call(
                Method::POST,
                &format!("/api/v1/entity/{t}"),
                Some(json!({ field: value })),
            )
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{t}.{field}={value}: {body}");
        assert!(err(&body, 400, 103)["source"].get(field).is_some());
    }
    // Mandatory fields.
    let (st, body) = s
        .call(
            Method::POST,
            "/api/v1/entity/projects",
            Some(json!({"code": "x"})),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(err(&body, 400, 103)["source"].get("name").is_some());

    // Body problems.
    let (st, body) = s
        .raw(
            Method::POST,
            "/api/v1/entity/shots",
            "application/json",
            b"{\"code\": ".to_vec(),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(err(&body, 400, 103)["source"].get("body").is_some());
    let (st, _) = s
        .raw(
            Method::POST,
            "/api/v1/entity/shots",
            "application/json",
            b"[1,2]".to_vec(),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, body) = s
        .raw(
            Method::POST,
            "/api/v1/entity/shots",
            "text/plain",
            b"{}".to_vec(),
        )
        .await;
    assert_eq!(st, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    err(&body, 415, 103);
    let (st, body) = s
        .raw(
            Method::PUT,
            "/api/v1/entity/shots/1",
            "application/x-www-form-urlencoded",
            b"code=x".to_vec(),
        )
        .await;
    assert_eq!(st, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");
    // Unknown entity type.
    let (st, _) = s
        .call(Method::POST, "/api/v1/entity/widgets", Some(json!({})))
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);

    assert_eq!(s.count("Shot"), before);
    assert_eq!(s.count("EventLogEntry"), events_before);
    s.site.shutdown().await;
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let s = site_with(
        Config {
            seed: Seed::Demo,
            ..Config::default()
        },
        ServerOptions {
            body_limit: 1024,
            ..ServerOptions::default()
        },
    )
    .await;
    let big = json!({"description": "x".repeat(4096)});
    let (st, body) = s
        .call(Method::POST, "/api/v1/entity/shots", Some(big.clone()))
        .await;
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE);
    err(&body, 413, 103);
    let (st, _) = s
        .call(Method::PUT, "/api/v1/entity/shots/1", Some(big))
        .await;
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE);
    let (st, _) = s
        .call(
            Method::PUT,
            "/api/v1/entity/shots/1",
            Some(json!({"description": "ok"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    s.site.shutdown().await;
}

#[tokio::test]
async fn update_multi_entity_modes_and_errors() {
    let s = demo().await;
    let mut rx = s.site.backend().subscribe();
    let a = |id: i64| json!({"type": "Asset", "id": id});
    let ids = |body: &Value| -> Vec<i64> {
        body["data"]["relationships"]["assets"]["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["id"].as_i64().unwrap())
            .collect()
    };
    // Shot 2 starts with [Asset 3].
    let (st, body) = s
        .call(Method::PUT, "/api/v1/entity/shots/2", Some(json!({"assets": {"multi_entity_update_mode": "add", "value": [a(5), a(3)]}, "description": "new"})))
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(ids(&body), vec![3, 5]);
    // An update returns every field by default.
    assert_eq!(body["data"]["attributes"]["description"], "new");
    assert!(body["data"]["attributes"].get("sg_cut_out").is_some());
    assert_eq!(
        body["data"]["relationships"]["updated_by"]["data"]["type"],
        "ApiUser"
    );
    let (_, body) = s
        .call(
            Method::PUT,
            "/api/v1/entity/shots/2",
            Some(json!({"assets": {"multi_entity_update_mode": "remove", "value": [a(3)]}})),
        )
        .await;
    assert_eq!(ids(&body), vec![5]);
    let (_, body) = s
        .call(
            Method::PUT,
            "/api/v1/entity/shots/2",
            Some(json!({"assets": {"multi_entity_update_mode": "set", "value": [a(7), a(8)]}})),
        )
        .await;
    assert_eq!(ids(&body), vec![7, 8]);
    let (_, body) = s
        .call(
            Method::PUT,
            "/api/v1/entity/shots/2?options[fields]=assets",
            Some(json!({"assets": [a(9)]})),
        )
        .await;
    assert_eq!(ids(&body), vec![9]);
    assert_eq!(body["data"]["attributes"], json!({}));

    // Each change published one event, after the write, with what was added and
    // removed; the mirrored Asset.shots changes have their own events.
    let mut all = Vec::new();
    while let Ok(e) = rx.try_recv() {
        all.push(e);
    }
    let (seen, mirrored): (Vec<_>, Vec<_>) = all
        .into_iter()
        .partition(|e| e["entity"] == json!({"type": "Shot", "id": 2}));
    assert_eq!(seen.len(), 5, "{seen:?}");
    // Asset 5 gained, then lost Shot 2; 7 and 8 gained and lost it; 9 gained it; 3
    // lost it.
    let mirror_of = |asset: i64| {
        mirrored
            .iter()
            .filter(|e| e["entity"] == a(asset))
            .map(|e| {
                assert_eq!(e["attribute_name"], "shots");
                (
                    e["meta"]["added"].as_array().unwrap().len(),
                    e["meta"]["removed"].as_array().unwrap().len(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(mirror_of(5), vec![(1, 0), (0, 1)]);
    assert_eq!(mirror_of(3), vec![(0, 1)]);
    assert_eq!(mirror_of(7), vec![(1, 0), (0, 1)]);
    assert_eq!(mirror_of(9), vec![(1, 0)]);
    assert_eq!(mirrored.len(), 8, "{mirrored:?}");
    let first = &seen[0];
    assert_eq!(first["event_type"], "Shotgun_Shot_Change");
    assert_eq!(first["operation"], "update");
    assert_eq!(first["entity"], json!({"type": "Shot", "id": 2}));
    assert_eq!(first["project"], json!({"type": "Project", "id": 1}));
    assert_eq!(first["meta"]["type"], "attribute_change");
    assert_eq!(first["meta"]["field_data_type"], "multi_entity");
    assert_eq!(first["meta"]["removed"], json!([]));
    assert_eq!(first["meta"]["added"], json!([a(5)]));
    assert!(first["meta"].get("old_value").is_none(), "{first}");
    // The EventLogEntry is readable like any record.
    let eid = first["event_log_entry_id"].as_i64().unwrap();
    let (st, body) = s
        .call(
            Method::GET,
            &format!("/api/v1/entity/event_log_entries/{eid}"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        body["data"]["attributes"]["event_type"],
        "Shotgun_Shot_Change"
    );
    assert_eq!(body["data"]["attributes"]["attribute_name"], "assets");
    assert_eq!(
        body["data"]["relationships"]["entity"]["data"]["name"],
        "SQ010_0020"
    );
    assert_eq!(
        body["data"]["relationships"]["user"]["data"]["type"],
        "ApiUser"
    );

    // Empty update: 200, unchanged, no event.
    let (st, _) = s
        .call(Method::PUT, "/api/v1/entity/shots/2", Some(json!({})))
        .await;
    assert_eq!(st, StatusCode::OK);
    assert!(rx.try_recv().is_err());

    // Missing record: as recorded.
    let (st, body) = s
        .call(
            Method::PUT,
            "/api/v1/entity/Shot/400000",
            Some(json!({"description": "NOPE"})),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(
        err(&body, 404, 104)["detail"],
        "Entity of type [Shot] with id=400000 does not exist."
    );
    // Read-only and unknown fields.
    let (st, body) = s
        .call(
            Method::PUT,
            "/api/v1/entity/shots/2",
            Some(json!({"updated_at": "2024-01-01T00:00:00Z"})),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert!(err(&body, 400, 103)["source"].get("updated_at").is_some());
    let (st, body) = s
        .call(
            Method::PUT,
            "/api/v1/entity/shots/2",
            Some(json!({"nope": 1})),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(
        err(&body, 400, 103)["title"],
        "API update() Shot.nope doesn't exist."
    );
    let (st, _) = s
        .call(Method::PUT, "/api/v1/entity/shots/abc", Some(json!({})))
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);

    // Project archived is settable; date_time values are normalised to seconds UTC.
    let (st, body) = s
        .call(
            Method::PUT,
            "/api/v1/entity/projects/2",
            Some(json!({"archived": true})),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(body["data"]["attributes"]["archived"], true);
    let (_, body) = s
        .call(
            Method::PUT,
            "/api/v1/entity/playlists/1",
            Some(json!({"sg_date_and_time": "2024-03-01T10:00:00.250+02:00"})),
        )
        .await;
    assert_eq!(
        body["data"]["attributes"]["sg_date_and_time"],
        "2024-03-01T08:00:00Z"
    );
    s.site.shutdown().await;
}

#[tokio::test]
async fn delete_and_revive() {
    let s = demo().await;
    let mut rx = s.site.backend().subscribe();
    let res = s
        .client
        .delete(format!("{}/api/v1/entity/shots/3", s.site.url()))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(res.bytes().await.unwrap().is_empty());
    let (st, _) = s.call(Method::GET, "/api/v1/entity/shots/3", None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = s
        .call(
            Method::GET,
            "/api/v1/entity/shots/3?options[return_only]=retired",
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    // Deleting again, or a missing record: 404 as recorded.
    for path in ["/api/v1/entity/shots/3", "/api/v1/entity/Asset/400000"] {
        let (st, body) = s.call(Method::DELETE, path, None).await;
        assert_eq!(st, StatusCode::NOT_FOUND);
        assert!(err(&body, 404, 104)["detail"]
            .as_str()
            .unwrap()
            .starts_with("Entity of type ["));
    }
    let (st, body) = s
        .call(Method::POST, "/api/v1/entity/Shot/3?revive=true", None)
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"data": {"type": "Shot", "id": 3}, "links": {"self": "/api/v1/entity/Shot/3"}, "meta": {"did_revive": true}})
    );
    let (_, body) = s
        .call(Method::POST, "/api/v1/entity/shots/3?revive=1", None)
        .await;
    assert_eq!(body["meta"]["did_revive"], false);
    let (st, body) = s
        .call(
            Method::POST,
            "/api/v1/entity/Asset/400000?revive=true",
            None,
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(
        err(&body, 404, 104)["detail"],
        "Entity of type [Asset] with id=400000 does not exist."
    );
    let (st, _) = s.call(Method::POST, "/api/v1/entity/shots/3", None).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _) = s.call(Method::GET, "/api/v1/entity/shots/3", None).await;
    assert_eq!(st, StatusCode::OK);
    let types: Vec<String> = std::iter::from_fn(|| rx.try_recv().ok())
        .map(|e| e["event_type"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        types,
        vec!["Shotgun_Shot_Retirement", "Shotgun_Shot_Revival"]
    );
    s.site.shutdown().await;
}

#[tokio::test]
async fn batch_is_atomic_and_names_the_failing_request() {
    let s = demo().await;
    let shots = s.count("Shot");
    let events = s.count("EventLogEntry");
    let (st, body) = s
        .call(
            Method::POST,
            "/api/v1/entity/_batch",
            Some(json!({"requests": [
                {"request_type": "create", "entity": "Shot", "data": {"code": "B1"}},
                {"request_type": "update", "entity": "Shot", "record_id": 1, "data": {"description": "changed"}},
                {"request_type": "update", "entity": "Shot", "record_id": 400000, "data": {"description": "x"}},
            ]})),
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND, "{body}");
    let e = err(&body, 404, 104);
    assert!(e["source"]["requests"].get("2").is_some(), "{e}");
    assert!(
        e["detail"].as_str().unwrap().starts_with("request 2:"),
        "{e}"
    );
    assert_eq!(s.count("Shot"), shots);
    assert_eq!(s.count("EventLogEntry"), events);
    let (_, shot1) = s
        .call(
            Method::GET,
            "/api/v1/entity/shots/1?fields=description",
            None,
        )
        .await;
    assert_ne!(shot1["data"]["attributes"]["description"], "changed");

    // Shape errors name the index too.
    for (req, key) in [
        (
            json!({"request_type": "explode", "entity": "Shot"}),
            "request_type",
        ),
        (
            json!({"request_type": "update", "entity": "Shot", "data": {}}),
            "record_id",
        ),
        (json!({"request_type": "create", "entity": "Shot"}), "data"),
        (
            json!({"request_type": "create", "entity": "Shot", "data": {"nope": 1}}),
            "",
        ),
    ] {
        let (st, body) = s
            .call(
                Method::POST,
                "/api/v1/entity/_batch",
                Some(json!({"requests": [{"request_type": "create", "entity": "Shot", "data": {}}, req]})),
            )
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{body}");
        let src = &err(&body, 400, 103)["source"]["requests"]["1"];
        assert!(key.is_empty() || src.get(key).is_some(), "{body}");
    }
    assert_eq!(s.count("Shot"), shots);
    for bad in [json!({}), json!({"requests": []}), json!({"requests": "x"})] {
        let (st, _) = s
            .call(Method::POST, "/api/v1/entity/_batch", Some(bad))
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
    }

    // A good batch: results in order; multi-entity modes work inside it.
    let (st, body) = s
        .call(
            Method::POST,
            "/api/v1/entity/_batch",
            Some(json!({"requests": [
                {"request_type": "create", "entity": "Shot", "data": {"code": "B1", "project": {"type": "Project", "id": 1}}, "options": {"fields": ["code"]}},
                {"request_type": "update", "entity": "Shot", "record_id": 1, "data": {"assets": {"multi_entity_update_mode": "add", "value": [{"type": "Asset", "id": 2}]}}},
                {"request_type": "delete", "entity": "Shot", "record_id": 4},
            ]})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let data = body["data"].as_array().unwrap();
    assert_eq!(data.len(), 3);
    assert_eq!(data[0]["attributes"], json!({"code": "B1"}));
    let assets: Vec<i64> = data[1]["relationships"]["assets"]["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_i64().unwrap())
        .collect();
    assert_eq!(assets, vec![1, 2]);
    assert_eq!(data[2]["type"], "Shot");
    assert_eq!(data[2]["id"], 4);
    assert_eq!(s.count("Shot"), shots);
    s.site.shutdown().await;
}

#[tokio::test]
async fn relationships_endpoint() {
    let s = demo().await;
    let (st, body) = s
        .call(
            Method::GET,
            "/api/v1/entity/shots/1/relationships/project",
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        body["data"],
        json!({"id": 1, "name": "Demo Project", "type": "Project"})
    );
    assert_eq!(
        body["links"]["self"],
        "/api/v1/entity/shots/1/relationships/project"
    );
    let (_, body) = s
        .call(
            Method::GET,
            "/api/v1/entity/shots/3/relationships/assets",
            None,
        )
        .await;
    assert_eq!(body["data"].as_array().unwrap().len(), 2);
    let (st, _) = s
        .call(
            Method::GET,
            "/api/v1/entity/shots/1/relationships/code",
            None,
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _) = s
        .call(
            Method::GET,
            "/api/v1/entity/shots/1/relationships/nope",
            None,
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _) = s
        .call(
            Method::GET,
            "/api/v1/entity/shots/9999/relationships/project",
            None,
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    s.site.shutdown().await;
}

#[tokio::test]
async fn schema_reads_match_the_recorded_shape() {
    let s = demo().await;
    let (st, body) = s.call(Method::GET, "/api/v1/schema", None).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        body["data"]["ApiUser"]["name"],
        json!({"value": "Script", "editable": false})
    );
    assert_eq!(
        body["data"]["CustomEntity05"]["visible"],
        json!({"value": true, "editable": false})
    );
    assert_eq!(body["links"]["self"], "/api/v1/schema");

    for spelling in ["Asset", "asset", "assets"] {
        let (st, body) = s
            .call(
                Method::GET,
                &format!("/api/v1/schema/{spelling}?project_id=1"),
                None,
            )
            .await;
        assert_eq!(st, StatusCode::OK);
        assert_eq!(
            body["data"],
            json!({"name": {"value": "Asset", "editable": false}, "visible": {"value": true, "editable": false}})
        );
    }
    let (st, body) = s
        .call(Method::GET, "/api/v1/schema/custom_entity01", None)
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(body["data"]["name"]["value"], "Custom Entity 01");
    let (st, _) = s
        .call(Method::GET, "/api/v1/schema/shot?project_id=abc", None)
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _) = s.call(Method::GET, "/api/v1/schema/widget", None).await;
    assert_eq!(st, StatusCode::BAD_REQUEST);

    let (st, body) = s
        .call(Method::GET, "/api/v1/schema/Shot/fields", None)
        .await;
    assert_eq!(st, StatusCode::OK);
    let fields = body["data"].as_object().unwrap();
    for f in [
        "code",
        "description",
        "sg_status_list",
        "project",
        "sg_sequence",
        "assets",
        "tasks",
        "sg_cut_in",
        "sg_cut_out",
        "sg_cut_duration",
        "image",
        "created_at",
        "created_by",
    ] {
        assert!(fields.contains_key(f), "Shot.{f}");
    }
    let status = &fields["sg_status_list"];
    for key in [
        "name",
        "description",
        "custom_metadata",
        "entity_type",
        "data_type",
        "editable",
        "mandatory",
        "unique",
        "properties",
        "visible",
        "ui_value_displayable",
    ] {
        let v = &status[key];
        if key != "properties" {
            assert!(
                v.get("value").is_some() && v["editable"].is_boolean(),
                "{key}: {v}"
            );
        }
    }
    assert_eq!(status["data_type"]["value"], "status_list");
    assert_eq!(status["properties"]["default_value"]["value"], "wtg");
    let valid: Vec<&str> = status["properties"]["valid_values"]["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for code in ["wtg", "rdy", "ip", "rev", "fin", "hld", "omt"] {
        assert!(valid.contains(&code), "{code}");
    }
    assert_eq!(
        status["properties"]["display_values"]["value"]["ip"],
        "In Progress"
    );
    assert_eq!(
        fields["created_by"]["properties"]["valid_types"]["value"],
        json!(["HumanUser", "ApiUser"])
    );
    assert_eq!(fields["created_at"]["editable"]["value"], false);

    let (st, body) = s
        .call(Method::GET, "/api/v1/schema/task/fields/entity", None)
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(body["data"]["data_type"]["value"], "entity");
    assert!(
        body["data"]["properties"]["valid_types"]["value"]
            .as_array()
            .unwrap()
            .len()
            > 2
    );
    let (st, body) = s
        .call(
            Method::GET,
            "/api/v1/schema/Version/fields/sg_uploaded_movie",
            None,
        )
        .await;
    assert_eq!(body["data"]["data_type"]["value"], "url", "{st} {body}");
    let (st, body) = s
        .call(
            Method::GET,
            "/api/v1/schema/HumanUser/fields/password_proxy",
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(body["data"]["data_type"]["value"], "password");
    let (st, body) = s
        .call(Method::GET, "/api/v1/schema/shot/fields/nope", None)
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    err(&body, 404, 104);
    s.site.shutdown().await;
}

#[tokio::test]
async fn fields_can_be_created_updated_deleted_and_revived() {
    let s = demo().await;
    let create = json!({"data_type": "number", "properties": [
        {"property_name": "name", "value": "Cut Length"},
        {"property_name": "description", "value": "frames"}]});
    let (st, body) = s
        .call(
            Method::POST,
            "/api/v1/schema/shot/fields",
            Some(create.clone()),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    let f = &body["data"]["sg_cut_length"];
    assert_eq!(f["data_type"]["value"], "number");
    assert_eq!(f["name"]["value"], "Cut Length");
    assert_eq!(f["description"]["value"], "frames");
    // Twice: already exists.
    let (st, _) = s
        .call(Method::POST, "/api/v1/schema/shot/fields", Some(create))
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    // Usable at once, and validated by its type.
    let (st, body) = s
        .call(
            Method::PUT,
            "/api/v1/entity/shots/1",
            Some(json!({"sg_cut_length": 48})),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["attributes"]["sg_cut_length"], 48);
    let (st, _) = s
        .call(
            Method::PUT,
            "/api/v1/entity/shots/1",
            Some(json!({"sg_cut_length": "long"})),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);

    // A list field with valid values, then updated.
    let (st, _) = s
        .call(
            Method::POST,
            "/api/v1/schema/Asset/fields",
            Some(json!({"data_type": "list", "properties": [
            {"property_name": "name", "value": "Complexity"},
            {"property_name": "valid_values", "value": ["low", "high"]}]})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, _) = s
        .call(
            Method::PUT,
            "/api/v1/entity/assets/1",
            Some(json!({"sg_complexity": "medium"})),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, body) = s
        .call(Method::PUT, "/api/v1/schema/asset/fields/sg_complexity", Some(json!({"properties": [
            {"property_name": "valid_values", "value": ["low", "medium", "high"]}], "project_id": 1})))
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(
        body["data"]["properties"]["valid_values"]["value"],
        json!(["low", "medium", "high"])
    );
    let (st, _) = s
        .call(
            Method::PUT,
            "/api/v1/entity/assets/1",
            Some(json!({"sg_complexity": "medium"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK);

    // Bad field requests.
    for bad in [
        json!({"data_type": "bogus", "properties": [{"property_name": "name", "value": "X"}]}),
        json!({"data_type": "text", "properties": []}),
        json!({"data_type": "text"}),
        json!({"properties": [{"property_name": "name", "value": "X"}]}),
        json!({"data_type": "text", "properties": [{"property_name": "name", "value": "Y"}, {"property_name": "colour", "value": 1}]}),
        json!({"data_type": "entity", "properties": [{"property_name": "name", "value": "Z"}, {"property_name": "valid_types", "value": ["Widget"]}]}),
    ] {
        let (st, body) = s
            .call(
                Method::POST,
                "/api/v1/schema/shot/fields",
                Some(bad.clone()),
            )
            .await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{bad}: {body}");
        err(&body, 400, 103);
    }

    // Delete retires: the field is gone from schema, reads and writes.
    let (st, _) = s
        .call(
            Method::DELETE,
            "/api/v1/schema/shot/fields/sg_cut_length",
            None,
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = s
        .call(
            Method::GET,
            "/api/v1/schema/shot/fields/sg_cut_length",
            None,
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (_, body) = s.call(Method::GET, "/api/v1/entity/shots/1", None).await;
    assert!(body["data"]["attributes"].get("sg_cut_length").is_none());
    let (st, _) = s
        .call(
            Method::PUT,
            "/api/v1/entity/shots/1",
            Some(json!({"sg_cut_length": 1})),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    let (st, _) = s
        .call(
            Method::DELETE,
            "/api/v1/schema/shot/fields/sg_cut_length",
            None,
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = s
        .call(Method::DELETE, "/api/v1/schema/shot/fields/code", None)
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    // Revive brings it back with its values.
    let (st, body) = s
        .call(
            Method::POST,
            "/api/v1/schema/shot/fields/sg_cut_length?revive=true",
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    let (_, body) = s
        .call(
            Method::GET,
            "/api/v1/entity/shots/1?fields=sg_cut_length",
            None,
        )
        .await;
    assert_eq!(body["data"]["attributes"]["sg_cut_length"], 48);
    let (st, _) = s
        .call(
            Method::POST,
            "/api/v1/schema/shot/fields/sg_nothing?revive=true",
            None,
        )
        .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    s.site.shutdown().await;
}

#[tokio::test]
async fn data_file_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("site.json");
    let config = || Config {
        seed: Seed::Demo,
        data_file: Some(path.clone()),
        ..Config::default()
    };
    let s = site_with(config(), ServerOptions::default()).await;
    let (st, body) = s
        .call(
            Method::POST,
            "/api/v1/entity/shots",
            Some(json!({"code": "PERSIST_01"})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let id = body["data"]["id"].as_i64().unwrap();
    let (st, _) = s.call(Method::DELETE, "/api/v1/entity/shots/2", None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = s
        .call(Method::POST, "/api/v1/schema/shot/fields", Some(json!({"data_type": "text", "properties": [{"property_name": "name", "value": "Lens"}]})))
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, _) = s
        .call(
            Method::PUT,
            &format!("/api/v1/entity/shots/{id}"),
            Some(json!({"sg_lens": "35mm"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    // The write is durable before the response: the file already has it.
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("PERSIST_01") && text.contains("35mm"));
    // Not a graceful stop: just drop the server.
    drop(s);

    // A torn temp file from a crash is ignored.
    std::fs::write(
        dir.path().join("site.json.tmp"),
        b"{\"version\":1,\"tables\":{\"Sh",
    )
    .unwrap();
    let s = site_with(config(), ServerOptions::default()).await;
    let (st, body) = s
        .call(
            Method::GET,
            &format!("/api/v1/entity/shots/{id}?fields=code,sg_lens"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(
        body["data"]["attributes"],
        json!({"code": "PERSIST_01", "sg_lens": "35mm"})
    );
    let (st, _) = s.call(Method::GET, "/api/v1/entity/shots/2", None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    // Ids continue after the reload.
    let (_, body) = s
        .call(
            Method::POST,
            "/api/v1/entity/shots",
            Some(json!({"code": "NEXT"})),
        )
        .await;
    assert_eq!(body["data"]["id"], id + 1);
    s.site.shutdown().await;

    // A corrupt data file is an error at start, never silently replaced.
    std::fs::write(&path, b"{not json").unwrap();
    assert!(start(config()).await.is_err());
}

#[tokio::test]
async fn config_human_users_and_password_fields() {
    let s = site_with(
        Config {
            seed: Seed::Demo,
            human_users: vec![shotgrid_emulator::persist::HumanUserConfig {
                login: "zoe".into(),
                password: "zoe-secret".into(),
                name: Some("Zoe".into()),
                email: None,
            }],
            ..Config::default()
        },
        ServerOptions::default(),
    )
    .await;
    let id = shotgrid_emulator::model::writes::check_human_password(
        &s.site.backend().store(),
        "zoe",
        "zoe-secret",
    )
    .expect("configured user exists");
    let (st, body) = s
        .call(
            Method::GET,
            &format!("/api/v1/entity/human_users/{id}"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(body["data"]["attributes"]["password_proxy"], "*******");
    assert_eq!(body["data"]["attributes"]["name"], "Zoe");
    s.site.shutdown().await;
}
