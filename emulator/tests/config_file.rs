//! The binary's `--config FILE`: script users, human users and the token lifetime come
//! from the file (TOML, or JSON for a `.json` name) and work for real grants; an
//! explicit `--token-lifetime` wins over the file; a bad file is refused at start
//! with a message naming it.

use std::io::BufRead;
use std::process::{Child, Stdio};

use reqwest::{Client, StatusCode};
use serde_json::Value;

mod common;

use common::{credentials, grant, listening_url, spawn_binary};

fn spawn(args: &[&str]) -> (Child, String) {
    let args = [&["--port", "0", "--quiet"], args].concat();
    let mut child = spawn_binary(&args, Stdio::null(), Stdio::null());
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    // Keep the pipe open for anything printed later.
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    (child, listening_url(&line))
}

#[tokio::test]
async fn users_and_token_lifetime_come_from_the_file() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [
        (
            "site.toml",
            "token_lifetime = 42\n[[script_users]]\nname = \"pipeline\"\nkey = \"pipe-key\"\n[[human_users]]\nlogin = \"ann\"\npassword = \"ann-pw\"\nname = \"Ann\"\n",
        ),
        (
            "site.json",
            r#"{"token_lifetime": 42, "script_users": [{"name": "pipeline", "key": "pipe-key"}], "human_users": [{"login": "ann", "password": "ann-pw", "name": "Ann"}]}"#,
        ),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let (mut child, url) = spawn(&["--config", path.to_str().unwrap()]);
        let (st, body) = grant(
            &Client::new(),
            &url,
            &credentials("pipeline", "pipe-key"),
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{name}: {body}");
        assert_eq!(body["expires_in"], 42, "{name}");
        let (st, body) = grant(
            &Client::new(),
            &url,
            &[
                ("grant_type", "password"),
                ("username", "ann"),
                ("password", "ann-pw"),
            ],
        )
        .await;
        assert_eq!(st, StatusCode::OK, "{name}: {body}");
        // The human user is a real HumanUser record with its display name.
        let token = body["access_token"].as_str().unwrap();
        let res = Client::new()
            .get(format!(
                "{url}/api/v1/entity/human_users?filter[login]=ann&fields=name"
            ))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let users: Value = res.json().await.unwrap();
        assert_eq!(users["data"][0]["attributes"]["name"], "Ann", "{users}");
        let (st, _) = grant(
            &Client::new(),
            &url,
            &[
                ("grant_type", "password"),
                ("username", "ann"),
                ("password", "wrong"),
            ],
        )
        .await;
        assert_eq!(st, StatusCode::BAD_REQUEST);
        child.kill().unwrap();
        child.wait().unwrap();

        // An explicit flag wins over the file.
        let (mut child, url) = spawn(&[
            "--config",
            path.to_str().unwrap(),
            "--token-lifetime",
            "7",
        ]);
        let (_, body) = grant(
            &Client::new(),
            &url,
            &credentials("pipeline", "pipe-key"),
        )
        .await;
        assert_eq!(body["expires_in"], 7, "{name}");
        child.kill().unwrap();
        child.wait().unwrap();
    }
}

#[test]
fn a_bad_config_file_is_refused_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "script_users = 3\n").unwrap();
    let out = common::run_binary(&["--port", "0", "--config", path.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml"), "{err}");
}

/// A parent that reads the first line and closes the pipe (`| head -1`) doesn't stop
/// the site: the credential lines that follow can't be written, and that's all.
#[tokio::test]
async fn a_closed_stdout_after_the_first_line_does_not_stop_the_site() {
    let mut child = spawn_binary(
        &["--port", "0", "--quiet", "--seed", "demo"],
        Stdio::null(),
        Stdio::null(),
    );
    let url = {
        let mut out = std::io::BufReader::with_capacity(1, child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        listening_url(&line)
        // The pipe closes here.
    };
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(child.try_wait().unwrap().is_none(), "the emulator exited");
    let (st, _) = grant(
        &Client::new(),
        &url,
        &credentials("demo_script", "demo-key-0123456789"),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    child.kill().unwrap();
    child.wait().unwrap();
}
