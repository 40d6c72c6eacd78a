// Assertions and helpers shared by the case files of tests/js (scenario, readwrite,
// capabilities, reliability, upload, extras, faults), which run unchanged in Node,
// workerd and Chromium: no node:assert, plain functions.

/** Fails with `message` unless `cond`. */
export function check(cond, message) {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}

/** Fails unless `actual === expected`. */
export function eq(actual, expected, what) {
  check(actual === expected, `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

/** What `promise` rejected with; fails if it resolved. */
export async function rejects(promise, what) {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error(`assertion failed: ${what} should have rejected`);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Connects to the emulator of `env` with the client-credentials grant, plus `extra` options. */
export function connect({ ShotGrid, env }, extra = {}) {
  return ShotGrid.connect({
    site: env.url,
    auth: { grant: "client_credentials", clientId: env.clientId, clientSecret: env.clientSecret },
    ...extra,
  });
}
