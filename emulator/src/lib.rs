//! `shotgrid-emulator`: a local fake ShotGrid (Autodesk Flow Production Tracking) site
//! speaking REST API v1.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use shotgrid_emulator::{start, Config, ScriptUser, Seed};
//! let running = start(Config {
//!     port: 0,
//!     seed: Seed::Demo,
//!     script_users: vec![ScriptUser { name: "tests".into(), key: "secret".into() }],
//!     ..Config::default()
//! })
//! .await?;
//! println!("site at {}", running.url());
//! running.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Layout ("moto" style): [`model`] holds all state and decides outcomes, [`auth`] holds
//! credentials and tokens, [`http`] only parses requests and renders responses,
//! [`errors`] renders the JSON:API error envelope, [`naming`] maps URL spellings of
//! entity types, [`seed`] fills a new site.

pub mod auth;
pub mod body_timeout;
pub mod errors;
pub mod faults;
pub mod http;
pub mod model;
pub mod naming;
pub mod persist;
pub mod query;
pub mod render;
pub mod routes;
pub mod seed;
pub mod tls;
pub mod webhook_delivery;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use auth::{DEMO_HUMAN_LOGIN, DEMO_HUMAN_PASSWORD};
pub use faults::{FaultConfig, RouteClass};
pub use http::ServerOptions;
pub use model::files::StorageMode;
pub use seed::{Seed, DEMO_SCRIPT_KEY, DEMO_SCRIPT_NAME};
pub use tls::TlsConfig;

use auth::AuthStore;
use model::{Backend, Store};

/// An API script user: `name` is the OAuth client_id, `key` the client_secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptUser {
    /// Script name (client_id).
    pub name: String,
    /// Script key (client_secret).
    pub key: String,
}

/// A human user's credential (`login` / `password` for the `password` grant, optional
/// display name and email), from `--human-user` or the `--config` file.
pub use persist::HumanUserConfig as HumanUserCred;

/// How to start a site.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to bind; default 127.0.0.1.
    pub host: IpAddr,
    /// Port to bind; default 0 (an ephemeral port).
    pub port: u16,
    /// Script users added to the site in every seed mode.
    pub script_users: Vec<ScriptUser>,
    /// Initial contents; default [`Seed::Empty`].
    pub seed: Seed,
    /// Lifetime of issued access tokens (`expires_in`); default 600 s.
    pub access_token_lifetime: Duration,
    /// Persist every committed write to this file and reload it on start (`--data`).
    /// When the file exists, its contents replace the seed's records.
    pub data_file: Option<std::path::PathBuf>,
    /// Human users (login/password) added in every seed mode, for the `password`
    /// grant. The demo seed also has [`DEMO_HUMAN_LOGIN`] / [`DEMO_HUMAN_PASSWORD`].
    pub human_users: Vec<HumanUserCred>,
    /// Where uploads go (`storage_service`); default [`StorageMode::S3`].
    pub storage: StorageMode,
    /// Minimum size of every multipart part but the last; default 5 MiB.
    pub min_part_size: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            script_users: Vec::new(),
            seed: Seed::Empty,
            access_token_lifetime: Duration::from_secs(600),
            data_file: None,
            human_users: Vec::new(),
            storage: StorageMode::default(),
            min_part_size: model::files::DEFAULT_MIN_PART_SIZE,
        }
    }
}

/// Starts a site with default [`ServerOptions`] (no request logging, 10 MiB body limit).
/// Returns once the socket is bound; the server runs on the current Tokio runtime.
pub async fn start(config: Config) -> anyhow::Result<Running> {
    start_with(config, ServerOptions::default()).await
}

