/**
 * Undo (`app/split.ts`) against DynamoDB Local: detach an identifier, undo a merge, idempotent
 * repeats, blocks, bad requests; the storage invariants are checked when the table is dropped.
 */
import { randomBytes } from 'node:crypto';
import { DynamoComputedStore } from '../../adapters/dynamo/computed-store';
import { DynamoProfileStore } from '../../adapters/dynamo/profile-store';
import { explainIdentity } from '../../app/identity-graph';
import { readProfile } from '../../app/profiles';
import { splitProfile, type SplitDeps } from '../../app/split';
import { stitch } from '../../app/stitch';
import { readTimeline } from '../../app/timeline';
import { parseConfig } from '../../core/config';
import { AlreadyExistsError, NotFoundError, ValidationError } from '../../core/errors';
import { createTestTable, type TestTable } from '../helpers/dynamo';
import { eventFactory } from '../helpers/events';

let t: TestTable;
let store: DynamoProfileStore;
let deps: SplitDeps;
const event = eventFactory();
const config = parseConfig({});

beforeAll(async () => {
  t = await createTestTable('split');
  store = new DynamoProfileStore(t.doc, { tableName: t.tableName });
  deps = {
    store,
    identity: config.identity,
    computed: { store: new DynamoComputedStore(t.doc, t.tableName), defs: config.computed },
    settlePauseMs: 10,
  };
});
afterAll(() => t.drop());

const ns = () => randomBytes(4).toString('hex');
const timelineOf = async (key: string) => {
  const p = await readProfile(store, key);
  return (await readTimeline(store, p.id, { limit: 100 })).events.map((e) => e.event.messageId).sort();
};

