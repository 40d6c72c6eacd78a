// Form widgets generated from the schema: entity type picker, searchable field picker,
// typed value editors, the nested filter builder, the sort builder and the record editor.
import { h, nextId, replace } from "./dom.js";
import * as schema from "./schema.js";
import { operatorsFor, valueShape, PERIOD_UNITS, parseValue, parseList, InputError, toFilters, conditionFrom } from "./model.js";

/** A <select> of the site's entity types. `value` is kept until the list arrives. */
export function typePicker({ value = "Shot", onchange, label = "Entity type" } = {}) {
  const select = h("select", { "aria-label": label, class: "type-picker", dataset: { value } }, h("option", { value }, value));
  select.addEventListener("change", () => { select.dataset.value = select.value; onchange?.(select.value); });
  schema.entityTypes().then((types) => {
    const current = select.dataset.value;
    replace(select, types.map((t) => h("option", { value: t.type, selected: t.type === current }, t.type === t.label ? t.type : `${t.type} (${t.label})`)));
    if (!types.some((t) => t.type === current)) select.prepend(h("option", { value: current, selected: true }, current));
  }, () => {});
  return select;
}

/** A datalist of a type's fields ("name" with "Label · data_type"); refilled by `fill`. */
function fieldList() {
  const list = h("datalist", { id: nextId("fields") });
  list.fill = async (type) => {
    const fields = await schema.fieldsOf(type).catch(() => new Map());
    replace(list, [...fields.values()].map((f) => h("option", { value: f.name }, `${f.label} · ${f.dataType}`)));
  };
  return list;
}

/** A single field picker: a text input that searches the type's fields as you type. */
export function fieldInput({ getType, value = "", label = "Field", onchange, placeholder = "field, e.g. code" }) {
  const list = fieldList();
  const input = h("input", { type: "text", list: list.id, value, "aria-label": label, placeholder, autocomplete: "off", spellcheck: "false", class: "field-input" });
  input.addEventListener("change", () => onchange?.(input.value.trim()));
  const wrap = h("span", { class: "field-pick" }, input, list);
  wrap.input = input;
  wrap.refresh = () => list.fill(getType());
  wrap.refresh();
  return wrap;
}

/** A multi field picker: chips, plus a searchable input (Enter or "Add" adds). */
export function fieldsPicker({ getType, value = [], label = "Fields" }) {
  const chosen = [...value];
  const chips = h("ul", { class: "chips", "aria-label": `${label} chosen` });
  const pick = fieldInput({ getType, label: `Add to ${label.toLowerCase()}`, placeholder: "search fields…" });
  const add = () => {
    for (const name of pick.input.value.split(",").map((s) => s.trim()).filter(Boolean)) if (!chosen.includes(name)) chosen.push(name);
    pick.input.value = "";
    render();
  };
  pick.input.addEventListener("keydown", (e) => { if (e.key === "Enter" && !e.ctrlKey && !e.metaKey) { e.preventDefault(); add(); } });
  function render() {
    replace(chips, chosen.map((name, i) => h("li", {}, name, h("button", { type: "button", class: "chip-x", "aria-label": `Remove field ${name}`, onclick: () => { chosen.splice(i, 1); render(); pick.input.focus(); } }, "×"))));
    if (!chosen.length) chips.append(h("li", { class: "muted" }, "site defaults"));
  }
  render();
  const el = h("div", { class: "fields-picker" }, chips, h("div", { class: "row" }, pick,
    h("button", { type: "button", onclick: add }, "Add"),
    h("button", { type: "button", onclick: () => { chosen.splice(0, chosen.length, "*"); render(); } , title: "every field" }, "All (*)"),
    h("button", { type: "button", onclick: () => { chosen.splice(0); render(); } }, "Clear")));
  el.value = () => { const pending = pick.input.value.trim(); if (pending) add(); return chosen.length ? [...chosen] : undefined; };
  el.set = (names) => { chosen.splice(0, chosen.length, ...(names ?? [])); render(); };
  el.refresh = () => pick.refresh();
  return el;
}

/**
 * Inputs for a value of `field` under `relation`; `raw()` gives the strings
 * `{ a, b, unit, values }` that model.conditionValue types.
 */
