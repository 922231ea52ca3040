/**
 * Computed traits written once per profile per stream batch, and still exactly once: the
 * evaluate handler driven like the stream mapping drives it (batches of random size, a retry
 * from the reported record, duplicate deliveries, invocations that crash mid-write), over a
 * computed store that fails at random (errors before and after the write took effect, answers
 * lost after a write, concurrent writers), with a merge in the middle of the stream. Every
 * event is counted exactly once, on the profile it ends up on.
 */
import fc from 'fast-check';
import type { DynamoDBRecord } from 'aws-lambda';
import { marshall } from '@aws-sdk/util-dynamodb';
import { encodeEvent } from '../../adapters/dynamo/event-codec';
import { mergeRecordItem } from '../../adapters/dynamo/profile-store';
import type { EvaluateDeps } from '../../app/evaluate';
import type { ComputedStore, PersonalizationStore, ProfileParts, ProfileReader, StoredComputed } from '../../app/ports';
import { stitch } from '../../app/stitch';
import { applyEvent, combineComputed, EMPTY_COMPUTED, foldSteps, type ComputedDef, type ComputedDefs } from '../../core/computed';
import { dict } from '../../core/dict';
import { RuleSet } from '../../core/rules/engine';
import { createEvaluateHandler } from '../../lambdas/evaluate';
import { ComputedConflictError, updateComputed } from '../../app/computed';
import { eventFactory } from '../helpers/events';
import { MemoryProfileStore } from '../helpers/memory-store';
import type { MergeRecord } from '../../core/profile';

const DEFS: ComputedDefs = dict<ComputedDef>({
  event_count: { op: 'count', where: [], limit: 20 },
  revenue: { op: 'sum', property: 'properties.revenue', where: [], limit: 20 },
});

type Fault = 'ok' | 'error-before' | 'error-after' | 'lost-answer' | 'crash-after' | 'concurrent';

class Crash extends Error {}

function world(faults: Fault[]) {
  const store = new MemoryProfileStore();
  const computed = new Map<string, StoredComputed>();
  const log = { saves: 0, crashed: false };
  const next = (): Fault => faults.shift() ?? 'ok';
  const write = (id: string, state: StoredComputed['state'], expected: number) => {
    if ((computed.get(id)?.version ?? 0) !== expected) return false;
    computed.set(id, { state, version: expected + 1 });
    return true;
  };
  const computedStore: ComputedStore = {
    async load(ids) {
      if (next() === 'error-before') throw new Error('throttled');
      return new Map(ids.flatMap((id) => (computed.has(id) ? [[id, computed.get(id)!] as const] : [])));
    },
    async save(id, state, expected) {
      log.saves++;
      const f = next();
      if (f === 'error-before') throw new Error('throttled');
      if (f === 'concurrent') {
        // Another writer (a loser's event from another shard) bumped the item: this write is refused.
        const cur = computed.get(id);
        if (cur) computed.set(id, { state: cur.state, version: cur.version + 1 });
      }
      const ok = write(id, state, expected);
      if (f === 'error-after' && ok) throw new Error('timed out after the write took effect');
      if (f === 'lost-answer' && ok) return false; // the SDK's retry met its own write's condition
      if (f === 'crash-after' && ok) {
        log.crashed = true;
        throw new Crash('the invocation died after this write');
      }
      return ok;
    },
  };
  const partsOf = (id: string): ProfileParts => {
    const c = computed.get(id);
    return {
      computed: dict(c?.state.values ?? {}),
      ...(c ? { computedState: c } : {}),
      audiences: dict(),
      consent: dict(),
      consentVersion: 0,
      recommendations: dict(),
    };
  };
  const parts: PersonalizationStore = {
    loadParts: async (id) => partsOf(id),
    saveConsent: async () => true,
    saveAudiences: async () => true,
    saveAudiencesBatch: async () => true,
    putRecommendation: async () => undefined,
    claimFiring: async () => 'claimed',
  };
  const reader: ProfileReader = {
    async loadProfileWithParts(id) {
      const stored = (await store.getProfiles([id])).get(id);
      return stored && { stored, parts: partsOf(id) };
    },
    readPartition: async () => {
      throw new Error('not used');
    },
  };
  const deps: EvaluateDeps = {
    store,
    reader,
    parts,
    bus: { publish: async () => undefined },
    rules: async () => new RuleSet([]),
    history: { load: async () => [], listProfileIds: async () => ({ ids: [] }) },
    scheduler: { schedule: async () => undefined },
    computed: { store: computedStore, defs: DEFS },
  };
  return { store, computed, log, deps, handler: createEvaluateHandler(() => deps) };
}

const seq = (i: number) => String(1000 + i).padStart(21, '0');

