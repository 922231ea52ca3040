/**
 * What a job kind's worker is made of (`app/job-kinds.ts`), and what it may use: the contract
 * between the job engine (`app/jobs.ts`) and the kinds (`app/job-<kind>.ts`).
 */
import { randomUUID } from 'node:crypto';
import { DEFAULT_SEGMENTS, type JobFile, type JobKind, type JobParams, type JobResult, type Job, type SegmentState } from '../core/jobs';
import type { RecomputeDeps } from './computed-recompute';
import type {
  Bus,
  HistoryStore,
  JobFileStore,
  JobLauncher,
  JobStore,
  MembershipReader,
  PersonalizationStore,
  ProfileScanner,
  ProfileStore,
  RuleStore,
} from './ports';

/** Items a scan page reads by default (DynamoDB `Limit`: profile roots and their parts). */
export const DEFAULT_PAGE_ITEMS = 4000;

/** What the workers of every kind may use. */
export interface WorkerDeps {
  readonly jobs: JobStore;
  readonly rules: RuleStore;
  readonly scanner: ProfileScanner;
  readonly store: ProfileStore;
  readonly parts: PersonalizationStore;
  readonly history: HistoryStore;
  readonly bus: Bus;
  /** Exports: the audiences' members, and where their files go (absent: exports fail, saying so). */
  readonly members?: MembershipReader;
  readonly files?: JobFileStore;
  /** Computed-trait recomputes: the definitions, where they read and write, the retention (absent: recomputes fail, saying so). */
  readonly recompute?: RecomputeDeps;
  readonly now?: () => Date;
  /** Items read per scan page (DynamoDB `Limit`: roots and their parts). @default DEFAULT_PAGE_ITEMS */
  readonly pageSize?: number;
  /** Profiles of a page worked on at once. @default 16 */
  readonly concurrency?: number;
  /** Largest export file, bytes (each must fit one API response). @default 4 MiB */
  readonly partBytes?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Called after each profile (tests kill a worker midway with it). */
  readonly onProfile?: (profileId: string) => void;
  /** True when the worker must hand over (a Lambda near its timeout): it returns `paused` after its checkpoint. */
  readonly timeUp?: () => boolean;
}

/** A page of a segment as read (the engine reads the next one while the current one is worked). */
export interface PageRead {
  /** Where the next page starts; absent when the segment is done. */
  readonly cursor?: string;
  /** Capacity units the read used, for the throttle. */
  readonly units: number;
}

/** What a kind's worker did with one page of a segment. */
export interface PageDone {
  /** Items looked at. */
  readonly scanned: number;
  /** The page's counters (added to the segment's at its checkpoint). */
  readonly counts?: Readonly<Record<string, number>>;
  /** Files the page wrote (exports). */
  readonly files?: readonly JobFile[];
  readonly corrupt?: readonly string[];
  /** Capacity units the work used (reads and writes beyond the page's), for the throttle. */
  readonly units: number;
}

/**
 * One segment's work, ready to go (what its pages need is loaded once): `read` a page from a
 * cursor, `work` it. The engine reads page n + 1 while page n is worked, and checkpoints a page
 * once worked, so a page is never counted before it is done.
 */
export interface SegmentWork<P extends PageRead = PageRead> {
  read(state: SegmentState, cursor: string | undefined, totalSegments: number): Promise<P>;
  work(page: P, state: SegmentState, nowMs: number): Promise<PageDone>;
}

/** Hands a kind's typed `SegmentWork` to the engine (which only passes each page from `read` to `work`). */
export const segmentWork = <P extends PageRead>(w: SegmentWork<P>): SegmentWork => w as unknown as SegmentWork;

/** What a job kind does: the engine calls it, per segment run and at the end. */
export interface JobWorker {
  /** Loads what the segment's pages need (the audience, the rule); a string: the job cannot run and fails with it. */
  prepare(d: WorkerDeps, job: Job): Promise<SegmentWork | string>;
  /** The job's answer from its finished segments (a backtest's counts, an export's files). */
  result?(job: Job, segments: readonly SegmentState[]): JobResult;
  /** Runs once every segment is done, before the job is marked succeeded (idempotent: it may run again). */
  complete?(d: WorkerDeps, job: Job, segments: readonly SegmentState[]): Promise<void>;
}

/** A job to start: its kind, what it works on and its parameters. */
export interface JobSpec {
  readonly kind: JobKind;
  /** One running job per subject (`audience:<id>` for backfills); absent: the job's own. */
  readonly subject?: string;
  readonly params: JobParams;
  /** @default DEFAULT_SEGMENTS */
  readonly segments?: number;
  /** Capacity units per second the job may use (0: unthrottled). @default 0 */
  readonly capacityPerSecond?: number;
}

/** A new job for a spec (all segments to do), created at `at`. */
export function newJob(spec: JobSpec, at: string): Job {
  const id = `job_${randomUUID().replace(/-/g, '').slice(0, 20)}`;
  return {
    id,
    kind: spec.kind,
    subject: spec.subject ?? `job:${id}`,
    status: 'running',
    segments: spec.segments ?? DEFAULT_SEGMENTS,
    params: spec.params,
    capacityPerSecond: spec.capacityPerSecond ?? 0,
    createdAt: at,
    updatedAt: at,
  };
}

/**
 * Stores a new job and launches its workers; false (nothing stored) while another job holds its
 * subject. A launch that fails marks the job failed (its subject free again) and throws.
 */
export async function createAndLaunch(d: { readonly jobs: JobStore; readonly launcher: JobLauncher }, job: Job): Promise<boolean> {
  if (!(await d.jobs.create(job))) return false;
  try {
    await d.launcher.launch(job);
  } catch (err) {
    await d.jobs.finish(job, 'failed', job.createdAt, `not started: ${(err as Error).message}`);
    throw err;
  }
  return true;
}

/** Works `fn` over `ids`, `concurrency` at a time (the profiles of a page are independent). */
export async function eachConcurrently(ids: readonly string[], concurrency: number, fn: (id: string) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, ids.length) }, async () => {
      while (next < ids.length) await fn(ids[next++]!);
    }),
  );
}
