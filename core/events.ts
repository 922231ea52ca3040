/**
 * The Segment tracking-API event shapes, defined once: used for validation in `collect`,
 * for the types every later stage works with, and for the API docs.
 */
import * as z from 'zod';

export const EVENT_TYPES = ['track', 'identify', 'page', 'screen', 'group', 'alias'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Who collected the data a source sends: the company itself, a partner, or a data vendor. */
export const PARTIES = ['first', 'second', 'third'] as const;
export type Party = (typeof PARTIES)[number];

/**
 * How far a source's word is taken for identity traits (`core/trust.ts`): `public` sources have
 * their key in page source or an app (the browser key, the bootstrap write key), so anyone can
 * send as them; `trusted` ones are server sources whose key stays on a server.
 */
export const TRUST_LEVELS = ['public', 'trusted'] as const;
export type Trust = (typeof TRUST_LEVELS)[number];

/** Longest id Scherp accepts (user ids, anonymous ids, group ids, message ids). */
export const MAX_ID_LENGTH = 100;

/** Segment accepts numbers where ids are strings and stores them as strings; so do we. */
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;
/** Half a UTF-16 pair: not valid Unicode, so DynamoDB and JSON consumers would choke on it. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const id = z
  .union([
    z.string(),
    z
      .number()
      .finite()
      // 12345678901234567890123 and …124 are the same double: as a number it would merge two people.
      .refine(
        (n) => Math.abs(n) <= Number.MAX_SAFE_INTEGER,
        'is a number beyond 2^53, which JSON numbers cannot carry exactly: send it as a string',
      ),
  ])
  .transform((v) => String(v).trim())
  .pipe(
    z
      .string()
      .min(1, 'must not be empty')
      .max(MAX_ID_LENGTH, `must be at most ${MAX_ID_LENGTH} characters`)
      // Control characters would break logs, CSV exports and keys.
      .refine((s) => !CONTROL_CHARS.test(s), 'must not contain control characters')
      .refine((s) => !LONE_SURROGATE.test(s), 'must be valid Unicode'),
  );

/**
 * An id field that may be left out. `null` and an empty (or blank) string mean "absent", as in
 * the Segment spec: analytics.js sends `"userId": null` and RudderStack JS `"userId": ""` for an
 * anonymous visitor. Whether an event has a usable id at all is checked by
 * `identifierIssues` (core/identifiers.ts), which also says why one is not.
 */
const optionalId = z.preprocess((v) => (isAbsent(v) ? undefined : v), id.optional());

/** `undefined`, `null` or a blank string: an id field that is not there. */
export function isAbsent(v: unknown): v is undefined | null | '' {
  return v === undefined || v === null || (typeof v === 'string' && v.trim() === '');
}

/** A name (event, page, category): at most 200 characters, no control characters. */
const text = z
  .string()
  .max(200, 'must be at most 200 characters')
  .refine((s) => !CONTROL_CHARS.test(s), 'must not contain control characters')
  .refine((s) => !LONE_SURROGATE.test(s), 'must be valid Unicode');

const isoDate = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const d = typeof v === 'number' ? new Date(v) : new Date(v);
  if (Number.isNaN(d.getTime())) {
    ctx.addIssue({ code: 'custom', message: 'must be an ISO-8601 date' });
    return z.NEVER;
  }
  return d.toISOString();
});

const record = z.record(z.string(), z.unknown());

const common = {
  type: z.enum(EVENT_TYPES),
  messageId: optionalId,
  userId: optionalId,
  anonymousId: optionalId,
  timestamp: isoDate.optional(),
  originalTimestamp: isoDate.optional(),
  sentAt: isoDate.optional(),
  context: record.optional(),
  integrations: record.optional(),
  properties: record.optional(),
  traits: record.optional(),
  event: z.string().trim().min(1, 'must not be empty').pipe(text).optional(),
  name: text.optional(),
  category: text.optional(),
  groupId: optionalId,
  previousId: optionalId,
};

