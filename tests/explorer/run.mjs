// End-to-end tests of the explorer (www/) in headless Chromium (Debian's, driven by
// playwright-core; never a downloaded browser) against the emulator started by
// `cargo xtask test` (SG_EMULATOR_URL, SG_TEST_CLIENT_ID, SG_TEST_CLIENT_SECRET).
// Serves www/ at / and pkg/ at /pkg/ like `cargo xtask demo`. Prints `ok`/`not ok`
// lines and `# pass N` / `# fail M`; saves screenshots under test-output/explorer/.
import http from "node:http";
import { readFile, mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { launchChromium } from "../js/chromium.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const shots = path.join(root, "test-output/explorer");
const env = {
  url: process.env.SG_EMULATOR_URL,
  clientId: process.env.SG_TEST_CLIENT_ID,
  clientSecret: process.env.SG_TEST_CLIENT_SECRET,
};
for (const [k, v] of Object.entries(env)) {
  if (!v) {
    console.error(`missing ${k}: run with \`cargo xtask test --suite explorer\`, which starts the emulator`);
    process.exit(2);
  }
}
const types = { ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css", ".wasm": "application/wasm", ".json": "application/json" };

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, "http://x");
  const rel = path.normalize(decodeURIComponent(url.pathname)).replace(/^\/+/, "");
  const file = rel === "" ? path.join(root, "www/index.html") : rel.startsWith("pkg/") ? path.join(root, rel) : path.join(root, "www", rel);
  if (!file.startsWith(root + path.sep) || rel.includes("..")) return res.writeHead(404).end();
  try {
    res.writeHead(200, { "content-type": types[path.extname(file)] ?? "application/octet-stream", "cache-control": "no-store" }).end(await readFile(file));
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
const origin = `http://127.0.0.1:${server.address().port}`;
const start = `${origin}/?site=${encodeURIComponent(env.url)}`;

await rm(shots, { recursive: true, force: true });
await mkdir(shots, { recursive: true });

const browser = await launchChromium(chromium);

function check(cond, message) {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}
function eq(actual, expected, what) {
  check(JSON.stringify(actual) === JSON.stringify(expected), `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

const tests = [];
const test = (name, fn) => tests.push([name, fn]);
let shotN = 0;
const snap = (page, name) => page.screenshot({ path: path.join(shots, `${String(++shotN).padStart(2, "0")}-${name}.png`), fullPage: true });

async function newPage(viewport = { width: 1280, height: 800 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.errors = [];
  page.on("pageerror", (e) => page.errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error" && !/Failed to load resource/.test(m.text())) page.errors.push(`console: ${m.text()}`); });
  return page;
}

/** Everything the page keeps in web storage, as one string. */
const storage = (page) => page.evaluate(() => JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage } }));

/** Opens the explorer and waits for its script to have set the form up. */
async function open(p) {
  await p.goto(start);
  await p.waitForFunction(() => window.__explorer?.ready === true);
}

async function connectScript(page, { remember = false } = {}) {
  await open(page);
  await page.selectOption("#grant", "client_credentials");
  await page.fill("#clientId", env.clientId);
  await page.fill("#clientSecret", env.clientSecret);
  if (remember) await page.check("#remember");
  await page.click("#connect-submit");
  await page.waitForSelector("#who");
}

/** Chooses a capability and waits for its form. */
async function chooseOp(page, id) {
  await page.selectOption("#op", id);
  await page.waitForFunction((id) => document.querySelector("#op").value === id, id);
}

/** Sends the request form and waits for its status line. */
async function send(page) {
  await page.evaluate(() => document.querySelector("#response").replaceChildren());
  await page.click("#send");
  await page.waitForSelector("#response .status-line");
}

/** Sets the n-th condition (0-based, in document order) of the filter builder. */
async function setCondition(page, n, field, relation, fill) {
  const row = page.locator("li.condition").nth(n);
  await row.locator("input.field-input").fill(field);
  await row.locator("input.field-input").dispatchEvent("change");
  // The operators and the value inputs follow the field's data type once its schema is known.
  await page.waitForFunction(([n, field]) => document.querySelectorAll("li.condition")[n]?.dataset.field === field, [n, field]);
  await row.locator("select[aria-label=Operator]").selectOption(relation);
  await fill(row);
}

const page = await newPage();

test("connect with a script key: who is connected, token expiry, nothing secret stored", async () => {
  await connectScript(page);
  const who = await page.textContent("#who");
  check(who.includes(env.clientId), `who names the script: ${who}`);
  const expiry = await page.textContent("#expiry");
  check(/token expires .*\(in (9|10) min/.test(expiry), `token expiry shown: ${expiry}`);
  const at = Number(await page.getAttribute("#expiry", "data-expires-at"));
  check(at > Date.now() + 8 * 60_000, "expiry is about 10 minutes ahead (the emulator's token lifetime)");
  check(await page.isVisible("#panel-request"), "the Requests panel opens");
  check(await page.evaluate(() => document.activeElement?.id === "op"), "focus moves to the capability picker");
  const stored = await storage(page);
  check(!stored.includes(env.clientSecret), "the script key is not stored");
  check(!/access|refresh/i.test(JSON.parse(stored).session ? Object.keys(JSON.parse(stored).session).join() : ""), "no session kept without 'remember'");
  eq(await page.inputValue("#clientSecret"), "", "the key input is emptied after connecting");
  await snap(page, "connected");
});

test("connect errors: a missing key is refused before sending, a wrong key is an auth error", async () => {
  const p = await newPage();
  await open(p);
  await snap(p, "connect-form");
  await p.selectOption("#grant", "client_credentials");
  await p.fill("#clientId", env.clientId);
  await p.click("#connect-submit");
  check((await p.textContent("#connect-status .error-box")).includes("Script key is required"), "missing key named");
  await p.fill("#clientSecret", `${env.clientSecret}-wrong`);
  await p.click("#connect-submit");
  await p.waitForFunction(() => document.querySelector("#connect-status dd.err-kind")?.textContent === "auth");
  check((await p.textContent("#connect-status .error-box")).includes("102"), "ShotGrid's authentication code shown");
  eq(await p.textContent("#connection"), "Not connected", "still not connected");
  check(!(await storage(p)).includes("-wrong"), "the wrong key is not stored either");
  await snap(p, "connect-error");
  // A site that does not answer (or whose CORS refuses us): a network error and a hint.
  await p.fill("#site", "http://127.0.0.1:9");
  await p.fill("#clientSecret", env.clientSecret);
  await p.click("#connect-submit");
  await p.waitForFunction(() => document.querySelector("#connect-status dd.err-kind")?.textContent === "network", null, { timeout: 30_000 });
  check((await p.textContent("#connect-status")).includes("CORS"), "the hint names CORS");
  if (p.errors.length) throw new Error(`page errors: ${p.errors.join("; ")}`);
  await p.context().close();
});

test("the token is renewed automatically before it expires", async () => {
  const p = await newPage();
  await p.clock.install();
  await connectScriptOn(p);
  const before = Number(await p.getAttribute("#expiry", "data-expires-at"));
  // Jump to 40 s before expiry: inside the client's 60 s margin the explorer makes a call.
  await p.clock.fastForward(before - (await p.evaluate(() => Date.now())) - 40_000);
  await p.waitForFunction(() => document.querySelector("#refreshed")?.textContent.includes("renewed automatically"), null, { timeout: 15_000 });
  await p.clock.runFor(1000);
  const after = Number(await p.getAttribute("#expiry", "data-expires-at"));
  check(after > before, `the expiry moved on (${before} → ${after})`);
  const grants = await p.evaluate(() => window.__explorer.exchanges
    .filter((e) => e.url.endsWith("/auth/access_token")).map((e) => new URLSearchParams(e.body).get("grant_type")));
  eq(grants, ["client_credentials", "refresh_token"], "one grant, then one refresh");
  if (p.errors.length) throw new Error(`page errors: ${p.errors.join("; ")}`);
  await p.context().close();
});

let nestedFirstPage = null;
test("search with a nested filter: project AND (status ip OR code ends with 0)", async () => {
  await chooseOp(page, "find");
  await page.selectOption("#p-entityType", "Shot");
  await page.click(".filter-builder .add-condition >> nth=0");
  await setCondition(page, 0, "project", "is", async (row) => {
    await row.locator("[aria-label='Condition value: linked type']").selectOption("Project");
    await row.locator("[aria-label='Condition value: linked id']").fill("1");
  });
  await page.click(".filter-builder > fieldset > .row .add-group");
  await page.locator("fieldset.nested select").first().selectOption("or");
  await setCondition(page, 1, "sg_status_list", "is", (row) => row.locator("select[aria-label='Condition value']").selectOption("ip"));
  await page.locator("fieldset.nested .add-condition").click();
  await setCondition(page, 2, "code", "ends_with", (row) => row.locator("input[aria-label='Condition value']").fill("0"));
  await page.fill("#p-pageSize", "10");
  // Fields: code, status, project.
  for (const f of ["code", "sg_status_list", "project"]) {
    await page.fill(".fields-picker input.field-input", f);
    await page.press(".fields-picker input.field-input", "Enter");
  }
  await send(page);
  const expected = await page.evaluate(() => window.__explorer.state.sg.find("Shot", { logical_operator: "and", conditions: [
    ["project", "is", { type: "Project", id: 1 }],
    { logical_operator: "or", conditions: [["sg_status_list", "is", "ip"], ["code", "ends_with", "0"]] }] }, { fields: ["code"], limit: 10 }));
  check(expected.length === 10, `the seed has at least 10 matches (got ${expected.length})`);
  const ids = await page.$$eval("#response table.records tbody tr td:first-child button", (bs) => bs.map((b) => Number(b.dataset.id)));
  eq(ids, expected.map((r) => r.id), "the table shows the same records as the client");
  nestedFirstPage = ids;
  const text = await page.textContent("#response");
  check(text.includes("HTTP 200") && /\d+ ms/.test(text) && text.includes("request id"), "status, timing and request id shown");
  check(await page.isVisible("#response details.raw"), "raw JSON is there, collapsed");
  check(!(await page.$eval("#response details.raw", (d) => d.open)), "raw JSON starts collapsed");
  // Pagination: the next page is the next 10.
  check((await page.textContent(".page-label")).includes("Page 1: records 1–10"), "page label");
  await snap(page, "nested-search");
  await page.click("#page-next");
  await page.waitForFunction(() => document.querySelector(".page-label")?.textContent.includes("Page 2"));
  const page2 = await page.$$eval("#response table.records tbody tr td:first-child button", (bs) => bs.map((b) => Number(b.dataset.id)));
  check(page2.length > 0 && page2.every((id) => !ids.includes(id)), "page 2 holds other records");
  await page.click("#page-prev");
  await page.waitForFunction(() => document.querySelector(".page-label")?.textContent.includes("Page 1"));
});

test("open a linked record from the table", async () => {
  await page.locator("#response table.records tbody tr").first().locator("button.entity-link[data-type=Project]").click();
  await page.waitForFunction(() => document.querySelector("#response .record h3")?.textContent.startsWith("Project #1"));
  const name = await page.evaluate(() => window.__explorer.state.sg.read("Project", 1, { fields: ["name"] }).then((p) => p.name));
  check((await page.textContent("#response .record")).includes(name), "the project's fields are shown");
  eq(await page.inputValue("#op"), "read", "the form shows the read that opened it");
  await snap(page, "linked-record");
});

const code = `EXPLORER_${Date.now().toString(36)}`;
let createdId = null;

test("create, update and delete a record", async () => {
  await chooseOp(page, "create");
  await page.selectOption("#p-entityType", "Shot");
  const rows = page.locator(".data-editor li");
  await rows.nth(0).locator("input.field-input").fill("code");
  await rows.nth(0).locator("input.field-input").dispatchEvent("change");
  await rows.nth(0).locator("input[aria-label='Value of code']").fill(code);
  await page.click(".data-editor .add-data");
  await rows.nth(1).locator("input.field-input").fill("project");
  await rows.nth(1).locator("input.field-input").dispatchEvent("change");
  await rows.nth(1).locator("[aria-label='Value of project: linked type']").waitFor();
  await rows.nth(1).locator("[aria-label='Value of project: linked type']").selectOption("Project");
  await rows.nth(1).locator("[aria-label='Value of project: linked id']").fill("1");
  await send(page);
  const heading = await page.textContent("#response .record h3");
  const m = /^Shot #(\d+)/.exec(heading);
  check(m, `created record shown: ${heading}`);
  createdId = Number(m[1]);
  const created = await page.evaluate((id) => window.__explorer.state.sg.read("Shot", id, { fields: ["code", "project"] }), createdId);
  eq([created.code, created.project.id], [code, 1], "the record exists on the site");
  await snap(page, "created");

  await page.click("#response .record-actions >> text=Update…");
  eq(await page.inputValue("#op"), "update", "update form");
  eq(await page.inputValue("#p-id"), String(createdId), "id prefilled");
  const row = page.locator(".data-editor li").first();
  await row.locator("input.field-input").fill("description");
  await row.locator("input.field-input").dispatchEvent("change");
  await row.locator("input[aria-label='Value of description']").fill("changed by the explorer");
  await send(page);
  check((await page.textContent("#response")).includes("changed by the explorer"), "updated record shown");
  const updated = await page.evaluate((id) => window.__explorer.state.sg.read("Shot", id, { fields: ["description"] }), createdId);
  eq(updated.description, "changed by the explorer", "update reached the site");

  await page.click("#response .record-actions >> text=Delete…");
  eq(await page.inputValue("#op"), "delete", "delete form");
  eq(await page.inputValue("#p-id"), String(createdId), "id prefilled");
  await send(page);
  check((await page.textContent("#response .status-line")).includes("HTTP 204"), "delete answered 204");
  const gone = await page.evaluate((id) => window.__explorer.state.sg.read("Shot", id).then(() => "still there", (e) => `${e.kind} ${e.status}`), createdId);
  eq(gone, "http 404", "the record is retired");
  await snap(page, "deleted");
});

test("a bad filter shows a typed error (kind, status, code, title, detail)", async () => {
  // Refused by the explorer: a condition without a field names its place.
  await chooseOp(page, "find");
  await page.click(".filter-builder .add-condition >> nth=0");
  await send(page);
  check((await page.textContent("#response .error-box")).includes("filters.conditions[0]"), "the empty condition is named");
  // Refused by the site: an unknown field.
  await setCondition(page, 0, "no_such_field", "is", (row) => row.locator("input[aria-label='Condition value']").fill("x"));
  await send(page);
  const box = page.locator("#response .error-box");
  const kind = await box.locator("dd.err-kind").textContent();
  eq(kind, "http", "kind");
  const dd = async (k) => (await box.locator(`dd.err-${k}`).textContent()).trim();
  eq(await dd("status"), "400", "status");
  check(/^\d+$/.test(await dd("code")), "code shown");
  check((await dd("requestId")).length > 0, "request id shown");
  check((await box.textContent()).includes("no_such_field"), "title or detail names the field");
  await snap(page, "bad-filter");
});

test("Cancel aborts a request in flight", async () => {
  await chooseOp(page, "read");
  await page.selectOption("#p-entityType", "Shot");
  await page.fill("#p-id", "2");
  const hold = async (route) => {
    await new Promise((r) => setTimeout(r, 3000));
    await route.continue().catch(() => {}); // aborted by the page meanwhile
  };
  await page.route("**/api/v1/entity/**", hold);
  await page.evaluate(() => document.querySelector("#response").replaceChildren());
  await page.click("#send");
  await page.waitForFunction(() => !document.querySelector("#cancel-request").disabled);
  await page.click("#cancel-request");
  await page.waitForSelector("#response .error-box");
  eq((await page.textContent("#response dd.err-kind")).trim(), "aborted", "kind");
  await page.unroute("**/api/v1/entity/**", hold);
  check(await page.isEnabled("#send"), "Send is enabled again");
  check(await page.isDisabled("#cancel-request"), "Cancel is disabled again");
});

test("summarize draws a chart", async () => {
  await chooseOp(page, "summarize");
  await page.selectOption("#p-entityType", "Shot");
  await send(page);
  const expected = await page.evaluate(() => window.__explorer.state.sg.summarize("Shot", null, [{ field: "id", type: "count" }], { grouping: [{ field: "sg_status_list", type: "exact" }] }));
  eq(await page.locator("#response svg.chart rect").count(), expected.groups.length, "one bar per group");
  check(expected.groups.length > 1, "several groups");
  await snap(page, "summary-chart");
});

test("upload a file: the progress bar reaches 100 %, cancel stops an upload", async () => {
  await page.click("#nav button[data-panel=upload]");
  await page.selectOption("#upload-type", "Version");
  await page.fill("#upload-id", "1");
  await page.fill("#upload-field", "sg_uploaded_movie");
  const name = `explorer-${Date.now()}.bin`;
  await page.fill("#upload-display", name);
  const mib = 1024 * 1024;
  // Multipart with 1 MiB parts (the test emulator takes them) so progress moves in steps.
  await page.locator("details:has(#upload-threshold) summary").click();
  for (const [sel, v] of [["#upload-threshold", mib], ["#upload-part", mib], ["#upload-minpart", mib], ["#upload-concurrency", 1]]) await page.fill(sel, String(v));
  const size = 3 * mib + 12345;
  await page.setInputFiles("#upload-file", { name, mimeType: "application/octet-stream", buffer: Buffer.alloc(size, 7) });
  await page.evaluate(() => {
    window.__progress = [];
    new MutationObserver(() => window.__progress.push(Number(document.querySelector("#upload-progress").value)))
      .observe(document.querySelector("#upload-percent"), { childList: true, characterData: true, subtree: true });
  });
  await page.click("#upload-start");
  await page.waitForSelector("#upload-result .done", { timeout: 30_000 });
  const progress = await page.evaluate(() => window.__progress);
  eq(await page.evaluate(() => document.querySelector("#upload-progress").value), 100, "the bar is full");
  check((await page.textContent("#upload-percent")).startsWith("100 %"), "100 % shown");
  check(progress.every((v, i) => i === 0 || v >= progress[i - 1]), `progress is monotonic: ${progress}`);
  check(new Set(progress).size >= 3, `progress moved in steps: ${progress}`);
  const att = await page.evaluate((n) => window.__explorer.state.sg.findOne("Attachment", [["display_name", "is", n]], { fields: ["display_name"] }), name);
  check(att, "the attachment exists on the site");
  await snap(page, "upload-done");

  // Cancel: 10 parts one at a time, each PUT held back 300 ms (a slow network); cancel
  // after the first.
  const slow = async (route) => {
    if (route.request().method() === "PUT") await new Promise((r) => setTimeout(r, 300));
    await route.continue().catch(() => {}); // the page may have aborted it meanwhile
  };
  await page.route("**/*", slow);
  await page.setInputFiles("#upload-file", { name: "big.bin", mimeType: "application/octet-stream", buffer: Buffer.alloc(10 * mib, 1) });
  const cancelled = `cancelled upload ${Date.now()}`;
  await page.fill("#upload-display", cancelled);
  await page.click("#upload-start");
  await page.waitForFunction(() => document.querySelector("#upload-progress").value > 0, null, { timeout: 30_000 });
  await page.click("#upload-cancel");
  await page.waitForSelector("#upload-result .error-box", { timeout: 30_000 });
  eq((await page.textContent("#upload-result dd.err-kind")).trim(), "aborted", "cancel gives an aborted error");
  check(await page.evaluate(() => document.querySelector("#upload-progress").value < 100), "the bar stopped short");
  await page.unroute("**/*", slow);
  const kept = await page.evaluate((n) => window.__explorer.state.sg.findOne("Attachment", [["display_name", "is", n]]), cancelled);
  eq(kept, null, "no attachment from the cancelled upload");
  await snap(page, "upload-cancelled");
});

test("every read-only capability runs from its generated form with its defaults", async () => {
  await page.click("#nav button[data-panel=request]");
  const ops = ["info", "preferences", "schema.entities", "schema.entity", "schema.fields", "schema.field", "findOne", "read",
    "textSearch", "relationship", "followers", "following", "activityStream", "noteThread", "hierarchy.expand",
    "hierarchy.search", "webhooks.list", "events.follow"];
  const failures = [];
  for (const op of ops) {
    await chooseOp(page, op);
    if (await page.$("select#p-entityType")) await page.selectOption("#p-entityType", "Shot");
    await send(page);
    const line = await page.textContent("#response .status-line");
    if (!line.startsWith("OK")) failures.push(`${op}: ${(await page.textContent("#response")).slice(0, 200)}`);
  }
  check(failures.length === 0, `failed:\n${failures.join("\n")}`);
  // A download of the file uploaded above, offered to save.
  const att = await page.evaluate(() => window.__explorer.state.sg.findOne("Attachment", [["display_name", "starts_with", "explorer-"]], { sort: ["-id"] }));
  await chooseOp(page, "download");
  await page.selectOption("#p-entityType", "Attachment");
  await page.fill("#p-id", String(att.id));
  await send(page);
  check((await page.textContent("#response .download")).includes((3 * 1024 * 1024 + 12345).toLocaleString("en-US")), "the file's size is shown");
  check(await page.isVisible("#response .download a[download]"), "a Save link is offered");
});

test("every form control has an accessible name", async () => {
  const unnamed = [];
  for (const panel of ["request", "schema", "upload", "webhooks", "history", "connect"]) {
    await page.click(`#nav button[data-panel=${panel}]`);
    if (panel === "request") {
      await chooseOp(page, "find");
      await page.click(".filter-builder .add-condition >> nth=0");
      await page.click(".filter-builder > fieldset > .row .add-group");
      await page.click(".sort-builder > button");
    }
    unnamed.push(...await page.evaluate((panel) => [...document.querySelectorAll(`#panel-${panel} :is(input, select, textarea, button)`)]
      .filter((el) => el.offsetParent !== null && el.type !== "hidden")
      .filter((el) => !(el.getAttribute("aria-label") || el.getAttribute("aria-labelledby") || (el.id && document.querySelector(`label[for="${el.id}"]`)) || el.closest("label") || (el.tagName === "BUTTON" && el.textContent.trim())))
      .map((el) => `${panel}: <${el.tagName.toLowerCase()} class="${el.className}">`), panel));
  }
  eq(unnamed, [], "controls without a name");
});

test("schema browser: types, fields, a field's schema", async () => {
  await page.click("#nav button[data-panel=schema]");
  await page.fill("#schema-type-search", "shot");
  await page.click("#schema-types button:text-is('Shot')");
  await page.waitForSelector("#schema-fields table");
  await page.fill("#schema-field-search", "status");
  const rows = await page.$$eval("#schema-fields tbody tr td:first-child", (tds) => tds.map((t) => t.textContent));
  check(rows.includes("sg_status_list"), `status field listed: ${rows}`);
  await page.click("#schema-fields button:text-is('sg_status_list')");
  check((await page.textContent("#schema-detail")).includes("status_list"), "field schema shown");
  await snap(page, "schema");
});

test("webhook inspector: create a hook with a token, see its deliveries, delete it", async () => {
  await page.click("#nav button[data-panel=webhooks]");
  await page.locator("details.create-hook summary").click();
  const hookName = `Explorer hook ${Date.now()}`;
  await page.fill("#hook-name", hookName);
  await page.fill("#hook-token", "hook-signing-secret-123");
  await page.selectOption("#hook-type", "Shot");
  await page.click("#hook-create button[type=submit]");
  await page.waitForSelector(`#hooks td:text-is("${hookName}")`);
  // Make something happen: the hook fires on Shot creation (its URL refuses connections).
  await page.evaluate(() => window.__explorer.state.sg.create("Shot", { code: "EXPLORER_HOOK", project: { type: "Project", id: 1 } }));
  const row = page.locator("#hooks tr", { has: page.locator(`td:text-is("${hookName}")`) });
  let deliveries = 0;
  for (let i = 0; i < 40 && deliveries === 0; i++) {
    await row.locator("button:text-is('Deliveries')").click();
    await page.waitForSelector("#deliveries h3");
    deliveries = await page.locator("#deliveries tbody tr").count();
    if (!deliveries) await page.waitForTimeout(250);
  }
  check(deliveries > 0, "a delivery is listed");
  await page.locator("#deliveries tbody tr").first().locator("button:text-is('Inspect')").click();
  await page.waitForSelector("#delivery-detail h3");
  check((await page.textContent("#delivery-detail")).includes("Shotgun_Shot_New"), "the delivery's body is shown");
  await snap(page, "webhooks");
  await row.locator("button:text-is('Delete')").click();
  await page.waitForFunction((n) => ![...document.querySelectorAll("#hooks td")].some((td) => td.textContent === n), hookName);
});

test("history: secrets redacted, re-run, copy as curl and as JS", async () => {
  await page.click("#nav button[data-panel=history]");
  const text = await page.textContent("#panel-history");
  for (const secret of [env.clientSecret, "hook-signing-secret-123"]) check(!text.includes(secret), "no secret in the history");
  const find = page.locator(".history-entry", { hasText: "logical_operator" }).filter({ hasText: "find: search records" }).last();
  await find.locator(".copy-curl").click();
  const curl = await find.locator("pre.snippet").textContent();
  check(curl.includes("curl -X POST") && curl.includes("/_search") && curl.includes("$SG_TOKEN") && curl.includes("api3_hash+json"), `curl: ${curl}`);
  await find.locator(".copy-js").click();
  const js = await find.locator("pre.snippet").textContent();
  check(js.includes('await sg.find("Shot", {') && js.includes('logical_operator: "or"') && js.includes("process.env.SG_KEY"), `js: ${js}`);
  const connect = page.locator(".history-entry", { hasText: "connect (client_credentials)" }).first();
  await connect.locator(".copy-curl").click();
  const tokenCurl = await connect.locator("pre.snippet").textContent();
  check(tokenCurl.includes("/auth/access_token") && !tokenCurl.includes(env.clientSecret) && tokenCurl.includes("$SG_SECRET"), `token curl: ${tokenCurl}`);
  const hook = page.locator(".history-entry", { hasText: "webhooks.create" }).first();
  await hook.locator(".copy-js").click();
  check(!(await hook.locator("pre.snippet").textContent()).includes("hook-signing-secret-123"), "hook token redacted in JS");
  check(await hook.locator(".rerun").isDisabled(), "an entry that held a secret cannot be re-run as is");
  await snap(page, "history");
  const before = await page.locator(".history-entry").count();
  await find.locator(".rerun").click();
  await page.waitForSelector("#response table.records");
  check((await page.locator(".history-entry").count()) === before + 1, "the re-run is in the history");
  check((await storage(page)).includes(env.clientSecret) === false, "still nothing secret stored");
  // Edit: the nested search comes back in its form, unchanged, and sends the same request.
  await page.click("#nav button[data-panel=history]");
  await page.locator(".history-entry", { hasText: "logical_operator" }).filter({ hasText: "find: search records" }).last().locator("button.edit").click();
  eq(await page.inputValue("#op"), "find", "the find form is back");
  await page.waitForFunction(() => [...document.querySelectorAll("li.condition")].every((li) => li.dataset.field));
  eq(await page.$$eval("li.condition", (lis) => lis.map((li) => li.dataset.field)), ["project", "sg_status_list", "code"], "its conditions");
  eq(await page.locator("fieldset.nested select").first().inputValue(), "or", "the nested group is an OR");
  eq(await page.inputValue("li.condition >> nth=0 >> [aria-label='Condition value: linked id']"), "1", "the project id");
  eq(await page.inputValue("li.condition >> nth=2 >> input[aria-label='Condition value']"), "0", "the code suffix");
  eq(await page.$$eval(".fields-picker .chips li", (lis) => lis.map((li) => li.firstChild.textContent)), ["code", "sg_status_list", "project"], "its fields");
  await send(page);
  const again = await page.$$eval("#response table.records tbody tr td:first-child button", (bs) => bs.map((b) => Number(b.dataset.id)));
  eq(again, nestedFirstPage, "the same first page");
  await snap(page, "history-edit");
});

test("keyboard only: connect (remembered) and search", async () => {
  const kb = await newPage();
  await open(kb);
  await kb.waitForFunction(() => document.activeElement?.id === "site");
  const k = kb.keyboard;
  await k.press("Tab"); // grant
  await k.press("ArrowDown"); // from "password" to "client_credentials"
  eq(await kb.inputValue("#grant"), "client_credentials", "grant chosen by typing");
  await k.press("Tab"); await k.type(env.clientId);
  await k.press("Tab"); await k.type(env.clientSecret);
  await k.press("Tab"); await k.press("Space"); // remember
  await k.press("Tab"); await k.press("Enter"); // Connect
  await kb.waitForSelector("#who");
  check(await kb.evaluate(() => document.activeElement?.id === "op"), "focus on the capability picker");
  const stored = JSON.parse(await storage(kb));
  const keys = Object.keys(stored.session);
  eq(keys, ["shotgrid-explorer.session"], "one session entry");
  const saved = JSON.parse(stored.session["shotgrid-explorer.session"]);
  check(typeof saved.refreshToken === "string" && saved.refreshToken.length > 8, "the refresh token is remembered");
  check(!JSON.stringify(stored).includes(env.clientSecret), "not the key");
  check(!("accessToken" in saved) && !JSON.stringify(saved).match(/access/i), "not the access token");
  // Search: Tab to "+ Condition", Enter, type a field, choose an operator, a value, Ctrl+Enter.
  for (let i = 0; i < 40; i++) {
    await k.press("Tab");
    if (await kb.evaluate(() => document.activeElement?.classList.contains("add-condition"))) break;
  }
  await k.press("Enter");
  check(await kb.evaluate(() => document.activeElement?.classList.contains("field-input")), "focus in the new condition");
  await k.type("code");
  await k.press("Tab");
  await kb.waitForFunction(() => document.activeElement?.getAttribute("aria-label") === "Operator" && [...document.activeElement.options].some((o) => o.value === "starts_with"));
  await k.type("starts");
  await k.press("Tab");
  await k.type("SQ020");
  await k.press("Control+Enter");
  await kb.waitForSelector("#response table.records");
  const codes = await kb.$$eval("#response table.records tbody tr", (trs) => trs.map((tr) => tr.textContent));
  check(codes.length > 0 && codes.every((t) => t.includes("SQ020")), `only SQ020 shots: ${codes.length}`);
  await snap(kb, "keyboard-search");
  // The remembered session survives a reload, without any secret typed again.
  await kb.reload();
  await kb.waitForSelector("#who");
  check((await kb.textContent("#who")).includes(env.clientId), "resumed from the remembered refresh token");
  const after = JSON.parse(JSON.parse(await storage(kb)).session["shotgrid-explorer.session"]);
  check(after.refreshToken !== saved.refreshToken, "the single-use refresh token was replaced");
  await kb.click("#disconnect");
  eq(JSON.parse(await storage(kb)).session, {}, "disconnect forgets the session");
  if (kb.errors.length) throw new Error(`page errors: ${kb.errors.join("; ")}`);
  await kb.context().close();
});

test("narrow screen: no sideways scrolling, forms and results stack", async () => {
  const narrow = await newPage({ width: 390, height: 844 });
  await connectScriptOn(narrow);
  await narrow.selectOption("#p-entityType", "Shot");
  await narrow.click(".filter-builder .add-condition >> nth=0");
  await setCondition(narrow, 0, "sg_status_list", "in", (row) => row.locator("select[multiple]").selectOption([{ index: 0 }, { index: 1 }]));
  // Sorted by code, descending; only the code column.
  await narrow.click(".sort-builder > button");
  await narrow.fill(".sort-builder input.field-input", "code");
  await narrow.selectOption(".sort-builder select[aria-label=Direction]", "desc");
  await narrow.fill(".fields-picker input.field-input", "code");
  await narrow.press(".fields-picker input.field-input", "Enter");
  await send(narrow);
  const codes = await narrow.$$eval("#response table.records tbody tr td:nth-child(2)", (tds) => tds.map((t) => t.textContent));
  check(codes.length === 25, `a page of 25 (got ${codes.length})`);
  eq(codes, [...codes].sort().reverse(), "codes sorted descending");
  const overflow = await narrow.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 1, `page is ${overflow}px wider than the screen`);
  const [form, resp] = await Promise.all(["#request-form", "#response"].map((s) => narrow.locator(s).boundingBox()));
  check(resp.y > form.y + form.height - 1, "response below the form");
  await snap(narrow, "narrow-search");
  await narrow.click("#nav button[data-panel=upload]");
  check(await narrow.evaluate(() => document.documentElement.scrollWidth - window.innerWidth) <= 1, "upload panel fits");
  await snap(narrow, "narrow-upload");
  if (narrow.errors.length) throw new Error(`page errors: ${narrow.errors.join("; ")}`);
  await narrow.context().close();
});

async function connectScriptOn(p) {
  await open(p);
  await p.selectOption("#grant", "client_credentials");
  await p.fill("#clientId", env.clientId);
  await p.fill("#clientSecret", env.clientSecret);
  await p.click("#connect-submit");
  await p.waitForSelector("#who");
}

let failed = 0;
try {
  for (const [name, fn] of tests) {
    const t0 = Date.now();
    try {
      await fn();
      if (page.errors.length) throw new Error(`page errors: ${page.errors.splice(0).join("; ")}`);
      console.log(`ok - ${name} (${Date.now() - t0} ms)`);
    } catch (err) {
      failed++;
      console.log(`not ok - ${name}`);
      console.log(String(err?.stack ?? err).split("\n").slice(0, 8).map((l) => `  # ${l}`).join("\n"));
      await snap(page, "failure").catch(() => {});
    }
  }
} finally {
  await browser.close();
  server.close();
}
console.log(`# pass ${tests.length - failed}`);
console.log(`# fail ${failed}`);
process.exit(failed ? 1 : 0);
