// Case 5: a 256 MiB multipart upload (8 MiB parts) with the emulator adding 50 ms to
// every request, concurrency 4 vs 1, in Node. Each upload runs in its own process
// through bench/upload-memory.mjs (which also samples memory and checks the SHA-256 the
// emulator stored against the source), so one upload's garbage cannot slow another.
import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), "upload-memory.mjs");
const run = promisify(execFile);

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** One upload in a child Node process; its JSON summary (verified, or it throws). */
async function upload(ctx, concurrency, mode) {
  const { stdout } = await run(process.execPath, ["--expose-gc", script, String(ctx.mib), String(ctx.partMib), String(concurrency), mode], {
    env: { ...process.env, SG_EMULATOR_URL: ctx.env.url, SG_TEST_CLIENT_ID: ctx.env.clientId, SG_TEST_CLIENT_SECRET: ctx.env.clientSecret,
      SG_ADMIN_SECRET: ctx.admin, SG_BENCH_VERSION: String(ctx.versionId) },
    maxBuffer: 1 << 20,
    timeout: 120_000,
  });
  const lines = stdout.trim().split("\n");
  for (const l of lines) if (/ in \d+ parts of | growth /.test(l)) console.log(`    ${l}`);
  const out = JSON.parse(lines.pop());
  if (!out.verified && mode !== "floor-stream") throw new Error(`upload ${mode} × ${concurrency} was not verified:\n${stdout}`);
  return out;
}

/**
 * Runs case 5 against a Version `versionId` with `latencyMs` added to every request
 * (set and cleared through `faults`). Returns medians of `rounds` alternated runs of
 * concurrency 1 and 4 (bytes source), plus one run each of the raw-fetch baseline, of a
 * stream of one reused chunk at concurrency 4 (the producer makes no garbage, so what
 * the uploader holds shows), of a fresh-chunk stream at concurrency 4 and of reading
 * that stream alone (no upload: the garbage the producer leaves), for memory, and one run each of concurrency 1 and 4
 * with no added latency: what moving the bytes costs on this machine, the floor that
 * no concurrency removes.
 */
export async function uploadCase({ env, admin, faults, versionId, mib = 256, partMib = 8, latencyMs = 50, rounds = 3 }) {
  const ctx = { env, admin, versionId, mib, partMib };
  await faults({ latency_ms: latencyMs });
  try {
    const one = [];
    const four = [];
    for (let i = 0; i < rounds; i++) {
      const order = i % 2 ? [[4, four], [1, one]] : [[1, one], [4, four]];
      for (const [c, into] of order) into.push(await upload(ctx, c, "bytes"));
    }
    const raw = await upload(ctx, 4, "raw-bytes");
    const reused = await upload(ctx, 4, "stream-reused");
    const stream = await upload(ctx, 4, "stream");
    const floor = await upload(ctx, 4, "floor-stream");
    await faults(null);
    const bare4 = await upload(ctx, 4, "bytes");
    const bare1 = await upload(ctx, 1, "bytes");
    const med = (runs, k) => median(runs.map((r) => r[k]));
    return {
      mib, partMib, latencyMs, rounds, parts: Math.ceil(mib / partMib),
      c1: { seconds: med(one, "uploadSeconds"), parts: med(one, "partsSeconds"), rss: Math.max(...one.map((r) => r.rssGrowth)) },
      c4: { seconds: med(four, "uploadSeconds"), parts: med(four, "partsSeconds"), rss: Math.max(...four.map((r) => r.rssGrowth)) },
      raw: { seconds: raw.uploadSeconds, parts: raw.partsSeconds, rss: raw.rssGrowth },
      reused: { seconds: reused.uploadSeconds, rss: reused.rssGrowth },
      stream: { seconds: stream.uploadSeconds, rss: stream.rssGrowth },
      floor: { rss: floor.rssGrowth },
      noLatency: { c1: bare1.uploadSeconds, c4: bare4.uploadSeconds, c1Parts: bare1.partsSeconds, c4Parts: bare4.partsSeconds },
    };
  } finally {
    await faults(null);
  }
}
