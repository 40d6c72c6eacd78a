// Cancellation and timeouts: `signal`, `timeoutMs`, `deadlineMs` on every call. The
// injected fetch plays a slow or silent server and honours `init.signal` the way the
// runtime's fetch does, so these run the same in Node, workerd and Chromium.

import { check, connect, eq, rejects, sleep } from "./check.mjs";

const abortError = () => new DOMException("The operation was aborted.", "AbortError");

/** A fetch that delays entity requests by `delayMs` (Infinity: never answers), counting them. */
function slowFetch(delayMs, stats = { entity: 0 }) {
  const f = (url, init = {}) => {
    if (!String(url).includes("/entity/")) return globalThis.fetch(url, init);
    stats.entity += 1;
    return new Promise((resolve, reject) => {
      const signal = init.signal;
      if (signal?.aborted) return reject(abortError());
      const t = Number.isFinite(delayMs) ? setTimeout(() => globalThis.fetch(url, { ...init, signal: undefined }).then(resolve, reject), delayMs) : null;
      signal?.addEventListener("abort", () => { if (t) clearTimeout(t); reject(abortError()); }, { once: true });
    });
  };
  f.stats = stats;
  return f;
}

export const cases = [
  ["an already-aborted signal rejects at once and sends nothing", async (t) => {
    const fetch = slowFetch(0);
    const sg = await connect(t, { fetch });
    const c = new AbortController();
    c.abort();
    const err = await rejects(sg.find("Shot", null, { signal: c.signal }), "find with an aborted signal");
    check(err instanceof t.ShotGridError, "typed error");
    eq(err.kind, "aborted", "kind");
    eq(fetch.stats.entity, 0, "nothing sent");
  }],

  ["aborting a call in flight rejects promptly with kind aborted", async (t) => {
    const sg = await connect(t, { fetch: slowFetch(5_000) });
    const c = new AbortController();
    const started = Date.now();
    const pending = sg.read("Shot", 1, { fields: ["code"], signal: c.signal });
    await sleep(50);
    c.abort();
    const err = await rejects(pending, "aborted read");
    eq(err.kind, "aborted", "kind");
    check(Date.now() - started < 2_000, `rejected promptly (${Date.now() - started} ms)`);
    // The session still works for other calls.
    const ok = await connect(t);
    eq((await ok.read("Shot", 1, { fields: ["code"] })).id, 1, "other calls unaffected");
  }],

  ["a silent server times out each attempt, retried, then a typed timeout", async (t) => {
    const fetch = slowFetch(Infinity);
    const sg = await connect(t, { fetch, retry: { maxAttempts: 3, baseMs: 10 } });
    const started = Date.now();
    const err = await rejects(sg.findOne("Shot", null, { timeoutMs: 100 }), "read from a silent server");
    eq(err.kind, "timeout", "kind");
    eq(fetch.stats.entity, 3, "three attempts");
    const took = Date.now() - started;
    check(took >= 250 && took < 3_000, `about 3 × 100 ms (${took} ms)`);
  }],

  ["a body that never ends times out within the attempt's budget, and the attempt is cancelled", async (t) => {
    const signals = [];
    const fetch = (url, init = {}) => {
      if (!String(url).includes("/entity/")) return globalThis.fetch(url, init);
      signals.push(init.signal);
      // The head arrives at once; the body sends a few bytes, then nothing.
      const body = new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode('{"data":{')); } });
      return Promise.resolve(new Response(body, { status: 200, headers: { "content-type": "application/json" } }));
    };
    const sg = await connect(t, { fetch, retry: false });
    const started = Date.now();
    const err = await rejects(sg.read("Shot", 1, { timeoutMs: 150 }), "read of an endless body");
    eq(err.kind, "timeout", "kind");
    const took = Date.now() - started;
    check(took >= 140 && took < 2_000, `about 150 ms (${took} ms)`);
    eq(signals.length, 1, "one attempt");
    eq(signals[0]?.aborted, true, "the attempt's signal is aborted");
  }],

  ["an abort rejects promptly even when the fetch ignores its signal", async (t) => {
    const fetch = (url, init) => (String(url).includes("/entity/") ? new Promise(() => {}) : globalThis.fetch(url, init));
    const sg = await connect(t, { fetch });
    const c = new AbortController();
    const started = Date.now();
    const pending = sg.read("Shot", 1, { signal: c.signal });
    await sleep(50);
    c.abort();
    const err = await rejects(pending, "aborted read on a deaf fetch");
    eq(err.kind, "aborted", "kind");
    check(Date.now() - started < 2_000, `rejected promptly (${Date.now() - started} ms)`);
  }],

  ["the deadline bounds the whole call, retries included", async (t) => {
    const fetch = slowFetch(Infinity);
    const sg = await connect(t, { fetch, retry: { maxAttempts: 10, baseMs: 10 } });
    const started = Date.now();
    const err = await rejects(sg.find("Shot", null, { timeoutMs: 100, deadlineMs: 350 }), "find past its deadline");
    eq(err.kind, "timeout", "kind");
    const took = Date.now() - started;
    check(took < 1_500, `stopped near the deadline (${took} ms)`);
    check(fetch.stats.entity < 10, `fewer than 10 attempts (${fetch.stats.entity})`);
  }],

  ["an abort cuts a Retry-After wait short", async (t) => {
    let calls = 0;
    const fetch = (url, init) => {
      if (!String(url).includes("/entity/")) return globalThis.fetch(url, init);
      calls += 1;
      return Promise.resolve(new Response(JSON.stringify({ errors: [{ status: 503, code: 100, title: "Busy" }] }), { status: 503, headers: { "retry-after": "30", "content-type": "application/json" } }));
    };
    const sg = await connect(t, { fetch });
    const c = new AbortController();
    const started = Date.now();
    const pending = sg.read("Shot", 1, { signal: c.signal });
    await sleep(100);
    c.abort();
    const err = await rejects(pending, "read waiting 30 s to retry");
    eq(err.kind, "aborted", "kind");
    check(Date.now() - started < 3_000, `did not wait 30 s (${Date.now() - started} ms)`);
    eq(calls, 1, "no attempt after the abort");
  }],

  ["a write the site accepted but whose answer cannot be read rejects with maybeApplied; a read with the same answer does not", async (t) => {
    const sent = [];
    const fetch = (url, init = {}) => {
      if (!String(url).includes("/entity/")) return globalThis.fetch(url, init);
      sent.push(String(init.method ?? "GET").toUpperCase());
      const status = init.method === "POST" ? 201 : 200;
      return Promise.resolve(new Response('{"data":{"type":"Shot","id":7,"attri', { status, headers: { "content-type": "application/json" } }));
    };
    const sg = await connect(t, { fetch });
    for (const [what, call] of [
      ["create", () => sg.create("Shot", { code: "cut" })],
      ["update", () => sg.update("Shot", 7, { code: "cut" })],
    ]) {
      const err = await rejects(call(), what);
      check(err instanceof t.ShotGridError, `${what}: a ShotGridError`);
      eq(err.kind, "decode", `${what}: kind`);
      eq(err.maybeApplied, true, `${what}: maybeApplied`);
      eq(err.retryable, false, `${what}: retryable`);
      check(/may have/i.test(err.message), `${what}: the message says the write may have happened: ${err.message}`);
    }
    eq(sent.join(","), "POST,PUT", "each write sent once");
    const err = await rejects(sg.read("Shot", 7), "read");
    eq(err.kind, "decode", "read: kind");
    eq(err.maybeApplied, false, "read: maybeApplied");
  }],

  ["iterate honours a signal between pages", async (t) => {
    const sg = await connect(t);
    const c = new AbortController();
    const seen = [];
    const err = await rejects((async () => {
      for await (const page of sg.iterate("Shot", null, { pageSize: 5, signal: c.signal }).pages()) {
        seen.push(page.length);
        c.abort();
      }
    })(), "iteration after abort");
    eq(err.kind, "aborted", "kind");
    eq(seen.length, 1, "one page before the abort");
  }],

  ["bad call options are typed input errors", async (t) => {
    const sg = await connect(t);
    const e1 = await rejects(sg.read("Shot", 1, { signal: "stop" }), "signal that is not an AbortSignal");
    eq(e1.kind, "invalid_input", "kind");
    eq(e1.source, "options.signal", "source");
    const e2 = await rejects(sg.read("Shot", 1, { timeoutMs: -5 }), "negative timeout");
    eq(e2.source, "options.timeoutMs", "source");
    const e3 = await rejects(t.ShotGrid.connect({ site: t.env.url, auth: { grant: "client_credentials", clientId: "a", clientSecret: "b" }, timeoutMs: 0 }), "zero client timeout");
    eq(e3.source, "options.timeoutMs", "source");
  }],
];
