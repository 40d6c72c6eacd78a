// The browser dashboard served by the proxy: plain HTML + fetch, no credentials.
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Shots</title>
<style>body{font:14px system-ui;margin:2em}td,th{padding:.2em .8em;text-align:left}</style></head>
<body>
<h1>Shots</h1>
<p id="status">loading…</p>
<table><thead><tr><th>id</th><th>code</th><th>status</th></tr></thead><tbody id="rows"></tbody></table>
<script type="module">
const res = await fetch("/api/find", {
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ entityType: "Shot", fields: ["code", "sg_status_list"], sort: ["code"], limit: 50 }),
});
const shots = await res.json();
const rows = document.getElementById("rows");
for (const s of shots) {
  const tr = document.createElement("tr");
  for (const v of [s.id, s.code, s.sg_status_list]) {
    const td = document.createElement("td");
    td.textContent = v ?? "";
    tr.append(td);
  }
  rows.append(tr);
}
document.getElementById("status").textContent = res.ok ? shots.length + " shots" : "error " + res.status;
</script>
</body>
</html>
`;
