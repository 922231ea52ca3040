/**
 * Abuse through the public write key (issue 18 items 8–10), over HTTP against the runtime:
 * redirecting a victim's emails, the context endpoint as an existence oracle, and one source
 * flooding the API.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
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
  rt = await startTestRuntime('abuse', { streamPollMs: 25, rulesDir });
}, 60_000);

afterAll(async () => {
  await rt?.stop();
  rmSync(rulesDir, { recursive: true, force: true });
});

const { call, post, get } = apiClient(() => rt);

async function newSource(name: string, trust?: string): Promise<{ id: string; writeKey: string }> {
  const r = await call('POST', '/v1/sources', rt.keys.admin, { name: uid(name), party: 'first', ...(trust ? { trust } : {}) });
  expect(r.status).toBe(201);
  return { id: r.body.source.id, writeKey: r.body.writeKey };
}

describe('item 8: the browser key cannot redirect a victim’s emails', () => {
  it('a CRM-triggered password reset goes to the address the trusted CRM set, not the one sent with the public key', async () => {
    const crm = await newSource('crm', 'trusted');
    const victim = uid('victim');
    expect((await post('/v1/identify', { userId: victim, traits: { email: `${victim}@example.com` }, timestamp: at(60_000) }, crm.writeKey)).status).toBe(200);
    await eventually(async () => ((await get(`/v1/profiles/user_id:${victim}`)).status === 200 ? true : undefined));
    // The attack: the public (bootstrap) key, a newer event, the victim's user id.
    expect((await post('/v1/identify', { userId: victim, traits: { email: 'attacker@evil.example', name: 'Mallory' } })).status).toBe(200);
    const profile = await eventually(async () => {
      const body = (await (await get(`/v1/profiles/user_id:${victim}`)).json()) as any;
      return body.traits?.name ? body : undefined;
    });
    expect(profile.traits.email).toEqual({ value: `${victim}@example.com`, sourceId: crm.id, party: 'first', trust: 'trusted', updatedAt: expect.any(String) });
    // The unprotected trait the public key sent is kept as before.
    expect(profile.traits.name).toMatchObject({ value: 'Mallory', sourceId: 'default' });

    expect((await post('/v1/track', { userId: victim, event: 'Password Reset Requested' }, crm.writeKey)).status).toBe(200);
    const action = await eventually(() =>
      rt.bus.delivered.find((e) => e['detail-type'] === 'Action Triggered' && e.detail.action === 'password-reset' && e.detail.userId === victim),
    );
    expect(action.detail.email).toBe(`${victim}@example.com`);
  });

  it('a source created without a trust level is public: it cannot take over the email either', async () => {
    const crm = await newSource('crm2', 'trusted');
    const web = await newSource('web');
    const victim = uid('victim2');
    expect((await post('/v1/identify', { userId: victim, traits: { email: `${victim}@example.com` }, timestamp: at(60_000) }, crm.writeKey)).status).toBe(200);
    await eventually(async () => ((await get(`/v1/profiles/user_id:${victim}`)).status === 200 ? true : undefined));
    expect((await post('/v1/identify', { userId: victim, traits: { email: 'attacker@evil.example', plan: 'pro' } }, web.writeKey)).status).toBe(200);
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
