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

/** Tokens handed to `onTokens` after every grant and refresh. Keep them somewhere safe if you want to resume later. */
export interface SessionTokens {
  accessToken: string;
  /** Single use; lives 24 h. */
  refreshToken: string | null;
  /** When the access token expires, in ms since the epoch. */
  expiresAt: number;
}

/** Tokens kept from an earlier session, to resume it without a new grant. */
export interface ImportedTokens {
  /** Used until it expires (or until the site answers "Token Expired"). */
  accessToken?: string;
  refreshToken: string;
  /** When `accessToken` expires, in ms since the epoch. */
  expiresAt?: number;
}

interface ConnectCommon {
  /** Site root, e.g. "https://studio.shotgrid.autodesk.com". */
  site: string;
  /**
   * Called after every token grant and refresh (not for imported tokens). The client
   * never persists anything itself. Exceptions and rejections of the callback are ignored.
   */
  onTokens?: (tokens: SessionTokens) => void | Promise<void>;
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
  /** Default per-attempt timeout of every call, in ms (default 30000). */
  timeoutMs?: number;
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

/**
 * Connection options: `auth` (a grant), optionally with `tokens` to resume a session
 * (the grant stays available as a fallback when the refresh token is spent), or `tokens`
 * alone (no fallback, like `grant: "refresh_token"`).
 */
export type ConnectOptions =
  | (ConnectCommon & { auth: Auth; tokens?: ImportedTokens })
  | (ConnectCommon & { auth?: undefined; tokens: ImportedTokens });

/**
 * Options every call accepts (in its trailing options object): cancel it with an
 * `AbortSignal`, bound each attempt (`timeoutMs`, default 30000; upload parts are
 * bounded only by the deadline unless set) and the whole call, retries included
 * (`deadlineMs`). An aborted call rejects with `kind: "aborted"`, a timed-out one with
 * `kind: "timeout"`; nothing keeps running afterwards.
 */
export interface CallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  deadlineMs?: number;
}

/** A linked entity as it appears inside a record (`T`: the entity types it can link to). */
export interface EntityLink<T extends string = string> {
  type: T;
  id: number;
  name?: string | null;
}

/** A record: `{ type, id, ...fields }`, linked entities as `{ type, id, name }`. */
export interface ShotGridRecord {
  type: string;
  id: number;
  [field: string]: unknown;
}

/**
 * Your site's entity types, for typed records: empty here (every record is a
 * `ShotGridRecord`). `npx shotgrid-wasm typegen` writes a `.d.ts` that adds each
 * entity type of a site to it (`declare module "shotgrid-wasm" { interface EntityMap
 * extends SiteEntities {} }`); or leave it empty and pass the generated map to
 * `ShotGrid.connect<SiteEntities>(…)`. Each entry maps a type name to its record
 * interface: `{ Shot: { type: "Shot"; id: number; code: string | null; … } }`.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface EntityMap {}

/** A `date` field's value: `"YYYY-MM-DD"`. */
export type DateString = string;
/** A `date_time` field's value: ISO 8601, `"YYYY-MM-DDThh:mm:ssZ"`. */
export type DateTimeString = string;

/** A `url` (file/link) field's value. */
export interface FileLink {
  url?: string;
  name?: string;
  content_type?: string;
  link_type?: "upload" | "web" | "local";
  /** The Attachment holding an uploaded file. */
  type?: string;
  id?: number;
  local_path?: string;
  [key: string]: unknown;
}

/** An entity type name: one of the map's (autocompleted) or any other. */
export type EntityTypeName<M = EntityMap> = (keyof M & string) | (string & {});

/** A deep field through a link, `"field.Type.field"`, e.g. `"project.Project.name"`. */
export type DeepField = `${string}.${string}.${string}`;

/**
 * Fields that can be asked of entity type `T`: its fields, deep fields and `"*"` when
 * the map knows `T`; any string otherwise.
 */
