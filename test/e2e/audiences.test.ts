/**
 * Audiences you can use, end to end through the runtime: definitions through the rules API,
 * events over HTTP, membership kept by evaluate; exact counts, members and exports through
 * `/v1/audiences…` with the read key; erasure takes the person out of every audience.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Runtime } from '../../local/runtime';
import { startTestRuntime } from '../helpers/runtime';
import { eventually } from '../helpers/dynamo';
import { apiClient } from '../helpers/http';
import { expectStorageInvariants, settle } from '../helpers/check';
import { jobsCommand } from '../../local/jobs-command';

let rt: Runtime;
const api = apiClient(() => rt);
const run = randomBytes(4).toString('hex');
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

beforeAll(async () => {
  rt = await startTestRuntime('audiences-e2e', { streamPollMs: 25 });
}, 60_000);
afterAll(async () => {
  await rt?.stop();
});

const opened = `opened-${run}`;
const vip = `vip-${run}`;

test('exact counts, members and exports follow membership; erasure empties them', async () => {
  const admin = rt.keys.admin;
  for (const [id, condition] of [
    [opened, { history: { event: 'App Opened', within: '1h', atLeast: 1 } }],
    [vip, { path: 'profile.traits.plan', op: 'eq', value: 'vip' }],
  ] as const) {
    const put = await api.call('PUT', `/v1/rules/${id}`, admin, { kind: 'audience', name: `Audience ${id}`, condition });
    expect(put.status).toBe(200);
  }
  await new Promise((r) => setTimeout(r, 1100)); // the local rule cache (1 s)
  const ada = `ada-${run}`;
  const bob = `bob-${run}`;
  await api.send(
    { type: 'identify', userId: ada, traits: { email: ' Ada@Example.COM ', phone: '+31 6 12345678', plan: 'vip' } },
    { type: 'track', userId: ada, event: 'App Opened' },
  );
  await api.send({ type: 'identify', userId: bob, traits: { plan: 'vip' } });
  await settle(rt);
  await api.send({ type: 'identify', userId: bob, traits: { plan: 'basic' } });
  await settle(rt);

  // The first App Opened takes Ada in (membership is the state after the event).
  const one = await eventually(async () => {
    const r = await api.call('GET', `/v1/audiences/${opened}`, rt.keys.read);
    return r.body.count === 1 ? r : undefined;
  });
  expect(one.body).toEqual({ id: opened, name: `Audience ${opened}`, count: 1, entered24h: 1, exited24h: 0 });
  const v = await api.call('GET', `/v1/audiences/${vip}`, admin);
  expect(v.body).toEqual({ id: vip, name: `Audience ${vip}`, count: 1, entered24h: 2, exited24h: 1 });

  const list = await api.call('GET', '/v1/audiences', rt.keys.read);
  expect(list.status).toBe(200);
  expect(list.body.audiences.map((a: { id: string }) => a.id)).toEqual(expect.arrayContaining([opened, vip, 'high-value']));

  const adaProfile = (await api.call('GET', `/v1/profiles/user_id:${ada}`, rt.keys.read)).body;
  const members = await api.call('GET', `/v1/audiences/${vip}/members?limit=1`, rt.keys.read);
  expect(members.status).toBe(200);
  expect(members.body.members).toEqual([{ profileId: adaProfile.id, enteredAt: expect.any(String) }]);
  if (members.body.cursor) {
    const next = await api.call('GET', `/v1/audiences/${vip}/members?limit=1&cursor=${members.body.cursor}`, rt.keys.read);
    expect(next.body.members).toEqual([]);
  }

  const csv = await api.get(`/v1/audiences/${opened}/export?format=csv`);
  expect(csv.status).toBe(200);
  expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
  expect((await csv.text()).trim().split('\n')).toEqual([
    'profile_id,user_id,email_sha256,phone_sha256,phone_digits_sha256',
    `${adaProfile.id},${ada},${sha('ada@example.com')},${sha('+31612345678')},${sha('31612345678')}`,
  ]);
  const nd = await api.get(`/v1/audiences/${opened}/export`);
  expect(nd.headers.get('content-type')).toBe('application/x-ndjson');
  expect(JSON.parse((await nd.text()).trim())).toEqual({
    profileId: adaProfile.id,
    userId: ada,
    emailSha256: sha('ada@example.com'),
    phoneSha256: sha('+31612345678'),
    phoneDigitsSha256: sha('31612345678'),
  });

  // Bad input names the field; unknown audiences are 404; the write key is refused.
  const bad = await api.call('GET', `/v1/audiences/${vip}/members?limit=0`, rt.keys.read);
  expect(bad.status).toBe(400);
  expect(JSON.stringify(bad.body)).toContain('limit');
  const badFormat = await api.call('GET', `/v1/audiences/${vip}/export?format=xml`, rt.keys.read);
  expect(badFormat.status).toBe(400);
  expect(JSON.stringify(badFormat.body)).toMatch(/format.*csv.*ndjson/);
  const badCursor = await api.call('GET', `/v1/audiences/${vip}/members?cursor=nope`, rt.keys.read);
  expect(badCursor.status).toBe(400);
  expect(JSON.stringify(badCursor.body)).toContain('cursor');
  expect((await api.call('GET', `/v1/audiences/none-${run}`, rt.keys.read)).status).toBe(404);
  // A window longer than the event retention (400 days) could never be evaluated: refused at PUT, naming its path.
  const tooLong = await api.call('PUT', `/v1/rules/long-${run}`, admin, {
    kind: 'audience',
    name: 'Long',
    condition: { all: [{ path: 'profile.traits.plan', op: 'exists' }, { history: { event: 'App Opened', within: '500d', atLeast: 1 } }] },
  });
  expect(tooLong.status).toBe(400);
  expect(tooLong.body.issues).toEqual([{ path: 'condition.all[1].history.within', message: expect.stringContaining('400d') }]);
  expect((await api.call('GET', `/v1/audiences/${vip}`, rt.keys.write)).status).toBe(401);

  // Erasure: Ada leaves every audience; nothing of her is left in members, counts or exports.
  expect((await api.del(`/v1/profiles/user_id:${ada}`)).status).toBe(200);
  expect((await api.call('GET', `/v1/audiences/${opened}`, rt.keys.read)).body).toMatchObject({ count: 0, exited24h: 1 });
  expect((await api.call('GET', `/v1/audiences/${vip}`, rt.keys.read)).body).toMatchObject({ count: 0 });
  expect((await api.call('GET', `/v1/audiences/${vip}/members`, rt.keys.read)).body.members).toEqual([]);
  expect(await (await api.get(`/v1/audiences/${opened}/export?format=ndjson`)).text()).toBe('');
  await settle(rt);
  await expectStorageInvariants(rt.dynamoEndpoint, rt.tableName, { erased: [`user_id:${ada}`, 'email:ada@example.com'] });
}, 60_000);

test('a new audience over existing data has exactly the qualifying members, with no new events (backfill job)', async () => {
  const admin = rt.keys.admin;
  const people = Array.from({ length: 12 }, (_, i) => ({ userId: `bf-${run}-${i}`, plan: i % 3 === 0 ? 'gold' : 'basic' }));
  await api.send(...people.map((p) => ({ type: 'identify', userId: p.userId, traits: { plan: p.plan } })));
  await settle(rt);
  const gold = people.filter((p) => p.plan === 'gold');
  const id = `gold-${run}`;
  const put = await api.request('PUT', `/v1/rules/${id}`, admin, {
    kind: 'audience',
    name: 'Gold',
    condition: { path: 'profile.traits.plan', op: 'eq', value: 'gold' },
  });
  expect(put.status).toBe(200);
  const jobId = put.headers.get('scherp-job-id');
  expect(jobId).toMatch(/^job_/);
  const done = await eventually(async () => {
    const r = await api.call('GET', `/v1/jobs/${jobId}`, rt.keys.read);
    return r.body.status === 'succeeded' ? r.body : undefined;
  }, 30_000);
  expect(done.progress).toMatchObject({ done: done.progress.total, entered: gold.length, exited: 0 });
  expect(done.progress.profilesScanned).toBeGreaterThanOrEqual(people.length);

  const summary = await api.call('GET', `/v1/audiences/${id}`, rt.keys.read);
  expect(summary.body).toMatchObject({ count: gold.length, entered24h: gold.length });
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await api.call('GET', `/v1/audiences/${id}/members?limit=2${cursor ? `&cursor=${cursor}` : ''}`, rt.keys.read);
    ids.push(...page.body.members.map((m: { profileId: string }) => m.profileId));
    cursor = page.body.cursor;
  } while (cursor);
  const expected = await Promise.all(
    gold.map(async (p) => (await api.call('GET', `/v1/profiles/user_id:${p.userId}`, rt.keys.read)).body.id),
  );
  expect(ids.sort()).toEqual(expected.sort());
  // On the bus, flagged as a backfill, once per member.
  const entered = rt.bus.delivered.filter((e) => e['detail-type'] === 'Audience Entered' && e.detail.audienceId === id);
  expect(entered).toHaveLength(gold.length);
  for (const e of entered) expect(e.detail).toMatchObject({ backfill: true, audienceName: 'Gold' });

  // Storing it again re-runs the backfill: it changes nothing (idempotent); announce=false keeps changes off the bus.
  const again = await api.request('PUT', `/v1/rules/${id}?announce=false`, admin, {
    kind: 'audience',
    name: 'Gold',
    condition: { path: 'profile.traits.plan', op: 'eq', value: 'gold' },
  });
  const second = await eventually(async () => {
    const r = await api.call('GET', `/v1/jobs/${again.headers.get('scherp-job-id')}`, admin);
    return r.body.status === 'succeeded' ? r.body : undefined;
  }, 30_000);
  expect(second).toMatchObject({ announce: false, progress: { entered: 0, exited: 0 } });
  expect((await api.call('GET', `/v1/audiences/${id}`, rt.keys.read)).body.count).toBe(gold.length);
  const list = await api.call('GET', '/v1/jobs', rt.keys.read);
  expect(list.body.jobs.map((j: { id: string }) => j.id)).toEqual(expect.arrayContaining([jobId, second.id]));
  // The CLI's `scherp jobs list|show`: a line per job with its progress bar.
  let printed = '';
  const ctx = { url: rt.url, adminKey: admin, watch: false, out: (t: string) => void (printed += t) };
  await jobsCommand(ctx, ['show', jobId!]);
  expect(printed).toMatch(new RegExp(`^${jobId}  ${id}  succeeded .*\\[#{20}\\] 100%  8/8 segments  \\d+ profiles`));
  printed = '';
  await jobsCommand(ctx, ['list']);
  expect(printed).toContain(second.id);
  await expect(jobsCommand(ctx, ['show'])).rejects.toThrow(/scherp jobs list/);
}, 90_000);
