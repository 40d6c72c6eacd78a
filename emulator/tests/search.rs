//! HTTP tests of the read-many routes: list, `_search`, `_text_search`, `_summarize`.
//!
//! Every test starts an empty site (`Seed::Empty` plus one script user) and inserts the
//! records it needs itself, so the expectations are exact and do not depend on the demo
//! seed.

mod common;

use common::Site;
use reqwest::StatusCode;
use serde_json::{json, Value};
use shotgrid_emulator::model::Store;
use shotgrid_emulator::{Seed, ServerOptions};

const ARRAY: &str = "application/vnd+shotgun.api3_array+json";
const HASH: &str = "application/vnd+shotgun.api3_hash+json";
const STATUSES: [&str; 3] = ["wtg", "ip", "fin"];

/// Inserts one record and checks it got the id the fixture expects.
fn insert(store: &mut Store, entity_type: &str, want_id: i64, fields: Value) -> i64 {
    let Value::Object(fields) = fields else {
        panic!("fixture fields must be an object");
    };
    let id = store.insert(entity_type, fields).expect("insert");
    assert_eq!(id, want_id, "fixture {entity_type} id");
    id
}

fn link(entity_type: &str, id: i64) -> Value {
    json!({"type": entity_type, "id": id})
}

/// A fixed timestamp: 2024-01-15 09:00 UTC plus `minutes` (under an hour).
fn stamp(minutes: i64) -> Value {
    assert!((0..60).contains(&minutes));
    json!(format!("2024-01-15T09:{minutes:02}:00Z"))
}

/// The small studio most tests query, built record by record:
///
/// - Projects 1 "Demo Project" and 2 "Second Project" (neither archived).
/// - Assets 1..4 in project 1: Alice, Rabbit Hole, Pocket Watch, Teacup.
/// - Sequences 1..3 in project 1: SQ010, SQ020, SQ030.
/// - Shots 1..10 in project 1: 1-4 in SQ010, 5-7 in SQ020, 8-10 in SQ030, coded
///   `SQ0x0_00y0`; status `wtg, ip, fin` repeating from shot 1; `sg_cut_in` 1001,
///   `sg_cut_out` 1000 + 24 × (id + 1); assets `[1, 3]` when id % 3 == 0, `[1]` when
///   id % 3 == 1, none otherwise; created 2024-01-15 09:(30 + id).
fn studio(store: &mut Store) {
    for (id, name) in [(1, "Demo Project"), (2, "Second Project")] {
        insert(
            store,
            "Project",
            id,
            json!({"name": name, "archived": false, "created_at": stamp(id)}),
        );
    }
    for (id, (code, kind, status)) in [
        ("Alice", "Character", "ip"),
        ("Rabbit Hole", "Environment", "wtg"),
        ("Pocket Watch", "Prop", "fin"),
        ("Teacup", "Prop", "ip"),
    ]
    .into_iter()
    .enumerate()
    {
        let id = id as i64 + 1;
        insert(
            store,
            "Asset",
            id,
            json!({"code": code, "description": format!("{kind} asset {code}."),
                   "sg_asset_type": kind, "sg_status_list": status,
                   "project": link("Project", 1), "created_at": stamp(10 + id)}),
        );
    }
    for id in 1..=3i64 {
        insert(
            store,
            "Sequence",
            id,
            json!({"code": format!("SQ{:03}", id * 10), "sg_status_list": "ip",
                   "project": link("Project", 1), "created_at": stamp(20 + id)}),
        );
    }
    for id in 1..=10i64 {
        let (seq, n) = match id {
            1..=4 => (1, id),
            5..=7 => (2, id - 4),
            _ => (3, id - 7),
        };
        let code = format!("SQ{:03}_{:04}", seq * 10, n * 10);
        let assets = match id % 3 {
            0 => json!([link("Asset", 1), link("Asset", 3)]),
            1 => json!([link("Asset", 1)]),
            _ => json!([]),
        };
        insert(
            store,
            "Shot",
            id,
            json!({"code": code, "description": format!("Shot {code}."),
                   "sg_status_list": STATUSES[(id as usize - 1) % 3],
                   "project": link("Project", 1), "sg_sequence": link("Sequence", seq),
                   "assets": assets, "sg_cut_in": 1001, "sg_cut_out": 1000 + 24 * (id + 1),
                   "created_at": stamp(30 + id), "updated_at": stamp(30 + id)}),
        );
    }
}

