//! Emulator hardening (issue 6), over real HTTP on 127.0.0.1:
//! - every protected route, enumerated from the OpenAPI document the site serves (so a
//!   new route is covered as soon as it is documented, and `openapi.rs` fails when a
//!   route is not), refuses no token, an expired token and a garbage token with 401 /
//!   code 102;
//! - a request body trickled slower than the body timeout is cut off with 408 and the
//!   connection closed, and a client stalling in its headers is dropped after the header
//!   timeout, while other clients are served promptly;
//! - bodies over the limits get 413 (declared or streamed), malformed input gets a 4xx
//!   JSON:API error, and the site stays healthy.

use std::time::{Duration, Instant};

use reqwest::{Client, Method, StatusCode};
use serde_json::Value;
mod common;

use shotgrid_emulator::{Running, ServerOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const ID: &str = "hardening";
const KEY: &str = "hardening-key";
const ADMIN: &str = "hardening-admin";

async fn site_with(options: ServerOptions) -> Running {
    common::start_demo(ID, KEY, Some(ADMIN), options).await
}

/// A value for each path parameter, naming something that exists in the demo site.
fn fill(path: &str) -> String {
    let mut out = String::new();
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let close = rest[open..].find('}').unwrap() + open;
        out.push_str(match &rest[open + 1..close] {
            "entity" => "shots",
            "related_field" => "assets",
            "field_name" | "field" => "code",
            "filename" => "x.bin",
            _ => "1",
        });
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out
}

fn security_names(op: &Value, doc: &Value) -> Vec<String> {
    let sec = op.get("security").unwrap_or(&doc["security"]);
    sec.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_object)
        .flat_map(|o| o.keys().cloned())
        .collect()
}

#[tokio::test]
async fn every_protected_route_refuses_missing_expired_and_garbage_tokens() {
    let site = site_with(ServerOptions::default()).await;
    let url = site.url();
    let c = Client::new();
    let doc: Value = c
        .get(format!("{url}/api/v1/spec.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let expired = common::token(&c, &url, ID, KEY).await;
    site.backend().auth().expire_access_tokens();

    let mut protected = 0;
    let mut admin = 0;
    let mut checked = Vec::new();
    let mut public = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Ok(m) = Method::from_bytes(method.to_ascii_uppercase().as_bytes()) else {
                continue;
            };
            if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&m.as_str()) {
                continue;
            }
            let names = security_names(op, &doc);
            let target = format!("{url}{}", fill(path));
            let what = format!("{m} {path}");
            if names.iter().any(|n| n == "bearerAuth") {
                protected += 1;
                for (label, auth) in [
                    ("no token", None),
                    ("expired token", Some(format!("Bearer {expired}"))),
                    ("garbage token", Some("Bearer 0123garbage.token".to_owned())),
                ] {
                    let mut req = c
                        .request(m.clone(), &target)
                        .header("content-type", "application/json")
                        .body("{}");
                    if let Some(a) = &auth {
                        req = req.header("authorization", a);
                    }
                    let res = req.send().await.unwrap();
                    let status = res.status();
                    let body: Value = res.json().await.unwrap_or(Value::Null);
                    assert_eq!(
                        status,
                        StatusCode::UNAUTHORIZED,
                        "{what} with {label}: {body}"
                    );
                    let err = &body["errors"][0];
                    assert_eq!(err["status"], 401, "{what} with {label}: {body}");
                    assert_eq!(err["code"], 102, "{what} with {label}: {body}");
                    let detail = if label == "expired token" {
                        "Token Expired"
                    } else {
                        "Token invalid"
                    };
                    assert_eq!(err["detail"], detail, "{what} with {label}: {body}");
                }
                checked.push(what);
            } else if names.is_empty() {
                public.push(what);
            } else if names.iter().any(|n| n == "adminSecret") {
                admin += 1;
                for secret in [None, Some("wrong"), Some("")] {
                    let mut req = c.request(m.clone(), &target).body("{}");
                    if let Some(s) = secret {
                        req = req.header("x-admin-secret", s);
                    }
                    let res = req.send().await.unwrap();
                    assert_eq!(
                        res.status(),
                        StatusCode::UNAUTHORIZED,
                        "{what} with admin secret {secret:?}"
                    );
                }
            }
        }
    }
    // The enumeration really found the API (a broken spec walk must not pass), and a
    // route is public only on purpose: server info, the spec, the token endpoint and
    // the pre-signed storage URLs (their signature is the credential).
    assert!(protected >= 45, "only {protected} protected operations");
    assert!(admin >= 8, "only {admin} admin operations");
    public.sort();
    assert_eq!(
        public,
        [
            "GET /_storage/blobs/{blob_id}/{filename}",
            "GET /api/v1",
            "GET /api/v1/",
            "GET /api/v1/spec.json",
            "GET /api/v1/spec.yaml",
            "POST /api/v1/auth/access_token",
            "PUT /_storage/uploads/{upload_id}",
        ]
    );
    for must in [
        "GET /api/v1/entity/{entity}/{record_id}",
        "POST /api/v1/entity/_batch",
        "PUT /api/v1/schema/{entity}/fields/{field_name}",
        "POST /api/v1/webhook/hooks",
        "GET /api/v1/entity/{entity}/{record_id}/{field}/_upload/multipart",
    ] {
        assert!(checked.iter().any(|c| c == must), "{must} not checked");
    }
    site.shutdown().await;
}

