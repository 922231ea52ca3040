/**
 * The profile API end to end, in-process: events in over HTTP, the whole profile and its
 * timeline out through the read key.
 */
import { mkdirSync, mkdtempSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Runtime } from '../../local/runtime';
import { startTestRuntime } from '../helpers/runtime';
import { importFile, progressBar } from '../../local/import-client';
import { documentClient, localDynamoConfig } from '../../adapters/dynamo/client';
import { DynamoPersonalizationStore } from '../../adapters/dynamo/personalization-store';
import { eventually } from '../helpers/dynamo';
import { apiClient, at, basic } from '../helpers/http';

let rt: Runtime;
const run = randomBytes(4).toString('hex');
const uid = (name: string) => `${name}-${run}`;

beforeAll(async () => {
  rt = await startTestRuntime('profiles-e2e', {
    streamPollMs: 25,
    importPollMs: 100,
    corsAllowedOrigins: ['https://shop.example'],
    config: { context: { traits: ['plan'], computed: ['order_count'], audiences: ['high-value'] } },
  });
}, 60_000);

afterAll(async () => {
  await rt?.stop();
});

const { send, get } = apiClient(() => rt);

describe('GET /v1/profiles/{type}:{value}', () => {
  it('returns identifiers, traits with provenance, computed traits, audiences, consent and merged profiles', async () => {
    const user = uid('ada');
    const anon = uid('anon');
    await send(
      {
        type: 'track',
        anonymousId: anon,
        event: 'Order Completed',
        timestamp: at(5000),
        properties: { revenue: 450, products: [{ product_id: 'p1', category: 'toys' }] },
      },
      {
        type: 'identify',
        userId: user,
        traits: { name: 'Ada', email: `${user}@example.com` },
        timestamp: at(4000),
        context: { consent: { categoryPreferences: { Email: true } } },
      },
    );
    await eventually(async () => ((await get(`/v1/profiles/user_id:${user}`)).status === 200 ? true : undefined));
    await send({
      type: 'track',
      userId: user,
      anonymousId: anon,
      event: 'Order Completed',
      timestamp: at(3000),
      properties: { revenue: 100, products: [{ product_id: 'p2', category: 'books' }] },
    });
    const p = await eventually(async () => {
      const r = await get(`/v1/profiles/anonymous_id:${anon}`);
      const body = (await r.json()) as Record<string, any>;
      return r.status === 200 && body.computed?.order_count === 2 && body.audiences?.length === 1 ? body : undefined;
    });
    expect(p.identifiers).toEqual(expect.arrayContaining([`user_id:${user}`, `anonymous_id:${anon}`, `email:${user}@example.com`]));
    expect(p.traits.name).toEqual({ value: 'Ada', sourceId: 'default', party: 'first', updatedAt: expect.any(String) });
    expect(p.computed).toMatchObject({
      lifetime_value: 550,
      order_count: 2,
      event_count: 3,
      purchased_categories: ['books', 'toys'],
      last_order_products: [{ product_id: 'p2', category: 'books' }],
    });
    expect(p.audiences).toEqual([{ id: 'high-value', enteredAt: expect.any(String) }]);
    expect(Object.keys(p.consent).length).toBeGreaterThan(0);
    expect(p.mergedFrom).toHaveLength(1);
  });

  it('pages the timeline newest first', async () => {
    const user = uid('pager');
    await send(...[1, 2, 3].map((n) => ({ type: 'track', userId: user, event: `Step ${n}`, timestamp: at(10_000 - n * 1000) })));
    await eventually(async () => {
      const r = await get(`/v1/profiles/user_id:${user}/events?limit=3`);
      return r.status === 200 && ((await r.json()) as { events: unknown[] }).events.length === 3 ? true : undefined;
    });
    const page1 = (await (await get(`/v1/profiles/user_id:${user}/events?limit=2`)).json()) as {
      events: { event: { event: string } }[];
      cursor: string;
    };
    expect(page1.events.map((e) => e.event.event)).toEqual(['Step 3', 'Step 2']);
    const page2 = (await (await get(`/v1/profiles/user_id:${user}/events?limit=2&cursor=${page1.cursor}`)).json()) as {
      events: { event: { event: string } }[];
      cursor?: string;
    };
    expect(page2.events.map((e) => e.event.event)).toEqual(['Step 1']);
    expect(page2.cursor).toBeUndefined();
    expect((await get(`/v1/profiles/user_id:${user}/events?limit=abc`)).status).toBe(400);
    expect((await get(`/v1/profiles/user_id:${user}/events?limit=1000`)).status).toBe(400);
  });

  it('404 for an unknown identifier, 400 for a malformed one, 401 without the read key', async () => {
    expect((await get(`/v1/profiles/user_id:${uid('nobody')}`)).status).toBe(404);
    expect((await get(`/v1/profiles/user_id:${uid('nobody')}/events`)).status).toBe(404);
    expect((await get('/v1/profiles/nonsense')).status).toBe(400);
    expect((await get(`/v1/profiles/user_id:x`, rt.keys.write)).status).toBe(401);
    // Export needs the admin key.
    expect((await get(`/v1/profiles/user_id:${uid('nobody')}/export`, rt.keys.read)).status).toBe(401);
    expect((await get(`/v1/profiles/user_id:${uid('nobody')}/export`, rt.keys.admin)).status).toBe(404);
  });
});

