// Runs the cases of bench/cases.mjs inside headless Chromium (Debian's /usr/bin/chromium
// driven by playwright-core, never a downloaded browser), against the package's browser
// entry. A tiny static server on 127.0.0.1 serves pkg/ and bench/; the page fetches the
// emulator cross-origin (the emulator allows any origin and caches preflights).
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { launchChromium, serveStatic } from "../tests/js/chromium.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/**
 * Starts the server and the browser; `run(name, ...args)` calls `cases[name](ctx, ...args)`
 * in the page (ctx = { ShotGrid, env, fetch } of the page) and returns its result.
 */
export async function openChromium(env) {
  const server = await serveStatic(root, (rel) => rel.startsWith("pkg/") || rel === "bench/cases.mjs", { "/": "<!doctype html><meta charset=utf-8><title>bench</title>" });
  const origin = server.origin;
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
        void server.close();
      },
    };
  } catch (err) {
    await browser?.close();
    void server.close();
    throw err;
  }
}
