import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { gzipSync } from 'node:zlib';
import { createCollectHandler } from '../../lambdas/collect';
import { BootstrapKeyStore, envLoader, SourceKeyStore } from '../../adapters/keys';
import { MAX_REJECTED_PAYLOAD_CHARS, payloadPreview } from '../../app/collect';
import { keyDigest } from '../../core/sources';
import { apiRequest, basicAuth, MemoryQueue, MemoryRejectedStore } from '../helpers/collect';

const auth = (k: string) => ({ authorization: `Basic ${Buffer.from(`${k}:`).toString('base64')}` });
const req = (path: string, body: unknown, headers: Record<string, string> = auth('wk')): APIGatewayProxyEventV2 =>
  ({
    rawPath: path,
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    requestContext: { http: { sourceIp: '10.0.0.1' } },
  }) as unknown as APIGatewayProxyEventV2;

describe('collect handler', () => {
  let queue: MemoryQueue;
  let handler: ReturnType<typeof createCollectHandler>;
  beforeEach(() => {
    queue = new MemoryQueue();
    handler = createCollectHandler(() => ({ queue, keys: new BootstrapKeyStore({ write: envLoader('wk') }) }));
  });

  it('queues a valid track call and answers like Segment', async () => {
    const r = await handler(req('/v1/track', { userId: 'u', event: 'E' }));
    expect(r.statusCode).toBe(200);
    expect(JSON.parse(r.body!)).toEqual({ success: true });
    expect(queue.sent).toHaveLength(1);
    expect(queue.sent[0]!.context).toMatchObject({ ip: '10.0.0.1' });
  });

  it('accepts the key in the body (sendBeacon)', async () => {
    const r = await handler(req('/v1/track', { writeKey: 'wk', userId: 'u', event: 'E' }, {}));
    expect(r.statusCode).toBe(200);
  });

  it('401 without or with a wrong key, 400 on bad JSON; nothing queued', async () => {
    expect((await handler(req('/v1/track', { userId: 'u', event: 'E' }, {}))).statusCode).toBe(401);
    expect((await handler(req('/v1/track', { userId: 'u', event: 'E' }, auth('nope')))).statusCode).toBe(401);
    const bad = await handler(req('/v1/track', '{oops'));
    expect(bad.statusCode).toBe(400);
    expect(JSON.parse(bad.body!).issues[0].path).toBe('(body)');
    expect(queue.sent).toHaveLength(0);
  });

  it('a queue failure is a 500, so the SDK retries', async () => {
    queue.fail = true;
    expect((await handler(req('/v1/track', { userId: 'u', event: 'E' }))).statusCode).toBe(500);
  });

  it('unknown routes are 404', async () => {
    expect((await handler(req('/v1/nope', { userId: 'u' }))).statusCode).toBe(404);
  });
});

