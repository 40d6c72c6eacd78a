// Peak memory of a multipart upload in Node, the client beside a raw-fetch baseline doing
// the same PUTs (not a timed test; a measurement to report).
//
//   cargo xtask build
//   shotgrid-emulator --port 0 --seed demo --script-user sg-test:secret --admin-secret adm
//   SG_EMULATOR_URL=http://127.0.0.1:PORT SG_TEST_CLIENT_ID=sg-test SG_TEST_CLIENT_SECRET=secret \
//     SG_ADMIN_SECRET=adm node --expose-gc bench/upload-memory.mjs [MiB=256] [partMiB=8] [concurrency=4] [mode=all]
//
// Uploads go to the `sg_uploaded_movie` field of Version SG_BENCH_VERSION (default 1).
// With SG_ADMIN_SECRET set, each upload is then checked: the SHA-256 and size the
// emulator stored must be those of the source (`cargo xtask bench` case 5 runs this
// script, with the emulator adding latency, for its timings and memory figures).
//
// Modes (each runs in its own Node process so one cannot inflate another's peak); each
// data source is uploaded by the client and, as the baseline, by plain fetch doing the
// same multipart flow (same PUTs, `concurrency` at a time):
//   stream / raw-stream                 a ReadableStream of fresh 64 KiB chunks (what
//                                       Readable.toWeb(fs.createReadStream(…)) gives); raw:
//                                       each part gathered into a Blob
//   stream-reused / raw-stream-reused   the same with one reused chunk: the producer makes
//                                       no garbage, so only the uploader's memory shows
//   bytes / raw-bytes                   one Uint8Array (allocated before the baseline);
//                                       raw: subarray views
//   file / raw-file                     fs.openAsBlob(path) of a file on disk; raw: slices
//   floor-stream                        only reads the fresh-chunk stream part by part,
//                                       holding `concurrency` parts, no network: the
//                                       garbage the producer alone leaves to the GC
//   all                                 every mode, then a side-by-side table
//
// Memory is sampled every 5 ms (process.memoryUsage: rss, arrayBuffers, external,
// heapUsed); growth is the peak minus the value after a GC before the upload. The bound
// of issue 5 is concurrency × partSize + 32 MiB of growth.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, openAsBlob } from "node:fs";
import { mkdtempSync, openSync, rmSync, writeSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const MiB = 1024 * 1024;
const args = process.argv.slice(2);
const [total = 256, part = 8, concurrency = 4] = args.slice(0, 3).map(Number);
const mode = args[3] ?? "all";
const size = total * MiB;
const partSize = part * MiB;
const env = {
  url: process.env.SG_EMULATOR_URL,
  clientId: process.env.SG_TEST_CLIENT_ID,
  clientSecret: process.env.SG_TEST_CLIENT_SECRET,
};
if (!env.url || !env.clientId || !env.clientSecret) {
  console.error("set SG_EMULATOR_URL, SG_TEST_CLIENT_ID and SG_TEST_CLIENT_SECRET (see the header)");
  process.exit(2);
}
const mb = (n) => (n / MiB).toFixed(1);
const versionId = Number(process.env.SG_BENCH_VERSION ?? 1);
const adminSecret = process.env.SG_ADMIN_SECRET;

const SOURCES = ["stream", "stream-reused", "bytes", "file"];
if (mode === "all") {
  const rows = {};
  for (const m of [...SOURCES.flatMap((x) => [x, `raw-${x}`]), "floor-stream"]) {
    const out = execFileSync(process.execPath, ["--expose-gc", fileURLToPath(import.meta.url), String(total), String(part), String(concurrency), m], {
      encoding: "utf8",
      env: process.env,
    });
    process.stdout.write(out);
    rows[m] = JSON.parse(out.trim().split("\n").pop());
  }
  const bound = concurrency * part + 32;
  const f = (n) => n.toFixed(1).padStart(8);
  console.log(`\n${total} MiB, ${part} MiB parts, concurrency ${concurrency}; bound: ${bound} MiB of RSS growth (MiB; peak minus baseline)`);
  console.log("source          client rss  raw rss  ratio  client arrayBuffers  raw arrayBuffers  client s  raw s  client within bound");
  for (const x of SOURCES) {
    const c = rows[x];
    const r = rows[`raw-${x}`];
    console.log(
      `${x.padEnd(14)} ${f(c.rssGrowth)}   ${f(r.rssGrowth)}  ${(c.rssGrowth / r.rssGrowth).toFixed(2).padStart(5)}  ${f(c.arrayBuffersGrowth).padStart(19)}  ${f(r.arrayBuffersGrowth).padStart(16)}  ${f(c.seconds)} ${f(r.seconds)}  ${c.rssGrowth <= bound ? "yes" : "NO"}`,
    );
  }
  console.log(`floor-stream (reading the fresh-chunk stream alone): rss ${rows["floor-stream"].rssGrowth.toFixed(1)}, arrayBuffers ${rows["floor-stream"].arrayBuffersGrowth.toFixed(1)}`);
  process.exit(0);
}

/** The `size` bytes of the stream sources, in 64 KiB chunks: fresh ones (like a file read stream; each filled with its index) or one reused. */
function* sourceChunks(reused) {
  const one = new Uint8Array(64 * 1024).fill(7);
  for (let sent = 0; sent < size; sent += 64 * 1024) {
    const n = Math.min(64 * 1024, size - sent);
    yield reused ? one.subarray(0, n) : new Uint8Array(n).fill((sent >> 16) & 0xff);
  }
}

function sourceStream(reused) {
  const chunks = sourceChunks(reused);
  return new ReadableStream({
    pull(c) {
      const { done, value } = chunks.next();
      if (done) c.close();
      else c.enqueue(value);
    },
  });
}

/** Reads exactly `want` bytes from `reader` as a list of chunks. */
function partReader(reader) {
  let leftover = null;
  return async (want) => {
    const chunks = [];
    let filled = 0;
    while (filled < want) {
      let chunk = leftover;
      leftover = null;
      if (!chunk) {
        const { done, value } = await reader.read();
        if (done) throw new Error("stream ended early");
        chunk = value;
      }
      const take = Math.min(chunk.length, want - filled);
      chunks.push(take === chunk.length ? chunk : chunk.subarray(0, take));
      if (take < chunk.length) leftover = chunk.subarray(take);
      filled += take;
    }
    return chunks;
  };
}

let tmp;
let file;
const source = mode.replace(/^(raw|floor)-/, "");
let bytes;
if (source === "bytes") {
  // Varied content (a part in the wrong place changes the SHA-256), made before the baseline.
  bytes = new Uint8Array(size);
  const words = new Uint32Array(bytes.buffer);
  let x = 0x9e3779b9;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x;
  }
}
if (source === "file") {
  tmp = mkdtempSync(path.join(tmpdir(), "upload-memory-"));
  file = path.join(tmp, "bench.mov");
  const fd = openSync(file, "w");
  const block = new Uint8Array(MiB).fill(7);
  for (let i = 0; i < total; i++) writeSync(fd, block);
  closeSync(fd);
}