describe('POST /v1/context (browser, public write key)', () => {
  const context = (body: unknown, headers: Record<string, string> = { authorization: basic(rt.keys.write) }) =>
    fetch(`${rt.url}/v1/context`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain', origin: 'https://shop.example', ...headers },
      body: JSON.stringify(body),
    });

  it('returns only what config marks public: chosen traits and computed traits, audiences, pending recommendations', async () => {
    const anon = uid('visitor');
    await send(
      { type: 'identify', anonymousId: anon, traits: { plan: 'pro', email: `${anon}@example.com`, name: 'Ada' }, timestamp: at(3000) },
      { type: 'track', anonymousId: anon, event: 'Order Completed', timestamp: at(2000), properties: { revenue: 700, products: [] } },
    );
    const p = await eventually(async () => {
      const r = await get(`/v1/profiles/anonymous_id:${anon}`);
      const body = r.status === 200 ? ((await r.json()) as Record<string, any>) : undefined;
      return body?.audiences?.length === 1 ? body : undefined;
    });
    const parts = new DynamoPersonalizationStore(documentClient(localDynamoConfig(rt.dynamoEndpoint)), rt.tableName);
    const rec = (slot: string, expiresAt: string) =>
      parts.putRecommendation(p.id, slot, { ruleId: 'r', data: { products: ['p-1'] }, createdAt: at(0), expiresAt });
    await rec('home-hero', at(-60_000));
    await rec('expired', at(1000));

    const r = await context({ anonymousId: anon });
    expect(r.status).toBe(200);
    expect(r.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    const body = (await r.json()) as Record<string, unknown>;
    expect(body).toEqual({
      audiences: ['high-value'],
      traits: { plan: 'pro' },
      computed: { order_count: 1 },
      recommendations: { 'home-hero': { data: { products: ['p-1'] }, expiresAt: expect.any(String) } },
    });
    // Nothing identifying: no identifiers, no profile id, no email or name.
    const text = JSON.stringify(body);
    for (const secret of [anon, p.id, 'example.com', 'Ada']) expect(text).not.toContain(secret);
    // The key may also travel in the body (pages that cannot set headers).
    expect((await context({ anonymousId: anon, writeKey: rt.keys.write }, {})).status).toBe(200);
  });

  it('an unknown visitor gets an empty context; a bad key 401; a request without a visitor 400', async () => {
    expect(await (await context({ anonymousId: uid('stranger') })).json()).toEqual({
      audiences: [],
      traits: {},
      computed: {},
      recommendations: {},
    });
    expect((await context({ anonymousId: 'x' }, { authorization: basic(rt.keys.read) })).status).toBe(401);
    expect((await context({ anonymousId: 'x' }, {})).status).toBe(401);
    const bad = await context({});
    expect(bad.status).toBe(400);
    expect(JSON.stringify(await bad.json())).toContain('anonymousId');
  });
});

