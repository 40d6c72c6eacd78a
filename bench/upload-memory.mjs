// Measures peak memory of a multipart upload in Node (not a timed test).
//
//   cargo xtask build
//   shotgrid-emulator --port 0 --seed demo --script-user sg-test:secret --admin-secret adm
//   SG_EMULATOR_URL=http://127.0.0.1:PORT SG_TEST_CLIENT_ID=sg-test SG_TEST_CLIENT_SECRET=secret \
//     node --expose-gc bench/upload-memory.mjs [MiB=256] [partMiB=8] [concurrency=4]
//
// The data is a generated ReadableStream (never the whole file in memory). Prints the
// baseline and peak RSS / heap / external+arrayBuffers (sampled every 10 ms) and the
// bound concurrency × partSize + 32 MB.
import { ShotGrid } from "../pkg/node.js";

const MiB = 1024 * 1024;
const [total = 256, part = 8, concurrency = 4] = process.argv.slice(2).map(Number);
const size = total * MiB;
const sg = await ShotGrid.connect({
  site: process.env.SG_EMULATOR_URL,
  auth: { grant: "client_credentials", clientId: process.env.SG_TEST_CLIENT_ID, clientSecret: process.env.SG_TEST_CLIENT_SECRET },
});

function stream() {
  let sent = 0;
  const chunk = new Uint8Array(256 * 1024).map((_, i) => i * 31);
  return new ReadableStream({
    pull(c) {
      if (sent >= size) return c.close();
      const n = Math.min(chunk.length, size - sent);
      c.enqueue(chunk.subarray(0, n)); // the same bytes each time: no garbage from the generator
      sent += n;
    },
  });
}

globalThis.gc?.();
const base = process.memoryUsage();
let peak = { ...base };
const timer = setInterval(() => {
  const m = process.memoryUsage();
  for (const k of Object.keys(m)) peak[k] = Math.max(peak[k], m[k]);
}, 10);
const t0 = Date.now();
let parts = 0;
const r = await sg.upload("Version", 1, { stream: stream(), size, name: "bench.mov" }, {
  field: "sg_uploaded_movie",
  partSize: part * MiB,
  multipartThreshold: part * MiB,
  concurrency,
  onProgress: () => { parts++; if (process.env.GC_EACH_PART) globalThis.gc?.(); },
});
clearInterval(timer);
const mb = (n) => (n / MiB).toFixed(1);
console.log(`uploaded ${mb(r.size)} MiB in ${r.parts} parts (${r.storage}, concurrency ${concurrency}, part ${part} MiB) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
console.log(`rss: baseline ${mb(base.rss)} MiB, peak ${mb(peak.rss)} MiB, growth ${mb(peak.rss - base.rss)} MiB`);
console.log(`heapUsed peak ${mb(peak.heapUsed)} MiB; external peak ${mb(peak.external)} MiB; arrayBuffers peak ${mb(peak.arrayBuffers)} MiB`);
console.log(`bound: concurrency × partSize + 32 MiB = ${concurrency * part + 32} MiB (compare the growth over baseline)`);
