//! Reverse links and derived fields over real HTTP: mirrored fields (Shot.assets ↔
//! Asset.shots, Version.entity ↔ Shot.sg_versions, Shot.sg_sequence ↔ Sequence.shots,
//! …) stay consistent on create, update in every multi-entity mode, delete, revive and
//! batch; `open_notes_count` and `cached_display_name` read, filter and sort alike.

use std::collections::BTreeSet;

mod common;

use common::Site;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use shotgrid_emulator::model::links::PAIRS;
use shotgrid_emulator::model::Store;

async fn demo() -> Site {
    Site::demo("links", "links-key").await
}

/// What these tests add to the common [`Site`].
impl Site {
    async fn create(&self, plural: &str, data: Value) -> i64 {
        let (st, body) = self
            .call(Method::POST, &format!("/entity/{plural}"), Some(data))
            .await;
        assert_eq!(st, StatusCode::CREATED, "{body}");
        body["data"]["id"].as_i64().unwrap()
    }

    async fn update(&self, plural: &str, id: i64, data: Value) {
        let (st, body) = self
            .call(Method::PUT, &format!("/entity/{plural}/{id}"), Some(data))
            .await;
        assert_eq!(st, StatusCode::OK, "{body}");
    }

    /// The `(type, id)` links of a field as the API reads them.
    async fn links(&self, plural: &str, id: i64, field: &str) -> BTreeSet<(String, i64)> {
        let (st, body) = self
            .call(
                Method::GET,
                &format!("/entity/{plural}/{id}?fields={field}"),
                None,
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{body}");
        let data = &body["data"]["relationships"][field]["data"];
        let items: Vec<Value> = match data {
            Value::Array(a) => a.clone(),
            Value::Null => Vec::new(),
            v => vec![v.clone()],
        };
        items
            .iter()
            .map(|l| {
                (
                    l["type"].as_str().unwrap().to_string(),
                    l["id"].as_i64().unwrap(),
                )
            })
            .collect()
    }

    fn check_mirrors(&self) {
        check_mirrors(&self.site.backend().store());
    }
}

fn set(items: &[(&str, i64)]) -> BTreeSet<(String, i64)> {
    items.iter().map(|(t, i)| (t.to_string(), *i)).collect()
}

fn link_keys(v: Option<&Value>) -> Vec<(String, i64)> {
    let items = match v {
        Some(Value::Array(a)) => a.clone(),
        Some(v @ Value::Object(_)) => vec![v.clone()],
        _ => Vec::new(),
    };
    items
        .iter()
        .filter_map(|l| Some((l["type"].as_str()?.to_string(), l["id"].as_i64()?)))
        .collect()
}

/// Every link between live records in one field of a pair is in the other field.
fn check_mirrors(store: &Store) {
    let mut problems = Vec::new();
    for &(a, f, b, g) in PAIRS {
        for (x, xf, y, yf) in [(a, f, b, g), (b, g, a, f)] {
            let Ok(tx) = store.table(x) else { continue };
            let ty = store.table(y).unwrap();
            for r in tx.records.values().filter(|r| !r.retired) {
                for (lt, lid) in link_keys(r.fields.get(xf)) {
                    if lt != y {
                        continue;
                    }
                    let Some(other) = ty.records.get(&lid).filter(|o| !o.retired) else {
                        continue;
                    };
                    let back = link_keys(other.fields.get(yf));
                    if !back.contains(&(x.to_string(), r.id)) {
                        problems.push(format!(
                            "{x} {}.{xf} has {y} {lid}, whose {yf} lacks it",
                            r.id
                        ));
                    }
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "{} broken mirrors, e.g. {:?}",
        problems.len(),
        &problems[..problems.len().min(5)]
    );
}

#[tokio::test]
async fn the_demo_site_is_consistent() {
    let s = demo().await;
    s.check_mirrors();
    s.site.shutdown().await;
}

#[tokio::test]
async fn multi_entity_mirrors_follow_every_update_mode() {
    let s = demo().await;
    let p = json!({"type": "Project", "id": 1});
    let a = s
        .create(
            "assets",
            json!({"code": "MIRROR", "project": p, "shots": [{"type": "Shot", "id": 1}]}),
        )
        .await;
    assert!(s
        .links("shots", 1, "assets")
        .await
        .contains(&("Asset".into(), a)));

    // add, from the other side
    s.update(
        "shots",
        2,
        json!({"assets": {"multi_entity_update_mode": "add", "value": [{"type": "Asset", "id": a}]}}),
    )
    .await;
    assert_eq!(
        s.links("assets", a, "shots").await,
        set(&[("Shot", 1), ("Shot", 2)])
    );
    // remove
    s.update(
        "assets",
        a,
        json!({"shots": {"multi_entity_update_mode": "remove", "value": [{"type": "Shot", "id": 1}]}}),
    )
    .await;
    assert!(!s
        .links("shots", 1, "assets")
        .await
        .contains(&("Asset".into(), a)));
    assert_eq!(s.links("assets", a, "shots").await, set(&[("Shot", 2)]));
    // set (a plain list)
    s.update("assets", a, json!({"shots": [{"type": "Shot", "id": 3}]}))
        .await;
    assert!(!s
        .links("shots", 2, "assets")
        .await
        .contains(&("Asset".into(), a)));
    assert!(s
        .links("shots", 3, "assets")
        .await
        .contains(&("Asset".into(), a)));
    s.check_mirrors();

    // The partner's change is in the event log, with old and new values.
    let (_, found) = s
        .call(
            Method::GET,
            "/entity/event_log_entries?filter[event_type]=Shotgun_Shot_Change&filter[attribute_name]=assets&fields=entity,meta&sort=-id",
            None,
        )
        .await;
    let last = &found["data"][0];
    assert_eq!(last["relationships"]["entity"]["data"]["id"], 3, "{found}");
    let meta = &last["attributes"]["meta"];
    assert_eq!(meta["added"], json!([{"type": "Asset", "id": a}]));
    assert_eq!(meta["removed"], json!([]));
    // Multi-entity changes are told as what was added and removed, as real sites do,
    // never as the whole old and new lists (a Sequence with thousands of shots would
    // copy them into every event).
    assert!(
        meta.get("old_value").is_none() && meta.get("new_value").is_none(),
        "{meta}"
    );

    // Retire takes the asset out of Shot 3; revive puts it back.
    let (st, _) = s
        .call(Method::DELETE, &format!("/entity/assets/{a}"), None)
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert!(!s
        .links("shots", 3, "assets")
        .await
        .contains(&("Asset".into(), a)));
    s.check_mirrors();
    let (st, body) = s
        .call(
            Method::POST,
            &format!("/entity/assets/{a}?revive=true"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert!(s
        .links("shots", 3, "assets")
        .await
        .contains(&("Asset".into(), a)));
    assert_eq!(s.links("assets", a, "shots").await, set(&[("Shot", 3)]));
    s.check_mirrors();

    // Self pairs: parents ↔ sub assets.
    let child = s
        .create(
            "assets",
            json!({"code": "CHILD", "project": p, "parents": [{"type": "Asset", "id": a}]}),
        )
        .await;
    assert_eq!(
        s.links("assets", a, "assets").await,
        set(&[("Asset", child)])
    );
    s.check_mirrors();
    s.site.shutdown().await;
}

#[tokio::test]
async fn single_entity_mirrors_move_and_displace() {
    let s = demo().await;
    let p = json!({"type": "Project", "id": 1});
    // Version.entity ↔ Shot.sg_versions
    let v = s
        .create(
            "versions",
            json!({"code": "V_MIRROR", "project": p, "entity": {"type": "Shot", "id": 4}}),
        )
        .await;
    assert!(s
        .links("shots", 4, "sg_versions")
        .await
        .contains(&("Version".into(), v)));
    s.update("versions", v, json!({"entity": {"type": "Shot", "id": 5}}))
        .await;
    assert!(!s
        .links("shots", 4, "sg_versions")
        .await
        .contains(&("Version".into(), v)));
    assert!(s
        .links("shots", 5, "sg_versions")
        .await
        .contains(&("Version".into(), v)));
    // Cleared: gone from the old shot.
    s.update("versions", v, json!({"entity": null})).await;
    assert!(!s
        .links("shots", 5, "sg_versions")
        .await
        .contains(&("Version".into(), v)));

    // Sequence.shots ↔ Shot.sg_sequence: adding a shot to another sequence takes it
    // out of its old one.
    let seq_a = s
        .create("sequences", json!({"code": "SEQ_A", "project": p}))
        .await;
    let seq_b = s
        .create("sequences", json!({"code": "SEQ_B", "project": p}))
        .await;
    let shot = s
        .create(
            "shots",
            json!({"code": "MOVER", "project": p, "sg_sequence": {"type": "Sequence", "id": seq_a}}),
        )
        .await;
    assert_eq!(
        s.links("sequences", seq_a, "shots").await,
        set(&[("Shot", shot)])
    );
    s.update(
        "sequences",
        seq_b,
        json!({"shots": {"multi_entity_update_mode": "add", "value": [{"type": "Shot", "id": shot}]}}),
    )
    .await;
    assert_eq!(
        s.links("shots", shot, "sg_sequence").await,
        set(&[("Sequence", seq_b)])
    );
    assert!(s.links("sequences", seq_a, "shots").await.is_empty());
    s.check_mirrors();

    // Retiring the sequence leaves the shot's entity link alone (nothing is lost);
    // reviving finds it in place.
    s.call(Method::DELETE, &format!("/entity/sequences/{seq_b}"), None)
        .await;
    assert_eq!(
        s.links("shots", shot, "sg_sequence").await,
        set(&[("Sequence", seq_b)])
    );
    s.call(
        Method::POST,
        &format!("/entity/sequences/{seq_b}?revive=true"),
        None,
    )
    .await;
    assert_eq!(
        s.links("sequences", seq_b, "shots").await,
        set(&[("Shot", shot)])
    );
    s.check_mirrors();
    // Moved while its sequence was retired: the shot stays where it was moved.
    s.call(Method::DELETE, &format!("/entity/sequences/{seq_b}"), None)
        .await;
    s.update(
        "shots",
        shot,
        json!({"sg_sequence": {"type": "Sequence", "id": seq_a}}),
    )
    .await;
    s.call(
        Method::POST,
        &format!("/entity/sequences/{seq_b}?revive=true"),
        None,
    )
    .await;
    assert_eq!(
        s.links("shots", shot, "sg_sequence").await,
        set(&[("Sequence", seq_a)])
    );
    assert!(s.links("sequences", seq_b, "shots").await.is_empty());
    assert_eq!(
        s.links("sequences", seq_a, "shots").await,
        set(&[("Shot", shot)])
    );
    s.check_mirrors();

    // A retired Note keeps its Replies' links; they are its thread again on revive.
    let note = s
        .create("notes", json!({"subject": "thread", "project": p}))
        .await;
    let reply = s
        .create(
            "replies",
            json!({"content": "re", "entity": {"type": "Note", "id": note}}),
        )
        .await;
    assert_eq!(
        s.links("notes", note, "replies").await,
        set(&[("Reply", reply)])
    );
    s.call(Method::DELETE, &format!("/entity/notes/{note}"), None)
        .await;
    assert_eq!(
        s.links("replies", reply, "entity").await,
        set(&[("Note", note)])
    );
    s.call(
        Method::POST,
        &format!("/entity/notes/{note}?revive=true"),
        None,
    )
    .await;
    assert_eq!(
        s.links("notes", note, "replies").await,
        set(&[("Reply", reply)])
    );
    s.check_mirrors();
    s.site.shutdown().await;
}

#[tokio::test]
async fn a_failed_batch_leaves_no_mirror_behind() {
    let s = demo().await;
    let before = s.links("shots", 6, "assets").await;
    let (st, body) = s
        .call(
            Method::POST,
            "/entity/_batch",
            Some(json!({"requests": [
                {"request_type": "create", "entity": "Asset",
                 "data": {"code": "BATCHED", "shots": [{"type": "Shot", "id": 6}]}},
                {"request_type": "update", "entity": "Shot", "record_id": 999999,
                 "data": {"code": "nope"}}
            ]})),
        )
        .await;
    assert!(st.is_client_error(), "{body}");
    assert_eq!(s.links("shots", 6, "assets").await, before);
    s.check_mirrors();
    s.site.shutdown().await;
}

#[tokio::test]
async fn open_notes_count_counts_open_notes() {
    let s = demo().await;
    let p = json!({"type": "Project", "id": 1});
    let shot = s
        .create("shots", json!({"code": "NOTED", "project": p}))
        .await;
    let count = |body: &Value| body["data"]["attributes"]["open_notes_count"].clone();
    let path = format!("/entity/shots/{shot}?fields=open_notes_count");
    let (_, b) = s.call(Method::GET, &path, None).await;
    assert_eq!(count(&b), 0);
    let link = json!([{"type": "Shot", "id": shot}]);
    let n1 = s
        .create(
            "notes",
            json!({"subject": "a", "project": p, "note_links": link}),
        )
        .await;
    let n2 = s
        .create(
            "notes",
            json!({"subject": "b", "project": p, "note_links": link}),
        )
        .await;
    let (_, b) = s.call(Method::GET, &path, None).await;
    assert_eq!(count(&b), 2);
    // The note also shows in the shot's notes (a mirror).
    assert_eq!(
        s.links("shots", shot, "notes").await,
        set(&[("Note", n1), ("Note", n2)])
    );
    s.update("notes", n1, json!({"sg_status_list": "clsd"}))
        .await;
    let (_, b) = s.call(Method::GET, &path, None).await;
    assert_eq!(count(&b), 1);
    s.call(Method::DELETE, &format!("/entity/notes/{n2}"), None)
        .await;
    let (_, b) = s.call(Method::GET, &path, None).await;
    assert_eq!(count(&b), 0);
    s.call(
        Method::POST,
        &format!("/entity/notes/{n2}?revive=true"),
        None,
    )
    .await;
    let (_, b) = s.call(Method::GET, &path, None).await;
    assert_eq!(count(&b), 1);
    // Moving the note elsewhere counts for the new record only.
    s.update(
        "notes",
        n2,
        json!({"note_links": [{"type": "Shot", "id": 1}]}),
    )
    .await;
    let (_, b) = s.call(Method::GET, &path, None).await;
    assert_eq!(count(&b), 0);
    s.site.shutdown().await;
}

#[tokio::test]
async fn cached_display_name_follows_renames_in_filters_and_sorts() {
    let s = demo().await;
    let p = json!({"type": "Project", "id": 1});
    let id = s
        .create("assets", json!({"code": "OLD_NAME", "project": p}))
        .await;
    s.update("assets", id, json!({"code": "NEW_NAME"})).await;
    let (_, found) = s
        .call(
            Method::GET,
            "/entity/assets?filter[cached_display_name]=NEW_NAME&fields=cached_display_name",
            None,
        )
        .await;
    let data = found["data"].as_array().unwrap();
    assert_eq!(data.len(), 1, "{found}");
    assert_eq!(data[0]["id"], id);
    assert_eq!(data[0]["attributes"]["cached_display_name"], "NEW_NAME");
    let (_, found) = s
        .call(
            Method::GET,
            "/entity/assets?filter[cached_display_name]=OLD_NAME",
            None,
        )
        .await;
    assert!(found["data"].as_array().unwrap().is_empty());
    // Sorting by it is sorting by the name.
    let (_, by_cached) = s
        .call(
            Method::GET,
            "/entity/assets?sort=-cached_display_name&fields=code&page[size]=10",
            None,
        )
        .await;
    let (_, by_code) = s
        .call(
            Method::GET,
            "/entity/assets?sort=-code&fields=code&page[size]=10",
            None,
        )
        .await;
    assert_eq!(by_cached["data"], by_code["data"]);
    s.site.shutdown().await;
}
