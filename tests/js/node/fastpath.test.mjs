// The fast path of read, create and update (api.js `__plan` → `__ok` / `__resume`,
// src/js/mod.rs `plan_record`) must behave exactly as the engine's loop (`__call`):
// each scenario runs twice against the same scripted `fetch`, once through the public
// method and once through `__call`, and the requests sent (method, URL, token, body)
// and the answer or the error must be the same. No emulator needed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { ShotGrid } from "../../../pkg/node.js";

const CALLS = readFileSync(new URL("../../../pkg/api.js", import.meta.url), "utf8")
  .match(/^const CALLS = "([^"]*)";$/m)[1]
  .split(" ");
const op = (name) => CALLS.indexOf(name);

const RECORD = (id, code = "a") => JSON.stringify({ data: { type: "Shot", id, attributes: { code }, relationships: { project: { data: { type: "Project", id: 2, name: "p" } } } } });
const EXPIRED = `{"errors":[{"status":401,"code":102,"title":"Unauthorized","detail":"Token Expired"}]}`;
const NOT_FOUND = `{"errors":[{"status":404,"code":104,"title":"Not Found","detail":"Record not found"}]}`;
const json = (body, status, headers = {}) => Promise.resolve(new Response(body, { status, headers: { "x-request-id": "r1", ...headers } }));

/**
 * A site whose entity answers follow `script` (one function per request, in order; the
 * last one repeats), with a new access token per token request. Returns the client,
 * the log of requests and the token count.
 */
async function site(script, extra = {}) {
  const log = [];
  let tokens = 0;
  let n = 0;
  const fetch = async (url, init) => {
    url = String(url);
    if (url.endsWith("/auth/access_token")) {
      tokens += 1;
      return new Response(JSON.stringify({ access_token: `tok${tokens}`, refresh_token: "r", token_type: "Bearer", expires_in: 600 }), { status: 200 });
    }
    const body = init.body === undefined ? null : new TextDecoder().decode(init.body);
    log.push([init.method, url, new Headers(init.headers).get("authorization"), body]);
    const step = script[Math.min(n, script.length - 1)];
    n += 1;
    return step(url, init);
  };
  const sg = await ShotGrid.connect({
    site: "http://127.0.0.1:9",
    auth: { grant: "client_credentials", clientId: "a", clientSecret: "b" },
    fetch,
    retry: { baseMs: 1, slowDownBaseMs: 1, capMs: 2, maxRetryAfterMs: 5 },
    ...extra,
  });
  return { sg, log, tokens: () => tokens };
}

const settle = (p) =>
  p.then(
    (value) => ({ value }),
    (e) => ({ error: { name: e.name, kind: e.kind, status: e.status, code: e.code, retryable: e.retryable, requestId: e.requestId, message: e.message, detail: e.detail } }),
  );

const CASES = [
  ["read", ["Shot", 7, { fields: ["code", "project"] }]],
  ["create", ["Shot", { code: "a" }, { fields: ["code"] }]],
  ["update", ["Shot", 7, { code: "b" }]],
];

/** Runs `name(args)` fast and through `__call`; both must send and answer the same. */
async function same(scenario, script, extra) {
  for (const [name, args] of CASES) {
    const fast = await site(script, extra);
    const slow = await site(script, extra);
    const a = await settle(fast.sg[name](...args));
    const b = await settle(slow.sg.__call(op(name), ...args));
    assert.deepEqual(a, b, `${scenario}, ${name}: the same answer`);
    assert.deepEqual(fast.log, slow.log, `${scenario}, ${name}: the same requests`);
    assert.equal(fast.tokens(), slow.tokens(), `${scenario}, ${name}: the same token requests`);
    assert.ok(fast.log.length > 0, `${scenario}, ${name}: something was sent`);
  }
}

// Counts the calls that really took the fast path (`__plan` answered a plan) and
// those that went on through `__resume`, so a fast path that never engages cannot
// pass for one that behaves.
const taken = { planned: 0, resumed: 0 };
const plan = ShotGrid.prototype.__plan;
ShotGrid.prototype.__plan = function (...args) {
  const p = plan.apply(this, args);
  if (p !== undefined) taken.planned += 1;
  return p;
};
const resume = ShotGrid.__resume;
ShotGrid.__resume = function (...args) {
  taken.resumed += 1;
  return resume.apply(this, args);
};

