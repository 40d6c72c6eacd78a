//! The `package` suite: the npm package tested as users get it (`tests/package/run.mjs`).
//!
//! `npm pack pkg/`, install the tarball into a scratch project under
//! `<target>/package-test/project` (with vite@7 and wrangler@4 from the npm registry;
//! its node_modules is kept between runs), then a Node ESM script, a Vite-built page in
//! headless Chromium, a Worker bundled by esbuild and by wrangler in Miniflare,
//! `npx shotgrid-wasm typegen` checked with `tsc --strict`, the four
//! `examples/cloudflare-worker` Workers, `examples/node-script` and
//! `examples/vite-page`, all end to end against the emulator.

use std::path::Path;
use std::process::Command;

/// The suite's commands, or why it cannot run.
pub fn commands(root: &Path) -> Result<Vec<Command>, String> {
    let script = root.join("tests/package/run.mjs");
    if !script.is_file() {
        return Err("missing tests/package/run.mjs".into());
    }
    let mut cmd = Command::new("node");
    cmd.arg("tests/package/run.mjs")
        // The scratch project lives under the same target directory as the build.
        .env("CARGO_TARGET_DIR", crate::util::target_dir(root));
    Ok(vec![cmd])
}
