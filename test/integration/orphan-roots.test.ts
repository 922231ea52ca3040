/**
 * Issue 18 item 4: two identify calls sharing an email at the same moment resolve to one profile,
 * and no profile root is left behind that no identity item leads to (erasure could not find it).
 */
import { DynamoProfileStore } from '../../adapters/dynamo/profile-store';
import { eraseProfile } from '../../app/erase';
import { stitch } from '../../app/stitch';
import { readProfile } from '../../app/profiles';
import { createTestTable, scanTable, type TestTable } from '../helpers/dynamo';
import { eventFactory } from '../helpers/events';
import { DynamoRejectedStore } from '../../adapters/dynamo/rejected-store';

let t: TestTable;
let store: DynamoProfileStore;
const event = eventFactory();

beforeAll(async () => {
  t = await createTestTable('orphans');
  store = new DynamoProfileStore(t.doc, { tableName: t.tableName });
});
afterAll(() => t.drop());

/** Live roots (not merged away) that no identity item points at. */
async function orphanRoots(): Promise<Record<string, unknown>[]> {
  const items = await scanTable(t.doc, t.tableName);
  const pointedAt = new Set(items.filter((i) => i.sk === 'ID').map((i) => i.pid as string));
  return items.filter((i) => i.sk === 'PROFILE' && !i.mergedInto && !pointedAt.has(i.id as string));
}

describe('concurrent first identifies sharing an email (DynamoDB Local)', () => {
  it('40 pairs at the same moment leave no root without an identity item, and erasure leaves nothing naming them', async () => {
    const pairs = Array.from({ length: 40 }, (_, k) => [
      event({ type: 'identify', event: undefined, anonymousId: `a-${k}`, traits: { email: `k${k}@example.com`, name: `K ${k}` } }),
      event({ type: 'identify', event: undefined, anonymousId: `b-${k}`, traits: { email: `k${k}@example.com`, name: `K ${k}` } }),
    ]);
    await Promise.all(pairs.flat().map((e) => stitch(store, e)));
    for (let k = 0; k < pairs.length; k++) {
      const a = await readProfile(store, `anonymous_id:a-${k}`);
      const b = await readProfile(store, `anonymous_id:b-${k}`);
      expect(b.id).toBe(a.id);
    }
    expect(await orphanRoots()).toEqual([]);

    // Erasing each person leaves no item holding their email.
    const rejected = new DynamoRejectedStore(t.doc, { tableName: t.tableName });
    for (let k = 0; k < 3; k++) await eraseProfile(store, `email:k${k}@example.com`, { rejected });
    const left = JSON.stringify(await scanTable(t.doc, t.tableName));
    for (let k = 0; k < 3; k++) expect(left).not.toContain(`k${k}@example.com`);
  });
});
