// Node only: upload parts of bytes and streams reach fetch as Blob-like views over the
// caller's own memory (no copy per part: issue 5's memory bound, measured by
// bench/upload-memory.mjs), sized so fetch sends a Content-Length, and can be streamed
// again when a part is retried. The bytes the emulator stored match the source.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { ShotGrid } from "../../../pkg/node.js";
import { envFrom } from "../scenario.mjs";

const env = envFrom(process.env);
const MiB = 1024 * 1024;
const OPTIONS = { field: "sg_uploaded_movie", minPartSize: MiB, partSize: MiB, multipartThreshold: MiB, concurrency: 2 };

/** Connects with a fetch that records the body of every PUT and, once, fails part 2 with a 500. */
async function connect() {
  const puts = [];
  let failed = false;
  const sg = await ShotGrid.connect({
    site: env.url,
    auth: { grant: "client_credentials", clientId: env.clientId, clientSecret: env.clientSecret },
    fetch: async (url, init = {}) => {
      if (init.method === "PUT") {
        puts.push({ url: String(url), body: init.body, contentLength: null });
        if (!failed && puts.length === 2) {
          failed = true;
          // Read the body as fetch would, then answer 500: the part is retried.
          for await (const _ of init.body.stream()) void _;
          return new Response("injected", { status: 500 });
        }
      }
      return globalThis.fetch(url, init);
    },
  });
  return { sg, puts };
}

async function storedSha(attachmentId) {
  const r = await fetch(`${env.url}/_admin/files/${attachmentId}/sha256`, { headers: { "x-admin-secret": env.adminSecret } });
  assert.ok(r.ok, `admin sha256: ${r.status}`);
  return (await r.json()).sha256;
}

async function latestMovie(sg) {
  const v = await sg.read("Version", 1, { fields: ["sg_uploaded_movie"] });
  return v.sg_uploaded_movie.id;
}

async function chunksOf(body) {
  const out = [];
  for await (const c of body.stream()) out.push(c);
  return out;
}

test("bytes: each part is a Blob-like view of the caller's buffer, re-readable for the retried part", async () => {
  const { sg, puts } = await connect();
  const bytes = new Uint8Array(3 * MiB + 777).map((_, i) => (i * 7) & 0xff);
  const r = await sg.upload("Version", 1, bytes, { ...OPTIONS, filename: "nocopy.bin" });
  assert.equal(r.multipart, true);
  assert.equal(r.parts, 4);
  assert.equal(puts.length, 5, "4 parts, one of them sent twice");
  for (const { body } of puts) {
    assert.equal(Object.prototype.toString.call(body), "[object Blob]");
    assert.ok(!(body instanceof Uint8Array) && !(body instanceof Blob), "not a copy in a Uint8Array or a Blob");
    for (const chunk of await chunksOf(body)) assert.equal(chunk.buffer, bytes.buffer, "a view of the source, not a copy");
  }
  // The retried part (the 2nd PUT failed) streamed all of its bytes again.
  const retried = puts.filter((p) => p.body.size === puts[1].body.size && p.url.split("?")[0] === puts[1].url.split("?")[0]);
  assert.ok(retried.length >= 2, "part 2 was sent again");
  const total = puts.slice(2).concat(puts[0]).reduce((a, p) => a + p.body.size, 0);
  assert.equal(total, bytes.length);
  assert.equal(await storedSha(await latestMovie(sg)), createHash("sha256").update(bytes).digest("hex"));
});

test("stream: parts are the stream's own chunks (views), never gathered into a new buffer", async () => {
  const { sg, puts } = await connect();
  const size = 2 * MiB + 4096;
  const produced = [];
  let sent = 0;
  const stream = new ReadableStream({
    pull(c) {
      if (sent >= size) return c.close();
      const n = Math.min(300 * 1024, size - sent);
      const chunk = new Uint8Array(n).fill(sent & 0xff);
      produced.push(chunk);
      c.enqueue(chunk);
      sent += n;
    },
  });
  const r = await sg.upload("Version", 1, { stream, size, name: "nocopy-stream.bin" }, OPTIONS);
  assert.equal(r.parts, 3);
  const buffers = new Set(produced.map((c) => c.buffer));
  for (const { body } of puts) {
    assert.equal(Object.prototype.toString.call(body), "[object Blob]");
    for (const chunk of await chunksOf(body)) assert.ok(buffers.has(chunk.buffer), "a chunk that is not one of the stream's");
  }
  const hash = createHash("sha256");
  for (const c of produced) hash.update(c);
  assert.equal(await storedSha(await latestMovie(sg)), hash.digest("hex"));
});

test("a single PUT (below the threshold) sends a Blob-like body of the file's size", async () => {
  const { sg, puts } = await connect();
  const bytes = new Uint8Array(1234).fill(5);
  const r = await sg.upload("Version", 1, bytes, { field: "sg_uploaded_movie", filename: "small.bin" });
  assert.equal(r.multipart, false);
  assert.equal(puts.length, 1);
  assert.equal(puts[0].body.size, 1234);
  assert.equal(await storedSha(await latestMovie(sg)), createHash("sha256").update(bytes).digest("hex"));
});
