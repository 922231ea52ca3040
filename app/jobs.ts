/**
 * The job engine: jobs over every profile (audience backfills, rule backtests) or every member
 * of an audience (exports). A job is cut into segments; a worker (`runSegment`) works through one
 * segment a page at a time, checkpointing its cursor, counters and files in the segment's item,
 * so a killed worker resumes where it stopped. What a page does is the job kind's
 * (`app/job-kinds.ts`, one worker per kind); the loop, checkpoints, cancellation, hand-over and
 * throttle are shared here. A kind's page must be idempotent (a page whose checkpoint was lost
 * is worked again: a backfill's write is conditional, a backtest reads only, an export rewrites
 * the same file), and its counters count only checkpointed pages. Throttled to the job's share of
 * the table's capacity.
 */
import { ConflictError, NotFoundError } from '../core/errors';
import { addCounts, type Job, jobView, type JobView, newSegment, type SegmentState, subjectOf, throttleDelayMs } from '../core/jobs';
import { backfillJob, type BackfillOptions } from './job-backfill';
import { JOB_WORKERS } from './job-kinds';
import { createAndLaunch, type JobSpec, newJob, type WorkerDeps } from './job-work';
import type { JobLauncher, JobStore } from './ports';

export type { BackfillOptions } from './job-backfill';
export type { JobSpec, JobWorker, PageDone, PageRead, SegmentWork, WorkerDeps } from './job-work';

export interface JobDeps {
  readonly jobs: JobStore;
  readonly launcher: JobLauncher;
  readonly now?: () => Date;
}

const nowOf = (d: { now?: () => Date }) => d.now?.() ?? new Date();

/** Starts a job; a ConflictError (409) while another job holds its subject. */
export async function startJob(d: JobDeps, spec: JobSpec): Promise<JobView> {
  const at = nowOf(d).toISOString();
  const job = newJob(spec, at);
  if (!(await createAndLaunch(d, job))) throw runningConflict(await d.jobs.lockHolder(job.subject), job.subject);
  return jobView(
    job,
    Array.from({ length: job.segments }, (_, i) => newSegment(i)),
    Date.parse(at),
  );
}

/** Starts a backfill of an audience; a ConflictError (409) while another job for it runs. */
export function startBackfill(d: JobDeps, audienceId: string, opts: BackfillOptions = {}): Promise<JobView> {
  return startJob(d, backfillJob(audienceId, opts));
}

function runningConflict(holder: string | undefined, subject: string): ConflictError {
  const what = subject.startsWith('audience:') ? `a backfill of audience ${subject.slice('audience:'.length)}` : `a job on ${subject}`;
  return new ConflictError(`${what} is running (${holder ?? 'unknown job'}); wait for it or cancel it`);
}

/** Refuses (409) when a job for this audience runs: a change must not interleave with it. */
export async function assertNoRunningJob(jobs: JobStore, audienceId: string): Promise<void> {
  const holder = await jobs.lockHolder(subjectOf(audienceId));
  if (holder !== undefined) throw runningConflict(holder, subjectOf(audienceId));
}

function viewOf(job: Job, segments: readonly SegmentState[], nowMs: number): JobView {
  const result = job.status === 'succeeded' ? JOB_WORKERS[job.kind].result?.(job, segments) : undefined;
  return jobView(job, segments, nowMs, result);
}

export async function getJob(d: Pick<JobDeps, 'jobs' | 'now'>, id: string): Promise<JobView> {
  const got = await d.jobs.get(id);
  if (!got) throw new NotFoundError(`no job ${id}`);
  return viewOf(got.job, got.segments, nowOf(d).getTime());
}

export async function listJobs(d: Pick<JobDeps, 'jobs' | 'now'>): Promise<{ jobs: JobView[] }> {
  const now = nowOf(d).getTime();
  const jobs = await d.jobs.list(50);
  const out: JobView[] = [];
  for (const j of jobs) {
    const got = await d.jobs.get(j.id);
    if (got) out.push(viewOf(got.job, got.segments, now));
  }
  return { jobs: out };
}