export function valueEditor(field, relation, label = "Value", initial = {}) {
  const dataType = field?.dataType ?? "text";
  const shape = valueShape(relation, dataType);
  const wrap = h("span", { class: "value-editor" });
  const single = (lab, init) => scalarInput(field, lab, init, shape === "single-entity" ? "entity" : dataType);
  let a, b, unit, multi;
  switch (shape) {
    case "pair":
      a = single(`${label} from`, initial.a); b = single(`${label} to`, initial.b);
      wrap.append(a, h("span", { class: "muted" }, "and"), b);
      break;
    case "period":
      a = h("input", { type: "number", min: "0", step: "1", value: initial.a ?? "1", "aria-label": `${label} count`, class: "num" });
      unit = h("select", { "aria-label": `${label} unit` }, PERIOD_UNITS.map((u) => h("option", { value: u, selected: u === (initial.unit ?? "DAY") }, u.toLowerCase() + "s")));
      wrap.append(a, unit);
      break;
    case "offset":
      a = h("input", { type: "number", step: "1", value: initial.a ?? "0", "aria-label": `${label}: offset (0 = current)`, class: "num", title: "0 = current, -1 = previous, 1 = next" });
      wrap.append(a);
      break;
    case "list":
      if (field?.validValues?.length) {
        multi = h("select", { multiple: true, "aria-label": `${label} (choose several)`, size: Math.min(5, field.validValues.length) },
          field.validValues.map((v) => h("option", { value: v, selected: (initial.values ?? []).includes(v) }, displayOf(field, v))));
        wrap.append(multi);
      } else {
        a = h("input", { type: "text", value: initial.a ?? "", "aria-label": `${label} (comma-separated)`, placeholder: ["entity", "multi_entity"].includes(dataType) ? "Type:id, Type:id" : "a, b, c" });
        wrap.append(a);
      }
      break;
    case "type":
      a = h("select", { "aria-label": `${label}: entity type` }, (field?.validTypes?.length ? field.validTypes : ["Shot", "Asset"]).map((t) => h("option", { value: t, selected: t === initial.a }, t)));
      wrap.append(a);
      break;
    case "text":
      a = h("input", { type: "text", value: initial.a ?? "", "aria-label": label });
      wrap.append(a);
      break;
    default:
      a = single(label, initial.a);
      wrap.append(a);
  }
  wrap.raw = () => ({ a: a?.getValue ? a.getValue() : a?.value, b: b?.getValue ? b.getValue() : b?.value, unit: unit?.value, values: multi ? [...multi.selectedOptions].map((o) => o.value) : undefined });
  wrap.focusFirst = () => (a?.focusTarget ?? a ?? multi)?.focus();
  return wrap;
}

function displayOf(field, v) {
  const d = field?.displayValues?.[v];
  return d && d !== v ? `${v} (${d})` : v;
}

/** One scalar input typed by data type; `getValue()` gives its text. */
function scalarInput(field, label, initial, dataType) {
  let el;
  switch (dataType) {
    case "number": case "duration": case "timecode": case "footage":
      el = h("input", { type: "number", step: "1", value: initial ?? "", "aria-label": label, class: "num" }); break;
    case "float": case "currency": case "percent":
      el = h("input", { type: "number", step: "any", value: initial ?? "", "aria-label": label, class: "num" }); break;
    case "checkbox":
      el = h("select", { "aria-label": label }, ["true", "false"].map((v) => h("option", { value: v, selected: v === String(initial ?? "true") }, v))); break;
    case "date":
      el = h("input", { type: "date", value: initial ?? "", "aria-label": label }); break;
    case "date_time":
      el = h("input", { type: "datetime-local", step: "1", value: initial ?? "", "aria-label": `${label} (local time)` }); break;
    case "list": case "status_list":
      if (field?.validValues?.length) {
        el = h("select", { "aria-label": label }, h("option", { value: "" }, "(empty)"),
          field.validValues.map((v) => h("option", { value: v, selected: v === initial }, displayOf(field, v))));
        break;
      }
      el = h("input", { type: "text", value: initial ?? "", "aria-label": label }); break;
    case "entity": case "multi_entity": case "addressing": {
      // A type (from the field's valid types) and an id; "Type:id" typed into the id box works too.
      const types = field?.validTypes?.length ? field.validTypes : null;
      const [t0, id0] = String(initial ?? "").split(":");
      const typeSel = types
        ? h("select", { "aria-label": `${label}: linked type` }, types.map((t) => h("option", { value: t, selected: t === t0 }, t)))
        : h("input", { type: "text", value: t0 ?? "", "aria-label": `${label}: linked type`, placeholder: "Type", class: "short" });
      const idIn = h("input", { type: "text", inputmode: "numeric", value: id0 ?? "", "aria-label": `${label}: linked id`, placeholder: "id (empty = null)", class: "num" });
      const span = h("span", { class: "link-input" }, typeSel, idIn);
      span.getValue = () => {
        const id = idIn.value.trim();
        if (!id) return "";
        return id.includes(":") ? id : `${typeSel.value}:${id}`;
      };
      span.focusTarget = typeSel;
      return span;
    }
    default:
      el = h("input", { type: "text", value: initial ?? "", "aria-label": label });
  }
  return el;
}

