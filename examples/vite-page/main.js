// A shot status board: sign in with a ShotGrid login (never a script key in a browser),
// pick a project, see its shots in one column per status, and move a shot by choosing
// another status. Everything goes straight from the page to the site with the client.
import { ShotGrid, ShotGridError } from "shotgrid-wasm";

const form = document.getElementById("login");
const picker = document.getElementById("project-picker");
const projectSelect = document.getElementById("project");
const board = document.getElementById("board");
const statusLine = document.getElementById("status");

let sg = null;
let statuses = [];
let labels = {};

function say(text, isError = false) {
  statusLine.textContent = text;
  statusLine.classList.toggle("error", isError);
}

/** An error as one line: ShotGridErrors carry a kind, a status and a detail. */
function describe(err) {
  if (err instanceof ShotGridError) return `${err.kind}${err.status ? ` ${err.status}` : ""}: ${err.detail ?? err.title}`;
  return String(err?.message ?? err);
}

function el(tag, props = {}, children = []) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const data = new FormData(form);
  say("Signing in…");
  try {
    sg?.free();
    sg = await ShotGrid.connect({
      site: String(data.get("site")).replace(/\/+$/, ""),
      auth: { grant: "password", login: String(data.get("login")), password: String(data.get("password")) },
    });
    form.password.value = "";
    // The status list's valid values and their display names, from the schema.
    const field = await sg.schema.field("Shot", "sg_status_list");
    statuses = field.properties.valid_values?.value ?? [];
    labels = field.properties.display_values?.value ?? {};
    const projects = await sg.find("Project", null, { fields: ["name"], sort: ["name"] });
    projectSelect.replaceChildren(...projects.map((p) => el("option", { value: String(p.id), textContent: p.name })));
    picker.hidden = projects.length === 0;
    if (projects.length === 0) return say("No projects on this site.");
    await loadBoard();
  } catch (err) {
    say(describe(err), true);
  }
});

projectSelect.addEventListener("change", () => loadBoard().catch((err) => say(describe(err), true)));

async function loadBoard() {
  const projectId = Number(projectSelect.value);
  say("Loading shots…");
  const shots = [];
  // Page by page; the board fills as pages arrive.
  for await (const page of sg.iterate("Shot", [["project", "is", { type: "Project", id: projectId }]], {
    fields: ["code", "sg_status_list", "description"],
    sort: ["code"],
    pageSize: 200,
  }).pages()) {
    shots.push(...page);
  }
  const columns = new Map();
  for (const status of [...statuses, ...new Set(shots.map((s) => s.sg_status_list ?? ""))]) {
    if (!columns.has(status)) columns.set(status, column(status));
  }
  for (const shot of shots) columns.get(shot.sg_status_list ?? "").list.append(card(shot));
  board.replaceChildren(...[...columns.values()].map((c) => c.node));
  counts();
  say(`${shots.length} shots`);
}

function column(status) {
  const count = el("span", { className: "count" });
  const list = el("div", { className: "cards" });
  const node = el("section", { className: "column" }, [el("h2", {}, [labels[status] ?? (status || "No status"), count]), list]);
  node.dataset.status = status;
  return { node, list, count };
}

function counts() {
  for (const col of board.querySelectorAll(".column")) {
    col.querySelector(".count").textContent = String(col.querySelectorAll(".card").length);
  }
}

function card(shot) {
  const select = el(
    "select",
    { ariaLabel: `Status of ${shot.code}` },
    statuses.map((s) => el("option", { value: s, textContent: labels[s] ?? s, selected: s === shot.sg_status_list })),
  );
  const node = el("article", { className: "card" }, [
    el("div", { className: "code", textContent: shot.code ?? `#${shot.id}` }),
    el("div", { className: "description", textContent: shot.description ?? "" }),
    select,
  ]);
  node.dataset.id = String(shot.id);
  select.addEventListener("change", async () => {
    const previous = shot.sg_status_list;
    node.classList.add("saving");
    try {
      const updated = await sg.update("Shot", shot.id, { sg_status_list: select.value }, { fields: ["sg_status_list"] });
      shot.sg_status_list = updated.sg_status_list;
      board.querySelector(`.column[data-status="${CSS.escape(updated.sg_status_list ?? "")}"] .cards`)?.append(node);
      counts();
      say(`${shot.code}: ${labels[updated.sg_status_list] ?? updated.sg_status_list}`);
    } catch (err) {
      select.value = previous ?? "";
      say(`${shot.code}: ${describe(err)}`, true);
    } finally {
      node.classList.remove("saving");
    }
  });
  return node;
}