export type FieldName<T extends string, M = EntityMap> = T extends keyof M
  ? Exclude<keyof M[T], "type" | "id"> & string | DeepField | "*"
  : string;

/** The value of field `F` of type `T`, following deep fields through the map. */
export type FieldValue<T extends string, F extends string, M = EntityMap> = T extends keyof M
  ? F extends keyof M[T]
    ? M[T][F]
    : F extends `${infer Link}.${infer Target}.${infer Rest}`
      ? Link extends keyof M[T]
        ? Target extends keyof M ? FieldValue<Target, Rest, M> | null : unknown
        : unknown
      : unknown
  : unknown;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

/**
 * A record of type `T` read with `fields: F[]`: exactly `type`, `id` and those fields
 * when the map knows `T` (every field with `"*"`; every field optional when the fields
 * are not known); a `ShotGridRecord` otherwise.
 */
export type EntityRecord<T extends string, F extends string = never, M = EntityMap> = T extends keyof M
  ? [F] extends [never]
    ? Simplify<{ type: T; id: number } & Partial<Omit<M[T], "type" | "id">>>
    : string extends F
      ? Simplify<{ type: T; id: number } & Partial<Omit<M[T], "type" | "id">>>
      : "*" extends F
        ? Simplify<M[T]>
        : Simplify<{ type: T; id: number } & { [K in F]: FieldValue<T, K, M> }>
  : ShotGridRecord;

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

export interface FindOptions<F extends string = string> extends CallOptions {
  /** Fields to return (default: the site's defaults). Dotted deep fields work. */
  fields?: F[];
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
  /**
   * Page requests kept in flight (prefetch), 1–16: a sliding window (as soon as a page
   * lands the next is requested), pages still handed out in order. Default, after
   * page 1 fetched alone (so a one-page read sends one request): 6 in browsers (their
   * HTTP/1.1 limit of 6 connections per host), 4 in Node, 2 in Workers,
   * where requests count as subrequests (a read past page 1 sends at most
   * `concurrency − 1` past its end; 1 sends none). Keep it ≤ 6 inside Workers.
   */
  concurrency?: number;
  /** `true`: the JSON:API document of each page instead of flat records. */
  raw?: boolean;
}

/** A JSON:API resource as the site sends it. */
export interface JsonApiResource {
  type: string;
  id: number;
  attributes?: Record<string, unknown>;
  relationships?: Record<string, { data?: unknown; links?: Record<string, string> }>;
  links?: Record<string, string>;
}

/** A JSON:API document as the site sends it (`raw: true`). */
export interface JsonApiDocument<D = JsonApiResource | JsonApiResource[]> {
  data: D;
  links?: { self?: string; next?: string; prev?: string; [key: string]: string | undefined };
  meta?: Record<string, unknown>;
}

