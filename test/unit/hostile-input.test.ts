/**
 * Issue 18 items 1-3, 12-14, pure: user keys that are Object.prototype members, numbers JSON
 * cannot carry exactly, malformed path encoding, over-deep rule documents, unbounded bodies.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { applyTraits, mergeTraitsWith, TraitsConfigSchema, type Traits } from '../../core/profile';
import { applyEvent, combineComputed, ComputedConfigSchema, EMPTY_COMPUTED } from '../../core/computed';
import { parseConfig } from '../../core/config';
import { extractIdentifiers, normaliseIdentifier } from '../../core/identity';
import { hasUsableIdentifier } from '../../core/identifiers';
import { applyConsent, consentFromEvent, mergeConsent } from '../../core/consent';
import { parseImport } from '../../core/import';
import { ingest } from '../../core/ingest';
import { clampSafe, isStorableNumber, parseJson, storable } from '../../core/numbers';
import { tooDeepAt } from '../../core/depth';
import { MAX_DEFINITION_DEPTH, parseDefinition } from '../../core/rules/engine';
import { applyTraitChanges } from '../../core/rules/traits';
import { newProfile } from '../../core/profile';
import { ValidationError } from '../../core/errors';
import { decodePathSegment } from '../../lambdas/shared/http';
import { createRulesHandler } from '../../lambdas/rules';
import { BootstrapKeyStore, envLoader } from '../../adapters/keys';
import type { ScherpEvent } from '../../core/events';
import { importTarget } from '../../core/import-job';

/** Every member name of Object.prototype: constructor, __proto__, toString, valueOf, hasOwnProperty, … */
const PROTO_NAMES = Object.getOwnPropertyNames(Object.prototype);
/** Names that ingestion drops from every payload (`cleanJson`), documented. */
const DROPPED = new Set(['__proto__', 'constructor', 'prototype']);

