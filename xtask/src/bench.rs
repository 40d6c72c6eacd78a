//! `cargo xtask bench`: installs what is missing (`setup`: Chromium, npm packages…),
//! builds the package and the emulator, starts a dedicated emulator on 127.0.0.1 (empty
//! site, admin secret for injected latency and the stored files' SHA-256), and runs
//! `node bench/run.mjs`, which measures everything side by side in one run (Node, headless
//! Chromium, workerd) and writes `bench/RESULTS.md`. The upload limit bounds one request
//! body (one part, 8 MiB in case 5), not a whole multipart upload.
//!
//! A second emulator, started with `--tls` (HTTPS with HTTP/2, self-signed), serves the
//! Chromium part, as real sites are served: its certificate goes to a file that Node
//! trusts (`NODE_EXTRA_CA_CERTS`, for seeding it) and that bench/chromium.mjs pins.

use std::fs::File;
use std::path::Path;
use std::process::Command;

use crate::emulator::{self, Emulator, Sink};
use crate::util::{self, step};
use crate::{build, setup, Result};

/// Runs every benchmark.
pub fn run(root: &Path) -> Result<()> {
    setup::run(root)?;
    build::run(root)?;
    emulator::build(root)?;
    step("start the benchmark emulator");
    let secret = util::random_alphanumeric(24);
    let admin = util::random_alphanumeric(24);
    let log_path = util::target_dir(root).join("emulator-bench.log");
    let log = File::create(&log_path)
        .map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;
    let args = [
        "--port".to_owned(),
        "0".to_owned(),
        "--seed".to_owned(),
        "empty".to_owned(),
        "--quiet".to_owned(),
        "--script-user".to_owned(),
        format!("bench:{secret}"),
        "--admin-secret".to_owned(),
        admin.clone(),
        "--min-part-size".to_owned(),
        (5 * 1024 * 1024).to_string(),
        "--upload-limit".to_owned(),
        (64 * 1024 * 1024).to_string(),
    ];
    let emu = Emulator::spawn(root, &args, Sink::Log(log))?;
    step("start the benchmark emulator over HTTPS (HTTP/2), for Chromium");
    let tls_log_path = util::target_dir(root).join("emulator-bench-tls.log");
    let tls_log = File::create(&tls_log_path)
        .map_err(|e| format!("cannot create {}: {e}", tls_log_path.display()))?;
    let cert_path = util::target_dir(root).join("emulator-bench-tls.pem");
    let mut tls_args = args.to_vec();
    tls_args.extend([
        "--tls".to_owned(),
        "--tls-cert-out".to_owned(),
        cert_path.display().to_string(),
    ]);
    let tls_emu = Emulator::spawn(root, &tls_args, Sink::Log(tls_log))?;
    step("run bench/run.mjs");
    let mut cmd = Command::new("node");
    cmd.args(["--expose-gc", "bench/run.mjs"])
        .current_dir(root)
        .env("SG_EMULATOR_URL", &emu.url)
        .env("SG_TEST_CLIENT_ID", "bench")
        .env("SG_TEST_CLIENT_SECRET", &secret)
        .env("SG_ADMIN_SECRET", &admin)
        .env("SG_BENCH_TLS_URL", &tls_emu.url)
        .env("SG_BENCH_TLS_CERT", &cert_path)
        .env("NODE_EXTRA_CA_CERTS", &cert_path);
    let result = util::run(&mut cmd);
    drop(tls_emu);
    drop(emu);
    result
}
