//! Helpers shared by the emulator's HTTP integration tests: a running site, a client
//! holding a script user's token, JSON calls, and error-object checks.
//!
//! Each test file names its own script user (so what a test asserts about
//! `created_by` and the like stays its own) and its own seed.
#![allow(dead_code)]

use std::ops::Deref;
use std::process::{Child, Command, Stdio};

use reqwest::{Client, Method, Response, StatusCode};
use serde_json::{Map, Value};
use shotgrid_emulator::{start_with, Config, Running, ScriptUser, Seed, ServerOptions};

/// The token request form of the script user `id` (client_credentials).
pub fn credentials<'a>(id: &'a str, secret: &'a str) -> [(&'static str, &'a str); 3] {
    [
        ("grant_type", "client_credentials"),
        ("client_id", id),
        ("client_secret", secret),
    ]
}

/// Posts a token request `form` to the site at `url`; the answer as it came (an error
/// when the connection failed).
pub async fn grant_response(
    client: &Client,
    url: &str,
    form: &[(&str, &str)],
) -> reqwest::Result<Response> {
    client
        .post(format!("{url}/api/v1/auth/access_token"))
        .form(form)
        .send()
        .await
}

/// Posts a token request `form`; the answer's status and JSON body (every answer of
/// the token route, refusals included, must be JSON).
pub async fn grant(client: &Client, url: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
    let res = grant_response(client, url, form)
        .await
        .expect("token request");
    let status = res.status();
    (status, res.json().await.expect("a JSON answer"))
}

/// A client_credentials token for the script user `id`.
pub async fn token(client: &Client, url: &str, id: &str, secret: &str) -> String {
    let (status, body) = grant(client, url, &credentials(id, secret)).await;
    assert_eq!(status, StatusCode::OK, "token for {id}: {body}");
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_string()
}

/// A configuration with `seed` and the script user `id`.
pub fn config(seed: Seed, id: &str, secret: &str) -> Config {
    Config {
        port: 0,
        seed,
        script_users: vec![ScriptUser {
            name: id.into(),
            key: secret.into(),
        }],
        ..Config::default()
    }
}

/// A demo-seeded configuration with the script user `id`.
pub fn demo_config(id: &str, secret: &str) -> Config {
    config(Seed::Demo, id, secret)
}

/// Starts a demo-seeded site with the script user `id`, the `/_admin` routes behind
/// `admin_secret` (`None`: no admin routes) and the rest of `options`.
pub async fn start_demo(
    id: &str,
    secret: &str,
    admin_secret: Option<&str>,
    options: ServerOptions,
) -> Running {
    start_with(
        demo_config(id, secret),
        ServerOptions {
            admin_secret: admin_secret.map(str::to_string),
            ..options
        },
    )
    .await
    .expect("site starts")
}

/// Sends a request to the site's `/_admin` routes (`path` from the site's root) with
/// its admin secret; the status and JSON body (`Null` when the body is not JSON).
pub async fn admin(
    client: &Client,
    url: &str,
    secret: &str,
    method: impl IntoMethod,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = client
        .request(method.into_method(), format!("{url}{path}"))
        .header("x-admin-secret", secret);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.expect("admin request");
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// The status and JSON body of an answer that must be JSON (`Content-Type:
/// application/json; charset=utf-8` and a body that parses).
pub async fn json_answer(res: Response) -> (StatusCode, Value) {
    let status = res.status();
    assert_eq!(
        res.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/json; charset=utf-8"),
        "Content-Type of a {status} answer"
    );
    (status, res.json().await.expect("JSON body"))
}

/// Spawns the emulator's binary with `args`, stdout piped, stdin and stderr as given.
pub fn spawn_binary(args: &[&str], stdin: Stdio, stderr: Stdio) -> Child {
    Command::new(env!("CARGO_BIN_EXE_shotgrid-emulator"))
        .args(args)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("spawn emulator")
}

/// Runs the emulator's binary with `args` to its end (stdin empty); what it printed
/// and its exit status. For arguments it must refuse.
pub fn run_binary(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_shotgrid-emulator"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run emulator")
}

/// The URL of the binary's first stdout line (`shotgrid-emulator listening on URL`).
pub fn listening_url(line: &str) -> String {
    line.trim_end()
        .strip_prefix("shotgrid-emulator listening on ")
        .unwrap_or_else(|| panic!("listening line, got {line:?}"))
        .to_string()
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

    /// Sends a request with the token and, if given, a body with its Content-Type;
    /// the answer as it came.
    pub async fn send(
        &self,
        method: impl IntoMethod,
        path: &str,
        body: Option<(&str, Vec<u8>)>,
    ) -> Response {
        let mut req = self
            .client
            .request(method.into_method(), self.url(path))
            .bearer_auth(&self.token);
        if let Some((ctype, bytes)) = body {
            req = req.header("content-type", ctype).body(bytes);
        }
        req.send().await.expect("request")
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
        let res = self.send(method, path, Some((ctype, body))).await;
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
        Site::start_with_client(config, options, Client::new(), id, secret).await
    }

    /// [`Site::start`] with a client of the test's own (see [`Api::with_client`]).
    pub async fn start_with_client(
        config: Config,
        options: ServerOptions,
        client: Client,
        id: &str,
        secret: &str,
    ) -> Site {
        let site = start_with(config, options).await.expect("site starts");
        let api = Api::with_client(&site, client, id, secret).await;
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

    /// The site's model.
    pub fn backend(&self) -> &std::sync::Arc<shotgrid_emulator::model::Backend> {
        self.site.backend()
    }

    /// Stops the site.
    pub async fn shutdown(self) {
        self.site.shutdown().await
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
