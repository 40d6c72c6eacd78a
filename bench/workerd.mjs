// Runs the cases of bench/cases.mjs inside workerd (Miniflare), against the package's
// workerd entry: one Worker (bench/workers/cases.mjs) kept alive for every case.
//
// workerd's clocks only advance on I/O (a Spectre mitigation): a case's time therefore
// ends at its last network event, which every case here ends with.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Miniflare options running `script` (relative to the repository) with the emulator bindings. */
export function workerOptions(script, env, extra = {}) {
  return {
    modules: true,
    modulesRoot: root,
    scriptPath: path.join(root, script),
    compatibilityDate: "2025-01-01",
    bindings: { SG_EMULATOR_URL: env.url, SG_TEST_CLIENT_ID: env.clientId, SG_TEST_CLIENT_SECRET: env.clientSecret, ...extra },
    modulesRules: [{ type: "ESModule", include: ["**/*.js", "**/*.mjs"] }, { type: "CompiledWasm", include: ["**/*.wasm"] }],
  };
}

/** Starts the Worker; `run(name, ...args)` calls `cases[name](ctx, ...args)` inside it. */
export async function openWorkerd(env) {
  const mf = new Miniflare(workerOptions("bench/workers/cases.mjs", env));
  await mf.ready;
  return {
    runtime: "workerd (Miniflare)",
    async run(name, ...args) {
      const res = await mf.dispatchFetch("http://localhost/", { method: "POST", body: JSON.stringify({ name, args }) });
      const text = await res.text();
      if (!res.ok) throw new Error(`workerd ${name}: ${res.status} ${text.slice(0, 500)}`);
      return JSON.parse(text);
    },
    close: () => mf.dispose(),
  };
}
