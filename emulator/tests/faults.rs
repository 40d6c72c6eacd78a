//! Fault injection, admin routes and CORS origins, over real HTTP.

use std::time::{Duration, Instant};

use reqwest::{Client, Method, StatusCode};
use serde_json::{json, Value};
use shotgrid_emulator::{Running, ServerOptions};

mod common;

const SECRET: &str = "admin-secret";

async fn site_with(options: ServerOptions) -> Running {
    common::start_demo("tests", "key", None, options).await
}

async fn site() -> Running {
    common::start_demo("tests", "key", Some(SECRET), ServerOptions::default()).await
}

async fn token_res(c: &Client, url: &str) -> reqwest::Result<reqwest::Response> {
    common::grant_response(c, url, &common::credentials("tests", "key")).await
}

/// An `/_admin` request to a site whose admin secret is [`SECRET`].
async fn admin(
    c: &Client,
    url: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    common::admin(c, url, SECRET, method, path, body).await
}

async fn set_faults(c: &Client, url: &str, config: Value) {
    let (s, b) = admin(c, url, Method::POST, "/_admin/faults", Some(config)).await;
    assert_eq!(s, StatusCode::OK, "{b}");
}

async fn stats(c: &Client, url: &str) -> Value {
    admin(c, url, Method::GET, "/_admin/stats", None).await.1
}

