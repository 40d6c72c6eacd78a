// `cargo xtask bench` runs this against a dedicated emulator it started on 127.0.0.1.
// Every figure is a ratio of two variants measured side by side in this run (machines
// are noisy: compare, don't threshold absolute times). Cases 2–4 run in Node, then in
// headless Chromium (bench/chromium.mjs) and workerd (bench/workerd.mjs), each side by side
// with raw fetch in the same runtime; case 5 (upload) is bench/upload.mjs. Writes
// bench/RESULTS.md, keeping its hand-written "Reading these numbers" section.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";
import { ShotGrid } from "../pkg/node.js";
import { send } from "../pkg/send.js";
import { envFrom } from "../tests/js/scenario.mjs";
import * as cases from "./cases.mjs";
import { openChromium } from "./chromium.mjs";
import { openWorkerd, workerOptions } from "./workerd.mjs";
import { uploadCase } from "./upload.mjs";

const { rawToken, seedShots } = cases;

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

async function faults(config, url = env.url) {
  const res = await fetch(`${url}/_admin/faults`, { method: config ? "POST" : "DELETE", headers: { "x-admin-secret": admin, "content-type": "application/json" }, body: config && JSON.stringify(config) });
  if (!res.ok) throw new Error(`faults: ${res.status} ${await res.text()}`);
}

/** Runs `fn` with the site's faults set to `config`, cleared after (whatever happens). */
async function withFaults(config, url, fn) {
  await faults(config, url);
  try {
    return await fn();
  } finally {
    await faults(null, url);
  }
}

// Narrow runs while working on one case: BENCH_CASES=2,3,4 (default: all of 1–7) and
// BENCH_RUNTIMES=node,chromium,workerd (cases 2–4; default: all three). A narrowed run prints
// its rows but leaves bench/RESULTS.md alone: that file holds whole runs only.
const wanted = (name, all) => {
  const list = (process.env[name] ?? "").split(",").map((s) => s.trim().toLowerCase()).filter(Boolean);
  for (const item of list) if (!all.includes(item)) throw new Error(`${name}: unknown entry ${JSON.stringify(item)}; expected some of ${all.join(",")}`);
  return list.length ? list : all;
};
const caseList = wanted("BENCH_CASES", ["1", "2", "3", "4", "5", "6", "7"]);
const runtimeList = wanted("BENCH_RUNTIMES", ["node", "chromium", "workerd"]);
const only = (n) => caseList.includes(String(n));
const whole = caseList.length === 7 && runtimeList.length === 3;

console.log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`);

// 1. Size
if (only(1)) for (const [file, label, budget] of [["shotgrid_wasm_bg.wasm", ".wasm", 100 * 1024], ["shotgrid_wasm.js", "JS glue (wasm-bindgen)", 15 * 1024]]) {
  const bytes = readFileSync(path.join(root, "pkg", file));
  const gz = gzipSync(bytes, { level: 9 }).length;
  row(`1. size ${label}`, `${kb(bytes.length)} raw, ${kb(gz)} gzip`, `≤ ${kb(budget)} gzip`, gz <= budget);
}
if (only(1)) {
const jsLayer = ["api.js", "errors.js", "node.js", "browser.js", "workerd.js"].reduce((n, f) => n + gzipSync(readFileSync(path.join(root, "pkg", f)), { level: 9 }).length, 0);
row("1. size hand-written JS entries + api.js", `${kb(jsLayer)} gzip (all entries together)`);
}

// BENCH_SHOTS (narrowed runs only): seed fewer Shots, to iterate on case 2 quickly.
const SHOTS = process.env.BENCH_SHOTS ? Number(process.env.BENCH_SHOTS) : 50_000;
if (!Number.isInteger(SHOTS) || SHOTS < 1 || (whole && SHOTS !== 50_000)) throw new Error(`BENCH_SHOTS: a positive integer, and only in a narrowed run (got ${process.env.BENCH_SHOTS})`);
const token = await rawToken(env);
const t0 = performance.now();
const some234 = [2, 3, 4].some(only);
// The plain site serves Node and workerd (and Chromium when no HTTPS site is given).
// BENCH_CHROMIUM_PLAIN=1 (narrowed runs only): Chromium on the plain HTTP/1.1 site, to compare.
const chromiumPlain = process.env.BENCH_CHROMIUM_PLAIN === "1";
if (chromiumPlain && whole) throw new Error("BENCH_CHROMIUM_PLAIN: only in a narrowed run");
const tlsUrl = chromiumPlain ? undefined : process.env.SG_BENCH_TLS_URL;
const plainSite = runtimeList.some((r) => r !== "chromium") || !tlsUrl;
if (some234 && plainSite) await seedShots(env, token, SHOTS);
if (some234 && plainSite) console.log(`seeded ${SHOTS} shots in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

