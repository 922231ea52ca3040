/**
 * Recomputing computed traits when their definitions change (the `computed-recompute` job).
 * At start-up and at deploy, `syncComputedDefinitions` compares the definitions in config with
 * the digests stored in the table; when traits are new, changed or gone it starts a job that
 * works through every profile (`recomputeProfile`, a page of a parallel-scan segment at a time on
 * the jobs engine, `app/jobs.ts`, its worker `app/job-recompute.ts`) and, once done, stores the new digests.
 *
 * Per profile: the computed-traits part is read (strongly consistent), then every partition's
 * timeline and merge records (strongly consistent, after it); the changed traits are folded
 * again from the events within retention (`recomputeComputed`) and the part is written back
 * conditional on the version read AND on the root's version (one transaction): an event
 * evaluated in between, or a merge, makes it read again. Events not yet evaluated are marked
 * on the recomputed traits, so evaluate does not count them into those twice
 * (docs/architecture.md, "Recomputing computed traits").
 */
import { EMPTY_COMPUTED, eventKeyOf, recomputeComputed, type ComputedDefs } from '../core/computed';
import {
  DEFAULT_PENDING_MS,
  needsJob,
  planRecompute,
  RECOMPUTE_KIND,
  RECOMPUTE_SUBJECT,
  type RecomputePlan,
} from '../core/computed-recompute';
import { ScherpError } from '../core/errors';
import { DEFAULT_SEGMENTS, type Job } from '../core/jobs';
import { createAndLaunch, type JobSpec, newJob } from './job-work';
import type { MergeRecord } from '../core/profile';
import type { ComputedState } from '../core/computed';
import type { JobLauncher, JobStore, ProfileStore, StoredComputed, StoredEvent } from './ports';
import { resolveSurvivors } from './resolve';

/** The digests of the computed-trait definitions the profiles reflect. */
export interface ComputedDigestStore {
  /** Absent: never stored (a first start). */
  get(): Promise<Readonly<Record<string, string>> | undefined>;
  put(digests: Readonly<Record<string, string>>): Promise<void>;
}

/** What the recompute reads and writes of a profile. */
export interface RecomputeStore {
  load(profileIds: readonly string[]): Promise<Map<string, StoredComputed>>;
  /** Every timeline event of one partition. */
  listPartitionEvents(profileId: string): Promise<StoredEvent[]>;
  /** The merge records of one partition. */
  listGraphRecords(profileId: string): Promise<{ merges: MergeRecord[] }>;
  /** Sort keys of the partition's items whose evaluation failed and is noted for a replay (`EVALFAIL#` markers). */
  listFailedKeys(profileId: string): Promise<string[]>;
  /**
   * Conditional on the part's version read (0: none yet) and on the root's: unchanged since it
   * was read, so it was not merged away and absorbed nothing meanwhile; false otherwise.
   */
  saveIfLive(profileId: string, state: ComputedState, expectedVersion: number, rootVersion: number): Promise<boolean>;
}

export interface RecomputeDeps {
  readonly defs: ComputedDefs;
  readonly computed: RecomputeStore;
  readonly digests: ComputedDigestStore;
  /** Events older than this are past retention (their TTL deletes them): not counted. */
  readonly retentionDays: number;
  /** @default DEFAULT_PENDING_MS */
  readonly pendingMs?: number;
}

/** A profile kept changing while it was recomputed; the segment is retried from its checkpoint. */
export class RecomputeConflictError extends ScherpError {
  constructor() {
    super('conflict', 'computed traits changed concurrently during a recompute');
  }
}

const MAX_ATTEMPTS = 8;
const pause = (attempt: number) => new Promise((r) => setTimeout(r, Math.random() * 20 * attempt));

/** The key `combineMerged` gives `combineComputed` for a merge record. */
const mergeKeyOf = (m: MergeRecord) => `${m.profileId}#${m.eventTimestamp}#${m.messageId}`;

/**
 * Recomputes one profile's changed traits as of `nowMs`. A merged-away profile is handed to its
 * survivor (whose timeline holds its events). Returns whether the stored part changed.
 */
