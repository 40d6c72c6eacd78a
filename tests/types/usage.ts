// Type-level tests of the package's public surface (`tsc --strict`, suite `types`).
// Lines marked @ts-expect-error must stay errors: if the types loosen, tsc fails.
import {
  ShotGrid, ShotGridError, type ShotGridRecord, type ServerInfo, type ConnectOptions, type SessionTokens,
  type JsonApiDocument, type JsonApiResource, type SummarizeResult, type FieldSchema, type EntitySchema,
  type SchemaValue, type EntityLink, type Webhook, type WebhookDelivery, type ActivityStream, type HierarchyNode,
} from "shotgrid-wasm";

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
  const cursor = sg.cursor("Shot", null, { concurrency: 4 });
  const window: number = cursor.concurrency;
  // @ts-expect-error read-only: the window is chosen when the read starts
  cursor.concurrency = 2;
  cursor.free();
  void window;
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
  const ctl = new AbortController();
  await sg.find("Shot", null, { signal: ctl.signal, timeoutMs: 5000, deadlineMs: 20000 });
  await sg.read("Shot", 1, { fields: ["code"], signal: ctl.signal });
  await sg.delete("Shot", 1, { signal: ctl.signal });
  await sg.info({ timeoutMs: 1000 });
  // @ts-expect-error: signal must be an AbortSignal
  await sg.read("Shot", 1, { signal: "stop" });
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

