/**
 * The live event debugger (`core/debug.ts`): opening a session, the tap collect calls, listing.
 *
 * Cost: with no session open, collect reads the session marker at most once per container per
 * {@link DEBUG_MARKER_CACHE_MS} (one eventually consistent GetItem: 0.5 read units) and writes
 * nothing; with one open, it writes one BatchWriteItem per request of at most
 * {@link MAX_DEBUG_ENTRIES_PER_REQUEST} small items, and at most {@link MAX_DEBUG_ENTRIES_PER_SECOND}
 * items per container per second. A failure to keep a debug copy never fails the request.
 */
import { ValidationError } from '../core/errors';
import { zodIssues, type ScherpEvent } from '../core/events';
import {
  acceptedIndexes,
  DEBUG_ENTRY_TTL_SECONDS,
  DEBUG_MARKER_CACHE_MS,
  DEBUG_SESSION_TTL_SECONDS,
  debugEntries,
  DebugEventsQuerySchema,
  matchesDebugFilter,
  MAX_DEBUG_ENTRIES_PER_SECOND,
  type DebugEventsResponse,
  type DebugRequest,
  type DebugSessionResponse,
  type RejectedForDebug,
} from '../core/debug';
import type { DebugStore } from './ports';

export interface DebugTapOptions {
  readonly now?: () => number;
  /** @default DEBUG_MARKER_CACHE_MS */
  readonly cacheMs?: number;
  /** @default MAX_DEBUG_ENTRIES_PER_SECOND */
  readonly perSecond?: number;
  /** A debug copy could not be kept (or the marker read); the request goes on. */
  readonly onError?: (err: unknown) => void;
  /** Entries dropped by the per-request or per-second bounds. */
  readonly onDropped?: (n: number) => void;
}

/** What collect calls for every request: keeps debug copies only while a session is open. One per container. */
export class DebugTap {
  private cached?: { readonly until: number; readonly expiry: number | undefined };
  private second = 0;
  private usedThisSecond = 0;
  private readonly now: () => number;

  constructor(
    private readonly store: DebugStore,
    private readonly opts: DebugTapOptions = {},
  ) {
    this.now = opts.now ?? Date.now;
  }

  /** Whether a session is open, from a read at most `cacheMs` old. */
  async active(): Promise<boolean> {
    const now = this.now();
    if (!this.cached || this.cached.until <= now) {
      this.cached = { until: now + (this.opts.cacheMs ?? DEBUG_MARKER_CACHE_MS), expiry: await this.store.sessionExpiry() };
    }
    return this.cached.expiry !== undefined && this.cached.expiry > now;
  }

  /** A session opened in this process (the local runtime shares the tap): no need to wait for the cache. */
  sessionOpened(expiresAt: number): void {
    this.cached = { until: this.now() + (this.opts.cacheMs ?? DEBUG_MARKER_CACHE_MS), expiry: expiresAt };
  }

  /** Keeps the request's entries if a session is open; never throws. */
  async record(req: DebugRequest, accepted: readonly ScherpEvent[], rejected: readonly RejectedForDebug[]): Promise<void> {
    try {
      if (!(await this.active())) return;
      const indexes = acceptedIndexes(accepted.length, rejected);
      const built = debugEntries(
        req,
        accepted.map((event, i) => ({ index: indexes[i]!, event })),
        rejected,
      );
      const now = this.now();
      const second = Math.floor(now / 1000);
      if (second !== this.second) {
        this.second = second;
        this.usedThisSecond = 0;
      }
      const room = Math.max(0, (this.opts.perSecond ?? MAX_DEBUG_ENTRIES_PER_SECOND) - this.usedThisSecond);
      const entries = built.entries.slice(0, room);
      const dropped = built.dropped + built.entries.length - entries.length;
      if (dropped > 0) this.opts.onDropped?.(dropped);
      if (entries.length === 0) return;
      this.usedThisSecond += entries.length;
      await this.store.save(entries, Date.parse(req.receivedAt) + DEBUG_ENTRY_TTL_SECONDS * 1000);
    } catch (err) {
      this.opts.onError?.(err);
    }
  }
}

/** `POST /v1/debug/sessions`: opens the session (or renews it) for {@link DEBUG_SESSION_TTL_SECONDS}. */
export async function openDebugSession(store: DebugStore, now: Date, tap?: DebugTap): Promise<DebugSessionResponse> {
  const expiresAt = now.getTime() + DEBUG_SESSION_TTL_SECONDS * 1000;
  await store.openSession(expiresAt);
  tap?.sessionOpened(expiresAt);
  return { session: { expiresAt: new Date(expiresAt).toISOString(), ttlSeconds: DEBUG_SESSION_TTL_SECONDS } };
}

/** How far behind now the cursor of `GET /v1/debug/events` stays at least. */
export const CURSOR_LAG_MS = 5000;

/** `GET /v1/debug/events`: the kept entries, newest first, filtered; the query validated (400 naming the parameter). */
export async function listDebugEvents(
  store: DebugStore,
  rawQuery: Readonly<Record<string, string | undefined>>,
  now: Date,
): Promise<DebugEventsResponse> {
  const parsed = DebugEventsQuerySchema.safeParse(rawQuery);
  if (!parsed.success) {
    const issues = zodIssues(parsed.error, '');
    throw new ValidationError(`invalid query: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`, issues);
  }
  const q = parsed.data;
  const [events, expiry] = await Promise.all([
    store.list({ since: q.since, limit: q.limit, filter: (e) => matchesDebugFilter(e, q) }),
    store.sessionExpiry(),
  ]);
  const active = expiry !== undefined && expiry > now.getTime();
  // Entries are written up to a request's duration after their id's time, by other containers:
  // the cursor never runs ahead of `now - CURSOR_LAG_MS`, so the next poll sees late writers too
  // (answers may repeat the entries of those seconds: the console keeps entries by id).
  const lagged = new Date(now.getTime() - CURSOR_LAG_MS).toISOString();
  const newest = events[0]?.id;
  const candidate = newest === undefined || newest > lagged ? lagged : newest;
  const cursor = q.since !== undefined && q.since > candidate ? q.since : candidate;
  return { events, ...(cursor !== undefined ? { cursor } : {}), active, ...(active ? { expiresAt: new Date(expiry).toISOString() } : {}) };
}
