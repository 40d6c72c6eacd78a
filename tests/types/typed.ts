// Type-level tests of typed records: a map of entity types (as `shotgrid-wasm typegen`
// writes it) given to `ShotGrid.connect<Map>`. The untyped surface (usage.ts) keeps
// working with the default, empty `EntityMap`.
import { ShotGrid, type EntityLink, type EntityRecord, type FileLink, type ShotGridRecord } from "shotgrid-wasm";

interface Project {
  type: "Project";
  id: number;
  name: string | null;
  sg_status: "Active" | "Bidding" | null;
}
interface Shot {
  type: "Shot";
  id: number;
  code: string | null;
  sg_status_list: "wtg" | "ip" | "fin" | null;
  project: EntityLink<"Project"> | null;
  assets: EntityLink<"Asset">[];
  sg_cut_in: number | null;
  sg_movie: FileLink | null;
  tag_list: string[];
}
interface Site {
  Project: Project;
  Shot: Shot;
}

export async function typed(): Promise<void> {
  const sg = await ShotGrid.connect<Site>({ site: "x", auth: { grant: "password", login: "a", password: "b" } });

  // Exactly the asked-for fields, typed.
  const shots = await sg.find("Shot", [["code", "starts_with", "sh"]], { fields: ["code", "sg_status_list", "project"] });
  const shot = shots[0];
  if (shot) {
    const type: "Shot" = shot.type;
    const code: string | null = shot.code;
    const status: "wtg" | "ip" | "fin" | null = shot.sg_status_list;
    const projectType: "Project" | undefined = shot.project?.type;
    void [type, code, status, projectType];
    // @ts-expect-error: a field that was not asked for is not there
    void shot.sg_cut_in;
    // @ts-expect-error: a status is one of the valid values, not any string
    const other: "omitted" = shot.sg_status_list;
    // @ts-expect-error: code is a string, not a number (the record is not `any`)
    const n: number = shot.code;
    void [other, n];
  }
  // @ts-expect-error: not a field of Shot
  await sg.find("Shot", null, { fields: ["cod"] });
  // @ts-expect-error: not a field of Project
  await sg.read("Project", 1, { fields: ["code"] });

  // Deep fields follow the map.
  const one = await sg.findOne("Shot", null, { fields: ["project.Project.sg_status", "code"] });
  const deep: "Active" | "Bidding" | null | undefined = one?.["project.Project.sg_status"];
  void deep;

  // "*" gives the whole record; no fields, every field optional.
  const all = await sg.read("Shot", 1, { fields: ["*"] });
  const links: EntityLink<"Asset">[] = all.assets;
  const movie: string | undefined = all.sg_movie?.url;
  const tags: string[] = all.tag_list;
  const some = await sg.read("Shot", 1);
  const maybe: number | null | undefined = some.sg_cut_in;
  void [links, movie, tags, maybe];

  // Iterators, writes.
  for await (const s of sg.iterate("Shot", null, { fields: ["sg_cut_in"] })) {
    const cut: number | null = s.sg_cut_in;
    void cut;
  }
  for await (const page of sg.iterate("Project", null, { fields: ["name"] }).pages()) {
    const name: string | null | undefined = page[0]?.name;
    void name;
  }
  // Writes: the map's fields with their types; multi-entity update modes; URLs for file fields.
  await sg.create("Shot", { code: "sh010", sg_status_list: "wtg", project: { type: "Project", id: 1 }, assets: [{ type: "Asset", id: 2 }] });
  await sg.update("Shot", 1, { assets: { multi_entity_update_mode: "add", value: [{ type: "Asset", id: 3 }] }, sg_movie: "https://example.com/a.mov" });
  await sg.update("Shot", 1, { sg_movie: null, sg_cut_in: null, tag_list: ["hero"] });
  // @ts-expect-error: not a status of Shot
  await sg.update("Shot", 1, { sg_status_list: "done" });
  // @ts-expect-error: not a field of Shot
  await sg.create("Shot", { cod: "sh010" });
  // @ts-expect-error: project links to a Project
  await sg.create("Shot", { project: { type: "Sequence", id: 1 } });
  // @ts-expect-error: cut in is a number
  await sg.update("Shot", 1, { sg_cut_in: "12" });
  // Types the map does not know take any fields.
  await sg.create("Note", { content: "hi", whatever: 1 });
  const created = await sg.create("Shot", { code: "sh010" }, { fields: ["code"] });
  const createdCode: string | null = created.code;
  const updated = await sg.update("Shot", created.id, { code: "sh011" }, { fields: ["sg_status_list"] });
  void [createdCode, updated.sg_status_list];

  // Types the map does not know stay ShotGridRecords.
  const notes: ShotGridRecord[] = await sg.find("Note", null, { fields: ["content", "anything"] });
  void notes[0]?.anything;

  // The helper type on its own.
  const r: EntityRecord<"Shot", "code", Site> = { type: "Shot", id: 1, code: null };
  void r;
}
