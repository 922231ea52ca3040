/**
 * Semantics a user trips on, through the local runtime over HTTP: `alias` of two user ids
 * merges them; a source named `crm` fires the shipped complaint rule; duplicate source names are
 * a 409 and sources can be deleted; every validation error names the path and the allowed values.
 */
import { randomBytes } from 'node:crypto';
import type { Runtime } from '../../local/runtime';
import { OPERATORS } from '../../core/rules/schema';
import { eventually } from '../helpers/dynamo';
import { apiClient } from '../helpers/http';
import { startTestRuntime } from '../helpers/runtime';

let rt: Runtime;
const run = randomBytes(4).toString('hex');
const uid = (name: string) => `${name}-${run}`;

beforeAll(async () => {
  rt = await startTestRuntime('semantics', { streamPollMs: 25 });
}, 60_000);
afterAll(() => rt?.stop());

const api = apiClient(() => rt);
const admin = (method: string, path: string, body?: unknown) => api.call(method, path, rt.keys.admin, body);
const ops = `must be one of ${OPERATORS.join(', ')}`;

async function profileOf(key: string, check: (p: { id: string; identifiers: string[]; mergedFrom: string[] }) => boolean = () => true) {
  return eventually(async () => {
    const r = await api.get(`/v1/profiles/${encodeURIComponent(key)}`);
    if (r.status !== 200) return undefined;
    const p = (await r.json()) as { id: string; identifiers: string[]; mergedFrom: string[] };
    return check(p) ? p : undefined;
  });
}

describe('alias of two user ids', () => {
  it('merges their profiles and announces Profile Merged with via alias', async () => {
    const [old, now] = [uid('old'), uid('new')];
    await api.send({ type: 'identify', userId: old, anonymousId: uid('a1'), traits: { plan: 'free' } });
    await api.send({ type: 'identify', userId: now, anonymousId: uid('a2'), traits: { name: 'Ada' } });
    await profileOf(`user_id:${old}`);
    await profileOf(`user_id:${now}`);
    await api.send({ type: 'alias', userId: now, previousId: old });
    const p = await profileOf(`user_id:${old}`, (v) => v.identifiers.includes(`user_id:${now}`));
    expect(p.identifiers).toEqual([`anonymous_id:${uid('a1')}`, `anonymous_id:${uid('a2')}`, `user_id:${now}`, `user_id:${old}`]);
    expect((await profileOf(`user_id:${now}`)).id).toBe(p.id);
    const merged = await eventually(() =>
      rt.bus.delivered.find((e) => e['detail-type'] === 'Profile Merged' && e.detail.profileId === p.id),
    );
    expect(merged.detail).toMatchObject({ via: 'alias', mergedProfileIds: p.mergedFrom, identifierTypes: ['user_id'] });
  });
});