/** A trait's value by name (a variable, so TypeScript does not read `toString` as the method). */
const val = (t: Traits, name: string) => t[name]?.value;
const at = (i: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString();
const ev = (over: Partial<ScherpEvent>, i = 0): ScherpEvent =>
  ({ type: 'track', messageId: `m${i}`, sourceId: 's', timestamp: at(i), receivedAt: at(i), ...over }) as ScherpEvent;

describe('trait names that are Object.prototype members', () => {
  const policy = TraitsConfigSchema.parse({ precedence: { '*': ['crm'], email: ['crm', 'web'] } });

  it.each(PROTO_NAMES)('%s: two identifies and a merge keep the newest value, with a precedence policy', (name) => {
    const t1 = applyTraits({}, { [name]: 'v1' }, at(1), 'web', 'first', policy);
    const t2 = applyTraits(t1, { [name]: 'v2', email: 'a@example.com' }, at(2), 'web', 'first', policy);
    expect(Object.hasOwn(t2, 'email')).toBe(true);
    const other = applyTraits({}, { [name]: 'v0' }, at(0), 'web', 'first', policy);
    const merged = mergeTraitsWith(policy, t2, other);
    if (DROPPED.has(name)) {
      expect(Object.hasOwn(merged, name)).toBe(false);
    } else {
      expect(t2[name]!.value).toBe('v2');
      expect(merged[name]!.value).toBe('v2');
    }
    expect(merged.email!.value).toBe('a@example.com');
  });

  it('a precedence entry named like a prototype member ranks only that trait', () => {
    const p = TraitsConfigSchema.parse({ precedence: { toString: ['crm'], valueOf: ['crm'] } });
    const fromCrm = applyTraits({}, { toString: 'crm-value', valueOf: 1 }, at(1), 'crm', 'first', p);
    const newerWeb = applyTraits(fromCrm, { toString: 'web-value', valueOf: 2, hasOwnProperty: 'x' }, at(2), 'web', 'first', p);
    expect(val(newerWeb, 'toString')).toBe('crm-value');
    expect(val(newerWeb, 'valueOf')).toBe(1);
    expect(val(newerWeb, 'hasOwnProperty')).toBe('x');
  });

  it('rule trait changes increment a trait named like a prototype member from 0', () => {
    const p = newProfile('p1', ['user_id:u1'], at(0));
    const out = applyTraitChanges(
      p,
      [
        { trait: 'valueOf', increment: 2 },
        { trait: 'toString', set: 'x' },
      ],
      at(1),
      'rule',
    );
    expect(val(out.traits, 'valueOf')).toBe(2);
    expect(val(out.traits, 'toString')).toBe('x');
  });

  it.each(PROTO_NAMES)('%s: as identifier type, consent purpose, CSV column, computed trait name', (name) => {
    const cfg = parseConfig(undefined).identity;
    expect(normaliseIdentifier(name, 'x', cfg)).toEqual({ ok: false, reason: 'unknown_type' });
    const e = {
      type: 'identify' as const,
      userId: 'u1',
      context: { externalIds: [{ type: name, id: 'x', collection: 'users', encoding: 'none' }] },
    };
    expect(extractIdentifiers(e, cfg)).toEqual([{ type: 'user_id', value: 'u1' }]);
    expect(hasUsableIdentifier(e, cfg)).toBe(true);

    const consent = consentFromEvent({ type: 'identify', context: { consent: { categoryPreferences: { [name]: true, email: false } } } });
    const applied = applyConsent({}, consent!, at(1));
    expect(mergeConsent(applied, applyConsent({}, consent!, at(0))).email!.status).toBe('denied');

    const ctx = { sourceId: 's', receivedAt: at(0), identity: cfg };
    expect(() => parseImport(`${name},email\nx,a@example.com\n`, 'csv', ctx)).not.toThrow();
    expect(() => parseImport(`email,${name},valueOf\na@example.com,1,2\n`, 'csv', ctx)).not.toThrow();
    expect(parseImport(`{"id":"${name}:x","traits":{"a":1}}`, 'ndjson', ctx).errors).toEqual([
      { line: 1, reason: `unknown identifier type "${name}"; one of user_id, email, phone, anonymous_id, device_id, advertising_id` },
    ]);

    if (/^[a-z][a-z0-9_]{0,39}$/.test(name)) {
      const defs = ComputedConfigSchema.parse({ [name]: { op: 'count' } });
      const s1 = applyEvent(defs, EMPTY_COMPUTED, ev({ event: 'x' }, 1));
      const s2 = applyEvent(defs, s1, ev({ event: 'x' }, 2));
      expect(s2.values[name]).toBe(2);
      expect(combineComputed(defs, s2, [s1], 'm').values[name]).toBe(3);
    }
  });

  it('a dropped file whose extension is a prototype name is not imported', () => {
    for (const ext of ['constructor', 'tostring', 'valueof', 'hasownproperty'])
      expect(importTarget(`imports/crm/a.${ext}`)).toMatchObject({ ok: false, reason: expect.stringMatching(/must end in/) });
  });

  it('a CSV row whose every column is a dropped name is a row error, not a crash', () => {
    const ctx = { sourceId: 's', receivedAt: at(0), identity: parseConfig(undefined).identity };
    const r = parseImport('email,constructor,__proto__\na@example.com,1,2\n', 'csv', ctx);
    expect(r.errors).toEqual([{ line: 2, reason: 'no traits' }]);
  });
});

describe('numbers JSON cannot carry exactly', () => {
  it('parseJson keeps unsafe numbers as their digits as sent; safe numbers and strings unchanged', () => {
    expect(
      parseJson(
        '{"a":12345678901234567890123,"b":12345678901234567890124,"c":[1e200,-1e200,1e-200],"d":9007199254740993,"e":9007199254740991,"f":0.1,"g":"9007199254740993 1e200","h":1e-400}',
      ),
    ).toEqual({
      a: '12345678901234567890123',
      b: '12345678901234567890124',
      c: ['1e200', '-1e200', '1e-200'],
      d: '9007199254740993',
      e: 9007199254740991,
      f: 0.1,
      g: '9007199254740993 1e200',
      h: 0,
    });
    expect(parseJson('{"id":"3e5f-1234567890123456","n":"\\"1e300"}')).toEqual({ id: '3e5f-1234567890123456', n: '"1e300' });
    expect(() => parseJson('{"a":1e200')).toThrow(SyntaxError);
  });

  it('parseJson is JSON.parse on every value without unsafe numbers, and never leaves one', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const text = JSON.stringify(v);
        const parsed = parseJson(text);
        const walk = (x: unknown): void => {
          if (typeof x === 'number') expect(isStorableNumber(x)).toBe(true);
          else if (Array.isArray(x)) x.forEach(walk);
          else if (x !== null && typeof x === 'object') Object.values(x).forEach(walk);
        };
        walk(parsed);
        if (!/\d{16}|\d[eE][+-]?\d/.test(text)) expect(parsed).toEqual(JSON.parse(text));
      }),
      { numRuns: 300 },
    );
  });

  it('numeric ids beyond 2^53 are refused with "send it as a string"; as strings (or through parseJson) they stay distinct', () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const run = (body: unknown) => ingest({ route: 'batch', body, receivedAt: now, sourceId: 's', newMessageId: () => 'm' });
    const r = run({
      batch: [
        { type: 'identify', userId: 12345678901234567890123 },
        { type: 'identify', userId: 42 },
      ],
    });
    expect(r.rejected).toEqual([
      { index: 0, issues: [{ path: 'batch[0].userId', message: expect.stringMatching(/send it as a string/) }] },
    ]);
    const exact = run(
      parseJson('{"batch":[{"type":"identify","userId":12345678901234567890123},{"type":"identify","userId":12345678901234567890124}]}'),
    );
    expect(exact.accepted.map((e) => e.userId)).toEqual(['12345678901234567890123', '12345678901234567890124']);
  });

  it('computed sums ignore numbers DynamoDB cannot store and stay within ±(2^53 − 1)', () => {
    const defs = ComputedConfigSchema.parse({});
    const order = (i: number, revenue: unknown) => ev({ event: 'Order Completed', properties: { revenue } }, i);
    let s = EMPTY_COMPUTED;
    for (const [i, r] of [9007199254740993, 1e200, '1e200', -1e200, 1e-200, Number.NaN, 5].entries()) s = applyEvent(defs, s, order(i, r));
    expect(s.values.lifetime_value).toBe(5);
    s = applyEvent(defs, s, order(10, 9007199254740000));
    s = applyEvent(defs, s, order(11, 9007199254740000));
    expect(s.values.lifetime_value).toBe(Number.MAX_SAFE_INTEGER);
    s = applyEvent(defs, s, order(12, 10));
    expect(s.values.lifetime_value).toBe(Number.MAX_SAFE_INTEGER);
    expect(combineComputed(defs, s, [s], 'x').values.lifetime_value).toBe(Number.MAX_SAFE_INTEGER);
    expect(clampSafe(-1e300)).toBe(-Number.MAX_SAFE_INTEGER);
  });

  it('storable turns every number DynamoDB cannot store into its string, at any depth', () => {
    expect(storable({ a: 1, b: [1e200, { c: -9007199254740993 }], d: 1e-200, e: 'x' })).toEqual({
      a: 1,
      b: ['1e+200', { c: '-9007199254740992' }],
      d: '1e-200',
      e: 'x',
    });
    const same = { a: 1, b: [2] };
    expect(storable(same)).toBe(same);
    const proto = storable(JSON.parse('{"__proto__":{"n":1e200},"toString":1e200}') as Record<string, unknown>);
    expect(Object.getPrototypeOf(proto)).toBe(Object.prototype);
    expect(Object.keys(proto)).toEqual(['__proto__', 'toString']);
    expect(JSON.stringify(proto)).toBe('{"__proto__":{"n":"1e+200"},"toString":"1e+200"}');
  });
});

