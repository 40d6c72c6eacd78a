//! Running external commands: printing them, capturing their output, streaming it
//! live while scanning for test counts, and killing whole process trees on timeout.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use crate::Result;

/// Prints the heading of a step, e.g. `==> build the wasm crate`.
pub fn step(what: &str) {
    println!("==> {what}");
    flush();
}

/// Prints `skip <what> (present)` for an idempotent step that has nothing to do.
pub fn skip(what: &str) {
    println!("skip {what} (present)");
    flush();
}

/// Flushes stdout so our lines and the children's lines keep their order.
pub fn flush() {
    let _ = std::io::stdout().flush();
}

/// The `cargo` that runs us (cargo sets `$CARGO`), or `cargo` from `PATH`.
pub fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Cargo's target directory: `$CARGO_TARGET_DIR` if set, else `<root>/target`.
pub fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => root.join(dir),
        _ => root.join("target"),
    }
}

/// A shell-like rendering of a command for the log; environment values whose name
/// says they are secret are redacted.
pub fn show(cmd: &Command) -> String {
    let mut out = String::new();
    for (key, value) in cmd.get_envs() {
        let key = key.to_string_lossy();
        let value = match value {
            None => continue,
            Some(_) if is_secret_name(&key) => "<redacted>".into(),
            Some(v) => quote(v),
        };
        out.push_str(&format!("{key}={value} "));
    }
    out.push_str(&quote(cmd.get_program()));
    for arg in cmd.get_args() {
        out.push(' ');
        out.push_str(&quote(arg));
    }
    out
}

/// Whether an environment variable's value must not be printed.
fn is_secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    ["SECRET", "TOKEN", "PASSWORD", "KEY"]
        .iter()
        .any(|word| upper.contains(word))
}

/// Quotes a word for display when it contains characters a shell would split on.
fn quote(word: &OsStr) -> String {
    let s = word.to_string_lossy();
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=,+@%".contains(c))
    {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Runs a command with inherited stdio, printing it first; fails on a non-zero exit.
pub fn run(cmd: &mut Command) -> Result<()> {
    let shown = show(cmd);
    run_shown(cmd, &shown)
}

/// [`run`], printing `shown` instead of the full command line (for long scripts).
pub fn run_shown(cmd: &mut Command, shown: &str) -> Result<()> {
    println!("$ {shown}");
    flush();
    let status = cmd
        .status()
        .map_err(|e| format!("cannot run `{shown}`: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{shown}` failed: {}", describe(status)).into())
    }
}

/// Runs a command quietly and returns its stdout when it exits with status 0;
/// `None` when it cannot be started or fails (used for "is it installed?" checks).
pub fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Describes an exit status briefly: `exit status 101`, `signal 9`.
pub fn describe(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        (None, None) => "unknown exit status".into(),
    }
}

/// Test counts scanned from a test runner's output.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Tests that passed.
    pub passed: u64,
    /// Tests that failed.
    pub failed: u64,
    /// Whether any count line was seen at all.
    pub seen: bool,
}

impl Counts {
    /// Adds the counts of one output line, if it is a summary line of a known runner:
    /// libtest and wasm-bindgen-test-runner (`test result: ok. 3 passed; 0 failed; …`,
    /// one per test binary, summed), node's test runner (`# pass 3` / `# fail 0` with
    /// the TAP reporter, `ℹ pass 3` with the spec reporter), or a plain
    /// `3 passed, 0 failed` line.
    pub fn scan(&mut self, line: &str) {
        // Summary lines start at column 0; indented `# …` lines are TAP diagnostics.
        let line = line.trim_end();
        if let Some(rest) = line.split_once("test result:").map(|(_, r)| r) {
            let passed = number_before(rest, " passed");
            let failed = number_before(rest, " failed");
            if passed.is_some() || failed.is_some() {
                self.add(passed.unwrap_or(0), failed.unwrap_or(0));
            }
            return;
        }
        for prefix in ["# ", "ℹ "] {
            if let Some(rest) = line.strip_prefix(prefix) {
                if let Some(n) = rest.strip_prefix("pass ").and_then(|n| n.parse().ok()) {
                    self.add(n, 0);
                } else if let Some(n) = rest.strip_prefix("fail ").and_then(|n| n.parse().ok()) {
                    self.add(0, n);
                }
                return;
            }
        }
        // A plain closing line: `[word:] N passed, M failed[, K skipped]`.
        let plain = match line.split_once(": ") {
            Some((word, rest)) if !word.contains(' ') => rest,
            _ => line,
        };
        let mut parts = plain.split(", ");
        if let (Some(p), Some(f)) = (parts.next(), parts.next()) {
            let passed = p.strip_suffix(" passed").and_then(|n| n.parse().ok());
            let failed = f.strip_suffix(" failed").and_then(|n| n.parse().ok());
            if let (Some(passed), Some(failed)) = (passed, failed) {
                self.add(passed, failed);
            }
        }
    }

