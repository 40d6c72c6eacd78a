// Pure logic of the explorer (no DOM): operators per field data type, typed values,
// the filter tree, redaction of secrets and the "copy as curl / JS" snippets.
// Unit-tested in Node by tests/explorer/model.test.mjs.

const TEXTY = ["is", "is_not", "contains", "not_contains", "starts_with", "ends_with", "in", "not_in"];
const NUMERIC = ["is", "is_not", "less_than", "greater_than", "between", "not_between", "in", "not_in"];
const DATES = ["is", "is_not", "less_than", "greater_than", "between", "not_between",
  "in_last", "not_in_last", "in_next", "not_in_next",
  "in_calendar_day", "in_calendar_week", "in_calendar_month", "in_calendar_year", "in", "not_in"];
const LINKS = ["is", "is_not", "in", "not_in", "type_is", "type_is_not",
  "name_contains", "name_not_contains", "name_is", "name_starts_with", "name_ends_with"];

/** The relations offered for a field of a data type (ShotGrid's valid operators per type). */
export function operatorsFor(dataType) {
  switch (dataType) {
    case "checkbox": return ["is", "is_not"];
    case "number": case "float": case "currency": case "percent": case "duration":
    case "timecode": case "footage": return NUMERIC;
    case "date": case "date_time": return DATES;
    case "list": case "status_list": return ["is", "is_not", "in", "not_in"];
    case "entity": case "multi_entity": case "addressing": return LINKS;
    case "tag_list": return ["is", "is_not", "name_contains", "name_not_contains", "name_is"];
    case "text": case "url": case "uuid": case "entity_type": case "color": case "image":
    case "calculated": return TEXTY;
    default: return [...new Set([...TEXTY, ...NUMERIC])];
  }
}

/** The shape of the value a relation takes: how many inputs and of which kind. */
export function valueShape(relation, dataType) {
  if (relation === "between" || relation === "not_between") return "pair";
  if (/^(not_)?in_(last|next)$/.test(relation)) return "period";
  if (relation.startsWith("in_calendar_")) return "offset";
  if (relation === "in" || relation === "not_in") return "list";
  if (relation === "type_is" || relation === "type_is_not") return "type";
  if (relation.startsWith("name_")) return "text";
  if (dataType === "multi_entity" || dataType === "addressing") return "single-entity";
  return "single";
}

/** Units of in_last/in_next. */
export const PERIOD_UNITS = ["HOUR", "DAY", "WEEK", "MONTH", "YEAR"];

/** An error in a value typed by the user: `where` names the input. */
export class InputError extends Error {
  constructor(message, where) {
    super(message);
    this.name = "InputError";
    this.where = where;
  }
}

/**
 * Turns the text of an input into a value of the field's data type.
 * Empty text is null for every type but text-like ones (where it is ""), unless
 * `emptyIsNull` says otherwise. Entity links are written "Type:id" (or "Type id").
 */
export function parseValue(text, dataType, where = "value", { emptyIsNull } = {}) {
  const s = String(text ?? "").trim();
  const texty = ["text", "url", "uuid", "entity_type", "color", "image", "calculated", undefined, null, ""].includes(dataType);
  if (s === "") return texty && !emptyIsNull ? "" : null;
  switch (dataType) {
    case "number": case "duration": case "timecode": case "footage": {
      if (!/^[-+]?\d+$/.test(s)) throw new InputError(`${where}: "${s}" is not a whole number`, where);
      return Number(s);
    }
    case "float": case "currency": case "percent": {
      const n = Number(s);
      if (!Number.isFinite(n)) throw new InputError(`${where}: "${s}" is not a number`, where);
      return n;
    }
    case "checkbox": {
      if (s === "true") return true;
      if (s === "false") return false;
      throw new InputError(`${where}: choose true or false`, where);
    }
    case "date": {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) throw new InputError(`${where}: a date is YYYY-MM-DD`, where);
      return s;
    }
    case "date_time": {
      // datetime-local gives local time without a zone; the site wants UTC with Z.
      const d = new Date(s);
      if (Number.isNaN(d.getTime())) throw new InputError(`${where}: "${s}" is not a date and time`, where);
      return d.toISOString().replace(/\.\d{3}Z$/, "Z");
    }
    case "entity": case "multi_entity": case "addressing": return parseLink(s, where);
    default: return s;
  }
}

