// The explorer's shell: panels, the connection (grant forms, who is connected, token
// expiry, automatic refresh, "remember" = only the refresh token in sessionStorage).
import { ShotGrid } from "../pkg/browser.js";
import { h, $, $$, replace, announce } from "./dom.js";
import { recordingFetch, exchanges } from "./netlog.js";
import * as schema from "./schema.js";
import { state, run } from "./runner.js";
import { errorBox } from "./response.js";
import * as request from "./request.js";
import { mountSchema, mountUpload, mountWebhooks, mountHistory, setShowPanel } from "./panels.js";

const REMEMBER_KEY = "shotgrid-explorer.session"; // sessionStorage: { site, grant, who, refreshToken }
const PREFS_KEY = "shotgrid-explorer.prefs"; // localStorage: { site, grant, clientId, login } (nothing secret)

const panels = {};
function showPanel(name, preset) {
  for (const [key, el] of Object.entries(panels)) el.hidden = key !== name;
  for (const b of $$("#nav button")) b.setAttribute("aria-current", b.dataset.panel === name ? "page" : "false");
  if (name === "upload" && preset) panels.upload.preset(preset);
  if (name === "schema" || name === "webhooks") panels[name].load?.();
}
setShowPanel(showPanel);

/* ---------------------------------------------------------------- connect */

const form = $("#connect-form");
const grantFields = {
  client_credentials: ["clientId", "clientSecret"],
  password: ["login", "password"],
  session_token: ["sessionToken"],
  refresh_token: ["refreshToken"],
};

function showGrant() {
  const grant = form.grant.value;
  for (const el of $$("[data-grant]", form)) {
    const on = el.dataset.grant.split(" ").includes(grant);
    el.hidden = !on;
    for (const input of $$("input", el)) input.disabled = !on;
  }
}

function prefs() {
  try { return JSON.parse(localStorage.getItem(PREFS_KEY) ?? "{}") ?? {}; } catch { return {}; }
}

function init() {
  const params = new URLSearchParams(location.search);
  const p = prefs();
  form.site.value = params.get("site") ?? p.site ?? "http://127.0.0.1:8000";
  form.grant.value = params.get("grant") ?? p.grant ?? "password";
  if (!form.grant.value) form.grant.value = "password";
  form.clientId.value = params.get("clientId") ?? p.clientId ?? "";
  form.login.value = params.get("login") ?? p.login ?? "";
  showGrant();
  form.grant.addEventListener("change", showGrant);
  form.addEventListener("submit", (e) => { e.preventDefault(); connect(); });
  $("#disconnect").addEventListener("click", disconnect);
}

function savedSession() {
  try { return JSON.parse(sessionStorage.getItem(REMEMBER_KEY) ?? "null"); } catch { return null; }
}

let expiryTimer = null;
let keepAliveFor = null;

async function connect(resume) {
  const f = form;
  const site = (resume?.site ?? f.site.value).trim().replace(/\/+$/, "");
  const grant = resume ? "refresh_token" : f.grant.value;
  const remember = resume ? true : f.remember.checked;
  let auth;
  if (!resume) {
    const need = (name, label) => {
      const v = f[name].value;
      if (!v.trim()) throw Object.assign(new Error(`${label} is required`), { kind: "invalid_input", title: `${label} is required`, source: `auth.${name}` });
      return v;
    };
    try {
      if (!/^https?:\/\/[^\s/]+/.test(site)) throw Object.assign(new Error("Site must be an http(s) URL"), { kind: "invalid_input", title: "Site must be an http(s) URL, e.g. https://studio.shotgrid.autodesk.com", source: "site" });
      auth = {
        client_credentials: () => ({ grant, clientId: need("clientId", "Script name").trim(), clientSecret: need("clientSecret", "Script key") }),
        password: () => ({ grant, login: need("login", "Login").trim(), password: need("password", "Password") }),
        session_token: () => ({ grant, sessionToken: need("sessionToken", "Session token") }),
        refresh_token: () => ({ grant, refreshToken: need("refreshToken", "Refresh token") }),
      }[grant]();
    } catch (err) {
      replace($("#connect-status"), errorBox(err));
      return;
    }
  }
  const conn = { site, grant, clientId: auth?.clientId, login: auth?.login };
  replace($("#connect-status"), h("p", { class: "muted" }, "Connecting…"));
  $("#connect-submit").disabled = true;
  state.sg?.free?.();
  state.sg = null;
  const onTokens = (t) => {
    updateExpiry(t.expiresAt);
    if (remember && t.refreshToken) {
      sessionStorage.setItem(REMEMBER_KEY, JSON.stringify({ site, grant: conn.grant, who: state.who ?? null, refreshToken: t.refreshToken }));
    }
  };
  const options = resume
    ? { site, tokens: { refreshToken: resume.refreshToken }, fetch: recordingFetch, onTokens }
    : { site, auth, fetch: recordingFetch, onTokens };
  const outcome = await run({ opId: "connect", label: `connect (${grant})`, method: "connect", args: [{ site, auth: auth ? { ...auth } : { grant } }], exec: () => ShotGrid.connect(options) });
  $("#connect-submit").disabled = false;
  // The secret inputs are emptied whatever happened: nothing secret stays in the page.
  for (const name of ["clientSecret", "password", "sessionToken", "refreshToken"]) f[name].value = "";
  if (!outcome.ok) {
    if (resume) sessionStorage.removeItem(REMEMBER_KEY);
    replace($("#connect-status"), errorBox(outcome.error),
      outcome.error?.kind === "network"
        ? h("p", { class: "hint" }, `No answer from ${site}: check the URL, and that the site's CORS allows this page's origin (${location.origin}).`)
        : null);
    $("#connection").textContent = "Not connected";
    announce(`Connection failed: ${outcome.error?.title ?? outcome.error}`);
    return;
  }
  const sg = outcome.result;
  state.sg = sg;
  state.conn = conn;
  if (!remember) sessionStorage.removeItem(REMEMBER_KEY);
  if (!resume) localStorage.setItem(PREFS_KEY, JSON.stringify({ site, grant, clientId: conn.clientId, login: conn.login }));
  schema.reset(sg);
  state.who = resume?.who ?? (await whoAmI(sg, conn));
  if (remember) {
    const saved = savedSession();
    if (saved) sessionStorage.setItem(REMEMBER_KEY, JSON.stringify({ ...saved, who: state.who }));
  }
  replace($("#connection"), h("span", { class: "badge ok" }, "Connected"), " ", h("span", { id: "who" }, state.who ?? "unknown user"), " @ ", h("span", { class: "site" }, new URL(site).host), " ", h("span", { id: "expiry" }));
  updateExpiry(sg.tokenExpiresAt);
  clearInterval(expiryTimer);
  expiryTimer = setInterval(tick, 1000);
  $("#disconnect").hidden = false;
  replace($("#connect-status"), h("p", { class: "done" }, `Connected to ${site} as ${state.who ?? "(unknown user)"}.`));
  announce(`Connected as ${state.who ?? "unknown user"}`);
  request.refreshSchema();
  // Their entity type pickers now list the site's types.
  panels.upload = mountUpload($("#panel-upload"));
  panels.webhooks = mountWebhooks($("#panel-webhooks"));
  showPanel("request");
  $("#op").focus();
}

