/**
 * The public HTTP surface under hostile input (issue 18, "a standing guard"): fast-check picks a
 * route of `lambdas/routes.ts` and fills every part of the request (path parameters, query,
 * headers, body) with hostile values: Object.prototype names as keys, numbers beyond 2^53 and
 * DynamoDB's range, invalid percent-encoding, deep nesting, huge arrays, bad UTF-8 and gzip,
 * control characters and lone surrogates. Two assertions:
 * 1. no answer is a 5xx;
 * 2. every event answered 200 is, once the pipeline has settled, on its profile's timeline;
 *    and the storage invariants hold (checked here and again in the runtime's teardown).
 * Bounded (a fixed seed-free number of runs) so it stays within a few tens of seconds.
 */
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { API_ROUTES, type ApiRoute } from '../../lambdas/routes';
import type { Runtime } from '../../local/runtime';
import { startTestRuntime } from '../helpers/runtime';
import { expectStorageInvariants, settle } from '../helpers/check';
import { basic } from '../helpers/http';

let rt: Runtime;
beforeAll(async () => {
  rt = await startTestRuntime('adversarial', { streamPollMs: 20 });
});
afterAll(() => rt?.stop());

const NAMES = Object.getOwnPropertyNames(Object.prototype);

/** Routes that take tracking events (collect also serves the SDKs' settings documents, with GET). */
const takesEvents = (r: ApiRoute) => r.fn === 'collect' && r.method === 'POST';

/** Number tokens as they go on the wire: beyond 2^53, beyond DynamoDB's range, below it, odd forms. */
const rawNumber = fc.constantFrom(
  '9007199254740993',
  '12345678901234567890123',
  '1e200',
  '-1e200',
  '1e400',
  '1e-400',
  '1e-200',
  '-0',
  '0.1',
  '1E5',
  '9007199254740991',
  '123456789012345678901234567890123456789012',
  '5',
);
const hostileString = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom(
    ...NAMES,
    '',
    ' ',
    '\u0000',
    '\u001f',
    '\u007f',
    '\ud800',
    '\udc00x',
    '%E0%A4%A',
    '1e200',
    '9007199254740993',
    'anonymous',
    'null',
    '💥'.repeat(50),
    'x'.repeat(300),
  ),
);
const key = fc.oneof(
  fc.constantFrom(...NAMES, '', ' ', 'a.b', '$ref', 'ключ', '\u0000', '\ud800', 'x'.repeat(300)),
  fc.string({ maxLength: 6 }),
);
const deepText = fc.integer({ min: 30, max: 2500 }).map((n) => `${'['.repeat(n)}1${']'.repeat(n)}`);
const deepObject = fc.integer({ min: 30, max: 1600 }).map((n) => `${'{"not":'.repeat(n)}{}${'}'.repeat(n)}`);
const hugeArray = fc.integer({ min: 1000, max: 5000 }).map((n) => `[${Array(n).fill('1').join(',')}]`);

