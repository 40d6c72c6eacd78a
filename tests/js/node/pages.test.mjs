// Pages of records are decoded by the package's JS page decoder (pkg/send.js). These
// cases pin it to the wasm transcoder's output (src/protocol/transcode.rs, whose tests
// check it against the Value flattener): same records, key order, links and errors.
// An injected fetch answers crafted bodies; no emulator needed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ShotGrid, ShotGridError } from "../../../pkg/node.js";

const TOKEN = JSON.stringify({ access_token: "a", refresh_token: "r", token_type: "Bearer", expires_in: 600 });

async function connectAnswering(page) {
  const fetch = async (url) => {
    if (String(url).endsWith("/auth/access_token")) return new Response(TOKEN, { status: 200 });
    return new Response(typeof page === "function" ? page(String(url)) : page, { status: 200, headers: { "x-request-id": "req-1" } });
  };
  return ShotGrid.connect({ site: "http://127.0.0.1:9", auth: { grant: "client_credentials", clientId: "a", clientSecret: "b" }, fetch, retry: false });
}

const TRICKY = String.raw`{"data":[{"type":"Shot","id":7,"attributes":{"code":"a\"b\\c\u00e9","n":1.5,"l":[1,{"x":null}],"o":{"k":"v"},"t":true,"z":null,"id":99,"type":"X"},"relationships":{"project":{"data":{"id":70,"name":"Demo","type":"Project"},"links":{"related":"/p"}},"assets":{"data":[{"id":1,"name":"A","type":"Asset"},{"type":"Asset","id":2,"name":null,"extra":1}]},"empty":{"data":null},"nolinks":{"links":{}},"id":{"data":1},"bare":{"id":24,"name":"Support","type":"HumanUser"},"list":[{"id":19,"type":"HumanUser"}],"noid":{"data":{"type":"Asset","name":"x"}},"nullwins":{"data":null,"type":"Asset","id":3},"nested":{"data":[[{"id":4,"type":"Asset"}],5,null]},"text":"t"}}]}`;

test("a page decodes to the transcoder's records, key order and links included", async () => {
  const sg = await connectAnswering(TRICKY);
  const records = await sg.find("Shot", null, { limit: 10 });
  assert.equal(JSON.stringify(records), JSON.stringify([{
    type: "Shot", id: 7, code: "a\"b\\cé", n: 1.5, l: [1, { x: null }], o: { k: "v" }, t: true, z: null,
    project: { type: "Project", id: 70, name: "Demo" },
    assets: [{ type: "Asset", id: 1, name: "A" }, { type: "Asset", id: 2, name: null, extra: 1 }],
    empty: null, nolinks: null,
    bare: { type: "HumanUser", id: 24, name: "Support" },
    list: [{ type: "HumanUser", id: 19 }],
    noid: { type: "Asset", name: "x" },
    nullwins: null,
    nested: [[{ type: "Asset", id: 4 }], 5, null],
    text: null,
  }]));
  assert.equal(Object.getPrototypeOf(records[0]), Object.prototype);
});

test("a __proto__ field is an own property, never the record's prototype", async () => {
  const sg = await connectAnswering(`{"data":[{"type":"Shot","id":1,"attributes":{"__proto__":{"polluted":true},"code":"a"}}]}`);
  const [r] = await sg.find("Shot", null);
  assert.equal(Object.getPrototypeOf(r), Object.prototype);
  assert.equal(r.polluted, undefined);
  assert.deepEqual(Object.keys(r), ["type", "id", "__proto__", "code"]);
  assert.equal(JSON.stringify(r), `{"type":"Shot","id":1,"__proto__":{"polluted":true},"code":"a"}`);
});

test("limits cut inside a page, findOne and iterate see the same records", async () => {
  const body = JSON.stringify({ data: [1, 2, 3, 4, 5].map((id) => ({ type: "Shot", id, attributes: { code: `s${id}` } })) });
  const sg = await connectAnswering(body);
  assert.deepEqual((await sg.find("Shot", null, { limit: 3, pageSize: 5 })).map((r) => r.id), [1, 2, 3]);
  assert.deepEqual(await sg.findOne("Shot", null), { type: "Shot", id: 1, code: "s1" });
  const seen = [];
  for await (const r of sg.iterate("Shot", null, { pageSize: 5, limit: 4 })) seen.push(r.code);
  assert.deepEqual(seen, ["s1", "s2", "s3", "s4"]);
});