async function whoAmI(sg, conn) {
  try {
    if (conn.grant === "password") {
      const u = await sg.findOne("HumanUser", [["login", "is", conn.login]], { fields: ["name", "login"] });
      return u ? `${u.name} (${u.login})` : conn.login;
    }
    if (conn.grant === "client_credentials") {
      const u = await sg.findOne("ApiUser", [["firstname", "is", conn.clientId]], { fields: ["name"] });
      return `script ${u?.name ?? conn.clientId}`;
    }
  } catch {
    // Who we are is a nicety: a site that hides users still works.
  }
  return conn.grant === "password" ? conn.login : conn.grant === "client_credentials" ? `script ${conn.clientId}` : `session (${conn.grant})`;
}

let expiresAt = null;
function updateExpiry(at) {
  if (typeof at === "number" && Number.isFinite(at)) expiresAt = at;
  tick();
}

function tick() {
  const el = $("#expiry");
  if (!el || !state.sg) return;
  const at = state.sg.tokenExpiresAt ?? expiresAt;
  if (at == null) { el.textContent = ""; return; }
  if (at !== expiresAt) expiresAt = at;
  const left = Math.round((at - Date.now()) / 1000);
  el.textContent = left > 0 ? `· token expires ${new Date(at).toLocaleTimeString()} (in ${fmt(left)})` : "· token expired: it is renewed on the next call";
  el.dataset.expiresAt = String(at);
  // Refresh automatically: inside the client's 60 s margin, a cheap call makes it renew.
  if (left > 0 && left <= 50 && keepAliveFor !== at) {
    keepAliveFor = at;
    run({ opId: "keepalive", label: "token refresh", method: "find", args: [], record: false,
      exec: () => state.sg.find("Project", null, { fields: ["id"], limit: 1 }) }).then(() => {
      const note = $("#refreshed");
      if (note) note.textContent = `Token renewed automatically at ${new Date().toLocaleTimeString()}.`;
      tick();
    });
  }
}

const fmt = (s) => (s >= 3600 ? `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min` : s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`);

function disconnect() {
  state.sg?.free?.();
  state.sg = null;
  state.conn = null;
  state.who = null;
  clearInterval(expiryTimer);
  sessionStorage.removeItem(REMEMBER_KEY);
  schema.reset(null);
  $("#connection").textContent = "Not connected";
  $("#disconnect").hidden = true;
  replace($("#connect-status"), h("p", { class: "muted" }, "Disconnected; the remembered session (if any) is forgotten."));
  showPanel("connect");
  form.site.focus();
}

/* ---------------------------------------------------------------- boot */

init();
panels.connect = $("#panel-connect");
panels.request = $("#panel-request");
panels.schema = mountSchema($("#panel-schema"));
panels.upload = mountUpload($("#panel-upload"));
panels.webhooks = mountWebhooks($("#panel-webhooks"));
panels.history = mountHistory($("#panel-history"));
request.mount(panels.request, { showPanel });
for (const b of $$("#nav button")) b.addEventListener("click", () => { showPanel(b.dataset.panel); panels[b.dataset.panel].querySelector("h2, input, select, button")?.focus?.(); });
document.addEventListener("keydown", (e) => {
  // Alt+1…6 switch panels.
  if (e.altKey && !e.ctrlKey && /^[1-6]$/.test(e.key)) {
    const b = $$("#nav button")[Number(e.key) - 1];
    if (b) { e.preventDefault(); b.click(); }
  }
});
showPanel("connect");
const saved = savedSession();
if (saved?.refreshToken && saved.site) connect(saved);
else form.querySelector("input:not([disabled]):not([type=hidden])")?.focus();
// For the end-to-end tests (and the curious): the connection and the recorded exchanges.
window.__explorer = { state, exchanges, ready: true };
