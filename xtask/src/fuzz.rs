//! The `fuzz` suite: rustfmt and clippy on `fuzz/`, then a short run of every cargo-fuzz
//! target in it (the client's response decoders, its JSON reader and writer against
//! serde_json's, filter validator and entity naming), 60 s in all.
//!
//! Installs cargo-fuzz first when `cargo fuzz` is missing (`cargo install cargo-fuzz`,
//! about 1.5 min on 2 cores). cargo-fuzz passes nightly-only flags to rustc
//! (`-Zsanitizer`, `-Cllvm-args=-sanitizer-coverage-*` with `-Z` options), so the suite
//! sets `RUSTC_BOOTSTRAP=1` to let the stable toolchain accept them. No sanitizer: the
//! client has no `unsafe`, and what we look for is panics (overflow checks and debug
//! assertions are on in cargo-fuzz builds). Each target starts from its committed seed
//! corpus `fuzz/seeds/<target>/` plus what earlier runs found in
//! `<target dir>/fuzz/corpus/<target>/`; a crash leaves its input in
//! `fuzz/artifacts/<target>/` and fails the suite.

use std::path::Path;
use std::process::{Command, Stdio};

/// The fuzz targets, each run for [`SECONDS_EACH`].
pub const TARGETS: &[&str] = &["decode_response", "filters", "json", "naming"];

/// Fuzzing time per target: 60 s in all.
const SECONDS_EACH: u32 = 15;

fn cargo_fuzz_installed() -> bool {
    crate::util::cargo()
        .args(["fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The suite's commands (install, build, one run per target), or why it cannot run.
pub fn commands(root: &Path) -> Result<Vec<Command>, String> {
    if !root.join("fuzz/Cargo.toml").is_file() {
        return Err("missing fuzz/Cargo.toml".into());
    }
    let target_dir = crate::util::target_dir(root).join("fuzz");
    let mut cmds = Vec::new();
    if !cargo_fuzz_installed() {
        let mut install = crate::util::cargo();
        install.args(["install", "cargo-fuzz"]);
        cmds.push(install);
    }
    let fuzz = |args: &[&str]| {
        let mut cmd = crate::util::cargo();
        cmd.arg("fuzz")
            .args(args)
            .args(["--sanitizer", "none", "--target-dir"])
            .arg(&target_dir)
            .env("RUSTC_BOOTSTRAP", "1");
        cmd
    };
    // fuzz/ is outside the root workspace, so the lint suite does not see it.
    let mut fmt = crate::util::cargo();
    fmt.args(["fmt", "--manifest-path", "fuzz/Cargo.toml", "--", "--check"]);
    cmds.push(fmt);
    let mut clippy = crate::util::cargo();
    clippy
        .args([
            "clippy",
            "--manifest-path",
            "fuzz/Cargo.toml",
            "--target-dir",
        ])
        .arg(&target_dir)
        .args(["--", "-D", "warnings"]);
    cmds.push(clippy);
    cmds.push(fuzz(&["build"]));
    for target in TARGETS {
        let corpus = target_dir.join("corpus").join(target);
        std::fs::create_dir_all(&corpus)
            .map_err(|e| format!("cannot create {}: {e}", corpus.display()))?;
        let mut run = fuzz(&["run", target]);
        run.arg(&corpus)
            .arg(root.join("fuzz/seeds").join(target))
            .arg("--")
            .arg(format!("-max_total_time={SECONDS_EACH}"))
            .arg("-timeout=10")
            .arg("-rss_limit_mb=2048")
            // Only the final stats (and any crash), not a line per new input.
            .arg("-verbosity=0")
            .arg("-print_final_stats=1");
        cmds.push(run);
    }
    Ok(cmds)
}
