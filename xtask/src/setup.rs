//! `cargo xtask setup`: installs everything the build and the tests need, checking
//! each piece first so that a second run takes seconds. The facts behind each step
//! (what works on this machine kind, what does not) are in `shared/TOOLCHAIN.md`.

use std::path::Path;
use std::process::Command;

use crate::util::{self, skip, step};
use crate::Result;

/// The Rust target the client is compiled for.
pub const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// Where `npm ci` records the hash of the package-lock.json it installed.
const LOCK_HASH_FILE: &str = "node_modules/.xtask-lock-hash";

/// Runs every setup step in order.
pub fn run(root: &Path) -> Result<()> {
    rust_components()?;
    wasm_target()?;
    wasm_bindgen_cli(root)?;
    npm_packages(root)?;
    wasm_opt(root)?;
    chromium()?;
    println!("setup: done");
    Ok(())
}

/// rustfmt and clippy, used by the `lint` suite; rust-src, from which `cargo xtask
/// build` compiles std for the .wasm (`build::BUILD_STD_ARGS`).
fn rust_components() -> Result<()> {
    let installed = util::output(Command::new("rustup").args(["component", "list", "--installed"]))
        .unwrap_or_default();
    // Listed as `clippy-x86_64-unknown-linux-gnu`, but `rust-src` without a target.
    let missing: Vec<&str> = ["rustfmt", "clippy", "rust-src"]
        .into_iter()
        .filter(|c| {
            !installed
                .lines()
                .any(|l| l.trim() == *c || l.starts_with(&format!("{c}-")))
        })
        .collect();
    if missing.is_empty() {
        skip("rustup components rustfmt, clippy, rust-src");
        return Ok(());
    }
    step(&format!("install rustup components {}", missing.join(", ")));
    util::run(
        Command::new("rustup")
            .args(["component", "add"])
            .args(&missing),
    )
}

/// `rustup target add wasm32-unknown-unknown`.
fn wasm_target() -> Result<()> {
    let installed = util::output(Command::new("rustup").args(["target", "list", "--installed"]))
        .unwrap_or_default();
    if installed.lines().any(|l| l.trim() == WASM_TARGET) {
        skip(&format!("rust target {WASM_TARGET}"));
        return Ok(());
    }
    step(&format!("install rust target {WASM_TARGET}"));
    util::run(Command::new("rustup").args(["target", "add", WASM_TARGET]))
}

/// wasm-bindgen-cli (with wasm-bindgen-test-runner) at exactly the version of the
/// `wasm-bindgen` crate in Cargo.lock: the CLI refuses modules from another version.
fn wasm_bindgen_cli(root: &Path) -> Result<()> {
    let want = wasm_bindgen_version(root)?;
    let have = installed_wasm_bindgen_version();
    if have.as_deref() == Some(want.as_str()) {
        skip(&format!("wasm-bindgen-cli {want}"));
        return Ok(());
    }
    step(&format!(
        "install wasm-bindgen-cli {want} (found {}); takes ~5 minutes",
        have.as_deref().unwrap_or("none")
    ));
    // No `--locked`: the CLI's own lockfile names crate versions the registry
    // mirror here does not have yet (see shared/TOOLCHAIN.md).
    util::run(util::cargo().args(["install", "wasm-bindgen-cli", "--version", &want, "--force"]))?;
    match installed_wasm_bindgen_version() {
        Some(v) if v == want => Ok(()),
        other => Err(format!(
            "after installing wasm-bindgen-cli {want}, `wasm-bindgen --version` reports {other:?}: \
             is ~/.cargo/bin first on PATH?"
        )
        .into()),
    }
}

/// The version printed by `wasm-bindgen --version` (`wasm-bindgen 0.2.130`).
fn installed_wasm_bindgen_version() -> Option<String> {
    let out = util::output(Command::new("wasm-bindgen").arg("--version"))?;
    out.split_whitespace().nth(1).map(str::to_owned)
}

