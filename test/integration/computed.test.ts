/**
 * Computed traits against DynamoDB Local, through the evaluate use case as the stream drives
 * it: updated before the rules run, never double counted on redelivery, safe under concurrent
 * writers, combined into the survivor when profiles merge.
 */
import { evaluateEvent, type EvaluateDeps } from '../../app/evaluate';
import { combineMerged, combineMergedConsent } from '../../app/computed';
import { stitch } from '../../app/stitch';
import { DynamoComputedStore } from '../../adapters/dynamo/computed-store';
import { DynamoHistoryStore } from '../../adapters/dynamo/history-store';
import { DynamoPersonalizationStore } from '../../adapters/dynamo/personalization-store';
import { DynamoProfileStore } from '../../adapters/dynamo/profile-store';
import { keys } from '../../adapters/dynamo/keys';
import { DEFAULT_CONFIG } from '../../core/config';
import type { ScherpEvent } from '../../core/events';
import type { MergeRecord } from '../../core/profile';
import { parseDefinition, RuleSet } from '../../core/rules/engine';
import { RecordingBus } from '../helpers/bus';
import { createTestTable, type TestTable } from '../helpers/dynamo';
import { GetCommand } from '@aws-sdk/lib-dynamodb';

let table: TestTable;
beforeAll(async () => {
  table = await createTestTable('computed');
});
afterAll(async () => {
  await table.drop();
});

let seq = 0;
function order(ids: Partial<ScherpEvent>, revenue: number, category = 'diapers'): ScherpEvent {
  const ts = new Date(Date.UTC(2026, 0, 1) + seq++ * 1000).toISOString();
  return {
    type: 'track',
    event: 'Order Completed',
    messageId: `m-${seq}-${Math.random()}`,
    sourceId: 'default',
    timestamp: ts,
    receivedAt: ts,
    properties: { revenue, products: [{ product_id: `p-${category}`, category }] },
    ...ids,
  };
}
const uid = (n: string) => `${n}-${Math.random().toString(16).slice(2, 8)}`;

function setup() {
  const store = new DynamoProfileStore(table.doc, { tableName: table.tableName });
  const parts = new DynamoPersonalizationStore(table.doc, table.tableName);
  const computedStore = new DynamoComputedStore(table.doc, table.tableName);
  const bus = new RecordingBus();
  const set = new RuleSet([
    parseDefinition({
      kind: 'audience',
      id: 'high-value',
      name: 'High value',
      condition: { path: 'profile.computed.lifetime_value', op: 'gt', value: 500 },
    }),
  ]);
  const deps: EvaluateDeps = {
    store,
    bus,
    parts,
    history: new DynamoHistoryStore(table.doc, table.tableName),
    rules: async () => set,
    scheduler: { schedule: async () => undefined },
    computed: { store: computedStore, defs: DEFAULT_CONFIG.computed },
  };
  const deliver = async (e: ScherpEvent) => {
    const r = await stitch(store, e);
    await evaluateEvent(deps, r.profileId, e);
    return r;
  };
  return { deps, store, parts, computedStore, bus, deliver };
}

test('orders push lifetime_value over 500: the audience is entered by the same event; redelivery counts nothing twice', async () => {
  const s = setup();
  const user = uid('ltv');
  const r = await s.deliver(order({ userId: user }, 300));
  const second = order({ userId: user }, 250, 'toys');
  await s.deliver(second);
  expect(s.bus.entries.filter((e) => e.detailType === 'Audience Entered')).toHaveLength(1);
  const before = (await s.parts.loadParts(r.profileId)).computed;
  expect(before).toMatchObject({
    lifetime_value: 550,
    order_count: 2,
    event_count: 2,
    purchased_categories: ['diapers', 'toys'],
    last_order_products: [{ product_id: 'p-toys', category: 'toys' }],
  });
  // The stream delivers the record again (a retry after a later failure): nothing changes.
  await evaluateEvent(s.deps, r.profileId, second);
  await evaluateEvent(s.deps, r.profileId, second);
  expect((await s.parts.loadParts(r.profileId)).computed).toEqual(before);
  // The item stays small and keeps its bookkeeping out of the values rules see.
  const item = (await table.doc.send(new GetCommand({ TableName: table.tableName, Key: keys.computed(r.profileId) }))).Item!;
  expect(JSON.stringify(item).length).toBeLessThan(1024);
  expect(Object.keys(before).some((k) => k.startsWith('_') || k === 'ver')).toBe(false);
});

test('concurrent events on one profile are all counted (conditional writes retry)', async () => {
  const s = setup();
  const user = uid('parallel');
  const r = await s.deliver(order({ userId: user }, 1));
  const events = Array.from({ length: 8 }, () => order({ userId: user }, 1));
  for (const e of events) await stitch(s.store, e);
  await Promise.all(events.map((e) => evaluateEvent(s.deps, r.profileId, e)));
  expect((await s.parts.loadParts(r.profileId)).computed).toMatchObject({ order_count: 9, lifetime_value: 9 });
});

test('a merge combines the computed traits into the survivor, once', async () => {
  const s = setup();
  const anon = uid('anon');
  const user = uid('user');
  const a = await s.deliver(order({ anonymousId: anon }, 100, 'toys'));
  // Consent given while anonymous.
  await s.parts.saveConsent(a.profileId, { email: { status: 'granted', at: '2026-01-01T00:00:00.000Z' } }, 0);
  await s.deliver(order({ anonymousId: anon }, 20, 'toys'));
  const u = await s.deliver(order({ userId: user }, 400, 'diapers'));
  expect(a.profileId).not.toBe(u.profileId);
  const link: ScherpEvent = { ...order({ userId: user, anonymousId: anon }, 0), type: 'identify', event: undefined, properties: undefined };
  const m = await stitch(s.store, link);
  expect(m.merged).toHaveLength(1);
  const record: MergeRecord = {
    profileId: m.profileId,
    at: link.timestamp,
    messageId: link.messageId,
    eventTimestamp: link.timestamp,
    merged: m.merged,
    identifiers: [],
    refused: [],
  };
  // As the stream delivers it: the merge record first (same partition, written first), then the event; then a redelivery.
  await combineMerged(s.deps.computed!, s.store, record);
  await combineMergedConsent(s.parts, s.store, record);
  await evaluateEvent(s.deps, m.profileId, link);
  await combineMerged(s.deps.computed!, s.store, record);
  await combineMergedConsent(s.parts, s.store, record);
  expect((await s.parts.loadParts(m.profileId)).consent).toEqual({ email: { status: 'granted', at: '2026-01-01T00:00:00.000Z' } });
  const c = (await s.parts.loadParts(m.profileId)).computed;
  expect(c).toMatchObject({ lifetime_value: 520, order_count: 3, event_count: 4, purchased_categories: ['diapers', 'toys'] });
  // The merged total crossed 500: the audience of the survivor is entered on the merging event.
  expect(s.bus.entries.filter((e) => e.detailType === 'Audience Entered' && e.detail.profileId === m.profileId)).toHaveLength(1);
});
