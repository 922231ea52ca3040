/**
 * The live event debugger (the console's Live events page): while a debugger session is open,
 * collect keeps a compact, short-lived copy of every event it accepts or rejects; the console
 * polls for them. Pure: the shapes (zod schemas, also for the OpenAPI document), the bounds and
 * the building and filtering of entries. Storage is `app/debug.ts` and its port.
 */
import * as z from 'zod';
import { EVENT_TYPES, type FieldIssue, type ScherpEvent } from './events';

/** A session is open this long after it was started (or renewed: start it again). */
export const DEBUG_SESSION_TTL_SECONDS = 600;
/** A debug entry is gone (no longer listed; erasure reaches it until DynamoDB deletes it) this long after it arrived. */
export const DEBUG_ENTRY_TTL_SECONDS = 900;
/** How long a container trusts what it last read about the session marker. */
export const DEBUG_MARKER_CACHE_MS = 2000;
/** Entries one request keeps at most (accepted and rejected together); the rest are counted in the last one. */
export const MAX_DEBUG_ENTRIES_PER_REQUEST = 25;
/** Entries one container keeps per second at most while a session is open (the rest are dropped, counted). */
export const MAX_DEBUG_ENTRIES_PER_SECOND = 100;
/** A debug entry's payload is cut to this many characters of JSON (items stay near 1 KB: one write unit… two at most). */
export const MAX_DEBUG_PAYLOAD_CHARS = 1500;
/** `GET /v1/debug/events` answers at most this many entries (default 100). */
export const MAX_DEBUG_LIST = 500;

export const DebugStatusSchema = z.enum(['accepted', 'rejected']);

