// The benchmark's own code (bench/), run small so it cannot rot between `cargo xtask
// bench` runs: cases 2–4 in Node, workerd and Chromium give the right counts and throw
// on a wrong answer; the upload script verifies what the emulator stored. Uses a private
// emulator (empty site) so other suites' writes cannot change the counts.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { ShotGrid } from "../../../pkg/node.js";
import { send } from "../../../pkg/send.js";
import * as cases from "../../../bench/cases.mjs";
import { openWorkerd } from "../../../bench/workerd.mjs";
import { openChromium } from "../../../bench/chromium.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const bin = path.join(process.env.CARGO_TARGET_DIR ? path.resolve(root, process.env.CARGO_TARGET_DIR) : path.join(root, "target"), "release/shotgrid-emulator");
const SHOTS = 1200;
const ADMIN = "bench-test-admin";
let emu;
let env;

before(async () => {
  emu = spawn(bin, ["--port", "0", "--seed", "empty", "--quiet", "--script-user", "bench-test:bench-secret", "--admin-secret", ADMIN, "--exit-with-stdin"], { stdio: ["pipe", "pipe", "inherit"] });
  const url = await new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`emulator did not start: ${out}`)), 30_000);
    emu.on("error", (e) => reject(new Error(`cannot start ${bin} (built by cargo xtask test/bench): ${e.message}`)));
    emu.stdout.on("data", (d) => {
      out += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
  });
  env = { url, clientId: "bench-test", clientSecret: "bench-secret" };
  await cases.seedShots(env, await cases.rawToken(env), SHOTS);
});

after(() => {
  emu?.kill();
});

const node = () => ({ ShotGrid, send, env, fetch: globalThis.fetch });

test("Node: cases 2-4 read the right records and report timings of both sides", async () => {
  const o = await cases.callOverhead(node(), 20, 2);
  assert.ok(o.timedMs > 0 && Number.isFinite(o.timedRatio));
  assert.ok(o.senderMs > 0);
  const cpu = await cases.callCpu(node(), 200, 2, 50);
  assert.ok(cpu.oursUs > 0 && cpu.rawUs > 0);
  const cold = await cases.callCold(node(), 20, 2);
  assert.equal(cold.calls, 10);
  assert.ok(cold.tripMs > 0 && Number.isFinite(cold.oursUs) && Number.isFinite(cold.rawUs));
  assert.equal(o.calls, 10);
  assert.ok(o.oursMs > 0 && o.rawMs > 0 && Number.isFinite(o.ratio));
  const d = await cases.decode(node(), 1, SHOTS);
  assert.equal(d.records, SHOTS);
  const p = await cases.pagination(node(), 4, 1, SHOTS);
  assert.equal(p.pages, Math.ceil(SHOTS / 500));
  assert.ok(p.oursMs > 0 && p.rawMs > 0);
});

test("Node: a wrong count or a wrong record makes a case throw instead of scoring", async () => {
  await assert.rejects(cases.decode(node(), 1, SHOTS - 1), /bench check failed: ours read 1200 records, expected 1199/);
  await assert.rejects(cases.pagination(node(), 4, 1, SHOTS + 1), /bench check failed/);
  // A client that returns one record short, or alters a field, is caught.
  const wrap = (sg, edit) => new Proxy(sg, { get: (t, k) => (k === "find" ? async (...a) => edit(await t.find(...a)) : typeof t[k] === "function" ? t[k].bind(t) : t[k]) });
  const short = { ...node(), ShotGrid: { connect: async (o) => wrap(await ShotGrid.connect(o), (all) => all.slice(1)) } };
  await assert.rejects(cases.decode(short, 1), /bench check failed: raw read 1200, ours 1199/);
  const altered = { ...node(), ShotGrid: { connect: async (o) => wrap(await ShotGrid.connect(o), (all) => { all[0] = { ...all[0], sg_cut_out: -1 }; return all; }) } };
  await assert.rejects(cases.decode(altered, 1), /field sg_cut_out/);
  // A read by id answering another record is caught in memory (2b, 2c) too.
  const wrongRead = { ...node(), ShotGrid: { connect: async (o) => new Proxy(await ShotGrid.connect(o), { get: (t, k) => (k === "read" ? async (...a) => ({ ...(await t.read(...a)), code: "SH002" }) : typeof t[k] === "function" ? t[k].bind(t) : t[k]) }) } };
  await assert.rejects(cases.callCpu(wrongRead, 20, 2, 5), /bench check failed: ours read/);
  await assert.rejects(cases.callCold(wrongRead, 20, 2), /bench check failed: ours read/);
});

for (const [label, open] of [["workerd", openWorkerd], ["Chromium", openChromium]]) {
  test(`${label}: the same cases run there and check their data`, { timeout: 120_000 }, async () => {
    const rt = await open(env);
    try {
      const d = await rt.run("decode", 1, SHOTS);
      assert.equal(d.records, SHOTS);
      assert.ok(d.oursMs > 0 && d.rawMs > 0);
      const p = await rt.run("pagination", 4, 1, SHOTS);
      assert.equal(p.pages, Math.ceil(SHOTS / 500));
      await assert.rejects(rt.run("decode", 1, SHOTS + 1), /bench check failed/);
    } finally {
      await rt.close();
    }
  });
}

test("upload script: multipart upload by the client and by raw fetch, stored bytes verified", { timeout: 120_000 }, async () => {
  const token = await cases.rawToken(env);
  const res = await fetch(`${env.url}/api/v1/entity/versions`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify({ code: "UPLOAD_TEST", project: { type: "Project", id: 1 } }) });
  assert.ok(res.ok, `create Version: ${res.status}`);
  const versionId = (await res.json()).data.id;
  for (const mode of ["bytes", "raw-bytes", "stream"]) {
    const { stdout } = await promisify(execFile)(process.execPath, ["--expose-gc", path.join(root, "bench/upload-memory.mjs"), "12", "5", "2", mode], {
      env: { ...process.env, SG_EMULATOR_URL: env.url, SG_TEST_CLIENT_ID: env.clientId, SG_TEST_CLIENT_SECRET: env.clientSecret, SG_ADMIN_SECRET: ADMIN, SG_BENCH_VERSION: String(versionId) },
    });
    const out = JSON.parse(stdout.trim().split("\n").pop());
    assert.equal(out.verified, true, `${mode}: ${stdout}`);
    assert.match(stdout, /verified: Attachment \d+ holds the 12582912 bytes/);
    assert.ok(out.partsSeconds > 0 && out.uploadSeconds >= out.partsSeconds, `${mode}: phases ${stdout}`);
  }
});
