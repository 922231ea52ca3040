/**
 * The job engine against DynamoDB Local: a backfill whose worker is killed midway resumes from
 * its checkpoint and ends with the same membership as an uninterrupted run; re-running a
 * finished segment changes nothing; a second job for the same audience is refused while one runs.
 * Backtests and exports are jobs too: their answer is exact over every profile (many small
 * pages), the same after a killed worker resumed.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportAudience, startExport } from '../../app/audiences';
import { shardOf } from '../../core/audiences';
import { startBacktest } from '../../app/rule-admin';
import { LimitExceededError } from '../../core/errors';
import { LocalJobFiles } from '../../local/job-files';
import { jobFile } from '../../app/job-export';
import { DynamoMembershipStore } from '../../adapters/dynamo/membership-store';
import { DynamoProfileStore } from '../../adapters/dynamo/profile-store';
import { cancelJob, completeIfDone, getJob, runSegment, startBackfill, type WorkerDeps } from '../../app/jobs';
import { stitch } from '../../app/stitch';
import { ConflictError } from '../../core/errors';
import type { ScherpEvent } from '../../core/events';
import { RecordingBus } from '../helpers/bus';
import { createTestTable, type TestTable } from '../helpers/dynamo';
import { workerDeps } from '../helpers/workers';
import { LocalJobRunner } from '../../local/jobs';

let table: TestTable;
let deps: WorkerDeps;
let filesDir: string;
let members: DynamoMembershipStore;
const bus = new RecordingBus();
const run = randomBytes(3).toString('hex');
const NOW = Date.now();

beforeAll(async () => {
  table = await createTestTable('jobs');
  filesDir = mkdtempSync(join(tmpdir(), 'scherp-job-files-'));
  const store = new DynamoProfileStore(table.doc, { tableName: table.tableName });
  deps = workerDeps(table, {
    store,
    bus,
    pageSize: 5,
    files: new LocalJobFiles(filesDir),
    // A few rows per export file: many files per shard.
    partBytes: 600,
  });
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
  if (filesDir) rmSync(filesDir, { recursive: true, force: true });
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
  await expect(runSegment(dying, killed.id, await fullestSegment(3))).rejects.toThrow('worker killed');
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

/**
 * The segment of `total` holding the most profiles: a worker killed after N profiles must have N
 * to work (40 profiles hash into the segments unevenly, so segment 0 alone may hold fewer).
 */
async function fullestSegment(total: number): Promise<number> {
  const sizes: number[] = [];
  for (let s = 0; s < total; s++) {
    let n = 0;
    let cursor: string | undefined;
    do {
      const page = await deps.scanner.scanSegment(s, total, cursor, 100);
      n += page.profileIds.length;
      cursor = page.cursor;
    } while (cursor);
    sizes.push(n);
  }
  return sizes.indexOf(Math.max(...sizes));
}

/** Runs a job to its end in the local pool, first killing a worker of `segment` after `killAt` profiles (0: none). */
async function runToEnd(jobId: string, segments: number, killAt = 0, segment = 0): Promise<void> {
  if (killAt > 0) {
    let seen = 0;
    const dying: WorkerDeps = {
      ...deps,
      onProfile: () => {
        if (++seen === killAt) throw new Error('worker killed');
      },
    };
    await expect(runSegment(dying, jobId, segment)).rejects.toThrow('worker killed');
    expect((await getJob(deps, jobId)).status).toBe('running');
  }
  const pool = new LocalJobRunner(() => deps, { workers: Math.min(2, segments) });
  await pool.resume();
  await pool.wait(jobId);
}

// Seeded above: person i opened the app i % 4 times within the hour; gold every 7th.
const opens = Array.from({ length: 40 }, (_, i) => i % 4);

