// Starts workerd through Miniflare with the worker above, asks it to run the scenario,
// and prints TAP-like results. Exit code 1 on any failure.
import { Miniflare } from "miniflare";
import { fileURLToPath } from "node:url";
import path from "node:path";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const bindings = {};
for (const k of ["SG_EMULATOR_URL", "SG_TEST_CLIENT_ID", "SG_TEST_CLIENT_SECRET"]) {
  if (!process.env[k]) {
    console.error(`missing ${k}: run with \`cargo xtask test\`, which starts the emulator`);
    process.exit(1);
  }
  bindings[k] = process.env[k];
}

for (const k of ["SG_EMULATOR_SG_URL", "SG_ADMIN_SECRET"]) if (process.env[k]) bindings[k] = process.env[k];

const mf = new Miniflare({
  modules: true,
  modulesRoot: root,
  scriptPath: path.join(root, "tests/js/workerd/worker.mjs"),
  modulesRules: [
    { type: "ESModule", include: ["**/*.js", "**/*.mjs"] },
    { type: "CompiledWasm", include: ["**/*.wasm"] },
  ],
  compatibilityDate: "2025-01-01",
  bindings,
});

let failed = 0;
try {
  const res = await mf.dispatchFetch("http://localhost/run");
  const text = await res.text();
  let results;
  try {
    results = JSON.parse(text);
  } catch {
    throw new Error(`worker answered ${res.status}: ${text.slice(0, 2000)}`);
  }
  for (const r of results) {
    console.log(`${r.ok ? "ok" : "not ok"} - ${r.name}`);
    if (!r.ok) console.log(r.error.split("\n").map((l) => `  # ${l}`).join("\n"));
  }
  failed = results.filter((r) => !r.ok).length;
  console.log(`# pass ${results.length - failed}`);
  console.log(`# fail ${failed}`);
} catch (err) {
  console.error(err);
  failed = 1;
} finally {
  await mf.dispose();
}
process.exit(failed ? 1 : 0);
