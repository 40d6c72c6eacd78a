// The Requests panel: pick a capability, fill the form generated for it from the
// schema, send (button or Ctrl+Enter), and read the response beside it.
import { h, $, replace, labelled, announce } from "./dom.js";
import { OPS, opById, method } from "./catalog.js";
import { InputError, parseLink, formatValue } from "./model.js";
import { typePicker, fieldsPicker, fieldInput, filterBuilder, sortBuilder, dataEditor } from "./widgets.js";
import { recordsTable, recordView, summaryChart, rawJson, errorBox, statusLine } from "./response.js";
import { state, run } from "./runner.js";

/** Values shared between forms (the entity type and id follow you from op to op). */
const shared = { entityType: "Shot", id: "1" };
let current = null; // { op, controls: Map(name → control) }
let paging = null; // { cursor, pages, index, done, opts }

let els;

/** Builds the panel inside `root`. */
export function mount(root, { showPanel }) {
  const opSelect = h("select", { id: "op", "aria-describedby": "op-hint" });
  const groups = new Map();
  for (const op of OPS) {
    if (!groups.has(op.group)) groups.set(op.group, h("optgroup", { label: op.group }));
    groups.get(op.group).append(h("option", { value: op.id }, op.label));
  }
  opSelect.append(...groups.values());
  const form = h("form", { id: "request-form", class: "request-form", novalidate: true });
  const params = h("div", { class: "params" });
  const sendBtn = h("button", { type: "submit", class: "primary", id: "send" }, "Send");
  const cancelBtn = h("button", { type: "button", id: "cancel-request", disabled: true }, "Cancel");
  form.append(
    h("div", { class: "field" }, h("label", { for: "op" }, "Capability"), opSelect, h("small", { id: "op-hint", class: "hint" }, "Every call of the client. Ctrl+Enter sends from anywhere in the form.")),
    params,
    h("div", { class: "row actions" }, sendBtn, cancelBtn, h("span", { class: "muted", id: "write-note" })));
  const response = h("section", { id: "response", class: "response", "aria-label": "Response", tabindex: "-1" },
    h("p", { class: "muted" }, "The response appears here."));
  replace(root, h("div", { class: "split" }, h("div", { class: "pane" }, h("h2", {}, "Request"), form), h("div", { class: "pane" }, h("h2", {}, "Response"), response)));
  els = { opSelect, form, params, response, sendBtn, cancelBtn, showPanel };

  opSelect.addEventListener("change", () => select(opSelect.value));
  form.addEventListener("submit", (e) => { e.preventDefault(); send(); });
  form.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); send(); }
  });
  select("find");
}

/** Called after connecting: the schema is new. */
export function refreshSchema() {
  if (current) select(current.op.id, snapshot());
}

function snapshot() {
  const out = {};
  for (const [name, c] of current?.controls ?? []) if (c.tagName === "SELECT" || c.tagName === "INPUT") out[name] = c.type === "checkbox" ? c.checked : c.value;
  return out;
}

