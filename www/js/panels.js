// The Schema browser, the Upload panel, the Webhook inspector and the History.
import { h, $, replace, labelled, copyText, announce } from "./dom.js";
import * as schema from "./schema.js";
import { typePicker, fieldInput } from "./widgets.js";
import { recordsTable, rawJson, errorBox, statusLine } from "./response.js";
import { state, run, history, onHistory, hasRedacted, curlOf, jsOf, clearHistory } from "./runner.js";
import * as request from "./request.js";
import { InputError } from "./model.js";

/* ---------------------------------------------------------------- schema browser */

/** The schema browser: entity types (searchable), their fields (searchable), a field's schema. */
export function mountSchema(root) {
  const typeSearch = h("input", { type: "search", id: "schema-type-search", placeholder: "filter types…" });
  const typeList = h("ul", { class: "type-list", id: "schema-types", "aria-label": "Entity types" });
  const fieldSearch = h("input", { type: "search", id: "schema-field-search", placeholder: "filter fields…" });
  const fieldsBox = h("div", { id: "schema-fields", class: "schema-fields" }, h("p", { class: "muted" }, "Choose an entity type."));
  const detail = h("div", { id: "schema-detail" });
  let types = [];
  let fields = new Map();
  let currentType = null;

  replace(root, h("h2", {}, "Schema"), h("div", { class: "schema-grid" },
    h("div", { class: "pane" }, labelled("Entity types", typeSearch), typeList),
    h("div", { class: "pane" }, labelled("Fields", fieldSearch), fieldsBox, detail)));

  const drawTypes = () => {
    const q = typeSearch.value.trim().toLowerCase();
    replace(typeList, types.filter((t) => !q || t.type.toLowerCase().includes(q) || t.label.toLowerCase().includes(q)).map((t) =>
      h("li", {}, h("button", { type: "button", class: `type-button${t.type === currentType ? " current" : ""}`, "aria-pressed": String(t.type === currentType), onclick: () => openType(t.type) },
        t.type, t.label !== t.type ? h("span", { class: "muted" }, ` ${t.label}`) : null))));
  };
  const drawFields = () => {
    const q = fieldSearch.value.trim().toLowerCase();
    const list = [...fields.values()].filter((f) => !q || f.name.includes(q) || f.label.toLowerCase().includes(q) || f.dataType.includes(q));
    replace(fieldsBox,
      h("div", { class: "row" }, h("strong", {}, currentType), h("span", { class: "muted" }, `${list.length} of ${fields.size} fields`),
        h("button", { type: "button", onclick: () => { request.select("find", { entityType: currentType }); showPanel("request"); } }, `Search ${currentType} records…`)),
      h("div", { class: "table-wrap" }, h("table", { class: "records" },
        h("thead", {}, h("tr", {}, ["field", "name", "data type", "editable", "valid values / types"].map((c) => h("th", { scope: "col" }, c)))),
        h("tbody", {}, list.map((f) => h("tr", {},
          h("td", {}, h("button", { type: "button", class: "entity-link", onclick: () => replace(detail, h("h3", {}, `${currentType}.${f.name}`), rawJson(f.schema, true, "Field schema")) }, f.name)),
          h("td", {}, f.label), h("td", {}, h("code", {}, f.dataType)), h("td", {}, f.editable ? "yes" : "no"),
          h("td", { class: "small" }, [...f.validValues, ...f.validTypes].join(", "))))))));
  };
  async function openType(type) {
    currentType = type;
    drawTypes();
    replace(detail);
    replace(fieldsBox, h("p", { class: "muted" }, "Loading…"));
    const outcome = await run({ opId: "schema.fields", label: "schema.fields", method: "schema.fields", args: [type], exec: () => schema.fieldsOf(type) });
    if (!outcome.ok) return replace(fieldsBox, errorBox(outcome.error));
    fields = outcome.result;
    drawFields();
  }
  typeSearch.addEventListener("input", drawTypes);
  fieldSearch.addEventListener("input", drawFields);
  root.load = async () => {
    if (!state.sg) return replace(typeList, h("li", { class: "muted" }, "Connect first."));
    try { types = await schema.entityTypes(); } catch (err) { return replace(typeList, h("li", {}, errorBox(err))); }
    drawTypes();
  };
  return root;
}

