/**
 * The profile read against DynamoDB Local: everything in one identity read plus one Query per
 * profile on the pointer chain; traits carry their source and party; the timeline by identifier;
 * timeline events carry the retention TTL.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { localDynamoConfig, meterCapacity, type MeteredCall } from '../../adapters/dynamo/client';
import { DynamoComputedStore } from '../../adapters/dynamo/computed-store';
import { DynamoPersonalizationStore } from '../../adapters/dynamo/personalization-store';
import { DynamoProfileStore } from '../../adapters/dynamo/profile-store';
import { keys } from '../../adapters/dynamo/keys';
import { updateComputed } from '../../app/computed';
import { exportProfile, readProfile, readProfileEvents } from '../../app/profiles';
import { stitch } from '../../app/stitch';
import { DEFAULT_CONFIG } from '../../core/config';
import { NotFoundError, ValidationError } from '../../core/errors';
import type { ScherpEvent } from '../../core/events';
import { createTestTable, type TestTable } from '../helpers/dynamo';

let table: TestTable;
let client: DynamoDBClient;
let calls: MeteredCall[] = [];
let store: DynamoProfileStore;
beforeAll(async () => {
  table = await createTestTable('profiles');
  client = new DynamoDBClient(localDynamoConfig(table.endpoint));
  meterCapacity(client, (c) => calls.push(c));
  store = new DynamoProfileStore(DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }), {
    tableName: table.tableName,
    retentionDays: 30,
  });
});
afterAll(async () => {
  client.destroy();
  await table.drop();
});

let seq = 0;
const uid = (n: string) => `${n}-${Math.random().toString(16).slice(2, 8)}`;
function ev(over: Partial<ScherpEvent>): ScherpEvent {
  const ts = new Date(Date.UTC(2026, 0, 1) + seq++ * 1000).toISOString();
  return {
    type: 'track',
    event: 'Order Completed',
    messageId: `m-${seq}-${Math.random()}`,
    sourceId: 'default',
    party: 'first',
    timestamp: ts,
    receivedAt: ts,
    properties: { revenue: 10 },
    ...over,
  };
}

test('a profile read: traits with source and party, computed, audiences, consent, merged profiles; a fixed number of reads', async () => {
  const anon = uid('a');
  const user = uid('u');
  const computed = { store: new DynamoComputedStore(table.doc, table.tableName), defs: DEFAULT_CONFIG.computed };
  const parts = new DynamoPersonalizationStore(table.doc, table.tableName);
  const events = [
    ev({ anonymousId: anon }),
    ev({
      type: 'identify',
      event: undefined,
      properties: undefined,
      userId: user,
      traits: { name: 'Ada' },
      sourceId: 'src_crm',
      party: 'second',
    }),
    ev({ userId: user, anonymousId: anon, type: 'identify', event: undefined, properties: undefined, traits: { plan: 'pro' } }),
  ];
  let survivor = '';
  for (const e of events) {
    survivor = (await stitch(store, e)).profileId;
  }
  await updateComputed(computed, survivor, await parts.loadParts(survivor), events[0]!);
  await parts.saveAudiences(survivor, { 'high-value': '2026-01-02T00:00:00.000Z' });
  await parts.saveConsent(survivor, { email: { status: 'granted', at: '2026-01-01T00:00:00.000Z' } }, 0);

  calls = [];
  const view = await readProfile(store, `anonymous_id:${anon}`);
  // One identity read and one Query (root and parts together) for a survivor.
  expect(calls.map((c) => c.op)).toEqual(['BatchGetItem', 'Query']);
  expect(view.id).toBe(survivor);
  expect(view.identifiers).toEqual([`anonymous_id:${anon}`, `user_id:${user}`].sort());
  expect(view.traits.name).toEqual({ value: 'Ada', sourceId: 'src_crm', party: 'second', updatedAt: events[1]!.timestamp });
  expect(view.traits.plan).toMatchObject({ value: 'pro', sourceId: 'default', party: 'first' });
  expect(view.computed).toMatchObject({ order_count: 1, lifetime_value: 10 });
  expect(view.audiences).toEqual([{ id: 'high-value', enteredAt: '2026-01-02T00:00:00.000Z' }]);
  expect(view.consent).toEqual({ email: { status: 'granted', at: '2026-01-01T00:00:00.000Z' } });
  expect(view.mergedFrom).toHaveLength(1);

  // Through a merged profile's identifier: one more Query per pointer hop.
  const loser = view.mergedFrom[0]!;
  const loserKey = (await store.getProfiles([loser])).get(loser)!.profile.identifiers[0]!;
  calls = [];
  expect((await readProfile(store, loserKey)).id).toBe(survivor);
  expect(calls.map((c) => c.op)).toEqual(['BatchGetItem', 'Query', 'Query']);

  await expect(readProfile(store, 'user_id:nobody-here')).rejects.toBeInstanceOf(NotFoundError);
  await expect(readProfile(store, 'nonsense')).rejects.toBeInstanceOf(ValidationError);

  // The timeline by identifier, newest first, in pages, across the merged profiles.
  const page1 = await readProfileEvents(store, `user_id:${user}`, { limit: 2 });
  expect(page1.events.map((e) => e.event.messageId)).toEqual([events[2]!.messageId, events[1]!.messageId]);
  const page2 = await readProfileEvents(store, `user_id:${user}`, { limit: 2, cursor: page1.cursor });
  expect(page2.events.map((e) => e.event.messageId)).toEqual([events[0]!.messageId]);
  expect(page2.cursor).toBeUndefined();

  // Export: every partition of the person (survivor and merged), timeline, root, parts, merge record.
  const doc = await exportProfile(store, `user_id:${user}`);
  expect(doc.profile).toEqual(view);
  expect(doc.partitions.map((p) => p.profileId).sort()).toEqual([survivor, loser].sort());
  expect(doc.partitions.flatMap((p) => p.events.map((e) => e.messageId)).sort()).toEqual(events.map((e) => e.messageId).sort());
  const sks = doc.partitions.flatMap((p) => p.items.map((i) => i.sk as string));
  for (const sk of ['PROFILE', 'PROFILE#C', 'PROFILE#AUD#high-value', 'PROFILE#CONSENT']) expect(sks).toContain(sk);
  expect(sks.some((sk) => sk.startsWith('MERGE#'))).toBe(true);
  expect(JSON.stringify(doc)).toContain('Ada');
});

test('timeline events expire after the configured retention (TTL attribute)', async () => {
  const e = ev({ userId: uid('ttl') });
  const r = await stitch(store, e);
  const item = (
    await table.doc.send(new GetCommand({ TableName: table.tableName, Key: keys.event(r.profileId, e.timestamp, e.messageId) }))
  ).Item!;
  expect(item.ttl).toBe(Date.parse(e.timestamp) / 1000 + 30 * 86_400);
  // Profile roots, parts and identities never expire.
  const root = (await table.doc.send(new GetCommand({ TableName: table.tableName, Key: keys.profile(r.profileId) }))).Item!;
  expect(root.ttl).toBeUndefined();
});
