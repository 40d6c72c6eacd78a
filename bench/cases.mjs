// Benchmark cases, runtime-agnostic: each takes { ShotGrid, env, fetch } and returns
// timings of ours vs a plain-JS baseline measured side by side (alternating rounds, so
// machine noise hits both). env = { url, clientId, clientSecret }. Each case checks the
// data both sides got (ids, counts, first and last records), so a fast wrong answer
// throws instead of scoring. Runs unchanged in Node, Chromium and workerd.

export const SHOT_FIELDS = [
  "code", "description", "sg_status_list", "project", "sg_sequence", "sg_cut_in",
  "sg_cut_out", "sg_cut_duration", "created_at", "updated_at", "created_by", "updated_by",
];

const now = () => performance.now();

function check(cond, message) {
  if (!cond) throw new Error(`bench check failed: ${message}`);
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** A token the plain-JS baseline uses (form body, like ours). */
export async function rawToken(env, fetch = globalThis.fetch) {
  const body = new URLSearchParams({ grant_type: "client_credentials", client_id: env.clientId, client_secret: env.clientSecret });
  const res = await fetch(`${env.url}/api/v1/auth/access_token`, { method: "POST", body, headers: { "content-type": "application/x-www-form-urlencoded" } });
  if (!res.ok) throw new Error(`token: ${res.status}`);
  return (await res.json()).access_token;
}

/**
 * Creates a Project, 10 Sequences and `total` Shots with the 12 fields (batches of 500)
 * through plain fetch; returns the Project's id.
 */
export async function seedShots(env, token, total) {
  // On a loaded machine seeding can outlast the token (10 minutes): take a new one
  // when the site says it expired, and send the (refused, so not applied) call again.
  const api = async (p, body, renewed = false) => {
    const res = await fetch(`${env.url}/api/v1/entity/${p}`, { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json", accept: "application/json" }, body: JSON.stringify(body) });
    const text = await res.text();
    if (res.status === 401 && !renewed) {
      token = await rawToken(env);
      return api(p, body, true);
    }
    if (!res.ok) throw new Error(`POST ${p}: ${res.status} ${text.slice(0, 300)}`);
    return JSON.parse(text);
  };
  const project = (await api("projects", { name: "Bench Project" })).data.id;
  const seqs = [];
  for (let i = 0; i < 10; i++) seqs.push((await api("sequences", { code: `BSQ${i}`, project: { type: "Project", id: project } })).data.id);
  const statuses = ["wtg", "ip", "fin"];
  for (let start = 0; start < total; start += 500) {
    const requests = [];
    for (let i = start; i < Math.min(total, start + 500); i++) {
      requests.push({ request_type: "create", entity: "Shot", data: {
        code: `BENCH_${String(i).padStart(6, "0")}`, description: `Shot ${i} of the benchmark set`,
        sg_status_list: statuses[i % 3], project: { type: "Project", id: project },
        sg_sequence: { type: "Sequence", id: seqs[i % 10] }, sg_cut_in: 1001, sg_cut_out: 1001 + (i % 200), sg_cut_duration: i % 200,
      }, options: { fields: [] } });
    }
    await api("_batch", { requests });
  }
  return project;
}

/** What every thin JS client does with a JSON:API resource. */
export function flatten(item) {
  const out = { type: item.type, id: item.id, ...item.attributes };
  for (const [k, v] of Object.entries(item.relationships ?? {})) out[k] = v && typeof v === "object" && "data" in v ? v.data : v;
  return out;
}

async function connect({ ShotGrid, env }, extra = {}) {
  return ShotGrid.connect({ site: env.url, auth: { grant: "client_credentials", clientId: env.clientId, clientSecret: env.clientSecret }, ...extra });
}

/**
 * Runs `fns` in turn for `rounds` rounds (each round in the reverse order of the one
 * before, so drift hits every side alike); returns the median ms of each, in order.
 */
async function sideBySideAll(rounds, fns) {
  const times = fns.map(() => []);
  for (let i = 0; i < rounds; i++) {
    const order = fns.map((_, k) => k);
    if (i % 2) order.reverse();
    for (const k of order) {
      const t0 = now();
      await fns[k]();
      times[k].push(now() - t0);
    }
  }
  return times.map(median);
}

/** Alternates `a` and `b` for `rounds` rounds each; returns median ms of each. */
async function sideBySide(rounds, a, b) {
  const [ours, raw] = await sideBySideAll(rounds, [a, b]);
  return { ours, raw };
}

/**
 * 2. Call overhead: `n` sequential reads of one record by id, in `rounds` alternating
 * blocks. Four sides: ours; raw fetch + JSON (the goal's baseline); raw fetch
 * with what any client with abortable per-request timeouts adds to it (an
 * AbortController whose signal goes to fetch, a timer), which shows how much of the
 * gap that alone costs in the runtime; and the package's attempt sender alone
 * (`ctx.send`, pkg/send.js: the same fetch, timeout and record decoding as ours, no
 * wasm), which shows how much the wasm side adds.
 */
/**
 * What case 2 reads: the first Shot, our client and a raw token for it; `rawRead()`
 * makes one raw fetch + JSON read of it by id and checks it.
 */
async function shotByIdReads(ctx) {
  const sg = await connect(ctx);
  const token = await rawToken(ctx.env);
  const shot = await sg.findOne("Shot", null, { sort: ["id"], fields: ["code"] });
  check(shot && typeof shot.code === "string", "a Shot to read");
  const url = `${ctx.env.url}/api/v1/entity/shots/${shot.id}?fields=code`;
  const headers = { authorization: `Bearer ${token}`, accept: "application/json" };
  const rawRead = async () => {
    const res = await fetch(url, { headers });
    const r = flatten((await res.json()).data);
    check(r.id === shot.id && r.code === shot.code, `raw read ${JSON.stringify(r)}`);
  };
  return { sg, token, shot, url, headers, rawRead };
}

export async function callOverhead(ctx, n = 2000, rounds = 20) {
  const { sg, token, shot, url, headers, rawRead } = await shotByIdReads(ctx);
  const per = Math.ceil(n / rounds);
  const head = `authorization\nBearer ${token}\naccept\napplication/json`;
  const names = ["x-request-id"];
  const [ours, raw, timed, sender] = await sideBySideAll(rounds, [
    async () => {
      for (let i = 0; i < per; i++) {
        const r = await sg.read("Shot", shot.id, { fields: ["code"] });
        check(r.id === shot.id && r.code === shot.code, `ours read ${JSON.stringify(r)}`);
      }
    },
    async () => {
      for (let i = 0; i < per; i++) await rawRead();
    },
    async () => {
      for (let i = 0; i < per; i++) {
        const ctrl = new AbortController();
        const timer = setTimeout(() => ctrl.abort(), 30_000);
        try {
          const res = await fetch(url, { headers, signal: ctrl.signal });
          const r = flatten((await res.json()).data);
          check(r.id === shot.id && r.code === shot.code, `raw read ${JSON.stringify(r)}`);
        } finally {
          clearTimeout(timer);
        }
      }
    },
    async () => {
      for (let i = 0; i < per; i++) {
        // (fetch, url, method, head, body, signal, ms, names, mode 1: one record)
        const outcome = await ctx.send(fetch, url, "GET", head, undefined, undefined, 30_000, names, 1);
        const r = outcome[4];
        check(outcome[0] === 0 && r?.id === shot.id && r.code === shot.code, `sender read ${JSON.stringify(outcome)}`);
      }
    },
  ]);
  return { calls: per, oursMs: ours, rawMs: raw, timedMs: timed, senderMs: sender, ratio: raw / ours, timedRatio: timed / ours };
}

/** JSON with object keys sorted (JSON:API and our records order keys differently). */
function canon(v) {
  if (Array.isArray(v)) return `[${v.map(canon).join(",")}]`;
  if (v && typeof v === "object") return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canon(v[k])}`).join(",")}}`;
  return JSON.stringify(v) ?? "undefined";
}

/** The same records, field for field, in both lists (checked on the first and last). */
function sameEnds(ours, raw) {
  for (const [a, b] of [[ours[0], raw[0]], [ours.at(-1), raw.at(-1)]]) {
    for (const f of ["id", ...SHOT_FIELDS]) {
      check(canon(a?.[f]) === canon(b?.[f]), `record ${b?.id} field ${f}: ours ${JSON.stringify(a?.[f])}, raw ${JSON.stringify(b?.[f])}`);
    }
  }
}

/**
 * 3. Decode: every Shot (12 fields, 500 per page), sequential pages both sides; both
 * must read `expected` records (when given) and agree on the first and last.
 */
export async function decode(ctx, rounds = 3, expected = undefined) {
  const sg = await connect(ctx);
  const token = await rawToken(ctx.env);
  let count = 0;
  let ends = null;
  const fields = SHOT_FIELDS.join(",");
  const r = await sideBySide(rounds,
    async () => {
      const all = await sg.find("Shot", null, { fields: SHOT_FIELDS, pageSize: 500, sort: ["id"] });
      count = all.length;
      if (expected !== undefined) check(count === expected, `ours read ${count} records, expected ${expected}`);
      check(all.every((rec) => "sg_sequence" in rec && "created_by" in rec), "ours: every record has the 12 fields");
      ends = [all[0], all.at(-1)];
    },
    async () => {
      const all = [];
      for (let page = 1; ; page++) {
        const res = await fetch(`${ctx.env.url}/api/v1/entity/shots?fields=${fields}&sort=id&page[number]=${page}&page[size]=500`, { headers: { authorization: `Bearer ${token}`, accept: "application/json" } });
        const body = await res.json();
        for (const item of body.data) all.push(flatten(item));
        if (body.data.length < 500) break;
      }
      if (expected !== undefined) check(all.length === expected, `raw read ${all.length} records, expected ${expected}`);
      if (ends) {
        check(all.length === count, `raw read ${all.length}, ours ${count}`);
        sameEnds(ends, [all[0], all.at(-1)]);
      }
    });
  return { records: count, oursMs: r.ours, rawMs: r.raw, ratio: r.raw / r.ours };
}

/**
 * 4. Pagination under latency: ours with prefetch vs a sequential page loop; both must
 * read `expected` records (when given), every id once. `concurrency` null: the
 * runtime's default. Returns the concurrency the client used (its cursor tells).
 */
export async function pagination(ctx, concurrency = 8, rounds = 1, expected = undefined) {
  const sg = await connect(ctx);
  const token = await rawToken(ctx.env);
  const options = { fields: ["code"], pageSize: 500, sort: ["id"], ...(concurrency == null ? {} : { concurrency }) };
  const probe = sg.cursor("Shot", null, options);
  const used = probe.concurrency;
  probe.free();
  check(Number.isInteger(used) && used >= 1 && (concurrency == null || used === concurrency), `the cursor's concurrency ${used}, asked ${concurrency}`);
  let pages = 0;
  const r = await sideBySide(rounds,
    async () => {
      let n = 0;
      const ids = new Set();
      for await (const page of sg.iterate("Shot", null, options).pages()) {
        n += 1;
        for (const rec of page) ids.add(rec.id);
      }
      pages = n;
      if (expected !== undefined) check(ids.size === expected, `ours read ${ids.size} distinct records, expected ${expected}`);
    },
    async () => {
      const ids = new Set();
      for (let page = 1; ; page++) {
        const res = await fetch(`${ctx.env.url}/api/v1/entity/shots?fields=code&sort=id&page[number]=${page}&page[size]=500`, { headers: { authorization: `Bearer ${token}`, accept: "application/json" } });
        const body = await res.json();
        for (const rec of body.data.map(flatten)) ids.add(rec.id);
        if (body.data.length < 500) break;
      }
      if (expected !== undefined) check(ids.size === expected, `raw read ${ids.size} distinct records, expected ${expected}`);
    });
  return { pages, concurrency: used, chosen: concurrency != null, oursMs: r.ours, rawMs: r.raw, ratio: r.raw / r.ours };
}

/**
 * The reads of case 2 answered in memory (a `fetch` that returns a canned Response at
 * once: no network, no server): `ours()` and `raw()` each make one read of Shot 1 and
 * check it.
 */
async function cannedReads(ctx) {
  const record = { type: "Shot", id: 1, attributes: { code: "SH001" }, relationships: {}, links: { self: "/api/v1/entity/shots/1" } };
  const body = JSON.stringify({ data: record, links: { self: "/api/v1/entity/shots/1" } });
  const token = JSON.stringify({ access_token: "t", token_type: "Bearer", expires_in: 600, refresh_token: "r" });
  const json = { "content-type": "application/json" };
  const canned = async (url) => new Response(String(url).endsWith("/auth/access_token") ? token : body, { status: 200, headers: json });
  const site = "http://127.0.0.1:9";
  const sg = await ctx.ShotGrid.connect({ site, auth: { grant: "client_credentials", clientId: "a", clientSecret: "b" }, fetch: canned });
  const url = `${site}/api/v1/entity/shots/1?fields=code`;
  const headers = { authorization: "Bearer t", accept: "application/json" };
  return {
    async ours() {
      const r = await sg.read("Shot", 1, { fields: ["code"] });
      check(r.id === 1 && r.code === "SH001", `ours read ${JSON.stringify(r)}`);
    },
    async raw() {
      const res = await canned(url, { headers });
      const r = flatten((await res.json()).data);
      check(r.id === 1 && r.code === "SH001", `raw read ${JSON.stringify(r)}`);
    },
  };
}

/**
 * 2b. Client CPU per call: the reads of case 2 answered in memory (`cannedReads`), ours
 * vs raw fetch + JSON, after `warm` calls of each. What each side's own code costs per
 * call, hot; case 2 adds the network and a server on the same cores, and runs this code
 * cold after each wait (2c).
 */
export async function callCpu(ctx, n = 10_000, rounds = 20, warm = 5_000) {
  const { ours, raw } = await cannedReads(ctx);
  const loop = (one) => async (k) => {
    for (let i = 0; i < k; i++) await one();
  };
  await loop(ours)(warm);
  await loop(raw)(warm);
  const per = Math.ceil(n / rounds);
  const [o, r] = await sideBySideAll(rounds, [() => loop(ours)(per), () => loop(raw)(per)]);
  return { calls: per, oursUs: (o / per) * 1000, rawUs: (r / per) * 1000 };
}

/**
 * 2c. The same in-memory reads as 2b, each made once between real round trips to the
 * site (a raw read by id, as in case 2): what each side's code costs when it runs
 * as it does in case 2, between waits on the network, rather than in a tight loop.
 * Three sides alternate in blocks: the round trip alone, the round trip plus one of
 * ours, the round trip plus one raw; each side's cost is its block minus the trip's.
 */
export async function callCold(ctx, n = 2000, rounds = 20) {
  const { ours, raw } = await cannedReads(ctx);
  const { rawRead: trip } = await shotByIdReads(ctx);
  const per = Math.ceil(n / rounds);
  const block = (then) => async () => {
    // The in-memory read first, so a block ends on the network (workerd's clock
    // moves only on I/O).
    for (let i = 0; i < per; i++) {
      if (then) await then();
      await trip();
    }
  };
  const [t, o, r] = await sideBySideAll(rounds, [block(null), block(ours), block(raw)]);
  return { calls: per, tripMs: t, oursUs: ((o - t) / per) * 1000, rawUs: ((r - t) / per) * 1000 };
}
