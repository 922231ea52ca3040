/**
 * The OpenAPI 3.1 document of Scherp's HTTP API, generated from the zod schemas that validate the
 * requests (`@asteasolutions/zod-to-openapi`). Pure: no I/O. `npm run openapi` writes it to
 * `docs/openapi.json`, which collect serves at `GET /v1/openapi.json` (a unit test fails when the
 * file is stale).
 *
 * Every route has one entry in `ROUTE_DOCS`, keyed `"METHOD /path"` as in `lambdas/routes.ts`:
 * `openApiDocument(routes)` refuses a route without an entry (naming it) and an entry without a
 * route, so adding a route means adding its entry here.
 *
 * Schemas shared with the code: events (`EventFieldsSchema`), sources, rate limits, rules and
 * audiences, dry run and backtest, context and redrive requests. Described here only (the code
 * checks them by hand or builds them): the batch envelope, the response bodies and the error bodies
 * (`errorResponse` in `lambdas/shared/http.ts`; a unit test checks that they match).
 */
import { OpenAPIRegistry, OpenApiGeneratorV31, type RouteConfig } from '@asteasolutions/zod-to-openapi';
import * as z from 'zod';
import { ContextRequestSchema } from './context';
import { IdentityGraphSchema, SplitRequestSchema, SplitResultSchema } from './identity-graph';
import { DebugEventsQuerySchema, DebugEventsResponseSchema, DebugSessionResponseSchema } from './debug';
import { StatsQuerySchema, StatsResponseSchema } from './stats';
import { HealthResponseSchema } from './health';
import {
  AudienceListSchema,
  AudienceSummarySchema,
  ExportQuerySchema,
  ExportRowSchema,
  MemberPageSchema,
  MembersQuerySchema,
} from './audiences';
import { JobListSchema, JobViewSchema } from './jobs';
import { RedriveRequestSchema } from './dead-letters';
import { EVENT_TYPES, EventFieldsSchema, PARTIES, TRUST_LEVELS } from './events';
import { ROUTE_ALIASES, ROUTES, type Route } from './ingest';
import { RateLimitSchema } from './rate-limit';
import { AudienceSchema, BacktestBodySchema, DryRunBodySchema, RuleSchema } from './rules/schema';
import { NewSourceSchema, SourceChangeSchema } from './sources';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Which key a route takes: the write key (public or a source's), the read key, the admin key, or none. */
export type Auth = 'write' | 'read' | 'admin' | 'none';

// ---- Error bodies (README "Responses") ----

const FieldIssueSchema = z.object({ path: z.string(), message: z.string() }).meta({ id: 'FieldIssue' });

/** A batch item refused, by index (an oversized one names `limit`). */
const RejectedItemSchema = z
  .object({ index: z.number().int().min(0), issues: z.array(FieldIssueSchema), limit: z.string().optional() })
  .meta({ id: 'RejectedItem' });

function errorBody<const C extends string>(id: string, code: C, extra: z.ZodRawShape = {}, description?: string) {
  return z
    .object({ success: z.literal(false), error: z.literal(code), message: z.string(), ...extra })
    .meta({ id, ...(description ? { description } : {}) });
}

export const ERROR_BODIES = {
  400: errorBody(
    'InvalidRequest',
    'invalid_request',
    { issues: z.array(FieldIssueSchema).optional(), rejected: z.array(RejectedItemSchema).optional() },
    'Invalid JSON, an invalid field (each named in `issues`), or a batch whose every item is invalid (`rejected`).',
  ),
  401: errorBody('Unauthorized', 'unauthorized', {}, 'A missing or wrong key.'),
  404: errorBody('NotFound', 'not_found', {}, 'An unknown route, identifier, source, key or rule.'),
  409: errorBody('Conflict', 'conflict', { issues: z.array(FieldIssueSchema) }, 'A source name is taken.'),
  413: errorBody(
    'PayloadTooLarge',
    'payload_too_large',
    { limit: z.string().meta({ examples: ['maxRequestBytes', 'maxEventBytes', 'maxBatchEvents'] }) },
    'Over a size or count limit, named in `limit`.',
  ),
  429: z
    .union([
      errorBody(
        'RateLimited',
        'rate_limited',
        { limit: z.literal('sourceRateLimit') },
        "Over the source's own rate limit (collect, `POST /v1/context`); nothing of the request was kept.",
      ),
      z
        .object({ message: z.literal('Too Many Requests') })
        .meta({ id: 'GatewayThrottled', description: "Over the route's rate or burst limit (API Gateway)." }),
    ])
    .meta({ id: 'TooManyRequests' }),
  500: errorBody('InternalError', 'internal_error', {}, 'An internal failure; nothing was queued; retry.'),
} as const;
export type ErrorStatus = keyof typeof ERROR_BODIES;

const ERROR_DESCRIPTIONS: Record<ErrorStatus, string> = {
  400: 'invalid request',
  401: 'missing or wrong key',
  404: 'not found',
  409: 'conflict',
  413: 'over a limit',
  429: 'too many requests (SDKs retry)',
  500: 'internal failure (retry)',
};

// ---- Response bodies ----

const Id = z.string().min(1);
const IsoTime = z.string().meta({ format: 'date-time' });
const Json = z.record(z.string(), z.unknown());

const AcceptedSchema = z
  .object({
    success: z.literal(true),
    /** Only when some batch items were refused. */
    accepted: z.number().int().min(0).optional(),
    rejected: z.array(RejectedItemSchema).optional(),
  })
  .meta({ id: 'Accepted', description: 'The call (or every valid batch item) is queued.' });

const SuccessSchema = z.object({ success: z.literal(true) }).meta({ id: 'Success' });

const SourceSchema = z
  .object({
    id: Id,
    name: z.string(),
    party: z.enum(PARTIES),
    trust: z.enum(TRUST_LEVELS).optional(),
    rateLimit: RateLimitSchema.optional(),
    createdAt: IsoTime,
  })
  .meta({ id: 'Source' });
const SourceKeySchema = z
  .object({ id: Id, sourceId: Id, status: z.enum(['active', 'revoked']), createdAt: IsoTime, revokedAt: IsoTime.optional() })
  .meta({ id: 'SourceKey' });
const IssuedKeySchema = z.object({ key: SourceKeySchema, writeKey: z.string().meta({ description: 'Shown only in this answer.' }) });

const TraitViewSchema = z.object({
  value: z.unknown(),
  sourceId: Id,
  party: z.enum(PARTIES).optional(),
  trust: z.literal('trusted').optional(),
  updatedAt: IsoTime,
});
const ProfileSchema = z
  .object({
    id: Id,
    identifiers: z.array(z.string()),
    traits: z.record(z.string(), TraitViewSchema),
    computed: Json,
    audiences: z.array(z.object({ id: Id, enteredAt: IsoTime })),
    consent: Json,
    mergedFrom: z.array(z.string()),
  })
  .meta({ id: 'Profile' });

const StoredEventSchema = EventFieldsSchema.extend({
  messageId: z.string(),
  sourceId: z.string(),
  timestamp: IsoTime,
  receivedAt: IsoTime,
}).meta({ id: 'StoredEvent' });

const RejectedRecordSchema = z
  .object({
    sourceId: z.string(),
    route: z.string(),
    index: z.number().int(),
    issues: z.array(FieldIssueSchema),
    limit: z.string().optional(),
    payload: z.string().meta({ description: 'The payload as JSON, cut to 4 KB, without any write key.' }),
    receivedAt: IsoTime,
    requestId: z.string(),
  })
  .meta({ id: 'RejectedRecord' });

const DefinitionSchema = z.union([RuleSchema, AudienceSchema]).meta({ id: 'Definition', description: 'A rule or an audience.' });

// ---- Request bodies described here ----

/** The batch envelope (`core/ingest.ts` checks it field by field; items are checked as events). */
const BatchSchema = z
  .object({
    batch: z
      .array(EventFieldsSchema.extend({ type: z.enum(EVENT_TYPES) }))
      .meta({ description: 'Each item with its own `type`; at most `maxBatchEvents` (2,500).' }),
    context: Json.optional().meta({ description: 'Merged into each item.' }),
    integrations: Json.optional().meta({ description: 'Merged into each item.' }),
    sentAt: z.union([z.string(), z.number()]).optional().meta({ description: 'Applies to items without their own.' }),
    writeKey: z.string().optional().meta({ description: 'For `navigator.sendBeacon`, which cannot set headers.' }),
  })
  .meta({ id: 'Batch' });

/** A single call: the route gives its `type`, so one in the body is ignored. */
const EventSchema = EventFieldsSchema.extend({
  writeKey: z.string().optional().meta({ description: 'For `navigator.sendBeacon`, which cannot set headers.' }),
})
  .omit({ type: true })
  .meta({
    id: 'Event',
    description:
      'One Segment call. `userId` or `anonymousId` is required; `track` needs `event`, `group` `groupId`, `alias` `previousId` and `userId`.',
  });

/** `PUT /v1/rules/{id}`: a definition whose `id`, when given, equals the path's. */
const DefinitionInputSchema = z
  .union([RuleSchema.partial({ id: true }), AudienceSchema.partial({ id: true })])
  .meta({ id: 'DefinitionInput', description: 'A rule or an audience; `id` is the path id (when given it must equal it).' });

// ---- Routes ----

interface Body {
  readonly schema: z.ZodType;
  readonly description?: string;
  /** Media types; JSON by default. */
  readonly types?: readonly string[];
}

export interface RouteDoc {
  readonly summary: string;
  readonly description?: string;
  /** The key the route takes; a list when more than one does (profile reads: the read or the admin key). */
  readonly auth: Auth | readonly Auth[];
  /** Where the key goes: the Authorization header (default), or the `writeKey` query parameter (beacons). */
  readonly keyIn?: 'header' | 'query';
  readonly tag: 'Tracking' | 'Browser SDKs' | 'Profiles' | 'Sources' | 'Operations' | 'Rules' | 'Meta';
  readonly query?: z.ZodObject;
  readonly body?: Body & { readonly required?: boolean };
  /** The success answer: status → body (none: no content). */
  readonly ok: Readonly<Record<number, Body | null>>;
  /** Error statuses besides those every route can answer (400, 401 with a key, 404, 429, 500). */
  readonly errors?: readonly ErrorStatus[];
}

const JSON_TYPES = ['application/json'];
/** A row of an audience export (the synchronous export and an export job's files). */
const ExportRows = ExportRowSchema.meta({ id: 'AudienceExportRow' });
/** Bodies are JSON whatever the content type (beacons send text/plain); gzip goes as octet-stream. */
const TRACKING_TYPES = ['application/json', 'text/plain'];

function trackingRoute(route: Route, alias?: string): RouteDoc {
  const isBatch = route === 'batch';
  return {
    summary: alias ? `${route} (analytics.js path /v1/${alias})` : isBatch ? 'A batch of calls' : `One ${route} call`,
    auth: 'write',
    tag: 'Tracking',
    body: {
      schema: isBatch ? BatchSchema : EventSchema,
      types: TRACKING_TYPES,
      required: true,
      description: 'JSON (any content type); gzip with `Content-Encoding: gzip` and `Content-Type: application/octet-stream`.',
    },
    ok: { 200: { schema: AcceptedSchema } },
    errors: [413, 429],
  };
}

const ProfileIdParam =
  'A profile identifier `type:value` (`user_id:42`, `anonymous_id:a-1`, `email:ada@example.com`, `phone:+31612345678`), normalised as on ingest.';

/** One entry per route of `lambdas/routes.ts`, keyed `"METHOD /path"`. */
export const ROUTE_DOCS: Readonly<Record<string, RouteDoc>> = {
  ...Object.fromEntries(ROUTES.map((r) => [`POST /v1/${r}`, trackingRoute(r)])),
  ...Object.fromEntries(Object.entries(ROUTE_ALIASES).map(([alias, r]) => [`POST /v1/${alias}`, trackingRoute(r, alias)])),
  'POST /beacon/v1/batch': {
    ...trackingRoute('batch'),
    summary: "RudderStack JS's beacon transport",
    description: 'The write key is in the query string (beacons cannot set headers).',
    keyIn: 'query',
  },
  'GET /v1/projects/{writeKey}/settings': {
    summary: 'analytics.js settings (its `cdnURL`)',
    auth: 'none',
    tag: 'Browser SDKs',
    ok: { 200: { schema: Json.meta({ description: 'The settings document analytics.js loads before sending.' }) } },
  },
  'GET /sourceConfig': {
    summary: 'RudderStack JS source config (its `configUrl`)',
    auth: 'none',
    tag: 'Browser SDKs',
    query: z.object({ writeKey: z.string().optional() }),
    ok: { 200: { schema: Json.meta({ description: 'The source config RudderStack JS loads before sending.' }) } },
  },
  'GET /v1/openapi.json': {
    summary: 'This document',
    auth: 'none',
    tag: 'Meta',
    ok: { 200: { schema: Json.meta({ description: 'The OpenAPI 3.1 document of this API.' }) } },
  },
  'GET /v1/profiles/{id}': {
    summary: 'The profile an identifier belongs to',
    description: 'A merged profile answers with its survivor, which lists `mergedFrom`.',
    auth: ['read', 'admin'],
    tag: 'Profiles',
    ok: { 200: { schema: ProfileSchema } },
  },
  'GET /v1/profiles/{id}/events': {
    summary: 'The timeline, newest first',
    auth: ['read', 'admin'],
    tag: 'Profiles',
    query: z.object({
      limit: z
        .string()
        .regex(/^[0-9]+$/)
        .optional()
        .meta({ description: '1-100 (default 50)' }),
      cursor: z.string().optional(),
    }),
    ok: {
      200: {
        schema: z
          .object({
            profileId: Id,
            events: z.array(z.object({ profileId: Id, event: StoredEventSchema })),
            cursor: z.string().optional().meta({ description: 'Absent on the last page.' }),
          })
          .meta({ id: 'TimelinePage' }),
      },
    },
  },
  'GET /v1/profiles/{id}/identity': {
    summary: 'Explain the identity graph',
    description:
      'Each identifier with when and by which event (message id, source, timestamp) it was linked, each merge with the identifiers and event that caused it (its `id` is what `POST …/split` takes as `undoMerge`), the links the limits and the circuit breaker refused, the splits, and the quarantine if any.',
    auth: ['read', 'admin'],
    tag: 'Profiles',
    ok: { 200: { schema: IdentityGraphSchema } },
  },
  'POST /v1/profiles/{id}/split': {
    summary: 'Undo identity: detach an identifier or undo a merge',
    description:
      '`{"detach": "type:value"}` takes one identifier off the profile onto a new one (`block`: `profile` keeps it from linking to this profile again, `global` from linking anything again); `{"undoMerge": "<merge id>"}` separates what a merge joined (merge ids from `GET …/identity`). Each side keeps its identifiers and timeline (events of the other side are moved to it), traits and computed traits are recomputed from its events, audiences re-evaluated; `Profile Split` goes on the bus. A repeated request answers the same. 409 when the merge cannot be undone that way (other events still link the profiles).',
    auth: 'admin',
    tag: 'Profiles',
    body: { schema: SplitRequestSchema, required: true },
    ok: { 200: { schema: SplitResultSchema } },
    errors: [409],
  },
  'POST /v1/profiles/{id}/release': {
    summary: 'Release a quarantined profile',
    description:
      'Lifts the circuit breaker (`identity.quarantine`) and restarts its window; `released: false` when it was not quarantined.',
    auth: 'admin',
    tag: 'Profiles',
    ok: { 200: { schema: z.object({ profileId: Id, released: z.boolean() }).meta({ id: 'ReleaseResult' }) } },
  },
  'DELETE /v1/suppressions/{id}': {
    summary: 'Lift the suppression of an erased identifier',
    description:
      'Events with the identifier are stored again; what was erased stays erased. Recorded (an audit item with when and by which key kind, no identifier value) and logged. 404 when it is not suppressed.',
    auth: 'admin',
    tag: 'Profiles',
    ok: { 200: { schema: z.object({ lifted: z.literal(true), at: IsoTime }).meta({ id: 'SuppressionLifted' }) } },
  },
  'POST /v1/context': {
    summary: 'Browser-safe context of the visitor',
    description:
      'Only what the `context` config marks public; never identifiers. An unknown visitor gets an empty context. A `userId` needs a `userToken` from your back end (a bad or expired one is a 401).',
    auth: 'write',
    tag: 'Profiles',
    body: { schema: ContextRequestSchema.meta({ id: 'ContextRequest' }), types: TRACKING_TYPES, required: true },
    ok: {
      200: {
        schema: z
          .object({
            audiences: z.array(z.string()),
            traits: Json,
            computed: Json,
            recommendations: z.record(z.string(), z.object({ data: Json, expiresAt: IsoTime })),
          })
          .meta({ id: 'PublicContext' }),
      },
    },
    errors: [413, 429],
  },
  'POST /v1/import': {
    summary: 'Import enrichment rows (at most 1,000 per request)',
    auth: 'admin',
    tag: 'Profiles',
    query: z.object({
      source: z.string().min(1).meta({ description: 'The source, by id or name' }),
      format: z.enum(['ndjson', 'csv']).optional(),
    }),
    body: {
      schema: z.string().meta({
        description:
          'NDJSON (`{"id":"email:…","traits":{…},"timestamp":"…"}` per line) or CSV (a header row with an `id` column or a column named after an identifier type).',
      }),
      types: ['application/x-ndjson', 'text/csv', 'text/plain'],
      required: true,
    },
    ok: {
      200: {
        schema: z
          .object({
            sourceId: Id,
            imported: z.number().int().min(0),
            errors: z.array(z.object({ line: z.number().int().min(1), reason: z.string() })),
          })
          .meta({ id: 'ImportResult' }),
      },
    },
    errors: [413],
  },
  'GET /v1/profiles/{id}/export': {
    summary: 'Everything stored about the person',
    auth: 'admin',
    tag: 'Profiles',
    ok: {
      200: {
        schema: z
          .object({ exportedAt: IsoTime, profile: ProfileSchema, partitions: z.array(Json), rejected: z.array(RejectedRecordSchema) })
          .meta({ id: 'ProfileExport' }),
      },
    },
  },
  'DELETE /v1/profiles/{id}': {
    summary: 'Erase the person',
    description:
      'The profile, every profile merged into it, their identity items, the kept rejected events naming them and the copies outside the table it can reach; `notReached` names the stores it cannot reach.',
    auth: 'admin',
    tag: 'Profiles',
    ok: {
      200: {
        schema: z
          .object({
            erased: z.object({
              profiles: z.number().int(),
              items: z.number().int(),
              identifiers: z.number().int(),
              rejected: z.number().int(),
              copies: z.record(z.string(), z.number().int()),
            }),
            notReached: z.array(z.object({ store: z.string(), holds: z.string(), expiresWithin: z.string() })),
          })
          .meta({ id: 'ErasureResult' }),
      },
    },
  },
  'POST /v1/sources': {
    summary: 'Create a source and its first write key',
    auth: 'admin',
    tag: 'Sources',
    body: { schema: NewSourceSchema.meta({ id: 'NewSource' }), required: true },
    ok: { 201: { schema: z.object({ source: SourceSchema, ...IssuedKeySchema.shape }).meta({ id: 'CreatedSource' }) } },
    errors: [409, 413],
  },
  'GET /v1/sources': {
    summary: 'Every source with its keys (ids and states, never the keys)',
    auth: 'admin',
    tag: 'Sources',
    ok: { 200: { schema: z.object({ sources: z.array(z.object({ source: SourceSchema, keys: z.array(SourceKeySchema) })) }) } },
  },
  'DELETE /v1/sources/{id}': {
    summary: 'Delete a source: every key of it is revoked',
    auth: 'admin',
    tag: 'Sources',
    ok: { 204: null },
  },
  'PATCH /v1/sources/{id}': {
    summary: "Change a source's trust or rate limit",
    auth: 'admin',
    tag: 'Sources',
    body: { schema: SourceChangeSchema.meta({ id: 'SourceChange' }), required: true },
    ok: { 200: { schema: z.object({ source: SourceSchema }) } },
    errors: [413],
  },
  'POST /v1/sources/{id}/keys': {
    summary: 'Rotate: a new write key (older keys stay valid until revoked)',
    auth: 'admin',
    tag: 'Sources',
    ok: { 201: { schema: IssuedKeySchema.meta({ id: 'IssuedKey' }) } },
  },
  'DELETE /v1/sources/{id}/keys/{keyId}': {
    summary: 'Revoke a key (within 60 s: keys are cached)',
    auth: 'admin',
    tag: 'Sources',
    ok: { 200: { schema: SuccessSchema } },
  },
  'GET /v1/rejected': {
    summary: 'Rejected events of the last 7 days, newest first',
    auth: 'admin',
    tag: 'Operations',
    query: z.object({
      limit: z
        .string()
        .regex(/^[0-9]+$/)
        .optional(),
      sourceId: z.string().optional(),
    }),
    ok: { 200: { schema: z.object({ rejected: z.array(RejectedRecordSchema) }) } },
  },
  'GET /v1/dlq': {
    summary: 'Dead letters of the ingest queue (no payloads)',
    auth: 'admin',
    tag: 'Operations',
    query: z.object({
      limit: z
        .string()
        .regex(/^[0-9]+$/)
        .optional(),
    }),
    ok: {
      200: {
        schema: z.object({
          deadLetters: z.array(
            z
              .object({
                id: Id,
                reason: z.string(),
                receiveCount: z.number().int(),
                at: IsoTime,
                event: z
                  .object({ type: z.string().optional(), messageId: z.string().optional(), sourceId: z.string().optional() })
                  .optional(),
              })
              .meta({ id: 'DeadLetter' }),
          ),
        }),
      },
    },
  },
  'POST /v1/dlq/redrive': {
    summary: 'Redrive dead letters (the given ids, or all)',
    auth: 'admin',
    tag: 'Operations',
    body: { schema: RedriveRequestSchema.meta({ id: 'RedriveRequest' }), required: false },
    ok: { 200: { schema: z.object({ redriven: z.number().int().min(0) }) } },
    errors: [413],
  },
  'GET /v1/health': {
    summary: 'Queue depths and the evaluation failures not yet replayed',
    description:
      'One GetQueueAttributes per queue (approximate counts); the evaluation-failure markers are read only when a failure or dead-letter queue holds messages.',
    auth: 'admin',
    tag: 'Operations',
    ok: { 200: { schema: HealthResponseSchema.meta({ id: 'Health' }) } },
  },
  'POST /v1/debug/sessions': {
    summary: 'Open (or renew) the live-events debugger for 10 minutes',
    description:
      'While a session is open, collect keeps a compact copy of every accepted and rejected event for 15 minutes; with none open it writes nothing.',
    auth: ['read', 'admin'],
    tag: 'Operations',
    ok: { 200: { schema: DebugSessionResponseSchema.meta({ id: 'DebugSession' }) } },
  },
  'GET /v1/debug/events': {
    summary: 'Events seen while a debugger session is open, newest first',
    description: 'Pass `cursor` back as `since` for what arrived after; answers may repeat the last seconds (keep entries by `id`).',
    auth: ['read', 'admin'],
    tag: 'Operations',
    query: DebugEventsQuerySchema,
    ok: { 200: { schema: DebugEventsResponseSchema.meta({ id: 'DebugEvents' }) } },
  },
  'GET /v1/stats': {
    summary: 'Counters for the overview: per hour (48 h) and per day',
    auth: ['read', 'admin'],
    tag: 'Operations',
    query: StatsQuerySchema,
    ok: { 200: { schema: StatsResponseSchema.meta({ id: 'Stats' }) } },
  },
  'GET /v1/rules': {
    summary: 'Stored rules and audiences',
    auth: 'admin',
    tag: 'Rules',
    ok: { 200: { schema: z.object({ rules: z.array(DefinitionSchema) }) } },
  },
  'GET /v1/rules/{id}': {
    summary: 'One rule or audience',
    auth: 'admin',
    tag: 'Rules',
    ok: { 200: { schema: DefinitionSchema } },
  },
  'PUT /v1/rules/{id}': {
    summary: 'Store a rule or audience (400 names the path of every fault)',
    description:
      'Storing an enabled audience starts a backfill job over every existing profile (its id in the `scherp-job-id` header, progress at `GET /v1/jobs/{id}`); its membership changes go on the bus with `backfill: true` unless `?announce=false`. 409 while a backfill of the same audience runs.',
    auth: 'admin',
    tag: 'Rules',
    body: { schema: DefinitionInputSchema, required: true },
    ok: { 200: { schema: DefinitionSchema } },
    errors: [409, 413],
  },
  'DELETE /v1/rules/{id}': {
    summary: 'Delete a rule or audience',
    auth: 'admin',
    tag: 'Rules',
    ok: { 204: null },
  },
  'POST /v1/rules/{id}/test': {
    summary: 'Dry run: would it fire, with a per-condition trace',
    auth: 'admin',
    tag: 'Rules',
    body: { schema: DryRunBodySchema.meta({ id: 'DryRunRequest' }), required: true },
    ok: {
      200: {
        schema: z
          .object({
            id: Id,
            kind: z.enum(['rule', 'audience']),
            wouldFire: z.boolean(),
            profileId: z.string().nullable(),
            event: z.object({ type: z.string(), event: z.string().optional(), messageId: z.string(), timestamp: IsoTime }).nullable(),
            trace: z.array(
              z.object({ path: z.string(), op: z.string(), expected: z.unknown().optional(), actual: z.unknown(), result: z.boolean() }),
            ),
            actions: z.array(z.object({ actionId: z.string(), type: z.string(), outcome: z.string(), preview: z.unknown().optional() })),
          })
          .meta({ id: 'DryRunResult' }),
      },
    },
    errors: [413],
  },
  'POST /v1/rules/{id}/backtest': {
    summary: 'Start a backtest job: how many people it would have fired for over a past window',
    description:
      'Every stored profile is looked at (no cap), in parallel-scan segments: 202 with the job (its id in `scherp-job-id`, `Location: /v1/jobs/{id}`); once it succeeded, `GET /v1/jobs/{id}` has the answer under `result` (`BacktestResult`). Fires nothing.',
    auth: 'admin',
    tag: 'Rules',
    body: { schema: BacktestBodySchema.meta({ id: 'BacktestRequest' }), required: true },
    ok: { 202: { schema: JobViewSchema } },
    errors: [413],
  },
  'GET /v1/audiences': {
    summary: 'Every audience with its exact member count and entries and exits over 24 hours',
    auth: ['read', 'admin'],
    tag: 'Rules',
    ok: { 200: { schema: AudienceListSchema.meta({ id: 'AudienceList' }) } },
  },
  'GET /v1/audiences/{id}': {
    summary: 'One audience: exact count (an O(1) read), entered and exited in the last 24 hours',
    auth: ['read', 'admin'],
    tag: 'Rules',
    ok: { 200: { schema: AudienceSummarySchema.meta({ id: 'AudienceSummary' }) } },
  },
  'GET /v1/audiences/{id}/members': {
    summary: 'The members of an audience, a page at a time',
    auth: ['read', 'admin'],
    tag: 'Rules',
    query: MembersQuerySchema,
    ok: { 200: { schema: MemberPageSchema.meta({ id: 'MemberPage' }) } },
  },
  'GET /v1/audiences/{id}/export': {
    summary: 'The members for an ad platform: user id, SHA-256 of the normalised email and of the E.164 phone',
    description:
      'ndjson: one object per member; csv: the header `profile_id,user_id,email_sha256,phone_sha256,phone_digits_sha256` and one row per member. Erased people never appear. One response, for audiences of at most 10,000 members (and 5 MB): a larger one answers 413 naming `POST /v1/audiences/{id}/export`, the export job.',
    auth: ['read', 'admin'],
    tag: 'Rules',
    query: ExportQuerySchema,
    ok: { 200: { schema: ExportRows, types: ['application/x-ndjson', 'text/csv'] } },
    errors: [413],
  },
  'POST /v1/audiences/{id}/export': {
    summary: 'Start an export job: the members in files of at most 4 MB, for audiences too large for one response',
    description:
      '202 with the job (`Location: /v1/jobs/{id}`); once it succeeded, its `result.files` lists the files in order (each CSV file with its header), each at `GET /v1/jobs/{id}/files/{n}`. Files expire after 7 days.',
    auth: ['read', 'admin'],
    tag: 'Rules',
    query: ExportQuerySchema,
    ok: { 202: { schema: JobViewSchema } },
  },
  'GET /v1/jobs/{id}/files/{n}': {
    summary: 'File n of a finished export job',
    auth: ['read', 'admin'],
    tag: 'Rules',
    ok: { 200: { schema: ExportRows, types: ['application/x-ndjson', 'text/csv'] } },
  },
  'GET /v1/jobs': {
    summary: 'Recent jobs (audience backfills, backtests, exports), newest first, with their progress',
    auth: ['read', 'admin'],
    tag: 'Rules',
    ok: { 200: { schema: JobListSchema.meta({ id: 'JobList' }) } },
  },
  'GET /v1/jobs/{id}': {
    summary:
      "A job's progress (segments done / total, profiles scanned, rate, ETA, corrupt items skipped) and, once it succeeded, its result",
    auth: ['read', 'admin'],
    tag: 'Rules',
    ok: { 200: { schema: JobViewSchema } },
  },
  'POST /v1/jobs/{id}/cancel': {
    summary: 'Cancel a running job (its workers stop within a second, after their current page; its audience is free for a new job)',
    auth: 'admin',
    tag: 'Rules',
    ok: { 200: { schema: JobViewSchema } },
  },
};

// ---- Security ----

const KEY_DESCRIPTIONS: Record<Exclude<Auth, 'none'>, string> = {
  write: "A source's write key (the bootstrap key is public: browsers use it). Cannot read profiles or use the admin API.",
  read: 'The read key: profiles and their timelines.',
  admin: 'The admin key: sources, rules, imports, export and erasure, rejected events and dead letters.',
};

function schemeNames(auth: Exclude<Auth, 'none'>): { basic: string; bearer: string } {
  return { basic: `${auth}KeyBasic`, bearer: `${auth}KeyBearer` };
}

/** The write key as the `writeKey` query parameter (`POST /beacon/v1/batch`). */
const WRITE_KEY_QUERY = 'writeKeyQuery';

function securityOf(auth: Auth | readonly Auth[], keyIn: RouteDoc['keyIn'] = 'header'): Record<string, string[]>[] {
  const keys = (typeof auth === 'string' ? [auth] : auth).filter((a) => a !== 'none');
  if (keys.length === 0) return [];
  if (keyIn === 'query') return [{ [WRITE_KEY_QUERY]: [] }];
  return keys.flatMap((k) => {
    const n = schemeNames(k as Exclude<Auth, 'none'>);
    return [{ [n.basic]: [] }, { [n.bearer]: [] }];
  });
}

// ---- The document ----

function content(b: Body): Record<string, { schema: z.ZodType }> {
  return Object.fromEntries((b.types ?? JSON_TYPES).map((t) => [t, { schema: b.schema }]));
}

/** The shared response of an error status (`components.responses`), named after its body. */
function errorResponseName(status: ErrorStatus): string {
  return ERROR_BODIES[status].meta()!.id as string;
}

/**
 * Every route can answer 400 (a malformed path, query or body), 404, 429 (API Gateway's per-route
 * throttling) and 500; keyed routes 401.
 */
function errorsOf(doc: RouteDoc): ErrorStatus[] {
  const set = new Set<ErrorStatus>([
    400,
    ...(doc.auth === 'none' || (typeof doc.auth !== 'string' && doc.auth.every((a) => a === 'none')) ? [] : ([401] as const)),
    404,
    429,
    ...(doc.errors ?? []),
    500,
  ]);
  return [...set].sort((a, b) => a - b);
}

function routeConfig(method: HttpMethod, path: string, doc: RouteDoc): RouteConfig {
  const params = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
  const paramShape = Object.fromEntries(
    params.map((p) => [
      p,
      z
        .string()
        .min(1)
        .meta({ description: p === 'id' && /^\/v1\/(profiles|suppressions)\//.test(path) ? ProfileIdParam : `The ${p}` }),
    ]),
  );
  const responses: RouteConfig['responses'] = {};
  for (const [status, body] of Object.entries(doc.ok)) {
    responses[status] = body ? { description: body.description ?? 'OK', content: content(body) } : { description: 'No content' };
  }
  for (const status of errorsOf(doc)) responses[String(status)] = { $ref: `#/components/responses/${errorResponseName(status)}` };
  return {
    method: method.toLowerCase() as RouteConfig['method'],
    path,
    operationId: `${method.toLowerCase()}${path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
    summary: doc.summary,
    ...(doc.description ? { description: doc.description } : {}),
    tags: [doc.tag],
    security: securityOf(doc.auth, doc.keyIn),
    request: {
      ...(params.length > 0 ? { params: z.object(paramShape) } : {}),
      ...(doc.query ? { query: doc.query } : {}),
      ...(doc.body
        ? {
            body: {
              content: content(doc.body),
              required: doc.body.required ?? true,
              ...(doc.body.description ? { description: doc.body.description } : {}),
            },
          }
        : {}),
    },
    responses,
  };
}

/** Thrown when the routes and `ROUTE_DOCS` differ; the message names every route concerned. */
export class OpenApiRoutesError extends Error {}

/** The key of a route in `ROUTE_DOCS`. */
export function routeKey(r: { readonly method: string; readonly path: string }): string {
  return `${r.method} ${r.path}`;
}

/**
 * The OpenAPI 3.1 document for these routes (`API_ROUTES` of `lambdas/routes.ts`): every route
 * with its entry of `ROUTE_DOCS`; a route without one, or an entry without a route, throws.
 */
export function openApiDocument(
  routes: readonly { readonly method: HttpMethod; readonly path: string }[],
  version = '0.1.0',
): Record<string, unknown> {
  const keys = routes.map(routeKey);
  const undocumented = keys.filter((k) => !Object.hasOwn(ROUTE_DOCS, k));
  const unrouted = Object.keys(ROUTE_DOCS).filter((k) => !keys.includes(k));
  if (undocumented.length > 0 || unrouted.length > 0) {
    throw new OpenApiRoutesError(
      [
        ...undocumented.map((k) => `route ${k} (lambdas/routes.ts) has no entry in ROUTE_DOCS (core/openapi.ts): add one`),
        ...unrouted.map((k) => `ROUTE_DOCS (core/openapi.ts) documents ${k}, which is not a route of lambdas/routes.ts: remove it`),
      ].join('\n'),
    );
  }
  const registry = new OpenAPIRegistry();
  for (const auth of ['write', 'read', 'admin'] as const) {
    const n = schemeNames(auth);
    registry.registerComponent('securitySchemes', n.basic, {
      type: 'http',
      scheme: 'basic',
      description: `${KEY_DESCRIPTIONS[auth]} HTTP Basic with the key as the user name and an empty password (the trailing colon optional), as Segment SDKs send it.`,
    });
    registry.registerComponent('securitySchemes', n.bearer, {
      type: 'http',
      scheme: 'bearer',
      description: `${KEY_DESCRIPTIONS[auth]} \`Authorization: Bearer <key>\`.`,
    });
  }
  registry.registerComponent('securitySchemes', WRITE_KEY_QUERY, {
    type: 'apiKey',
    in: 'query',
    name: 'writeKey',
    description: `${KEY_DESCRIPTIONS.write} In the query string, for beacons (which cannot set headers).`,
  });
  for (const status of Object.keys(ERROR_BODIES).map(Number) as ErrorStatus[]) {
    registry.registerComponent('responses', errorResponseName(status), {
      description: ERROR_DESCRIPTIONS[status],
      content: { 'application/json': { schema: { $ref: `#/components/schemas/${errorResponseName(status)}` } } },
      ...(status === 429
        ? {
            headers: {
              'Retry-After': {
                description: 'Seconds until the source may send again (a source over its own limit).',
                schema: { type: 'integer' },
              },
            },
          }
        : {}),
    });
  }
  for (const r of routes) registry.registerPath(routeConfig(r.method, r.path, ROUTE_DOCS[routeKey(r)]!));
  // The error bodies are components of their own (the shared responses refer to them).
  const doc = new OpenApiGeneratorV31(
    [...registry.definitions, ...Object.values(ERROR_BODIES).map((schema) => ({ type: 'schema' as const, schema }))],
    { sortComponents: 'alphabetically' },
  ).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Scherp',
      version,
      description:
        'The HTTP API of Scherp, a serverless Customer Data Platform: the Segment tracking API, profiles, sources, rules. Keys go as HTTP Basic user name or Bearer token (write key routes also take `"writeKey"` in the body, for `navigator.sendBeacon`). Every error names the field or the limit.',
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: '/', description: 'The API endpoint of your deployment (output ApiUrl), or the local runtime of `npm start`' }],
    tags: [
      { name: 'Tracking', description: 'The Segment tracking API' },
      { name: 'Browser SDKs', description: 'Documents browser SDKs fetch before sending' },
      { name: 'Profiles', description: 'Profiles, context, import, export and erasure' },
      { name: 'Sources', description: 'Sources and their write keys' },
      { name: 'Operations', description: 'Rejected events and dead letters' },
      { name: 'Rules', description: 'Rules and audiences' },
      { name: 'Meta', description: 'This document' },
    ],
  });
  return doc as unknown as Record<string, unknown>;
}
