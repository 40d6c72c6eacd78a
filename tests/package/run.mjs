// The `package` suite: tests the npm package the way users get it.
//
// 1. `npm pack pkg/` → a tarball; a scratch project under <target>/package-test/project
//    installs it (from the local file: offline) with vite@7 and wrangler@4 from the npm
//    registry (node_modules is kept between runs, so later runs install only the new
//    tarball).
// 2. In that project: a Node ESM script, a Vite-built page in headless Chromium
//    (playwright-core, Debian's chromium), and a Worker bundled by esbuild (workerd
//    condition) and by wrangler (`deploy --dry-run`), run by workerd through Miniflare.
//    Each connects to the emulator and reads.
//    `npx shotgrid-wasm typegen` from the installed bin over the emulator's schema (with
//    custom fields created at run time), the output checked with tsc --strict in the
//    user's TypeScript (typed/), and the untyped type tests still compiling beside it.
// 3. The four examples of examples/cloudflare-worker, bundled the same way and run in
//    Miniflare end to end: signed webhooks from the emulator (single and batched) and
//    forgeries, the dashboard proxy, a real and a malformed AMI post, and two cron runs
//    with writes between them. examples/node-script run with node, and
//    examples/vite-page built by Vite and driven in Chromium (sign in, board, a status
//    change saved).
//
// Prints `ok - name` / `not ok - name` lines and `# pass N` / `# fail M`; exit 1 on any
// failure. Needs SG_EMULATOR_URL, SG_TEST_CLIENT_ID, SG_TEST_CLIENT_SECRET (set by
// `cargo xtask test`).
import { execFileSync } from "node:child_process";
import { createHash, createHmac } from "node:crypto";
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { Miniflare } from "miniflare";
import { chromium } from "playwright-core";
import { launchChromium } from "../js/chromium.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const target = process.env.CARGO_TARGET_DIR ? path.resolve(process.env.CARGO_TARGET_DIR) : path.join(root, "target");
const work = path.join(target, "package-test");
const project = path.join(work, "project");
const env = {
  url: process.env.SG_EMULATOR_URL,
  clientId: process.env.SG_TEST_CLIENT_ID,
  clientSecret: process.env.SG_TEST_CLIENT_SECRET,
};
if (!env.url || !env.clientId || !env.clientSecret) {
  console.error("missing SG_EMULATOR_URL / SG_TEST_CLIENT_ID / SG_TEST_CLIENT_SECRET: run with `cargo xtask test`");
  process.exit(1);
}
const VITE = "vite@7";
const WRANGLER = "wrangler@4";

let passed = 0;
let failed = 0;
function report(name, ok, error) {
  console.log(`${ok ? "ok" : "not ok"} - ${name}`);
  if (!ok && error) console.log(String(error).split("\n").map((l) => `  # ${l}`).join("\n"));
  ok ? passed++ : failed++;
}
async function test(name, fn) {
  try {
    await fn();
    report(name, true);
  } catch (e) {
    report(name, false, e?.stack ?? e);
  }
}
function reportAll(prefix, results) {
  for (const r of results) report(`${prefix}: ${r.name}`, r.ok, r.error);
}
function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const run = (cmd, args, opts = {}) =>
  execFileSync(cmd, args, { cwd: project, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], ...opts });

// ---------------------------------------------------------------- pack and install
function packAndInstall() {
  mkdirSync(work, { recursive: true });
  const packed = JSON.parse(run("npm", ["pack", path.join(root, "pkg"), "--json", "--pack-destination", work], { cwd: work }));
  const files = packed[0].files.map((f) => f.path).sort();
  const tarball = path.join(work, packed[0].filename);
  // A name per content, so npm never confuses two builds of the same version.
  const hash = createHash("sha256").update(readFileSync(tarball)).digest("hex").slice(0, 12);
  const named = path.join(work, `shotgrid-wasm-${hash}.tgz`);
  cpSync(tarball, named);
  for (const f of readdirSync(work)) {
    if (f.startsWith("shotgrid-wasm-") && f.endsWith(".tgz") && path.join(work, f) !== named) rmSync(path.join(work, f));
  }
  // The user's files (copied fresh each run; node_modules stays).
  mkdirSync(project, { recursive: true });
  cpSync(path.join(root, "tests/package/project"), project, { recursive: true });
  if (!existsSync(path.join(project, "package.json"))) {
    writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "scratch", private: true, type: "module" }, null, 2));
  }
  const t = Date.now();
  run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", named, VITE, WRANGLER], {
    env: { ...process.env, npm_config_update_notifier: "false" },
  });
  console.log(`# installed ${path.basename(named)} (+ ${VITE}, ${WRANGLER}) in ${((Date.now() - t) / 1000).toFixed(1)}s`);
  return files;
}

