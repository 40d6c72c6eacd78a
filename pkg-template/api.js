// The JS-only part of the public API: async iterators over pages, built on the
// wasm Cursor. Shared by every entry point.
import { ShotGrid } from "./shotgrid_wasm.js";
import "./upload.js";
import { isObject, send } from "./send.js";

// The sender rides in `connect`'s options under a symbol (src/js/convert.rs `sender`).
const SEND = Symbol.for("shotgrid-wasm.send");
const wasmConnect = ShotGrid.connect;
ShotGrid.connect = function connect(options) {
  return wasmConnect.call(this, isObject(options) ? { ...options, [SEND]: send } : options);
};

/**
 * `sg.iterate(entityType, filters, options)`: an async iterable over matching records,
 * whose `.pages()` is an async iterable over pages (arrays of records). Pages are read
 * lazily: up to `options.concurrency` requests in flight (a sliding window: as soon as
 * one page lands the next is requested), handed out in order. Breaking out of the
 * loop (or an error) frees the cursor and aborts the requests still in flight.
 */
ShotGrid.prototype.iterate = function iterate(entityType, filters, options) {
  const sg = this;
  async function* pages() {
    // One controller per read: aborted when the loop ends, so pages fetched ahead stop
    // on the wire; the caller's own signal (if any) aborts it too.
    // Options that are not an object, or a `signal` that is not an AbortSignal, go to
    // the cursor as they are, which refuses them with a typed error.
    const own = new AbortController();
    const isOptions = options != null && typeof options === "object" && !Array.isArray(options);
    const theirs = isOptions ? options.signal : undefined;
    const usable = theirs == null || (typeof AbortSignal !== "undefined" && theirs instanceof AbortSignal);
    const forward = () => own.abort(theirs.reason);
    if (usable && theirs != null) {
      if (theirs.aborted) forward();
      else theirs.addEventListener("abort", forward, { once: true });
    }
    let cursor;
    try {
      const opts = options == null ? { signal: own.signal } : isOptions && usable ? { ...options, signal: own.signal } : options;
      cursor = sg.cursor(entityType, filters, opts);
      for (;;) {
        const page = await cursor.nextPage();
        if (page === null) return;
        yield page;
      }
    } finally {
      if (usable && theirs != null) theirs.removeEventListener("abort", forward);
      own.abort();
      cursor?.free();
    }
  }
  return {
    pages,
    async *[Symbol.asyncIterator]() {
      for await (const page of pages()) yield* page;
    },
  };
};

// Namespaces over the flat wasm methods: `sg.schema.*`, `sg.hierarchy.*`, `sg.webhooks.*`.
const namespaces = {
  schema: {
    entities: "schemaEntities", entity: "schemaEntity", fields: "schemaFields", field: "schemaField",
    createField: "schemaCreateField", updateField: "schemaUpdateField",
    deleteField: "schemaDeleteField", reviveField: "schemaReviveField",
  },
  hierarchy: { expand: "hierarchyExpand", search: "hierarchySearch" },
  webhooks: {
    list: "webhooksList", get: "webhooksGet", create: "webhooksCreate", update: "webhooksUpdate",
    delete: "webhooksDelete", deliveries: "webhooksDeliveries", delivery: "webhooksDelivery",
    acknowledge: "webhooksAcknowledge", redeliver: "webhooksRedeliver",
  },
};
for (const [name, methods] of Object.entries(namespaces)) {
  Object.defineProperty(ShotGrid.prototype, name, {
    configurable: true,
    get() {
      const ns = {};
      for (const [short, flat] of Object.entries(methods)) ns[short] = (...args) => this[flat](...args);
      return Object.freeze(ns);
    },
  });
}

