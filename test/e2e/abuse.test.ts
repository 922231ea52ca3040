/**
 * Abuse through the public write key (issue 18 items 8–10), over HTTP against the runtime:
 * redirecting a victim's emails, the context endpoint as an existence oracle, and one source
 * flooding the API.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHmac, randomBytes } from 'node:crypto';
import { documentClient, localDynamoConfig } from '../../adapters/dynamo/client';
import { DynamoPersonalizationStore } from '../../adapters/dynamo/personalization-store';
import type { Runtime } from '../../local/runtime';
import { startTestRuntime } from '../helpers/runtime';
import { eventually } from '../helpers/dynamo';
import { apiClient, at } from '../helpers/http';

let rt: Runtime;
let rulesDir: string;
const run = randomBytes(4).toString('hex');
const uid = (name: string) => `${name}-${run}`;

const PASSWORD_RESET = {
  id: 'password-reset',
  name: 'Password reset',
  trigger: { types: ['track'], events: ['Password Reset Requested'] },
  actions: [{ type: 'emit', action: 'password-reset', target: 'email' }],
};

beforeAll(async () => {
  rulesDir = mkdtempSync(join(tmpdir(), 'scherp-abuse-rules-'));
  writeFileSync(join(rulesDir, 'password-reset.json'), JSON.stringify(PASSWORD_RESET));
  // A small per-source limit so a flood is quick to produce (item 10); the other tests stay far below it.
  rt = await startTestRuntime('abuse', { streamPollMs: 25, rulesDir, sourceRateLimit: { rate: 5, burst: 30 } });
}, 60_000);

afterAll(async () => {
  await rt?.stop();
  rmSync(rulesDir, { recursive: true, force: true });
});

const { call, post, get } = apiClient(() => rt);

async function newSource(name: string, trust?: string, extra: Record<string, unknown> = {}): Promise<{ id: string; writeKey: string }> {
  const r = await call('POST', '/v1/sources', rt.keys.admin, { name: uid(name), party: 'first', ...(trust ? { trust } : {}), ...extra });
  expect(r.status).toBe(201);
  return { id: r.body.source.id, writeKey: r.body.writeKey };
}

describe('item 8: the browser key cannot redirect a victim’s emails', () => {
  it('a CRM-triggered password reset goes to the address the trusted CRM set, not the one sent with the public key', async () => {
    const crm = await newSource('crm', 'trusted');
    const victim = uid('victim');
    expect(
      (await post('/v1/identify', { userId: victim, traits: { email: `${victim}@example.com` }, timestamp: at(60_000) }, crm.writeKey))
        .status,
    ).toBe(200);
    await eventually(async () => ((await get(`/v1/profiles/user_id:${victim}`)).status === 200 ? true : undefined));
    // The attack: the public (bootstrap) key, a newer event, the victim's user id.
    expect((await post('/v1/identify', { userId: victim, traits: { email: 'attacker@evil.example', name: 'Mallory' } })).status).toBe(200);
    const profile = await eventually(async () => {
      const body = (await (await get(`/v1/profiles/user_id:${victim}`)).json()) as any;
      return body.traits?.name ? body : undefined;
    });
    expect(profile.traits.email).toEqual({
      value: `${victim}@example.com`,
      sourceId: crm.id,
      party: 'first',
      trust: 'trusted',
      updatedAt: expect.any(String),
    });
    // The unprotected trait the public key sent is kept as before.
    expect(profile.traits.name).toMatchObject({ value: 'Mallory', sourceId: 'default' });

    expect((await post('/v1/track', { userId: victim, event: 'Password Reset Requested' }, crm.writeKey)).status).toBe(200);
    const action = await eventually(() =>
      rt.bus.delivered.find(
        (e) => e['detail-type'] === 'Action Triggered' && e.detail.action === 'password-reset' && e.detail.userId === victim,
      ),
    );
    expect(action.detail.email).toBe(`${victim}@example.com`);
  });

  it('a source made trusted later (PATCH /v1/sources/{id}) sets protected traits from then on', async () => {
    const legacy = await newSource('legacy-crm');
    const victim = uid('victim3');
    expect((await post('/v1/identify', { userId: victim, traits: { email: `${victim}@example.com` } }, legacy.writeKey)).status).toBe(200);
    const patched = await call('PATCH', `/v1/sources/${legacy.id}`, rt.keys.admin, { trust: 'trusted' });
    expect(patched).toEqual({ status: 200, body: { source: expect.objectContaining({ id: legacy.id, trust: 'trusted' }) } });
    // The key cache of the runtime keeps a found key for 1 s; the next event carries the new trust.
    await eventually(async () => {
      const r = await post(
        '/v1/identify',
        { userId: victim, traits: { email: `${victim}@crm.example`, probe: Math.random() } },
        legacy.writeKey,
      );
      expect(r.status).toBe(200);
      const body = (await (await get(`/v1/profiles/user_id:${victim}`)).json()) as any;
      return body.traits?.email?.trust === 'trusted' ? true : undefined;
    });
    expect((await post('/v1/identify', { userId: victim, traits: { email: 'attacker@evil.example', after: true } })).status).toBe(200);
    const profile = await eventually(async () => {
      const body = (await (await get(`/v1/profiles/user_id:${victim}`)).json()) as any;
      return body.traits?.after ? body : undefined;
    });
    expect(profile.traits.email).toMatchObject({ value: `${victim}@crm.example`, sourceId: legacy.id, trust: 'trusted' });
    const bad = await call('PATCH', `/v1/sources/${legacy.id}`, rt.keys.admin, { trust: 'very' });
    expect(bad.status).toBe(400);
    expect(bad.body.issues).toEqual([{ path: 'trust', message: 'must be one of public, trusted' }]);
    expect((await call('PATCH', '/v1/sources/default', rt.keys.admin, { trust: 'trusted' })).status).toBe(400);
    expect((await call('PATCH', '/v1/sources/src_nope', rt.keys.admin, { trust: 'trusted' })).status).toBe(404);
  });

  it('a source created without a trust level is public: it cannot take over the email either', async () => {
    const crm = await newSource('crm2', 'trusted');
    const web = await newSource('web');
    const victim = uid('victim2');
    expect(
      (await post('/v1/identify', { userId: victim, traits: { email: `${victim}@example.com` }, timestamp: at(60_000) }, crm.writeKey))
        .status,
    ).toBe(200);
    await eventually(async () => ((await get(`/v1/profiles/user_id:${victim}`)).status === 200 ? true : undefined));
    expect(
      (await post('/v1/identify', { userId: victim, traits: { email: 'attacker@evil.example', plan: 'pro' } }, web.writeKey)).status,
    ).toBe(200);
    const profile = await eventually(async () => {
      const body = (await (await get(`/v1/profiles/user_id:${victim}`)).json()) as any;
      return body.traits?.plan ? body : undefined;
    });
    expect(profile.traits.email.value).toBe(`${victim}@example.com`);
    const sources = await call('GET', '/v1/sources', rt.keys.admin);
    expect(sources.body.sources).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ source: expect.objectContaining({ id: 'default', trust: 'public' }) }),
        expect.objectContaining({ source: expect.objectContaining({ id: web.id, trust: 'public' }) }),
        expect.objectContaining({ source: expect.objectContaining({ id: crm.id, trust: 'trusted' }) }),
      ]),
    );
  });
});

describe('item 9: POST /v1/context is no existence oracle and reads a user only with a user token', () => {
  /** How a site's back end mints a user token (the README snippet). */
  function userTokenFor(userId: string, secret: string, ttlSeconds = 600): string {
    const exp = Math.floor(Date.now() / 1000) + ttlSeconds;
    const sig = createHmac('sha256', secret).update(`scherp-user-token.v1.${exp}.${userId}`).digest('base64url');
    return `v1.${exp}.${sig}`;
  }
  const context = (body: Record<string, unknown>) => call('POST', '/v1/context', rt.keys.write, body);

  let buyer: string;
  beforeAll(async () => {
    buyer = uid('buyer');
    expect((await post('/v1/identify', { userId: buyer, anonymousId: `${buyer}-anon`, traits: { plan: 'pro' } })).status).toBe(200);
    const p = await eventually(async () => {
      const r = await get(`/v1/profiles/user_id:${buyer}`);
      return r.status === 200 ? ((await r.json()) as any) : undefined;
    });
    const parts = new DynamoPersonalizationStore(documentClient(localDynamoConfig(rt.dynamoEndpoint)), rt.tableName);
    await parts.putRecommendation(p.id, 'companion', {
      ruleId: 'r',
      data: { products: ['baby-ointment'] },
      createdAt: at(0),
      expiresAt: at(-3600_000),
    });
  });

  it('by default a guessed user id is refused (400 naming userToken), the same for a known and an unknown id', async () => {
    const known = await context({ userId: buyer });
    const unknown = await context({ userId: uid('nobody') });
    expect(known.status).toBe(400);
    expect(unknown).toEqual(known);
    expect(JSON.stringify(known.body)).toContain('userToken');
  });

  it('with a user token minted by the back end (HMAC with the user-token secret) the user’s context is returned', async () => {
    const r = await context({ userId: buyer, userToken: userTokenFor(buyer, rt.keys.userToken) });
    expect(r.status).toBe(200);
    expect(r.body.recommendations.companion.data).toEqual({ products: ['baby-ointment'] });
    // An unknown user with a valid token: the same shape, empty.
    const other = uid('nobody');
    const empty = await context({ userId: other, userToken: userTokenFor(other, rt.keys.userToken) });
    expect(empty).toEqual({ status: 200, body: { audiences: [], traits: {}, computed: {}, recommendations: {} } });
  });

  it('a token for another user, signed with another secret or expired is a 401', async () => {
    for (const userToken of [
      userTokenFor(uid('eve'), rt.keys.userToken),
      userTokenFor(buyer, 'guessed-secret'),
      userTokenFor(buyer, rt.keys.userToken, -10),
    ]) {
      const r = await context({ userId: buyer, userToken });
      expect(r.status).toBe(401);
      expect(JSON.stringify(r.body)).not.toContain('baby-ointment');
    }
  });

  it('anonymous ids still work without a token; known and unknown answer the same shape', async () => {
    const known = await context({ anonymousId: `${buyer}-anon` });
    const unknown = await context({ anonymousId: uid('stranger') });
    expect(known.status).toBe(200);
    expect(unknown.status).toBe(200);
    expect(Object.keys(known.body).sort()).toEqual(Object.keys(unknown.body).sort());
    expect(known.body.recommendations.companion).toBeDefined();
    // An id that normalises to nothing reads placeholders and answers the empty context.
    expect(await context({ anonymousId: '   ' })).toEqual({
      status: 200,
      body: { audiences: [], traits: {}, computed: {}, recommendations: {} },
    });
  });
});

