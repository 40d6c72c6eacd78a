// `sg.upload(entityType, id, data, options)`: turns a Blob/File, bytes or a stream
// with a declared size into a source `{ size, name, read(start, end) }` for the wasm
// `uploadSource`, which sends parts by slicing: a Blob is sliced lazily, bytes are
// viewed (never copied), a stream is read part by part, so at most `concurrency`
// parts are held in memory.
//
// In Node, fetch (undici) copies a Uint8Array body into a new buffer and a Blob is
// filled by copying its parts in; each copy is garbage that V8 collects late (its GC
// waits for tens of MB of external memory). Parts of bytes and streams are therefore
// handed to Node's fetch as a `PartBody`: a Blob-like object (fetch reads it through
// `stream()` and takes Content-Length from `size`) over views of the bytes already
// held, so an upload adds no copies. It can be read again for a retried part.
// Browsers and workerd need real Blobs / typed arrays and keep them.
import { ShotGrid } from "./shotgrid_wasm.js";
import { ShotGridError } from "./errors.js";

// Cloudflare Workers allow 6 simultaneous connections per request: at most 4 parts.
const IN_WORKERS = globalThis.navigator?.userAgent === "Cloudflare-Workers";
// Node's fetch is undici, which accepts Blob-like bodies (`stream()`, `size`, tag "Blob").
const NODE_FETCH = !IN_WORKERS && typeof globalThis.process?.versions?.undici === "string";

/** A part's bytes as views, readable any number of times, without copying. */
class PartBody {
  #chunks;
  #size;
  constructor(chunks, size) {
    this.#chunks = chunks;
    this.#size = size;
  }
  get size() {
    return this.#size;
  }
  get type() {
    return "";
  }
  get [Symbol.toStringTag]() {
    return "Blob";
  }
  stream() {
    const chunks = this.#chunks;
    let i = 0;
    return new ReadableStream({
      pull(controller) {
        if (i < chunks.length) controller.enqueue(chunks[i++]);
        else controller.close();
      },
    });
  }
  arrayBuffer() {
    const out = new Uint8Array(this.#size);
    let o = 0;
    for (const c of this.#chunks) {
      out.set(c, o);
      o += c.length;
    }
    return Promise.resolve(out.buffer);
  }
  slice() {
    throw new TypeError("PartBody cannot be sliced");
  }
}

function invalid(source, detail) {
  return new ShotGridError(`ShotGrid invalid_input: Invalid input (${source}: ${detail})`, {
    kind: "invalid_input",
    title: "Invalid input",
    detail,
    source,
  });
}

function streamSource(stream, size, name) {
  const reader = stream.getReader();
  let position = 0;
  let leftover = null;
  let tail = Promise.resolve();
  // A part is gathered as the stream's own chunks and handed to fetch as a Blob (one
  // copy, which fetch then streams); a Uint8Array body would be copied again by fetch.
  async function readRange(start, end) {
    if (start !== position) throw invalid("data", "stream parts must be read in order");
    const chunks = [];
    let filled = 0;
    const want = end - start;
    while (filled < want) {
      let chunk = leftover;
      leftover = null;
      if (!chunk) {
        const { done, value } = await reader.read();
        if (done) throw invalid("data.size", `the stream ended after ${start + filled} bytes, before its declared size ${size}`);
        chunk = value instanceof Uint8Array ? value : new Uint8Array(value);
      }
      const take = Math.min(chunk.length, want - filled);
      chunks.push(take === chunk.length ? chunk : chunk.subarray(0, take));
      filled += take;
      if (take < chunk.length) leftover = chunk.subarray(take);
    }
    position = end;
    if (NODE_FETCH) return new PartBody(chunks, want);
    if (typeof Blob === "function") return new Blob(chunks);
    const out = new Uint8Array(want);
    let o = 0;
    for (const c of chunks) { out.set(c, o); o += c.length; }
    return out;
  }
  return {
    size,
    name,
    read(start, end) {
      const p = tail.then(() => readRange(start, end));
      tail = p.catch(() => {});
      return p;
    },
    close() {
      reader.cancel().catch(() => {});
    },
  };
}

function toSource(data) {
  if (typeof Blob !== "undefined" && data instanceof Blob) {
    return { size: data.size, name: typeof data.name === "string" ? data.name : undefined, read: (s, e) => data.slice(s, e) };
  }
  if (data instanceof ArrayBuffer) data = new Uint8Array(data);
  if (ArrayBuffer.isView(data)) {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const read = NODE_FETCH ? (s, e) => new PartBody([bytes.subarray(s, e)], e - s) : (s, e) => bytes.subarray(s, e);
    return { size: bytes.byteLength, read };
  }
  if (data && typeof data === "object" && "stream" in data) {
    const { stream, size, name } = data;
    if (!stream || typeof stream.getReader !== "function") throw invalid("data.stream", "must be a ReadableStream");
    if (!Number.isSafeInteger(size) || size < 0) throw invalid("data.size", "must be the stream's exact size in bytes");
    if (name !== undefined && typeof name !== "string") throw invalid("data.name", "must be a string");
    return streamSource(stream, size, name);
  }
  if (data && typeof data.getReader === "function") {
    throw invalid("data", "a ReadableStream needs its size: pass { stream, size, name }");
  }
  throw invalid("data", "must be a Blob/File, Uint8Array, ArrayBuffer or { stream, size, name }");
}

ShotGrid.prototype.upload = async function upload(entityType, id, data, options) {
  const source = toSource(data);
  let opts = options;
  if (IN_WORKERS && opts && typeof opts === "object" && typeof opts.concurrency === "number" && opts.concurrency > 4) {
    opts = { ...opts, concurrency: 4 };
  }
  try {
    return await this.uploadSource(entityType, id, source, opts);
  } finally {
    source.close?.();
  }
};
