// Type checks (tsc --strict) of the integration helpers: webhooks, AMIs, the event log.
import {
  ShotGrid,
  ShotGridError,
  verifyWebhook,
  parseActionMenuItem,
  type ActionMenuItem,
  type EventLogEntry,
  type EventPosition,
  type WebhookPayload,
} from "shotgrid-wasm";

export async function webhook(request: Request, token: string): Promise<Response> {
  const body = await request.text();
  let payload: WebhookPayload;
  try {
    payload = await verifyWebhook(body, request.headers.get("x-sg-signature"), token);
  } catch (e) {
    if (e instanceof ShotGridError && (e.kind === "auth" || e.kind === "invalid_input")) {
      return new Response(e.title, { status: 401 });
    }
    throw e;
  }
  const bytes: WebhookPayload = await verifyWebhook(new Uint8Array(await request.arrayBuffer()), request.headers, token);
  // verifyWebhook is async (WebCrypto): its result is a Promise, not the payload.
  // @ts-expect-error a Promise<WebhookPayload> is not a WebhookPayload
  const sync: WebhookPayload = verifyWebhook(body, null, token);
  void sync;
  const ids: string[] = [...payload.deliveries, ...bytes.deliveries].map((d) => d.delivery_id);
  const batched: boolean = payload.batched;
  const op: "create" | "update" | "delete" | "revive" | undefined = payload.deliveries[0]?.operation;
  void op;
  void batched;
  return new Response(ids.join(","));
}

export async function ami(request: Request, sg: ShotGrid): Promise<string> {
  const post: ActionMenuItem = await parseActionMenuItem(request);
  const fromForm: ActionMenuItem = await parseActionMenuItem(new URLSearchParams("user_id=1"));
  void fromForm;
  const ids: number[] = post.selectedIds;
  const projectId: number | undefined = post.project?.id;
  const dir: "asc" | "desc" | null | undefined = post.sort?.direction;
  void projectId;
  void dir;
  const records = await sg.find(post.entityType, [["id", "in", ids]], { fields: post.columns });
  return `${post.user.login}: ${records.length}`;
}

export async function cron(sg: ShotGrid, stored: EventPosition | null): Promise<EventPosition | null> {
  const follow = sg.events.follow({ position: stored, entityTypes: ["Shot"], untilCaughtUp: true, pageSize: 100 });
  for await (const event of follow) {
    const e: EventLogEntry = event;
    const id: number = e.id;
    const type: string = e.event_type;
    void id;
    void type;
  }
  const controller = new AbortController();
  const live = sg.events.follow({ afterId: 10, signal: controller.signal, pollIntervalMs: 1000, holeTimeoutMs: 60_000 });
  controller.abort();
  live.close();
  await sg.acknowledgeDelivery("delivery-id", "done");
  // @ts-expect-error afterId is a number
  sg.events.follow({ afterId: "1" });
  return follow.position;
}
