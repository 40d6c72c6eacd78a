// Records every HTTP exchange the client makes (through the `fetch` option of
// ShotGrid.connect): method, URL, status, x-request-id and timing. Authorization
// headers are never kept and the token request's secrets are redacted, so history
// and "copy as curl" hold nothing secret.
import { redactForm } from "./model.js";

const listeners = new Set();
let seq = 0;

/** Every exchange so far (bounded). */
export const exchanges = [];

/** Calls `fn(exchange)` when an exchange completes. */
export function onExchange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function headerObject(headers) {
  const out = {};
  if (!headers) return out;
  const entries = headers instanceof Headers ? headers.entries() : Array.isArray(headers) ? headers : Object.entries(headers);
  for (const [k, v] of entries) if (!/^authorization$/i.test(k)) out[k.toLowerCase()] = String(v);
  return out;
}

function hasAuth(headers) {
  if (!headers) return false;
  if (headers instanceof Headers) return headers.has("authorization");
  const entries = Array.isArray(headers) ? headers : Object.entries(headers);
  return entries.some(([k]) => /^authorization$/i.test(k));
}

const decoder = new TextDecoder();

function bodyOf(url, body, headers) {
  if (body == null) return null;
  const type = headers["content-type"] ?? "";
  // The client sends JSON and form bodies as bytes: keep them as text (they are small).
  if (ArrayBuffer.isView(body) && /json|x-www-form-urlencoded/.test(type) && body.byteLength <= 256 * 1024) {
    body = decoder.decode(body);
  }
  if (typeof body === "string") return /\/auth\/access_token$/.test(new URL(url).pathname) ? redactForm(body) : body;
  if (body instanceof URLSearchParams) return redactForm(body.toString());
  const size = body.size ?? body.byteLength ?? null;
  return { binary: size };
}

/** A `fetch` for ShotGrid.connect that records what goes through it. */
export function recordingFetch(input, init = {}) {
  const url = typeof input === "string" ? input : input.url;
  const headers = headerObject(init.headers);
  const ex = {
    seq: ++seq,
    method: (init.method ?? "GET").toUpperCase(),
    url,
    headers,
    auth: hasAuth(init.headers),
    body: bodyOf(url, init.body, headers),
    start: performance.now(),
    ms: null,
    status: null,
    requestId: null,
    error: null,
  };
  exchanges.push(ex);
  if (exchanges.length > 500) exchanges.splice(0, exchanges.length - 500);
  return fetch(input, init).then(
    (res) => {
      ex.ms = performance.now() - ex.start;
      ex.status = res.status;
      ex.requestId = res.headers.get("x-request-id");
      for (const fn of listeners) fn(ex);
      return res;
    },
    (err) => {
      ex.ms = performance.now() - ex.start;
      ex.error = err?.name === "AbortError" ? "aborted" : String(err?.message ?? err);
      for (const fn of listeners) fn(ex);
      throw err;
    },
  );
}

/** The current sequence number: exchanges after it belong to what starts now. */
export const mark = () => seq;

/** Exchanges recorded after `since`. */
export const since = (since) => exchanges.filter((e) => e.seq > since);
