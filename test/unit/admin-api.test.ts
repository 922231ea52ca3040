/**
 * The frame of the admin-key APIs: 401 without or with a wrong key (routes never run), the route
 * for the route key with the handler's dependencies, 404 for any other route key, errors mapped.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { BootstrapKeyStore, envLoader } from '../../adapters/keys';
import { ValidationError } from '../../core/errors';
import { adminApiHandler, pathParam } from '../../lambdas/shared/admin-api';
import { json } from '../../lambdas/shared/http';

const req = (routeKey: string, authorization?: string, pathParameters?: Record<string, string>): APIGatewayProxyEventV2 =>
  ({ routeKey, headers: authorization ? { authorization } : {}, pathParameters }) as unknown as APIGatewayProxyEventV2;

const ran: string[] = [];
const handler = adminApiHandler(() => ({ keys: new BootstrapKeyStore({ admin: envLoader('ak'), write: envLoader('wk') }), name: 'deps' }), {
  'GET /v1/things/{id}': async (event, d) => {
    ran.push(pathParam(event, 'id'));
    return json(200, { id: pathParam(event, 'id'), deps: d.name });
  },
  'POST /v1/things': async () => {
    throw new ValidationError('bad thing', [{ path: 'thing', message: 'is bad' }]);
  },
});

beforeEach(() => {
  ran.length = 0;
});

test('401 without a key, with a wrong key or another kind of key; the route never runs', async () => {
  for (const auth of [undefined, 'Bearer nope', 'Bearer wk']) {
    const r = await handler(req('GET /v1/things/{id}', auth, { id: 'x' }));
    expect(r.statusCode).toBe(401);
    expect(JSON.parse(r.body!)).toMatchObject({ error: 'unauthorized' });
  }
  expect(ran).toEqual([]);
});

test('runs the route for the route key, Bearer or Basic, with decoded path parameters and the dependencies', async () => {
  const basic = `Basic ${Buffer.from('ak:').toString('base64')}`;
  for (const auth of ['Bearer ak', basic]) {
    // API Gateway hands the parameter over decoded (`a%20b` in the URL is `a b` here).
    const r = await handler(req('GET /v1/things/{id}', auth, { id: 'a b' }));
    expect(r.statusCode).toBe(200);
    expect(JSON.parse(r.body!)).toEqual({ id: 'a b', deps: 'deps' });
  }
});

test('a decoded parameter is not decoded again: a literal % or %41 stays as it is (no 500, no other id)', async () => {
  for (const id of ['50%off', 'x%41', '%E0%A4%A']) {
    const r = await handler(req('GET /v1/things/{id}', 'Bearer ak', { id }));
    expect(r.statusCode).toBe(200);
    expect(JSON.parse(r.body!)).toEqual({ id, deps: 'deps' });
  }
});

test('404 for a route key it does not serve (inherited names included); errors become their responses', async () => {
  for (const key of ['GET /v1/nope', 'constructor', 'toString']) expect((await handler(req(key, 'Bearer ak'))).statusCode).toBe(404);
  const bad = await handler(req('POST /v1/things', 'Bearer ak'));
  expect(bad.statusCode).toBe(400);
  expect(JSON.parse(bad.body!)).toMatchObject({ error: 'invalid_request', issues: [{ path: 'thing' }] });
});