/**
 * The fields of one call as JSON Schema can say them (the OpenAPI document, `core/openapi.ts`):
 * `IncomingEventSchema` without the per-type requirements.
 */
export const EventFieldsSchema = z.object(common);

/**
 * One incoming call, before Scherp stamps it. Unknown top-level fields are dropped;
 * `properties`, `traits` and `context` are kept as sent. That a non-alias call carries a usable
 * `userId` or `anonymousId` is checked next to it by `identifierIssues` (core/identifiers.ts),
 * which sees the raw values to say why one is not usable (null, empty, placeholder).
 */
export const IncomingEventSchema = EventFieldsSchema.superRefine((e, ctx) => {
  if (e.type === 'alias') {
    if (!e.previousId) ctx.addIssue({ code: 'custom', path: ['previousId'], message: 'is required for alias' });
    if (!e.userId) ctx.addIssue({ code: 'custom', path: ['userId'], message: 'is required for alias' });
    return;
  }
  if (e.type === 'track' && !e.event) ctx.addIssue({ code: 'custom', path: ['event'], message: 'is required for track' });
  if (e.type === 'group' && !e.groupId) ctx.addIssue({ code: 'custom', path: ['groupId'], message: 'is required for group' });
});

export type IncomingEvent = z.infer<typeof IncomingEventSchema>;

type FieldKind = 'id' | 'date' | 'record' | 'event' | 'text';

/** The kind of value each field of {@link IncomingEventSchema} takes, as `common` defines it. */
const KIND_OF_FIELD: Readonly<Record<string, FieldKind>> = {
  messageId: 'id',
  userId: 'id',
  anonymousId: 'id',
  groupId: 'id',
  previousId: 'id',
  timestamp: 'date',
  originalTimestamp: 'date',
  sentAt: 'date',
  context: 'record',
  integrations: 'record',
  properties: 'record',
  traits: 'record',
  event: 'event',
  name: 'text',
  category: 'text',
};

/** Each field of the schema but `type`, in its order, with its kind. */
const FIELD_KINDS = Object.keys(common)
  .filter((k) => k !== 'type')
  .map((k) => [k, Object.hasOwn(KIND_OF_FIELD, k) ? KIND_OF_FIELD[k] : undefined] as const);
/** A field the fast path does not know (the schema grew): then zod parses every event. */
const FAST_PATH = FIELD_KINDS.every(([, kind]) => kind !== undefined);

function cleanText(s: string, max: number): boolean {
  return s.length <= max && !CONTROL_CHARS.test(s) && !LONE_SURROGATE.test(s);
}

/**
 * What `IncomingEventSchema.safeParse({ ...fields, type })` gives for the plain, valid events
 * nearly every request carries (string ids and dates, JSON objects as records), built without
 * zod: the same object, key for key and in the same order. Undefined for anything it does not
 * decide alone (numbers as ids, any invalid field, an alias): zod then parses it, and its issues
 * are the ones reported. `fields` is a JSON object copy (`cleanJson`: no prototype keys).
 * The property test in test/unit/event-fast-path.test.ts holds it to zod's result.
 */
