// Every capability of the client as a form: parameters (generated into widgets from the
// schema) and how they become the call's arguments. `call` is the method path on the
// client (also used for "copy as JS"); `view` says how the result is shown.
import { InputError } from "./model.js";

const type = (name = "entityType", label = "Entity type") => ({ name, kind: "type", label });
const id = (name = "id", label = "Id", def = "1") => ({ name, kind: "int", label, def });
const fields = (name = "fields", label = "Fields") => ({ name, kind: "fields", label, optional: true });
const field = (name = "field", label = "Field", def = "") => ({ name, kind: "field", label, def });
const text = (name, label, def = "", extra = {}) => ({ name, kind: "text", label, def, ...extra });
const int = (name, label, def = "", extra = {}) => ({ name, kind: "int", label, def, optional: true, ...extra });
const bool = (name, label, def = false) => ({ name, kind: "bool", label, def });
const select = (name, label, options, def = options[0]) => ({ name, kind: "select", label, options, def });
const json = (name, label, def, extra = {}) => ({ name, kind: "json", label, def, ...extra });
const secret = (name, label) => ({ name, kind: "secret", label, optional: true });

/** Drops undefined / empty values from an options object; undefined when nothing is left. */
export function opts(o) {
  const out = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined && v !== "" && v !== false && !(Array.isArray(v) && !v.length)) out[k] = v;
  return Object.keys(out).length ? out : undefined;
}

const need = (v, where) => {
  if (v === undefined || v === null || v === "") throw new InputError(`${where}: required`, where);
  return v;
};

