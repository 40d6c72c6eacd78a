// Runs client calls: measures them, collects their HTTP exchanges, and keeps the
// history (secrets redacted; kept in memory only).
import * as netlog from "./netlog.js";
import { redact, REDACTED, toCurl, toJs } from "./model.js";

/** The connection: `sg` (the client) and `conn` ({ site, grant, clientId | login }: nothing secret). */
export const state = { sg: null, conn: null };

/** History entries, newest last. */
export const history = [];
const listeners = new Set();
/** Calls `fn()` when the history changes. */
export const onHistory = (fn) => listeners.add(fn);
const changed = () => listeners.forEach((fn) => fn());

let nextEntry = 0;

/**
 * Runs `exec()` (a client call) as one history entry. `method`/`args` describe the call
 * for "copy as JS" and re-run; `opId` and `view` say how to show the result again.
 * Resolves to `{ ok, result, error, ms, exchanges, entry }`; never rejects.
 */
export async function run({ opId, label, method, args, values, exec, record = true }) {
  const since = netlog.mark();
  const t0 = performance.now();
  let ok = true, result, error;
  try {
    result = await exec();
  } catch (err) {
    ok = false;
    error = err;
  }
  const ms = performance.now() - t0;
  const exchanges = netlog.since(since).map((e) => ({ ...e }));
  let entry = null;
  if (record) {
    entry = {
      n: ++nextEntry,
      at: new Date(),
      opId,
      label,
      method,
      args: redact(args.map((a) => (a instanceof Blob ? { __file: a.name ?? "blob", size: a.size } : a))),
      // The form's values (redacted), to open the request in its form again.
      values: values ? redact(values) : null,
      ok,
      status: exchanges.length ? exchanges[exchanges.length - 1].status : null,
      errorKind: ok ? null : error?.kind ?? error?.name ?? "error",
      ms,
      requestIds: exchanges.map((e) => e.requestId).filter(Boolean),
      exchanges,
      conn: state.conn ? { ...state.conn } : null,
    };
    history.push(entry);
    if (history.length > 200) history.shift();
    changed();
  }
  return { ok, result, error, ms, exchanges, entry };
}

/** Whether an entry's arguments lost a secret to redaction (it cannot be re-run as is). */
export function hasRedacted(entry) {
  return JSON.stringify(entry.args).includes(REDACTED) || entry.args.some((a) => a && a.__file);
}

/** "Copy as curl" text of an entry. */
export const curlOf = (entry) => toCurl(entry.exchanges);
/** "Copy as JS" text of an entry. */
export const jsOf = (entry) => toJs(entry.conn ?? {}, entry.method, entry.args);

/** Empties the history. */
export function clearHistory() {
  history.splice(0);
  changed();
}