// ---------------------------------------------------------------- bundling for workerd
const projectRequire = (name) => import(pathToFileURL(path.join(project, "node_modules", name, "package.json")).href, { with: { type: "json" } });

async function esbuildWorker(entry, outdir) {
  const esbuild = await import(pathToFileURL(path.join(project, "node_modules/esbuild/lib/main.js")).href);
  rmSync(outdir, { recursive: true, force: true });
  await esbuild.build({
    entryPoints: { index: entry },
    outdir,
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2022",
    // What wrangler does: the workerd/worker conditions, .wasm imported as a module.
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    nodePaths: [path.join(project, "node_modules")],
    loader: { ".wasm": "copy" },
    assetNames: "[name]",
    logLevel: "error",
  });
  return outdir;
}

function wranglerWorker(configDir, outdir) {
  rmSync(outdir, { recursive: true, force: true });
  run(path.join(project, "node_modules/.bin/wrangler"), ["deploy", "--dry-run", "--outdir", outdir], {
    cwd: configDir,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "1", NODE_PATH: path.join(project, "node_modules") },
  });
  return outdir;
}

function miniflare(dir, options = {}) {
  const main = readdirSync(dir).find((f) => f === "index.js") ?? readdirSync(dir).find((f) => f.endsWith(".js"));
  return new Miniflare({
    modules: true,
    modulesRoot: dir,
    scriptPath: path.join(dir, main),
    modulesRules: [
      { type: "ESModule", include: ["**/*.js", "**/*.mjs"] },
      { type: "CompiledWasm", include: ["**/*.wasm"] },
    ],
    compatibilityDate: "2025-01-01",
    ...options,
  });
}

