/**
 * The real RudderStack JavaScript SDK v3 (`@rudderstack/analytics-js`, its `bundled` build: the
 * plugins inside, nothing loaded from a CDN) in headless Chromium, on a page of another origin,
 * loaded with the write key, Scherp as data plane and `configUrl` pointed at Scherp: it fetches
 * its source configuration from Scherp and sends there (XHR per event, batching to `/v1/batch`,
 * the beacon transport to `/beacon/v1/batch`). Its traits travel in `context.traits`; the
 * anonymous history ends up in the logged-in person's profile and timeline.
 */
import { storedVisit, useSdkHarness, type SdkPage } from '../helpers/sdk-page';

const h = useSdkHarness(
  'rsjs',
  { write: 'rs-write', read: 'rs-read', admin: 'rs-admin' },
  "import { RudderAnalytics } from '@rudderstack/analytics-js/bundled'; window.RudderAnalytics = RudderAnalytics;",
);

/**
 * Loads the SDK as a site would with Scherp: `load(writeKey, <api>, { configUrl: <api> })`,
 * plus the options of the case; resolves with the anonymous id once it is ready.
 */
async function load(p: SdkPage, extra: Record<string, unknown> = {}): Promise<string> {
  return p.page.evaluate(
    ({ writeKey, api, extra }) =>
      new Promise<string>((resolve) => {
        const w = globalThis as any;
        const rudderanalytics = new w.RudderAnalytics();
        w.rudderanalytics = rudderanalytics;
        rudderanalytics.load(writeKey, api, { configUrl: api, ...extra });
        rudderanalytics.ready(() => resolve(rudderanalytics.getAnonymousId()));
      }),
    { writeKey: h.rt.keys.write, api: h.rt.url, extra },
  );
}

/** Anonymous page and track, identify with traits (email and phone), track after login. */
async function visit(p: SdkPage, userId: string, phone: string): Promise<void> {
  await p.page.evaluate(
    ({ userId, phone }) => {
      const r = (globalThis as any).rudderanalytics;
      r.page('Shop', 'Home', { path: '/' });
      r.track('Product Viewed', { sku: 'p-1' });
      r.identify(userId, { email: `${userId}@Example.com`, phone, name: 'Ada', plan: 'pro' });
      r.track('Order Completed', { revenue: 30 });
    },
    { userId, phone },
  );
}

function expectVisitStored(profile: Record<string, any>, events: Record<string, any>[], userId: string, anonymousId: string, e164: string) {
  expect(profile.identifiers).toEqual(
    expect.arrayContaining([`user_id:${userId}`, `anonymous_id:${anonymousId}`, `email:${userId}@example.com`, `phone:${e164}`]),
  );
  expect(profile.traits).toMatchObject({ name: { value: 'Ada' }, plan: { value: 'pro' }, email: { value: `${userId}@Example.com` } });
  const byName = new Map(events.map((e) => [e.event ?? e.name ?? e.type, e]));
  expect([...byName.keys()].sort()).toEqual(['Home', 'Order Completed', 'Product Viewed', 'identify']);
  // The anonymous events (sent with "userId": "") are in the logged-in person's timeline.
  for (const name of ['Home', 'Product Viewed']) {
    expect(byName.get(name)).toMatchObject({ anonymousId });
    expect(byName.get(name)!.userId).toBeUndefined();
  }
  expect(byName.get('identify')!.context.traits).toMatchObject({ name: 'Ada' });
  expect(byName.get('Order Completed')).toMatchObject({ userId, anonymousId, properties: { revenue: 30 } });
}

describe('RudderStack JS v3 with configUrl pointed at Scherp', () => {
  it('fetches its source configuration from Scherp and sends page, track and identify', async () => {
    const p = await h.open();
    try {
      const anonymousId = await load(p);
      await visit(p, 'rs-xhr', '+31 6 12345671');
      const { profile, events } = await storedVisit(h.rt, 'rs-xhr', anonymousId, 4);
      expectVisitStored(profile, events, 'rs-xhr', anonymousId, '+31612345671');
      const config = p.api.find((r) => r.method === 'GET');
      expect(config?.path).toMatch(new RegExp(`^/sourceConfig/\\?.*writeKey=${h.rt.keys.write}`));
      expect(config?.status).toBe(200);
      const posts = p.api.filter((r) => r.method === 'POST');
      expect(posts.map((r) => r.path).sort()).toEqual(['/v1/identify', '/v1/page', '/v1/track', '/v1/track']);
      expect(posts.every((r) => r.status === 200)).toBe(true);
      expect(posts.some((r) => JSON.parse(r.body!).userId === '')).toBe(true);
      expect(p.foreign).toEqual([]);
    } finally {
      await p.close();
    }
  });

  it('batches to /v1/batch', async () => {
    const p = await h.open();
    try {
      const anonymousId = await load(p, { queueOptions: { batch: { enabled: true, maxItems: 4, flushInterval: 500 } } });
      await visit(p, 'rs-batch', '+31 6 12345672');
      const { profile, events } = await storedVisit(h.rt, 'rs-batch', anonymousId, 4);
      expectVisitStored(profile, events, 'rs-batch', anonymousId, '+31612345672');
      const posts = p.api.filter((r) => r.method === 'POST');
      expect(posts.length).toBeGreaterThan(0);
      expect(posts.every((r) => r.path === '/v1/batch' && r.status === 200)).toBe(true);
      expect(posts.flatMap((r) => JSON.parse(r.body!).batch)).toHaveLength(4);
      expect(p.foreign).toEqual([]);
    } finally {
      await p.close();
    }
  });

  it('sends with the beacon transport (useBeacon) to /beacon/v1/batch, key in the query string', async () => {
    const p = await h.open();
    try {
      const anonymousId = await load(p, { useBeacon: true, beaconQueueOptions: { maxItems: 4, flushQueueInterval: 500 } });
      await visit(p, 'rs-beacon', '+31 6 12345673');
      const { profile, events } = await storedVisit(h.rt, 'rs-beacon', anonymousId, 4);
      expectVisitStored(profile, events, 'rs-beacon', anonymousId, '+31612345673');
      const posts = p.api.filter((r) => r.method === 'POST');
      expect(posts.length).toBeGreaterThan(0);
      expect(posts.every((r) => r.path === `/beacon/v1/batch?writeKey=${h.rt.keys.write}` && r.status === 200)).toBe(true);
      expect(p.foreign).toEqual([]);
    } finally {
      await p.close();
    }
  });
});
