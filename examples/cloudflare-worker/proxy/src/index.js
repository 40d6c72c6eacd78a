// A read-only ShotGrid proxy for a browser dashboard. The script key stays in this
// Worker (a secret binding); the browser only sees the routes, entity types and fields
// allowed below, and never a credential or token.
import { ShotGrid, ShotGridError } from "shotgrid-wasm";
import { DASHBOARD_HTML } from "./dashboard.js";

/** Entity types the dashboard may read, and the fields of each it may see or filter on. */
export const ALLOWED = {
  Shot: ["code", "sg_status_list", "description", "project", "created_at"],
  Asset: ["code", "sg_status_list", "sg_asset_type", "description", "project"],
  Version: ["code", "sg_status_list", "entity", "project", "created_at"],
  Project: ["name"],
};
const MAX_LIMIT = 500;

let client;
function connect(env) {
  client ??= ShotGrid.connect({
    site: env.SG_SITE,
    auth: { grant: "client_credentials", clientId: env.SG_SCRIPT_NAME, clientSecret: env.SG_SCRIPT_KEY },
  }).catch((e) => {
    client = undefined;
    throw e;
  });
  return client;
}

class Refused extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function allowedFields(type) {
  const fields = Object.hasOwn(ALLOWED, type) ? ALLOWED[type] : null;
  if (!fields) throw new Refused(403, `entity type not allowed: ${String(type)}`);
  return fields;
}

function checkFields(type, requested, allowed) {
  if (requested === undefined) return allowed;
  if (!Array.isArray(requested)) throw new Refused(400, "fields must be an array");
  for (const f of requested) {
    if (!allowed.includes(f)) throw new Refused(403, `field not allowed on ${type}: ${String(f)}`);
  }
  return requested;
}

/** Filters may only name allowed fields (no dotted paths into other entities). */
function checkFilters(type, filters, allowed) {
  if (filters === undefined || filters === null) return [];
  const walk = (node) => {
    if (Array.isArray(node)) {
      if (typeof node[0] === "string") {
        if (node[0] !== "id" && !allowed.includes(node[0])) throw new Refused(403, `filter on a field not allowed on ${type}: ${node[0]}`);
        return;
      }
      node.forEach(walk);
    } else if (node && typeof node === "object" && Array.isArray(node.conditions)) {
      node.conditions.forEach(walk);
    } else {
      throw new Refused(400, "filters must be conditions or {logical_operator, conditions}");
    }
  };
  walk(filters);
  return filters;
}

function checkSort(type, sort, allowed) {
  if (sort === undefined) return undefined;
  if (!Array.isArray(sort)) throw new Refused(400, "sort must be an array");
  for (const s of sort) {
    const f = String(s).replace(/^-/, "");
    if (f !== "id" && !allowed.includes(f)) throw new Refused(403, `sort on a field not allowed on ${type}: ${f}`);
  }
  return sort;
}

async function find(request, env) {
  let q;
  try {
    q = await request.json();
  } catch {
    throw new Refused(400, "the body must be JSON");
  }
  const allowed = allowedFields(q?.entityType);
  const fields = checkFields(q.entityType, q.fields, allowed);
  const filters = checkFilters(q.entityType, q.filters, allowed);
  const sort = checkSort(q.entityType, q.sort, allowed);
  const limit = Math.min(Number.isInteger(q.limit) && q.limit > 0 ? q.limit : 100, MAX_LIMIT);
  const sg = await connect(env);
  return sg.find(q.entityType, filters, { fields, sort, limit });
}

async function read(type, id, url, env) {
  const allowed = allowedFields(type);
  const requested = url.searchParams.get("fields");
  const fields = checkFields(type, requested ? requested.split(",") : undefined, allowed);
  const n = Number(id);
  if (!Number.isInteger(n) || n < 1) throw new Refused(400, "bad id");
  const sg = await connect(env);
  return sg.read(type, n, { fields });
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    try {
      if (request.method === "GET" && url.pathname === "/") {
        return new Response(DASHBOARD_HTML, { headers: { "content-type": "text/html; charset=utf-8" } });
      }
      if (request.method === "GET" && url.pathname === "/api/allowed") {
        return Response.json(ALLOWED);
      }
      if (request.method === "POST" && url.pathname === "/api/find") {
        return Response.json(await find(request, env));
      }
      const m = url.pathname.match(/^\/api\/read\/([A-Za-z0-9_]+)\/(\d+)$/);
      if (request.method === "GET" && m) {
        return Response.json(await read(m[1], m[2], url, env));
      }
      return Response.json({ error: "no such route" }, { status: 404 });
    } catch (e) {
      if (e instanceof Refused) return Response.json({ error: e.message }, { status: e.status });
      if (e instanceof ShotGridError) {
        // Pass on what is safe: kind, status, title. ShotGridError never holds secrets.
        const status = e.kind === "invalid_input" ? 400 : e.status === 404 ? 404 : 502;
        return Response.json({ error: e.title, kind: e.kind, detail: e.detail }, { status });
      }
      return Response.json({ error: "internal error" }, { status: 500 });
    }
  },
};
