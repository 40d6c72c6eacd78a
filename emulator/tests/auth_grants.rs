//! Token grants beyond client_credentials: password, session_token, refresh alias,
//! `scope=sudo_as_login:<login>` and `session_uuid`.

mod common;

use common::{error, grant};
use reqwest::{Client, StatusCode};
use serde_json::Value;
use shotgrid_emulator::auth::Principal;
use shotgrid_emulator::{
    start, Config, HumanUserCred, Running, DEMO_HUMAN_LOGIN, DEMO_HUMAN_PASSWORD,
};

async fn site() -> Running {
    start(Config {
        human_users: vec![HumanUserCred {
            login: "artist".into(),
            password: "pa:ss".into(),
            name: None,
            email: None,
        }],
        ..common::demo_config("tests", "key")
    })
    .await
    .expect("server starts")
}

async fn read_project(client: &Client, url: &str, token: &str) -> StatusCode {
    client
        .get(format!("{url}/api/v1/entity/projects/1"))
        .bearer_auth(token)
        .send()
        .await
        .expect("request")
        .status()
}

#[tokio::test]
async fn password_grant() {
    let site = site().await;
    let (url, c) = (site.url(), Client::new());
    for (login, pw) in [(DEMO_HUMAN_LOGIN, DEMO_HUMAN_PASSWORD), ("artist", "pa:ss")] {
        let (s, b) = grant(
            &c,
            &url,
            &[
                ("grant_type", "password"),
                ("username", login),
                ("password", pw),
            ],
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{b}");
        let t = b["access_token"].as_str().unwrap();
        assert_eq!(read_project(&c, &url, t).await, StatusCode::OK);
        assert_eq!(
            site.backend().auth().authenticate(t),
            Ok(Principal::Human(login.into()))
        );
    }
    // The configured human got a HumanUser record.
    assert!(shotgrid_emulator::auth::find_human_user(&site.backend().store(), "artist").is_some());

    let (s, b) = grant(
        &c,
        &url,
        &[
            ("grant_type", "password"),
            ("username", "admin"),
            ("password", "wrong"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(
        error(&b, 400, 102)["title"],
        "Can't authenticate user 'admin'"
    );
    let (s, b) = grant(
        &c,
        &url,
        &[
            ("grant_type", "password"),
            ("username", "nobody"),
            ("password", "x"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    error(&b, 400, 102);
    let (_, b) = grant(
        &c,
        &url,
        &[("grant_type", "password"), ("username", "admin")],
    )
    .await;
    assert!(error(&b, 400, 103)["source"]["password"].is_array());
    let (_, b) = grant(&c, &url, &[("grant_type", "password"), ("password", "x")]).await;
    assert!(error(&b, 400, 103)["source"]["username"].is_array());

    // Credentials in the query string are never read.
    let res = c
        .post(format!(
            "{url}/api/v1/auth/access_token?grant_type=password&username=admin&password={DEMO_HUMAN_PASSWORD}"
        ))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    site.shutdown().await;
}

#[tokio::test]
async fn session_token_grant() {
    let site = site().await;
    let (url, c) = (site.url(), Client::new());
    let st = site.backend().auth().create_session_token("artist");
    let (s, b) = grant(
        &c,
        &url,
        &[("grant_type", "session_token"), ("session_token", &st)],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{b}");
    assert_eq!(
        read_project(&c, &url, b["access_token"].as_str().unwrap()).await,
        StatusCode::OK
    );
    // Reusable.
    let (s, _) = grant(
        &c,
        &url,
        &[("grant_type", "session_token"), ("session_token", &st)],
    )
    .await;
    assert_eq!(s, StatusCode::OK);

    let (s, b) = grant(
        &c,
        &url,
        &[("grant_type", "session_token"), ("session_token", "nope")],
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(error(&b, 401, 102)["detail"], "Token invalid");
    let (_, b) = grant(&c, &url, &[("grant_type", "session_token")]).await;
    assert!(error(&b, 400, 103)["source"]["session_token"].is_array());
    // A session token of a login without a HumanUser is refused.
    let ghost = site.backend().auth().create_session_token("ghost");
    let (s, _) = grant(
        &c,
        &url,
        &[("grant_type", "session_token"), ("session_token", &ghost)],
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    site.shutdown().await;
}

#[tokio::test]
async fn sudo_as_login_and_session_uuid() {
    let site = site().await;
    let (url, c) = (site.url(), Client::new());
    let creds = [
        ("grant_type", "client_credentials"),
        ("client_id", "tests"),
        ("client_secret", "key"),
    ];
    let mut form = creds.to_vec();
    form.push(("scope", "sudo_as_login:artist"));
    form.push(("session_uuid", "5f0c-uuid"));
    let (s, b) = grant(&c, &url, &form).await;
    assert_eq!(s, StatusCode::OK, "{b}");
    let t = b["access_token"].as_str().unwrap().to_string();
    let session = site.backend().auth().authenticate_session(&t).unwrap();
    assert_eq!(session.principal, Principal::Script("tests".into()));
    assert_eq!(session.sudo_as.as_deref(), Some("artist"));
    assert_eq!(session.session_uuid.as_deref(), Some("5f0c-uuid"));
    let artist =
        shotgrid_emulator::auth::find_human_user(&site.backend().store(), "artist").unwrap();
    assert_eq!(
        session.acting_user(&site.backend().store()),
        Some(serde_json::json!({"type": "HumanUser", "id": artist}))
    );

    // The `refresh` alias works and keeps the session; refresh tokens are single use.
    let rt = b["refresh_token"].as_str().unwrap().to_string();
    let (s, b2) = grant(
        &c,
        &url,
        &[("grant_type", "refresh"), ("refresh_token", &rt)],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let s2 = site
        .backend()
        .auth()
        .authenticate_session(b2["access_token"].as_str().unwrap())
        .unwrap();
    assert_eq!(s2, session);
    let (s, b3) = grant(
        &c,
        &url,
        &[("grant_type", "refresh_token"), ("refresh_token", &rt)],
    )
    .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(error(&b3, 401, 102)["detail"], "Token invalid");

    // Unknown sudo user, a malformed scope, and sudo with a password grant.
    let mut form = creds.to_vec();
    form.push(("scope", "sudo_as_login:nobody"));
    let (s, b) = grant(&c, &url, &form).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(error(&b, 400, 102)["source"]["scope"].is_array());
    let mut form = creds.to_vec();
    form.push(("scope", "admin"));
    let (_, b) = grant(&c, &url, &form).await;
    assert!(error(&b, 400, 103)["source"]["scope"].is_array());
    let (s, b) = grant(
        &c,
        &url,
        &[
            ("grant_type", "password"),
            ("username", "admin"),
            ("password", DEMO_HUMAN_PASSWORD),
            ("scope", "sudo_as_login:artist"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    error(&b, 400, 102);
    // Wrong client secret with a valid scope still fails as bad credentials.
    let (s, b) = grant(
        &c,
        &url,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "tests"),
            ("client_secret", "nope"),
            ("scope", "sudo_as_login:artist"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(
        error(&b, 400, 102)["title"],
        "Can't authenticate user 'tests'"
    );
    site.shutdown().await;
}

/// Writes are attributed to the acting user: a script acting as a human user
/// (`sudo_as_login`) records that HumanUser in created_by/updated_by and in the event
/// log, with the token's session_uuid; a plain script token records its ApiUser; a
/// password token records the human.
#[tokio::test]
async fn writes_are_attributed_to_the_acting_user() {
    let site = site().await;
    let (url, c) = (site.url(), Client::new());
    let human_id = |login: &str| {
        shotgrid_emulator::auth::find_human_user(&site.backend().store(), login)
            .expect("user exists")
    };
    let create = |token: String, code: &'static str| {
        let c = c.clone();
        let url = url.clone();
        async move {
            let res = c
                .post(format!(
                    "{url}/api/v1/entity/shots?options[fields]=created_by,updated_by"
                ))
                .bearer_auth(token)
                .json(&serde_json::json!({"code": code, "project": {"type": "Project", "id": 1}}))
                .send()
                .await
                .expect("request");
            assert_eq!(res.status(), StatusCode::CREATED);
            res.json::<Value>().await.expect("json")
        }
    };
    let (_, b) = grant(
        &c,
        &url,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "tests"),
            ("client_secret", "key"),
            ("scope", "sudo_as_login:artist"),
            ("session_uuid", "sess-42"),
        ],
    )
    .await;
    let shot = create(b["access_token"].as_str().unwrap().to_owned(), "sudo-shot").await;
    let created_by = &shot["data"]["relationships"]["created_by"]["data"];
    assert_eq!(created_by["type"], "HumanUser", "{shot}");
    assert_eq!(created_by["id"], human_id("artist"));
    assert_eq!(
        shot["data"]["relationships"]["updated_by"]["data"],
        *created_by
    );
    let shot_id = shot["data"]["id"].as_i64().unwrap();
    // The event of that create names the same user and carries the session uuid.
    let event = {
        let store = site.backend().store();
        store
            .table("EventLogEntry")
            .unwrap()
            .records
            .values()
            .find(|r| {
                r.fields.get("event_type") == Some(&Value::from("Shotgun_Shot_New"))
                    && r.fields.get("entity").and_then(|e| e.get("id"))
                        == Some(&Value::from(shot_id))
            })
            .expect("a New event for the shot")
            .clone()
    };
    assert_eq!(event.fields["user"]["type"], "HumanUser");
    assert_eq!(event.fields["session_uuid"], "sess-42");

    let (_, b) = grant(
        &c,
        &url,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", "tests"),
            ("client_secret", "key"),
        ],
    )
    .await;
    let shot = create(
        b["access_token"].as_str().unwrap().to_owned(),
        "script-shot",
    )
    .await;
    assert_eq!(
        shot["data"]["relationships"]["created_by"]["data"]["type"],
        "ApiUser"
    );

    let (_, b) = grant(
        &c,
        &url,
        &[
            ("grant_type", "password"),
            ("username", "artist"),
            ("password", "pa:ss"),
        ],
    )
    .await;
    let shot = create(b["access_token"].as_str().unwrap().to_owned(), "human-shot").await;
    assert_eq!(
        shot["data"]["relationships"]["created_by"]["data"]["id"],
        human_id("artist")
    );
}