/**
 * The filter builder: nested and/or groups of conditions. Relations are offered per
 * field data type and values are typed per field. `filters()` returns ShotGrid filters
 * (or throws InputError naming the condition).
 */
export function filterBuilder({ getType }) {
  const root = group(null);
  const el = h("div", { class: "filter-builder" }, root.el);
  el.filters = () => toFilters(root.model());
  el.clear = () => root.clear();
  el.refresh = () => root.refresh();
  el.root = root;
  /** Shows ShotGrid filters (a list or a group) in the builder. */
  el.setFilters = (filters) => {
    root.clear();
    const load = (group, f) => {
      const g = Array.isArray(f) ? { logical_operator: "and", conditions: f } : f;
      group.opSel.value = g?.logical_operator === "or" ? "or" : "and";
      for (const c of g?.conditions ?? []) {
        if (Array.isArray(c)) group.addCond(conditionFrom(c));
        else load(group.addGroup(true), c);
      }
    };
    if (filters) load(root, filters);
  };

  function group(parent) {
    const opSel = h("select", { "aria-label": parent ? "Nested group: match" : "Match" },
      h("option", { value: "and" }, "all (and)"), h("option", { value: "or" }, "any (or)"));
    const items = h("ol", { class: "conditions" });
    const children = [];
    const self = {};
    const addCond = (init) => { const c = condition(self, init); children.push(c); items.append(c.el); return c; };
    const addGroup = (empty = false) => {
      const g = group(self);
      children.push(g);
      items.append(h("li", { class: "group-item" }, g.el));
      if (!empty) g.addCond().focus();
      return g;
    };
    const legendText = parent ? "Group" : "Filters";
    const box = h("fieldset", { class: parent ? "group nested" : "group" },
      h("legend", {}, legendText),
      h("div", { class: "row" }, h("span", { class: "muted" }, "Match"), opSel, h("span", { class: "muted" }, "of:")),
      items,
      h("div", { class: "row" },
        h("button", { type: "button", onclick: () => addCond().focus(), class: "add-condition" }, "+ Condition"),
        h("button", { type: "button", onclick: () => addGroup(false), class: "add-group" }, "+ Group"),
        parent ? h("button", { type: "button", class: "danger", onclick: () => parent.remove(self) }, "Remove group") : null));
    Object.assign(self, {
      el: box,
      opSel,
      addCond,
      addGroup,
      remove(child) {
        const i = children.indexOf(child);
        if (i >= 0) children.splice(i, 1);
        (child.el.closest("li") ?? child.el).remove();
      },
      clear() { for (const c of [...children]) self.remove(c); },
      refresh() { for (const c of children) c.refresh(); },
      model: () => ({ kind: "group", op: opSel.value, children: children.map((c) => c.model()) }),
    });
    return self;
  }

  function condition(parent, init = {}) {
    let field = null;
    const pick = fieldInput({ getType, label: "Condition field", value: init.field ?? "", onchange: () => retype() });
    const rel = h("select", { "aria-label": "Operator" });
    const valueBox = h("span", { class: "value-box" });
    let editor = null;
    const li = h("li", { class: "condition" }, pick, rel, valueBox,
      h("button", { type: "button", class: "icon danger", "aria-label": "Remove condition", onclick: () => parent.remove(self) }, "×"));
    const self = {
      el: li,
      focus: () => pick.input.focus(),
      refresh: () => { pick.refresh(); retype(null); },
      model: () => ({ kind: "cond", field: pick.input.value.trim(), relation: rel.value, dataType: field?.dataType ?? "text", raw: editor?.raw() ?? {} }),
      pick, rel,
      get editor() { return editor; },
    };
    rel.addEventListener("change", () => renderValue());
    function renderValue(initial) {
      editor = valueEditor(field, rel.value, "Condition value", initial);
      replace(valueBox, editor);
    }
    let gen = 0;
    async function retype(initial) {
      const name = pick.input.value.trim();
      if (initial === undefined && editor && li.dataset.field === name) return; // unchanged (a blur)
      const mine = ++gen;
      const before = { dataType: field?.dataType, relation: rel.value };
      const next = name ? await schema.resolveField(getType(), name) : null;
      if (mine !== gen) return;
      before.raw = editor?.raw();
      field = next;
      const ops = operatorsFor(field?.dataType);
      const keep = init.relation && ops.includes(init.relation) ? init.relation : ops.includes(rel.value) ? rel.value : ops[0];
      replace(rel, ops.map((o) => h("option", { value: o, selected: o === keep }, o)));
      rel.title = field ? `${field.label}: ${field.dataType}` : "unknown field: operators for text and numbers";
      // What was typed survives when the value's kind did not change.
      const same = before.dataType === field?.dataType && before.relation === keep;
      renderValue(initial ?? (same ? before.raw : undefined));
      li.dataset.field = name;
      li.dataset.dataType = field?.dataType ?? "";
      init = {};
    }
    retype(init.raw);
    return self;
  }

  return el;
}

