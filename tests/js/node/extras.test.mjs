// verifyWebhook and parseActionMenuItem through the built package's Node entry: the
// cases every runtime runs (tests/js/extras.mjs), then what only Node can check here:
// the Node 18 path (no global `crypto`), and randomized bodies and tokens against
// node:crypto's own HMAC (what the removed `webhook` fuzz target held the Rust
// verifier to).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHmac, webcrypto } from "node:crypto";
import { ShotGrid, ShotGridError, verifyWebhook, parseActionMenuItem } from "../../../pkg/node.js";
import { useNodeWebCrypto } from "../../../pkg/extras.js";
import { cases } from "../extras.mjs";

for (const [name, fn] of cases) {
  test(name, () => fn({ ShotGrid, ShotGridError, verifyWebhook, parseActionMenuItem }));
}

const sign = (token, body) => "sha1=" + createHmac("sha1", token).update(body).digest("hex");

/** Runs `fn` with `globalThis.crypto` removed, as in Node 18 without flags. */
async function withoutGlobalCrypto(fn) {
  const descriptor = Object.getOwnPropertyDescriptor(globalThis, "crypto");
  delete globalThis.crypto;
  try {
    assert.equal(typeof globalThis.crypto, "undefined");
    return await fn();
  } finally {
    Object.defineProperty(globalThis, "crypto", descriptor);
  }
}

test("verifyWebhook works without a global crypto (Node 18) through node:crypto's webcrypto", async () => {
  const body = '{"data":{"event_type":"Shotgun_Shot_New","delivery_id":"n18"},"timestamp":"t"}';
  await withoutGlobalCrypto(async () => {
    const p = await verifyWebhook(body, sign("tok", body), "tok");
    assert.equal(p.deliveries[0].delivery_id, "n18");
    await assert.rejects(verifyWebhook(body, sign("other", body), "tok"), { name: "ShotGridError", kind: "auth" });
  });
});

test("without any WebCrypto, verifyWebhook rejects with a typed error saying why", async () => {
  const body = '{"data":{"event_type":"x"}}';
  await withoutGlobalCrypto(async () => {
    useNodeWebCrypto(null);
    try {
      const err = await verifyWebhook(body, sign("tok", body), "tok").then(
        () => assert.fail("verified without WebCrypto"),
        (e) => e,
      );
      assert.ok(err instanceof ShotGridError);
      assert.equal(err.kind, "invalid_input");
      assert.equal(err.title, "WebCrypto unavailable");
      assert.equal(err.source, "crypto.subtle");
      assert.match(err.detail, /secure pages/);
    } finally {
      useNodeWebCrypto(webcrypto);
    }
  });
  assert.equal((await verifyWebhook(body, sign("tok", body), "tok")).batched, false, "restored");
});

test("verifyWebhook agrees with node:crypto's HMAC-SHA1 on random bodies and tokens", async () => {
  // A fixed-seed generator (mulberry32) so a failure reproduces.
  let seed = 0x5eed;
  const rand = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  const bytes = (n) => Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
  for (let i = 0; i < 300; i++) {
    // Tokens of 1..200 bytes (longer than SHA-1's 64-byte block too), bodies up to 4 KB
    // of arbitrary bytes: whatever they hold, a right signature gets past the HMAC check
    // and a wrong one is an `auth` error, never anything else.
    const token = Buffer.from(bytes(1 + Math.floor(rand() * 200))).toString("latin1");
    const delivery = { event_type: "Shotgun_Shot_Change", delivery_id: `r${i}`, n: rand() };
    const body = i % 3 === 0 ? bytes(Math.floor(rand() * 4096)) : new TextEncoder().encode(JSON.stringify({ data: delivery }));
    const header = sign(Buffer.from(token, "utf8"), body);
    if (i % 3 === 0) {
      // Random bytes: signature accepted, then a decode error (or, rarely, a payload).
      await verifyWebhook(body, header, token).then(
        (p) => assert.ok(Array.isArray(p.deliveries)),
        (e) => assert.equal(e.kind, "decode", `${i}: ${e.message}`),
      );
    } else {
      assert.deepEqual((await verifyWebhook(body, header, token)).deliveries, [delivery], `case ${i}`);
    }
    const flipped = Uint8Array.from(body.length ? body : [0]);
    flipped[Math.floor(rand() * flipped.length)] ^= 1 << Math.floor(rand() * 8);
    await assert.rejects(verifyWebhook(flipped, header, token), { kind: "auth" }, `case ${i}: body bit flipped`);
    const digit = 5 + Math.floor(rand() * 40);
    const other = header.slice(0, digit) + (header[digit] === "0" ? "1" : "0") + header.slice(digit + 1);
    await assert.rejects(verifyWebhook(body, other, token), { kind: "auth" }, `case ${i}: signature changed`);
  }
});