/// The version of the `wasm-bindgen` package recorded in `<root>/Cargo.lock`.
pub fn wasm_bindgen_version(root: &Path) -> Result<String> {
    let path = root.join("Cargo.lock");
    let lock = std::fs::read_to_string(&path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    locked_version(&lock, "wasm-bindgen").ok_or_else(|| {
        format!(
            "no `wasm-bindgen` package in {}: is wasm-bindgen a dependency of the client?",
            path.display()
        )
        .into()
    })
}

/// Finds `version` of the `[[package]]` whose `name` is exactly `name` in a
/// Cargo.lock (so `wasm-bindgen` never matches `wasm-bindgen-shared`). With several
/// versions locked, the highest is returned.
pub fn locked_version(lock: &str, name: &str) -> Option<String> {
    let mut best: Option<String> = None;
    for package in lock.split("[[package]]").skip(1) {
        let mut this_name = None;
        let mut version = None;
        for line in package.lines() {
            let line = line.trim();
            if line.starts_with('[') {
                break; // a following table such as [metadata]
            }
            if let Some((key, value)) = line.split_once('=') {
                let value = value.trim().trim_matches('"');
                match key.trim() {
                    "name" => this_name = Some(value),
                    "version" => version = Some(value),
                    _ => {}
                }
            }
        }
        if let (Some(n), Some(v)) = (this_name, version) {
            if n == name
                && best
                    .as_deref()
                    .is_none_or(|b| version_key(v) > version_key(b))
            {
                best = Some(v.to_owned());
            }
        }
    }
    best
}

/// A sort key for `major.minor.patch` versions.
fn version_key(v: &str) -> Vec<u64> {
    v.split(['.', '-', '+'])
        .map(|part| part.parse().unwrap_or(0))
        .collect()
}

/// `npm ci` at the repository root, skipped while node_modules was installed from
/// the current package-lock.json (its hash is recorded in node_modules).
fn npm_packages(root: &Path) -> Result<()> {
    let lock_path = root.join("package-lock.json");
    let lock = std::fs::read(&lock_path)
        .map_err(|e| format!("cannot read {}: {e}", lock_path.display()))?;
    let hash = util::fnv1a_hex(&lock);
    let recorded = std::fs::read_to_string(root.join(LOCK_HASH_FILE)).unwrap_or_default();
    if recorded.trim() == hash && root.join("node_modules/.package-lock.json").exists() {
        skip("npm packages (node_modules matches package-lock.json)");
        return Ok(());
    }
    if util::output(Command::new("npm").arg("--version")).is_none() {
        return Err("npm not found: install Node.js 20 or newer with npm".into());
    }
    step("install npm dev tools (npm ci)");
    util::run(
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(root),
    )?;
    std::fs::write(root.join(LOCK_HASH_FILE), format!("{hash}\n"))?;
    Ok(())
}

/// wasm-opt comes from npm `binaryen` (Debian's is too old: its -Oz output crashes).
fn wasm_opt(root: &Path) -> Result<()> {
    let bin = root.join("node_modules/.bin/wasm-opt");
    match util::output(Command::new(&bin).arg("--version")) {
        Some(version) => {
            skip(&format!("wasm-opt from npm binaryen: {}", version.trim()));
            Ok(())
        }
        None => Err(format!(
            "{} does not run: `binaryen` must be in package.json devDependencies",
            bin.display()
        )
        .into()),
    }
}

/// Debian's chromium and chromium-driver, for the headless browser suites. Never
/// let a tool download its own browser: that cannot work here.
fn chromium() -> Result<()> {
    let present = ["/usr/bin/chromium", "/usr/bin/chromedriver"]
        .iter()
        .all(|p| Path::new(p).is_file());
    if present {
        skip("chromium + chromedriver (/usr/bin/chromium, /usr/bin/chromedriver)");
        return Ok(());
    }
    step("install chromium + chromium-driver (apt-get)");
    let sudo = as_root_prefix()?;
    let apt = |args: &[&str]| -> Command {
        let mut cmd = match sudo {
            Some(s) => {
                let mut c = Command::new(s);
                c.arg("apt-get");
                c
            }
            None => Command::new("apt-get"),
        };
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        cmd
    };
    util::run(&mut apt(&["update"]))?;
    util::run(&mut apt(&[
        "install",
        "-y",
        "--no-install-recommends",
        "chromium",
        "chromium-driver",
    ]))
}

/// `None` when we are root, `Some("sudo")` when we are not and sudo exists.
fn as_root_prefix() -> Result<Option<&'static str>> {
    let uid = util::output(Command::new("id").arg("-u")).unwrap_or_default();
    if uid.trim() == "0" {
        return Ok(None);
    }
    if util::output(Command::new("sudo").arg("--version")).is_some() {
        return Ok(Some("sudo"));
    }
    Err("not root and no sudo: install chromium and chromium-driver with apt-get as root".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOCK: &str = r#"
version = 4

[[package]]
name = "wasm-bindgen-cli-support"
version = "0.2.999"

[[package]]
name = "wasm-bindgen"
version = "0.2.130"
source = "registry+https://github.com/rust-lang/crates.io-index"
dependencies = [
 "cfg-if",
]

[[package]]
name = "wasm-bindgen-shared"
version = "0.3.0"
"#;

    #[test]
    fn finds_exact_package_only() {
        assert_eq!(
            locked_version(LOCK, "wasm-bindgen").as_deref(),
            Some("0.2.130")
        );
        assert_eq!(
            locked_version(LOCK, "wasm-bindgen-shared").as_deref(),
            Some("0.3.0")
        );
        assert_eq!(locked_version(LOCK, "wasm"), None);
    }

    #[test]
    fn highest_of_several_versions() {
        let lock = "[[package]]\nname = \"a\"\nversion = \"0.2.9\"\n\n[[package]]\nname = \"a\"\nversion = \"0.2.10\"\n";
        assert_eq!(locked_version(lock, "a").as_deref(), Some("0.2.10"));
    }

    #[test]
    fn repository_lock_has_wasm_bindgen() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let v = wasm_bindgen_version(root).unwrap();
        assert!(v.starts_with("0.2."), "{v}");
    }
}
