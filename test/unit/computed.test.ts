import fc from 'fast-check';
import {
  applyEvent,
  combineComputed,
  ComputedDefSchema,
  DEFAULT_COMPUTED,
  EMPTY_COMPUTED,
  RECENT_EVENTS,
  type ComputedDefs,
  type ComputedState,
} from '../../core/computed';
import { parseConfig } from '../../core/config';
import type { ScherpEvent } from '../../core/events';
import { eventAt, eventFactory } from '../helpers/events';

const apply = (defs: ComputedDefs, events: readonly ScherpEvent[], from: ComputedState = EMPTY_COMPUTED) =>
  events.reduce((s, e) => applyEvent(defs, s, e), from);

const order = (n: number, revenue: number, products: { product_id: string; category: string; name?: string }[] = []): ScherpEvent =>
  eventAt(n, { event: 'Order Completed', messageId: `o-${n}`, properties: { revenue, products } });

describe('computed traits: shipped defaults', () => {
  it('counts, sums, keeps first/last seen, the last order products and the purchased categories', () => {
    const e = eventFactory();
    const events = [
      e({}),
      order(10, 120.5, [{ product_id: 'p1', category: 'diapers', name: 'Diapers' }]),
      e({ type: 'identify', event: undefined, traits: { plan: 'x' } }),
      order(20, 30, [
        { product_id: 'p2', category: 'toys' },
        { product_id: 'p3', category: 'diapers' },
      ]),
    ];
    const s = apply(DEFAULT_COMPUTED, events);
    expect(s.values).toEqual({
      first_seen: events[0]!.timestamp,
      last_seen: events[3]!.timestamp,
      event_count: 4,
      order_count: 2,
      lifetime_value: 150.5,
      last_order_products: [
        { product_id: 'p2', category: 'toys' },
        { product_id: 'p3', category: 'diapers' },
      ],
      purchased_categories: ['diapers', 'toys'],
    });
  });

  it('keeps the typical item small (< 1 KB)', () => {
    const products = Array.from({ length: 5 }, (_, i) => ({ product_id: `product-${i}`, category: `category-${i}` }));
    const s = apply(
      DEFAULT_COMPUTED,
      Array.from({ length: 40 }, (_, i) => order(i, 20, products)),
    );
    expect(JSON.stringify(s).length).toBeLessThan(1024);
  });

  it('is configurable: switch a default off, add filtered definitions, names are validated', () => {
    const cfg = parseConfig({
      computed: {
        event_count: false,
        big_orders: { op: 'count', event: 'Order Completed', where: [{ property: 'properties.revenue', op: 'gt', value: 100 }] },
        avg_order: { op: 'avg', event: 'Order Completed', property: 'properties.revenue' },
        min_order: { op: 'min', event: 'Order Completed', property: 'properties.revenue' },
        max_order: { op: 'max', event: 'Order Completed', property: 'properties.revenue' },
        first_order_value: { op: 'first', event: 'Order Completed', property: 'properties.revenue' },
        top_category: { op: 'mostFrequent', event: 'Order Completed', property: 'properties.products[].category' },
        fav_page: { op: 'mostFrequent', type: 'page', property: 'name' },
      },
    }).computed;
    expect(cfg.event_count).toBeUndefined();
    const s = apply(cfg, [
      order(3, 150),
      order(1, 50),
      order(2, 200),
      { ...order(4, 0), type: 'page', event: undefined, name: 'Home' },
      { ...order(5, 0), type: 'page', event: undefined, name: 'Home' },
    ]);
    expect(s.values).toMatchObject({
      big_orders: 2,
      avg_order: 133.333333,
      min_order: 50,
      max_order: 200,
      first_order_value: 50,
      fav_page: 'Home',
    });
    expect(() => parseConfig({ computed: { 'Bad-Name': { op: 'count' } } })).toThrow(/computed.Bad-Name/);
    expect(() => parseConfig({ computed: { ver: { op: 'count' } } })).toThrow(/reserved/);
    expect(() => parseConfig({ computed: { x: { op: 'max', property: 'properties..a' } } })).toThrow(/computed.x.property/);
    expect(ComputedDefSchema.safeParse({ op: 'count', bogus: 1 }).success).toBe(false);
  });

  it('bounds unique lists', () => {
    const defs = { cats: ComputedDefSchema.parse({ op: 'unique', property: 'properties.products[].category', limit: 3 }) };
    const s = apply(defs, [
      order(
        1,
        1,
        ['d', 'c', 'b', 'a', 'e'].map((c) => ({ product_id: c, category: c })),
      ),
    ]);
    expect(s.values.cats).toEqual(['a', 'b', 'c']);
  });
});

const amount = fc.integer({ min: -10_000, max: 100_000 }).map((c) => c / 100);
const orders = fc
  .array(fc.tuple(amount, fc.constantFrom('a', 'b', 'c', 'd')), { minLength: 1, maxLength: 12 })
  .map((xs) => xs.map(([r, c], i) => order(i + 1, r, [{ product_id: c, category: c }])));

describe('computed traits: properties', () => {
  it('applying the same event twice equals applying it once (redeliveries)', () => {
    fc.assert(
      fc.property(orders, fc.nat(), (events, k) => {
        const once = apply(DEFAULT_COMPUTED, events);
        const again = events[k % events.length]!;
        expect(applyEvent(DEFAULT_COMPUTED, once, again)).toBe(once);
        // A redelivery of the latest event, directly after it, also changes nothing.
        const withDup = apply(DEFAULT_COMPUTED, [...events, events[events.length - 1]!]);
        expect(withDup.values).toEqual(once.values);
      }),
    );
  });

  it('does not depend on arrival order (count, sum, min/max, first/last, unique, mostFrequent)', () => {
    const defs = parseConfig({
      computed: {
        mn: { op: 'min', property: 'properties.revenue' },
        mx: { op: 'max', property: 'properties.revenue' },
        avg: { op: 'avg', property: 'properties.revenue' },
        top: { op: 'mostFrequent', property: 'properties.products[].category' },
      },
    }).computed;
    fc.assert(
      fc.property(
        orders.chain((events) => fc.tuple(fc.constant(events), fc.shuffledSubarray(events, { minLength: events.length }))),
        ([events, shuffled]) => {
          const a = apply(defs, events).values;
          const b = apply(defs, shuffled).values;
          expect(b).toEqual(a);
        },
      ),
    );
  });

  it('merging profiles equals having seen all events on one profile', () => {
    fc.assert(
      fc.property(orders, fc.array(fc.boolean(), { minLength: 12, maxLength: 12 }), (events, side) => {
        const left = events.filter((_, i) => side[i]);
        const right = events.filter((_, i) => !side[i]);
        const merged = combineComputed(DEFAULT_COMPUTED, apply(DEFAULT_COMPUTED, left), [apply(DEFAULT_COMPUTED, right)], 'm-1');
        expect(merged.values).toEqual(apply(DEFAULT_COMPUTED, events).values);
        // The same merge applied again changes nothing.
        expect(combineComputed(DEFAULT_COMPUTED, merged, [apply(DEFAULT_COMPUTED, right)], 'm-1')).toBe(merged);
      }),
    );
  });

  it('remembers a bounded number of events', () => {
    const s = apply(
      DEFAULT_COMPUTED,
      Array.from({ length: 40 }, (_, i) => order(i, 1)),
    );
    expect(s.recent).toHaveLength(RECENT_EVENTS);
  });
});
