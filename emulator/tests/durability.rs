//! `--data`: every kind of committed state survives a restart (records, schema, follows,
//! last-accessed times, webhooks and their deliveries, uploaded files and what links to
//! them), and a crash never corrupts the store: a torn temporary file is ignored, and a
//! process killed in the middle of a stream of writes comes back with every write it
//! acknowledged.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

mod common;

use common::{Api, Site};
use reqwest::redirect::Policy;
use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use sha2::Digest as _;
use shotgrid_emulator::{start, Config, ScriptUser, Seed, StorageMode};

const NAME: &str = "durable";
const KEY: &str = "durable-key";

fn config(path: &Path) -> Config {
    Config {
        seed: Seed::Demo,
        data_file: Some(path.to_path_buf()),
        script_users: vec![ScriptUser {
            name: NAME.into(),
            key: KEY.into(),
        }],
        storage: StorageMode::S3,
        min_part_size: 1024,
        ..Config::default()
    }
}

/// What these tests add to the common [`Site`].
impl Site {
    /// A site persisting to `path`, with a client that does not follow redirects.
    async fn durable(path: &Path) -> Site {
        let site = start(config(path)).await.expect("site starts");
        let client = Client::builder().redirect(Policy::none()).build().unwrap();
        let api = Api::with_client(&site, client, NAME, KEY).await;
        Site { site, api }
    }

    /// Follows a download redirect and returns the bytes.
    async fn fetch_redirect(&self, path: &str) -> Vec<u8> {
        let res = self
            .client
            .get(self.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FOUND, "{path}");
        let location = res.headers()["location"].to_str().unwrap().to_string();
        let res = self.client.get(location).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        res.bytes().await.unwrap().to_vec()
    }

    /// Uploads `bytes` to `path` (`/api/v1/entity/shots/1[/field]`) through s3
    /// storage and completes the upload; returns the completion status.
    async fn upload(&self, path: &str, filename: &str, bytes: &[u8]) -> StatusCode {
        let (st, info) = self
            .call(
                Method::GET,
                &format!("{path}/_upload?filename={filename}"),
                None,
            )
            .await;
        assert_eq!(st, StatusCode::OK, "{info}");
        let res = self
            .client
            .put(info["links"]["upload"].as_str().unwrap())
            .body(bytes.to_vec())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let (st, body) = self
            .call(
                Method::POST,
                &format!("{path}/_upload"),
                Some(json!({"upload_info": info["data"], "upload_data": {}})),
            )
            .await;
        assert!(st.is_success(), "{st} {body}");
        st
    }

    fn events(&self, event_type: &str) -> Vec<Value> {
        let store = self.site.backend().store();
        store
            .table("EventLogEntry")
            .unwrap()
            .records
            .values()
            .filter(|r| r.fields["event_type"] == event_type)
            .map(|r| Value::Object(r.fields.clone()))
            .collect()
    }
}

/// A port nothing listens on: deliveries to it fail at once.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

