/**
 * Erasure after a split (issue 17): A and X were merged by an event naming both; the merge is
 * undone and only X is erased. The kept side's merge record keeps X's identifiers as digests, the
 * linking event on A's timeline is indexed by them and redacted, and an X event a late `stitch`
 * stored on A's root (with X's traits) is moved and A's traits recomputed without X's: afterwards
 * no attribute of any item of the table (event payloads inflated) holds a value of X's, and the
 * storage check (`erased_named`) passes.
 */
import { randomBytes } from 'node:crypto';
import { DynamoComputedStore } from '../../adapters/dynamo/computed-store';
import { DynamoProfileStore } from '../../adapters/dynamo/profile-store';
import { eraseProfile } from '../../app/erase';
import { explainIdentity } from '../../app/identity-graph';
import { readProfile } from '../../app/profiles';
import { finalSettle, splitProfile, type SplitDeps } from '../../app/split';
import { stitch } from '../../app/stitch';
import { parseConfig } from '../../core/config';
import { identifierDigest } from '../../core/identity';
import { dict } from '../../core/dict';
import { expectStorageInvariants } from '../helpers/check';
import { createTestTable, type TestTable } from '../helpers/dynamo';
import { eventFactory } from '../helpers/events';
import { naming, tableTexts as tableTextsOf } from '../helpers/table-texts';

let t: TestTable;
let store: DynamoProfileStore;
let deps: SplitDeps;
const event = eventFactory();
const config = parseConfig({});

beforeAll(async () => {
  t = await createTestTable('erase-split');
  store = new DynamoProfileStore(t.doc, { tableName: t.tableName });
  deps = {
    store,
    identity: config.identity,
    computed: { store: new DynamoComputedStore(t.doc, t.tableName), defs: config.computed },
    settlePauseMs: 10,
  };
});
afterAll(() => t.drop());

const tableTexts = () => tableTextsOf(t.doc, t.tableName);