// Chromium meets the site over HTTPS with HTTP/2, as real ShotGrid sites are served:
// `cargo xtask bench` starts a second emulator with `--tls` (SG_BENCH_TLS_URL; its
// certificate in SG_BENCH_TLS_CERT, which Node trusts through NODE_EXTRA_CA_CERTS), seeded
// here the same way. Over plain HTTP/1.1 a page gets at most 6 connections to a host.
const tlsEnv = tlsUrl ? { ...env, url: tlsUrl.replace(/\/+$/, "") } : null;
const tls = tlsEnv ? { certFile: process.env.SG_BENCH_TLS_CERT } : null;
if (tls && !tls.certFile) throw new Error("SG_BENCH_TLS_URL needs SG_BENCH_TLS_CERT (the site's certificate, PEM)");
if (tlsEnv && some234 && runtimeList.includes("chromium")) {
  const t1 = performance.now();
  await seedShots(tlsEnv, await rawToken(tlsEnv), SHOTS);
  console.log(`seeded ${SHOTS} shots on the HTTPS site in ${((performance.now() - t1) / 1000).toFixed(1)} s`);
}

/**
 * Case 4's prefetch in each runtime: Node 8; Chromium 8 too, over HTTP/2 (the browser's
 * default, 6, is for HTTP/1.1's 6 connections per host, where more only queue); workerd 6
 * (a Worker keeps at most 6 connections open; README "Limits").
 */
const PREFETCH = { Node: 8, Chromium: tlsEnv ? 8 : null, workerd: 6 };

/**
 * Case 4's requests in Chromium, from the page's resource timing: how long each page
 * request took (start to response end, latency included) and how soon the window sent
 * page n + c after page n landed. Ours only (its URLs spell `page%5Bnumber%5D`; the raw
 * loop's `page[number]`).
 */
function timeline(requests, c) {
  const pages = requests.filter((r) => r.url.includes("page%5Bnumber%5D"))
    .map((r) => ({ ...r, n: Number(new URL(r.url).searchParams.get("page[number]")) }))
    .sort((a, b) => a.n - b.n);
  if (pages.length < 2) return null;
  const q = (xs, f) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(f * s.length))]; };
  const took = pages.map((p) => p.end - p.start);
  const react = [];
  for (let i = 0; i + c < pages.length; i++) react.push(pages[i + c].start - pages[i].end);
  const t0 = Math.min(...pages.map((p) => p.start));
  const span = Math.max(...pages.map((p) => p.end)) - t0;
  let peak = 0;
  for (const p of pages) peak = Math.max(peak, pages.filter((o) => o.start <= p.start && o.end > p.start).length);
  const f = (v) => v.toFixed(0);
  return `${pages.length} page requests over ${f(span)} ms (first sent ${f(pages[0].start - t0)} ms in); each took median ${f(q(took, 0.5))} ms, p90 ${f(q(took, 0.9))}, max ${f(Math.max(...took))}; page n + ${c} sent after page n landed: median ${f(q(react, 0.5))} ms, p90 ${f(q(react, 0.9))}, max ${f(Math.max(...react))}; at most ${peak} in flight`;
}

