//! `cargo xtask`: the project's automation, written in plain Rust instead of shell
//! (in the style of rust-analyzer's xtask).
//!
//! ```text
//! cargo xtask setup                      install every tool the project needs (idempotent)
//! cargo xtask build                      build the npm package into pkg/
//! cargo xtask test [--suite NAME]...     setup + build + every test suite, with a summary
//!                  [--skip-setup] [--timeout SECS]
//! cargo xtask demo [--port N] [--www-port N]
//!                                        emulator + static server for the explorer (www/)
//! cargo xtask bench                      side-by-side benchmarks → bench/RESULTS.md
//! ```
//!
//! The alias lives in `.cargo/config.toml`. The crate has no dependencies so that a
//! fresh CI machine compiles it in seconds; every external tool is driven with
//! [`std::process::Command`] and every step is printed as it runs.

mod bench;
mod build;
mod demo;
mod emulator;
mod fuzz;
mod minify;
mod package;
mod serve;
mod setup;
mod size;
mod suites;
mod util;

use std::path::PathBuf;
use std::process::ExitCode;

/// The error type of every step: a message for the person at the terminal.
pub type Error = Box<dyn std::error::Error + Send + Sync>;
/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

const USAGE: &str = "\
usage: cargo xtask <command> [options]

commands:
  setup                 install the wasm32 target, wasm-bindgen-cli (the version in
                        Cargo.lock), npm dev tools (npm ci), Chromium + chromedriver
  build                 build the npm package into pkg/ (cargo, wasm-bindgen, wasm-opt,
                        pkg-template/) and print its sizes
  test                  setup, build, then every test suite; prints one line per suite
                        and a last line `<N> passed, <M> failed` (N, M count suites)
      --suite NAME      run only this suite (repeatable); names:
                        lint size native-rust wasm-node wasm-chromium js-node js-workerd js-chromium
                        types package
      --skip-setup      do not run `setup` first
      --timeout SECS    kill a suite still running after SECS seconds (default 1200)
  demo                  build, start the emulator seeded with the demo studio and serve
                        www/ + pkg/ for the explorer; Ctrl-C stops everything
      --port N          emulator port (default 8000)
      --www-port N      static server port (default 8080)
  bench                 side-by-side benchmarks against a local emulator; prints a
                        table of ratios and writes bench/RESULTS.md
";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(command) = args.next() else {
        eprint!("{USAGE}");
        return ExitCode::FAILURE;
    };
    let rest: Vec<String> = args.collect();
    let result = match command.as_str() {
        "setup" => no_options(&rest).and_then(|()| setup::run(&root())),
        "build" => no_options(&rest).and_then(|()| build::run(&root())),
        "test" => suites::Options::parse(&rest).and_then(|opts| suites::run(&root(), &opts)),
        "demo" => demo::Options::parse(&rest).and_then(|opts| demo::run(&root(), &opts)),
        "bench" => no_options(&rest).and_then(|()| bench::run(&root())),
        "help" | "-h" | "--help" => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        other => Err(format!("unknown command `{other}`\n\n{USAGE}").into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask {command}: error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Fails when a command that takes no options was given some.
fn no_options(rest: &[String]) -> Result<()> {
    match rest.first() {
        None => Ok(()),
        Some(arg) => Err(format!("unexpected argument `{arg}`\n\n{USAGE}").into()),
    }
}

/// The repository root: the parent of this crate's directory.
fn root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map(PathBuf::from)
        .unwrap_or(manifest_dir)
}
