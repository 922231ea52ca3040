/**
 * Rule evaluation cost measured directly on the current `RuleSet` (core/rules/engine.ts) with
 * generated rules, used when `bench/rules.ts` (the rules engine's own benchmark) is absent.
 */
import { parseRule, RuleSet, type EvaluationContext } from '../core/rules/engine';
import type { EventType } from '../core/events';
import { Prng } from './dataset';

export interface RuleBenchResult {
  readonly rules: number;
  readonly usPerEvent: number;
}

const NAMES = ['Product Viewed', 'Order Completed', 'Checkout Started', 'Signed Up', 'Complaint Filed', 'Cart Viewed', 'Coupon Applied', 'Product Added'];
const CATEGORIES = ['Baby', 'Home', 'Electronics', 'Sports', 'Books'];

/** `count` rules of a realistic mix: named triggers, some type-only, conditions of 1-3 comparisons. */
export function generateRules(count: number, seed = 11): RuleSet {
  const rng = new Prng(seed);
  const rules = [];
  for (let i = 0; i < count; i++) {
    const comparisons = [
      { path: 'event.properties.revenue', op: 'gt', value: rng.int(10, 300) },
      { path: 'event.properties.category', op: 'eq', value: rng.pick(CATEGORIES) },
      { path: 'profile.traits.newsletter', op: 'eq', value: true },
      { path: 'event.context.locale', op: 'in', value: ['nl-NL', 'de-DE'] },
    ].slice(0, rng.int(1, 3));
    rules.push(
      parseRule({
        id: `r-${i}`,
        name: `rule ${i}`,
        trigger: rng.chance(0.1) ? { types: ['track'] } : { types: ['track'], events: [rng.pick(NAMES)] },
        condition: comparisons.length === 1 ? comparisons[0] : { all: comparisons },
        actions: [{ type: 'emit', detailType: `Rule ${i}`, detail: { profileId: 'profile.id', revenue: 'event.properties.revenue' } }],
      }),
    );
  }
  return new RuleSet(rules);
}

export function benchRuleSet(counts: readonly number[], events: readonly Record<string, unknown>[]): RuleBenchResult[] {
  const contexts: EvaluationContext[] = events.map((e, i) => ({
    event: { ...e, type: e.type as EventType, event: e.event as string | undefined, messageId: String(e.messageId ?? i) },
    profile: { id: 'p-1', traits: { newsletter: true, email: 'x@example.com' } },
  }));
  return counts.map((n) => {
    const set = generateRules(n);
    const warm = performance.now();
    while (performance.now() - warm < 200) for (const c of contexts.slice(0, 200)) set.evaluate(c); // let the JIT settle
    let evaluated = 0;
    const start = performance.now();
    while (performance.now() - start < 300) for (const c of contexts) (set.evaluate(c), evaluated++);
    return { rules: n, usPerEvent: ((performance.now() - start) * 1000) / evaluated };
  });
}