// The methods over the wasm dispatcher (src/js/ops.rs): `__call(op, a, b, c, d)`
// answers with a promise, `__sync(op, a, b, c)` at once (or throws); an op is the
// method's index in its list, the same lists as `CALLS` and `SYNC` there
// (tests/wasm_node.rs holds them equal).
const CALLS = "info read find findOne create update delete revive batch textSearch summarize relationship schemaEntities schemaEntity schemaFields schemaField schemaCreateField schemaUpdateField schemaDeleteField schemaReviveField preferences hierarchyExpand hierarchySearch follow unfollow followers following activityStream noteThread updateProjectLastAccessed webhooksList webhooksGet webhooksCreate webhooksUpdate webhooksDelete webhooksDeliveries webhooksDelivery webhooksAcknowledge webhooksRedeliver uploadSource download fileInfo acknowledgeDelivery";
const SYNC = "cursor eventFollower scoped site tokenExpiresAt toString toJSON";

// Per-call options every method honours: `signal` (AbortSignal), `timeoutMs` (per
// attempt), `deadlineMs` (whole call, retries included). They are taken out of the
// trailing options object and the method runs on `this.scoped(...)`, a handle sharing
// the session (tokens, refresh, retry budget). Uploads and downloads read `signal`
// themselves.
const OWN_SIGNAL = new Set(["uploadSource", "download"]);

function callOptions(last) {
  if (last === null || typeof last !== "object" || Array.isArray(last)) return null;
  const hasSignal = typeof AbortSignal !== "undefined" && last.signal instanceof AbortSignal;
  const hasTimeout = typeof last.timeoutMs === "number" || typeof last.deadlineMs === "number";
  if (!hasSignal && !hasTimeout && !("signal" in last && last.signal != null)) return null;
  const { signal, timeoutMs, deadlineMs, ...rest } = last;
  return { signal, timeoutMs, deadlineMs, rest };
}

// `method` with the per-call options; a sync one (`cursor`, `eventFollower`) throws
// what an async one rejects with.
function withCallOptions(method, sync) {
  return function (...args) {
    const call = args.length ? callOptions(args[args.length - 1]) : null;
    if (!call) return method.apply(this, args);
    let scoped;
    try {
      scoped = this.scoped(call.signal, call.timeoutMs, call.deadlineMs);
    } catch (err) {
      if (sync) throw err;
      return Promise.reject(err);
    }
    try {
      // The call keeps its own reference to the session; the handle can go at once.
      return method.apply(scoped, [...args.slice(0, -1), call.rest]);
    } finally {
      scoped.free();
    }
  };
}

const proto = ShotGrid.prototype;
const define = (name, value) => Object.defineProperty(proto, name, { value, writable: true, configurable: true });
// One-record calls take the fast path (src/js/mod.rs `plan_record`): `__plan` sends the
// first attempt at once and answers [id, the sender's promise] (or undefined: then
// `__call`). A record decoded on arrival is the answer (`__ok` tells the engine);
// any other outcome goes to `__resume`, which carries on as `__call` would have.
const PLANNED = new Set(["read", "create", "update"]);
function settle(id, outcome) {
  if (outcome.length === 5 && outcome[4] !== null && typeof outcome[4] === "object") {
    ShotGrid.__ok(id);
    return outcome[4];
  }
  return ShotGrid.__resume(id, outcome);
}
CALLS.split(" ").forEach((name, op) => {
  const method = PLANNED.has(name)
    ? function (a, b, c, d) {
        const plan = this.__plan(op, a, b, c, d);
        if (plan === undefined) return this.__call(op, a, b, c, d);
        const id = plan[0];
        return plan[1].then((outcome) => settle(id, outcome));
      }
    : function (a, b, c, d) {
        return this.__call(op, a, b, c, d);
      };
  define(name, OWN_SIGNAL.has(name) ? method : withCallOptions(method, false));
});
SYNC.split(" ").forEach((name, op) => {
  if (name === "site" || name === "tokenExpiresAt") {
    Object.defineProperty(proto, name, { get() { return this.__sync(op); }, configurable: true });
    return;
  }
  const method = function (a, b, c) {
    return this.__sync(op, a, b, c);
  };
  define(name, name === "cursor" || name === "eventFollower" ? withCallOptions(method, true) : method);
});

export { ShotGrid };
export { ShotGridError } from "./errors.js";
