/**
 * The console in real headless Chromium against the local runtime: sign-in with the admin and the
 * read key, a profile found by email with its traits and timeline, a hostile trait value shown as
 * text, a key rotated (and the new key working), a rule dry run with its trace, rejected events,
 * and what the server sends (CSP, every `/console/…` path is the app).
 */
import type { Browser, Page } from 'playwright-core';
import type { Runtime } from '../../local/runtime';
import { settle } from '../helpers/check';
import { launchChromium } from '../helpers/browser';
import { apiClient } from '../helpers/http';
import { startTestRuntime } from '../helpers/runtime';

let rt: Runtime;
let browser: Browser;
const client = apiClient(() => rt);
const XSS = '<img src=x onerror=alert(1)>';

beforeAll(async () => {
  [rt, browser] = await Promise.all([
    startTestRuntime('console', {
      keys: { write: 'console-write', read: 'console-read', admin: 'console-admin' },
      // A breaker that trips on the second merge within the window (the kiosk below; Bob merges once).
      config: { identity: { quarantine: { merges: 1 } } },
    }),
    launchChromium(),
  ]);
  await client.send(
    { type: 'identify', userId: 'ada-1', anonymousId: 'anon-ada', traits: { email: 'Ada@Example.com', name: 'Ada', bio: XSS } },
    { type: 'track', userId: 'ada-1', event: 'Order Completed', properties: { revenue: 150 } },
  );
  // One rejected event (a track without an event name) for the health page.
  expect((await client.post('/v1/track', { userId: 'ada-1' })).status).toBe(400);
  await settle(rt);
  // A person with more events than one timeline page (25), and one to export and erase.
  await client.send(
    ...Array.from({ length: 30 }, (_, i) => ({
      type: 'track',
      userId: 'many-1',
      event: `Step ${i}`,
      timestamp: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
    })),
  );
  await client.send({ type: 'identify', userId: 'cara-1', traits: { email: 'cara@example.com', name: 'Cara' } });
  // An anonymous visit and a known user, merged when one event carries both identifiers.
  await client.send({ type: 'track', anonymousId: 'anon-bob-1', event: 'Product Viewed' });
  await client.send({ type: 'identify', userId: 'bob-1', traits: { name: 'Bob' } });
  await settle(rt);
  await client.send({ type: 'identify', userId: 'bob-1', anonymousId: 'anon-bob-1' });
  await settle(rt);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await rt?.stop();
});

/** A fresh page (own session storage) that fails the test on any dialog or page error. */
async function open(path = '/console/'): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.goto(`${rt.url}${path}`);
  return { page, problems };
}

