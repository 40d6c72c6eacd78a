//! Helpers shared by the emulator's HTTP integration tests: a running site, a client
//! holding a script user's token, JSON calls, and error-object checks.
//!
//! Each test file names its own script user (so what a test asserts about
//! `created_by` and the like stays its own) and its own seed.
#![allow(dead_code)]

use std::ops::Deref;

use reqwest::{Client, Method, StatusCode};
use serde_json::{Map, Value};
use shotgrid_emulator::{start_with, Config, Running, ScriptUser, Seed, ServerOptions};

/// A client_credentials token for the script user `id`.
pub async fn token(client: &Client, url: &str, id: &str, secret: &str) -> String {
    let res = client
        .post(format!("{url}/api/v1/auth/access_token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
        ])
        .send()
        .await
        .expect("token request");
    assert_eq!(res.status(), StatusCode::OK, "token for {id}");
    let body: Value = res.json().await.expect("token JSON");
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

/// A demo-seeded configuration with the script user `id`.
pub fn demo_config(id: &str, secret: &str) -> Config {
    Config {
        port: 0,
        seed: Seed::Demo,
        script_users: vec![ScriptUser {
            name: id.into(),
            key: secret.into(),
        }],
        ..Config::default()
    }
}

/// An HTTP method, written either way.
pub trait IntoMethod {
    /// The method.
    fn into_method(self) -> Method;
}

impl IntoMethod for Method {
    fn into_method(self) -> Method {
        self
    }
}

impl IntoMethod for &str {
    fn into_method(self) -> Method {
        Method::from_bytes(self.as_bytes()).expect("an HTTP method")
    }
}

/// A client of one site, with a bearer token.
pub struct Api {
    pub client: Client,
    /// The site's base URL (`http://127.0.0.1:port`).
    pub url: String,
    pub token: String,
}

impl Api {
    /// A client of `site` acting as the script user `id`.
    pub async fn new(site: &Running, id: &str, secret: &str) -> Api {
        Api::with_client(site, Client::new(), id, secret).await
    }

    /// [`Api::new`] with a client of the test's own (e.g. one that does not follow
    /// redirects).
    pub async fn with_client(site: &Running, client: Client, id: &str, secret: &str) -> Api {
        let url = site.url();
        let token = token(&client, &url, id, secret).await;
        Api { client, url, token }
    }

    /// `/entity/x` → `<site>/api/v1/entity/x`; the site's other roots (`/api/…`,
    /// `/file_serve/…`) are kept, and so is an absolute URL (an upload or download
    /// link).
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else if path.starts_with("/api/") || path.starts_with("/file_serve/") {
            format!("{}{path}", self.url)
        } else {
            format!("{}/api/v1{path}", self.url)
        }
    }

    /// Sends `body` (if any) as JSON with the token; the answer's status and JSON body
    /// (`Null` when empty; a body that is not JSON fails the test).
    pub async fn call(
        &self,
        method: impl IntoMethod,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .client
            .request(method.into_method(), self.url(path))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        let text = res.text().await.expect("body");
        let v = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
        };
        (status, v)
    }

    /// Sends raw bytes with a Content-Type; the status and the JSON body (`Null` when
    /// the body is not JSON).
    pub async fn raw(
        &self,
        method: impl IntoMethod,
        path: &str,
        ctype: &str,
        body: Vec<u8>,
    ) -> (StatusCode, Value) {
        let res = self
            .client
            .request(method.into_method(), self.url(path))
            .bearer_auth(&self.token)
            .header("content-type", ctype)
            .body(body)
            .send()
            .await
            .expect("request");
        let status = res.status();
        (status, res.json().await.unwrap_or(Value::Null))
    }
}

/// A running site and a client of it (see [`Api`], which it derefs to).
pub struct Site {
    pub site: Running,
    pub api: Api,
}

impl Deref for Site {
    type Target = Api;

    fn deref(&self) -> &Api {
        &self.api
    }
}

impl Site {
    /// Starts a site and gets a token for the script user `id` (which `config` must
    /// know, from its seed or its script users).
    pub async fn start(config: Config, options: ServerOptions, id: &str, secret: &str) -> Site {
        let site = start_with(config, options).await.expect("site starts");
        let api = Api::new(&site, id, secret).await;
        Site { site, api }
    }

    /// A demo-seeded site with the script user `id`.
    pub async fn demo(id: &str, secret: &str) -> Site {
        Site::start(
            demo_config(id, secret),
            ServerOptions::default(),
            id,
            secret,
        )
        .await
    }

    /// Inserts a record straight into the store (no event, no validation).
    pub fn insert(&self, entity_type: &str, fields: Value) -> i64 {
        let fields: Map<String, Value> = fields.as_object().expect("an object").clone();
        self.site
            .backend()
            .store_mut()
            .insert(entity_type, fields)
            .expect("insert")
    }

    /// How many live records of a type the store holds.
    pub fn count(&self, entity_type: &str) -> usize {
        self.site
            .backend()
            .store()
            .table(entity_type)
            .expect("table")
            .records
            .values()
            .filter(|r| !r.retired)
            .count()
    }
}

/// Asserts the first error object's status and code, and returns it.
pub fn error(body: &Value, status: u16, code: u64) -> &Value {
    let e = &body["errors"][0];
    assert_eq!(e["status"], status, "{body}");
    assert_eq!(e["code"], code, "{body}");
    e
}
