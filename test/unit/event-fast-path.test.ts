/**
 * collect's fast path for the event schema (`fastIncomingEvent`, core/events.ts) against zod
 * itself: wherever the fast path answers, zod accepts the same input and gives the same object
 * (same keys in the same order, same values, same prototypes); wherever it does not, the input
 * goes to zod. The common events analytics.js and the SDKs send take the fast path.
 */
import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import { EVENT_TYPES, fastIncomingEvent, IncomingEventSchema, parseIncomingEvent, type EventType } from '../../core/events';
import { cleanJson, correctTimestamp, ingest } from '../../core/ingest';
import { sampleTrack } from '../../bench/dataset';

const text = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom('', ' ', '  x  ', 'x\u0000y', '\u007f', '\ud800', '\udc00x', 'é😀', '\u00a0', '\ufeffid', 'null', '0'),
  fc.string({ minLength: 95, maxLength: 105 }),
  fc.string({ minLength: 195, maxLength: 205 }),
  fc.string({ minLength: 1, maxLength: 4 }).map((s) => ` ${s} `.repeat(30)),
);
const key = fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('__proto__', 'constructor', 'toString', '1', '01', 'type'));
const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    text,
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(key, tie('value'), { maxKeys: 4 }),
  ),
})).value;
const id = fc.oneof(fc.uuid(), text, fc.integer(), fc.constant(2 ** 60), fc.constant(null), fc.constant({}), fc.constant([]));
const date = fc.oneof(
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constantFrom('2026-01-01', '2026-01-01T10:00:00+02:00', 'Tue, 01 Dec 2026 10:00:00 GMT', 'yesterday', '', ' ', '0'),
  fc.integer(),
  text,
  fc.constant(null),
);
const record = fc.oneof(fc.dictionary(key, json, { maxKeys: 5 }), fc.constant([]), fc.constant(null), text, fc.integer());
/** Mostly a valid value, sometimes any: so both paths and every field's edge cases are exercised. */
const mostly = <T, U>(valid: fc.Arbitrary<T>, any: fc.Arbitrary<U>) =>
  fc.oneof({ arbitrary: valid, weight: 12 }, { arbitrary: any, weight: 1 });
const validId = fc.oneof(fc.uuid(), fc.constantFrom(null, '', '  ', ' u-1 ', 'é😀'), fc.string({ minLength: 1, maxLength: 8 }));
const validDate = fc.oneof(
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.constantFrom('2026-01-01', '2026-01-01T10:00:00+02:00'),
);
const validRecord = fc.dictionary(key, json, { maxKeys: 5 });
const validText = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom(' Viewed ', 'é😀', 'Order Completed'));
const field = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 2 });

const fieldsArb = fc
  .record({
    messageId: field(mostly(validId, id)),
    userId: field(mostly(validId, id)),
    anonymousId: field(mostly(validId, id)),
    groupId: field(mostly(validId, id)),
    previousId: field(mostly(validId, id)),
    timestamp: field(mostly(validDate, date)),
    originalTimestamp: field(mostly(validDate, date)),
    sentAt: field(mostly(validDate, date)),
    context: field(mostly(validRecord, record)),
    integrations: field(mostly(validRecord, record)),
    properties: field(mostly(validRecord, record)),
    traits: field(mostly(validRecord, record)),
    event: field(mostly(validText, fc.oneof(text, fc.integer(), fc.constant(null)))),
    name: field(mostly(validText, fc.oneof(text, fc.integer()))),
    category: field(mostly(validText, fc.oneof(text, fc.constant(null)))),
    type: field(fc.oneof(fc.constantFrom(...EVENT_TYPES), text)),
    extra: field(json),
  })
  .map((r) => {
    // An absent field is absent (no key), as in parsed JSON.
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(r)) if (v !== undefined) out[k] = v;
    return cleanJson(out) as Record<string, unknown>;
  });

const typeArb = fc.constantFrom(...EVENT_TYPES);

