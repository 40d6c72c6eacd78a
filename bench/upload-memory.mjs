// Peak memory of a multipart upload in Node, the client beside a raw-fetch baseline doing
// the same PUTs (not a timed test; a measurement to report).
//
//   cargo xtask build
//   shotgrid-emulator --port 0 --seed demo --script-user sg-test:secret --admin-secret adm
//   SG_EMULATOR_URL=http://127.0.0.1:PORT SG_TEST_CLIENT_ID=sg-test SG_TEST_CLIENT_SECRET=secret \
//     node --expose-gc bench/upload-memory.mjs [MiB=256] [partMiB=8] [concurrency=4] [mode=all]
//
// Modes (each runs in its own Node process so one cannot inflate another's peak):
//   stream      sg.upload(…, { stream, size }) from a ReadableStream of fresh 64 KiB chunks
//               (what Readable.toWeb(fs.createReadStream(…)) gives)
//   file        sg.upload(…, await fs.openAsBlob(path)) from a file on disk
//   raw-stream  the same multipart flow with plain fetch: each part gathered from the same
//               kind of stream into a Blob and PUT, `concurrency` at a time
//   raw-bytes   the same, each part copied into one Uint8Array and PUT
//   all         every mode above, then a side-by-side table
//
// Memory is sampled every 5 ms (process.memoryUsage: rss, arrayBuffers, external,
// heapUsed); growth is the peak minus the value after a GC before the upload. The bound
// of issue 5 is concurrency × partSize + 32 MiB of growth.
import { execFileSync } from "node:child_process";
import { openAsBlob } from "node:fs";
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

if (mode === "all") {
  const modes = ["stream", "file", "raw-stream", "raw-bytes"];
  const rows = [];
  for (const m of modes) {
    const out = execFileSync(process.execPath, ["--expose-gc", fileURLToPath(import.meta.url), String(total), String(part), String(concurrency), m], {
      encoding: "utf8",
      env: process.env,
    });
    process.stdout.write(out);
    rows.push(JSON.parse(out.trim().split("\n").pop()));
  }
  const bound = concurrency * part + 32;
  console.log(`\n${total} MiB, ${part} MiB parts, concurrency ${concurrency}; bound ${bound} MiB of growth`);
  console.log("mode         rss growth  arrayBuffers peak  external peak  seconds  within bound");
  for (const r of rows) {
    console.log(
      `${r.mode.padEnd(12)} ${r.rssGrowth.toFixed(1).padStart(10)}  ${r.arrayBuffersPeak.toFixed(1).padStart(17)}  ${r.externalPeak.toFixed(1).padStart(13)}  ${r.seconds.toFixed(1).padStart(7)}  ${r.rssGrowth <= bound ? "yes" : "NO"}`,
    );
  }
  const byMode = Object.fromEntries(rows.map((r) => [r.mode, r]));
  console.log(`ratio client stream / raw-stream (rss growth): ${(byMode.stream.rssGrowth / byMode["raw-stream"].rssGrowth).toFixed(2)}`);
  process.exit(0);
}

/** A stream of `size` bytes in fresh 64 KiB chunks, like a file read stream. */
function freshStream() {
  let sent = 0;
  return new ReadableStream({
    pull(c) {
      if (sent >= size) return c.close();
      const n = Math.min(64 * 1024, size - sent);
      const chunk = new Uint8Array(n);
      chunk.fill(sent & 0xff);
      c.enqueue(chunk);
      sent += n;
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
if (mode === "file") {
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

/** The multipart flow of REST-NOTES "Files" with plain fetch, parts from `nextBody(n)`. */
async function rawUpload(nextBody) {
  const bearer = await token();
  const auth = { authorization: `Bearer ${bearer}`, accept: "application/json" };
  const abs = (u) => new URL(u, env.url).href;
  const start = await (await fetch(`${env.url}/api/v1/entity/versions/1/sg_uploaded_movie/_upload?filename=bench.mov&multipart_upload=true`, { headers: auth })).json();
  const info = start.data;
  const parts = Math.ceil(size / partSize);
  const urls = [abs(start.links.upload)];
  let nextLink = start.links.get_next_part;
  const etags = new Array(parts);
  let nextPart = 1;
  let reading = Promise.resolve();
  async function urlFor(n) {
    while (urls.length < n) {
      const r = await (await fetch(abs(nextLink), { headers: auth })).json();
      urls.push(abs(r.links.upload));
      nextLink = r.links.get_next_part;
    }
    return urls[n - 1];
  }
  async function worker() {
    for (;;) {
      const n = nextPart++;
      if (n > parts) return;
      // Parts are read in order from the stream; PUTs overlap.
      const body = await (reading = reading.then(() => nextBody(n)));
      const url = await urlFor(n);
      const r = await fetch(url, { method: "PUT", body, headers: { "content-type": "video/quicktime" } });
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

async function run() {
  if (mode === "stream" || mode === "file") {
    const { ShotGrid } = await import("../pkg/node.js");
    const sg = await ShotGrid.connect({
      site: env.url,
      auth: { grant: "client_credentials", clientId: env.clientId, clientSecret: env.clientSecret },
    });
    const data = mode === "file" ? await openAsBlob(file) : { stream: freshStream(), size, name: "bench.mov" };
    const r = await sg.upload("Version", 1, data, {
      field: "sg_uploaded_movie",
      filename: "bench.mov",
      partSize,
      multipartThreshold: partSize,
      concurrency,
    });
    if (r.size !== size || !r.multipart) throw new Error(`unexpected result ${JSON.stringify(r)}`);
    return r.parts;
  }
  if (mode === "raw-stream" || mode === "raw-bytes") {
    const read = partReader(freshStream().getReader());
    return rawUpload(async (n) => {
      const chunks = await read(Math.min(partSize, size - (n - 1) * partSize));
      if (mode === "raw-stream") return new Blob(chunks);
      const out = new Uint8Array(chunks.reduce((a, c) => a + c.length, 0));
      let o = 0;
      for (const c of chunks) {
        out.set(c, o);
        o += c.length;
      }
      return out;
    });
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
    timeline.push(`${mb(m.rss - base.rss)}/${mb(m.arrayBuffers)}`);
  }
}, 5);
const parts = await run();
clearInterval(timer);
const seconds = (Date.now() - t0) / 1000;
if (tmp) rmSync(tmp, { recursive: true, force: true });
console.log(`[${mode}] ${total} MiB in ${parts} parts of ${part} MiB, concurrency ${concurrency}, ${seconds.toFixed(1)} s`);
console.log(`[${mode}] rss baseline ${mb(base.rss)} MiB, peak ${mb(peak.rss)} MiB, growth ${mb(peak.rss - base.rss)} MiB; arrayBuffers peak ${mb(peak.arrayBuffers)} MiB; external peak ${mb(peak.external)} MiB; heapUsed peak ${mb(peak.heapUsed)} MiB`);
console.log(`[${mode}] each second, rss growth/arrayBuffers MiB: ${timeline.join(" ")}`);
console.log(
  JSON.stringify({
    mode,
    rssGrowth: (peak.rss - base.rss) / MiB,
    arrayBuffersPeak: peak.arrayBuffers / MiB,
    externalPeak: peak.external / MiB,
    seconds,
  }),
);