#[tokio::test]
async fn admin_routes_are_guarded() {
    // No secret configured: the routes do not exist.
    let off = site_with(ServerOptions::default()).await;
    let c = Client::new();
    for path in ["/_admin/stats", "/_admin/faults"] {
        let res = c
            .get(format!("{}{path}", off.url()))
            .header("x-admin-secret", "x")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        let b: Value = res.json().await.unwrap();
        assert_eq!(b["errors"][0]["code"], 104);
    }
    off.shutdown().await;

    let s = site().await;
    let url = s.url();
    let res = c.get(format!("{url}/_admin/stats")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = c
        .get(format!("{url}/_admin/stats"))
        .header("x-admin-secret", "admin-secreT")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = c
        .post(format!("{url}/_admin/expire_tokens"))
        .bearer_auth(common::token(&c, &url, "tests", "key").await)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // Invalid configurations are refused and leave the old one in place.
    for bad in [
        json!({"error_rate": 0.8, "drop_rate": 0.5}),
        json!({"error_rate": 2}),
        json!({"nonsense": 1}),
        json!({"error_statuses": [404], "error_rate": 0.1}),
        json!({"classes": ["bogus"]}),
    ] {
        let (st, b) = admin(&c, &url, Method::POST, "/_admin/faults", Some(bad.clone())).await;
        assert_eq!(st, StatusCode::BAD_REQUEST, "{bad}: {b}");
        assert_eq!(b["errors"][0]["code"], 103);
    }
    let (_, cfg) = admin(&c, &url, Method::GET, "/_admin/faults", None).await;
    assert_eq!(cfg["error_rate"], 0.0);
    s.shutdown().await;
}

#[tokio::test]
async fn error_rates_are_seeded_and_near_the_rate() {
    let s = site().await;
    let (url, c) = (s.url(), Client::new());
    let run = || async {
        set_faults(
            &c,
            &url,
            json!({"error_rate": 0.3, "seed": 42, "classes": ["info"]}),
        )
        .await;
        let mut seq = Vec::new();
        for _ in 0..200 {
            let res = c.get(format!("{url}/api/v1/")).send().await.unwrap();
            let status = res.status().as_u16();
            if status != 200 {
                assert!(res.headers().contains_key("x-request-id"));
                let b: Value = res.json().await.unwrap();
                assert_eq!(b["errors"][0]["code"], 100, "{b}");
                assert_eq!(b["errors"][0]["status"], status);
            }
            seq.push(status);
        }
        seq
    };
    let a = run().await;
    let b = run().await;
    assert_eq!(a, b, "same seed, same sequence");
    let errors = a.iter().filter(|s| **s != 200).count();
    assert!((35..=85).contains(&errors), "{errors} errors of 200 at 30%");
    assert!(a.contains(&500) && a.contains(&503));
    // Other classes are untouched; admin never faulted.
    let t = common::token(&c, &url, "tests", "key").await;
    let res = c
        .get(format!("{url}/api/v1/entity/projects/1"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    set_faults(&c, &url, json!({"error_rate": 1.0})).await;
    let st = stats(&c, &url).await;
    assert_eq!(st["requests"]["info"], 400, "{st}");
    assert_eq!(st["faults"]["error"], 2 * errors, "{st}");
    let (st, _) = admin(&c, &url, Method::DELETE, "/_admin/faults", None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert_eq!(
        c.get(format!("{url}/api/v1/"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    s.shutdown().await;
}

#[tokio::test]
async fn rate_limit_latency_and_cors_preflight_bypass() {
    let s = site().await;
    let (url, c) = (s.url(), Client::new());
    set_faults(
        &c,
        &url,
        json!({"rate_limit_rate": 1.0, "retry_after_secs": 7}),
    )
    .await;
    let res = c.get(format!("{url}/api/v1/")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(res.headers()["retry-after"], "7");
    // Preflights are never faulted.
    let res = c
        .request(Method::OPTIONS, format!("{url}/api/v1/entity/shots"))
        .header("origin", "http://app.example")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());

    set_faults(&c, &url, json!({"latency_ms": 150, "jitter_ms": 20})).await;
    let started = Instant::now();
    assert_eq!(
        c.get(format!("{url}/api/v1/"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert!(started.elapsed() >= Duration::from_millis(150));
    s.shutdown().await;
}

#[tokio::test]
async fn dropped_connections_before_and_after_commit() {
    let s = site().await;
    let (url, c) = (s.url(), Client::new());
    // Before the handler: the client sees a network error and nothing was granted.
    set_faults(&c, &url, json!({"drop_rate": 1.0, "classes": ["auth"]})).await;
    assert!(token_res(&c, &url).await.is_err(), "dropped before commit");
    let st = stats(&c, &url).await;
    assert_eq!(st["token_requests"], 1, "{st}");
    assert_eq!(st["token_grants"], 0, "{st}");
    assert_eq!(st["faults"]["drop"], 1, "{st}");

    // After the handler: a network error, but the grant happened.
    set_faults(
        &c,
        &url,
        json!({"drop_after_commit_rate": 1.0, "classes": ["auth"]}),
    )
    .await;
    let fresh = Client::new();
    assert!(
        token_res(&fresh, &url).await.is_err(),
        "dropped after commit"
    );
    let st = stats(&c, &url).await;
    assert_eq!(st["token_requests"], 2, "{st}");
    assert_eq!(st["token_grants"], 1, "{st}");

    // Reset: counters zeroed, faults back to the start-up configuration (none).
    let (code, _) = admin(&c, &url, Method::POST, "/_admin/reset", None).await;
    assert_eq!(code, StatusCode::NO_CONTENT);
    let st = stats(&c, &url).await;
    assert_eq!(st["token_requests"], 0);
    assert_eq!(st["token_grants"], 0);
    assert!(token_res(&c, &url).await.unwrap().status().is_success());
    assert_eq!(stats(&c, &url).await["token_requests"], 1);
    s.shutdown().await;
}

#[tokio::test]
async fn answers_cut_off_mid_response_after_commit() {
    let s = site().await;
    let (url, c) = (s.url(), Client::new());
    let t = common::token(&c, &url, "tests", "key").await;
    set_faults(
        &c,
        &url,
        json!({"drop_mid_response_rate": 1.0, "classes": ["write"]}),
    )
    .await;
    // The answer begins (status and headers arrive), then breaks off in the body.
    let res = Client::new()
        .post(format!("{url}/api/v1/entity/shots"))
        .bearer_auth(&t)
        .json(&json!({"code": "CUT_OFF_010", "project": {"type": "Project", "id": 1}}))
        .send()
        .await
        .expect("the status and headers arrive");
    assert_eq!(res.status(), StatusCode::CREATED);
    assert!(res.headers().get("content-length").is_none());
    assert!(res.bytes().await.is_err(), "the body breaks off");
    let st = stats(&c, &url).await;
    assert_eq!(st["faults"]["drop_mid_response"], 1, "{st}");
    // The write committed: the record is there, once.
    set_faults(&c, &url, json!({})).await;
    let found: Value = c
        .get(format!(
            "{url}/api/v1/entity/shots?filter[code]=CUT_OFF_010"
        ))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found["data"].as_array().map(Vec::len), Some(1), "{found}");
    // Reads are not classed as writes: they pass untouched.
    set_faults(
        &c,
        &url,
        json!({"drop_mid_response_rate": 1.0, "classes": ["write"]}),
    )
    .await;
    let read = c
        .get(format!("{url}/api/v1/entity/shots/1"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), StatusCode::OK);
    assert!(read.bytes().await.is_ok());
    // Rates are validated together with the others.
    let (code, _) = admin(
        &c,
        &url,
        Method::POST,
        "/_admin/faults",
        Some(json!({"drop_mid_response_rate": 0.6, "drop_rate": 0.6})),
    )
    .await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
    s.shutdown().await;
}

#[tokio::test]
async fn forced_expiry_and_session_tokens() {
    let s = site().await;
    let (url, c) = (s.url(), Client::new());
    let t = common::token(&c, &url, "tests", "key").await;
    let (code, _) = admin(&c, &url, Method::POST, "/_admin/expire_tokens", None).await;
    assert_eq!(code, StatusCode::NO_CONTENT);
    let res = c
        .get(format!("{url}/api/v1/entity/projects/1"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let b: Value = res.json().await.unwrap();
    assert_eq!(b["errors"][0]["code"], 102);
    assert_eq!(b["errors"][0]["detail"], "Token Expired");

    let (code, b) = admin(
        &c,
        &url,
        Method::POST,
        "/_admin/session_token",
        Some(json!({"login": "admin"})),
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{b}");
    let st = b["session_token"].as_str().unwrap();
    let res = c
        .post(format!("{url}/api/v1/auth/access_token"))
        .form(&[("grant_type", "session_token"), ("session_token", st)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // Refusals: an unknown login, no login, an unknown file, an id that is no number.
    for (method, path, body, want) in [
        (
            Method::POST,
            "/_admin/session_token",
            Some(json!({"login": "ghost"})),
            StatusCode::NOT_FOUND,
        ),
        (
            Method::POST,
            "/_admin/session_token",
            Some(json!({})),
            StatusCode::BAD_REQUEST,
        ),
        (
            Method::GET,
            "/_admin/files/99/sha256",
            None,
            StatusCode::NOT_FOUND,
        ),
        (
            Method::GET,
            "/_admin/files/x/sha256",
            None,
            StatusCode::BAD_REQUEST,
        ),
    ] {
        let (code, b) = admin(&c, &url, method, path, body).await;
        assert_eq!(code, want, "{path}: {b}");
    }
    s.shutdown().await;
}

#[tokio::test]
async fn cors_origins_are_configurable() {
    let preflight = |url: String, origin: &'static str| async move {
        Client::new()
            .request(Method::OPTIONS, format!("{url}/api/v1/entity/shots"))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
            .await
            .unwrap()
    };
    let any = site_with(ServerOptions::default()).await;
    let res = preflight(any.url(), "http://anything.example").await;
    assert_eq!(res.headers()["access-control-allow-origin"], "*");
    any.shutdown().await;

    let s = site_with(ServerOptions {
        cors_origins: vec![
            "http://allowed.example".into(),
            "http://other.example/".into(),
        ],
        ..ServerOptions::default()
    })
    .await;
    let res = preflight(s.url(), "http://allowed.example").await;
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "http://allowed.example"
    );
    let res = preflight(s.url(), "http://other.example").await;
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "http://other.example"
    );
    let res = preflight(s.url(), "http://evil.example").await;
    assert!(res.headers().get("access-control-allow-origin").is_none());
    // Storage answers CORS too (browsers upload to it directly).
    let res = Client::new()
        .request(Method::OPTIONS, format!("{}/_storage/uploads/x", s.url()))
        .header("origin", "http://allowed.example")
        .header("access-control-request-method", "PUT")
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "http://allowed.example"
    );
    s.shutdown().await;
}