async fn wait_for<F: Fn() -> bool>(what: &str, f: F) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn every_kind_of_state_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("site.json");
    let s = Site::durable(&path).await;
    let user = shotgrid_emulator::model::writes::check_human_password(
        &s.site.backend().store(),
        shotgrid_emulator::DEMO_HUMAN_LOGIN,
        shotgrid_emulator::DEMO_HUMAN_PASSWORD,
    )
    .expect("demo human user");

    // Follows and last access.
    let (st, body) = s
        .call(
            Method::POST,
            &format!("/api/v1/entity/human_users/{user}/follow"),
            Some(json!({"entities": [{"entity": "Shot", "record_id": 1}, {"entity": "Asset", "record_id": 2}]})),
        )
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT, "{body}");
    let (st, _) = s
        .call(
            Method::PUT,
            "/api/v1/entity/projects/1/_update_last_accessed",
            Some(json!({"user_id": user})),
        )
        .await;
    assert!(st.is_success());
    let accessed = s.site.backend().last_accessed(1, user).expect("recorded");

    // A webhook whose consumer is down: its delivery fails and is recorded.
    let (st, hook) = s
        .call(
            Method::POST,
            "/api/v1/webhook/hooks",
            Some(json!({
                "url": format!("http://127.0.0.1:{}/hook", closed_port()),
                "name": "durable hook",
                "token": "hook-secret",
                "entity_types": {"Shot": {"update": ["description"]}},
            })),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{hook}");
    let hook_id = hook["data"]["id"].as_str().unwrap().to_string();
    let (st, _) = s
        .call(
            Method::PUT,
            "/api/v1/entity/shots/1",
            Some(json!({"description": "durable change"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let backend = s.site.backend().clone();
    let hid = hook_id.clone();
    wait_for("the failed delivery", move || {
        backend
            .webhooks()
            .get(&hid)
            .is_ok_and(|h| h.num_deliveries == 1)
    })
    .await;
    let deliveries_path = format!("/api/v1/webhook/hooks/{hook_id}/deliveries");
    let (_, list) = s.call(Method::GET, &deliveries_path, None).await;
    let delivery = list["data"][0].clone();
    assert_eq!(delivery["status"], "failed", "{list}");
    let delivery_id = delivery["id"].as_str().unwrap().to_string();
    let (st, _) = s
        .call(
            Method::PUT,
            &format!("/api/v1/webhook/deliveries/{delivery_id}"),
            Some(json!({"acknowledgement": "seen it"})),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let (_, hook_before) = s
        .call(
            Method::GET,
            &format!("/api/v1/webhook/hooks/{hook_id}"),
            None,
        )
        .await;
    assert_eq!(hook_before["data"]["status"], "unstable");

    // Files: an attachment of Shot 1, and Shot 2's thumbnail.
    let attachment_bytes = b"attachment bytes that must survive".to_vec();
    let thumb_bytes = vec![0x89, b'P', b'N', b'G', 1, 2, 3, 4];
    assert_eq!(
        s.upload("/api/v1/entity/shots/1", "notes.txt", &attachment_bytes)
            .await,
        StatusCode::CREATED
    );
    assert_eq!(
        s.upload("/api/v1/entity/shots/2/image", "thumb.png", &thumb_bytes)
            .await,
        StatusCode::NO_CONTENT
    );
    let attachment = {
        let store = s.site.backend().store();
        *store
            .table("Attachment")
            .unwrap()
            .records
            .keys()
            .next_back()
            .unwrap()
    };
    let blobs = dir.path().join("site.json.blobs");
    assert_eq!(std::fs::read_dir(&blobs).unwrap().count(), 2);

    // Not a graceful stop: drop the server and start another on the same file.
    drop(s);
    let s = Site::durable(&path).await;

    let (st, followers) = s
        .call(Method::GET, "/api/v1/entity/shots/1/followers", None)
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(followers["data"][0]["id"], user, "{followers}");
    let (_, following) = s
        .call(
            Method::GET,
            &format!("/api/v1/entity/human_users/{user}/following"),
            None,
        )
        .await;
    assert_eq!(
        following["data"].as_array().unwrap().len(),
        2,
        "{following}"
    );
    assert_eq!(s.site.backend().last_accessed(1, user), Some(accessed));

    let (st, hook_after) = s
        .call(
            Method::GET,
            &format!("/api/v1/webhook/hooks/{hook_id}"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(hook_after["data"], hook_before["data"]);
    let (_, d) = s
        .call(
            Method::GET,
            &format!("/api/v1/webhook/deliveries/{delivery_id}"),
            None,
        )
        .await;
    assert_eq!(d["data"]["acknowledgement"], "seen it");
    assert_eq!(d["data"]["status"], "failed");
    assert_eq!(d["data"]["request_body"], delivery["request_body"]);
    // The token survived too: a redelivery is still signed with it.
    assert!(d["data"]["request_headers"]["x-sg-signature"]
        .as_str()
        .is_some_and(|s| s.starts_with("sha1=")));

    assert_eq!(
        s.fetch_redirect(&format!("/file_serve/attachment/{attachment}"))
            .await,
        attachment_bytes
    );
    assert_eq!(
        s.fetch_redirect("/api/v1/entity/shots/2/image?alt=original")
            .await,
        thumb_bytes
    );
    let (_, shot2) = s
        .call(Method::GET, "/api/v1/entity/shots/2?fields=image", None)
        .await;
    assert!(shot2["data"]["attributes"]["image"].is_string(), "{shot2}");
    // Ids of files continue: a new upload gets a new file, the old ones stay.
    assert_eq!(
        s.upload("/api/v1/entity/shots/3", "more.txt", b"more")
            .await,
        StatusCode::CREATED
    );
    assert_eq!(
        s.fetch_redirect(&format!("/file_serve/attachment/{attachment}"))
            .await,
        attachment_bytes
    );
    s.site.shutdown().await;
}

#[tokio::test]
async fn a_stored_file_that_went_missing_is_dropped_not_served_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("site.json");
    let s = Site::durable(&path).await;
    s.upload("/api/v1/entity/shots/1", "a.txt", b"first file")
        .await;
    let attachment = *s
        .site
        .backend()
        .store()
        .table("Attachment")
        .unwrap()
        .records
        .keys()
        .next_back()
        .unwrap();
    drop(s);
    // Alter the stored bytes behind the emulator's back.
    for e in std::fs::read_dir(dir.path().join("site.json.blobs")).unwrap() {
        std::fs::write(e.unwrap().path(), b"tampered").unwrap();
    }
    let s = Site::durable(&path).await;
    let res = s
        .client
        .get(s.url(&format!("/file_serve/attachment/{attachment}")))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    s.site.shutdown().await;
}

#[tokio::test]
async fn uploads_log_events_and_reach_webhooks() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("site.json");
    let s = Site::durable(&path).await;
    let new_before = s.events("Shotgun_Attachment_New").len();
    assert_eq!(
        s.upload("/api/v1/entity/shots/1", "a.txt", b"file one")
            .await,
        StatusCode::CREATED
    );
    let news = s.events("Shotgun_Attachment_New");
    assert_eq!(news.len(), new_before + 1);
    let ev = news.last().unwrap();
    assert_eq!(ev["meta"]["type"], "new_entity");
    let store_user = ev["user"].clone();
    assert_eq!(store_user["type"], "ApiUser");
    assert_eq!(ev["project"], json!({"type": "Project", "id": 1}));

    // The upload shows in the record's activity stream, as the Attachment's creation.
    let (st, stream) = s
        .call(Method::GET, "/api/v1/entity/shots/1/activity_stream", None)
        .await;
    assert_eq!(st, StatusCode::OK, "{stream}");
    let first = &stream["data"]["updates"][0];
    assert_eq!(first["update_type"], "create", "{stream}");
    assert_eq!(first["primary_entity"]["type"], "Attachment");
    assert_eq!(first["primary_entity"]["name"], "a.txt");

    // A thumbnail is a Change of the record's image, with old and new values.
    let changes_before = s.events("Shotgun_Shot_Change").len();
    s.upload("/api/v1/entity/shots/1/image", "t.png", b"png")
        .await;
    let changes = s.events("Shotgun_Shot_Change");
    assert_eq!(changes.len(), changes_before + 1);
    let ev = changes.last().unwrap();
    assert_eq!(ev["attribute_name"], "image");
    assert_eq!(ev["meta"]["attribute_name"], "image");
    assert!(ev["meta"]["old_value"].is_null());
    assert!(ev["meta"]["new_value"].is_string());

    // An upload into a Note's attachments: the Attachment links back to the Note, and
    // the Note's field change is logged once.
    let (st, note) = s
        .call(
            Method::POST,
            "/api/v1/entity/notes",
            Some(json!({"subject": "with file", "project": {"type": "Project", "id": 1}})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let note_id = note["data"]["id"].as_i64().unwrap();
    let notes_before = s.events("Shotgun_Note_Change").len();
    s.upload(
        &format!("/api/v1/entity/notes/{note_id}/attachments"),
        "n.txt",
        b"note file",
    )
    .await;
    let (_, n) = s
        .call(
            Method::GET,
            &format!("/api/v1/entity/notes/{note_id}?fields=attachments"),
            None,
        )
        .await;
    let links = n["data"]["relationships"]["attachments"]["data"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(links.len(), 1, "{n}");
    let att = links[0]["id"].as_i64().unwrap();
    let (_, a) = s
        .call(
            Method::GET,
            &format!("/api/v1/entity/attachments/{att}?fields=attachment_links"),
            None,
        )
        .await;
    assert_eq!(
        a["data"]["relationships"]["attachment_links"]["data"][0]["id"],
        note_id
    );
    let note_changes: Vec<Value> = s.events("Shotgun_Note_Change")[notes_before..].to_vec();
    assert_eq!(note_changes.len(), 1, "{note_changes:?}");
    assert_eq!(note_changes[0]["attribute_name"], "attachments");

    // Events of an upload are searchable like any entity, and persisted with it.
    let (_, found) = s
        .call(
            Method::GET,
            "/api/v1/entity/event_log_entries?filter[event_type]=Shotgun_Attachment_New&fields=entity",
            None,
        )
        .await;
    assert_eq!(found["data"].as_array().unwrap().len(), new_before + 2);
    drop(s);
    let s = Site::durable(&path).await;
    assert_eq!(s.events("Shotgun_Attachment_New").len(), new_before + 2);
    s.site.shutdown().await;
}

/// The real binary, killed (SIGKILL) in the middle of a stream of creates, comes back
/// with every create it acknowledged, and ids carry on after them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_process_keeps_every_acknowledged_write() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let path: PathBuf = dir.path().join("site.json");
    let spawn = |path: &Path| {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_shotgrid-emulator"))
            .args(["--port", "0", "--seed", "demo", "--script-user"])
            .arg(format!("{NAME}:{KEY}"))
            .arg("--data")
            .arg(path)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn emulator");
        // Keep reading stdout: the demo prints its credentials after the first
        // line, and a closed pipe would make it exit.
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        let url = line
            .trim_end()
            .strip_prefix("shotgrid-emulator listening on ")
            .expect("listening line")
            .to_string();
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        (child, url)
    };
    let (mut child, url) = spawn(&path);
    let client = Client::new();
    let t = common::token(&client, &url, NAME, KEY).await;
    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(i64, String)>::new()));
    let mut writers = Vec::new();
    for w in 0..4 {
        let (client, url, t, acknowledged) =
            (client.clone(), url.clone(), t.clone(), acknowledged.clone());
        writers.push(tokio::spawn(async move {
            for i in 0..1000 {
                let code = format!("KILL_{w}_{i}");
                let res = client
                    .post(format!("{url}/api/v1/entity/shots"))
                    .bearer_auth(&t)
                    .json(&json!({"code": code, "description": "x".repeat(200)}))
                    .send()
                    .await;
                let Ok(res) = res else { return };
                if res.status() != StatusCode::CREATED {
                    return;
                }
                let Ok(body) = res.json::<Value>().await else {
                    return;
                };
                let id = body["data"]["id"].as_i64().unwrap();
                acknowledged.lock().unwrap().push((id, code));
            }
        }));
    }
    // Kill once some writes are in; the writers are still going.
    let deadline = Instant::now() + Duration::from_secs(90);
    while acknowledged.lock().unwrap().len() < 12 {
        assert!(Instant::now() < deadline, "writes are too slow");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    for w in writers {
        w.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() >= 12);

    let (mut child, url) = spawn(&path);
    // A fresh client: no pooled connection to the killed process.
    let client = Client::new();
    let t = common::token(&client, &url, NAME, KEY).await;
    let mut max_id = 0;
    for (id, code) in &acknowledged {
        let res = client
            .get(format!("{url}/api/v1/entity/shots/{id}?fields=code"))
            .bearer_auth(&t)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "shot {id} ({code}) lost");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["data"]["attributes"]["code"], code.as_str());
        max_id = max_id.max(*id);
    }
    let res = client
        .post(format!("{url}/api/v1/entity/shots"))
        .bearer_auth(&t)
        .json(&json!({"code": "AFTER_KILL"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    assert!(body["data"]["id"].as_i64().unwrap() > max_id);
    child.kill().unwrap();
    child.wait().unwrap();
}

/// A consumer that records the site URL and event of every delivery it gets.
async fn consumer() -> (
    String,
    std::sync::Arc<std::sync::Mutex<Vec<(String, Value)>>>,
) {
    use axum::extract::State;
    use axum::http::HeaderMap;
    type Seen = std::sync::Arc<std::sync::Mutex<Vec<(String, Value)>>>;
    let seen: Seen = Default::default();
    async fn handle(
        State(seen): State<Seen>,
        headers: HeaderMap,
        body: axum::body::Bytes,
    ) -> &'static str {
        let site = headers
            .get("x-sg-webhook-site-url")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        seen.lock().unwrap().push((site, body["data"].clone()));
        "ok"
    }
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(handle))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/hook"), seen)
}

/// A crash after a write committed but before its delivery was prepared: the site that
/// starts on the data file delivers it, once, and nothing older.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_a_write_and_its_delivery_still_delivers() {
    use shotgrid_emulator::auth::{Principal, Session};
    use shotgrid_emulator::model::writes::{ReturnFields, WriteOp};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("site.json");
    let (hook_url, seen) = consumer().await;
    let s = Site::durable(&path).await;
    // A write before the hook exists is never delivered to it.
    s.call(
        Method::PUT,
        "/api/v1/entity/shots/1",
        Some(json!({"description": "before the hook"})),
    )
    .await;
    let (st, body) = s
        .call(
            Method::POST,
            "/api/v1/webhook/hooks",
            Some(json!({"url": hook_url, "name": "replay", "entity_types": {"Shot": {"update": ["description"]}}})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    // One delivery the normal way.
    s.call(
        Method::PUT,
        "/api/v1/entity/shots/1",
        Some(json!({"description": "delivered live"})),
    )
    .await;
    let seen2 = seen.clone();
    wait_for("the live delivery", move || {
        seen2.lock().unwrap().len() == 1
    })
    .await;

    // Hold the webhooks lock so the engine can't prepare the next delivery, write,
    // and take the data file as it is at that moment: that is what a crash leaves.
    let crashed = dir.path().join("crashed.json");
    {
        let hooks = s.site.backend().webhooks();
        let op = WriteOp::Update {
            entity_type: "Shot".into(),
            id: 2,
            data: json!({"description": "committed, not delivered"})
                .as_object()
                .cloned()
                .unwrap(),
        };
        s.site
            .backend()
            .write(
                &Session::of(Principal::Script(NAME.into())),
                op,
                ReturnFields::Nothing,
            )
            .unwrap();
        std::fs::copy(&path, &crashed).unwrap();
        drop(hooks);
    }
    let seen2 = seen.clone();
    wait_for("the original site's delivery", move || {
        seen2.lock().unwrap().len() == 2
    })
    .await;
    let original = s.site.url();
    drop(s);

    let s = Site::durable(&crashed).await;
    let new_url = s.site.url();
    let seen2 = seen.clone();
    let site2 = new_url.clone();
    wait_for("the replayed delivery", move || {
        seen2.lock().unwrap().iter().any(|(site, _)| *site == site2)
    })
    .await;
    // Give a wrong second delivery time to show up.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let got = seen.lock().unwrap().clone();
    let replayed: Vec<&Value> = got
        .iter()
        .filter(|(site, _)| *site == new_url)
        .map(|(_, d)| d)
        .collect();
    assert_eq!(replayed.len(), 1, "{got:?}");
    assert_eq!(replayed[0]["entity"], json!({"type": "Shot", "id": 2}));
    assert_eq!(replayed[0]["meta"]["new_value"], "committed, not delivered");
    assert_eq!(replayed[0]["operation"], "update");
    assert!(got
        .iter()
        .all(|(site, _)| *site == original || *site == new_url));
    // The replayed delivery is recorded like any other, and not replayed again.
    drop(s);
    let s = Site::durable(&crashed).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let again = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|(site, _)| *site == s.site.url())
        .count();
    assert_eq!(again, 0);
    s.site.shutdown().await;
}

#[tokio::test]
async fn a_multipart_upload_survives_a_restart_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("site.json");
    let s = Site::durable(&path).await;
    let field = "/api/v1/entity/versions/1/sg_uploaded_movie";
    let (st, info) = s
        .call(
            Method::GET,
            &format!("{field}/_upload?filename=cut.mov&multipart_upload=true"),
            None,
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{info}");
    let parts: Vec<Vec<u8>> = (0..3u32)
        .map(|p| {
            (0..if p == 2 { 99 } else { 1024 })
                .map(|i| (i * 13 + p) as u8)
                .collect()
        })
        .collect();
    let mut urls = vec![info["links"]["upload"].as_str().unwrap().to_string()];
    let mut next = info["links"]["get_next_part"].as_str().unwrap().to_string();
    for _ in 1..parts.len() {
        let (st, body) = s.call(Method::GET, &next, None).await;
        assert_eq!(st, StatusCode::OK, "{body}");
        urls.push(body["links"]["upload"].as_str().unwrap().to_string());
        next = body["links"]["get_next_part"].as_str().unwrap().to_string();
    }
    let mut etags = vec![String::new(); parts.len()];
    // Out of order: the last part first.
    for i in [2, 0, 1] {
        let res = s
            .client
            .put(&urls[i])
            .body(parts[i].clone())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        etags[i] = res.headers()["etag"].to_str().unwrap().to_string();
    }
    let mut upload_info = info["data"].clone();
    upload_info["etags"] = json!(etags);
    let (st, body) = s
        .call(
            Method::POST,
            &format!("{field}/_upload"),
            Some(json!({"upload_info": upload_info})),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED, "{body}");
    let all = parts.concat();
    // On disk before the answer: one blob file holding the parts in order.
    let blobs: Vec<_> = std::fs::read_dir(dir.path().join("site.json.blobs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(blobs.len(), 1);
    assert_eq!(std::fs::read(&blobs[0]).unwrap(), all);
    let sha: String = sha2::Sha256::digest(&all)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(blobs[0].file_name().unwrap().to_str(), Some(sha.as_str()));

    drop(s);
    let s = Site::durable(&path).await;
    assert_eq!(
        s.fetch_redirect(&format!("{field}?alt=original")).await,
        all
    );
    s.site.shutdown().await;
}
