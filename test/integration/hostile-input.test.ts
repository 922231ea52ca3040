/**
 * Issue 18 items 1-3, 13, 14 from the outside: every Object.prototype member name and extreme
 * numbers sent over HTTP to the local runtime, through collect → stitch → evaluate → profile
 * read. Each acknowledged event lands on its profile's timeline, traits and computed traits
 * are right, nothing is dead-lettered or given up by the stream, and the storage invariants
 * hold (the runtime's teardown, and `npx scherp check` on the same table).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Runtime } from '../../local/runtime';
import { startTestRuntime } from '../helpers/runtime';
import { expectStorageInvariants, settle } from '../helpers/check';
import { apiClient, basic } from '../helpers/http';

/** Every member name of Object.prototype: constructor, __proto__, toString, valueOf, hasOwnProperty, … */
const NAMES = Object.getOwnPropertyNames(Object.prototype);
/** Dropped from every payload at ingest (documented in the README): the rest are ordinary names. */
const DROPPED = new Set(['__proto__', 'constructor', 'prototype']);
const COMPUTED_NAME = /^[a-z][a-z0-9_]{0,39}$/;

let rt: Runtime;
const api = apiClient(() => rt);
const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();

beforeAll(async () => {
  rt = await startTestRuntime('hostile', {
    streamPollMs: 20,
    config: {
      // Precedence and computed traits named like prototype members too.
      traits: { precedence: Object.fromEntries([['*', ['default']], ...NAMES.map((n) => [n, ['default']])]) },
      computed: Object.fromEntries(NAMES.filter((n) => COMPUTED_NAME.test(n)).map((n) => [n, { op: 'count', type: 'track' }])),
    },
  });
});
afterAll(() => rt?.stop());

/** Posts raw JSON text (so numbers beyond 2^53 go on the wire as written) with the write key. */
const postRaw = (path: string, text: string) =>
  fetch(`${rt.url}${path}`, {
    method: 'POST',
    headers: { authorization: basic(rt.keys.write), 'content-type': 'application/json' },
    body: text,
  });

/** Every messageId on the timeline of the profile an identifier belongs to (all pages). */
async function timeline(key: string): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | undefined;
  do {
    const res = await api.get(`/v1/profiles/${encodeURIComponent(key)}/events?limit=100${cursor ? `&cursor=${cursor}` : ''}`);
    if (res.status === 404) return out;
    expect(res.status).toBe(200);
    const page = (await res.json()) as { events: { event: { messageId: string } }[]; cursor?: string };
    out.push(...page.events.map((e) => e.event.messageId));
    cursor = page.cursor;
  } while (cursor);
  return out;
}

async function profile(key: string): Promise<any> {
  const res = await api.get(`/v1/profiles/${encodeURIComponent(key)}`);
  expect(res.status).toBe(200);
  return res.json();
}

test('every Object.prototype name as trait, property, external id type, consent purpose, precedence key and computed trait: every event lands, merges happen', async () => {
  const acknowledged = new Map<string, string[]>();
  const batch: Record<string, unknown>[] = [];
  NAMES.forEach((n, i) => {
    const user = `proto-${i}`;
    const anon = `anon-proto-${i}`;
    const ids = [`m-${i}-1`, `m-${i}-2`, `m-${i}-3`, `m-${i}-4`];
    acknowledged.set(user, ids);
    batch.push(
      {
        type: 'identify',
        messageId: ids[0],
        userId: user,
        timestamp: t(0),
        traits: { [n]: 'v1' },
        context: {
          externalIds: [{ type: n, id: 'x', collection: 'users', encoding: 'none' }],
          consent: { categoryPreferences: { [n]: true } },
        },
      },
      { type: 'identify', messageId: ids[1], userId: user, timestamp: t(2), traits: { [n]: 'v2', email: `${user}@example.com` } },
      { type: 'identify', messageId: ids[2], anonymousId: anon, timestamp: t(1), traits: { [n]: 'anon' } },
      // The login that merges the anonymous profile into the user's.
      {
        type: 'track',
        messageId: ids[3],
        userId: user,
        anonymousId: anon,
        timestamp: t(3),
        event: 'Order Completed',
        properties: { [n]: 1, revenue: 10, products: [{ [n]: 'p', category: n }] },
      },
    );
  });
  // One request per step, so the merges meet profiles that exist (and the batch is not one event per user).
  for (let step = 0; step < 4; step++) {
    const res = await postRaw('/v1/batch', JSON.stringify({ batch: batch.filter((_, k) => k % 4 === step) }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ success: true });
    await settle(rt);
  }

  for (const [i, n] of NAMES.entries()) {
    const user = `proto-${i}`;
    const p = await profile(`user_id:${user}`);
    expect(p.identifiers).toEqual(expect.arrayContaining([`user_id:${user}`, `anonymous_id:anon-proto-${i}`, `email:${user}@example.com`]));
    expect(p.traits.email.value).toBe(`${user}@example.com`);
    if (!DROPPED.has(n)) expect(Object.hasOwn(p.traits, n) && p.traits[n].value).toBe('v2');
    expect(p.computed).toMatchObject({ event_count: 4, order_count: 1, lifetime_value: 10 });
    if (COMPUTED_NAME.test(n)) expect(p.computed[n]).toBe(1);
    const landed = new Set([...(await timeline(`user_id:${user}`)), ...(await timeline(`anonymous_id:anon-proto-${i}`))]);
    for (const id of acknowledged.get(user)!) expect([n, id, landed.has(id)]).toEqual([n, id, true]);
  }
  expect(await rt.deadLetters.list(100)).toEqual([]);
  expect(existsSync(join(rt.dataDir, 'stream-failures.jsonl'))).toBe(false);
});

