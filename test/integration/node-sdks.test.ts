/**
 * The server SDKs besides analytics-node (test/integration/ingestion.test.ts), unchanged but
 * for the host: RudderStack's `@rudderstack/rudder-sdk-node` (`dataPlaneUrl`) and Customer.io's
 * `@customerio/cdp-analytics-node` (`host`), against the local runtime. Each identifies a user
 * with traits after anonymous events; the profile and timeline hold it all.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import RudderAnalytics from '@rudderstack/rudder-sdk-node';
import { Analytics as CustomerIoAnalytics } from '@customerio/cdp-analytics-node';
import type { Runtime } from '../../local/runtime';
import { startTestRuntime } from '../helpers/runtime';
import { storedVisit } from '../helpers/sdk-page';

let rt: Runtime;

beforeAll(async () => {
  rt = await startTestRuntime('nodesdk', {
    rulesDir: mkdtempSync(join(tmpdir(), 'scherp-norules-')),
    keys: { write: 'node-write', read: 'node-read', admin: 'node-admin' },
  });
}, 60_000);
afterAll(() => rt?.stop());

/** The profile and the sorted event names of its timeline, once `count` events are stored. */
async function stored(userId: string, anonymousId: string, count: number) {
  const { profile, events } = await storedVisit(rt, userId, anonymousId, count);
  return { profile, names: events.map((e) => e.event ?? e.name ?? e.type).sort() };
}

describe('the real @rudderstack/rudder-sdk-node SDK', () => {
  it('sends page, track and identify (traits in context.traits too) with dataPlaneUrl pointed at Scherp', async () => {
    const errors: unknown[] = [];
    const client = new RudderAnalytics(rt.keys.write, {
      dataPlaneUrl: rt.url,
      flushAt: 10,
      flushInterval: 100,
      retryCount: 0,
      errorHandler: (e) => errors.push(e),
    });
    client.page({ anonymousId: 'rsn-anon', name: 'Home', properties: { path: '/' } });
    client.track({ anonymousId: 'rsn-anon', event: 'Product Viewed', properties: { sku: 'p-1' } });
    client.identify({
      userId: 'rsn-user',
      anonymousId: 'rsn-anon',
      traits: { email: 'Rsn@Example.com', phone: '+31 6 22345678', name: 'Ada' },
    });
    client.track({ userId: 'rsn-user', anonymousId: 'rsn-anon', event: 'Order Completed', properties: { revenue: 5 } });
    await client.flush();
    expect(errors).toEqual([]);
    const { profile, names } = await stored('rsn-user', 'rsn-anon', 4);
    expect(profile.identifiers).toEqual(
      expect.arrayContaining(['user_id:rsn-user', 'anonymous_id:rsn-anon', 'email:rsn@example.com', 'phone:+31622345678']),
    );
    expect(profile.traits).toMatchObject({ name: { value: 'Ada' } });
    expect(names).toEqual(['Home', 'Order Completed', 'Product Viewed', 'identify']);
  });
});

describe('the real @customerio/cdp-analytics-node SDK', () => {
  it('sends page, track and identify with host pointed at Scherp', async () => {
    const analytics = new CustomerIoAnalytics({
      writeKey: rt.keys.write,
      host: rt.url,
      maxEventsInBatch: 10,
      flushInterval: 100,
      maxRetries: 1,
    });
    const errors: unknown[] = [];
    analytics.on('error', (e) => errors.push(e));
    analytics.page({ anonymousId: 'cio-anon', name: 'Home', properties: { path: '/' } });
    analytics.track({ anonymousId: 'cio-anon', event: 'Product Viewed', properties: { sku: 'p-1' } });
    analytics.identify({ userId: 'cio-user', anonymousId: 'cio-anon', traits: { email: 'Cio@Example.com', name: 'Grace' } });
    analytics.track({ userId: 'cio-user', anonymousId: 'cio-anon', event: 'Order Completed', properties: { revenue: 7 } });
    await analytics.closeAndFlush({ timeout: 10_000 });
    expect(errors).toEqual([]);
    const { profile, names } = await stored('cio-user', 'cio-anon', 4);
    expect(profile.identifiers).toEqual(expect.arrayContaining(['user_id:cio-user', 'anonymous_id:cio-anon', 'email:cio@example.com']));
    expect(profile.traits).toMatchObject({ name: { value: 'Grace' } });
    expect(names).toEqual(['Home', 'Order Completed', 'Product Viewed', 'identify']);
  });
});