// ---------------------------------------------------------------- raw API (test setup)
let bearer;
async function api(method, p, body) {
  if (!bearer) {
    const r = await fetch(`${env.url}/api/v1/auth/access_token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: new URLSearchParams({ grant_type: "client_credentials", client_id: env.clientId, client_secret: env.clientSecret }),
    });
    bearer = (await r.json()).access_token;
  }
  const r = await fetch(`${env.url}${p}`, {
    method,
    headers: { authorization: `Bearer ${bearer}`, accept: "application/json", ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${p}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function waitFor(what, fn, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(150);
  }
}

const workerBindings = {
  SG_SITE: env.url,
  SG_SCRIPT_NAME: env.clientId,
  SG_SCRIPT_KEY: env.clientSecret,
};

// ---------------------------------------------------------------- main
const started = Date.now();
let files = [];
let installed = false;
await test("npm pack pkg/ and install the tarball into a scratch project", async () => {
  files = packAndInstall();
  installed = true;
});
if (!installed) {
  console.log(`# pass ${passed}\n# fail ${failed}`);
  process.exit(1);
}

await test("the tarball holds the entries, types, README and LICENSE", async () => {
  for (const f of ["package.json", "README.md", "LICENSE", "index.d.ts", "extras.d.ts", "node.js", "browser.js", "workerd.js", "api.js", "extras.js", "errors.js", "shotgrid_wasm.js", "shotgrid_wasm_bg.wasm", "cli.js", "typegen.js"]) {
    assert(files.includes(f), `missing ${f} in ${files.join(", ")}`);
  }
  const pj = (await projectRequire("shotgrid-wasm")).default;
  const dot = pj.exports["."];
  // Import has side effects (the module's init, iterate/events on the prototype): with
  // `sideEffects: false` Rollup (Vite) and esbuild drop them. Only those files say so.
  assert(Array.isArray(pj.sideEffects) && !pj.sideEffects.includes("./shotgrid_wasm.js"), `sideEffects: ${JSON.stringify(pj.sideEffects)}`);
  for (const c of ["types", "workerd", "worker", "browser", "node", "default"]) assert(dot[c], `exports["."].${c}`);
  assert(pj.bin?.["shotgrid-wasm"] === "./cli.js", `bin: ${JSON.stringify(pj.bin)}`);
  assert(Object.keys(dot)[0] === "types", "types comes first in the exports map");
});

await test("Node ESM script (node entry)", async () => {
  const out = run("node", ["node-check.mjs"], { env: { ...process.env } });
  const results = JSON.parse(out.trim().split("\n").pop());
  const bad = results.filter((r) => !r.ok);
  reportAll("node", results);
  assert(bad.length === 0, `${bad.length} node checks failed`);
});

await test("npx shotgrid-wasm typegen: the emulator's schema (with fields made now) → .d.ts that passes tsc --strict", async () => {
  // Custom fields created at run time must show up typed: a list with its valid values,
  // an entity field with its valid types, and the data types the demo schema lacks.
  const custom = [
    ["sg_typegen_grade", "list", "Typegen Grade", [{ property_name: "valid_values", value: ["good", "better", "best"] }]],
    ["sg_typegen_link", "entity", "Typegen Link", [{ property_name: "valid_types", value: ["Sequence", "Asset"] }]],
    ["sg_typegen_budget", "currency", "Typegen Budget", []],
    ["sg_typegen_done", "percent", "Typegen Done", []],
    ["sg_typegen_tc", "timecode", "Typegen TC", []],
    ["sg_typegen_footage", "footage", "Typegen Footage", []],
  ];
  for (const [name, dataType, display, props] of custom) {
    await api("DELETE", `/api/v1/schema/shots/fields/${name}`).catch(() => {});
    const made = await api("POST", "/api/v1/schema/shots/fields", {
      data_type: dataType,
      properties: [{ property_name: "name", value: display }, ...props],
    });
    assert(JSON.stringify(made).includes(name), `created ${JSON.stringify(made).slice(0, 300)}, not ${name}`);
  }
  const out = path.join(project, "typed/shotgrid.d.ts");
  rmSync(out, { force: true });
  // As a user runs it: the bin from the installed tarball, the key in the environment only.
  const { SG_SCRIPT_KEY: _drop, ...rest } = process.env;
  run("npx", ["--no", "shotgrid-wasm", "typegen", "--site", env.url, "--auth", `script:${env.clientId}`, "--out", "typed/shotgrid.d.ts"], {
    env: { ...rest, SG_SCRIPT_KEY: env.clientSecret, npm_config_update_notifier: "false" },
  });
  const text = readFileSync(out, "utf8");
  for (const re of [
    /^export interface Shot \{$/m,
    /^export interface Project \{$/m,
    /^export interface HumanUser \{$/m,
    /^ {2}sg_typegen_grade: "good" \| "better" \| "best" \| null;$/m,
    /^ {2}sg_typegen_link: __sg\.EntityLink<"Asset" \| "Sequence"> \| null;$/m,
    /^ {2}sg_typegen_budget: number \| null;$/m,
    /^ {2}sg_typegen_done: number \| null;$/m,
    /^ {2}sg_typegen_tc: number \| null;$/m,
    /^ {2}sg_typegen_footage: string \| null;$/m,
    /^ {2}code: string \| null;$/m,
    /^ {2}sg_status_list: "[^"]+"( \| "[^"]+")* \| null;$/m,
    /^ {2}project: __sg\.EntityLink(<"Project">)? \| null;$/m,
    /^export interface SiteEntities \{$/m,
    /^ {2}interface EntityMap extends SiteEntities \{\}$/m,
  ]) {
    assert(re.test(text), `${re} not in the generated file:\n${text.slice(0, 1500)}`);
  }
  assert(!text.includes(env.clientSecret), "the key is in the generated file");
  // tsc --strict over the user's code with the generated types; the @ts-expect-error
  // lines in usage.ts fail the check if the records were `any`.
  const tsc = path.join(root, "node_modules/.bin/tsc");
  try {
    run(tsc, ["-p", "typed/tsconfig.json"]);
  } catch (e) {
    throw new Error(`tsc --strict failed:\n${e.stdout}${e.stderr}`);
  }
  // Code written against the untyped API (tests/types) still compiles with the generated
  // map in place: typed records stay assignable to ShotGridRecord.
  const compat = path.join(project, "typed/compat");
  rmSync(compat, { recursive: true, force: true });
  mkdirSync(compat, { recursive: true });
  for (const f of ["usage.ts", "upload.ts", "extras.ts"]) cpSync(path.join(root, "tests/types", f), path.join(compat, f));
  writeFileSync(
    path.join(project, "typed/tsconfig.compat.json"),
    JSON.stringify({ extends: "./tsconfig.json", files: ["shotgrid.d.ts", "compat/usage.ts", "compat/upload.ts", "compat/extras.ts"] }),
  );
  try {
    run(tsc, ["-p", "typed/tsconfig.compat.json"]);
  } catch (e) {
    throw new Error(`the untyped usage no longer compiles with generated types:\n${e.stdout}${e.stderr}`);
  }
});

const browser = await launchChromium(chromium);

function serveDir(dir) {
  const types = { ".html": "text/html", ".js": "text/javascript", ".wasm": "application/wasm", ".json": "application/json" };
  const server = http.createServer((req, res) => {
    const rel = path.normalize(decodeURIComponent(new URL(req.url, "http://x").pathname)).replace(/^\/+/, "") || "index.html";
    const file = path.join(dir, rel);
    if (!file.startsWith(dir + path.sep) || !existsSync(file)) return res.writeHead(404).end();
    res.writeHead(200, { "content-type": types[path.extname(file)] ?? "application/octet-stream" }).end(readFileSync(file));
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

await test("Vite-built page in headless Chromium (browser entry)", async () => {
  const { build } = await import(pathToFileURL(path.join(project, "node_modules/vite/dist/node/index.js")).href);
  const outDir = path.join(project, "web-dist");
  await build({
    root: path.join(project, "web"),
    logLevel: "error",
    configFile: false,
    build: { outDir, emptyOutDir: true, target: "es2022" },
  });
  const assets = readdirSync(path.join(outDir, "assets"));
  assert(assets.some((f) => f.endsWith(".wasm")), `vite emitted no .wasm: ${assets.join(", ")}`);
  const server = await serveDir(outDir);
  try {
    const page = await browser.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(`http://127.0.0.1:${server.address().port}/?env=${encodeURIComponent(JSON.stringify(env))}`);
    await page.waitForFunction(() => window.__results !== undefined, null, { timeout: 30000 });
    const results = await page.evaluate(() => window.__results);
    reportAll("vite+chromium", results);
    assert(errors.length === 0, errors.join("\n"));
    assert(results.every((r) => r.ok), "browser checks failed");
    await page.close();
  } finally {
    server.close();
  }
});

const testBindings = { SG_EMULATOR_URL: env.url, SG_TEST_CLIENT_ID: env.clientId, SG_TEST_CLIENT_SECRET: env.clientSecret };
async function runWorkerScenario(label, dir) {
  const mf = miniflare(dir, { bindings: testBindings });
  try {
    const res = await mf.dispatchFetch("http://localhost/");
    const text = await res.text();
    let results;
    try {
      results = JSON.parse(text);
    } catch {
      throw new Error(`worker answered ${res.status}: ${text.slice(0, 1000)}`);
    }
    reportAll(label, results);
    assert(results.every((r) => r.ok), `${label} checks failed`);
  } finally {
    await mf.dispose();
  }
}

await test("Worker bundled by esbuild (workerd condition) in Miniflare", async () => {
  const dir = await esbuildWorker(path.join(project, "worker/index.js"), path.join(project, "worker-dist/esbuild"));
  await runWorkerScenario("workerd(esbuild)", dir);
});

let wranglerWorks = false;
await test("Worker bundled by wrangler (deploy --dry-run, offline) in Miniflare", async () => {
  const dir = wranglerWorker(path.join(project, "worker"), path.join(project, "worker-dist/wrangler"));
  wranglerWorks = true;
  await runWorkerScenario("workerd(wrangler)", dir);
});

// ---------------------------------------------------------------- the examples
const examples = path.join(root, "examples/cloudflare-worker");
async function bundleExample(name) {
  const out = path.join(project, "examples-dist", name);
  return esbuildWorker(path.join(examples, name, "src/index.js"), out);
}

// Shared fixtures: a project to write into.
const projectId = (await api("GET", "/api/v1/entity/projects?fields=name&page[size]=1")).data[0].id;
const createShot = async (code) =>
  (await api("POST", "/api/v1/entity/shots", { code, project: { type: "Project", id: projectId } })).data.id;

await test("example webhook-receiver: real signed deliveries (single and batched) are verified and acknowledged", async () => {
  const token = "hook-token-" + Math.random().toString(36).slice(2);
  const mf = miniflare(await bundleExample("webhook-receiver"), {
    bindings: { ...workerBindings, SG_WEBHOOK_TOKEN: token },
    host: "127.0.0.1",
    port: 0,
  });
  const hooks = [];
  try {
    const url = new URL("/hook", await mf.ready).href;
    for (const batched of [false, true]) {
      const hook = await api("POST", "/api/v1/webhook/hooks", {
        url,
        name: `package test ${batched ? "batched" : "single"}`,
        entity_types: { Shot: { create: [] } },
        token,
        batch_deliveries: batched,
      });
      hooks.push(hook.data.id);
    }
    const code = `hooked-${Date.now()}`;
    const shotId = await createShot(code);
    for (const hookId of hooks) {
      const delivery = await waitFor(`an acknowledged delivery on hook ${hookId}`, async () => {
        const list = (await api("GET", `/api/v1/webhook/hooks/${hookId}/deliveries`)).data ?? [];
        return list.find((d) => JSON.stringify(d).includes(`handled by webhook-receiver: create Shot ${shotId}`));
      });
      const text = JSON.stringify(delivery);
      assert(/"response_code":\s*200/.test(text) || text.includes('"delivered"'), `delivery not successful: ${text.slice(0, 800)}`);
    }

    // Forgeries: no signature, a malformed one, one made with the wrong token, and a
    // good signature over a different body.
    const body = JSON.stringify({ data: { event_type: "Shotgun_Shot_Change", delivery_id: "forged", operation: "update" }, timestamp: "t" });
    const sign = (key, b) => "sha1=" + createHmac("sha1", key).update(b).digest("hex");
    const cases = [
      ["no signature", {}, body],
      ["malformed signature", { "x-sg-signature": "sha1=xyz" }, body],
      ["wrong token", { "x-sg-signature": sign("not-the-token", body) }, body],
      ["tampered body", { "x-sg-signature": sign(token, body) }, body.replace("update", "delete")],
    ];
    for (const [what, headers, b] of cases) {
      const r = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: b });
      assert(r.status === 401, `${what}: status ${r.status}`);
    }
    // And a correctly signed request made here is accepted (the token is right).
    const ok = await fetch(url, { method: "POST", headers: { "x-sg-signature": sign(token, body) }, body });
    assert(ok.status !== 401, `a correctly signed request got ${ok.status}`);
  } finally {
    for (const id of hooks) await api("DELETE", `/api/v1/webhook/hooks/${id}`).catch(() => {});
    await mf.dispose();
  }
});

await test("example proxy: allowlisted reads work, everything else is refused, no secret reaches the browser", async () => {
  const mf = miniflare(await bundleExample("proxy"), { bindings: workerBindings, host: "127.0.0.1", port: 0 });
  try {
    const base = await mf.ready;
    const bodies = [];
    const call = async (method, p, body) => {
      const r = await fetch(new URL(p, base), { method, headers: body ? { "content-type": "application/json" } : {}, body: body ? JSON.stringify(body) : undefined });
      const text = await r.text();
      bodies.push(text);
      return { status: r.status, text };
    };
    const shots = await call("POST", "/api/find", { entityType: "Shot", fields: ["code"], sort: ["code"], limit: 5 });
    assert(shots.status === 200 && JSON.parse(shots.text).length > 0, `find: ${shots.status} ${shots.text}`);
    const first = JSON.parse(shots.text)[0];
    const one = await call("GET", `/api/read/Shot/${first.id}?fields=code`);
    assert(one.status === 200 && JSON.parse(one.text).code === first.code, `read: ${one.text}`);
    for (const [what, method, p, body, status] of [
      ["entity type not allowed", "POST", "/api/find", { entityType: "HumanUser", fields: ["login"] }, 403],
      ["field not allowed", "POST", "/api/find", { entityType: "Shot", fields: ["sg_secret_notes"] }, 403],
      ["dotted filter into another entity", "POST", "/api/find", { entityType: "Shot", filters: [["project.Project.users", "is", null]] }, 403],
      ["read of a type not allowed", "GET", "/api/read/ApiUser/1", null, 403],
      ["raw API passthrough", "GET", "/api/v1/entity/shots", null, 404],
      ["token endpoint", "POST", "/api/v1/auth/access_token", {}, 404],
      ["write", "POST", "/api/create", { entityType: "Shot", data: {} }, 404],
    ]) {
      const r = await call(method, p, body);
      assert(r.status === status, `${what}: ${r.status} ${r.text}`);
    }
    // The dashboard, loaded in Chromium, lists shots through the proxy.
    const page = await browser.newPage();
    const requests = [];
    page.on("request", (r) => requests.push(r.url()));
    await page.goto(base.href);
    await page.waitForFunction(() => document.getElementById("status").textContent.endsWith("shots"), null, { timeout: 15000 });
    const rows = await page.locator("#rows tr").count();
    assert(rows > 0, "dashboard shows no rows");
    bodies.push(await page.content());
    await page.close();
    assert(requests.every((u) => u.startsWith(base.origin)), `the browser called another host: ${requests.join(", ")}`);
    for (const b of bodies) assert(!b.includes(env.clientSecret), "a response carried the script key");
  } finally {
    await mf.dispose();
  }
});

await test("example action-menu-item: an AMI-shaped post gets the selected records; a malformed one a 400", async () => {
  const mf = miniflare(await bundleExample("action-menu-item"), { bindings: workerBindings });
  try {
    const a = `ami-a-${Date.now()}`;
    const b = `ami-b-${Date.now()}`;
    const ids = [await createShot(a), await createShot(b)];
    const form = new URLSearchParams([
      ["user_id", "1"], ["user_login", "admin"], ["title", "Shots"], ["entity_type", "Shot"],
      ["server_hostname", "127.0.0.1"], ["referrer_path", "/page/1"], ["page_id", "1"],
      ["session_uuid", "0f1e"], ["project_name", "Demo Project"], ["project_id", String(projectId)],
      ["ids", ids.join(",")], ["selected_ids", ids.join(",")],
      ["cols", "code"], ["cols", "sg_status_list"], ["column_display_names", "Shot Code"], ["column_display_names", "Status"],
      ["sort_column", "code"], ["sort_direction", "desc"], ["view", "Default"],
    ]);
    const r = await mf.dispatchFetch("http://localhost/", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: form.toString() });
    const html = await r.text();
    assert(r.status === 200, `status ${r.status}: ${html.slice(0, 500)}`);
    assert(html.includes(a) && html.includes(b), `records missing: ${html.slice(0, 800)}`);
    assert(html.indexOf(b) < html.indexOf(a), "not in the page's sort order (code desc)");
    assert(html.includes("2 Shot record(s) selected by admin"), html.slice(0, 800));

    const multipart = new FormData();
    for (const [k, v] of form) multipart.append(k, v);
    // Encode the multipart body as a browser would (boundary in the content-type).
    const encoded = new Request("http://localhost/", { method: "POST", body: multipart });
    const m = await mf.dispatchFetch("http://localhost/", {
      method: "POST",
      headers: { "content-type": encoded.headers.get("content-type") },
      body: await encoded.arrayBuffer(),
    });
    assert(m.status === 200 && (await m.text()).includes(a), `multipart: ${m.status}`);

    for (const [what, init, field] of [
      ["missing user", { body: "entity_type=Shot&selected_ids=1" }, "form.user_id"],
      ["bad ids", { body: "user_id=1&user_login=a&entity_type=Shot&selected_ids=1,x" }, "form.selected_ids"],
      ["bad entity type", { body: "user_id=1&user_login=a&entity_type=%3Cscript%3E&selected_ids=1" }, "form.entity_type"],
      ["a GET", { method: "GET" }, "request.method"],
      ["JSON body", { body: "{}", headers: { "content-type": "application/json" } }, "request.headers.content-type"],
    ]) {
      const res = await mf.dispatchFetch("http://localhost/", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        ...init,
      });
      const text = await res.text();
      assert(res.status === 400 && text.includes(field), `${what}: ${res.status} ${text.slice(0, 300)}`);
      assert(!text.includes("<script>"), `${what}: unescaped input`);
    }
  } finally {
    await mf.dispose();
  }
});

await test("example event-follower: two cron runs see the writes between them, once, in order", async () => {
  const mf = miniflare(await bundleExample("event-follower"), {
    bindings: { ...workerBindings, SG_ENTITY_TYPES: "Shot" },
    kvNamespaces: ["STATE"],
  });
  try {
    const worker = await mf.getWorker();
    const state = async () => (await mf.dispatchFetch("http://localhost/state")).json();
    const cron = async () => {
      const r = await worker.scheduled({ cron: "*/5 * * * *" });
      assert(r.outcome === "ok", `scheduled outcome ${r.outcome}`);
    };
    await cron(); // first run: starts after the newest event
    const s1 = await state();
    assert(s1.position && s1.log.length === 0, `first run: ${JSON.stringify(s1)}`);

    const codes = [`cron-a-${Date.now()}`, `cron-b-${Date.now()}`];
    const ids = [];
    for (const c of codes) ids.push(await createShot(c));
    await api("PUT", `/api/v1/entity/shots/${ids[0]}`, { description: "changed" });
    await api("POST", "/api/v1/entity/projects", { name: `not followed ${Date.now()}` });

    await cron();
    const s2 = await state();
    const about = (id) => s2.log.filter((e) => e.entity?.id === id && e.entity?.type === "Shot");
    assert(about(ids[0]).length === 2 && about(ids[1]).length === 1, `log: ${JSON.stringify(s2.log)}`);
    assert(s2.log.every((e) => e.event_type.startsWith("Shotgun_Shot_")), "a non-Shot event was handled");
    const seen = s2.log.map((e) => e.id);
    assert(seen.every((id, i) => i === 0 || id > seen[i - 1]), `not in id order: ${seen}`);
    assert(s2.position.lastId > s1.position.lastId, "position did not move");

    await cron(); // nothing new: nothing handled twice
    const s3 = await state();
    assert(s3.log.length === s2.log.length, `repeats: ${JSON.stringify(s3.log)}`);
  } finally {
    await mf.dispose();
  }
});

// examples/node-script and examples/vite-page, run from the installed tarball.
let installedClient;
async function client() {
  if (!installedClient) {
    const { ShotGrid } = await import(pathToFileURL(path.join(project, "node_modules/shotgrid-wasm/node.js")).href);
    installedClient = await ShotGrid.connect({ site: env.url, auth: { grant: "client_credentials", clientId: env.clientId, clientSecret: env.clientSecret } });
  }
  return installedClient;
}
const shotsOf = async (id) => (await client()).find("Shot", [["project", "is", { type: "Project", id }]], { fields: ["code", "sg_status_list"] });

function copyExample(name) {
  const dir = path.join(project, "examples-src", name);
  rmSync(dir, { recursive: true, force: true });
  cpSync(path.join(root, "examples", name), dir, { recursive: true, filter: (src) => !/[\\/](node_modules|dist)$/.test(src) });
  return dir;
}

await test("example node-script: report, create/update/retire, errors, exit 0", async () => {
  const dir = copyExample("node-script");
  const projectName = (await api("GET", `/api/v1/entity/projects/${projectId}?fields=name`)).data.attributes.name;
  const count = (await shotsOf(projectId)).length;
  const out = run("node", ["shot-report.mjs", projectName], {
    cwd: dir,
    env: { ...process.env, SG_SITE: env.url, SG_SCRIPT_NAME: env.clientId, SG_SCRIPT_KEY: env.clientSecret },
  });
  const lines = out.trim().split("\n");
  assert(lines[0] === `connected to ${env.url} (ShotGrid ${(await api("GET", "/api/v1/")).data.shotgun_version})`, lines[0]);
  assert(lines.includes(`project: ${projectName} (#${projectId})`), out);
  assert(lines.includes(`shots: ${count}`), `expected ${count} shots:\n${out}`);
  const id = out.match(/^created Shot #(\d+) script_\w+ \(wtg\)$/m)?.[1];
  assert(id, out);
  assert(lines.includes(`updated Shot #${id} to ip`) && lines.includes(`retired Shot #${id}`), out);
  assert(lines.includes("reading the retired shot: http 404 (code 104)"), out);
  assert(lines.includes("a bad filter is refused before sending: invalid_input at filters[0][1]"), out);
  const retired = await api("GET", `/api/v1/entity/shots/${id}`).then(() => false, (e) => /404/.test(e.message));
  assert(retired, "the created shot was not retired");
  assert(!out.includes(env.clientSecret), "the key is in the output");

  // Without credentials: a clear message and exit 2; a wrong key: exit 1.
  const { SG_SCRIPT_KEY: _k, SG_SITE: _s, ...clean } = process.env;
  for (const [vars, code, message] of [
    [{}, 2, /set SG_SITE, SG_SCRIPT_NAME and SG_SCRIPT_KEY/],
    [{ SG_SITE: env.url, SG_SCRIPT_NAME: env.clientId, SG_SCRIPT_KEY: "not-the-key" }, 1, /^ShotGrid error: auth 40[01]: /m],
  ]) {
    try {
      run("node", ["shot-report.mjs"], { cwd: dir, env: { ...clean, ...vars } });
      throw new Error(`exit 0 with ${JSON.stringify(Object.keys(vars))}`);
    } catch (e) {
      assert(e.status === code && message.test(e.stderr), `exit ${e.status}: ${e.stderr}`);
    }
  }
});

await test("example vite-page: built by Vite, signs in in Chromium, the board matches the site, a status change is saved", async () => {
  const dir = copyExample("vite-page");
  const { build } = await import(pathToFileURL(path.join(project, "node_modules/vite/dist/node/index.js")).href);
  const outDir = path.join(dir, "dist");
  await build({ root: dir, logLevel: "error", configFile: path.join(dir, "vite.config.js"), build: { outDir, emptyOutDir: true } });
  assert(readdirSync(path.join(outDir, "assets")).some((f) => f.endsWith(".wasm")), "vite emitted no .wasm");
  // A shot of our own to move, and the site's own view of the first project.
  const code = `board_${Date.now()}`;
  const shotId = (await api("POST", "/api/v1/entity/shots", { code, project: { type: "Project", id: projectId }, sg_status_list: "wtg" })).data.id;
  const firstProject = await (await client()).findOne("Project", null, { fields: ["name"], sort: ["name"] });
  const server = await serveDir(outDir);
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  try {
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    await page.fill("input[name=site]", env.url);
    await page.fill("input[name=login]", "admin");
    await page.fill("input[name=password]", "wrong-password");
    await page.click("button[type=submit]");
    await page.waitForFunction(() => document.getElementById("status").classList.contains("error"), null, { timeout: 15000 });
    assert(/^auth/.test(await page.textContent("#status")), `bad login: ${await page.textContent("#status")}`);

    await page.fill("input[name=password]", "admin-password-demo");
    await page.click("button[type=submit]");
    await page.waitForFunction(() => /^\d+ shots$/.test(document.getElementById("status").textContent), null, { timeout: 30000 });
    assert((await page.inputValue("input[name=password]")) === "", "the password stays in the form");
    // The first project (by name) is shown: every one of its shots, in its status column.
    assert((await page.inputValue("#project")) === String(firstProject.id), "not the first project");
    await page.selectOption("#project", String(projectId));
    await page.waitForFunction((c) => document.querySelector(`.card .code`) && [...document.querySelectorAll(".card .code")].some((n) => n.textContent === c), code, { timeout: 30000 });
    const site = await shotsOf(projectId);
    const shown = await page.$$eval(".column", (cols) => cols.flatMap((c) => [...c.querySelectorAll(".card")].map((k) => [k.dataset.id, c.dataset.status])));
    assert(shown.length === site.length, `${shown.length} cards for ${site.length} shots`);
    const want = new Map(site.map((s) => [String(s.id), s.sg_status_list ?? ""]));
    for (const [id, status] of shown) assert(want.get(id) === status, `shot ${id} in column ${status}, site says ${want.get(id)}`);

    // Move our shot to "ip": the card moves and the site has it.
    const select = page.locator(`.card[data-id="${shotId}"] select`);
    await select.selectOption("ip");
    await page.waitForFunction((id) => document.querySelector(`.column[data-status="ip"] .card[data-id="${id}"]`), shotId, { timeout: 15000 });
    const saved = (await api("GET", `/api/v1/entity/shots/${shotId}?fields=sg_status_list`)).data.attributes.sg_status_list;
    assert(saved === "ip", `saved status ${saved}`);
    assert(errors.length === 0, errors.join("\n"));
  } finally {
    await page.close();
    server.close();
  }
});

if (wranglerWorks) {
  await test("wrangler bundles every example (deploy --dry-run)", async () => {
    for (const name of ["webhook-receiver", "proxy", "action-menu-item", "event-follower"]) {
      const tmp = path.join(project, "examples-wrangler", name);
      rmSync(tmp, { recursive: true, force: true });
      mkdirSync(tmp, { recursive: true });
      cpSync(path.join(examples, name), tmp, { recursive: true });
      const out = wranglerWorker(tmp, path.join(tmp, "dist"));
      assert(readdirSync(out).some((f) => f.endsWith(".wasm")), `${name}: no .wasm module in ${readdirSync(out)}`);
    }
  });
}

await browser.close();
console.log(`# package suite took ${((Date.now() - started) / 1000).toFixed(1)}s`);
console.log(`# pass ${passed}`);
console.log(`# fail ${failed}`);
process.exit(failed ? 1 : 0);
