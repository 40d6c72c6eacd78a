// The integration helpers that need no site: `verifyWebhook` (WebCrypto HMAC-SHA1) and
// `parseActionMenuItem` (URLSearchParams/FormData), in the format of scenario.mjs. Each
// case gets { ShotGridError, verifyWebhook, parseActionMenuItem } from the entry point
// under test; the Node, workerd and Chromium runners all run them (tests/js/all.mjs).
// They were the Rust unit tests of src/webhook.rs and src/protocol/ami.rs, every case
// kept, when both moved from the WebAssembly module to pkg-template/extras.js.

import { check, eq } from "./check.mjs";

/** Deep equality, key order included (the order is part of the shape JS sees). */
function same(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  check(a === e, `${what}:\n  expected ${e}\n  got      ${a}`);
}

/** Runs `fn`; returns what it rejected (or threw) with, fails if it settled fine. */
async function rejects(fn, what) {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error(`assertion failed: ${what} should have rejected`);
}

async function fails(t, fn, kind, what) {
  const err = await rejects(fn, what);
  check(err instanceof t.ShotGridError, `${what}: a ShotGridError, got ${err?.stack ?? err}`);
  eq(err.name, "ShotGridError", `${what}: name`);
  eq(err.kind, kind, `${what}: kind (${err.message})`);
  // The fields every ShotGridError has, also when made in JS.
  for (const k of ["status", "code", "requestId", "retryAfterMs"]) eq(err[k], null, `${what}: ${k}`);
  eq(err.retryable, false, `${what}: retryable`);
  eq(err.maybeApplied, false, `${what}: maybeApplied`);
  return err;
}

const enc = new TextEncoder();

/** `sha1=<hex>` over the bytes of `body` keyed by `token`, with the platform's WebCrypto. */
async function sign(body, token) {
  const bytes = typeof body === "string" ? enc.encode(body) : body;
  const key = await crypto.subtle.importKey("raw", enc.encode(token), { name: "HMAC", hash: "SHA-1" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, bytes));
  return "sha1=" + [...mac].map((b) => b.toString(16).padStart(2, "0")).join("");
}

const TOKEN = "s3cret-token";
const SINGLE =
  '{"data":{"id":"1","event_type":"Shotgun_Shot_Change","operation":"update","entity":{"type":"Shot","id":3},"delivery_id":"d1"},"timestamp":"2026-01-01T00:00:00Z"}';
// HMAC-SHA1 of SINGLE keyed by TOKEN, computed apart (Node's createHmac).
const SINGLE_SIGNATURE = "sha1=d7e78abef1fd713c8825c6ac07a32d27593f510c";
const MISSING_DETAIL = "no x-sg-signature header: the request is not from ShotGrid, or the webhook has no secret token";
const MALFORMED_DETAIL = 'x-sg-signature must be "sha1=" followed by 40 hexadecimal digits';

// ---------------------------------------------------------------- Action Menu Items

const POST =
  "user_id=39&user_login=flord&title=Versions&entity_type=Version" +
  "&server_hostname=studio.shotgrid.autodesk.com&referrer_path=%2Fpage%2F1234" +
  "&page_id=1234&session_uuid=8c4a&project_name=Demo+Project&project_id=84" +
  "&ids=7754%2C7738%2C7739&selected_ids=7754,7738" +
  "&cols=code&cols=image&cols=sg_qt&column_display_names=Version+Name" +
  "&column_display_names=Thumbnail&column_display_names=QT" +
  "&sort_column=code&sort_direction=asc&grouping_column=created_at" +
  "&grouping_direction=desc&grouping_method=day&view=Default&custom=x%26y";