describe('POST /v1/import (admin key)', () => {
  const admin = (path: string, body: string, type = 'application/x-ndjson') =>
    fetch(`${rt.url}${path}`, { method: 'POST', headers: { authorization: basic(rt.keys.admin), 'content-type': type }, body });

  it('imports valid rows tagged with the source and its party, reports bad rows by line; twice changes nothing', async () => {
    const created = await admin('/v1/sources', JSON.stringify({ name: `crm-${run}`, party: 'second' }), 'application/json');
    expect(created.status).toBe(201);
    const a = uid('imp-a');
    const b = uid('imp-b');
    const ndjson = [
      JSON.stringify({ id: `user_id:${a}`, traits: { tier: 'gold', score: 7 }, timestamp: '2026-01-01T00:00:00.000Z' }),
      '{not json',
      JSON.stringify({ id: 'shoe_size:42', traits: { x: 1 } }),
      '',
      JSON.stringify({ id: `email:${b}@Example.com`, traits: { tier: 'silver' }, timestamp: '2026-01-01T00:00:00.000Z' }),
    ].join('\n');
    const first = await admin(`/v1/import?source=crm-${run}`, ndjson);
    expect(first.status).toBe(200);
    const r = (await first.json()) as { imported: number; errors: { line: number; reason: string }[]; sourceId: string };
    expect(r.imported).toBe(2);
    expect(r.errors).toEqual([
      { line: 2, reason: 'not valid JSON' },
      { line: 3, reason: 'unknown identifier type "shoe_size"; one of user_id, email, phone, anonymous_id, device_id, advertising_id' },
    ]);
    const p = await eventually(async () => {
      const res = await get(`/v1/profiles/user_id:${a}`);
      return res.status === 200 ? ((await res.json()) as Record<string, any>) : undefined;
    });
    expect(p.traits.tier).toEqual({ value: 'gold', sourceId: r.sourceId, party: 'second', updatedAt: '2026-01-01T00:00:00.000Z' });
    await eventually(async () => ((await get(`/v1/profiles/email:${b}@example.com`)).status === 200 ? true : undefined));

    // The same file again: same message ids, recognised as repeats; nothing changes.
    const events = async () => ((await (await get(`/v1/profiles/user_id:${a}/events`)).json()) as { events: unknown[] }).events.length;
    const before = await events();
    expect((await (await admin(`/v1/import?source=${r.sourceId}`, ndjson)).json()) as unknown).toMatchObject({ imported: 2 });
    await new Promise((res) => setTimeout(res, 1000));
    expect(await events()).toBe(before);
    expect(((await (await get(`/v1/profiles/user_id:${a}`)).json()) as Record<string, any>).traits).toEqual(p.traits);
  });

  it('imports CSV with an identifier-type column; errors name the line; unknown source 404, no key 401', async () => {
    const c = uid('csv');
    const csv = ['email,plan,city', `${c}@example.com,pro,"Amsterdam, NL"`, 'not-an-email,pro,x', `${c}-2@example.com,free`].join('\n');
    const res = await admin('/v1/import?source=default', csv, 'text/csv');
    const body = (await res.json()) as { imported: number; errors: { line: number; reason: string }[] };
    expect(body.imported).toBe(1);
    expect(body.errors.map((e) => e.line)).toEqual([3, 4]);
    const p = await eventually(async () => {
      const r = await get(`/v1/profiles/email:${c}@example.com`);
      return r.status === 200 ? ((await r.json()) as Record<string, any>) : undefined;
    });
    expect(p.traits.city.value).toBe('Amsterdam, NL');
    expect((await admin('/v1/import?source=nope', csv, 'text/csv')).status).toBe(404);
    expect((await fetch(`${rt.url}/v1/import?source=default`, { method: 'POST', body: csv })).status).toBe(401);
  });
});

