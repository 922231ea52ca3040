/**
 * Erasure against DynamoDB Local: an erasure that fails half way can be repeated with the same
 * key and finishes; the rejected events naming the person go too, in whatever form they named
 * them; another person's items are never touched.
 */
import { DynamoProfileStore } from '../../adapters/dynamo/profile-store';
import { DynamoRejectedStore, TTL_LAG_DAYS } from '../../adapters/dynamo/rejected-store';
import { payloadPreview } from '../../app/collect';
import { eraseProfile } from '../../app/erase';
import { exportProfile } from '../../app/profiles';
import type { RejectedRecord, RejectedStore } from '../../app/ports';
import { stitch } from '../../app/stitch';
import { NotFoundError } from '../../core/errors';
import { payloadMatcher } from '../../core/mentions';
import { eventFactory } from '../helpers/events';
import { createTestTable, scanTable, type TestTable } from '../helpers/dynamo';

let t: TestTable;
let store: DynamoProfileStore;
let rejected: DynamoRejectedStore;
const event = eventFactory();
const DAY_MS = 86_400_000;

beforeAll(async () => {
  t = await createTestTable('erase');
  store = new DynamoProfileStore(t.doc, { tableName: t.tableName });
  rejected = new DynamoRejectedStore(t.doc, { tableName: t.tableName });
});
afterAll(async () => t?.drop());

/** Every item of the table as JSON text. */
const scan = () => scanOf(t);

/** Items naming any of the values, compared case-insensitively. */
async function itemsNaming(...values: string[]): Promise<string[]> {
  return (await scan()).filter((s) => values.some((v) => s.toLowerCase().includes(v.toLowerCase())));
}

/** Rejected-event items naming any of the values. */
async function rejectedNaming(...values: string[]): Promise<string[]> {
  return (await itemsNaming(...values)).filter((s) => s.includes('"pk":"REJ#'));
}

let requests = 0;
/** A rejected event as collect keeps it, received `daysAgo` days ago. */
function rejectedEvent(payload: unknown, daysAgo = 0): RejectedRecord {
  return {
    sourceId: 'web',
    route: 'track',
    index: 0,
    issues: [{ path: 'event', message: 'is required for track' }],
    payload: payloadPreview(payload),
    receivedAt: new Date(Date.now() - daysAgo * DAY_MS).toISOString(),
    requestId: `req-${++requests}`,
  };
}

