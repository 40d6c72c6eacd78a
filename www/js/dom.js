// Tiny DOM helpers: no framework, just element creation and a few conveniences.

/**
 * Creates an element: h("button", { class: "x", onclick }, "text", child).
 * Attributes starting with "on" become listeners; `null`/`false` attributes are skipped;
 * `true` sets an empty attribute. Children may be strings, nodes, arrays or null.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value == null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "value" && "value" in el) el.value = value;
    else if (key === "checked" || key === "selected" || key === "hidden" || key === "disabled") el[key] = Boolean(value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

/** Appends children (strings, nodes, nested arrays; null/false skipped). */
export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replaces an element's children. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** `document.querySelector`. */
export const $ = (sel, root = document) => root.querySelector(sel);
/** `document.querySelectorAll` as an array. */
export const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

let uid = 0;
/** A unique id for label/control pairs. */
export const nextId = (prefix = "f") => `${prefix}-${++uid}`;

/** A labelled control: <label for=id>text</label><control id=id>. Returns [wrapper, control]. */
export function labelled(text, control, hint) {
  if (!control.id) control.id = nextId();
  const wrap = h("div", { class: "field" }, h("label", { for: control.id }, text), control);
  if (hint) {
    const hintId = nextId("hint");
    wrap.append(h("small", { id: hintId, class: "hint" }, hint));
    control.setAttribute("aria-describedby", hintId);
  }
  return wrap;
}

/** Copies text to the clipboard; resolves to whether it worked (it needs focus and permission). */
export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

/** Announces a message to screen readers and shows it in the status line. */
export function announce(message) {
  const live = document.getElementById("live");
  if (live) live.textContent = message;
}
