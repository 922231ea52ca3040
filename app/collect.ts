/**
 * The collect use case: authenticate the source, validate and stamp the events, keep the
 * rejected ones for operators, queue the accepted ones. Nothing is queued for a request that
 * fails authentication or validation.
 */
import { randomUUID } from 'node:crypto';
import { AuthenticationError, LimitExceededError, ValidationError } from '../core/errors';
import type { SourceRateLimiter } from '../core/rate-limit';
import { enforceRateLimit } from './rate-limit';
import { cleanJson, ingest, type IngestLimits, type RejectedEvent, type Route } from '../core/ingest';
import type { EventQueue, KeyStore, RejectedRecord, RejectedStore, StatsStore } from './ports';
import { recordTally } from './stats';
import { tallyRejected, type Tally } from '../core/stats';
import type { DebugTap } from './debug';

export interface CollectDeps {
  readonly keys: KeyStore;
  readonly queue: EventQueue;
  /** Where rejected events are kept; without one they are only reported to the sender. */
  readonly rejected?: RejectedStore;
  readonly now?: () => Date;
  readonly newMessageId?: () => string;
  readonly limits?: Partial<IngestLimits>;
  /** Per-source request limits (`core/rate-limit.ts`); absent: none. */
  readonly rateLimiter?: SourceRateLimiter;
  /** Called when a source's request is refused by its rate limit (metric). */
  readonly onThrottled?: (sourceId: string) => void;
  /** The live debugger's tap: copies of accepted and rejected events while a session is open (`app/debug.ts`). */
  readonly debug?: DebugTap;
  /** The Overview's counters: one update per request with rejected events (`core/stats.ts`). */
  readonly stats?: StatsStore;
  /** A counter update failed (the request goes on). */
  readonly onStatsError?: (err: unknown) => void;
}

export interface CollectRequest {
  readonly route: Route;
  readonly body: unknown;
  /** The key from the Authorization header, if any. */
  readonly credential?: string;
  readonly ip?: string;
  readonly userAgent?: string;
  /** Groups the rejected records of one request. */
  readonly requestId?: string;
}

export interface CollectResult {
  readonly sourceId: string;
  readonly accepted: number;
  readonly rejected: readonly RejectedEvent[];
}

/** Rejected payloads are kept cut to this many characters of JSON. */
export const MAX_REJECTED_PAYLOAD_CHARS = 4096;

/**
 * Browsers using navigator.sendBeacon cannot set headers, so the key may come in the body:
 * at the top, or (analytics.js batching) in the first item of a batch.
 */
function bodyKey(body: unknown): string | undefined {
  const b = body as { writeKey?: unknown; batch?: unknown } | null;
  const first = Array.isArray(body) ? body[0] : Array.isArray(b?.batch) ? b.batch[0] : undefined;
  const k = b?.writeKey ?? (first as { writeKey?: unknown } | null | undefined)?.writeKey;
  return typeof k === 'string' ? k : undefined;
}

/**
 * Rejected events kept per request, at most: one record for each of the first ones, then one
 * record saying how many more there were. A request of 2,500 junk items stores 11 records.
 */
export const MAX_REJECTED_RECORDS_PER_REQUEST = 10;

/** Removes every `writeKey` property at any depth (cleanJson made the objects, so they are ours to change). */
function dropWriteKeys(v: unknown): void {
  if (Array.isArray(v)) for (const x of v) dropWriteKeys(x);
  else if (v && typeof v === 'object') {
    delete (v as Record<string, unknown>).writeKey;
    for (const x of Object.values(v)) dropWriteKeys(x);
  }
}

/** A write key kept nowhere in a payload, also not as a value under another name. */
const KEY_REDACTED = '(write key)';

/** A rejected payload as bounded JSON text, without any write key: no `writeKey` property at any depth, nor the request's key (`key`) anywhere. */
export function payloadPreview(value: unknown, key?: string): string {
  const clean = cleanJson(value);
  if (clean === undefined && value !== undefined) return '"(nested too deeply to keep)"';
  dropWriteKeys(clean);
  let text = JSON.stringify(clean) ?? 'null';
  if (key && key.length >= 8) text = text.split(JSON.stringify(key).slice(1, -1)).join(KEY_REDACTED);
  return text.length <= MAX_REJECTED_PAYLOAD_CHARS ? text : `${text.slice(0, MAX_REJECTED_PAYLOAD_CHARS)}…(truncated from ${text.length})`;
}

function itemOf(body: unknown, route: Route, index: number): unknown {
  if (route !== 'batch') return body;
  return Array.isArray(body) ? body[index] : (body as { batch?: unknown[] }).batch?.[index];
}