export async function capabilities(sg: ShotGrid): Promise<void> {
  // Token hooks and imported tokens.
  let kept: SessionTokens | undefined;
  await ShotGrid.connect({
    site: "x",
    auth: { grant: "client_credentials", clientId: "a", clientSecret: "b" },
    tokens: { accessToken: "t", refreshToken: "r", expiresAt: Date.now() + 1000 },
    onTokens(t) { kept = t; },
  });
  await ShotGrid.connect({ site: "x", tokens: { refreshToken: kept?.refreshToken ?? "r" } });
  await ShotGrid.connect({ site: "x", auth: { grant: "refresh_token", refreshToken: "r" }, onTokens: async (t) => { void t.expiresAt; } });
  // @ts-expect-error: neither auth nor tokens
  await ShotGrid.connect({ site: "x" });
  // @ts-expect-error: imported tokens need a refresh token
  await ShotGrid.connect({ site: "x", tokens: { accessToken: "t" } });
  // @ts-expect-error: expiresAt is a number (ms since the epoch)
  await ShotGrid.connect({ site: "x", tokens: { refreshToken: "r", expiresAt: "soon" } });

  // Raw documents.
  const doc: JsonApiDocument<JsonApiResource> = await sg.read("Shot", 1, { raw: true });
  const attrs: Record<string, unknown> | undefined = doc.data.attributes;
  const pages: Array<JsonApiDocument<JsonApiResource[]>> = await sg.find("Shot", null, { raw: true, limit: 3 });
  const firstPage: JsonApiDocument<JsonApiResource[]> | null = await sg.findOne("Shot", [], { raw: true });
  const flat: ShotGridRecord = await sg.read("Shot", 1, { raw: false });
  void [attrs, pages[0]?.links?.next, firstPage, flat];
  // @ts-expect-error: a raw read is a document, not a flat record
  const notFlat: ShotGridRecord = await sg.read("Shot", 1, { raw: true });
  void notFlat;

  // Text search and summaries.
  const hits: ShotGridRecord[] = await sg.textSearch("bunny", { Asset: [["sg_status_list", "is", "ip"]], Shot: null }, { sort: ["-id"], limit: 10 });
  await sg.textSearch("bunny", { Project: { logical_operator: "and", conditions: [["is_demo", "is", true]] }, Shot: [] }, { page: 1, pageSize: 20 });
  // @ts-expect-error: lists and groups cannot be mixed in one call
  await sg.textSearch("bunny", { Asset: [["code", "is", "a"]], Shot: { conditions: [["code", "is", "b"]] } });
  const sum: SummarizeResult = await sg.summarize("Asset", [["project", "is", { type: "Project", id: 4 }]], [{ field: "id", type: "count" }], {
    grouping: [{ field: "sg_asset_type", type: "exact", direction: "asc" }],
    includeArchivedProjects: true,
  });
  void [hits, sum.summaries.id, sum.groups[0]?.group_value];
  // @ts-expect-error: unknown summary type
  await sg.summarize("Asset", null, [{ field: "id", type: "not_possible" }]);
  // @ts-expect-error: unknown grouping type
  await sg.summarize("Asset", null, [{ field: "id", type: "count" }], { grouping: [{ field: "code", type: "alphabetical" }] });
  // @ts-expect-error: direction is asc/desc
  await sg.summarize("Asset", null, [{ field: "id", type: "count" }], { grouping: [{ field: "code", type: "exact", direction: "up" }] });

  // Relationships, follows, activity.
  const linked: EntityLink[] | EntityLink | null = await sg.relationship("Shot", 1, "assets", { retired: false });
  await sg.follow(5, { type: "Task", id: 2 });
  await sg.follow(5, [{ type: "Task", id: 2 }, { type: "Shot", id: 3 }]);
  await sg.unfollow(5, { type: "Task", id: 2 });
  const followers: EntityLink[] = await sg.followers("Shot", 1);
  const follows: EntityLink[] = await sg.following(5, { entityType: "Task", projectId: 1 });
  const stream: ActivityStream = await sg.activityStream("Shot", 1, { entityFields: { Shot: ["code"] }, minId: 1, maxId: 9, limit: 50 });
  const thread = await sg.noteThread(1, { entityFields: { Reply: ["content"] } });
  const project: EntityLink = await sg.updateProjectLastAccessed(1, 5);
  const prefs: Record<string, unknown> = await sg.preferences(["format_date_fields"]);
  void [linked, followers, follows, stream.updates[0]?.id, thread[0]?.type, project, prefs];
  // @ts-expect-error: unfollow takes one entity
  await sg.unfollow(5, [{ type: "Task", id: 2 }]);
  // @ts-expect-error: user ids are numbers
  await sg.follow("5", { type: "Task", id: 2 });
  // @ts-expect-error: entity fields are lists per type
  await sg.activityStream("Shot", 1, { entityFields: ["code"] });

  // Schema: {value, editable} kept.
  const entities: Record<string, EntitySchema> = await sg.schema.entities({ projectId: 1 });
  const assetSchema: EntitySchema = await sg.schema.entity("Asset");
  const fields: Record<string, FieldSchema> = await sg.schema.fields("Asset");
  const code: FieldSchema = await sg.schema.field("Asset", "code");
  const dataType: SchemaValue<string> = code.data_type;
  const editable: boolean = code.name.editable;
  await sg.schema.createField("Asset", "number", { name: "Frames", description: "frame count" });
  await sg.schema.updateField("Asset", "sg_frames", { description: "x" }, { projectId: 2 });
  await sg.schema.deleteField("Asset", "sg_frames");
  await sg.schema.reviveField("Asset", "sg_frames");
  void [entities, assetSchema.name.value, fields, dataType.value, editable];
  // @ts-expect-error: unknown data type
  await sg.schema.createField("Asset", "string", { name: "x" });
  // @ts-expect-error: a new field needs a display name
  await sg.schema.createField("Asset", "text", { description: "x" });

  // Hierarchy.
  const node: HierarchyNode = await sg.hierarchy.expand({ path: "/Project/70", entity_fields: [{ entity: "Version", fields: ["code"] }] });
  const found = await sg.hierarchy.search({ root_path: "/Project/70", search_criteria: { search_string: "bunny" } });
  await sg.hierarchy.search({ search_criteria: { entity: { type: "Shot", id: 2 } } });
  void [node.children, found[0]?.path_label];
  // @ts-expect-error: expand needs a path
  await sg.hierarchy.expand({ seed_entity_field: "Version.entity" });
  // @ts-expect-error: one criterion only
  await sg.hierarchy.search({ search_criteria: { search_string: "a", entity: { type: "Shot", id: 1 } } });

  // Webhooks.
  const hooks: Webhook[] = await sg.webhooks.list({ status: "active", pageSize: 10 });
  const created: Webhook | null = await sg.webhooks.create({ url: "https://example.com/hook", name: "Assets", entity_types: { Asset: { create: [], update: ["code"] } }, projects: [1] });
  await sg.webhooks.update("04684d89-1ff6-4775-9685-f6771f5d3658", { status: "disabled" });
  const hook: Webhook = await sg.webhooks.get("04684d89-1ff6-4775-9685-f6771f5d3658");
  const deliveries: WebhookDelivery[] = await sg.webhooks.deliveries(hook.id, { status: "failed", entityType: "Asset" });
  const delivery: WebhookDelivery = await sg.webhooks.delivery("008b4850-d5d2-4c2b-bfb4-8c4331233c4a");
  await sg.webhooks.acknowledge(delivery.id, "processed");
  await sg.webhooks.redeliver(delivery.id);
  await sg.webhooks.delete(hook.id);
  void [hooks, created, deliveries];
  // @ts-expect-error: a hook's status can only be set to active or disabled
  await sg.webhooks.update("x", { status: "failed" });
  // @ts-expect-error: unknown operation
  await sg.webhooks.create({ url: "https://e.com", name: "n", entity_types: { Asset: { retire: [] } } });
  // @ts-expect-error: acknowledgements are strings
  await sg.webhooks.acknowledge("x", { ok: true });
}
