// A user's TypeScript, checked with `tsc --strict` against the installed tarball and the
// declarations `npx shotgrid-wasm typegen` just wrote from the emulator (shotgrid.d.ts,
// which augments the package's EntityMap). `sg_typegen_grade` is a list field the test
// created on Shot a moment before (valid values good/better/best).
import { ShotGrid, type EntityLink } from "shotgrid-wasm";
import type { Shot, SiteEntities } from "./shotgrid.js";

export async function typed(sg: ShotGrid): Promise<void> {
  const shots = await sg.find("Shot", [["sg_status_list", "is", "ip"]], {
    fields: ["code", "sg_status_list", "sg_typegen_grade", "project", "project.Project.name"],
  });
  for (const shot of shots) {
    const code: string | null = shot.code;
    const grade: "good" | "better" | "best" | null = shot.sg_typegen_grade;
    const project: EntityLink | null = shot.project;
    const projectName: string | null = shot["project.Project.name"];
    void [code, grade, project, projectName, shot.sg_status_list];
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
