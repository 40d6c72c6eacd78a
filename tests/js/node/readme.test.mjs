// Runs every ```js runnable block of README.md against the emulator, so the README's
// examples stay true. Each block gets `sg` (connected with the test script user),
// `ShotGrid`, `ShotGridError`, `verifyWebhook`, and SG_SITE / SG_SCRIPT / SG_KEY in
// process.env; its console output is collected, not printed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { ShotGrid, ShotGridError, verifyWebhook } from "../../../pkg/node.js";
import { envFrom } from "../scenario.mjs";

const env = envFrom(process.env);
process.env.SG_SITE = env.url;
process.env.SG_SCRIPT = env.clientId;
process.env.SG_KEY = env.clientSecret;

const readme = readFileSync(new URL("../../../README.md", import.meta.url), "utf8");
const blocks = [...readme.matchAll(/^```js runnable\n([\s\S]*?)^```$/gm)].map((m, i) => {
  const before = readme.slice(0, m.index);
  const heading = [...before.matchAll(/^### (.+)$/gm)].pop()?.[1] ?? `block ${i + 1}`;
  return { name: `README: ${heading}`, code: m[1] };
});

test("the README has runnable examples", () => {
  assert.ok(blocks.length >= 8, `found ${blocks.length}`);
});

const AsyncFunction = (async () => {}).constructor;
for (const { name, code } of blocks) {
  test(name, async () => {
    const sg = await ShotGrid.connect({ site: env.url, auth: { grant: "client_credentials", clientId: env.clientId, clientSecret: env.clientSecret } });
    const lines = [];
    const console = { log: (...a) => lines.push(a.map(String).join(" ")) };
    const run = new AsyncFunction("sg", "ShotGrid", "ShotGridError", "verifyWebhook", "console", code);
    await run(sg, ShotGrid, ShotGridError, verifyWebhook, console);
    assert.ok(lines.length > 0, "the example printed its results");
  });
}