/** Same keys in the same order at every level, same values and prototypes (and undefined-valued keys kept). */
function same(a: unknown, b: unknown): boolean {
  if (!isDeepStrictEqual(a, b)) return false;
  if (a === null || typeof a !== 'object') return true;
  const ka = Object.keys(a);
  const kb = Object.keys(b as object);
  return (
    ka.length === kb.length && ka.every((k, i) => k === kb[i] && same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
  );
}

describe('the fast path of the event schema', () => {
  it('gives exactly what zod gives wherever it answers, and leaves the rest to zod', () => {
    let fast = 0;
    let total = 0;
    fc.assert(
      fc.property(fieldsArb, typeArb, (fields, type: EventType) => {
        total++;
        const f = fastIncomingEvent(fields, type);
        const z = IncomingEventSchema.safeParse({ ...fields, type });
        if (f === undefined) {
          // The fallback is zod itself: result and issues identical.
          const p = parseIncomingEvent(fields, type);
          expect(p.success).toBe(z.success);
          if (!p.success && !z.success) expect(p.error.issues).toEqual(z.error.issues);
          else if (p.success && z.success) expect(same(p.data, z.data)).toBe(true);
          return;
        }
        fast++;
        expect(z.success).toBe(true);
        if (z.success) expect(same(f, z.data)).toBe(true);
        expect(JSON.stringify(f)).toBe(JSON.stringify(z.data));
      }),
      { numRuns: 4000 },
    );
    // The property is not vacuous: a good share of the inputs take the fast path.
    expect(fast).toBeGreaterThan(total / 20);
  });

  it('takes the valid events SDKs send (null and blank ids too) and gives zod’s object', () => {
    const events: Record<string, unknown>[] = [
      sampleTrack(),
      { ...sampleTrack(3), userId: null, messageId: 'ajs-next-1-abc', sentAt: '2026-01-01T00:00:01.000Z', integrations: {} },
      { type: 'identify', anonymousId: 'anon-1', userId: '', traits: { email: 'a@example.com', plan: 'pro' }, context: {} },
      { type: 'page', anonymousId: ' anon-2 ', name: 'Home', category: 'Docs', properties: { path: '/' } },
      { type: 'group', userId: 'u1', groupId: 'g1', traits: { name: 'Acme' } },
      { type: 'screen', userId: 'u1', name: 'Cart', originalTimestamp: '2026-01-01T00:00:00Z' },
    ];
    for (const e of events) {
      const fields = cleanJson(JSON.parse(JSON.stringify(e))) as Record<string, unknown>;
      const type = e.type as EventType;
      const f = fastIncomingEvent(fields, type);
      expect(f).toBeDefined();
      const z = IncomingEventSchema.safeParse({ ...fields, type });
      expect(z.success).toBe(true);
      expect(same(f, z.success ? z.data : undefined)).toBe(true);
    }
  });

  it('leaves invalid events to zod, so the issues naming the fields stay zod’s', () => {
    const fields = cleanJson({ userId: 'x\u0000y', event: '' }) as Record<string, unknown>;
    expect(fastIncomingEvent(fields, 'track')).toBeUndefined();
    const p = parseIncomingEvent(fields, 'track');
    expect(p.success).toBe(false);
    const z = IncomingEventSchema.safeParse({ ...fields, type: 'track' });
    expect(!p.success && !z.success && p.error.issues).toEqual(!z.success && z.error.issues);
    expect(fastIncomingEvent(cleanJson({ userId: 'a', previousId: 'b' }) as Record<string, unknown>, 'alias')).toBeUndefined();
    expect(fastIncomingEvent(cleanJson({ userId: 42, event: 'E' }) as Record<string, unknown>, 'track')).toBeUndefined();
  });

  it('ingest stamps and queues the same JSON as zod and the spread-built stamp did', () => {
    const receivedAt = new Date('2026-06-01T12:00:00.000Z');
    let accepted = 0;
    fc.assert(
      fc.property(fieldsArb, typeArb, fc.boolean(), (fields, type: EventType, trusted) => {
        const z = IncomingEventSchema.safeParse({ ...fields, type });
        let n = 0;
        const newMessageId = () => `generated-${++n}`;
        const request = { ip: '198.51.100.1', userAgent: 'ua' };
        let out: ReturnType<typeof ingest>;
        try {
          out = ingest({
            route: type,
            body: fields,
            receivedAt,
            sourceId: 'src',
            party: 'first',
            sourceName: 'web',
            trust: trusted ? 'trusted' : 'public',
            newMessageId,
            request,
          });
        } catch {
          return; // refused (the issues are zod's and the identifier check's, as before)
        }
        accepted++;
        expect(z.success).toBe(true);
        if (!z.success) return;
        const e = z.data;
        // The stamp as it was written before (object rest and spreads).
        const { timestamp: _t, ...rest } = e;
        const context = { ...(e.context ?? {}) };
        if (context.ip === undefined) context.ip = request.ip;
        if (context.userAgent === undefined) context.userAgent = request.userAgent;
        const stated = e.originalTimestamp ?? e.timestamp;
        const expected = {
          ...rest,
          ...(stated !== undefined ? { originalTimestamp: stated } : {}),
          context,
          messageId: e.messageId ?? 'generated-1',
          sourceId: 'src',
          party: 'first',
          sourceName: 'web',
          ...(trusted ? { trust: 'trusted' } : {}),
          timestamp: correctTimestamp(e, receivedAt),
          receivedAt: receivedAt.toISOString(),
        };
        expect(out.accepted).toHaveLength(1);
        expect(same(out.accepted[0], expected)).toBe(true);
        expect(JSON.stringify(out.accepted[0])).toBe(JSON.stringify(expected));
      }),
      { numRuns: 2000 },
    );
    expect(accepted).toBeGreaterThan(100);
  });
});
