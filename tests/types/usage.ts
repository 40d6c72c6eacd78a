// Type-level tests of the package's public surface (`tsc --strict`, suite `types`).
// Lines marked @ts-expect-error must stay errors: if the types loosen, tsc fails.
import { ShotGrid, ShotGridError, type ShotGridRecord, type ServerInfo, type ConnectOptions } from "shotgrid-wasm";

export async function usage(): Promise<void> {
  const options: ConnectOptions = {
    site: "https://studio.shotgrid.autodesk.com",
    auth: { grant: "client_credentials", clientId: "script", clientSecret: "key" },
  };
  const sg: ShotGrid = await ShotGrid.connect(options);
  const info: ServerInfo = await sg.info();
  const version: string = info.api_version;
  const shot: ShotGridRecord = await sg.read("Shot", 1, { fields: ["code"] });
  const id: number = shot.id;
  const type: string = shot.type;
  const expires: number | undefined = sg.tokenExpiresAt;
  void [version, id, type, expires, sg.site, String(sg), sg.toJSON().site];

  await ShotGrid.connect({ site: "x", auth: { grant: "password", login: "a", password: "b" }, sudoAs: "jane" });
  await ShotGrid.connect({ site: "x", auth: { grant: "session_token", sessionToken: "t" }, retry: { maxAttempts: 5, capMs: 5000 } });
  await ShotGrid.connect({ site: "x", auth: { grant: "session_token", sessionToken: "t" }, retry: false });
  await ShotGrid.connect({ site: "x", auth: { grant: "refresh_token", refreshToken: "r" }, fetch: globalThis.fetch });

  try {
    await sg.read("Shot", 2);
  } catch (err) {
    if (err instanceof ShotGridError) {
      const kind: "http" | "auth" | "network" | "timeout" | "aborted" | "rate_limited" | "invalid_input" | "decode" = err.kind;
      const status: number | null = err.status;
      const code: number | null = err.code;
      const requestId: string | null = err.requestId;
      const retryable: boolean = err.retryable;
      const wait: number | null = err.retryAfterMs;
      void wait;
      void [kind, status, code, requestId, retryable];
    }
  }

  const shots: ShotGridRecord[] = await sg.find("Shot", [["code", "starts_with", "SQ"], ["id", "in", [1, 2]]], { fields: ["code"], sort: ["-id"], limit: 5 });
  const one: ShotGridRecord | null = await sg.findOne("Shot", { logical_operator: "or", conditions: [["id", "is", 1], { conditions: [["code", "is", null]] }] });
  for await (const r of sg.iterate("Shot", null, { pageSize: 100 })) void r.id;
  for await (const page of sg.iterate("Shot").pages()) void page.length;
  void [shots, one];
  const created: ShotGridRecord = await sg.create("Shot", { code: "sh010", project: { type: "Project", id: 1 } }, { fields: ["code"] });
  await sg.update("Shot", created.id, { assets: { multi_entity_update_mode: "add", value: [{ type: "Asset", id: 2 }] } });
  await sg.delete("Shot", created.id);
  const revived: boolean = await sg.revive("Shot", created.id);
  const results = await sg.batch([
    { request_type: "create", entity: "Shot", data: { code: "a" } },
    { request_type: "delete", entity: "Shot", record_id: 3 },
  ], { split: true });
  void [revived, results.length];
  // @ts-expect-error: a delete in a batch needs record_id
  await sg.batch([{ request_type: "delete", entity: "Shot" }]);
  // @ts-expect-error: unknown relation
  await sg.find("Shot", [["code", "like", "x"]]);
  // @ts-expect-error: method is auto/get/search
  await sg.find("Shot", [], { method: "post" });
  // @ts-expect-error: a grant needs its own fields
  await ShotGrid.connect({ site: "x", auth: { grant: "client_credentials", login: "a" } });
  // @ts-expect-error: unknown grant
  await ShotGrid.connect({ site: "x", auth: { grant: "magic" } });
  // @ts-expect-error: ids are numbers
  await sg.read("Shot", "1");
  // @ts-expect-error: fields are strings
  await sg.read("Shot", 1, { fields: [1] });
  // @ts-expect-error: no public constructor
  new ShotGrid();
}
