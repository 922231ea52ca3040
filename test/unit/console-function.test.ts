/**
 * The cloud's `console` function as deployed: its code bundled the way the stack bundles it at
 * synth (`writeConsoleFunction`), loaded from that folder and invoked with API Gateway events.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { writeConsoleFunction } from '../../lib/console';
import { LAMBDAS_DIR } from '../../lib/scherp-function';
import { CONSOLE_CSP } from '../../lambdas/console/serve';

let dir: string;
let handler: (e: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'scherp-console-fn-'));
  writeConsoleFunction(join(LAMBDAS_DIR, 'console', 'index.ts'), dir);
  handler = require(join(dir, 'index.js')).handler;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function get(rawPath: string, method = 'GET'): Promise<APIGatewayProxyStructuredResultV2> {
  return handler({ rawPath, requestContext: { http: { method, path: rawPath } } } as unknown as APIGatewayProxyEventV2);
}

it('bundles the handler and the built console next to it', () => {
  expect(readdirSync(dir).sort()).toEqual(expect.arrayContaining(['console', 'index.js']));
  expect(readdirSync(join(dir, 'console')).sort()).toEqual(['app.css', 'app.js', 'index.html']);
});

it('answers every page path (deep links) with the app page and the CSP, not cached', async () => {
  for (const path of [
    '/console/',
    '/console/profiles/email:ada@example.com',
    '/console/rules/repeat-companion-product',
    '/console/events',
  ]) {
    const res = await get(path);
    expect(res.statusCode).toBe(200);
    expect(res.headers).toMatchObject({
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': CONSOLE_CSP,
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
    });
    expect(res.body).toContain('<script type="module" src="/console/assets/app.js">');
    expect(res.isBase64Encoded).toBe(false);
  }
});

it('serves the assets with their content types and the CSP; an unknown asset is a 404', async () => {
  const js = await get('/console/assets/app.js');
  expect(js.statusCode).toBe(200);
  expect(js.headers).toMatchObject({
    'content-type': 'text/javascript; charset=utf-8',
    'cache-control': 'no-cache',
    'content-security-policy': CONSOLE_CSP,
  });
  expect(String(js.body).length).toBeGreaterThan(1000);
  expect((await get('/console/assets/app.css')).headers?.['content-type']).toBe('text/css; charset=utf-8');
  const missing = await get('/console/assets/other.js');
  expect(missing.statusCode).toBe(404);
  expect(missing.headers?.['content-security-policy']).toBe(CONSOLE_CSP);
});

it('redirects /console to /console/ and refuses other methods', async () => {
  expect(await get('/console')).toMatchObject({ statusCode: 308, headers: { location: '/console/' } });
  expect((await get('/console/', 'POST')).statusCode).toBe(405);
});
