/**
 * What evaluate asks of the stores, counted through port doubles: a stream batch holding a
 * browser session (20 events of one person) reads the profile once per event (root and parts in
 * one Query) and writes its computed traits once, while every rule still sees the values after
 * its own event; a failed write is retried from the first record that changed that profile.
 */
import type { DynamoDBRecord } from 'aws-lambda';
import { marshall } from '@aws-sdk/util-dynamodb';
import { encodeEvent } from '../../adapters/dynamo/event-codec';
import type { EvaluateDeps } from '../../app/evaluate';
import type { BusEntry, ComputedStore, PersonalizationStore, ProfileParts, ProfileReader, StoredComputed } from '../../app/ports';
import { stitch } from '../../app/stitch';
import { DEFAULT_CONFIG } from '../../core/config';
import { dict } from '../../core/dict';
import { parseDefinition, RuleSet } from '../../core/rules/engine';
import { createEvaluateHandler } from '../../lambdas/evaluate';
import { eventFactory } from '../helpers/events';
import { MemoryProfileStore } from '../helpers/memory-store';

function doubles() {
  const store = new MemoryProfileStore();
  const computed = new Map<string, StoredComputed>();
  const log = { computedSaves: 0, computedLoads: 0, profileQueries: 0, published: [] as BusEntry[], refuseNextSave: false };
  const computedStore: ComputedStore = {
    async load(ids) {
      log.computedLoads++;
      return new Map(ids.flatMap((id) => (computed.has(id) ? [[id, computed.get(id)!] as const] : [])));
    },
    async save(id, state, expectedVersion) {
      log.computedSaves++;
      if (log.refuseNextSave) {
        log.refuseNextSave = false;
        return false;
      }
      if ((computed.get(id)?.version ?? 0) !== expectedVersion) return false;
      computed.set(id, { state, version: expectedVersion + 1 });
      return true;
    },
  };
  const partsOf = (id: string): ProfileParts => {
    const c = computed.get(id);
    return {
      computed: dict(c?.state.values ?? {}),
      ...(c ? { computedState: c } : {}),
      audiences: dict(),
      audiencesVersion: 0,
      consent: dict(),
      consentVersion: 0,
      recommendations: dict(),
    };
  };
  const parts: PersonalizationStore = {
    loadParts: async (id) => partsOf(id),
    saveConsent: async () => true,
    saveAudiences: async () => true,
    putRecommendation: async () => undefined,
    claimFiring: async () => 'claimed',
  };
  const reader: ProfileReader = {
    async loadProfileWithParts(id) {
      log.profileQueries++;
      const stored = (await store.getProfiles([id])).get(id);
      return stored && { stored, parts: partsOf(id) };
    },
    readPartition: async () => {
      throw new Error('not used');
    },
  };
  // Fires at the event that makes the count 21: the rules see the batch's values.
  const rules = new RuleSet([
    parseDefinition({
      id: 'count-21',
      name: 'count-21',
      enabled: true,
      trigger: { types: ['track'] },
      condition: { path: 'profile.computed.event_count', op: 'eq', value: 21 },
      actions: [{ type: 'emit', action: 'count-21' }],
    }),
  ]);
  const deps: EvaluateDeps = {
    store,
    reader,
    parts,
    bus: { publish: async (entries) => void log.published.push(...entries) },
    rules: async () => rules,
    history: { load: async () => [], listProfileIds: async () => ({ ids: [] }) },
    scheduler: { schedule: async () => undefined },
    computed: { store: computedStore, defs: DEFAULT_CONFIG.computed },
  };
  return { store, computed, log, handler: createEvaluateHandler(() => deps) };
}

const event = eventFactory();

async function session(store: MemoryProfileStore, n: number) {
  const first = await stitch(store, event({ type: 'identify', userId: 'sess-u' }));
  const records: DynamoDBRecord[] = [];
  for (let i = 0; i < n; i++) {
    const e = event({ userId: 'sess-u' });
    const r = await stitch(store, e);
    records.push({
      eventName: 'INSERT',
      dynamodb: { SequenceNumber: String(100 + i), NewImage: marshall(encodeEvent(r.profileId, e, 400)) as never },
    });
  }
  return { profileId: first.profileId, records };
}

describe('evaluate cost', () => {
  it('a stream batch of 20 events of one person: 20 profile reads, one computed write, the rules see each event’s values', async () => {
    const d = doubles();
    const { profileId, records } = await session(d.store, 20);
    d.log.profileQueries = 0;
    const res = await d.handler({ Records: records });
    expect(res).toEqual({ batchItemFailures: [] });
    expect(d.log.profileQueries).toBe(20);
    expect(d.log.computedSaves).toBe(1);
    expect(d.log.computedLoads).toBe(0);
    // The 20 events counted once each (the identify before them was not evaluated here).
    expect(d.computed.get(profileId)!.state.values.event_count).toBe(20);
    // A redelivery of the batch's last event (a crash after the flush) changes and writes nothing.
    d.log.computedSaves = 0;
    await d.handler({ Records: records.slice(-1) });
    expect(d.log.computedSaves).toBe(0);
    expect(d.computed.get(profileId)!.state.values.event_count).toBe(20);
  });

  it('the rules of each event see the values after it: a rule on event_count = 21 fires once, at the 21st event of the batch', async () => {
    const d = doubles();
    const { records } = await session(d.store, 21);
    await d.handler({ Records: records });
    const fired = d.log.published.filter((e) => (e.detail as { action?: string }).action === 'count-21');
    expect(fired).toHaveLength(1);
    expect((fired[0]!.detail as { trigger: { messageId: string } }).trigger.messageId).toBe(
      JSON.parse(JSON.stringify(records[20]!.dynamodb!.NewImage!.mid)).S,
    );
  });

  it('a write refused at the end of the batch (a concurrent writer) is retried from the first record that changed the profile', async () => {
    const d = doubles();
    const { profileId, records } = await session(d.store, 5);
    d.log.refuseNextSave = true;
    const res = await d.handler({ Records: records });
    expect(res).toEqual({ batchItemFailures: [{ itemIdentifier: '100' }] });
    expect(d.computed.get(profileId)).toBeUndefined();
    // The stream retries from that record: all five counted, once.
    await d.handler({ Records: records });
    expect(d.computed.get(profileId)!.state.values.event_count).toBe(5);
  });
});