    fn add(&mut self, passed: u64, failed: u64) {
        self.passed += passed;
        self.failed += failed;
        self.seen = true;
    }
}

/// The number written just before `word` in `text` (`"3 passed"` → 3).
fn number_before(text: &str, word: &str) -> Option<u64> {
    let end = text.find(word)?;
    let start = text[..end]
        .rfind(|c: char| !c.is_ascii_digit())
        .map_or(0, |i| i + 1);
    text[start..end].parse().ok()
}

/// What became of a command run by [`run_streaming`].
#[derive(Debug)]
pub struct Outcome {
    /// The exit status, if the command ran to its end.
    pub status: Option<ExitStatus>,
    /// Whether it was killed for running longer than its timeout.
    pub timed_out: bool,
    /// The test counts found in its output.
    pub counts: Counts,
}

impl Outcome {
    /// True when the command exited with status 0 in time.
    pub fn success(&self) -> bool {
        !self.timed_out && self.status.is_some_and(|s| s.success())
    }
}

/// Runs a command, streaming its stdout and stderr live to ours while scanning both
/// for test counts. A command still running after `timeout` is killed together with
/// all of its descendants.
pub fn run_streaming(cmd: &mut Command, timeout: Duration) -> Result<Outcome> {
    println!("$ {}", show(cmd));
    flush();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run `{}`: {e}", show(cmd)))?;
    let (tx, rx) = mpsc::channel();
    if let Some(out) = child.stdout.take() {
        relay(out, tx.clone(), false);
    }
    if let Some(err) = child.stderr.take() {
        relay(err, tx, true);
    }

    let start = Instant::now();
    let (status, timed_out) = loop {
        if let Some(status) = child.try_wait()? {
            break (Some(status), false);
        }
        if start.elapsed() >= timeout {
            println!(
                "xtask: `{}` still running after {}s: killing it and its children",
                show(cmd),
                timeout.as_secs()
            );
            kill_tree(&mut child);
            break (None, true);
        }
        thread::sleep(Duration::from_millis(50));
    };

    // Collect the readers' counts. A grandchild that outlived the command may still
    // hold a pipe open: wait for it a little, not forever.
    let mut counts = Counts::default();
    let deadline = Instant::now() + Duration::from_secs(10);
    for _ in 0..2 {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(c) => {
                counts.passed += c.passed;
                counts.failed += c.failed;
                counts.seen |= c.seen;
            }
            Err(_) => break,
        }
    }
    Ok(Outcome {
        status,
        timed_out,
        counts,
    })
}

/// Copies a child's output stream line by line to our stdout or stderr, scanning
/// each line for counts; sends the counts when the stream ends.
fn relay(stream: impl Read + Send + 'static, done: mpsc::Sender<Counts>, to_stderr: bool) {
    thread::spawn(move || {
        let mut counts = Counts::default();
        let mut reader = BufReader::new(stream);
        let mut line = Vec::new();
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            counts.scan(&String::from_utf8_lossy(&line));
            let written = if to_stderr {
                std::io::stderr().write_all(&line)
            } else {
                let mut out = std::io::stdout().lock();
                out.write_all(&line).and_then(|()| out.flush())
            };
            if written.is_err() {
                break;
            }
        }
        let _ = done.send(counts);
    });
}