async function signIn(page: Page, key: string): Promise<void> {
  await page.getByLabel('Admin key or read key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

async function findProfile(page: Page, q: string): Promise<void> {
  await page.getByRole('link', { name: 'Profiles', exact: true }).click();
  await page.getByLabel('Identifier').fill(q);
  await page.getByRole('button', { name: 'Find' }).click();
  await page.locator('article.profile').waitFor();
}

it('serves the app under /console/ with a CSP that allows no inline script, for every console path', async () => {
  for (const path of ['/console/', '/console/profiles/email:ada@example.com', '/console/rules/high-value-order']) {
    const res = await fetch(`${rt.url}${path}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    const html = await res.text();
    expect(html).toContain('<script type="module" src="/console/assets/app.js">');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/https?:\/\//);
  }
  const js = await fetch(`${rt.url}/console/assets/app.js`);
  expect(js.status).toBe(200);
  expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
  expect((await fetch(`${rt.url}/console`, { redirect: 'manual' })).headers.get('location')).toBe('/console/');
  // The API is untouched.
  expect((await client.get('/v1/profiles/user_id:ada-1')).status).toBe(200);
});

it('signs in with the admin key and finds a profile by email: traits, hostile values as text, the timeline, the identity graph', async () => {
  const { page, problems } = await open();
  await signIn(page, rt.keys.admin);
  await expect(page.locator('.role').textContent()).resolves.toBe('admin key');
  expect(await page.evaluate(() => (globalThis as any).sessionStorage.getItem('scherp.console.key'))).toBe(rt.keys.admin);
  expect(page.url()).not.toContain(rt.keys.admin);
  await findProfile(page, 'ada@example.com');
  expect(page.url()).toBe(`${rt.url}/console/profiles/email%3Aada%40example.com`);
  await expect(page.locator('tr[data-trait="name"] td.value').textContent()).resolves.toBe('Ada');
  // The XSS case: the value is text, no element was made of it, no dialog fired.
  await expect(page.locator('tr[data-trait="bio"] td.value').textContent()).resolves.toBe(XSS);
  expect(await page.locator('article.profile img').count()).toBe(0);
  // The timeline: an event, expandable to its JSON.
  const order = page.locator('.timeline li', { hasText: 'Order Completed' });
  await order.locator('summary').click();
  await expect(order.locator('pre.json').textContent()).resolves.toContain('"revenue": 150');
  // Computed traits and the identity graph (identifiers → profile).
  await expect(page.locator('article.profile').textContent()).resolves.toContain('lifetime_value');
  const graph = page.locator('figure.graph');
  await expect(graph.locator('text', { hasText: 'email:ada@example.com' }).count()).resolves.toBe(1);
  await expect(graph.locator('text', { hasText: 'anonymous_id:anon-ada' }).count()).resolves.toBe(1);
  expect(problems).toEqual([]);
  await page.context().close();
});

it('opens a shareable profile URL after sign-in, and says when nobody has the identifier', async () => {
  const { page, problems } = await open('/console/profiles/user_id:ada-1');
  await signIn(page, rt.keys.read);
  await expect(page.locator('tr[data-trait="email"] td.value').textContent()).resolves.toBe('Ada@Example.com');
  await page.goto(`${rt.url}/console/profiles/user_id:nobody-here`);
  await expect(page.getByRole('alert').textContent()).resolves.toContain('No profile has the identifier user_id:nobody-here');
  expect(problems).toEqual([]);
  await page.context().close();
});

it('draws the identity graph from the explain route; a quarantined profile has a badge an admin releases', async () => {
  for (const v of ['kv1', 'kv2', 'kv3']) {
    await client.send({ type: 'track', anonymousId: v, event: 'Viewed' });
    await settle(rt);
    await client.send({ type: 'track', anonymousId: v, event: 'Viewed', context: { device: { id: 'console-kiosk' } } });
    await settle(rt);
  }
  const explained = (await client.call('GET', '/v1/profiles/device_id:console-kiosk/identity', rt.keys.read)).body;
  expect(explained.quarantine).toMatchObject({ reason: 'merges' });
  const { page, problems } = await open('/console/profiles/device_id:console-kiosk');
  await signIn(page, rt.keys.admin);
  const graph = page.locator('figure.graph');
  await graph.locator('.badge.quarantined').waitFor();
  const kiosk = explained.identifiers.find((i: { id: string }) => i.id === 'device_id:console-kiosk');
  await expect(graph.locator('g.identifier title', { hasText: 'device_id:console-kiosk' }).textContent()).resolves.toContain(
    `linked by ${kiosk.linkedBy.messageId}`,
  );
  await graph.getByRole('button', { name: 'Release' }).click();
  await graph.locator('.badge.quarantined').waitFor({ state: 'detached' });
  expect((await client.call('GET', '/v1/profiles/device_id:console-kiosk/identity', rt.keys.read)).body.quarantine).toBeUndefined();
  expect(problems).toEqual([]);
});

it('draws the identity graph of a merged profile: every identifier and the merged profile', async () => {
  const profile = (await client.call('GET', '/v1/profiles/user_id:bob-1', rt.keys.read)).body;
  expect(profile.mergedFrom).toHaveLength(1);
  const { page, problems } = await open('/console/profiles/anonymous_id:anon-bob-1');
  await signIn(page, rt.keys.admin);
  const graph = page.locator('figure.graph');
  await graph.waitFor();
  for (const id of ['user_id:bob-1', 'anonymous_id:anon-bob-1'])
    await expect(graph.locator('g.identifier text', { hasText: id }).count()).resolves.toBe(1);
  await expect(graph.locator('g.merged title').textContent()).resolves.toBe(profile.mergedFrom[0]);
  await expect(graph.locator('figcaption').textContent()).resolves.toContain(`merged from ${profile.mergedFrom[0]}`);
  // Both visits are on the one timeline.
  await page.locator('.timeline li', { hasText: 'Product Viewed' }).waitFor();
  await page.locator('.timeline li', { hasText: 'identify' }).first().waitFor();
  expect(problems).toEqual([]);
  await page.context().close();
});

it('pages the timeline with the API cursor', async () => {
  const { page, problems } = await open('/console/profiles/user_id:many-1');
  await signIn(page, rt.keys.read);
  const items = page.locator('.timeline li');
  await items.first().waitFor();
  await expect(items.count()).resolves.toBe(25);
  await expect(items.first().textContent()).resolves.toContain('Step 29');
  await page.getByRole('button', { name: 'Older events' }).click();
  await items.nth(29).waitFor();
  await expect(items.count()).resolves.toBe(30);
  await expect(items.nth(29).textContent()).resolves.toContain('Step 0');
  expect(await page.getByRole('button', { name: 'Older events' }).count()).toBe(0);
  expect(problems).toEqual([]);
  await page.context().close();
});

it('exports a profile as JSON and erases it only after the identifier is typed', async () => {
  const { page, problems } = await open('/console/profiles/email:cara@example.com');
  await signIn(page, rt.keys.admin);
  await page.locator('tr[data-trait="name"]').waitFor();
  const [file] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export (JSON)' }).click()]);
  const { readFileSync } = await import('node:fs');
  const exported = JSON.parse(readFileSync((await file.path())!, 'utf8'));
  expect(exported.profile.traits.name.value).toBe('Cara');
  await page.getByRole('button', { name: 'Erase…' }).click();
  const erase = page.getByRole('button', { name: 'Erase for good' });
  expect(await erase.isDisabled()).toBe(true);
  await page.getByLabel(/to erase this person/).fill('email:cara@exampl');
  expect(await erase.isDisabled()).toBe(true);
  await page.getByLabel(/to erase this person/).fill('email:cara@example.com');
  await erase.click();
  await expect(page.getByRole('status').textContent()).resolves.toContain('Erased');
  expect((await client.get('/v1/profiles/email:cara@example.com')).status).toBe(404);
  expect(problems).toEqual([]);
  await page.context().close();
});

it('rotates a key: the new key is shown once and works', async () => {
  const created = await client.call('POST', '/v1/sources', rt.keys.admin, { name: 'console-pos', party: 'first' });
  expect(created.status).toBe(201);
  const { page, problems } = await open('/console/sources');
  await signIn(page, rt.keys.admin);
  const row = page.locator('tr[data-source="console-pos"]');
  await row.getByRole('button', { name: 'Rotate key' }).click();
  const shown = (await page.locator('[data-new-key]').textContent())!.trim();
  expect(shown).toMatch(/\S{20,}/);
  expect(shown).not.toBe(created.body.writeKey);
  await row.locator('li[data-status="active"]').nth(1).waitFor();
  await expect(row.locator('li[data-status="active"]').count()).resolves.toBe(2);
  const sent = await client.post('/v1/track', { userId: 'pos-1', event: 'Store Visit' }, shown);
  expect(sent.status).toBe(200);
  expect(problems).toEqual([]);
  await page.context().close();
});

it('creates a source and revokes its key', async () => {
  const { page, problems } = await open('/console/sources');
  await signIn(page, rt.keys.admin);
  await page.getByLabel('Name').fill('console-crm');
  await page.getByLabel('Party').selectOption('second');
  await page.getByLabel('Trust').selectOption('trusted');
  await page.getByRole('button', { name: 'Create source' }).click();
  const key = (await page.locator('[data-new-key]').textContent())!.trim();
  const row = page.locator('tr[data-source="console-crm"]');
  await expect(row.textContent()).resolves.toContain('trusted');
  await row.getByRole('button', { name: 'Revoke' }).click();
  await row.locator('li[data-status="revoked"]').waitFor();
  const listed = await client.call('GET', '/v1/sources', rt.keys.admin);
  const crm = listed.body.sources.find((s: any) => s.source.name === 'console-crm');
  expect(crm.source).toMatchObject({ party: 'second', trust: 'trusted' });
  expect(crm.keys.map((k: any) => k.status)).toEqual(['revoked']);
  expect(key.length).toBeGreaterThan(10);
  expect(problems).toEqual([]);
  await page.context().close();
});

it('lists the rules and dry-runs one against a profile, with the per-condition trace as a table', async () => {
  const { page, problems } = await open('/console/rules');
  await signIn(page, rt.keys.admin);
  const row = page.locator('tr[data-rule="high-value-order"]');
  await expect(row.textContent()).resolves.toContain('enabled');
  await row.getByRole('link', { name: 'high-value-order' }).click();
  await expect(page.locator('pre.json').textContent()).resolves.toContain('"id": "high-value-order"');
  await page.getByLabel('Profile').fill('email:ada@example.com');
  await page.getByRole('button', { name: 'Dry run' }).click();
  await expect(page.locator('[data-would-fire]').getAttribute('data-would-fire')).resolves.toBe('true');
  const traceRows = page.locator('table.trace tbody tr');
  expect(await traceRows.count()).toBeGreaterThan(0);
  await expect(page.locator('table.trace').textContent()).resolves.toContain('150');
  // Readable: what was compared, with which value, and the outcome.
  const check = page.locator('.trace-tree .trace-node[data-result="true"]', { hasText: 'event.properties.revenue' });
  await expect(check.locator('.check').textContent()).resolves.toBe('event.properties.revenue was 150; is greater than 100?');
  await expect(check.locator('.outcome').textContent()).resolves.toBe('✓ true');
  // The fires of the last 14 days (Ada's order fired it).
  await page.locator('figure[data-chart="Fires per day, last 14 days"] canvas').waitFor();
  await expect(page.locator('figure[data-chart="Fires per day, last 14 days"] table.chart-numbers tbody tr').count()).resolves.toBe(14);
  const fired = (await client.call('GET', '/v1/stats', rt.keys.read)).body.totals.actions['high-value-order'];
  await expect(page.locator('p.hint', { hasText: 'actions fired in the last 14 days' }).textContent()).resolves.toContain(
    `${fired} actions`,
  );
  // Backtest over the last 7 days: the order of 150 fires it for Ada.
  await page.getByRole('button', { name: 'Backtest' }).click();
  await expect(page.locator('[data-backtest] [data-firings]').textContent()).resolves.toMatch(/^[1-9]/);
  await expect(page.locator('[data-backtest] [data-matched]').textContent()).resolves.toMatch(/^[1-9]/);
  expect(problems).toEqual([]);
  await page.context().close();
});

it("enables and disables a rule (a round trip through the API), and edits it with the API's issues at the field", async () => {
  const rule = {
    id: 'console-toggle',
    name: 'Console toggle',
    enabled: true,
    trigger: { types: ['track'], events: ['Toggle Me'] },
    actions: [{ type: 'emit', action: 'toggled' }],
  };
  expect((await client.call('PUT', '/v1/rules/console-toggle', rt.keys.admin, rule)).status).toBe(200);
  const { page, problems } = await open('/console/rules');
  await signIn(page, rt.keys.admin);
  const row = page.locator('tr[data-rule="console-toggle"]');
  await row.getByRole('button', { name: 'Disable console-toggle' }).click();
  await row.locator('td[data-enabled="false"]').waitFor();
  expect((await client.call('GET', '/v1/rules/console-toggle', rt.keys.admin)).body.enabled).toBe(false);
  await row.getByRole('button', { name: 'Enable console-toggle' }).click();
  await row.locator('td[data-enabled="true"]').waitFor();
  expect((await client.call('GET', '/v1/rules/console-toggle', rt.keys.admin)).body).toMatchObject({ ...rule, enabled: true });
  // On its page: disable, edit with a bad action type (the issue under the editor), then a good edit.
  await row.getByRole('link', { name: 'console-toggle' }).click();
  await page.getByRole('button', { name: 'Disable console-toggle' }).click();
  await page.locator('p[data-enabled="false"]').waitFor();
  await expect(page.getByRole('status').first().textContent()).resolves.toContain('Disabled');
  expect((await client.call('GET', '/v1/rules/console-toggle', rt.keys.admin)).body.enabled).toBe(false);
  await page.getByRole('button', { name: 'Edit definition' }).click();
  const json = page.getByLabel('Definition (JSON)');
  const { id: _id, name: _name, ...rest } = rule;
  await json.fill(JSON.stringify({ ...rest, actions: [] }));
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('#rule-editor-json-issues li').first().getAttribute('data-issue-path')).resolves.toBe('actions');
  await json.fill(JSON.stringify({ ...rest, enabled: true, trigger: { types: ['track'], events: ['Toggle Me', 'Toggle You'] } }));
  await page.getByRole('button', { name: 'Save' }).click();
  await page.locator('p[data-enabled="true"]').waitFor();
  expect((await client.call('GET', '/v1/rules/console-toggle', rt.keys.admin)).body.trigger.events).toEqual(['Toggle Me', 'Toggle You']);
  expect(problems).toEqual([]);
  await page.context().close();
});

it('shows rejected events with their reasons on the health page', async () => {
  const { page, problems } = await open('/console/health');
  await signIn(page, rt.keys.admin);
  await expect(page.locator('li[data-rejected]').first().textContent()).resolves.toContain('event');
  await expect(page.locator('section').textContent()).resolves.toContain('No dead letters.');
  // Queue depths (GET /v1/health): the ingest queue, drained, and no failures to show.
  const health = (await client.call('GET', '/v1/health', rt.keys.admin)).body;
  expect(health.queues.map((q: { name: string }) => q.name)).toEqual(['ingest', 'evaluate-stream-failures']);
  await expect(page.locator('tr[data-queue="ingest"] td[data-dead-letters]').textContent()).resolves.toBe('0');
  await expect(page.locator('tr[data-queue="evaluate-stream-failures"]').count()).resolves.toBe(1);
  await page.locator('[data-recent-errors="none"]').waitFor();
  expect(problems).toEqual([]);
  await page.context().close();
});

it('lists a dead letter on the health page, counts it on the ingest queue, and redrives it', async () => {
  expect((await client.call('GET', '/v1/health', rt.keys.read)).status).toBe(401);
  const at = new Date().toISOString();
  const body = {
    type: 'track',
    userId: 'health-1',
    event: 'Redriven Order',
    messageId: 'health-dl-1',
    timestamp: at,
    receivedAt: at,
    sourceId: 'default',
  };
  await rt.deadLetters.put({ queueMessageId: 'q-health-1', body: JSON.stringify(body), reason: 'handler threw: test', receiveCount: 5 });
  const { page, problems } = await open('/console/health');
  await signIn(page, rt.keys.admin);
  const letter = page.locator('tr[data-dead-letter="q-health-1"]');
  await expect(letter.textContent()).resolves.toContain('handler threw: test');
  await expect(page.locator('tr[data-queue="ingest"] td[data-dead-letters]').textContent()).resolves.toBe('1');
  await letter.getByRole('button', { name: 'Redrive' }).click();
  await expect(page.getByRole('status').textContent()).resolves.toBe('Redriven: 1');
  await page.locator('tr[data-dead-letter="q-health-1"]').waitFor({ state: 'detached' });
  await settle(rt);
  const events = (await client.call('GET', '/v1/profiles/user_id:health-1/events', rt.keys.read)).body.events;
  expect(events).toHaveLength(1);
  expect(JSON.stringify(events[0])).toContain('Redriven Order');
  await page.getByRole('button', { name: 'Refresh' }).click();
  await expect(page.locator('tr[data-queue="ingest"] td[data-dead-letters]').textContent()).resolves.toBe('0');
  expect(problems).toEqual([]);
  await page.context().close();
});

it('opens on the overview: the counts of the events sent, per hour and per day (charts), actions per rule, top names, rejected', async () => {
  await client.send(...Array.from({ length: 3 }, () => ({ type: 'track', userId: 'overview-1', event: 'Overview Ping' })));
  expect((await client.post('/v1/track', { userId: 'overview-1' })).status).toBe(400);
  await settle(rt);
  const stats = (await client.call('GET', '/v1/stats', rt.keys.read)).body;
  // What the test sent is counted: the 3 pings, the rejected events (2 so far), the rule that fired on Ada's order.
  expect(stats.topEvents).toContainEqual({ event: 'Overview Ping', count: 3 });
  expect(stats.totals.rejected).toBeGreaterThanOrEqual(2);
  expect(stats.totals.actions['high-value-order']).toBeGreaterThanOrEqual(1);
  // Profiles created: at least Ada, Cara, Bob and overview-1 (the file's other tests add more).
  expect(stats.totals.profiles).toBeGreaterThanOrEqual(4);
  const { page, problems } = await open();
  const csp: string[] = [];
  page.on('console', (m) => /Content Security Policy/i.test(m.text()) && csp.push(m.text()));
  await signIn(page, rt.keys.read);
  await expect(page.locator('h1').textContent()).resolves.toBe('Overview');
  await expect(page.locator('tr[data-event="Overview Ping"] td').nth(1).textContent()).resolves.toBe('3');
  await expect(page.locator('[data-figure="events"] .figure-value').textContent()).resolves.toBe(
    stats.totals.events.toLocaleString('en-US'),
  );
  await expect(page.locator('[data-figure="rejected"] .figure-value').textContent()).resolves.toBe(String(stats.totals.rejected));
  await expect(page.locator('[data-figure="profiles"] .figure-value').textContent()).resolves.toBe(
    stats.totals.profiles.toLocaleString('en-US'),
  );
  await expect(page.locator('tr[data-rule="high-value-order"] td').nth(1).textContent()).resolves.toBe(
    String(stats.totals.actions['high-value-order']),
  );
  // Two uPlot charts drawn on canvases, with their numbers as text.
  await expect(page.locator('figure.chart canvas').count()).resolves.toBe(2);
  const hourly = page.locator('figure[data-chart="Events per hour, last 48 hours"]');
  await expect(hourly.locator('table.chart-numbers tbody tr').count()).resolves.toBe(48);
  const thisHour = stats.hours.at(-1);
  await expect(hourly.locator('table.chart-numbers tbody tr').last().locator('td').nth(1).textContent()).resolves.toBe(
    String(thisHour.events),
  );
  await expect(page.locator('figure[data-chart="Events per day, last 30 days"] table.chart-numbers tbody tr').count()).resolves.toBe(
    stats.days.length,
  );
  await page.goto(`${rt.url}/console/overview`);
  await page.locator('tr[data-event="Overview Ping"]').waitFor();
  expect(csp).toEqual([]);
  expect(problems).toEqual([]);
  await page.context().close();
});

it('shows a newly sent event and a rejected one in the live view within 2 s, with the reason, the field and the JSON', async () => {
  const { page, problems } = await open('/console/events');
  await signIn(page, rt.keys.admin);
  await page.locator('[data-session="open"]').waitFor();
  const name = `Live Checkout ${Date.now()}`;
  expect((await client.post('/v1/track', { userId: 'live-1', event: name, properties: { step: 2 } })).status).toBe(200);
  expect((await client.post('/v1/track', { userId: 'live-1', event: `${name} bad`, properties: 'not an object' })).status).toBe(400);
  const accepted = page.locator('li[data-status="accepted"]', { hasText: name });
  const rejected = page.locator('li[data-status="rejected"]', { hasText: `${name} bad` });
  await accepted.waitFor({ timeout: 2000 });
  await rejected.waitFor({ timeout: 2000 });
  await expect(rejected.locator('code.field').textContent()).resolves.toBe('properties');
  await expect(rejected.locator('.reason').textContent()).resolves.toMatch(/properties: \S/);
  // Click for the JSON (as text).
  await accepted.locator('summary').click();
  await expect(accepted.locator('pre.json').textContent()).resolves.toContain('"step": 2');
  // Filters: by status, by name, by type; the same entry once (entries are kept by id).
  await page.getByLabel('Status').selectOption('rejected');
  expect(await accepted.count()).toBe(0);
  await expect(rejected.count()).resolves.toBe(1);
  await page.getByLabel('Status').selectOption('');
  await page.getByLabel('Event name').fill(name);
  await expect(page.locator('li[data-entry]').count()).resolves.toBe(2);
  await page.getByLabel('Type').selectOption('identify');
  await expect(page.locator('li[data-entry]').count()).resolves.toBe(0);
  await page.getByLabel('Type').selectOption('track');
  await expect(accepted.count()).resolves.toBe(1);
  // Paused: nothing new arrives; resumed: it does.
  await page.getByRole('button', { name: 'Pause' }).click();
  await page.getByLabel('Event name').fill('');
  await page.getByLabel('Type').selectOption('');
  const later = `Live Later ${Date.now()}`;
  expect((await client.post('/v1/track', { userId: 'live-1', event: later })).status).toBe(200);
  await page.waitForTimeout(1500);
  expect(await page.locator('li[data-entry]', { hasText: later }).count()).toBe(0);
  await page.getByRole('button', { name: 'Resume' }).click();
  await page.locator('li[data-entry]', { hasText: later }).waitFor({ timeout: 2000 });
  // Hostile event names are text.
  expect((await client.post('/v1/track', { userId: 'live-1', event: XSS })).status).toBe(200);
  const hostile = page.locator('li[data-entry] .event-name', { hasText: XSS });
  await hostile.waitFor({ timeout: 2000 });
  await expect(hostile.textContent()).resolves.toBe(XSS);
  expect(await page.locator('section.live img').count()).toBe(0);
  expect(problems).toEqual([]);
  await page.context().close();
});

it("creates an audience in the UI and lists it; a bad definition shows the API's issue at the field", async () => {
  const { page, problems } = await open('/console/audiences');
  await signIn(page, rt.keys.admin);
  await page.locator('tr[data-audience="high-value"]').waitFor();
  const hasMembership = (await client.call('GET', '/v1/audiences', rt.keys.admin)).status !== 404;
  if (!hasMembership) await page.locator('[data-membership="not-available"]').waitFor();
  await page.getByRole('button', { name: 'New audience' }).click();
  await page.getByLabel('Id').fill('console-vip');
  await page.getByLabel('Name').fill('Console VIPs');
  // A bad operator: the 400 names the path, shown under the editor.
  const json = page.getByLabel(/^Definition \(JSON/);
  await json.fill(JSON.stringify({ condition: { path: 'profile.traits.plan', op: 'equals', value: 'pro' } }));
  await page.getByRole('button', { name: 'Create audience' }).click();
  const issue = page.locator('#audience-editor-json-issues li').first();
  await expect(issue.getAttribute('data-issue-path')).resolves.toMatch(/^condition/);
  await expect(issue.textContent()).resolves.toMatch(/condition/);
  expect((await client.call('GET', '/v1/rules/console-vip', rt.keys.admin)).status).toBe(404);
  // An empty name: shown at the name field.
  await page.getByLabel('Name').fill('');
  await json.fill(JSON.stringify({ condition: { path: 'profile.traits.plan', op: 'eq', value: 'pro' } }));
  await page.getByRole('button', { name: 'Create audience' }).click();
  await expect(page.locator('#audience-editor-name-issues li').first().getAttribute('data-issue-path')).resolves.toBe('name');
  expect(await page.getByLabel('Name').getAttribute('aria-invalid')).toBe('true');
  // Not JSON at all: said under the editor, nothing sent.
  await json.fill('{ condition: ');
  await page.getByRole('button', { name: 'Create audience' }).click();
  await expect(page.locator('#audience-editor-json-issues').textContent()).resolves.toContain('not valid JSON');
  // A good one: stored, its page opens, and it is listed.
  await page.getByLabel('Name').fill('Console VIPs');
  await json.fill(JSON.stringify({ enabled: true, condition: { path: 'profile.traits.plan', op: 'eq', value: 'pro' } }));
  await page.getByRole('button', { name: 'Create audience' }).click();
  await page.waitForURL(`${rt.url}/console/audiences/console-vip`);
  await expect(page.locator('pre.json').textContent()).resolves.toContain('"op": "eq"');
  const stored = (await client.call('GET', '/v1/rules/console-vip', rt.keys.admin)).body;
  expect(stored).toMatchObject({ kind: 'audience', id: 'console-vip', name: 'Console VIPs' });
  if (!hasMembership) await page.locator('[data-membership="not-available"]').waitFor();
  else await page.locator('[data-membership="available"]').waitFor();
  // Edit it: a field error at the field, then saved.
  await page.getByRole('button', { name: 'Edit definition' }).click();
  await page.getByLabel(/^Definition \(JSON/).fill(JSON.stringify({ condition: { path: 'traits.plan', op: 'eq', value: 'pro' } }));
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('#audience-editor-json-issues li').first().textContent()).resolves.toContain('condition');
  await page.getByLabel(/^Definition \(JSON/).fill(JSON.stringify({ condition: { path: 'profile.traits.plan', op: 'eq', value: 'team' } }));
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('status').textContent()).resolves.toContain('Saved');
  expect((await client.call('GET', '/v1/rules/console-vip', rt.keys.admin)).body.condition.value).toBe('team');
  await page.getByRole('link', { name: '← Audiences' }).click();
  await expect(page.locator('tr[data-audience="console-vip"]').textContent()).resolves.toContain('Console VIPs');
  // Creating one with a taken id is refused at the id field.
  await page.getByRole('button', { name: 'New audience' }).click();
  await page.getByLabel('Id').fill('console-vip');
  await page.getByLabel('Name').fill('Again');
  await page.getByRole('button', { name: 'Create audience' }).click();
  await expect(page.locator('#audience-editor-id-issues').textContent()).resolves.toContain('exists already');
  expect(problems).toEqual([]);
  await page.context().close();
});

it('with the read key shows no write controls (and the API refuses them anyway)', async () => {
  const { page, problems } = await open();
  await signIn(page, rt.keys.read);
  await expect(page.locator('.role').textContent()).resolves.toBe('read key (read-only)');
  await findProfile(page, 'user_id:ada-1');
  await expect(page.locator('tr[data-trait="name"] td.value').textContent()).resolves.toBe('Ada');
  for (const path of [
    '/console/profiles/user_id:ada-1',
    '/console/sources',
    '/console/rules',
    '/console/rules/high-value-order',
    '/console/health',
    '/console/overview',
    '/console/events',
    '/console/audiences',
    '/console/audiences/high-value',
  ]) {
    await page.goto(`${rt.url}${path}`);
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await page
      .locator(path.includes('/profiles/') ? 'article.profile' : 'main section')
      .first()
      .waitFor();
    expect(await page.locator('[data-write]').count()).toBe(0);
    expect(
      await page.getByRole('button', { name: /erase|rotate|revoke|redrive|create|new|edit|save|enable|disable|backtest/i }).count(),
    ).toBe(0);
    expect(await page.locator('form.editor, textarea').count()).toBe(0);
  }
  // The pages that work with the read key show their data: the overview's counters, the live view's session.
  await page.goto(`${rt.url}/console/overview`);
  await page.locator('[data-figure="events"]').waitFor();
  await page.goto(`${rt.url}/console/events`);
  await page.locator('[data-session="open"]').waitFor();
  expect((await client.call('GET', '/v1/sources', rt.keys.read)).status).toBe(401);
  expect(problems).toEqual([]);
  await page.context().close();
});

it('refuses a key that is neither the admin nor the read key', async () => {
  const { page } = await open();
  await page.getByLabel('Admin key or read key').fill(rt.keys.write);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert').textContent()).resolves.toContain('neither the admin key nor the read key');
  expect(await page.evaluate(() => (globalThis as any).sessionStorage.getItem('scherp.console.key'))).toBeNull();
  await page.context().close();
});
