import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { applyConsent, consentFromEvent, type Consent } from '../../core/consent';
import type { ScherpEvent } from '../../core/events';
import { newProfile } from '../../core/profile';
import { actionTriggered, hashedIdentity, normalisePhone, personOf } from '../../core/rules/contract';
import { parseDefinition, parseRule, readPath, RuleSet, runRule, type EvaluationContext } from '../../core/rules/engine';
import { durationMs } from '../../core/rules/schema';
import { applyTraitChanges } from '../../core/rules/traits';

const T0 = Date.parse('2026-06-01T12:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const order = (id: string, ms: number, products: { category: string; product_id: string }[]): ScherpEvent => ({
  type: 'track',
  event: 'Order Completed',
  messageId: id,
  sourceId: 's',
  timestamp: iso(ms),
  receivedAt: iso(ms),
  properties: { order_id: id, products },
});
const ctxOf = (
  event: ScherpEvent,
  history: ScherpEvent[] = [],
  profile: Partial<EvaluationContext['profile']> = {},
): EvaluationContext => ({
  event: { ...event },
  profile: { id: 'p', traits: {}, ...profile },
  history,
});

describe('paths', () => {
  const root = {
    event: {
      properties: {
        products: [
          { c: 'a', id: 1 },
          { c: 'b', id: 2 },
          { c: 'a', id: 3 },
        ],
      },
    },
  };
  it('fans out over arrays and filters by a field', () => {
    expect(readPath(root, 'event.properties.products[].c')).toEqual(['a', 'b', 'a']);
    expect(readPath(root, 'event.properties.products[c=a].id')).toEqual([1, 3]);
    expect(readPath(root, 'event.properties.products[c=z]')).toEqual([]);
    expect(readPath(root, 'event.properties.missing[].c')).toEqual([]);
    expect(readPath(root, 'event.properties.products.length')).toBe(3);
    expect(readPath(root, 'event.properties.products[].constructor')).toEqual([]);
  });
});

describe('history conditions', () => {
  const rule = parseRule(
    JSON.parse(require('node:fs').readFileSync(require('node:path').join(__dirname, '../../rules/repeat-companion-product.json'), 'utf8')),
  );
  const pair = [
    { category: 'diapers', product_id: 'd' },
    { category: 'baby ointment', product_id: 'o' },
  ];
  const now = order('now', T0, [{ category: 'diapers', product_id: 'd' }]);

  it('fires with an earlier pair in the window, binding the matched order', () => {
    const out = runRule(rule, ctxOf(now, [order('old', T0 - 30 * 86_400_000, pair), now]));
    expect(out.fired).toBe(true);
    expect(out.firings[0]!.scope.match.previous).toMatchObject({ messageId: 'old' });
  });

  it('ignores the triggering event itself, events outside the window and events after now', () => {
    expect(runRule(rule, ctxOf(now, [now])).fired).toBe(false);
    expect(runRule(rule, ctxOf(now, [order('ancient', T0 - 400 * 86_400_000, pair)])).fired).toBe(false);
    expect(runRule(rule, ctxOf(now, [order('later', T0 + 1000, pair)])).fired).toBe(false);
  });

  it('counts at least / at most and "did not do"', () => {
    const mk = (h: Record<string, unknown>) =>
      parseRule({
        id: 'h',
        name: 'h',
        trigger: {},
        condition: { history: { event: 'Order Completed', within: '7d', ...h } },
        actions: [{ type: 'emit', action: 'x' }],
      });
    const hist = [1, 2, 3].map((d) => order(`o${d}`, T0 - d * 86_400_000, []));
    const trigger = { ...now, event: 'Page', messageId: 't' } as ScherpEvent;
    expect(runRule(mk({ atLeast: 3 }), ctxOf(trigger, hist)).fired).toBe(true);
    expect(runRule(mk({ atLeast: 4 }), ctxOf(trigger, hist)).fired).toBe(false);
    expect(runRule(mk({ atMost: 2 }), ctxOf(trigger, hist)).fired).toBe(false);
    expect(runRule(mk({ atMost: 0 }), ctxOf(trigger, [])).fired).toBe(true);
    expect(runRule(mk({ atLeast: 1, within: '36h' }), ctxOf(trigger, hist)).trace[0]).toMatchObject({ actual: 1, result: true });
  });

  it('the rule set asks for history only when a candidate needs it, for the longest window', () => {
    const set = new RuleSet([
      rule,
      parseRule({ id: 'plain', name: 'p', trigger: { events: ['Signed Up'] }, actions: [{ type: 'emit', action: 'x' }] }),
    ]);
    expect(set.historyWindow(set.candidates('track', 'Signed Up'))).toBe(0);
    expect(set.historyWindow(set.candidates('track', 'Order Completed'))).toBe(durationMs('365d'));
  });
});