describe('scherp import (the CLI client)', () => {
  it('sends a file in chunks with a progress callback, keeping file line numbers in errors', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scherp-import-'));
    const file = join(dir, 'people.csv');
    const rows = Array.from({ length: 7 }, (_, i) => (i === 4 ? 'bad-email,x' : `${uid(`cli-${i}`)}@example.com,gold`));
    writeFileSync(file, ['email,tier', ...rows].join('\n'));
    const progress: number[] = [];
    const r = await importFile({
      file,
      source: 'default',
      url: rt.url,
      adminKey: rt.keys.admin,
      chunkRows: 3,
      onProgress: (done) => progress.push(done),
    });
    expect(r.imported).toBe(6);
    // Data row 5 is line 6 of the file (after the header), sent in the second chunk.
    expect(r.errors).toEqual([{ line: 6, reason: expect.stringContaining('not a valid email') }]);
    expect(progress).toEqual([3, 6, 7]);
    expect(progressBar(600, 1200, 10)).toBe('[#####-----]  50%  600/1200 rows');
  });
});

describe('files dropped into the import bucket (local folder)', () => {
  const report = (key: string) => {
    try {
      return JSON.parse(readFileSync(join(rt.bucketDir, 'reports', `${key}.json`), 'utf8')) as Record<string, any>;
    } catch {
      return undefined;
    }
  };
  const drop = (key: string, text: string, mtime: Date) => {
    const file = join(rt.bucketDir, 'imports', key);
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, text);
    utimesSync(file, mtime, mtime);
  };

  it('imports a CSV by the source its folder names, reports rows and bad lines; the same file again changes nothing', async () => {
    const f = uid('file');
    const csv = ['email,tier', `${f}@example.com,gold`, 'not-an-email,x', `${f}-2@example.com,silver`].join('\r\n');
    drop(`default/${f}.csv`, csv, new Date('2026-11-01T10:00:00Z'));
    const done = await eventually(async () => (report(`default/${f}.csv`)?.status === 'done' ? report(`default/${f}.csv`) : undefined));
    expect(done).toMatchObject({ key: `imports/default/${f}.csv`, sourceId: 'default', imported: 2, errorCount: 1, lines: 4 });
    expect(done!.errors).toEqual([{ line: 3, reason: expect.stringContaining('not a valid email') }]);
    const p = await eventually(async () => {
      const r = await get(`/v1/profiles/email:${f}@example.com`);
      return r.status === 200 ? ((await r.json()) as Record<string, any>) : undefined;
    });
    // Rows without a timestamp carry the file's write time.
    expect(p.traits.tier).toEqual({ value: 'gold', sourceId: 'default', party: 'first', updatedAt: '2026-11-01T10:00:00.000Z' });

    // Written again (a new version): imported again, recognised as repeats, nothing changes.
    const events = async () =>
      ((await (await get(`/v1/profiles/email:${f}@example.com/events`)).json()) as { events: unknown[] }).events.length;
    const before = await events();
    drop(`default/${f}.csv`, csv, new Date('2026-11-02T10:00:00Z'));
    await eventually(async () =>
      report(`default/${f}.csv`)?.etag !== done!.etag && report(`default/${f}.csv`)?.status === 'done' ? true : undefined,
    );
    await new Promise((res) => setTimeout(res, 500));
    expect(await events()).toBe(before);
    expect(((await (await get(`/v1/profiles/email:${f}@example.com`)).json()) as Record<string, any>).traits).toEqual(p.traits);
  });

  it('reports a file of an unknown source as failed without importing it', async () => {
    const f = uid('nosource');
    drop(`nope-${run}/${f}.ndjson`, JSON.stringify({ id: `user_id:${f}`, traits: { a: 1 } }), new Date());
    const r = await eventually(async () => report(`nope-${run}/${f}.ndjson`));
    expect(r).toMatchObject({
      status: 'failed',
      imported: 0,
      reason: expect.stringContaining(`no source with the id or name "nope-${run}"`),
    });
    expect((await get(`/v1/profiles/user_id:${f}`)).status).toBe(404);
  });
});
