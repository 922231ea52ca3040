/**
 * The console's pure parts: what the search box makes of a typed value, and what the local
 * server answers under `/console` (assets, the app's page for every other path, the CSP).
 */
import { mergeEntries, type DebugEntry } from '../../console/src/live';
import { placeIssues } from '../../console/src/issues';
import { identifierOf } from '../../console/src/identifiers';
import { traceTree } from '../../console/src/trace';
import { evaluateCondition, parseDefinition } from '../../core/rules/engine';
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

it("hangs a dry run's flat trace on the rule's condition tree, marking what all/any never reached", () => {
  const condition = {
    all: [
      { path: 'event.properties.revenue', op: 'gt', value: 100 },
      { not: { path: 'profile.traits.plan', op: 'eq', value: 'free' } },
      {
        any: [
          { path: 'event.properties.coupon', op: 'exists' },
          { path: 'profile.traits.vip', op: 'eq', value: true },
        ],
      },
      { path: 'event.properties.currency', op: 'eq', value: 'EUR' },
    ],
  };
  const def = parseDefinition({ id: 'r', name: 'r', trigger: { events: ['x'] }, condition, actions: [{ type: 'emit', action: 'a' }] });
  const scope = (event: unknown, profile: unknown) => ({ event, profile, match: Object.create(null) }) as never;
  const run = (event: unknown, profile: unknown) => {
    const trace: never[] = [];
    const result = evaluateCondition(def.condition!, scope(event, profile), { event: event as never, profile: profile as never }, trace);
    return { result, trace };
  };
  // Fires: every part evaluated except the second alternative of any (the first was true).
  const fired = run({ properties: { revenue: 150, coupon: 'X', currency: 'EUR' } }, { traits: { plan: 'pro' } });
  const tree = traceTree(condition, fired.trace)!;
  expect(tree).toMatchObject({
    kind: 'all',
    result: fired.result,
    children: [
      { kind: 'check', result: true, entry: { path: 'event.properties.revenue', actual: 150 } },
      { kind: 'not', result: true, child: { kind: 'check', result: false, entry: { actual: 'pro' } } },
      {
        kind: 'any',
        result: true,
        children: [
          { kind: 'check', result: true },
          { kind: 'check', condition: { path: 'profile.traits.vip', op: 'eq', value: true } },
        ],
      },
      { kind: 'check', result: true },
    ],
  });
  const skipped = (tree as any).children[2].children[1];
  expect(skipped.result).toBeUndefined();
  expect(skipped.entry).toBeUndefined();
  // Stops at the first false part of all: the rest is not evaluated.
  const stopped = run({ properties: { revenue: 50 } }, { traits: {} });
  expect(stopped.result).toBe(false);
  const t2 = traceTree(condition, stopped.trace)!;
  expect(t2.result).toBe(false);
  expect((t2 as { children: { result?: boolean }[] }).children.map((c) => c.result)).toEqual([false, undefined, undefined, undefined]);
  // A trace that does not fit the condition (the rule changed since): no tree, the flat table is shown.
  expect(traceTree(condition, [...fired.trace, ...fired.trace])).toBeUndefined();
  expect(traceTree(undefined, [])).toMatchObject({ result: true });
});

it('keeps live entries by id, newest first, and places API issues at the field they name', () => {
  const e = (id: string, event = id): DebugEntry => ({
    id,
    receivedAt: id,
    status: 'accepted',
    sourceId: 's',
    route: 'track',
    index: 0,
    event,
    payload: '{}',
  });
  const kept = mergeEntries(
    [e('2026-01-01T00:00:01Z#a#00000')],
    [e('2026-01-01T00:00:02Z#b#00000'), e('2026-01-01T00:00:01Z#a#00000', 'again')],
  );
  expect(kept.map((x) => x.id)).toEqual(['2026-01-01T00:00:02Z#b#00000', '2026-01-01T00:00:01Z#a#00000']);
  expect(kept[1]!.event).toBe('again');
  const placed = placeIssues([
    { path: 'id', message: 'bad' },
    { path: 'name', message: 'required' },
    { path: 'condition.op', message: 'bad op' },
    { path: 'identity', message: 'other' },
  ]);
  expect(placed.id.map((i) => i.path)).toEqual(['id']);
  expect(placed.name.map((i) => i.path)).toEqual(['name']);
  expect(placed.body.map((i) => i.path)).toEqual(['condition.op', 'identity']);
});