export function fastIncomingEvent(fields: Readonly<Record<string, unknown>>, type: EventType): IncomingEvent | undefined {
  if (type === 'alias' || !FAST_PATH) return undefined;
  const out: Record<string, unknown> = { type };
  for (const [k, kind] of FIELD_KINDS) {
    if (!(k in fields)) continue;
    const v = fields[k];
    if (typeof v === 'string') {
      if (kind === 'id') {
        const s = v.trim();
        if (s === '') out[k] = undefined;
        else if (cleanText(s, MAX_ID_LENGTH)) out[k] = s;
        else return undefined;
      } else if (kind === 'date') {
        const d = new Date(v);
        if (Number.isNaN(d.getTime())) return undefined;
        out[k] = d.toISOString();
      } else if (kind === 'event') {
        const s = v.trim();
        if (s === '' || !cleanText(s, 200)) return undefined;
        out[k] = s;
      } else if (kind === 'text') {
        if (!cleanText(v, 200)) return undefined;
        out[k] = v;
      } else return undefined;
    } else if (v === null && kind === 'id') out[k] = undefined;
    else if (kind === 'record' && typeof v === 'object' && v !== null && !Array.isArray(v)) {
      const proto = Object.getPrototypeOf(v);
      if ((proto !== null && proto !== Object.prototype) || Object.getOwnPropertySymbols(v).length > 0) return undefined;
      const copy: Record<string, unknown> = {};
      for (const key of Object.keys(v)) if (key !== '__proto__') copy[key] = (v as Record<string, unknown>)[key];
      out[k] = copy;
    } else return undefined;
  }
  if (type === 'track' && !out.event) return undefined;
  if (type === 'group' && !out.groupId) return undefined;
  return out as IncomingEvent;
}

/** `IncomingEventSchema.safeParse({ ...fields, type })`, by {@link fastIncomingEvent} where it decides. */
export function parseIncomingEvent(fields: Readonly<Record<string, unknown>>, type: EventType): z.ZodSafeParseResult<IncomingEvent> {
  const data = fastIncomingEvent(fields, type);
  return data ? { success: true, data } : IncomingEventSchema.safeParse({ ...fields, type });
}

/** An accepted event as it travels through the queue and is stored on the timeline. */
export interface ScherpEvent {
  readonly type: EventType;
  readonly messageId: string;
  readonly sourceId: string;
  /** The party of the source that sent it (absent on events queued before sources existed). */
  readonly party?: Party;
  /**
   * The name of the source that sent it, as created with `POST /v1/sources` (rules match it as
   * `event.sourceName`); stamped by collect and import from the key lookup they already do.
   * Absent on events of keys made before source names were stamped.
   */
  readonly sourceName?: string;
  /** `trusted` when a trusted source sent it; absent: public (`core/trust.ts`). */
  readonly trust?: 'trusted';
  readonly userId?: string;
  readonly anonymousId?: string;
  readonly event?: string;
  readonly name?: string;
  readonly category?: string;
  readonly groupId?: string;
  readonly previousId?: string;
  readonly properties?: Record<string, unknown>;
  readonly traits?: Record<string, unknown>;
  readonly context?: Record<string, unknown>;
  readonly integrations?: Record<string, unknown>;
  /** When it happened, corrected for the sender's clock (ISO-8601). */
  readonly timestamp: string;
  readonly originalTimestamp?: string;
  readonly sentAt?: string;
  /** When Scherp accepted it (ISO-8601). */
  readonly receivedAt: string;
}

/**
 * Where an event sits on its timeline (the time in its key `EV#<time>#<messageId>`): the time
 * the sender stated (`originalTimestamp`, which collect keeps from the sender's `timestamp`),
 * the same on every retry of the request, so a retried request lands on the same key and the
 * conditional put of the timeline item is the dedupe. Without a stated time: the corrected
 * `timestamp` (then stitch keeps a dedupe marker, see `hasStatedTime`).
 */
export function timelineTime(e: Pick<ScherpEvent, 'timestamp' | 'originalTimestamp'>): string {
  return statedTime(e) ?? e.timestamp;
}

/** The sender's stated time, normalised to ISO-8601 UTC; undefined when it stated none (or none readable). */
function statedTime(e: Pick<ScherpEvent, 'originalTimestamp'>): string | undefined {
  if (e.originalTimestamp === undefined) return undefined;
  const ms = Date.parse(e.originalTimestamp);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/** The event's timeline key is the same on every retry of its request (the sender stated a time). */
export function hasStatedTime(e: Pick<ScherpEvent, 'originalTimestamp'>): boolean {
  return statedTime(e) !== undefined;
}

export { formatPath, zodIssues, type FieldIssue } from './validation';