/** Parses "Type:id" (or "Type id", "Type #id") into `{ type, id }`. */
export function parseLink(text, where = "value") {
  const m = /^\s*([A-Za-z][A-Za-z0-9_]*)\s*[:# ]\s*#?(\d+)\s*$/.exec(String(text));
  if (!m) throw new InputError(`${where}: write a link as Type:id, e.g. Shot:12`, where);
  return { type: m[1], id: Number(m[2]) };
}

/** Splits a comma-separated list and parses each item with the field's type. */
export function parseList(text, dataType, where = "value") {
  const items = String(text ?? "").split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (items.length === 0) throw new InputError(`${where}: give at least one value, separated by commas`, where);
  return items.map((item, i) => parseValue(item, dataType, `${where}[${i}]`, { emptyIsNull: true }));
}

/**
 * The value of a condition from its raw inputs (`raw` holds strings: `a`, `b`, `unit`,
 * `values` for multi-selects), typed per field and shaped per relation.
 */
export function conditionValue(relation, dataType, raw, where = "value") {
  switch (valueShape(relation, dataType)) {
    case "pair": return [parseValue(raw.a, dataType, `${where} (from)`, { emptyIsNull: true }), parseValue(raw.b, dataType, `${where} (to)`, { emptyIsNull: true })];
    case "period": {
      const n = parseValue(raw.a, "number", `${where} (count)`);
      if (n == null) throw new InputError(`${where}: give a count`, where);
      const unit = PERIOD_UNITS.includes(raw.unit) ? raw.unit : "DAY";
      return [n, unit];
    }
    case "offset": {
      const n = parseValue(raw.a === "" || raw.a == null ? "0" : raw.a, "number", `${where} (offset)`);
      return n;
    }
    case "list":
      if (Array.isArray(raw.values) && raw.values.length) return raw.values.slice();
      return parseList(raw.a, dataType, where);
    case "type": {
      const t = String(raw.a ?? "").trim();
      if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(t)) throw new InputError(`${where}: choose an entity type`, where);
      return t;
    }
    case "text": return String(raw.a ?? "");
    case "single-entity": return parseValue(raw.a, "entity", where);
    default: return parseValue(raw.a, dataType, where);
  }
}

/**
 * A filter tree node: `{ kind: "group", op: "and"|"or", children: [...] }` or
 * `{ kind: "cond", field, relation, dataType, raw }`. Returns ShotGrid filters:
 * a plain list of conditions when the root is an AND group of conditions only,
 * otherwise a `{ logical_operator, conditions }` hash. An empty root gives null.
 */
export function toFilters(root) {
  if (!root || root.children.length === 0) return null;
  const flat = root.op === "and" && root.children.every((c) => c.kind === "cond");
  const built = buildGroup(root, "filters");
  return flat ? built.conditions : built;
}

function buildGroup(group, where) {
  const conditions = [];
  group.children.forEach((child, i) => {
    const here = `${where}.conditions[${i}]`;
    if (child.kind === "group") {
      if (child.children.length === 0) throw new InputError(`${here}: an empty group; add a condition or remove it`, here);
      conditions.push(buildGroup(child, here));
    } else {
      const field = String(child.field ?? "").trim();
      if (!field) throw new InputError(`${here}: choose a field`, here);
      const value = conditionValue(child.relation, child.dataType, child.raw ?? {}, here);
      conditions.push([field, child.relation, value]);
    }
  });
  return { logical_operator: group.op === "or" ? "or" : "and", conditions };
}

const pad2 = (n) => String(n).padStart(2, "0");

/**
 * A value as the text of an input: links as "Type:id", lists joined with ", ",
 * UTC date-times as local "YYYY-MM-DDThh:mm:ss" (what datetime-local inputs take).
 */
export function formatValue(v) {
  if (v == null) return "";
  if (isLink(v)) return `${v.type}:${v.id}`;
  if (Array.isArray(v)) return v.map(formatValue).join(", ");
  if (v && typeof v === "object" && Array.isArray(v.value)) return formatValue(v.value); // a multi-entity update
  if (typeof v === "string" && /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?Z$/.test(v)) {
    const d = new Date(v);
    return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}T${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
  }
  return String(v);
}

/** The raw inputs of a condition from its value (the inverse of conditionValue). */
export function rawOf(relation, value) {
  if (relation === "between" || relation === "not_between") return { a: formatValue(value?.[0]), b: formatValue(value?.[1]) };
  if (/^(not_)?in_(last|next)$/.test(relation)) return { a: String(value?.[0] ?? "1"), unit: value?.[1] };
  if (relation === "in" || relation === "not_in") {
    const list = Array.isArray(value) ? value : [value];
    return { a: formatValue(list), values: list.map((v) => (typeof v === "string" ? v : formatValue(v))) };
  }
  return { a: formatValue(value) };
}

/** A condition `[field, relation, value…]` as `{ field, relation, raw }`. */
export function conditionFrom(c) {
  const [field, relation, ...rest] = c;
  return { field, relation, raw: rawOf(relation, rest.length > 1 ? rest : rest[0]) };
}

const SECRET_KEYS = /^(client_?secret|clientSecret|password|refresh_?token|refreshToken|access_?token|accessToken|session_?token|sessionToken|token|secret|authorization)$/i;
/** Replacement text for secrets. */
export const REDACTED = "«redacted»";

/** A deep copy with the values of secret-looking keys replaced. */
export function redact(value) {
  if (Array.isArray(value)) return value.map(redact);
  if (value && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    const out = {};
    for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEYS.test(k) && v != null && v !== "" ? REDACTED : redact(v);
    return out;
  }
  return value;
}

/** Redacts a form-urlencoded body (the token request). */
export function redactForm(body) {
  const params = new URLSearchParams(body);
  for (const key of [...params.keys()]) if (SECRET_KEYS.test(key)) params.set(key, REDACTED);
  return params.toString();
}

