/**
 * The job engine against DynamoDB Local: a backfill whose worker is killed midway resumes from
 * its checkpoint and ends with the same membership as an uninterrupted run; re-running a
 * finished segment changes nothing; a second job for the same audience is refused while one runs.
 */
import { randomBytes } from 'node:crypto';
import { DynamoHistoryStore } from '../../adapters/dynamo/history-store';
import { DynamoJobStore } from '../../adapters/dynamo/job-store';
import { DynamoMembershipStore } from '../../adapters/dynamo/membership-store';
import { DynamoPersonalizationStore } from '../../adapters/dynamo/personalization-store';
import { DynamoProfileScanner } from '../../adapters/dynamo/profile-scanner';
import { DynamoProfileStore } from '../../adapters/dynamo/profile-store';
import { DynamoRuleStore } from '../../adapters/dynamo/rule-store';
import { cancelJob, completeIfDone, getJob, runSegment, startBackfill, type WorkerDeps } from '../../app/jobs';
import { stitch } from '../../app/stitch';
import { ConflictError } from '../../core/errors';
import type { ScherpEvent } from '../../core/events';
import { RecordingBus } from '../helpers/bus';
import { createTestTable, type TestTable } from '../helpers/dynamo';
import { LocalJobRunner } from '../../local/jobs';

let table: TestTable;
let deps: WorkerDeps;
let members: DynamoMembershipStore;
const bus = new RecordingBus();
const run = randomBytes(3).toString('hex');
const NOW = Date.now();

beforeAll(async () => {
  table = await createTestTable('jobs');
  const store = new DynamoProfileStore(table.doc, { tableName: table.tableName });
  deps = {
    jobs: new DynamoJobStore(table.doc, table.tableName),
    rules: new DynamoRuleStore(table.doc, table.tableName),
    scanner: new DynamoProfileScanner(table.doc, table.tableName),
    store,
    parts: new DynamoPersonalizationStore(table.doc, table.tableName),
    history: new DynamoHistoryStore(table.doc, table.tableName),
    bus,
    pageSize: 5,
  };
  members = new DynamoMembershipStore(table.doc, table.tableName);
  // 40 people; the audience: opened the app at least twice within the hour, or on the gold plan.
  let n = 0;
  const ev = (over: Partial<ScherpEvent>): ScherpEvent => {
    const ts = new Date(NOW - 50 * 60_000 + n++ * 1000).toISOString();
    return { type: 'track', messageId: `m-${run}-${n}`, sourceId: 'default', timestamp: ts, receivedAt: ts, ...over } as ScherpEvent;
  };
  for (let i = 0; i < 40; i++) {
    const userId = `u-${run}-${i}`;
    await stitch(store, ev({ type: 'identify', userId, traits: { plan: i % 7 === 0 ? 'gold' : 'basic' } }));
    for (let k = 0; k < i % 4; k++) await stitch(store, ev({ userId, event: 'App Opened' }));
  }
  for (const id of ['straight', 'killed'])
    await deps.rules.putRuleDoc({
      kind: 'audience',
      id: `${id}-${run}`,
      name: id,
      enabled: true,
      condition: {
        any: [{ history: { event: 'App Opened', within: '1h', atLeast: 2 } }, { path: 'profile.traits.plan', op: 'eq', value: 'gold' }],
      },
    } as { id: string });
}, 120_000);

afterAll(async () => {
  await table?.drop();
});

const idle = { launch: async () => undefined };

async function memberIds(audienceId: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await members.listMembers(audienceId, 7, cursor);
    ids.push(...page.members.map((m) => m.profileId));
    cursor = page.cursor;
  } while (cursor);
  return ids.sort();
}

test('a killed worker resumes from its checkpoint and ends with the same membership as an uninterrupted run', async () => {
  const jobDeps = { jobs: deps.jobs, launcher: idle };
  const straight = await startBackfill(jobDeps, `straight-${run}`, { segments: 3 });
  for (let s = 0; s < 3; s++) expect(await runSegment(deps, straight.id, s)).toBe('done');
  expect(await completeIfDone(deps, straight.id)).toBe(true);
  const expected = await memberIds(`straight-${run}`);
  // 6 gold (0, 7, …, 35) and those with 2 or 3 opens (i % 4 ≥ 2), without double counting.
  const want = new Set<number>();
  for (let i = 0; i < 40; i++) if (i % 7 === 0 || i % 4 >= 2) want.add(i);
  expect(expected).toHaveLength(want.size);

  const killed = await startBackfill(jobDeps, `killed-${run}`, { segments: 3 });
  let seen = 0;
  const dying: WorkerDeps = {
    ...deps,
    onProfile: () => {
      if (++seen === 7) throw new Error('worker killed');
    },
  };
  await expect(runSegment(dying, killed.id, 0)).rejects.toThrow('worker killed');
  const mid = await getJob(deps, killed.id);
  expect(mid.status).toBe('running');
  // The pool picks the job up again (as after a restart) and finishes it from the checkpoints.
  const pool = new LocalJobRunner(() => deps, { workers: 2 });
  await pool.resume();
  await pool.wait(killed.id);
  const done = await getJob(deps, killed.id);
  expect(done.status).toBe('succeeded');
  expect(done.progress).toMatchObject({ done: 3, total: 3, exited: 0 });
  // Progress counts the changes of checkpointed pages: those the killed run made on its last page are not counted again.
  expect(done.progress.entered).toBeLessThanOrEqual(want.size);
  expect(done.progress.entered).toBeGreaterThanOrEqual(want.size - 5);
  expect(await memberIds(`killed-${run}`)).toEqual(expected);
  const counted = await members.counters(`killed-${run}`, new Date().toISOString());
  expect(counted.shardCounts.reduce((a, b) => a + b, 0)).toBe(want.size);

  // Running a finished segment again changes nothing.
  expect(await runSegment(deps, killed.id, 1)).toBe('done');
  expect(await memberIds(`killed-${run}`)).toEqual(expected);
  // One bus event per member per job, flagged as a backfill (the killed run repeats none).
  const killedEvents = bus.entries.filter((e) => e.detail.audienceId === `killed-${run}`);
  expect(new Set(killedEvents.map((e) => e.detail.dedupeId)).size).toBe(want.size);
  expect(killedEvents.every((e) => e.detail.backfill === true)).toBe(true);
}, 120_000);

test('a second job for the same audience is refused while one runs; cancelling frees it', async () => {
  const jobDeps = { jobs: deps.jobs, launcher: idle };
  const first = await startBackfill(jobDeps, `straight-${run}`, { segments: 2 });
  await expect(startBackfill(jobDeps, `straight-${run}`)).rejects.toBeInstanceOf(ConflictError);
  const cancelled = await cancelJob(jobDeps, first.id);
  expect(cancelled.status).toBe('cancelled');
  // A cancelled job's workers stop at once.
  expect(await runSegment(deps, first.id, 0)).toBe('stopped');
  const next = await startBackfill(jobDeps, `straight-${run}`, { segments: 2 });
  expect(next.status).toBe('running');
  await cancelJob(jobDeps, next.id);
});