/// Kills a child and every process descended from it (found through `/proc`), so a
/// timed-out `cargo test` leaves no test runner, browser driver or browser behind.
pub fn kill_tree(child: &mut Child) {
    let mut pids = descendants(child.id());
    pids.push(child.id());
    if pids.len() > 1 {
        // `sh -c 'kill …'` uses the shell's builtin: no dependency on procps.
        let _ = Command::new("sh")
            .arg("-c")
            .arg(r#"kill -STOP "$@" 2>/dev/null; kill -KILL "$@" 2>/dev/null"#)
            .arg("sh")
            .args(pids.iter().map(u32::to_string))
            .stdin(Stdio::null())
            .status();
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Every process below `root` in the process tree (Linux `/proc`; empty elsewhere).
pub fn descendants(root: u32) -> Vec<u32> {
    let mut parents = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            if let Some(ppid) = parent_from_stat(&stat) {
                parents.push((pid, ppid));
            }
        }
    }
    let mut found = Vec::new();
    let mut frontier = vec![root];
    while let Some(parent) = frontier.pop() {
        for &(pid, ppid) in &parents {
            if ppid == parent && !found.contains(&pid) {
                found.push(pid);
                frontier.push(pid);
            }
        }
    }
    found
}

/// The parent pid in a `/proc/<pid>/stat` line: `pid (comm) state ppid …`, where
/// comm may itself contain spaces and parentheses.
fn parent_from_stat(stat: &str) -> Option<u32> {
    let after_comm = &stat[stat.rfind(')')? + 1..];
    after_comm.split_whitespace().nth(1)?.parse().ok()
}

/// Formats a byte count as `12345 B (12.1 KiB)`.
pub fn bytes(n: u64) -> String {
    let tenths = (n * 10 + 512) / 1024;
    format!("{n} B ({}.{} KiB)", tenths / 10, tenths % 10)
}

/// Size of a file once compressed with `gzip -9` (the `gzip` of every Debian system).
pub fn gzip_size(path: &Path) -> Result<u64> {
    let out = Command::new("gzip")
        .args(["-9", "-c", "--"])
        .arg(path)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run gzip: {e}"))?;
    if !out.status.success() {
        return Err(format!("gzip {} failed", path.display()).into());
    }
    Ok(out.stdout.len() as u64)
}

/// A 64-bit FNV-1a hash, hex-encoded: enough to notice that a lockfile changed.
pub fn fnv1a_hex(data: &[u8]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in data {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

/// `n` random ASCII letters and digits from the kernel's random source.
pub fn random_alphanumeric(n: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut raw = vec![0u8; n];
    let from_kernel = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut raw));
    if from_kernel.is_err() {
        // Fallback: std's randomly keyed hasher, mixed with the clock.
        use std::hash::{BuildHasher, Hasher};
        for (i, byte) in raw.iter_mut().enumerate() {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_usize(i);
            h.write_u128(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos()),
            );
            *byte = h.finish() as u8;
        }
    }
    raw.iter()
        .map(|&b| ALPHABET[usize::from(b) % ALPHABET.len()] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_all(lines: &[&str]) -> Counts {
        let mut c = Counts::default();
        for line in lines {
            c.scan(line);
        }
        c
    }

    #[test]
    fn counts_from_libtest_lines_are_summed() {
        let c = scan_all(&[
            "running 3 tests",
            "test result: ok. 3 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s",
            "test result: FAILED. 10 passed; 2 failed; 1 ignored; 0 measured; 0 filtered out",
        ]);
        assert_eq!((c.passed, c.failed, c.seen), (13, 2, true));
    }

    #[test]
    fn counts_from_node_tap_and_spec() {
        let c = scan_all(&[
            "# tests 5",
            "# suites 0",
            "# pass 4",
            "# fail 1",
            "# skipped 0",
        ]);
        assert_eq!((c.passed, c.failed), (4, 1));
        let c = scan_all(&["ℹ tests 2", "ℹ pass 2", "ℹ fail 0"]);
        assert_eq!((c.passed, c.failed, c.seen), (2, 0, true));
    }

    #[test]
    fn counts_from_plain_line() {
        assert_eq!(scan_all(&["7 passed, 1 failed"]).passed, 7);
        let c = scan_all(&["workerd: 7 passed, 1 failed, 2 skipped"]);
        assert_eq!((c.passed, c.failed), (7, 1));
        assert!(!scan_all(&["nothing here", "# Subtest: x", "ok 1 - x"]).seen);
    }

    #[test]
    fn stat_parent_with_odd_command_names() {
        assert_eq!(parent_from_stat("42 (cargo) S 7 42 42 0"), Some(7));
        assert_eq!(parent_from_stat("43 (a b) (c) R 9 1 1"), Some(9));
        assert_eq!(parent_from_stat("garbage"), None);
    }

    #[test]
    fn secrets_are_redacted_in_shown_commands() {
        let mut cmd = Command::new("node");
        cmd.arg("x y")
            .env("SG_TEST_CLIENT_SECRET", "hunter2")
            .env("SG_EMULATOR_URL", "http://127.0.0.1:1");
        let shown = show(&cmd);
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(
            shown.contains("SG_EMULATOR_URL=http://127.0.0.1:1"),
            "{shown}"
        );
        assert!(shown.ends_with("node 'x y'"), "{shown}");
    }

    #[test]
    fn random_secret_shape() {
        let s = random_alphanumeric(24);
        assert_eq!(s.len(), 24);
        assert!(s.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(s, random_alphanumeric(24));
    }

    #[test]
    fn byte_formatting() {
        assert_eq!(bytes(1024), "1024 B (1.0 KiB)");
        assert_eq!(bytes(0), "0 B (0.0 KiB)");
    }
}