/** One event as the debugger shows it. */
export const DebugEntrySchema = z.object({
  /** Sorts entries (newest is greatest); also the cursor. */
  id: z.string(),
  /** When collect received it (ISO-8601). */
  receivedAt: z.string(),
  status: DebugStatusSchema,
  sourceId: z.string(),
  /** The route it came in on (`track`, `batch`, …). */
  route: z.string(),
  /** Its index in the batch (0 for single calls). */
  index: z.number().int(),
  /** The event type, when the payload has a valid one. */
  type: z.enum(EVENT_TYPES).optional(),
  /** The `event` name of a track call (or `name` of a page/screen call). */
  event: z.string().optional(),
  messageId: z.string().optional(),
  /** Rejected: why, and the path of the failing field (the first issue's; all issues in `issues`). */
  reason: z.string().optional(),
  field: z.string().optional(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  /** The event (accepted: as stamped by collect; rejected: as sent, write keys removed) as JSON, cut to {@link MAX_DEBUG_PAYLOAD_CHARS}. */
  payload: z.string(),
});
export type DebugEntry = z.output<typeof DebugEntrySchema>;

export const DebugSessionResponseSchema = z.object({
  session: z.object({
    /** When the session closes unless started again (ISO-8601). */
    expiresAt: z.string(),
    ttlSeconds: z.number().int(),
  }),
});
export type DebugSessionResponse = z.output<typeof DebugSessionResponseSchema>;

const filterText = z.string().min(1).max(200);

/** The query of `GET /v1/debug/events`. */
export const DebugEventsQuerySchema = z.object({
  /** The `cursor` of an earlier answer: only entries newer than it. */
  since: z.string().min(1).max(300).optional(),
  type: z.enum(EVENT_TYPES).optional(),
  event: filterText.optional(),
  sourceId: filterText.optional(),
  status: DebugStatusSchema.optional(),
  limit: z.coerce.number().int().min(1).max(MAX_DEBUG_LIST).default(100),
});
export type DebugEventsQuery = z.output<typeof DebugEventsQuerySchema>;

export const DebugEventsResponseSchema = z.object({
  /** Newest first. */
  events: z.array(DebugEntrySchema),
  /** Pass as `since` to get only what arrived after; unchanged when nothing did. */
  cursor: z.string().optional(),
  /** Whether a debugger session is open (entries are kept only then). */
  active: z.boolean(),
  /** When the open session closes, if one is open. */
  expiresAt: z.string().optional(),
});
export type DebugEventsResponse = z.output<typeof DebugEventsResponseSchema>;

/** Whether an entry passes the filters of a query (exact matches; `event` also matches a page/screen name). */
export function matchesDebugFilter(e: DebugEntry, q: Pick<DebugEventsQuery, 'type' | 'event' | 'sourceId' | 'status'>): boolean {
  return (
    (q.type === undefined || e.type === q.type) &&
    (q.event === undefined || e.event === q.event) &&
    (q.sourceId === undefined || e.sourceId === q.sourceId) &&
    (q.status === undefined || e.status === q.status)
  );
}

/** The sortable id of an entry: time first, then request and index (fixed width). */
export function debugEntryId(receivedAt: string, requestId: string, index: number): string {
  return `${receivedAt}#${requestId}#${String(index).padStart(5, '0')}`;
}

function cut(text: string): string {
  return text.length <= MAX_DEBUG_PAYLOAD_CHARS ? text : `${text.slice(0, MAX_DEBUG_PAYLOAD_CHARS)}…(truncated from ${text.length})`;
}

const TYPES: ReadonlySet<string> = new Set(EVENT_TYPES);

/** The type and name a raw (rejected) payload claims, if they are plain strings. */
function claimed(raw: unknown): { type?: DebugEntry['type']; event?: string } {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return {};
  const r = raw as { type?: unknown; event?: unknown; name?: unknown };
  const type = typeof r.type === 'string' && TYPES.has(r.type) ? (r.type as DebugEntry['type']) : undefined;
  const name = typeof r.event === 'string' ? r.event : typeof r.name === 'string' ? r.name : undefined;
  return { ...(type ? { type } : {}), ...(name !== undefined ? { event: name.slice(0, 200) } : {}) };
}

export interface DebugRequest {
  readonly receivedAt: string;
  readonly requestId: string;
  readonly sourceId: string;
  readonly route: string;
}

export interface RejectedForDebug {
  readonly index: number;
  readonly issues: readonly FieldIssue[];
  /** The payload as kept for operators (bounded JSON text without write keys). */
  readonly payload: string;
  readonly raw: unknown;
}

/**
 * The entries one request makes: accepted events (with their batch indexes) and rejected ones,
 * in batch order, at most {@link MAX_DEBUG_ENTRIES_PER_REQUEST}; `dropped` counts the rest.
 */
export function debugEntries(
  req: DebugRequest,
  accepted: readonly { readonly index: number; readonly event: ScherpEvent }[],
  rejected: readonly RejectedForDebug[],
  max = MAX_DEBUG_ENTRIES_PER_REQUEST,
): { entries: DebugEntry[]; dropped: number } {
  const base = (index: number) => ({
    id: debugEntryId(req.receivedAt, req.requestId, index),
    receivedAt: req.receivedAt,
    sourceId: req.sourceId,
    route: req.route,
    index,
  });
  const all: DebugEntry[] = [
    ...accepted.map(
      ({ index, event }): DebugEntry => ({
        ...base(index),
        status: 'accepted',
        type: event.type,
        ...(event.event !== undefined ? { event: event.event } : event.name !== undefined ? { event: event.name } : {}),
        messageId: event.messageId,
        payload: cut(JSON.stringify(event)),
      }),
    ),
    ...rejected.map(
      (r): DebugEntry => ({
        ...base(r.index),
        status: 'rejected',
        ...claimed(r.raw),
        reason: r.issues[0]?.message ?? 'rejected',
        field: r.issues[0]?.path ?? '(request)',
        issues: r.issues.slice(0, 10).map((i) => ({ path: i.path, message: i.message })),
        payload: cut(r.payload),
      }),
    ),
  ].sort((a, b) => a.index - b.index);
  return { entries: all.slice(0, max), dropped: Math.max(0, all.length - max) };
}

/** The batch indexes of the accepted events: ingest keeps batch order and rejects by index. */
export function acceptedIndexes(accepted: number, rejected: readonly { readonly index: number }[]): number[] {
  const skip = new Set(rejected.map((r) => r.index));
  const out: number[] = [];
  for (let i = 0; out.length < accepted; i++) if (!skip.has(i)) out.push(i);
  return out;
}
