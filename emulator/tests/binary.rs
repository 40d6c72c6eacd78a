//! The binary's contract: first stdout line, demo credentials, logging hygiene, clean
//! stops on SIGTERM and on stdin EOF.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;

fn spawn(args: &[&str]) -> Child {
    common::spawn_binary(args, Stdio::piped(), Stdio::piped())
}

fn wait_with_timeout(child: &mut Child, limit: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    None
}

#[tokio::test]
async fn demo_prints_contract_lines_and_stops_on_stdin_eof() {
    let mut child = spawn(&[
        "--port",
        "0",
        "--seed",
        "demo",
        "--script-user",
        "ci:k:with:colons",
        "--token-lifetime",
        "30",
        "--exit-with-stdin",
    ]);
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    out.read_line(&mut first).unwrap();
    let url = common::listening_url(&first);
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();
    assert_ne!(port, 0);
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "client_id: demo_script\n");
    line.clear();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "client_secret: demo-key-0123456789\n");

    // Both the --script-user and the demo user work; lifetime is honoured.
    let client = reqwest::Client::new();
    for (id, secret) in [
        ("ci", "k:with:colons"),
        ("demo_script", "demo-key-0123456789"),
    ] {
        let res = client
            .post(format!("{url}/api/v1/auth/access_token?leak=querysecret"))
            .form(&common::credentials(id, secret))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["expires_in"], 30);
        let token = body["access_token"].as_str().unwrap();
        let res = client
            .get(format!("{url}/api/v1/entity/shots/1"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }

    // Closing stdin stops it with exit code 0.
    drop(child.stdin.take());
    let status = wait_with_timeout(&mut child, Duration::from_secs(10)).expect("exits");
    assert!(status.success(), "{status:?}");
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(err.contains("POST /api/v1/auth/access_token 200"), "{err}");
    assert!(err.contains("GET /api/v1/entity/shots/1 200"), "{err}");
    for secret in [
        "querysecret",
        "k:with:colons",
        "demo-key",
        "Bearer",
        "leak=",
    ] {
        assert!(!err.contains(secret), "stderr leaks {secret}: {err}");
    }
}

#[cfg(unix)]
#[test]
fn sigterm_and_sigint_stop_cleanly() {
    for signal in ["-TERM", "-INT"] {
        let mut child = spawn(&["--port", "0"]);
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        out.read_line(&mut first).unwrap();
        assert!(first.starts_with("shotgrid-emulator listening on http://127.0.0.1:"));
        let killed = Command::new("kill")
            .arg(signal)
            .arg(child.id().to_string())
            .status()
            .unwrap();
        assert!(killed.success());
        let status = wait_with_timeout(&mut child, Duration::from_secs(10)).expect("exits");
        assert!(status.success(), "{signal}: {status:?}");
    }
}

#[test]
fn bad_script_user_is_refused_without_echo() {
    let out = common::run_binary(&["--port", "0", "--script-user", "no-colon-secretvalue"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("secretvalue"), "{err}");
}