/** Shows op `id`'s form, prefilled with `preset` ({ entityType, id, data: [{field, value}], fields }). */
export function select(id, preset = {}) {
  const op = opById(id) ?? OPS[0];
  els.opSelect.value = op.id;
  const controls = new Map();
  const getType = () => controls.get("entityType")?.value ?? shared.entityType;
  const widgets = [];
  const nodes = op.params.map((p) => {
    const label = p.label ?? p.name;
    const init = preset[p.name] ?? (p.name === "entityType" ? shared.entityType : p.name === "id" && p.def !== "" ? shared.id : p.def);
    let control, node;
    switch (p.kind) {
      case "type":
        control = typePicker({ value: init ?? shared.entityType, label, onchange: (t) => { shared.entityType = t; widgets.forEach((w) => w.refresh()); } });
        control.id = `p-${p.name}`;
        node = labelled(label, control);
        break;
      case "int":
        control = h("input", { type: "number", step: "1", min: p.min ?? null, max: p.max ?? null, value: init == null ? "" : String(init), id: `p-${p.name}`, class: "num" });
        if (p.name === "id") control.addEventListener("change", () => { shared.id = control.value; });
        node = labelled(label, control);
        break;
      case "text": case "secret":
        control = h("input", { type: p.kind === "secret" ? "password" : "text", value: p.kind === "secret" ? "" : formatValue(init), id: `p-${p.name}`, autocomplete: "off", spellcheck: "false" });
        node = labelled(label, control, p.kind === "secret" ? "Sent to the site only; redacted in the history." : null);
        break;
      case "bool":
        control = h("input", { type: "checkbox", checked: Boolean(init), id: `p-${p.name}` });
        node = h("div", { class: "field check" }, control, h("label", { for: control.id }, label));
        break;
      case "select":
        control = h("select", { id: `p-${p.name}` }, p.options.map((o) => h("option", { value: o, selected: o === init }, o === "" ? "(any)" : o)));
        node = labelled(label, control);
        break;
      case "json":
        control = h("textarea", { id: `p-${p.name}`, rows: Math.min(10, JSON.stringify(init, null, 2).split("\n").length + 1), spellcheck: "false", class: "code" }, JSON.stringify(init, null, 2));
        node = labelled(`${label} (JSON)`, control);
        break;
      case "field": {
        const pick = fieldInput({ getType, label, value: init ?? "" });
        pick.input.id = `p-${p.name}`;
        control = pick.input;
        widgets.push(pick);
        node = h("div", { class: "field" }, h("label", { for: pick.input.id }, label), pick);
        break;
      }
      case "fields":
        control = fieldsPicker({ getType, value: init ?? [], label });
        widgets.push(control);
        node = h("fieldset", { class: "field sub" }, h("legend", {}, label), control);
        break;
      case "filters":
        control = filterBuilder({ getType });
        if (preset.filters) control.setFilters(preset.filters);
        widgets.push(control);
        node = control;
        break;
      case "sort":
        control = sortBuilder({ getType });
        for (const key of preset.sort ?? []) control.add(key.replace(/^-/, ""), key.startsWith("-") ? "desc" : "asc");
        widgets.push(control);
        node = h("fieldset", { class: "field sub" }, h("legend", {}, "Sort"), control);
        break;
      case "data":
        control = dataEditor({ getType, update: Boolean(p.update) });
        {
          const rows = Array.isArray(preset.data) ? preset.data : Object.entries(preset.data ?? {}).map(([field, value]) => ({ field, value: formatValue(value) }));
          for (const d of rows) control.add(d);
          if (!rows.length) control.add();
        }
        node = h("fieldset", { class: "field sub" }, h("legend", {}, p.update ? "Changes" : "Field values"), control);
        break;
      default:
        throw new Error(`unknown param kind ${p.kind}`);
    }
    controls.set(p.name, control);
    return node;
  });
  if (!op.params.length) nodes.push(h("p", { class: "muted" }, "No parameters."));
  replace(els.params, nodes);
  $("#write-note").textContent = op.write ? "This call writes to the site (never retried)." : "";
  current = { op, controls };
}

function valuesOf(op, controls) {
  const v = {};
  for (const p of op.params) {
    const c = controls.get(p.name);
    switch (p.kind) {
      case "type": case "select": v[p.name] = c.value; break;
      case "int": {
        const s = c.value.trim();
        if (s === "") { v[p.name] = undefined; break; }
        if (!/^-?\d+$/.test(s)) throw new InputError(`${p.name}: "${s}" is not a whole number`, p.name);
        v[p.name] = Number(s);
        break;
      }
      case "text": case "secret": case "field":
        v[p.name] = c.value.trim() === "" ? undefined : p.parse === "link" ? parseLink(c.value, p.name) : c.value.trim();
        break;
      case "bool": v[p.name] = c.checked; break;
      case "json":
        try { v[p.name] = JSON.parse(c.value); } catch (e) { throw new InputError(`${p.name}: not valid JSON (${e.message})`, p.name); }
        break;
      case "fields": case "sort": v[p.name] = c.value(); break;
      case "filters": v[p.name] = c.filters(); break;
      case "data": v[p.name] = c.value(); break;
    }
  }
  return v;
}

let controller = null;

