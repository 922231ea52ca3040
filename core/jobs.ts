/**
 * Jobs over the whole table (backfills first): the table is cut into DynamoDB parallel-scan
 * segments, each worked through by one worker with a cursor checkpointed after every page, so
 * a job resumes where a killed worker stopped and re-running a segment changes nothing. This
 * module is the pure part: the job's state, its progress (done / total, rate, ETA) and the
 * throttle. Pure.
 */
import * as z from 'zod';
import type { RecomputePlan } from './computed-recompute';

/** The event that starts a job's state machine in the cloud (`lib/jobs.ts`), on the jobs bus. */
export const JOB_STARTED = 'Job Started';
/** Its source: what `adapters/eventbridge-bus.ts` puts on every entry (`BUS_SOURCE`). */
export const JOB_EVENT_SOURCE = 'scherp';

export const JOB_KINDS = ['audience-backfill', 'computed-recompute'] as const;
export type JobKind = (typeof JOB_KINDS)[number];
export const JOB_STATUSES = ['running', 'succeeded', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Segments a job is cut into (DynamoDB parallel scan `TotalSegments`). */
export const DEFAULT_SEGMENTS = 8;
export const MAX_SEGMENTS = 1000;

export interface Job {
  readonly id: string;
  readonly kind: JobKind;
  /** What the job works on (`audience:<id>`): one running job per subject. */
  readonly subject: string;
  readonly audienceId: string;
  /** A `computed-recompute` job: the traits it recomputes and removes (`core/computed-recompute.ts`). */
  readonly computed?: RecomputePlan;
  readonly status: JobStatus;
  readonly segments: number;
  /** Put membership changes on the bus (`Audience Entered` / `Exited` with `backfill: true`). */
  readonly announce: boolean;
  /** Read/write capacity units per second the whole job may use (split over its segments). */
  readonly capacityPerSecond: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly finishedAt?: string;
  readonly error?: string;
}

export interface SegmentState {
  readonly segment: number;
  /** Where the next page starts (opaque); absent at the start. */
  readonly cursor?: string;
  readonly done: boolean;
  /** Profiles looked at, and membership changes made. */
  readonly scanned: number;
  readonly entered: number;
  readonly exited: number;
  /** Items that could not be read (their keys), recorded and skipped. */
  readonly corrupt: readonly string[];
  readonly updatedAt?: string;
}

export function newSegment(segment: number): SegmentState {
  return { segment, done: false, scanned: 0, entered: 0, exited: 0, corrupt: [] };
}

export const subjectOf = (audienceId: string) => `audience:${audienceId}`;

export interface JobProgress {
  readonly done: number;
  readonly total: number;
  readonly profilesScanned: number;
  readonly entered: number;
  readonly exited: number;
  /** Profiles per second since the job started. */
  readonly rate: number;
  /** Seconds left, estimated from the segments done so far (null until one is). */
  readonly etaSeconds: number | null;
  readonly corrupt: readonly string[];
}

export function progress(job: Job, segments: readonly SegmentState[], nowMs: number): JobProgress {
  const done = segments.filter((s) => s.done).length;
  const scanned = segments.reduce((a, s) => a + s.scanned, 0);
  const end = job.finishedAt ? Date.parse(job.finishedAt) : nowMs;
  const elapsed = Math.max(0.001, (end - Date.parse(job.createdAt)) / 1000);
  const fraction = job.segments === 0 ? 1 : done / job.segments;
  return {
    done,
    total: job.segments,
    profilesScanned: scanned,
    entered: segments.reduce((a, s) => a + s.entered, 0),
    exited: segments.reduce((a, s) => a + s.exited, 0),
    rate: Math.round((scanned / elapsed) * 10) / 10,
    etaSeconds: job.status !== 'running' ? 0 : fraction === 0 ? null : Math.round((elapsed * (1 - fraction)) / fraction),
    corrupt: segments.flatMap((s) => s.corrupt),
  };
}

/**
 * How long a worker waits after using `units` capacity units in `elapsedMs`, to stay within
 * its share `unitsPerSecond` (0 or less: no limit).
 */
export function throttleDelayMs(units: number, elapsedMs: number, unitsPerSecond: number): number {
  if (unitsPerSecond <= 0 || units <= 0) return 0;
  return Math.max(0, Math.ceil((units / unitsPerSecond) * 1000 - elapsedMs));
}

export const JobViewSchema = z
  .object({
    id: z.string(),
    kind: z.enum(JOB_KINDS),
    audienceId: z.string(),
    status: z.enum(JOB_STATUSES),
    announce: z.boolean().describe('Membership changes go on the bus, flagged `backfill: true`.'),
    createdAt: z.string(),
    updatedAt: z.string(),
    finishedAt: z.string().optional(),
    error: z.string().optional(),
    progress: z.object({
      done: z.number().int().describe('Segments finished.'),
      total: z.number().int().describe('Segments of the parallel scan.'),
      profilesScanned: z.number().int(),
      entered: z
        .number()
        .int()
        .describe(
          "Membership changes made (after a worker was killed, its last page's changes are not counted again; the audience's count is exact).",
        ),
      exited: z.number().int(),
      rate: z.number().describe('Profiles per second.'),
      etaSeconds: z.number().nullable(),
      corrupt: z.array(z.string()).describe('Keys of items that could not be read (skipped).'),
    }),
  })
  .meta({ id: 'Job' });
export type JobView = z.infer<typeof JobViewSchema>;

export function jobView(job: Job, segments: readonly SegmentState[], nowMs: number): JobView {
  return {
    id: job.id,
    kind: job.kind,
    audienceId: job.audienceId,
    status: job.status,
    announce: job.announce,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    ...(job.finishedAt ? { finishedAt: job.finishedAt } : {}),
    ...(job.error ? { error: job.error } : {}),
    progress: { ...progress(job, segments, nowMs), corrupt: [...progress(job, segments, nowMs).corrupt] },
  };
}

export const JobListSchema = z.object({ jobs: z.array(JobViewSchema) });
