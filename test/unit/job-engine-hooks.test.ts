/**
 * The job engine's generic pieces the computed-trait recompute brought: a kind's completion hook
 * (`JobWorker.complete`, run by `completeIfDone` before the job is marked succeeded; the recompute
 * stores its digests there) and a failed launch that frees the job's subject (`createAndLaunch`).
 */
import type { ComputedDigestStore } from '../../app/computed-recompute';
import { recomputeJob } from '../../app/computed-recompute';
import { completeIfDone, startJob, type WorkerDeps } from '../../app/jobs';
import { backfillJob } from '../../app/job-backfill';
import type { JobStore } from '../../app/ports';
import { ComputedConfigSchema } from '../../core/computed';
import { planRecompute } from '../../core/computed-recompute';
import type { Job, JobStatus, SegmentState } from '../../core/jobs';

class Jobs implements JobStore {
  readonly jobs = new Map<string, Job>();
  readonly segments = new Map<string, SegmentState[]>();
  readonly locks = new Map<string, string>();
  async create(job: Job) {
    if (this.locks.has(job.subject)) return false;
    this.locks.set(job.subject, job.id);
    this.jobs.set(job.id, job);
    this.segments.set(
      job.id,
      Array.from({ length: job.segments }, (_, segment) => ({ segment, done: true, scanned: 1, counts: {}, corrupt: [] })),
    );
    return true;
  }
  async get(id: string) {
    const job = this.jobs.get(id);
    return job ? { job, segments: this.segments.get(id) ?? [] } : undefined;
  }
  async list() {
    return [...this.jobs.values()];
  }
  async lockHolder(subject: string) {
    return this.locks.get(subject);
  }
  async status(id: string) {
    return this.jobs.get(id)?.status;
  }
  async checkpoint() {}
  async finish(job: Job, status: Exclude<JobStatus, 'running'>, _at: string, error?: string) {
    this.jobs.set(job.id, { ...job, status, ...(error ? { error } : {}) });
    this.locks.delete(job.subject);
    return true;
  }
}

class Digests implements ComputedDigestStore {
  stored: Readonly<Record<string, string>> | undefined;
  async get() {
    return this.stored;
  }
  async put(d: Readonly<Record<string, string>>) {
    this.stored = { ...d };
  }
}

const DEFS = ComputedConfigSchema.parse({ coupon_orders: { op: 'count', event: 'Order Completed' } });
const PLAN = planRecompute(DEFS, { gone: 'x' })!;
const unused = new Proxy({}, { get: () => () => Promise.reject(new Error('not used')) }) as never;

function workerDeps(jobs: Jobs, digests?: Digests): WorkerDeps {
  return {
    jobs,
    rules: unused,
    scanner: unused,
    store: unused,
    parts: unused,
    history: unused,
    bus: unused,
    ...(digests ? { recompute: { defs: DEFS, computed: unused, digests, retentionDays: 30 } } : {}),
  };
}

test("completeIfDone runs the kind's completion hook first: a recompute stores its digests, then succeeds", async () => {
  const jobs = new Jobs();
  const digests = new Digests();
  const view = await startJob({ jobs, launcher: { launch: async () => undefined } }, recomputeJob(PLAN, { segments: 2 }));
  expect(await completeIfDone(workerDeps(jobs, digests), view.id)).toBe(true);
  expect(digests.stored).toEqual(PLAN.digests);
  expect(jobs.jobs.get(view.id)?.status).toBe('succeeded');
});

test('a completion hook that throws leaves the job running (the completion is retried); a kind without one just succeeds', async () => {
  const jobs = new Jobs();
  const view = await startJob({ jobs, launcher: { launch: async () => undefined } }, recomputeJob(PLAN));
  await expect(completeIfDone(workerDeps(jobs), view.id)).rejects.toThrow('no computed-trait recompute configured');
  expect(jobs.jobs.get(view.id)?.status).toBe('running');
  const backfill = await startJob({ jobs, launcher: { launch: async () => undefined } }, backfillJob('vip'));
  expect(await completeIfDone(workerDeps(jobs), backfill.id)).toBe(true);
  expect(jobs.jobs.get(backfill.id)?.status).toBe('succeeded');
});

test('a job whose launch fails is marked failed and frees its subject: it can be started again', async () => {
  const jobs = new Jobs();
  const failing = { jobs, launcher: { launch: async () => Promise.reject(new Error('jobs bus unreachable')) } };
  await expect(startJob(failing, backfillJob('vip'))).rejects.toThrow('jobs bus unreachable');
  expect([...jobs.jobs.values()].map((j) => [j.status, j.error])).toEqual([['failed', 'not started: jobs bus unreachable']]);
  const again = await startJob({ jobs, launcher: { launch: async () => undefined } }, backfillJob('vip'));
  expect(again.status).toBe('running');
});