describe('split: detach', () => {
  it('a shared tablet: Bob detached from Ada, with his events, traits and a profile block', async () => {
    const n = ns();
    const tablet = `tablet-${n}`;
    const ada1 = await stitch(
      store,
      event({ type: 'identify', anonymousId: tablet, traits: { email: `ada-${n}@example.com`, name: 'Ada' } }),
    );
    const bob1 = event({ type: 'identify', anonymousId: tablet, traits: { email: `bob-${n}@example.com`, name: 'Bob' } });
    await stitch(store, bob1);
    const bob2 = event({
      anonymousId: tablet,
      event: 'Order Completed',
      properties: { revenue: 5 },
      context: { traits: { email: `bob-${n}@example.com` } },
    });
    await stitch(store, bob2);
    const anon = event({ anonymousId: tablet });
    await stitch(store, anon);
    const before = await readProfile(store, `email:ada-${n}@example.com`);
    expect(before.identifiers).toContain(`email:bob-${n}@example.com`);

    const r = await splitProfile(deps, `email:ada-${n}@example.com`, { detach: `email:Bob-${n}@example.com`, block: 'profile' });
    expect(r).toMatchObject({ kind: 'detach', kept: { profileId: ada1.profileId }, block: 'profile', moved: 2 });
    expect(r.separated).toEqual([{ profileId: expect.any(String), identifiers: [`email:bob-${n}@example.com`] }]);
    const ada = await readProfile(store, `email:ada-${n}@example.com`);
    const bob = await readProfile(store, `email:bob-${n}@example.com`);
    expect(bob.id).toBe(r.separated[0]!.profileId);
    expect(ada.identifiers).toEqual([`anonymous_id:${tablet}`, `email:ada-${n}@example.com`]);
    expect(bob.identifiers).toEqual([`email:bob-${n}@example.com`]);
    expect(ada.traits.name?.value).toBe('Ada');
    expect(ada.traits.email?.value).toBe(`ada-${n}@example.com`);
    expect(bob.traits.name?.value).toBe('Bob');
    expect(await timelineOf(`email:bob-${n}@example.com`)).toEqual([bob1.messageId, bob2.messageId].sort());
    expect(await timelineOf(`email:ada-${n}@example.com`)).not.toContain(bob1.messageId);
    // Computed traits recomputed per side.
    const computed = await deps.computed!.store.load([ada.id, bob.id]);
    expect(computed.get(bob.id)?.state.values.order_count).toBe(1);
    expect(computed.get(ada.id)?.state.values.order_count ?? 0).toBe(0);

    // Blocked: Bob on the tablet again stays Bob; Ada's profile never takes his email again.
    const again = await stitch(store, event({ type: 'identify', anonymousId: tablet, traits: { email: `bob-${n}@example.com` } }));
    expect(again.profileId).toBe(bob.id);
    expect(again.dropped).toEqual([{ id: { type: 'anonymous_id', value: tablet }, reason: 'blocked' }]);
    expect((await readProfile(store, `email:ada-${n}@example.com`)).identifiers).not.toContain(`email:bob-${n}@example.com`);

    // A repeat answers the same; explain lists the split.
    expect(await splitProfile(deps, `email:ada-${n}@example.com`, { detach: `email:bob-${n}@example.com`, block: 'profile' })).toEqual(r);
    expect(await splitProfile(deps, `email:bob-${n}@example.com`, { detach: `email:bob-${n}@example.com`, block: 'profile' })).toEqual(r);
    expect((await explainIdentity(store, `email:ada-${n}@example.com`)).splits).toEqual([
      { id: r.splitId, at: r.at, kind: 'detach', profiles: [ada.id, bob.id] },
    ]);
    void anon;
  });

  it('block global: the identifier links nothing again', async () => {
    const n = ns();
    await stitch(store, event({ type: 'identify', userId: `u-${n}`, traits: { email: `test-${n}@example.com` } }));
    await stitch(store, event({ type: 'identify', userId: `w-${n}`, anonymousId: `x-${n}` }));
    const r = await splitProfile(deps, `user_id:u-${n}`, { detach: `email:test-${n}@example.com`, block: 'global' });
    expect(r.block).toBe('global');
    const later = await stitch(store, event({ type: 'identify', anonymousId: `x-${n}`, traits: { email: `test-${n}@example.com` } }));
    expect(later.profileId).toBe((await readProfile(store, `user_id:w-${n}`)).id);
    expect((await readProfile(store, `user_id:w-${n}`)).identifiers).not.toContain(`email:test-${n}@example.com`);
    const g = await explainIdentity(store, `email:test-${n}@example.com`);
    expect(g.identifiers).toEqual([expect.objectContaining({ id: `email:test-${n}@example.com`, blocked: 'global' })]);
  });

  it('bad requests name the field', async () => {
    const n = ns();
    await stitch(store, event({ type: 'identify', userId: `b-${n}`, anonymousId: `ba-${n}` }));
    const key = `user_id:b-${n}`;
    await expect(splitProfile(deps, key, {})).rejects.toBeInstanceOf(ValidationError);
    await expect(splitProfile(deps, key, { detach: 'nocolon' })).rejects.toMatchObject({ issues: [{ path: 'detach' }] });
    await expect(splitProfile(deps, key, { detach: `email:nobody-${n}@example.com` })).rejects.toMatchObject({
      issues: [{ path: 'detach', message: 'is not an identifier of this profile' }],
    });
    await expect(splitProfile(deps, key, { detach: `user_id:b-${n}`, block: 'everywhere' })).rejects.toMatchObject({
      issues: [expect.objectContaining({ path: 'block' })],
    });
    await expect(splitProfile(deps, key, { undoMerge: 'm_nope' })).rejects.toBeInstanceOf(NotFoundError);
    await expect(splitProfile(deps, key, { undoMerge: 'm_nope' })).rejects.toThrow(/m_nope/);
    await stitch(store, event({ type: 'identify', userId: `solo-${n}` }));
    await expect(splitProfile(deps, `user_id:solo-${n}`, { detach: `user_id:solo-${n}` })).rejects.toMatchObject({
      issues: [{ path: 'detach', message: 'is the only identifier of this profile' }],
    });
  });
});

