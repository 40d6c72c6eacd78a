// How every suite and benchmark starts Debian's Chromium (../shared/TOOLCHAIN.md):
// playwright-core with /usr/bin/chromium (or $CHROMIUM), never a downloaded browser, and
// the flags this machine needs (no sandbox as root; no background networking, which the
// closed network refuses).
import http from "node:http";
import { readFile } from "node:fs/promises";
import path from "node:path";

/** Chromium's command-line flags for headless runs here. */
export const CHROMIUM_FLAGS = [
  "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
];

/**
 * Launches headless Chromium with playwright-core's `chromium` browser type.
 * @param {import("playwright-core").BrowserType} chromium
 * @param {import("playwright-core").LaunchOptions} [options] merged over the defaults
 */
export function launchChromium(chromium, options = {}) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    ...options,
    args: [...CHROMIUM_FLAGS, ...(options.args ?? [])],
  });
}

const CONTENT_TYPES = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm", ".json": "application/json" };

/**
 * A static file server on 127.0.0.1 for the pages Chromium loads: serves the files below
 * `root` whose repository-relative path `allowed(rel)` accepts (404 otherwise), and
 * `pages[pathname]` as HTML. Resolves to `{ origin, close }`.
 * @param {string} root
 * @param {(rel: string) => boolean} allowed
 * @param {Record<string, string>} [pages]
 */
export async function serveStatic(root, allowed, pages = {}) {
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    if (Object.hasOwn(pages, url.pathname)) {
      res.writeHead(200, { "content-type": "text/html" }).end(pages[url.pathname]);
      return;
    }
    const rel = path.normalize(decodeURIComponent(url.pathname)).replace(/^\/+/, "");
    const file = path.join(root, rel);
    if (!file.startsWith(root + path.sep) || !allowed(rel)) {
      res.writeHead(404).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { "content-type": CONTENT_TYPES[path.extname(file)] ?? "application/octet-stream" }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { origin: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((resolve) => server.close(resolve)) };
}
