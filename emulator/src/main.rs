//! `shotgrid-emulator` binary: runs a local ShotGrid REST v1 site until SIGINT/SIGTERM
//! (or stdin EOF with `--exit-with-stdin`).

use std::io::{Read, Write};
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use shotgrid_emulator::{
    start_with, Config, FaultConfig, HumanUserCred, ScriptUser, Seed, ServerOptions, StorageMode,
    TlsConfig, DEMO_HUMAN_LOGIN, DEMO_HUMAN_PASSWORD, DEMO_SCRIPT_KEY, DEMO_SCRIPT_NAME,
};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum StorageArg {
    /// Uploads are PUT back to the site with the bearer token.
    Sg,
    /// Uploads are PUT to pre-signed storage URLs (multipart available).
    S3,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum SeedArg {
    /// No records.
    Empty,
    /// The demo studio plus the `demo_script` script user.
    Demo,
}

/// A local fake ShotGrid (Flow Production Tracking) site speaking REST API v1.
#[derive(Debug, Parser)]
#[command(name = "shotgrid-emulator", version)]
struct Args {
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// Port to bind (0 picks a free port).
    #[arg(long, default_value_t = 8000)]
    port: u16,
    /// Initial site contents.
    #[arg(long, value_enum, default_value = "empty")]
    seed: SeedArg,
    /// Add a script user, as NAME:KEY (client_id:client_secret). Repeatable.
    /// (Validated after parsing so a malformed value, which may hold a secret, is never
    /// echoed in an error message.)
    #[arg(long = "script-user", value_name = "NAME:KEY")]
    script_users: Vec<String>,
    /// Access token lifetime in seconds [default: 600, or the config file's]. The flag
    /// wins over the config file.
    #[arg(long = "token-lifetime", value_name = "SECS")]
    token_lifetime: Option<u64>,
    /// Exit when standard input reaches end of file (so a dead parent leaves no orphan).
    #[arg(long)]
    exit_with_stdin: bool,
    /// Largest accepted request body in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 10 * 1024 * 1024)]
    body_limit: usize,
    /// Longest time a request body may take to arrive, in seconds; slower bodies are
    /// cut off with 408 and the connection closed.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    body_timeout: u64,
    /// Longest time a request's headers may take to arrive, in seconds; slower clients
    /// are disconnected.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    header_timeout: u64,
    /// Do not log requests to stderr.
    #[arg(long)]
    quiet: bool,
    /// Persist every committed write to FILE (crash-safe snapshots) and reload it on
    /// start.
    #[arg(long, value_name = "FILE")]
    data: Option<std::path::PathBuf>,
    /// Read script users, human users and the token lifetime from FILE (TOML, or JSON
    /// for a `.json` file).
    #[arg(long, value_name = "FILE")]
    config: Option<std::path::PathBuf>,
    /// Add a human user, as LOGIN:PASSWORD (for the password grant). Repeatable.
    #[arg(long = "human-user", value_name = "LOGIN:PASSWORD")]
    human_users: Vec<String>,
    /// Where uploads go (`storage_service`).
    #[arg(long, value_enum, default_value = "s3")]
    storage: StorageArg,
    /// Minimum size of every multipart part but the last, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 5 * 1024 * 1024)]
    min_part_size: usize,
    /// Largest accepted body of upload routes, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 64 * 1024 * 1024)]
    upload_limit: usize,
    /// Allow this CORS origin (repeatable); by default any origin is allowed.
    #[arg(long = "cors-origin", value_name = "ORIGIN")]
    cors_origins: Vec<String>,
    /// Enable the /_admin routes, guarded by this secret (header x-admin-secret).
    #[arg(long, value_name = "SECRET")]
    admin_secret: Option<String>,
    /// Fault injection: fixed latency added to each request, in ms.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    latency_ms: u64,
    /// Fault injection: extra random latency up to this many ms.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    jitter_ms: u64,
    /// Fault injection: rate (0..1) of 500/503 answers.
    #[arg(long, value_name = "RATE", default_value_t = 0.0)]
    error_rate: f64,
    /// Fault injection: rate (0..1) of 429 answers.
    #[arg(long, value_name = "RATE", default_value_t = 0.0)]
    rate_limit_rate: f64,
    /// Fault injection: Retry-After seconds sent with 429 and 503.
    #[arg(long, value_name = "SECS", default_value_t = 1)]
    retry_after: u64,
    /// Fault injection: rate (0..1) of connections dropped before the request is handled.
    #[arg(long, value_name = "RATE", default_value_t = 0.0)]
    drop_rate: f64,
    /// Fault injection: rate (0..1) of connections dropped after the request committed,
    /// before any byte of the answer.
    #[arg(long, value_name = "RATE", default_value_t = 0.0)]
    drop_after_commit_rate: f64,
    /// Fault injection: rate (0..1) of answers cut off mid-response after the request
    /// committed (status, headers and half the body sent, then the connection dropped).
    #[arg(long, value_name = "RATE", default_value_t = 0.0)]
    drop_mid_response_rate: f64,
    /// Fault injection: seed of the random generator (reproducible runs).
    #[arg(long, value_name = "SEED")]
    fault_seed: Option<u64>,
    /// Serve HTTPS instead of plain HTTP: HTTP/2 (ALPN h2) and HTTP/1.1 over TLS, as real
    /// sites are served. Without --tls-cert/--tls-key the certificate is self-signed for
    /// localhost, 127.0.0.1 and ::1, made at start-up; its SPKI pin is printed (for
    /// Chromium's --ignore-certificate-errors-spki-list).
    #[arg(long)]
    tls: bool,
    /// Certificate chain (PEM, leaf first) for --tls; implies --tls. Needs --tls-key.
    #[arg(long, value_name = "FILE")]
    tls_cert: Option<PathBuf>,
    /// Private key (PEM) of --tls-cert.
    #[arg(long, value_name = "FILE")]
    tls_key: Option<PathBuf>,
    /// Write the certificate in use (PEM) to FILE before listening, for clients to trust
    /// (NODE_EXTRA_CA_CERTS, curl --cacert).
    #[arg(long, value_name = "FILE")]
    tls_cert_out: Option<PathBuf>,
}

/// The TLS mode from the flags and the config file (flags win): `Err` with a message.
fn tls_mode(
    args: &Args,
    file: Option<&shotgrid_emulator::persist::FileConfig>,
) -> Result<Option<TlsConfig>, String> {
    let cert = args
        .tls_cert
        .clone()
        .or_else(|| file.and_then(|f| f.tls_cert.clone()));
    let key = args
        .tls_key
        .clone()
        .or_else(|| file.and_then(|f| f.tls_key.clone()));
    let on = args.tls || file.and_then(|f| f.tls) == Some(true);
    let mode = match (cert, key) {
        (Some(cert), Some(key)) => Some(TlsConfig::Pem { cert, key }),
        (None, None) if on => Some(TlsConfig::SelfSigned),
        (None, None) => None,
        (Some(_), None) => return Err("--tls-cert needs --tls-key".into()),
        (None, Some(_)) => return Err("--tls-key needs --tls-cert".into()),
    };
    if mode.is_none() && args.tls_cert_out.is_some() {
        return Err("--tls-cert-out needs --tls".into());
    }
    Ok(mode)
}

/// Parses `LOGIN:PASSWORD` (the password may contain colons).
fn parse_human_user(s: &str) -> Option<HumanUserCred> {
    match s.split_once(':') {
        Some((login, pw)) if !login.is_empty() && !pw.is_empty() => Some(HumanUserCred {
            login: login.to_string(),
            password: pw.to_string(),
            name: None,
            email: None,
        }),
        _ => None,
    }
}

/// Parses `NAME:KEY` (the key may itself contain colons).
fn parse_script_user(s: &str) -> Option<ScriptUser> {
    match s.split_once(':') {
        Some((name, key)) if !name.is_empty() && !key.is_empty() => Some(ScriptUser {
            name: name.to_string(),
            key: key.to_string(),
        }),
        _ => None,
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut script_users = Vec::with_capacity(args.script_users.len());
    for raw in &args.script_users {
        match parse_script_user(raw) {
            Some(user) => script_users.push(user),
            None => {
                // Never echo the value: it may hold a secret.
                eprintln!("error: --script-user expects NAME:KEY with both parts non-empty");
                std::process::exit(2);
            }
        }
    }
    let mut human_users = Vec::with_capacity(args.human_users.len());
    for raw in &args.human_users {
        match parse_human_user(raw) {
            Some(user) => human_users.push(user),
            None => {
                eprintln!("error: --human-user expects LOGIN:PASSWORD with both parts non-empty");
                std::process::exit(2);
            }
        }
    }
    let faults = FaultConfig {
        latency_ms: args.latency_ms,
        jitter_ms: args.jitter_ms,
        error_rate: args.error_rate,
        rate_limit_rate: args.rate_limit_rate,
        retry_after_secs: args.retry_after,
        drop_rate: args.drop_rate,
        drop_after_commit_rate: args.drop_after_commit_rate,
        drop_mid_response_rate: args.drop_mid_response_rate,
        seed: args.fault_seed,
        ..FaultConfig::default()
    };
    if let Err(msg) = faults.validate() {
        eprintln!("error: fault injection flags: {msg}");
        std::process::exit(2);
    }
    let seed = match args.seed {
        SeedArg::Empty => Seed::Empty,
        SeedArg::Demo => Seed::Demo,
    };
    let mut token_lifetime = 600;
    let file = match &args.config {
        Some(path) => Some(shotgrid_emulator::persist::FileConfig::load(path)?),
        None => None,
    };
    let tls = match tls_mode(&args, file.as_ref()) {
        Ok(mode) => mode,
        Err(msg) => {
            eprintln!("error: {msg}");
            std::process::exit(2);
        }
    };
    if let Some(file) = file {
        for u in file.script_users {
            script_users.push(ScriptUser {
                name: u.name,
                key: u.key,
            });
        }
        human_users.extend(file.human_users);
        if let Some(t) = file.token_lifetime {
            token_lifetime = t;
        }
    }
    if let Some(t) = args.token_lifetime {
        token_lifetime = t;
    }
    let config = Config {
        host: args.host,
        port: args.port,
        script_users,
        seed,
        access_token_lifetime: Duration::from_secs(token_lifetime),
        data_file: args.data.clone(),
        human_users,
        storage: match args.storage {
            StorageArg::Sg => StorageMode::Sg,
            StorageArg::S3 => StorageMode::S3,
        },
        min_part_size: args.min_part_size,
    };
    let options = ServerOptions {
        log_requests: !args.quiet,
        body_limit: args.body_limit,
        upload_limit: args.upload_limit,
        cors_origins: args.cors_origins,
        admin_secret: args.admin_secret,
        faults,
        body_timeout: Duration::from_secs(args.body_timeout.max(1)),
        header_timeout: Duration::from_secs(args.header_timeout.max(1)),
        tls,
    };
    // Signal handlers are installed before the listening line is printed, so a parent
    // that signals as soon as it reads that line gets a clean stop, not a default kill.
    let (stop_tx, mut stop_rx) = tokio::sync::mpsc::channel::<&'static str>(4);
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        for (kind, name) in [
            (SignalKind::interrupt(), "SIGINT"),
            (SignalKind::terminate(), "SIGTERM"),
        ] {
            let mut stream = signal(kind)?;
            let tx = stop_tx.clone();
            tokio::spawn(async move {
                if stream.recv().await.is_some() {
                    let _ = tx.send(name).await;
                }
            });
        }
    }
    #[cfg(not(unix))]
    {
        let tx = stop_tx.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                let _ = tx.send("Ctrl-C").await;
            }
        });
    }

    let running = start_with(config, options).await?;
    if let (Some(path), Some(tls)) = (&args.tls_cert_out, running.tls()) {
        std::fs::write(path, tls.certificate_pem())
            .map_err(|e| anyhow::anyhow!("writing {}: {e}", path.display()))?;
    }

    let print = || -> std::io::Result<()> {
        let mut out = std::io::stdout().lock();
        writeln!(out, "shotgrid-emulator listening on {}", running.url())?;
        if let Some(pin) = running.tls().and_then(|t| t.spki_sha256()) {
            writeln!(out, "tls_spki_sha256: {pin}")?;
        }
        if seed == Seed::Demo {
            writeln!(out, "client_id: {DEMO_SCRIPT_NAME}")?;
            writeln!(out, "client_secret: {DEMO_SCRIPT_KEY}")?;
            writeln!(out, "login: {DEMO_HUMAN_LOGIN}")?;
            writeln!(out, "password: {DEMO_HUMAN_PASSWORD}")?;
        }
        out.flush()
    };
    // A parent that stopped reading (e.g. after the first line) doesn't stop the site.
    if let Err(e) = print() {
        eprintln!("shotgrid-emulator: could not print to stdout: {e}");
    }

    if args.exit_with_stdin {
        let tx = stop_tx.clone();
        // A plain thread: a blocking read must not hold up the runtime's shutdown.
        std::thread::spawn(move || {
            let mut stdin = std::io::stdin().lock();
            let mut buf = [0u8; 4096];
            loop {
                match stdin.read(&mut buf) {
                    Ok(0) => break,
                    Ok(_) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(_) => break,
                }
            }
            let _ = tx.blocking_send("stdin closed");
        });
    }
    drop(stop_tx);

    let reason = stop_rx.recv().await.unwrap_or("signal channel closed");
    eprintln!("shotgrid-emulator: stopping ({reason})");
    running.shutdown().await;
    Ok(())
}
