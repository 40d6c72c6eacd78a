//! `--tls` over real TCP on 127.0.0.1, with hyper's own client connections over rustls
//! (trusting only the site's certificate):
//! - ALPN picks `h2` when offered; requests (token grant, reads, uploads' absolute URLs,
//!   CORS preflights) work over HTTP/2, and many requests run at once on one connection;
//! - a client offering only `http/1.1` gets HTTP/1.1 over TLS, with the same answers;
//! - faults and the header timeout still apply: an injected drop resets only its own
//!   HTTP/2 stream, a stalled TLS handshake is dropped;
//! - the binary prints its `https://` URL and SPKI pin, writes its certificate with
//!   `--tls-cert-out`, takes the mode from its config file, refuses half a cert/key pair;
//! - a plain site is unchanged (plain `http://`, HTTP/1.1 only).

mod common;

use std::io::BufRead;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode, Version};
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::{json, Value};
use shotgrid_emulator::{FaultConfig, Running, ServerOptions, TlsConfig};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio_rustls::rustls::crypto::ring::default_provider;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;

const ID: &str = "tls-tests";
const KEY: &str = "tls-key";
const ADMIN: &str = "tls-admin";

async fn site(options: ServerOptions) -> Running {
    common::start_demo(ID, KEY, Some(ADMIN), options).await
}

async fn tls_site() -> Running {
    site(ServerOptions {
        tls: Some(TlsConfig::SelfSigned),
        ..ServerOptions::default()
    })
    .await
}

/// A TLS client that trusts only `pem` and offers `alpn`.
fn connector(pem: &str, alpn: &[&[u8]]) -> TlsConnector {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let mut config = ClientConfig::builder_with_provider(Arc::new(default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    TlsConnector::from(Arc::new(config))
}

/// One client connection: HTTP/2 or HTTP/1.1, as ALPN chose.
enum Conn {
    H2(hyper::client::conn::http2::SendRequest<Full<Bytes>>),
    H1(hyper::client::conn::http1::SendRequest<Full<Bytes>>),
}

struct Answer {
    status: StatusCode,
    version: Version,
    headers: hyper::HeaderMap,
    body: Value,
}

impl Conn {
    /// Connects to `site` as `host` (certificate name checked), offering `alpn`; returns
    /// the connection and the protocol the server picked.
    async fn open(site: &Running, host: &str, alpn: &[&[u8]]) -> (Conn, Vec<u8>) {
        let pem = site.tls().expect("a TLS site").certificate_pem();
        let tcp = TcpStream::connect(site.addr()).await.unwrap();
        let name = ServerName::try_from(host.to_owned()).unwrap();
        let stream = connector(pem, alpn).connect(name, tcp).await.unwrap();
        let picked = stream
            .get_ref()
            .1
            .alpn_protocol()
            .unwrap_or_default()
            .to_vec();
        let io = TokioIo::new(stream);
        let conn = if picked == b"h2" {
            let (send, conn) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
                .await
                .unwrap();
            tokio::spawn(conn);
            Conn::H2(send)
        } else {
            let (send, conn) = hyper::client::conn::http1::handshake(io).await.unwrap();
            tokio::spawn(conn);
            Conn::H1(send)
        };
        (conn, picked)
    }

    async fn send(&mut self, req: Request<Full<Bytes>>) -> hyper::Result<Answer> {
        let res = match self {
            Conn::H2(s) => s.send_request(req).await?,
            Conn::H1(s) => {
                s.ready().await?;
                s.send_request(req).await?
            }
        };
        let (parts, body) = res.into_parts();
        let bytes = body.collect().await?.to_bytes();
        Ok(Answer {
            status: parts.status,
            version: parts.version,
            headers: parts.headers,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        })
    }
}

/// A request to `path` on `site`: absolute URI (HTTP/2's `:authority`) and a `Host`
/// header for HTTP/1.1.
fn request(site: &Running, method: Method, path: &str, h2: bool) -> hyper::http::request::Builder {
    let b = Request::builder().method(method);
    if h2 {
        b.uri(format!("{}{path}", site.url()))
    } else {
        b.uri(path).header("host", site.addr().to_string())
    }
}

async fn token(conn: &mut Conn, site: &Running, h2: bool) -> String {
    let form = format!("grant_type=client_credentials&client_id={ID}&client_secret={KEY}");
    let req = request(site, Method::POST, "/api/v1/auth/access_token", h2)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from(form)))
        .unwrap();
    let a = conn.send(req).await.unwrap();
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    a.body["access_token"].as_str().unwrap().to_owned()
}

fn get(site: &Running, path: &str, token: &str, h2: bool) -> Request<Full<Bytes>> {
    request(site, Method::GET, path, h2)
        .header("authorization", format!("Bearer {token}"))
        .header("accept", "application/json")
        .body(Full::default())
        .unwrap()
}

