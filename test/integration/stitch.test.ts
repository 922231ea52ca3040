/**
 * The stitch use case against a real DynamoDB Local: profiles are created, linked, merged and
 * updated, and nothing is written twice.
 */
import { QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoProfileStore } from '../../adapters/dynamo/profile-store';
import { stitch } from '../../app/stitch';
import { readProfile } from '../../app/profiles';
import { NotFoundError } from '../../core/errors';
import { parseConfig } from '../../core/config';
import { createTestTable, type TestTable } from '../helpers/dynamo';
import { eventFactory } from '../helpers/events';

let t: TestTable;
let store: DynamoProfileStore;
const roomy = parseConfig({ identity: { types: { anonymous_id: { limit: 10 }, device_id: { limit: 10 } } } }).identity;

const event = eventFactory();

beforeAll(async () => {
  t = await createTestTable('stitch');
  store = new DynamoProfileStore(t.doc, { tableName: t.tableName });
});
afterAll(() => t.drop());

async function timeline(profileId: string) {
  const r = await t.doc.send(
    new QueryCommand({
      TableName: t.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :ev)',
      ExpressionAttributeValues: { ':pk': `P#${profileId}`, ':ev': 'EV#' },
    }),
  );
  return r.Items ?? [];
}

describe('stitch (DynamoDB Local)', () => {
  it('the same anonymous id lands on the same profile', async () => {
    const a = await stitch(store, event({ anonymousId: 'anon-1' }));
    const b = await stitch(store, event({ anonymousId: 'anon-1' }));
    expect(b.profileId).toBe(a.profileId);
    expect(await timeline(a.profileId)).toHaveLength(2);
  });

  it('an identify links anonymous and user ids and stores traits', async () => {
    const anon = await stitch(store, event({ anonymousId: 'anon-2' }));
    const id = await stitch(
      store,
      event({ type: 'identify', event: undefined, anonymousId: 'anon-2', userId: 'user-2', traits: { name: 'Ann', plan: 'pro' } }),
    );
    expect(id.profileId).toBe(anon.profileId);
    const view = await readProfile(store, 'user_id:user-2');
    expect(view.id).toBe(anon.profileId);
    expect(view.identifiers).toEqual(['anonymous_id:anon-2', 'user_id:user-2']);
    expect(view.traits.name).toMatchObject({ value: 'Ann', sourceId: 'web' });
  });

  it('an event linking two profiles merges them into the older one', async () => {
    const p1 = await stitch(store, event({ anonymousId: 'anon-3a' }));
    const p2 = await stitch(store, event({ type: 'identify', event: undefined, userId: 'user-3', traits: { city: 'Utrecht' } }));
    expect(p1.profileId).not.toBe(p2.profileId);
    const m = await stitch(store, event({ anonymousId: 'anon-3a', userId: 'user-3' }));
    expect(m.profileId).toBe([p1.profileId, p2.profileId].sort()[0]);
    expect(m.merged).toHaveLength(1);
    for (const key of ['anonymous_id:anon-3a', 'user_id:user-3']) {
      const v = await readProfile(store, key);
      expect(v.id).toBe(m.profileId);
      expect(v.identifiers).toEqual(['anonymous_id:anon-3a', 'user_id:user-3']);
      expect(v.traits.city?.value).toBe('Utrecht');
      expect(v.mergedFrom).toEqual(m.merged);
    }
  });

  it('processing the same event twice changes nothing', async () => {
    const e = event({ type: 'identify', event: undefined, userId: 'user-4', traits: { a: 1 } });
    const first = await stitch(store, e);
    const before = await t.doc.send(new ScanCommand({ TableName: t.tableName }));
    const second = await stitch(store, e);
    const after = await t.doc.send(new ScanCommand({ TableName: t.tableName }));
    expect(second).toEqual({ profileId: first.profileId, duplicate: true, merged: [], dropped: [], rejected: [] });
    expect(after.Items).toEqual(before.Items);
  });

  it('parallel workers linking the same ids converge on one profile', async () => {
    // Six anonymous visitors, each already a profile of their own…
    const anons = ['a', 'b', 'c', 'd', 'e', 'f'].map((x) => `conc-${x}`);
    await Promise.all(anons.map((a) => stitch(store, event({ anonymousId: a }))));
    // …log in as the same user at the same moment, on six workers (six anonymous ids are over
    // the default limit of five per profile, so this test allows ten).
    const logins = anons.map((a) => event({ anonymousId: a, userId: 'conc-user' }));
    await Promise.all(logins.map((e) => stitch(store, e, { identity: roomy })));
    const views = await Promise.all([...anons.map((a) => `anonymous_id:${a}`), 'user_id:conc-user'].map((k) => readProfile(store, k)));
    expect(new Set(views.map((v) => v.id)).size).toBe(1);
    expect(views[0]!.identifiers).toEqual([...anons.map((a) => `anonymous_id:${a}`), 'user_id:conc-user']);
    const total = (await Promise.all([views[0]!.id, ...views[0]!.mergedFrom].map(timeline))).flat();
    expect(total).toHaveLength(anons.length * 2);
  });

  it('parallel workers merging overlapping profiles converge: every identifier found, none pointing nowhere', async () => {
    // Eight profiles, each with one anonymous id; sixteen workers at once: eight add a device id
    // to one of them, eight link one of them to the same user id, so every write races.
    const anons = Array.from({ length: 8 }, (_, i) => `ring-${i}`);
    await Promise.all(anons.map((a) => stitch(store, event({ anonymousId: a }))));
    const links = anons.map((a, i) => event({ anonymousId: a, context: { device: { id: `ring-dev-${i}` } }, traits: {} }));
    const pairs = anons.map((a, i) =>
      event({ type: 'alias', event: undefined, anonymousId: a, previousId: a, userId: 'ring-user', traits: { i } }),
    );
    const results = await Promise.all([...links, ...pairs].map((e) => stitch(store, e, { identity: roomy })));
    expect(results).toHaveLength(16);
    const keys = [...anons.map((a) => `anonymous_id:${a}`), ...anons.map((_, i) => `device_id:ring-dev-${i}`), 'user_id:ring-user'];
    const views = await Promise.all(keys.map((k) => readProfile(store, k, roomy)));
    expect(new Set(views.map((v) => v.id)).size).toBe(1);
    expect([...views[0]!.identifiers].sort()).toEqual([...keys].sort());
    expect(views[0]!.mergedFrom).toHaveLength(7);
    // Every merged profile points (directly or not) at the survivor; every event is on a timeline.
    const total = (await Promise.all([views[0]!.id, ...views[0]!.mergedFrom].map(timeline))).flat();
    expect(total).toHaveLength(8 + 16);
  });

  it('reading an unknown identifier is a 404', async () => {
    await expect(readProfile(store, 'user_id:nobody')).rejects.toBeInstanceOf(NotFoundError);
  });
});
