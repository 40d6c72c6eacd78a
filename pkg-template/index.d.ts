/** Why a call failed. */
export type ShotGridErrorKind =
  | "http"
  | "auth"
  | "network"
  | "timeout"
  | "aborted"
  | "rate_limited"
  | "invalid_input"
  | "decode";

/** The error every call rejects with. Never contains credentials or tokens. */
export declare class ShotGridError extends Error {
  constructor(message: string, props?: Partial<Omit<ShotGridError, "name" | "message">>);
  readonly name: "ShotGridError";
  /** Coarse category. */
  kind: ShotGridErrorKind;
  /** HTTP status when the server answered. */
  status: number | null;
  /** ShotGrid error code (102 authentication, 103 invalid parameters, 104 not found…). */
  code: number | null;
  /** Short title, e.g. "Not Found". */
  title: string;
  /** Longer explanation. */
  detail: string | null;
  /** The server's `source` object, or for invalid input the argument path, e.g. "auth.clientId". */
  source: unknown;
  /** The server's x-request-id, worth quoting to support. */
  requestId: string | null;
  /** Whether retrying the same call may succeed. */
  retryable: boolean;
  /** A write failed after it may have reached the server: it may have been applied. Never retried automatically. */
  maybeApplied: boolean;
  /** How long the server asked to wait (Retry-After), in ms, when it did. */
  retryAfterMs: number | null;
}

/** A script user (API key). */
export interface ClientCredentialsAuth {
  grant: "client_credentials";
  /** Script name. */
  clientId: string;
  /** Script key. */
  clientSecret: string;
}
/** A human user's login and password. */
export interface PasswordAuth {
  grant: "password";
  login: string;
  password: string;
}
/** An existing web session token. */
export interface SessionTokenAuth {
  grant: "session_token";
  sessionToken: string;
}
/** A refresh token kept from an earlier session (no fallback once it is spent). */
export interface RefreshTokenAuth {
  grant: "refresh_token";
  refreshToken: string;
}
export type Auth = ClientCredentialsAuth | PasswordAuth | SessionTokenAuth | RefreshTokenAuth;

export interface ConnectOptions {
  /** Site root, e.g. "https://studio.shotgrid.autodesk.com". */
  site: string;
  auth: Auth;
  /** Act as this human user (`sudo_as_login`). */
  sudoAs?: string;
  /** Session UUID recorded with events. */
  sessionUuid?: string;
  /** A fetch to use instead of the global one (service bindings, proxies, tests). */
  fetch?: (input: string, init?: RequestInit) => Promise<Response>;
  /** Renew the access token this many ms before it expires (default 60000). */
  refreshMarginMs?: number;
  /** Most requests per `_batch` call (default 100). */
  batchLimit?: number;
  /**
   * Retries of idempotent requests (reads, searches, token requests; never writes):
   * `false` for none, or settings. Defaults: 3 attempts, full-jitter backoff from 100 ms
   * (500 ms after 429/503) capped at 20 s, Retry-After honoured up to 60 s (longer is a
   * `rate_limited` error carrying `retryAfterMs`).
   */
  retry?: false | RetryOptions;
}

export interface RetryOptions {
  /** Attempts per request, first included (1–10; default 3). */
  maxAttempts?: number;
  /** Backoff base in ms after network errors and 5xx (default 100). */
  baseMs?: number;
  /** Backoff base in ms after 429 and 503 (default 500). */
  slowDownBaseMs?: number;
  /** Longest backoff in ms (default 20000). */
  capMs?: number;
  /** Longest Retry-After honoured, in ms (default 60000). */
  maxRetryAfterMs?: number;
}

/** A linked entity as it appears inside a record. */
export interface EntityLink {
  type: string;
  id: number;
  name?: string | null;
}

/** A record: `{ type, id, ...fields }`, linked entities as `{ type, id, name }`. */
export interface ShotGridRecord {
  type: string;
  id: number;
  [field: string]: unknown;
}

/** `GET /api/v1/`. */
export interface ServerInfo {
  shotgun_version: string;
  api_version: string;
  shotgun_version_number?: string;
  shotgun_build_number?: string;
  [key: string]: unknown;
}

/** Every filter relation of REST v1. */
export type Relation =
  | "is" | "is_not" | "less_than" | "greater_than" | "contains" | "not_contains"
  | "starts_with" | "ends_with" | "between" | "not_between"
  | "in_last" | "not_in_last" | "in_next" | "not_in_next" | "in" | "not_in"
  | "type_is" | "type_is_not"
  | "in_calendar_day" | "in_calendar_week" | "in_calendar_month" | "in_calendar_year"
  | "name_contains" | "name_not_contains" | "name_is" | "name_starts_with" | "name_ends_with";

/** A value in a condition: a scalar, an entity link, or a list of them. */
export type FilterValue = string | number | boolean | null | EntityLink | Array<string | number | boolean | null | EntityLink>;

/** `[field, relation, value…]`, e.g. `["project.Project.name", "contains", "Demo"]`. */
export type Condition = [field: string, relation: Relation, ...values: FilterValue[]];

/** `{ logical_operator, conditions }`, nestable. */
export interface FilterGroup {
  logical_operator?: "and" | "or";
  conditions: Array<Condition | FilterGroup>;
}

