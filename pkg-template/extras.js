// Integration helpers shared by every entry point: webhook verification, Action Menu
// Item posts, and `sg.events.follow`. Webhook signatures are checked with WebCrypto (the
// platform's HMAC, constant-time) and AMI forms decoded with URLSearchParams/FormData:
// doing either in the WebAssembly module cost it ~9 KB raw each. The event follower
// runs in the module.
// Errors are `ShotGridError`s shaped like the module's (same message format).
import { ShotGrid } from "./shotgrid_wasm.js";
import { ShotGridError } from "./errors.js";
import { isObject } from "./send.js";

function sgError(kind, title, detail, source = null) {
  let message = `ShotGrid ${kind}: ${title}`;
  if (detail !== title) message += `: ${detail}`;
  if (kind === "invalid_input" && typeof source === "string") message += ` (at ${source})`;
  return new ShotGridError(message, { kind, title, detail, source });
}

function invalid(source, detail) {
  return sgError("invalid_input", "Invalid input", detail, source);
}

// Rust's `str::trim` (Unicode White_Space, all in the BMP), which the module used: JS
// `trim` also strips U+FEFF and keeps U+0085. A loop: a `\s+$` regex is quadratic on a
// long run of spaces inside a value, and an AMI URL takes posts from anyone.
const space = /\p{White_Space}/u;
function trim(s) {
  let a = 0;
  let b = s.length;
  while (a < b && space.test(s[a])) a++;
  while (b > a && space.test(s[b - 1])) b--;
  return s.slice(a, b);
}

// ---------------------------------------------------------------- webhooks

// Node 18 has no global `crypto`: node.js hands over `node:crypto`'s `webcrypto`.
let nodeSubtle = null;
/** @internal Called by the Node entry point; not part of the public API. */
export function useNodeWebCrypto(webcrypto) {
  nodeSubtle = webcrypto?.subtle ?? null;
}

function signatureError(kind, title, detail) {
  return sgError(kind, title, detail, "signatureHeader");
}

function bodyBytes(raw) {
  if (typeof raw === "string") return new TextEncoder().encode(raw);
  // WebCrypto and TextDecoder refuse views of shared memory: copy those.
  if (raw instanceof Uint8Array) return raw.buffer instanceof ArrayBuffer ? raw : raw.slice();
  if (raw instanceof ArrayBuffer) return new Uint8Array(raw);
  throw invalid(
    "rawBody",
    "must be the request body exactly as received: a string, Uint8Array or ArrayBuffer (read it with request.text() or request.arrayBuffer(), never re-serialize JSON)",
  );
}

/** `sha1=<40 hex digits>` (scheme case-insensitive, spaces around each part ignored) → the 20 digest bytes. */
function signatureBytes(header) {
  const h = trim(header ?? "");
  if (h === "") {
    throw signatureError(
      "invalid_input",
      "Missing webhook signature",
      "no x-sg-signature header: the request is not from ShotGrid, or the webhook has no secret token",
    );
  }
  const eq = h.indexOf("=");
  const hex = trim(h.slice(eq + 1));
  if (eq < 0 || !/^sha1$/i.test(trim(h.slice(0, eq))) || !/^[0-9a-f]{40}$/i.test(hex)) {
    throw signatureError(
      "invalid_input",
      "Malformed webhook signature",
      'x-sg-signature must be "sha1=" followed by 40 hexadecimal digits',
    );
  }
  const out = new Uint8Array(20);
  for (let i = 0; i < 20; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function payloadError(detail) {
  return sgError("decode", "Unexpected webhook payload", detail);
}

/** `{data, timestamp}` or `{data: {deliveries: [...]}, timestamp}` → `{ timestamp, batched, deliveries }`. */
function parsePayload(bytes) {
  let top;
  try {
    // Strict like the signature: invalid UTF-8 or a byte-order mark is not JSON.
    top = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes));
  } catch {
    throw payloadError("the body is not JSON");
  }
  if (!isObject(top)) throw payloadError("the body is not a JSON object");
  const timestamp = typeof top.timestamp === "string" ? top.timestamp : null;
  const data = top.data;
  if (!isObject(data)) throw payloadError("the body has no `data` object");
  // A single delivery has an `event_type`; a batch only `deliveries`.
  if (Array.isArray(data.deliveries) && !Object.hasOwn(data, "event_type")) {
    if (!data.deliveries.every(isObject)) throw payloadError("data.deliveries must hold objects");
    return { timestamp, batched: true, deliveries: data.deliveries };
  }
  return { timestamp, batched: false, deliveries: [data] };
}

/**
 * Verifies a webhook delivery and resolves to `{ timestamp, batched, deliveries }`.
 * `rawBody`: the body exactly as received (string, Uint8Array or ArrayBuffer).
 * `signatureHeader`: the `x-sg-signature` value, or the request's `Headers`.
 * Rejects with `ShotGridError`: `invalid_input` for a missing or malformed header or bad
 * arguments, `auth` for a signature that does not match, `decode` for a verified body
 * that is not a delivery payload. The HMAC-SHA1 is WebCrypto's (`crypto.subtle.verify`
 * compares in constant time).
 */