test('a backtest is a job over every profile: exact counts from many small pages, the same after a killed worker resumed', async () => {
  const rule = {
    id: `opened-${run}`,
    name: 'Opened',
    trigger: { events: ['App Opened'] },
    condition: { path: 'event.event', op: 'eq', value: 'App Opened' },
    actions: [{ type: 'emit', action: 'opened' }],
  };
  const admin = {
    rules: deps.rules,
    store: deps.store,
    parts: deps.parts,
    history: deps.history,
    backfills: { jobs: deps.jobs, launcher: idle },
  };
  const window = { from: new Date(NOW - 2 * 3600_000).toISOString(), to: new Date(NOW + 60_000).toISOString() };
  // The answer the synchronous backtest gave over the same data: every opening fired, once per person with one.
  const expected = {
    id: rule.id,
    ...window,
    profilesMatched: opens.filter((n) => n > 0).length,
    firings: opens.reduce((a, n) => a + n, 0),
    truncated: false,
  };
  const straight = await startBacktest(admin, rule.id, { rule, ...window, segments: 3 });
  expect(straight).toMatchObject({ kind: 'rule-backtest', ruleId: rule.id, status: 'running' });
  expect(straight).not.toHaveProperty('rule');
  await runToEnd(straight.id, 3);
  const done = await getJob(deps, straight.id);
  expect(done.status).toBe('succeeded');
  expect(done.result).toMatchObject(expected);
  expect((done.result as { profilesScanned: number }).profilesScanned).toBeGreaterThanOrEqual(40);
  expect(done.progress).toMatchObject({ done: 3, total: 3, matched: expected.profilesMatched, firings: expected.firings });

  const killed = await startBacktest(admin, rule.id, { rule, ...window, segments: 3 });
  await runToEnd(killed.id, 3, 7, await fullestSegment(3));
  expect((await getJob(deps, killed.id)).result).toEqual(done.result);

  // An audience's backtest: members at the end of the window (gold, or two openings within the hour).
  const audience = await startBacktest(admin, `straight-${run}`, { ...window, segments: 2 });
  await runToEnd(audience.id, 2);
  const want = opens.filter((n, i) => i % 7 === 0 || n >= 2).length;
  expect((await getJob(deps, audience.id)).result).toMatchObject({ profilesMatched: want, firings: 0 });
}, 120_000);

test('an export is a job writing files a few rows each; the same rows after a killed worker resumed; the synchronous export refuses a large audience', async () => {
  const audienceId = `straight-${run}`;
  const memberIdsNow = await memberIds(audienceId);
  expect(memberIdsNow.length).toBeGreaterThan(10);
  const audDeps = { rules: deps.rules, members, store: deps.store, backfills: { jobs: deps.jobs, launcher: idle } };
  const read = async (jobId: string) => {
    const view = await getJob(deps, jobId);
    expect(view.status).toBe('succeeded');
    const result = view.result as { rows: number; files: { url: string; rows: number }[] };
    const lines: string[] = [];
    for (const [n, f] of result.files.entries()) {
      expect(f.url).toBe(`/v1/jobs/${jobId}/files/${n}`);
      const file = await jobFile({ jobs: deps.jobs, files: deps.files! }, jobId, String(n));
      const [header, ...rows] = file.body.trimEnd().split('\n');
      expect(header).toBe('profile_id,user_id,email_sha256,phone_sha256,phone_digits_sha256');
      expect(rows).toHaveLength(f.rows);
      lines.push(...rows);
    }
    expect(lines).toHaveLength(result.rows);
    return { result, lines: lines.sort() };
  };
  const straight = await startExport(audDeps, audienceId, { format: 'csv' });
  expect(straight).toMatchObject({ kind: 'audience-export', audienceId, format: 'csv' });
  await runToEnd(straight.id, 16);
  const a = await read(straight.id);
  expect(a.lines.map((l) => l.split(',')[0]).sort()).toEqual(memberIdsNow);
  // Files of at most partBytes (a few rows each): more files than shards with members.
  expect(a.result.files.every((f) => f.rows >= 1 && f.rows <= 6)).toBe(true);
  expect(a.result.files.length).toBeGreaterThanOrEqual(Math.ceil(memberIdsNow.length / 6));

  const killed = await startExport(audDeps, audienceId, { format: 'csv' });
  // Killed in the shard of a member (a shard may hold none), after its first file was written.
  await runToEnd(killed.id, 16, 1, shardOf(memberIdsNow[0]!));
  expect((await read(killed.id)).lines).toEqual(a.lines);

  // The synchronous export: the same rows while small, a 413 naming the job past its limit.
  const sync = await exportAudience(audDeps, audienceId, { format: 'csv' });
  expect(sync.body.trimEnd().split('\n').slice(1).sort()).toEqual(a.lines);
  const refused = exportAudience({ ...audDeps, syncExportMaxMembers: 3 }, audienceId, { format: 'csv' });
  await expect(refused).rejects.toBeInstanceOf(LimitExceededError);
  await expect(refused).rejects.toThrow(`POST /v1/audiences/${audienceId}/export`);
  await expect(jobFile({ jobs: deps.jobs, files: deps.files! }, straight.id, '999')).rejects.toThrow(/no file 999/);
}, 120_000);
