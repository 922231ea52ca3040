/**
 * The real analytics.js (`@segment/analytics-next`) in headless Chromium, on a page of another
 * origin, loaded with only the write key and `cdnURL` pointed at Scherp: it fetches its settings
 * from Scherp and sends there (fetch, keepalive on page exit, batching to `/v1/b`). The anonymous
 * history ends up in the logged-in person's profile and timeline.
 */
import { storedVisit, useSdkHarness, type SdkPage } from '../helpers/sdk-page';

const h = useSdkHarness(
  'ajs',
  { write: 'ajs-write', read: 'ajs-read', admin: 'ajs-admin' },
  "import { AnalyticsBrowser } from '@segment/analytics-next'; window.AnalyticsBrowser = AnalyticsBrowser;",
);

/** Loads analytics.js as a site would with Scherp: only the write key and `cdnURL`. */
async function load(p: SdkPage, segmentOptions?: Record<string, unknown>): Promise<string> {
  return p.page.evaluate(
    async ({ writeKey, api, segmentOptions }) => {
      const w = globalThis as any;
      const [analytics] = await w.AnalyticsBrowser.load(
        { writeKey, cdnURL: api },
        segmentOptions ? { integrations: { 'Segment.io': segmentOptions } } : {},
      );
      w.analytics = analytics;
      return analytics.user().anonymousId() as string;
    },
    { writeKey: h.rt.keys.write, api: h.rt.url, segmentOptions },
  );
}

/** Anonymous page and track, identify with traits, track after login. */
async function visit(p: SdkPage, userId: string): Promise<void> {
  await p.page.evaluate(async (userId) => {
    const a = (globalThis as any).analytics;
    await a.page('Shop', 'Home', { path: '/' });
    await a.track('Product Viewed', { sku: 'p-1' });
    await a.identify(userId, { email: `${userId}@Example.com`, name: 'Ada', plan: 'pro' });
    await a.track('Order Completed', { revenue: 30 });
  }, userId);
}

function expectVisitStored(profile: Record<string, any>, events: Record<string, any>[], userId: string, anonymousId: string) {
  expect(profile.identifiers).toEqual(
    expect.arrayContaining([`user_id:${userId}`, `anonymous_id:${anonymousId}`, `email:${userId}@example.com`]),
  );
  expect(profile.traits).toMatchObject({ name: { value: 'Ada' }, plan: { value: 'pro' }, email: { value: `${userId}@Example.com` } });
  const byName = new Map(events.map((e) => [e.event ?? e.name ?? e.type, e]));
  expect([...byName.keys()].sort()).toEqual(['Home', 'Order Completed', 'Product Viewed', 'identify']);
  // The anonymous events (sent with "userId": null) are in the logged-in person's timeline.
  for (const name of ['Home', 'Product Viewed']) {
    expect(byName.get(name)).toMatchObject({ anonymousId });
    expect(byName.get(name)!.userId).toBeUndefined();
  }
  expect(byName.get('Order Completed')).toMatchObject({ userId, anonymousId, properties: { revenue: 30 } });
}

describe('analytics.js with cdnURL pointed at Scherp', () => {
  it('fetches its settings from Scherp and sends page, track and identify with fetch', async () => {
    const p = await h.open();
    try {
      const anonymousId = await load(p);
      await visit(p, 'ajs-fetch');
      const { profile, events } = await storedVisit(h.rt, 'ajs-fetch', anonymousId, 4);
      expectVisitStored(profile, events, 'ajs-fetch', anonymousId);
      expect(p.api.find((r) => r.method === 'GET')).toMatchObject({ path: `/v1/projects/${h.rt.keys.write}/settings`, status: 200 });
      // The anonymous calls went out with "userId": null and were accepted.
      const posts = p.api.filter((r) => r.method === 'POST');
      expect(posts.map((r) => r.path).sort()).toEqual(['/v1/i', '/v1/p', '/v1/t', '/v1/t']);
      expect(posts.every((r) => r.status === 200)).toBe(true);
      expect(posts.some((r) => JSON.parse(r.body!).userId === null)).toBe(true);
      expect(p.foreign).toEqual([]);
    } finally {
      await p.close();
    }
  });

  it('batches to /v1/b', async () => {
    const p = await h.open();
    try {
      const anonymousId = await load(p, { deliveryStrategy: { strategy: 'batching', config: { size: 4, timeout: 500 } } });
      await visit(p, 'ajs-batch');
      const { profile, events } = await storedVisit(h.rt, 'ajs-batch', anonymousId, 4);
      expectVisitStored(profile, events, 'ajs-batch', anonymousId);
      const posts = p.api.filter((r) => r.method === 'POST');
      expect(posts.length).toBeGreaterThan(0);
      expect(posts.every((r) => r.path === '/v1/b' && r.status === 200)).toBe(true);
      expect(posts.flatMap((r) => JSON.parse(r.body!).batch)).toHaveLength(4);
      expect(p.foreign).toEqual([]);
    } finally {
      await p.close();
    }
  });

  it('delivers a batch still waiting when the visitor leaves the page (keepalive, its beacon transport)', async () => {
    const p = await h.open();
    try {
      const anonymousId = await load(p, {
        deliveryStrategy: { strategy: 'batching', config: { size: 100, timeout: 60_000, keepalive: true } },
      });
      await visit(p, 'ajs-unload');
      await p.page.goto(`${h.site.url}/next.html`);
      const { profile, events } = await storedVisit(h.rt, 'ajs-unload', anonymousId, 4);
      expectVisitStored(profile, events, 'ajs-unload', anonymousId);
      expect(p.foreign).toEqual([]);
    } finally {
      await p.close();
    }
  });

  it('works with inline cdnSettings too (no settings request); the local runtime then needs protocol http', async () => {
    const p = await h.open();
    try {
      const anonymousId = await p.page.evaluate(
        async ({ writeKey, apiHost }) => {
          const w = globalThis as any;
          const [analytics] = await w.AnalyticsBrowser.load(
            { writeKey, cdnSettings: { integrations: { 'Segment.io': { apiKey: writeKey, apiHost } } } },
            { integrations: { 'Segment.io': { apiHost, protocol: 'http' } } },
          );
          w.analytics = analytics;
          return analytics.user().anonymousId() as string;
        },
        { writeKey: h.rt.keys.write, apiHost: `${new URL(h.rt.url).host}/v1` },
      );
      await visit(p, 'ajs-inline');
      const { profile, events } = await storedVisit(h.rt, 'ajs-inline', anonymousId, 4);
      expectVisitStored(profile, events, 'ajs-inline', anonymousId);
      expect(p.api.filter((r) => r.method === 'GET')).toEqual([]);
      expect(p.foreign).toEqual([]);
    } finally {
      await p.close();
    }
  });

  it('standard delivery with keepalive requests', async () => {
    const p = await h.open();
    try {
      const anonymousId = await load(p, { deliveryStrategy: { strategy: 'standard', config: { keepalive: true } } });
      await visit(p, 'ajs-keepalive');
      const { profile, events } = await storedVisit(h.rt, 'ajs-keepalive', anonymousId, 4);
      expectVisitStored(profile, events, 'ajs-keepalive', anonymousId);
      expect(p.foreign).toEqual([]);
    } finally {
      await p.close();
    }
  });
});
