/**
 * The identity routes over HTTP on the local runtime: explain (read key), split and release
 * (admin key), lifting a suppression; what they put on the bus (`Profile Split`, audiences
 * re-evaluated, `Identity Anomaly`); the storage invariants are checked when the runtime stops.
 */
import type { Runtime } from '../../local/runtime';
import { eventually } from '../helpers/dynamo';
import { apiClient } from '../helpers/http';
import { startTestRuntime } from '../helpers/runtime';

let rt: Runtime;

beforeAll(async () => {
  rt = await startTestRuntime('idadmin', {
    streamPollMs: 20,
    config: { identity: { types: { anonymous_id: { limit: 100 } }, quarantine: { merges: 2 } } },
  });
}, 60_000);
afterAll(() => rt?.stop());

const { send, call } = apiClient(() => rt);
const enc = encodeURIComponent;
const ofType = (t: string) => rt.bus.delivered.filter((e) => e['detail-type'] === t);

describe('identity admin over HTTP', () => {
  it('explain, then undo the merge: each side separate again, Profile Split and the audience left', async () => {
    await send({ type: 'identify', userId: 'ia-ada', traits: { name: 'Ada' }, messageId: 'ia-1' });
    await send({ type: 'track', userId: 'ia-ada', event: 'Order Completed', properties: { revenue: 300 }, messageId: 'ia-2' });
    await send({ type: 'track', anonymousId: 'ia-bob', event: 'Order Completed', properties: { revenue: 300 }, messageId: 'ia-3' });
    await eventually(async () =>
      (await call('GET', `/v1/profiles/${enc('anonymous_id:ia-bob')}`, rt.keys.read)).status === 200 ? 1 : undefined,
    );
    await send({ type: 'track', userId: 'ia-ada', anonymousId: 'ia-bob', event: 'Linked', messageId: 'ia-4' });
    const graph = await eventually(async () => {
      const r = await call('GET', `/v1/profiles/${enc('user_id:ia-ada')}/identity`, rt.keys.read);
      return r.status === 200 && r.body.merges.length === 1 ? r.body : undefined;
    });
    expect(graph.merges[0].linkedBy).toMatchObject({ messageId: 'ia-4', identifiers: expect.any(Array) });
    // The merged profile is in the high-value audience (lifetime value 600) after its next event.
    await send({ type: 'track', userId: 'ia-ada', event: 'Page Viewed', messageId: 'ia-5' });
    await eventually(() => ofType('Audience Entered').find((e) => e.detail.profileId === graph.profileId));

    expect((await call('GET', `/v1/profiles/${enc('user_id:ia-ada')}/identity`)).status).toBe(401);
    const path = `/v1/profiles/${enc('user_id:ia-ada')}/split`;
    expect((await call('POST', path, rt.keys.read, { undoMerge: graph.merges[0].id })).status).toBe(401);
    const bad = await call('POST', path, rt.keys.admin, { undoMerge: graph.merges[0].id, detach: 'user_id:x' });
    expect(bad.status).toBe(400);
    expect(bad.body.issues.length).toBeGreaterThan(0);
    const unknown = await call('POST', path, rt.keys.admin, { undoMerge: 'm_000000000000000000000000' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toContain('m_000000000000000000000000');
    const notOn = await call('POST', path, rt.keys.admin, { detach: 'email:nobody@example.com' });
    expect(notOn).toMatchObject({ status: 400, body: { issues: [{ path: 'detach' }] } });

    const split = await call('POST', path, rt.keys.admin, { undoMerge: graph.merges[0].id });
    expect(split.status).toBe(200);
    expect(split.body.separated).toEqual([{ profileId: expect.any(String), identifiers: ['anonymous_id:ia-bob'] }]);
    const announced = await eventually(() => ofType('Profile Split')[0]);
    expect(announced.detail).toMatchObject({
      version: '1',
      kind: 'undoMerge',
      splitId: split.body.splitId,
      profileId: split.body.kept.profileId,
      separatedProfileIds: [split.body.separated[0].profileId],
      identifierTypes: ['anonymous_id'],
    });
    expect(JSON.stringify(announced.detail)).not.toContain('ia-bob');
    // Re-evaluated: each side holds 300 now, so the kept profile left the audience.
    await eventually(() => ofType('Audience Exited').find((e) => e.detail.profileId === split.body.kept.profileId));
    const again = await call('POST', path, rt.keys.admin, { undoMerge: graph.merges[0].id });
    expect(again).toEqual(split);
    const bob = await call('GET', `/v1/profiles/${enc('anonymous_id:ia-bob')}`, rt.keys.read);
    expect(bob.body.id).toBe(split.body.separated[0].profileId);
    expect(bob.body.computed.lifetime_value).toBe(300);
  });

  it('a kiosk is quarantined (Identity Anomaly), shown by explain, and released by an admin', async () => {
    for (const v of ['k1', 'k2', 'k3', 'k4']) {
      await send({ type: 'track', anonymousId: `ia-${v}`, event: 'Viewed', messageId: `ia-${v}-own` });
      await eventually(async () =>
        (await call('GET', `/v1/profiles/${enc(`anonymous_id:ia-${v}`)}`, rt.keys.read)).status === 200 ? 1 : undefined,
      );
      await send({
        type: 'track',
        anonymousId: `ia-${v}`,
        event: 'Viewed',
        context: { device: { id: 'ia-kiosk' } },
        messageId: `ia-${v}-kiosk`,
      });
      await eventually(async () => {
        const r = await call('GET', `/v1/profiles/${enc(`anonymous_id:ia-${v}`)}/events`, rt.keys.read);
        return r.body.events?.some((e: { event: { messageId: string } }) => e.event.messageId === `ia-${v}-kiosk`) ? 1 : undefined;
      });
    }
    const anomaly = await eventually(() => ofType('Identity Anomaly')[0]);
    expect(anomaly.detail).toMatchObject({ version: '1', reason: 'merges', limit: 2, count: 3 });
    const g = await call('GET', `/v1/profiles/${enc('device_id:ia-kiosk')}/identity`, rt.keys.admin);
    expect(g.body.quarantine).toMatchObject({ reason: 'merges' });
    expect(g.body.refused.filter((r: { reason: string }) => r.reason === 'quarantine')).toHaveLength(1);
    const release = `/v1/profiles/${enc('device_id:ia-kiosk')}/release`;
    expect((await call('POST', release, rt.keys.read)).status).toBe(401);
    expect(await call('POST', release, rt.keys.admin)).toEqual({ status: 200, body: { profileId: g.body.profileId, released: true } });
    expect((await call('POST', release, rt.keys.admin)).body.released).toBe(false);
  });

  it('an admin lifts the suppression of an erased identifier: recorded, and the identifier is stored again', async () => {
    await send({ type: 'identify', userId: 'ia-erased', traits: { email: 'ia-erased@example.com' }, messageId: 'ia-e1' });
    await eventually(async () =>
      (await call('GET', `/v1/profiles/${enc('user_id:ia-erased')}`, rt.keys.read)).status === 200 ? 1 : undefined,
    );
    expect((await call('DELETE', `/v1/profiles/${enc('user_id:ia-erased')}`, rt.keys.admin)).status).toBe(200);
    const lift = `/v1/suppressions/${enc('email:IA-erased@example.com')}`;
    expect((await call('DELETE', lift, rt.keys.read)).status).toBe(401);
    const lifted = await call('DELETE', lift, rt.keys.admin);
    expect(lifted).toMatchObject({ status: 200, body: { lifted: true, at: expect.any(String) } });
    expect((await call('DELETE', lift, rt.keys.admin)).status).toBe(404);
    // The email identifies someone again; the user id is still suppressed.
    await send({ type: 'identify', anonymousId: 'ia-new', traits: { email: 'ia-erased@example.com' }, messageId: 'ia-e2' });
    await eventually(async () =>
      (await call('GET', `/v1/profiles/${enc('email:ia-erased@example.com')}`, rt.keys.read)).status === 200 ? 1 : undefined,
    );
    expect((await call('DELETE', `/v1/suppressions/${enc('user_id:ia-erased')}`, rt.keys.admin)).status).toBe(200);
  });
});
