// A pipeline script: reports a project's shots by status, then creates a shot, moves it
// through two statuses and retires it again, and shows how errors look.
//
//   SG_SITE=https://studio.shotgrid.autodesk.com SG_SCRIPT_NAME=report SG_SCRIPT_KEY=… \
//     node shot-report.mjs ["Project name"]
//
// Exits 0 when everything worked, 1 on an error (printed without any secret).
import { ShotGrid, ShotGridError } from "shotgrid-wasm";

const { SG_SITE, SG_SCRIPT_NAME, SG_SCRIPT_KEY } = process.env;
if (!SG_SITE || !SG_SCRIPT_NAME || !SG_SCRIPT_KEY) {
  console.error("set SG_SITE, SG_SCRIPT_NAME and SG_SCRIPT_KEY (the key never goes on the command line)");
  process.exit(2);
}

async function main() {
  // Bad credentials reject here, with kind "auth".
  const sg = await ShotGrid.connect({
    site: SG_SITE,
    auth: { grant: "client_credentials", clientId: SG_SCRIPT_NAME, clientSecret: SG_SCRIPT_KEY },
    timeoutMs: 15_000,
  });
  const { shotgun_version } = await sg.info();
  console.log(`connected to ${sg.site} (ShotGrid ${shotgun_version})`);

  // find / findOne: filters as ShotGrid users write them.
  const wanted = process.argv[2];
  const project = await sg.findOne("Project", wanted ? [["name", "is", wanted]] : null, {
    fields: ["name"],
    sort: ["id"],
  });
  if (!project) throw new Error(wanted ? `no project named ${JSON.stringify(wanted)}` : "the site has no project");
  console.log(`project: ${project.name} (#${project.id})`);
  const inProject = ["project", "is", { type: "Project", id: project.id }];

  // iterate: page by page, two pages in flight; only one page is in memory at a time.
  const byStatus = new Map();
  let shots = 0;
  for await (const shot of sg.iterate("Shot", [inProject], { fields: ["code", "sg_status_list"], pageSize: 100, concurrency: 2 })) {
    const status = shot.sg_status_list ?? "(none)";
    byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
    shots++;
  }
  console.log(`shots: ${shots}`);
  for (const [status, count] of [...byStatus].sort()) console.log(`  ${status.padEnd(8)} ${count}`);

  // create / update / delete: writes are never retried; a write that got no answer
  // rejects with maybeApplied: true.
  const code = `script_${Date.now().toString(36)}`;
  const created = await sg.create("Shot", { code, project: { type: "Project", id: project.id }, sg_status_list: "wtg" }, { fields: ["code", "sg_status_list"] });
  console.log(`created Shot #${created.id} ${created.code} (${created.sg_status_list})`);
  const updated = await sg.update("Shot", created.id, { sg_status_list: "ip", description: "made by shot-report.mjs" }, { fields: ["sg_status_list"] });
  console.log(`updated Shot #${created.id} to ${updated.sg_status_list}`);
  await sg.delete("Shot", created.id);
  console.log(`retired Shot #${created.id}`);

  // Errors are ShotGridErrors with a kind, status and the argument that was wrong.
  try {
    await sg.read("Shot", created.id, { fields: ["code"] });
  } catch (err) {
    if (!(err instanceof ShotGridError)) throw err;
    console.log(`reading the retired shot: ${err.kind} ${err.status} (code ${err.code})`);
  }
  try {
    await sg.find("Shot", [["code", "like", "sh%"]]);
  } catch (err) {
    if (!(err instanceof ShotGridError)) throw err;
    console.log(`a bad filter is refused before sending: ${err.kind} at ${err.source}`);
  }
}

try {
  await main();
} catch (err) {
  if (err instanceof ShotGridError) {
    console.error(`ShotGrid error: ${err.kind}${err.status ? ` ${err.status}` : ""}: ${err.detail ?? err.title}`);
  } else {
    console.error(err?.message ?? err);
  }
  process.exitCode = 1;
}
