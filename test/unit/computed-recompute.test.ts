import fc from 'fast-check';
import {
  applyEvent,
  combineComputed,
  ComputedConfigSchema,
  type ComputedDefs,
  type ComputedState,
  EMPTY_COMPUTED,
  eventKeyOf,
  recomputeComputed,
} from '../../core/computed';
import { DEFAULT_PENDING_MS, definitionDigests, planRecompute } from '../../core/computed-recompute';
import type { ScherpEvent } from '../../core/events';
import { parseConfig } from '../../core/config';

const defsOf = (computed: Record<string, unknown>): ComputedDefs => ComputedConfigSchema.parse(computed);

/** Before the change: the defaults and two traits, one of which goes and one of which changes. */
const BEFORE = defsOf({
  big_orders: { op: 'count', type: 'track', event: 'Order Completed', where: [{ property: 'properties.revenue', op: 'gte', value: 100 }] },
  gone: { op: 'sum', type: 'track', event: 'Viewed', property: 'properties.price' },
});
/** After: `big_orders` changed, `gone` removed, a trait of every operation added. */
const AFTER = defsOf({
  big_orders: { op: 'count', type: 'track', event: 'Order Completed', where: [{ property: 'properties.revenue', op: 'gte', value: 50 }] },
  gone: false,
  spent: { op: 'sum', type: 'track', event: 'Order Completed', property: 'properties.revenue' },
  avg_order: { op: 'avg', type: 'track', event: 'Order Completed', property: 'properties.revenue' },
  smallest: { op: 'min', type: 'track', event: 'Order Completed', property: 'properties.revenue' },
  largest: { op: 'max', type: 'track', event: 'Order Completed', property: 'properties.revenue' },
  first_category: { op: 'first', type: 'track', event: 'Viewed', property: 'properties.category' },
  last_category: { op: 'last', type: 'track', event: 'Viewed', property: 'properties.category' },
  top_category: { op: 'mostFrequent', type: 'track', event: 'Viewed', property: 'properties.category' },
  categories: { op: 'unique', type: 'track', event: 'Viewed', property: 'properties.category', limit: 3 },
  views: { op: 'count', event: 'Viewed' },
});

const NOW = Date.parse('2026-03-01T12:00:00.000Z');

/** Events of one profile in the order they are stored (timestamps in any order, as late events come). */
const historyArb = fc
  .array(
    fc.record({
      name: fc.constantFrom('Order Completed', 'Viewed', 'Signed Up'),
      // Amounts in cents: sums and averages are then exact in every order.
      cents: fc.integer({ min: 0, max: 50_000 }),
      category: fc.constantFrom('toys', 'diapers', 'books', 'food', 'garden'),
      secondsAgo: fc.integer({ min: 0, max: 30 * 86_400 }),
    }),
    { minLength: 0, maxLength: 40 },
  )
  .map((rows) =>
    rows.map(
      (r, i): ScherpEvent => ({
        type: 'track',
        event: r.name,
        messageId: `m-${i}`,
        sourceId: 'web',
        timestamp: new Date(NOW - r.secondsAgo * 1000).toISOString(),
        // Received just before it is stored; the last ones within the last hour.
        receivedAt: new Date(NOW - (rows.length - i) * 60_000).toISOString(),
        properties: { revenue: r.cents / 100, price: r.cents / 100, category: r.category },
      }),
    ),
  );

const fold = (defs: ComputedDefs, events: readonly ScherpEvent[], from: ComputedState = EMPTY_COMPUTED) =>
  events.reduce((s, e) => applyEvent(defs, s, e), from);

/** Applies events as evaluate does, each possibly delivered once more right after (at-least-once). */
function deliver(defs: ComputedDefs, from: ComputedState, events: readonly ScherpEvent[], again: readonly boolean[]): ComputedState {
  let s = from;
  events.forEach((e, i) => {
    s = applyEvent(defs, s, e);
    if (again[i % Math.max(1, again.length)]) s = applyEvent(defs, s, e);
  });
  return s;
}

