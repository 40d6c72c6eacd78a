// The JS-only part of the public API: async iterators over pages, built on the
// wasm Cursor. Shared by every entry point.
import { ShotGrid } from "./shotgrid_wasm.js";
import "./upload.js";

/**
 * `sg.iterate(entityType, filters, options)`: an async iterable over matching records,
 * whose `.pages()` is an async iterable over pages (arrays of records). Pages are read
 * lazily, one at a time; breaking out of the loop stops reading.
 */
ShotGrid.prototype.iterate = function iterate(entityType, filters, options) {
  const sg = this;
  async function* pages() {
    const cursor = sg.cursor(entityType, filters, options);
    try {
      for (;;) {
        const page = await cursor.nextPage();
        if (page === null) return;
        yield page;
      }
    } finally {
      cursor.free();
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

// Per-call options every method honours: `signal` (AbortSignal), `timeoutMs` (per
// attempt), `deadlineMs` (whole call, retries included). They are taken out of the
// trailing options object and the method runs on `this.scoped(...)`, a handle sharing
// the session (tokens, refresh, retry budget). Uploads and downloads read `signal`
// themselves.
const OWN_SIGNAL = new Set(["upload", "uploadSource", "download"]);
const SKIP = new Set(["constructor", "free", "toString", "toJSON", "scoped", "iterate", "__destroy_into_raw"]);

function callOptions(last) {
  if (last === null || typeof last !== "object" || Array.isArray(last)) return null;
  const hasSignal = typeof AbortSignal !== "undefined" && last.signal instanceof AbortSignal;
  const hasTimeout = typeof last.timeoutMs === "number" || typeof last.deadlineMs === "number";
  if (!hasSignal && !hasTimeout && !("signal" in last && last.signal != null)) return null;
  const { signal, timeoutMs, deadlineMs, ...rest } = last;
  return { signal, timeoutMs, deadlineMs, rest };
}

for (const name of Object.getOwnPropertyNames(ShotGrid.prototype)) {
  if (SKIP.has(name) || OWN_SIGNAL.has(name)) continue;
  const desc = Object.getOwnPropertyDescriptor(ShotGrid.prototype, name);
  if (!desc || typeof desc.value !== "function") continue;
  const method = desc.value;
  Object.defineProperty(ShotGrid.prototype, name, {
    ...desc,
    value: function (...args) {
      const call = args.length ? callOptions(args[args.length - 1]) : null;
      if (!call) return method.apply(this, args);
      let scoped;
      try {
        scoped = this.scoped(call.signal, call.timeoutMs, call.deadlineMs);
      } catch (err) {
        if (name === "cursor") throw err;
        return Promise.reject(err);
      }
      try {
        // The call keeps its own reference to the session; the handle can go at once.
        return method.apply(scoped, [...args.slice(0, -1), call.rest]);
      } finally {
        scoped.free();
      }
    },
  });
}

export { ShotGrid };
export { ShotGridError } from "./errors.js";
