// Runs benchmark cases 2–4 (bench/cases.mjs) in headless Chromium (Debian's, driven by
// playwright-core; never a downloaded browser) and in workerd (Miniflare), against the
// same emulator as the Node run. Each returns a runner `(name) => Promise<result>` and
// a `close()`.
import http from "node:http";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { Miniflare } from "miniflare";
import { chromium } from "playwright-core";

const TYPES = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm" };

/** Chromium: a page served from 127.0.0.1 imports pkg/browser.js and bench/cases.mjs. */
export async function inChromium(root, env) {
  const server = http.createServer(async (req, res) => {
    const rel = path.normalize(decodeURIComponent(new URL(req.url, "http://x").pathname)).replace(/^\/+/, "");
    if (rel === "" || rel === ".") return res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><title>bench</title>");
    const file = path.join(root, rel);
    if (!file.startsWith(root + path.sep) || !(rel.startsWith("pkg/") || rel.startsWith("bench/"))) return res.writeHead(404).end();
    try {
      res.writeHead(200, { "content-type": TYPES[path.extname(file)] ?? "application/octet-stream" }).end(await readFile(file));
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
  });
  const page = await browser.newPage();
  await page.goto(`${origin}/`);
  const run = (name) => page.evaluate(async ({ name, origin, env }) => {
    const { ShotGrid } = await import(`${origin}/pkg/browser.js`);
    const cases = await import(`${origin}/bench/cases.mjs`);
    const ctx = { ShotGrid, env, fetch: globalThis.fetch.bind(globalThis) };
    if (name === "overhead") return cases.callOverhead(ctx, 2000);
    if (name === "decode") return cases.decode(ctx);
    return cases.pagination(ctx, 8);
  }, { name, origin, env });
  return { run, close: async () => { await browser.close(); server.close(); } };
}

/** workerd: bench/workers/cases.mjs in Miniflare, one request per case. */
export async function inWorkerd(root, env) {
  const mf = new Miniflare({
    modules: true, modulesRoot: root, scriptPath: path.join(root, "bench/workers/cases.mjs"), compatibilityDate: "2025-01-01",
    bindings: { SG_EMULATOR_URL: env.url, SG_TEST_CLIENT_ID: env.clientId, SG_TEST_CLIENT_SECRET: env.clientSecret },
    modulesRules: [{ type: "ESModule", include: ["**/*.js", "**/*.mjs"] }, { type: "CompiledWasm", include: ["**/*.wasm"] }],
  });
  const run = async (name) => {
    const res = await mf.dispatchFetch(`http://localhost/?case=${name}`);
    const text = await res.text();
    if (!res.ok) throw new Error(`workerd ${name}: ${res.status} ${text.slice(0, 500)}`);
    return JSON.parse(text);
  };
  return { run, close: () => mf.dispose() };
}
