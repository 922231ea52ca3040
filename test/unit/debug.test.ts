/**
 * The debugger's pure part and its tap: entries built per request (bounded, in batch order,
 * accepted indexes right), the filters, and the cost: no session, no write and one marker read
 * per cache window; a session, one save per request within the per-second bound.
 */
import fc from 'fast-check';
import {
  acceptedIndexes,
  debugEntries,
  matchesDebugFilter,
  MAX_DEBUG_ENTRIES_PER_REQUEST,
  MAX_DEBUG_PAYLOAD_CHARS,
  type DebugEntry,
} from '../../core/debug';
import { DebugTap, listDebugEvents, openDebugSession } from '../../app/debug';
import type { DebugStore } from '../../app/ports';
import type { ScherpEvent } from '../../core/events';
import { ValidationError } from '../../core/errors';

class MemoryDebugStore implements DebugStore {
  expiry?: number;
  reads = 0;
  saves: DebugEntry[][] = [];
  constructor(private readonly now: () => number) {}
  async sessionExpiry() {
    this.reads++;
    return this.expiry !== undefined && this.expiry > this.now() ? this.expiry : undefined;
  }
  async openSession(expiresAt: number) {
    this.expiry = expiresAt;
  }
  async save(entries: readonly DebugEntry[]) {
    this.saves.push([...entries]);
  }
  async list(opts: { since?: string; limit: number; filter: (e: DebugEntry) => boolean }) {
    return this.saves
      .flat()
      .filter((e) => (opts.since === undefined || e.id > opts.since) && opts.filter(e))
      .sort((a, b) => (a.id < b.id ? 1 : -1))
      .slice(0, opts.limit);
  }
}

const event = (i: number): ScherpEvent =>
  ({ type: 'track', event: `E${i}`, messageId: `m${i}`, sourceId: 'default', userId: 'u', timestamp: 't', receivedAt: 't' }) as ScherpEvent;
const req = { receivedAt: '2026-12-01T10:00:00.000Z', requestId: 'r1', sourceId: 'default', route: 'batch' };

describe('acceptedIndexes and debugEntries', () => {
  it('gives every accepted event its batch index and keeps batch order, bounded per request', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 80 }), (rejectedFlags) => {
        const rejected = rejectedFlags.flatMap((r, index) =>
          r
            ? [{ index, issues: [{ path: `batch[${index}].type`, message: 'bad' }], payload: '{}', raw: { type: 'track', event: 'x' } }]
            : [],
        );
        const acceptedCount = rejectedFlags.length - rejected.length;
        const indexes = acceptedIndexes(acceptedCount, rejected);
        expect(indexes).toEqual(rejectedFlags.flatMap((r, i) => (r ? [] : [i])));
        const { entries, dropped } = debugEntries(
          req,
          indexes.map((index) => ({ index, event: event(index) })),
          rejected,
        );
        expect(entries.length + dropped).toBe(rejectedFlags.length);
        expect(entries.length).toBe(Math.min(rejectedFlags.length, MAX_DEBUG_ENTRIES_PER_REQUEST));
        entries.forEach((e, i) => {
          expect(e.index).toBe(i);
          expect(e.status).toBe(rejectedFlags[i] ? 'rejected' : 'accepted');
          if (e.status === 'accepted') expect(e.event).toBe(`E${i}`);
          else expect(e.field).toBe(`batch[${i}].type`);
        });
        expect(new Set(entries.map((e) => e.id)).size).toBe(entries.length);
      }),
    );
  });

  it("cuts payloads and takes a rejected event's claimed type and name only when they are valid strings", () => {
    const big = { ...event(0), properties: { text: 'x'.repeat(5000) } } as ScherpEvent;
    const { entries } = debugEntries(
      req,
      [{ index: 0, event: big }],
      [
        { index: 1, issues: [{ path: 'userId', message: 'required' }], payload: '{"type":"nope"}', raw: { type: 'nope', event: 7 } },
        { index: 2, issues: [], payload: '{}', raw: { type: 'page', name: 'Home' } },
      ],
    );
    expect(entries[0]!.payload.length).toBeLessThan(MAX_DEBUG_PAYLOAD_CHARS + 40);
    expect(entries[1]).toMatchObject({ status: 'rejected', field: 'userId', reason: 'required' });
    expect(entries[1]!.type).toBeUndefined();
    expect(entries[1]!.event).toBeUndefined();
    expect(entries[2]).toMatchObject({ type: 'page', event: 'Home', field: '(request)' });
  });

  it('filters by type, event name, source and status', () => {
    const e = debugEntries(req, [{ index: 0, event: event(0) }], []).entries[0]!;
    expect(matchesDebugFilter(e, {})).toBe(true);
    expect(matchesDebugFilter(e, { type: 'track', event: 'E0', sourceId: 'default', status: 'accepted' })).toBe(true);
    expect(matchesDebugFilter(e, { type: 'page' })).toBe(false);
    expect(matchesDebugFilter(e, { event: 'E1' })).toBe(false);
    expect(matchesDebugFilter(e, { sourceId: 'src_x' })).toBe(false);
    expect(matchesDebugFilter(e, { status: 'rejected' })).toBe(false);
  });
});

