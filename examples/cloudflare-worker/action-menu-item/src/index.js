// An Action Menu Item (AMI) handler: ShotGrid POSTs the page's context here when a user
// runs the AMI; the Worker reads the selected records through the API and answers
// with an HTML page listing them.
import { ShotGrid, parseActionMenuItem } from "shotgrid-wasm";

let client;
function connect(env) {
  client ??= ShotGrid.connect({
    site: env.SG_SITE,
    auth: { grant: "client_credentials", clientId: env.SG_SCRIPT_NAME, clientSecret: env.SG_SCRIPT_KEY },
  }).catch((e) => {
    client = undefined;
    throw e;
  });
  return client;
}

const escape = (v) =>
  String(v ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

function page(title, body, status = 200) {
  return new Response(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title></head><body>${body}</body></html>`,
    { status, headers: { "content-type": "text/html; charset=utf-8" } },
  );
}

function cell(v) {
  if (v && typeof v === "object" && "type" in v && "id" in v) return escape(v.name ?? `${v.type} ${v.id}`);
  if (Array.isArray(v)) return v.map(cell).join(", ");
  return escape(v);
}

export default {
  async fetch(request, env) {
    let ami;
    try {
      ami = await parseActionMenuItem(request);
    } catch (e) {
      return page("Not an Action Menu Item post", `<h1>Bad request</h1><p>${escape(e.detail ?? e.message)}</p><p>at ${escape(e.source)}</p>`, 400);
    }
    // Optional: only answer posts from your own site.
    if (env.SG_HOSTNAME && ami.serverHostname && ami.serverHostname !== env.SG_HOSTNAME) {
      return page("Wrong site", "<h1>Forbidden</h1>", 403);
    }
    if (ami.selectedIds.length === 0) {
      return page(ami.title ?? "Nothing selected", "<h1>Nothing selected</h1><p>Select records, then run the action again.</p>");
    }
    // The page's visible columns, as far as they are plain field names.
    const columns = ["code", ...ami.columns.filter((c) => /^[a-z0-9_]+$/.test(c) && c !== "code")].slice(0, 12);
    const sg = await connect(env);
    let records;
    try {
      records = await sg.find(ami.entityType, [["id", "in", ami.selectedIds]], {
        fields: columns,
        sort: ami.sort ? [(ami.sort.direction === "desc" ? "-" : "") + ami.sort.column] : ["id"],
      });
    } catch (e) {
      return page("Error", `<h1>Could not read the records</h1><p>${escape(e.title)}</p>`, 502);
    }
    const head = ["id", ...columns].map((c) => `<th>${escape(c)}</th>`).join("");
    const rows = records
      .map((r) => `<tr><td>${r.id}</td>${columns.map((c) => `<td>${cell(r[c])}</td>`).join("")}</tr>`)
      .join("\n");
    return page(
      `${ami.entityType} selection`,
      `<h1>${records.length} ${escape(ami.entityType)} record(s) selected by ${escape(ami.user.login)}</h1>
<p>Project: ${escape(ami.project?.name ?? "none")}</p>
<table id="records"><thead><tr>${head}</tr></thead><tbody>
${rows}
</tbody></table>`,
    );
  },
};
