// Runs the cases of bench/cases.mjs inside headless Chromium (Debian's /usr/bin/chromium
// driven by playwright-core, never a downloaded browser), against the package's browser
// entry. A tiny static server on 127.0.0.1 serves pkg/ and bench/; the page fetches the
// emulator cross-origin (the emulator allows any origin and caches preflights).
import http from "node:http";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { launchChromium } from "../tests/js/chromium.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const types = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm" };

/**
 * Starts the server and the browser; `run(name, ...args)` calls `cases[name](ctx, ...args)`
 * in the page (ctx = { ShotGrid, env, fetch } of the page) and returns its result.
 */
export async function openChromium(env) {
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, "http://x");
    if (url.pathname === "/") {
      res.writeHead(200, { "content-type": "text/html" }).end("<!doctype html><meta charset=utf-8><title>bench</title>");
      return;
    }
    const rel = path.normalize(decodeURIComponent(url.pathname)).replace(/^\/+/, "");
    const file = path.join(root, rel);
    if (!file.startsWith(root + path.sep) || !(rel.startsWith("pkg/") || rel === "bench/cases.mjs")) {
      res.writeHead(404).end();
      return;
    }
    try {
      const body = await readFile(file);
      res.writeHead(200, { "content-type": types[path.extname(file)] ?? "application/octet-stream" }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  let browser;
  try {
    browser = await launchChromium(chromium);
    const page = await browser.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(origin);
    const version = browser.version();
    return {
      runtime: `Chromium ${version}`,
      async run(name, ...args) {
        const out = await page.evaluate(async ([name, args, env]) => {
          const { ShotGrid } = await import("/pkg/browser.js");
          const cases = await import("/bench/cases.mjs");
          return cases[name]({ ShotGrid, env, fetch: globalThis.fetch.bind(globalThis) }, ...args);
        }, [name, args, env]);
        if (errors.length) throw new Error(`page errors: ${errors.join("; ")}`);
        return out;
      },
      async close() {
        await browser.close();
        server.close();
      },
    };
  } catch (err) {
    await browser?.close();
    server.close();
    throw err;
  }
}
