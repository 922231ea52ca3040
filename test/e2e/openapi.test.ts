/**
 * The OpenAPI document from the outside: `GET /v1/openapi.json` on the local runtime (no key,
 * CORS as every route) is `docs/openapi.json`, and what the runtime answers the requests of a
 * session validates against the document's response schemas.
 */
import { readFileSync } from 'node:fs';
import type { Runtime } from '../../local/runtime';
import { OPENAPI_FILE } from '../../scripts/openapi';
import { settle } from '../helpers/check';
import { apiClient } from '../helpers/http';
import { openApiValidator } from '../helpers/openapi';
import { startTestRuntime } from '../helpers/runtime';

let rt: Runtime;
const { call } = apiClient(() => rt);
const { requestErrors, responseErrors } = openApiValidator();

beforeAll(async () => {
  rt = await startTestRuntime('openapi');
});
afterAll(() => rt.stop());

test('GET /v1/openapi.json needs no key and is docs/openapi.json', async () => {
  const res = await fetch(`${rt.url}/v1/openapi.json`, { headers: { origin: 'https://docs.example' } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(res.headers.get('access-control-allow-origin')).toBe('*');
  expect(await res.json()).toEqual(JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')));
});

test("the runtime's answers follow the document", async () => {
  const { write, read, admin } = rt.keys;
  const faults: string[] = [];
  /** Sends a request (one the document accepts, unless it is to be a 400), checks the answer against the document. */
  const expectDocumented = async (
    method: string,
    template: string,
    path: string,
    key: string | undefined,
    body: unknown,
    status: number,
  ) => {
    if (body !== undefined && status !== 400)
      faults.push(...requestErrors(method, template, body).map((e) => `${method} ${template} request: ${e}`));
    const res = await call(method, path, key, body);
    expect([method, path, res.status]).toEqual([method, path, status]);
    if (res.body !== undefined)
      faults.push(...responseErrors(method, template, res.status, res.body).map((e) => `${method} ${template} ${res.status}: ${e}`));
    return res.body;
  };
  await expectDocumented(
    'POST',
    '/v1/identify',
    '/v1/identify',
    write,
    { userId: 'oa-1', traits: { email: 'oa-1@example.com', plan: 'pro' } },
    200,
  );
  await expectDocumented(
    'POST',
    '/v1/track',
    '/v1/track',
    write,
    { userId: 'oa-1', event: 'Order Completed', properties: { revenue: 20 } },
    200,
  );
  await expectDocumented(
    'POST',
    '/v1/batch',
    '/v1/batch',
    write,
    {
      batch: [
        { type: 'page', anonymousId: 'oa-a', name: 'Home' },
        { type: 'track', userId: 'oa-1' },
      ],
    },
    200,
  );
  await expectDocumented(
    'POST',
    '/beacon/v1/batch',
    `/beacon/v1/batch?writeKey=${encodeURIComponent(write)}`,
    undefined,
    { batch: [{ type: 'track', anonymousId: 'oa-a', event: 'Beacon' }] },
    200,
  );
  await expectDocumented(
    'GET',
    '/v1/projects/{writeKey}/settings',
    `/v1/projects/${encodeURIComponent(write)}/settings`,
    undefined,
    undefined,
    200,
  );
  await expectDocumented('GET', '/sourceConfig', `/sourceConfig?writeKey=${encodeURIComponent(write)}`, undefined, undefined, 200);
  await expectDocumented('POST', '/v1/track', '/v1/track', write, { userId: 'oa-1' }, 400);
  await expectDocumented('POST', '/v1/track', '/v1/track', 'not-a-key', { userId: 'oa-1', event: 'E' }, 401);
  await settle(rt);
  await expectDocumented('GET', '/v1/profiles/{id}', '/v1/profiles/user_id:oa-1', read, undefined, 200);
  await expectDocumented('GET', '/v1/profiles/{id}/events', '/v1/profiles/user_id:oa-1/events?limit=10', read, undefined, 200);
  await expectDocumented('GET', '/v1/profiles/{id}', '/v1/profiles/user_id:nobody', read, undefined, 404);
  await expectDocumented('POST', '/v1/context', '/v1/context', write, { anonymousId: 'oa-a' }, 200);
  await expectDocumented('GET', '/v1/profiles/{id}/export', '/v1/profiles/user_id:oa-1/export', admin, undefined, 200);
  const created = await expectDocumented(
    'POST',
    '/v1/sources',
    '/v1/sources',
    admin,
    { name: 'OpenAPI POS', party: 'first', trust: 'trusted' },
    201,
  );
  await expectDocumented('POST', '/v1/sources', '/v1/sources', admin, { name: 'openapi pos', party: 'second' }, 409);
  await expectDocumented('GET', '/v1/sources', '/v1/sources', admin, undefined, 200);
  await expectDocumented(
    'PATCH',
    '/v1/sources/{id}',
    `/v1/sources/${created.source.id}`,
    admin,
    { rateLimit: { rate: 50, burst: 100 } },
    200,
  );
  await expectDocumented('POST', '/v1/sources/{id}/keys', `/v1/sources/${created.source.id}/keys`, admin, undefined, 201);
  await expectDocumented(
    'DELETE',
    '/v1/sources/{id}/keys/{keyId}',
    `/v1/sources/${created.source.id}/keys/${created.key.id}`,
    admin,
    undefined,
    200,
  );
  await expectDocumented('GET', '/v1/rejected', '/v1/rejected?limit=10', admin, undefined, 200);
  await expectDocumented('GET', '/v1/dlq', '/v1/dlq', admin, undefined, 200);
  await expectDocumented('POST', '/v1/dlq/redrive', '/v1/dlq/redrive', admin, {}, 200);
  const rule = {
    name: 'OpenAPI spender',
    trigger: { events: ['Order Completed'] },
    condition: { path: 'event.properties.revenue', op: 'gte', value: 15 },
    actions: [{ type: 'emit', action: 'big' }],
  };
  await expectDocumented('PUT', '/v1/rules/{id}', '/v1/rules/openapi-spender', admin, rule, 200);
  await expectDocumented(
    'PUT',
    '/v1/rules/{id}',
    '/v1/rules/openapi-bad',
    admin,
    { ...rule, condition: { path: 'event.x', op: 'between', value: 1 } },
    400,
  );
  await expectDocumented('GET', '/v1/rules', '/v1/rules', admin, undefined, 200);
  await expectDocumented('GET', '/v1/rules/{id}', '/v1/rules/openapi-spender', admin, undefined, 200);
  await expectDocumented('POST', '/v1/rules/{id}/test', '/v1/rules/openapi-spender/test', admin, { profile: 'user_id:oa-1' }, 200);
  const backtest = (await expectDocumented(
    'POST',
    '/v1/rules/{id}/backtest',
    '/v1/rules/openapi-spender/backtest',
    admin,
    { from: new Date(Date.now() - 86_400_000).toISOString(), to: new Date().toISOString() },
    202,
  )) as { id: string };
  // The backtest job, once it answered: its result documented too.
  for (let i = 0; i < 300; i++) {
    const job = await call('GET', `/v1/jobs/${backtest.id}`, admin, undefined);
    if ((job.body as { status: string }).status !== 'running') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const done = (await expectDocumented('GET', '/v1/jobs/{id}', `/v1/jobs/${backtest.id}`, admin, undefined, 200)) as Record<
    string,
    unknown
  >;
  expect(done).toMatchObject({ status: 'succeeded', result: { id: 'openapi-spender', truncated: false } });
  await expectDocumented('GET', '/v1/rules', '/v1/rules', read, undefined, 401);
  await expectDocumented('DELETE', '/v1/profiles/{id}', '/v1/profiles/user_id:oa-1', admin, undefined, 200);
  expect(faults).toEqual([]);
});
