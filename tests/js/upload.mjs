// Uploads and downloads end to end, shared by the Node, workerd and Chromium suites.
// Every case runs against both emulators started by `cargo xtask test`: `s3` storage
// (env.url: pre-signed storage URLs, multipart) and `sg` storage (env.sgUrl: one PUT
// with the token). Both have `--min-part-size 1048576`, so multipart is tested with
// 1 MiB parts (`minPartSize` lowers the client's 5 MiB floor); env.adminSecret reads
// the SHA-256 of stored files and injects faults.

import { check, eq } from "./check.mjs";

const MiB = 1024 * 1024;
const SIZES = [1, 5 * MiB - 1, 3 * MiB + 12345];
const MULTIPART = { minPartSize: MiB, partSize: MiB, multipartThreshold: MiB, concurrency: 3 };

function modes(env) {
  return [["s3", env.url], ["sg", env.sgUrl]];
}

/** Connects to `site`, recording every request (method, url, auth?, status). */
function connect(t, site, extra = {}) {
  const log = [];
  const baseFetch = extra.fetch ?? globalThis.fetch.bind(globalThis);
  const fetch = async (url, init = {}) => {
    const headers = new Headers(init.headers);
    const entry = { method: init.method ?? "GET", url: String(url), auth: headers.has("authorization"), status: null };
    log.push(entry);
    const res = await baseFetch(url, init);
    entry.status = res.status;
    return res;
  };
  const { fetch: _ignored, ...rest } = extra;
  return ShotGridConnect(t, site, { ...rest, fetch }).then((sg) => ({ sg, log }));
}
function ShotGridConnect(t, site, extra) {
  return t.ShotGrid.connect({
    site,
    auth: { grant: "client_credentials", clientId: t.env.clientId, clientSecret: t.env.clientSecret },
    ...extra,
  });
}

/** Deterministic pseudo-random bytes. */
function bytesOf(size, seed = 1) {
  const out = new Uint8Array(size);
  let x = seed * 2654435761 >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    out[i] = x & 255;
  }
  return out;
}

