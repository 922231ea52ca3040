/**
 * The local endpoint's shortcuts give what the plain way gives: the request target parsed without
 * `new URL` only where `new URL` would give the same pathname and no query, and the route table
 * finding the same first route (and parameters) as a walk over API_ROUTES.
 */
import fc from 'fast-check';
import { API_ROUTES, matchPath } from '../../lambdas/routes';
import { requestTarget, routeTable } from '../../local/server';

const base = (target: string) => new URL(target, 'http://local');

describe('request targets', () => {
  it('are parsed as new URL parses them, plain paths or not', () => {
    const chars = fc.constantFrom(..."/abcAZ09-_.~%?#&=+ \\:@!$'()*,;é\t".split(''), '..', '/.', '//', '%2e', '%2F', '?a=1&a=2');
    fc.assert(
      fc.property(fc.array(chars, { maxLength: 12 }), (parts) => {
        const target = `/${parts.join('')}`;
        let url: URL;
        try {
          url = base(target);
        } catch {
          // `new URL` refuses it (`//`: no host): so does the request target (the server answers 500 as before).
          expect(() => requestTarget(target)).toThrow();
          return;
        }
        const fast = requestTarget(target);
        expect(fast.pathname).toBe(url.pathname);
        expect(fast.search).toBe(url.search);
        expect(Object.fromEntries(fast.searchParams)).toEqual(Object.fromEntries(url.searchParams));
      }),
      { numRuns: 3000 },
    );
    for (const t of [
      '/v1/track',
      '/v1/b',
      '/sourceConfig/',
      '/v1/openapi.json',
      '/',
      '//v1/track',
      '/a//b',
      '/v1/../track',
      '/v1/./t',
      '/v1/%74rack',
    ])
      expect(requestTarget(t).pathname).toBe(base(t).pathname);
    expect(requestTarget(undefined).pathname).toBe('/');
  });
});

describe('the route table', () => {
  const walk = (method: string, path: string) => {
    for (const r of API_ROUTES) {
      if (r.method !== method) continue;
      const raw = matchPath(r.path, path);
      if (raw) return { route: r, raw };
    }
    return undefined;
  };
  const routes = routeTable();
  const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'];

  it('finds the first route a walk over API_ROUTES finds, with the same parameters', () => {
    const concrete = API_ROUTES.map((r) => r.path.replace(/\{[^}]+\}/g, 'x'));
    const paths = [...API_ROUTES.map((r) => r.path), ...concrete, '/v1/nope', '/', '/v1/profiles/', '/v1/profiles//events'];
    for (const method of methods) {
      for (const path of paths) {
        const expected = walk(method, path);
        const found = routes(method, path);
        expect(found?.route).toBe(expected?.route);
        if (expected) {
          expect(found?.routeKey).toBe(`${expected.route.method} ${expected.route.path}`);
          expect({ ...(found?.raw ?? {}) }).toEqual({ ...expected.raw });
        }
      }
    }
  });

  it('agrees with the walk on generated paths', () => {
    const seg = fc.constantFrom('v1', 'profiles', 'track', 'sources', 'keys', 'rules', 'x', 'y', '', 'events', 'b', 'audiences');
    fc.assert(
      fc.property(fc.constantFrom(...methods), fc.array(seg, { minLength: 1, maxLength: 5 }), (method, segs) => {
        const path = `/${segs.join('/')}`;
        const expected = walk(method, path);
        const found = routes(method, path);
        expect(found?.route).toBe(expected?.route);
        if (expected) expect({ ...(found?.raw ?? {}) }).toEqual({ ...expected.raw });
      }),
      { numRuns: 2000 },
    );
  });
});