describe('isolation and validation', () => {
  it('a rule that throws is reported and the others still fire', () => {
    const ok = parseRule({ id: 'ok', name: 'ok', trigger: {}, actions: [{ type: 'emit', action: 'ok' }] });
    const bad = parseRule({
      id: 'bad',
      name: 'bad',
      trigger: {},
      condition: { path: 'event.x', op: 'eq', value: 1 },
      actions: [{ type: 'emit', action: 'bad' }],
    });
    const errors: string[] = [];
    const ctx = ctxOf(order('m', T0, []));
    Object.defineProperty(ctx.event, 'x', {
      get: () => {
        throw new Error('boom');
      },
      enumerable: true,
    });
    const fired = new RuleSet([bad, ok]).evaluate(ctx, (id) => errors.push(id));
    expect(fired.map((f) => f.ruleId)).toEqual(['ok']);
    expect(errors).toEqual(['bad']);
  });

  it('names the path of faults in actions, options and audiences', () => {
    expect(() =>
      parseRule({ id: 'x', name: 'x', trigger: {}, actions: [{ type: 'trait', trait: 't', set: 'event.a', increment: 1 }] }),
    ).toThrow(/actions\[0\]/);
    expect(() => parseRule({ id: 'x', name: 'x', trigger: {}, actions: [{ type: 'emit', action: 'a', delay: '2 weeks' }] })).toThrow(
      /actions\[0\]\.delay/,
    );
    expect(() =>
      parseRule({
        id: 'x',
        name: 'x',
        trigger: {},
        condition: { history: { event: 'E', within: '1d' } },
        actions: [{ type: 'emit', action: 'a' }],
      }),
    ).toThrow(/atLeast/);
    expect(() => parseDefinition({ kind: 'audience', id: 'a', name: 'a' })).toThrow(/invalid audience: condition/);
  });
});

describe('consent', () => {
  it('reads Segment categoryPreferences and identify traits', () => {
    expect(
      consentFromEvent({ type: 'track', context: { consent: { categoryPreferences: { Email: true, 'Advertising Cookies': false } } } }),
    ).toEqual({ email: 'granted', advertising_cookies: 'denied' });
    expect(consentFromEvent({ type: 'identify', traits: { consent: { email: 'granted' } } })).toEqual({ email: 'granted' });
    expect(consentFromEvent({ type: 'track', traits: { consent: { email: true } } })).toBeUndefined();
  });

  it('newer wins per purpose, in any order', () => {
    const st = fc.record({ purpose: fc.constantFrom('email', 'ads'), granted: fc.boolean(), at: fc.integer({ min: 0, max: 20 }) });
    fc.assert(
      fc.property(fc.array(st, { maxLength: 8 }), (statements) => {
        const apply = (list: typeof statements) =>
          list.reduce<Consent>((c, s) => applyConsent(c, { [s.purpose]: s.granted ? 'granted' : 'denied' }, iso(T0 + s.at * 1000)), {});
        expect(apply([...statements].reverse())).toEqual(apply(statements));
      }),
    );
  });
});

describe('bus contract', () => {
  it('hashes normalised email and phone for ads, and carries the email only for email targets', () => {
    const person = personOf(['user_id:u1'], { email: '  Ada@Example.COM', phone: '+31 (0)6 1234 5678' });
    expect(person).toEqual({ userId: 'u1', email: 'ada@example.com', phone: '+31612345678' });
    expect(normalisePhone('0612345678')).toBeUndefined();
    const sha = (s: string) => createHash('sha256').update(s).digest('hex');
    expect(hashedIdentity(person)).toEqual({
      emailSha256: sha('ada@example.com'),
      phoneSha256: sha('+31612345678'),
      phoneDigitsSha256: sha('31612345678'),
    });
    const base = {
      ruleId: 'r',
      action: 'a',
      profileId: 'p',
      trigger: { messageId: 'm', timestamp: iso(T0) },
      dedupeId: 'd',
      person,
      data: {},
      trace: [],
      at: iso(T0),
    };
    expect(actionTriggered({ ...base, target: 'email' }).detail).toMatchObject({ email: 'ada@example.com' });
    expect(actionTriggered({ ...base, target: 'email' }).detail.hashed).toBeUndefined();
    expect(actionTriggered({ ...base, target: 'ads' }).detail).toMatchObject({ hashed: { emailSha256: sha('ada@example.com') } });
    expect(actionTriggered(base).detail.email).toBeUndefined();
  });
});

describe('trait actions', () => {
  it('sets and increments through newest-wins traits', () => {
    const p = newProfile('p', [], iso(T0));
    const once = applyTraitChanges(
      p,
      [
        { trait: 'visits', increment: 2 },
        { trait: 'tier', set: 'gold' },
      ],
      iso(T0 + 1),
      'rules',
    );
    const twice = applyTraitChanges(once, [{ trait: 'visits', increment: 1 }], iso(T0 + 2), 'rules');
    expect(twice.traits.visits!.value).toBe(3);
    expect(twice.traits.tier).toEqual({ value: 'gold', updatedAt: iso(T0 + 1), sourceId: 'rules' });
  });
});