describe('split: undoMerge', () => {
  it('separates what a merge joined, with events stored on the survivor after the merge', async () => {
    const n = ns();
    const a1 = event({ type: 'identify', userId: `ua-${n}`, traits: { plan: 'pro' } });
    const ra = await stitch(store, a1);
    const b1 = event({ type: 'identify', anonymousId: `ab-${n}`, traits: { plan: 'free', color: 'red' } });
    const rb = await stitch(store, b1);
    const link = event({ userId: `ua-${n}`, anonymousId: `ab-${n}` });
    await stitch(store, link);
    // After the merge: B's events land on the survivor's partition.
    const b2 = event({ anonymousId: `ab-${n}`, event: 'Order Completed', properties: { revenue: 7 } });
    const b3 = event({ type: 'identify', anonymousId: `ab-${n}`, traits: { email: `b-${n}@example.com` } });
    await stitch(store, b2);
    await stitch(store, b3);
    const a2 = event({ userId: `ua-${n}`, event: 'Order Completed', properties: { revenue: 3 } });
    await stitch(store, a2);
    const g = await explainIdentity(store, `user_id:ua-${n}`);
    expect(g.merges).toHaveLength(1);
    const r = await splitProfile(deps, `user_id:ua-${n}`, { undoMerge: g.merges[0]!.id });
    expect(r.kept.profileId).toBe(ra.profileId);
    expect(r.separated).toEqual([{ profileId: rb.profileId, identifiers: [`anonymous_id:ab-${n}`, `email:b-${n}@example.com`] }]);
    const A = await readProfile(store, `user_id:ua-${n}`);
    const B = await readProfile(store, `anonymous_id:ab-${n}`);
    expect(A.id).toBe(ra.profileId);
    expect(B.id).toBe(rb.profileId);
    expect(A.identifiers).toEqual([`user_id:ua-${n}`]);
    expect(A.mergedFrom).toEqual([]);
    expect(A.traits.plan?.value).toBe('pro');
    expect(A.traits.color).toBeUndefined();
    expect(B.traits.plan?.value).toBe('free');
    expect(B.traits.email?.value).toBe(`b-${n}@example.com`);
    expect(await timelineOf(`anonymous_id:ab-${n}`)).toEqual([b1.messageId, b2.messageId, b3.messageId].sort());
    // The linking event stays with the side of its highest-priority identifier (user_id).
    expect(await timelineOf(`user_id:ua-${n}`)).toEqual([a1.messageId, link.messageId, a2.messageId].sort());
    const computed = await deps.computed!.store.load([A.id, B.id]);
    expect(computed.get(A.id)?.state.values.lifetime_value).toBe(3);
    expect(computed.get(B.id)?.state.values.lifetime_value).toBe(7);
    // Repeats answer the same, from either side.
    expect(await splitProfile(deps, `user_id:ua-${n}`, { undoMerge: g.merges[0]!.id })).toEqual(r);
    expect(await splitProfile(deps, `anonymous_id:ab-${n}`, { undoMerge: g.merges[0]!.id })).toEqual(r);
    // New events go to their own side.
    expect((await stitch(store, event({ anonymousId: `ab-${n}` }))).profileId).toBe(B.id);
  });

  it('refuses (409) when other events still link the two sides', async () => {
    const n = ns();
    await stitch(store, event({ type: 'identify', userId: `ua-${n}`, anonymousId: `aa-${n}` }));
    await stitch(store, event({ anonymousId: `ab-${n}` }));
    await stitch(store, event({ userId: `ua-${n}`, anonymousId: `ab-${n}` }));
    await stitch(store, event({ anonymousId: `ab-${n}`, traits: {}, context: { device: { id: `d-${n}` } } }));
    await stitch(store, event({ anonymousId: `aa-${n}`, context: { device: { id: `d-${n}` } } }));
    const g = await explainIdentity(store, `user_id:ua-${n}`);
    await expect(splitProfile(deps, `user_id:ua-${n}`, { undoMerge: g.merges[0]!.id })).rejects.toBeInstanceOf(AlreadyExistsError);
  });
});