test('a batch whose first event names external id types constructor and __proto__ is accepted whole', async () => {
  const batch = Array.from({ length: 50 }, (_, i) => ({ type: 'track', event: 'Viewed', userId: `ext-${i}`, messageId: `ext-${i}` }));
  (batch[0] as Record<string, unknown>).context = {
    externalIds: [
      { type: 'constructor', id: 'a' },
      { type: '__proto__', id: 'b' },
      { type: 'valueOf', id: 'c' },
    ],
  };
  const res = await postRaw('/v1/batch', JSON.stringify({ batch }));
  expect(res.status).toBe(200);
  await settle(rt);
  expect(await timeline('user_id:ext-0')).toEqual(['ext-0']);
  expect(await timeline('user_id:ext-49')).toEqual(['ext-49']);
});

test('numbers beyond 2^53 and DynamoDB: kept as exact strings, never fail evaluation; lifetime_value stops at 2^53 − 1', async () => {
  const orders = ['9007199254740993', '1e200', '"1e200"', '-1e200', '1e-200', '9007199254740000', '9007199254740000', '5'];
  const items = orders.map(
    (r, i) =>
      `{"type":"track","userId":"big-1","messageId":"big-${i}","timestamp":"${t(10 + i)}","event":"Order Completed","properties":{"revenue":${r},"products":[{"product_id":${r},"category":"c"}]}}`,
  );
  items.push(
    `{"type":"identify","userId":"big-1","messageId":"big-traits","timestamp":"${t(30)}","traits":{"huge":1e200,"exact":12345678901234567890123,"tiny":1e-200,"fine":1.5}}`,
  );
  const res = await postRaw('/v1/batch', `{"batch":[${items.join(',')}]}`);
  expect(res.status).toBe(200);
  await settle(rt);
  const p = await profile('user_id:big-1');
  expect(p.computed.order_count).toBe(orders.length);
  expect(p.computed.lifetime_value).toBe(Number.MAX_SAFE_INTEGER);
  expect(p.computed.last_order_products).toEqual([{ product_id: 5, category: 'c' }]);
  expect(p.traits.huge.value).toBe('1e200');
  expect(p.traits.exact.value).toBe('12345678901234567890123');
  expect(p.traits.tiny.value).toBe('1e-200');
  expect(p.traits.fine.value).toBe(1.5);
  expect((await timeline('user_id:big-1')).length).toBe(orders.length + 1);
  // A later order still works.
  expect(
    (await postRaw('/v1/track', `{"userId":"big-1","messageId":"big-late","event":"Order Completed","properties":{"revenue":1}}`)).status,
  ).toBe(200);
  await settle(rt);
  expect((await profile('user_id:big-1')).computed.order_count).toBe(orders.length + 1);
  expect(existsSync(join(rt.dataDir, 'stream-failures.jsonl'))).toBe(false);
});

test('numeric user ids beyond 2^53 keep every digit: two people stay two profiles', async () => {
  const res = await postRaw(
    '/v1/batch',
    '{"batch":[{"type":"identify","userId":12345678901234567890123,"traits":{"who":"a"}},{"type":"identify","userId":12345678901234567890124,"traits":{"who":"b"}}]}',
  );
  expect(res.status).toBe(200);
  await settle(rt);
  const a = await profile('user_id:12345678901234567890123');
  const b = await profile('user_id:12345678901234567890124');
  expect(a.id).not.toBe(b.id);
  expect([a.traits.who.value, b.traits.who.value]).toEqual(['a', 'b']);
});

test('profile paths: unknown (prototype-named) types and malformed percent-encoding are 400s', async () => {
  for (const path of [
    '/v1/profiles/constructor:x',
    '/v1/profiles/__proto__:x',
    '/v1/profiles/toString:x',
    '/v1/profiles/hasOwnProperty:x/events',
    '/v1/profiles/user_id:%E0%A4%A',
    '/v1/profiles/user_id:%',
    '/v1/profiles/user_id:%E0%A4%A/events',
  ]) {
    const res = await api.get(path);
    expect([path, res.status]).toEqual([path, 400]);
  }
  for (const path of ['/v1/profiles/constructor:x', '/v1/profiles/user_id:%E0%A4%A/export']) {
    const res = await fetch(`${rt.url}${path}`, {
      method: path.endsWith('export') ? 'GET' : 'DELETE',
      headers: { authorization: basic(rt.keys.admin) },
    });
    expect([path, res.status]).toEqual([path, 400]);
  }
});

