// `cargo xtask bench` runs this against a dedicated emulator it started on 127.0.0.1.
// Every figure is a ratio of two variants measured side by side in this run (machines
// are noisy: compare, don't threshold absolute times). Writes bench/RESULTS.md.
import { readFileSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";
import { ShotGrid } from "../pkg/node.js";
import { envFrom } from "../tests/js/scenario.mjs";
import { callOverhead, decode, pagination, rawToken } from "./cases.mjs";
import { inChromium, inWorkerd } from "./runtimes.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const env = envFrom(process.env);
const admin = process.env.SG_ADMIN_SECRET;
const rows = [];
const row = (name, value, goal, pass) => {
  rows.push({ name, value, goal, pass });
  console.log(`${pass === undefined ? "    " : pass ? "ok  " : "MISS"} ${name}: ${value}${goal ? `  (goal ${goal})` : ""}`);
};
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const x = (r) => `${r.toFixed(2)}×`;

async function api(method, p, body, token, type = "application/json") {
  const res = await fetch(`${env.url}${p}`, { method, headers: { authorization: `Bearer ${token}`, "content-type": type, accept: "application/json" }, body: body && JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : null;
}

async function faults(config) {
  const res = await fetch(`${env.url}/_admin/faults`, { method: config ? "POST" : "DELETE", headers: { "x-admin-secret": admin, "content-type": "application/json" }, body: config && JSON.stringify(config) });
  if (!res.ok) throw new Error(`faults: ${res.status} ${await res.text()}`);
}

async function seedShots(token, total) {
  const project = (await api("POST", "/api/v1/entity/projects", { name: "Bench Project" }, token)).data.id;
  const seqs = [];
  for (let i = 0; i < 10; i++) seqs.push((await api("POST", "/api/v1/entity/sequences", { code: `BSQ${i}`, project: { type: "Project", id: project } }, token)).data.id);
  const statuses = ["wtg", "ip", "fin"];
  for (let start = 0; start < total; start += 500) {
    const requests = [];
    for (let i = start; i < Math.min(total, start + 500); i++) {
      requests.push({ request_type: "create", entity: "Shot", data: {
        code: `BENCH_${String(i).padStart(6, "0")}`, description: `Shot ${i} of the benchmark set`,
        sg_status_list: statuses[i % 3], project: { type: "Project", id: project },
        sg_sequence: { type: "Sequence", id: seqs[i % 10] }, sg_cut_in: 1001, sg_cut_out: 1001 + (i % 200), sg_cut_duration: i % 200,
      }, options: { fields: [] } });
    }
    await api("POST", "/api/v1/entity/_batch", { requests }, token);
  }
  return project;
}

console.log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`);

// 1. Size
for (const [file, label, budget] of [["shotgrid_wasm_bg.wasm", ".wasm", 100 * 1024], ["shotgrid_wasm.js", "JS glue (wasm-bindgen)", 15 * 1024]]) {
  const bytes = readFileSync(path.join(root, "pkg", file));
  const gz = gzipSync(bytes, { level: 9 }).length;
  row(`1. size ${label}`, `${kb(bytes.length)} raw, ${kb(gz)} gzip`, `≤ ${kb(budget)} gzip`, gz <= budget);
}
const jsLayer = ["api.js", "errors.js", "node.js", "browser.js", "workerd.js"].reduce((n, f) => n + gzipSync(readFileSync(path.join(root, "pkg", f)), { level: 9 }).length, 0);
row("1. size hand-written JS entries + api.js", `${kb(jsLayer)} gzip (all entries together)`);

const token = await rawToken(env);
const t0 = performance.now();
await seedShots(token, 50_000);
console.log(`seeded 50,000 shots in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
const ctx = { ShotGrid, env, fetch: globalThis.fetch };

// 2. Call overhead
const o = await callOverhead(ctx, 2000);
row("2. call overhead: 2,000 sequential reads by id, throughput ours/raw", `${x(o.ratio)} (ours ${o.oursMs.toFixed(0)} ms, raw ${o.rawMs.toFixed(0)} ms per ${o.calls})`, "≥ 0.9×", o.ratio >= 0.9);

// 3. Decode
const d = await decode(ctx);
row("3. decode: 50,000 Shots × 12 fields, 500/page, speed ours/raw", `${x(d.ratio)} (ours ${d.oursMs.toFixed(0)} ms, raw ${d.rawMs.toFixed(0)} ms, ${d.records} records)`, "≥ 1.0×", d.ratio >= 1.0);

// 4. Pagination under 100 ms latency
await faults({ latency_ms: 100, classes: ["read"] });
try {
  const p = await pagination(ctx, 8);
  const ideal = Math.ceil(p.pages / p.concurrency) * 100;
  row("4. pagination, +100 ms per request: prefetch (8) vs sequential", `${x(p.ratio)} faster (ours ${p.oursMs.toFixed(0)} ms, sequential ${p.rawMs.toFixed(0)} ms, ${p.pages} pages)`, "≥ 5×", p.ratio >= 5);
  row("4. pagination vs ideal ceil(pages/concurrency) × 100 ms", `${x(p.oursMs / ideal)} of ideal ${ideal} ms`, "≤ 1.5×", p.oursMs / ideal <= 1.5);
} finally {
  await faults(null);
}

// 2–4 again in headless Chromium and in workerd (issue 9), same emulator and data.
for (const [label, start] of [["Chromium", inChromium], ["workerd", inWorkerd]]) {
  let rt;
  try {
    rt = await start(root, env);
    const ov = await rt.run("overhead");
    row(`2. call overhead (${label})`, `${x(ov.ratio)} (ours ${ov.oursMs.toFixed(0)} ms, raw ${ov.rawMs.toFixed(0)} ms per ${ov.calls})`, "≥ 0.9×", ov.ratio >= 0.9);
    const dd = await rt.run("decode");
    row(`3. decode (${label})`, `${x(dd.ratio)} (ours ${dd.oursMs.toFixed(0)} ms, raw ${dd.rawMs.toFixed(0)} ms, ${dd.records} records)`, "≥ 1.0×", dd.ratio >= 1.0);
    await faults({ latency_ms: 100, classes: ["read"] });
    try {
      const pp = await rt.run("pagination");
      const ideal = Math.ceil(pp.pages / pp.concurrency) * 100;
      row(`4. pagination +100 ms, prefetch (8) vs sequential (${label})`, `${x(pp.ratio)} faster (ours ${pp.oursMs.toFixed(0)} ms, sequential ${pp.rawMs.toFixed(0)} ms, ${pp.pages} pages); ${x(pp.oursMs / ideal)} of ideal ${ideal} ms`, "≥ 5×, ≤ 1.5× ideal", pp.ratio >= 5 && pp.oursMs / ideal <= 1.5);
    } finally {
      await faults(null);
    }
  } catch (err) {
    row(`2–4 (${label})`, `failed: ${String(err?.message ?? err).split("\n")[0].slice(0, 200)}`, "", false);
  } finally {
    await rt?.close();
  }
}

// 5. Upload (issue 5): measured once uploads land.
row("5. upload 256 MB multipart, concurrency 4 vs 1", "not measured yet (uploads in progress)");

// 6. Batch: 10,000 creates via split batch vs single creates (on Asset, not to disturb Shots)
{
  let requests = 0;
  const counting = (url, init) => { if (!String(url).endsWith("/auth/access_token")) requests += 1; return globalThis.fetch(url, init); };
  const sg = await ShotGrid.connect({ site: env.url, auth: { grant: "client_credentials", clientId: env.clientId, clientSecret: env.clientSecret }, fetch: counting, batchLimit: 100 });
  const n = 10_000;
  const data = (i, tag) => ({ code: `BA_${tag}_${i}`, project: { type: "Project", id: 1 } });
  let start = performance.now();
  const proj = await sg.create("Project", { name: "Batch bench" });
  const mk = (i, tag) => ({ code: `BA_${tag}_${i}`, project: { type: "Project", id: proj.id } });
  requests = 0;
  start = performance.now();
  await sg.batch(Array.from({ length: n }, (_, i) => ({ request_type: "create", entity: "Asset", data: mk(i, "b"), options: { fields: [] } })), { split: true });
  const batchMs = performance.now() - start;
  const batchRequests = requests;
  requests = 0;
  start = performance.now();
  for (let i = 0; i < n; i++) await sg.create("Asset", mk(i, "s"), { fields: ["code"] });
  const singleMs = performance.now() - start;
  void data;
  row("6. batch: 10,000 creates, chunked batch vs single creates", `${batchRequests} vs ${requests} requests; ${x(singleMs / batchMs)} faster (${batchMs.toFixed(0)} ms vs ${singleMs.toFixed(0)} ms)`);
}

// 7. Cold start in workerd: instantiate + first request, ours vs a raw-fetch Worker.
{
  const bindings = { SG_EMULATOR_URL: env.url, SG_TEST_CLIENT_ID: env.clientId, SG_TEST_CLIENT_SECRET: env.clientSecret };
  const start = async (script) => {
    const t = performance.now();
    const mf = new Miniflare({ modules: true, modulesRoot: root, scriptPath: path.join(root, script), compatibilityDate: "2025-01-01", bindings,
      modulesRules: [{ type: "ESModule", include: ["**/*.js", "**/*.mjs"] }, { type: "CompiledWasm", include: ["**/*.wasm"] }] });
    const res = await mf.dispatchFetch("http://localhost/");
    const text = await res.text();
    const ms = performance.now() - t;
    await mf.dispose();
    if (!res.ok) throw new Error(`${script}: ${res.status} ${text.slice(0, 300)}`);
    return ms;
  };
  const ours = [];
  const raw = [];
  for (let i = 0; i < 3; i++) {
    ours.push(await start("bench/workers/ours.mjs"));
    raw.push(await start("bench/workers/raw.mjs"));
  }
  const med = (a) => [...a].sort((p, q) => p - q)[1];
  row("7. cold start in workerd (start + first request): ours vs raw-fetch Worker", `${med(ours).toFixed(0)} ms vs ${med(raw).toFixed(0)} ms (${x(med(ours) / med(raw))})`);
}

const md = [
  "# Benchmark results",
  "",
  "Measured by `cargo xtask bench` (emulator on 127.0.0.1, Node runtime unless noted). Each",
  "line compares variants run side by side in the same run; absolute times vary with the",
  "machine, ratios are what to compare.",
  "",
  `Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, ${os.platform()} ${os.release()}, Node ${process.version}. Date: ${new Date().toISOString().slice(0, 10)}.`,
  "",
  "| | measurement | result | goal |",
  "|---|---|---|---|",
  ...rows.map((r) => `| ${r.pass === undefined ? "" : r.pass ? "ok" : "miss"} | ${r.name} | ${r.value} | ${r.goal ?? ""} |`),
  "",
];
// The hand-written notes after the table ("## Reading these numbers") are kept.
const resultsPath = path.join(root, "bench/RESULTS.md");
let notes = "";
try {
  const old = readFileSync(resultsPath, "utf8");
  const at = old.indexOf("\n## Reading these numbers");
  if (at >= 0) notes = old.slice(at + 1);
} catch {}
writeFileSync(resultsPath, md.join("\n") + (notes ? `\n${notes}` : ""));
console.log("wrote bench/RESULTS.md");
