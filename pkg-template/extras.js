// Integration helpers shared by every entry point: webhook verification, Action Menu
// Item posts, and `sg.events.follow`. The logic is in the WebAssembly module; this file
// adapts web-platform objects (Request, Headers, FormData, AbortSignal) to it.
import { ShotGrid, verifyWebhookSignature, parseActionMenuItemForm } from "./shotgrid_wasm.js";
import { ShotGridError } from "./errors.js";

function invalid(source, detail) {
  return new ShotGridError(`ShotGrid invalid_input: Invalid input: ${detail} (at ${source})`, {
    kind: "invalid_input",
    title: "Invalid input",
    detail,
    source,
  });
}

/**
 * Verifies a webhook delivery and returns `{ timestamp, batched, deliveries }`.
 * `rawBody`: the body exactly as received (string, Uint8Array or ArrayBuffer).
 * `signatureHeader`: the `x-sg-signature` value, or the request's `Headers`.
 * Throws `ShotGridError` (`invalid_input`: missing/malformed header; `auth`: mismatch).
 */
export function verifyWebhook(rawBody, signatureHeader, token) {
  let header = signatureHeader;
  if (header !== null && typeof header === "object" && typeof header.get === "function") {
    header = header.get("x-sg-signature");
  }
  return verifyWebhookSignature(rawBody, header ?? null, token);
}

function formPairs(form, source) {
  const pairs = [];
  for (const [k, v] of form) {
    if (typeof v !== "string") throw invalid(source, `field ${k} is a file: not an Action Menu Item post`);
    pairs.push([k, v]);
  }
  return pairs;
}

/**
 * Decodes the form POST ShotGrid sends to an Action Menu Item URL. Accepts a Request
 * (its form body is read), URLSearchParams, FormData, or the urlencoded body string.
 * Resolves to an `ActionMenuItem`; rejects with `ShotGridError` (`invalid_input`) for a
 * request that is not a POST with a form body, or a malformed post.
 */
export async function parseActionMenuItem(input) {
  if (typeof input === "string") return parseActionMenuItemForm(input);
  if (typeof URLSearchParams !== "undefined" && input instanceof URLSearchParams) {
    return parseActionMenuItemForm(formPairs(input, "form"));
  }
  if (typeof FormData !== "undefined" && input instanceof FormData) {
    return parseActionMenuItemForm(formPairs(input, "form"));
  }
  if (input !== null && typeof input === "object" && typeof input.text === "function" && input.headers) {
    if (String(input.method).toUpperCase() !== "POST") {
      throw invalid("request.method", "an Action Menu Item post must be a POST");
    }
    const type = (input.headers.get("content-type") ?? "").toLowerCase();
    if (type.startsWith("application/x-www-form-urlencoded")) {
      return parseActionMenuItemForm(await input.text());
    }
    if (type.startsWith("multipart/form-data")) {
      return parseActionMenuItemForm(formPairs(await input.formData(), "request.body"));
    }
    throw invalid("request.headers.content-type", "must be application/x-www-form-urlencoded or multipart/form-data");
  }
  throw invalid("request", "must be a Request, URLSearchParams, FormData or the urlencoded body");
}

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
