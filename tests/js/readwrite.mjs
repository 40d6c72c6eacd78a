// End-to-end cases for reads (find, findOne, iterate) and writes (create, update,
// delete, revive, batch) against the emulator. Same format as scenario.mjs.

import { check, connect, eq, rejects } from "./check.mjs";

// A unique marker per run so cases never see each other's records.
const run = `t${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;

export const cases = [
  ["find with a simple filter uses the list GET and agrees with _search", async (t) => {
    const urls = [];
    const fetch = (url, init) => { urls.push(`${init?.method ?? "GET"} ${url}`); return globalThis.fetch(url, init); };
    const sg = await connect(t, { fetch });
    const viaGet = await sg.find("Shot", [["project", "is", { type: "Project", id: 1 }]], { fields: ["code"], sort: ["id"], method: "search" });
    check(viaGet.length > 0, "project 1 has shots");
    const code = viaGet[0].code;
    const simple = await sg.find("Shot", [["code", "is", code]], { fields: ["code"] });
    eq(simple.length, 1, "one shot with that code");
    eq(simple[0].id, viaGet[0].id, "same record");
    check(urls.some((u) => u.startsWith("GET ") && u.includes("/entity/shots?") && u.includes("filter%5Bcode%5D=")), "list GET used for the simple filter");
    const forced = await sg.find("Shot", [["code", "is", code]], { fields: ["code"], method: "search" });
    eq(forced[0].id, simple[0].id, "_search gives the same record");
    check(urls.some((u) => u.startsWith("POST ") && u.includes("/entity/shots/_search")), "_search used when forced");
  }],

  ["find pages through every record in sort order and respects limit", async (t) => {
    const sg = await connect(t);
    const all = await sg.find("Shot", null, { fields: ["code"], sort: ["-id"], pageSize: 7 });
    check(all.length > 14, "more than two pages of shots");
    const ids = all.map((r) => r.id);
    eq(new Set(ids).size, ids.length, "no duplicates across pages");
    check(ids.every((id, i) => i === 0 || ids[i - 1] > id), "descending ids");
    const prefetched = await sg.find("Shot", null, { fields: ["code"], sort: ["-id"], pageSize: 7, concurrency: 4 });
    eq(JSON.stringify(prefetched.map((r) => r.id)), JSON.stringify(ids), "prefetching 4 pages at once gives the same records in the same order");
    const pages = [];
    for await (const page of sg.iterate("Shot", null, { fields: ["code"], sort: ["-id"], pageSize: 7, concurrency: 3 }).pages()) pages.push(page);
    eq(JSON.stringify(pages.flat().map((r) => r.id)), JSON.stringify(ids), "iterate with prefetch too");
    check(pages.slice(0, -1).every((p) => p.length === 7), "pages keep their size");
    const some = await sg.find("Shot", null, { fields: ["code"], sort: ["-id"], pageSize: 7, limit: 10 });
    eq(JSON.stringify(some.map((r) => r.id)), JSON.stringify(ids.slice(0, 10)), "limit keeps the first 10");
  }],

  ["iterate yields records and pages lazily", async (t) => {
    let requests = 0;
    const fetch = (url, init) => { if (String(url).includes("/entity/shots")) requests += 1; return globalThis.fetch(url, init); };
    const sg = await connect(t, { fetch });
    const seen = [];
    for await (const shot of sg.iterate("Shot", [], { fields: ["code"], sort: ["id"], pageSize: 5, concurrency: 1 })) {
      seen.push(shot.id);
      if (seen.length === 7) break;
    }
    eq(seen.length, 7, "records seen before break");
    eq(requests, 2, "concurrency 1: only two pages fetched before breaking");
    const pages = [];
    for await (const page of sg.iterate("Shot", null, { fields: ["code"], pageSize: 4, limit: 10 }).pages()) pages.push(page.length);
    eq(JSON.stringify(pages), "[4,4,2]", "page sizes with a limit");
  }],

  ["iterate keeps a sliding window of requests in flight, in page order, nothing past the end", async (t) => {
    // Every page request is logged with its page number; pages past the first are held
    // back 30 ms so that several are in flight together.
    const log = [];
    let flying = 0;
    let most = 0;
    const fetch = async (url, init) => {
      const page = Number(new URL(String(url)).searchParams.get("page[number]"));
      if (!String(url).includes("/entity/shots") || !page) return globalThis.fetch(url, init);
      log.push(page);
      flying += 1;
      most = Math.max(most, flying);
      try {
        if (page > 1) await new Promise((r) => setTimeout(r, 30));
        return await globalThis.fetch(url, init);
      } finally {
        flying -= 1;
      }
    };
    const sg = await connect(t, { fetch });
    const all = (await sg.find("Shot", null, { fields: ["code"], sort: ["id"], pageSize: 500 })).map((r) => r.id);
    const pageSize = Math.max(2, Math.ceil(all.length / 6));
    const expected = all.length;
    log.length = 0;
    const pages = [];
    for await (const page of sg.iterate("Shot", null, { fields: ["code"], sort: ["id"], pageSize, concurrency: 3 }).pages()) pages.push(page.map((r) => r.id));
    eq(JSON.stringify(pages.flat()), JSON.stringify(all), "every record once, in order");
    eq(most, 3, "three requests in flight at once");
    eq(new Set(log).size, log.length, `no page requested twice: ${log}`);
    const last = Math.floor(expected / pageSize) + 1;
    check(log.every((p) => p <= last + 2), `nothing requested past the short page ${last} but the 2 already in flight: ${log}`);
    // A limit bounds the window: 2 pages of `pageSize` need 2 requests, not 3.
    log.length = 0;
    const some = await sg.find("Shot", null, { fields: ["code"], sort: ["id"], pageSize, limit: pageSize + 1, concurrency: 3 });
    eq(JSON.stringify(some.map((r) => r.id)), JSON.stringify(all.slice(0, pageSize + 1)), "limit keeps the first records");
    eq(JSON.stringify(log.sort()), "[1,2]", "only the pages the limit needs");
  }],

  ["breaking out of iterate aborts the pages still in flight", async (t) => {
    // Pages after the first are held back until their signal aborts (or 5 s).
    const held = [];
    const fetch = (url, init) => {
      const page = Number(new URL(String(url)).searchParams.get("page[number]"));
      if (!String(url).includes("/entity/shots") || page <= 1) return globalThis.fetch(url, init);
      const signal = init?.signal;
      held.push(signal);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => resolve(globalThis.fetch(url, init)), 5000);
        signal?.addEventListener("abort", () => { clearTimeout(timer); reject(signal.reason ?? new DOMException("aborted", "AbortError")); }, { once: true });
      });
    };
    const sg = await connect(t, { fetch });
    const started = Date.now();
    let seen = 0;
    for await (const page of sg.iterate("Shot", null, { fields: ["code"], sort: ["id"], pageSize: 2, concurrency: 4 }).pages()) {
      seen += page.length;
      break;
    }
    eq(seen, 2, "the first page");
    check(held.length >= 3, `pages 2.. were in flight when the loop broke (${held.length})`);
    check(held.every((s) => s?.aborted), "every page still in flight was aborted");
    check(Date.now() - started < 4000, "the loop did not wait for them");
  }],

  ["reads that choose no concurrency use the runtime's default window", async (t) => {
    let requests = 0;
    const fetch = (url, init) => { if (String(url).includes("/entity/shots")) requests += 1; return globalThis.fetch(url, init); };
    const sg = await connect(t, { fetch });
    const probe = sg.cursor("Shot", null, {});
    const browser = typeof document === "object";
    const workerd = globalThis.navigator?.userAgent === "Cloudflare-Workers";
    const expected = browser ? 6 : workerd ? 2 : 4;
    eq(probe.concurrency, expected, "default concurrency (browsers 6, Node 4, workerd 2)");
    probe.free();
    const chosen = sg.cursor("Shot", null, { concurrency: 9 });
    eq(chosen.concurrency, 9, "a chosen concurrency");
    chosen.free();
    // Page 1 alone first: a read of one page sends one request, whatever the default.
    const one = await sg.find("Shot", null, { fields: ["code"], pageSize: 500 });
    check(one.length > 0 && one.length < 500, "one short page");
    eq(requests, 1, "one request for a one-page read");
    // A read of many pages: after page 1, the default window is kept full.
    let flying = 0;
    let peak = 0;
    let sent = 0;
    const counting = (url, init) => {
      if (!String(url).includes("/entity/shots")) return globalThis.fetch(url, init);
      sent += 1;
      flying += 1;
      peak = Math.max(peak, flying);
      return Promise.resolve(globalThis.fetch(url, init)).finally(() => { flying -= 1; });
    };
    const many = await connect(t, { fetch: counting });
    const all = await many.find("Shot", null, { fields: ["code"], sort: ["id"], pageSize: 2 });
    check(all.length >= 2 * (expected + 2), `enough Shots for ${expected + 2} pages (${all.length})`);
    eq(new Set(all.map((r) => r.id)).size, all.length, "every record once");
    eq(peak, expected, "requests in flight at most, and reached");
    // The pages the read needs (the last one short or empty), plus at most
    // `concurrency − 1` requests already in flight past the end when it lands.
    const needed = Math.floor(all.length / 2) + 1;
    check(sent >= needed && sent <= needed + expected - 1, `${sent} page requests for ${needed} pages (window ${expected})`);
  }],

  ["findOne and nested hash filters with dotted fields", async (t) => {
    const sg = await connect(t);
    const first = await sg.findOne("Shot", { logical_operator: "and", conditions: [
      ["project.Project.name", "is", "Demo Project"],
      { logical_operator: "or", conditions: [["sg_status_list", "is", "ip"], ["sg_status_list", "is", "fin"]] },
    ] }, { fields: ["code", "sg_status_list", "project"], sort: ["code"] });
    check(first !== null, "a match");
    check(["ip", "fin"].includes(first.sg_status_list), "status matches the or-group");
    eq(first.project.name, "Demo Project", "project matches the dotted filter");
    const none = await sg.findOne("Shot", [["code", "is", `no-such-${run}`]]);
    eq(none, null, "no match is null");
  }],

  ["a bad filter is refused client-side with the condition's path", async (t) => {
    let sent = 0;
    const fetch = (url, init) => { if (String(url).includes("/entity/")) sent += 1; return globalThis.fetch(url, init); };
    const sg = await connect(t, { fetch });
    const err = await rejects(sg.find("Shot", { logical_operator: "or", conditions: [["code", "is", "a"], ["code", "like", "b"]] }), "unknown relation");
    eq(err.kind, "invalid_input", "kind");
    eq(err.source, "filters.conditions[1][1]", "source");
    const err2 = await rejects(sg.find("Shot", [["due_date", "in_last", 1, "FORTNIGHT"]]), "bad unit");
    eq(err2.source, "filters[0][2]", "source of a bad value");
    eq(sent, 0, "nothing sent");
  }],

  ["an unknown field is refused by the server with a typed 400", async (t) => {
    const sg = await connect(t);
    const err = await rejects(sg.find("Shot", [["no_such_field", "is", "x"]], { method: "search" }), "unknown field");
    eq(err.kind, "http", "kind");
    eq(err.status, 400, "status");
    eq(err.code, 103, "code");
  }],

  ["create, update (multi-entity modes), delete, revive", async (t) => {
    const sg = await connect(t);
    const code = `${run}-crud`;
    const shot = await sg.create("Shot", { code, project: { type: "Project", id: 1 }, description: "made by a test" }, { fields: ["code", "project", "description"] });
    eq(shot.type, "Shot", "type");
    check(Number.isInteger(shot.id), "new id");
    eq(shot.code, code, "code");
    eq(shot.project.id, 1, "project link");
    const assets = await sg.find("Asset", [["project", "is", { type: "Project", id: 1 }]], { limit: 2, sort: ["id"] });
    eq(assets.length, 2, "two assets to link");
    const link = (a) => ({ type: "Asset", id: a.id });
    let u = await sg.update("Shot", shot.id, { assets: [link(assets[0])] }, { fields: ["assets"] });
    eq(u.assets.map((a) => a.id).join(), `${assets[0].id}`, "set by list");
    u = await sg.update("Shot", shot.id, { assets: { multi_entity_update_mode: "add", value: [link(assets[1])] } }, { fields: ["assets"] });
    eq(u.assets.map((a) => a.id).sort().join(), [assets[0].id, assets[1].id].sort().join(), "add mode");
    u = await sg.update("Shot", shot.id, { assets: { multi_entity_update_mode: "remove", value: [link(assets[0])] } }, { fields: ["assets"] });
    eq(u.assets.map((a) => a.id).join(), `${assets[1].id}`, "remove mode");
    await sg.delete("Shot", shot.id);
    const gone = await rejects(sg.read("Shot", shot.id), "read after delete");
    eq(gone.status, 404, "deleted record is not found");
    const retired = await sg.find("Shot", [["id", "is", shot.id]], { retired: true });
    eq(retired.length, 1, "found among retired records");
    eq(await sg.revive("Shot", shot.id), true, "revived");
    eq((await sg.read("Shot", shot.id, { fields: ["code"] })).code, code, "readable again");
    await sg.delete("Shot", shot.id);
  }],

  ["bad writes are typed errors and change nothing", async (t) => {
    const sg = await connect(t);
    const code = `${run}-bad`;
    const e1 = await rejects(sg.create("Shot", { code, no_such_field: 1, project: { type: "Project", id: 1 } }), "unknown field");
    eq(e1.status, 400, "unknown field status");
    eq(e1.code, 103, "unknown field code");
    const e2 = await rejects(sg.create("Shot", { code, project: { type: "project", id: 1 } }), "bad link");
    eq(e2.kind, "invalid_input", "bad link caught client-side");
    eq(e2.source, "data.project", "bad link path");
    const e3 = await rejects(sg.update("Shot", 987654321, { code }), "missing record");
    eq(e3.status, 404, "update of a missing record");
    const leftovers = await sg.find("Shot", [["code", "is", code]]);
    eq(leftovers.length, 0, "nothing was created");
  }],

  ["batch is atomic, and split batches go in ordered chunks", async (t) => {
    const sg = await connect(t, { batchLimit: 3 });
    const code = (i) => `${run}-batch-${i}`;
    const results = await sg.batch([0, 1].map((i) => ({ request_type: "create", entity: "Shot", data: { code: code(i), project: { type: "Project", id: 1 } } })));
    eq(results.length, 2, "two results");
    check(results.every((r) => r.type === "Shot" && Number.isInteger(r.id)), "records returned");
    const failing = await rejects(sg.batch([
      { request_type: "create", entity: "Shot", data: { code: code(2), project: { type: "Project", id: 1 } } },
      { request_type: "update", entity: "Shot", record_id: 987654321, data: { code: code(3) } },
    ]), "a batch with a failing request");
    eq(failing.kind, "http", "server refused");
    eq((await sg.find("Shot", [["code", "is", code(2)]])).length, 0, "nothing of the failed batch applied");
    const splitCode = (i) => `${run}-split-${i}`;
    const tooMany = Array.from({ length: 7 }, (_, i) => ({ request_type: "create", entity: "Shot", data: { code: splitCode(i), project: { type: "Project", id: 1 } } }));
    const e = await rejects(sg.batch(tooMany), "more than batchLimit without split");
    eq(e.kind, "invalid_input", "kind");
    const split = await sg.batch(tooMany, { split: true });
    eq(split.length, 7, "all chunks ran");
    const made = await sg.find("Shot", [["code", "starts_with", `${run}-split-`]], { sort: ["id"], fields: ["code"] });
    eq(made.map((r) => r.code).join(), tooMany.map((r) => r.data.code).join(), "created in order");
    await sg.batch([...results, ...split].map((r) => ({ request_type: "delete", entity: "Shot", record_id: r.id })), { split: true });
  }],
];
