/**
 * The context function (`lambdas/context`): `POST /v1/context` with the public write key, as
 * API Gateway hands it over; the profile function no longer answers it (its role holds no write key).
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { BootstrapKeyStore, envLoader } from '../../adapters/keys';
import type { ProfileReader, ProfileStore, ProfileWithParts } from '../../app/ports';
import { parseConfig } from '../../core/config';
import { createContextHandler } from '../../lambdas/context';
import { createProfileHandler } from '../../lambdas/profile';

const config = parseConfig({ context: { traits: ['plan'], audiences: ['*'] } });
const PID = '0000000000010000000000aa';
const profile: ProfileWithParts = {
  stored: {
    version: 1,
    profile: {
      id: PID,
      identifiers: [],
      traits: {
        plan: { value: 'pro', updatedAt: '2026-01-01T00:00:00.000Z', sourceId: 'default' },
        secret: { value: 'x', updatedAt: '2026-01-01T00:00:00.000Z', sourceId: 'default' },
      },
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:00:00.000Z',
    },
  },
  parts: {
    computed: {},
    audiences: { vip: '2026-01-01T00:00:00.000Z' },
    consent: {},
    consentVersion: 0,
    recommendations: {},
  },
};
/** Only the two reads the context makes. */
const store = {
  async getIdentityOwners() {
    return new Map([['anonymous_id:a-1', PID]]);
  },
  async loadProfileWithParts(id: string) {
    return id === PID ? profile : undefined;
  },
} as unknown as ProfileStore & ProfileReader;
const keys = new BootstrapKeyStore({ write: envLoader('wk'), read: envLoader('rk'), admin: envLoader('ak') });
const handler = createContextHandler(() => ({ store, writeKeys: keys, config }));

const post = (body: unknown, authorization?: string): APIGatewayProxyEventV2 =>
  ({
    routeKey: 'POST /v1/context',
    rawPath: '/v1/context',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    body: JSON.stringify(body),
    isBase64Encoded: false,
  }) as unknown as APIGatewayProxyEventV2;
const basic = (user: string) => `Basic ${Buffer.from(`${user}:`).toString('base64')}`;

test('the write key (HTTP Basic or in the body) reads the public context: only what config marks public', async () => {
  for (const [body, auth] of [
    [{ anonymousId: 'a-1' }, basic('wk')],
    [{ anonymousId: 'a-1', writeKey: 'wk' }, undefined],
  ] as const) {
    const res = await handler(post(body, auth));
    expect(res.statusCode).toBe(200);
    const ctx = JSON.parse(res.body!);
    expect(ctx).toMatchObject({ traits: { plan: 'pro' }, audiences: ['vip'] });
    expect(ctx.traits).not.toHaveProperty('secret');
  }
});

test('401 without a key, with a wrong one or with the read or admin key; 400 for a bad body', async () => {
  for (const auth of [undefined, basic('nope'), basic('rk'), basic('ak')]) {
    const res = await handler(post({ anonymousId: 'a-1' }, auth));
    expect(res.statusCode).toBe(401);
  }
  const bad = await handler(post({ anonymousId: 42 }, basic('wk')));
  expect(bad.statusCode).toBe(400);
});

test('the profile function no longer serves it: the write key gets nothing there', async () => {
  const rejected = { findNaming: async () => [], eraseNaming: async () => 0 } as never;
  const profileFn = createProfileHandler(() => ({ store: store as never, rejected, keys, config }));
  const res = await profileFn(post({ anonymousId: 'a-1' }, basic('wk')));
  expect(res.statusCode).toBe(401);
  expect(JSON.parse(res.body!).message).toMatch(/read key/);
});