const shellQuote = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;

/**
 * "Copy as curl" for recorded exchanges `{ method, url, headers, body }` (already
 * redacted). The token is a shell variable; the token request's secrets are
 * variables too.
 */
export function toCurl(exchanges) {
  if (!exchanges.length) return "# No HTTP request was sent: the input was refused before sending.\n";
  const lines = ["# Set SG_TOKEN to an access token first (POST /api/v1/auth/access_token)."];
  for (const ex of exchanges) {
    const parts = [`curl -X ${ex.method} ${shellQuote(ex.url)}`];
    const isToken = /\/auth\/access_token$/.test(new URL(ex.url).pathname);
    for (const [name, value] of Object.entries(ex.headers ?? {})) {
      if (/^authorization$/i.test(name)) continue;
      parts.push(`-H ${shellQuote(`${name}: ${value}`)}`);
    }
    if (ex.auth) parts.push(`-H "Authorization: Bearer $SG_TOKEN"`);
    if (ex.body != null) {
      if (ex.body.binary != null) parts.push(`--data-binary @${shellQuote(ex.body.name ?? "FILE")}  # ${ex.body.binary} bytes`);
      else if (isToken) parts.push(`--data-raw ${shellQuote(String(ex.body)).replaceAll(encodeURIComponent(REDACTED), "'\"$SG_SECRET\"'")}`);
      else parts.push(`--data-raw ${shellQuote(ex.body)}`);
    }
    lines.push(parts.join(" \\\n  "));
  }
  return `${lines.join("\n")}\n`;
}

/** Pretty JS literal for snippets (JSON with unquoted simple keys). */
export function jsLiteral(value, indent = 0) {
  const pad = "  ".repeat(indent);
  if (value === undefined) return "undefined";
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) {
    const inner = value.map((v) => jsLiteral(v, indent + 1));
    const oneLine = `[${inner.join(", ")}]`;
    return oneLine.length <= 80 && !oneLine.includes("\n") ? oneLine : `[\n${inner.map((s) => `${pad}  ${s}`).join(",\n")},\n${pad}]`;
  }
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  if (!entries.length) return "{}";
  const inner = entries.map(([k, v]) => `${/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k)}: ${jsLiteral(v, indent + 1)}`);
  const oneLine = `{ ${inner.join(", ")} }`;
  return oneLine.length <= 80 && !oneLine.includes("\n") ? oneLine : `{\n${inner.map((s) => `${pad}  ${s}`).join(",\n")},\n${pad}}`;
}

/** The connect options as a snippet, secrets as environment variables. */
export function connectSnippet(conn) {
  const auth = {
    client_credentials: `{ grant: "client_credentials", clientId: ${JSON.stringify(conn.clientId ?? "")}, clientSecret: process.env.SG_KEY }`,
    password: `{ grant: "password", login: ${JSON.stringify(conn.login ?? "")}, password: process.env.SG_PASSWORD }`,
    session_token: `{ grant: "session_token", sessionToken: process.env.SG_SESSION_TOKEN }`,
    refresh_token: `{ grant: "refresh_token", refreshToken: process.env.SG_REFRESH_TOKEN }`,
  }[conn.grant] ?? "{ /* … */ }";
  return `import { ShotGrid } from "shotgrid-wasm";\n\nconst sg = await ShotGrid.connect({\n  site: ${JSON.stringify(conn.site ?? "")},\n  auth: ${auth},\n});\n`;
}

/**
 * "Copy as JS": the connect call and `sg.<method>(args)`; `args` are redacted; a
 * placeholder stands for a file.
 */
export function toJs(conn, method, args) {
  if (method === "connect") return connectSnippet(conn);
  const shown = args.map((a) => (a && a.__file ? `file /* ${a.__file} */` : jsLiteral(redact(a))));
  while (shown.length && shown[shown.length - 1] === "undefined") shown.pop();
  return `${connectSnippet(conn)}\nconst result = await sg.${method}(${shown.join(", ")});\nconsole.log(result);\n`;
}

/** Bars for a chart: `[{ label, value }]` from a summarize result and a summary field. */
export function chartBars(result, field) {
  const groups = Array.isArray(result?.groups) ? result.groups : [];
  return groups.map((g) => {
    const raw = g?.summaries?.[field];
    const value = typeof raw === "number" ? raw : Number(raw);
    const label = g.group_name ?? (typeof g.group_value === "object" && g.group_value ? g.group_value.name ?? `${g.group_value.type}:${g.group_value.id}` : String(g.group_value));
    return { label: String(label ?? "(none)"), value: Number.isFinite(value) ? value : 0 };
  });
}

/** Whether a value looks like a linked entity `{ type, id }`. */
export function isLink(v) {
  return v != null && typeof v === "object" && !Array.isArray(v) && typeof v.type === "string" && Number.isInteger(v.id);
}

/** The columns of a table of records: type and id first, then every key seen, in order. */
export function columnsOf(records) {
  const seen = new Set();
  for (const r of records) if (r && typeof r === "object") for (const k of Object.keys(r)) seen.add(k);
  seen.delete("type"); seen.delete("id");
  return ["id", ...seen];
}