describe('item 10: one source flooding the API', () => {
  it('the flooding source gets 429 with Retry-After, while another source, the profile API and the admin API still work', async () => {
    const flood = await newSource('flood');
    const other = await newSource('other', 'trusted');
    const user = uid('flooded');
    const statuses = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const r = await fetch(`${rt.url}/v1/track`, {
          method: 'POST',
          headers: { authorization: `Basic ${Buffer.from(`${flood.writeKey}:`).toString('base64')}`, 'content-type': 'application/json' },
          body: JSON.stringify({ userId: user, event: 'Flood', messageId: `flood-${i}` }),
        });
        return { status: r.status, retryAfter: r.headers.get('retry-after'), body: (await r.json()) as any };
      }),
    );
    const refused = statuses.filter((s) => s.status === 429);
    expect(refused.length).toBeGreaterThan(0);
    expect(statuses.every((s) => s.status === 200 || s.status === 429)).toBe(true);
    expect(refused[0]!.retryAfter).toMatch(/^\d+$/);
    expect(refused[0]!.body).toMatchObject({ success: false, error: 'rate_limited', limit: 'sourceRateLimit' });

    // Another source, the bootstrap key, the read API and the admin API are not affected.
    expect((await post('/v1/track', { userId: user, event: 'Other' }, other.writeKey)).status).toBe(200);
    expect((await post('/v1/track', { userId: uid('browser'), event: 'Browser' })).status).toBe(200);
    expect((await call('GET', '/v1/sources', rt.keys.admin)).status).toBe(200);
    const profile = await eventually(async () => ((await get(`/v1/profiles/user_id:${user}`)).status === 200 ? true : undefined));
    expect(profile).toBe(true);
    // Nothing of the refused requests was kept: only the accepted ones are on the timeline.
    const accepted = statuses.filter((s) => s.status === 200).length;
    const events = await eventually(async () => {
      const body = (await (await get(`/v1/profiles/user_id:${user}/events?limit=100`)).json()) as any;
      return body.events?.length === accepted + 1 ? body.events : undefined;
    });
    expect(events.filter((e: any) => e.event.event === 'Flood')).toHaveLength(accepted);
    expect((await call('GET', `/v1/rejected?sourceId=${flood.id}`, rt.keys.admin)).body.rejected).toEqual([]);
  });

  it('a source created with its own rateLimit is held to it', async () => {
    const small = await newSource('small', undefined, { rateLimit: { rate: 1, burst: 2 } });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await post('/v1/track', { userId: uid('small'), event: 'E' }, small.writeKey)).status);
    expect(statuses.slice(0, 2)).toEqual([200, 200]);
    expect(statuses).toContain(429);
    const listed = (await call('GET', '/v1/sources', rt.keys.admin)).body.sources.find((s: any) => s.source.id === small.id);
    expect(listed.source.rateLimit).toEqual({ rate: 1, burst: 2 });
    // Back to the deployment's default.
    const reset = await call('PATCH', `/v1/sources/${small.id}`, rt.keys.admin, { rateLimit: null });
    expect(reset.status).toBe(200);
    expect(reset.body.source.rateLimit).toBeUndefined();
    expect(
      (await call('GET', '/v1/sources', rt.keys.admin)).body.sources.find((s: any) => s.source.id === small.id).source.rateLimit,
    ).toBeUndefined();
    const bad = await call('POST', '/v1/sources', rt.keys.admin, { name: uid('bad'), party: 'first', rateLimit: { rate: 0, burst: 1 } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.issues)).toContain('rateLimit.rate');
  });
});
