//! `cargo xtask demo`: builds the package, starts the emulator seeded with the demo
//! studio and serves the explorer (`www/`) with the package (`pkg/`) beside it.
//!
//! Ctrl-C stops everything: the terminal's SIGINT reaches the emulator too (same
//! process group), and the emulator also exits when our stdin pipe to it closes
//! (`--exit-with-stdin`), which happens however xtask dies.

use std::path::Path;
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

use crate::emulator::{self, Emulator, Sink};
use crate::serve;
use crate::util::step;
use crate::Result;

/// Options of `cargo xtask demo`.
#[derive(Debug)]
pub struct Options {
    /// The emulator's port.
    port: u16,
    /// The static server's port.
    www_port: u16,
}

impl Options {
    /// Parses `[--port N] [--www-port N]`.
    pub fn parse(args: &[String]) -> Result<Options> {
        let mut opts = Options {
            port: 8000,
            www_port: 8080,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) => (f, Some(v.to_owned())),
                None => (arg.as_str(), None),
            };
            let value = inline
                .or_else(|| args.next().cloned())
                .ok_or_else(|| format!("{flag} needs a value"))?;
            let port: u16 = value
                .parse()
                .map_err(|_| format!("{flag}: `{value}` is not a port number"))?;
            match flag {
                "--port" => opts.port = port,
                "--www-port" => opts.www_port = port,
                other => return Err(format!("unknown option `{other}` for demo").into()),
            }
        }
        Ok(opts)
    }
}

/// Runs the demo until Ctrl-C (or until the emulator exits).
pub fn run(root: &Path, opts: &Options) -> Result<()> {
    default_stop_signals();
    step("build");
    crate::build::run(root)?;
    emulator::build(root)?;

    step("start the emulator (demo studio)");
    let args = [
        "--port".to_owned(),
        opts.port.to_string(),
        "--seed".to_owned(),
        "demo".to_owned(),
    ];
    let mut emu = Emulator::spawn(root, &args, Sink::Terminal)?;

    // The demo seed prints `client_id: …` and `client_secret: …` after the
    // listening line; collect them for the banner.
    let mut credentials = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(3);
    while credentials.len() < 2 {
        match emu
            .lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        {
            Ok(line) => {
                let line = line.trim();
                if line.starts_with("client_id:") || line.starts_with("client_secret:") {
                    credentials.push(line.to_owned());
                }
            }
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
        }
    }

    step("serve www/ and pkg/");
    let www_url = serve::start(root, opts.www_port)?;

    println!();
    println!("  explorer:   {www_url}/?site={}", emu.url);
    println!("  emulator:   {}", emu.url);
    if credentials.is_empty() {
        println!("  credentials: (the emulator printed none; see its output above)");
    }
    for line in &credentials {
        println!("  {line}");
    }
    println!();
    println!("Ctrl-C stops the emulator and the server.");

    loop {
        if let Some(status) = emu.exited() {
            return Err(format!("the emulator stopped ({status})").into());
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Gives SIGINT and SIGTERM their default action (terminate). A shell that starts
/// a command in the background sets SIGINT to "ignore", and children inherit that;
/// Ctrl-C or `kill` must still end the demo. When xtask ends, the emulator follows:
/// its stdin pipe closes (`--exit-with-stdin`).
fn default_stop_signals() {
    extern "C" {
        fn signal(signum: i32, handler: usize) -> usize;
    }
    const SIGINT: i32 = 2;
    const SIGTERM: i32 = 15;
    const SIG_DFL: usize = 0;
    // SAFETY: `signal` from the C library std already links; SIG_DFL installs no
    // Rust code as a handler.
    unsafe {
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options() {
        let o =
            Options::parse(&["--port=9000".into(), "--www-port".into(), "9090".into()]).unwrap();
        assert_eq!((o.port, o.www_port), (9000, 9090));
        let o = Options::parse(&[]).unwrap();
        assert_eq!((o.port, o.www_port), (8000, 8080));
        assert!(Options::parse(&["--port".into(), "x".into()]).is_err());
        assert!(Options::parse(&["--nope".into(), "1".into()]).is_err());
    }
}
