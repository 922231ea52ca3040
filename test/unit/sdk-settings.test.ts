/**
 * The settings documents browser SDKs fetch (analytics.js `cdnURL`, RudderStack JS `configUrl`)
 * and RudderStack's beacon route, over HTTP through the local server and the real collect
 * handler: their shape, that they tell nothing about which keys exist, CORS from another
 * origin for every header the SDKs send, and the address the document points at.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { createCollectHandler } from '../../lambdas/collect';
import { BootstrapKeyStore, envLoader } from '../../adapters/keys';
import { startServer, type HttpHandler } from '../../local/server';
import { apiAddress } from '../../lambdas/shared/http';
import { CORS_ALLOW_HEADERS } from '../../lambdas/routes';
import { MemoryQueue } from '../helpers/collect';

let server: Server;
let url: string;
const queue = new MemoryQueue();

beforeAll(async () => {
  const collect = createCollectHandler(() => ({ queue, keys: new BootstrapKeyStore({ write: envLoader('site-key') }) }));
  const none: HttpHandler = async () => ({ statusCode: 404, body: '{}' });
  server = await startServer(
    { collect, profile: none, context: none, admin: none, rules: none, import: none, insights: none, identity: none },
    0,
    '127.0.0.1',
    { corsAllowedOrigins: ['http://shop.example'] },
  );
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('GET /v1/projects/{writeKey}/settings (analytics.js cdnURL)', () => {
  it('points Segment.io at this API, scheme included, and loads nothing else', async () => {
    const res = await fetch(`${url}/v1/projects/site-key/settings`, { headers: { origin: 'http://shop.example' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('http://shop.example');
    expect(res.headers.get('cache-control')).toBe('public, max-age=300');
    const doc = (await res.json()) as Record<string, any>;
    expect(doc.integrations).toEqual({
      'Segment.io': { apiKey: 'site-key', apiHost: `${new URL(url).host}/v1`, protocol: 'http', addBundledMetadata: false },
    });
    expect(doc).toMatchObject({ metrics: { sampleRate: 0 }, remotePlugins: [] });
  });

  it('answers an unknown key with the same document (no key oracle, no lookup)', async () => {
    const known = (await (await fetch(`${url}/v1/projects/site-key/settings`)).json()) as Record<string, any>;
    const unknown = (await (await fetch(`${url}/v1/projects/not-a-key/settings`)).json()) as Record<string, any>;
    expect({ ...unknown, integrations: { 'Segment.io': { ...unknown.integrations['Segment.io'], apiKey: 'site-key' } } }).toEqual(known);
  });

  it('refuses a key that cannot be one, naming writeKey', async () => {
    const res = await fetch(`${url}/v1/projects/${'k'.repeat(201)}/settings`);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ issues: [{ path: 'writeKey' }] });
  });
});

describe('GET /sourceConfig (RudderStack JS configUrl)', () => {
  it('serves the source configuration at /sourceConfig/ with the query the SDK sends', async () => {
    const res = await fetch(
      `${url}/sourceConfig/?p=npm&v=3.34.1&build=modern&writeKey=site-key&lockIntegrationsVersion=false&lockPluginsVersion=false`,
    );
    expect(res.status).toBe(200);
    const doc = (await res.json()) as Record<string, any>;
    expect(doc.source).toMatchObject({
      id: 'scherp',
      enabled: true,
      destinations: [],
      config: { statsCollection: { errors: { enabled: false }, metrics: { enabled: false } } },
    });
  });

  it('takes the key from HTTP Basic auth too, and requires one', async () => {
    expect(
      (await fetch(`${url}/sourceConfig`, { headers: { authorization: `Basic ${Buffer.from('other:').toString('base64')}` } })).status,
    ).toBe(200);
    const res = await fetch(`${url}/sourceConfig`);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ issues: [{ path: 'writeKey', message: expect.stringContaining('required') }] });
  });
});

describe('POST /beacon/v1/batch (RudderStack useBeacon)', () => {
  it('accepts a text/plain batch with the key in the query string', async () => {
    queue.sent = [];
    const body = JSON.stringify({
      batch: [{ type: 'track', event: 'Viewed', userId: '', anonymousId: 'b-1' }],
      sentAt: new Date().toISOString(),
    });
    const res = await fetch(`${url}/beacon/v1/batch?writeKey=site-key`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body,
    });
    expect(res.status).toBe(200);
    expect(queue.sent.map((e) => [e.event, e.anonymousId, e.userId])).toEqual([['Viewed', 'b-1', undefined]]);
    expect((await fetch(`${url}/beacon/v1/batch?writeKey=wrong`, { method: 'POST', body })).status).toBe(401);
    // The key in the query string is for the beacon route only.
    expect((await fetch(`${url}/v1/batch?writeKey=site-key`, { method: 'POST', body })).status).toBe(401);
  });
});

describe('CORS preflight', () => {
  it('allows every header analytics.js and RudderStack JS send', async () => {
    const res = await fetch(`${url}/v1/track`, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://shop.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type,anonymousid,sentat,x-retry-count,rsa-retry-attempt',
      },
    });
    expect(res.status).toBe(204);
    const allowed = res.headers.get('access-control-allow-headers')!.split(',');
    for (const h of [
      'authorization',
      'content-type',
      'anonymousid',
      'sentat',
      'x-retry-count',
      'rsa-retry-attempt',
      'rsa-retry-reason',
      'rsa-recovered',
      'rsa-since-first-attempt',
      'rsa-since-last-attempt',
    ])
      expect(allowed).toContain(h);
    expect(allowed).toEqual(CORS_ALLOW_HEADERS.map((h) => h.toLowerCase()));
  });
});

describe('apiAddress (where the settings point)', () => {
  const event = (rawPath: string, headers: Record<string, string>) =>
    ({ rawPath, headers, requestContext: { domainName: 'abc.execute-api.eu-west-1.amazonaws.com' } }) as unknown as APIGatewayProxyEventV2;

  it('keeps a custom domain base path and the forwarded scheme; https by default', () => {
    expect(
      apiAddress(
        event('/cdp/v1/projects/k/settings', { host: 'track.shop.example', 'x-forwarded-proto': 'https' }),
        '/v1/projects/{writeKey}/settings',
      ),
    ).toEqual({ protocol: 'https', host: 'track.shop.example', basePath: '/cdp' });
    expect(apiAddress(event('/v1/projects/k/settings', {}), '/v1/projects/{writeKey}/settings')).toEqual({
      protocol: 'https',
      host: 'abc.execute-api.eu-west-1.amazonaws.com',
      basePath: '',
    });
  });

  it('ignores a Host header that is not a host name', () => {
    expect(apiAddress(event('/v1/projects/k/settings', { host: 'evil"/><x' }), '/v1/projects/{writeKey}/settings').host).toBe(
      'abc.execute-api.eu-west-1.amazonaws.com',
    );
  });
});
