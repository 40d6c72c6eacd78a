// What the transport hands the runtime's `fetch` and how it reads the answer, through
// the built package (pkg/node.js) with an injected fetch: the request's shape, the
// response headers the protocol reads, and every way an attempt can fail, each a
// typed error. No emulator needed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ShotGrid, ShotGridError } from "../../../pkg/node.js";

const token = (access = "tok") => JSON.stringify({ access_token: access, refresh_token: "r", token_type: "Bearer", expires_in: 600 });
const RECORD = `{"data":{"type":"Shot","id":1,"attributes":{"code":"a"}}}`;

/** Connects with `fetch` answering entity requests; token requests answer `access`. */
function connect(entity, { access, ...extra } = {}) {
  const fetch = (url, init) => (String(url).endsWith("/auth/access_token") ? Promise.resolve(new Response(token(access), { status: 200 })) : entity(String(url), init));
  return ShotGrid.connect({ site: "http://127.0.0.1:9", auth: { grant: "client_credentials", clientId: "a", clientSecret: "b" }, fetch, retry: false, ...extra });
}
const rejection = (p) => p.then(() => assert.fail("should reject"), (e) => e);

test("fetch gets the method, URL, headers, body bytes and an AbortSignal", async () => {
  const seen = [];
  const sg = await connect((url, init) => {
    seen.push({ url, init });
    return Promise.resolve(new Response(RECORD, { status: init.method === "POST" ? 201 : 200 }));
  });
  await sg.read("Shot", 1, { fields: ["code"] });
  await sg.create("Shot", { code: "a" });
  const [get, post] = seen;
  assert.equal(get.url, "http://127.0.0.1:9/api/v1/entity/shots/1?fields=code");
  assert.equal(get.init.method, "GET");
  assert.equal(get.init.body, undefined);
  assert.ok(get.init.signal instanceof AbortSignal);
  assert.equal(get.init.signal.aborted, false);
  const h = new Headers(get.init.headers);
  assert.equal(h.get("authorization"), "Bearer tok");
  assert.equal(h.get("accept"), "application/json");
  assert.equal(post.init.method, "POST");
  assert.equal(new Headers(post.init.headers).get("content-type"), "application/json");
  assert.deepEqual(JSON.parse(new TextDecoder().decode(post.init.body)), { code: "a" });
});

test("the response headers the protocol reads reach its errors (x-request-id, retry-after)", async () => {
  const sg = await connect(() => Promise.resolve(new Response(`{"errors":[{"status":429,"code":100,"title":"Slow down"}]}`, { status: 429, headers: { "x-request-id": "rid-9", "retry-after": "7" } })));
  const err = await rejection(sg.read("Shot", 1));
  assert.ok(err instanceof ShotGridError);
  assert.equal(err.status, 429);
  assert.equal(err.requestId, "rid-9");
  assert.equal(err.retryAfterMs, 7000);
});

test("a fetch that throws, rejects or gives no Response: typed errors", async () => {
  const thrown = await rejection((await connect(() => { throw new TypeError("bad init"); })).read("Shot", 1));
  assert.equal(thrown.kind, "network");
  assert.equal(thrown.detail, "bad init");
  const rejected = await rejection((await connect(() => Promise.reject(new TypeError("fetch failed")))).read("Shot", 1));
  assert.equal(rejected.kind, "network");
  assert.equal(rejected.retryable, true);
  assert.equal(rejected.detail, "fetch failed");
  const notResponse = await rejection((await connect(() => Promise.resolve({ status: 200 }))).read("Shot", 1));
  assert.equal(notResponse.kind, "decode");
  assert.match(notResponse.message, /did not return a Response/);
  const badBody = new Response(new ReadableStream({ pull(c) { c.error(new TypeError("terminated")); } }));
  const body = await rejection((await connect(() => Promise.resolve(badBody))).read("Shot", 1));
  assert.equal(body.kind, "network");
  assert.equal(body.detail, "terminated");
});

test("a token fetch would refuse as a header value is a typed input error; nothing is sent with it", async () => {
  let sent = 0;
  const sg = await connect(() => { sent += 1; return Promise.resolve(new Response(RECORD)); }, { access: "a\nb" });
  const err = await rejection(sg.read("Shot", 1));
  assert.ok(err instanceof ShotGridError);
  assert.equal(err.kind, "invalid_input");
  assert.equal(err.source, "headers");
  assert.equal(sent, 0);
  const wide = await connect(() => { sent += 1; return Promise.resolve(new Response(RECORD)); }, { access: "tok\u0100" });
  assert.equal((await rejection(wide.read("Shot", 1))).kind, "invalid_input");
  assert.equal(sent, 0);
  // Latin-1 is a valid header value.
  const latin = await connect((url, init) => { sent += 1; assert.equal(new Headers(init.headers).get("authorization"), "Bearer tok\u00e9"); return Promise.resolve(new Response(RECORD)); }, { access: "tok\u00e9" });
  assert.equal((await latin.read("Shot", 1)).code, "a");
  assert.equal(sent, 1);
});

test("a 2xx record or page is decoded as it arrives, without reading a header (each Headers.get costs)", async () => {
  const sg = await connect((url) => {
    const res = new Response(url.includes("/entity/shots/1") ? RECORD : `{"data":[{"type":"Shot","id":1,"attributes":{"code":"a"}}]}`, { status: 200 });
    Object.defineProperty(res, "headers", { get() { throw new TypeError("headers read"); } });
    return Promise.resolve(res);
  });
  assert.deepEqual(await sg.read("Shot", 1), { type: "Shot", id: 1, code: "a" });
  assert.deepEqual(await sg.find("Shot", null), [{ type: "Shot", id: 1, code: "a" }]);
});

// A 2xx record the sender decodes needs no header; an error answer (its request id,
// Retry-After) or a 2xx body that does not decode (its request id) reads them.
for (const [what, status, body] of [["an error answer", 404, `{"errors":[{"status":404}]}`], ["a 2xx answer that does not decode", 200, "<html>"]]) {
  test(`a Response whose headers throw settles the call as a typed network error (${what})`, async () => {
    const sg = await connect(() => {
      const res = new Response(body, { status });
      Object.defineProperty(res, "headers", { get() { throw new TypeError("headers unavailable"); } });
      return Promise.resolve(res);
    });
    const err = await rejection(sg.read("Shot", 1));
    assert.ok(err instanceof ShotGridError);
    assert.equal(err.kind, "network");
    assert.equal(err.detail, "headers unavailable");
  });
}
