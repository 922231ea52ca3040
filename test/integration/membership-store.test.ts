/**
 * The membership items against DynamoDB Local: each is its own serialisation point (entering
 * only when not a member as read, leaving only when a member), the counts move exactly with the
 * items, a left membership drops out of the `members` index, and a batch is all or nothing. The
 * table's storage invariants (`membership_mismatch` among them) are checked when it is dropped.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { keys, MEMBERS_INDEX_PK, TTL_ATTRIBUTE } from '../../adapters/dynamo/keys';
import { DynamoMembershipStore } from '../../adapters/dynamo/membership-store';
import { DynamoPersonalizationStore } from '../../adapters/dynamo/personalization-store';
import { DynamoProfileStore } from '../../adapters/dynamo/profile-store';
import { stitch } from '../../app/stitch';
import type { ScherpEvent } from '../../core/events';
import { summarise } from '../../core/audiences';
import { createTestTable, type TestTable } from '../helpers/dynamo';

let table: TestTable;
let parts: DynamoPersonalizationStore;
let members: DynamoMembershipStore;
const at = '2026-12-01T10:00:00.000Z';

beforeAll(async () => {
  table = await createTestTable('membership');
  parts = new DynamoPersonalizationStore(table.doc, table.tableName);
  members = new DynamoMembershipStore(table.doc, table.tableName);
});
afterAll(() => table.drop());

/** A live profile (its root), as stitch makes one from a first event. */
async function profile(name: string): Promise<string> {
  const e = { type: 'identify', userId: name, messageId: `m-${name}`, sourceId: 'default', timestamp: at, receivedAt: at } as ScherpEvent;
  return (await stitch(new DynamoProfileStore(table.doc, { tableName: table.tableName }), e)).profileId;
}

const count = async (audienceId: string) => summarise(audienceId, audienceId, await members.counters(audienceId, at), at).count;
const listed = async (audienceId: string) => (await members.listMembers(audienceId, 100)).members.map((m) => m.profileId).sort();

test('entering and leaving are conditional on the membership as read; counts and listing follow the items', async () => {
  const pa = await profile('a');
  expect(await parts.saveAudiences(pa, { vip: at }, { previous: {}, at })).toBe(true);
  // A second writer that read "not a member" too is refused: nothing written, the count stays 1.
  expect(await parts.saveAudiences(pa, { vip: at }, { previous: {}, at })).toBe(false);
  expect(await count('vip')).toBe(1);
  expect((await parts.loadParts(pa)).audiences).toEqual({ vip: at });

  const later = '2026-12-01T11:00:00.000Z';
  expect(await parts.saveAudiences(pa, {}, { previous: { vip: at }, at: later })).toBe(true);
  // Leaving again from the stale read is refused.
  expect(await parts.saveAudiences(pa, {}, { previous: { vip: at }, at: later })).toBe(false);
  expect(await count('vip')).toBe(0);
  expect(await listed('vip')).toEqual([]);
  expect({ ...(await parts.loadParts(pa)).audiences }).toEqual({});
  // What is left of it: out of the index, gone by TTL a day later.
  const left = (await table.doc.send(new GetCommand({ TableName: table.tableName, Key: keys.membership(pa, 'vip') }))).Item!;
  expect(left[MEMBERS_INDEX_PK]).toBeUndefined();
  expect(left.at).toBeUndefined();
  expect(left[TTL_ATTRIBUTE]).toBe(Date.parse(later) / 1000 + 86_400);

  // Entering again after leaving.
  expect(await parts.saveAudiences(pa, { vip: later }, { previous: {}, at: later })).toBe(true);
  expect(await count('vip')).toBe(1);
  expect(await listed('vip')).toEqual([pa]);
});

test('audience ids that are prototype names are plain audiences', async () => {
  const pp = await profile('proto');
  const names = ['toString', '__proto__', 'constructor', 'hasOwnProperty'];
  const next = Object.fromEntries(names.map((n) => [n, at]));
  expect(await parts.saveAudiences(pp, next, { previous: {}, at })).toBe(true);
  const got = (await parts.loadParts(pp)).audiences;
  expect(Object.keys(got).sort()).toEqual([...names].sort());
  for (const n of names) {
    expect(got[n]).toBe(at);
    expect(await count(n)).toBe(1);
    expect(await listed(n)).toEqual([pp]);
  }
});

test('a batch is all or nothing: one profile whose membership moved on, and no profile of it is written', async () => {
  const [p1, p2, moved] = [await profile('1'), await profile('2'), await profile('moved')];
  await parts.saveAudiences(moved, { gold: at }, { previous: {}, at });
  const change = (profileId: string) => ({ profileId, audienceId: 'gold', entered: true, previous: {}, next: { gold: at } });
  expect(await parts.saveAudiencesBatch([change(p1), change(moved), change(p2)], at, 3)).toBe(false);
  expect(await listed('gold')).toEqual([moved]);
  expect(await count('gold')).toBe(1);
  expect(await parts.saveAudiencesBatch([change(p1), change(p2)], at, 3)).toBe(true);
  expect(await listed('gold')).toEqual([p1, p2, moved].sort());
  expect(await count('gold')).toBe(3);
});
