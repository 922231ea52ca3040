/**
 * Turning one tracking-API request into accepted events: pure, no I/O.
 */
import { identifyTraits, MAX_TRAITS_PER_CALL } from './profile';
import {
  EVENT_TYPES,
  type EventType,
  type FieldIssue,
  parseIncomingEvent,
  type IncomingEvent,
  type Party,
  type ScherpEvent,
  type Trust,
  zodIssues,
} from './events';
import { LimitExceededError, ValidationError } from './errors';
import { hasUsableIdentifier, identifierIssues } from './identifiers';

export type Route = EventType | 'batch';
export const ROUTES: readonly Route[] = [...EVENT_TYPES, 'batch'];

/**
 * The one-letter paths analytics.js (analytics-next) posts to under its `apiHost`: the first
 * letter of the call type, and `b` for its batching dispatcher.
 */
export const ROUTE_ALIASES: Readonly<Record<string, Route>> = {
  t: 'track',
  i: 'identify',
  p: 'page',
  s: 'screen',
  g: 'group',
  a: 'alias',
  b: 'batch',
};

/** The route a path segment names (`track` or `t`), if any. */
export function routeNamed(segment: string): Route | undefined {
  if ((ROUTES as readonly string[]).includes(segment)) return segment as Route;
  return Object.hasOwn(ROUTE_ALIASES, segment) ? ROUTE_ALIASES[segment] : undefined;
}

export interface IngestLimits {
  /** Most events one batch may carry. @default 2500 (Segment's limit) */
  readonly maxBatchEvents: number;
  /** Largest event, in bytes of its JSON. @default 32768 (Segment's 32 KB) */
  readonly maxEventBytes: number;
  /** Largest request body, in bytes, after decompression. @default 512000 (Segment's 500 KB) */
  readonly maxRequestBytes: number;
}

/**
 * Messages (one event each) per stitch invocation, in the cloud (SQS event source, batches also
 * cut after 1 s) and locally. Per-batch writes (the Overview counters: one `ADD` per batch and
 * hour) and invocations are paid per batch, so larger batches cost less per event; a record whose
 * invocation runs out of time fails alone and is retried.
 */
export const DEFAULT_STITCH_BATCH_SIZE = 100;

export const DEFAULT_INGEST_LIMITS: IngestLimits = { maxBatchEvents: 2500, maxEventBytes: 32 * 1024, maxRequestBytes: 500 * 1024 };

/** Deepest nesting of objects and arrays inside one event (a full Segment `context` needs 4). */
export const MAX_NESTING_DEPTH = 32;

/** A timestamp more than this far after receipt is a broken clock: the receipt time is used instead. */
export const MAX_FUTURE_SKEW_MS = 60 * 60 * 1000;

/** Keys that would reach an object's prototype if a later stage assigned them; dropped everywhere. */
const UNSAFE_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

class TooDeepError extends Error {}

/**
 * An upper bound on the UTF-8 bytes of `JSON.stringify` of what {@link cleanValue} returned last,
 * counted as it copies: a string's UTF-16 unit takes at most 6 bytes (`\uXXXX`), any other
 * scalar at most 32 characters, plus quotes, colons and commas.
 */
let jsonBound = 0;

function cleanValue(v: unknown, depth: number): unknown {
  if (typeof v === 'string') {
    jsonBound += 6 * v.length + 2;
    return v;
  }
  if (v === null || typeof v !== 'object') {
    jsonBound += 32;
    return v;
  }
  if (depth >= MAX_NESTING_DEPTH) throw new TooDeepError();
  if (Array.isArray(v)) {
    jsonBound += 2 + v.length;
    return v.map((x) => cleanValue(x, depth + 1));
  }
  // Null prototype: keys come from the sender (`toString` is an ordinary key). Built as a plain
  // object and then cut from its prototype (no `__proto__` key reaches the assignment): the same
  // object as `Object.create(null)` would be, but one V8 keeps in fast mode (read and
  // serialized about twice as fast as the dictionary `Object.create(null)` starts as).
  const out: Record<string, unknown> = {};
  jsonBound += 2;
  for (const k of Object.keys(v)) {
    if (UNSAFE_KEYS.has(k)) continue;
    jsonBound += 6 * k.length + 4;
    out[k] = cleanValue((v as Record<string, unknown>)[k], depth + 1);
  }
  return Object.setPrototypeOf(out, null) as Record<string, unknown>;
}

/**
 * A plain copy of a JSON value without `__proto__`, `constructor` and `prototype` keys at any
 * depth; undefined when it nests deeper than {@link MAX_NESTING_DEPTH}.
 */
export function cleanJson(v: unknown): unknown {
  try {
    return cleanValue(v, 0);
  } catch (err) {
    if (err instanceof TooDeepError) return undefined;
    throw err;
  }
}