describe('DebugTap: the cost', () => {
  it('without a session: no write, and one marker read per cache window however many requests', async () => {
    let now = 1_000_000;
    const store = new MemoryDebugStore(() => now);
    const tap = new DebugTap(store, { now: () => now, cacheMs: 2000 });
    for (let i = 0; i < 1000; i++) {
      await tap.record({ ...req, requestId: `r${i}` }, [event(i)], []);
      now += 10; // 1,000 requests over 10 s
    }
    expect(store.saves).toEqual([]);
    expect(store.reads).toBe(5);
  });

  it('with a session: one save per request, bounded per second; a failing store never throws', async () => {
    const now = 2_000_000;
    const store = new MemoryDebugStore(() => now);
    const dropped: number[] = [];
    const tap = new DebugTap(store, { now: () => now, perSecond: 30, onDropped: (n) => dropped.push(n) });
    await openDebugSession(store, new Date(now), tap);
    for (let i = 0; i < 3; i++)
      await tap.record(
        { ...req, requestId: `r${i}` },
        Array.from({ length: 20 }, (_, j) => event(j)),
        [],
      );
    expect(store.saves.map((s) => s.length)).toEqual([20, 10]);
    expect(dropped).toEqual([10, 20]);
    expect(store.reads).toBe(0); // the session was opened through this tap

    const errors: unknown[] = [];
    const failing = new DebugTap(
      {
        ...store,
        sessionExpiry: async () => now + 1000,
        save: async () => Promise.reject(new Error('throttled')),
        openSession: async () => {},
        list: async () => [],
      },
      { now: () => now, onError: (e) => errors.push(e) },
    );
    await expect(failing.record(req, [event(0)], [])).resolves.toBeUndefined();
    expect(errors).toHaveLength(1);
  });

  it('a session expires: nothing is kept after it, and the listing says it is closed', async () => {
    let now = 3_000_000;
    const store = new MemoryDebugStore(() => now);
    const tap = new DebugTap(store, { now: () => now });
    await openDebugSession(store, new Date(now), tap);
    now += 601_000;
    await tap.record(req, [event(0)], []);
    expect(store.saves).toEqual([]);
    expect(await listDebugEvents(store, {}, new Date(now))).toMatchObject({ events: [], active: false });
  });

  it('refuses a bad query with the parameter named', async () => {
    const store = new MemoryDebugStore(() => 0);
    await expect(listDebugEvents(store, { limit: '0' }, new Date())).rejects.toBeInstanceOf(ValidationError);
    await expect(listDebugEvents(store, { status: 'maybe' }, new Date())).rejects.toMatchObject({ issues: [{ path: 'status' }] });
  });
});
