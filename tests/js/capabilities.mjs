// End-to-end cases for the capabilities beyond records, in the format of scenario.mjs:
// each case gets { ShotGrid, ShotGridError, env } with env = { url, clientId, clientSecret }
// pointing at the emulator. Written against the reference's documented behaviour; run by
// the Node, workerd and Chromium suites (tests/js/all.mjs).

import { check, connect, eq, rejects } from "./check.mjs";

/** A fetch that counts requests, to prove invalid input sends nothing. */
function counting() {
  const state = { calls: 0, urls: [] };
  state.fetch = (url, init) => {
    state.calls += 1;
    state.urls.push(`${init?.method ?? "GET"} ${url}`);
    return globalThis.fetch(url, init);
  };
  return state;
}

async function invalid(promise, source, what) {
  const err = await rejects(promise, what);
  eq(err.name, "ShotGridError", `${what}: error name`);
  eq(err.kind, "invalid_input", `${what}: kind`);
  eq(err.source, source, `${what}: source`);
  return err;
}

export const cases = [
  ["textSearch finds records across types and validates its input", async (t) => {
    const c = counting();
    const sg = await connect(t, { fetch: c.fetch });
    const shot = await sg.read("Shot", 1, { fields: ["code"] });
    const hits = await sg.textSearch(shot.code.slice(0, Math.max(3, shot.code.length)), { Shot: [], Asset: null }, { limit: 50 });
    check(Array.isArray(hits), "results are a list");
    check(hits.some((r) => r.type === "Shot" && r.id === 1), "the shot is found by its code");
    check(hits.every((r) => typeof r.type === "string" && Number.isInteger(r.id)), "flat records");
    const before = c.calls;
    await invalid(sg.textSearch("ab", { Shot: [] }), "text", "text too short");
    await invalid(sg.textSearch("abc", {}), "entityTypes", "no types");
    await invalid(sg.textSearch("abc", { shot: [] }), "entityTypes.shot", "lowercase type");
    await invalid(sg.textSearch("abc", { Shot: [["code", "like", "x"]] }), "entityTypes.Shot[0][1]", "bad relation");
    const mixed = await invalid(
      sg.textSearch("abc", { Shot: [["code", "is", "a"]], Asset: { logical_operator: "or", conditions: [["code", "is", "b"]] } }),
      "entityTypes.Asset",
      "mixed filter forms",
    );
    check(mixed.detail.includes("same form"), "the error explains the mix");
    await invalid(sg.textSearch("abc", { Shot: [] }, { page: 1, limit: 2 }), "options.limit", "page and limit");
    eq(c.calls, before, "nothing sent for invalid input");
  }],

  ["summarize counts and groups; kinds are checked before sending", async (t) => {
    const c = counting();
    const sg = await connect(t, { fetch: c.fetch });
    const all = await sg.find("Shot", null, { fields: ["id"] });
    const s = await sg.summarize("Shot", null, [{ field: "id", type: "count" }]);
    eq(s.summaries.id, all.length, "count of every shot");
    check(Array.isArray(s.groups) && s.groups.length === 0, "no groups without grouping");
    const g = await sg.summarize("Shot", [["id", "greater_than", 0]], [{ field: "id", type: "record_count" }], {
      grouping: [{ field: "project", type: "exact", direction: "asc" }],
    });
    check(g.groups.length >= 1, "at least one group");
    const total = g.groups.reduce((n, grp) => n + grp.summaries.id, 0);
    eq(total, g.summaries.id, "groups add up to the total");
    const byProject = g.groups[0].group_value;
    check(byProject && byProject.type === "Project", "grouping by an entity field gives a link as group_value");
    const before = c.calls;
    await invalid(sg.summarize("Shot", null, [{ field: "id", type: "not_possible" }]), "summaryFields[0].type", "summary kind");
    await invalid(sg.summarize("Shot", null, []), "summaryFields", "no summaries");
    await invalid(sg.summarize("Shot", null, [{ field: "id", type: "count" }], { grouping: [{ field: "code", type: "alphabetical" }] }), "options.grouping[0].type", "grouping kind");
    await invalid(sg.summarize("Shot", null, [{ field: "id", type: "count" }], { grouping: [{ field: "code", type: "exact", direction: "up" }] }), "options.grouping[0].direction", "direction");
    eq(c.calls, before, "nothing sent for invalid input");
  }],

  ["relationship reads linked records", async (t) => {
    const sg = await connect(t);
    const shot = await sg.read("Shot", 1, { fields: ["project"] });
    const project = await sg.relationship("Shot", 1, "project");
    const link = Array.isArray(project) ? project[0] : project;
    eq(link.type, "Project", "linked type");
    eq(link.id, shot.project.id, "linked id matches the record's field");
    await invalid(sg.relationship("Shot", 1, "pro/ject"), "field", "field name");
    await invalid(sg.relationship("Shot", 0, "project"), "id", "id");
    const err = await rejects(sg.relationship("Shot", 987654321, "project"), "missing record");
    eq(err.status, 404, "missing record status");
  }],

  ["schema reads keep {value, editable}; field create/update/delete/revive", async (t) => {
    const sg = await connect(t);
    const entities = await sg.schema.entities();
    eq(typeof entities.Shot.name.value, "string", "entities: Shot name value");
    eq(typeof entities.Shot.name.editable, "boolean", "entities: Shot name editable");
    const shot = await sg.schema.entity("Shot");
    eq(typeof shot.visible.value, "boolean", "entity: visible");
    const fields = await sg.schema.fields("Shot");
    eq(fields.code.data_type.value, "text", "fields: code is text");
    eq(typeof fields.code.data_type.editable, "boolean", "fields: editable kept");
    const code = await sg.schema.field("Shot", "code");
    eq(code.data_type.value, "text", "field: code");
    const display = `Caps ${Date.now()}`;
    const created = await sg.schema.createField("Shot", "number", { name: display, description: "from the capability suite" });
    const [name, schema] = Object.entries(created)[0] ?? [];
    check(typeof name === "string" && name.startsWith("sg_"), `created field name ${name}`);
    eq(schema.data_type.value, "number", "created data type");
    const updated = await sg.schema.updateField("Shot", name, { description: "changed" });
    eq(updated.description.value, "changed", "updated description");
    eq(await sg.schema.deleteField("Shot", name), undefined, "delete resolves to undefined (204)");
    await rejects(sg.schema.field("Shot", name), "reading a deleted field");
    eq(await sg.schema.reviveField("Shot", name), undefined, "revive resolves to undefined (204)");
    eq((await sg.schema.field("Shot", name)).name.value, display, "revived field is back");
    await invalid(sg.schema.createField("Shot", "string", { name: "x" }), "dataType", "data type");
    await invalid(sg.schema.createField("Shot", "text", { description: "x" }), "properties.name", "display name");
    await invalid(sg.schema.field("Shot", "a/b"), "fieldName", "field name");
    await invalid(sg.schema.entity("shots"), "entityType", "entity type");
    await invalid(sg.schema.fields("Shot", { projectId: 0 }), "options.projectId", "project id");
  }],

  ["preferences: all, or a subset by name", async (t) => {
    const sg = await connect(t);
    const all = await sg.preferences();
    check(all && typeof all === "object" && !Array.isArray(all), "an object");
    check(Object.keys(all).length > 0, "some preferences");
    const name = Object.keys(all)[0];
    const some = await sg.preferences([name]);
    check(name in some, "the named preference is there");
    await invalid(sg.preferences([]), "names", "empty list");
    await invalid(sg.preferences(["a,b"]), "names[0]", "bad name");
    await invalid(sg.preferences("format_date_fields"), "names", "not a list");
  }],

  ["hierarchy expand and search", async (t) => {
    const sg = await connect(t);
    const root = await sg.hierarchy.expand({ path: "/" });
    check(typeof root.path === "string", "a node with a path");
    const project = await sg.read("Project", (await sg.read("Shot", 1, { fields: ["project"] })).project.id, { fields: ["name"] });
    const node = await sg.hierarchy.expand({ path: `/Project/${project.id}` });
    eq(node.ref.value.id, project.id, "expanded the project");
    const found = await sg.hierarchy.search({ search_criteria: { search_string: project.name.slice(0, 3) } });
    check(Array.isArray(found), "search gives a list");
    await invalid(sg.hierarchy.expand({}), "body.path", "path required");
    await invalid(sg.hierarchy.expand({ path: "Project/1" }), "body.path", "path starts with /");
    await invalid(sg.hierarchy.search({ search_criteria: {} }), "body.search_criteria", "one criterion");
    await invalid(sg.hierarchy.search({ search_criteria: { search_string: "a", entity: { type: "Shot", id: 1 } } }), "body.search_criteria", "only one criterion");
  }],

  ["follow, followers, following, unfollow", async (t) => {
    const sg = await connect(t);
    const user = await sg.findOne("HumanUser", [], { fields: ["name"] });
    check(user, "a human user exists");
    eq(await sg.follow(user.id, { type: "Shot", id: 1 }), undefined, "follow resolves to undefined (204)");
    const followers = await sg.followers("Shot", 1);
    check(followers.some((f) => f.type === "HumanUser" && f.id === user.id), "the user follows the shot");
    const following = await sg.following(user.id);
    check(following.some((f) => f.type === "Shot" && f.id === 1), "the shot is in the user's follows");
    const onlyShots = await sg.following(user.id, { entityType: "Shot" });
    check(onlyShots.every((f) => f.type === "Shot"), "filtered by type");
    eq(await sg.unfollow(user.id, { type: "Shot", id: 1 }), undefined, "unfollow resolves to undefined (204)");
    check(!(await sg.followers("Shot", 1)).some((f) => f.id === user.id), "no longer a follower");
    await invalid(sg.follow(0, { type: "Shot", id: 1 }), "userId", "user id");
    await invalid(sg.follow(user.id, { type: "shot", id: 1 }), "entity.type", "entity type");
    await invalid(sg.unfollow(user.id, [{ type: "Shot", id: 1 }]), "entity", "one entity");
    await invalid(sg.following(user.id, { projectId: 0 }), "options.projectId", "project id");
  }],

  ["activity stream, note thread, project last accessed", async (t) => {
    const sg = await connect(t);
    await sg.update("Shot", 1, { description: `touched ${Date.now()}` });
    const stream = await sg.activityStream("Shot", 1, { limit: 10 });
    eq(stream.entity_type, "Shot", "stream entity type");
    eq(stream.entity_id, 1, "stream entity id");
    check(Array.isArray(stream.updates), "updates list");
    await invalid(sg.activityStream("Shot", 1, { limit: 501 }), "options.limit", "limit");
    await invalid(sg.activityStream("Shot", 1, { entityFields: { Shot: "code" } }), "options.entityFields.Shot", "entity fields");
    const project = (await sg.read("Shot", 1, { fields: ["project"] })).project;
    const note = await sg.create("Note", { subject: "caps", content: "thread start", project: { type: "Project", id: project.id } });
    await sg.create("Reply", { content: "a reply", entity: { type: "Note", id: note.id } });
    const thread = await sg.noteThread(note.id, { entityFields: { Reply: ["content"] } });
    eq(thread[0].type, "Note", "the thread starts with the note");
    check(thread.some((i) => i.type === "Reply" && i.content === "a reply"), "the reply is in the thread");
    await invalid(sg.noteThread(0), "noteId", "note id");
    const user = await sg.findOne("HumanUser", []);
    const accessed = await sg.updateProjectLastAccessed(project.id, user.id);
    eq(accessed.type, "Project", "last accessed answer type");
    eq(accessed.id, project.id, "last accessed answer id");
    await invalid(sg.updateProjectLastAccessed(project.id, 1.5), "userId", "user id");
  }],

  ["webhooks: create, list, get, update, deliveries, acknowledge, redeliver, delete", async (t) => {
    const sg = await connect(t);
    const hook = await sg.webhooks.create({
      url: "https://example.com/caps-hook",
      name: `caps ${Date.now()}`,
      entity_types: { Shot: { update: ["description"] } },
      validate_ssl_cert: true,
    });
    const id = hook?.id ?? (await sg.webhooks.list()).find((h) => h.url === "https://example.com/caps-hook")?.id;
    check(typeof id === "string", "the new hook has an id");
    check((await sg.webhooks.list()).some((h) => h.id === id), "listed");
    eq((await sg.webhooks.get(id)).url, "https://example.com/caps-hook", "get");
    await sg.webhooks.update(id, { status: "disabled" });
    eq((await sg.webhooks.get(id)).status, "disabled", "disabled");
    const deliveries = await sg.webhooks.deliveries(id, { pageSize: 10 });
    check(Array.isArray(deliveries), "deliveries list");
    if (deliveries.length > 0) {
      const d = deliveries[0];
      eq((await sg.webhooks.delivery(d.id)).id, d.id, "delivery by id");
      eq(await sg.webhooks.acknowledge(d.id, "processed"), undefined, "acknowledge");
      eq((await sg.webhooks.delivery(d.id)).acknowledgement, "processed", "acknowledgement kept");
      eq(await sg.webhooks.redeliver(d.id), undefined, "redeliver (204)");
    }
    await invalid(sg.webhooks.acknowledge("008b4850-d5d2-4c2b-bfb4-8c4331233c4a", "x".repeat(4097)), "acknowledgement", "4 KB limit");
    await invalid(sg.webhooks.update(id, { status: "failed" }), "hook.status", "status");
    await invalid(sg.webhooks.create({ url: "ftp://x", name: "n", entity_types: { Shot: { create: [] } } }), "hook.url", "url");
    await invalid(sg.webhooks.create({ url: "https://x.test", name: "n", entity_types: { Shot: { retire: [] } } }), "hook.entity_types.Shot.retire", "operation");
    await invalid(sg.webhooks.get("../etc"), "id", "id");
    await invalid(sg.webhooks.deliveries(id, { status: "ok" }), "options.status", "delivery status");
    eq(await sg.webhooks.delete(id), undefined, "delete (204)");
    const gone = await rejects(sg.webhooks.get(id), "get after delete");
    eq(gone.status, 404, "deleted hook is gone");
  }],

  ["raw: true returns JSON:API documents", async (t) => {
    const sg = await connect(t);
    const doc = await sg.read("Shot", 1, { fields: ["code", "project"], raw: true });
    eq(doc.data.type, "Shot", "raw read type");
    eq(doc.data.id, 1, "raw read id");
    eq(typeof doc.data.attributes.code, "string", "attributes kept");
    eq(doc.data.relationships.project.data.type, "Project", "relationships kept");
    const pages = await sg.find("Shot", null, { fields: ["code"], pageSize: 1, limit: 2, raw: true });
    eq(pages.length, 2, "one document per page");
    check(pages.every((p) => Array.isArray(p.data) && p.data.length === 1 && p.data[0].attributes), "page documents");
    const one = await sg.findOne("Shot", [["id", "is", 1]], { raw: true });
    eq(one.data[0].id, 1, "findOne raw gives the page document");
    const err = await rejects(Promise.resolve().then(() => sg.iterate("Shot", null, { raw: true }).pages().next()), "iterate raw");
    eq(err.source, "options.raw", "iterate refuses raw");
  }],

  ["onTokens sees every grant; imported tokens resume without a grant", async (t) => {
    const seen = [];
    let tokenRequests = 0;
    const fetch = (url, init) => {
      if (String(url).endsWith("/api/v1/auth/access_token")) tokenRequests += 1;
      return globalThis.fetch(url, init);
    };
    const sg = await connect(t, { fetch, onTokens: (tk) => seen.push(tk) });
    eq(seen.length, 1, "one callback after connect");
    const first = seen[0];
    check(typeof first.accessToken === "string" && first.accessToken.length > 0, "access token given");
    check(typeof first.refreshToken === "string", "refresh token given");
    check(first.expiresAt > Date.now(), "expiry in the future");
    check(!JSON.stringify(sg).includes(first.accessToken) && !String(sg).includes(first.accessToken), "tokens not in sg");
    // Resume with the kept tokens: no token request at all.
    const resumed = await t.ShotGrid.connect({ site: t.env.url, tokens: first, fetch });
    const before = tokenRequests;
    eq((await resumed.read("Shot", 1, { fields: ["code"] })).id, 1, "resumed session reads");
    eq(tokenRequests, before, "no token request for a resumed session");
    // Only a refresh token: one refresh at connect, reported to onTokens.
    const seen2 = [];
    await t.ShotGrid.connect({ site: t.env.url, tokens: { refreshToken: first.refreshToken }, fetch, onTokens: (tk) => seen2.push(tk) });
    eq(seen2.length, 1, "refresh reported");
    check(seen2[0].refreshToken !== first.refreshToken, "a new refresh token");
    // The same refresh token again is spent: with the full grant it falls back.
    const seen3 = [];
    const fallback = await connect(t, { tokens: { refreshToken: first.refreshToken }, onTokens: (tk) => seen3.push(tk) });
    eq(seen3.length, 1, "the fallback grant is reported");
    eq((await fallback.read("Shot", 1)).id, 1, "fallback session reads");
    // Without the grant a spent refresh token is an auth error.
    const err = await rejects(t.ShotGrid.connect({ site: t.env.url, tokens: { refreshToken: first.refreshToken } }), "spent refresh token alone");
    eq(err.kind, "auth", "auth error");
    check(!err.message.includes(first.refreshToken), "token not in the message");
    // A throwing callback does not break the client.
    const sg4 = await connect(t, { onTokens: () => { throw new Error("disk full"); } });
    eq((await sg4.read("Shot", 1)).id, 1, "reads despite a throwing onTokens");
    await invalid(t.ShotGrid.connect({ site: t.env.url, tokens: { accessToken: "x" } }), "options.tokens.refreshToken", "refresh token required");
    await invalid(t.ShotGrid.connect({ site: t.env.url, tokens: { refreshToken: "r", expiresAt: "soon" } }), "options.tokens.expiresAt", "expiresAt");
    await invalid(t.ShotGrid.connect({ site: t.env.url, auth: { grant: "client_credentials", clientId: "a", clientSecret: "b" }, onTokens: "save" }), "options.onTokens", "onTokens is a function");
  }],
  ["every capability refuses bad input before sending, naming the argument", async (t) => {
    let sent = 0;
    const fetch = (url, init) => { if (!String(url).endsWith("/auth/access_token")) sent += 1; return globalThis.fetch(url, init); };
    const sg = await t.ShotGrid.connect({ site: t.env.url, auth: { grant: "client_credentials", clientId: t.env.clientId, clientSecret: t.env.clientSecret }, fetch });
    const bad = [
      ["textSearch", () => sg.textSearch("ab", { Shot: null })],
      ["summarize", () => sg.summarize("Shot", null, [{ field: "id", type: "tally" }])],
      ["relationship", () => sg.relationship("Shot", 0, "assets")],
      ["schema.field", () => sg.schema.field("shots", "code")],
      ["schema.createField", () => sg.schema.createField("Shot", "no_such_type", { name: "x" })],
      ["preferences", () => sg.preferences("format_date_fields")],
      ["hierarchy.expand", () => sg.hierarchy.expand({})],
      ["follow", () => sg.follow(0, { type: "Shot", id: 1 })],
      ["unfollow", () => sg.unfollow(1, { type: "shot", id: 1 })],
      ["followers", () => sg.followers("Shot", -1)],
      ["following", () => sg.following(1.5)],
      ["activityStream", () => sg.activityStream("Shot", 1, { limit: 100_000 })],
      ["noteThread", () => sg.noteThread("1")],
      ["updateProjectLastAccessed", () => sg.updateProjectLastAccessed(1, 0)],
      ["webhooks.get", () => sg.webhooks.get("../etc")],
      ["webhooks.acknowledge", () => sg.webhooks.acknowledge("0d6e4ee2-6a4b-4b8e-8b58-1b1f0a3e2c11", "x".repeat(5000))],
    ];
    for (const [name, call] of bad) {
      let err;
      try { await call(); } catch (e) { err = e; }
      check(err, `${name} should reject`);
      check(err instanceof t.ShotGridError, `${name}: typed error`);
      eq(err.kind, "invalid_input", `${name}: kind`);
      check(typeof err.source === "string" && err.source.length > 0, `${name}: source names the argument (${JSON.stringify(err.source)})`);
    }
    eq(sent, 0, "nothing sent for bad input");
    // The server's own refusals come back typed too.
    let missing;
    try { await sg.relationship("Shot", 987654321, "assets"); } catch (e) { missing = e; }
    check(missing && missing.status === 404, "a missing record's relationship is a 404");
  }],
  ["bad per-call options: sync methods (cursor, eventFollower, events.follow) throw, async ones reject", async (t) => {
    const sg = await connect(t);
    const sync = [
      ["cursor", () => sg.cursor("Shot", null, { timeoutMs: -1 })],
      ["eventFollower", () => sg.eventFollower({ timeoutMs: -1 })],
      ["events.follow", () => sg.events.follow({ timeoutMs: -1 })],
    ];
    for (const [name, call] of sync) {
      let err;
      let value;
      try { value = call(); } catch (e) { err = e; }
      check(!(value instanceof Promise), `${name} answers at once, never with a promise`);
      check(err instanceof t.ShotGridError, `${name} throws a ShotGridError`);
      eq(err.kind, "invalid_input", `${name}: kind`);
      eq(err.source, "options.timeoutMs", `${name}: source`);
    }
    await invalid(sg.read("Shot", 1, { timeoutMs: -1 }), "options.timeoutMs", "read rejects");
    sg.free();
  }],
];