describe('erasing the person a split separated', () => {
  it('leaves no value of theirs in the kept side: merge records, the linking event, a late event and traits', async () => {
    const n = randomBytes(4).toString('hex');
    const a = { user: `ua-${n}`, email: `ada-${n}@example.com` };
    const x = { anon: `xanon-${n}`, email: `xperson-${n}@example.com`, name: `Xname-${n}`, city: `Xcity-${n}` };
    const aId = (await stitch(store, event({ type: 'identify', userId: a.user, traits: { email: a.email, name: 'Ada' } }), deps)).profileId;
    const xId = (
      await stitch(store, event({ type: 'identify', anonymousId: x.anon, traits: { email: x.email, name: x.name, city: x.city } }), deps)
    ).profileId;
    // One event names both: the profiles merge (A, the older, absorbs X).
    const linking = event({ userId: a.user, anonymousId: x.anon, event: 'Shared Device', properties: { note: `seen with ${x.anon}` } });
    expect((await stitch(store, linking, deps)).profileId).toBe(aId);
    const g = await explainIdentity(store, `user_id:${a.user}`);
    expect(g.merges).toHaveLength(1);
    expect(g.merges[0]!.linkedBy.others).toEqual([]);

    const r = await splitProfile(deps, `user_id:${a.user}`, { undoMerge: g.merges[0]!.id });
    expect(r.separated).toEqual([{ profileId: xId, identifiers: [`anonymous_id:${x.anon}`, `email:${x.email}`] }]);
    // The linking event stays on A's timeline (its user id is A's).
    expect((await store.listEvents(aId, 100)).map((e) => e.event.messageId)).toContain(linking.messageId);

    // The kept side's merge record names X's identifier by type and digest only.
    const after = await explainIdentity(store, `user_id:${a.user}`);
    expect(after.merges).toHaveLength(1);
    expect(after.merges[0]!.linkedBy).toMatchObject({
      messageId: linking.messageId,
      identifiers: [`user_id:${a.user}`],
      others: [{ type: 'anonymous_id', digest: identifierDigest(`anonymous_id:${x.anon}`) }],
    });
    const root = await readProfile(store, `user_id:${a.user}`);
    expect(root.traits.name?.value).toBe('Ada');
    expect(root.traits.city).toBeUndefined();

    // A `stitch` that read the group before the split stores an X identify on A's root, with X's
    // traits there (staged: the event put on A's partition and the trait on A's root); the final
    // settle pass moves the event to X and recomputes both sides' traits from their own events.
    const late = event({ type: 'identify', anonymousId: x.anon, traits: { city: `${x.city}-late` } });
    await store.putEvent(aId, late);
    const stored = (await store.getProfiles([aId])).get(aId)!;
    const traits = dict(stored.profile.traits);
    traits.city = { ...stored.profile.traits.name!, value: `${x.city}-late` };
    expect(await store.saveProfile({ ...stored.profile, traits }, stored.version)).toBe(true);
    expect(await finalSettle(deps, aId, r.splitId)).toBe(1);
    expect((await readProfile(store, `user_id:${a.user}`)).traits.city).toBeUndefined();
    expect((await readProfile(store, `anonymous_id:${x.anon}`)).traits.city?.value).toBe(`${x.city}-late`);

    const values = [x.anon, x.email, x.name, x.city];
    expect(naming(await tableTexts(), values).length).toBeGreaterThan(0);
    await eraseProfile(store, `anonymous_id:${x.anon}`, { identity: config.identity });

    // Nothing of X's anywhere: no attribute, no event payload, no index entry.
    expect(naming(await tableTexts(), values)).toEqual([]);
    await expectStorageInvariants(t.endpoint, t.tableName, {
      erased: [`anonymous_id:${x.anon}`, `email:${x.email}`],
      erasedValues: [x.name, x.city],
    });

    // A keeps its profile, the linking event (without X's values) and the explained merge.
    const kept = (await store.listEvents(aId, 100)).find((e) => e.event.messageId === linking.messageId)?.event;
    expect(kept).toMatchObject({ userId: a.user, messageId: linking.messageId });
    expect(kept?.anonymousId).toBeUndefined();
    const still = await explainIdentity(store, `user_id:${a.user}`);
    expect(still.merges[0]!.linkedBy.others).toEqual([{ type: 'anonymous_id', digest: identifierDigest(`anonymous_id:${x.anon}`) }]);
    expect((await readProfile(store, `user_id:${a.user}`)).traits.name?.value).toBe('Ada');
  }, 60_000);

  it('a detached email another identify set as a trait on the kept root: erasing its owner takes it out of the event and the traits', async () => {
    const n = randomBytes(4).toString('hex');
    const ada = { user: `ua2-${n}`, email: `ada2-${n}@example.com` };
    const bob = `bob2-${n}@example.com`;
    const aId = (await stitch(store, event({ type: 'identify', userId: ada.user, traits: { email: ada.email, name: 'Ada' } }), deps))
      .profileId;
    // Ada's account, logged in on Bob's device, sends his email: it links to Ada and becomes her trait.
    const wrong = event({ type: 'identify', userId: ada.user, traits: { email: bob } });
    await stitch(store, wrong, deps);
    await stitch(store, event({ event: 'Order Completed', context: { traits: { email: bob } } }), deps);
    expect((await readProfile(store, `user_id:${ada.user}`)).traits.email?.value).toBe(bob);

    const r = await splitProfile(deps, `user_id:${ada.user}`, { detach: `email:${bob}` });
    expect(r.separated).toEqual([{ profileId: expect.any(String), identifiers: [`email:${bob}`] }]);
    expect((await store.listEvents(aId, 100)).map((e) => e.event.messageId)).toContain(wrong.messageId);

    await eraseProfile(store, `email:${bob}`, { identity: config.identity });
    expect(naming(await tableTexts(), [bob])).toEqual([]);
    await expectStorageInvariants(t.endpoint, t.tableName, { erased: [`email:${bob}`] });
    const kept = await readProfile(store, `user_id:${ada.user}`);
    expect(kept.traits.name?.value).toBe('Ada');
    expect(kept.traits.email).toBeUndefined();
    expect((await store.listEvents(aId, 100)).find((e) => e.event.messageId === wrong.messageId)?.event).toMatchObject({
      userId: ada.user,
      type: 'identify',
    });
  }, 60_000);
});