/** What `iterate` returns: records with `for await`, or pages with `.pages()`. */
export interface RecordIterable<R = ShotGridRecord> extends AsyncIterable<R> {
  pages(): AsyncIterableIterator<R[]>;
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

/**
 * What a field of record type `V` accepts in a write: its own value type; a
 * multi-entity field also an update mode; a file/link field also a URL string.
 */
export type WriteValue<V> = [V] extends [unknown[]]
  ? V | MultiEntityUpdate
  : [V] extends [FileLink | null]
    ? V | string
    : V;

/**
 * Field values of a create or update of entity type `T`: when the map knows `T`, only
 * its fields, each with its type (a typo in a field name or a status is a compile
 * error); `RecordData`/`UpdateData` otherwise.
 */
export type WriteData<T extends string, M = EntityMap> = T extends keyof M
  ? { [K in Exclude<keyof M[T], "type" | "id">]?: WriteValue<M[T][K]> }
  : UpdateData;

export interface WriteOptions<F extends string = string> extends CallOptions {
  /** Fields of the written record to return. */
  fields?: F[];
}

/** One request of a batch. */
export type BatchRequest =
  | { request_type: "create"; entity: string; data: RecordData; options?: { fields?: string[] } }
  | { request_type: "update"; entity: string; record_id: number; data: UpdateData; options?: { fields?: string[] } }
  | { request_type: "delete"; entity: string; record_id: number };

export interface BatchOptions extends CallOptions {
  /** Send more requests than `batchLimit` as ordered chunks. Chunks are separate transactions: NOT atomic together. */
  split?: boolean;
}

export interface ReadOptions<F extends string = string> extends CallOptions {
  /** Fields to return; `["*"]` for all. Dotted deep fields such as "project.Project.name" work. */
  fields?: F[];
  /** `true`: the JSON:API document instead of a flat record. */
  raw?: boolean;
}

export interface TextSearchOptions {
  /** Sort keys, `-` for descending. */
  sort?: string[];
  /** Read only this page (1-based); without it every page is read up to `limit`. */
  page?: number;
  /** Records per page, 1–5000 (default 500). */
  pageSize?: number;
  /** Stop after this many records (not with `page`). */
  limit?: number;
}

/**
 * `{ Type: filters }` for `textSearch`. One call sends one Content-Type, so every
 * type's filters must be lists of conditions, or every one a group (`[]`/`null` fit both).
 */
export type TextSearchEntityTypes =
  | Record<string, Condition[] | null>
  | Record<string, FilterGroup | [] | null>;

/** How a field is summarized. */
export type SummaryType =
  | "record_count" | "count" | "sum" | "maximum" | "minimum" | "average"
  | "earliest" | "latest" | "percentage" | "status_percentage" | "status_list"
  | "checked" | "unchecked";

/** How records are grouped. */
export type GroupingType =
  | "exact" | "tens" | "hundreds" | "thousands" | "tensofthousands" | "hundredsofthousands"
  | "millions" | "day" | "week" | "month" | "quarter" | "year" | "clustered_date"
  | "oneday" | "fivedays" | "entitytype" | "firstletter";

export interface SummaryField {
  field: string;
  type: SummaryType;
}

export interface Grouping {
  field: string;
  type: GroupingType;
  direction?: "asc" | "desc";
}

export interface SummarizeOptions {
  grouping?: Grouping[];
  includeArchivedProjects?: boolean;
}

/** One group of a summary; grouping by an entity field gives a link as `group_value`. */
export interface SummaryGroup {
  group_name: string;
  group_value: unknown;
  summaries: Record<string, unknown>;
  groups?: SummaryGroup[];
}

/** What `summarize` resolves to. */
export interface SummarizeResult {
  /** Totals per summarized field. */
  summaries: Record<string, unknown>;
  /** Per group (empty without grouping). */
  groups: SummaryGroup[];
}

/** A schema value as the site sends it: the value and whether it can be changed. */
export interface SchemaValue<T = unknown> {
  value: T;
  editable: boolean;
}

/** An entity type's schema. */
export interface EntitySchema {
  name: SchemaValue<string>;
  visible: SchemaValue<boolean>;
  [key: string]: SchemaValue;
}

/** Data types a field can be created with. */
export type FieldDataType =
  | "checkbox" | "currency" | "date" | "date_time" | "duration" | "entity" | "float" | "list"
  | "multi_entity" | "number" | "percent" | "status_list" | "text" | "timecode" | "footage"
  | "url" | "uuid" | "calculated";

/** A field's schema, `{value, editable}` pairs as the site sends them. */
export interface FieldSchema {
  name: SchemaValue<string>;
  description: SchemaValue<string>;
  entity_type: SchemaValue<string>;
  data_type: SchemaValue<string>;
  editable: SchemaValue<boolean>;
  mandatory: SchemaValue<boolean>;
  unique: SchemaValue<boolean>;
  visible: SchemaValue<boolean>;
  properties: Record<string, SchemaValue>;
  ui_value_displayable?: SchemaValue<boolean>;
  custom_metadata?: SchemaValue<string>;
  [key: string]: SchemaValue | Record<string, SchemaValue> | undefined;
}

export interface SchemaOptions {
  /** The project whose schema (visibility) to read. */
  projectId?: number;
}

/** Field properties to set, by name: `{ name: "Budget", description: "…" }`. */
export type FieldProperties = Record<string, unknown>;

/** `sg.schema`: read the schema, create, update, delete and revive fields. */
export interface SchemaApi {
  /** Every entity type: `{ Type: { name, visible } }`. */
  entities(options?: SchemaOptions): Promise<Record<string, EntitySchema>>;
  entity(entityType: string, options?: SchemaOptions): Promise<EntitySchema>;
  /** Every field of a type: `{ field: FieldSchema }`. */
  fields(entityType: string, options?: SchemaOptions): Promise<Record<string, FieldSchema>>;
  field(entityType: string, fieldName: string, options?: SchemaOptions): Promise<FieldSchema>;
  /** Creates a field; `properties.name` (display name) is required. Never retried. */
  createField(entityType: string, dataType: FieldDataType, properties: FieldProperties & { name: string }): Promise<Record<string, FieldSchema>>;
  updateField(entityType: string, fieldName: string, properties: FieldProperties, options?: SchemaOptions): Promise<FieldSchema>;
  deleteField(entityType: string, fieldName: string): Promise<void>;
  reviveField(entityType: string, fieldName: string): Promise<void>;
}

/** `POST /hierarchy/_expand` body, as the reference spells it. */
export interface HierarchyExpandRequest {
  /** Target level, e.g. "/Project/70". */
  path: string;
  entity_fields?: Array<{ entity: string; fields: string[] }>;
  /** "Type.field", e.g. "Version.entity". */
  seed_entity_field?: string;
}

/** `POST /hierarchy/_search` body: exactly one search criterion. */
export interface HierarchySearchRequest {
  root_path?: string;
  search_criteria: { search_string: string; entity?: undefined } | { entity: { type: string; id: number }; search_string?: undefined };
  seed_entity_field?: string;
}

/** A node of the navigation tree. */
export interface HierarchyNode {
  label: string;
  ref: { kind: string; value: unknown };
  path: string;
  parent_path?: string;
  has_children: boolean;
  children?: HierarchyNode[];
  target_entities?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface HierarchySearchResult {
  label: string;
  incremental_path: string[];
  path_label: string;
  ref: { type: string; id: number };
  project_id: number;
  [key: string]: unknown;
}

/** `sg.hierarchy`. */
export interface HierarchyApi {
  expand(body: HierarchyExpandRequest): Promise<HierarchyNode>;
  search(body: HierarchySearchRequest): Promise<HierarchySearchResult[]>;
}

export interface FollowingOptions {
  entityType?: string;
  projectId?: number;
}

/** `{ Type: [fields] }` to return per entity type. */
export type EntityFields = Record<string, string[]>;

export interface ActivityStreamOptions {
  entityFields?: EntityFields;
  minId?: number;
  maxId?: number;
  /** 1–500 (the site's default is 25). */
  limit?: number;
}

export interface ActivityUpdate {
  id: number;
  update_type: string;
  meta: Record<string, unknown>;
  created_at: string;
  read: boolean;
  primary_entity: EntityLink & Record<string, unknown>;
  created_by: (EntityLink & Record<string, unknown>) | null;
  [key: string]: unknown;
}

export interface ActivityStream {
  entity_type: string;
  entity_id: number;
  latest_update_id: number;
  earliest_update_id: number;
  updates: ActivityUpdate[];
}

/** A Note, Reply or attachment of a note thread. */
export interface ThreadItem {
  type: string;
  id: number;
  [field: string]: unknown;
}

/** Operations a webhook can fire on, each with the fields to watch (`[]` for all). */
export type WebhookOperations = Partial<Record<"create" | "update" | "delete" | "revive", string[]>>;

export interface WebhookCreate {
  /** Absolute http(s) URL. */
  url: string;
  name: string;
  entity_types: Record<string, WebhookOperations>;
  description?: string | null;
  /** Signs deliveries (HMAC-SHA1 in `x-sg-signature`). */
  token?: string | null;
  projects?: number[];
  validate_ssl_cert?: boolean;
  batch_deliveries?: boolean;
}

export type WebhookUpdate = Partial<WebhookCreate> & { status?: "active" | "disabled" };

export interface Webhook {
  id: string;
  url: string;
  name: string;
  description?: string | null;
  entity_types: Record<string, WebhookOperations>;
  status: string;
  num_deliveries?: number;
  validate_ssl_cert?: boolean;
  [key: string]: unknown;
}

export interface WebhookDelivery {
  id: string;
  event_time: number;
  status: "delivered" | "failed" | string;
  process_time?: number;
  body?: string;
  response_code?: number;
  request_body: unknown;
  acknowledgement: string;
  request_headers?: Record<string, unknown>;
  response_headers?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface WebhookListOptions {
  status?: "active" | "unstable" | "failed" | "disabled" | "stable";
  url?: string;
  page?: number;
  pageSize?: number;
}

export interface DeliveryListOptions {
  status?: "delivered" | "failed";
  /** UTC timestamp in seconds. */
  from?: number;
  /** UTC timestamp in seconds. */
  to?: number;
  entityId?: number;
  entityType?: string;
  /** Acknowledgements containing this text. */
  acknowledgement?: string;
  page?: number;
  pageSize?: number;
}

/** `sg.webhooks`: webhook configuration and deliveries. Writes are never retried. */
export interface WebhooksApi {
  list(options?: WebhookListOptions): Promise<Webhook[]>;
  get(id: string): Promise<Webhook>;
  create(hook: WebhookCreate): Promise<Webhook | null>;
  update(id: string, changes: WebhookUpdate): Promise<Webhook | null>;
  delete(id: string): Promise<void>;
  deliveries(hookId: string, options?: DeliveryListOptions): Promise<WebhookDelivery[]>;
  delivery(id: string): Promise<WebhookDelivery>;
  /** At most 4096 bytes of UTF-8 (checked before sending). */
  acknowledge(id: string, acknowledgement: string): Promise<void>;
  redeliver(id: string): Promise<void>;
}

/**
 * A connected client. `M` maps entity type names to record types (`EntityMap` unless
 * given to `connect`): reads of a type it knows resolve to typed records with exactly the
 * requested fields, and unknown field names are compile errors.
 */
export declare class ShotGrid<M extends object = EntityMap> {
  private constructor();
  /**
   * Authenticates (bad credentials reject here) and returns a connected client;
   * `ShotGrid.connect<SiteEntities>(…)` types its records with a map from `typegen`.
   */
  static connect<M extends object = EntityMap>(options: ConnectOptions): Promise<ShotGrid<M>>;
  /** Server info; needs no token. */
  info(options?: CallOptions): Promise<ServerInfo>;
  /** One record by id; rejects with status 404 (code 104) when it does not exist. */
  read(entityType: string, id: number, options: ReadOptions & { raw: true }): Promise<JsonApiDocument<JsonApiResource>>;
  read<T extends EntityTypeName<M>, F extends FieldName<T, M> = never>(entityType: T, id: number, options?: ReadOptions<F> & { raw?: false }): Promise<EntityRecord<T, F, M>>;
  /** Every matching record (all pages), up to `options.limit`; with `raw: true` the document of each page. */
  find(entityType: string, filters: Filters | null | undefined, options: FindOptions & { raw: true }): Promise<Array<JsonApiDocument<JsonApiResource[]>>>;
  find<T extends EntityTypeName<M>, F extends FieldName<T, M> = never>(entityType: T, filters?: Filters | null, options?: FindOptions<F> & { raw?: false }): Promise<Array<EntityRecord<T, F, M>>>;
  /** The first matching record in `options.sort` order, or null; with `raw: true` the page's document. */
  findOne(entityType: string, filters: Filters | null | undefined, options: Omit<FindOptions, "limit" | "pageSize"> & { raw: true }): Promise<JsonApiDocument<JsonApiResource[]> | null>;
  findOne<T extends EntityTypeName<M>, F extends FieldName<T, M> = never>(entityType: T, filters?: Filters | null, options?: Omit<FindOptions<F>, "limit" | "pageSize" | "raw"> & { raw?: false }): Promise<EntityRecord<T, F, M> | null>;
  /** Reads lazily, page by page: `for await (const r of sg.iterate("Shot", f))`, or `.pages()`. */
  iterate<T extends EntityTypeName<M>, F extends FieldName<T, M> = never>(entityType: T, filters?: Filters | null, options?: Omit<FindOptions<F>, "raw">): RecordIterable<EntityRecord<T, F, M>>;
  /** Text search (≥ 3 characters) across entity types, each with its own filters. */
  textSearch(text: string, entityTypes: TextSearchEntityTypes, options?: TextSearchOptions): Promise<ShotGridRecord[]>;
  /** Summaries of matching records (the UI's summary row), optionally grouped. */
  summarize(entityType: string, filters: Filters | null, summaryFields: SummaryField[], options?: SummarizeOptions): Promise<SummarizeResult>;
  /** Records linked through an entity or multi-entity field. */
  relationship(entityType: string, id: number, field: string, options?: { retired?: boolean }): Promise<EntityLink[] | EntityLink | null>;
  /** Site preferences: all, or the named ones (`"*"` for all plus the named). */
  preferences(names?: string[]): Promise<Record<string, unknown>>;
  /** Makes a user follow an entity or several. */
  follow(userId: number, entity: EntityLink | EntityLink[]): Promise<void>;
  /** Makes a user stop following an entity. */
  unfollow(userId: number, entity: EntityLink): Promise<void>;
  /** Users following an entity. */
  followers(entityType: string, id: number): Promise<EntityLink[]>;
  /** Entities a user follows. */
  following(userId: number, options?: FollowingOptions): Promise<EntityLink[]>;
  /** An entity's activity stream. */
  activityStream(entityType: string, id: number, options?: ActivityStreamOptions): Promise<ActivityStream>;
  /** A note with its replies and attachments. */
  noteThread(noteId: number, options?: { entityFields?: EntityFields }): Promise<ThreadItem[]>;
  /** Records that a user accessed a project now. */
  updateProjectLastAccessed(projectId: number, userId: number): Promise<EntityLink>;
  /** Schema reads and field edits. */
  readonly schema: SchemaApi;
  /** Hierarchy navigation. */
  readonly hierarchy: HierarchyApi;
  /** Webhooks and their deliveries. */
  readonly webhooks: WebhooksApi;
  /** Creates a record and resolves to it. A network failure after sending rejects with `maybeApplied: true`. */
  create<T extends EntityTypeName<M>, F extends FieldName<T, M> = never>(entityType: T, data: WriteData<T, M>, options?: WriteOptions<F>): Promise<EntityRecord<T, F, M>>;
  /** Updates a record and resolves to it. */
  update<T extends EntityTypeName<M>, F extends FieldName<T, M> = never>(entityType: T, id: number, data: WriteData<T, M>, options?: WriteOptions<F>): Promise<EntityRecord<T, F, M>>;
  /** Deletes (retires) a record; `revive` brings it back. */
  delete(entityType: string, id: number, options?: CallOptions): Promise<void>;
  /** Revives a retired record; resolves to whether it was revived. */
  revive(entityType: string, id: number, options?: CallOptions): Promise<boolean>;
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
  /** Page requests kept in flight at most: the read's `concurrency` or the runtime's default. */
  readonly concurrency: number;
  /** Frees the cursor; requests it still had in flight are dropped, their answers ignored. */
  free(): void;
  [Symbol.dispose](): void;
}
export * from "./upload.js";
export * from "./extras.js";
