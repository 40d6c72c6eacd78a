// Fault suites (issue 6), shared by Node, workerd and Chromium: the client against an
// emulator of its own (`cargo xtask test --suite faults` starts one only for these, so
// injected faults and expired tokens never reach another suite) whose fault injection is
// driven through the admin routes. Every case starts from `POST /_admin/reset` (faults
// cleared, counters zeroed), seeds the fault generator, and clears faults when done.
//
// Each case resolves to its figures (requests, faults injected, time), which the runner
// prints and RELIABILITY.md quotes. A case may name the runtimes it runs in.
//
// t = { ShotGrid, ShotGridError, env, runtime } with env = { url, clientId, clientSecret,
// adminSecret, projectId, ids } (projectId: the project holding the 20,000 seeded shots,
// ids: their ids, both from the runner's seeding).

import { check, connect, eq, sleep } from "./check.mjs";

const MiB = 1024 * 1024;

/** A call to the emulator's admin routes (never faulted). */
export async function admin(env, path, init = {}) {
  const res = await fetch(`${env.url}${path}`, {
    ...init,
    headers: { "x-admin-secret": env.adminSecret, "content-type": "application/json" },
  });
  if (!res.ok) throw new Error(`admin ${path}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? null : res.json();
}
const setFaults = (env, config) => admin(env, "/_admin/faults", { method: "POST", body: JSON.stringify(config) });
const clearFaults = (env) => admin(env, "/_admin/faults", { method: "DELETE" });
const stats = (env) => admin(env, "/_admin/stats");
const reset = (env) => admin(env, "/_admin/reset", { method: "POST" });

/** Runs `fn` over `items` with at most `limit` in flight; returns results in order. */
async function pool(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/** Deterministic pseudo-random bytes (xorshift). */
function bytesOf(size, seed) {
  const out = new Uint8Array(size);
  let x = (seed * 2654435761) >>> 0 || 1;
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

/** The fault counters of a stats answer, with zeros for kinds never injected. */
function faultsOf(s) {
  const f = s.faults ?? {};
  return { error: f.error ?? 0, drop: f.drop ?? 0, rate_limited: f.rate_limited ?? 0,
    drop_after_commit: f.drop_after_commit ?? 0, drop_mid_response: f.drop_mid_response ?? 0 };
}

/** A unique tag for records a case creates (cases run once per runtime on one site). */
function tag(t) {
  return `${t.runtime}_${Date.now().toString(36)}_${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/**
 * 1,000 creates, 8 in flight, with a quarter of the writes committed and then their
 * connection dropped (`kind`: before any byte of the answer, or mid-response).
 */
async function createsUnderDrops(t, kind) {
  const { env } = t;
  await reset(env);
  let sends = 0;
  const fetch = (url, init = {}) => {
    if (String(init.method ?? "GET").toUpperCase() === "POST" && new URL(String(url)).pathname === "/api/v1/entity/shots") sends += 1;
    return globalThis.fetch(url, init);
  };
  const sg = await connect(t, { fetch });
  const prefix = `FAULT${kind === "drop_mid_response" ? "M" : "C"}_${tag(t)}_`;
  const codes = Array.from({ length: 1000 }, (_, i) => `${prefix}${String(i).padStart(4, "0")}`);
  await setFaults(env, { [`${kind}_rate`]: 0.25, classes: ["write"], seed: 1000 });
  const started = Date.now();
  let outcomes;
  try {
    outcomes = await pool(codes, 8, async (code) => {
      try {
        const r = await sg.create("Shot", { code, project: { type: "Project", id: 1 } }, { fields: ["code"] });
        return { ok: true, id: r.id, code: r.code };
      } catch (err) {
        return { ok: false, err };
      }
    });
  } finally {
    await clearFaults(env);
  }
  const elapsedMs = Date.now() - started;
  const s = await stats(env);
  const faults = faultsOf(s);
  const failed = outcomes.filter((o) => !o.ok);
  const stored = await sg.find("Shot", [["code", "starts_with", prefix]], { fields: ["code"], limit: 5000 });
  const figures = {
    creates: 1000, clientSends: sends, siteWrites: s.requests.write, browserReplays: s.requests.write - sends,
    failedMaybeApplied: failed.length, injectedDrops: faults[kind],
    stored: stored.length, distinct: new Set(stored.map((r) => r.code)).size, elapsedMs,
  };
  const what = JSON.stringify(figures);
  for (const { err } of failed) {
    check(err instanceof t.ShotGridError, `a typed error (${err})`);
    eq(err.kind, "network", "kind of a dropped write");
    eq(err.maybeApplied, true, "maybeApplied");
    check(/may have/i.test(err.message), `the message says the write may have happened: ${err.message}`);
  }
  for (const o of outcomes.filter((x) => x.ok)) check(o.code.startsWith(prefix), "created record echoes its code");
  // The client sent every create exactly once, whatever happened to it.
  eq(sends, 1000, `client sends ${what}`);
  // Nothing lost: every create is stored (committed before its connection dropped).
  eq(figures.distinct, 1000, `distinct codes stored ${what}`);
  // Every request that reached the site committed exactly once.
  eq(stored.length, s.requests.write, `one record per request the site received ${what}`);
  // Each injected drop either surfaced as a maybeApplied failure or was hidden by a
  // replay of the runtime's HTTP stack.
  eq(failed.length + figures.browserReplays, faults[kind], `drops = failures + replays ${what}`);
  check(faults[kind] > 150 && faults[kind] < 350, `about a quarter of the creates were dropped ${what}`);
  if (kind === "drop_mid_response" || t.runtime !== "chromium") {
    eq(figures.browserReplays, 0, `no replay below the client ${what}`);
    eq(stored.length, 1000, `zero duplicates ${what}`);
  }
  return figures;
}

export const TOTAL = 20_000;

export const cases = [
  [`iterate ${TOTAL.toLocaleString("en")} records under 10 % 503, 3 % dropped connections, 2 % 429 with Retry-After and a forced token expiry: exactly ${TOTAL.toLocaleString("en")} unique ids`, async (t) => {
    const { env } = t;
    await reset(env);
    const sg = await connect(t, { retry: { maxAttempts: 8, baseMs: 5, slowDownBaseMs: 20, capMs: 250 } });
    await setFaults(env, {
      error_rate: 0.10, error_statuses: [503], drop_rate: 0.03, rate_limit_rate: 0.02, retry_after_secs: 1, seed: 20_000,
    });
    const started = Date.now();
    const ids = new Set();
    let records = 0;
    let pages = 0;
    let expiredAt = null;
    try {
      const filters = [["project", "is", { type: "Project", id: env.projectId }]];
      for await (const page of sg.iterate("Shot", filters, { fields: ["code"], pageSize: 100, concurrency: 4 }).pages()) {
        pages += 1;
        for (const r of page) {
          records += 1;
          ids.add(r.id);
          check(typeof r.code === "string" && r.code.startsWith("FAULTS_"), `record ${r.id} carries its code`);
        }
        if (pages === 60) {
          // Forced token expiry mid-run: every access token the site issued is dead now.
          await admin(env, "/_admin/expire_tokens", { method: "POST" });
          expiredAt = (await stats(env)).token_requests;
        }
      }
    } finally {
      await clearFaults(env);
    }
    const elapsedMs = Date.now() - started;
    const s = await stats(env);
    const faults = faultsOf(s);
    eq(records, TOTAL, "records yielded");
    eq(ids.size, TOTAL, "unique ids");
    for (const id of env.ids) if (!ids.has(id)) throw new Error(`assertion failed: seeded id ${id} missing`);
    check(expiredAt !== null, "the token was expired mid-run");
    // The expiry was noticed (401 "Token Expired") and a new token was obtained.
    check(s.token_requests > expiredAt, `a token request after the forced expiry (${expiredAt} → ${s.token_requests})`);
    check(faults.error > 0 && faults.drop > 0 && faults.rate_limited > 0, `every fault kind was injected: ${JSON.stringify(faults)}`);
    const reads = s.requests.read ?? 0;
    check(reads > pages, `failed page reads were retried (${reads} requests for ${pages} pages)`);
    return { records, pages, readRequests: reads, tokenRequests: s.token_requests, faults, elapsedMs };
  }],

  // The client never replays a write; Node's and workerd's fetch never do either, so
  // there every create is stored exactly once. Chromium's network stack itself re-sends
  // a request (POST included) when a *reused* keep-alive connection closes before any
  // response byte: the site then commits the create twice and the client, which sent it
  // once and got a 201 for the copy, cannot know. That is measured here, not hidden
  // (`browserReplays`; RELIABILITY.md, "Known limits"). Once the answer has begun, no
  // runtime re-sends: with answers cut off mid-response every runtime must show zero
  // duplicates.
  ["1,000 creates with connections dropped after the server committed: sent once each, nothing lost, every failure typed with maybeApplied; zero duplicates where the runtime's fetch does not replay",
    (t) => createsUnderDrops(t, "drop_after_commit")],
  ["1,000 creates with answers cut off mid-response after the server committed: zero duplicates in every runtime, every failure typed with maybeApplied",
    (t) => createsUnderDrops(t, "drop_mid_response")],

  ["200 concurrent calls when the site expires the token: exactly one token request", async (t) => {
    const { env } = t;
    const sg = await connect(t);
    await sg.read("Shot", 1, { fields: ["code"] });
    await admin(env, "/_admin/expire_tokens", { method: "POST" });
    await reset(env);
    const started = Date.now();
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) =>
      i % 2 ? sg.read("Shot", 1 + (i % 5), { fields: ["code"] }) : sg.find("Shot", null, { fields: ["code"], limit: 2 })));
    const elapsedMs = Date.now() - started;
    const s = await stats(env);
    eq(results.length, 200, "every call resolved");
    eq(s.token_requests, 1, "token requests that reached the site");
    eq(s.token_grants, 1, "tokens granted");
    return { calls: 200, tokenRequests: s.token_requests, readRequests: s.requests.read, elapsedMs };
  }],

  ["200 concurrent calls when the client sees its token due for renewal: exactly one token request", async (t) => {
    const { env } = t;
    // The emulator's tokens live 600 s; renewing 598.5 s early makes the token due 1.5 s
    // after the grant, with no answer from the site needed to notice.
    const sg = await connect(t, { refreshMarginMs: 598_500 });
    const before = sg.tokenExpiresAt;
    await sleep(1_600);
    await reset(env);
    const started = Date.now();
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => sg.read("Shot", 1 + (i % 5), { fields: ["code"] })));
    const elapsedMs = Date.now() - started;
    const s = await stats(env);
    eq(results.length, 200, "every call resolved");
    eq(s.token_requests, 1, "token requests that reached the site");
    check(sg.tokenExpiresAt > before, "the token was renewed");
    return { calls: 200, tokenRequests: s.token_requests, elapsedMs };
  }],

  ["a 24-part multipart upload with 20 % of part PUTs failing: byte-identical (SHA-256)", async (t) => {
    const { env } = t;
    await reset(env);
    const sg = await connect(t, { retry: { maxAttempts: 8, baseMs: 5, capMs: 100 } });
    const size = 24 * MiB - 777;
    const bytes = bytesOf(size, 24);
    const expected = await sha256(bytes);
    await setFaults(env, { error_rate: 0.10, error_statuses: [500, 503], drop_rate: 0.10, retry_after_secs: 0, classes: ["upload"], seed: 2024 });
    const started = Date.now();
    let result;
    try {
      result = await sg.upload("Version", 1, bytes, {
        field: "sg_uploaded_movie", filename: "faults.mov",
        minPartSize: MiB, partSize: MiB, multipartThreshold: MiB, concurrency: 3,
      });
    } finally {
      await clearFaults(env);
    }
    const elapsedMs = Date.now() - started;
    const s = await stats(env);
    const faults = faultsOf(s);
    eq(result.parts, 24, "parts");
    eq(result.size, size, "size");
    const info = await sg.fileInfo("Version", 1, "sg_uploaded_movie");
    const stored = await admin(env, `/_admin/files/${info.id}/sha256`);
    eq(stored.size, size, "stored size");
    eq(stored.sha256, expected, "stored SHA-256");
    const partPuts = s.requests.upload ?? 0;
    check(faults.error + faults.drop > 0, `part PUTs failed (${JSON.stringify(faults)})`);
    eq(partPuts, 24 + faults.error + faults.drop, "one PUT per part plus one per injected failure");
    return { parts: 24, partPuts, failedPuts: faults.error + faults.drop, elapsedMs };
  }, { runtimes: ["node", "workerd"] }],
];

/** Runs the cases meant for `runtime`; each result carries the case's figures. */
export async function runFaults(ctx) {
  const results = [];
  for (const [name, fn, opts] of cases) {
    if (opts?.runtimes && !opts.runtimes.includes(ctx.runtime)) continue;
    const started = Date.now();
    try {
      const figures = await fn(ctx);
      results.push({ name, ok: true, figures, ms: Date.now() - started });
    } catch (err) {
      results.push({ name, ok: false, error: String((err && err.stack) || err), ms: Date.now() - started });
      // Never leave faults on for the next case.
      await clearFaults(ctx.env).catch(() => {});
    }
  }
  return results;
}
