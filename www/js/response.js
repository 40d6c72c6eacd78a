// Rendering results: records tables with clickable links, a record's fields, raw JSON
// (collapsible), summaries as an SVG bar chart, downloads, and errors.
import { h, replace } from "./dom.js";
import { isLink, columnsOf, chartBars } from "./model.js";

/** Renders a value in a cell: links become buttons that open the record. */
export function cellValue(v, openLink) {
  if (v == null) return h("span", { class: "muted" }, "—");
  if (isLink(v)) return linkButton(v, openLink);
  if (Array.isArray(v)) {
    if (v.length && v.every(isLink)) return h("span", { class: "links" }, v.map((l) => linkButton(l, openLink)));
    return h("code", {}, JSON.stringify(v));
  }
  if (typeof v === "object") {
    if (typeof v.url === "string") return h("span", {}, v.name ?? v.url);
    return h("code", {}, JSON.stringify(v));
  }
  if (typeof v === "boolean") return v ? "✓ true" : "✗ false";
  return String(v);
}

function linkButton(l, openLink) {
  return h("button", { type: "button", class: "entity-link", "data-type": l.type, "data-id": l.id, title: `Open ${l.type} ${l.id}`, onclick: () => openLink(l) },
    `${l.type} #${l.id}${l.name ? ` · ${l.name}` : ""}`);
}

/** A table of records. */
export function recordsTable(records, openLink) {
  const rows = records.filter((r) => r && typeof r === "object");
  if (!rows.length) return h("p", { class: "muted empty" }, "No records.");
  const cols = columnsOf(rows);
  return h("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": "Records" },
    h("table", { class: "records" },
      h("thead", {}, h("tr", {}, cols.map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, rows.map((r) => h("tr", {}, cols.map((c) => h("td", {},
        c === "id" && r.type && Number.isInteger(r.id) ? linkButton({ type: r.type, id: r.id, name: null }, openLink) : cellValue(r[c], openLink))))))));
}

/** One record as field/value rows. */
export function recordView(record, openLink, actions) {
  if (record == null) return h("p", { class: "muted empty" }, "No record matched.");
  return h("div", { class: "record" },
    h("h3", {}, `${record.type ?? "Record"} #${record.id ?? "?"}`, record.name || record.code ? ` · ${record.name ?? record.code}` : ""),
    actions ?? null,
    h("div", { class: "table-wrap" }, h("table", { class: "kv" }, h("tbody", {},
      Object.entries(record).map(([k, v]) => h("tr", {}, h("th", { scope: "row" }, k), h("td", {}, cellValue(v, openLink))))))));
}

/** A bar chart of a summarize result's groups (hand-written SVG). */
export function summaryChart(result, field) {
  const bars = chartBars(result, field);
  if (!bars.length) return h("p", { class: "muted" }, `No groups: the total is ${JSON.stringify(result?.summaries?.[field] ?? null)}.`);
  const ns = "http://www.w3.org/2000/svg";
  const max = Math.max(...bars.map((b) => Math.abs(b.value)), 1);
  const rowH = 22, labelW = 150, barW = 280, width = labelW + barW + 60;
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${bars.length * rowH + 8}`);
  svg.setAttribute("class", "chart");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", `${field} by group: ${bars.map((b) => `${b.label} ${b.value}`).join(", ")}`);
  bars.forEach((b, i) => {
    const y = i * rowH + 4;
    const mk = (tag, attrs, text) => {
      const el = document.createElementNS(ns, tag);
      for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
      if (text != null) el.textContent = text;
      svg.append(el);
      return el;
    };
    mk("text", { x: labelW - 6, y: y + 14, "text-anchor": "end", class: "chart-label" }, b.label.length > 22 ? `${b.label.slice(0, 21)}…` : b.label);
    mk("rect", { x: labelW, y: y + 2, width: Math.max(1, (Math.abs(b.value) / max) * barW), height: rowH - 6, rx: 3, class: "chart-bar" });
    mk("text", { x: labelW + (Math.abs(b.value) / max) * barW + 6, y: y + 14, class: "chart-value" }, String(b.value));
  });
  return h("figure", { class: "chart-box" }, svg, h("figcaption", {}, `${field}: total ${JSON.stringify(result?.summaries?.[field] ?? null)}`));
}

/** Collapsible pretty JSON. */
export function rawJson(value, open = false, summary = "Raw JSON") {
  const text = JSON.stringify(value, null, 2) ?? "undefined";
  return h("details", { class: "raw", open }, h("summary", {}, summary, h("span", { class: "muted" }, ` (${text.length.toLocaleString()} chars)`)), h("pre", { tabindex: "0" }, text));
}

/** Fields of an error worth showing, in order. */
export function errorFields(err) {
  if (!err || typeof err !== "object") return { title: String(err) };
  return {
    kind: err.kind ?? (err.name === "InputError" ? "invalid_input (explorer)" : err.name),
    status: err.status ?? null,
    code: err.code ?? null,
    title: err.title ?? err.message,
    detail: err.detail ?? (err.title ? null : null),
    source: err.source ?? err.where ?? null,
    requestId: err.requestId ?? null,
    retryable: err.retryable ?? null,
    maybeApplied: err.maybeApplied || null,
  };
}

/** An error box: kind, status, code, title, detail, source, request id. */
export function errorBox(err) {
  const f = errorFields(err);
  const dl = h("dl", { class: "error-fields" });
  for (const [k, v] of Object.entries(f)) {
    if (v == null || k === "title") continue;
    dl.append(h("dt", {}, k), h("dd", { class: `err-${k}` }, typeof v === "object" ? JSON.stringify(v) : String(v)));
  }
  return h("div", { class: "error-box", role: "alert" },
    h("p", { class: "error-title" }, h("span", { class: "badge kind-badge" }, f.kind ?? "error"), " ", f.status ? h("span", { class: "badge" }, `HTTP ${f.status}`) : null, " ", f.title ?? ""),
    dl);
}

/** The status line: ok/failed, HTTP status, time, request ids, exchanges. */
export function statusLine({ ok, ms, exchanges }) {
  const last = exchanges[exchanges.length - 1];
  const ids = exchanges.map((e) => e.requestId).filter(Boolean);
  return h("div", { class: `status-line ${ok ? "ok" : "failed"}` },
    h("span", { class: "badge status" }, ok ? "OK" : "Failed"),
    last?.status ? h("span", { class: "http-status" }, `HTTP ${last.status}`) : h("span", { class: "muted" }, exchanges.length ? "no answer" : "not sent"),
    h("span", { class: "timing" }, `${ms.toFixed(0)} ms`),
    h("span", { class: "muted" }, `${exchanges.length} request${exchanges.length === 1 ? "" : "s"}`),
    ids.length ? h("span", { class: "request-id", title: "x-request-id of the last response" }, "request id ", h("code", {}, ids[ids.length - 1])) : null,
    exchanges.length ? h("details", { class: "wire" }, h("summary", {}, "Wire"), h("ol", {}, exchanges.map((e) =>
      h("li", {}, h("code", {}, `${e.method} ${shortUrl(e.url)}`), ` → ${e.status ?? e.error} `, h("span", { class: "muted" }, `${e.ms?.toFixed(0) ?? "?"} ms${e.requestId ? ` · ${e.requestId}` : ""}`))))) : null);
}

function shortUrl(u) {
  try { const url = new URL(u); return url.pathname + url.search; } catch { return u; }
}

/** Replaces the contents of a result area. */
export function show(area, ...nodes) {
  replace(area, ...nodes);
}