describe('computed-trait recompute: definitions and plan', () => {
  it('digests a definition as parsed: the same definition in another key order is no change', () => {
    const a = defsOf({ x: { op: 'sum', event: 'A', property: 'properties.v' } });
    const b = defsOf({ x: { property: 'properties.v', event: 'A', op: 'sum' } });
    expect(definitionDigests(a)).toEqual(definitionDigests(b));
    expect(planRecompute(b, definitionDigests(a))).toBeUndefined();
  });

  it('plans the new and changed traits and the removed ones; a first start only records', () => {
    const plan = planRecompute(AFTER, definitionDigests(BEFORE))!;
    expect([...plan.recompute].sort()).toEqual(
      [
        'avg_order',
        'big_orders',
        'categories',
        'first_category',
        'largest',
        'last_category',
        'smallest',
        'spent',
        'top_category',
        'views',
      ].sort(),
    );
    expect(plan.remove).toEqual(['gone']);
    expect(plan.digests).toEqual(definitionDigests(AFTER));
    const first = planRecompute(AFTER, undefined)!;
    expect(first.recompute).toEqual([]);
    expect(first.remove).toEqual([]);
  });
});

describe('computed-trait recompute: equals the incrementally maintained values', () => {
  it('for random histories, the recomputed value of each trait equals the one kept event by event', () => {
    fc.assert(
      fc.property(historyArb, (events) => {
        const incremental = fold(AFTER, events);
        const plan = planRecompute(AFTER, {})!;
        const recomputed = recomputeComputed(AFTER, EMPTY_COMPUTED, {
          recompute: plan.recompute,
          remove: [],
          events,
          merges: [],
          nowMs: NOW,
          pendingMs: DEFAULT_PENDING_MS,
        });
        expect({ ...recomputed.values }).toEqual({ ...incremental.values });
      }),
    );
  });

  it('racing live events: applied before or after the change, pending while it runs, redelivered — each counts once', () => {
    fc.assert(
      fc.property(
        historyArb,
        fc.nat(),
        fc.nat(),
        fc.nat(),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 7 }),
        (events, a, b, c, again) => {
          // Stored order: [0, deployed) evaluated with the old definitions, [deployed, applied)
          // with the new ones before the recompute reads the profile, [applied, stored) stored
          // but not yet evaluated when it reads the timeline, the rest stored afterwards.
          const cuts = [a, b, c].map((n) => n % (events.length + 1)).sort((x, y) => x - y);
          const [deployed, applied, stored] = cuts as [number, number, number];
          let s = deliver(BEFORE, EMPTY_COMPUTED, events.slice(0, deployed), again);
          s = deliver(AFTER, s, events.slice(deployed, applied), again);
          const plan = planRecompute(AFTER, definitionDigests(BEFORE))!;
          s = recomputeComputed(AFTER, s, {
            recompute: plan.recompute,
            remove: plan.remove,
            events: events.slice(0, stored),
            merges: [],
            nowMs: NOW,
            pendingMs: DEFAULT_PENDING_MS,
          });
          s = deliver(AFTER, s, events.slice(applied), again);
          expect({ ...s.values }).toEqual({ ...fold(AFTER, events).values });
        },
      ),
    );
  });

  it('a merge combined after the recompute folded the merged profile in adds nothing more; one combined before, once', () => {
    fc.assert(
      fc.property(historyArb, historyArb, fc.boolean(), (mine, theirs, combinedFirst) => {
        const other = theirs.map((e) => ({ ...e, messageId: `o-${e.messageId}` }));
        const survivor = fold(BEFORE, mine);
        const loser = fold(BEFORE, other);
        const plan = planRecompute(AFTER, definitionDigests(BEFORE))!;
        const merge = { key: 'p1#2026-03-01T11:00:00.000Z#merge-msg', at: '2026-03-01T11:00:00.000Z' };
        const recompute = (s: ComputedState) =>
          recomputeComputed(AFTER, s, {
            recompute: plan.recompute,
            remove: plan.remove,
            events: [...mine, ...other],
            merges: [merge],
            nowMs: NOW,
            pendingMs: DEFAULT_PENDING_MS,
          });
        const after = combinedFirst
          ? recompute(combineComputed(BEFORE, survivor, [loser], merge.key))
          : combineComputed(AFTER, recompute(survivor), [loser], merge.key);
        const expected = fold(AFTER, [...mine, ...other]).values;
        for (const name of plan.recompute) expect([name, after.values[name]]).toEqual([name, expected[name]]);
      }),
    );
  });

  it('drops the list of folded events once an event received after its horizon is applied', () => {
    const e = (i: number, receivedAt: string): ScherpEvent => ({
      type: 'track',
      event: 'Viewed',
      messageId: `v-${i}`,
      sourceId: 'web',
      timestamp: new Date(NOW - 1000 * i).toISOString(),
      receivedAt,
      properties: { category: 'toys' },
    });
    const pending = e(1, new Date(NOW - 1000).toISOString());
    const s = recomputeComputed(AFTER, EMPTY_COMPUTED, {
      recompute: ['views'],
      remove: [],
      events: [pending],
      merges: [],
      nowMs: NOW,
      pendingMs: DEFAULT_PENDING_MS,
    });
    expect(s.aux.views?.x).toEqual([eventKeyOf(pending)]);
    const later = applyEvent(AFTER, s, e(2, new Date(NOW + DEFAULT_PENDING_MS + 1000).toISOString()));
    expect(later.aux.views).toBeUndefined();
    expect(later.values.views).toBe(2);
  });

  it('an event noted for a replay is listed whatever its age, and the list is kept until the replay applies it', () => {
    const old: ScherpEvent = {
      type: 'track',
      event: 'Viewed',
      messageId: 'stuck',
      sourceId: 'web',
      timestamp: new Date(NOW - 10 * 86_400_000).toISOString(),
      receivedAt: new Date(NOW - 10 * 86_400_000).toISOString(),
      properties: { category: 'toys' },
    };
    const input = { recompute: ['views'], remove: [], events: [old], merges: [], nowMs: NOW, pendingMs: DEFAULT_PENDING_MS };
    expect(recomputeComputed(AFTER, EMPTY_COMPUTED, input).aux.views).toBeUndefined();
    const s = recomputeComputed(AFTER, EMPTY_COMPUTED, { ...input, replayable: new Set([eventKeyOf(old)]) });
    expect(s.aux.views).toEqual({ x: [eventKeyOf(old)] });
    const later: ScherpEvent = { ...old, messageId: 'later', receivedAt: new Date(NOW + 2 * DEFAULT_PENDING_MS).toISOString() };
    const afterLater = applyEvent(AFTER, s, later);
    expect(afterLater.values.views).toBe(2);
    // The replay, days later: the other traits take it, the recomputed one had it already.
    const replayed = applyEvent(AFTER, afterLater, old);
    expect(replayed.values.views).toBe(2);
    expect(replayed.values.event_count).toBe(1 + (afterLater.values.event_count as number));
    expect(replayed.aux.views).toBeUndefined();
  });

  it('keeps the stream marks and a seal: the recompute applies no stream record', () => {
    const views: ScherpEvent = {
      type: 'track',
      event: 'Viewed',
      messageId: 'v1',
      sourceId: 'web',
      timestamp: new Date(NOW - 2 * DEFAULT_PENDING_MS).toISOString(),
      receivedAt: new Date(NOW - 2 * DEFAULT_PENDING_MS).toISOString(),
      properties: { category: 'toys' },
    };
    const stored: ComputedState = { ...applyEvent(AFTER, EMPTY_COMPUTED, views), seen: { pa: '17', pb: '9' }, into: 'p-2' };
    const s = recomputeComputed(AFTER, stored, {
      recompute: ['views'],
      remove: ['gone'],
      events: [views],
      merges: [],
      nowMs: NOW,
      pendingMs: DEFAULT_PENDING_MS,
    });
    expect(s.seen).toEqual({ pa: '17', pb: '9' });
    expect(s.into).toBe('p-2');
    expect(s.values.views).toBe(1);
  });

  it('config parsing is unaffected: the shipped defaults still parse', () => {
    expect(Object.keys(parseConfig({}).computed)).toContain('event_count');
  });
});