/** Sends the current form. */
export async function send() {
  if (!state.sg) {
    renderError(new InputError("Not connected: connect to a site first.", "connection"), []);
    return;
  }
  const { op, controls } = current;
  let values, args;
  try {
    values = valuesOf(op, controls);
    args = op.args(values);
  } catch (err) {
    // Refused by the explorer before the client saw it: shown like any other error.
    return finish(op, await run({ opId: op.id, label: op.label, method: op.call, args: [], exec: () => Promise.reject(err), record: false }), values);
  }
  if (values.entityType) shared.entityType = values.entityType;
  controller = new AbortController();
  els.cancelBtn.disabled = false;
  els.cancelBtn.onclick = () => controller?.abort();
  els.sendBtn.disabled = true;
  els.response.setAttribute("aria-busy", "true");
  announce(`Sending ${op.label}…`);
  const signal = controller.signal;
  const outcome = await run({
    opId: op.id, label: op.label, method: op.call, args, values,
    exec: () => execute(op, args, values, signal),
  });
  controller = null;
  els.cancelBtn.disabled = true;
  els.sendBtn.disabled = false;
  els.response.removeAttribute("aria-busy");
  finish(op, outcome, values);
}

/** Runs an op's call; paged finds go through a cursor. Cancel aborts the call itself
 * where its options take a signal, and stops waiting for it everywhere. */
function execute(op, args, values, signal) {
  const sg = state.sg;
  const callArgs = args.slice();
  if (op.optsAt != null) {
    while (callArgs.length < op.optsAt) callArgs.push(undefined);
    callArgs[op.optsAt] = { ...(callArgs[op.optsAt] ?? {}), signal };
  }
  if (op.paged) {
    paging?.cursor?.free?.();
    const [type, filters, options] = callArgs;
    const pageSize = options?.pageSize ?? 25;
    const cursor = sg.cursor(type, filters, { ...(options ?? {}), pageSize });
    paging = { cursor, pages: [], index: 0, done: false, pageSize };
    return withSignal(cursor.nextPage(), signal).then((first) => {
      paging.pages.push(first ?? []);
      paging.done = !first || first.length < pageSize;
      return first ?? [];
    });
  }
  if (op.run) return withSignal(op.run(sg, callArgs, values), signal);
  return withSignal(method(sg, op.call)(...callArgs), signal);
}

