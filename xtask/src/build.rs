//! `cargo xtask build`: turns the client crate into the npm package in `pkg/`.
//!
//! 1. `cargo build --release --target wasm32-unknown-unknown -p shotgrid-wasm --lib`, with
//!    std rebuilt for size and panics as traps ([`BUILD_STD_ARGS`], [`RELEASE_RUSTFLAGS`])
//! 2. `wasm-bindgen --target web` into `pkg/` (`shotgrid_wasm.js`, `shotgrid_wasm_bg.wasm`, …)
//! 3. `wasm-opt -Oz` from npm binaryen (with `--low-memory-unused`, checked, and
//!    `--converge`), with the wasm features rustc enables by default
//! 4. short import/export/module names (`wasm-opt --minify-imports-and-exports-and-modules`,
//!    producers and target-features sections stripped), the glue rewritten to match
//!    ([`crate::minify`])
//! 5. a smoke check: Node instantiates the optimized module through the glue
//! 6. every file of `pkg-template/` copied over (package.json, README, entry points, .d.ts)
//!
//! `pkg/` is deleted first, so it never holds stale files.

use std::path::Path;
use std::process::Command;

use crate::setup::WASM_TARGET;
use crate::util::{self, step};
use crate::Result;

/// The crate's library name (`shotgrid-wasm` → `shotgrid_wasm`), and so the out-name.
const LIB_NAME: &str = "shotgrid_wasm";

/// The wasm features rustc 1.95 enables by default (LLVM's `generic` CPU). The
/// module's `target_features` section already declares them to wasm-opt; naming
/// them here keeps the module valid for wasm-opt even if that section is ever
/// stripped (`strip = true` drops it: see TOOLCHAIN.md). No other feature is
/// enabled, so wasm-opt cannot introduce one an engine might lack.
pub const WASM_OPT_FEATURES: &[&str] = &[
    "--enable-bulk-memory",
    "--enable-bulk-memory-opt",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-reference-types",
    "--enable-multivalue",
    "--enable-call-indirect-overlong",
];

/// The release .wasm is built with std, core and alloc compiled along with the client
/// (`-Z build-std`, from the `rust-src` component that `cargo xtask setup` installs),
/// so `opt-level = "z"`, LTO and the flags below reach them, with std's
/// `optimize_for_size` algorithms. These are unstable cargo/rustc options, accepted by
/// the stable toolchain under `RUSTC_BOOTSTRAP=1` (as the fuzz suite does). Measured:
/// 136,278 -> 125,582 B gzip; the first build compiles std (~4 min on 2 busy cores).
pub const BUILD_STD_ARGS: &[&str] = &[
    "-Z",
    "build-std=std,panic_abort",
    "-Z",
    "build-std-features=optimize_for_size",
];

/// A panic in the .wasm is a trap (`unreachable`) without formatting a message: the
/// client never panics by design (DESIGN.md principle 2), and under `panic = "abort"`
/// a panic already killed the instance; what this removes is the message formatting,
/// `Location`s and the `Debug` impls panics reach (~10 KB gzip with build-std).
/// `-Zlocation-detail=none` drops the file names, lines and columns that
/// `#[track_caller]` code (`RefCell` borrows, wasm-bindgen's `unwrap_throw`) still
/// embeds for messages that can never be shown (−612 B gzip).
pub const RELEASE_RUSTFLAGS: &str =
    "-Zunstable-options -Cpanic=immediate-abort -Zlocation-detail=none";

/// The release .wasm's own target directory (`<target>/pkg-release`): cargo counts
/// `RUSTC_BOOTSTRAP` in its fingerprints, so building in the shared one would make the
/// emulator's release build and this one recompile each other's host crates (serde
/// derive, syn, …) every time.
fn release_target_dir(root: &Path) -> std::path::PathBuf {
    util::target_dir(root).join("pkg-release")
}