interface Scenario {
  /** Per event: its profile (0 = A, 1 = B, 2 = C) and revenue. */
  readonly events: { p: number; revenue: number }[];
  /** B is merged into A before this event index (its merge record sits there in the stream). */
  readonly mergeAt: number;
  /** The merge is committed when the stream has delivered this many records (≤ its own position). */
  readonly mergeCommitAt: number;
  readonly batchSizes: number[];
  readonly duplicates: boolean[];
  readonly faults: Fault[];
}

const scenario: fc.Arbitrary<Scenario> = fc
  .record({
    events: fc.array(fc.record({ p: fc.integer({ min: 0, max: 2 }), revenue: fc.integer({ min: 0, max: 5 }) }), {
      minLength: 1,
      maxLength: 45,
    }),
    mergeFrac: fc.double({ min: 0, max: 1, noNaN: true }),
    commitFrac: fc.double({ min: 0, max: 1, noNaN: true }),
    batchSizes: fc.array(fc.integer({ min: 1, max: 30 }), { minLength: 1, maxLength: 10 }),
    duplicates: fc.array(fc.boolean(), { maxLength: 10 }),
    faults: fc.array(fc.constantFrom<Fault>('ok', 'ok', 'error-before', 'error-after', 'lost-answer', 'crash-after', 'concurrent'), {
      maxLength: 40,
    }),
  })
  .map(({ events, mergeFrac, commitFrac, batchSizes, duplicates, faults }) => {
    const mergeAt = Math.min(events.length - 1, Math.floor(mergeFrac * events.length));
    return { events, mergeAt, mergeCommitAt: Math.floor(commitFrac * (mergeAt + 1)), batchSizes, duplicates, faults };
  });

async function run(s: Scenario) {
  const w = world([...s.faults]);
  const event = eventFactory();
  const ids: string[] = [];
  for (const u of ['a', 'b', 'c']) ids.push((await stitch(w.store, event({ type: 'identify', userId: `u-${u}` }))).profileId);
  const [A, B] = ids as [string, string, string];
  // The stream: the events (B's after the merge are A's: stitch writes them on the survivor) and the merge record.
  const records: DynamoDBRecord[] = [];
  let mergeRecordIndex = -1;
  const merge: MergeRecord = {
    profileId: A,
    at: '2026-01-02T00:00:00.000Z',
    messageId: 'merge-1',
    eventTimestamp: '2026-01-02T00:00:00.000Z',
    merged: [B],
    identifiers: [],
    refused: [],
  };
  s.events.forEach((e, i) => {
    if (i === s.mergeAt) {
      mergeRecordIndex = records.length;
      records.push({
        eventName: 'INSERT',
        dynamodb: { SequenceNumber: seq(records.length), NewImage: marshall(mergeRecordItem(merge)) as never },
      });
    }
    const p = e.p === 1 && i >= s.mergeAt ? 0 : e.p;
    const ev = event({ properties: { revenue: e.revenue } });
    records.push({
      eventName: 'INSERT',
      dynamodb: { SequenceNumber: seq(records.length), NewImage: marshall(encodeEvent(ids[p]!, ev, 400)) as never },
    });
  });
  const commitMerge = () => {
    const b = w.store.profiles.get(B)!;
    if (!b.profile.mergedInto) w.store.profiles.set(B, { profile: { ...b.profile, mergedInto: A }, version: b.version + 1 });
  };
  // The stream mapping: batches in order, retried from the reported record, a crash retries the batch.
  let cursor = 0;
  for (let round = 0; cursor < records.length; round++) {
    if (round > 500) throw new Error('the stream made no progress');
    const size = s.batchSizes[round % s.batchSizes.length]!;
    const batch = records.slice(cursor, cursor + size);
    if (mergeRecordIndex >= 0 && cursor + batch.length > s.mergeCommitAt) commitMerge();
    w.log.crashed = false;
    const res = await w.handler({ Records: batch });
    if (w.log.crashed) continue; // the invocation died: the whole batch again
    const failed = res.batchItemFailures[0]?.itemIdentifier;
    if (failed === undefined) {
      if (s.duplicates[round % Math.max(1, s.duplicates.length)]) await w.handler({ Records: batch });
      cursor += batch.length;
    } else cursor = records.findIndex((r) => r.dynamodb?.SequenceNumber === failed);
  }
  return { w, A, ids };
}

