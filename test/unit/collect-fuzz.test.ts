/**
 * Property-based fuzzing of the collect handler: generated valid and corrupted payloads never
 * produce a 5xx; nothing is queued for rejected events; every accepted event is queued exactly
 * once; rejected events are kept; nothing pollutes Object.prototype.
 */
import { isAbsent } from '../../core/events';
import fc from 'fast-check';
import { gzipSync } from 'node:zlib';
import { createCollectHandler } from '../../lambdas/collect';
import { BootstrapKeyStore, envLoader } from '../../adapters/keys';
import { apiRequest, basicAuth, MemoryQueue, MemoryRejectedStore } from '../helpers/collect';

const types = ['track', 'identify', 'page', 'screen', 'group', 'alias'] as const;

const hostileString = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.constantFrom(
    '',
    ' ',
    'a#b',
    'a:b',
    'a/b',
    '#',
    ':',
    '/',
    'x\u0000y',
    '\u001f',
    'anonymous',
    '0',
    '__proto__',
    'constructor',
    '\ud800',
    'é😀',
  ),
  fc.string({ minLength: 90, maxLength: 130 }),
);
const hostileKey = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty'),
);
const jsonish = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    hostileString,
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(hostileKey, tie('value'), { maxKeys: 4 }),
  ),
})).value;

const idValue = fc.oneof(fc.uuid(), fc.integer({ min: 1, max: 1e9 }), hostileString, fc.constant({ nested: 'object' }), fc.constant(null));
const dateValue = fc.oneof(
  fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  fc.integer(),
  hostileString,
  fc.constant('2099-01-01T00:00:00Z'),
);

/** A Segment call, each field present or not, valid or not. */
const call = fc.record(
  {
    type: fc.oneof(fc.constantFrom(...types), hostileString),
    userId: idValue,
    anonymousId: idValue,
    messageId: idValue,
    event: fc.oneof(fc.constantFrom('Order Completed', 'Signed Up'), hostileString, fc.constant(42)),
    groupId: idValue,
    previousId: idValue,
    timestamp: dateValue,
    sentAt: dateValue,
    properties: fc.oneof(fc.dictionary(hostileKey, jsonish, { maxKeys: 5 }), hostileString),
    traits: fc.dictionary(hostileKey, jsonish, { maxKeys: 5 }),
    context: fc.oneof(fc.dictionary(hostileKey, jsonish, { maxKeys: 4 }), fc.constant([])),
  },
  { requiredKeys: [] },
);

/** A request body: a batch, a single call, or something that is not one. */
const body = fc.oneof(
  fc
    .record({
      batch: fc.array(fc.oneof(call, jsonish), { maxLength: 8 }),
      context: fc.option(fc.dictionary(hostileKey, jsonish, { maxKeys: 3 }), { nil: undefined }),
    })
    .map((b) => ({ route: 'batch', text: JSON.stringify(b) })),
  fc.tuple(fc.constantFrom(...types), call).map(([route, c]) => ({ route, text: JSON.stringify(c) })),
  fc
    .tuple(
      fc.constantFrom('batch', ...types),
      fc.oneof(
        fc.string({ maxLength: 40 }),
        jsonish.map((v) => JSON.stringify(v) ?? ''),
      ),
    )
    .map(([route, text]) => ({ route, text })),
  fc
    .constantFrom(`{"batch":${'['.repeat(5000)}${']'.repeat(5000)}}`, '{"__proto__":{"polluted":true},"userId":"u","event":"e"}')
    .map((text) => ({ route: 'batch', text })),
);

describe('collect handler under fuzzing', () => {
  it('never answers 5xx; queues exactly the accepted events, once; keeps the rejected ones', async () => {
    await fc.assert(
      fc.asyncProperty(body, fc.boolean(), fc.constantFrom('good', 'bad', 'none', 'body'), async (b, gzip, auth) => {
        const queue = new MemoryQueue();
        const rejected = new MemoryRejectedStore();
        let n = 0;
        const handler = createCollectHandler(() => ({
          queue,
          rejected,
          keys: new BootstrapKeyStore({ write: envLoader('wk') }),
          newMessageId: () => `gen-${++n}`,
        }));
        let text = b.text;
        if (auth === 'body' && text.startsWith('{') && text.length > 2) text = `{"writeKey":"wk",${text.slice(1)}`;
        const headers: Record<string, string> = auth === 'good' ? basicAuth('wk') : auth === 'bad' ? basicAuth('nope') : {};
        const raw = gzip ? gzipSync(Buffer.from(text)) : text;
        if (gzip) headers['content-encoding'] = 'gzip';
        const res = await handler(apiRequest(`/v1/${b.route}`, raw, headers));
        const status = res.statusCode!;
        expect(status).toBeGreaterThanOrEqual(200);
        expect(status).toBeLessThan(500);
        const out = JSON.parse(res.body!);
        if (status >= 400) {
          expect(queue.sent).toHaveLength(0);
          expect(typeof (out.message ?? '')).toBe('string');
          expect(out.success).toBe(false);
        } else {
          const rejectedCount = (out.rejected ?? []).length;
          const parsed = JSON.parse(b.text) as unknown[] | { batch: unknown[] };
          // A batch comes as `{ batch: [...] }` or, as analytics.js may send it, a bare array.
          const given: unknown[] = b.route !== 'batch' ? [parsed] : Array.isArray(parsed) ? parsed : parsed.batch;
          const items = given.length;
          expect(queue.sent.length + rejectedCount).toBe(items);
          expect(out.accepted ?? queue.sent.length).toBe(queue.sent.length);
          // Exactly once, in order: the k-th queued event is the k-th item not rejected.
          const rejectedIdx = new Set((out.rejected ?? []).map((r: { index: number }) => r.index));
          const acceptedItems = given.filter((_, i) => !rejectedIdx.has(i)) as { messageId?: unknown }[];
          expect(acceptedItems).toHaveLength(queue.sent.length);
          acceptedItems.forEach((item, k) => {
            const mid = item.messageId;
            expect(queue.sent[k]!.messageId).toEqual(
              // A blank id is an absent one (`isAbsent`): collect gives the event one.
              (typeof mid === 'string' || typeof mid === 'number') && !isAbsent(mid) ? String(mid).trim() : expect.stringMatching(/^gen-/),
            );
          });
          expect(rejected.records.map((r) => r.index)).toEqual((out.rejected ?? []).map((r: { index: number }) => r.index));
        }
        if (status === 401) expect(out.error).toBe('unauthorized');
        for (const e of queue.sent) {
          expect(e.sourceId).toBe('default');
          expect(e.party).toBe('first');
          expect(Date.parse(e.timestamp)).toBeLessThanOrEqual(Date.now() + 3_600_000);
          for (const part of [e.properties, e.traits, e.context]) {
            if (part) for (const k of ['__proto__', 'constructor', 'prototype']) expect(Object.hasOwn(part, k)).toBe(false);
          }
        }
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        expect(Object.keys(Object.prototype)).toEqual([]);
      }),
      { numRuns: 300, interruptAfterTimeLimit: 8000 },
    );
  });
});