/// Starts a site with explicit HTTP-layer options.
pub async fn start_with(config: Config, options: ServerOptions) -> anyhow::Result<Running> {
    let mut store = Store::new();
    let mut auth = AuthStore::new(config.access_token_lifetime);
    seed::apply(config.seed, &mut store, &mut auth)?;
    let persister = config.data_file.as_ref().map(persist::Persister::new);
    let mut saved = match &persister {
        Some(p) => p.load()?,
        None => None,
    };
    if let Some(snapshot) = saved.as_mut().and_then(persist::DataFile::take_store) {
        store = Store::from_snapshot(snapshot);
    }
    for user in &config.script_users {
        auth.add_script_user(&user.name, &user.key);
        model::writes::ensure_api_user(&mut store, &user.name);
    }
    if config.seed == Seed::Demo {
        auth.add_human_user(DEMO_HUMAN_LOGIN, DEMO_HUMAN_PASSWORD);
    }
    for user in &config.human_users {
        model::writes::ensure_human_user(&mut store, user);
        auth.add_human_user(&user.login, &user.password);
    }
    let backend = Arc::new(Backend::new(store, auth));
    backend
        .files()
        .configure(config.storage, config.min_part_size);
    if let Some(p) = persister {
        backend.set_persister(p);
        if let Some(mut data) = saved {
            for warning in backend.restore(&mut data)? {
                eprintln!("shotgrid-emulator: {warning}");
            }
        }
        backend.persist_now()?;
    }
    let header_timeout = options.header_timeout;
    let tls = options.tls.as_ref().map(tls::Tls::new).transpose()?;
    let app = http::router(Arc::clone(&backend), options);

    let listener = tokio::net::TcpListener::bind(SocketAddr::new(config.host, config.port)).await?;
    let addr = listener.local_addr()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    webhook_delivery::spawn(&backend, format!("{scheme}://{addr}"));
    // Deliveries a crash cut off between a write and its delivery.
    backend.replay_undelivered();
    let (tx, rx) = oneshot::channel::<()>();
    // Resolves on an explicit shutdown and when `Running` is dropped.
    let acceptor = tls.as_ref().map(|t| t.acceptor().clone());
    let task = tokio::spawn(serve(listener, app, header_timeout, acceptor, async move {
        let _ = rx.await;
    }));
    Ok(Running {
        addr,
        tls,
        backend,
        shutdown: Some(tx),
        task: Some(task),
    })
}

/// Serves connections until `shutdown` resolves, then lets in-flight requests finish.
/// Like `axum::serve`, plus a bound on the time to receive a request's headers
/// (`header_timeout`): a client that sends part of its headers and stalls is dropped
/// instead of holding its connection forever. (`axum::serve` sets no timer, so hyper's
/// header-read timeout never fires there.)
///
/// Plain connections speak HTTP/1.1 only. With `tls`, each connection first completes
/// its TLS handshake (within `header_timeout`), then speaks the protocol ALPN chose:
/// HTTP/2 for `h2`, otherwise HTTP/1.1 exactly as on a plain connection.
async fn serve(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    header_timeout: Duration,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use tokio::sync::watch;

    // Every connection task holds a receiver; the sender's `closed()` tells when the
    // last one has finished.
    let (stop_tx, stop_rx) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors and the like: wait a moment, keep serving.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let mut stop = stop_rx.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                None => serve_http1(stream, app, header_timeout, &mut stop).await,
                Some(acceptor) => {
                    let stream = tokio::select! {
                        done = tokio::time::timeout(header_timeout, acceptor.accept(stream)) => match done {
                            Ok(Ok(stream)) => stream,
                            // A failed or stalled handshake: drop the connection.
                            Ok(Err(_)) | Err(_) => return,
                        },
                        _ = stop.changed() => return,
                    };
                    let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2".as_slice());
                    if h2 {
                        serve_http2(stream, app, header_timeout, &mut stop).await;
                    } else {
                        serve_http1(stream, app, header_timeout, &mut stop).await;
                    }
                }
            }
            drop(stop);
        });
    }
    drop(listener);
    drop(stop_rx);
    let _ = stop_tx.send(true);
    stop_tx.closed().await;
    Ok(())
}