describe('computed traits: one write per profile per stream batch, exactly once', () => {
  it('random batches with redeliveries, crashes, lost answers, concurrent writers and a merge mid-stream count every event once', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const { w, A, ids } = await run(s);
        const expected = (p: number) => {
          const mine = s.events.filter((e) => (p === 0 ? e.p !== 2 : e.p === p));
          return { event_count: mine.length, revenue: mine.reduce((n, e) => n + e.revenue, 0) };
        };
        const values = (id: string) => w.computed.get(id)?.state.values ?? {};
        const got = (id: string) => ({ event_count: values(id).event_count ?? 0, revenue: values(id).revenue ?? 0 });
        expect(got(A)).toEqual(expected(0));
        expect(got(ids[2]!)).toEqual(expected(2));
      }),
      { numRuns: 300 },
    );
  });

  it('a merged loser’s event retried after a crash, once the merge committed but before its combine ran, counts once', async () => {
    // A crashed batch wrote A and B's event on B; its retry finds B merged into A (committed) with
    // the merge record not yet evaluated: the event counts on B (which holds it), never on A too.
    const s: Scenario = {
      events: [
        { p: 0, revenue: 1 },
        { p: 1, revenue: 2 },
        { p: 0, revenue: 4 },
      ],
      mergeAt: 2,
      mergeCommitAt: 2,
      batchSizes: [2, 1],
      duplicates: [],
      faults: ['crash-after'],
    };
    const { w, A } = await run(s);
    expect(w.computed.get(A)!.state.values).toMatchObject({ event_count: 3, revenue: 7 });
  });

  it('a browser session of 20 events in one stream batch writes the profile once, and a redelivery writes nothing', async () => {
    const { w, A } = await run({
      events: Array.from({ length: 20 }, () => ({ p: 0, revenue: 1 })),
      mergeAt: 25,
      mergeCommitAt: 0,
      batchSizes: [100],
      duplicates: [true],
      faults: [],
    });
    expect(w.computed.get(A)!.state.values.event_count).toBe(20);
    // One write for the batch; the duplicate delivery found every step applied and wrote nothing.
    expect(w.log.saves).toBe(1);
  });
});

describe('a merge seals the loser’s computed traits', () => {
  it('an event of the loser read before the merge (another shard) and written after it is refused, and its retry counts it on the survivor', async () => {
    const w = world([]);
    const event = eventFactory();
    const A = (await stitch(w.store, event({ type: 'identify', userId: 'u-a' }))).profileId;
    const B = (await stitch(w.store, event({ type: 'identify', userId: 'u-b' }))).profileId;
    const rec = (i: number, image: object): DynamoDBRecord => ({
      eventName: 'INSERT',
      dynamodb: { SequenceNumber: seq(i), NewImage: marshall(image) as never },
    });
    await w.handler({ Records: [rec(1, encodeEvent(B, event({}), 400))] });
    const late = event({});
    // Read on another shard before the merge …
    const stale = (await w.deps.reader!.loadProfileWithParts(B))!.parts;
    const b = w.store.profiles.get(B)!;
    w.store.profiles.set(B, { profile: { ...b.profile, mergedInto: A }, version: b.version + 1 });
    const merge: MergeRecord = {
      profileId: A,
      at: '2026-01-02T00:00:00.000Z',
      messageId: 'merge-1',
      eventTimestamp: '2026-01-02T00:00:00.000Z',
      merged: [B],
      identifiers: [],
      refused: [],
    };
    expect(await w.handler({ Records: [rec(2, mergeRecordItem(merge))] })).toEqual({ batchItemFailures: [] });
    expect(w.computed.get(A)!.state.values.event_count).toBe(1);
    expect(w.computed.get(B)!.state.into).toBe(A);
    // … and written after it: refused (the loser's values were combined already) …
    await expect(updateComputed(w.deps.computed!, B, stale, late)).rejects.toBeInstanceOf(ComputedConflictError);
    expect(w.computed.get(B)!.state.values.event_count).toBe(1);
    // … so the stream retries the record, which now resolves to the survivor.
    expect(await w.handler({ Records: [rec(3, encodeEvent(B, late, 400))] })).toEqual({ batchItemFailures: [] });
    expect(w.computed.get(A)!.state.values.event_count).toBe(2);
  });
});

describe('the batch fold (core/computed.ts)', () => {
  it('folding the same steps again, in any later state, changes nothing: positions and hashes make each step idempotent', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 0, max: 60 }),
        (picks, cut) => {
          const event = eventFactory();
          const evs = Array.from({ length: 41 }, () => event({}));
          // A partition's records in stream order; `picks` redelivers earlier ones at random.
          const steps = evs.map((e, i) => ({ kind: 'event' as const, event: e, at: { partition: 'P', seq: seq(i) } }));
          const once = foldSteps(DEFS, EMPTY_COMPUTED, steps);
          expect(once.values.event_count).toBe(41);
          // A write that took effect after `cut` steps, then everything folded again onto it, then random redeliveries.
          const partial = foldSteps(DEFS, EMPTY_COMPUTED, steps.slice(0, cut));
          const again = foldSteps(DEFS, partial, steps);
          const redelivered = foldSteps(
            DEFS,
            again,
            picks.map((i) => steps[i]!),
          );
          expect(redelivered.values.event_count).toBe(41);
          // A merge carries the loser's marks: the loser's events that come again resolve to the survivor and are dropped.
          const survivor = combineComputed(DEFS, applyEvent(DEFS, EMPTY_COMPUTED, event({})), [redelivered], 'm');
          expect(foldSteps(DEFS, survivor, steps).values.event_count).toBe(42);
        },
      ),
    );
  });
});