async fn set_faults(conn: &mut Conn, site: &Running, h2: bool, config: Value) {
    let method = if config.is_null() {
        Method::DELETE
    } else {
        Method::POST
    };
    let req = request(site, method, "/_admin/faults", h2)
        .header("x-admin-secret", ADMIN)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(config.to_string())))
        .unwrap();
    let a = conn.send(req).await.unwrap();
    assert!(a.status.is_success(), "{} {}", a.status, a.body);
}

#[tokio::test]
async fn alpn_picks_h2_and_the_api_works_over_it() {
    let site = tls_site().await;
    assert!(
        site.url().starts_with("https://127.0.0.1:"),
        "{}",
        site.url()
    );
    for host in ["127.0.0.1", "localhost"] {
        let (mut conn, picked) = Conn::open(&site, host, &[b"h2", b"http/1.1"]).await;
        assert_eq!(picked, b"h2");
        let t = token(&mut conn, &site, true).await;
        let a = conn
            .send(get(&site, "/api/v1/entity/projects?fields=name", &t, true))
            .await
            .unwrap();
        assert_eq!(a.version, Version::HTTP_2);
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        assert!(!a.body["data"].as_array().unwrap().is_empty(), "{}", a.body);
        // Links the site builds from the request's host are https and name the site.
        let a = conn
            .send(get(
                &site,
                "/api/v1/entity/shots/1/_upload?filename=a.txt",
                &t,
                true,
            ))
            .await
            .unwrap();
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
        let upload = a.body["links"]["upload"].as_str().unwrap();
        assert!(
            upload.starts_with(&format!("{}/_storage/", site.url())),
            "{upload}"
        );
    }
}

#[tokio::test]
async fn many_requests_run_at_once_on_one_h2_connection() {
    let site = site(ServerOptions {
        tls: Some(TlsConfig::SelfSigned),
        faults: FaultConfig {
            latency_ms: 300,
            classes: vec![shotgrid_emulator::RouteClass::Read],
            ..FaultConfig::default()
        },
        ..ServerOptions::default()
    })
    .await;
    let (mut conn, _) = Conn::open(&site, "127.0.0.1", &[b"h2"]).await;
    let t = token(&mut conn, &site, true).await;
    let Conn::H2(send) = conn else {
        panic!("h2 expected")
    };
    let start = Instant::now();
    let calls = (1..=12).map(|page| {
        let mut c = Conn::H2(send.clone());
        let req = get(
            &site,
            &format!("/api/v1/entity/shots?page[number]={page}&page[size]=1"),
            &t,
            true,
        );
        async move { c.send(req).await.unwrap() }
    });
    let answers = futures_join_all(calls).await;
    let took = start.elapsed();
    for a in &answers {
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    }
    // 12 × 300 ms one after another would be 3.6 s; at once, one latency plus a margin.
    assert!(took < Duration::from_millis(1500), "took {took:?}");
}

/// `join_all` without a futures dependency: spawn each, await in order.
async fn futures_join_all<F>(futs: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futs.map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test]
async fn http1_over_tls_still_works() {
    let site = tls_site().await;
    let (mut conn, picked) = Conn::open(&site, "127.0.0.1", &[b"http/1.1"]).await;
    assert_eq!(picked, b"http/1.1");
    let t = token(&mut conn, &site, false).await;
    let a = conn
        .send(get(&site, "/api/v1/entity/projects?fields=name", &t, false))
        .await
        .unwrap();
    assert_eq!(a.version, Version::HTTP_11);
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    assert!(!a.body["data"].as_array().unwrap().is_empty());
    // A client offering no ALPN at all gets HTTP/1.1 too.
    let (mut conn, picked) = Conn::open(&site, "127.0.0.1", &[]).await;
    assert!(picked.is_empty());
    let a = conn
        .send(get(&site, "/api/v1/entity/projects?fields=name", &t, false))
        .await
        .unwrap();
    assert_eq!(a.status, StatusCode::OK);
}

#[tokio::test]
async fn cors_preflight_over_h2() {
    let site = tls_site().await;
    let (mut conn, _) = Conn::open(&site, "127.0.0.1", &[b"h2"]).await;
    let req = request(&site, Method::OPTIONS, "/api/v1/entity/shots", true)
        .header("origin", "http://127.0.0.1:9")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .body(Full::default())
        .unwrap();
    let a = conn.send(req).await.unwrap();
    assert!(a.status.is_success(), "{}", a.status);
    assert!(a.headers.contains_key("access-control-allow-origin"));
    assert!(a.headers.contains_key("access-control-allow-methods"));
}

#[tokio::test]
async fn an_injected_drop_resets_only_its_own_h2_stream() {
    let site = tls_site().await;
    let (mut conn, _) = Conn::open(&site, "127.0.0.1", &[b"h2"]).await;
    let t = token(&mut conn, &site, true).await;
    set_faults(
        &mut conn,
        &site,
        true,
        json!({"drop_rate": 1.0, "classes": ["read"]}),
    )
    .await;
    let dropped = conn
        .send(get(&site, "/api/v1/entity/projects", &t, true))
        .await;
    assert!(dropped.is_err(), "a dropped answer must fail");
    // Same connection: the next request is answered.
    set_faults(&mut conn, &site, true, Value::Null).await;
    let a = conn
        .send(get(&site, "/api/v1/entity/projects", &t, true))
        .await
        .unwrap();
    assert_eq!(a.status, StatusCode::OK);
}