/** Cases 2–4 in one runtime: `rt.run(name, ...args)` runs `cases[name]` there. */
async function casesIn(rt, label, site = env) {
  console.log(`-- cases 2–4 in ${rt.runtime}`);
  if (only(2)) {
  const o = await rt.run("callOverhead", 2000, Number(process.env.BENCH_ROUNDS ?? 20));
  row(`2. call overhead (${label}): 2,000 sequential reads by id, throughput ours/raw`, `${x(o.ratio)} (ours ${o.oursMs.toFixed(1)} ms, raw ${o.rawMs.toFixed(1)} ms per ${o.calls}; medians of ${2000 / o.calls} alternating blocks)`, "≥ 0.9×", o.ratio >= 0.9);
  const cpu = await rt.run("callCpu");
  row(`2. client CPU per read (${label}), fetch answered in memory (no network), hot`, `ours ${cpu.oursUs.toFixed(1)} µs, raw fetch + JSON ${cpu.rawUs.toFixed(1)} µs (medians of blocks of ${cpu.calls})`);
  const cold = await rt.run("callCold", 2000, Number(process.env.BENCH_ROUNDS ?? 20));
  row(`2. client CPU per read (${label}), the same in-memory reads each run between real round trips (as in case 2), not in a loop`, `ours ${cold.oursUs.toFixed(1)} µs, raw fetch + JSON ${cold.rawUs.toFixed(1)} µs: ${x(cold.oursUs / cpu.oursUs)} and ${x(cold.rawUs / cpu.rawUs)} their hot cost; ours − raw ${(cold.oursUs - cold.rawUs).toFixed(0)} µs, against ${((o.oursMs - o.rawMs) / o.calls * 1000).toFixed(0)} µs in case 2 (blocks of ${cold.calls} minus the round trips alone, ${(cold.tripMs / cold.calls * 1000).toFixed(0)} µs each)`);
  row(`2. call overhead (${label}): raw fetch with an abortable timeout per request (AbortController + timer) vs raw`, `${x(o.rawMs / o.timedMs)} of raw's throughput (${o.timedMs.toFixed(1)} ms per ${o.calls}); ours vs it: ${x(o.timedRatio)}`);
  row(`2. call overhead (${label}): the package's attempt sender alone (pkg/send.js: fetch, timeout, record decoding; no wasm) vs raw`, `${x(o.rawMs / o.senderMs)} of raw's throughput (${o.senderMs.toFixed(1)} ms per ${o.calls}); ours vs it: ${x(o.senderMs / o.oursMs)}`);
  // On loopback a round trip is only the two processes' CPU, so the client's own cost
  // counts in full; against a site a few milliseconds away it is a fraction. The same
  // reads with 2 ms added to each (a LAN's or a nearby region's round trip).
  const far = await withFaults({ latency_ms: 2, classes: ["read"] }, site.url, () => rt.run("callOverhead", 1000, Number(process.env.BENCH_ROUNDS ?? 20)));
  row(`2. call overhead (${label}) with 2 ms added to each read (not on loopback): throughput ours/raw`, `${x(far.ratio)} (ours ${far.oursMs.toFixed(1)} ms, raw ${far.rawMs.toFixed(1)} ms per ${far.calls}); the sender alone ${x(far.rawMs / far.senderMs)} of raw`);
  }
  let d = null;
  if (only(3)) {
  d = await rt.run("decode", 3, SHOTS);
  row(`3. decode (${label}): ${SHOTS.toLocaleString("en-US")} Shots × 12 fields, 500/page, speed ours/raw`, `${x(d.ratio)} (ours ${d.oursMs.toFixed(0)} ms, raw ${d.rawMs.toFixed(0)} ms, ${d.records} records)`, "≥ 1.0×", d.ratio >= 1.0);
  }
  if (!only(4)) return;
  // The same read with no added latency: the CPU floor (client, emulator and, over HTTPS,
  // TLS, on the same cores) that no prefetch hides; with +100 ms a request, ours cannot
  // beat the larger of this and the ideal.
  const floor = await rt.run("pagination", PREFETCH[label], 1, SHOTS);
  await withFaults({ latency_ms: 100, classes: ["read"] }, site.url, async () => {
    const p = await rt.run("pagination", PREFETCH[label], 1, SHOTS);
    const tl = rt.lastRequests && timeline(rt.lastRequests(), p.concurrency);
    const ideal = Math.ceil(p.pages / p.concurrency) * 100;
    row(`4. pagination (${label}), +100 ms per request: prefetch (${p.concurrency}${p.chosen ? "" : ", the default"}) vs sequential`, `${x(p.ratio)} faster (ours ${p.oursMs.toFixed(0)} ms, sequential ${p.rawMs.toFixed(0)} ms, ${p.pages} pages)`, "≥ 5×", p.ratio >= 5);
    row(`4. pagination (${label}) vs ideal ceil(pages/concurrency) × 100 ms`, `${x(p.oursMs / ideal)} of ideal ${ideal} ms`, "≤ 1.5×", p.oursMs / ideal <= 1.5);
    // The ideal above counts latency only. Reading and decoding the same 100 pages costs
    // CPU too (client and emulator, on the same cores): case 3's raw side does exactly that
    // with no added latency, a floor no prefetching removes.
    row(`4. pagination (${label}) with no added latency (the CPU floor), prefetch ${floor.concurrency}`, `ours ${floor.oursMs.toFixed(0)} ms, sequential ${floor.rawMs.toFixed(0)} ms; with +100 ms ours took ${x(p.oursMs / Math.max(ideal, floor.oursMs))} of max(ideal, floor)`);
    if (tl) row(`4. pagination (${label}) timeline of ours (the page's resource timing)`, tl);
    if (d) row(`4. pagination (${label}) with +100 ms vs raw fetch of the same records with no added latency (case 3)`, `${x(p.oursMs / d.rawMs)} (${p.oursMs.toFixed(0)} ms vs ${d.rawMs.toFixed(0)} ms)`);
    // BENCH_PREFETCH_ALSO=8,6: extra rows with those concurrencies, to compare.
    for (const c of (process.env.BENCH_PREFETCH_ALSO ?? "").split(",").filter(Boolean).map(Number)) {
      const q = await rt.run("pagination", c, 1, SHOTS);
      const id = Math.ceil(q.pages / q.concurrency) * 100;
      row(`4. pagination (${label}), for comparison: prefetch ${q.concurrency}`, `${x(q.ratio)} faster (ours ${q.oursMs.toFixed(0)} ms, seq ${q.rawMs.toFixed(0)} ms); ${x(q.oursMs / id)} of ideal ${id} ms`);
      const qt = rt.lastRequests && timeline(rt.lastRequests(), q.concurrency);
      if (qt) console.log(`     timeline: ${qt}`);
    }
  });
}