let showPanel = () => {};
/** Wires the panel switcher used by the panels. */
export function setShowPanel(fn) { showPanel = fn; }

/* ---------------------------------------------------------------- upload */

/** The upload panel: a file to a record, a file field or the thumbnail, with progress and cancel. */
export function mountUpload(root) {
  const type = typePicker({ value: "Shot" });
  type.id = "upload-type";
  const id = h("input", { type: "number", id: "upload-id", min: "1", step: "1", value: "1", class: "num" });
  const field = fieldInput({ getType: () => type.value, label: "Field", placeholder: "e.g. sg_uploaded_movie" });
  field.input.id = "upload-field";
  field.input.setAttribute("aria-describedby", "upload-field-hint");
  type.addEventListener("change", () => field.refresh());
  const file = h("input", { type: "file", id: "upload-file" });
  const display = h("input", { type: "text", id: "upload-display" });
  const threshold = h("input", { type: "number", id: "upload-threshold", min: "0", placeholder: "default 500 MB", class: "num" });
  const partSize = h("input", { type: "number", id: "upload-part", min: "0", placeholder: "default 8 MiB", class: "num" });
  const minPart = h("input", { type: "number", id: "upload-minpart", min: "0", placeholder: "default 5 MiB", class: "num" });
  const concurrency = h("input", { type: "number", id: "upload-concurrency", min: "1", max: "16", placeholder: "4", class: "num" });
  const bar = h("progress", { id: "upload-progress", max: "100", value: "0", "aria-label": "Upload progress" });
  const pct = h("output", { id: "upload-percent", for: "upload-progress" }, "0 %");
  const start = h("button", { type: "submit", class: "primary", id: "upload-start" }, "Upload");
  const cancel = h("button", { type: "button", id: "upload-cancel", disabled: true }, "Cancel");
  const out = h("div", { id: "upload-result", "aria-live": "polite" });
  const form = h("form", { id: "upload-form", novalidate: true },
    h("div", { class: "grid2" }, labelled("Entity type", type), labelled("Id", id),
      h("div", { class: "field" }, h("label", { for: "upload-field" }, "Field (optional)"), field,
        h("small", { class: "hint", id: "upload-field-hint" }, "Empty: attach to the record. image: the thumbnail.")), labelled("Display name (optional)", display)),
    labelled("File", file),
    h("details", {}, h("summary", {}, "Multipart options"), h("div", { class: "grid2" },
      labelled("Multipart from (bytes)", threshold), labelled("Part size (bytes)", partSize), labelled("Smallest part the storage takes (bytes)", minPart), labelled("Parts in flight", concurrency))),
    h("div", { class: "row" }, start, cancel, bar, pct));
  replace(root, h("h2", {}, "Upload"), form, out);

  let controller = null;
  const num = (el) => (el.value.trim() === "" ? undefined : Number(el.value));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!state.sg) return replace(out, errorBox(new InputError("Not connected: connect to a site first.", "connection")));
    const blob = file.files?.[0];
    if (!blob) return replace(out, errorBox(new InputError("Choose a file to upload.", "file")));
    controller = new AbortController();
    const options = {
      field: field.input.value.trim() || undefined, displayName: display.value.trim() || undefined,
      multipartThreshold: num(threshold), partSize: num(partSize), minPartSize: num(minPart), concurrency: num(concurrency),
    };
    for (const k of Object.keys(options)) if (options[k] === undefined) delete options[k];
    const setProgress = (sent, total) => {
      const p = total > 0 ? Math.min(100, Math.round((sent / total) * 100)) : 0;
      bar.value = p;
      pct.textContent = `${p} % (${sent.toLocaleString()} / ${total.toLocaleString()} bytes)`;
    };
    setProgress(0, blob.size);
    start.disabled = true;
    cancel.disabled = false;
    cancel.onclick = () => controller?.abort();
    replace(out, h("p", { class: "muted" }, `Uploading ${blob.name}…`));
    const args = [type.value, Number(id.value), blob, options];
    const outcome = await run({ opId: "upload", label: "upload", method: "upload", args,
      exec: () => state.sg.upload(type.value, Number(id.value), blob, { ...options, signal: controller.signal, onProgress: ({ sent, total }) => setProgress(sent, total) }) });
    start.disabled = false;
    cancel.disabled = true;
    controller = null;
    if (!outcome.ok) {
      replace(out, statusLine(outcome), errorBox(outcome.error));
      announce(`Upload failed: ${outcome.error?.title ?? outcome.error}`);
      return;
    }
    setProgress(outcome.result?.size ?? blob.size, outcome.result?.size ?? blob.size);
    replace(out, statusLine(outcome), h("p", { class: "done" }, `Uploaded ${blob.name}: ${outcome.result.size.toLocaleString()} bytes as ${outcome.result.uploadType} to ${outcome.result.storage} storage${outcome.result.multipart ? ` in ${outcome.result.parts} parts` : ""}.`), rawJson(outcome.result));
    announce("Upload complete");
  });
  root.preset = (p) => {
    if (p?.entityType) { type.dataset.value = p.entityType; type.value = p.entityType; if (type.value !== p.entityType) type.prepend(h("option", { value: p.entityType, selected: true }, p.entityType)); field.refresh(); }
    if (p?.id) id.value = p.id;
  };
  return root;
}