async function token() {
  const r = await fetch(`${env.url}/api/v1/auth/access_token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
    body: new URLSearchParams({ grant_type: "client_credentials", client_id: env.clientId, client_secret: env.clientSecret }),
  });
  return (await r.json()).access_token;
}

/** fetch, noting when the first part PUT started and the last one ended (the parts phase). */
const puts = { first: Infinity, last: 0 };
/** When the upload itself began (after imports and the token). */
let uploadStarted = 0;
async function timedFetch(url, init = {}) {
  if (init.method !== "PUT") return fetch(url, init);
  puts.first = Math.min(puts.first, Date.now());
  const res = await fetch(url, init);
  puts.last = Math.max(puts.last, Date.now());
  return res;
}

/** The multipart flow of REST-NOTES "Files" with plain fetch, parts from `nextBody(n)`. */
async function rawUpload(nextBody) {
  const bearer = await token();
  const auth = { authorization: `Bearer ${bearer}`, accept: "application/json" };
  const abs = (u) => new URL(u, env.url).href;
  uploadStarted = Date.now();
  const start = await (await fetch(`${env.url}/api/v1/entity/versions/${versionId}/sg_uploaded_movie/_upload?filename=bench.mov&multipart_upload=true`, { headers: auth })).json();
  const info = start.data;
  const parts = Math.ceil(size / partSize);
  const urls = [abs(start.links.upload)];
  const nextLink = start.links.get_next_part;
  const etags = new Array(parts);
  let nextPart = 1;
  let reading = Promise.resolve();
  // Part n's URL is asked for with the get_next_part link of part 2 with its
  // part_number set to n (as the client does), a part ahead of each worker.
  const asked = new Map([[1, Promise.resolve(urls[0])]]);
  function urlFor(n) {
    if (!asked.has(n)) {
      const link = new URL(nextLink, env.url);
      link.searchParams.set("part_number", String(n));
      asked.set(n, fetch(link, { headers: auth }).then((r) => r.json()).then((r) => abs(r.links.upload)));
    }
    return asked.get(n);
  }
  async function worker() {
    for (;;) {
      const n = nextPart++;
      if (n > parts) return;
      // Parts are read in order from the stream; PUTs overlap.
      const url = urlFor(n);
      if (n + concurrency <= parts) urlFor(n + concurrency);
      const body = await (reading = reading.then(() => nextBody(n)));
      const r = await timedFetch(await url, { method: "PUT", body, headers: { "content-type": "video/quicktime" } });
      if (!r.ok) throw new Error(`part ${n}: ${r.status}`);
      etags[n - 1] = r.headers.get("etag");
      await r.arrayBuffer();
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  const done = await fetch(abs(start.links.complete_upload), {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ upload_info: { ...info, etags }, upload_data: {} }),
  });
  if (!done.ok) throw new Error(`complete: ${done.status} ${await done.text()}`);
  return parts;
}

/** The SHA-256 (hex) of the source, computed again after the measurement. */
async function expectedSha() {
  const hash = createHash("sha256");
  if (source === "bytes") hash.update(bytes);
  else if (source === "file") for await (const c of createReadStream(file)) hash.update(c);
  else for (const c of sourceChunks(source === "stream-reused")) hash.update(c);
  return hash.digest("hex");
}

/** Checks that the Version's movie is an Attachment holding exactly the source's bytes. */
async function verify() {
  const auth = { authorization: `Bearer ${await token()}`, accept: "application/json" };
  const v = await (await fetch(`${env.url}/api/v1/entity/versions/${versionId}?fields=sg_uploaded_movie`, { headers: auth })).json();
  const attachmentId = v.data?.attributes?.sg_uploaded_movie?.id;
  if (typeof attachmentId !== "number") throw new Error(`[${mode}] no uploaded movie on Version ${versionId}: ${JSON.stringify(v).slice(0, 300)}`);
  const r = await fetch(`${env.url}/_admin/files/${attachmentId}/sha256`, { headers: { "x-admin-secret": adminSecret } });
  if (!r.ok) throw new Error(`[${mode}] admin sha256: ${r.status}`);
  const stored = await r.json();
  const want = await expectedSha();
  if (stored.size !== size || stored.sha256 !== want) {
    throw new Error(`[${mode}] stored ${stored.size} bytes, SHA-256 ${stored.sha256}; expected ${size} bytes, ${want}`);
  }
  console.log(`[${mode}] verified: Attachment ${attachmentId} holds the ${size} bytes (SHA-256 ${want.slice(0, 16)}…)`);
}

async function run() {
  if (SOURCES.includes(mode)) {
    const { ShotGrid } = await import("../pkg/node.js");
    const sg = await ShotGrid.connect({
      site: env.url,
      auth: { grant: "client_credentials", clientId: env.clientId, clientSecret: env.clientSecret },
      fetch: timedFetch,
    });
    const data =
      source === "file" ? await openAsBlob(file) : source === "bytes" ? bytes : { stream: sourceStream(source === "stream-reused"), size, name: "bench.mov" };
    uploadStarted = Date.now();
    const r = await sg.upload("Version", versionId, data, {
      field: "sg_uploaded_movie",
      filename: "bench.mov",
      partSize,
      multipartThreshold: partSize,
      concurrency,
    });
    if (r.size !== size || !r.multipart) throw new Error(`unexpected result ${JSON.stringify(r)}`);
    return r.parts;
  }
  if (mode === "floor-stream") {
    uploadStarted = Date.now();
    const read = partReader(sourceStream(false).getReader());
    const parts = Math.ceil(size / partSize);
    let next = 1;
    let reading = Promise.resolve();
    const hold = async () => {
      for (let n = next++; n <= parts; n = next++) {
        const chunks = await (reading = reading.then(() => read(Math.min(partSize, size - (n - 1) * partSize))));
        await new Promise((r) => setTimeout(r, 20));
        void chunks;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, hold));
    return parts;
  }
  if (source === "stream" || source === "stream-reused") {
    const read = partReader(sourceStream(source === "stream-reused").getReader());
    return rawUpload(async (n) => new Blob(await read(Math.min(partSize, size - (n - 1) * partSize))));
  }
  if (source === "bytes") {
    return rawUpload(async (n) => bytes.subarray((n - 1) * partSize, Math.min(size, n * partSize)));
  }
  if (source === "file") {
    const blob = await openAsBlob(file);
    return rawUpload(async (n) => blob.slice((n - 1) * partSize, Math.min(size, n * partSize)));
  }
  throw new Error(`unknown mode ${mode}`);
}

globalThis.gc?.();
await new Promise((r) => setTimeout(r, 50));
globalThis.gc?.();
const base = process.memoryUsage();
const peak = { ...base };
const timeline = [];
let lastMark = 0;
const t0 = Date.now();
const timer = setInterval(() => {
  const m = process.memoryUsage();
  for (const k of Object.keys(m)) peak[k] = Math.max(peak[k], m[k]);
  if (Date.now() - lastMark >= 1000) {
    lastMark = Date.now();
    timeline.push(`${mb(m.rss - base.rss)}/${mb(m.arrayBuffers - base.arrayBuffers)}`);
  }
}, 5);
const parts = await run();
clearInterval(timer);
const seconds = (Date.now() - t0) / 1000;
const uploadSeconds = (Date.now() - uploadStarted) / 1000;
let verified = false;
if (adminSecret && mode !== "floor-stream") {
  await verify();
  verified = true;
}
if (tmp) rmSync(tmp, { recursive: true, force: true });
console.log(`[${mode}] ${total} MiB in ${parts} parts of ${part} MiB, concurrency ${concurrency}, ${seconds.toFixed(1)} s${puts.last ? ` (upload ${uploadSeconds.toFixed(1)} s, parts phase ${((puts.last - puts.first) / 1000).toFixed(1)} s)` : ""}`);
console.log(`[${mode}] rss baseline ${mb(base.rss)} MiB, peak ${mb(peak.rss)} MiB, growth ${mb(peak.rss - base.rss)} MiB; arrayBuffers growth ${mb(peak.arrayBuffers - base.arrayBuffers)} MiB; external growth ${mb(peak.external - base.external)} MiB; heapUsed peak ${mb(peak.heapUsed)} MiB`);
console.log(`[${mode}] each second, rss growth/arrayBuffers MiB: ${timeline.join(" ")}`);
console.log(
  JSON.stringify({
    mode,
    rssGrowth: (peak.rss - base.rss) / MiB,
    arrayBuffersGrowth: (peak.arrayBuffers - base.arrayBuffers) / MiB,
    seconds,
    uploadSeconds,
    partsSeconds: puts.last ? (puts.last - puts.first) / 1000 : null,
    verified,
  }),
);