test("a 2xx record is the answer, decoded as the engine's path decodes it", async () => {
  await same("200", [(url) => json(RECORD(7), 200)]);
  const { sg, log } = await site([() => json(RECORD(7), 200)]);
  const before = { ...taken };
  assert.deepEqual(await sg.read("Shot", 7, { fields: ["code", "project"] }), { type: "Shot", id: 7, code: "a", project: { type: "Project", id: 2, name: "p" } });
  assert.equal(await sg.read("Shot", 7, { raw: true }).then((d) => d.data.id), 7, "raw: the document");
  assert.equal(log.length, 2);
  assert.deepEqual(taken, { planned: before.planned + 1, resumed: before.resumed }, "the record read was planned and settled at once; raw was not planned");
});

test("a retryable first answer (502, 429 with Retry-After, a network error) goes on as the engine's loop", async () => {
  const before = { ...taken };
  await same("502 then 200", [() => json("bad gateway", 502), () => json(RECORD(7), 200)]);
  await same("429 then 200", [() => json(`{"errors":[{"status":429}]}`, 429, { "retry-after": "0" }), () => json(RECORD(7), 200)]);
  await same("network error then 200", [() => Promise.reject(new TypeError("fetch failed")), () => json(RECORD(7), 200)]);
  await same("502 always", [() => json("bad gateway", 502)]);
  assert.equal(taken.planned - before.planned, 12, "every fast call was planned");
  assert.equal(taken.resumed - before.resumed, 12, "and resumed");
});

test("Token Expired on the first attempt: one new token, the request replayed with it", async () => {
  await same("401 expired then 200", [() => json(EXPIRED, 401), () => json(RECORD(7), 200)]);
  const { sg, log, tokens } = await site([() => json(EXPIRED, 401), () => json(RECORD(7), 200)]);
  assert.equal((await sg.read("Shot", 7)).id, 7);
  assert.equal(tokens(), 2);
  assert.deepEqual(
    log.map((r) => r[2]),
    ["Bearer tok1", "Bearer tok2"],
  );
});

test("errors and undecodable answers are the engine's (a write's says it may have happened)", async () => {
  await same("404", [() => json(NOT_FOUND, 404)]);
  await same("200 not a record", [() => json(`{"data":[1,2]}`, 200)]);
  await same("200 not JSON", [() => json(`<html>`, 200)]);
  await same("fetch gives no Response", [() => Promise.resolve({ status: 200 })]);
});

test("a timed-out first attempt is the engine's timeout (retried for a read only)", async () => {
  const hang = (url, init) => new Promise((_, reject) => init.signal.addEventListener("abort", () => reject(init.signal.reason)));
  const script = [hang, () => json(RECORD(7), 200)];
  await same("timeout", script, { timeoutMs: 30 });
  for (const [name, args] of CASES) {
    const { sg, log } = await site(script, { timeoutMs: 30 });
    const r = await settle(sg[name](...args));
    if (name === "read") {
      assert.equal(r.value?.id, 7, "a read is retried after its attempt timed out");
      assert.equal(log.length, 2);
    } else {
      assert.equal(r.error?.kind, "timeout", `${name}: a write is not sent twice`);
      assert.equal(log.length, 1, `${name}: sent once`);
    }
  }
});

test("successes on the fast path earn the retry budget back, as on the engine's path", async () => {
  // The budget holds 20 retries and earns 0.2 per success. 30 rounds of a call that
  // succeeds at once and a call that fails once then succeeds spend 30 retries: with
  // both successes earning (0.4 a round) the budget lasts; if the first success of a
  // round (the fast path's own) earned nothing, it would run dry near round 24.
  for (const path of ["fast", "slow"]) {
    const script = [];
    for (let i = 0; i < 30; i++) script.push(() => json(RECORD(7), 200), () => json("bad gateway", 502), () => json(RECORD(7), 200));
    const { sg, log } = await site(script);
    const read = () => settle(path === "fast" ? sg.read("Shot", 7) : sg.__call(op("read"), "Shot", 7));
    for (let i = 0; i < 30; i++) {
      assert.equal((await read()).value?.id, 7, `${path}: round ${i + 1}, the plain read`);
      assert.equal((await read()).value?.id, 7, `${path}: round ${i + 1}, the read retried once`);
    }
    assert.equal(log.length, 90);
  }
});

test("an aborted signal and invalid input take the engine's path, with its errors", async () => {
  const c = new AbortController();
  c.abort();
  const { sg, log } = await site([() => json(RECORD(7), 200)]);
  const e1 = await settle(sg.read("Shot", 7, { signal: c.signal }));
  assert.equal(e1.error?.kind, "aborted");
  const e2 = await settle(sg.read("Shot", 0));
  assert.equal(e2.error?.kind, "invalid_input");
  const e3 = await settle(sg.create("Shot", "not an object"));
  assert.equal(e3.error?.kind, "invalid_input");
  assert.equal(log.length, 0, "nothing was sent");
});
