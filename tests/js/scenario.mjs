// The vertical-slice scenario, shared by the Node and workerd suites. Each case gets
// { ShotGrid, ShotGridError, env } where env = { url, clientId, clientSecret } points at
// the emulator started by `cargo xtask test`.

import { check, connect as connectWith, eq, rejects } from "./check.mjs";

function connect(t, secret = t.env.clientSecret) {
  return connectWith(t, { auth: { grant: "client_credentials", clientId: t.env.clientId, clientSecret: secret } });
}

export const cases = [
  ["info() returns the server info without a token", async (t) => {
    const sg = await connect(t);
    const info = await sg.info();
    eq(info.api_version, "v1", "api_version");
    check(typeof info.shotgun_version === "string" && info.shotgun_version.length > 0, "shotgun_version is a string");
  }],

  ["connect and read one record as a plain object", async (t) => {
    const sg = await connect(t);
    check(sg instanceof t.ShotGrid, "connect resolves to a ShotGrid");
    check(sg.tokenExpiresAt > Date.now(), "token expiry is in the future");
    const shot = await sg.read("Shot", 1, { fields: ["code", "project"] });
    eq(shot.type, "Shot", "type");
    eq(shot.id, 1, "id");
    check(typeof shot.code === "string" && shot.code.length > 0, "code is a non-empty string");
    eq(Object.getPrototypeOf(shot), Object.prototype, "record is a plain object");
    const link = shot.project;
    eq(link.type, "Project", "linked entity type");
    eq(Object.keys(link).join(","), "type,id,name", "linked entity keys in order");
    check(Number.isInteger(link.id), "linked entity id");
    // The link's name agrees with the linked record itself.
    const project = await sg.read("Project", link.id, { fields: ["name"] });
    eq(project.name, link.name, "linked name matches the project's name");
    // Without fields the record still carries its fields.
    const all = await sg.read("Shot", 1);
    eq(all.code, shot.code, "default fields include code");
  }],

  ["a wrong secret rejects with a typed auth error", async (t) => {
    const wrong = `${t.env.clientSecret}-wrong`;
    const err = await rejects(connect(t, wrong), "connect with a wrong secret");
    check(err instanceof t.ShotGridError, "error is a ShotGridError");
    check(err instanceof Error, "error is an Error");
    eq(err.kind, "auth", "kind");
    eq(err.status, 400, "status");
    eq(err.code, 102, "code");
    check(!err.message.includes(wrong) && !JSON.stringify(err).includes(wrong), "secret not in the error");
  }],

  ["a missing record rejects with 404 / code 104", async (t) => {
    const sg = await connect(t);
    const err = await rejects(sg.read("Shot", 987654321), "read of a missing record");
    check(err instanceof t.ShotGridError, "error is a ShotGridError");
    eq(err.kind, "http", "kind");
    eq(err.status, 404, "status");
    eq(err.code, 104, "code");
    check(typeof err.requestId === "string" && err.requestId.length > 0, "requestId present");
    check(err.detail.includes("987654321"), "detail names the id");
  }],

  ["bad input is rejected before anything is sent", async (t) => {
    let calls = 0;
    const fetch = (...args) => { calls += 1; return globalThis.fetch(...args); };
    const sg = await t.ShotGrid.connect({
      site: t.env.url,
      auth: { grant: "client_credentials", clientId: t.env.clientId, clientSecret: t.env.clientSecret },
      fetch,
    });
    eq(calls, 1, "one token request through the injected fetch");
    for (const [args, source] of [
      [["shots", 1], "entityType"],
      [["Shot", 0], "id"],
      [["Shot", 1.5], "id"],
      [["Shot", "1"], "id"],
      [["Shot", 1, { fields: ["code", 3] }], "options.fields[1]"],
      [["Shot", 1, { feilds: ["code"] }], "options.feilds"],
    ]) {
      const err = await rejects(sg.read(...args), `read(${JSON.stringify(args)})`);
      eq(err.kind, "invalid_input", `kind for ${JSON.stringify(args)}`);
      eq(err.source, source, `source for ${JSON.stringify(args)}`);
    }
    eq(calls, 1, "nothing sent for invalid input");
    const err = await rejects(t.ShotGrid.connect({ site: t.env.url, auth: { grant: "client_credentials", clientId: "x", clientSecrect: "y" } }), "connect with a typo");
    eq(err.source, "auth.clientSecrect", "typo named");
    const err2 = await rejects(t.ShotGrid.connect({ site: "https://user:pw@example.com", auth: { grant: "password", login: "a", password: "b" } }), "credentials in the site URL");
    eq(err2.source, "site", "site rejected");
  }],

  ["the server refuses a corrupted bearer token (401, code 102)", async (t) => {
    // Replace the token on entity requests: the emulator's token check must refuse it.
    const fetch = (url, init) => {
      if (String(url).includes("/entity/")) {
        const headers = new Headers(init.headers);
        check(headers.get("authorization")?.startsWith("Bearer "), "client sent a bearer token");
        headers.set("authorization", "Bearer not-a-real-token");
        init = { ...init, headers };
      }
      return globalThis.fetch(url, init);
    };
    const sg = await t.ShotGrid.connect({
      site: t.env.url,
      auth: { grant: "client_credentials", clientId: t.env.clientId, clientSecret: t.env.clientSecret },
      fetch,
    });
    const err = await rejects(sg.read("Shot", 1), "read with a corrupted token");
    eq(err.kind, "auth", "kind");
    eq(err.status, 401, "status");
    eq(err.code, 102, "code");
  }],

  ["200 concurrent calls at token expiry make exactly one token request", async (t) => {
    let tokenRequests = 0;
    const fetch = (url, init) => {
      if (String(url).endsWith("/api/v1/auth/access_token")) tokenRequests += 1;
      return globalThis.fetch(url, init);
    };
    // A margin longer than the token's life: every call finds the token due.
    const sg = await t.ShotGrid.connect({
      site: t.env.url,
      auth: { grant: "client_credentials", clientId: t.env.clientId, clientSecret: t.env.clientSecret },
      fetch,
      refreshMarginMs: 24 * 3600 * 1000,
    });
    eq(tokenRequests, 1, "token requests after connect");
    const shots = await Promise.all(Array.from({ length: 200 }, () => sg.read("Shot", 1, { fields: ["code"] })));
    eq(shots.length, 200, "every call answered");
    check(shots.every((s) => s.id === 1), "every call read the record");
    eq(tokenRequests, 2, "token requests after 200 concurrent calls at expiry");
  }],

  ["secrets never show in String(sg) or JSON.stringify(sg)", async (t) => {
    const sg = await connect(t);
    eq(String(sg), `ShotGrid(${t.env.url})`, "String(sg)");
    const json = JSON.stringify(sg);
    check(!json.includes(t.env.clientSecret), "secret not in JSON");
    eq(JSON.parse(json).site, t.env.url, "JSON shows the site");
  }],
];

/** Runs `list` of [name, fn] cases in order; returns [{ name, ok, error? }]. */
export async function runAll(list, ctx) {
  const results = [];
  for (const [name, fn] of list) {
    try {
      await fn(ctx);
      results.push({ name, ok: true });
    } catch (err) {
      results.push({ name, ok: false, error: String(err && err.stack || err) });
    }
  }
  return results;
}

/** Reads the emulator coordinates from an env-like object. */
export function envFrom(source) {
  const env = {
    url: source.SG_EMULATOR_URL,
    clientId: source.SG_TEST_CLIENT_ID,
    clientSecret: source.SG_TEST_CLIENT_SECRET,
  };
  for (const [k, v] of Object.entries(env)) {
    if (!v) throw new Error(`missing ${k}: run the suites with \`cargo xtask test\`, which starts the emulator`);
  }
  // The sg-storage emulator and the admin secret (tests/js/upload.mjs).
  Object.assign(env, { sgUrl: source.SG_EMULATOR_SG_URL, adminSecret: source.SG_ADMIN_SECRET });
  return env;
}
