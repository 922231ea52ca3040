/**
 * Recomputing computed traits against DynamoDB Local: a job whose worker is killed midway
 * resumes and ends with the values an event-by-event fold gives; re-running it changes nothing;
 * events stored but not yet evaluated while it runs count once; and through the runtime, a
 * trait added to config is backfilled at `npm start` with no new event sent.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoComputedStore } from '../../adapters/dynamo/computed-store';
import { DynamoComputedDigestStore, DynamoRecomputeStore } from '../../adapters/dynamo/computed-recompute-store';
import { DynamoProfileStore } from '../../adapters/dynamo/profile-store';
import { updateComputed } from '../../app/computed';
import { syncComputedDefinitions, type RecomputeDeps } from '../../app/computed-recompute';
import { getJob, runSegment, type WorkerDeps } from '../../app/jobs';
import { stitch } from '../../app/stitch';
import { applyEvent, ComputedConfigSchema, type ComputedDefs, EMPTY_COMPUTED } from '../../core/computed';
import { definitionDigests } from '../../core/computed-recompute';
import type { ScherpEvent } from '../../core/events';
import { LocalJobRunner } from '../../local/jobs';
import { createTestTable, type TestTable } from '../helpers/dynamo';
import { workerDeps } from '../helpers/workers';
import { apiClient } from '../helpers/http';
import { startTestRuntime } from '../helpers/runtime';
import type { Runtime, RuntimeOptions } from '../../local/runtime';

const BEFORE: ComputedDefs = ComputedConfigSchema.parse({ views_old: { op: 'count', event: 'Viewed', type: 'track' } });
const AFTER: ComputedDefs = ComputedConfigSchema.parse({
  views_old: false,
  spent_big: {
    op: 'sum',
    type: 'track',
    event: 'Order Completed',
    property: 'properties.revenue',
    where: [{ property: 'properties.revenue', op: 'gte', value: 20 }],
  },
  categories: { op: 'unique', type: 'track', event: 'Viewed', property: 'properties.category' },
  views: { op: 'count', type: 'track', event: 'Viewed' },
});

const run = randomBytes(3).toString('hex');
const NOW = Date.now();
let table: TestTable;
let store: DynamoProfileStore;
let computed: DynamoComputedStore;
let deps: WorkerDeps;
/** Each profile's events, in the order stored. */
const timelines = new Map<string, ScherpEvent[]>();

let n = 0;
function ev(userId: string, over: Partial<ScherpEvent>): ScherpEvent {
  const ts = new Date(NOW - 3 * 86_400_000 + n++ * 1000).toISOString();
  return { type: 'track', userId, messageId: `m-${run}-${n}`, sourceId: 'default', timestamp: ts, receivedAt: ts, ...over } as ScherpEvent;
}

async function store1(e: ScherpEvent): Promise<string> {
  const r = await stitch(store, e);
  timelines.set(r.profileId, [...(timelines.get(r.profileId) ?? []), e]);
  return r.profileId;
}

const fold = (defs: ComputedDefs, events: readonly ScherpEvent[]) => events.reduce((s, e) => applyEvent(defs, s, e), EMPTY_COMPUTED);

async function valuesOf(profileId: string): Promise<Record<string, unknown>> {
  return { ...((await computed.load([profileId])).get(profileId)?.state.values ?? {}) };
}

beforeAll(async () => {
  table = await createTestTable('recompute');
  store = new DynamoProfileStore(table.doc, { tableName: table.tableName });
  computed = new DynamoComputedStore(table.doc, table.tableName);
  const recompute: RecomputeDeps = {
    defs: { ...ComputedConfigSchema.parse({}), ...AFTER },
    computed: new DynamoRecomputeStore(table.doc, table.tableName, store),
    digests: new DynamoComputedDigestStore(table.doc, table.tableName),
    retentionDays: 30,
  };
  deps = workerDeps(table, { store, pageSize: 4, recompute });
  // 24 people, their traits kept event by event under the old definitions.
  for (let i = 0; i < 24; i++) {
    const u = `u-${run}-${i}`;
    await store1(ev(u, { type: 'identify', traits: { plan: 'basic' } }));
    for (let k = 0; k < i % 5; k++) await store1(ev(u, { event: 'Viewed', properties: { category: ['toys', 'books', 'food'][k % 3] } }));
    for (let k = 0; k < i % 3; k++) await store1(ev(u, { event: 'Order Completed', properties: { revenue: 10 * (k + i) } }));
  }
  const old = { ...ComputedConfigSchema.parse({}), ...BEFORE };
  for (const [pid, events] of timelines) expect(await computed.save(pid, fold(old, events), 0)).toBe(true);
  await recompute.digests.put(definitionDigests(old));
}, 120_000);

afterAll(async () => {
  await table?.drop();
});