/* ---------------------------------------------------------------- webhooks */

/** The webhook inspector: hooks, their deliveries and a delivery's request and response. */
export function mountWebhooks(root) {
  const status = h("select", { id: "hook-status" }, ["", "active", "unstable", "failed", "disabled", "stable"].map((s) => h("option", { value: s }, s || "(any)")));
  const hooksBox = h("div", { id: "hooks" });
  const deliveriesBox = h("div", { id: "deliveries" });
  const detail = h("div", { id: "delivery-detail" });
  const msg = h("div", { id: "hooks-message", "aria-live": "polite" });
  const name = h("input", { type: "text", id: "hook-name", value: "Explorer hook" });
  const url = h("input", { type: "url", id: "hook-url", value: "http://127.0.0.1:9/hook" });
  const token = h("input", { type: "password", id: "hook-token", autocomplete: "off" });
  const etype = typePicker({ value: "Shot", label: "Hook entity type" });
  etype.id = "hook-type";
  const ops = ["create", "update", "delete", "revive"].map((o) => h("input", { type: "checkbox", id: `hook-op-${o}`, checked: o !== "revive", value: o }));
  const createForm = h("form", { id: "hook-create", novalidate: true },
    h("div", { class: "grid2" }, labelled("Name", name), labelled("URL", url), labelled("Signing token (optional, secret)", token), labelled("Entity type", etype)),
    h("fieldset", { class: "row" }, h("legend", {}, "Operations"), ops.map((c) => h("span", { class: "check" }, c, h("label", { for: c.id }, c.value)))),
    h("button", { type: "submit", class: "primary" }, "Create hook"));
  replace(root, h("h2", {}, "Webhooks"),
    h("div", { class: "row" }, labelled("Status", status), h("button", { type: "button", id: "hooks-refresh", onclick: () => load() }, "Refresh")),
    h("details", { class: "create-hook" }, h("summary", {}, "New hook"), createForm),
    msg, hooksBox, deliveriesBox, detail);

  const call = async (label, method, args, exec) => {
    const outcome = await run({ opId: method, label, method, args, exec });
    if (!outcome.ok) replace(msg, statusLine(outcome), errorBox(outcome.error));
    else replace(msg);
    return outcome;
  };

  async function load() {
    if (!state.sg) return replace(hooksBox, h("p", { class: "muted" }, "Connect first."));
    const o = await call("webhooks.list", "webhooks.list", [status.value ? { status: status.value } : undefined], () => state.sg.webhooks.list(status.value ? { status: status.value } : undefined));
    if (!o.ok) return;
    const hooks = o.result ?? [];
    replace(hooksBox, h("h3", {}, `Hooks (${hooks.length})`), hooks.length ? h("div", { class: "table-wrap" }, h("table", { class: "records" },
      h("thead", {}, h("tr", {}, ["name", "url", "status", "entity types", "deliveries", ""].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, hooks.map((hk) => h("tr", {},
        h("td", {}, hk.name), h("td", { class: "small" }, hk.url), h("td", {}, h("span", { class: `badge hook-${hk.status}` }, hk.status)),
        h("td", { class: "small" }, Object.entries(hk.entity_types ?? {}).map(([t, o]) => `${t}: ${Object.keys(o).join("/")}`).join("; ")),
        h("td", {}, String(hk.num_deliveries ?? "")),
        h("td", { class: "row" },
          h("button", { type: "button", onclick: () => deliveries(hk) }, "Deliveries"),
          h("button", { type: "button", onclick: async () => { const s = hk.status === "disabled" ? "active" : "disabled"; const r = await call("webhooks.update", "webhooks.update", [hk.id, { status: s }], () => state.sg.webhooks.update(hk.id, { status: s })); if (r.ok) load(); } }, hk.status === "disabled" ? "Enable" : "Disable"),
          h("button", { type: "button", class: "danger", onclick: async () => { const r = await call("webhooks.delete", "webhooks.delete", [hk.id], () => state.sg.webhooks.delete(hk.id)); if (r.ok) { replace(deliveriesBox); replace(detail); load(); } } }, "Delete"))))))) : h("p", { class: "muted" }, "No hooks."));
  }

  async function deliveries(hk) {
    const o = await call("webhooks.deliveries", "webhooks.deliveries", [hk.id], () => state.sg.webhooks.deliveries(hk.id));
    if (!o.ok) return;
    const list = o.result ?? [];
    replace(detail);
    replace(deliveriesBox, h("h3", {}, `Deliveries of “${hk.name}” (${list.length})`), list.length ? h("div", { class: "table-wrap" }, h("table", { class: "records" },
      h("thead", {}, h("tr", {}, ["id", "time", "status", "response", "acknowledgement", ""].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, list.map((d) => h("tr", {},
        h("td", { class: "small" }, d.id), h("td", {}, d.event_time ? new Date(d.event_time * (d.event_time < 1e12 ? 1000 : 1)).toLocaleString() : ""),
        h("td", {}, h("span", { class: `badge delivery-${d.status}` }, d.status)), h("td", {}, String(d.response_code ?? "")),
        h("td", { class: "small" }, d.acknowledgement ?? ""),
        h("td", { class: "row" },
          h("button", { type: "button", onclick: () => inspect(d.id) }, "Inspect"),
          h("button", { type: "button", onclick: async () => { const r = await call("webhooks.redeliver", "webhooks.redeliver", [d.id], () => state.sg.webhooks.redeliver(d.id)); if (r.ok) replace(msg, h("p", { class: "done" }, "Redelivery requested.")); } }, "Redeliver"))))))) : h("p", { class: "muted" }, "No deliveries yet: change a record of a watched type."));
  }

  async function inspect(deliveryId) {
    const o = await call("webhooks.delivery", "webhooks.delivery", [deliveryId], () => state.sg.webhooks.delivery(deliveryId));
    if (!o.ok) return;
    const d = o.result;
    const ack = h("input", { type: "text", id: "ack-text", value: d.acknowledgement ?? "" });
    replace(detail, h("h3", {}, `Delivery ${d.id}`),
      h("form", { class: "row", onsubmit: async (e) => { e.preventDefault(); const r = await call("webhooks.acknowledge", "webhooks.acknowledge", [d.id, ack.value], () => state.sg.webhooks.acknowledge(d.id, ack.value)); if (r.ok) replace(msg, h("p", { class: "done" }, "Acknowledged.")); } },
        labelled("Acknowledgement", ack), h("button", { type: "submit" }, "Save")),
      rawJson(d.request_body, true, "Request body"), rawJson(d.request_headers ?? {}, false, "Request headers"),
      rawJson({ response_code: d.response_code, body: d.body, headers: d.response_headers }, false, "Response"), rawJson(d, false, "Everything"));
  }

  createForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    const operations = Object.fromEntries(ops.filter((c) => c.checked).map((c) => [c.value, []]));
    const hook = { name: name.value.trim(), url: url.value.trim(), entity_types: { [etype.value]: operations }, ...(token.value ? { token: token.value } : {}) };
    const r = await call("webhooks.create", "webhooks.create", [hook], () => state.sg.webhooks.create(hook));
    if (r.ok) { token.value = ""; replace(msg, h("p", { class: "done" }, `Created “${hook.name}”.`)); load(); }
  });
  root.load = load;
  return root;
}

