//! `cargo xtask test`: setup, build, then every test suite in order.
//!
//! Each suite's output streams live; a failing suite does not stop the later ones.
//! At the end one line per suite (`suite native-rust: ok (123 passed, 0 failed) in
//! 41.2s`) and, last, `<N> passed, <M> failed` where N and M count suites (the
//! `build` step counts as one). The exit code is non-zero when any failed.
//!
//! | suite | runs |
//! |---|---|
//! | `lint` | `cargo fmt --all -- --check`; `cargo clippy --workspace --all-targets -- -D warnings`; the same clippy for wasm32 on `shotgrid-wasm` |
//! | `size` | the size budget of the built package (see `size.rs`): prints the raw and gzip sizes of `pkg/shotgrid_wasm_bg.wasm` (≤ 100 KiB gzip) and `pkg/shotgrid_wasm.js` (≤ 15 KiB gzip) against their budgets; fails above the enforced ceiling: the budget once a file fits, until then a ratchet just above its last measured size |
//! | `native-rust` | `cargo test --workspace` |
//! | `wasm-node` | `cargo test --target wasm32-unknown-unknown -p shotgrid-wasm --test wasm_node` (runner: wasm-bindgen-test-runner) |
//! | `wasm-chromium` | the same with `--test wasm_browser` and `CHROMEDRIVER=/usr/bin/chromedriver` (flags in `webdriver.json`) |
//! | `js-node` | `node --test tests/js/node/*.test.mjs` against `pkg/` |
//! | `js-workerd` | `node tests/js/workerd/run.mjs` (Miniflare) |
//! | `js-chromium` | `node tests/js/browser/run.mjs`: every end-to-end case set in headless Chromium (playwright-core) against `pkg/browser.js` |
//! | `explorer` | `node --test tests/explorer/model.test.mjs` (the explorer's pure logic), then `node tests/explorer/run.mjs`: the explorer (`www/`) driven in headless Chromium (playwright-core) against the emulator; screenshots in `test-output/explorer/` |
//! | `types` | `tsc -p tests/types/tsconfig.json`, skipped while that file does not exist |
//! | `package` | `node tests/package/run.mjs`: the packed tarball in a scratch project (Node, Vite + Chromium, esbuild and wrangler Workers in Miniflare) and the Worker examples (see `package.rs`) |
//! | `faults` | `node tests/js/faults/run.mjs`: the fault suites of `tests/js/faults.mjs` in Node, workerd and Chromium against an emulator of their own (figures in `target/faults-figures.json`) |
//! | `fuzz` | every cargo-fuzz target in `fuzz/` for 15 s (see `fuzz.rs`); installs cargo-fuzz when missing |
//!
//! The suites from `wasm-node` to `explorer`, and `package`, talk to a real emulator, built and
//! started once for all of them (`--port 0 --seed demo --script-user
//! sg-test:<random secret>`, output in `target/emulator-test.log`); they find it
//! through `SG_EMULATOR_URL`, `SG_TEST_CLIENT_ID` and `SG_TEST_CLIENT_SECRET`.
//! A second emulator stores uploads itself (`--storage sg`) and is found through
//! `SG_EMULATOR_SG_URL`; both take `--admin-secret` (`SG_ADMIN_SECRET`, for fault
//! injection and checksums of stored files) and `--min-part-size 1048576`, so
//! multipart uploads are tested with 1 MiB parts (the client's 5 MiB floor is lowered
//! per upload with `minPartSize`). The `faults` suite gets a third emulator, started
//! for it alone and stopped after it (`target/emulator-test-faults.log`): its cases turn
//! faults on and expire every token of that site, which must not reach other suites.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::emulator::{self, Emulator, Sink};
use crate::setup::WASM_TARGET;
use crate::util::{self, step, Counts, Outcome};
use crate::Result;

/// The suites, in the order they run.
pub const SUITES: &[&str] = &[
    "lint",
    "size",
    "native-rust",
    "wasm-node",
    "wasm-chromium",
    "js-node",
    "js-workerd",
    "js-chromium",
    "explorer",
    "types",
    "package",
    "faults",
    "fuzz",
];

/// Suites that need the emulator running.
const NEEDS_EMULATOR: &[&str] = &[
    "wasm-node",
    "wasm-chromium",
    "js-node",
    "js-workerd",
    "js-chromium",
    "explorer",
    "package",
];

/// Suites that test the built package in `pkg/`.
const NEEDS_PKG: &[&str] = &[
    "size",
    "js-node",
    "js-workerd",
    "js-chromium",
    "explorer",
    "types",
    "package",
    "faults",
];

