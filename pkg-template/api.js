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

export { ShotGrid };
export { ShotGridError } from "./errors.js";
