/**
 * Erasure of a person whose identifiers another profile refused (issue 17): a quarantined shared
 * test account and a profile at the merge cap each refuse an identifier of person X and keep the
 * refusal record and the event in their own partition. After X is erased, no attribute of any
 * item of the table (event payloads inflated) holds a value of X's, the refusal records keep a
 * digest only, and explain still shows each refusal (type, digest, event, time).
 */
import { randomBytes } from 'node:crypto';
import { DynamoProfileStore } from '../../adapters/dynamo/profile-store';
import { eraseProfile } from '../../app/erase';
import { explainIdentity } from '../../app/identity-graph';
import { readProfile } from '../../app/profiles';
import { stitch } from '../../app/stitch';
import { parseConfig } from '../../core/config';
import { identifierDigest } from '../../core/identity';
import { expectStorageInvariants } from '../helpers/check';
import { createTestTable, scanTable, type TestTable } from '../helpers/dynamo';
import { eventFactory } from '../helpers/events';
import { naming, tableTexts as tableTextsOf } from '../helpers/table-texts';

let t: TestTable;
let store: DynamoProfileStore;
const event = eventFactory();

beforeAll(async () => {
  t = await createTestTable('erase-refused');
  store = new DynamoProfileStore(t.doc, { tableName: t.tableName });
});
afterAll(() => t.drop());

const tableTexts = () => tableTextsOf(t.doc, t.tableName);

describe('erasing a person another profile refused links of', () => {
  it('leaves no value of theirs anywhere in the table; the refusals stay explained by type and digest', async () => {
    const n = randomBytes(4).toString('hex');
    // A shared test account trips the breaker after 3 new anonymous ids within the window.
    const shared = parseConfig({
      identity: { types: { anonymous_id: { limit: 1000 } }, quarantine: { identifiers: 3, windowSeconds: 3600 } },
    }).identity;
    const capped = parseConfig({ identity: { maxMergesPerProfile: 1 } }).identity;

    // Person X: an anonymous id and an email, one profile.
    const x = { anon: `xanon-${n}`, email: `xperson-${n}@example.com` };
    const xProfile = (
      await stitch(store, event({ type: 'identify', anonymousId: x.anon, traits: { email: x.email } }), { identity: shared })
    ).profileId;

    // The test account gains anonymous ids until the breaker holds it.
    for (let i = 0; i < 5; i++) await stitch(store, event({ userId: `test-${n}`, anonymousId: `tester${i}-${n}` }), { identity: shared });
    const testAccount = await readProfile(store, `user_id:test-${n}`, shared);
    expect((await explainIdentity(store, `user_id:test-${n}`, shared)).quarantine).toMatchObject({ reason: 'identifiers', limit: 3 });
    // X uses the test account: the link to X's profile is refused into the quarantined account.
    const onTest = event({ userId: `test-${n}`, anonymousId: x.anon, properties: { note: `left by ${x.anon}` } });
    const r1 = await stitch(store, onTest, { identity: shared });
    expect(r1.profileId).toBe(testAccount.id);
    expect(r1.dropped).toEqual([{ id: { type: 'anonymous_id', value: x.anon }, reason: 'quarantine', into: testAccount.id }]);

    // A profile at the merge cap refuses X's email (the event names it in context, not as a trait).
    await stitch(store, event({ userId: `capped-${n}` }), { identity: capped });
    await stitch(store, event({ anonymousId: `cap1-${n}` }), { identity: capped });
    await stitch(store, event({ userId: `capped-${n}`, anonymousId: `cap1-${n}` }), { identity: capped });
    const onCapped = event({ userId: `capped-${n}`, context: { traits: { email: x.email } } });
    const r2 = await stitch(store, onCapped, { identity: capped });
    expect(r2.dropped).toEqual([{ id: { type: 'email', value: x.email }, reason: 'merge_cap' }]);
    expect((await readProfile(store, `email:${x.email}`, capped)).id).toBe(xProfile);

    // Before the erasure both partitions name X (the events carry X's values; the records a digest only).
    const values = [x.anon, x.email];
    expect(naming(await tableTexts(), values).length).toBeGreaterThan(0);
    const refs = [`anonymous_id#${identifierDigest(`anonymous_id:${x.anon}`)}`, `email#${identifierDigest(`email:${x.email}`)}`];
    const records = (await scanTable(t.doc, t.tableName)).filter((i) => String(i.sk).startsWith('MERGE#'));
    expect(records.find((r) => r.mid === onTest.messageId)?.qref).toEqual([refs[0]]);
    expect(records.find((r) => r.mid === onCapped.messageId)?.refused).toEqual([refs[1]]);

    await eraseProfile(store, `anonymous_id:${x.anon}`, { identity: shared });

    // Nothing of X's anywhere: no attribute, no event payload.
    expect(naming(await tableTexts(), values)).toEqual([]);
    await expectStorageInvariants(t.endpoint, t.tableName, { erased: [`anonymous_id:${x.anon}`, `email:${x.email}`] });

    // The other profiles keep their events (only X's values left out of them) and explain the refusals.
    const testTimeline = await store.listEvents(testAccount.id, 100);
    const kept = testTimeline.find((e) => e.event.messageId === onTest.messageId)?.event;
    expect(kept).toMatchObject({ userId: `test-${n}`, messageId: onTest.messageId });
    expect(kept?.anonymousId).toBeUndefined();
    const g = await explainIdentity(store, `user_id:test-${n}`, shared);
    expect(g.refused.find((r) => r.linkedBy.messageId === onTest.messageId)).toEqual({
      at: expect.any(String),
      profileId: testAccount.id,
      reason: 'quarantine',
      identifiers: [],
      others: [{ type: 'anonymous_id', digest: identifierDigest(`anonymous_id:${x.anon}`) }],
      linkedBy: { messageId: onTest.messageId, sourceId: onTest.sourceId, timestamp: onTest.timestamp },
    });
    const c = await explainIdentity(store, `user_id:capped-${n}`, capped);
    expect(c.refused).toEqual([
      expect.objectContaining({
        reason: 'merge_cap',
        identifiers: [],
        others: [{ type: 'email', digest: identifierDigest(`email:${x.email}`) }],
        linkedBy: { messageId: onCapped.messageId, sourceId: onCapped.sourceId, timestamp: onCapped.timestamp },
      }),
    ]);
    // A repeated erasure finds nobody.
    await expect(eraseProfile(store, `anonymous_id:${x.anon}`, { identity: shared })).rejects.toThrow();
  }, 30_000);
});
