// The package's attempt sender, with its decoder: imported by api.js (every entry
// point) and by the wasm-bindgen tests (tests/common/mod.rs), so the engine is
// tested with the sender it ships with.

// Pages of records are decoded here (by `send`, as they arrive), with the engine's
// native JSON.parse: several times faster than transcoding in wasm (bench/RESULTS.md).
// The records and errors are those of the wasm transcoder (src/protocol/transcode.rs):
// `{type, id, ...attributes, ...relationships}`, `type`/`id` never overwritten by
// fields, relationships give their `data`, links come out as `{type, id, name,
// ...rest}`. Answers `[records, ids]`, or null for a body that is not a JSON:API
// document of records (one record or null with a second argument `true`).
// The non-fatal decoder has the engines' fast path; a replacement character in the
// text sends the (rare) page through the strict one, so invalid UTF-8 stays an error.
const utf8 = new TextDecoder("utf-8");
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });
// Node's TextDecoder is several times slower than its Buffer's UTF-8 decoding.
const nodeBuffer = typeof process === "object" && process?.versions?.node && typeof globalThis.Buffer === "function" ? globalThis.Buffer : null;
export const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
function put(out, key, value) {
  if (key === "__proto__") Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  else out[key] = value;
}
function links(d) {
  if (Array.isArray(d)) return d.map(links);
  if (!isObject(d) || !("type" in d && "id" in d)) return d;
  const out = { type: d.type, id: d.id };
  if ("name" in d) out.name = d.name;
  for (const k in d) if (k !== "type" && k !== "id" && k !== "name") put(out, k, d[k]);
  return out;
}
function relationshipData(v) {
  if (Array.isArray(v)) return links(v);
  if (!isObject(v)) return null;
  if ("data" in v) return links(v.data);
  return "type" in v && "id" in v ? links(v) : null;
}
function parseDoc(bytes) {
  try {
    let text = nodeBuffer ? nodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8") : utf8.decode(bytes);
    if (text.includes("\uFFFD")) text = strictUtf8.decode(bytes);
    return JSON.parse(text);
  } catch {
    return null;
  }
}
// One JSON:API resource as a flat record, or null if it is not one.
function flatResource(item) {
  if (!isObject(item)) return null;
  const { type, id, attributes, relationships } = item;
  if (typeof type !== "string" || !Number.isInteger(id)) return null;
  const out = { type, id };
  if (attributes != null) {
    if (!isObject(attributes)) return null;
    for (const k in attributes) if (k !== "type" && k !== "id") put(out, k, attributes[k]);
  }
  if (relationships != null) {
    if (!isObject(relationships)) return null;
    for (const k in relationships) if (k !== "type" && k !== "id") put(out, k, relationshipData(relationships[k]));
  }
  return out;
}
// With `one` true: the record of a single-resource document (`{data: {...}}`: read,
// create, update), or null, as the transcoder's `transcode_single`.
export function decodePage(bytes, one) {
  const doc = parseDoc(bytes);
  if (!isObject(doc)) return null;
  if (one === true) return flatResource(doc.data);
  if (!Array.isArray(doc.data)) return null;
  const items = doc.data;
  const records = new Array(items.length);
  const ids = new Float64Array(items.length);
  for (let i = 0; i < items.length; i++) {
    const out = flatResource(items[i]);
    if (out === null) return null;
    records[i] = out;
    ids[i] = out.id;
  }
  return [records, ids];
}

// One attempt of a request, for the engine (src/transport/mod.rs `SendFn`): the
// engine decides what to send, the retries, the attempt's budget `ms` (head and body
// together) and the call's `signal`; this moves the bytes with one promise instead of
// a dozen wasm↔JS crossings. `head` is "name\nvalue\n…" (values checked by the
// engine). Never rejects: resolves to [0, status, "name\nvalue…" of the `names`
// present (only the first for a 2xx answer; or null), body bytes], [1] timed out, [2] the signal aborted, [3, error]
// fetch or the body failed, [4] fetch gave no Response. The attempt's own
// AbortController cancels the request on timeout or abort. `mode` 1 (one record) or 2
// (a page of records): a 2xx answer is decoded here as it arrives, and one that
// decodes resolves to [0, status, null, null, decoded] (`decodePage`'s answer): the
// body never enters wasm and no header is read; one that does not decode comes back
// with its bytes and request id, for the engine's error.
export function send(fetch, url, method, head, body, signal, ms, names, mode) {
  return new Promise((settle) => {
    const ctrl = new AbortController();
    let timer;
    let done = false;
    const onAbort = () => {
      finish([2]);
      ctrl.abort();
    };
    function finish(outcome) {
      if (done) return;
      done = true;
      if (timer !== undefined) clearTimeout(timer);
      if (signal) signal.removeEventListener("abort", onAbort);
      settle(outcome);
    }
    if (signal) {
      if (signal.aborted) return finish([2]);
      signal.addEventListener("abort", onAbort);
    }
    if (ms !== Infinity) {
      timer = setTimeout(() => {
        finish([1]);
        ctrl.abort();
      }, ms);
    }
    // A plain object: cheaper for fetch to read than pairs (workerd: ~35 µs a call).
    // A repeated name is joined with ", " as Headers.append does.
    const parts = head.split("\n");
    const headers = {};
    for (let i = 0; i + 1 < parts.length; i += 2) {
      const k = parts[i];
      headers[k] = Object.hasOwn(headers, k) ? `${headers[k]}, ${parts[i + 1]}` : parts[i + 1];
    }
    const init = { method, headers, signal: ctrl.signal };
    if (body !== undefined) init.body = body;
    let res;
    let pending;
    try {
      pending = fetch(url, init);
    } catch (err) {
      return finish([3, err]);
    }
    Promise.resolve(pending)
      .then((r) => {
        if (!(r instanceof Response)) return finish([4]);
        res = r;
        return r.arrayBuffer();
      })
      .then((buf) => {
        if (done) return;
        const ok = res.status >= 200 && res.status < 300;
        const bytes = new Uint8Array(buf);
        if (ok && mode) {
          let decoded = null;
          try {
            decoded = decodePage(bytes, mode === 1);
          } catch {
            // (a document nested past the stack) the engine's decode error
          }
          if (decoded !== null) return finish([0, res.status, null, null, decoded]);
        }
        // Each Headers.get costs (~10 µs in workerd): a success answer needs only the
        // first name (the request id, for decode errors).
        const n = ok ? 1 : names.length;
        let got = null;
        for (let i = 0; i < n; i++) {
          const v = res.headers.get(names[i]);
          if (v !== null) got = got === null ? `${names[i]}\n${v}` : `${got}\n${names[i]}\n${v}`;
        }
        finish([0, res.status, got, bytes]);
      })
      // Whatever throws on the way (fetch, the body, a Response-like object's
      // headers) settles the attempt as a failure.
      .catch((err) => finish([3, err]));
  });
}