describe('collect handler: limits, bodies, errors, hostile input', () => {
  let queue: MemoryQueue;
  let rejected: MemoryRejectedStore;
  let handler: ReturnType<typeof createCollectHandler>;
  const limits = { maxEventBytes: 1024, maxRequestBytes: 8 * 1024, maxBatchEvents: 5 };
  beforeEach(() => {
    queue = new MemoryQueue();
    rejected = new MemoryRejectedStore();
    handler = createCollectHandler(() => ({ queue, rejected, limits, keys: new BootstrapKeyStore({ write: envLoader('wk') }) }));
  });
  const post = (path: string, body: unknown, headers: Record<string, string> = basicAuth('wk')) =>
    handler(
      apiRequest(path, typeof body === 'string' || Buffer.isBuffer(body) ? (body as string | Buffer) : JSON.stringify(body), headers),
    );
  const parsed = async (p: Promise<{ statusCode?: number; body?: string }>) => {
    const r = await p;
    return { status: r.statusCode, body: JSON.parse(r.body!) };
  };

  it('413 naming the limit: request body, gzip bomb, one oversized event, too many events', async () => {
    const big = { userId: 'u', event: 'e', properties: { s: 'x'.repeat(10_000) } };
    expect(await parsed(post('/v1/track', big))).toMatchObject({
      status: 413,
      body: { success: false, error: 'payload_too_large', limit: 'maxRequestBytes' },
    });
    const bomb = gzipSync(Buffer.from(JSON.stringify({ userId: 'u', event: 'e', properties: { s: ' '.repeat(1_000_000) } })));
    expect(bomb.length).toBeLessThan(limits.maxRequestBytes);
    expect(await parsed(post('/v1/track', bomb, { ...basicAuth('wk'), 'content-encoding': 'gzip' }))).toMatchObject({
      status: 413,
      body: { limit: 'maxRequestBytes' },
    });
    const one = { userId: 'u', event: 'e', properties: { s: 'x'.repeat(2000) } };
    const r = await parsed(post('/v1/track', one));
    expect(r).toMatchObject({ status: 413, body: { error: 'payload_too_large', limit: 'maxEventBytes' } });
    expect(r.body.message).toMatch(/maxEventBytes/);
    const many = { batch: Array.from({ length: 6 }, () => ({ type: 'track', userId: 'u', event: 'e' })) };
    expect(await parsed(post('/v1/batch', many))).toMatchObject({ status: 413, body: { limit: 'maxBatchEvents' } });
    expect(queue.sent).toHaveLength(0);
  });

  it('an oversized batch item is rejected by index, the rest accepted', async () => {
    const r = await parsed(
      post('/v1/batch', {
        batch: [
          { type: 'track', userId: 'u', event: 'e' },
          { type: 'track', userId: 'u', event: 'e', properties: { s: 'x'.repeat(2000) } },
        ],
      }),
    );
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      success: true,
      accepted: 1,
      rejected: [{ index: 1, limit: 'maxEventBytes', issues: [{ path: 'batch[1]' }] }],
    });
    expect(queue.sent).toHaveLength(1);
  });

  it('400 and 401 shapes name the field', async () => {
    expect(await parsed(post('/v1/track', '{oops'))).toEqual({
      status: 400,
      body: {
        success: false,
        error: 'invalid_request',
        message: 'the body is not valid JSON',
        issues: [{ path: '(body)', message: 'is not valid JSON' }],
      },
    });
    expect(await parsed(post('/v1/track', { userId: { nested: 1 }, event: 'e' }))).toMatchObject({
      status: 400,
      body: { issues: [{ path: 'userId' }] },
    });
    expect(await parsed(post('/v1/group', { userId: 'u' }))).toMatchObject({
      status: 400,
      body: { issues: [{ path: 'groupId', message: 'is required for group' }] },
    });
    expect(await parsed(post('/v1/track', { userId: 'u', event: 'e' }, {}))).toEqual({
      status: 401,
      body: { success: false, error: 'unauthorized', message: expect.stringMatching(/missing write key/) },
    });
    expect(await parsed(post('/v1/track', { userId: 'u', event: 'e' }, basicAuth('nope')))).toEqual({
      status: 401,
      body: { success: false, error: 'unauthorized', message: 'invalid write key' },
    });
    const all = await parsed(post('/v1/batch', { batch: [{ type: 'track', userId: 'u' }] }));
    expect(all).toMatchObject({ status: 400, body: { success: false, rejected: [{ index: 0, issues: [{ path: 'batch[0].event' }] }] } });
  });

  it('bodies: text/plain beacons with the key in the body, base64 gzip as API Gateway passes it, Basic auth without colon', async () => {
    const beacon = apiRequest('/v1/track', JSON.stringify({ writeKey: 'wk', anonymousId: 'a', event: 'e' }), {
      'content-type': 'text/plain;charset=UTF-8',
    });
    expect((await handler(beacon)).statusCode).toBe(200);
    const gz = gzipSync(Buffer.from(JSON.stringify({ batch: [{ type: 'identify', userId: 'u', traits: { a: 1 } }] })));
    expect(
      (
        await handler(
          apiRequest(
            '/v1/batch',
            gz.toString('base64'),
            { ...basicAuth('wk'), 'content-encoding': 'gzip', 'content-type': 'application/json' },
            true,
          ),
        )
      ).statusCode,
    ).toBe(200);
    const noColon = { authorization: `Basic ${Buffer.from('wk').toString('base64')}`, 'content-type': 'application/x-anything' };
    expect((await handler(apiRequest('/v1/page', JSON.stringify({ userId: 'u', name: 'Home' }), noColon))).statusCode).toBe(200);
    expect(queue.sent.map((e) => e.type)).toEqual(['track', 'identify', 'page']);
  });

  it('analytics.js paths: one letter per call type, /b for its batches (key in each item)', async () => {
    const beacon = (path: string, body: unknown) => handler(apiRequest(path, JSON.stringify(body), { 'content-type': 'text/plain' }));
    expect((await beacon('/v1/t', { writeKey: 'wk', anonymousId: 'a', event: 'Clicked', type: 'track' })).statusCode).toBe(200);
    expect((await beacon('/v1/p', { writeKey: 'wk', anonymousId: 'a', name: 'Home' })).statusCode).toBe(200);
    expect(
      (await beacon('/v1/b', { batch: [{ writeKey: 'wk', type: 'identify', userId: 'u' }], sentAt: new Date().toISOString() })).statusCode,
    ).toBe(200);
    expect((await beacon('/v1/b', [{ writeKey: 'wk', type: 'track', userId: 'u', event: 'E' }])).statusCode).toBe(200);
    expect(queue.sent.map((e) => e.type)).toEqual(['track', 'page', 'identify', 'track']);
    expect(JSON.stringify(queue.sent)).not.toContain('writeKey');
    expect((await beacon('/v1/x', { writeKey: 'wk', userId: 'u' })).statusCode).toBe(404);
  });

  it('keeps rejected events with their reason, the payload cut and without the write key', async () => {
    await post('/v1/batch', {
      writeKey: 'wk',
      batch: [
        { type: 'track', userId: 'u', event: 'ok' },
        { type: 'track', userId: 'u', properties: { s: 'y'.repeat(900) } },
      ],
    });
    await post('/v1/track', { writeKey: 'wk', userId: 'u' });
    expect(rejected.records).toHaveLength(2);
    expect(rejected.records[0]).toMatchObject({
      sourceId: 'default',
      route: 'batch',
      index: 1,
      issues: [{ path: 'batch[1].event', message: 'is required for track' }],
      requestId: 'req-1',
    });
    expect(rejected.records[1]).toMatchObject({ route: 'track', index: 0, issues: [{ path: 'event' }] });
    for (const r of rejected.records) expect(r.payload).not.toContain('writeKey');
    expect(payloadPreview({ s: 'z'.repeat(10_000) }).length).toBeLessThan(MAX_REJECTED_PAYLOAD_CHARS + 40);
  });

  it('hostile input: key separators kept verbatim, control characters refused, nothing pollutes prototypes', async () => {
    const ok = await post('/v1/batch', {
      context: JSON.parse('{"__proto__":{"polluted":1},"library":{"name":"x","constructor":{"prototype":{"polluted":2}}}}'),
      batch: [
        JSON.parse(
          '{"type":"identify","userId":"a#b:c/d","traits":{"__proto__":{"polluted":3},"prototype":1,"plan":"pro","nested":{"__proto__":{"polluted":4}}},"properties":{"constructor":{"polluted":5}}}',
        ),
      ],
    });
    expect(ok.statusCode).toBe(200);
    const e = queue.sent[0]!;
    expect(e.userId).toBe('a#b:c/d');
    expect(e.traits).toEqual({ plan: 'pro', nested: {} });
    expect(e.properties).toEqual({});
    expect(e.context).toEqual({ library: { name: 'x' }, ip: '10.0.0.1' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(Object.prototype)).toEqual([]);
    const bad = await parsed(post('/v1/track', { userId: 'u', event: 'a\u0007b' }));
    expect(bad).toMatchObject({ status: 400, body: { issues: [{ path: 'event', message: 'must not contain control characters' }] } });
    const deep = await parsed(
      post('/v1/track', JSON.parse(`{"userId":"u","event":"e","properties":${'{"a":'.repeat(40)}1${'}'.repeat(40)}}`)),
    );
    expect(deep).toMatchObject({ status: 400, body: { issues: [{ message: expect.stringMatching(/deeper/) }] } });
  });

  it('stamps the source and party of a source key', async () => {
    const keys = new SourceKeyStore(new BootstrapKeyStore({}), async (d) =>
      d === keyDigest('src-key') ? { keyId: 'k', sourceId: 'src_1', party: 'third', status: 'active' } : undefined,
    );
    const h = createCollectHandler(() => ({ queue, keys }));
    expect((await h(apiRequest('/v1/track', JSON.stringify({ userId: 'u', event: 'e' }), basicAuth('src-key')))).statusCode).toBe(200);
    expect(queue.sent[0]).toMatchObject({ sourceId: 'src_1', party: 'third' });
  });
});
