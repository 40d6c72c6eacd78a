// Integration helpers: webhooks, Action Menu Items, the event log.
import type { EntityLink, EntityMap } from "./index.js";

/** One webhook delivery, as ShotGrid documents it. */
export interface WebhookDelivery {
  /** The delivery's id: pass it to `sg.acknowledgeDelivery`. */
  delivery_id: string;
  id?: string;
  event_log_entry_id?: number;
  /** `Shotgun_<Type>_New|Change|Retirement|Revival`. */
  event_type?: string;
  operation?: "create" | "update" | "delete" | "revive";
  user?: EntityLink | null;
  entity?: EntityLink | null;
  project?: EntityLink | null;
  meta?: {
    type?: string;
    attribute_name?: string;
    entity_type?: string;
    entity_id?: number;
    field_data_type?: string;
    old_value?: unknown;
    new_value?: unknown;
    /** Set when the payload was over 1 MB and lost old_value/new_value. */
    warning?: string;
    [key: string]: unknown;
  };
  created_at?: string;
  attribute_name?: string | null;
  session_uuid?: string | null;
  [key: string]: unknown;
}

/** A verified webhook request. */
export interface WebhookPayload {
  timestamp: string | null;
  /** The hook sends batched deliveries (up to 50 per request). */
  batched: boolean;
  /** One delivery, or the batch's deliveries in order. */
  deliveries: WebhookDelivery[];
}

/**
 * Verifies `x-sg-signature: sha1=<hex HMAC-SHA1 of the raw body keyed by token>` with
 * WebCrypto (`crypto.subtle.verify`, constant time) and resolves to the deliveries.
 * Async (WebCrypto is; it used to return the payload directly): `await` it. Pass the body exactly as received
 * (`await request.text()` or `arrayBuffer()`), never re-serialized JSON.
 * Rejects with `ShotGridError`: kind `invalid_input` with title "Missing webhook
 * signature" or "Malformed webhook signature" (`source` "signatureHeader"), or
 * "Invalid input" for a bad argument (`source` "rawBody" / "token"), or "WebCrypto
 * unavailable" (a browser page that is not https or localhost); kind `auth` with title
 * "Webhook signature mismatch"; kind `decode` for a verified body that is not a
 * delivery payload.
 */
export declare function verifyWebhook(
  rawBody: string | Uint8Array | ArrayBuffer,
  signatureHeader: string | null | undefined | { get(name: string): string | null },
  token: string,
): Promise<WebhookPayload>;

/** What ShotGrid posts to an Action Menu Item URL, decoded. */
export interface ActionMenuItem {
  /** The page's entity type, e.g. "Version". */
  entityType: string;
  /** Ids of the selected records (may be empty). */
  selectedIds: number[];
  /** Ids of every record of the page's query. */
  ids: number[];
  /** The selected records as links: `[{ type: entityType, id }]`. */
  selection: Array<{ type: string; id: number }>;
  /** Who ran it. */
  user: { type: "HumanUser"; id: number; login: string };
  /** The page's project; null on pages outside a project. */
  project: { type: "Project"; id: number; name: string | null } | null;
  pageId: number | null;
  title: string | null;
  view: string | null;
  serverHostname: string | null;
  referrerPath: string | null;
  sessionUuid: string | null;
  /** Visible columns (field names) in order (`cols`). */
  columns: string[];
  /** Their display names (`column_display_names`). */
  columnDisplayNames: string[];
  sort: { column: string; direction: "asc" | "desc" | null } | null;
  grouping: { column: string; direction: "asc" | "desc" | null; method: string | null } | null;
  /** Light payload: the EventLogEntry holding the full payload. */
  eventLogEntryId: number | null;
  /** Fields not listed above, as sent. */
  other: Record<string, string>;
}

/**
 * Decodes an Action Menu Item post. A Request must be a POST with a urlencoded or
 * multipart form body. Rejects with `ShotGridError` (`invalid_input`, `source` naming
 * the field, e.g. "form.selected_ids") when the post is malformed.
 */
export declare function parseActionMenuItem(
  request: Request | URLSearchParams | FormData | string,
): Promise<ActionMenuItem>;

/** An EventLogEntry as read by `sg.events.follow` (default fields). */
export interface EventLogEntry {
  type: "EventLogEntry";
  id: number;
  event_type: string;
  attribute_name?: string | null;
  meta?: Record<string, unknown> | null;
  entity?: EntityLink | null;
  user?: EntityLink | null;
  project?: EntityLink | null;
  session_uuid?: string | null;
  created_at?: string;
  description?: string | null;
  [field: string]: unknown;
}

/** A follower's position: store it (it is plain JSON) and pass it back to resume. */
export interface EventPosition {
  /** Highest event id handed out. */
  lastId: number;
  /** Ids below lastId not seen yet, with when they were first noticed (ms). */
  holes: Array<[id: number, firstSeenMs: number]>;
}

export interface FollowOptions {
  /** Start after this event id. Without it (and without `position`) the follower starts after the newest event. */
  afterId?: number;
  /** Resume from a stored position (includes the holes still awaited). */
  position?: EventPosition | null;
  /** Only events about these entity types (filtered client-side, so holes stay visible). */
  entityTypes?: string[];
  /** Events per request, 1–5000 (default 500). */
  pageSize?: number;
  /** EventLogEntry fields to read (id, event_type and entity are always added). */
  fields?: string[];
  /** How long a missing id (a transaction not committed yet) is waited for, in ms (default 300000). */
  holeTimeoutMs?: number;
  /** Wait between polls once caught up, in ms (default 5000). */
  pollIntervalMs?: number;
  /** End the iteration once caught up (for a cron-triggered Worker) instead of polling forever. */
  untilCaughtUp?: boolean;
  /** Stops the iteration with a ShotGridError of kind "aborted". */
  signal?: AbortSignal;
}

/** What `sg.events.follow` returns. */
export interface EventFollow extends AsyncIterable<EventLogEntry> {
  /** The position after the last event handed out (null before the first poll when starting at the newest event). */
  readonly position: EventPosition | null;
  /** Frees WebAssembly memory; `position` stays readable. */
  close(): void;
}

export interface EventsApi {
  /**
   * New EventLogEntry records in id order, never twice. ShotGrid can commit event ids
   * out of order: an id skipped over is a "hole", re-checked on every poll for
   * `holeTimeoutMs`; its event, when it appears, is yielded after the higher ids
   * already yielded.
   */
  follow(options?: FollowOptions): EventFollow;
}

declare module "./index.js" {
  interface ShotGrid<M extends object = EntityMap> {
    /** The event log: `for await (const e of sg.events.follow({ afterId }))`. */
    readonly events: EventsApi;
    /** Sets a webhook delivery's acknowledgement (≤ 4 KB); resolves to the delivery. */
    acknowledgeDelivery(deliveryId: string, acknowledgement: string): Promise<Record<string, unknown>>;
  }
}
