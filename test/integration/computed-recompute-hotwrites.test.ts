/**
 * A computed-trait recompute meets evaluate's batched write (`app/computed-batch.ts`) against
 * DynamoDB Local: the recompute keeps the part's stream marks (`_s`), so records already applied
 * stay no-ops when the stream delivers them again; events it folded in that evaluate delivers
 * afterwards, through the batch, count once; and it never writes over a sealed part (`_m`).
 */
import { randomBytes } from 'node:crypto';
import { DynamoComputedStore } from '../../adapters/dynamo/computed-store';
import { DynamoComputedDigestStore, DynamoRecomputeStore } from '../../adapters/dynamo/computed-recompute-store';
import { DynamoProfileStore } from '../../adapters/dynamo/profile-store';
import { ComputedBatch, sealComputed } from '../../app/computed-batch';
import {
  planOf,
  RecomputeConflictError,
  type RecomputeDeps,
  recomputeProfile,
  syncComputedDefinitions,
} from '../../app/computed-recompute';
import { getJob, type WorkerDeps } from '../../app/jobs';
import { stitch } from '../../app/stitch';
import { applyEvent, ComputedConfigSchema, type ComputedDefs, EMPTY_COMPUTED, partitionKeyOf } from '../../core/computed';
import { definitionDigests } from '../../core/computed-recompute';
import type { ScherpEvent } from '../../core/events';
import { LocalJobRunner } from '../../local/jobs';
import { createTestTable, type TestTable } from '../helpers/dynamo';
import { workerDeps } from '../helpers/workers';

const BEFORE: ComputedDefs = ComputedConfigSchema.parse({ views_old: { op: 'count', event: 'Viewed', type: 'track' } });
const AFTER: ComputedDefs = ComputedConfigSchema.parse({
  views: { op: 'count', type: 'track', event: 'Viewed' },
  spent: { op: 'sum', type: 'track', event: 'Order Completed', property: 'properties.revenue' },
});

const run = randomBytes(3).toString('hex');
const NOW = Date.now();
let table: TestTable;
let store: DynamoProfileStore;
let computed: DynamoComputedStore;
let recompute: RecomputeDeps;
let deps: WorkerDeps;

let n = 0;
function ev(userId: string, over: Partial<ScherpEvent>): ScherpEvent {
  const ts = new Date(NOW - 86_400_000 + n++ * 1000).toISOString();
  return { type: 'track', userId, messageId: `m-${run}-${n}`, sourceId: 'default', timestamp: ts, receivedAt: ts, ...over } as ScherpEvent;
}

/** Evaluate's computed-trait write for one stream batch: each record staged at its position, one write per profile. */
async function evaluateBatch(defs: ComputedDefs, records: readonly { pid: string; e: ScherpEvent; seq: string }[]): Promise<void> {
  const batch = new ComputedBatch(computed, defs);
  for (const [i, r] of records.entries()) {
    batch.record = i;
    const loaded = (await batch.load([r.pid])).get(r.pid);
    batch.stage(r.pid, loaded, { kind: 'event', event: r.e, at: { partition: r.pid, seq: r.seq } });
  }
  await batch.flush();
}

beforeAll(async () => {
  table = await createTestTable('recompute-hot');
  store = new DynamoProfileStore(table.doc, { tableName: table.tableName });
  computed = new DynamoComputedStore(table.doc, table.tableName);
  recompute = {
    defs: AFTER,
    computed: new DynamoRecomputeStore(table.doc, table.tableName, store),
    digests: new DynamoComputedDigestStore(table.doc, table.tableName),
    retentionDays: 30,
  };
  deps = workerDeps(table, { store, recompute });
}, 60_000);

afterAll(async () => {
  await table?.drop();
});

test('the recompute keeps the stream marks; redelivered records stay no-ops, an event it folded in counts once through the batch', async () => {
  const u = `u-${run}-1`;
  const e1 = ev(u, { type: 'identify', traits: { plan: 'basic' } });
  const e2 = ev(u, { event: 'Viewed' });
  const e3 = ev(u, { event: 'Order Completed', properties: { revenue: 30 } });
  const pid = (await stitch(store, e1)).profileId;
  await stitch(store, e2);
  await stitch(store, e3);
  await evaluateBatch(BEFORE, [
    { pid, e: e1, seq: '100' },
    { pid, e: e2, seq: '101' },
    { pid, e: e3, seq: '102' },
  ]);
  // Stored, not yet evaluated while the recompute runs.
  const e4 = ev(u, { event: 'Viewed', receivedAt: new Date().toISOString() });
  await stitch(store, e4);

  await recompute.digests.put(definitionDigests(BEFORE));
  const runner = new LocalJobRunner(() => deps, { workers: 2 });
  const started = await syncComputedDefinitions({ ...recompute, jobs: deps.jobs, launcher: runner }, { segments: 2 });
  expect(started.outcome).toBe('started');
  const jobId = (started as { jobId: string }).jobId;
  await runner.wait(jobId);
  const job = await getJob(deps, jobId);
  expect(job).toMatchObject({ kind: 'computed-recompute', status: 'succeeded' });
  expect(job.progress.recomputed).toBe(1);
  // The completion hook stored the digests: nothing left to do.
  expect(await recompute.digests.get()).toEqual(definitionDigests(AFTER));

  const after = (await computed.load([pid])).get(pid)!;
  expect(after.state.seen?.[partitionKeyOf(pid)]).toBe('102');
  expect(after.state.values.views_old).toBeUndefined();
  expect({ views: after.state.values.views, spent: after.state.values.spent }).toEqual({ views: 2, spent: 30 });

  // The stream redelivers e3 (applied before the recompute), then delivers e4 (folded in by it), twice.
  await evaluateBatch(AFTER, [
    { pid, e: e3, seq: '102' },
    { pid, e: e4, seq: '103' },
    { pid, e: e4, seq: '103' },
  ]);
  const final = (await computed.load([pid])).get(pid)!;
  const want = [e1, e2, e3, e4].reduce((s, e) => applyEvent(AFTER, s, e), EMPTY_COMPUTED).values;
  expect({ views: final.state.values.views, spent: final.state.values.spent }).toEqual({ views: want.views, spent: want.spent });
  expect(final.state.values.views).toBe(2);
  expect(final.state.seen?.[partitionKeyOf(pid)]).toBe('103');
}, 60_000);

test('a sealed part is never written by the recompute: it reads again, then gives up (the segment is retried)', async () => {
  const u = `u-${run}-2`;
  const e = ev(u, { event: 'Viewed' });
  const pid = (await stitch(store, e)).profileId;
  await evaluateBatch(BEFORE, [{ pid, e, seq: '200' }]);
  await sealComputed(computed, BEFORE, pid, 'p-survivor');
  const sealed = (await computed.load([pid])).get(pid)!;
  expect(sealed.state.into).toBe('p-survivor');
  const plan = planOf({ params: { plan: { recompute: ['views', 'spent'], remove: ['views_old'], digests: {}, digest: 'd' } } } as never)!;
  await expect(recomputeProfile({ ...recompute, store }, plan, pid, Date.now())).rejects.toBeInstanceOf(RecomputeConflictError);
  const still = (await computed.load([pid])).get(pid)!;
  expect(still).toEqual(sealed);
}, 60_000);