test('a killed worker resumes and ends with the values an event-by-event fold gives; running it again changes nothing', async () => {
  const defs = deps.recompute!.defs;
  // Two of the profiles have events stored but not yet evaluated while the recompute runs.
  const late = [...timelines.keys()].slice(0, 2);
  const pending: [string, ScherpEvent][] = [];
  for (const pid of late) {
    const u = timelines.get(pid)![0]!.userId!;
    const receivedAt = new Date().toISOString();
    for (const e of [
      ev(u, { event: 'Viewed', receivedAt, properties: { category: 'garden' } }),
      ev(u, { event: 'Order Completed', receivedAt, properties: { revenue: 55 } }),
    ]) {
      await store1(e);
      pending.push([pid, e]);
    }
  }
  const launcher = new LocalJobRunner(() => deps, { workers: 2 });
  const idle = { launch: async () => undefined };
  const started = await syncComputedDefinitions({ ...deps.recompute!, jobs: deps.jobs, launcher: idle }, { segments: 3 });
  expect(started.outcome).toBe('started');
  const jobId = (started as { jobId: string }).jobId;
  let seen = 0;
  const dying: WorkerDeps = {
    ...deps,
    onProfile: () => {
      if (++seen === 3) throw new Error('worker killed');
    },
  };
  await expect(runSegment(dying, jobId, 0)).rejects.toThrow('worker killed');
  expect((await getJob(deps, jobId)).status).toBe('running');
  await launcher.resume();
  await launcher.wait(jobId);
  const done = await getJob(deps, jobId);
  expect(done).toMatchObject({ kind: 'computed-recompute', status: 'succeeded', progress: { done: 3, total: 3 } });
  expect(done.progress.profilesScanned).toBeGreaterThanOrEqual(timelines.size);
  // Now evaluate reaches the pending events (one of them delivered twice, as the stream may).
  for (const [pid, e] of [...pending, pending[0]!]) {
    const parts = await deps.parts.loadParts(pid);
    await updateComputed({ store: computed, defs }, pid, parts, e);
  }
  for (const [pid, events] of timelines) {
    const want = fold(defs, events).values;
    const got = await valuesOf(pid);
    for (const name of ['spent_big', 'categories', 'views', 'event_count', 'order_count'])
      expect([pid, name, got[name]]).toEqual([pid, name, want[name]]);
    expect(got.views_old).toBeUndefined();
  }
  // The digests now name the new definitions: nothing more to do.
  expect(await syncComputedDefinitions({ ...deps.recompute!, jobs: deps.jobs, launcher: idle })).toEqual({ outcome: 'unchanged' });
  // A segment run again writes nothing.
  const before = await computed.load([...timelines.keys()]);
  expect(await runSegment(deps, jobId, 1)).toBe('done');
  const after = await computed.load([...timelines.keys()]);
  for (const pid of timelines.keys()) expect(after.get(pid)?.version).toBe(before.get(pid)?.version);
}, 120_000);

describe('through the runtime', () => {
  let rt: Runtime | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'scherp-recompute-'));
  const tableName = `recompute-rt-${run}`;
  afterAll(async () => {
    await rt?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('a trait added to config is backfilled at start for every profile, with no new event sent', async () => {
    const start = (computedConfig: Record<string, unknown>) =>
      startTestRuntime('recompute-rt', {
        inMemory: false,
        dataDir,
        tableName,
        config: { computed: computedConfig } as RuntimeOptions['config'],
      });
    rt = await start({});
    expect(rt.computedSync).toEqual({ outcome: 'recorded' });
    const api = apiClient(() => rt!);
    const people = Array.from({ length: 6 }, (_, i) => `rt-${run}-${i}`);
    for (const [i, userId] of people.entries())
      await api.send(
        ...Array.from({ length: i + 1 }, (_, k) => ({
          type: 'track',
          userId,
          event: 'Order Completed',
          messageId: `rt-${run}-${i}-${k}`,
          properties: { revenue: 10 + k, coupon: k % 2 === 0 ? 'SPRING' : undefined },
        })),
      );
    await rt.stop();
    rt = undefined;
    rt = await start({
      coupon_orders: {
        op: 'count',
        type: 'track',
        event: 'Order Completed',
        where: [{ property: 'properties.coupon', op: 'eq', value: 'SPRING' }],
      },
    });
    const sync = rt.computedSync;
    expect(sync.outcome).toBe('started');
    const jobId = (sync as { jobId: string }).jobId;
    await rt.jobs.wait(jobId);
    const job = await api.call('GET', `/v1/jobs/${jobId}`, rt.keys.admin);
    expect(job.status).toBe(200);
    expect(job.body).toMatchObject({ kind: 'computed-recompute', status: 'succeeded' });
    for (const [i, userId] of people.entries()) {
      const got = await api.call('GET', `/v1/profiles/user_id:${userId}`, rt.keys.read);
      expect(got.status).toBe(200);
      expect([userId, got.body.computed.coupon_orders]).toEqual([userId, Math.ceil((i + 1) / 2)]);
      expect(got.body.computed.order_count).toBe(i + 1);
    }
  }, 180_000);
});
