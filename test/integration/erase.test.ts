/**
 * Erasure against DynamoDB Local: an erasure that fails half way can be repeated with the same
 * key and finishes; another person's items are never touched.
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoProfileStore } from '../../adapters/dynamo/profile-store';
import { eraseProfile } from '../../app/erase';
import { stitch } from '../../app/stitch';
import { NotFoundError } from '../../core/errors';
import { eventFactory } from '../helpers/events';
import { createTestTable, type TestTable } from '../helpers/dynamo';

let t: TestTable;
let store: DynamoProfileStore;
const event = eventFactory();

beforeAll(async () => {
  t = await createTestTable('erase');
  store = new DynamoProfileStore(t.doc, { tableName: t.tableName });
});
afterAll(async () => t?.drop());

async function itemsNaming(...values: string[]): Promise<string[]> {
  const res = await t.doc.send(new ScanCommand({ TableName: t.tableName, ConsistentRead: true }));
  return (res.Items ?? []).map((i) => JSON.stringify(i)).filter((s) => values.some((v) => s.includes(v)));
}

describe('eraseProfile (DynamoDB)', () => {
  it('a retry after a failure in any step finishes the erasure; the other person is untouched', async () => {
    for (const failAt of [1, 2, 3, 4]) {
      const [anon, user, other] = [`anon-f${failAt}`, `user-f${failAt}`, `other-f${failAt}`];
      await stitch(store, event({ anonymousId: anon, type: 'page' }));
      await stitch(store, event({ userId: user, type: 'identify', traits: { email: `${user}@example.com` } }));
      await stitch(store, event({ userId: user, anonymousId: anon }));
      await stitch(store, event({ userId: other }));
      // The failAt-th delete call fails once.
      let calls = 0;
      const faulty = new Proxy(store, {
        get(target, prop, receiver) {
          const v = Reflect.get(target, prop, receiver);
          if (prop !== 'erasePartition' && prop !== 'eraseIdentities') return typeof v === 'function' ? v.bind(target) : v;
          return async (...args: unknown[]) => {
            if (++calls === failAt) throw new Error('injected fault');
            return (v as (...a: unknown[]) => Promise<number>).apply(target, args);
          };
        },
      });
      await expect(eraseProfile(faulty, `user_id:${user}`)).rejects.toThrow('injected fault');
      expect((await eraseProfile(store, `user_id:${user}`)).erased.items).toBeGreaterThan(0);
      expect(await itemsNaming(anon, `${user}@`, `"${user}`, `#${user}`)).toEqual([]);
      await expect(eraseProfile(store, `user_id:${user}`)).rejects.toThrow(NotFoundError);
      expect((await itemsNaming(other)).length).toBeGreaterThan(0);
    }
  }, 60_000);
});
