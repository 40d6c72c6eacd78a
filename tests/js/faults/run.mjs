// The fault suites (tests/js/faults.mjs) in Node, workerd (Miniflare) and headless
// Chromium (playwright-core, Debian's Chromium) against the emulator named by
// SG_EMULATOR_URL, which must be one of their own (`cargo xtask test --suite faults`
// starts it): the cases turn on faults and expire every token of that site.
//
// First seeds 20,000 shots in a new project (raw HTTP, before any fault), then runs the
// cases runtime by runtime. Prints `ok`/`not ok` lines with each case's figures, writes
// them to target/faults-figures.json, and ends with `# pass N` / `# fail M`.
// `node tests/js/faults/run.mjs node workerd` runs only the runtimes named.
import { writeFile, mkdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { TOTAL } from "../faults.mjs";
import { launchChromium, serveStatic } from "../chromium.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const env = {
  url: process.env.SG_EMULATOR_URL,
  clientId: process.env.SG_TEST_CLIENT_ID,
  clientSecret: process.env.SG_TEST_CLIENT_SECRET,
  adminSecret: process.env.SG_ADMIN_SECRET,
};
for (const [k, v] of Object.entries(env)) {
  if (!v) {
    console.error(`missing ${k}: run with \`cargo xtask test --suite faults\`, which starts an emulator for it`);
    process.exit(1);
  }
}
const runtimes = process.argv.slice(2).length ? process.argv.slice(2) : ["node", "workerd", "chromium"];

async function api(method, p, body, token) {
  const res = await fetch(`${env.url}${p}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", accept: "application/json" },
    body: body && JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${await res.text()}`);
  return res.json();
}

/** 20,000 shots in a new project, by raw batch requests; returns the project and ids. */
async function seed() {
  const res = await fetch(`${env.url}/api/v1/auth/access_token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
    body: new URLSearchParams({ grant_type: "client_credentials", client_id: env.clientId, client_secret: env.clientSecret }),
  });
  if (!res.ok) throw new Error(`token: ${res.status}`);
  const token = (await res.json()).access_token;
  const projectId = (await api("POST", "/api/v1/entity/projects", { name: `Faults ${Date.now()}` }, token)).data.id;
  const ids = [];
  for (let start = 0; start < TOTAL; start += 500) {
    const requests = [];
    for (let i = start; i < Math.min(TOTAL, start + 500); i++) {
      requests.push({ request_type: "create", entity: "Shot", data: { code: `FAULTS_${String(i).padStart(5, "0")}`, project: { type: "Project", id: projectId } }, options: { fields: [] } });
    }
    const out = await api("POST", "/api/v1/entity/_batch", { requests }, token);
    for (const r of out.data) ids.push(r.id);
  }
  if (new Set(ids).size !== TOTAL) throw new Error(`seeding made ${new Set(ids).size} distinct shots`);
  return { projectId, ids };
}

async function inNode(fullEnv) {
  const { ShotGrid, ShotGridError } = await import("../../../pkg/node.js");
  const { runFaults } = await import("../faults.mjs");
  return runFaults({ ShotGrid, ShotGridError, env: fullEnv, runtime: "node" });
}

async function inWorkerd(fullEnv) {
  const { Miniflare } = await import("miniflare");
  const mf = new Miniflare({
    modules: true,
    modulesRoot: root,
    scriptPath: path.join(root, "tests/js/faults/worker.mjs"),
    modulesRules: [
      { type: "ESModule", include: ["**/*.js", "**/*.mjs"] },
      { type: "CompiledWasm", include: ["**/*.wasm"] },
    ],
    compatibilityDate: "2025-01-01",
    bindings: { FAULT_ENV: JSON.stringify(fullEnv) },
  });
  try {
    const res = await mf.dispatchFetch("http://localhost/run");
    const text = await res.text();
    try {
      return JSON.parse(text);
    } catch {
      throw new Error(`worker answered ${res.status}: ${text.slice(0, 2000)}`);
    }
  } finally {
    await mf.dispose();
  }
}

async function inChromium(fullEnv) {
  const { chromium } = await import("playwright-core");
    const server = await serveStatic(root, (rel) => rel.startsWith("pkg/") || rel.startsWith("tests/js/"));
  const browser = await launchChromium(chromium);
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.addInitScript((e) => { window.__env = e; }, fullEnv);
    await page.goto(`${server.origin}/tests/js/faults/index.html`);
    await page.waitForFunction(() => window.__results !== undefined, null, { timeout: 30_000 });
    const results = await page.evaluate(() => window.__results);
    for (const e of errors) results.push({ name: `page error: ${e}`, ok: false, error: e });
    return results;
  } finally {
    await browser.close();
    await server.close();
  }
}

const run = { node: inNode, workerd: inWorkerd, chromium: inChromium };
let passed = 0;
let failed = 0;
const figures = {};
try {
  const t0 = Date.now();
  const seeded = await seed();
  console.log(`# seeded ${TOTAL} shots in project ${seeded.projectId} in ${Date.now() - t0} ms`);
  const fullEnv = { ...env, ...seeded };
  for (const runtime of runtimes) {
    if (!run[runtime]) throw new Error(`unknown runtime ${runtime} (node, workerd, chromium)`);
    const started = Date.now();
    let results;
    try {
      results = await run[runtime](fullEnv);
    } catch (err) {
      results = [{ name: "runtime did not run the cases", ok: false, error: String(err?.stack ?? err) }];
    }
    figures[runtime] = { ms: Date.now() - started, cases: {} };
    for (const r of results) {
      console.log(`${r.ok ? "ok" : "not ok"} - [${runtime}] ${r.name} (${r.ms ?? "?"} ms)`);
      if (r.ok) console.log(`  # figures ${JSON.stringify(r.figures)}`);
      else console.log(r.error.split("\n").map((l) => `  # ${l}`).join("\n"));
      figures[runtime].cases[r.name] = r.ok ? r.figures : { failed: r.error.split("\n")[0] };
      if (r.ok) passed += 1;
      else failed += 1;
    }
    console.log(`# ${runtime}: ${Date.now() - started} ms`);
  }
} catch (err) {
  console.error(err);
  failed += 1;
}
await mkdir(path.join(root, "target"), { recursive: true });
await writeFile(path.join(root, "target/faults-figures.json"), JSON.stringify(figures, null, 2));
console.log(`# pass ${passed}`);
console.log(`# fail ${failed}`);
process.exit(failed ? 1 : 0);