export async function verifyWebhook(rawBody, signatureHeader, token) {
  let header = signatureHeader;
  if (header !== null && typeof header === "object" && typeof header.get === "function") {
    header = header.get("x-sg-signature");
  }
  const body = bodyBytes(rawBody);
  if (header != null && typeof header !== "string") throw invalid("signatureHeader", "must be a string or null");
  if (typeof token !== "string") throw invalid("token", "must be a string");
  if (token === "") throw invalid("token", "must be the webhook's secret token (a non-empty string)");
  const expected = signatureBytes(header);
  const subtle = globalThis.crypto?.subtle ?? nodeSubtle;
  if (!subtle) {
    throw sgError(
      "invalid_input",
      "WebCrypto unavailable",
      "crypto.subtle is missing: browsers provide it only on secure pages (https or localhost)",
      "crypto.subtle",
    );
  }
  const key = await subtle.importKey("raw", new TextEncoder().encode(token), { name: "HMAC", hash: "SHA-1" }, false, [
    "verify",
  ]);
  if (!(await subtle.verify("HMAC", key, expected, body))) {
    throw signatureError(
      "auth",
      "Webhook signature mismatch",
      "x-sg-signature does not match the body: a forged request, a wrong token, or a body changed on the way",
    );
  }
  return parsePayload(body);
}

// ---------------------------------------------------------------- Action Menu Items

// What ShotGrid posts (form strings): `user_id`, `user_login` (required), `entity_type`
// (required), `selected_ids` and `ids` (comma-separated), `project_id`, `project_name`,
// `page_id`, `title`, `view`, `server_hostname`, `referrer_path`, `session_uuid`, `cols`
// and `column_display_names` (repeated), `sort_column`, `sort_direction`,
// `grouping_column`, `grouping_direction`, `grouping_method`, `event_log_entry_id`
// (light payload). Anything else is kept in `other`.

const MAX_IDS = 100_000; // a page holds far fewer

/** A positive integer JS holds exactly (`+7`, ` 7 ` and `007` too, as Rust's u64 parse took them), else 0. */
function idOf(raw) {
  const s = trim(raw);
  const n = /^\+?[0-9]+$/.test(s) ? Number(s) : 0;
  return n >= 1 && n <= Number.MAX_SAFE_INTEGER ? n : 0;
}

function decodeAmi(pairs) {
  if (pairs.length === 0) throw invalid("form", "is empty: not an Action Menu Item post");
  const single = new Map();
  const columns = [];
  const columnDisplayNames = [];
  for (const [k, v] of pairs) {
    if (k === "cols" || k === "cols[]") columns.push(v);
    else if (k === "column_display_names" || k === "column_display_names[]") columnDisplayNames.push(v);
    else if (single.has(k)) throw invalid(`form.${k}`, "is given twice");
    else single.set(k, v);
  }
  const take = (k) => {
    const v = single.get(k);
    single.delete(k);
    return v;
  };
  const required = (k) => {
    const v = take(k);
    if (v === undefined || trim(v) === "") throw invalid(`form.${k}`, "is missing: not an Action Menu Item post");
    return v;
  };
  const id = (k, v) => idOf(v) || throwInvalid(`form.${k}`, "must be a positive integer id");
  const optId = (k) => {
    const v = take(k);
    return v === undefined || trim(v) === "" ? null : id(k, v);
  };
  const ids = (k) => {
    const s = trim(take(k) ?? "");
    if (s === "") return [];
    const out = [];
    for (const part of s.split(",")) {
      if (out.length >= MAX_IDS) throw invalid(`form.${k}`, "lists too many ids");
      out.push(idOf(part) || throwInvalid(`form.${k}`, "must be a comma-separated list of positive integer ids"));
    }
    return out;
  };
  const text = (k) => take(k) || null;
  const direction = (k) => {
    const v = take(k);
    if (!v) return null;
    if (v === "asc" || v === "desc") return v;
    throw invalid(`form.${k}`, 'must be "asc" or "desc"');
  };

  // Checked in this order, so the first problem is the one reported.
  const entityType = required("entity_type");
  if (!/^[A-Z][A-Za-z0-9]{0,63}$/.test(entityType)) {
    throw invalid("form.entity_type", 'must be an entity type in TitleCase, e.g. "Shot" or "CustomEntity01"');
  }
  const userId = id("user_id", required("user_id"));
  const login = required("user_login");
  const selectedIds = ids("selected_ids");
  const allIds = ids("ids");
  const projectId = optId("project_id");
  const projectName = text("project_name");
  const pageId = optId("page_id");
  const eventLogEntryId = optId("event_log_entry_id");
  const sortColumn = text("sort_column");
  const sortDirection = direction("sort_direction");
  const groupingColumn = text("grouping_column");
  const groupingDirection = direction("grouping_direction");
  const groupingMethod = text("grouping_method");
  return {
    entityType,
    selectedIds,
    ids: allIds,
    selection: selectedIds.map((i) => ({ type: entityType, id: i })),
    user: { type: "HumanUser", id: userId, login },
    project: projectId === null ? null : { type: "Project", id: projectId, name: projectName },
    pageId,
    title: text("title"),
    view: text("view"),
    serverHostname: text("server_hostname"),
    referrerPath: text("referrer_path"),
    sessionUuid: text("session_uuid"),
    columns,
    columnDisplayNames,
    sort: sortColumn === null ? null : { column: sortColumn, direction: sortDirection },
    grouping:
      groupingColumn === null ? null : { column: groupingColumn, direction: groupingDirection, method: groupingMethod },
    eventLogEntryId,
    // fromEntries defines properties: a `__proto__` field stays data.
    other: Object.fromEntries(single),
  };
}