/// Client id of the script user the emulator is started with.
const TEST_CLIENT_ID: &str = "sg-test";

/// Options of `cargo xtask test`.
#[derive(Debug)]
pub struct Options {
    /// Suites to run; empty means all.
    suites: Vec<String>,
    /// Do not run `setup` first.
    skip_setup: bool,
    /// Kill a suite still running after this long.
    timeout: Duration,
}

impl Options {
    /// Parses `[--suite NAME]... [--skip-setup] [--timeout SECS]`.
    pub fn parse(args: &[String]) -> Result<Options> {
        let mut opts = Options {
            suites: Vec::new(),
            skip_setup: false,
            timeout: Duration::from_secs(1200),
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f, Some(v.to_owned())),
                _ => (arg.as_str(), None),
            };
            let mut value = || {
                inline
                    .clone()
                    .or_else(|| args.next().cloned())
                    .ok_or_else(|| format!("{flag} needs a value"))
            };
            match flag {
                "--suite" => {
                    let name = value()?;
                    if !SUITES.contains(&name.as_str()) {
                        return Err(format!(
                            "unknown suite `{name}`; suites: {}",
                            SUITES.join(" ")
                        )
                        .into());
                    }
                    if !opts.suites.contains(&name) {
                        opts.suites.push(name);
                    }
                }
                "--skip-setup" => opts.skip_setup = true,
                "--timeout" => {
                    let secs: u64 = value()?
                        .parse()
                        .map_err(|_| "--timeout takes a number of seconds")?;
                    opts.timeout = Duration::from_secs(secs);
                }
                other => return Err(format!("unknown option `{other}` for test").into()),
            }
        }
        Ok(opts)
    }

    fn selected(&self, suite: &str) -> bool {
        self.suites.is_empty() || self.suites.iter().any(|s| s == suite)
    }
}

/// How one suite ended.
enum Verdict {
    Ok,
    Failed(String),
    Skipped(String),
}

/// One line of the summary.
struct Report {
    name: String,
    verdict: Verdict,
    counts: Counts,
    elapsed: Duration,
}

impl Report {
    fn line(&self) -> String {
        let secs = format!("{:.1}s", self.elapsed.as_secs_f64());
        let counts = self.counts.seen.then(|| {
            format!(
                "{} passed, {} failed",
                self.counts.passed, self.counts.failed
            )
        });
        match (&self.verdict, counts) {
            (Verdict::Ok, Some(c)) => format!("suite {}: ok ({c}) in {secs}", self.name),
            (Verdict::Ok, None) => format!("suite {}: ok in {secs}", self.name),
            (Verdict::Failed(why), Some(c)) => {
                format!("suite {}: FAILED ({why}; {c}) in {secs}", self.name)
            }
            (Verdict::Failed(why), None) => {
                format!("suite {}: FAILED ({why}) in {secs}", self.name)
            }
            (Verdict::Skipped(why), _) => format!("suite {}: skipped ({why})", self.name),
        }
    }
}