/* ---------------------------------------------------------------- history */

/** `sg.method(args…)` of an entry, shortened. */
function callText(e) {
  const args = e.args.slice();
  while (args.length && args[args.length - 1] === undefined) args.pop();
  const text = args.map((a) => (a === undefined ? "undefined" : JSON.stringify(a))).join(", ");
  return `sg.${e.method}(${text.length > 240 ? `${text.slice(0, 239)}…` : text})`;
}

/** The history: every call (secrets redacted), re-run, copy as curl / JS. */
export function mountHistory(root) {
  const list = h("ol", { id: "history-list", class: "history", reversed: true });
  replace(root, h("h2", {}, "History"),
    h("p", { class: "muted" }, "Kept in this tab's memory only; secrets are redacted. Copies use $SG_TOKEN / process.env for credentials."),
    h("div", { class: "row" }, h("button", { type: "button", onclick: clearHistory }, "Clear history")), list);
  const draw = () => {
    replace(list, [...history].reverse().map((e) => {
      const out = h("pre", { class: "snippet", hidden: true, tabindex: "0" });
      const copy = async (kind) => {
        const text = kind === "curl" ? curlOf(e) : jsOf(e);
        out.hidden = false;
        out.textContent = text;
        out.dataset.kind = kind;
        const ok = await copyText(text);
        announce(ok ? `Copied as ${kind}` : `Shown as ${kind}: select and copy it`);
      };
      return h("li", { class: `history-entry ${e.ok ? "ok" : "failed"}`, dataset: { n: e.n } },
        h("div", { class: "row" },
          h("span", { class: `badge ${e.ok ? "ok" : "failed"}` }, e.ok ? "OK" : e.errorKind),
          h("strong", {}, e.label), e.status ? h("span", {}, `HTTP ${e.status}`) : null,
          h("span", { class: "muted" }, `${e.ms.toFixed(0)} ms · ${e.at.toLocaleTimeString()}`),
          e.requestIds.length ? h("code", { class: "small" }, e.requestIds[e.requestIds.length - 1]) : null),
        h("code", { class: "call" }, callText(e)),
        h("div", { class: "row" },
          h("button", { type: "button", class: "rerun", disabled: hasRedacted(e) || !e.method || e.method === "connect", title: hasRedacted(e) ? "It held a secret or a file: redo it from its panel" : null, onclick: () => request.rerun(e) }, "Re-run"),
          e.values ? h("button", { type: "button", class: "edit", onclick: () => request.edit(e) }, "Edit") : null,
          h("button", { type: "button", class: "copy-curl", onclick: () => copy("curl") }, "Copy as curl"),
          h("button", { type: "button", class: "copy-js", onclick: () => copy("js") }, "Copy as JS")),
        out);
    }));
  };
  onHistory(draw);
  draw();
  return root;
}