/// Sends `head` and then the body one byte every `every`, until the server closes or
/// `total` bytes went. Returns what the server answered and how long it took.
async fn trickle(addr: std::net::SocketAddr, head: String, every: Duration) -> (String, Duration) {
    let started = Instant::now();
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let (mut rd, mut wr) = stream.into_split();
    let writer = tokio::spawn(async move {
        for _ in 0..10_000 {
            tokio::time::sleep(every).await;
            if wr.write_all(b"a").await.is_err() {
                break;
            }
        }
    });
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(20), rd.read_to_end(&mut answer)).await;
    writer.abort();
    assert!(
        read.is_ok(),
        "the server never closed the trickling connection"
    );
    (
        String::from_utf8_lossy(&answer).into_owned(),
        started.elapsed(),
    )
}

#[tokio::test]
async fn a_trickled_body_is_cut_off_and_the_site_stays_responsive() {
    let site = site_with(ServerOptions {
        body_timeout: Duration::from_secs(1),
        ..ServerOptions::default()
    })
    .await;
    let url = site.url();
    let addr = site.addr();
    let c = Client::new();
    let bearer = common::token(&c, &url, ID, KEY).await;

    let heads = [
        // The token endpoint (no auth needed), a declared length it never reaches.
        "POST /api/v1/auth/access_token HTTP/1.1\r\nhost: x\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: 100000\r\n\r\n".to_owned(),
        // An authenticated create, chunked.
        format!("POST /api/v1/entity/shots HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {bearer}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n1\r\n{{\r\n"),
        // A storage PUT.
        "PUT /_storage/uploads/nope HTTP/1.1\r\nhost: x\r\ncontent-length: 100000\r\n\r\n".to_owned(),
    ];
    // Twenty slow clients at once (a byte every 100 ms: steady, never idle for long).
    let slow: Vec<_> = (0..20)
        .map(|i| {
            tokio::spawn(trickle(
                addr,
                heads[i % heads.len()].clone(),
                Duration::from_millis(100),
            ))
        })
        .collect();

    // Meanwhile other clients are served at once.
    tokio::time::sleep(Duration::from_millis(200)).await;
    for _ in 0..10 {
        let t = Instant::now();
        let res = c
            .get(format!("{url}/api/v1/entity/shots/1"))
            .bearer_auth(&bearer)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(
            t.elapsed() < Duration::from_millis(500),
            "{:?}",
            t.elapsed()
        );
    }

    for (i, task) in slow.into_iter().enumerate() {
        let (answer, took) = task.await.unwrap();
        let what = heads[i % heads.len()]
            .lines()
            .next()
            .unwrap_or_default()
            .to_owned();
        // The storage PUT without a signature may be refused before its body is read;
        // either way the connection ends within a bounded time.
        if what.starts_with("PUT /_storage") && !answer.starts_with("HTTP/1.1 408") {
            assert!(answer.starts_with("HTTP/1.1 4"), "{what}: {answer}");
        } else {
            assert!(answer.starts_with("HTTP/1.1 408"), "{what}: {answer}");
            assert!(answer.contains("\"code\":103"), "{what}: {answer}");
            assert!(
                answer.to_ascii_lowercase().contains("connection: close"),
                "{what}: {answer}"
            );
        }
        assert!(
            took < Duration::from_secs(5),
            "{what}: cut off after {took:?}"
        );
    }

    // A body that arrives in time is unaffected.
    let res = c
        .post(format!("{url}/api/v1/entity/shots"))
        .bearer_auth(&bearer)
        .json(&serde_json::json!({"code": "in_time", "project": {"type": "Project", "id": 1}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    site.shutdown().await;
}

#[tokio::test]
async fn stalled_headers_are_dropped_and_the_site_stays_responsive() {
    let site = site_with(ServerOptions {
        header_timeout: Duration::from_secs(1),
        ..ServerOptions::default()
    })
    .await;
    let url = site.url();
    let addr = site.addr();
    // Twenty clients that send part of their headers, then a header byte every 300 ms.
    let slow: Vec<_> = (0..20)
        .map(|_| {
            tokio::spawn(async move {
                let started = Instant::now();
                let mut stream = TcpStream::connect(addr).await.unwrap();
                stream
                    .write_all(b"GET /api/v1/ HTTP/1.1\r\nhost: x\r\n")
                    .await
                    .unwrap();
                let (mut rd, mut wr) = stream.into_split();
                let writer = tokio::spawn(async move {
                    for _ in 0..1000 {
                        tokio::time::sleep(Duration::from_millis(300)).await;
                        if wr.write_all(b"x").await.is_err() {
                            break;
                        }
                    }
                });
                let mut answer = Vec::new();
                let read =
                    tokio::time::timeout(Duration::from_secs(20), rd.read_to_end(&mut answer))
                        .await;
                writer.abort();
                assert!(read.is_ok(), "the server never dropped the stalled client");
                started.elapsed()
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let c = Client::new();
    for _ in 0..10 {
        let t = Instant::now();
        let res = c.get(format!("{url}/api/v1/")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(
            t.elapsed() < Duration::from_millis(500),
            "{:?}",
            t.elapsed()
        );
    }
    for task in slow {
        let took = task.await.unwrap();
        assert!(took < Duration::from_secs(5), "dropped after {took:?}");
    }
    site.shutdown().await;
}

#[tokio::test]
async fn body_limits_and_malformed_input() {
    let site = site_with(ServerOptions {
        body_limit: 4096,
        upload_limit: 16384,
        ..ServerOptions::default()
    })
    .await;
    let url = site.url();
    let c = Client::new();
    let bearer = common::token(&c, &url, ID, KEY).await;
    let api = |m: Method, p: &str| {
        c.request(m, format!("{url}/api/v1{p}"))
            .bearer_auth(&bearer)
            .header("content-type", "application/json")
    };
    let expect_error = |status: StatusCode, body: &Value, want: u16, what: &str| {
        assert_eq!(status.as_u16(), want, "{what}: {body}");
        let e = &body["errors"][0];
        assert_eq!(e["status"], want, "{what}: {body}");
        assert!(e["code"].is_u64(), "{what}: {body}");
    };

    // Over the limit: declared, and streamed without a length.
    let big = format!("{{\"code\":\"{}\"}}", "x".repeat(5000));
    let res = api(Method::POST, "/entity/shots")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    let status = res.status();
    expect_error(status, &res.json().await.unwrap(), 413, "declared 5000 B");
    let mut chunked = format!(
        "POST /api/v1/entity/shots HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {bearer}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
    );
    for part in big.as_bytes().chunks(500) {
        chunked.push_str(&format!(
            "{:x}\r\n{}\r\n",
            part.len(),
            String::from_utf8_lossy(part)
        ));
    }
    chunked.push_str("0\r\n\r\n");
    let answer = raw(site.addr(), chunked.as_bytes()).await;
    assert!(
        answer.starts_with("HTTP/1.1 413"),
        "streamed 5000 B: {answer}"
    );
    assert!(answer.contains("\"code\":103"), "streamed 5000 B: {answer}");
    // Upload routes take up to upload_limit, not more.
    let res = c
        .put(format!(
            "{url}/api/v1/entity/versions/1/sg_uploaded_movie/_upload?filename=a.mov"
        ))
        .bearer_auth(&bearer)
        .body(vec![0u8; 20_000])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);

    // Malformed input: a typed 4xx, never a 5xx or a dropped connection.
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let cases: Vec<(Method, &str, Vec<u8>)> = vec![
        (Method::POST, "/entity/shots", b"{not json".to_vec()),
        (Method::POST, "/entity/shots", b"[]".to_vec()),
        (Method::POST, "/entity/shots", b"\xff\xfe\x00".to_vec()),
        (Method::POST, "/entity/shots", deep.clone().into_bytes()),
        (
            Method::POST,
            "/entity/shots",
            br#"{"code": 1e999999}"#.to_vec(),
        ),
        (
            Method::POST,
            "/entity/shots/_search",
            br#"{"filters": [["code", "is"]]}"#.to_vec(),
        ),
        (
            Method::POST,
            "/entity/shots/_search",
            br#"{"filters": {"logical_operator": "xor", "conditions": []}}"#.to_vec(),
        ),
        (Method::POST, "/entity/shots/_search", deep.into_bytes()),
        (
            Method::POST,
            "/entity/_batch",
            br#"{"requests": [{"request_type": "explode"}]}"#.to_vec(),
        ),
        (
            Method::PUT,
            "/entity/shots/1",
            br#"{"id": "x", "code": []}"#.to_vec(),
        ),
        (Method::GET, "/entity/shots?page[size]=-1", Vec::new()),
        (
            Method::GET,
            "/entity/shots?page[number]=99999999999999999999999",
            Vec::new(),
        ),
        (Method::GET, "/entity/shots?sort=%FF", Vec::new()),
        (Method::GET, "/entity/shots/abc", Vec::new()),
        (
            Method::GET,
            "/entity/shots/99999999999999999999999",
            Vec::new(),
        ),
        (Method::GET, "/entity/no_such_things/1", Vec::new()),
    ];
    for (m, p, body) in cases {
        let what = format!(
            "{m} {p} {:?}",
            String::from_utf8_lossy(&body[..body.len().min(40)])
        );
        let res = api(m, p).body(body).send().await.unwrap();
        let status = res.status();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        assert!(status.is_client_error(), "{what}: {status} {body}");
        expect_error(status, &body, status.as_u16(), &what);
    }
    // Malformed token requests too.
    for form in [
        "grant_type=",
        "grant_type=password&username=",
        "%%%",
        "grant_type=client_credentials&client_id=a&client_id=b",
    ] {
        let res = c
            .post(format!("{url}/api/v1/auth/access_token"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_client_error(), "{form}: {}", res.status());
    }

    // Still healthy.
    let res = api(Method::GET, "/entity/shots/1").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    site.shutdown().await;
}

/// Sends raw bytes on a new connection and reads the answer until the server closes it
/// (or 5 s pass).
async fn raw(addr: std::net::SocketAddr, request: &[u8]) -> String {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = vec![0u8; 65536];
    let mut n = 0;
    let deadline = Instant::now() + Duration::from_secs(5);
    while n < answer.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut answer[n..])).await {
            Ok(Ok(0)) | Ok(Err(_)) | Err(_) => break,
            Ok(Ok(k)) => {
                n += k;
                // One complete JSON answer is enough.
                if answer[..n].ends_with(b"}]}") || answer[..n].ends_with(b"}") {
                    break;
                }
            }
        }
    }
    String::from_utf8_lossy(&answer[..n]).into_owned()
}