/// Runs setup (unless skipped), build, then the selected suites, and prints the
/// summary. Fails when any suite failed.
pub fn run(root: &Path, opts: &Options) -> Result<()> {
    let started = Instant::now();
    if opts.skip_setup {
        println!("skip setup (--skip-setup)");
    } else {
        step("setup");
        crate::setup::run(root).map_err(|e| format!("setup failed: {e}"))?;
    }

    let mut reports = Vec::new();

    step("build");
    let t = Instant::now();
    let built = crate::build::run(root);
    reports.push(Report {
        name: "build".into(),
        verdict: match &built {
            Ok(()) => Verdict::Ok,
            Err(e) => {
                println!("build failed: {e}");
                Verdict::Failed(e.to_string())
            }
        },
        counts: Counts::default(),
        elapsed: t.elapsed(),
    });
    let built = built.is_ok();

    let secret = util::random_alphanumeric(24);
    let admin_secret = util::random_alphanumeric(24);
    let mut emulator: Option<std::result::Result<(Emulator, Emulator), String>> = None;

    for &suite in SUITES {
        if !opts.selected(suite) {
            continue;
        }
        step(&format!("suite {suite}"));
        let t = Instant::now();

        let (verdict, counts) = match commands(root, suite) {
            Err(verdict) => (verdict, Counts::default()),
            Ok(_) if NEEDS_PKG.contains(&suite) && !built => (
                Verdict::Failed("not run: the build failed, pkg/ is missing".into()),
                Counts::default(),
            ),
            // Measured in-process: no command to run.
            Ok(_) if suite == "size" => match crate::size::check(root) {
                Ok(()) => (Verdict::Ok, Counts::default()),
                Err(e) => {
                    println!("{e}");
                    (Verdict::Failed(e.to_string()), Counts::default())
                }
            },
            Ok(commands) => {
                let mut env: Vec<(&str, String)> = Vec::new();
                let mut emulator_error = None;
                // The fault suites get an emulator of their own, stopped after them:
                // their faults and expired tokens must not reach any other suite.
                let mut own_emulator = None;
                if suite == "faults" {
                    match emulator::build(root)
                        .map_err(|e| e.to_string())
                        .and_then(|()| start_emulator(root, &secret, &admin_secret, "faults"))
                    {
                        Ok(emu) => {
                            env.push(("SG_EMULATOR_URL", emu.url.clone()));
                            env.push(("SG_ADMIN_SECRET", admin_secret.clone()));
                            env.push(("SG_TEST_CLIENT_ID", TEST_CLIENT_ID.into()));
                            env.push(("SG_TEST_CLIENT_SECRET", secret.clone()));
                            own_emulator = Some(emu);
                        }
                        Err(e) => emulator_error = Some(e),
                    }
                }
                if NEEDS_EMULATOR.contains(&suite) {
                    match emulator
                        .get_or_insert_with(|| start_emulators(root, &secret, &admin_secret))
                    {
                        Ok((emu, sg)) => {
                            env.push(("SG_EMULATOR_URL", emu.url.clone()));
                            env.push(("SG_EMULATOR_SG_URL", sg.url.clone()));
                            env.push(("SG_ADMIN_SECRET", admin_secret.clone()));
                            env.push(("SG_TEST_CLIENT_ID", TEST_CLIENT_ID.into()));
                            env.push(("SG_TEST_CLIENT_SECRET", secret.clone()));
                        }
                        Err(e) => emulator_error = Some(e.clone()),
                    }
                }
                match emulator_error {
                    Some(e) => (
                        Verdict::Failed(format!("not run: emulator did not start: {e}")),
                        Counts::default(),
                    ),
                    None => {
                        let outcome = run_suite(root, commands, &env, opts.timeout);
                        drop(own_emulator);
                        outcome
                    }
                }
            }
        };
        let report = Report {
            name: suite.into(),
            verdict,
            counts,
            elapsed: t.elapsed(),
        };
        println!("{}", report.line());
        reports.push(report);
    }

    // Stop the emulator before the summary so nothing it prints follows it.
    if let Some(Ok(emus)) = emulator.take() {
        step("stop the emulators");
        drop(emus);
    }

    let passed = reports
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::Ok))
        .count();
    let failed = reports
        .iter()
        .filter(|r| matches!(r.verdict, Verdict::Failed(_)))
        .count();
    step(&format!(
        "summary (suites; {:.1}s in all)",
        started.elapsed().as_secs_f64()
    ));
    for report in &reports {
        println!("{}", report.line());
    }
    println!("{passed} passed, {failed} failed");
    util::flush();
    if failed > 0 {
        // The summary already says everything; exit non-zero without a second message.
        std::process::exit(1);
    }
    Ok(())
}

/// Builds and starts both emulators (s3 storage, then sg storage).
fn start_emulators(
    root: &Path,
    secret: &str,
    admin_secret: &str,
) -> std::result::Result<(Emulator, Emulator), String> {
    emulator::build(root).map_err(|e| e.to_string())?;
    let s3 = start_emulator(root, secret, admin_secret, "s3")?;
    let sg = start_emulator(root, secret, admin_secret, "sg")?;
    Ok((s3, sg))
}

/// Starts an emulator with a fresh script user and `storage` (`s3`, `sg`, or `faults`:
/// s3 storage, for the fault suites alone); its output goes to
/// `target/emulator-test.log` (s3) or `target/emulator-test-<storage>.log`.
fn start_emulator(
    root: &Path,
    secret: &str,
    admin_secret: &str,
    which: &str,
) -> std::result::Result<Emulator, String> {
    let storage = if which == "sg" { "sg" } else { "s3" };
    step(&format!(
        "start the emulator ({which}, --storage {storage})"
    ));
    let log_name = if which == "s3" {
        "emulator-test.log".to_owned()
    } else {
        format!("emulator-test-{which}.log")
    };
    let log_path = util::target_dir(root).join(log_name);
    if let Some(dir) = log_path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let log = File::create(&log_path)
        .map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;
    println!("emulator output: {}", log_path.display());
    let args = [
        "--port".to_owned(),
        "0".to_owned(),
        "--seed".to_owned(),
        "demo".to_owned(),
        "--script-user".to_owned(),
        format!("{TEST_CLIENT_ID}:{secret}"),
        "--storage".to_owned(),
        storage.to_owned(),
        "--admin-secret".to_owned(),
        admin_secret.to_owned(),
        "--min-part-size".to_owned(),
        "1048576".to_owned(),
    ];
    // The secret is on the emulator's command line (visible to local `ps` only);
    // it is a throwaway made for this run.
    Emulator::spawn(root, &args, Sink::Log(log)).map_err(|e| e.to_string())
}