/** The operations, grouped. */
export const OPS = [
  // Records
  { id: "find", optsAt: 2, group: "Records", label: "find: search records", call: "find", view: "records", paged: true,
    params: [type(), { name: "filters", kind: "filters" }, fields(), { name: "sort", kind: "sort" },
      int("pageSize", "Page size", "25", { min: 1, max: 5000 }), int("limit", "Limit (all pages)", "", { min: 1 }),
      select("method", "Method", ["auto", "get", "search"]), bool("retired", "Retired records"), bool("includeArchivedProjects", "Include archived projects")],
    args: (v) => [v.entityType, v.filters, opts({ fields: v.fields, sort: v.sort, limit: v.limit, pageSize: v.pageSize, method: v.method === "auto" ? undefined : v.method, retired: v.retired, includeArchivedProjects: v.includeArchivedProjects })] },
  { id: "findOne", optsAt: 2, group: "Records", label: "findOne: first match", call: "findOne", view: "record",
    params: [type(), { name: "filters", kind: "filters" }, fields(), { name: "sort", kind: "sort" }],
    args: (v) => [v.entityType, v.filters, opts({ fields: v.fields, sort: v.sort })] },
  { id: "read", optsAt: 2, group: "Records", label: "read: one record by id", call: "read", view: "record",
    params: [type(), id(), fields()],
    args: (v) => [v.entityType, need(v.id, "id"), opts({ fields: v.fields })] },
  { id: "textSearch", group: "Records", label: "textSearch: across types", call: "textSearch", view: "records",
    params: [text("text", "Text (3+ characters)", "Ali"), json("entityTypes", "Entity types and their filters", { Asset: null, Shot: null }), int("limit", "Limit", "50")],
    args: (v) => [v.text, v.entityTypes, opts({ limit: v.limit })] },
  { id: "summarize", group: "Records", label: "summarize: totals and groups (chart)", call: "summarize", view: "summary",
    params: [type(), { name: "filters", kind: "filters" }, field("summaryField", "Summarize field", "id"),
      select("summaryType", "Summary type", ["count", "record_count", "sum", "maximum", "minimum", "average", "earliest", "latest", "percentage", "status_percentage", "status_list", "checked", "unchecked"]),
      field("groupField", "Group by field (optional)", "sg_status_list"),
      select("groupType", "Grouping type", ["exact", "firstletter", "entitytype", "tens", "hundreds", "thousands", "day", "week", "month", "quarter", "year"]),
      select("direction", "Group order", ["asc", "desc"])],
    args: (v) => [v.entityType, v.filters, [{ field: need(v.summaryField, "summaryField"), type: v.summaryType }],
      v.groupField ? { grouping: [{ field: v.groupField, type: v.groupType, direction: v.direction }] } : undefined] },
  { id: "relationship", group: "Records", label: "relationship: linked records", call: "relationship", view: "records",
    params: [type(), id(), field("field", "Entity or multi-entity field", "assets"), bool("retired", "Retired links")],
    args: (v) => [v.entityType, need(v.id, "id"), need(v.field, "field"), opts({ retired: v.retired })] },
  // Writes
  { id: "create", optsAt: 2, group: "Writes", label: "create a record", call: "create", view: "record", write: true,
    params: [type(), { name: "data", kind: "data" }, fields("fields", "Fields to return")],
    args: (v) => [v.entityType, v.data, opts({ fields: v.fields })] },
  { id: "update", optsAt: 3, group: "Writes", label: "update a record", call: "update", view: "record", write: true,
    params: [type(), id("id", "Id", ""), { name: "data", kind: "data", update: true }, fields("fields", "Fields to return")],
    args: (v) => [v.entityType, need(v.id, "id"), v.data, opts({ fields: v.fields })] },
  { id: "delete", optsAt: 2, group: "Writes", label: "delete (retire) a record", call: "delete", view: "json", write: true,
    params: [type(), id("id", "Id", "")], args: (v) => [v.entityType, need(v.id, "id")] },
  { id: "revive", optsAt: 2, group: "Writes", label: "revive a retired record", call: "revive", view: "json", write: true,
    params: [type(), id("id", "Id", "")], args: (v) => [v.entityType, need(v.id, "id")] },
  { id: "batch", optsAt: 1, group: "Writes", label: "batch: one transaction", call: "batch", view: "json", write: true,
    params: [json("requests", "Requests", [{ request_type: "create", entity: "Shot", data: { code: "BATCH_010", project: { type: "Project", id: 1 } } }]), bool("split", "Split beyond the batch limit (not atomic)")],
    args: (v) => [v.requests, opts({ split: v.split })] },
  // Schema
  { id: "schema.entities", group: "Schema", label: "schema.entities", call: "schema.entities", view: "json", params: [], args: () => [] },
  { id: "schema.entity", group: "Schema", label: "schema.entity", call: "schema.entity", view: "json", params: [type()], args: (v) => [v.entityType] },
  { id: "schema.fields", group: "Schema", label: "schema.fields", call: "schema.fields", view: "json", params: [type()], args: (v) => [v.entityType] },
  { id: "schema.field", group: "Schema", label: "schema.field", call: "schema.field", view: "json", params: [type(), field("fieldName", "Field", "code")], args: (v) => [v.entityType, need(v.fieldName, "fieldName")] },
  { id: "schema.createField", group: "Schema", label: "schema.createField", call: "schema.createField", view: "json", write: true,
    params: [type(), select("dataType", "Data type", ["text", "number", "float", "checkbox", "date", "date_time", "list", "status_list", "entity", "multi_entity", "url", "currency", "percent", "duration", "timecode", "footage", "uuid", "calculated"]), json("properties", "Properties", { name: "My Field" })],
    args: (v) => [v.entityType, v.dataType, v.properties] },
  { id: "schema.updateField", group: "Schema", label: "schema.updateField", call: "schema.updateField", view: "json", write: true,
    params: [type(), field("fieldName", "Field", ""), json("properties", "Properties", { description: "…" })], args: (v) => [v.entityType, need(v.fieldName, "fieldName"), v.properties] },
  { id: "schema.deleteField", group: "Schema", label: "schema.deleteField", call: "schema.deleteField", view: "json", write: true,
    params: [type(), field("fieldName", "Field", "")], args: (v) => [v.entityType, need(v.fieldName, "fieldName")] },
  { id: "schema.reviveField", group: "Schema", label: "schema.reviveField", call: "schema.reviveField", view: "json", write: true,
    params: [type(), field("fieldName", "Field", "")], args: (v) => [v.entityType, need(v.fieldName, "fieldName")] },
  // Site
  { id: "info", optsAt: 0, group: "Site", label: "info: server info", call: "info", view: "json", params: [], args: () => [] },
  { id: "preferences", group: "Site", label: "preferences", call: "preferences", view: "json",
    params: [text("names", "Names (comma-separated, empty = all)", "format_date_fields", { optional: true })],
    args: (v) => [v.names ? v.names.split(",").map((s) => s.trim()).filter(Boolean) : undefined] },
  { id: "hierarchy.expand", group: "Site", label: "hierarchy.expand", call: "hierarchy.expand", view: "json", params: [json("body", "Body", { path: "/Project/1" })], args: (v) => [v.body] },
  { id: "hierarchy.search", group: "Site", label: "hierarchy.search", call: "hierarchy.search", view: "json", params: [json("body", "Body", { root_path: "/Project/1", search_criteria: { search_string: "Ali" } })], args: (v) => [v.body] },
  // People
  { id: "follow", group: "People", label: "follow", call: "follow", view: "json", write: true, params: [int("userId", "User id", "1"), text("entity", "Entity (Type:id)", "Shot:1", { parse: "link" })], args: (v) => [need(v.userId, "userId"), v.entity] },
  { id: "unfollow", group: "People", label: "unfollow", call: "unfollow", view: "json", write: true, params: [int("userId", "User id", "1"), text("entity", "Entity (Type:id)", "Shot:1", { parse: "link" })], args: (v) => [need(v.userId, "userId"), v.entity] },
  { id: "followers", group: "People", label: "followers", call: "followers", view: "records", params: [type(), id()], args: (v) => [v.entityType, need(v.id, "id")] },
  { id: "following", group: "People", label: "following", call: "following", view: "records", params: [int("userId", "User id", "1"), text("entityType", "Only entity type (optional)", "", { optional: true }), int("projectId", "Only project id")],
    args: (v) => [need(v.userId, "userId"), opts({ entityType: v.entityType, projectId: v.projectId })] },
  { id: "activityStream", group: "People", label: "activityStream", call: "activityStream", view: "json", params: [type(), id(), int("limit", "Limit", "25")], args: (v) => [v.entityType, need(v.id, "id"), opts({ limit: v.limit })] },
  { id: "noteThread", group: "People", label: "noteThread", call: "noteThread", view: "records", params: [int("noteId", "Note id", "1")], args: (v) => [need(v.noteId, "noteId")] },
  { id: "updateProjectLastAccessed", group: "People", label: "updateProjectLastAccessed", call: "updateProjectLastAccessed", view: "json", write: true, params: [int("projectId", "Project id", "1"), int("userId", "User id", "1")], args: (v) => [need(v.projectId, "projectId"), need(v.userId, "userId")] },
  // Files
  { id: "fileInfo", group: "Files", label: "fileInfo: a file field", call: "fileInfo", view: "json", params: [type("entityType", "Entity type"), id(), field("field", "File field", "this_file")], args: (v) => [v.entityType, need(v.id, "id"), need(v.field, "field")] },
  { id: "download", group: "Files", label: "download a file", call: "download", view: "download", params: [type(), id(), field("field", "File field", "this_file"), select("alt", "Which", ["original", "thumbnail"])],
    args: (v) => [v.entityType, need(v.id, "id"), need(v.field, "field"), opts({ alt: v.alt === "original" ? undefined : v.alt, as: "blob" })] },
  // Webhooks
  { id: "webhooks.list", group: "Webhooks", label: "webhooks.list", call: "webhooks.list", view: "records", params: [select("status", "Status", ["", "active", "unstable", "failed", "disabled", "stable"], "")], args: (v) => [opts({ status: v.status })] },
  { id: "webhooks.get", group: "Webhooks", label: "webhooks.get", call: "webhooks.get", view: "json", params: [text("hookId", "Hook id", "")], args: (v) => [need(v.hookId, "hookId")] },
  { id: "webhooks.create", group: "Webhooks", label: "webhooks.create", call: "webhooks.create", view: "json", write: true,
    params: [json("hook", "Hook", { name: "My hook", url: "http://127.0.0.1:9/hook", entity_types: { Shot: { create: [], update: ["sg_status_list"] } } }), secret("token", "Signing token (secret)")],
    args: (v) => [{ ...v.hook, ...(v.token ? { token: v.token } : {}) }] },
  { id: "webhooks.update", group: "Webhooks", label: "webhooks.update", call: "webhooks.update", view: "json", write: true, params: [text("hookId", "Hook id", ""), json("changes", "Changes", { status: "disabled" })], args: (v) => [need(v.hookId, "hookId"), v.changes] },
  { id: "webhooks.delete", group: "Webhooks", label: "webhooks.delete", call: "webhooks.delete", view: "json", write: true, params: [text("hookId", "Hook id", "")], args: (v) => [need(v.hookId, "hookId")] },
  { id: "webhooks.deliveries", group: "Webhooks", label: "webhooks.deliveries", call: "webhooks.deliveries", view: "records", params: [text("hookId", "Hook id", ""), select("status", "Status", ["", "delivered", "failed"], "")], args: (v) => [need(v.hookId, "hookId"), opts({ status: v.status })] },
  { id: "webhooks.delivery", group: "Webhooks", label: "webhooks.delivery", call: "webhooks.delivery", view: "json", params: [text("deliveryId", "Delivery id", "")], args: (v) => [need(v.deliveryId, "deliveryId")] },
  { id: "webhooks.acknowledge", group: "Webhooks", label: "webhooks.acknowledge", call: "webhooks.acknowledge", view: "json", write: true, params: [text("deliveryId", "Delivery id", ""), text("ack", "Acknowledgement", "seen")], args: (v) => [need(v.deliveryId, "deliveryId"), v.ack] },
  { id: "webhooks.redeliver", group: "Webhooks", label: "webhooks.redeliver", call: "webhooks.redeliver", view: "json", write: true, params: [text("deliveryId", "Delivery id", "")], args: (v) => [need(v.deliveryId, "deliveryId")] },
  // Events
  { id: "events.follow", group: "Events", label: "events.follow: the event log (until caught up)", call: "events.follow", view: "records",
    params: [int("afterId", "After event id", "0"), text("entityTypes", "Entity types (comma-separated)", "", { optional: true }), int("max", "At most", "100")],
    args: (v) => [opts({ afterId: v.afterId ?? 0, entityTypes: v.entityTypes ? v.entityTypes.split(",").map((s) => s.trim()).filter(Boolean) : undefined, untilCaughtUp: true })],
    async run(sg, args, v) {
      const out = [];
      const follow = sg.events.follow(args[0]);
      try {
        for await (const e of follow) { out.push(e); if (out.length >= (v.max ?? 100)) break; }
      } finally { follow.close(); }
      return out;
    } },
];

/** The op by id. */
export const opById = (id) => OPS.find((o) => o.id === id);

/** The function at a dotted method path on the client, bound. */
export function method(sg, path) {
  const parts = path.split(".");
  let target = sg;
  for (const p of parts.slice(0, -1)) target = target[p];
  const fn = target?.[parts[parts.length - 1]];
  if (typeof fn !== "function") throw new Error(`the client has no ${path}()`);
  return fn.bind(target);
}
