/**
 * Jobs over the whole table (backfills, backtests, exports): a job is cut into segments (DynamoDB
 * parallel-scan segments, or an audience's member shards), each worked through by one worker
 * with a cursor checkpointed after every page, so a job resumes where a killed worker stopped and
 * re-running a segment changes nothing. A job has a `kind`; what a kind does with a page lives in
 * its worker (`app/job-kinds.ts`), everything else (progress, throttle, resume, locks) is shared.
 * This module is the pure part: the job's state, its progress (done / total, rate, ETA) and the
 * throttle. Pure.
 */
import * as z from 'zod';

/** The event that starts a job's state machine in the cloud (`lib/jobs.ts`), on the jobs bus. */
export const JOB_STARTED = 'Job Started';
/** Its source: what `adapters/eventbridge-bus.ts` puts on every entry (`BUS_SOURCE`). */
export const JOB_EVENT_SOURCE = 'scherp';

/**
 * The kinds of job. Adding one: its name here, and its worker (a new file `app/job-<kind>.ts`)
 * in `JOB_WORKERS` (`app/job-kinds.ts`; the type check asks for it).
 */
export const JOB_KINDS = ['audience-backfill', 'rule-backtest', 'audience-export', 'computed-recompute'] as const;
export type JobKind = (typeof JOB_KINDS)[number];
export const JOB_STATUSES = ['running', 'succeeded', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** Segments a job is cut into (DynamoDB parallel scan `TotalSegments`). */
export const DEFAULT_SEGMENTS = 8;
export const MAX_SEGMENTS = 1000;

/** What a job works on, for its kind's worker (which checks it); its scalar values show in the job's view. */
export type JobParams = Readonly<Record<string, unknown>>;

export interface Job {
  readonly id: string;
  readonly kind: JobKind;
  /** What the job works on (`audience:<id>`): one running job per subject. */
  readonly subject: string;
  readonly status: JobStatus;
  readonly segments: number;
  /** The kind's parameters (`audienceId`, `announce`; `ruleId`, `rule`, `from`, `to`; `format`). */
  readonly params: JobParams;
  /** Read/write capacity units per second the whole job may use (split over its segments). */
  readonly capacityPerSecond: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly finishedAt?: string;
  readonly error?: string;
}

/** A file a job wrote (an export's part), by its key in the job files store. */
export interface JobFile {
  readonly key: string;
  readonly rows: number;
  readonly bytes: number;
}

export interface SegmentState {
  readonly segment: number;
  /** Where the next page starts (opaque); absent at the start. */
  readonly cursor?: string;
  readonly done: boolean;
  /** Items looked at (profiles, members). */
  readonly scanned: number;
  /** The kind's counters summed over the checkpointed pages (`entered`, `exited`; `matched`, `firings`; `rows`). */
  readonly counts: Readonly<Record<string, number>>;
  /** Files written (exports), in order. */
  readonly files?: readonly JobFile[];
  /** Items that could not be read (their keys), recorded and skipped. */
  readonly corrupt: readonly string[];
  readonly updatedAt?: string;
}

export function newSegment(segment: number): SegmentState {
  return { segment, done: false, scanned: 0, counts: {}, corrupt: [] };
}

/** Adds a page's counters to a segment's. */
export function addCounts(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>> | undefined): Record<string, number> {
  const out: Record<string, number> = { ...a };
  for (const [k, v] of Object.entries(b ?? {})) out[k] = (out[k] ?? 0) + v;
  return out;
}

/**
 * A job or segment as stored by an earlier version (an audience backfill with `audienceId` and
 * `announce` on the job, `entered` and `exited` on its segments), in today's shape.
 */
export function upgradeJob(doc: Job & { audienceId?: string; announce?: boolean }): Job {
  if (doc.params) return doc;
  const { audienceId, announce, ...rest } = doc;
  return { ...rest, params: { audienceId, announce: announce ?? true } };
}
export function upgradeSegment(doc: SegmentState & { entered?: number; exited?: number }): SegmentState {
  if (doc.counts) return doc;
  const { entered, exited, ...rest } = doc;
  return { ...rest, counts: { entered: entered ?? 0, exited: exited ?? 0 } };
}

export const subjectOf = (audienceId: string) => `audience:${audienceId}`;

export interface JobProgress {
  readonly done: number;
  readonly total: number;
  readonly profilesScanned: number;
  /** The kind's counters (`entered`, `exited`, `matched`, `firings`, `rows`), summed over the segments. */
  readonly [counter: string]: number | null | readonly string[];
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
    ...segments.reduce<Record<string, number>>((a, s) => addCounts(a, s.counts), {}),
    done,
    total: job.segments,
    profilesScanned: scanned,
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

/** The answer of a backtest job (`rule-backtest`): as the synchronous backtest gave it, without a cap. */
export const BacktestResultSchema = z
  .object({
    id: z.string(),
    from: z.string(),
    to: z.string(),
    profilesScanned: z.number().int(),
    profilesMatched: z
      .number()
      .int()
      .describe('People it would have fired for at least once (audiences: members at the end of the window).'),
    firings: z.number().int().describe('Trigger events it would have fired on (0 for audiences).'),
    truncated: z.literal(false).describe('Always false: every profile is looked at (no cap).'),
  })
  .meta({ id: 'BacktestResult' });
export type BacktestResult = z.infer<typeof BacktestResultSchema>;

/** The answer of an export job (`audience-export`): its files, each small enough for one response. */
export const ExportResultSchema = z
  .object({
    audienceId: z.string(),
    format: z.enum(['csv', 'ndjson']),
    rows: z.number().int(),
    files: z
      .array(
        z.object({ url: z.string().describe('`GET` it with the read or admin key.'), rows: z.number().int(), bytes: z.number().int() }),
      )
      .describe('The export in parts, in order; each CSV part has the header line.'),
  })
  .meta({ id: 'ExportResult' });
export type ExportResult = z.infer<typeof ExportResultSchema>;

export type JobResult = BacktestResult | ExportResult;

const counter = z.number().int();
export const JobViewSchema = z
  .object({
    id: z.string(),
    kind: z.enum(JOB_KINDS),
    subject: z.string(),
    status: z.enum(JOB_STATUSES),
    audienceId: z.string().optional().describe('Backfills and exports: the audience.'),
    announce: z.boolean().optional().describe('Backfills: membership changes go on the bus, flagged `backfill: true`.'),
    ruleId: z.string().optional().describe('Backtests: the rule or audience.'),
    from: z.string().optional(),
    to: z.string().optional(),
    format: z.string().optional().describe('Exports: csv or ndjson.'),
    createdAt: z.string(),
    updatedAt: z.string(),
    finishedAt: z.string().optional(),
    error: z.string().optional(),
    progress: z
      .object({
        done: z.number().int().describe('Segments finished.'),
        total: z.number().int().describe('Segments of the job.'),
        profilesScanned: z.number().int().describe('Profiles (exports: members) looked at.'),
        entered: counter
          .optional()
          .describe(
            "Backfills: membership changes made (after a worker was killed, its last page's changes are not counted again; the audience's count is exact).",
          ),
        exited: counter.optional(),
        matched: counter.optional().describe('Backtests: profiles it would have fired for.'),
        firings: counter.optional().describe('Backtests: trigger events it would have fired on.'),
        rows: counter.optional().describe('Exports: rows written.'),
        rate: z.number().describe('Profiles per second.'),
        etaSeconds: z.number().nullable(),
        corrupt: z.array(z.string()).describe('Keys of items that could not be read (skipped).'),
      })
      .catchall(z.number()),
    result: z
      .union([BacktestResultSchema, ExportResultSchema])
      .optional()
      .describe('Once the job succeeded: a backtest its answer, an export its files.'),
  })
  .meta({ id: 'Job' });
export type JobView = z.infer<typeof JobViewSchema>;

/** The scalar parameters of a job (objects, such as a backtest's inline rule, are not shown). */
function shownParams(params: JobParams): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = Object.create(null);
  for (const [k, v] of Object.entries(params)) if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = v;
  return out;
}

/** Keys of a job's view that its parameters never take. */
const VIEW_KEYS = new Set(['id', 'kind', 'subject', 'status', 'createdAt', 'updatedAt', 'finishedAt', 'error', 'progress', 'result']);

export function jobView(job: Job, segments: readonly SegmentState[], nowMs: number, result?: JobResult): JobView {
  const p = progress(job, segments, nowMs);
  const shown = shownParams(job.params);
  for (const k of VIEW_KEYS) delete shown[k];
  return {
    id: job.id,
    kind: job.kind,
    subject: job.subject,
    status: job.status,
    ...shown,
    createdAt: job.createdAt,
    updatedAt: job.updatedAt,
    ...(job.finishedAt ? { finishedAt: job.finishedAt } : {}),
    ...(job.error ? { error: job.error } : {}),
    progress: { ...p, corrupt: [...p.corrupt] } as JobView['progress'],
    ...(result ? { result } : {}),
  };
}

export const JobListSchema = z.object({ jobs: z.array(JobViewSchema) });
