//! Webhooks end to end: CRUD over HTTP, and real deliveries to a receiver on
//! 127.0.0.1 that checks signatures and order, fails on demand, and acknowledges.

mod common;

use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxStatus};
use axum::routing::post;
use common::{demo_config, error as assert_error, Api};
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha1::Sha1;
use shotgrid_emulator::model::webhooks::FAILED_THRESHOLD;
use shotgrid_emulator::{start, Running};

const ID: &str = "tests";
const SECRET: &str = "hook-secret";

async fn site() -> Running {
    start(demo_config(ID, SECRET)).await.expect("server starts")
}

impl Api {
    async fn for_site(site: &Running) -> Api {
        Api::new(site, ID, SECRET).await
    }
}

/// What the receiver saw.
#[derive(Default)]
struct Seen {
    requests: Mutex<Vec<(HeaderMap, Bytes)>>,
    /// Status to answer with.
    status: AtomicU16,
    /// Milliseconds to wait before answering.
    delay_ms: AtomicU64,
}

async fn receiver() -> (String, Arc<Seen>) {
    let seen = Arc::new(Seen::default());
    seen.status.store(200, Ordering::SeqCst);
    async fn handle(
        State(seen): State<Arc<Seen>>,
        headers: HeaderMap,
        body: Bytes,
    ) -> (AxStatus, &'static str) {
        let delay = seen.delay_ms.load(Ordering::SeqCst);
        seen.requests.lock().unwrap().push((headers, body));
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        let status = AxStatus::from_u16(seen.status.load(Ordering::SeqCst)).unwrap();
        (status, "thanks")
    }
    let app = axum::Router::new()
        .route("/hook", post(handle))
        .with_state(Arc::clone(&seen));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/hook"), seen)
}

/// Publishes a change the way committed writes do (EventLogEntry record + event).
fn publish(
    site: &Running,
    op: &str,
    entity_type: &str,
    id: i64,
    attr: Option<&str>,
    new_value: Value,
) -> i64 {
    let suffix = match op {
        "create" => "New",
        "update" => "Change",
        "delete" => "Retirement",
        _ => "Revival",
    };
    let event_type = format!("Shotgun_{entity_type}_{suffix}");
    let meta = json!({"type": "attribute_change", "attribute_name": attr, "entity_type": entity_type,
        "entity_id": id, "field_data_type": "text", "old_value": null, "new_value": new_value});
    let backend = site.backend();
    let log_id = {
        let mut store = backend.store_mut();
        let fields = json!({
            "event_type": event_type, "entity": {"type": entity_type, "id": id},
            "user": {"type": "HumanUser", "id": 1}, "project": {"type": "Project", "id": 1},
            "meta": meta, "attribute_name": attr, "created_at": "2024-01-01T00:00:00Z",
            "description": "change",
        });
        store
            .insert("EventLogEntry", fields.as_object().unwrap().clone())
            .unwrap()
    };
    backend.publish(Arc::new(json!({
        "id": format!("{log_id}.0"), "event_log_entry_id": log_id, "event_type": event_type,
        "operation": op, "user": {"type": "HumanUser", "id": 1},
        "entity": {"type": entity_type, "id": id}, "project": {"type": "Project", "id": 1},
        "meta": meta, "created_at": "2024-01-01 00:00:00.000000", "attribute_name": attr,
        "session_uuid": null,
    })));
    log_id
}