/** Sort keys: rows of field + direction; `value()` gives `["-created_at", "code"]`. */
export function sortBuilder({ getType }) {
  const rows = h("ol", { class: "sort-rows" });
  const keys = [];
  const add = (field = "", dir = "asc") => {
    const pick = fieldInput({ getType, label: "Sort field", value: field });
    const dirSel = h("select", { "aria-label": "Direction" }, h("option", { value: "asc", selected: dir === "asc" }, "ascending"), h("option", { value: "desc", selected: dir === "desc" }, "descending"));
    const key = { pick, dirSel };
    const li = h("li", { class: "row" }, pick, dirSel, h("button", { type: "button", class: "icon danger", "aria-label": "Remove sort key", onclick: () => { keys.splice(keys.indexOf(key), 1); li.remove(); } }, "×"));
    keys.push(key);
    rows.append(li);
    return pick;
  };
  const el = h("div", { class: "sort-builder" }, rows, h("button", { type: "button", onclick: () => add().input.focus() }, "+ Sort key"));
  el.value = () => {
    const out = keys.map((k) => [k.pick.input.value.trim(), k.dirSel.value]).filter(([f]) => f).map(([f, d]) => (d === "desc" ? `-${f}` : f));
    return out.length ? out : undefined;
  };
  el.add = add;
  el.refresh = () => keys.forEach((k) => k.pick.refresh());
  return el;
}

/**
 * The record editor of create/update: rows of field + typed value. Multi-entity fields
 * take "Type:id, Type:id" and, for updates, a mode (set/add/remove).
 */
export function dataEditor({ getType, update = false }) {
  const rows = h("ol", { class: "data-rows" });
  const entries = [];
  const add = (init = {}) => {
    let field = null;
    const valueBox = h("span", { class: "value-box" });
    const modeSel = h("select", { "aria-label": "Multi-entity update mode", hidden: true }, ["set", "add", "remove"].map((m) => h("option", { value: m }, m)));
    let editor = null;
    const pick = fieldInput({ getType, label: "Data field", value: init.field ?? "", onchange: () => retype() });
    const entry = {
      value() {
        const name = pick.input.value.trim();
        if (!name) return null;
        const raw = editor?.raw() ?? {};
        let v;
        if (field?.dataType === "multi_entity") {
          v = raw.a?.trim() ? parseList(raw.a, "entity", `data.${name}`) : [];
          if (update && modeSel.value !== "set") v = { multi_entity_update_mode: modeSel.value, value: v };
        } else if (field?.dataType === "checkbox") v = raw.a === "true";
        else v = parseValue(raw.a, field?.dataType ?? "text", `data.${name}`);
        return [name, v];
      },
    };
    let gen = 0;
    async function retype(initial) {
      const name = pick.input.value.trim();
      if (initial === undefined && editor && li.dataset.field === name) return; // unchanged (a blur)
      const mine = ++gen;
      const before = { dataType: field?.dataType };
      const next = name ? await schema.resolveField(getType(), name) : null;
      if (mine !== gen) return;
      before.raw = editor?.raw();
      field = next;
      if (initial === undefined && before.dataType === field?.dataType) initial = before.raw?.a;
      const multi = field?.dataType === "multi_entity";
      modeSel.hidden = !(update && multi);
      editor = multi
        ? Object.assign(h("span", {}, h("input", { type: "text", "aria-label": `Value of ${name}`, placeholder: "Type:id, Type:id", value: initial ?? "" })), { raw() { return { a: this.querySelector("input").value }; } })
        : valueEditor(field, "is", `Value of ${name || "field"}`, { a: initial });
      replace(valueBox, editor);
      if (field && !field.editable) valueBox.append(h("small", { class: "warn" }, " not editable"));
      li.dataset.field = name;
    }
    const li = h("li", { class: "row" }, pick, modeSel, valueBox, h("button", { type: "button", class: "icon danger", "aria-label": "Remove data field", onclick: () => { entries.splice(entries.indexOf(entry), 1); li.remove(); } }, "×"));
    entries.push(entry);
    rows.append(li);
    retype(init.value);
    return pick;
  };
  const el = h("div", { class: "data-editor" }, rows, h("button", { type: "button", class: "add-data", onclick: () => add().input.focus() }, "+ Field value"));
  el.value = () => {
    const out = {};
    for (const e of entries) {
      const kv = e.value();
      if (kv) out[kv[0]] = kv[1];
    }
    if (!Object.keys(out).length) throw new InputError("data: add at least one field value", "data");
    return out;
  };
  el.add = add;
  el.refresh = () => {};
  return el;
}