const DECODED = {
  entityType: "Version",
  selectedIds: [7754, 7738],
  ids: [7754, 7738, 7739],
  selection: [
    { type: "Version", id: 7754 },
    { type: "Version", id: 7738 },
  ],
  user: { type: "HumanUser", id: 39, login: "flord" },
  project: { type: "Project", id: 84, name: "Demo Project" },
  pageId: 1234,
  title: "Versions",
  view: "Default",
  serverHostname: "studio.shotgrid.autodesk.com",
  referrerPath: "/page/1234",
  sessionUuid: "8c4a",
  columns: ["code", "image", "sg_qt"],
  columnDisplayNames: ["Version Name", "Thumbnail", "QT"],
  sort: { column: "code", direction: "asc" },
  grouping: { column: "created_at", direction: "desc", method: "day" },
  eventLogEntryId: null,
  other: { custom: "x&y" },
};

const MINIMAL = "user_id=1&user_login=a&entity_type=Shot";

function amiRequest(body, type = "application/x-www-form-urlencoded", method = "POST") {
  return new Request("https://ami.example/hook", { method, headers: { "content-type": type }, body });
}

export const cases = [
  // ------------------------------------------------------------ verifyWebhook
  ["verifyWebhook: known HMAC-SHA1 vectors (RFC 2202 case 2, a delivery signed apart)", async (t) => {
    // RFC 2202 test case 2: the signature is accepted, then the body is not JSON.
    const rfc = "sha1=effcdf6ae5eb2fa2d27416d5f184df9c259a7c79";
    const e = await fails(t, () => t.verifyWebhook("what do ya want for nothing?", rfc, "Jefe"), "decode", "RFC 2202 body");
    eq(e.title, "Unexpected webhook payload", "past the signature");
    const flipped = rfc.slice(0, -1) + "8";
    await fails(t, () => t.verifyWebhook("what do ya want for nothing?", flipped, "Jefe"), "auth", "one digit changed");
    eq((await t.verifyWebhook(SINGLE, SINGLE_SIGNATURE, TOKEN)).deliveries[0].delivery_id, "d1", "signed apart");
    eq(await sign(SINGLE, TOKEN), SINGLE_SIGNATURE, "the test's own signer agrees");
  }],

  ["verifyWebhook: a single delivery, from a string, bytes, an ArrayBuffer or Headers; resolves a Promise", async (t) => {
    const header = await sign(SINGLE, TOKEN);
    const pending = t.verifyWebhook(SINGLE, header, TOKEN);
    check(pending instanceof Promise, "verifyWebhook returns a Promise");
    const p = await pending;
    same(p, { timestamp: "2026-01-01T00:00:00Z", batched: false, deliveries: [JSON.parse(SINGLE).data] }, "payload");
    same(Object.keys(p), ["timestamp", "batched", "deliveries"], "key order");
    const bytes = enc.encode(SINGLE);
    same(await t.verifyWebhook(bytes, header, TOKEN), p, "Uint8Array body");
    same(await t.verifyWebhook(bytes.buffer.slice(0), header, TOKEN), p, "ArrayBuffer body");
    same(await t.verifyWebhook(SINGLE, new Headers({ "X-SG-Signature": header }), TOKEN), p, "Headers");
    // Upper-case hex, an upper-case scheme and spaces are accepted.
    same(await t.verifyWebhook(SINGLE, `  SHA1=${header.slice(5).toUpperCase()}  `, TOKEN), p, "upper case, spaces");
    same(await t.verifyWebhook(SINGLE, `sha1 = ${header.slice(5)}`, TOKEN), p, "spaces around =");
    // A body with non-ASCII text is signed over its UTF-8 bytes.
    const accented = '{"data":{"event_type":"Shotgun_Shot_Change","delivery_id":"é✓"},"timestamp":null}';
    const q = await t.verifyWebhook(accented, await sign(accented, "tøken"), "tøken");
    same(q, { timestamp: null, batched: false, deliveries: [{ event_type: "Shotgun_Shot_Change", delivery_id: "é✓" }] }, "UTF-8");
  }],

  ["verifyWebhook: batched deliveries", async (t) => {
    const body = '{"timestamp":"t","data":{"deliveries":[{"delivery_id":"a"},{"delivery_id":"b"}]}}';
    const p = await t.verifyWebhook(body, await sign(body, TOKEN), TOKEN);
    eq(p.batched, true, "batched");
    eq(p.timestamp, "t", "timestamp");
    same(p.deliveries.map((d) => d.delivery_id), ["a", "b"], "in order");
    const bad = '{"data":{"deliveries":[1]}}';
    const e = await fails(t, async () => t.verifyWebhook(bad, await sign(bad, TOKEN), TOKEN), "decode", "non-object delivery");
    eq(e.detail, "data.deliveries must hold objects", "detail");
    // A delivery with an event_type is a single one, even with a `deliveries` member.
    const single = '{"data":{"event_type":"x","deliveries":[1]}}';
    const s = await t.verifyWebhook(single, await sign(single, TOKEN), TOKEN);
    eq(s.batched, false, "not a batch");
    same(s.deliveries, [{ event_type: "x", deliveries: [1] }], "kept whole");
  }],

  ["verifyWebhook: missing, malformed and wrong signatures, bad arguments", async (t) => {
    const body = '{"data":{"event_type":"x"}}';
    for (const missing of [undefined, null, "", "   ", new Headers()]) {
      const e = await fails(t, () => t.verifyWebhook(body, missing, TOKEN), "invalid_input", `missing ${JSON.stringify(missing)}`);
      eq(e.title, "Missing webhook signature", "title");
      eq(e.detail, MISSING_DETAIL, "detail");
      eq(e.source, "signatureHeader", "source");
      eq(e.message, `ShotGrid invalid_input: Missing webhook signature: ${MISSING_DETAIL} (at signatureHeader)`, "message");
    }
    for (const malformed of [
      "abc",
      "sha1=",
      "=0000000000000000000000000000000000000000",
      "sha256=0000000000000000000000000000000000000000",
      "sha1=zz00000000000000000000000000000000000000",
      "sha1=00000000000000000000000000000000000000000",
      "sha1=000000000000000000000000000000000000000",
      "sha1=0x00000000000000000000000000000000000000",
      "sha1=ééééééééééééééééééééé",
      "sha1=éééééééééééééééééééééééééééééééééééééééé",
    ]) {
      const e = await fails(t, () => t.verifyWebhook(body, malformed, TOKEN), "invalid_input", malformed);
      eq(e.title, "Malformed webhook signature", malformed);
      eq(e.detail, MALFORMED_DETAIL, "detail");
      eq(e.source, "signatureHeader", "source");
    }
    const e = await fails(t, async () => t.verifyWebhook(body, await sign(body, "other"), TOKEN), "auth", "wrong token");
    eq(e.title, "Webhook signature mismatch", "title");
    eq(e.source, "signatureHeader", "source");
    eq(
      e.message,
      "ShotGrid auth: Webhook signature mismatch: x-sg-signature does not match the body: a forged request, a wrong token, or a body changed on the way",
      "message",
    );
    check(!e.message.includes(TOKEN) && !String(e.detail).includes(TOKEN), "the token is not in the error");
    // A changed body fails even with the original signature.
    const header = await sign(body, TOKEN);
    await fails(t, () => t.verifyWebhook('{"data":{"event_type":"y"}}', header, TOKEN), "auth", "changed body");
    await fails(t, () => t.verifyWebhook(body + " ", header, TOKEN), "auth", "one byte more");
    // Arguments, checked before anything else.
    for (const [what, args, source, detail] of [
      ["empty token", [body, header, ""], "token", "must be the webhook's secret token (a non-empty string)"],
      ["token not a string", [body, header, 42], "token", "must be a string"],
      ["header not a string", [body, 42, TOKEN], "signatureHeader", "must be a string or null"],
      ["body an object", [{ data: {} }, header, TOKEN], "rawBody", null],
      ["body missing", [undefined, header, TOKEN], "rawBody", null],
    ]) {
      const err = await fails(t, () => t.verifyWebhook(...args), "invalid_input", what);
      eq(err.source, source, `${what}: source`);
      eq(err.title, "Invalid input", `${what}: title`);
      if (detail) eq(err.detail, detail, `${what}: detail`);
    }
    check(
      (await rejects(() => t.verifyWebhook({}, null, TOKEN), "bad body")).detail.includes("never re-serialize JSON"),
      "the body error says how to read the body",
    );
  }],

  ["verifyWebhook: verified bodies that are not delivery payloads are decode errors", async (t) => {
    for (const [body, detail] of [
      ["not json", "the body is not JSON"],
      ["", "the body is not JSON"],
      ["\ufeff{\"data\":{}}", "the body is not JSON"],
      ["[]", "the body is not a JSON object"],
      ["null", "the body is not a JSON object"],
      ["{}", "the body has no `data` object"],
      ['{"data":3}', "the body has no `data` object"],
      ['{"data":[]}', "the body has no `data` object"],
      ['{"data":null}', "the body has no `data` object"],
    ]) {
      const e = await fails(t, async () => t.verifyWebhook(body, await sign(body, TOKEN), TOKEN), "decode", JSON.stringify(body));
      eq(e.title, "Unexpected webhook payload", "title");
      eq(e.detail, detail, JSON.stringify(body));
      eq(e.message, `ShotGrid decode: Unexpected webhook payload: ${detail}`, "message");
    }
    // Invalid UTF-8 is not JSON text.
    const bytes = new Uint8Array([...enc.encode('{"data":{"event_type":"'), 0xff, ...enc.encode('"}}')]);
    const e = await fails(t, async () => t.verifyWebhook(bytes, await sign(bytes, TOKEN), TOKEN), "decode", "invalid UTF-8");
    eq(e.detail, "the body is not JSON", "detail");
  }],

  // ------------------------------------------------------------ parseActionMenuItem
  ["parseActionMenuItem: a full post, from a string, URLSearchParams, FormData or a Request", async (t) => {
    const p = await t.parseActionMenuItem(POST);
    same(p, DECODED, "decoded");
    // Key order is part of the shape JS sees.
    same(Object.keys(p), Object.keys(DECODED), "key order");
    same(await t.parseActionMenuItem(new URLSearchParams(POST)), DECODED, "URLSearchParams");
    const fd = new FormData();
    for (const [k, v] of new URLSearchParams(POST)) fd.append(k, v);
    same(await t.parseActionMenuItem(fd), DECODED, "FormData");
    same(await t.parseActionMenuItem(amiRequest(POST)), DECODED, "urlencoded Request");
    same(await t.parseActionMenuItem(amiRequest(POST, "Application/X-WWW-Form-Urlencoded; charset=UTF-8")), DECODED, "content-type case");
    same(await t.parseActionMenuItem(new Request("https://ami.example/", { method: "post", body: fd })), DECODED, "multipart Request");
    // `cols[]` and `column_display_names[]` are the same lists.
    const brackets = await t.parseActionMenuItem(`${MINIMAL}&cols[]=a&cols=b&column_display_names[]=A`);
    same([brackets.columns, brackets.columnDisplayNames], [["a", "b"], ["A"]], "bracketed keys");
  }],

  ["parseActionMenuItem: a minimal post from a global page; sort and grouping without directions", async (t) => {
    const p = await t.parseActionMenuItem(`${MINIMAL}&selected_ids=&ids=`);
    same(
      p,
      {
        entityType: "Shot",
        selectedIds: [],
        ids: [],
        selection: [],
        user: { type: "HumanUser", id: 1, login: "a" },
        project: null,
        pageId: null,
        title: null,
        view: null,
        serverHostname: null,
        referrerPath: null,
        sessionUuid: null,
        columns: [],
        columnDisplayNames: [],
        sort: null,
        grouping: null,
        eventLogEntryId: null,
        other: {},
      },
      "minimal",
    );
    const sorted = await t.parseActionMenuItem(`${MINIMAL}&project_id=2&sort_column=code&grouping_column=x`);
    same(sorted.project, { type: "Project", id: 2, name: null }, "project without a name");
    same(sorted.sort, { column: "code", direction: null }, "sort");
    same(sorted.grouping, { column: "x", direction: null, method: null }, "grouping");
    // Empty optional fields are absent, ids are trimmed, the light payload's id is read.
    const light = await t.parseActionMenuItem(
      `${MINIMAL}&project_id=&title=&page_id=+&selected_ids=+3+,4&event_log_entry_id=77&sort_direction=&sort_column=`,
    );
    same([light.project, light.title, light.pageId, light.sort], [null, null, null, null], "empty fields");
    same(light.selectedIds, [3, 4], "trimmed ids");
    same(light.selection, [{ type: "Shot", id: 3 }, { type: "Shot", id: 4 }], "selection");
    eq(light.eventLogEntryId, 77, "eventLogEntryId");
    // The largest id JS holds exactly is accepted, the next is not.
    eq((await t.parseActionMenuItem(`${MINIMAL}&page_id=9007199254740991`)).pageId, 9007199254740991, "2^53-1");
  }],

  ["parseActionMenuItem: malformed posts reject with invalid_input naming the field", async (t) => {
    for (const [body, at, detail] of [
      ["", "form", "is empty: not an Action Menu Item post"],
      ["hello", "form.entity_type", "is missing: not an Action Menu Item post"],
      ["user_id=1&user_login=a", "form.entity_type", null],
      ["user_id=1&user_login=a&entity_type=+", "form.entity_type", "is missing: not an Action Menu Item post"],
      ["user_id=1&user_login=a&entity_type=Not+A+Type", "form.entity_type", 'must be an entity type in TitleCase, e.g. "Shot" or "CustomEntity01"'],
      ["user_id=1&user_login=a&entity_type=shot", "form.entity_type", null],
      [`user_id=1&user_login=a&entity_type=S${"x".repeat(64)}`, "form.entity_type", null],
      ["user_login=a&entity_type=Shot", "form.user_id", "is missing: not an Action Menu Item post"],
      ["user_id=x&user_login=a&entity_type=Shot", "form.user_id", "must be a positive integer id"],
      ["user_id=0&user_login=a&entity_type=Shot", "form.user_id", "must be a positive integer id"],
      ["user_id=1&entity_type=Shot", "form.user_login", "is missing: not an Action Menu Item post"],
      ["user_id=1&user_login=+&entity_type=Shot", "form.user_login", null],
      [`${MINIMAL}&selected_ids=1,,2`, "form.selected_ids", "must be a comma-separated list of positive integer ids"],
      [`${MINIMAL}&selected_ids=1,2,`, "form.selected_ids", null],
      [`${MINIMAL}&ids=-3`, "form.ids", "must be a comma-separated list of positive integer ids"],
      [`${MINIMAL}&ids=1.5`, "form.ids", null],
      [`${MINIMAL}&ids=99999999999999999999`, "form.ids", null],
      [`${MINIMAL}&page_id=9007199254740992`, "form.page_id", "must be a positive integer id"],
      [`${MINIMAL}&project_id=p`, "form.project_id", "must be a positive integer id"],
      [`${MINIMAL}&event_log_entry_id=1e3`, "form.event_log_entry_id", null],
      [`${MINIMAL}&sort_column=c&sort_direction=up`, "form.sort_direction", 'must be "asc" or "desc"'],
      [`${MINIMAL}&grouping_direction=ASC`, "form.grouping_direction", null],
      ["user_id=1&user_id=2&user_login=a&entity_type=Shot", "form.user_id", "is given twice"],
      [`${MINIMAL}&custom=1&custom=2`, "form.custom", "is given twice"],
      [`?${MINIMAL}`, "form.user_id", null],
    ]) {
      const e = await fails(t, () => t.parseActionMenuItem(body), "invalid_input", JSON.stringify(body));
      eq(e.source, at, `${body}: source`);
      eq(e.title, "Invalid input", `${body}: title`);
      if (detail) {
        eq(e.detail, detail, `${body}: detail`);
        eq(e.message, `ShotGrid invalid_input: Invalid input: ${detail} (at ${at})`, `${body}: message`);
      }
    }
  }],

  ["parseActionMenuItem: at most 100,000 ids a list", async (t) => {
    const list = (n) => Array.from({ length: n }, (_, i) => i + 1).join(",");
    eq((await t.parseActionMenuItem(`${MINIMAL}&ids=${list(100_000)}`)).ids.length, 100_000, "100,000 ids");
    const e = await fails(t, () => t.parseActionMenuItem(`${MINIMAL}&ids=${list(100_001)}`), "invalid_input", "100,001 ids");
    eq(e.source, "form.ids", "source");
    eq(e.detail, "lists too many ids", "detail");
  }],

  ["parseActionMenuItem: form decoding keeps odd escapes and empty pairs, never fails on them", async (t) => {
    const p = await t.parseActionMenuItem(`${MINIMAL}&a=%&b=%4&c=%zz%41&d=%C3%A9+%FF&&e&f=1=2&%67=%2B`);
    same(p.other, { a: "%", b: "%4", c: "%zzA", d: "é \ufffd", e: "", f: "1=2", g: "+" }, "other");
    // Keys that are Object.prototype members stay plain data.
    const proto = await t.parseActionMenuItem(`${MINIMAL}&__proto__=x&constructor=y`);
    same(Object.entries(proto.other), [["__proto__", "x"], ["constructor", "y"]], "prototype-named keys");
    eq(Object.getPrototypeOf(proto.other), Object.prototype, "other is a plain object");
    // Trimming is Unicode White_Space (U+0085 and U+3000 too), and linear: a long run of
    // spaces inside a value must not make it quadratic (an AMI URL takes anyone's post).
    const run = " ".repeat(300_000);
    const spaced = await t.parseActionMenuItem(
      `user_id=%C2%85%E3%80%801&user_login=a${run}b&entity_type=Shot&selected_ids=1${run},2`,
    );
    eq(spaced.user.id, 1, "ids trimmed of U+0085 and U+3000");
    eq(spaced.user.login, `a${run}b`, "inner spaces kept");
    same(spaced.selectedIds, [1, 2], "ids with spaces");
  }],

  ["parseActionMenuItem: requests that are not form POSTs, and file fields, are refused", async (t) => {
    for (const [what, input, source] of [
      ["a GET", new Request("https://ami.example/", { method: "GET" }), "request.method"],
      ["a JSON body", amiRequest("{}", "application/json"), "request.headers.content-type"],
      ["no content type", new Request("https://ami.example/", { method: "POST", body: new Uint8Array([1]) }), "request.headers.content-type"],
      ["a number", 42, "request"],
      ["null", null, "request"],
      ["pairs", [["user_id", "1"]], "request"],
    ]) {
      const e = await fails(t, () => t.parseActionMenuItem(input), "invalid_input", what);
      eq(e.source, source, `${what}: source`);
    }
    const fd = new FormData();
    for (const [k, v] of new URLSearchParams(MINIMAL)) fd.append(k, v);
    fd.append("upload", new Blob(["x"]), "x.txt");
    const direct = await fails(t, () => t.parseActionMenuItem(fd), "invalid_input", "FormData with a file");
    eq(direct.source, "form", "FormData source");
    eq(direct.detail, "field upload is a file: not an Action Menu Item post", "detail");
    const posted = await fails(
      t,
      () => t.parseActionMenuItem(new Request("https://ami.example/", { method: "POST", body: fd })),
      "invalid_input",
      "multipart with a file",
    );
    eq(posted.source, "request.body", "multipart source");
  }],
];
