/**
 * The identity circuit breaker against DynamoDB Local (`core/breaker.ts`, `app/quarantine.ts`):
 * a kiosk's device id seen with the anonymous ids of 50 visitors.
 */
import { randomBytes } from 'node:crypto';
import { DynamoProfileStore } from '../../adapters/dynamo/profile-store';
import { explainIdentity } from '../../app/identity-graph';
import { mergeBusEntries } from '../../app/merges';
import { releaseQuarantine } from '../../app/quarantine';
import { readProfile } from '../../app/profiles';
import { stitch } from '../../app/stitch';
import { parseConfig } from '../../core/config';
import { DETAIL_SCHEMAS } from '../../core/rules/contract';
import { createTestTable, type TestTable } from '../helpers/dynamo';
import { eventFactory } from '../helpers/events';

let t: TestTable;
let store: DynamoProfileStore;
const event = eventFactory();

beforeAll(async () => {
  t = await createTestTable('quarantine');
  store = new DynamoProfileStore(t.doc, { tableName: t.tableName });
});
afterAll(() => t.drop());

// Anonymous ids without a per-type limit in the way, so only the breaker stops the kiosk.
const identity = parseConfig({
  identity: { types: { anonymous_id: { limit: 1000 } }, quarantine: { merges: 5, windowSeconds: 3600 } },
}).identity;

describe('the circuit breaker', () => {
  it('quarantines a kiosk after the configured merges within the window; later visitors keep their own profiles', async () => {
    const n = randomBytes(4).toString('hex');
    const kiosk = `kiosk-${n}`;
    const visitors = Array.from({ length: 50 }, (_, i) => `v${i}-${n}`);
    const own = new Map<string, string>();
    for (const v of visitors) {
      // Each visitor browsed on their own phone first, then used the kiosk.
      own.set(v, (await stitch(store, event({ anonymousId: v }), { identity })).profileId);
      await stitch(store, event({ anonymousId: v, context: { device: { id: kiosk } } }), { identity });
    }
    const kioskProfile = await readProfile(store, `device_id:${kiosk}`, identity);
    // The first visitor's profile took the kiosk's id, then absorbed 5 more visitors: the 6th merge tripped it.
    expect(kioskProfile.mergedFrom).toHaveLength(5);
    expect(kioskProfile.identifiers.filter((k) => k.startsWith('anonymous_id:'))).toHaveLength(6);
    for (const v of visitors.slice(6)) {
      const p = await readProfile(store, `anonymous_id:${v}`, identity);
      expect(p.id).toBe(own.get(v));
      expect(p.identifiers).toEqual([`anonymous_id:${v}`]);
    }
    const g = await explainIdentity(store, `device_id:${kiosk}`, identity);
    expect(g.quarantine).toMatchObject({ reason: 'merges', count: 6, limit: 5, windowSeconds: 3600 });
    expect(g.merges).toHaveLength(5);
    // Every refused link is recorded, with the event.
    expect(g.refused.filter((r) => r.reason === 'quarantine')).toHaveLength(44);
    expect(g.refused.every((r) => r.identifiers.length === 1 && r.identifiers[0] === `device_id:${kiosk}`)).toBe(true);

    // A visitor new to everything at the kiosk gets a profile of their own.
    const fresh = await stitch(store, event({ anonymousId: `new-${n}`, context: { device: { id: kiosk } } }), { identity });
    expect(fresh.profileId).not.toBe(kioskProfile.id);
    expect(fresh.dropped).toEqual([{ id: { type: 'device_id', value: kiosk }, reason: 'quarantine', into: kioskProfile.id }]);
    // Events with only the kiosk's id stay on it.
    expect((await stitch(store, event({ context: { device: { id: kiosk } }, anonymousId: undefined }), { identity })).profileId).toBe(
      kioskProfile.id,
    );
  });

  it('announces Identity Anomaly once, from the record of the event that tripped it', async () => {
    const n = randomBytes(4).toString('hex');
    const cfg = parseConfig({ identity: { types: { anonymous_id: { limit: 1000 } }, quarantine: { merges: 1 } } }).identity;
    for (const v of ['a', 'b', 'c', 'd']) {
      await stitch(store, event({ anonymousId: `${v}-${n}` }), { identity: cfg });
      await stitch(store, event({ anonymousId: `${v}-${n}`, context: { device: { id: `k-${n}` } } }), { identity: cfg });
    }
    const p = await readProfile(store, `device_id:k-${n}`, cfg);
    const parts = await store.readPartition(p.id);
    const records = parts.items.filter((i) => String(i.sk).startsWith('MERGE#'));
    const { fromMergeRecordItem } = await import('../../adapters/dynamo/profile-store');
    const entries = records.flatMap((r) => mergeBusEntries(fromMergeRecordItem({ pk: `P#${p.id}`, ...r } as never)));
    const anomalies = entries.filter((e) => e.detailType === 'Identity Anomaly');
    expect(anomalies).toHaveLength(1);
    expect(DETAIL_SCHEMAS['Identity Anomaly'].strict().safeParse(anomalies[0]!.detail).success).toBe(true);
    expect(anomalies[0]!.detail).toMatchObject({ profileId: p.id, reason: 'merges', count: 2, limit: 1 });
    expect(JSON.stringify(anomalies)).not.toContain(n);
  });

  it('an admin releases it: merges link again, with a fresh window; a repeated release is a no-op', async () => {
    const n = randomBytes(4).toString('hex');
    const cfg = parseConfig({ identity: { types: { anonymous_id: { limit: 1000 } }, quarantine: { merges: 1 } } }).identity;
    for (const v of ['a', 'b', 'c']) {
      await stitch(store, event({ anonymousId: `${v}-${n}` }), { identity: cfg });
      await stitch(store, event({ anonymousId: `${v}-${n}`, context: { device: { id: `k-${n}` } } }), { identity: cfg });
    }
    const before = await readProfile(store, `device_id:k-${n}`, cfg);
    expect(before.mergedFrom).toHaveLength(1);
    expect(await releaseQuarantine(store, `device_id:k-${n}`, cfg)).toEqual({ profileId: before.id, released: true });
    expect(await releaseQuarantine(store, `device_id:k-${n}`, cfg)).toEqual({ profileId: before.id, released: false });
    expect((await explainIdentity(store, `device_id:k-${n}`, cfg)).quarantine).toBeUndefined();
    // c's kiosk event links now.
    await stitch(store, event({ anonymousId: `c-${n}`, context: { device: { id: `k-${n}` } } }), { identity: cfg });
    expect((await readProfile(store, `device_id:k-${n}`, cfg)).mergedFrom).toHaveLength(2);
  });
});