test('imports with prototype-named id types and CSV columns answer 200 with row errors', async () => {
  const post = (format: string, text: string) =>
    fetch(`${rt.url}/v1/import?source=default&format=${format}`, {
      method: 'POST',
      headers: { authorization: basic(rt.keys.admin) },
      body: text,
    });
  const nd = await post(
    'ndjson',
    [
      '{"id":"constructor:x","traits":{"a":1}}',
      '{"id":"valueOf:x","traits":{"a":1}}',
      '{"id":"email:imp@example.com","traits":{"toString":"t","valueOf":2,"big":1e200}}',
    ].join('\n'),
  );
  expect(nd.status).toBe(200);
  expect(await nd.json()).toMatchObject({ imported: 1, errors: [{ line: 1 }, { line: 2 }] });
  const csv = await post('csv', 'constructor,valueOf,email,toString\n1,2,imp2@example.com,t\n');
  expect(csv.status).toBe(200);
  expect(await csv.json()).toMatchObject({ imported: 1, errors: [] });
  const csvIdType = await post('csv', 'id,name\nconstructor:x,a\n__proto__:y,b\n');
  expect(csvIdType.status).toBe(200);
  expect(((await csvIdType.json()) as { errors: unknown[] }).errors).toHaveLength(2);
  await settle(rt);
  const p = await profile('email:imp@example.com');
  expect([p.traits.toString.value, p.traits.valueOf.value, p.traits.big.value]).toEqual(['t', 2, '1e200']);
  expect((await profile('email:imp2@example.com')).traits.valueOf.value).toBe('2');
});

test('a rule whose condition nests 1,500 deep is a 400 naming the path', async () => {
  let condition: unknown = { path: 'event.type', op: 'eq', value: 'track' };
  for (let i = 0; i < 1500; i++) condition = { not: condition };
  const rule = { name: 'Deep', trigger: { types: ['track'] }, condition, actions: [{ type: 'emit', detailType: 'Deep' }] };
  for (const [method, path, body] of [
    ['PUT', '/v1/rules/deep', rule],
    ['POST', '/v1/rules/deep/test', { rule: { ...rule, id: 'deep' }, event: { type: 'track', event: 'x', userId: 'u' } }],
  ] as const) {
    const res = await api.call(method, path, rt.keys.admin, body);
    expect(res.status).toBe(400);
    expect(res.body.issues[0].path).toMatch(/^(rule\.)?condition(\.not)+$|^condition(\.not)+$/);
  }
});

test('after erasing a person with prototype-named traits, nothing in the table names them (the checker with --erased)', async () => {
  const i = NAMES.indexOf('toString');
  const before = await profile(`user_id:proto-${i}`);
  const res = await fetch(`${rt.url}/v1/profiles/user_id:proto-${i}`, {
    method: 'DELETE',
    headers: { authorization: basic(rt.keys.admin) },
  });
  expect(res.status).toBe(200);
  expect((await api.get(`/v1/profiles/user_id:proto-${i}`)).status).toBe(404);
  const report = await expectStorageInvariants(rt.dynamoEndpoint, rt.tableName, { erased: before.identifiers });
  expect(report.ok).toBe(true);
  // The check is not vacuous: another person's identifiers are still named.
  const other = await profile(`user_id:proto-${i + 1}`);
  await expect(expectStorageInvariants(rt.dynamoEndpoint, rt.tableName, { erased: other.identifiers })).rejects.toThrow(/erased_named/);
});

test('`npx scherp check --endpoint --table` finds every invariant holding on this table; `--erased-values` finds a value still held', () => {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(__dirname, '../../local/cli.ts'), 'check', '--endpoint', rt.dynamoEndpoint, '--table', rt.tableName, '--json'],
    { encoding: 'utf8', timeout: 60_000 },
  );
  expect(r.status).toBe(0);
  const report = JSON.parse(r.stdout);
  expect(report.ok).toBe(true);
  expect(report.counts.liveRoots).toBeGreaterThan(NAMES.length);
  // `--erased-values`: the erased person's email is held nowhere; a live person's is found.
  const i = NAMES.indexOf('toString');
  const values = (v: string) =>
    spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        join(__dirname, '../../local/cli.ts'),
        'check',
        '--endpoint',
        rt.dynamoEndpoint,
        '--table',
        rt.tableName,
        '--erased-values',
        v,
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
  expect(values(`PROTO-${i}@example.com`).status).toBe(0);
  const found = values(`proto-${i + 1}@example.com`);
  expect(found.status).toBe(1);
  expect(found.stdout).toMatch(/erased_named/);
});
