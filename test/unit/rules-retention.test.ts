/**
 * The cloud rules function with the environment the construct gives it (`EVENT_RETENTION_DAYS`,
 * lib/admin.ts): a rule or audience whose history window is longer than the event retention is
 * refused at PUT with a 400 naming the window's path, before anything is stored.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

const saved = { ...process.env };
beforeAll(() => {
  process.env.EVENT_RETENTION_DAYS = '30';
  process.env.SCHERP_ADMIN_KEY = 'admin-key-for-the-retention-test';
  process.env.TABLE_NAME = 'never-reached';
  process.env.AWS_REGION ??= 'eu-west-1';
});
afterAll(() => {
  process.env = saved;
});

const put = (id: string, body: unknown): APIGatewayProxyEventV2 =>
  ({
    routeKey: 'PUT /v1/rules/{id}',
    rawPath: `/v1/rules/${id}`,
    headers: { authorization: 'Bearer admin-key-for-the-retention-test', 'content-type': 'application/json' },
    pathParameters: { id },
    body: JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: { http: { method: 'PUT', path: `/v1/rules/${id}` } },
  }) as unknown as APIGatewayProxyEventV2;

test.each([
  [
    'an audience',
    { kind: 'audience', name: 'Viewers', enabled: true, condition: { history: { event: 'Product Viewed', within: '60d', atLeast: 1 } } },
    'condition.history.within',
  ],
  [
    'a rule (a nested condition)',
    {
      name: 'Lapsed',
      enabled: true,
      trigger: { types: ['track'], events: ['App Opened'] },
      condition: {
        all: [
          { path: 'profile.traits.plan', op: 'eq', value: 'gold' },
          { history: { event: 'Order Completed', within: '45d', atMost: 0 } },
        ],
      },
      actions: [{ type: 'emit', action: 'win_back' }],
    },
    'condition.all[1].history.within',
  ],
])('%s with a window longer than EVENT_RETENTION_DAYS is a 400 naming its path', async (_what, body, path) => {
  const { handler } = await import('../../lambdas/rules');
  const res = (await handler(put('too-long', body))) as APIGatewayProxyStructuredResultV2;
  expect(res.statusCode).toBe(400);
  const answer = JSON.parse(String(res.body));
  expect(JSON.stringify(answer)).toContain(path);
  expect(JSON.stringify(answer)).toContain('30d');
});
