//! Starting and stopping the `shotgrid-emulator` binary for the tests and the demo.
//!
//! The emulator is spawned with `--exit-with-stdin` and a stdin pipe that only we
//! hold: whatever way xtask ends (return, panic, Ctrl-C, even SIGKILL), the pipe
//! closes and the emulator exits by itself, so no orphan survives. [`Emulator`]'s
//! `Drop` also kills it outright.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::util::{self, run, step};
use crate::Result;

/// The line the emulator prints first, followed by its base URL.
const LISTENING: &str = "shotgrid-emulator listening on ";

/// How long the emulator may take to print its listening line.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Where the emulator's output goes after its first line.
pub enum Sink {
    /// Appended to a log file (the tests: output stays readable).
    Log(File),
    /// Relayed to our terminal, prefixed with `emulator| ` (the demo).
    Terminal,
}

/// A running emulator; killed when dropped.
pub struct Emulator {
    child: Child,
    stdin: Option<ChildStdin>,
    /// Its base URL, e.g. `http://127.0.0.1:8000`.
    pub url: String,
    /// Its stdout lines after the listening line (for the demo's credentials).
    pub lines: Receiver<String>,
}

/// `cargo build --release -p shotgrid-emulator`.
pub fn build(root: &Path) -> Result<()> {
    step("build the emulator (release)");
    run(util::cargo()
        .args(["build", "--release", "-p", "shotgrid-emulator"])
        .current_dir(root))
}

impl Emulator {
    /// Spawns `target/release/shotgrid-emulator --exit-with-stdin <args>` and waits for
    /// its `shotgrid-emulator listening on <url>` line.
    pub fn spawn(root: &Path, args: &[String], sink: Sink) -> Result<Emulator> {
        let bin = util::target_dir(root).join("release/shotgrid-emulator");
        let mut cmd = Command::new(&bin);
        cmd.args(args)
            .arg("--exit-with-stdin")
            .current_dir(root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        println!("$ {}", util::show(&cmd));
        util::flush();
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let stdin = child.stdin.take();
        let sink = Arc::new(Mutex::new(sink));

        let (tx, rx) = mpsc::channel();
        if let Some(out) = child.stdout.take() {
            let sink = Arc::clone(&sink);
            drain(out, move |line| {
                write_line(&sink, line, false);
                let _ = tx.send(line.to_owned());
            });
        }
        if let Some(err) = child.stderr.take() {
            let sink = Arc::clone(&sink);
            drain(err, move |line| write_line(&sink, line, true));
        }

        let mut emulator = Emulator {
            child,
            stdin,
            url: String::new(),
            lines: rx,
        };
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match emulator.lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(url) = parse_listening(&line) {
                        emulator.url = url;
                        println!("emulator: listening on {}", emulator.url);
                        return Ok(emulator);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    return Err(format!(
                        "the emulator printed no `{LISTENING}<url>` line within {}s",
                        START_TIMEOUT.as_secs()
                    )
                    .into());
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let status = emulator
                        .child
                        .wait()
                        .map_or_else(|e| e.to_string(), util::describe);
                    return Err(format!("the emulator exited before listening ({status})").into());
                }
            }
        }
    }

    /// `Some(status)` once the emulator has exited.
    pub fn exited(&mut self) -> Option<String> {
        match self.child.try_wait() {
            Ok(Some(status)) => Some(util::describe(status)),
            Ok(None) => None,
            Err(e) => Some(e.to_string()),
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        // Closing stdin asks for a clean exit; give it a moment, then kill.
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The base URL in the emulator's first line.
fn parse_listening(line: &str) -> Option<String> {
    let url = line.trim().strip_prefix(LISTENING)?.trim();
    (url.starts_with("http://") || url.starts_with("https://"))
        .then(|| url.trim_end_matches('/').to_owned())
}

/// Reads a stream line by line on a background thread until it ends.
fn drain(stream: impl Read + Send + 'static, mut each: impl FnMut(&str) + Send + 'static) {
    thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut buf = Vec::new();
        while let Ok(n) = reader.read_until(b'\n', &mut buf) {
            if n == 0 {
                break;
            }
            let line = String::from_utf8_lossy(&buf);
            each(line.trim_end_matches(['\n', '\r']));
            buf.clear();
        }
    });
}

fn write_line(sink: &Mutex<Sink>, line: &str, is_stderr: bool) {
    let Ok(mut sink) = sink.lock() else { return };
    match &mut *sink {
        Sink::Log(file) => {
            let _ = writeln!(file, "{}{line}", if is_stderr { "[stderr] " } else { "" });
        }
        Sink::Terminal if is_stderr => eprintln!("emulator| {line}"),
        Sink::Terminal => {
            println!("emulator| {line}");
            util::flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listening_line() {
        assert_eq!(
            parse_listening("shotgrid-emulator listening on http://127.0.0.1:40123\n").as_deref(),
            Some("http://127.0.0.1:40123")
        );
        assert_eq!(parse_listening("client_id: demo"), None);
        assert_eq!(
            parse_listening("shotgrid-emulator listening on nowhere"),
            None
        );
    }
}