const runtimes = [`Node ${process.version}`];
if (some234 && runtimeList.includes("node")) await casesIn({ runtime: `Node ${process.version}`, run: (name, ...args) => cases[name]({ ShotGrid, send, env, fetch: globalThis.fetch }, ...args) }, "Node");
for (const [open, label, site] of [[() => openChromium(tlsEnv ?? env, tls), "Chromium", tlsEnv ?? env], [openWorkerd, "workerd", env]]) {
  if (!some234 || !runtimeList.includes(label.toLowerCase())) continue;
  const rt = await open(env);
  runtimes.push(rt.runtime);
  try {
    await casesIn(rt, label, site);
  } finally {
    await rt.close();
  }
}

// 5. Upload: 256 MiB in 8 MiB parts, +50 ms per request, concurrency 4 vs 1 (Node).
if (only(5)) {
  // A token of its own: the one taken at the start has expired by now (10 minutes).
  const fresh = await rawToken(env);
  const project = (await api("POST", "/api/v1/entity/projects", { name: "Upload bench" }, fresh)).data.id;
  const versionId = (await api("POST", "/api/v1/entity/versions", { code: "UPLOAD_BENCH", project: { type: "Project", id: project } }, fresh)).data.id;
  const u = await uploadCase({ env, admin, faults, versionId });
  const s = (n) => `${n.toFixed(2)} s`;
  const bound = 4 * u.partMib + 32;
  row(`5. upload ${u.mib} MiB multipart, ${u.partMib} MiB parts, +${u.latencyMs} ms per request: concurrency 4 vs 1`, `${x(u.c1.seconds / u.c4.seconds)} faster (c4 ${s(u.c4.seconds)}, c1 ${s(u.c1.seconds)}; medians of ${u.rounds}; SHA-256 of every upload checked)`, "≥ 3×", u.c1.seconds / u.c4.seconds >= 3);
  row("5. upload, parts phase only (first part PUT to last part PUT done): concurrency 4 vs 1", `${x(u.c1.parts / u.c4.parts)} (c4 ${s(u.c4.parts)}, c1 ${s(u.c1.parts)}; ${u.parts} parts)`);
  row("5. upload with no added latency (moving the bytes: the floor), concurrency 4 vs 1", `c4 ${s(u.noLatency.c4)}, c1 ${s(u.noLatency.c1)} (parts phase c4 ${s(u.noLatency.c4Parts)}, c1 ${s(u.noLatency.c1Parts)})`);
  row("5. upload, concurrency 4: ours vs raw fetch doing the same PUTs", `ours ${s(u.c4.seconds)}, raw ${s(u.raw.seconds)} (${x(u.raw.seconds / u.c4.seconds)} raw/ours)`);
  row("5. upload peak memory, RSS growth (bytes source)", `c4 ${u.c4.rss.toFixed(0)} MiB, c1 ${u.c1.rss.toFixed(0)} MiB; raw fetch c4 ${u.raw.rss.toFixed(0)} MiB`, `≤ ${bound} MiB (4 × part + 32)`, u.c4.rss <= bound);
  row("5. upload peak memory, RSS growth (stream of one reused 64 KiB chunk, c4: the producer makes no garbage)", `${u.reused.rss.toFixed(0)} MiB (${s(u.reused.seconds)})`, `≤ ${bound} MiB (4 × part + 32)`, u.reused.rss <= bound);
  // A producer that allocates every chunk leaves garbage V8 collects late: the floor
  // row reads that stream alone (no upload), holding 4 parts, and grows about as much.
  row("5. upload peak memory, RSS growth (stream of fresh 64 KiB chunks, c4)", `${u.stream.rss.toFixed(0)} MiB (${s(u.stream.seconds)}); reading the same stream alone, no upload: ${u.floor.rss.toFixed(0)} MiB`);
}

