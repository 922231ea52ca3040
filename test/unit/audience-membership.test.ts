import fc from 'fast-check';
import type { ScherpEvent } from '../../core/events';
import { parseDefinition, RuleSet, type EvaluationContext } from '../../core/rules/engine';
import { nextAgingAt } from '../../core/expiry';
import { membershipBatches, TRANSACTION_ITEMS } from '../../core/audiences';

const T0 = Date.parse('2026-06-01T12:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const opened = (id: string, ms: number, event = 'App Opened'): ScherpEvent => ({
  type: 'track',
  event,
  messageId: id,
  sourceId: 's',
  timestamp: iso(ms),
  receivedAt: iso(ms),
});

const within30s = { history: { event: 'App Opened', within: '30s', atLeast: 1 } };
const audience = parseDefinition({ kind: 'audience', id: 'active', name: 'Active', condition: within30s });
const rule = parseDefinition({
  id: 'returning',
  name: 'Returning',
  trigger: { events: ['App Opened'] },
  condition: within30s,
  actions: [{ type: 'emit', action: 'x' }],
});
const set = new RuleSet([audience, rule]);

/** The context evaluate builds: the timeline as stored, which already holds the event. */
const ctxOf = (event: ScherpEvent, timeline: readonly ScherpEvent[]): EvaluationContext => ({
  event: { ...event },
  profile: { id: 'p', traits: {} },
  history: timeline,
  now: Date.parse(event.timestamp),
});

describe('audience membership is the state after the event', () => {
  it('takes a person in on their first App Opened (the issue example)', () => {
    const first = opened('m1', T0);
    const [outcome] = set.evaluateAudiences(ctxOf(first, [first]));
    expect(outcome).toMatchObject({ member: true });
    expect(outcome!.trace[0]).toMatchObject({ path: 'history(App Opened)', actual: 1, result: true });
  });

  it('counts the event once, also when the loaded timeline does not hold it yet (dry runs)', () => {
    const first = opened('m1', T0);
    const atLeast2 = parseDefinition({
      kind: 'audience',
      id: 'twice',
      name: 'Twice',
      condition: { history: { event: 'App Opened', within: '30s', atLeast: 2 } },
    });
    const two = new RuleSet([atLeast2]);
    expect(two.evaluateAudiences(ctxOf(first, []))[0]!.trace[0]!.actual).toBe(1);
    expect(two.evaluateAudiences(ctxOf(first, [first]))[0]!.member).toBe(false);
    const second = opened('m2', T0 + 1000);
    expect(two.evaluateAudiences(ctxOf(second, [first, second]))[0]!.member).toBe(true);
  });

  it('rules keep "before this event": the first App Opened does not fire, the second does', () => {
    const first = opened('m1', T0);
    expect(set.evaluate(ctxOf(first, [first]))).toHaveLength(0);
    const second = opened('m2', T0 + 10_000);
    expect(set.evaluate(ctxOf(second, [first, second])).map((f) => f.ruleId)).toEqual(['returning']);
  });

  it('eventInHistory: false counts only the timeline (a backfill over stored events)', () => {
    const first = opened('m1', T0);
    const synthetic = { type: 'identify', messageId: 'backfill', timestamp: iso(T0 + 5000) } as const;
    const ctx: EvaluationContext = {
      event: synthetic,
      profile: { id: 'p', traits: {} },
      history: [first],
      now: T0 + 5000,
      eventInHistory: false,
    };
    expect(set.evaluateAudiences(ctx)[0]!.member).toBe(true);
    expect(set.evaluateAudiences({ ...ctx, history: [] })[0]!.member).toBe(false);
  });

  it('property: after each event, membership counts the events up to and including it; rules those before it', () => {
    const step = fc.record({ gapMs: fc.integer({ min: 0, max: 45_000 }), other: fc.boolean() });
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 25 }), fc.integer({ min: 1, max: 3 }), (steps, atLeast) => {
        const def = parseDefinition({
          kind: 'audience',
          id: 'a',
          name: 'A',
          condition: { history: { event: 'App Opened', within: '30s', atLeast } },
        });
        const r = parseDefinition({
          id: 'r',
          name: 'R',
          trigger: {},
          condition: { history: { event: 'App Opened', within: '30s', atLeast } },
          actions: [{ type: 'emit', action: 'x' }],
        });
        const rs = new RuleSet([def, r]);
        const timeline: ScherpEvent[] = [];
        let t = T0;
        steps.forEach((s, i) => {
          t += s.gapMs;
          const e = opened(`m${i}`, t, s.other ? 'Screen Viewed' : 'App Opened');
          timeline.push(e);
          const inWindow = (x: ScherpEvent) => x.event === 'App Opened' && Date.parse(x.timestamp) >= t - 30_000;
          const after = timeline.filter(inWindow).length;
          const before = timeline.slice(0, -1).filter(inWindow).length;
          const ctx = ctxOf(e, timeline);
          expect(rs.evaluateAudiences(ctx)[0]!.member).toBe(after >= atLeast);
          expect(rs.evaluate(ctx, undefined, rs.rules.slice()).length > 0).toBe(before >= atLeast);
          // Backfilled at the same moment over the stored timeline: the same membership.
          const backfill: EvaluationContext = {
            event: { type: 'identify', messageId: 'backfill', timestamp: e.timestamp },
            profile: { id: 'p', traits: {} },
            history: timeline,
            now: t,
            eventInHistory: false,
          };
          expect(rs.evaluateAudiences(backfill)[0]!.member).toBe(after >= atLeast);
        });
      }),
      { numRuns: 200 },
    );
  });
});