function throwInvalid(source, detail) {
  throw invalid(source, detail);
}

function formPairs(form, source) {
  const pairs = [];
  for (const [k, v] of form) {
    if (typeof v !== "string") throw invalid(source, `field ${k} is a file: not an Action Menu Item post`);
    pairs.push([k, v]);
  }
  return pairs;
}

// URLSearchParams decodes application/x-www-form-urlencoded (`+`, `%XX`; bad escapes kept,
// bad UTF-8 replaced). The "&" keeps a leading "?" as part of the first name, as sent.
const urlencoded = (body) => formPairs(new URLSearchParams("&" + body), "form");

/**
 * Decodes the form POST ShotGrid sends to an Action Menu Item URL. Accepts a Request
 * (its form body is read), URLSearchParams, FormData, or the urlencoded body string.
 * Resolves to an `ActionMenuItem`; rejects with `ShotGridError` (`invalid_input`) for a
 * request that is not a POST with a form body, or a malformed post.
 */
export async function parseActionMenuItem(input) {
  if (typeof input === "string") return decodeAmi(urlencoded(input));
  if (typeof URLSearchParams !== "undefined" && input instanceof URLSearchParams) {
    return decodeAmi(formPairs(input, "form"));
  }
  if (typeof FormData !== "undefined" && input instanceof FormData) {
    return decodeAmi(formPairs(input, "form"));
  }
  if (input !== null && typeof input === "object" && typeof input.text === "function" && input.headers) {
    if (String(input.method).toUpperCase() !== "POST") {
      throw invalid("request.method", "an Action Menu Item post must be a POST");
    }
    const type = (input.headers.get("content-type") ?? "").toLowerCase();
    if (type.startsWith("application/x-www-form-urlencoded")) {
      return decodeAmi(urlencoded(await input.text()));
    }
    if (type.startsWith("multipart/form-data")) {
      return decodeAmi(formPairs(await input.formData(), "request.body"));
    }
    throw invalid("request.headers.content-type", "must be application/x-www-form-urlencoded or multipart/form-data");
  }
  throw invalid("request", "must be a Request, URLSearchParams, FormData or the urlencoded body");
}

// ---------------------------------------------------------------- the event log

function abortError(signal) {
  const reason = signal.reason;
  if (reason instanceof Error && reason.name === "ShotGridError") return reason;
  return new ShotGridError("ShotGrid aborted: Aborted", { kind: "aborted", title: "Aborted", detail: String(reason ?? "") });
}

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const done = () => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    };
    const timer = setTimeout(done, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * `sg.events.follow(options)`: an async iterable over new EventLogEntry records, in id
 * order, never the same event twice; see `FollowOptions` in the types.
 */
function follow(sg, options = {}) {
  const { signal, untilCaughtUp = false, pollIntervalMs = 5000, ...rest } = options ?? {};
  if (typeof pollIntervalMs !== "number" || !(pollIntervalMs >= 0)) {
    throw invalid("options.pollIntervalMs", "must be a non-negative number of ms");
  }
  const follower = sg.eventFollower(rest);
  let position = follower.position;
  let running = false;
  let freed = false;
  async function* events() {
    if (running) throw invalid("follow", "this follower is already being iterated");
    running = true;
    try {
      for (;;) {
        if (signal?.aborted) throw abortError(signal);
        const event = await follower.next();
        position = follower.position;
        if (event !== null) {
          yield event;
          continue;
        }
        if (untilCaughtUp) return;
        await sleep(pollIntervalMs, signal);
      }
    } finally {
      running = false;
    }
  }
  return {
    /** `{ lastId, holes }` after the last event handed out: store it to resume. */
    get position() {
      return freed ? position : (position = follower.position ?? position);
    },
    [Symbol.asyncIterator]: events,
    /** Frees the follower's memory in the WebAssembly module (position stays readable). */
    close() {
      if (!freed && !running) {
        position = follower.position ?? position;
        freed = true;
        follower.free();
      }
    },
  };
}

if (!Object.getOwnPropertyDescriptor(ShotGrid.prototype, "events")) {
  Object.defineProperty(ShotGrid.prototype, "events", {
    configurable: true,
    get() {
      const sg = this;
      return { follow: (options) => follow(sg, options) };
    },
  });
}
