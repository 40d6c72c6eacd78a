//! A tiny static file server for the demo (std::net only, 127.0.0.1 only).
//!
//! `/` → `www/index.html`, `/pkg/<path>` → `pkg/<path>`, any other `/<path>` →
//! `www/<path>`; a directory serves its `index.html`. Only GET and HEAD; `..`,
//! backslashes and NUL are rejected; nothing is cached.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::Duration;

use crate::Result;

/// Binds `127.0.0.1:<port>` and serves on background threads; returns the base URL.
pub fn start(root: &Path, port: u16) -> Result<String> {
    let listener = TcpListener::bind(("127.0.0.1", port))
        .map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))?;
    let addr = listener.local_addr()?;
    if !root.join("www/index.html").is_file() {
        println!("warning: www/index.html does not exist yet");
    }
    let root = root.to_path_buf();
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let root = root.clone();
            thread::spawn(move || {
                let _ = handle(&root, stream);
            });
        }
    });
    let url = format!("http://{addr}");
    println!("static server: {url} (www/ at /, pkg/ at /pkg/)");
    Ok(url)
}

/// Answers one request and closes the connection.
fn handle(root: &Path, stream: TcpStream) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    // Drain the headers (bounded): we need none of them.
    let mut header = String::new();
    for _ in 0..100 {
        header.clear();
        if reader.read_line(&mut header)? == 0 || header.trim().is_empty() {
            break;
        }
    }
    let mut stream = stream;
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if method != "GET" && method != "HEAD" {
        return respond(
            &mut stream,
            method,
            "405 Method Not Allowed",
            "text/plain; charset=utf-8",
            b"method not allowed\n",
        );
    }
    let Some(path) = resolve(root, target) else {
        return respond(
            &mut stream,
            method,
            "400 Bad Request",
            "text/plain; charset=utf-8",
            b"bad path\n",
        );
    };
    let path = if path.is_dir() {
        path.join("index.html")
    } else {
        path
    };
    match std::fs::read(&path) {
        Ok(body) => {
            println!("www| {method} {target} 200");
            respond(&mut stream, method, "200 OK", content_type(&path), &body)
        }
        Err(_) => {
            println!("www| {method} {target} 404");
            respond(
                &mut stream,
                method,
                "404 Not Found",
                "text/plain; charset=utf-8",
                b"not found\n",
            )
        }
    }
}

fn respond(
    stream: &mut TcpStream,
    method: &str,
    status: &str,
    content_type: &str,
    body: &[u8],
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes())?;
    if method != "HEAD" {
        stream.write_all(body)?;
    }
    stream.flush()
}

/// Maps a request target to a file under `www/` or `pkg/`; `None` for a path that
/// could escape them.
pub fn resolve(root: &Path, target: &str) -> Option<PathBuf> {
    let path = target.split(['?', '#']).next()?;
    if !path.starts_with('/') {
        return None;
    }
    let decoded = percent_decode(path)?;
    let mut segments = Vec::new();
    for segment in decoded.split('/') {
        match segment {
            "" | "." => {}
            ".." => return None,
            s if s.contains(['\\', '\0']) => return None,
            s => segments.push(s),
        }
    }
    let (mut out, rest) = match segments.split_first() {
        Some((&"pkg", rest)) => (root.join("pkg"), rest),
        Some(_) => (root.join("www"), &segments[..]),
        None => return Some(root.join("www/index.html")),
    };
    for segment in rest {
        out.push(segment);
    }
    Some(out)
}

/// Decodes `%XX` escapes; `None` for a malformed escape or invalid UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The Content-Type for a file name.
pub fn content_type(path: &Path) -> &'static str {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    match ext.to_ascii_lowercase().as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" | "cjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "json" | "map" => "application/json",
        "css" => "text/css; charset=utf-8",
        "ts" => "text/plain; charset=utf-8",
        "md" => "text/markdown; charset=utf-8",
        "txt" => "text/plain; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "mp4" => "video/mp4",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn paths_map_to_www_and_pkg() {
        let root = Path::new("/r");
        assert_eq!(resolve(root, "/").unwrap(), Path::new("/r/www/index.html"));
        assert_eq!(
            resolve(root, "/?site=http://127.0.0.1:8000").unwrap(),
            Path::new("/r/www/index.html")
        );
        assert_eq!(
            resolve(root, "/app.js").unwrap(),
            Path::new("/r/www/app.js")
        );
        assert_eq!(
            resolve(root, "/pkg/shotgrid_wasm_bg.wasm").unwrap(),
            Path::new("/r/pkg/shotgrid_wasm_bg.wasm")
        );
        assert_eq!(
            resolve(root, "/pkg/a%20b/c.js").unwrap(),
            Path::new("/r/pkg/a b/c.js")
        );
    }

    #[test]
    fn escapes_are_rejected() {
        let root = Path::new("/r");
        for bad in [
            "/../etc/passwd",
            "/pkg/../../x",
            "/%2e%2e/x",
            "/a%5c..%5cb",
            "/x%00",
            "/%zz",
            "x",
            "http://h/x",
        ] {
            assert_eq!(resolve(root, bad), None, "{bad}");
        }
    }

    #[test]
    fn content_types() {
        assert_eq!(content_type(Path::new("a.wasm")), "application/wasm");
        assert_eq!(
            content_type(Path::new("a.js")),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(
            content_type(Path::new("a.mjs")),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(
            content_type(Path::new("index.html")),
            "text/html; charset=utf-8"
        );
    }

    #[test]
    fn serves_files_over_http() {
        let root = std::env::temp_dir().join(format!("xtask-serve-{}", std::process::id()));
        std::fs::create_dir_all(root.join("www")).unwrap();
        std::fs::create_dir_all(root.join("pkg")).unwrap();
        std::fs::write(root.join("www/index.html"), "<h1>hi</h1>").unwrap();
        std::fs::write(root.join("pkg/x_bg.wasm"), b"\0asm").unwrap();
        let base = start(&root, 0).unwrap();
        let get = |path: &str| {
            let mut s = TcpStream::connect(base.trim_start_matches("http://")).unwrap();
            write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).unwrap();
            out
        };
        let index = get("/?site=x");
        assert!(index.starts_with("HTTP/1.1 200 OK\r\n"), "{index}");
        assert!(index.contains("text/html") && index.ends_with("<h1>hi</h1>"));
        assert!(get("/pkg/x_bg.wasm").contains("Content-Type: application/wasm\r\n"));
        assert!(get("/missing.js").starts_with("HTTP/1.1 404"));
        assert!(get("/../Cargo.toml").starts_with("HTTP/1.1 400"));
        std::fs::remove_dir_all(&root).unwrap();
    }
}