/** What keeping a request's rejected events needs to know of the request. */
interface KeepContext {
  readonly deps: CollectDeps;
  readonly sourceId: string;
  readonly route: Route;
  readonly receivedAt: Date;
  readonly requestId: string;
  readonly key: string;
}

/** Keeps a request's rejected events (bounded) and counts them on the Overview. */
async function keepRejected(
  c: KeepContext,
  rejected: readonly { index: number; issues: RejectedEvent['issues']; limit?: string }[],
  payloadOf: (index: number) => unknown,
): Promise<void> {
  const { deps, receivedAt } = c;
  if (!deps.rejected || rejected.length === 0) return;
  const record = (r: (typeof rejected)[number], payload: string, issues: RejectedEvent['issues'] = r.issues): RejectedRecord => ({
    sourceId: c.sourceId,
    route: c.route,
    index: r.index,
    issues,
    ...(r.limit ? { limit: r.limit } : {}),
    payload,
    receivedAt: receivedAt.toISOString(),
    requestId: c.requestId,
  });
  const tally: Tally = new Map();
  tallyRejected(tally, receivedAt.toISOString(), rejected.length);
  await recordTally(deps.stats, tally, deps.onStatsError);
  // Bounded per request: what one request can make the table keep does not grow with its items.
  const records = rejected.slice(0, MAX_REJECTED_RECORDS_PER_REQUEST).map((r) => record(r, payloadPreview(payloadOf(r.index), c.key)));
  const rest = rejected.slice(MAX_REJECTED_RECORDS_PER_REQUEST);
  if (rest.length > 0) {
    const message = `${rest.length} more rejected events of this request (indexes ${rest[0]!.index} to ${rest[rest.length - 1]!.index}) are not kept`;
    records.push(record(rest[0]!, JSON.stringify('(not kept)'), [{ path: '(request)', message }]));
  }
  await deps.rejected.save(records);
}

export async function collect(deps: CollectDeps, req: CollectRequest): Promise<CollectResult> {
  const key = req.credential || bodyKey(req.body);
  if (!key) throw new AuthenticationError('missing write key: send it as the HTTP Basic auth user name or as "writeKey" in the body');
  const principal = await deps.keys.authenticate('write', key);
  if (!principal) throw new AuthenticationError('invalid write key');

  const receivedAt = deps.now ? deps.now() : new Date();
  // Before anything is stored: a refused request keeps nothing (no rejected record either).
  enforceRateLimit(deps.rateLimiter, principal, receivedAt, deps.onThrottled);
  const requestId = req.requestId ?? randomUUID();
  const where: KeepContext = { deps, sourceId: principal.sourceId, route: req.route, receivedAt, requestId, key };
  const debugRequest = { receivedAt: receivedAt.toISOString(), requestId, sourceId: principal.sourceId, route: req.route };
  let result: ReturnType<typeof ingest>;
  try {
    result = ingest({
      route: req.route,
      body: req.body,
      receivedAt,
      sourceId: principal.sourceId,
      party: principal.party,
      ...(principal.sourceName ? { sourceName: principal.sourceName } : {}),
      trust: principal.trust,
      newMessageId: deps.newMessageId ?? randomUUID,
      limits: deps.limits,
      request: { ip: req.ip, userAgent: req.userAgent },
    });
  } catch (err) {
    // A whole request refused after authentication is kept too (one record, its payload cut).
    const refused =
      err instanceof ValidationError
        ? { index: 0, issues: err.issues }
        : err instanceof LimitExceededError
          ? { index: 0, issues: [{ path: '(body)', message: err.message }], limit: err.limit }
          : undefined;
    if (refused) {
      await keepRejected(where, [refused], () => req.body);
      await deps.debug?.record(debugRequest, [], [{ ...refused, payload: payloadPreview(req.body, key), raw: req.body }]);
    }
    throw err;
  }
  // Rejected events are kept before anything is queued: if keeping them fails, the request
  // fails as a whole and the sender retries it.
  if (result.rejected.length > 0) await keepRejected(where, result.rejected, (i) => itemOf(req.body, req.route, i));
  if (result.accepted.length > 0) await deps.queue.send(result.accepted);
  await deps.debug?.record(
    debugRequest,
    result.accepted,
    result.rejected.map((r) => {
      const raw = itemOf(req.body, req.route, r.index);
      return { index: r.index, issues: r.issues, payload: payloadPreview(raw, key), raw };
    }),
  );
  return { sourceId: principal.sourceId, accepted: result.accepted.length, rejected: result.rejected };
}
