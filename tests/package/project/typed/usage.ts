// A user's TypeScript, checked with `tsc --strict` against the installed tarball and the
// declarations `npx shotgrid-wasm typegen` just wrote from the emulator (shotgrid.d.ts,
// which augments the package's EntityMap). The sg_typegen_* fields were created on Shot
// by the test a moment before (a list of good/better/best, an entity field linking to
// Asset or Sequence, a currency, a timecode).
import { ShotGrid, type EntityLink } from "shotgrid-wasm";
import type { Shot, SiteEntities } from "./shotgrid.js";

export async function typed(sg: ShotGrid): Promise<void> {
  const shots = await sg.find("Shot", [["sg_status_list", "is", "ip"]], {
    fields: ["code", "sg_status_list", "sg_typegen_grade", "project", "project.Project.name", "sg_typegen_link", "sg_typegen_budget", "sg_typegen_tc"],
  });
  for (const shot of shots) {
    const code: string | null = shot.code;
    const grade: "good" | "better" | "best" | null = shot.sg_typegen_grade;
    const project: EntityLink | null = shot.project;
    const projectName: string | null = shot["project.Project.name"];
    const link: "Asset" | "Sequence" | undefined = shot.sg_typegen_link?.type;
    const budget: number | null = shot.sg_typegen_budget;
    const timecode: number | null = shot.sg_typegen_tc;
    void [code, grade, project, projectName, shot.sg_status_list, link, budget, timecode];
    // @ts-expect-error: the link's valid types are Asset and Sequence
    const shotLink: "Shot" | undefined = shot.sg_typegen_link?.type;
    // @ts-expect-error: a currency is a number
    const money: string | null = shot.sg_typegen_budget;
    void [shotLink, money];
    // @ts-expect-error: the custom list field is a union of its valid values, not any string
    const excellent: "excellent" = shot.sg_typegen_grade;
    // @ts-expect-error: code is a string, not a number: the records are not `any`
    const n: number = shot.code;
    // @ts-expect-error: description was not asked for
    void shot.description;
    void [excellent, n];
  }
  // @ts-expect-error: no such field on Shot
  await sg.find("Shot", null, { fields: ["sg_typegen_grad"] });

  const whole: Shot = await sg.read("Shot", 1, { fields: ["*"] });
  const typeName: "Shot" = whole.type;
  void typeName;

  // The map also works without the augmentation, as a type parameter.
  const other = await ShotGrid.connect<SiteEntities>({ site: "http://127.0.0.1", auth: { grant: "password", login: "a", password: "b" } });
  const project = await other.findOne("Project", null, { fields: ["name"] });
  const name: string | null | undefined = project?.name;
  void name;
}
