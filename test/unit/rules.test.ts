import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseDefinition, parseRule, resolveValues, RuleSet, type EvaluationContext } from '../../core/rules/engine';
import type { EmitAction } from '../../core/rules/schema';
import { ValidationError } from '../../core/errors';

const ctx = (props: Record<string, unknown>, name = 'Order Completed'): EvaluationContext => ({
  event: { type: 'track', event: name, messageId: 'm1', properties: props },
  profile: { id: 'p1', traits: { plan: 'pro', tags: ['a', 'b'] } },
});

describe('rules', () => {
  it('every shipped rule file is valid', () => {
    const dir = join(__dirname, '../../rules');
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.json'))) {
      expect(() => parseDefinition(JSON.parse(readFileSync(join(dir, f), 'utf8')))).not.toThrow();
    }
  });

  it('the high-value-order rule fires above 100 only, with an explanation', () => {
    const rule = parseRule(JSON.parse(readFileSync(join(__dirname, '../../rules/high-value-order.json'), 'utf8')));
    const set = new RuleSet([rule]);
    expect(set.evaluate(ctx({ revenue: 100 }))).toEqual([]);
    const [f] = set.evaluate(ctx({ revenue: 150 }));
    expect(f!.action).toMatchObject({ type: 'emit', action: 'High Value Order' });
    expect(resolveValues((f!.action as EmitAction).data, f!.scope)).toEqual({ revenue: 150, orderId: undefined });
    expect(f!.trace).toEqual([{ path: 'event.properties.revenue', op: 'gt', expected: 100, actual: 150, result: true }]);
    expect(set.evaluate(ctx({ revenue: 150 }, 'Product Viewed'))).toEqual([]);
  });

  it('names the path of a fault', () => {
    try {
      parseRule({
        id: 'x',
        name: 'x',
        trigger: {},
        condition: { all: [{ path: 'event.a', op: 'bogus', value: 1 }] },
        actions: [{ type: 'emit', action: 'X' }],
      });
      fail('expected a ValidationError');
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).message).toMatch(/condition/);
    }
    expect(() => parseRule({ id: 'x', name: 'x', trigger: {}, actions: [] })).toThrow(/actions/);
  });

  it('supports all, any, not and every operator', () => {
    const rule = parseRule({
      id: 'ops',
      name: 'ops',
      trigger: { types: ['track'] },
      condition: {
        all: [
          {
            any: [
              { path: 'profile.traits.plan', op: 'eq', value: 'free' },
              { path: 'profile.traits.plan', op: 'in', value: ['pro', 'team'] },
            ],
          },
          { not: { path: 'event.properties.coupon', op: 'exists' } },
          { path: 'profile.traits.tags', op: 'contains', value: 'b' },
          { path: 'event.event', op: 'startsWith', value: 'Order' },
          { path: 'event.properties.revenue', op: 'gte', value: 10 },
          { path: 'event.properties.revenue', op: 'lt', value: 11 },
          { path: 'event.properties.revenue', op: 'neq', value: 9 },
        ],
      },
      actions: [{ type: 'emit', action: 'Ops', data: { fixed: { value: 'x' } } }],
    });
    const set = new RuleSet([rule]);
    expect(set.evaluate(ctx({ revenue: 10 }))).toHaveLength(1);
    expect(set.evaluate(ctx({ revenue: 10, coupon: 'C' }))).toHaveLength(0);
    expect(set.evaluate(ctx({ revenue: '10' }))).toHaveLength(0);
  });

  it('does not read through the prototype', () => {
    const rule = parseRule({
      id: 'p',
      name: 'p',
      trigger: {},
      condition: { path: 'event.constructor', op: 'exists' },
      actions: [{ type: 'emit', action: 'X' }],
    });
    expect(new RuleSet([rule]).evaluate(ctx({}))).toEqual([]);
  });

  it('indexes by trigger and skips disabled rules', () => {
    const mk = (id: string, events: string[], enabled = true) =>
      parseRule({ id, name: id, enabled, trigger: { events }, actions: [{ type: 'emit', action: id }] });
    const set = new RuleSet([mk('a', ['A']), mk('b', ['B']), mk('c', ['A'], false)]);
    expect(set.candidates('track', 'A').map((r) => r.id)).toEqual(['a']);
  });
});