/// An empty site (no seed records) with the script user `q`.
async fn empty() -> Site {
    seeded(Seed::Empty).await
}

/// A site with `seed` and the script user `q`.
async fn seeded(seed: Seed) -> Site {
    Site::start(
        common::config(seed, "q", "k"),
        ServerOptions::default(),
        "q",
        "k",
    )
    .await
}

/// An empty site holding only the [`studio`] fixture.
async fn studio_site() -> Site {
    let s = empty().await;
    studio(&mut s.backend().store_mut());
    s
}

/// Reads and searches; every answer must be JSON.
trait Reads {
    async fn get(&self, path_and_query: &str) -> (StatusCode, Value);
    async fn post(&self, path: &str, content_type: &str, body: &Value) -> (StatusCode, Value);
    async fn post_json(&self, path: &str, body: &Value) -> (StatusCode, Value);
}

impl Reads for Site {
    async fn get(&self, path_and_query: &str) -> (StatusCode, Value) {
        common::json_answer(self.send("GET", path_and_query, None).await).await
    }

    async fn post(&self, path: &str, content_type: &str, body: &Value) -> (StatusCode, Value) {
        let body = Some((content_type, body.to_string().into_bytes()));
        common::json_answer(self.send("POST", path, body).await).await
    }

    async fn post_json(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        self.post(path, "application/json", body).await
    }
}

fn ids(body: &Value) -> Vec<i64> {
    body["data"]
        .as_array()
        .unwrap_or_else(|| panic!("no data in {body}"))
        .iter()
        .map(|r| r["id"].as_i64().expect("id"))
        .collect()
}

/// Asserts a 400/103 (or other) error and returns the error object.
fn error(status: StatusCode, body: &Value, want: u16) -> Value {
    assert_eq!(status.as_u16(), want, "{body}");
    let e = body["errors"][0].clone();
    assert_eq!(e["status"], want, "{body}");
    assert_eq!(e["code"], 103, "{body}");
    for k in ["id", "title", "source", "detail", "meta"] {
        assert!(e.get(k).is_some(), "{k} missing in {body}");
    }
    e
}

