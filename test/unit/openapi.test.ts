/**
 * The OpenAPI document (`core/openapi.ts`): `docs/openapi.json` is what the generator makes
 * (regenerate with `npm run openapi`, or `SCHERP_WRITE_OPENAPI=1 npx jest test/unit/openapi.test.ts`),
 * it passes an OpenAPI 3.1 validator, it has every route of `lambdas/routes.ts` and nothing else,
 * and the requests the SDKs and tests send validate against its request schemas (ajv, JSON Schema
 * 2020-12, the dialect of OpenAPI 3.1), while invalid ones do not.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Analytics } from '@segment/analytics-node';
import { ERROR_BODIES, openApiDocument, OpenApiRoutesError } from '../../core/openapi';
import {
  AlreadyExistsError,
  AuthenticationError,
  LimitExceededError,
  NotFoundError,
  RateLimitedError,
  ValidationError,
} from '../../core/errors';
import { API_ROUTES, OPENAPI_PATH } from '../../lambdas/routes';
import { errorResponse } from '../../lambdas/shared/http';
import { createProfileHandler } from '../../lambdas/profile';
import { OPENAPI_FILE, OPENAPI_MODULE, openApiModuleText, openApiText } from '../../scripts/openapi';
import { OPENAPI_BROTLI_BASE64 } from '../../lambdas/profile/openapi-document';
import { brotliDecompressSync } from 'node:zlib';
import { openApiValidator, type OpenApiDoc } from '../helpers/openapi';

const text = openApiText();
const doc = JSON.parse(text) as OpenApiDoc;

const { requestErrors, responseErrors } = openApiValidator(doc);

test('docs/openapi.json is the generated document (npm run openapi)', () => {
  if (process.env.SCHERP_WRITE_OPENAPI === '1') writeFileSync(OPENAPI_FILE, text);
  expect(readFileSync(OPENAPI_FILE, 'utf8')).toBe(text);
});

test('the compressed copy the profile function serves is the generated document (npm run openapi)', () => {
  if (process.env.SCHERP_WRITE_OPENAPI === '1') writeFileSync(OPENAPI_MODULE, openApiModuleText(text));
  expect(brotliDecompressSync(Buffer.from(OPENAPI_BROTLI_BASE64, 'base64')).toString('utf8')).toBe(text);
});

test('the document passes an OpenAPI 3.1 validator', () => {
  // The validator is an ES module: run it in its own Node process.
  const script = `import { Validator } from '@seriousme/openapi-schema-validator';
    import { readFileSync } from 'node:fs';
    const v = new Validator();
    const r = await v.validate(JSON.parse(readFileSync(process.argv[1], 'utf8')));
    process.stdout.write(JSON.stringify({ valid: r.valid, version: v.version, errors: r.errors ?? null }));`;
  const out = JSON.parse(
    execFileSync(process.execPath, ['--input-type=module', '-e', script, OPENAPI_FILE], {
      cwd: join(__dirname, '../..'),
      encoding: 'utf8',
    }),
  ) as { valid: boolean; version: string; errors: unknown };
  expect(out).toEqual({ valid: true, version: '3.1', errors: null });
});

test('every route of lambdas/routes.ts is in the document, and nothing else', () => {
  const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
  expect(documented.sort()).toEqual(API_ROUTES.map((r) => `${r.method} ${r.path}`).sort());
});

test('a route without an entry, or an entry without a route, fails naming it', () => {
  expect(() => openApiDocument([...API_ROUTES, { method: 'GET', path: '/v1/nowhere' }])).toThrow(OpenApiRoutesError);
  expect(() => openApiDocument([...API_ROUTES, { method: 'GET', path: '/v1/nowhere' }])).toThrow(
    'route GET /v1/nowhere (lambdas/routes.ts) has no entry in ROUTE_DOCS (core/openapi.ts)',
  );
  expect(() => openApiDocument(API_ROUTES.filter((r) => r.path !== '/v1/rules'))).toThrow(
    'ROUTE_DOCS (core/openapi.ts) documents GET /v1/rules, which is not a route of lambdas/routes.ts',
  );
});

test('each route names its key: write for tracking and context, read for profiles, admin for the rest, none for public documents', () => {
  const schemes = (method: string, path: string) =>
    (doc.paths[path]![method]!.security ?? []).flatMap((s) => Object.keys(s as object)).sort();
  expect(schemes('post', '/v1/batch')).toEqual(['writeKeyBasic', 'writeKeyBearer']);
  expect(schemes('post', '/v1/context')).toEqual(['writeKeyBasic', 'writeKeyBearer']);
  // The console signs in with one key: the admin key reads profiles too.
  expect(schemes('get', '/v1/profiles/{id}')).toEqual(['adminKeyBasic', 'adminKeyBearer', 'readKeyBasic', 'readKeyBearer']);
  expect(schemes('delete', '/v1/profiles/{id}')).toEqual(['adminKeyBasic', 'adminKeyBearer']);
  expect(schemes('put', '/v1/rules/{id}')).toEqual(['adminKeyBasic', 'adminKeyBearer']);
  expect(schemes('post', '/beacon/v1/batch')).toEqual(['writeKeyQuery']);
  expect(schemes('get', OPENAPI_PATH)).toEqual([]);
  // Every keyed route documents the 401; the tracking routes the 413 and the 429.
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [m, op] of Object.entries(ops)) {
      expect([`${m} ${path}`, Object.hasOwn(op.responses, '401')]).toEqual([`${m} ${path}`, (op.security ?? []).length > 0]);
    }
  }
  expect(Object.keys(doc.paths['/v1/track']!.post!.responses).sort()).toEqual(['200', '400', '401', '404', '413', '429', '500']);
  expect(Object.keys(doc.paths[OPENAPI_PATH]!.get!.responses).sort()).toEqual(['200', '400', '404', '429', '500']);
});

describe('sample requests validate against the request schemas', () => {
  it('the batches @segment/analytics-node sends', async () => {
    const bodies: unknown[] = [];
    const analytics = new Analytics({
      writeKey: 'wk',
      host: 'http://scherp.invalid',
      maxEventsInBatch: 3,
      flushInterval: 10,
      httpClient: async (_url: string, init: { body: string }) => {
        bodies.push(JSON.parse(init.body));
        return { status: 200, statusText: 'OK' };
      },
    });
    analytics.identify({ userId: 'u-1', traits: { email: 'ada@example.com', plan: 'pro' } });
    analytics.track({ userId: 'u-1', event: 'Order Completed', properties: { revenue: 42, products: [{ product_id: 'p1' }] } });
    analytics.page({ anonymousId: 'a-1', name: 'Home', properties: { url: 'https://example.com/' } });
    analytics.alias({ userId: 'u-1', previousId: 'a-1' });
    analytics.group({ userId: 'u-1', groupId: 'g-1', traits: { name: 'Acme' } });
    await analytics.closeAndFlush();
    expect(bodies.length).toBeGreaterThan(0);
    for (const b of bodies) expect(requestErrors('POST', '/v1/batch', b)).toEqual([]);
  });

  it('an analytics.js batch (writeKey in the body, as its beacon and batching send)', () => {
    const item = {
      type: 'page',
      messageId: 'ajs-next-1733040000000-6f1c',
      anonymousId: 'b7e4c2a0-1d2f-4c3b-9a8e-2f6b3c4d5e6f',
      timestamp: '2026-12-01T10:00:00.000Z',
      properties: { path: '/', url: 'https://shop.example/', title: 'Shop', referrer: '', search: '' },
      context: {
        page: { path: '/', url: 'https://shop.example/' },
        userAgent: 'Mozilla/5.0',
        locale: 'nl-NL',
        library: { name: 'analytics.js', version: 'npm:next-1.84.3' },
      },
      integrations: {},
      writeKey: 'wk',
      sentAt: '2026-12-01T10:00:01.000Z',
      _metadata: { bundled: ['Segment.io'], unbundled: [], bundledIds: [] },
    };
    expect(
      requestErrors(
        'POST',
        '/v1/batch',
        { batch: [item, { ...item, type: 'track', event: 'Product Viewed' }], sentAt: '2026-12-01T10:00:01.000Z', writeKey: 'wk' },
        'text/plain',
      ),
    ).toEqual([]);
    expect(requestErrors('POST', '/v1/b', { batch: [item] })).toEqual([]);
    expect(requestErrors('POST', '/v1/p', item)).toEqual([]);
  });

  it('single calls, as the README and the e2e tests send them', () => {
    expect(requestErrors('POST', '/v1/identify', { userId: 'u-1', traits: { email: 'ada@example.com' } })).toEqual([]);
    expect(
      requestErrors('POST', '/v1/track', {
        userId: 42,
        event: 'Order Completed',
        properties: { revenue: 1e200 },
        timestamp: 1733040000000,
      }),
    ).toEqual([]);
    expect(requestErrors('POST', '/v1/alias', { previousId: 'a-1', userId: 'u-1' })).toEqual([]);
    expect(requestErrors('POST', '/v1/context', { anonymousId: 'a-1' })).toEqual([]);
    expect(requestErrors('POST', '/v1/context', { userId: 'u-1', userToken: 't' })).toEqual([]);
  });

  it('sources, rules, dry runs, backtests and redrives', () => {
    expect(requestErrors('POST', '/v1/sources', { name: 'POS', party: 'first', trust: 'trusted' })).toEqual([]);
    expect(requestErrors('POST', '/v1/sources', { name: 'crm', party: 'second', rateLimit: { rate: 50, burst: 100 } })).toEqual([]);
    expect(requestErrors('PATCH', '/v1/sources/{id}', { rateLimit: null })).toEqual([]);
    const rulesDir = join(__dirname, '../../rules');
    for (const f of readdirSync(rulesDir).filter((n) => n.endsWith('.json'))) {
      expect([f, requestErrors('PUT', '/v1/rules/{id}', JSON.parse(readFileSync(join(rulesDir, f), 'utf8')))]).toEqual([f, []]);
    }
    const rule = {
      name: 'Big spender',
      trigger: { events: ['Order Completed'] },
      condition: { path: 'event.properties.revenue', op: 'gte', value: 15 },
      actions: [{ type: 'emit', action: 'big' }],
    };
    expect(requestErrors('PUT', '/v1/rules/{id}', rule)).toEqual([]);
    expect(
      requestErrors('POST', '/v1/rules/{id}/test', {
        rule: { ...rule, id: 'big-spender' },
        event: { type: 'track', userId: 'nobody', event: 'Order Completed', properties: { revenue: 20 } },
      }),
    ).toEqual([]);
    expect(requestErrors('POST', '/v1/rules/{id}/test', { profile: 'user_id:u-1' })).toEqual([]);
    expect(
      requestErrors('POST', '/v1/rules/{id}/backtest', {
        from: '2026-11-01T00:00:00.000Z',
        to: '2026-11-30T00:00:00.000Z',
        segments: 16,
      }),
    ).toEqual([]);
    expect(requestErrors('POST', '/v1/dlq/redrive', { ids: ['m-1'] })).toEqual([]);
  });

  it('and invalid ones do not', () => {
    expect(requestErrors('POST', '/v1/sources', { name: 'POS', party: 'fourth' })).not.toEqual([]);
    expect(requestErrors('POST', '/v1/sources', { name: 'POS', party: 'first', owner: 'me' })).not.toEqual([]);
    expect(requestErrors('POST', '/v1/batch', { batch: [{ type: 'constructor', userId: 'u' }] })).not.toEqual([]);
    expect(requestErrors('POST', '/v1/batch', { batch: 'nope' })).not.toEqual([]);
    // The invalid rule of the e2e test: an unknown operator, a bad cooldown.
    expect(
      requestErrors('PUT', '/v1/rules/{id}', {
        name: 'bad',
        trigger: {},
        condition: { all: [{ path: 'event.x', op: 'between', value: 1 }] },
        actions: [{ type: 'emit', action: 'x', cooldown: 'soon' }],
      }),
    ).not.toEqual([]);
    expect(
      requestErrors('PUT', '/v1/rules/{id}', {
        name: 'bad',
        trigger: {},
        condition: { path: 'event.x', op: 'between', value: 1 },
        actions: [{ type: 'emit', action: 'x' }],
      }),
    ).not.toEqual([]);
    expect(requestErrors('POST', '/v1/dlq/redrive', { ids: [] })).not.toEqual([]);
    expect(requestErrors('POST', '/v1/context', { anonymousId: 'a-1', extra: 1 })).not.toEqual([]);
  });
});

test('the error bodies the handlers answer match the documented ones', () => {
  const cases: [number, unknown][] = [
    [400, new ValidationError('invalid track call', [{ path: 'userId', message: 'is required' }])],
    [401, new AuthenticationError('invalid write key')],
    [404, new NotFoundError('no such route')],
    [409, new AlreadyExistsError('a source named "POS" exists already', [{ path: 'name', message: 'is taken by source src_1' }])],
    [413, new LimitExceededError('too big', 'maxRequestBytes')],
    [429, new RateLimitedError('slow down', 2)],
    [500, new Error('boom')],
  ];
  expect(cases.map(([s]) => s).sort()).toEqual(Object.keys(ERROR_BODIES).map(Number).sort());
  for (const [status, err] of cases) {
    const res = errorResponse(err);
    expect(res.statusCode).toBe(status);
    const path = status === 409 ? '/v1/sources' : '/v1/track';
    expect([status, responseErrors('POST', path, status, JSON.parse(res.body!))]).toEqual([status, []]);
  }
});

test('the profile function serves the document at GET /v1/openapi.json without a key', async () => {
  const handler = createProfileHandler(() => {
    throw new Error('the document needs no dependencies');
  });
  const res = await handler({
    routeKey: `GET ${OPENAPI_PATH}`,
    rawPath: OPENAPI_PATH,
    headers: {},
    requestContext: { requestId: 'r' },
  } as never);
  expect(res.statusCode).toBe(200);
  expect(JSON.parse(res.body!)).toEqual(doc);
});