/// Runs one suite's commands; returns its verdict and test counts.
fn run_suite(
    root: &Path,
    commands: Vec<Command>,
    env: &[(&str, String)],
    timeout: Duration,
) -> (Verdict, Counts) {
    let mut counts = Counts::default();
    // Every command runs (lint reports both rustfmt and clippy); the first failure
    // names the suite's verdict.
    let mut failure = None;
    for mut cmd in commands {
        cmd.current_dir(root);
        for (key, value) in env {
            cmd.env(key, value);
        }
        let outcome: Outcome = match util::run_streaming(&mut cmd, timeout) {
            Ok(o) => o,
            Err(e) => {
                failure.get_or_insert_with(|| e.to_string());
                continue;
            }
        };
        counts.passed += outcome.counts.passed;
        counts.failed += outcome.counts.failed;
        counts.seen |= outcome.counts.seen;
        if !outcome.success() && failure.is_none() {
            let program = cmd.get_program().to_string_lossy().into_owned();
            let program = program.rsplit('/').next().unwrap_or_default().to_owned();
            let first = cmd
                .get_args()
                .next()
                .map(|a| a.to_string_lossy().into_owned());
            let what = first.map_or(program.clone(), |a| format!("{program} {a}"));
            failure = Some(match outcome.status {
                _ if outcome.timed_out => format!("{what}: timed out after {}s", timeout.as_secs()),
                Some(status) => format!("{what}: {}", util::describe(status)),
                None => format!("{what}: did not finish"),
            });
        }
    }
    if let Some(why) = failure {
        return (Verdict::Failed(why), counts);
    }
    if counts.failed > 0 {
        // A runner that reported failures but exited 0 still fails its suite.
        return (
            Verdict::Failed(format!("{} tests failed", counts.failed)),
            counts,
        );
    }
    (Verdict::Ok, counts)
}

