/**
 * The Overview's counters, pure: a tally per batch, summed over batches, equals counting every
 * event on its own (any split of the events into batches), and `readStats` lays stored hours out
 * as hours (last 48 h), days and totals.
 */
import fc from 'fast-check';
import {
  hourOf,
  sumTallies,
  tallyAction,
  tallyEvent,
  tallyRejected,
  topNames,
  type HourCounts,
  type HourTally,
  type Tally,
} from '../../core/stats';
import { readStats } from '../../app/stats';
import type { StatsStore } from '../../app/ports';
import { EVENT_TYPES } from '../../core/events';

const eventArb = fc.record({
  type: fc.constantFrom(...EVENT_TYPES),
  event: fc.option(fc.constantFrom('Order Completed', 'Viewed', 'toString', '__proto__'), { nil: undefined }),
  receivedAt: fc.integer({ min: 0, max: 5 * 3_600_000 }).map((ms) => new Date(Date.UTC(2026, 11, 1) + ms).toISOString()),
  merges: fc.nat(2),
  created: fc.boolean(),
  rejected: fc.nat(3),
  actions: fc.array(fc.constantFrom('high-value-order', 'welcome', 'constructor'), { maxLength: 2 }),
});

interface Ev {
  readonly type: (typeof EVENT_TYPES)[number];
  readonly event?: string;
  readonly receivedAt: string;
  readonly merges: number;
  readonly created: boolean;
  readonly rejected: number;
  readonly actions: readonly string[];
}

function tallyOf(events: readonly Ev[]): Tally {
  const t: Tally = new Map();
  for (const e of events) {
    tallyEvent(t, e, e.merges, e.created);
    tallyRejected(t, e.receivedAt, e.rejected);
    for (const a of e.actions) tallyAction(t, e.receivedAt, a);
  }
  return t;
}

describe('aggregating per batch equals counting per event', () => {
  it('for any events split into any batches', () => {
    fc.assert(
      fc.property(fc.array(eventArb, { maxLength: 60 }), fc.array(fc.nat(60), { maxLength: 8 }), (events, cuts) => {
        const points = [...new Set([0, ...cuts.map((c) => Math.min(c, events.length)), events.length])].sort((a, b) => a - b);
        const batches = points.slice(1).map((end, i) => events.slice(points[i], end));
        const perBatch = sumTallies(batches.map(tallyOf));
        const perEvent = sumTallies(events.map((e) => tallyOf([e])));
        expect(perBatch).toEqual(perEvent);
        // And the counts are the events' own.
        for (const [hour, h] of perEvent) {
          const mine = events.filter((e) => hourOf(e.receivedAt) === hour);
          expect(h.events).toBe(mine.length);
          expect(h.merges).toBe(mine.reduce((n, e) => n + e.merges, 0));
          expect(h.profiles).toBe(mine.filter((e) => e.created).length);
          expect(h.rejected).toBe(mine.reduce((n, e) => n + e.rejected, 0));
          expect(Object.values(h.byType).reduce((a, b) => a + b, 0)).toBe(mine.length);
          expect(Object.values(h.actions).reduce((a, b) => a + b, 0)).toBe(mine.reduce((n, e) => n + e.actions.length, 0));
          expect(h.names['Order Completed'] ?? 0).toBe(mine.filter((e) => e.type === 'track' && e.event === 'Order Completed').length);
        }
      }),
    );
  });

  it('an event name that may hold an email or a phone number is counted as (other)', () => {
    const t: Tally = new Map();
    tallyEvent(t, { type: 'track', event: 'Mail ada@example.com', receivedAt: '2026-12-01T10:00:00Z' });
    tallyEvent(t, { type: 'track', event: 'Call +31612345678', receivedAt: '2026-12-01T10:00:00Z' });
    tallyEvent(t, { type: 'track', event: 'Order Completed', receivedAt: '2026-12-01T10:00:00Z' });
    expect([...t.get('2026-12-01T10')!.names]).toEqual([
      ['(other)', 2],
      ['Order Completed', 1],
    ]);
  });

  it('topNames: most frequent first, ties by name, bounded', () => {
    expect(
      topNames(
        new Map([
          ['b', 2],
          ['a', 2],
          ['c', 5],
          ['d', 1],
        ]),
        3,
      ),
    ).toEqual([
      ['c', 5],
      ['a', 2],
      ['b', 2],
    ]);
  });
});

class MemoryStats implements StatsStore {
  readonly hours = new Map<string, HourTally[]>();
  async add(t: HourTally) {
    this.hours.set(t.hour, [...(this.hours.get(t.hour) ?? []), t]);
  }
  async readDays(days: readonly string[]): Promise<HourCounts[]> {
    const all = sumTallies([...this.hours.values()].flat().map((h) => new Map([[h.hour, h]])));
    return [...all.values()].filter((h) => days.includes(h.hour.slice(0, 10)));
  }
}

describe('readStats', () => {
  it('lays out hours (48, oldest first), days of the range and totals', async () => {
    const store = new MemoryStats();
    const now = new Date('2026-12-01T10:30:00Z');
    const t = tallyOf([
      { type: 'track', event: 'Viewed', receivedAt: '2026-12-01T10:05:00Z', merges: 1, created: true, rejected: 0, actions: ['welcome'] },
      { type: 'identify', receivedAt: '2026-11-30T12:00:00Z', merges: 0, created: false, rejected: 2, actions: [] },
      { type: 'track', event: 'Viewed', receivedAt: '2026-11-10T12:00:00Z', merges: 0, created: false, rejected: 0, actions: [] },
    ]);
    for (const h of t.values()) await store.add(h);
    const r = await readStats(store, {}, now);
    expect(r).toMatchObject({ from: '2026-11-02', to: '2026-12-01' });
    expect(r.days).toHaveLength(30);
    expect(r.hours).toHaveLength(48);
    expect(r.hours[47]).toMatchObject({ at: '2026-12-01T10', events: 1, merges: 1, actions: { welcome: 1 } });
    expect(r.hours.find((h) => h.at === '2026-11-30T12')).toMatchObject({ events: 1, rejected: 2 });
    expect(r.days.find((d) => d.at === '2026-11-10')).toMatchObject({ events: 1, byType: { track: 1 } });
    expect(r.totals).toMatchObject({ events: 3, merges: 1, profiles: 1, rejected: 2, byType: { track: 2, identify: 1 } });
    expect(r.topEvents).toEqual([{ event: 'Viewed', count: 2 }]);
  });

  it('refuses a bad range naming the parameter', async () => {
    const store = new MemoryStats();
    await expect(readStats(store, { from: 'yesterday' }, new Date())).rejects.toMatchObject({ issues: [{ path: 'from' }] });
    await expect(readStats(store, { from: '2026-01-01', to: '2026-12-01' }, new Date())).rejects.toMatchObject({
      issues: [{ path: 'from' }],
    });
  });
});
