/**
 * The console's pure parts: what the search box makes of a typed value, and what the local
 * server answers under `/console` (assets, the app's page for every other path, the CSP).
 */
import { identifierOf } from '../../console/src/identifiers';
import { consoleBundle, CONSOLE_CSP, isConsolePath, serveConsole } from '../../local/console-assets';

it('takes type:value as it is and guesses the type of a bare value', () => {
  expect(identifierOf('email:Ada@Example.com')).toBe('email:Ada@Example.com');
  expect(identifierOf(' user_id:42 ')).toBe('user_id:42');
  expect(identifierOf('anonymous_id:a-1')).toBe('anonymous_id:a-1');
  expect(identifierOf('ada@example.com')).toBe('email:ada@example.com');
  expect(identifierOf('+31 6 12345678')).toBe('phone:+31 6 12345678');
  expect(identifierOf('06-12345678')).toBe('phone:06-12345678');
  expect(identifierOf('42')).toBe('user_id:42');
  expect(identifierOf('Ada Lovelace')).toBe('user_id:Ada Lovelace');
});

it('serves the assets, the app for every other console path, and a CSP without inline script', async () => {
  const bundle = await consoleBundle();
  expect(isConsolePath('/console')).toBe(true);
  expect(isConsolePath('/console/profiles/email:a@b.c')).toBe(true);
  expect(isConsolePath('/consoles')).toBe(false);
  expect(isConsolePath('/v1/profiles/x')).toBe(false);
  const js = serveConsole(bundle, 'GET', '/console/assets/app.js');
  expect(js.status).toBe(200);
  expect(js.headers['content-type']).toMatch(/^text\/javascript/);
  expect(serveConsole(bundle, 'GET', '/console/assets/app.css').headers['content-type']).toMatch(/^text\/css/);
  expect(serveConsole(bundle, 'GET', '/console/assets/other.js').status).toBe(404);
  for (const path of ['/console/', '/console/profiles/email:ada@example.com', '/console/assets/../../etc/passwd']) {
    const page = serveConsole(bundle, 'GET', path);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toBe(CONSOLE_CSP);
  }
  expect(CONSOLE_CSP).toContain("script-src 'self'");
  expect(CONSOLE_CSP).not.toMatch(/unsafe-(inline|eval)/);
  expect(serveConsole(bundle, 'GET', '/console')).toMatchObject({ status: 308, headers: { location: '/console/' } });
  expect(serveConsole(bundle, 'POST', '/console/').status).toBe(405);
});

it('keeps the first page small: at most 150 KB of gzipped JavaScript', async () => {
  const { gzipSync } = await import('node:zlib');
  const bundle = await consoleBundle();
  const js = [...bundle].filter(([name]) => name.endsWith('.js'));
  const gzipped = js.reduce((n, [, f]) => n + gzipSync(f.body).length, 0);
  expect(gzipped).toBeGreaterThan(0);
  expect(gzipped).toBeLessThanOrEqual(150 * 1024);
});