function withSignal(promise, signal) {
  if (!signal) return promise;
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(Object.assign(new Error("Cancelled by the user"), { kind: "aborted", title: "Cancelled by the user" }));
    if (signal.aborted) onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

function finish(op, outcome, values) {
  if (!outcome.ok) {
    renderError(outcome.error, outcome.exchanges, outcome.ms);
    announce(`Failed: ${outcome.error?.title ?? outcome.error?.message ?? outcome.error}`);
    return;
  }
  render(op, outcome.result, outcome, values);
  announce(`${op.label}: done in ${outcome.ms.toFixed(0)} ms`);
}

function renderError(err, exchanges, ms = 0) {
  replace(els.response, statusLine({ ok: false, ms, exchanges }), errorBox(err));
}

/** Opens a linked record (read with every field). */
export function openLink(link) {
  els.showPanel("request");
  select("read", { entityType: link.type, id: String(link.id), fields: ["*"] });
  shared.entityType = link.type;
  send().then(() => els.response.focus());
}

function recordActions(record) {
  if (!record?.type || !Number.isInteger(record.id)) return null;
  const preset = { entityType: record.type, id: String(record.id) };
  return h("div", { class: "row record-actions" },
    h("button", { type: "button", onclick: () => { select("update", preset); $("#p-id").focus(); } }, "Update…"),
    h("button", { type: "button", class: "danger", onclick: () => { select("delete", preset); els.sendBtn.focus(); } }, "Delete…"),
    h("button", { type: "button", onclick: () => els.showPanel("upload", preset) }, "Upload a file…"),
    h("button", { type: "button", onclick: () => { select("relationship", { ...preset, field: "" }); } }, "Relationships…"));
}

function render(op, result, outcome, values) {
  const parts = [statusLine(outcome)];
  switch (op.view) {
    case "records": {
      const list = Array.isArray(result) ? result : result == null ? [] : [result];
      if (op.paged) parts.push(pager());
      parts.push(recordsTable(list, openLink));
      break;
    }
    case "record":
      parts.push(recordView(result, openLink, recordActions(result)));
      break;
    case "summary":
      parts.push(summaryChart(result, values.summaryField));
      break;
    case "download":
      parts.push(downloadView(result, values));
      break;
    default:
      if (result === undefined) parts.push(h("p", { class: "done" }, "Done (no content)."));
  }
  parts.push(rawJson(result instanceof Blob ? { blob: { size: result.size, type: result.type } } : result ?? null, op.view === "json"));
  replace(els.response, ...parts);
}

function pager() {
  const p = paging;
  const page = p.pages[p.index] ?? [];
  const from = p.index * p.pageSize + 1;
  const prev = h("button", { type: "button", disabled: p.index === 0, id: "page-prev", onclick: () => { p.index--; redrawPage(); } }, "← Previous");
  const next = h("button", { type: "button", disabled: p.done && p.index === p.pages.length - 1, id: "page-next", onclick: nextPage }, "Next →");
  return h("nav", { class: "row pager", "aria-label": "Pages" }, prev,
    h("span", { class: "page-label", "aria-live": "polite" }, page.length ? `Page ${p.index + 1}: records ${from}–${from + page.length - 1}${p.done && p.index === p.pages.length - 1 ? " (last page)" : ""}` : "No records"),
    next);
}

async function nextPage() {
  const p = paging;
  if (p.index < p.pages.length - 1) { p.index++; return redrawPage(); }
  const outcome = await run({ opId: "find", label: "find: next page", method: "find", args: [], record: false, exec: () => p.cursor.nextPage() });
  if (!outcome.ok) return renderError(outcome.error, outcome.exchanges, outcome.ms);
  const page = outcome.result ?? [];
  if (page.length) { p.pages.push(page); p.index++; }
  p.done = page.length < p.pageSize;
  redrawPage(outcome);
}

function redrawPage(outcome) {
  const page = paging.pages[paging.index] ?? [];
  const op = opById("find");
  render(op, page, outcome ?? { ok: true, ms: 0, exchanges: [] }, {});
  $("#page-next")?.focus();
}

let lastDownloadUrl = null;

function downloadView(blob, values) {
  if (!(blob instanceof Blob)) return h("p", {}, "Nothing downloaded.");
  // One download is kept at a time: the previous one's memory is released.
  if (lastDownloadUrl) URL.revokeObjectURL(lastDownloadUrl);
  const url = (lastDownloadUrl = URL.createObjectURL(blob));
  const name = `${values.entityType}-${values.id}-${values.field}`;
  const box = h("div", { class: "download" }, h("p", {}, `${blob.size.toLocaleString()} bytes`, blob.type ? ` · ${blob.type}` : "", " ",
    h("a", { href: url, download: name }, "Save file")));
  if (blob.size <= 64 * 1024 && (!blob.type || /^text\/|json|xml/.test(blob.type))) blob.text().then((t) => box.append(h("pre", { class: "preview" }, t)));
  return box;
}

/** Opens a history entry's request in its form, to change and send again (secrets stay empty). */
export function edit(entry) {
  els.showPanel("request");
  select(entry.opId, entry.values ?? {});
  els.opSelect.focus();
}

/** Re-runs a history entry's call as it was (used by the History panel). */
export async function rerun(entry) {
  els.showPanel("request");
  const op = opById(entry.opId);
  select(entry.opId);
  const outcome = await run({ opId: entry.opId, label: `${entry.label} (re-run)`, method: entry.method, args: entry.args,
    exec: () => (op?.paged ? state.sg.find(...entry.args) : op?.run ? op.run(state.sg, entry.args, {}) : method(state.sg, entry.method)(...entry.args)) });
  if (!outcome.ok) return renderError(outcome.error, outcome.exchanges, outcome.ms);
  render(op?.paged ? { ...op, paged: false } : op, outcome.result, outcome, {});
}