/** Cancels a running job: its workers stop within a second (`STATUS_EVERY_MS`), after their current page; its subject is free again. */
export async function cancelJob(d: Pick<JobDeps, 'jobs' | 'now'>, id: string): Promise<JobView> {
  const got = await d.jobs.get(id);
  if (!got) throw new NotFoundError(`no job ${id}`);
  if (got.job.status === 'running') await d.jobs.finish(got.job, 'cancelled', nowOf(d).toISOString());
  return getJob(d, id);
}

/** How often a worker asks whether its job still runs (a cancelled job's workers stop within this). */
const STATUS_EVERY_MS = 1000;

/** `done`: the segment is finished; `stopped`: the job no longer runs; `paused`: time is up, run it again to go on. */
export type SegmentOutcome = 'done' | 'stopped' | 'paused';

/**
 * Works through one segment from its checkpoint: a page at a time by the job kind's worker,
 * the cursor, counters and files saved after each; stops early when the job is no longer
 * running (cancelled).
 */
export async function runSegment(d: WorkerDeps, jobId: string, segment: number): Promise<SegmentOutcome> {
  const sleep = d.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const first = await d.jobs.get(jobId);
  if (!first) throw new NotFoundError(`no job ${jobId}`);
  let state = first.segments.find((s) => s.segment === segment) ?? newSegment(segment);
  if (state.done) return 'done';
  if (first.job.status !== 'running') return 'stopped';
  const work = await JOB_WORKERS[first.job.kind].prepare(d, first.job);
  if (typeof work === 'string') {
    await d.jobs.finish(first.job, 'failed', nowOf(d).toISOString(), work);
    return 'stopped';
  }
  const share = first.job.capacityPerSecond / Math.max(1, first.job.segments);
  const total = first.job.segments;
  const readFrom = (cursor: string | undefined) => {
    const p = work.read(state, cursor, total);
    p.catch(() => undefined); // awaited below; not an unhandled rejection while the current page is worked
    return p;
  };
  let next = readFrom(state.cursor);
  // The checkpoint of page n is written while page n + 1 is worked (in order: n's before n + 1's).
  let saved: Promise<void> = Promise.resolve();
  let checkedAt = Date.now();
  try {
    for (;;) {
      // Cancelled? Asked at most every STATUS_EVERY_MS (the first page follows the read above).
      if (Date.now() - checkedAt >= STATUS_EVERY_MS) {
        checkedAt = Date.now();
        if ((await d.jobs.status(jobId)) !== 'running') return 'stopped';
      }
      const started = Date.now();
      const page = await next;
      // The next page is read while this one is worked.
      if (page.cursor !== undefined) next = readFrom(page.cursor);
      const done = await work.work(page, state, nowOf(d).getTime());
      state = {
        segment,
        ...(page.cursor ? { cursor: page.cursor } : {}),
        done: page.cursor === undefined,
        scanned: state.scanned + done.scanned,
        counts: addCounts(state.counts, done.counts),
        ...(state.files || done.files ? { files: [...(state.files ?? []), ...(done.files ?? [])] } : {}),
        corrupt: [...state.corrupt, ...(done.corrupt ?? [])].slice(0, 100),
        updatedAt: nowOf(d).toISOString(),
      };
      const checkpoint = state;
      await saved;
      saved = d.jobs.checkpoint(jobId, checkpoint);
      saved.catch(() => undefined); // awaited before the next checkpoint and at the end
      if (state.done) return 'done';
      if (d.timeUp?.()) return 'paused';
      const wait = throttleDelayMs(page.units + done.units, Date.now() - started, share);
      if (wait > 0) await sleep(wait);
    }
  } finally {
    // Whatever the outcome, the last checkpoint is written before the segment run ends.
    await saved;
  }
}

/**
 * Ends a job whose segments are all done (`succeeded`); the last worker calls it. The kind's
 * completion hook runs first (a throw leaves the job running, and the call is retried): it must
 * be idempotent.
 */
export async function completeIfDone(d: WorkerDeps, jobId: string): Promise<boolean> {
  const got = await d.jobs.get(jobId);
  if (!got || got.job.status !== 'running' || got.segments.some((s) => !s.done)) return false;
  await JOB_WORKERS[got.job.kind].complete?.(d, got.job, got.segments);
  return d.jobs.finish(got.job, 'succeeded', nowOf(d).toISOString());
}