describe('malformed path encoding (item 13)', () => {
  it('is a 400 naming the parameter; valid encoding decodes', () => {
    expect(decodePathSegment('user_id%3A42', 'id')).toBe('user_id:42');
    expect(() => decodePathSegment('user_id:%E0%A4%A', 'id')).toThrow(ValidationError);
    try {
      decodePathSegment('%', 'id');
    } catch (err) {
      expect((err as ValidationError).issues).toEqual([{ path: 'id', message: 'is not valid percent-encoded UTF-8' }]);
    }
  });
});

describe('rule documents nested too deep (item 14)', () => {
  const deep = (n: number) => {
    let c: unknown = { path: 'event.type', op: 'eq', value: 'track' };
    for (let i = 0; i < n; i++) c = i % 2 ? { not: c } : { all: [c] };
    return c;
  };

  it('1,500 levels: a ValidationError naming the path, no stack overflow', () => {
    let err: unknown;
    try {
      parseDefinition({ id: 'deep', name: 'Deep', trigger: {}, condition: deep(1500), actions: [{ type: 'emit', detailType: 'x' }] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues[0]!.path).toMatch(/^condition(\.(all\[0\]|not))+$/);
    expect((err as ValidationError).issues[0]!.message).toBe(`nests deeper than ${MAX_DEFINITION_DEPTH} levels`);
  });

  it('conditions nested 20 deep are still fine', () => {
    expect(() =>
      parseDefinition({ id: 'ok', name: 'Ok', trigger: {}, condition: deep(20), actions: [{ type: 'emit', detailType: 'x' }] }),
    ).not.toThrow(/nests deeper/);
  });

  it('tooDeepAt finds the first path past the limit, without recursion', () => {
    let v: unknown = 1;
    for (let i = 0; i < 100_000; i++) v = [v];
    expect(tooDeepAt(v, 3)).toBe('[0][0][0][0]');
    expect(tooDeepAt({ a: { b: [1] } }, 2)).toBeUndefined();
    expect(tooDeepAt({ a: { b: [{}] } }, 2, 'event')).toBe('event.a.b[0]');
  });
});

describe('the rules admin API decodes bodies with a cap (item 12)', () => {
  const handler = createRulesHandler(() => ({ keys: new BootstrapKeyStore({ admin: envLoader('ak') }) }) as never);
  const req = (routeKey: string, body: Buffer): APIGatewayProxyEventV2 =>
    ({
      routeKey,
      headers: { authorization: 'Bearer ak', 'content-encoding': 'gzip' },
      pathParameters: { id: 'r1' },
      body: body.toString('base64'),
      isBase64Encoded: true,
    }) as unknown as APIGatewayProxyEventV2;

  it.each(['PUT /v1/rules/{id}', 'POST /v1/rules/{id}/test', 'POST /v1/rules/{id}/backtest'])(
    '%s: a gzip bomb is a 413, not inflated',
    async (routeKey) => {
      const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20));
      const before = process.memoryUsage().arrayBuffers;
      const r = await handler(req(routeKey, bomb));
      expect(r.statusCode).toBe(413);
      expect(JSON.parse(r.body!)).toMatchObject({ limit: 'maxRequestBytes' });
      expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(32 * 1024 * 1024);
    },
  );
});

describe('user-keyed maps stay null-prototype through the profile model', () => {
  it('traits from storage behave like any other keys', () => {
    const stored = JSON.parse('{"toString":{"value":"a","updatedAt":"2026-01-01T00:00:00.000Z","sourceId":"s"}}') as Traits;
    const next = applyTraits(stored, { valueOf: 'b', toString: 'c' }, at(5), 's');
    expect(Object.getPrototypeOf(next)).toBeNull();
    expect(val(next, 'toString')).toBe('c');
    expect(val(next, 'valueOf')).toBe('b');
  });
});