/** Conditions joined by AND, or a group. Validated before sending; errors name the place, e.g. `filters.conditions[2][1]`. */
export type Filters = Condition[] | FilterGroup;

export interface FindOptions {
  /** Fields to return (default: the site's defaults). Dotted deep fields work. */
  fields?: string[];
  /** Sort keys, `-` for descending: `["-created_at", "code"]`. */
  sort?: string[];
  /** Stop after this many records. */
  limit?: number;
  /** Records per request, 1–5000 (default 500). */
  pageSize?: number;
  /** Retired (deleted) records instead of live ones. */
  retired?: boolean;
  /** Include records of archived projects. */
  includeArchivedProjects?: boolean;
  /** "auto" (default): the list GET for simple filters, `_search` otherwise. */
  method?: "auto" | "get" | "search";
  /** Pages fetched at once (prefetch), 1–16; default 1. Keep it ≤ 6 inside Cloudflare Workers. */
  concurrency?: number;
}

/** What `iterate` returns: records with `for await`, or pages with `.pages()`. */
export interface RecordIterable extends AsyncIterable<ShotGridRecord> {
  pages(): AsyncIterableIterator<ShotGridRecord[]>;
}

/** Changes a multi-entity field by adding, removing or setting links. */
export interface MultiEntityUpdate {
  multi_entity_update_mode: "add" | "remove" | "set";
  value: EntityLink[];
}

/** Field values to write: links as `{ type, id }`. */
export type RecordData = Record<string, unknown>;
/** Field values of an update: multi-entity fields may use an update mode. */
export type UpdateData = Record<string, unknown | MultiEntityUpdate>;

export interface WriteOptions {
  /** Fields of the written record to return. */
  fields?: string[];
}

/** One request of a batch. */
export type BatchRequest =
  | { request_type: "create"; entity: string; data: RecordData; options?: { fields?: string[] } }
  | { request_type: "update"; entity: string; record_id: number; data: UpdateData; options?: { fields?: string[] } }
  | { request_type: "delete"; entity: string; record_id: number };

export interface BatchOptions {
  /** Send more requests than `batchLimit` as ordered chunks. Chunks are separate transactions: NOT atomic together. */
  split?: boolean;
}

export interface ReadOptions {
  /** Fields to return; `["*"]` for all. Dotted deep fields such as "project.Project.name" work. */
  fields?: string[];
}

/** A connected client. */
export declare class ShotGrid {
  private constructor();
  /** Authenticates (bad credentials reject here) and returns a connected client. */
  static connect(options: ConnectOptions): Promise<ShotGrid>;
  /** Server info; needs no token. */
  info(): Promise<ServerInfo>;
  /** One record by id; rejects with status 404 (code 104) when it does not exist. */
  read(entityType: string, id: number, options?: ReadOptions): Promise<ShotGridRecord>;
  /** Every matching record (all pages), up to `options.limit`. */
  find(entityType: string, filters?: Filters | null, options?: FindOptions): Promise<ShotGridRecord[]>;
  /** The first matching record in `options.sort` order, or null. */
  findOne(entityType: string, filters?: Filters | null, options?: Omit<FindOptions, "limit" | "pageSize">): Promise<ShotGridRecord | null>;
  /** Reads lazily, page by page: `for await (const r of sg.iterate("Shot", f))`, or `.pages()`. */
  iterate(entityType: string, filters?: Filters | null, options?: FindOptions): RecordIterable;
  /** Creates a record and resolves to it. A network failure after sending rejects with `maybeApplied: true`. */
  create(entityType: string, data: RecordData, options?: WriteOptions): Promise<ShotGridRecord>;
  /** Updates a record and resolves to it. */
  update(entityType: string, id: number, data: UpdateData, options?: WriteOptions): Promise<ShotGridRecord>;
  /** Deletes (retires) a record; `revive` brings it back. */
  delete(entityType: string, id: number): Promise<void>;
  /** Revives a retired record; resolves to whether it was revived. */
  revive(entityType: string, id: number): Promise<boolean>;
  /** Runs requests in one transaction (all or nothing); results in order. */
  batch(requests: BatchRequest[], options?: BatchOptions): Promise<Array<ShotGridRecord | boolean | null>>;
  /** The low-level page cursor behind `iterate`. */
  cursor(entityType: string, filters?: Filters | null, options?: FindOptions): Cursor;
  /** The site URL. */
  readonly site: string;
  /** When the current access token expires (ms since the epoch). */
  readonly tokenExpiresAt: number | undefined;
  /** "ShotGrid(<site>)" */
  toString(): string;
  /** `{ site }` */
  toJSON(): { site: string };
  /** Frees the client's memory in the WebAssembly instance. */
  free(): void;
  [Symbol.dispose](): void;
}

/** A page-by-page read; prefer `sg.iterate`. */
export declare class Cursor {
  private constructor();
  /** The next page, or null when there are no more. Call again only after it settles. */
  nextPage(): Promise<ShotGridRecord[] | null>;
  free(): void;
  [Symbol.dispose](): void;
}
export * from "./upload.js";
export * from "./extras.js";