test("pages are joined in order across requests", async () => {
  const sg = await connectAnswering((url) => {
    const n = Number(new URL(url).searchParams.get("page[number]"));
    const ids = n === 1 ? [1, 2] : n === 2 ? [3] : [];
    return JSON.stringify({ data: ids.map((id) => ({ type: "Shot", id })) });
  });
  assert.deepEqual(await sg.find("Shot", null, { pageSize: 2, concurrency: 3 }), [1, 2, 3].map((id) => ({ type: "Shot", id })));
});

for (const [what, body] of [
  ["not JSON", "<html>proxy error</html>"],
  ["invalid UTF-8", new Uint8Array([0x7b, 0x22, 0x64, 0x61, 0x74, 0x61, 0x22, 0x3a, 0x5b, 0x7b, 0x22, 0x74, 0x79, 0x70, 0x65, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x2c, 0x22, 0x69, 0x64, 0x22, 0x3a, 0x31, 0x7d, 0x5d, 0x7d])],
  ["no data", `{"links":{}}`],
  ["data not a list", `{"data":{"type":"Shot","id":1}}`],
  ["a record without an id", `{"data":[{"type":"Shot"}]}`],
  ["a non-integer id", `{"data":[{"type":"Shot","id":"1"}]}`],
  ["a non-string type", `{"data":[{"type":1,"id":1}]}`],
  ["attributes that are not an object", `{"data":[{"type":"Shot","id":1,"attributes":[1]}]}`],
  ["relationships that are not an object", `{"data":[{"type":"Shot","id":1,"relationships":"x"}]}`],
  ["a record that is not an object", `{"data":[1]}`],
]) {
  test(`a page with ${what} is a decode error with the status and request id`, async () => {
    const sg = await connectAnswering(body);
    const err = await sg.find("Shot", null).then(() => assert.fail("should reject"), (e) => e);
    assert.ok(err instanceof ShotGridError, String(err));
    assert.equal(err.kind, "decode");
    assert.equal(err.status, 200);
    assert.equal(err.requestId, "req-1");
    assert.match(err.detail, /not a JSON:API document of records/);
  });
}

// Single records (read, create, update) go through the same JS decoder, called for one
// resource: the transcoder's `transcode_single` output and errors.
const TRICKY_ONE = TRICKY.replace(`{"data":[`, `{"data":`).replace(/\]\}$/, "}");

test("read, create and update decode one record as the transcoder does", async () => {
  const sg = await connectAnswering(TRICKY_ONE);
  const [page] = await (await connectAnswering(TRICKY)).find("Shot", null);
  for (const [what, call] of [
    ["read", () => sg.read("Shot", 7)],
    ["create", () => sg.create("Shot", { code: "x" })],
    ["update", () => sg.update("Shot", 7, { code: "x" })],
  ]) {
    const r = await call();
    assert.equal(JSON.stringify(r), JSON.stringify(page), what);
    assert.equal(Object.getPrototypeOf(r), Object.prototype, what);
  }
  const proto = await connectAnswering(`{"data":{"type":"Shot","id":1,"attributes":{"__proto__":{"polluted":true}}}}`);
  const r = await proto.read("Shot", 1);
  assert.equal(r.polluted, undefined);
  assert.deepEqual(Object.keys(r), ["type", "id", "__proto__"]);
});

for (const [what, body] of [
  ["not JSON", "<html>proxy error</html>"],
  ["no data", `{"links":{}}`],
  ["null data", `{"data":null}`],
  ["a list", `{"data":[{"type":"Shot","id":1}]}`],
  ["a record without an id", `{"data":{"type":"Shot"}}`],
  ["a non-integer id", `{"data":{"type":"Shot","id":1.5}}`],
  ["attributes that are not an object", `{"data":{"type":"Shot","id":1,"attributes":"x"}}`],
]) {
  test(`a single record with ${what} is a decode error with the status and request id (a write's says maybeApplied)`, async () => {
    const sg = await connectAnswering(body);
    const err = await sg.read("Shot", 1).then(() => assert.fail("should reject"), (e) => e);
    assert.ok(err instanceof ShotGridError, String(err));
    assert.equal(err.kind, "decode");
    assert.equal(err.status, 200);
    assert.equal(err.requestId, "req-1");
    assert.equal(err.maybeApplied, false);
    assert.match(err.detail, /not a JSON:API document of records/);
    const werr = await sg.update("Shot", 1, { code: "x" }).then(() => assert.fail("should reject"), (e) => e);
    assert.equal(werr.kind, "decode");
    assert.equal(werr.maybeApplied, true);
  });
}