export async function recomputeProfile(
  d: RecomputeDeps & { readonly store: ProfileStore },
  plan: Pick<RecomputePlan, 'recompute' | 'remove'>,
  profileId: string,
  nowMs: number,
): Promise<boolean> {
  const since = nowMs - d.retentionDays * 86_400_000;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (attempt > 0) await pause(attempt);
    const resolved = (await resolveSurvivors(d.store, [profileId])).get(profileId);
    if (!resolved) return false;
    const profile = resolved.profile;
    // First the part (what evaluate has applied), then the timeline: every applied event is in it.
    const cur = (await d.computed.load([profile.id])).get(profile.id) ?? { state: EMPTY_COMPUTED, version: 0 };
    // Sealed: a merge into another profile is under way (its root not yet marked); read again until it shows.
    if (cur.state.into !== undefined) continue;
    const partitions = [profile.id, ...(profile.mergedFrom ?? [])];
    const [events, graphs, failed] = await Promise.all([
      Promise.all(partitions.map((p) => d.computed.listPartitionEvents(p))),
      Promise.all(partitions.map((p) => d.computed.listGraphRecords(p))),
      Promise.all(partitions.map(async (p) => (await d.computed.listFailedKeys(p)).map((sk) => `${p}#${sk}`))),
    ]);
    const failedKeys = new Set(failed.flat());
    const replayable = new Set(events.flat().flatMap((e) => (failedKeys.has(`${e.profileId}#${e.sk}`) ? [eventKeyOf(e.event)] : [])));
    const next = recomputeComputed(d.defs, cur.state, {
      recompute: plan.recompute,
      remove: plan.remove,
      events: events.flat().flatMap((e) => (Date.parse(e.event.timestamp) >= since ? [e.event] : [])),
      merges: graphs.flatMap((g) => g.merges.filter((m) => m.merged.length > 0).map((m) => ({ key: mergeKeyOf(m), at: m.at }))),
      nowMs,
      pendingMs: d.pendingMs ?? DEFAULT_PENDING_MS,
      replayable,
    });
    if (JSON.stringify(next) === JSON.stringify(cur.state)) return false;
    if (await d.computed.saveIfLive(profile.id, next, cur.version, resolved.version)) return true;
  }
  throw new RecomputeConflictError();
}

/** The job that recomputes for a plan (`app/job-recompute.ts`): one at a time (its subject). */
export function recomputeJob(plan: RecomputePlan, opts: { segments?: number; capacityPerSecond?: number } = {}): JobSpec {
  return {
    kind: RECOMPUTE_KIND,
    subject: RECOMPUTE_SUBJECT,
    params: { plan },
    segments: opts.segments ?? DEFAULT_SEGMENTS,
    ...(opts.capacityPerSecond !== undefined ? { capacityPerSecond: opts.capacityPerSecond } : {}),
  };
}

/** A recompute job's plan (its `params.plan`); undefined when the job holds none. */
export function planOf(job: Job): RecomputePlan | undefined {
  const plan = job.params.plan as Partial<RecomputePlan> | undefined;
  if (typeof plan !== 'object' || plan === null) return undefined;
  const names = (v: unknown) => Array.isArray(v) && v.every((n) => typeof n === 'string');
  if (!names(plan.recompute) || !names(plan.remove) || typeof plan.digest !== 'string') return undefined;
  if (typeof plan.digests !== 'object' || plan.digests === null) return undefined;
  return plan as RecomputePlan;
}

export type SyncOutcome =
  | { readonly outcome: 'unchanged' }
  /** A first start: the digests are recorded, nothing recomputed. */
  | { readonly outcome: 'recorded' }
  | { readonly outcome: 'started'; readonly jobId: string; readonly plan: RecomputePlan }
  /** A recompute for these very definitions runs already (it resumes). */
  | { readonly outcome: 'running'; readonly jobId: string };

/**
 * Compares the definitions in config with the stored digests and starts the recompute when they
 * differ. A recompute running for older definitions is cancelled and replaced (the new plan is
 * made against the digests stored, so it covers what the old one had left).
 */
export async function syncComputedDefinitions(
  d: { readonly defs: ComputedDefs; readonly digests: ComputedDigestStore; readonly jobs: JobStore; readonly launcher: JobLauncher },
  opts: { now?: () => Date; segments?: number; capacityPerSecond?: number } = {},
): Promise<SyncOutcome> {
  const plan = planRecompute(d.defs, await d.digests.get());
  const at = (opts.now?.() ?? new Date()).toISOString();
  const holder = await d.jobs.lockHolder(RECOMPUTE_SUBJECT);
  const running = holder !== undefined ? await d.jobs.get(holder) : undefined;
  if (running?.job.status === 'running') {
    if (plan && running.job.kind === RECOMPUTE_KIND && planOf(running.job)?.digest === plan.digest)
      return { outcome: 'running', jobId: running.job.id };
    await d.jobs.finish(running.job, 'cancelled', at, 'the computed-trait definitions changed again');
  }
  if (!plan) return { outcome: 'unchanged' };
  if (!needsJob(plan)) {
    await d.digests.put(plan.digests);
    return { outcome: 'recorded' };
  }
  const job = newJob(recomputeJob(plan, opts), at);
  if (!(await createAndLaunch(d, job))) throw new ScherpError('conflict', 'another computed-trait recompute started at the same moment');
  return { outcome: 'started', jobId: job.id, plan };
}

/** After a recompute job succeeded: the profiles reflect its definitions. */
export async function recordRecomputed(digests: ComputedDigestStore, job: Job): Promise<void> {
  const plan = job.kind === RECOMPUTE_KIND ? planOf(job) : undefined;
  if (plan) await digests.put(plan.digests);
}