describe('eraseProfile (DynamoDB)', () => {
  it('a retry after a failure in any step finishes the erasure, rejected events naming the person included; the other person is untouched', async () => {
    // Call 1 is the rejected-event erasure, calls 2-5 the identity and partition deletes.
    for (const failAt of [1, 2, 3, 4, 5]) {
      const [anon, user, other] = [`anon-f${failAt}`, `user-f${failAt}`, `other-f${failAt}`];
      const phone = { stored: `+1201555014${failAt}`, national: `(201) 555-014${failAt}` };
      await stitch(store, event({ anonymousId: anon, type: 'page' }));
      await stitch(store, event({ userId: user, type: 'identify', traits: { email: `${user}@example.com`, phone: phone.stored } }));
      await stitch(store, event({ userId: user, anonymousId: anon }));
      await stitch(store, event({ userId: other, type: 'identify', traits: { email: `${other}@example.com` } }));
      // Bad calls naming the person: by email in another case, by phone in national format, by
      // userId, and one cut to size; and one of the other person's.
      await rejected.save([
        rejectedEvent({ type: 'track', properties: { buyer: { email: `${user.toUpperCase()}@Example.COM` } } }),
        rejectedEvent({ type: 'track', anonymousId: `x-${failAt}`, context: { traits: { phone: phone.national } } }, 3),
        rejectedEvent({ type: 'track', userId: user, properties: { note: 'y'.repeat(5000) } }, 6),
        rejectedEvent({ type: 'track', userId: other, properties: { email: `${other}@example.com` } }),
      ]);
      expect(await rejectedNaming(`${user}@`, phone.national, `"${user}`)).toHaveLength(3);

      // The failAt-th delete call fails once.
      let calls = 0;
      const fail =
        <A extends unknown[]>(f: (...a: A) => Promise<number>) =>
        async (...args: A): Promise<number> => {
          if (++calls === failAt) throw new Error('injected fault');
          return f(...args);
        };
      const faulty = new Proxy(store, {
        get(target, prop, receiver) {
          const v = Reflect.get(target, prop, receiver);
          if (prop !== 'erasePartition' && prop !== 'eraseIdentities') return typeof v === 'function' ? v.bind(target) : v;
          return fail((v as (...a: unknown[]) => Promise<number>).bind(target));
        },
      });
      const faultyRejected: RejectedStore = Object.assign(Object.create(rejected) as RejectedStore, {
        eraseMatching: fail(rejected.eraseMatching.bind(rejected)),
      });
      await expect(eraseProfile(faulty, `user_id:${user}`, { rejected: faultyRejected })).rejects.toThrow('injected fault');
      const result = await eraseProfile(store, `user_id:${user}`, { rejected });
      expect(result.erased.items).toBeGreaterThan(0);
      // The first attempt got past the rejected events unless it failed there.
      expect(result.erased.rejected).toBe(failAt === 1 ? 3 : 0);

      expect(await itemsNaming(anon, `${user}@`, `"${user}`, `#${user}`, phone.stored, phone.national)).toEqual([]);
      await expect(eraseProfile(store, `user_id:${user}`, { rejected })).rejects.toThrow(NotFoundError);
      expect((await itemsNaming(other)).length).toBeGreaterThan(0);
      // The other person's rejected event is still there.
      expect(await rejectedNaming(other)).toHaveLength(1);
    }
  }, 60_000);

  it('export lists the rejected events naming the person, and only those', async () => {
    const user = 'exported-user';
    await stitch(store, event({ userId: user, type: 'identify', traits: { email: 'Exported@Example.com' } }));
    await rejected.save([
      rejectedEvent({ type: 'track', traits: { email: ' EXPORTED@example.com' } }, 1),
      rejectedEvent({ type: 'track', userId: 'someone-else' }),
    ]);
    const doc = await exportProfile(store, `email:exported@example.com`, undefined, { rejected });
    expect(doc.rejected.map((r) => JSON.parse(r.payload))).toEqual([{ type: 'track', traits: { email: ' EXPORTED@example.com' } }]);
    expect((await exportProfile(store, `user_id:${user}`)).rejected).toEqual([]);
  });
});

describe('DynamoRejectedStore: finding and erasing the records naming someone', () => {
  it('reads every day an item may still be in across pages, deletes exactly the matching items in batches, and leaves the rest', async () => {
    const local = await createTestTable('rejected');
    try {
      const retentionDays = 3;
      const store = new DynamoRejectedStore(local.doc, { tableName: local.tableName, retentionDays });
      // Over 1 MB in one day's partition (several Query pages), 40 of them naming the person,
      // spread through it and over every retained day and the days expired items may linger;
      // and one older than that.
      const filler = 'z'.repeat(3500);
      const days = retentionDays + 1 + TTL_LAG_DAYS;
      const records = Array.from({ length: 360 }, (_, i) =>
        rejectedEvent(
          { type: 'track', userId: i % 9 === 0 ? 'ada-1815' : `bob-${i}`, properties: { filler } },
          i % 9 === 0 ? (i / 9) % days : 0,
        ),
      );
      const old = rejectedEvent({ type: 'track', userId: 'ada-1815' }, days);
      await store.save([...records, old]);
      const matches = payloadMatcher([{ type: 'user_id', value: 'ada-1815' }]);

      const found = await store.listMatching(matches);
      expect(found).toHaveLength(40);
      expect(found.every((r) => r.payload.includes('ada-1815'))).toBe(true);
      // Newest day first.
      expect(found.map((r) => r.receivedAt)).toEqual([...found.map((r) => r.receivedAt)].sort().reverse());

      expect(await store.eraseMatching(matches)).toBe(40);
      expect(await store.listMatching(matches)).toEqual([]);
      expect(await store.eraseMatching(matches)).toBe(0);
      const left = await scanOf(local);
      expect(left.filter((s) => s.includes('bob-'))).toHaveLength(320);
      // Older than any item should still be: not searched.
      expect(left.filter((s) => s.includes('ada-1815'))).toHaveLength(1);
    } finally {
      await local.drop();
    }
  }, 60_000);
});

async function scanOf(table: TestTable): Promise<string[]> {
  return (await scanTable(table.doc, table.tableName)).map((i) => JSON.stringify(i));
}