/// One HTTP/1.1 connection (plain or over TLS), with the header-read timeout.
async fn serve_http1<S>(
    stream: S,
    app: axum::Router,
    header_timeout: Duration,
    stop: &mut tokio::sync::watch::Receiver<bool>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    use hyper_util::rt::{TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;

    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    let conn = builder
        .serve_connection(TokioIo::new(stream), TowerToHyperService::new(app))
        .with_upgrades();
    tokio::pin!(conn);
    drive(conn, stop, |c| c.graceful_shutdown()).await;
}

/// Runs one connection to its end; a stop signal (or the server gone) shuts it down
/// gracefully first: the requests (HTTP/2: streams, after a GOAWAY) in flight finish.
async fn drive<C: std::future::Future>(
    mut conn: std::pin::Pin<&mut C>,
    stop: &mut tokio::sync::watch::Receiver<bool>,
    shutdown: impl Fn(std::pin::Pin<&mut C>),
) {
    let mut stopping = false;
    loop {
        tokio::select! {
            _ = conn.as_mut() => break,
            _ = stop.changed(), if !stopping => {
                stopping = true;
                shutdown(conn.as_mut());
            }
        }
    }
}

/// One HTTP/2 connection (over TLS, ALPN `h2`). Requests carry their host in
/// `:authority`, not in a `Host` header: it is copied there so handlers see requests as
/// over HTTP/1.1. There is no header-read timeout in HTTP/2 (hyper has none); a peer that
/// stops answering pings within `header_timeout` is disconnected instead.
async fn serve_http2<S>(
    stream: S,
    app: axum::Router,
    header_timeout: Duration,
    stop: &mut tokio::sync::watch::Receiver<bool>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::service::TowerToHyperService;
    use tower::ServiceExt as _;

    let app = app.map_request(authority_as_host);
    let mut builder = hyper::server::conn::http2::Builder::new(TokioExecutor::new());
    builder
        .timer(TokioTimer::new())
        .keep_alive_interval(Some(header_timeout))
        .keep_alive_timeout(header_timeout);
    let conn = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app));
    tokio::pin!(conn);
    drive(conn, stop, |c| c.graceful_shutdown()).await;
}

/// Copies an HTTP/2 request's `:authority` into a `Host` header when it has none.
fn authority_as_host<B>(mut req: axum::http::Request<B>) -> axum::http::Request<B> {
    use axum::http::{header::HOST, HeaderValue};
    if !req.headers().contains_key(HOST) {
        let host = req
            .uri()
            .authority()
            .and_then(|a| HeaderValue::from_str(a.as_str()).ok());
        if let Some(host) = host {
            req.headers_mut().insert(HOST, host);
        }
    }
    req
}

/// A running site. Dropping it stops the server too (without waiting).
#[derive(Debug)]
pub struct Running {
    addr: SocketAddr,
    tls: Option<tls::Tls>,
    backend: Arc<Backend>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl Running {
    /// Base URL without a trailing slash, e.g. `http://127.0.0.1:41234`
    /// (`https://` with [`ServerOptions::tls`]).
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// The TLS setup (certificate PEM, SPKI pin) when serving HTTPS.
    pub fn tls(&self) -> Option<&tls::Tls> {
        self.tls.as_ref()
    }

    /// The bound socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The site's model, for inspecting or changing state directly (tests, fault
    /// injection).
    pub fn backend(&self) -> &Arc<Backend> {
        &self.backend
    }

    /// Stops accepting connections, lets in-flight requests finish (up to 5 s), and
    /// returns when the server has stopped.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(Duration::from_secs(5), &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    /// JSON objects come out in the order the emulator builds them (ShotGrid's
    /// `{type, id, name}` for links, the requested field order for records), whichever
    /// packages cargo builds with it: `preserve_order` is in the emulator's own manifest,
    /// not only unified in from the client crate.
    #[test]
    fn json_objects_keep_insertion_order() {
        let link = serde_json::json!({"type": "Shot", "id": 1, "name": "a"});
        let text = serde_json::to_string(&link).unwrap_or_default();
        assert_eq!(text, r#"{"type":"Shot","id":1,"name":"a"}"#);
    }
}
