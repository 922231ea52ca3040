/**
 * The debugger and counter items against DynamoDB Local: entries listed newest first after a
 * cursor, expired ones never listed, erasure deletes only the matching ones; counters add up
 * across batches with one update each, and an hour keeps a bounded number of event names while
 * its other counts stay exact. The storage invariants hold over these items (the table's drop).
 */
import { randomBytes } from 'node:crypto';
import { createTestTable, scanTable, type TestTable } from '../helpers/dynamo';
import { DynamoDebugStore } from '../../adapters/dynamo/debug-store';
import { DynamoStatsStore } from '../../adapters/dynamo/stats-store';
import { debugEntries, type DebugEntry } from '../../core/debug';
import { STATS_NAMES_PER_BATCH, STATS_NAMES_PER_HOUR, tallyEvent, type Tally } from '../../core/stats';
import { payloadMatcher } from '../../core/mentions';
import { DEFAULT_CONFIG } from '../../core/config';
import type { ScherpEvent } from '../../core/events';

let t: TestTable;
beforeAll(async () => {
  t = await createTestTable('insights');
});
afterAll(async () => {
  await t?.drop();
});

const run = randomBytes(3).toString('hex');
const ev = (userId: string, i: number): ScherpEvent =>
  ({
    type: 'track',
    event: `E${i}`,
    messageId: `m-${run}-${i}`,
    sourceId: 'default',
    userId,
    timestamp: 't',
    receivedAt: 't',
  }) as ScherpEvent;

describe('DynamoDebugStore', () => {
  it('lists newest first after a cursor, hides expired entries, erases only what names the person', async () => {
    let now = Date.now();
    const store = new DynamoDebugStore(t.doc, { tableName: t.tableName, now: () => now });
    expect(await store.sessionExpiry()).toBeUndefined();
    await store.openSession(now + 60_000);
    expect(await store.sessionExpiry()).toBe(now + 60_000);

    const entries = (requestId: string, at: number, userId: string) =>
      debugEntries(
        { receivedAt: new Date(at).toISOString(), requestId, sourceId: 'default', route: 'batch' },
        [0, 1].map((i) => ({ index: i, event: ev(userId, i) })),
        [],
      ).entries;
    const first = entries('r1', now - 1000, `ada-${run}`);
    const second = entries('r2', now, `bob-${run}`);
    await store.save(first, now + 900_000);
    await store.save(second, now + 900_000);
    const all = await store.list({ limit: 10, filter: () => true });
    expect(all.map((e) => e.id)).toEqual(
      [...second, ...first]
        .map((e) => e.id)
        .sort()
        .reverse(),
    );
    expect((await store.list({ since: first[1]!.id, limit: 10, filter: () => true })).map((e) => e.id)).toEqual(
      second.map((e) => e.id).reverse(),
    );
    expect(await store.list({ limit: 1, filter: (e: DebugEntry) => e.event === 'E0' })).toHaveLength(1);

    const erased = await store.eraseSubject({
      profileIds: [],
      matches: payloadMatcher([{ type: 'user_id', value: `ada-${run}` }], DEFAULT_CONFIG.identity),
    });
    expect(erased).toBe(2);
    expect((await store.list({ limit: 10, filter: () => true })).map((e) => e.id)).toEqual(second.map((e) => e.id).reverse());

    now += 901_000; // past the entries' TTL: never listed, even before DynamoDB deletes them
    expect(await store.list({ limit: 10, filter: () => true })).toEqual([]);
    expect(await store.sessionExpiry()).toBeUndefined();
  });
});

describe('DynamoStatsStore', () => {
  it('adds batches up exactly; the names an hour keeps are bounded, the other counts stay exact', async () => {
    const store = new DynamoStatsStore(t.doc, t.tableName);
    const hour = '2026-12-01T10:00:00.000Z';
    const batches = 20;
    for (let b = 0; b < batches; b++) {
      const tally: Tally = new Map();
      // Each batch: 10 events, of which 5 with new names and 5 'Viewed'.
      for (let i = 0; i < 5; i++) tallyEvent(tally, { type: 'track', event: `New ${b}-${i}`, receivedAt: hour });
      for (let i = 0; i < 5; i++) tallyEvent(tally, { type: 'track', event: 'Viewed', receivedAt: hour }, i === 0 ? 1 : 0);
      await store.add(tally.get('2026-12-01T10')!);
    }
    const [h] = await store.readDays(['2026-12-01']);
    expect(h).toMatchObject({ hour: '2026-12-01T10', events: batches * 10, merges: batches, byType: { track: batches * 10 } });
    expect(h!.names['Viewed']).toBe(batches * 5);
    expect(Object.keys(h!.names).length).toBeLessThanOrEqual(STATS_NAMES_PER_HOUR + STATS_NAMES_PER_BATCH);
    const item = (await scanTable(t.doc, t.tableName)).find((i) => i.pk === 'STATS#2026-12-01')!;
    expect(JSON.stringify(item).length).toBeLessThan(2048);
  });
});

describe('bench: the console back end cost (bench/debugger.ts)', () => {
  it('no session: one marker read per 2 s and no write; a session: bounded writes; counters: about one write per batch', async () => {
    const { measureDebugger } = await import('../../bench/debugger');
    const own = await createTestTable('bench-debugger'); // no session marker in it
    const r = await measureDebugger(own.endpoint, own.tableName).finally(() => own.drop());
    expect(r.idle).toMatchObject({ requests: 1000, seconds: 10, reads: 5, writes: 0, wru: 0 });
    expect(r.idle.rru).toBeLessThanOrEqual(5);
    expect(r.watching.batch1WruPerEvent).toBeGreaterThan(0);
    expect(r.watching.batch1WruPerEvent).toBeLessThanOrEqual(2);
    expect(r.watching.batch20WruPerEvent).toBeLessThanOrEqual(2);
    expect(r.counters.wruPerBatch).toBeLessThanOrEqual(2);
    expect(r.counters.wruPerEvent).toBeLessThanOrEqual(0.2);
  });
});
