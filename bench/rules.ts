/**
 * Rule evaluation speed: N rules (a realistic mix of triggers and conditions) against one event,
 * compiled once; microseconds per event for each N. The #7 bench runner wires it into `npm run bench`.
 */
import type { ScherpEvent } from '../core/events';
import { parseRule, RuleSet, type EvaluationContext } from '../core/rules/engine';

const EVENTS = ['Order Completed', 'Product Viewed', 'Checkout Started', 'Signed Up', 'Page Viewed'];

function makeRules(n: number): RuleSet {
  const rules = [];
  for (let i = 0; i < n; i++) {
    rules.push(
      parseRule({
        id: `r${i}`,
        name: `rule ${i}`,
        trigger: { types: ['track'], events: [EVENTS[i % EVENTS.length]] },
        condition: {
          all: [
            { path: 'event.properties.revenue', op: 'gt', value: i % 200 },
            {
              any: [
                { path: 'profile.traits.plan', op: 'in', value: ['pro', 'team'] },
                { path: 'event.properties.products[].category', op: 'contains', value: `c${i % 7}` },
              ],
            },
            { not: { path: 'profile.audiences', op: 'contains', value: `a${i % 5}` } },
          ],
        },
        actions: [{ type: 'emit', action: `action-${i}`, data: { revenue: 'event.properties.revenue' } }],
      }),
    );
  }
  return new RuleSet(rules);
}

const event: ScherpEvent = {
  type: 'track',
  event: 'Order Completed',
  messageId: 'bench',
  sourceId: 'bench',
  timestamp: '2026-01-01T00:00:00.000Z',
  receivedAt: '2026-01-01T00:00:00.000Z',
  properties: { revenue: 120, products: [{ category: 'c1' }, { category: 'c3' }] },
};

const ctx: EvaluationContext = { event: { ...event }, profile: { id: 'p', traits: { plan: 'pro' }, audiences: ['a1'] } };

/** Microseconds per event against each rule count. */
export async function benchRules(counts: number[] = [10, 100, 1000]): Promise<Record<number, number>> {
  const out: Record<number, number> = {};
  for (const n of counts) {
    const set = makeRules(n);
    for (let i = 0; i < 200; i++) set.evaluate(ctx); // warm up
    const iterations = Math.max(200, Math.floor(200_000 / n));
    const start = process.hrtime.bigint();
    let fired = 0;
    for (let i = 0; i < iterations; i++) fired += set.evaluate(ctx).length;
    const micros = Number(process.hrtime.bigint() - start) / 1000 / iterations;
    if (fired === 0) throw new Error('benchmark rules never fired: the benchmark is not measuring matches');
    out[n] = Math.round(micros * 100) / 100;
  }
  return out;
}

if (require.main === module) {
  void benchRules().then((r) => {
    for (const [n, us] of Object.entries(r)) process.stdout.write(`rules ${n}: ${us} µs/event\n`);
  });
}