/**
 * Whether `JSON.stringify(cleanJson(v))` is certainly at most `maxBytes` (its size bound is), with
 * that copy: only an event near the limit is then serialized to measure it exactly.
 */
function cleanJsonWithin(v: unknown, maxBytes: number): { readonly clean: unknown; readonly within: boolean } {
  jsonBound = 0;
  const clean = cleanJson(v);
  return { clean, within: jsonBound <= maxBytes };
}

export interface IngestInput {
  readonly route: Route;
  readonly body: unknown;
  readonly receivedAt: Date;
  readonly sourceId: string;
  /** The party of the source, stamped onto each event. */
  readonly party?: Party;
  /** The name of the source, stamped onto each event (`event.sourceName` in rules). */
  readonly sourceName?: string;
  /** The trust level of the source, stamped onto each event when `trusted` (absent: public). */
  readonly trust?: Trust;
  /** Makes a message id for events that arrive without one. */
  readonly newMessageId: () => string;
  /** Overrides of {@link DEFAULT_INGEST_LIMITS}. */
  readonly limits?: Partial<IngestLimits>;
  /** Filled into `context.ip` and `context.userAgent` when the event lacks them. */
  readonly request?: { readonly ip?: string; readonly userAgent?: string };
}

export interface RejectedEvent {
  readonly index: number;
  readonly issues: FieldIssue[];
  /** The limit the event exceeded, when that is why it was rejected. */
  readonly limit?: keyof IngestLimits;
}

export interface IngestResult {
  readonly accepted: ScherpEvent[];
  readonly rejected: RejectedEvent[];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * When the sender states `sentAt`, its clock may be off: the event happened
 * `sentAt − originalTimestamp` before it was sent, so on our clock it happened that long
 * before we received it. Without `sentAt`, the sender's timestamp is taken as is.
 * A result more than {@link MAX_FUTURE_SKEW_MS} after receipt cannot be true (the event cannot
 * have happened after we received it): the receipt time is used instead, and
 * `originalTimestamp` keeps what the sender said.
 */
export function correctTimestamp(e: Pick<IncomingEvent, 'timestamp' | 'originalTimestamp' | 'sentAt'>, receivedAt: Date): string {
  const original = e.originalTimestamp ?? e.timestamp;
  let at = original ? Date.parse(original) : receivedAt.getTime();
  if (e.sentAt && original) at = receivedAt.getTime() - (Date.parse(e.sentAt) - Date.parse(original));
  if (!(at <= receivedAt.getTime() + MAX_FUTURE_SKEW_MS) || Number.isNaN(new Date(at).getTime())) at = receivedAt.getTime();
  return new Date(at).toISOString();
}

function stamp(e: IncomingEvent, input: IngestInput, receivedAt: string): ScherpEvent {
  const context = { ...(e.context ?? {}) };
  if (context.ip === undefined && input.request?.ip) context.ip = input.request.ip;
  if (context.userAgent === undefined && input.request?.userAgent) context.userAgent = input.request.userAgent;
  // The sender's own time is kept as `originalTimestamp` (as Segment does): it is the same on
  // every retry of the request, so it places the event on its timeline (`timelineTime`).
  const stated = e.originalTimestamp ?? e.timestamp;
  // `{ ...rest, originalTimestamp, context, messageId, … }` without `timestamp`, written field by
  // field (an object rest and spreads cost more than the rest of stamping): the same keys in the
  // same order (a key already there keeps its place), so the queued JSON is the same.
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(e)) if (k !== 'timestamp') out[k] = (e as Record<string, unknown>)[k];
  if (stated !== undefined) out.originalTimestamp = stated;
  out.context = context;
  out.messageId = e.messageId ?? input.newMessageId();
  out.sourceId = input.sourceId;
  if (input.party) out.party = input.party;
  if (input.sourceName) out.sourceName = input.sourceName;
  if (input.trust === 'trusted') out.trust = 'trusted';
  out.timestamp = correctTimestamp(e, input.receivedAt);
  out.receivedAt = receivedAt;
  return out as unknown as ScherpEvent;
}

type Checked = { ok: true; event: IncomingEvent } | { ok: false; issues: FieldIssue[]; limit?: keyof IngestLimits };