/** Hostile JSON text (built as text, so keys such as `__proto__` and raw number tokens survive). */
const { json: hostileJson } = fc.letrec<{ json: string; leaf: string; array: string; object: string }>((tie) => ({
  json: fc.oneof({ depthSize: 'small', maxDepth: 4 }, tie('leaf'), tie('array'), tie('object')),
  leaf: fc.oneof(
    { arbitrary: rawNumber, weight: 4 },
    { arbitrary: hostileString.map((s) => JSON.stringify(s)), weight: 4 },
    { arbitrary: fc.constantFrom('true', 'false', 'null'), weight: 2 },
    { arbitrary: fc.oneof(deepText, deepObject, hugeArray), weight: 1 },
  ),
  array: fc.array(tie('json'), { maxLength: 4 }).map((xs) => `[${xs.join(',')}]`),
  object: fc
    .array(fc.tuple(key, tie('json')), { maxLength: 4 })
    .map((es) => `{${es.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
}));
const hostileObject = fc
  .array(fc.tuple(key, hostileJson), { maxLength: 5 })
  .map((es) => `{${es.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`);

/** The event types and what each needs to be valid, so that many generated events are accepted. */
const TYPES = ['track', 'identify', 'page', 'screen', 'group', 'alias'] as const;
let counter = 0;

interface EventSpec {
  readonly text: string;
  /** The user id it will be stored under (trimmed, as ingestion does), and its message id. */
  readonly userId: string;
  readonly messageId: string;
}

const eventArb = fc
  .record({
    type: fc.constantFrom(...TYPES),
    suffix: fc.oneof(
      { arbitrary: fc.constant(''), weight: 2 },
      { arbitrary: fc.string({ maxLength: 8 }), weight: 2 },
      { arbitrary: hostileString, weight: 1 },
    ),
    properties: fc.option(hostileObject, { nil: undefined }),
    traits: fc.option(hostileObject, { nil: undefined }),
    context: fc.option(
      fc.oneof(
        hostileObject,
        // Segment's externalIds with hostile types and ids.
        fc
          .array(fc.tuple(fc.oneof(fc.constantFrom(...NAMES), hostileString), hostileJson), { maxLength: 3 })
          .map(
            (xs) =>
              `{"externalIds":[${xs.map(([t, id]) => `{"type":${JSON.stringify(t)},"id":${id},"collection":"users","encoding":"none"}`).join(',')}]}`,
          ),
      ),
      { nil: undefined, freq: 2 },
    ),
    extra: fc.option(
      fc.tuple(
        fc.constantFrom('timestamp', 'sentAt', 'originalTimestamp', 'name', 'category', 'integrations', 'event', 'groupId', 'anonymousId'),
        hostileJson,
      ),
      { nil: undefined, freq: 2 },
    ),
  })
  .map(({ type, suffix, properties, traits, context, extra }): EventSpec => {
    const n = counter++;
    const userId = `adv-${n}-${suffix}`;
    const messageId = `adv-msg-${n}`;
    const fields = [`"type":${JSON.stringify(type)}`, `"userId":${JSON.stringify(userId)}`, `"messageId":"${messageId}"`];
    if (type === 'track') fields.push('"event":"Hostile"');
    if (type === 'group') fields.push(`"groupId":"adv-group-${n}"`);
    if (type === 'alias') fields.push(`"previousId":"adv-prev-${n}"`);
    if (properties) fields.push(`"properties":${properties}`);
    // Traits must not carry identifiers (email, phone): each event keeps its own profile.
    if (traits) fields.push(`"traits":${traits}`);
    if (context) fields.push(`"context":${context}`);
    if (extra) fields.push(`${JSON.stringify(extra[0])}:${extra[1]}`);
    return { text: `{${fields.join(',')}}`, userId: userId.trim(), messageId };
  });

/** A path segment: hostile, invalid percent-encoding, prototype-named identifier types. */
const segment = fc.oneof(
  fc.constantFrom(
    '%E0%A4%A',
    '%',
    '%zz',
    '%00',
    '%ED%A0%80',
    'constructor:x',
    '__proto__:x',
    'toString:x',
    'user_id:',
    ':x',
    'user_id:adv-0-',
    'email:%41da@example.com',
    'x'.repeat(3000),
  ),
  hostileString.map((s) => {
    try {
      return encodeURIComponent(s) || 'x';
    } catch {
      return '%ED%A0%80';
    }
  }),
  fc.tuple(fc.constantFrom(...NAMES, 'user_id', 'email', 'phone', 'anonymous_id'), hostileString).map(([t, v]) => {
    try {
      return `${t}:${encodeURIComponent(v)}`;
    } catch {
      return `${t}:%ED%A0%80`;
    }
  }),
);
const query = fc
  .array(
    fc.tuple(
      fc.constantFrom('limit', 'cursor', 'source', 'format', 'firstLine', 'sourceId'),
      fc.oneof(
        hostileString.map((s) => {
          try {
            return encodeURIComponent(s);
          } catch {
            return '%ED%A0%80';
          }
        }),
        fc.constantFrom('%E0%A4%A', '-1', '1e200', '99999999999999999999', 'default', 'csv', 'ndjson'),
      ),
    ),
    { maxLength: 3 },
  )
  .map((qs) => (qs.length ? `?${qs.map(([k, v]) => `${k}=${v}`).join('&')}` : ''));

type Body = { kind: 'text'; text: string; gzip: boolean } | { kind: 'bytes'; bytes: Buffer; gzipHeader: boolean };
const otherBody: fc.Arbitrary<Body> = fc.oneof(
  fc.tuple(hostileJson, fc.boolean()).map(([text, gzip]): Body => ({ kind: 'text', text, gzip })),
  fc.tuple(hostileObject, fc.boolean()).map(([text, gzip]): Body => ({ kind: 'text', text, gzip })),
  fc.constantFrom<Body>(
    { kind: 'bytes', bytes: Buffer.from([0xff, 0xfe, 0x7b, 0x22, 0xc3]), gzipHeader: false },
    { kind: 'bytes', bytes: Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x01, 0x02]), gzipHeader: true },
    { kind: 'bytes', bytes: Buffer.from('{"a":1'), gzipHeader: true },
    { kind: 'bytes', bytes: gzipSync(Buffer.alloc(8 * 1024 * 1024, 0x20)), gzipHeader: true },
    { kind: 'text', text: '', gzip: false },
  ),
);

interface Case {
  readonly route: ApiRoute;
  readonly path: string;
  readonly key: 'right' | 'wrong' | 'none';
  readonly contentType: string | undefined;
  readonly body: Body | undefined;
  /** Events in the body (collect routes), to look for once the pipeline settles. */
  readonly events: readonly EventSpec[];
}

const caseArb: fc.Arbitrary<Case> = fc
  .record({
    // Half the requests go to the tracking routes, so that many events are acknowledged.
    route: fc.oneof(fc.constantFrom(...API_ROUTES.filter(takesEvents)), fc.constantFrom(...API_ROUTES)),
    segs: fc.array(segment, { minLength: 2, maxLength: 2 }),
    query,
    key: fc.constantFrom<Case['key']>('right', 'right', 'right', 'right', 'wrong', 'none'),
    contentType: fc.constantFrom(undefined, 'application/json', 'text/plain', 'application/octet-stream', 'text/csv'),
    events: fc.array(eventArb, { minLength: 1, maxLength: 4 }),
    batchExtras: fc.array(fc.oneof(hostileJson, fc.constantFrom('1', '[]', '{"type":"track"}', '{"type":"constructor"}')), {
      maxLength: 2,
    }),
    other: otherBody,
    gzip: fc.boolean(),
  })
  .map(({ route, segs, query: q, key: k, contentType, events, batchExtras, other, gzip }): Case => {
    let i = 0;
    const path = route.path.replace(/\{[^}]+\}/g, () => segs[i++]!) + q;
    if (!takesEvents(route)) return { route, path, key: k, contentType, body: other, events: [] };
    const isBatch = /\/v1\/(batch|b)$/.test(route.path);
    const text = isBatch ? `{"batch":[${[...events.map((e) => e.text), ...batchExtras].join(',')}]}` : events[0]!.text;
    // Gzip goes with a binary content type, the one way HTTP APIs pass it on intact (gzip sent
    // as JSON or text is refused with a 400 saying so: the `other` bodies cover that).
    return {
      route,
      path,
      key: k,
      contentType: gzip ? 'application/octet-stream' : contentType,
      body: { kind: 'text', text, gzip },
      events: isBatch ? events : [events[0]!],
    };
  });

function keyFor(route: ApiRoute): string {
  if (route.fn === 'collect' || route.path === '/v1/context') return rt.keys.write;
  if (route.fn === 'profile' && route.method === 'GET' && !route.path.endsWith('/export')) return rt.keys.read;
  return rt.keys.admin;
}

/** What one request acknowledged: the events answered 200. */
async function send(c: Case): Promise<{ status: number; acknowledged: EventSpec[] }> {
  const headers: Record<string, string> = {};
  if (c.key === 'right') headers.authorization = basic(keyFor(c.route));
  if (c.key === 'wrong') headers.authorization = basic('not-a-key');
  if (c.contentType) headers['content-type'] = c.contentType;
  let body: Buffer | undefined;
  if (c.body?.kind === 'text' && c.body.text !== '') {
    body = c.body.gzip ? gzipSync(Buffer.from(c.body.text)) : Buffer.from(c.body.text);
    if (c.body.gzip) headers['content-encoding'] = 'gzip';
  } else if (c.body?.kind === 'bytes') {
    body = c.body.bytes;
    if (c.body.gzipHeader) headers['content-encoding'] = 'gzip';
  }
  const res = await fetch(`${rt.url}${c.path}`, { method: c.route.method, headers, body: c.route.method === 'GET' ? undefined : body });
  const text = await res.text();
  if (res.status !== 200 || !takesEvents(c.route)) return { status: res.status, acknowledged: [] };
  const answer = JSON.parse(text) as { rejected?: { index: number }[] };
  const refused = new Set((answer.rejected ?? []).map((r) => r.index));
  return { status: res.status, acknowledged: c.events.filter((_, i) => !refused.has(i)) };
}

test('no hostile request gets a 5xx, and every event answered 200 lands on its profile', async () => {
  const acknowledged: EventSpec[] = [];
  const failures: string[] = [];
  const statuses = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(caseArb, async (c) => {
      const { status, acknowledged: ok } = await send(c);
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      acknowledged.push(...ok);
      if (status >= 500) failures.push(`${c.route.method} ${c.path.slice(0, 120)} → ${status}`);
      return status < 500;
    }),
    { numRuns: 300, endOnFailure: true },
  );
  expect(failures).toEqual([]);
  process.stderr.write(
    `adversarial: ${acknowledged.length} events acknowledged; statuses ${JSON.stringify(Object.fromEntries(statuses))}\n`,
  );
  // Both kinds of outcome were exercised.
  expect(acknowledged.length).toBeGreaterThan(20);
  expect([...statuses.keys()].some((s) => s >= 400)).toBe(true);

  await settle(rt);
  const missing: string[] = [];
  for (const e of acknowledged) {
    const res = await fetch(`${rt.url}/v1/profiles/${encodeURIComponent(`user_id:${e.userId}`)}/events?limit=100`, {
      headers: { authorization: basic(rt.keys.read) },
    });
    const page = res.status === 200 ? ((await res.json()) as { events: { event: { messageId: string } }[] }) : { events: [] };
    if (!page.events.some((x) => x.event.messageId === e.messageId))
      missing.push(`${e.messageId} (${res.status}): ${e.text.slice(0, 400)}`);
  }
  expect(missing).toEqual([]);
  expect(await rt.deadLetters.list(100)).toEqual([]);
  await expectStorageInvariants(rt.dynamoEndpoint, rt.tableName);
});

test('every route with every path parameter at 3,000 characters answers 4xx or 2xx, never a 5xx', async () => {
  const long = 'x'.repeat(3000);
  const answers: string[] = [];
  for (const route of API_ROUTES) {
    if (!route.path.includes('{')) continue;
    for (const seg of [long, `user_id:${long}`, `src_${long}`]) {
      const res = await fetch(`${rt.url}${route.path.replace(/\{[^}]+\}/g, seg)}`, {
        method: route.method,
        headers: { authorization: basic(keyFor(route)), 'content-type': 'application/json' },
        body: route.method === 'GET' ? undefined : '{"event":{"type":"track","userId":"u","event":"E"}}',
      });
      await res.text();
      if (res.status >= 500) answers.push(`${route.method} ${route.path} (${seg.slice(0, 8)}…) → ${res.status}`);
    }
  }
  expect(answers).toEqual([]);
});