#[tokio::test]
async fn a_stalled_tls_handshake_is_dropped_and_the_site_stays_responsive() {
    let site = site(ServerOptions {
        tls: Some(TlsConfig::SelfSigned),
        header_timeout: Duration::from_secs(1),
        ..ServerOptions::default()
    })
    .await;
    // Connects and never sends a ClientHello.
    let mut stalled = TcpStream::connect(site.addr()).await.unwrap();
    let start = Instant::now();
    let (mut conn, _) = Conn::open(&site, "127.0.0.1", &[b"h2"]).await;
    let t = token(&mut conn, &site, true).await;
    let a = conn
        .send(get(&site, "/api/v1/entity/projects", &t, true))
        .await
        .unwrap();
    assert_eq!(a.status, StatusCode::OK);
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(Duration::from_secs(5), stalled.read(&mut buf))
        .await
        .expect("the server closes the stalled connection");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    let waited = start.elapsed();
    assert!(
        waited >= Duration::from_millis(900) && waited < Duration::from_secs(4),
        "{waited:?}"
    );
}

#[tokio::test]
async fn a_plain_site_is_unchanged() {
    let site = site(ServerOptions::default()).await;
    assert!(site.url().starts_with("http://127.0.0.1:"));
    assert!(site.tls().is_none());
    // HTTP/2 with prior knowledge is not spoken on a plain site.
    let tcp = TcpStream::connect(site.addr()).await.unwrap();
    let h2 = async {
        let (mut send, conn) =
            hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tcp)).await?;
        tokio::spawn(conn);
        send.send_request(
            Request::get(format!("{}/", site.url()))
                .body(Full::<Bytes>::default())
                .unwrap(),
        )
        .await
    };
    let res = tokio::time::timeout(Duration::from_secs(5), h2)
        .await
        .expect("answered or refused");
    assert!(res.is_err(), "plain site answered HTTP/2: {res:?}");
}

/// Spawns the binary with `args`; returns its stdout lines up to the credentials (the
/// listening line first) and the child.
fn spawn_bin(args: &[&str]) -> (std::process::Child, Vec<String>) {
    let args = [&["--port", "0", "--quiet", "--seed", "demo"], args].concat();
    let mut child = common::spawn_binary(&args, Stdio::piped(), Stdio::null());
    let out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut lines = Vec::new();
    for line in out.lines() {
        let line = line.unwrap();
        let done = line.starts_with("client_id:");
        lines.push(line);
        if done {
            break;
        }
    }
    (child, lines)
}

fn https_url(lines: &[String]) -> String {
    let url = common::listening_url(lines.first().map_or("", String::as_str));
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    url
}

#[test]
fn the_binary_prints_its_https_url_and_pin_and_writes_its_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cert.pem");
    let (mut child, lines) = spawn_bin(&["--tls", "--tls-cert-out", out.to_str().unwrap()]);
    let _ = child.kill();
    let _ = child.wait();
    https_url(&lines);
    let pin = lines[1]
        .strip_prefix("tls_spki_sha256: ")
        .unwrap_or_else(|| panic!("pin line, got {lines:?}"));
    assert_eq!(pin.len(), 44, "{pin}");
    let pem = std::fs::read_to_string(&out).unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
}

#[test]
fn the_binary_takes_tls_from_its_config_file_and_refuses_half_a_pair() {
    let dir = tempfile::tempdir().unwrap();
    // A certificate and key of our own, named relative to the config file.
    let made = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    std::fs::create_dir(dir.path().join("tls")).unwrap();
    std::fs::write(dir.path().join("tls/cert.pem"), made.cert.pem()).unwrap();
    std::fs::write(
        dir.path().join("tls/key.pem"),
        made.key_pair.serialize_pem(),
    )
    .unwrap();
    let config = dir.path().join("site.toml");
    std::fs::write(
        &config,
        "tls = true\ntls_cert = \"tls/cert.pem\"\ntls_key = \"tls/key.pem\"\n",
    )
    .unwrap();
    let out = dir.path().join("out.pem");
    let (mut child, lines) = spawn_bin(&[
        "--config",
        config.to_str().unwrap(),
        "--tls-cert-out",
        out.to_str().unwrap(),
    ]);
    let _ = child.kill();
    let _ = child.wait();
    https_url(&lines);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), made.cert.pem());

    for (args, message) in [
        (vec!["--tls-cert", "x.pem"], "--tls-cert needs --tls-key"),
        (vec!["--tls-key", "x.pem"], "--tls-key needs --tls-cert"),
        (
            vec!["--tls-cert-out", "x.pem"],
            "--tls-cert-out needs --tls",
        ),
    ] {
        let res = common::run_binary(&[&["--port", "0"], &args[..]].concat());
        assert_eq!(res.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&res.stderr);
        assert!(err.contains(message), "{args:?}: {err}");
    }
}