function validateOne(raw: unknown, type: EventType, prefix: string, limits: IngestLimits): Checked {
  const root = prefix || '(root)';
  if (!isObject(raw)) return { ok: false, issues: [{ path: root, message: 'must be a JSON object' }] };
  const copy = cleanJsonWithin(raw, limits.maxEventBytes);
  const clean = copy.clean as Record<string, unknown> | undefined;
  if (!clean) return { ok: false, issues: [{ path: root, message: `nests deeper than ${MAX_NESTING_DEPTH} levels` }] };
  const bytes = copy.within ? 0 : Buffer.byteLength(JSON.stringify(clean));
  if (bytes > limits.maxEventBytes) {
    return {
      ok: false,
      limit: 'maxEventBytes',
      issues: [{ path: root, message: `is ${bytes} bytes; the limit (maxEventBytes) is ${limits.maxEventBytes}` }],
    };
  }
  const parsed = parseIncomingEvent(clean, type);
  // Null, empty and placeholder ids mean absent; both id fields are named, with the reason.
  const idIssues = type === 'alias' ? [] : identifierIssues(clean, parsed.success ? parsed.data : undefined, prefix);
  if (!parsed.success) return { ok: false, issues: [...zodIssues(parsed.error, prefix), ...idIssues] };
  const traitCount = Object.keys((type === 'identify' ? identifyTraits(parsed.data) : parsed.data.traits) ?? {}).length;
  if (traitCount > MAX_TRAITS_PER_CALL) {
    return {
      ok: false,
      issues: [
        { path: prefix ? `${prefix}.traits` : 'traits', message: `has ${traitCount} traits; at most ${MAX_TRAITS_PER_CALL} per call` },
      ],
    };
  }
  if (idIssues.length > 0) return { ok: false, issues: idIssues };
  // An alias whose ids are all placeholders ("anonymous", "0", …) can belong to nobody.
  if (type === 'alias' && !hasUsableIdentifier(parsed.data)) {
    return {
      ok: false,
      issues: [
        {
          path: prefix ? `${prefix}.previousId` : 'previousId',
          message: 'no usable previousId or userId (placeholder values such as "anonymous" or "0" are ignored)',
        },
      ],
    };
  }
  return { ok: true, event: parsed.data };
}

/**
 * Validates and stamps the events of one request.
 * A single-event route either accepts its event or throws a ValidationError naming the field;
 * a batch accepts its valid items and reports the others by index.
 */
export function ingest(input: IngestInput): IngestResult {
  const limits: IngestLimits = { ...DEFAULT_INGEST_LIMITS, ...input.limits };
  const { route } = input;
  // A bare array on the batch route is a batch (older analytics.js batching sends one).
  const body = route === 'batch' && Array.isArray(input.body) ? { batch: input.body } : input.body;
  if (!isObject(body)) throw new ValidationError('the body must be a JSON object', [{ path: '(root)', message: 'must be a JSON object' }]);

  if (route !== 'batch') {
    const r = validateOne(body, route, '', limits);
    if (!r.ok && r.limit) throw new LimitExceededError(`the event ${r.issues[0]!.message}`, r.limit);
    if (!r.ok) throw new ValidationError(`invalid ${route} call: ${r.issues.map((i) => `${i.path} ${i.message}`).join('; ')}`, r.issues);
    return { accepted: [stamp(r.event, input, input.receivedAt.toISOString())], rejected: [] };
  }

  const items = body.batch;
  if (!Array.isArray(items)) throw new ValidationError('batch must be an array', [{ path: 'batch', message: 'must be an array' }]);
  if (items.length > limits.maxBatchEvents) {
    throw new LimitExceededError(`batch has ${items.length} events; the limit is ${limits.maxBatchEvents}`, 'maxBatchEvents');
  }
  // Batch-level context and integrations are merged into each item; a batch-level sentAt
  // (analytics-node sends one per request) applies to items without their own.
  const shared: Record<string, unknown> = {
    ...(isObject(body.context) ? { context: body.context } : {}),
    ...(isObject(body.integrations) ? { integrations: body.integrations } : {}),
  };

  const accepted: ScherpEvent[] = [];
  const rejected: RejectedEvent[] = [];
  const receivedAt = input.receivedAt.toISOString();
  items.forEach((item, index) => {
    const prefix = `batch[${index}]`;
    if (!isObject(item)) {
      rejected.push({ index, issues: [{ path: prefix, message: 'must be a JSON object' }] });
      return;
    }
    const type = item.type;
    if (typeof type !== 'string' || !(EVENT_TYPES as readonly string[]).includes(type)) {
      rejected.push({ index, issues: [{ path: `${prefix}.type`, message: `must be one of ${EVENT_TYPES.join(', ')}` }] });
      return;
    }
    const merged = {
      ...(body.sentAt !== undefined ? { sentAt: body.sentAt } : {}),
      ...item,
      context: { ...(shared.context as object | undefined), ...(isObject(item.context) ? item.context : {}) },
      integrations: { ...(shared.integrations as object | undefined), ...(isObject(item.integrations) ? item.integrations : {}) },
    };
    const r = validateOne(merged, type as EventType, prefix, limits);
    if (r.ok) accepted.push(stamp(r.event, input, receivedAt));
    else rejected.push({ index, issues: r.issues, ...(r.limit ? { limit: r.limit } : {}) });
  });
  return { accepted, rejected };
}
