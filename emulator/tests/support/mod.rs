//! Helpers shared by the conformance tests (`conformance_recorded.rs`,
//! `conformance_reference.rs`).
#![allow(dead_code)]

pub mod shape;

use reqwest::{Client, Method};
use serde_json::Value;
use shotgrid_emulator::{start, Config, Running, ScriptUser, Seed, StorageMode};

/// The script user every conformance site has.
pub const SCRIPT: &str = "conformance";
pub const SCRIPT_KEY: &str = "conformance-key";

/// A running demo site with a client.
pub struct Site {
    pub site: Running,
    pub client: Client,
}

/// One HTTP answer: status, `content-type` (if any), the raw body and its JSON (`Null` for
/// an empty body).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub content_type: Option<String>,
    pub text: String,
    pub json: Value,
}

impl Site {
    /// Starts a demo-seeded site.
    pub async fn demo() -> Site {
        Site::demo_with(StorageMode::default()).await
    }

    /// Starts a demo-seeded site with the given upload storage.
    pub async fn demo_with(storage: StorageMode) -> Site {
        let site = start(Config {
            port: 0,
            seed: Seed::Demo,
            script_users: vec![ScriptUser {
                name: SCRIPT.into(),
                key: SCRIPT_KEY.into(),
            }],
            storage,
            ..Config::default()
        })
        .await
        .expect("site starts");
        Site {
            site,
            client: Client::new(),
        }
    }

    /// `/entity/x` → `http://host/api/v1/entity/x`; a path already starting with
    /// `/api/v1` or an absolute URL (an upload link) is kept.
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_string()
        } else if path.starts_with("/api/v1") {
            format!("{}{path}", self.site.url())
        } else {
            format!("{}/api/v1{path}", self.site.url())
        }
    }

    /// Gets a token for the conformance script user.
    pub async fn token(&self) -> String {
        let a = self
            .form(
                "/auth/access_token",
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", SCRIPT),
                    ("client_secret", SCRIPT_KEY),
                ],
            )
            .await;
        assert_eq!(a.status, 200, "token: {}", a.text);
        a.json["access_token"].as_str().unwrap().to_string()
    }

    /// POSTs a form body.
    pub async fn form(&self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let res = self
            .client
            .post(self.url(path))
            .form(fields)
            .send()
            .await
            .expect("request");
        answer(res).await
    }

    /// Sends a request; `path` may carry a query string (already encoded).
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        content_type: Option<&str>,
        body: Option<String>,
    ) -> Answer {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        if let Some(b) = body {
            req = req.body(b);
        }
        answer(req.send().await.expect("request")).await
    }
}

async fn answer(res: reqwest::Response) -> Answer {
    let status = res.status().as_u16();
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let text = res.text().await.expect("body");
    let json = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text.clone()))
    };
    Answer {
        status,
        content_type,
        text,
        json,
    }
}

/// `application/json; charset=utf-8` and `application/json;charset=UTF-8` alike.
pub fn normalize_content_type(ct: &str) -> String {
    ct.split(';')
        .map(|p| p.trim().to_ascii_lowercase())
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}
