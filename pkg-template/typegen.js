// The generator behind `shotgrid-wasm typegen`: reads a site's schema through the client
// (`sg.schema.entities()`, `sg.schema.fields(type)`) and renders a `.d.ts` with one
// interface per entity type. Every data type of the reference's Data Types table maps
// to a TypeScript type; list and status_list fields become unions of their valid values,
// entity, multi_entity and addressing fields links restricted to their valid types.

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
// Words that cannot name an interface (reserved words and TypeScript's own type names).
const RESERVED = new Set(
  ("break case catch class const continue debugger default delete do else enum export extends false finally for " +
    "function if import in instanceof new null return super switch this throw true try typeof var void while with " +
    "implements interface let package private protected public static yield any boolean never number object string " +
    "symbol undefined unknown bigint type declare namespace module abstract as async await of readonly keyof infer is " +
    "asserts global require satisfies accessor out")
    .split(" "),
);

/** The map interface and the import alias: names no entity interface may take. */
const MAP_NAME = "SiteEntities";
const SG = "__sg";

/** A string literal for TypeScript. */
const lit = (s) => JSON.stringify(s);
/** A property key: bare when it is an identifier, quoted otherwise. */
const key = (s) => (IDENT.test(s) ? s : lit(s));
/** Text safe inside a `/** … *\/` comment, on one line. */
const doc = (s) => String(s ?? "").replace(/\*\//g, "*\u200b/").replace(/\s+/g, " ").trim();

function schemaValue(v) {
  return v && typeof v === "object" && "value" in v ? v.value : v;
}

function stringList(v) {
  const value = schemaValue(v);
  return Array.isArray(value) ? value.filter((x) => typeof x === "string") : [];
}

function linkType(validTypes) {
  const types = [...new Set(validTypes)].sort();
  return types.length ? `${SG}.EntityLink<${types.map(lit).join(" | ")}>` : `${SG}.EntityLink`;
}

function union(values) {
  const unique = [...new Set(values)];
  return unique.length ? unique.map(lit).join(" | ") : "string";
}

/**
 * The TypeScript type of a field's value as records carry it, from its schema. Values
 * that can be empty are `| null` (ShotGrid sends null for an empty field); lists are
 * empty arrays instead.
 */
export function fieldType(field) {
  const dataType = schemaValue(field?.data_type);
  const props = field?.properties ?? {};
  switch (dataType) {
    case "checkbox":
      return "boolean";
    case "text":
    case "footage":
    case "uuid":
    case "password":
    case "color":
      return "string | null";
    case "date":
      return `${SG}.DateString | null`;
    case "date_time":
      return `${SG}.DateTimeString | null`;
    case "number":
    case "float":
    case "currency":
    case "percent":
    case "duration":
    case "timecode":
      return "number | null";
    case "list":
    case "status_list":
      return `${union(stringList(props.valid_values))} | null`;
    case "entity":
      return `${linkType(stringList(props.valid_types))} | null`;
    case "multi_entity":
      return `${linkType(stringList(props.valid_types))}[]`;
    case "addressing": {
      const valid = stringList(props.valid_types);
      return `${linkType(valid.length ? valid : ["HumanUser", "Group"])}[]`;
    }
    case "entity_type":
      return "string | null";
    case "image":
      return "string | null";
    case "url":
      return `${SG}.FileLink | null`;
    case "tag_list":
      return "string[]";
    case "serializable":
      return "{ [key: string]: unknown } | null";
    case "summary":
      return "number | string | null";
    default:
      // pivot_column, calculated and anything a newer site reports.
      return "unknown";
  }
}

/** Interface names for entity types: the type's own name when it is a usable identifier. */
function interfaceNames(types) {
  const taken = new Set([MAP_NAME, SG]);
  const names = new Map();
  for (const t of types) {
    let base = t.replace(/[^A-Za-z0-9_$]/g, "_");
    if (!IDENT.test(base) || RESERVED.has(base)) base = `${base}Entity`;
    if (!IDENT.test(base)) base = `_${base}`;
    let name = base;
    for (let i = 2; taken.has(name); i++) name = `${base}${i}`;
    taken.add(name);
    names.set(t, name);
  }
  return names;
}

/** Runs `fn` over `items` with at most `limit` in flight, keeping the order of results. */
async function mapLimit(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  async function worker() {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * Renders the declarations from a schema: `{ Type: { entity: EntitySchema, fields: { name: FieldSchema } } }`.
 */
export function render(schema, { site, augment = true, version = "" } = {}) {
  const types = Object.keys(schema).sort();
  const names = interfaceNames(types);
  const lines = [
    `// Generated by \`shotgrid-wasm typegen\`${version ? ` ${version}` : ""} from ${site ?? "a ShotGrid site"}. Do not edit: run it again after schema changes.`,
    `import type * as ${SG} from "shotgrid-wasm";`,
    "",
  ];
  let fieldCount = 0;
  for (const t of types) {
    const { entity, fields } = schema[t];
    const display = doc(schemaValue(entity?.name));
    lines.push(`/** ${display && display !== t ? `${display} (${t})` : t}. */`);
    lines.push(`export interface ${names.get(t)} {`);
    lines.push(`  type: ${lit(t)};`);
    lines.push(`  id: number;`);
    for (const f of Object.keys(fields).sort()) {
      if (f === "type" || f === "id") continue;
      const field = fields[f];
      const dataType = schemaValue(field?.data_type);
      const comment = [doc(schemaValue(field?.name)), dataType ? `\`${doc(dataType)}\`` : "", doc(schemaValue(field?.description))]
        .filter(Boolean)
        .join(" · ");
      if (comment) lines.push(`  /** ${comment} */`);
      lines.push(`  ${key(f)}: ${fieldType(field)};`);
      fieldCount++;
    }
    lines.push("}", "");
  }
  lines.push(`/** Every entity type of the site, by name: the map the client's typed calls read. */`);
  lines.push(`export interface ${MAP_NAME} {`);
  for (const t of types) lines.push(`  ${key(t)}: ${names.get(t)};`);
  lines.push("}", "");
  if (augment) {
    lines.push(`// Makes every ShotGrid client typed with this site's entities.`);
    lines.push(`declare module "shotgrid-wasm" {`);
    lines.push(`  interface EntityMap extends ${MAP_NAME} {}`);
    lines.push("}", "");
  }
  return { text: lines.join("\n"), entityTypes: types.length, fields: fieldCount };
}

/**
 * Connects with `opts.auth`, reads the schema and renders it.
 * `opts`: `{ site, auth, entityTypes?, projectId?, augment? }`.
 */
export async function generate(ShotGrid, opts) {
  const sg = await ShotGrid.connect({ site: opts.site, auth: opts.auth });
  try {
    const schemaOpts = opts.projectId ? { projectId: opts.projectId } : undefined;
    const entities = await sg.schema.entities(schemaOpts);
    let types = Object.keys(entities);
    if (opts.entityTypes) {
      const unknown = opts.entityTypes.filter((t) => !Object.hasOwn(entities, t));
      if (unknown.length) {
        throw new Error(`the site has no entity type ${unknown.join(", ")} (it has ${types.sort().join(", ")})`);
      }
      types = opts.entityTypes;
    }
    const fields = await mapLimit(types, 4, (t) => sg.schema.fields(t, schemaOpts));
    const schema = {};
    types.forEach((t, i) => {
      schema[t] = { entity: entities[t], fields: fields[i] ?? {} };
    });
    let version = "";
    try {
      const { readFileSync } = await import("node:fs");
      version = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8")).version;
    } catch {
      // The version only decorates the header.
    }
    return render(schema, { site: opts.site, augment: opts.augment, version });
  } finally {
    sg.free();
  }
}