describe('sources', () => {
  it('a source named crm fires the shipped complaint-follow-up rule', async () => {
    const created = await admin('POST', '/v1/sources', { name: 'crm', party: 'second' });
    expect(created.status).toBe(201);
    expect(created.body.source.id).toMatch(/^src_/);
    const crmKey = created.body.writeKey as string;
    const user = uid('complainer');
    await api.send({ type: 'identify', userId: user, traits: { email: `${user}@example.com`, consent: { email: true } } });
    const p = await profileOf(`user_id:${user}`);
    await new Promise((r) => setTimeout(r, 300));
    // From the crm source, without context.source: the source's name is what matches.
    const res = await api.post(
      '/v1/track',
      { type: 'track', userId: user, event: 'Complaint Filed', properties: { case_id: 'c-1', subject: 'late' } },
      crmKey,
    );
    expect(res.status).toBe(200);
    const hit = await eventually(() =>
      rt.bus.delivered.find((e) => e['detail-type'] === 'Action Triggered' && e.detail.profileId === p.id),
    );
    expect(hit.detail).toMatchObject({
      ruleId: 'complaint-follow-up',
      action: 'complaint-service-email',
      email: `${user}@example.com`,
      data: { caseId: 'c-1' },
    });
    expect(hit.detail.explanation).toContainEqual(
      expect.objectContaining({ path: 'event.sourceName', op: 'eq', expected: 'crm', actual: 'crm', result: true }),
    );
    // The same complaint from another source does not fire.
    const other = await admin('POST', '/v1/sources', { name: uid('shop'), party: 'first' });
    const user2 = uid('other');
    await api.send({ type: 'identify', userId: user2, traits: { email: `${user2}@example.com`, consent: { email: true } } });
    const p2 = await profileOf(`user_id:${user2}`);
    await api.post(
      '/v1/track',
      { type: 'track', userId: user2, event: 'Complaint Filed', properties: { case_id: 'c-2' } },
      other.body.writeKey,
    );
    await eventually(async () => {
      const r = await api.get(`/v1/profiles/user_id:${user2}/events`);
      return (await r.text()).includes('Complaint Filed') ? true : undefined;
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(rt.bus.delivered.filter((e) => e['detail-type'] === 'Action Triggered' && e.detail.profileId === p2.id)).toEqual([]);
  });

  it('a duplicate name is a 409 naming the holder', async () => {
    const name = uid('pos');
    const first = await admin('POST', '/v1/sources', { name, party: 'first' });
    expect(first.status).toBe(201);
    const dup = await admin('POST', '/v1/sources', { name: name.toUpperCase(), party: 'third' });
    expect(dup.status).toBe(409);
    expect(dup.body).toEqual({
      success: false,
      error: 'conflict',
      message: expect.stringContaining(`a source named "${name.toUpperCase()}" exists already (${first.body.source.id})`),
      issues: [{ path: 'name', message: `is taken by source ${first.body.source.id}` }],
    });
  });

  it('a deleted source is gone, its keys stop working and its name is free; default cannot be deleted', async () => {
    const name = uid('gone');
    const created = await admin('POST', '/v1/sources', { name, party: 'first' });
    const key = created.body.writeKey as string;
    const id = created.body.source.id as string;
    expect((await api.post('/v1/track', { type: 'track', userId: 'u', event: 'E' }, key)).status).toBe(200);
    const del = await api.del(`/v1/sources/${id}`);
    expect(del.status).toBe(204);
    const list = await admin('GET', '/v1/sources');
    expect(list.body.sources.map((s: { source: { id: string } }) => s.source.id)).not.toContain(id);
    // The local key cache keeps a found key 1 s (60 s in the cloud).
    await eventually(async () =>
      (await api.post('/v1/track', { type: 'track', userId: 'u', event: 'E' }, key)).status === 401 ? true : undefined,
    );
    expect((await api.del(`/v1/sources/${id}`)).status).toBe(404);
    expect((await admin('POST', `/v1/sources/${id}/keys`)).status).toBe(404);
    expect((await admin('POST', '/v1/sources', { name, party: 'second' })).status).toBe(201);
    const def = await admin('DELETE', '/v1/sources/default');
    expect(def.status).toBe(400);
    expect(def.body.message).toMatch(/bootstrap write key/);
    expect((await api.del('/v1/sources/default/keys/x')).status).toBe(400);
    expect((await api.del('/v1/sources/src_unknown')).status).toBe(404);
    expect((await api.del(`/v1/sources/${id}`, rt.keys.write)).status).toBe(401);
  });
});

describe('validation errors name the path and the allowed values', () => {
  it('rules API: an unknown operator is condition.all[0].op with the operators', async () => {
    const r = await admin('PUT', '/v1/rules/bad-op', {
      name: 'Bad',
      trigger: { events: ['E'] },
      condition: { all: [{ path: 'event.properties.x', op: 'between', value: 1 }] },
      actions: [{ type: 'emit', action: 'x' }],
    });
    expect(r.status).toBe(400);
    expect(r.body.issues).toEqual([{ path: 'condition.all[0].op', message: ops }]);
    expect(r.body.message).toBe(`invalid rule: condition.all[0].op ${ops}`);
  });

  it('rules API: unknown action types, targets and shapes', async () => {
    const r = await admin('PUT', '/v1/rules/bad-actions', {
      name: 'Bad',
      trigger: { events: ['E'] },
      condition: { not: { foo: 1 } },
      actions: [{ type: 'sms' }, { type: 'emit', action: 'x', target: 'fax' }],
    });
    expect(r.status).toBe(400);
    expect(r.body.issues).toEqual([
      { path: 'condition.not', message: expect.stringMatching(/^must be a condition: /) },
      { path: 'actions[0].type', message: 'must be one of emit, trait, audience, recommend' },
      { path: 'actions[1].target', message: 'must be one of email, ads, webhook' },
    ]);
    const aud = await admin('PUT', '/v1/rules/bad-aud', {
      kind: 'audience',
      name: 'A',
      condition: { path: 'profile.traits.x', op: 'is', value: 1 },
    });
    expect(aud.body.issues).toEqual([{ path: 'condition.op', message: ops }]);
  });

  it('dry run and backtest bodies: the inline rule under rule., the fields by name', async () => {
    const dry = await admin('POST', '/v1/rules/inline/test', {
      rule: {
        id: 'inline',
        name: 'I',
        trigger: {},
        condition: { any: [{ path: 'event.x', op: 'nope', value: 1 }] },
        actions: [{ type: 'emit', action: 'a' }],
      },
      event: { type: 'track', userId: 'u', event: 'E' },
    });
    expect(dry.status).toBe(400);
    expect(dry.body.issues).toEqual([{ path: 'rule.condition.any[0].op', message: ops }]);
    const badEvent = await admin('POST', '/v1/rules/high-value-order/test', { event: { type: 'trak' } });
    expect(badEvent.body.issues).toEqual([{ path: 'event.type', message: 'must be one of track, identify, page, screen, group, alias' }]);
    const bt = await admin('POST', '/v1/rules/high-value-order/backtest', {
      from: '2026-01-01T00:00:00Z',
      to: '2026-02-01T00:00:00Z',
      segments: 'all',
    });
    expect(bt.status).toBe(400);
    expect(bt.body.issues).toEqual([{ path: 'segments', message: 'must be a number (received string)' }]);
  });

  it('sources, events, redrive and context name theirs', async () => {
    const src = await admin('POST', '/v1/sources', { name: 'x', party: 'fourth' });
    expect(src.status).toBe(400);
    expect(src.body.issues).toEqual([{ path: 'party', message: 'must be one of first, second, third' }]);
    const batch = await api.call('POST', '/v1/batch', rt.keys.write, {
      batch: [
        { type: 'track', userId: 'u', event: 'E' },
        { type: 'track', userId: { id: 1 }, event: 'E' },
      ],
    });
    expect(batch.status).toBe(200);
    expect(batch.body.rejected).toEqual([
      { index: 1, issues: [{ path: 'batch[1].userId', message: 'must be a string or a number (received object)' }] },
    ]);
    const redrive = await admin('POST', '/v1/dlq/redrive', { ids: [1] });
    expect(redrive.status).toBe(400);
    expect(redrive.body.issues).toEqual([{ path: 'ids[0]', message: 'must be a string (received number)' }]);
    const ctx = await api.call('POST', '/v1/context', rt.keys.write, { anonymousId: 7 });
    expect(ctx.status).toBe(400);
    expect(ctx.body.issues).toEqual([{ path: 'anonymousId', message: 'must be a string (received number)' }]);
  });
});