// 6. Batch: 10,000 creates via split batch vs single creates (on Asset, not to disturb Shots)
if (only(6)) {
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
if (only(7)) {
  const project = (await api("POST", "/api/v1/entity/projects", { name: "Cold start bench" }, await rawToken(env))).data.id;
  const start = async (script) => {
    const t = performance.now();
    const mf = new Miniflare(workerOptions(script, env, { PROJECT_ID: String(project) }));
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

if (!whole) {
  console.log("narrowed run (BENCH_CASES/BENCH_RUNTIMES): bench/RESULTS.md left as it was");
  process.exit(0);
}
const resultsPath = path.join(root, "bench/RESULTS.md");
const previous = existsSync(resultsPath) ? readFileSync(resultsPath, "utf8") : "";
const reading = previous.indexOf("## Reading these numbers");
const md = [
  "# Benchmark results",
  "",
  "Measured by `cargo xtask bench` (emulator on 127.0.0.1; Node unless a line names",
  "Chromium or workerd). Each line compares variants run side by side in the same run and",
  "the same runtime; absolute times vary with the machine, ratios are what to compare.",
  "",
  `Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, ${os.platform()} ${os.release()}, load average ${os.loadavg()[0].toFixed(1)} at the end (the cores are shared). Runtimes: ${runtimes.join(", ")}. Date: ${new Date().toISOString().slice(0, 10)}.`,
  "",
  "| | measurement | result | goal |",
  "|---|---|---|---|",
  ...rows.map((r) => `| ${r.pass === undefined ? "" : r.pass ? "ok" : "miss"} | ${r.name} | ${r.value} | ${r.goal ?? ""} |`),
  "",
  ...(reading >= 0 ? [previous.slice(reading).trimEnd(), ""] : []),
];
writeFileSync(resultsPath, md.join("\n"));
console.log("wrote bench/RESULTS.md");
