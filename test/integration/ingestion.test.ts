/**
 * Ingestion end to end through an in-process local runtime on the suite's DynamoDB Local:
 * the real @segment/analytics-node SDK, deduplication of repeated batches, the sources admin
 * API (create, list, rotate, revoke) and the rejected-event log.
 */
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Analytics } from '@segment/analytics-node';
import { documentClient, localDynamoConfig } from '../../adapters/dynamo/client';
import type { Runtime } from '../../local/runtime';
import { startTestRuntime } from '../helpers/runtime';
import { eventually, scanTable, testEndpoint } from '../helpers/dynamo';
import { apiClient } from '../helpers/http';

let rt: Runtime;
const doc = documentClient(localDynamoConfig(testEndpoint()));

beforeAll(async () => {
  rt = await startTestRuntime('ingest', {
    rulesDir: mkdtempSync(join(tmpdir(), 'scherp-norules-')),
    keys: { write: 'boot-write', read: 'boot-read', admin: 'boot-admin' },
  });
}, 60_000);
afterAll(async () => {
  await rt?.stop();
  doc.destroy();
});

const { call } = apiClient(() => rt);

const scanAll = () => scanTable(doc, rt.tableName);

const idle = () => eventually(() => (rt.queue.depth === 0 ? true : undefined));

describe('the real @segment/analytics-node SDK', () => {
  it('sends identify and track; the profile reflects them', async () => {
    const analytics = new Analytics({
      writeKey: 'boot-write',
      host: rt.url,
      path: '/v1/batch',
      flushAt: 10,
      flushInterval: 100,
      maxRetries: 1,
    });
    const errors: unknown[] = [];
    analytics.on('error', (e) => errors.push(e));
    analytics.identify({ userId: 'sdk-user', anonymousId: 'sdk-anon', traits: { name: 'Ada', plan: 'pro' } });
    analytics.track({ anonymousId: 'sdk-anon', event: 'Order Completed', properties: { revenue: 42 } });
    await analytics.closeAndFlush({ timeout: 10_000 });
    expect(errors).toEqual([]);
    const profile = await eventually(async () => {
      const r = await call('GET', '/v1/profiles/user_id:sdk-user', 'boot-read');
      return r.status === 200 && r.body.identifiers.includes('anonymous_id:sdk-anon') ? r.body : undefined;
    });
    expect(profile.traits).toMatchObject({ name: { value: 'Ada' }, plan: { value: 'pro' } });
    await idle();
    const events = (await scanAll()).filter((i) => i.pk === `P#${profile.id}` && i.sk.startsWith('EV#'));
    expect(events.map((e) => e.name ?? e.type).sort()).toEqual(['Order Completed', 'identify']);
    expect(events.every((e) => e.src === 'default')).toBe(true);
  });
});

describe('deduplication', () => {
  it('the same batch posted three times (as SDK retries, each with a new sentAt) is stored once', async () => {
    const batch = [
      { type: 'identify', userId: 'dup-user', messageId: 'dup-1', timestamp: '2026-03-01T10:00:00.000Z', traits: { a: 1 } },
      { type: 'track', userId: 'dup-user', event: 'Viewed', messageId: 'dup-2', timestamp: '2026-03-01T10:00:01.000Z' },
      { type: 'track', userId: 'dup-user', event: 'Viewed', messageId: 'dup#3:x/y', timestamp: '2026-03-01T10:00:02.000Z' },
    ];
    for (let i = 0; i < 3; i++) {
      const r = await call('POST', '/v1/batch', 'boot-write', {
        batch,
        sentAt: new Date(Date.parse('2026-03-01T10:00:05.000Z') + i * 1500).toISOString(),
      });
      expect(r).toEqual({ status: 200, body: { success: true } });
      await new Promise((res) => setTimeout(res, 30));
    }
    await idle();
    const items = await scanAll();
    const evs = items.filter((i) => i.sk.startsWith('EV#') && ['dup-1', 'dup-2', 'dup#3:x/y'].includes(i.mid));
    expect(evs.map((e) => e.mid).sort()).toEqual(['dup#3:x/y', 'dup-1', 'dup-2']);
    // The timeline item is the dedupe (its key carries the time the SDK stated, the same on every
    // retry), so no separate marker is written; each event sits at the key of its stated time.
    expect(items.filter((i) => i.pk.startsWith('MSG#default#dup')).length).toBe(0);
    expect(evs.map((e) => e.sk).sort()).toEqual(batch.map((b) => `EV#${b.timestamp}#${b.messageId}`).sort());
  });
});