async fn wait_for<F: Fn() -> bool>(what: &str, f: F) {
    for _ in 0..500 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

fn hmac_hex(key: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(body);
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

#[tokio::test]
async fn crud_and_validation() {
    let site = site().await;
    let api = Api::for_site(&site).await;

    // No token → 401.
    let res = api
        .client
        .get(format!("{}/api/v1/webhook/hooks", api.url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    let (s, body) = api.call("GET", "/api/v1/webhook/hooks", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body["data"], json!([]));

    let create = json!({
        "url": "http://127.0.0.1:9/hook", "name": "Asset Webhook",
        "description": "Asset creation and code updates",
        "entity_types": {"Asset": {"create": [], "update": ["code", "description"]}},
        "token": "tok", "projects": [1], "validate_ssl_cert": true,
    });
    let (s, body) = api
        .call("POST", "/api/v1/webhook/hooks", Some(create.clone()))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let hook = &body["data"];
    let id = hook["id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 36);
    assert_eq!(hook["status"], "active");
    assert_eq!(hook["num_deliveries"], 0);
    assert_eq!(hook["entity_types"], create["entity_types"]);
    assert_eq!(hook["projects"], json!([1]));
    assert_eq!(hook["batch_deliveries"], false);
    assert!(hook.get("token").is_none(), "token must never be shown");
    assert_eq!(body["links"]["self"], format!("/api/v1/webhook/hooks/{id}"));

    let (s, body) = api
        .call("GET", &format!("/api/v1/webhook/hooks/{id}"), None)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(body["data"]["name"], "Asset Webhook");

    // A second hook; list, filter, paginate.
    let mut second = create.clone();
    second["url"] = json!("http://localhost:9/other");
    let (s, _) = api
        .call("POST", "/api/v1/webhook/hooks", Some(second))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (_, body) = api
        .call("GET", "/api/v1/webhook/hooks?page[size]=1", None)
        .await;
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
    assert!(body["links"]["next"]
        .as_str()
        .unwrap()
        .contains("page%5Bnumber%5D=2"));
    assert!(body["links"].get("prev").is_none());
    let (_, body) = api
        .call(
            "GET",
            "/api/v1/webhook/hooks?page[size]=1&page[number]=2",
            None,
        )
        .await;
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
    assert!(body["links"]["prev"].is_string());
    assert!(body["links"].get("next").is_none());
    let (_, body) = api
        .call(
            "GET",
            "/api/v1/webhook/hooks?url=http://localhost:9/other",
            None,
        )
        .await;
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
    let (_, body) = api
        .call("GET", "/api/v1/webhook/hooks?status=disabled", None)
        .await;
    assert_eq!(body["data"], json!([]));
    let (s, body) = api
        .call("GET", "/api/v1/webhook/hooks?status=stable", None)
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(assert_error(&body, 400, 103)["source"]["status"].is_array());
    let (s, _) = api
        .call("GET", "/api/v1/webhook/hooks?page[size]=0", None)
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // Update: status only active|disabled; other fields change.
    let path = format!("/api/v1/webhook/hooks/{id}");
    let (s, body) = api
        .call(
            "PUT",
            &path,
            Some(json!({"status": "disabled", "name": "Renamed"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["status"], "disabled");
    assert_eq!(body["data"]["name"], "Renamed");
    for bad in ["failed", "unstable", "nope"] {
        let (s, body) = api.call("PUT", &path, Some(json!({"status": bad}))).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}");
        assert!(assert_error(&body, 400, 103)["source"]["status"].is_array());
    }
    let (_, body) = api.call("GET", &path, None).await;
    assert_eq!(body["data"]["status"], "disabled");

    // Invalid creates, each naming its parameter.
    let cases = [
        (
            json!({"name": "x", "entity_types": {"Asset": {"create": []}}}),
            "url",
        ),
        (
            json!({"url": "not a url", "name": "x", "entity_types": {"Asset": {"create": []}}}),
            "url",
        ),
        (
            json!({"url": "http://10.1.2.3/", "name": "x", "entity_types": {"Asset": {"create": []}}}),
            "url",
        ),
        (
            json!({"url": "http://169.254.169.254/", "name": "x", "entity_types": {"Asset": {"create": []}}}),
            "url",
        ),
        (
            json!({"url": "http://127.0.0.1/", "entity_types": {"Asset": {"create": []}}}),
            "name",
        ),
        (
            json!({"url": "http://127.0.0.1/", "name": "x", "entity_types": {"Widget": {"create": []}}}),
            "entity_types",
        ),
        (
            json!({"url": "http://127.0.0.1/", "name": "x", "entity_types": {"Asset": {"rename": []}}}),
            "entity_types",
        ),
        (
            json!({"url": "http://127.0.0.1/", "name": "x", "entity_types": []}),
            "entity_types",
        ),
        (
            json!({"url": 5, "name": "x", "entity_types": {"Asset": {"create": []}}}),
            "url",
        ),
        (
            json!({"url": "http://127.0.0.1/", "name": "x", "entity_types": {"Asset": {"create": []}}, "token": 3}),
            "token",
        ),
    ];
    for (body, param) in cases {
        let (s, resp) = api
            .call("POST", "/api/v1/webhook/hooks", Some(body.clone()))
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
        assert!(
            assert_error(&resp, 400, 103)["source"][param].is_array(),
            "{body} → {resp}"
        );
    }
    // Wrong content type → 415; malformed JSON → 400.
    let res = api
        .client
        .post(format!("{}/api/v1/webhook/hooks", api.url))
        .bearer_auth(&api.token)
        .header("content-type", "text/plain")
        .body(create.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let body: Value = res.json().await.unwrap();
    assert_error(&body, 415, 103);
    let res = api
        .client
        .post(format!("{}/api/v1/webhook/hooks", api.url))
        .bearer_auth(&api.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let (_, body) = api.call("GET", "/api/v1/webhook/hooks", None).await;
    assert_eq!(
        body["data"].as_array().unwrap().len(),
        2,
        "failed creates left no hook"
    );

    // Unknown ids → 404; delete → 204, then 404.
    for (m, p) in [
        ("GET", "/api/v1/webhook/hooks/nope".to_string()),
        ("PUT", "/api/v1/webhook/hooks/nope".to_string()),
        ("DELETE", "/api/v1/webhook/hooks/nope".to_string()),
        ("GET", "/api/v1/webhook/hooks/nope/deliveries".to_string()),
        ("GET", "/api/v1/webhook/deliveries/nope".to_string()),
        ("PUT", "/api/v1/webhook/deliveries/nope".to_string()),
        (
            "POST",
            "/api/v1/webhook/deliveries/nope/redeliver".to_string(),
        ),
    ] {
        let body = (m == "PUT").then(|| json!({"acknowledgement": "x"}));
        let (s, resp) = api.call(m, &p, body).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{m} {p}");
        assert_error(&resp, 404, 104);
    }
    let (s, body) = api.call("DELETE", &path, None).await;
    assert_eq!((s, body), (StatusCode::NO_CONTENT, Value::Null));
    let (s, _) = api.call("GET", &path, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    site.shutdown().await;
}

#[tokio::test]
async fn signed_ordered_deliveries_ack_and_redeliver() {
    let site = site().await;
    let api = Api::for_site(&site).await;
    let (hook_url, seen) = receiver().await;
    let (s, body) = api
        .call(
            "POST",
            "/api/v1/webhook/hooks",
            Some(json!({"url": hook_url, "name": "shots", "token": "s3cr3t",
                "entity_types": {"Shot": {"create": [], "update": ["code"]}}})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let hook_id = body["data"]["id"].as_str().unwrap().to_string();

    // Matching: 1 create + 20 code updates; not matching: a description update and
    // an Asset create.
    let mut log_ids = vec![publish(&site, "create", "Shot", 1, None, Value::Null)];
    publish(
        &site,
        "update",
        "Shot",
        1,
        Some("description"),
        json!("nope"),
    );
    publish(&site, "create", "Asset", 1, None, Value::Null);
    for i in 0..20 {
        log_ids.push(publish(
            &site,
            "update",
            "Shot",
            1,
            Some("code"),
            json!(format!("v{i}")),
        ));
    }
    wait_for("21 deliveries", || {
        seen.requests.lock().unwrap().len() >= 21
    })
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let requests = seen.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 21, "only matching events are delivered");
    let mut delivery_ids = Vec::new();
    for (i, (h, body)) in requests.iter().enumerate() {
        assert_eq!(header(h, "content-type"), "application/json");
        assert_eq!(
            header(h, "x-sg-signature"),
            format!("sha1={}", hmac_hex("s3cr3t", body))
        );
        assert_eq!(header(h, "x-sg-webhook-id"), hook_id);
        assert_eq!(header(h, "x-sg-webhook-site-url"), site.url());
        assert_eq!(header(h, "x-sg-event-batch-size"), "1");
        assert_eq!(header(h, "x-sg-event-batch-index"), "0");
        assert!(!header(h, "x-sg-event-batch-id").is_empty());
        let v: Value = serde_json::from_slice(body).unwrap();
        let data = &v["data"];
        assert_eq!(
            data["event_log_entry_id"], log_ids[i],
            "deliveries in event order"
        );
        assert_eq!(header(h, "x-sg-delivery-id"), data["delivery_id"]);
        assert!(v["timestamp"].as_str().unwrap().ends_with('Z'));
        for k in [
            "id",
            "event_type",
            "operation",
            "user",
            "entity",
            "project",
            "meta",
            "created_at",
            "attribute_name",
            "session_uuid",
        ] {
            assert!(data.get(k).is_some(), "missing {k}");
        }
        delivery_ids.push(data["delivery_id"].as_str().unwrap().to_string());
    }

    // Deliveries are listed, in order, with response details.
    let path = format!("/api/v1/webhook/hooks/{hook_id}/deliveries");
    wait_for("recorded outcomes", || {
        site.backend()
            .webhooks()
            .get(&hook_id)
            .map(|h| h.num_deliveries == 21)
            .unwrap_or(false)
    })
    .await;
    let (s, body) = api.call("GET", &path, None).await;
    assert_eq!(s, StatusCode::OK);
    let listed = body["data"].as_array().unwrap();
    assert_eq!(listed.len(), 21);
    let listed_ids: Vec<&str> = listed.iter().map(|d| d["id"].as_str().unwrap()).collect();
    assert_eq!(listed_ids, delivery_ids);
    let first = &listed[0];
    assert_eq!(first["status"], "delivered");
    assert_eq!(first["response_code"], 200);
    assert_eq!(first["body"], "thanks");
    assert_eq!(first["acknowledgement"], "");
    assert_eq!(first["attempts"], 1);
    assert!(first["process_time"].is_u64());
    assert!(first["event_time"].is_i64());
    assert_eq!(first["request_body"]["data"]["delivery_id"], first["id"]);
    // Filters.
    let (_, body) = api
        .call("GET", &format!("{path}?status=failed"), None)
        .await;
    assert_eq!(body["data"], json!([]));
    let (_, body) = api
        .call(
            "GET",
            &format!("{path}?entity_type=Shot&entity_id=1&page[size]=5"),
            None,
        )
        .await;
    assert_eq!(body["data"].as_array().unwrap().len(), 5);
    let (_, body) = api.call("GET", &format!("{path}?entity_id=2"), None).await;
    assert_eq!(body["data"], json!([]));
    let (s, _) = api.call("GET", &format!("{path}?status=bogus"), None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, body) = api
        .call("GET", &format!("{path}?from=yesterday"), None)
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(body["errors"][0]["source"]["from"].is_array());

    // Acknowledge (≤ 4 KB), read back, filter by it.
    let d0 = &delivery_ids[0];
    let dpath = format!("/api/v1/webhook/deliveries/{d0}");
    let (s, body) = api
        .call(
            "PUT",
            &dpath,
            Some(json!({"acknowledgement": "{\"done\":true}"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let (_, body) = api.call("GET", &dpath, None).await;
    assert_eq!(body["data"]["acknowledgement"], "{\"done\":true}");
    assert_eq!(body["links"]["self"], dpath);
    let (_, body) = api
        .call("GET", &format!("{path}?acknowledgement=done"), None)
        .await;
    assert_eq!(body["data"].as_array().unwrap().len(), 1);
    let (s, body) = api
        .call(
            "PUT",
            &dpath,
            Some(json!({"acknowledgement": "x".repeat(4097)})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(assert_error(&body, 400, 103)["source"]["acknowledgement"].is_array());
    let (s, _) = api
        .call("PUT", &dpath, Some(json!({"acknowledgement": 5})))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = api
        .call(
            "PUT",
            &dpath,
            Some(json!({"acknowledgement": "x".repeat(4096)})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);

    // Redeliver → 204, sent again with the same delivery id and a fresh signature.
    let (s, body) = api.call("POST", &format!("{dpath}/redeliver"), None).await;
    assert_eq!((s, body), (StatusCode::NO_CONTENT, Value::Null));
    wait_for("redelivery", || seen.requests.lock().unwrap().len() >= 22).await;
    let (h, body) = seen.requests.lock().unwrap()[21].clone();
    assert_eq!(header(&h, "x-sg-delivery-id"), d0);
    assert_eq!(
        header(&h, "x-sg-signature"),
        format!("sha1={}", hmac_hex("s3cr3t", &body))
    );
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["data"]["event_log_entry_id"], log_ids[0]);
    wait_for("attempt recorded", || {
        site.backend()
            .webhooks()
            .delivery(d0)
            .map(|d| d.attempts == 2 && d.response_code.is_some())
            .unwrap_or(false)
    })
    .await;

    // A disabled hook gets nothing; re-enabled it does again.
    let hpath = format!("/api/v1/webhook/hooks/{hook_id}");
    api.call("PUT", &hpath, Some(json!({"status": "disabled"})))
        .await;
    publish(&site, "create", "Shot", 2, None, Value::Null);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(seen.requests.lock().unwrap().len(), 22);
    api.call(
        "PUT",
        &hpath,
        Some(json!({"status": "active", "token": null})),
    )
    .await;
    publish(&site, "create", "Shot", 3, None, Value::Null);
    wait_for("delivery after re-enable", || {
        seen.requests.lock().unwrap().len() >= 23
    })
    .await;
    let (h, _) = seen.requests.lock().unwrap()[22].clone();
    assert!(h.get("x-sg-signature").is_none(), "no token, no signature");
    site.shutdown().await;
}

#[tokio::test]
async fn failing_consumer_turns_hook_unstable_then_failed() {
    let site = site().await;
    let api = Api::for_site(&site).await;
    let (hook_url, seen) = receiver().await;
    let (_, body) = api
        .call(
            "POST",
            "/api/v1/webhook/hooks",
            Some(json!({"url": hook_url, "name": "assets", "entity_types": {"Asset": {"update": []}}})),
        )
        .await;
    let hook_id = body["data"]["id"].as_str().unwrap().to_string();
    let hpath = format!("/api/v1/webhook/hooks/{hook_id}");

    seen.status.store(500, Ordering::SeqCst);
    publish(&site, "update", "Asset", 1, Some("code"), json!("a"));
    wait_for("first failure", || {
        site.backend()
            .webhooks()
            .get(&hook_id)
            .map(|h| h.num_deliveries == 1)
            .unwrap_or(false)
    })
    .await;
    let (_, body) = api.call("GET", &hpath, None).await;
    assert_eq!(body["data"]["status"], "unstable");
    let (_, body) = api
        .call("GET", &format!("{hpath}/deliveries?status=failed"), None)
        .await;
    assert_eq!(body["data"][0]["response_code"], 500);
    assert_eq!(body["data"][0]["status"], "failed");

    // Success while failures remain in the window keeps it unstable.
    seen.status.store(204, Ordering::SeqCst);
    publish(&site, "update", "Asset", 1, Some("code"), json!("b"));
    wait_for("success", || {
        site.backend()
            .webhooks()
            .get(&hook_id)
            .map(|h| h.num_deliveries == 2)
            .unwrap_or(false)
    })
    .await;
    let (_, body) = api.call("GET", &hpath, None).await;
    assert_eq!(body["data"]["status"], "unstable");

    // Up to the threshold of failures in 24 h → failed, and no further deliveries.
    seen.status.store(503, Ordering::SeqCst);
    for i in 0..FAILED_THRESHOLD - 1 {
        publish(&site, "update", "Asset", 1, Some("code"), json!(i));
    }
    let total = FAILED_THRESHOLD as u64 + 1;
    wait_for("threshold", || {
        site.backend()
            .webhooks()
            .get(&hook_id)
            .map(|h| h.num_deliveries == total)
            .unwrap_or(false)
    })
    .await;
    let (_, body) = api.call("GET", &hpath, None).await;
    assert_eq!(body["data"]["status"], "failed");
    let before = seen.requests.lock().unwrap().len();
    publish(&site, "update", "Asset", 1, Some("code"), json!("late"));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        seen.requests.lock().unwrap().len(),
        before,
        "failed hooks get nothing"
    );

    // Setting it active again resumes deliveries.
    seen.status.store(200, Ordering::SeqCst);
    let (_, body) = api
        .call("PUT", &hpath, Some(json!({"status": "active"})))
        .await;
    assert_eq!(body["data"]["status"], "active");
    publish(&site, "update", "Asset", 1, Some("code"), json!("again"));
    wait_for("resumed", || {
        seen.requests.lock().unwrap().len() == before + 1
    })
    .await;
    site.shutdown().await;
}

#[tokio::test]
async fn unreachable_consumer_is_a_failed_delivery() {
    let site = site().await;
    let api = Api::for_site(&site).await;
    // A port nothing listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let (_, body) = api
        .call(
            "POST",
            "/api/v1/webhook/hooks",
            Some(json!({"url": format!("http://127.0.0.1:{port}/x"), "name": "dead", "entity_types": {"Shot": {"delete": []}}})),
        )
        .await;
    let hook_id = body["data"]["id"].as_str().unwrap().to_string();
    publish(&site, "delete", "Shot", 4, None, Value::Null);
    wait_for("attempt", || {
        site.backend()
            .webhooks()
            .get(&hook_id)
            .map(|h| h.num_deliveries == 1)
            .unwrap_or(false)
    })
    .await;
    let (_, body) = api
        .call(
            "GET",
            &format!("/api/v1/webhook/hooks/{hook_id}/deliveries"),
            None,
        )
        .await;
    let d = &body["data"][0];
    assert_eq!(d["status"], "failed");
    assert!(d["response_code"].is_null());
    assert!(d["body"].as_str().unwrap().contains("connect"));
    site.shutdown().await;
}

#[tokio::test]
async fn slow_consumer_times_out() {
    let site = site().await;
    let api = Api::for_site(&site).await;
    site.backend().webhooks().delivery_timeout = Duration::from_millis(200);
    let (hook_url, seen) = receiver().await;
    seen.delay_ms.store(1000, Ordering::SeqCst);
    let (_, body) = api
        .call(
            "POST",
            "/api/v1/webhook/hooks",
            Some(
                json!({"url": hook_url, "name": "slow", "entity_types": {"Shot": {"revive": []}}}),
            ),
        )
        .await;
    let hook_id = body["data"]["id"].as_str().unwrap().to_string();
    publish(&site, "revive", "Shot", 4, None, Value::Null);
    wait_for("timeout", || {
        site.backend()
            .webhooks()
            .get(&hook_id)
            .map(|h| h.num_deliveries == 1)
            .unwrap_or(false)
    })
    .await;
    {
        let hooks = site.backend().webhooks();
        let h = hooks.get(&hook_id).unwrap();
        assert_eq!(h.status.as_str(), "unstable");
        let d = hooks.deliveries(&hook_id, &Default::default()).unwrap()[0].clone();
        assert!(d.body.contains("timed out"), "{}", d.body);
    }
    site.shutdown().await;
}

#[tokio::test]
async fn batched_deliveries_wrap_pending_events() {
    let site = site().await;
    let api = Api::for_site(&site).await;
    let (hook_url, seen) = receiver().await;
    seen.delay_ms.store(400, Ordering::SeqCst);
    let (_, body) = api
        .call(
            "POST",
            "/api/v1/webhook/hooks",
            Some(
                json!({"url": hook_url, "name": "batched", "batch_deliveries": true, "token": "k",
                "entity_types": {"Shot": {"update": []}}}),
            ),
        )
        .await;
    assert_eq!(body["data"]["batch_deliveries"], true);
    let hook_id = body["data"]["id"].as_str().unwrap().to_string();
    let first = publish(&site, "update", "Shot", 1, Some("code"), json!(0));
    wait_for("first request", || {
        !seen.requests.lock().unwrap().is_empty()
    })
    .await;
    // While the consumer is busy, five more queue up and go in one request.
    let rest: Vec<i64> = (1..=5)
        .map(|i| publish(&site, "update", "Shot", 1, Some("code"), json!(i)))
        .collect();
    wait_for("second request", || {
        seen.requests.lock().unwrap().len() >= 2
    })
    .await;
    let requests = seen.requests.lock().unwrap().clone();
    let parse = |b: &Bytes| serde_json::from_slice::<Value>(b).unwrap();
    let one = parse(&requests[0].1);
    assert_eq!(one["data"]["deliveries"].as_array().unwrap().len(), 1);
    assert_eq!(one["data"]["deliveries"][0]["event_log_entry_id"], first);
    let batch = parse(&requests[1].1);
    let ids: Vec<i64> = batch["data"]["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["event_log_entry_id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, rest);
    assert_eq!(header(&requests[1].0, "x-sg-event-batch-size"), "5");
    assert_eq!(
        header(&requests[1].0, "x-sg-signature"),
        format!("sha1={}", hmac_hex("k", &requests[1].1))
    );
    wait_for("recorded", || {
        site.backend()
            .webhooks()
            .get(&hook_id)
            .map(|h| h.num_deliveries == 6)
            .unwrap_or(false)
    })
    .await;
    site.shutdown().await;
}

#[tokio::test]
async fn oversized_payload_drops_values_and_warns() {
    let site = site().await;
    let api = Api::for_site(&site).await;
    let (hook_url, seen) = receiver().await;
    api.call("POST", "/api/v1/webhook/hooks", Some(json!({"url": hook_url, "name": "big", "entity_types": {"Shot": {"update": ["description"]}}})))
        .await;
    publish(
        &site,
        "update",
        "Shot",
        1,
        Some("description"),
        json!("x".repeat(1_100_000)),
    );
    wait_for("delivery", || !seen.requests.lock().unwrap().is_empty()).await;
    let (_, body) = seen.requests.lock().unwrap()[0].clone();
    assert!(body.len() < 100_000);
    let v: Value = serde_json::from_slice(&body).unwrap();
    let meta = &v["data"]["meta"];
    assert!(meta.get("new_value").is_none() && meta.get("old_value").is_none());
    assert!(meta["warning"].is_string());
    site.shutdown().await;
}