#[tokio::test]
async fn list_shape_links_and_defaults() {
    let s = studio_site().await;
    let (st, body) = s.get("/api/v1/entity/Shot?fields=code&sort=-code").await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(ids(&body), vec![10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    assert_eq!(
        body["data"][0],
        json!({"type": "Shot", "attributes": {"code": "SQ030_0030"}, "relationships": {},
               "id": 10, "links": {"self": "/api/v1/entity/shots/10"}})
    );
    // `next` even on a short last page; no `prev` on page 1; params sorted, Rails-escaped.
    assert_eq!(
        body["links"],
        json!({"self": "/api/v1/entity/Shot?fields=code&sort=-code",
               "next": "/api/v1/entity/Shot?fields=code&page%5Bnumber%5D=2&page%5Bsize%5D=500&sort=-code"})
    );
    // Default fields: the display field only.
    let (_, body) = s.get("/api/v1/entity/assets").await;
    assert_eq!(body["data"][0]["attributes"], json!({"code": "Alice"}));
    assert_eq!(body["data"][0]["relationships"], json!({}));
    // `*` and links in relationships.
    let (_, body) = s.get("/api/v1/entity/shots?fields=*&page[size]=1").await;
    let shot = &body["data"][0];
    assert_eq!(shot["attributes"]["sg_cut_in"], 1001);
    assert_eq!(
        shot["relationships"]["project"]["data"],
        json!({"id": 1, "name": "Demo Project", "type": "Project"})
    );
    assert_eq!(
        shot["relationships"]["project"]["links"]["related"],
        "/api/v1/entity/projects/1"
    );
    // Paging: page 2 of size 3 has prev and next.
    let (_, body) = s
        .get("/api/v1/entity/shots?fields=code&page[number]=2&page[size]=3&sort=code")
        .await;
    assert_eq!(ids(&body), vec![4, 5, 6]);
    assert_eq!(
        body["links"]["prev"],
        "/api/v1/entity/shots?fields=code&page%5Bnumber%5D=1&page%5Bsize%5D=3&sort=code"
    );
    assert_eq!(
        body["links"]["next"],
        "/api/v1/entity/shots?fields=code&page%5Bnumber%5D=3&page%5Bsize%5D=3&sort=code"
    );
    let (_, body) = s
        .get("/api/v1/entity/shots?page[number]=9&page[size]=5000")
        .await;
    assert_eq!(ids(&body), Vec::<i64>::new());
    assert!(body["links"]["next"].is_string());
    // Multi-key sort, ties by id.
    let (_, body) = s
        .get("/api/v1/entity/shots?fields=code&sort=sg_status_list,-sg_cut_out")
        .await;
    assert_eq!(ids(&body), vec![9, 6, 3, 8, 5, 2, 10, 7, 4, 1]);
}

#[tokio::test]
async fn list_filters() {
    let s = studio_site().await;
    let (_, body) = s
        .get("/api/v1/entity/shots?filter[sg_status_list]=ip")
        .await;
    assert_eq!(ids(&body), vec![2, 5, 8]);
    let (_, body) = s
        .get("/api/v1/entity/shots?filter[sg_status_list]=ip,fin&filter[sg_sequence.Sequence.code]=SQ010")
        .await;
    assert_eq!(ids(&body), vec![2, 3]);
    let (_, body) = s.get("/api/v1/entity/shots?filter[sg_cut_out]=1072").await;
    assert_eq!(ids(&body), vec![2]);
    let (_, body) = s
        .get("/api/v1/entity/shots?filter[assets.Asset.code]=Pocket Watch")
        .await;
    assert_eq!(ids(&body), vec![3, 6, 9]);
    let (_, body) = s
        .get("/api/v1/entity/shots?filter[project.Project.name]=demo project")
        .await;
    assert_eq!(ids(&body).len(), 10);

    // The real site's error for an unknown field.
    let (st, body) = s
        .get("/api/v1/entity/Asset?fields=%2A&filter%5Bnot_existing_field%5D=NOPE")
        .await;
    let e = error(st, &body, 400);
    assert_eq!(
        e["title"],
        "API read() Asset.not_existing_field doesn't exist."
    );
    assert_eq!(
        e["source"],
        json!({"Asset.not_existing_field": " does not exist. Value: {\"path\"=>\"not_existing_field\", \"relation\"=>\"is\", \"values\"=>[\"NOPE\"]}"})
    );
    let (st, body) = s.get("/api/v1/entity/shots?filter[sg_cut_in]=abc").await;
    let e = error(st, &body, 400);
    assert!(e["source"]["filter"]["sg_cut_in"].is_array(), "{body}");
}

#[tokio::test]
async fn list_options_and_bad_parameters() {
    let s = studio_site().await;
    {
        let backend = s.backend();
        let mut store = backend.store_mut();
        store.retire("Shot", 1).expect("retire");
        // Shot 11 links project 2, which is then retired (not archived): still listed.
        insert(
            &mut store,
            "Shot",
            11,
            json!({"code": "Archived shot", "project": link("Project", 2)}),
        );
        store.retire("Project", 2).expect("retire p2");
        // Project 3 is archived: shot 12 is hidden unless asked for.
        insert(
            &mut store,
            "Project",
            3,
            json!({"name": "Archived Project", "archived": true}),
        );
        insert(
            &mut store,
            "Shot",
            12,
            json!({"code": "Shot of archived", "project": link("Project", 3)}),
        );
    }
    let (_, body) = s
        .get("/api/v1/entity/shots?options[return_only]=retired")
        .await;
    assert_eq!(ids(&body), vec![1]);
    let (_, body) = s.get("/api/v1/entity/shots").await;
    assert_eq!(ids(&body), vec![2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    let (_, body) = s
        .get("/api/v1/entity/shots?options[include_archived_projects]=true")
        .await;
    assert_eq!(ids(&body), vec![2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);

    for (q, path) in [
        ("page[size]=0", "/page/size"),
        ("page[size]=5001", "/page/size"),
        ("page[size]=abc", "/page/size"),
        ("page[number]=0", "/page/number"),
        ("options[return_only]=all", "/options/return_only"),
        (
            "options[include_archived_projects]=maybe",
            "/options/include_archived_projects",
        ),
        ("sort=nope", "/sort"),
    ] {
        let (st, body) = s.get(&format!("/api/v1/entity/shots?{q}")).await;
        let e = error(st, &body, 400);
        assert!(e["source"].pointer(path).is_some(), "{q}: {body}");
    }
    let (st, body) = s.get("/api/v1/entity/widgets").await;
    error(st, &body, 400);
    let res = s
        .client
        .get(format!("{}/api/v1/entity/shots", s.site.url()))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn search_array_and_hash() {
    let s = studio_site().await;
    let url = "/api/v1/entity/shots/_search?fields=code&sort=-id";
    let (st, body) = s
        .post(
            url,
            ARRAY,
            &json!({"filters": [["sg_status_list", "is", "ip"], ["sg_cut_out", "greater_than", 1100]]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(ids(&body), vec![8, 5]);
    assert_eq!(body["links"]["self"], url);
    assert_eq!(
        body["links"]["next"],
        "/api/v1/entity/shots/_search?fields=code&page%5Bnumber%5D=2&page%5Bsize%5D=500&sort=-id"
    );
    let (_, body) = s
        .post(
            "/api/v1/entity/Shot/_search",
            HASH,
            &json!({"filters": {"logical_operator": "or", "conditions": [
                ["code", "is", "SQ010_0010"],
                {"logical_operator": "and", "conditions": [
                    ["sg_sequence.Sequence.code", "is", "SQ030"],
                    ["assets", "is", {"type": "Asset", "id": 3}]
                ]}
            ]}}),
        )
        .await;
    assert_eq!(ids(&body), vec![1, 9]);
    // The recorded client's form: fields/sort/page in the body.
    let (_, body) = s
        .post(
            "/api/v1/entity/Shot/_search",
            HASH,
            &json!({"fields": "code", "sort": "code", "page": {"size": 1, "number": 2},
                    "filters": {"conditions": [["project.Project.id", "is", 1]], "logical_operator": "and"}}),
        )
        .await;
    assert_eq!(ids(&body), vec![2]);
    assert_eq!(body["data"][0]["attributes"], json!({"code": "SQ010_0020"}));
    assert_eq!(
        body["links"],
        json!({"self": "/api/v1/entity/Shot/_search",
               "next": "/api/v1/entity/Shot/_search?page%5Bnumber%5D=3&page%5Bsize%5D=1",
               "prev": "/api/v1/entity/Shot/_search?page%5Bnumber%5D=1&page%5Bsize%5D=1"})
    );
    // Strings are accepted for ids, as real sites do; AND of two ids is empty.
    let (_, body) = s
        .post(
            "/api/v1/entity/Shot/_search",
            HASH,
            &json!({"filters": {"conditions": [["id", "is", "1"], ["id", "is", "2"]], "logical_operator": "and"}}),
        )
        .await;
    assert!(ids(&body).is_empty());
    // Both shapes of in_last; no filters at all.
    for f in [
        json!([["created_at", "in_last", [1, "DAY"]]]),
        json!([["created_at", "in_last", 1, "DAY"]]),
    ] {
        let (st, body) = s
            .post(
                "/api/v1/entity/shots/_search",
                ARRAY,
                &json!({"filters": f}),
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{body}");
        assert!(ids(&body).is_empty(), "demo records are from 2024");
    }
    let (_, body) = s
        .post(
            "/api/v1/entity/shots/_search",
            ARRAY,
            &json!({"filters": [["created_at", "between", ["2024-01-15T09:35:00Z", "2024-01-15T09:37:00Z"]]]}),
        )
        .await;
    assert_eq!(ids(&body), vec![5, 6, 7]);
    let (_, body) = s
        .post("/api/v1/entity/shots/_search", ARRAY, &json!({}))
        .await;
    assert_eq!(ids(&body).len(), 10);
}

#[tokio::test]
async fn search_rejections() {
    let s = empty().await;
    let u = "/api/v1/entity/shots/_search";
    let f = json!({"filters": [["code", "is", "x"]]});
    for ct in ["application/json", "text/plain", ""] {
        let (st, body) = s.post(u, ct, &f).await;
        error(st, &body, 415);
    }
    // Shape vs Content-Type.
    let (st, body) = s.post(u, HASH, &f).await;
    assert!(
        error(st, &body, 400)["source"]["filters"].is_array(),
        "{body}"
    );
    let (st, body) = s
        .post(
            u,
            ARRAY,
            &json!({"filters": {"logical_operator": "and", "conditions": []}}),
        )
        .await;
    assert!(
        error(st, &body, 400)["source"]["filters"].is_array(),
        "{body}"
    );
    // The real site's unknown-field error, inside a hash filter.
    let (st, body) = s
        .post(
            "/api/v1/entity/Asset/_search",
            HASH,
            &json!({"fields": "*", "filters": {"conditions": [["project.Project.id", "is", 122], ["not_existing_field", "is", "NOPE"]], "logical_operator": "and"}}),
        )
        .await;
    let e = error(st, &body, 400);
    assert_eq!(
        e["title"],
        "API read() Asset.not_existing_field doesn't exist."
    );
    // Bad relation / value / arity, naming the condition.
    for (filters, pointer) in [
        (
            json!({"conditions": [["code", "is", "x"], ["code", "greater_than", "x"]]}),
            "/filters/conditions/1/relation",
        ),
        (
            json!({"conditions": [{"conditions": [["sg_cut_in", "is", "x"]]}]}),
            "/filters/conditions/0/conditions/0/values",
        ),
        (
            json!({"conditions": [["created_at", "between", ["2024-01-01"]]]}),
            "/filters/conditions/0/values",
        ),
        (
            json!({"conditions": [["created_at", "in_last", [1, "EON"]]]}),
            "/filters/conditions/0/values",
        ),
        (
            json!({"logical_operator": "nand", "conditions": []}),
            "/filters/logical_operator",
        ),
        (
            json!({"conditions": [["code", "is"]]}),
            "/filters/conditions/0",
        ),
        (
            json!({"conditions": [["description", "bogus", "x"]]}),
            "/filters/conditions/0/relation",
        ),
    ] {
        let (st, body) = s.post(u, HASH, &json!({"filters": filters})).await;
        let e = error(st, &body, 400);
        assert!(e["source"].pointer(pointer).is_some(), "{filters}: {body}");
    }
    // Malformed JSON, non-object body, bad paging in the query string.
    let res = s
        .send("POST", u, Some((ARRAY, b"{\"filters\": [".to_vec())))
        .await;
    let (st, body) = common::json_answer(res).await;
    error(st, &body, 400);
    let (st, body) = s.post(u, ARRAY, &json!([1, 2])).await;
    error(st, &body, 400);
    let (st, body) = s.post(&format!("{u}?page[size]=5001"), ARRAY, &f).await;
    assert!(error(st, &body, 400)["source"]
        .pointer("/page/size")
        .is_some());
}

#[tokio::test]
async fn text_search() {
    let s = studio_site().await;
    let u = "/api/v1/entity/_text_search";
    let (st, body) = s
        .post(
            u,
            HASH,
            &json!({"text": "sq01", "entity_types": {"Shot": {"logical_operator": "and", "conditions": [["sg_status_list", "is_not", "wtg"]]}, "Sequence": {}}, "sort": "-id", "page": {"number": 1, "size": 2}}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(
        body["data"][0],
        json!({"type": "Shot", "attributes": {"name": "SQ010_0030"}, "relationships": {}, "id": 3,
               "links": {"self": "/api/v1/entity/shots/3"}})
    );
    assert_eq!(body["data"][1]["id"], 2);
    assert_eq!(
        body["links"]["next"],
        "/api/v1/entity/_text_search?page%5Bnumber%5D=2&page%5Bsize%5D=2"
    );
    let (_, body) = s
        .post(
            u,
            ARRAY,
            &json!({"text": "rabbit", "entity_types": {"Asset": []}}),
        )
        .await;
    assert_eq!(ids(&body), vec![2]);
    for (b, pointer) in [
        (
            json!({"text": "ab", "entity_types": {"Asset": []}}),
            "/text",
        ),
        (json!({"text": "abc"}), "/entity_types"),
        (
            json!({"text": "abc", "entity_types": {"Widget": []}}),
            "/entity_types/Widget",
        ),
        (
            json!({"text": "abc", "entity_types": {"Asset": [["nope", "is", 1]]}}),
            "/Asset.nope",
        ),
    ] {
        let (st, body) = s.post(u, ARRAY, &b).await;
        let e = error(st, &body, 400);
        assert!(e["source"].pointer(pointer).is_some(), "{b}: {body}");
    }
    // Array filters under the hash Content-Type.
    let (st, body) = s
        .post(
            u,
            HASH,
            &json!({"text": "abc", "entity_types": {"Asset": [["code", "is", "x"]]}}),
        )
        .await;
    error(st, &body, 400);
    let (st, body) = s
        .post(
            u,
            "application/json",
            &json!({"text": "abc", "entity_types": {"Asset": []}}),
        )
        .await;
    error(st, &body, 415);
}

#[tokio::test]
async fn summarize() {
    let s = studio_site().await;
    // The recorded request and response shape.
    let (st, body) = s
        .post(
            "/api/v1/entity/Asset/_summarize",
            HASH,
            &json!({"filters": {"conditions": [["project.Project.id", "is", 1]], "logical_operator": "and"},
                    "summary_fields": [{"type": "record_count", "field": "id"}]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"data": {"summaries": {"id": 4}, "groups": []}})
    );
    // Grouped by an entity field: object group values.
    let (_, body) = s
        .post(
            "/api/v1/entity/shots/_summarize",
            ARRAY,
            &json!({"filters": [["sg_status_list", "in", ["ip", "fin"]]],
                    "summary_fields": [{"field": "id", "type": "count"}, {"field": "sg_cut_out", "type": "sum"}],
                    "grouping": [{"field": "sg_sequence", "type": "exact", "direction": "desc"}],
                    "options": {"include_archived_projects": true}}),
        )
        .await;
    assert_eq!(
        body["data"]["summaries"],
        json!({"id": 6, "sg_cut_out": 6000 + 24 * (3 + 4 + 6 + 7 + 9 + 10)})
    );
    assert_eq!(
        body["data"]["groups"][0],
        json!({"group_name": "SQ030", "group_value": {"type": "Sequence", "id": 3, "name": "SQ030"},
               "summaries": {"id": 2, "sg_cut_out": 2 * 1000 + 24 * (9 + 10)}})
    );
    // The recorded error, exactly.
    let (st, body) = s
        .post(
            "/api/v1/entity/Asset/_summarize",
            HASH,
            &json!({"summary_fields": [{"field": "not_existing_field", "type": "not_possible"}]}),
        )
        .await;
    let e = error(st, &body, 400);
    assert_eq!(e["title"], "Request Parameters invalid.");
    assert_eq!(
        e["source"],
        json!({"summary_fields": {"0": {"type": ["type must be one of: record_count, count, sum, maximum, minimum, average, earliest, latest, percentage, status_percentage, status_list, checked, unchecked"]}}})
    );
    for (b, pointer) in [
        (
            json!({"summary_fields": [{"field": "code", "type": "sum"}]}),
            "/summary_fields/0/type",
        ),
        (
            json!({"grouping": [{"field": "code", "type": "month"}]}),
            "/grouping/0/type",
        ),
        (json!({"filters": [["code", "is", 3]]}), "/filters/0/values"),
    ] {
        let (st, body) = s.post("/api/v1/entity/shots/_summarize", ARRAY, &b).await;
        let e = error(st, &body, 400);
        assert!(e["source"].pointer(pointer).is_some(), "{b}: {body}");
    }
    let (st, body) = s
        .post(
            "/api/v1/entity/shots/_summarize",
            "application/json",
            &json!({}),
        )
        .await;
    error(st, &body, 415);
}

#[tokio::test]
async fn large_tables_use_cached_columns_and_see_writes() {
    let s = empty().await;
    {
        let backend = s.backend();
        let mut store = backend.store_mut();
        insert(&mut store, "Project", 1, json!({"name": "Big"}));
        // Shot i + 1 is BIG_i; more rows than the cache's threshold.
        for i in 0..3000i64 {
            insert(
                &mut store,
                "Shot",
                i + 1,
                json!({"code": format!("BIG_{i:05}"),
                       "sg_status_list": STATUSES[(i % 3) as usize],
                       "sg_cut_out": 2000 + i % 7, "project": link("Project", 1)}),
            );
        }
        assert!(
            store.table("Shot").expect("Shot").records.len()
                >= shotgrid_emulator::query::cache::MIN_ROWS
        );
    }
    let q = "/api/v1/entity/shots?fields=code&filter[sg_status_list]=ip&sort=-sg_cut_out,code&page[size]=3";
    let (_, body) = s.get(q).await;
    let codes: Vec<&str> = body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|r| r["attributes"]["code"].as_str().expect("code"))
        .collect();
    // ip rows are i % 3 == 1; the largest cut_out (2006) has i % 7 == 6: i = 13, 34, 55…
    assert_eq!(codes, vec!["BIG_00013", "BIG_00034", "BIG_00055"]);
    // An in-place change through store_mut is seen by the next query.
    {
        let backend = s.backend();
        let mut store = backend.store_mut();
        insert(
            &mut store,
            "Shot",
            3001,
            json!({"code": "BIG_new", "sg_status_list": "ip", "sg_cut_out": 5000}),
        );
        store.retire("Shot", 13 + 1).expect("retire BIG_00013");
    }
    let (_, body) = s.get(q).await;
    let codes: Vec<&str> = body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|r| r["attributes"]["code"].as_str().expect("code"))
        .collect();
    assert_eq!(codes, vec!["BIG_new", "BIG_00034", "BIG_00055"]);
    // Same answers from _search (hash) and a page deep into the table.
    let (_, body) = s
        .post(
            "/api/v1/entity/shots/_search?fields=code&sort=code&page[number]=2&page[size]=1000",
            HASH,
            &json!({"filters": {"logical_operator": "or", "conditions": [["code", "starts_with", "big_"]]}}),
        )
        .await;
    assert_eq!(body["data"].as_array().map(Vec::len), Some(1000));
    // BIG_00013 is retired, so page 2 starts one further.
    assert_eq!(body["data"][0]["attributes"]["code"], "BIG_01001");
}

/// The raw body of a GET (or a POST with `content_type`), checked for 200.
async fn raw(s: &Site, path: &str, post: Option<(&str, &Value)>) -> String {
    let res = match post {
        None => s.send("GET", path, None).await,
        Some((ct, body)) => {
            s.send("POST", path, Some((ct, body.to_string().into_bytes())))
                .await
        }
    };
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    res.text().await.expect("body")
}

/// The `data` of a JSON body, written back out in the order it was sent in (the
/// `serde_json` of this workspace keeps key order), so comparing two of these compares
/// key order too.
fn data_text(body: &str) -> Vec<String> {
    let doc: Value = serde_json::from_str(body).expect("JSON body");
    match &doc["data"] {
        Value::Array(items) => items.iter().map(Value::to_string).collect(),
        other => vec![other.to_string()],
    }
}

#[tokio::test]
async fn list_search_and_single_reads_render_records_identically() {
    let s = seeded(Seed::Demo).await;
    {
        let backend = s.backend();
        let mut store = backend.store_mut();
        // Records with what only a few have: undeclared fields (a link and a text), a
        // link to a record that does not exist (with and without a stored name), links
        // without type or id, a multi-entity list with a bad item, a null link.
        for fields in [
            json!({"code": "ODD_1", "sg_undeclared_link": link("Asset", 1),
                   "sg_undeclared_text": "x\"y\\z\u{1}é", "project": link("Project", 999),
                   "sg_sequence": {"type": "Sequence", "id": 4242, "name": "Gone"},
                   "assets": [link("Asset", 2), {"id": 3}, "junk", link("Asset", 777)]}),
            json!({"code": "ODD_2", "project": null, "sg_sequence": {"type": "Sequence"},
                   "assets": [], "description": null}),
        ] {
            let Value::Object(m) = fields else {
                unreachable!()
            };
            store.insert("Shot", m).expect("insert odd shot");
        }
    }
    // A write through the API, so that there are EventLogEntry records too.
    let (st, body) = s
        .post_json(
            "/api/v1/entity/shots",
            &json!({"code": "VIA_API", "project": link("Project", 1), "assets": [link("Asset", 1)]}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    let types = [
        "Shot",
        "Asset",
        "Sequence",
        "Task",
        "Version",
        "Note",
        "Reply",
        "Project",
        "HumanUser",
        "Group",
        "Playlist",
        "EventLogEntry",
    ];
    let selections = [
        "*",
        // Duplicates, unknown names, `id` and `type`, links and plain values mixed.
        "sg_undeclared_link,code,project,code,no_such_field,id,type,sg_undeclared_text,assets,name,content,entity,user",
    ];
    let mut records = 0;
    for t in types {
        for fields in selections {
            let q = format!("fields={fields}&sort=id&page[size]=5000");
            let listed = data_text(&raw(&s, &format!("/api/v1/entity/{t}?{q}"), None).await);
            let searched = data_text(
                &raw(
                    &s,
                    &format!("/api/v1/entity/{t}/_search?{q}"),
                    Some((ARRAY, &json!({"filters": []}))),
                )
                .await,
            );
            assert!(!listed.is_empty(), "{t}: no records");
            assert_eq!(
                listed, searched,
                "{t} fields={fields}: list and _search differ"
            );
            // Single reads render each record the same way (first, last and a few).
            let doc: Vec<Value> = listed
                .iter()
                .map(|r| serde_json::from_str(r).expect("record"))
                .collect();
            for r in doc.iter().take(3).chain(doc.last()) {
                let id = r["id"].as_i64().expect("id");
                let one = data_text(
                    &raw(
                        &s,
                        &format!("/api/v1/entity/{t}/{id}?fields={fields}"),
                        None,
                    )
                    .await,
                );
                assert_eq!(one, vec![r.to_string()], "{t} {id} fields={fields}");
            }
            records += listed.len();
        }
    }
    assert!(records > 500, "only {records} records compared");
    // The odd records came out as the store holds them.
    let odd = data_text(
        &raw(
            &s,
            "/api/v1/entity/shots?filter[code]=ODD_1&fields=project,sg_sequence,assets,sg_undeclared_link,sg_undeclared_text",
            None,
        )
        .await,
    );
    let odd: Value = serde_json::from_str(&odd[0]).expect("record");
    assert_eq!(odd["attributes"]["sg_undeclared_text"], "x\"y\\z\u{1}é");
    assert_eq!(
        odd["relationships"]["project"]["data"],
        json!({"id": 999, "name": null, "type": "Project"})
    );
    assert_eq!(odd["relationships"]["sg_sequence"]["data"]["name"], "Gone");
    assert_eq!(
        odd["relationships"]["assets"]["data"]
            .as_array()
            .map(Vec::len),
        Some(2),
        "{odd}"
    );
    assert_eq!(
        odd["relationships"]["sg_undeclared_link"]["data"]["name"],
        "Alice"
    );
}
