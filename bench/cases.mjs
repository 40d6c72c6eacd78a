// Benchmark cases, runtime-agnostic: each takes { ShotGrid, env, fetch } and returns
// timings of ours vs a plain-JS baseline measured side by side (alternating rounds, so
// machine noise hits both). env = { url, clientId, clientSecret }.

export const SHOT_FIELDS = [
  "code", "description", "sg_status_list", "project", "sg_sequence", "sg_cut_in",
  "sg_cut_out", "sg_cut_duration", "created_at", "updated_at", "created_by", "updated_by",
];

const now = () => performance.now();

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

/** What every thin JS client does with a JSON:API resource. */
export function flatten(item) {
  const out = { type: item.type, id: item.id, ...item.attributes };
  for (const [k, v] of Object.entries(item.relationships ?? {})) out[k] = v && typeof v === "object" && "data" in v ? v.data : v;
  return out;
}

async function connect({ ShotGrid, env }, extra = {}) {
  return ShotGrid.connect({ site: env.url, auth: { grant: "client_credentials", clientId: env.clientId, clientSecret: env.clientSecret }, ...extra });
}

/** Alternates `a` and `b` for `rounds` rounds each; returns median ms of each. */
async function sideBySide(rounds, a, b) {
  const ta = [];
  const tb = [];
  for (let i = 0; i < rounds; i++) {
    const order = i % 2 ? [[b, tb], [a, ta]] : [[a, ta], [b, tb]];
    for (const [fn, into] of order) {
      const t0 = now();
      await fn();
      into.push(now() - t0);
    }
  }
  return { ours: median(ta), raw: median(tb) };
}

/** 2. Call overhead: `n` sequential reads of one record by id. */
export async function callOverhead(ctx, n = 2000, rounds = 4) {
  const sg = await connect(ctx);
  const token = await rawToken(ctx.env);
  const shot = await sg.findOne("Shot", null, { sort: ["id"] });
  const per = Math.ceil(n / rounds);
  const url = `${ctx.env.url}/api/v1/entity/shots/${shot.id}?fields=code`;
  const r = await sideBySide(rounds,
    async () => { for (let i = 0; i < per; i++) await sg.read("Shot", shot.id, { fields: ["code"] }); },
    async () => {
      for (let i = 0; i < per; i++) {
        const res = await fetch(url, { headers: { authorization: `Bearer ${token}`, accept: "application/json" } });
        flatten((await res.json()).data);
      }
    });
  return { calls: per, oursMs: r.ours, rawMs: r.raw, ratio: r.raw / r.ours };
}

/** 3. Decode: every Shot (12 fields, 500 per page), sequential pages both sides. */
export async function decode(ctx, rounds = 3) {
  const sg = await connect(ctx);
  const token = await rawToken(ctx.env);
  let count = 0;
  const fields = SHOT_FIELDS.join(",");
  const r = await sideBySide(rounds,
    async () => { count = (await sg.find("Shot", null, { fields: SHOT_FIELDS, pageSize: 500, sort: ["id"] })).length; },
    async () => {
      const all = [];
      for (let page = 1; ; page++) {
        const res = await fetch(`${ctx.env.url}/api/v1/entity/shots?fields=${fields}&sort=id&page[number]=${page}&page[size]=500`, { headers: { authorization: `Bearer ${token}`, accept: "application/json" } });
        const body = await res.json();
        for (const item of body.data) all.push(flatten(item));
        if (body.data.length < 500) break;
      }
      if (all.length !== count && count) throw new Error(`raw read ${all.length}, ours ${count}`);
    });
  return { records: count, oursMs: r.ours, rawMs: r.raw, ratio: r.raw / r.ours };
}

/** 4. Pagination under latency: ours with prefetch vs a sequential page loop. */
export async function pagination(ctx, concurrency = 8, rounds = 1) {
  const sg = await connect(ctx);
  const token = await rawToken(ctx.env);
  let pages = 0;
  const r = await sideBySide(rounds,
    async () => {
      let n = 0;
      for await (const page of sg.iterate("Shot", null, { fields: ["code"], pageSize: 500, sort: ["id"], concurrency }).pages()) { n += 1; void page; }
      pages = n;
    },
    async () => {
      for (let page = 1; ; page++) {
        const res = await fetch(`${ctx.env.url}/api/v1/entity/shots?fields=code&sort=id&page[number]=${page}&page[size]=500`, { headers: { authorization: `Bearer ${token}`, accept: "application/json" } });
        const body = await res.json();
        body.data.map(flatten);
        if (body.data.length < 500) break;
      }
    });
  return { pages, concurrency, oursMs: r.ours, rawMs: r.raw, ratio: r.raw / r.ours };
}
