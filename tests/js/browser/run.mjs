// Runs every end-to-end case set in headless Chromium (Debian's, driven by
// playwright-core) against the built package's browser entry, pkg/browser.js.
// Serves the repository on 127.0.0.1 with a tiny static server; prints TAP-like lines
// and `# pass N` / `# fail M`; exit code 1 on any failure.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { envFrom } from "../scenario.mjs";
import { launchChromium, serveStatic } from "../chromium.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const env = envFrom(process.env);

const server = await serveStatic(root, (rel) => rel.startsWith("pkg/") || rel.startsWith("tests/js/"));
const origin = server.origin;

const browser = await launchChromium(chromium);
let failed = 1;
try {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.addInitScript((e) => { window.__env = e; }, env);
  await page.goto(`${origin}/tests/js/browser/index.html`);
  await page.waitForFunction(() => window.__results !== undefined, null, { timeout: 30_000 });
  const results = await page.evaluate(() => window.__results);
  for (const r of results) {
    console.log(`${r.ok ? "ok" : "not ok"} - ${r.name}`);
    if (!r.ok) console.log(r.error.split("\n").map((l) => `  # ${l}`).join("\n"));
  }
  for (const e of errors) console.log(`# page error: ${e}`);
  failed = results.filter((r) => !r.ok).length + errors.length;
  console.log(`# pass ${results.length - results.filter((r) => !r.ok).length}`);
  console.log(`# fail ${failed}`);
} catch (err) {
  console.error(err);
} finally {
  await browser.close();
  await server.close();
}
process.exit(failed ? 1 : 0);