/// The commands of a suite, or why it cannot run (its test files are missing).
fn commands(root: &Path, suite: &str) -> std::result::Result<Vec<Command>, Verdict> {
    let missing = |what: &str| Verdict::Failed(format!("missing {what}"));
    let cargo = |args: &[&str]| {
        let mut cmd = util::cargo();
        cmd.args(args);
        cmd
    };
    match suite {
        "lint" => Ok(vec![
            cargo(&["fmt", "--all", "--", "--check"]),
            cargo(&[
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ]),
            // The wasm facade (src/js/) is compiled only for wasm32: lint it there too.
            cargo(&[
                "clippy",
                "--target",
                WASM_TARGET,
                "-p",
                "shotgrid-wasm",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ]),
        ]),
        "size" => Ok(Vec::new()),
        "native-rust" => Ok(vec![cargo(&["test", "--workspace"])]),
        "wasm-node" | "wasm-chromium" => {
            let test = if suite == "wasm-node" {
                "wasm_node"
            } else {
                "wasm_browser"
            };
            if !has_test_target(root, test) {
                return Err(missing(&format!("tests/{test}.rs")));
            }
            let mut cmd = cargo(&["test", "--target", WASM_TARGET, "-p", "shotgrid-wasm"]);
            cmd.args(["--test", test]).env(
                "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
                "wasm-bindgen-test-runner",
            );
            if suite == "wasm-chromium" {
                cmd.env("CHROMEDRIVER", "/usr/bin/chromedriver");
                // The runner's defaults (20 s for the whole page, 5 s for chromedriver
                // to start) are tight on a busy 2-core machine; keep a caller's values.
                for (key, default) in [
                    ("WASM_BINDGEN_TEST_TIMEOUT", "300"),
                    ("WASM_BINDGEN_TEST_DRIVER_TIMEOUT", "30"),
                ] {
                    if std::env::var_os(key).is_none() {
                        cmd.env(key, default);
                    }
                }
            }
            Ok(vec![cmd])
        }
        "js-node" => {
            let files = js_test_files(&root.join("tests/js/node"));
            if files.is_empty() {
                return Err(missing("tests/js/node/*.test.mjs"));
            }
            let mut cmd = Command::new("node");
            cmd.arg("--test").args(
                files
                    .iter()
                    .map(|f| f.strip_prefix(root).unwrap_or(f).to_path_buf()),
            );
            Ok(vec![cmd])
        }
        "js-workerd" => {
            if !root.join("tests/js/workerd/run.mjs").is_file() {
                return Err(missing("tests/js/workerd/run.mjs"));
            }
            let mut cmd = Command::new("node");
            cmd.arg("tests/js/workerd/run.mjs");
            Ok(vec![cmd])
        }
        "js-chromium" => {
            if !root.join("tests/js/browser/run.mjs").is_file() {
                return Err(missing("tests/js/browser/run.mjs"));
            }
            let mut cmd = Command::new("node");
            cmd.arg("tests/js/browser/run.mjs");
            Ok(vec![cmd])
        }
        "explorer" => {
            let run = "tests/explorer/run.mjs";
            let unit = "tests/explorer/model.test.mjs";
            for file in [run, unit] {
                if !root.join(file).is_file() {
                    return Err(missing(file));
                }
            }
            let mut unit_cmd = Command::new("node");
            unit_cmd.args(["--test", unit]);
            let mut run_cmd = Command::new("node");
            run_cmd.arg(run);
            Ok(vec![unit_cmd, run_cmd])
        }
        "types" => {
            if !root.join("tests/types/tsconfig.json").is_file() {
                return Err(Verdict::Skipped("no tests/types/tsconfig.json".into()));
            }
            let mut cmd = Command::new(root.join("node_modules/.bin/tsc"));
            cmd.args(["-p", "tests/types/tsconfig.json"]);
            Ok(vec![cmd])
        }
        "package" => crate::package::commands(root).map_err(Verdict::Failed),
        "faults" => {
            if !root.join("tests/js/faults/run.mjs").is_file() {
                return Err(missing("tests/js/faults/run.mjs"));
            }
            let mut cmd = Command::new("node");
            cmd.arg("tests/js/faults/run.mjs");
            Ok(vec![cmd])
        }
        "fuzz" => crate::fuzz::commands(root).map_err(Verdict::Failed),
        other => Err(Verdict::Failed(format!("unknown suite {other}"))),
    }
}

/// Whether Cargo finds an integration test target `name`: `tests/<name>.rs` or
/// `tests/<name>/main.rs`.
fn has_test_target(root: &Path, name: &str) -> bool {
    root.join("tests").join(format!("{name}.rs")).is_file()
        || root.join("tests").join(name).join("main.rs").is_file()
}

/// The node test files of a directory (`*.test.mjs`, `*.test.js`, `*.test.cjs`),
/// sorted; node 20's `--test` does not expand directories or globs itself.
fn js_test_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.is_file()
                && p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                    [".test.mjs", ".test.js", ".test.cjs"]
                        .iter()
                        .any(|ext| n.ends_with(ext))
                })
        })
        .collect();
    files.sort();
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn options() {
        let o = Options::parse(&args(&[
            "--suite",
            "lint",
            "--suite=js-node",
            "--skip-setup",
        ]))
        .unwrap();
        assert_eq!(o.suites, ["lint", "js-node"]);
        assert!(o.skip_setup && o.selected("lint") && !o.selected("types"));
        assert!(Options::parse(&args(&[])).unwrap().selected("types"));
        assert!(Options::parse(&args(&["--suite", "nope"])).is_err());
        assert!(Options::parse(&args(&["--suite"])).is_err());
        assert_eq!(
            Options::parse(&args(&["--timeout", "5"])).unwrap().timeout,
            Duration::from_secs(5)
        );
    }

    #[test]
    fn report_lines() {
        let mut r = Report {
            name: "native-rust".into(),
            verdict: Verdict::Ok,
            counts: Counts {
                passed: 123,
                failed: 0,
                seen: true,
            },
            elapsed: Duration::from_millis(41_230),
        };
        assert_eq!(
            r.line(),
            "suite native-rust: ok (123 passed, 0 failed) in 41.2s"
        );
        r.verdict = Verdict::Failed("cargo test: exit status 101".into());
        assert_eq!(
            r.line(),
            "suite native-rust: FAILED (cargo test: exit status 101; 123 passed, 0 failed) in 41.2s"
        );
    }
}