/// Builds `pkg/` and prints the sizes of the .wasm and the JS glue.
pub fn run(root: &Path) -> Result<()> {
    let pkg = root.join("pkg");
    if pkg.exists() {
        step("remove pkg/");
        std::fs::remove_dir_all(&pkg)
            .map_err(|e| format!("cannot remove {}: {e}", pkg.display()))?;
    }

    step("compile the client for wasm32 (release, std rebuilt for size)");
    let target_dir = release_target_dir(root);
    util::run(
        util::cargo()
            .args(["build", "--release", "--target", WASM_TARGET])
            .args(["-p", "shotgrid-wasm", "--lib", "--target-dir"])
            .arg(&target_dir)
            .args(BUILD_STD_ARGS)
            .env("RUSTC_BOOTSTRAP", "1")
            .env("RUSTFLAGS", RELEASE_RUSTFLAGS)
            .current_dir(root),
    )?;

    step("generate JS bindings (wasm-bindgen --target web)");
    let input = target_dir
        .join(WASM_TARGET)
        .join("release")
        .join(format!("{LIB_NAME}.wasm"));
    util::run(
        Command::new("wasm-bindgen")
            .args(["--target", "web", "--out-dir"])
            .arg(&pkg)
            .args(["--out-name", LIB_NAME])
            .arg(&input)
            .current_dir(root),
    )?;

    step("schedule futures with Promise.then, not queueMicrotask");
    patch_microtask(&pkg.join(format!("{LIB_NAME}.js")))?;

    step("optimize for size (wasm-opt -Oz --low-memory-unused --converge, npm binaryen)");
    let wasm = pkg.join(format!("{LIB_NAME}_bg.wasm"));
    let before = file_size(&wasm)?;
    // `--low-memory-unused` lets binaryen fold small constants into load/store offsets
    // (−0.5 KB gzip). Its premise: no data lives in the first KiB, and no address is
    // computed by wrapping around 2^32 into it. `low_memory_is_unused` checks the layout
    // (stack first: the stack pointer starts at its top, every data segment above it);
    // the stack's own bottom KiB is reached only within 1 KiB of the 1 MiB stack
    // overflowing, which traps either way. `--converge` reruns -Oz while it still
    // shrinks the module (−180 B gzip, a few seconds).
    crate::minify::low_memory_is_unused(&std::fs::read(&wasm)?)?;
    util::run(
        Command::new(root.join("node_modules/.bin/wasm-opt"))
            .args(["--low-memory-unused", "-Oz", "--converge"])
            .args(WASM_OPT_FEATURES)
            .arg(&wasm)
            .arg("-o")
            .arg(&wasm)
            .current_dir(root),
    )?;
    println!(
        "wasm-opt: {} -> {}",
        util::bytes(before),
        util::bytes(file_size(&wasm)?)
    );

    step("short import/export names (wasm-opt --minify-imports-and-exports-and-modules)");
    let out = Command::new(root.join("node_modules/.bin/wasm-opt"))
        .args(WASM_OPT_FEATURES)
        .args([
            "--minify-imports-and-exports-and-modules",
            "--strip-producers",
            "--strip-target-features",
        ])
        .arg(&wasm)
        .arg("-o")
        .arg(&wasm)
        .current_dir(root)
        .output()
        .map_err(|e| format!("cannot run wasm-opt: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "wasm-opt (minify) failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    let renamed = crate::minify::apply(&pkg, LIB_NAME, &String::from_utf8_lossy(&out.stdout))?;
    println!(
        "{renamed} names shortened; .wasm now {}",
        util::bytes(file_size(&wasm)?)
    );

    step("check that Node instantiates the optimized module");
    util::run(
        Command::new("node")
            .args(["--input-type=module", "-e", LOAD_CHECK])
            .current_dir(root),
    )?;

    step("copy pkg-template/ into pkg/");
    let template = root.join("pkg-template");
    if template.is_dir() {
        let copied = copy_tree(&template, &pkg)?;
        println!("copied {copied} files");
    } else {
        println!(
            "warning: {} does not exist; pkg/ has only the generated files",
            template.display()
        );
    }

    step("sizes (the `size` suite of `cargo xtask test` checks them against the budget)");
    for m in crate::size::measure(root)? {
        println!("{}", m.line());
    }
    Ok(())
}

/// js-sys's task queue (behind every `future_to_promise` and `JsFuture`) wakes futures
/// through the global `queueMicrotask` when there is one: ~6.5 µs a call in workerd and
/// 1–3 µs in Node (an `AsyncResource` each), where `then` on a resolved promise costs
/// ~0.3 µs and runs the same callback as a microtask too; a read wakes the queue 2–3
/// times. The glue's one call of it is rewritten; the build fails if the glue no
/// longer has exactly one (a wasm-bindgen upgrade must then look again).
fn patch_microtask(glue: &Path) -> Result<()> {
    const FROM: &str = "queueMicrotask(arg0);";
    const TO: &str = "Promise.resolve().then(arg0);";
    let text = std::fs::read_to_string(glue)
        .map_err(|e| format!("cannot read {}: {e}", glue.display()))?;
    let found = text.matches(FROM).count();
    if found != 1 {
        return Err(format!(
            "{}: expected one `{FROM}` in the wasm-bindgen glue, found {found}",
            glue.display()
        )
        .into());
    }
    std::fs::write(glue, text.replacen(FROM, TO, 1))
        .map_err(|e| format!("cannot write {}: {e}", glue.display()).into())
}

/// Imports the glue and instantiates the module synchronously: catches modules that
/// validate but fail at instantiation (e.g. the table errors of an old wasm-opt).
const LOAD_CHECK: &str = r#"
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
const base = pathToFileURL(process.cwd() + "/");
const glue = await import(new URL("pkg/shotgrid_wasm.js", base));
const bytes = readFileSync(new URL("pkg/shotgrid_wasm_bg.wasm", base));
if (!WebAssembly.validate(bytes)) throw new Error("pkg/shotgrid_wasm_bg.wasm does not validate");
glue.initSync({ module: new WebAssembly.Module(bytes) });
console.log(`ok: ${Object.keys(glue).length} exports, instantiated in Node ${process.version}`);
"#;

fn file_size(path: &Path) -> Result<u64> {
    Ok(std::fs::metadata(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .len())
}

/// Copies every file below `from` into `to`, creating directories; files of `from`
/// replace files of the same name in `to`. Returns the number of files copied.
pub fn copy_tree(from: &Path, to: &Path) -> Result<usize> {
    std::fs::create_dir_all(to)?;
    let mut copied = 0;
    let mut entries: Vec<_> = std::fs::read_dir(from)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let src = entry.path();
        let dst = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copied += copy_tree(&src, &dst)?;
        } else {
            std::fs::copy(&src, &dst)
                .map_err(|e| format!("cannot copy {} to {}: {e}", src.display(), dst.display()))?;
            copied += 1;
        }
    }
    Ok(copied)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_tree_is_recursive_and_template_wins() {
        let base = std::env::temp_dir().join(format!("xtask-copy-{}", std::process::id()));
        let (from, to) = (base.join("from"), base.join("to"));
        std::fs::create_dir_all(from.join("sub/deeper")).unwrap();
        std::fs::create_dir_all(&to).unwrap();
        std::fs::write(from.join("package.json"), "template").unwrap();
        std::fs::write(from.join("sub/deeper/x.d.ts"), "x").unwrap();
        std::fs::write(to.join("package.json"), "generated").unwrap();
        std::fs::write(to.join("keep.js"), "keep").unwrap();
        assert_eq!(copy_tree(&from, &to).unwrap(), 2);
        assert_eq!(
            std::fs::read_to_string(to.join("package.json")).unwrap(),
            "template"
        );
        assert_eq!(
            std::fs::read_to_string(to.join("sub/deeper/x.d.ts")).unwrap(),
            "x"
        );
        assert!(to.join("keep.js").exists());
        std::fs::remove_dir_all(&base).unwrap();
    }
}