describe('time-based exits: when ageing can change membership (core/expiry.ts)', () => {
  const ctxAt = (history: ScherpEvent[], now: number): EvaluationContext => ({
    event: { type: 'identify', messageId: 'x', timestamp: iso(now) },
    profile: { id: 'p', traits: {} },
    history,
    now,
    eventInHistory: false,
  });

  it('atLeast N: when the N-th newest matching event leaves the window', () => {
    const cond = { history: { event: 'App Opened', within: '30s', atLeast: 2 } } as const;
    const h = [opened('a', T0), opened('b', T0 + 10_000), opened('c', T0 + 20_000)];
    expect(nextAgingAt(cond, ctxAt(h, T0 + 25_000))).toBe(T0 + 10_000 + 30_000 + 1);
    expect(nextAgingAt(cond, ctxAt(h.slice(0, 1), T0 + 5000))).toBeUndefined();
  });

  it('atMost: when the oldest matching event leaves the window', () => {
    const cond = { not: { history: { event: 'App Opened', within: '30s', atMost: 0 } } } as const;
    const h = [opened('a', T0), opened('b', T0 + 10_000)];
    expect(nextAgingAt(cond, ctxAt(h, T0 + 15_000))).toBe(T0 + 30_001);
  });

  it('property: membership is constant until the computed moment, for random timelines', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 60_000 }), { minLength: 0, maxLength: 12 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 0, max: 60_000 }),
        (offsets, atLeast, nowOffset) => {
          const def = parseDefinition({
            kind: 'audience',
            id: 'a',
            name: 'A',
            condition: { history: { event: 'App Opened', within: '30s', atLeast } },
          });
          const rs = new RuleSet([def]);
          const now = T0 + nowOffset;
          const h = offsets.filter((o) => T0 + o <= now).map((o, i) => opened(`m${i}`, T0 + o));
          const member = (t: number) => rs.evaluateAudiences(ctxAt(h, t))[0]!.member;
          const next = nextAgingAt(rs.audiences[0]!.condition, ctxAt(h, now));
          const until = next ?? now + 120_000;
          for (let t = now; t < until; t += 997) expect(member(t)).toBe(member(now));
          if (next !== undefined) expect(member(next)).not.toBe(member(now));
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('membershipBatches', () => {
  it('keeps every change once and in order, each transaction within 100 items and as full as the next change allows', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 300 }), (due) => {
        const changes = due.map((d, i) => ({ i, ...(d ? { dueAt: '2026-01-01T00:00:00.000Z' } : {}) }));
        const batches = membershipBatches(changes);
        expect(batches.flat()).toEqual(changes);
        const items = (b: typeof changes) => 2 + b.reduce((n, c) => n + (c.dueAt ? 2 : 1), 0);
        batches.forEach((b, k) => {
          expect(b.length).toBeGreaterThan(0);
          expect(items(b)).toBeLessThanOrEqual(TRANSACTION_ITEMS);
          // Full: the next batch's first change would not have fitted.
          const next = batches[k + 1]?.[0];
          if (next) expect(items([...b, next])).toBeGreaterThan(TRANSACTION_ITEMS);
        });
      }),
    );
    expect(membershipBatches(Array.from({ length: 100 }, () => ({}))).map((b) => b.length)).toEqual([98, 2]);
  });
});
