/**
 * Time-based exits end to end: an audience `App Opened within 30s atLeast 1` takes a person in
 * on their App Opened and lets them go once that event is 30 s old, without a new event, with
 * `Audience Exited` on the bus (the sweep interval is shortened so the test runs in seconds: the
 * event is sent with a timestamp 26 s in the past).
 */
import { randomBytes } from 'node:crypto';
import type { Runtime } from '../../local/runtime';
import type { LocalBusEvent } from '../../local/bus';
import { startTestRuntime } from '../helpers/runtime';
import { eventually } from '../helpers/dynamo';
import { apiClient } from '../helpers/http';

let rt: Runtime;
const api = apiClient(() => rt);
const run = randomBytes(4).toString('hex');

beforeAll(async () => {
  rt = await startTestRuntime('audience-expiry', { streamPollMs: 25, sweepIntervalMs: 250 });
}, 60_000);
afterAll(async () => {
  await rt?.stop();
});

test('a within-30s audience loses a member 30 s after their last qualifying event, with Audience Exited', async () => {
  const id = `active-${run}`;
  const put = await api.call('PUT', `/v1/rules/${id}`, rt.keys.admin, {
    kind: 'audience',
    name: 'Active',
    condition: { history: { event: 'App Opened', within: '30s', atLeast: 1 } },
  });
  expect(put.status).toBe(200);
  await new Promise((r) => setTimeout(r, 1100)); // the local rule cache (1 s)
  const userId = `u-${run}`;
  const openedAt = new Date(Date.now() - 26_000).toISOString();
  await api.send({ type: 'track', userId, event: 'App Opened', timestamp: openedAt });
  const of = (type: string) => (e: LocalBusEvent) => e['detail-type'] === type && e.detail.audienceId === id;

  const entered = await eventually(() => rt.bus.delivered.find(of('Audience Entered')), 15_000);
  const exited = await eventually(() => rt.bus.delivered.find(of('Audience Exited')), 30_000);
  expect(exited.detail.profileId).toBe(entered.detail.profileId);
  // Not before the window ended: the event is 30 s old when the member leaves.
  expect(Date.parse(String(exited.detail.firedAt))).toBeGreaterThan(Date.parse(openedAt) + 30_000);
  expect(exited.detail.trigger).toMatchObject({ messageId: expect.stringMatching(/^expiry:/) });
  expect((await api.call('GET', `/v1/audiences/${id}`, rt.keys.read)).body).toMatchObject({ count: 0, entered24h: 1, exited24h: 1 });
}, 60_000);

test('a member with a newer qualifying event stays in past the first due time (re-filed, not exited)', async () => {
  const id = `recent-${run}`;
  await api.call('PUT', `/v1/rules/${id}`, rt.keys.admin, {
    kind: 'audience',
    name: 'Recent',
    condition: { history: { event: 'App Opened', within: '30s', atLeast: 1 } },
  });
  await new Promise((r) => setTimeout(r, 1100));
  const userId = `v-${run}`;
  await api.send({ type: 'track', userId, event: 'App Opened', timestamp: new Date(Date.now() - 28_000).toISOString() });
  await eventually(() => rt.bus.delivered.find((e) => e['detail-type'] === 'Audience Entered' && e.detail.audienceId === id), 15_000);
  await api.send({ type: 'track', userId, event: 'App Opened' });
  // The first due time passes; the newer event keeps them in.
  await new Promise((r) => setTimeout(r, 5_000));
  expect(rt.bus.delivered.filter((e) => e['detail-type'] === 'Audience Exited' && e.detail.audienceId === id)).toEqual([]);
  expect((await api.call('GET', `/v1/audiences/${id}`, rt.keys.read)).body).toMatchObject({ count: 1 });
}, 60_000);
