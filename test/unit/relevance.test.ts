/**
 * The audience index (`core/rules/relevance.ts`): an event it says can change no audience never
 * changes a membership, whatever the profile's computed traits before it (fast-check against
 * the rules engine itself); the shipped audience depends on orders only.
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyEvent, DEFAULT_COMPUTED, EMPTY_COMPUTED } from '../../core/computed';
import type { ScherpEvent } from '../../core/events';
import { evaluateCondition, parseDefinition } from '../../core/rules/engine';
import { audiencesCanChange, conditionReads } from '../../core/rules/relevance';
import type { Audience, Condition } from '../../core/rules/schema';
import { eventFactory } from '../helpers/events';

const leaf: fc.Arbitrary<Condition> = fc.record({
  path: fc.constantFrom(
    'profile.computed.event_count',
    'profile.computed.lifetime_value',
    'profile.computed.order_count',
    'profile.computed.purchased_categories',
    'profile.computed.nothing',
  ),
  op: fc.constantFrom('gt' as const, 'lte' as const, 'eq' as const, 'exists' as const, 'contains' as const),
  value: fc.oneof(fc.integer({ min: 0, max: 6 }), fc.constantFrom('shoes', 'toys')),
});
const condition: fc.Arbitrary<Condition> = fc.letrec<{ c: Condition }>((tie) => ({
  c: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.record({ all: fc.array(tie('c'), { minLength: 1, maxLength: 3 }) }),
    fc.record({ any: fc.array(tie('c'), { minLength: 1, maxLength: 3 }) }),
    fc.record({ not: tie('c') }),
  ),
})).c;

const eventArb = fc.record({
  name: fc.constantFrom('Product Viewed', 'Order Completed', 'Signed Up'),
  type: fc.constantFrom('track' as const, 'page' as const),
  revenue: fc.integer({ min: 0, max: 3 }),
  category: fc.constantFrom('shoes', 'toys'),
});

type EventShape = { name: string; type: 'track' | 'page'; revenue: number; category: string };

describe('audience index', () => {
  it('an event that can change no audience leaves every membership as it was', () => {
    fc.assert(
      fc.property(condition, fc.array(eventArb, { maxLength: 8 }), eventArb, (cond, before, next) => {
        const make = eventFactory();
        const asEvent = (e: EventShape): ScherpEvent =>
          make({
            type: e.type,
            ...(e.type === 'track' ? { event: e.name } : { name: e.name }),
            properties: { revenue: e.revenue, products: [{ category: e.category }] },
          });
        const state = before.map(asEvent).reduce((s, e) => applyEvent(DEFAULT_COMPUTED, s, e), EMPTY_COMPUTED);
        const ev = asEvent(next);
        const audiences = [{ condition: cond }];
        fc.pre(!audiencesCanChange(audiences, DEFAULT_COMPUTED, ev));
        const after = applyEvent(DEFAULT_COMPUTED, state, ev);
        const member = (values: Record<string, unknown>) =>
          evaluateCondition(
            cond,
            { event: { ...ev }, profile: { id: 'p', traits: {}, computed: values, audiences: [], consent: {} }, match: {} },
            { event: { ...ev }, profile: { id: 'p', traits: {}, computed: values, audiences: [], consent: {} } },
            [],
          );
        expect(member({ ...after.values })).toBe(member({ ...state.values }));
      }),
      { numRuns: 500 },
    );
  });

  it('the shipped audience changes only with orders; event, history and trait conditions with every event', () => {
    const shipped = parseDefinition(JSON.parse(readFileSync(join(__dirname, '../../rules/high-value-audience.json'), 'utf8'))) as Audience;
    const make = eventFactory();
    expect(audiencesCanChange([shipped], DEFAULT_COMPUTED, make({ event: 'Product Viewed' }))).toBe(false);
    expect(audiencesCanChange([shipped], DEFAULT_COMPUTED, make({ type: 'page', name: 'Home' }))).toBe(false);
    expect(audiencesCanChange([shipped], DEFAULT_COMPUTED, make({ event: 'Order Completed' }))).toBe(true);
    expect(conditionReads({ path: 'event.properties.x', op: 'exists' }).always).toBe(true);
    expect(conditionReads({ path: 'profile.traits.plan', op: 'eq', value: 'gold' }).always).toBe(true);
    expect(conditionReads({ history: { event: 'Order Completed', within: '30d', atLeast: 1 } } as Condition).always).toBe(true);
    expect(audiencesCanChange([], DEFAULT_COMPUTED, make({}))).toBe(false);
  });
});
