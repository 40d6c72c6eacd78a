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

export { ShotGrid };
export { ShotGridError } from "./errors.js";