async function sha256(bytes) {
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A ReadableStream over `bytes` in odd-sized chunks. */
function streamOf(bytes, chunk = 65_537) {
  let pos = 0;
  return new ReadableStream({
    pull(c) {
      if (pos >= bytes.length) return c.close();
      c.enqueue(bytes.slice(pos, pos + chunk));
      pos += chunk;
    },
  });
}

/** Data kinds this runtime can send. */
function kinds() {
  const k = ["bytes", "stream"];
  if (typeof Blob !== "undefined") k.push("blob");
  return k;
}
function dataOf(kind, bytes, name) {
  if (kind === "bytes") return bytes;
  if (kind === "stream") return { stream: streamOf(bytes), size: bytes.length, name };
  return new Blob([bytes]);
}

async function admin(site, t, path, init = {}) {
  const res = await fetch(`${site}${path}`, { ...init, headers: { "x-admin-secret": t.env.adminSecret, "content-type": "application/json" } });
  if (!res.ok) throw new Error(`admin ${path}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? null : res.json();
}

async function storedSha(site, t, attachmentId) {
  return (await admin(site, t, `/_admin/files/${attachmentId}/sha256`)).sha256;
}

async function readAll(stream) {
  const reader = stream.getReader();
  const chunks = [];
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    n += value.length;
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) { out.set(c, o); o += c.length; }
  return out;
}

function sameBytes(a, b, what) {
  eq(a.length, b.length, `${what}: length`);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) throw new Error(`${what}: byte ${i} differs`);
}

function noTokenToStorage(log) {
  for (const r of log) {
    if (r.url.includes("/_storage/")) check(!r.auth, `no Authorization to storage: ${r.method} ${r.url}`);
  }
}

const VERSION = 3;

export const cases = [
  ["upload: 1 B, 5 MiB − 1 B and several parts (short last part), every data kind, both storages; stored SHA-256 matches", async (t) => {
    for (const [mode, site] of modes(t.env)) {
      const { sg, log } = await connect(t, site);
      for (const kind of kinds()) {
        for (const size of SIZES) {
          const bytes = bytesOf(size, size + kind.length);
          const progress = [];
          const multipart = size > 4 * MiB ? {} : MULTIPART;
          const r = await sg.upload("Version", VERSION, dataOf(kind, bytes, "clip.mov"), {
            field: "sg_uploaded_movie", filename: "clip.mov", ...multipart,
            onProgress: (p) => progress.push(p),
          });
          const what = `${mode}/${kind}/${size}`;
          eq(r.storage, mode, `${what}: storage`);
          eq(r.size, size, `${what}: size`);
          const expectParts = mode === "s3" && size === 3 * MiB + 12345 ? 4 : 1;
          eq(r.parts, expectParts, `${what}: parts`);
          check(progress.length >= 2, `${what}: progress at start and end`);
          for (let i = 1; i < progress.length; i++) check(progress[i].sent >= progress[i - 1].sent, `${what}: monotonic progress`);
          eq(progress.at(-1).sent, size, `${what}: progress ends at total`);
          eq(progress.at(-1).total, size, `${what}: total`);
          const info = await sg.fileInfo("Version", VERSION, "sg_uploaded_movie");
          eq(info.type, "Attachment", `${what}: field links an Attachment`);
          eq(info.content_type, "video/quicktime", `${what}: content type guessed from the name`);
          eq(await storedSha(site, t, info.id), await sha256(bytes), `${what}: stored SHA-256`);
        }
      }
      noTokenToStorage(log);
      if (mode === "s3") check(log.some((r) => r.url.includes("partNumber=4")), "s3: parts were sent");
      else check(!log.some((r) => r.url.includes("/_storage/")), "sg: nothing sent to storage");
    }
  }],

  ["download: bytes, blob, stream and ranges round-trip; the token never goes to storage", async (t) => {
    for (const [mode, site] of modes(t.env)) {
      const { sg, log } = await connect(t, site);
      const bytes = bytesOf(2 * MiB + 77, 9);
      await sg.upload("Version", VERSION + 1, bytes, { field: "sg_uploaded_movie", filename: "round.bin", ...MULTIPART });
      const got = await sg.download("Version", VERSION + 1, "sg_uploaded_movie");
      check(got instanceof Uint8Array, "bytes by default");
      sameBytes(got, bytes, `${mode}: bytes`);
      const blob = await sg.download("Version", VERSION + 1, "sg_uploaded_movie", { as: "blob" });
      sameBytes(new Uint8Array(await blob.arrayBuffer()), bytes, `${mode}: blob`);
      const stream = await sg.download("Version", VERSION + 1, "sg_uploaded_movie", { as: "stream" });
      sameBytes(await readAll(stream), bytes, `${mode}: stream`);
      const part = await sg.download("Version", VERSION + 1, "sg_uploaded_movie", { range: { start: MiB - 5, end: MiB + 1000 } });
      sameBytes(part, bytes.subarray(MiB - 5, MiB + 1000), `${mode}: range`);
      const tail = await sg.download("Version", VERSION + 1, "sg_uploaded_movie", { range: { start: bytes.length - 10 } });
      sameBytes(tail, bytes.subarray(bytes.length - 10), `${mode}: open range`);
      noTokenToStorage(log);
    }
  }],

  ["thumbnail upload (image) downloads back as original and thumbnail", async (t) => {
    for (const [mode, site] of modes(t.env)) {
      const { sg } = await connect(t, site);
      const png = bytesOf(4096, 5);
      const r = await sg.upload("Version", VERSION + 2, png, { field: "image", filename: "thumb.png" });
      eq(r.uploadType, "Thumbnail", `${mode}: upload type`);
      sameBytes(await sg.download("Version", VERSION + 2, "image"), png, `${mode}: image original`);
      sameBytes(await sg.download("Version", VERSION + 2, "image", { alt: "thumbnail" }), png, `${mode}: thumbnail`);
      const url = await sg.fileInfo("Version", VERSION + 2, "image");
      check(typeof url === "string" && url.startsWith("http"), `${mode}: image field metadata is a URL`);
    }
  }],

  ["attachments: on the record with display name and tags, and on a named multi-entity field", async (t) => {
    for (const [mode, site] of modes(t.env)) {
      const { sg } = await connect(t, site);
      const bytes = bytesOf(1000, 3);
      await sg.upload("Version", VERSION + 3, bytes, { filename: "notes.txt", displayName: "Review notes", tags: [1, { type: "Tag", id: 2 }] });
      const [att] = await sg.find("Attachment", [], { fields: ["this_file", "tags", "attachment_links", "filename"], sort: ["-id"], limit: 1 });
      eq(att.filename, "notes.txt", `${mode}: newest attachment`);
      eq(att.this_file.name, "Review notes", `${mode}: display name`);
      eq(att.this_file.content_type, "text/plain", `${mode}: content type`);
      eq(att.tags.map((x) => x.id).join(","), "1,2", `${mode}: tags`);
      check(att.attachment_links.some((l) => l.type === "Version" && l.id === VERSION + 3), `${mode}: linked to the record`);
      eq(await storedSha(site, t, att.id), await sha256(bytes), `${mode}: stored SHA-256`);

      const before = (await sg.read("Note", 1, { fields: ["attachments"] })).attachments ?? [];
      await sg.upload("Note", 1, bytes, { field: "attachments", filename: "a.pdf", ...MULTIPART });
      const after = (await sg.read("Note", 1, { fields: ["attachments"] })).attachments;
      eq(after.length, before.length + 1, `${mode}: one more attachment on Note.attachments`);
      eq(await storedSha(site, t, after.at(-1).id), await sha256(bytes), `${mode}: field attachment SHA-256`);
    }
  }],

  ["injected part failures (500s and dropped connections) are retried per part without restarting", async (t) => {
    for (const [mode, site] of modes(t.env)) {
      await admin(site, t, "/_admin/faults", {
        method: "POST",
        body: JSON.stringify({ error_rate: 0.4, error_statuses: [500], drop_rate: 0.1, classes: ["upload"], seed: 42 }),
      });
      try {
        const { sg, log } = await connect(t, site, { retry: { maxAttempts: 8, baseMs: 5, capMs: 40 } });
        const before = (await admin(site, t, "/_admin/stats")).faults ?? {};
        const sizes = [3 * MiB + 1, 6000, 1000, 2 * MiB + 5, 3000];
        for (const [i, size] of sizes.entries()) {
          const bytes = bytesOf(size, 40 + i);
          await sg.upload("Version", VERSION + 4, bytes, { field: "sg_uploaded_movie", filename: "f.mov", ...MULTIPART });
          const info = await sg.fileInfo("Version", VERSION + 4, "sg_uploaded_movie");
          eq(await storedSha(site, t, info.id), await sha256(bytes), `${mode}/${size}: stored SHA-256 after retries`);
        }
        const after = (await admin(site, t, "/_admin/stats")).faults ?? {};
        const injected = (after.error ?? 0) + (after.drop ?? 0) - (before.error ?? 0) - (before.drop ?? 0);
        check(injected > 0, `${mode}: faults were injected (${injected})`);
        const infoGets = log.filter((r) => r.method === "GET" && /\/_upload\?filename=/.test(r.url)).length;
        // sg storage refuses multipart (400): one more info request without it.
        const refused = mode === "sg" ? sizes.filter((n) => n >= MiB).length : 0;
        eq(infoGets, sizes.length + refused, `${mode}: one upload-info request per upload (no restart)`);
      } finally {
        await admin(site, t, "/_admin/faults", { method: "DELETE" });
      }
    }
  }],

  ["abort mid-upload: rejects with kind aborted, multipart_abort is called, nothing is linked", async (t) => {
    const site = t.env.url;
    const controller = new AbortController();
    const { sg, log } = await connect(t, site, {
      fetch: async (url, init) => {
        if (String(url).includes("partNumber=3")) controller.abort();
        return globalThis.fetch(url, init);
      },
    });
    const field = "sg_uploaded_movie";
    const before = JSON.stringify((await sg.read("Version", VERSION + 5, { fields: [field] }))[field] ?? null);
    let err;
    try {
      await sg.upload("Version", VERSION + 5, bytesOf(5 * MiB + 3, 77), { field, filename: "x.mov", ...MULTIPART, concurrency: 2, signal: controller.signal });
    } catch (e) {
      err = e;
    }
    check(err, "upload rejected");
    check(err instanceof t.ShotGridError, "a ShotGridError");
    eq(err.kind, "aborted", "kind");
    const abort = log.find((r) => r.method === "POST" && r.url.endsWith("/_upload/multipart_abort"));
    check(abort, "multipart_abort was called");
    eq(abort.status, 204, "multipart_abort answered 204");
    check(!log.some((r) => r.method === "POST" && /\/_upload$/.test(r.url)), "no completion");
    const after = JSON.stringify((await sg.read("Version", VERSION + 5, { fields: [field] }))[field] ?? null);
    eq(after, before, "no attachment linked");
    // An already-aborted signal rejects before anything is sent.
    const n = log.length;
    const e2 = await sg.upload("Version", VERSION + 5, bytesOf(10), { filename: "y.bin", signal: controller.signal }).catch((e) => e);
    eq(e2.kind, "aborted", "pre-aborted kind");
    eq(log.length, n, "nothing sent");
  }],

  ["upload input errors name the argument", async (t) => {
    const { sg } = await connect(t, t.env.url);
    const cases = [
      [() => sg.upload("Version", 1, new Uint8Array(1)), "options.filename"],
      [() => sg.upload("Version", 1, streamOf(new Uint8Array(1)), { filename: "a" }), "data"],
      [() => sg.upload("Version", 1, 42, { filename: "a" }), "data"],
      [() => sg.upload("Version", 1, new Uint8Array(1), { filename: "a", concurrency: 0 }), "options.concurrency"],
      [() => sg.upload("Version", 1, new Uint8Array(1), { filename: "a", multipartThreshold: 1000 }), "options.multipartThreshold"],
      [() => sg.upload("Version", 1, new Uint8Array(1), { filename: "a", bogus: 1 }), "options.bogus"],
      [() => sg.download("Version", 1, "sg_uploaded_movie", { as: "text" }), "options.as"],
      [() => sg.download("Version", 1, "sg_uploaded_movie", { range: { start: 5, end: 5 } }), "options.range.end"],
    ];
    for (const [call, source] of cases) {
      const err = await Promise.resolve().then(call).catch((e) => e);
      check(err instanceof t.ShotGridError, `${source}: a ShotGridError (${err})`);
      eq(err.kind, "invalid_input", `${source}: kind`);
      eq(err.source, source, "source");
    }
    const short = await sg.upload("Version", 1, { stream: streamOf(new Uint8Array(10)), size: 20, name: "s.bin" }).catch((e) => e);
    eq(short.source, "data.size", "a stream shorter than its size");
  }],
];
