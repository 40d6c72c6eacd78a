//! End-to-end tests: real HTTP against a server started with `start(Config { port: 0, .. })`.

use std::time::Duration;

use base64::Engine as _;
use reqwest::{Client, Response, StatusCode};
use serde_json::Value;
use shotgrid_emulator::{start, Config, Running};

mod common;

use common::credentials;

const ID: &str = "tests";
const SECRET: &str = "s3cret:with:colons";

async fn demo_site(lifetime: Duration) -> Running {
    start(Config {
        access_token_lifetime: lifetime,
        ..common::demo_config(ID, SECRET)
    })
    .await
    .expect("server starts")
}

fn is_request_id(v: &str) -> bool {
    v.len() == 32
        && v.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// Checks the x-request-id header and returns status and JSON body.
async fn json(res: Response) -> (StatusCode, Value) {
    let status = res.status();
    let rid = res
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(is_request_id(&rid), "x-request-id {rid:?} on {status}");
    if status != StatusCode::OK || res.headers().get("content-type").is_some() {
        assert_eq!(
            res.headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/json; charset=utf-8")
        );
    }
    let body: Value = res.json().await.expect("JSON body");
    if let Some(errors) = body.get("errors") {
        // The error id is the request id.
        assert_eq!(errors[0]["id"], Value::String(rid));
    }
    (status, body)
}

/// Asserts the envelope shape and returns the single error object.
fn error(body: &Value, status: u16, code: u64) -> &Value {
    let errors = body["errors"].as_array().expect("errors array");
    assert_eq!(errors.len(), 1);
    let e = &errors[0];
    let keys: Vec<&str> = e
        .as_object()
        .expect("error object")
        .keys()
        .map(String::as_str)
        .collect();
    for k in ["id", "status", "code", "title", "source", "detail", "meta"] {
        assert!(keys.contains(&k), "missing {k} in {e}");
    }
    assert_eq!(e["status"], status, "{e}");
    assert_eq!(e["code"], code, "{e}");
    assert!(e["meta"].is_null());
    e
}

async fn token_with(client: &Client, url: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
    json(
        common::grant_response(client, url, form)
            .await
            .expect("request"),
    )
    .await
}

async fn access_token(client: &Client, url: &str) -> String {
    let (status, body) = token_with(client, url, &credentials(ID, SECRET)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["access_token"].as_str().expect("token").to_string()
}

#[tokio::test]
async fn server_info_needs_no_token() {
    let site = demo_site(Duration::from_secs(600)).await;
    assert!(site.url().starts_with("http://127.0.0.1:"));
    assert!(!site.url().ends_with('/'));
    assert_eq!(site.url(), format!("http://{}", site.addr()));
    let client = Client::new();
    for path in ["/api/v1", "/api/v1/"] {
        let res = client
            .get(format!("{}{path}", site.url()))
            .send()
            .await
            .unwrap();
        let (status, body) = json(res).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body,
            serde_json::json!({"data":{"shotgun_version":"v8.50.0.0 (build emulator)","api_version":"v1","shotgun_version_number":"8.50.0.0","shotgun_build_number":"emulator","portfolio_version":"8.50.0.0","unified_login_flow_enabled":false,"user_authentication_method":"default","site_id":"1","site_name":"shotgrid-emulator"}})
        );
    }
    site.shutdown().await;
}

#[tokio::test]
async fn token_via_body_and_basic_and_refresh() {
    let site = demo_site(Duration::from_secs(600)).await;
    let url = site.url();
    let client = Client::new();

    // Body credentials; also the demo script user.
    let (status, body) = token_with(
        &client,
        &url,
        &credentials("demo_script", "demo-key-0123456789"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 4);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 600);
    assert!(body["access_token"].as_str().is_some_and(|t| t.len() >= 32));

    // Basic credentials, grant_type alone in the body.
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{ID}:{SECRET}"));
    let res = client
        .post(format!("{url}/api/v1/auth/access_token"))
        .header("authorization", format!("Basic {basic}"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let (status, body) = json(res).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let refresh = body["refresh_token"].as_str().unwrap().to_string();

    // Refresh once (reference grant name), then reuse → 401.
    let (status, body) = token_with(
        &client,
        &url,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let refresh2 = body["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(refresh, refresh2);
    let (status, body) = token_with(
        &client,
        &url,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error(&body, 401, 102)["detail"], "Token invalid");

    // The `refresh` alias works with the new refresh token.
    let (status, body) = token_with(
        &client,
        &url,
        &[("grant_type", "refresh"), ("refresh_token", &refresh2)],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let new_access = body["access_token"].as_str().unwrap().to_string();
    let res = client
        .get(format!("{url}/api/v1/entity/shots/1"))
        .bearer_auth(&new_access)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // Unknown refresh token.
    let (status, body) = token_with(
        &client,
        &url,
        &[("grant_type", "refresh_token"), ("refresh_token", "nope")],
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error(&body, 401, 102)["detail"], "Token invalid");
    site.shutdown().await;
}

#[tokio::test]
async fn token_errors() {
    let site = demo_site(Duration::from_secs(600)).await;
    let url = site.url();
    let client = Client::new();

    // Bad secret.
    let (status, body) = token_with(&client, &url, &credentials(ID, "wrong")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error(&body, 400, 102)["title"],
        "Can't authenticate user 'tests'"
    );

    // Unknown user.
    let (status, body) = token_with(&client, &url, &credentials("ghost", "x")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        error(&body, 400, 102)["title"],
        "Can't authenticate user 'ghost'"
    );

    // Missing and unsupported grant types.
    let (status, body) = token_with(&client, &url, &[("client_id", ID)]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    error(&body, 400, 103);
    let (status, body) = token_with(&client, &url, &[("grant_type", "magic")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    error(&body, 400, 103);

    // Credentials in the query string are ignored, as if missing.
    let res = client
        .post(format!(
            "{url}/api/v1/auth/access_token?client_id={ID}&client_secret=x&grant_type=client_credentials"
        ))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .unwrap();
    let (status, body) = json(res).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    error(&body, 400, 103);
    let res = client
        .post(format!(
            "{url}/api/v1/auth/access_token?client_id={ID}&client_secret={SECRET}"
        ))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let (status, body) = json(res).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    error(&body, 400, 103);

    // Wrong content type.
    let res = client
        .post(format!("{url}/api/v1/auth/access_token"))
        .header("content-type", "application/json")
        .body(r#"{"grant_type":"client_credentials"}"#)
        .send()
        .await
        .unwrap();
    let (status, body) = json(res).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    error(&body, 415, 103);

    // Malformed Basic header and garbage body never crash the server.
    let res = client
        .post(format!("{url}/api/v1/auth/access_token"))
        .header("authorization", "Basic %%%not-base64")
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let (status, _) = json(res).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let res = client
        .post(format!("{url}/api/v1/auth/access_token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![0xff, 0xfe, b'=', b'&', 0x00, b'%'])
        .send()
        .await
        .unwrap();
    let (status, _) = json(res).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // GET on the token endpoint: 405 envelope.
    let res = client
        .get(format!("{url}/api/v1/auth/access_token"))
        .send()
        .await
        .unwrap();
    let (status, body) = json(res).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(error(&body, 405, 103)["status"], 405);
    site.shutdown().await;
}

#[tokio::test]
async fn read_shot_shape() {
    let site = demo_site(Duration::from_secs(600)).await;
    let url = site.url();
    let client = Client::new();
    let token = access_token(&client, &url).await;

    let res = client
        .get(format!("{url}/api/v1/entity/shots/1"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let (status, body) = json(res).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let data = &body["data"];
    assert_eq!(data["type"], "Shot");
    assert_eq!(data["id"], 1);
    assert_eq!(data["links"]["self"], "/api/v1/entity/shots/1");
    assert_eq!(body["links"]["self"], "/api/v1/entity/shots/1");
    let attrs = &data["attributes"];
    assert_eq!(attrs["code"], "SQ010_0010");
    assert_eq!(attrs["sg_status_list"], "wtg");
    assert!(attrs["description"].is_string());
    for ts in ["created_at", "updated_at"] {
        let v = attrs[ts].as_str().unwrap();
        assert_eq!(v.len(), 20, "{v}");
        assert!(v.ends_with('Z') && v.as_bytes()[10] == b'T', "{v}");
    }
    assert!(attrs.get("project").is_none());
    let rel = &data["relationships"];
    assert_eq!(
        rel["project"],
        serde_json::json!({
            "data": {"id": 1, "name": "Demo Project", "type": "Project"},
            "links": {
                "self": "/api/v1/entity/shots/1/relationships/project",
                "related": "/api/v1/entity/projects/1"
            }
        })
    );
    assert_eq!(rel["sg_sequence"]["data"]["type"], "Sequence");
    assert_eq!(
        rel["sg_sequence"]["links"]["related"],
        "/api/v1/entity/sequences/1"
    );
    assert_eq!(
        rel["created_by"]["links"]["related"],
        "/api/v1/entity/human_users/1"
    );
    assert_eq!(rel["created_by"]["data"]["name"], "Demo Admin");
    // Multi-entity: a list, and only a self link.
    assert!(rel["assets"]["data"].is_array());
    assert!(rel["assets"]["links"].get("related").is_none());

    // fields= selects; the top-level self link echoes the request.
    let res = client
        .get(format!("{url}/api/v1/entity/Shot/2?fields=code,project"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let (status, body) = json(res).await;
    assert_eq!(status, StatusCode::OK);
    let data = &body["data"];
    assert_eq!(
        data["attributes"],
        serde_json::json!({"code": "SQ010_0020"})
    );
    assert_eq!(
        data["relationships"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        vec!["project"]
    );
    assert_eq!(data["links"]["self"], "/api/v1/entity/shots/2");
    assert_eq!(
        body["links"]["self"],
        "/api/v1/entity/Shot/2?fields=code,project"
    );

    // fields=description only: empty relationships object, as recorded.
    let res = client
        .get(format!("{url}/api/v1/entity/shots/3?fields=description"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let (_, body) = json(res).await;
    assert_eq!(body["data"]["relationships"], serde_json::json!({}));

    // fields=* is everything.
    let res = client
        .get(format!("{url}/api/v1/entity/shots/1?fields=*"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let (_, all) = json(res).await;
    assert!(all["data"]["relationships"]["project"].is_object());
    site.shutdown().await;
}

#[tokio::test]
async fn names_resolve_in_every_spelling() {
    let site = demo_site(Duration::from_secs(600)).await;
    let url = site.url();
    let client = Client::new();
    let token = access_token(&client, &url).await;
    // Custom entities: create one record directly in the model.
    {
        let mut store = site.backend().store_mut();
        let mut m = serde_json::Map::new();
        m.insert("code".into(), "Creature".into());
        store.insert("CustomEntity01", m).unwrap();
        let mut m = serde_json::Map::new();
        m.insert("code".into(), "Vendor".into());
        store.insert("CustomNonProjectEntity01", m).unwrap();
    }
    let cases = [
        ("Shot", "Shot", "shots"),
        ("shots", "Shot", "shots"),
        ("Shots", "Shot", "shots"),
        ("shot", "Shot", "shots"),
        ("HumanUser", "HumanUser", "human_users"),
        ("HumanUsers", "HumanUser", "human_users"),
        ("human_users", "HumanUser", "human_users"),
        ("Project", "Project", "projects"),
        ("assets", "Asset", "assets"),
        ("CustomEntity01", "CustomEntity01", "custom_entity01s"),
        ("custom_entity01s", "CustomEntity01", "custom_entity01s"),
        ("custom_entity_01s", "CustomEntity01", "custom_entity01s"),
        (
            "custom_non_project_entity_01s",
            "CustomNonProjectEntity01",
            "custom_non_project_entity01s",
        ),
    ];
    for (spelling, canonical, plural) in cases {
        let res = client
            .get(format!("{url}/api/v1/entity/{spelling}/1"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        let (status, body) = json(res).await;
        assert_eq!(status, StatusCode::OK, "{spelling}: {body}");
        assert_eq!(body["data"]["type"], canonical, "{spelling}");
        assert_eq!(
            body["data"]["links"]["self"],
            format!("/api/v1/entity/{plural}/1"),
            "{spelling}"
        );
    }

    // Unknown type: 400, code 103, as the reference's error example.
    let res = client
        .get(format!("{url}/api/v1/entity/widgets/1"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let (status, body) = json(res).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let e = error(&body, 400, 103);
    assert_eq!(
        e["source"],
        serde_json::json!({"entity": ["entity is not valid"]})
    );
    site.shutdown().await;
}

#[tokio::test]
async fn missing_records_and_bad_ids() {
    let site = demo_site(Duration::from_secs(600)).await;
    let url = site.url();
    let client = Client::new();
    let token = access_token(&client, &url).await;

    let res = client
        .get(format!("{url}/api/v1/entity/Shot/400000"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let (status, body) = json(res).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let e = error(&body, 404, 104);
    assert_eq!(e["title"], "Not Found");
    assert_eq!(e["detail"], "Shot: 400000 not found");
    assert!(e["source"].is_null());

    for bad in ["abc", "1.5", "99999999999999999999999", "-"] {
        let res = client
            .get(format!("{url}/api/v1/entity/shots/{bad}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        let (status, body) = json(res).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        error(&body, 400, 103);
    }

    // Retired records are not found, unless options[return_only]=retired.
    site.backend().store_mut().retire("Shot", 5).unwrap();
    let res = client
        .get(format!("{url}/api/v1/entity/shots/5"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let (status, body) = json(res).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    error(&body, 404, 104);
    let res = client
        .get(format!(
            "{url}/api/v1/entity/shots/5?options%5Breturn_only%5D=retired"
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let (status, body) = json(res).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let res = client
        .get(format!(
            "{url}/api/v1/entity/shots/1?options[return_only]=retired"
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    site.shutdown().await;
}

#[tokio::test]
async fn bearer_token_required() {
    let site = demo_site(Duration::from_secs(1)).await;
    let url = site.url();
    let client = Client::new();
    let shot = format!("{url}/api/v1/entity/shots/1");

    let res = client.get(&shot).send().await.unwrap();
    let (status, body) = json(res).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error(&body, 401, 102)["detail"], "Token invalid");

    for header in [
        "Bearer garbage",
        "Bearer",
        "Basic dGVzdHM6eA==",
        "garbage",
        "Bearer  ",
    ] {
        let res = client
            .get(&shot)
            .header("authorization", header)
            .send()
            .await
            .unwrap();
        let (status, body) = json(res).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{header}");
        assert_eq!(error(&body, 401, 102)["detail"], "Token invalid");
    }

    // Auth is checked before the record: no existence leak.
    let res = client
        .get(format!("{url}/api/v1/entity/shots/999"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    // 1 s lifetime: valid now, expired later.
    let (status, body) = token_with(&client, &url, &credentials(ID, SECRET)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["expires_in"], 1);
    let token = body["access_token"].as_str().unwrap().to_string();
    let refresh = body["refresh_token"].as_str().unwrap().to_string();
    let res = client.get(&shot).bearer_auth(&token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let res = client.get(&shot).bearer_auth(&token).send().await.unwrap();
    let (status, body) = json(res).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(error(&body, 401, 102)["detail"], "Token Expired");

    // The refresh token outlives the access token.
    let (status, _) = token_with(
        &client,
        &url,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    site.shutdown().await;
}

#[tokio::test]
async fn cors_preflight_needs_no_token() {
    let site = demo_site(Duration::from_secs(600)).await;
    let url = site.url();
    let client = Client::new();
    for path in [
        "/api/v1/entity/shots/1",
        "/api/v1/auth/access_token",
        "/api/v1/entity/shots/_search",
        "/no/such/route",
    ] {
        let res = client
            .request(reqwest::Method::OPTIONS, format!("{url}{path}"))
            .header("origin", "http://localhost:5173")
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "authorization, content-type, range",
            )
            .send()
            .await
            .unwrap();
        assert!(
            res.status() == StatusCode::OK || res.status() == StatusCode::NO_CONTENT,
            "{path}: {}",
            res.status()
        );
        let h = res.headers();
        let get = |name: &str| {
            h.get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_ascii_lowercase()
        };
        assert_eq!(get("access-control-allow-origin"), "*");
        let methods = get("access-control-allow-methods");
        for m in ["get", "post", "put", "patch", "delete", "options"] {
            assert!(methods.contains(m), "{methods}");
        }
        let headers = get("access-control-allow-headers");
        for name in ["authorization", "content-type", "range"] {
            assert!(headers.contains(name), "{headers}");
        }
        assert!(is_request_id(&get("x-request-id")));
    }

    // Simple requests expose the headers a browser client needs.
    let res = client
        .get(format!("{url}/api/v1/"))
        .header("origin", "http://localhost:5173")
        .send()
        .await
        .unwrap();
    let expose = res
        .headers()
        .get("access-control-expose-headers")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    for name in [
        "x-request-id",
        "content-range",
        "content-length",
        "etag",
        "retry-after",
    ] {
        assert!(expose.contains(name), "{expose}");
    }
    // Errors carry CORS headers too, so browsers can read them.
    let res = client
        .get(format!("{url}/api/v1/entity/shots/1"))
        .header("origin", "http://localhost:5173")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.headers().get("access-control-allow-origin").is_some());
    site.shutdown().await;
}

#[tokio::test]
async fn unknown_routes_and_limits() {
    let site = demo_site(Duration::from_secs(600)).await;
    let url = site.url();
    let client = Client::new();

    for path in [
        "/",
        "/api/v2",
        "/api/v1/nope",
        "/api/v1/entity",
        "/api/v1/entity/shots/1/x/y/z",
    ] {
        let res = client.get(format!("{url}{path}")).send().await.unwrap();
        let (status, body) = json(res).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(error(&body, 404, 104)["title"], "Not Found");
    }

    let res = client
        .delete(format!("{url}/api/v1/"))
        .send()
        .await
        .unwrap();
    let (status, body) = json(res).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    error(&body, 405, 103);

    // Over the 10 MiB default body limit.
    let big = vec![b'a'; 10 * 1024 * 1024 + 1];
    let res = client
        .post(format!("{url}/api/v1/auth/access_token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(big)
        .send()
        .await
        .unwrap();
    let (status, body) = json(res).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    error(&body, 413, 103);

    // The server is still healthy afterwards.
    let res = client.get(format!("{url}/api/v1")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    site.shutdown().await;
}

#[tokio::test]
async fn empty_seed_and_shutdown() {
    let site = start(Config::default()).await.unwrap();
    let url = site.url();
    let client = Client::new();
    // No script users in an empty site.
    let (status, body) = token_with(
        &client,
        &url,
        &credentials("demo_script", "demo-key-0123456789"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    error(&body, 400, 102);
    site.shutdown().await;
    // The port no longer answers.
    let err = Client::new()
        .get(format!("{url}/api/v1"))
        .timeout(Duration::from_secs(2))
        .send()
        .await;
    assert!(err.is_err());
}