describe('sources admin API', () => {
  it('creates a source whose key works once, lists it, rotates and revokes keys', async () => {
    expect((await call('GET', '/v1/sources', undefined)).status).toBe(401);
    expect((await call('GET', '/v1/sources', 'boot-write')).status).toBe(401);
    const bad = await call('POST', '/v1/sources', 'Bearer boot-admin', { name: 'POS', party: 'fourth' });
    expect(bad).toMatchObject({ status: 400, body: { error: 'invalid_request', issues: [{ path: 'party' }] } });

    const created = await call('POST', '/v1/sources', 'Bearer boot-admin', { name: 'Data partner', party: 'third' });
    expect(created.status).toBe(201);
    const { source, key, writeKey } = created.body;
    expect(source).toMatchObject({ id: expect.stringMatching(/^src_[0-9a-f]+$/), name: 'Data partner', party: 'third' });
    expect(writeKey).toMatch(/^[A-Za-z0-9_-]{32}$/);

    // Only the digest is stored.
    const items = await scanAll();
    expect(JSON.stringify(items)).not.toContain(writeKey);

    const list = await call('GET', '/v1/sources', 'Bearer boot-admin');
    expect(list.body.sources.map((s: any) => s.source.id)).toEqual(['default', source.id]);
    expect(list.body.sources[1].keys).toEqual([{ id: key.id, sourceId: source.id, status: 'active', createdAt: expect.any(String) }]);
    expect(JSON.stringify(list.body)).not.toContain(writeKey);

    expect(await call('POST', '/v1/track', writeKey, { userId: 'partner-user', event: 'Enriched', messageId: 'p-1' })).toEqual({
      status: 200,
      body: { success: true },
    });
    await idle();
    const ev = await eventually(async () => (await scanAll()).find((i) => i.mid === 'p-1'));
    expect(ev.src).toBe(source.id);

    const rotated = await call('POST', `/v1/sources/${source.id}/keys`, 'Bearer boot-admin');
    expect(rotated).toMatchObject({ status: 201, body: { key: { sourceId: source.id, status: 'active' }, writeKey: expect.any(String) } });
    const newKey = rotated.body.writeKey;
    expect((await call('POST', '/v1/track', writeKey, { userId: 'partner-user', event: 'E' })).status).toBe(200);
    expect((await call('POST', '/v1/track', newKey, { userId: 'partner-user', event: 'E' })).status).toBe(200);

    expect(await call('DELETE', `/v1/sources/${source.id}/keys/${key.id}`, 'Bearer boot-admin')).toEqual({
      status: 200,
      body: { success: true },
    });
    // The runtime caches keys for a second.
    await eventually(
      async () => ((await call('POST', '/v1/track', writeKey, { userId: 'partner-user', event: 'E' })).status === 401 ? true : undefined),
      5000,
    );
    expect((await call('POST', '/v1/track', newKey, { userId: 'partner-user', event: 'E' })).status).toBe(200);
    const after = await call('GET', '/v1/sources', 'Bearer boot-admin');
    expect(after.body.sources[1].keys.map((k: any) => [k.id, k.status]).sort()).toEqual(
      [
        [key.id, 'revoked'],
        [rotated.body.key.id, 'active'],
      ].sort(),
    );

    expect((await call('DELETE', `/v1/sources/${source.id}/keys/key_nope`, 'Bearer boot-admin')).status).toBe(404);
    expect((await call('POST', '/v1/sources/src_nope/keys', 'Bearer boot-admin')).status).toBe(404);
    expect((await call('POST', '/v1/sources/default/keys', 'Bearer boot-admin')).status).toBe(400);
  });
});

describe('rejected events', () => {
  it('are listed by GET /v1/rejected and appended to rejected.jsonl', async () => {
    const r = await call('POST', '/v1/batch', 'boot-write', {
      batch: [{ type: 'track', userId: 'rej-user', event: 'ok' }, { type: 'track', userId: 'rej-user' }, { type: 'nope' }],
    });
    expect(r).toMatchObject({ status: 200, body: { accepted: 1, rejected: [{ index: 1 }, { index: 2 }] } });
    const listed = await call('GET', '/v1/rejected?limit=10&sourceId=default', 'Bearer boot-admin');
    expect(listed.status).toBe(200);
    const mine = listed.body.rejected.filter((x: any) => x.payload.includes('rej-user') || x.payload.includes('nope'));
    expect(mine.map((x: any) => x.index).sort()).toEqual([1, 2]);
    expect(mine[0]).toMatchObject({
      sourceId: 'default',
      route: 'batch',
      issues: [expect.objectContaining({ path: expect.stringMatching(/^batch\[\d\]/) })],
    });
    expect((await call('GET', '/v1/rejected?limit=0', 'Bearer boot-admin')).status).toBe(400);
    const file = join(rt.dataDir, 'rejected.jsonl');
    expect(existsSync(file)).toBe(true);
    expect(readFileSync(file, 'utf8')).toContain('rej-user');
    const ttlItems = (await scanAll()).filter((i) => i.pk.startsWith('REJ#'));
    expect(ttlItems.length).toBeGreaterThanOrEqual(2);
    for (const i of ttlItems) expect(i.ttl - Math.floor(Date.parse(i.receivedAt) / 1000)).toBe(7 * 86400);
  });

  it('CORS preflight and a 404 for unknown routes', async () => {
    const pre = await fetch(`${rt.url}/v1/track`, { method: 'OPTIONS', headers: { origin: 'https://shop.example' } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
    expect((await call('POST', '/v1/nope', 'boot-write', {})).status).toBe(404);
  });
});
