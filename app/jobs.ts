/**
 * Jobs over every profile, first of all the audience backfill: creating or changing an audience
 * computes its membership for every existing profile. A job is cut into parallel-scan segments;
 * a worker (`runSegment`) works through one segment a page at a time, checkpointing its cursor
 * in the segment's item, so a killed worker resumes where it stopped. Idempotent: a profile
 * whose membership is already right writes nothing, and a change is conditional on the
 * `PROFILE#AUD` version (`saveAudiences`), so re-running a segment changes nothing. Throttled to
 * the job's share of the table's capacity.
 */
import { randomUUID } from 'node:crypto';
import { has } from '../core/dict';
import { ConflictError, NotFoundError } from '../core/errors';
import { DEFAULT_SEGMENTS, type Job, jobView, type JobView, newSegment, subjectOf, throttleDelayMs } from '../core/jobs';
import { traitValues } from '../core/profile';
import { nextAgingAt } from '../core/expiry';
import { audienceChanged, dedupeId, personOf } from '../core/rules/contract';
import { type EvaluationContext, historyWindowMs, isAudience, parseDefinition, RuleSet } from '../core/rules/engine';
import type { Audience } from '../core/rules/schema';
import { contextProfile, loadHistory } from './evaluate';
import type {
  Bus,
  HistoryStore,
  ProfileWithParts,
  JobLauncher,
  JobStore,
  PersonalizationStore,
  ProfileScanner,
  ProfileStore,
  RuleStore,
} from './ports';
import { resolveSurvivors } from './resolve';
import { recomputeWorker, recordRecomputed, type RecomputeDeps } from './computed-recompute';

export interface JobDeps {
  readonly jobs: JobStore;
  readonly launcher: JobLauncher;
  readonly now?: () => Date;
}

export interface WorkerDeps {
  readonly jobs: JobStore;
  readonly rules: RuleStore;
  readonly scanner: ProfileScanner;
  readonly store: ProfileStore;
  readonly parts: PersonalizationStore;
  readonly history: HistoryStore;
  readonly bus: Bus;
  readonly now?: () => Date;
  /** Roots read per scan page. @default 200 */
  readonly pageSize?: number;
  /** Profiles of a page backfilled at once. @default 16 */
  readonly concurrency?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Called after each profile (tests kill a worker midway with it). */
  readonly onProfile?: (profileId: string) => void;
  /** True when the worker must hand over (a Lambda near its timeout): it returns `paused` after its checkpoint. */
  readonly timeUp?: () => boolean;
  /** Computed-trait recompute jobs (`app/computed-recompute.ts`). */
  readonly recompute?: RecomputeDeps;
}

export interface BackfillOptions {
  /** Put the changes on the bus (flagged `backfill: true`). @default true */
  readonly announce?: boolean;
  /** @default DEFAULT_SEGMENTS */
  readonly segments?: number;
  /** Capacity units per second the job may use (0: unthrottled). @default 0 */
  readonly capacityPerSecond?: number;
}

const nowOf = (d: { now?: () => Date }) => d.now?.() ?? new Date();

/** Starts a backfill of an audience; a ConflictError (409) while another job for it runs. */
export async function startBackfill(d: JobDeps, audienceId: string, opts: BackfillOptions = {}): Promise<JobView> {
  const at = nowOf(d).toISOString();
  const job: Job = {
    id: `job_${randomUUID().replace(/-/g, '').slice(0, 20)}`,
    kind: 'audience-backfill',
    subject: subjectOf(audienceId),
    audienceId,
    status: 'running',
    segments: opts.segments ?? DEFAULT_SEGMENTS,
    announce: opts.announce ?? true,
    capacityPerSecond: opts.capacityPerSecond ?? 0,
    createdAt: at,
    updatedAt: at,
  };
  if (!(await d.jobs.create(job))) throw runningConflict(await d.jobs.lockHolder(job.subject), audienceId);
  await d.launcher.launch(job);
  return jobView(
    job,
    Array.from({ length: job.segments }, (_, i) => newSegment(i)),
    Date.parse(at),
  );
}

function runningConflict(holder: string | undefined, audienceId: string): ConflictError {
  return new ConflictError(`a backfill of audience ${audienceId} is running (${holder ?? 'unknown job'}); wait for it or cancel it`);
}

/** Refuses (409) when a job for this audience runs: a change must not interleave with it. */
export async function assertNoRunningJob(jobs: JobStore, audienceId: string): Promise<void> {
  const holder = await jobs.lockHolder(subjectOf(audienceId));
  if (holder !== undefined) throw runningConflict(holder, audienceId);
}

export async function getJob(d: Pick<JobDeps, 'jobs' | 'now'>, id: string): Promise<JobView> {
  const got = await d.jobs.get(id);
  if (!got) throw new NotFoundError(`no job ${id}`);
  return jobView(got.job, got.segments, nowOf(d).getTime());
}

export async function listJobs(d: Pick<JobDeps, 'jobs' | 'now'>): Promise<{ jobs: JobView[] }> {
  const now = nowOf(d).getTime();
  const jobs = await d.jobs.list(50);
  const out: JobView[] = [];
  for (const j of jobs) {
    const got = await d.jobs.get(j.id);
    if (got) out.push(jobView(got.job, got.segments, now));
  }
  return { jobs: out };
}

/** Cancels a running job: its workers stop after their current page; the audience is free again. */
export async function cancelJob(d: Pick<JobDeps, 'jobs' | 'now'>, id: string): Promise<JobView> {
  const got = await d.jobs.get(id);
  if (!got) throw new NotFoundError(`no job ${id}`);
  if (got.job.status === 'running') await d.jobs.finish(got.job, 'cancelled', nowOf(d).toISOString());
  return getJob(d, id);
}

async function audienceOf(rules: RuleStore, id: string): Promise<Audience | undefined> {
  const doc = await rules.getRuleDoc(id);
  if (doc === undefined) return undefined;
  const def = parseDefinition(doc);
  return isAudience(def) ? def : undefined;
}

const MAX_ATTEMPTS = 5;

/**
 * Brings one profile's membership of one audience up to date from everything stored (its
 * traits, computed traits and timeline, merged-in profiles included), as of `nowMs`. Returns
 * the change made, if any.
 */
export async function backfillProfile(
  d: Pick<WorkerDeps, 'store' | 'parts' | 'history' | 'bus'>,
  job: Pick<Job, 'id' | 'announce'>,
  audience: Audience,
  profileId: string,
  nowMs: number,
  /** The root and parts as the scan read them (used for the first attempt; a retry reads again). */
  preloaded?: ProfileWithParts,
): Promise<'entered' | 'exited' | undefined> {
  const set = new RuleSet([audience]);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const first = attempt === 0 ? preloaded : undefined;
    const resolved = first ? { profile: first.stored.profile } : (await resolveSurvivors(d.store, [profileId])).get(profileId);
    if (!resolved || resolved.profile.id !== profileId) return undefined; // gone, or merged away
    const profile = resolved.profile;
    const parts = first ? first.parts : await d.parts.loadParts(profile.id);
    const history = await loadHistory(d.history, profile, historyWindowMs(audience.condition), nowMs);
    const at = new Date(nowMs).toISOString();
    const trigger = { messageId: `backfill:${job.id}`, timestamp: at };
    const ctx: EvaluationContext = {
      event: { type: 'identify', ...trigger },
      profile: contextProfile(profile, parts),
      history: history ?? [],
      now: nowMs,
      // Everything stored counts; the synthetic event is no event of the person's.
      eventInHistory: false,
    };
    const outcome = set.evaluateAudiences(ctx)[0];
    if (!outcome) return undefined;
    const was = has(parts.audiences, audience.id);
    if (outcome.member === was) return undefined;
    const next = { ...parts.audiences };
    if (outcome.member) next[audience.id] = at;
    else delete next[audience.id];
    const change = outcome.member ? 'entered' : 'exited';
    // As evaluate: publish first (same dedupe id on a retry), then write the membership.
    if (job.announce)
      await d.bus.publish([
        audienceChanged({
          audienceId: audience.id,
          audienceName: audience.name,
          entered: outcome.member,
          profileId: profile.id,
          trigger,
          dedupeId: dedupeId(job.id, 'audience', audience.id, change, profile.id),
          person: personOf(profile.identifiers, traitValues(profile.traits)),
          trace: outcome.trace,
          at,
          backfill: true,
        }),
      ]);
    // Entering a windowed audience files its re-check (time-based exits).
    const due = outcome.member ? nextAgingAt(audience.condition, ctx) : undefined;
    const dueAt = due !== undefined ? { [audience.id]: new Date(due).toISOString() } : undefined;
    if (
      await d.parts.saveAudiences(profile.id, next, parts.audiencesVersion, { previous: parts.audiences, at, ...(dueAt ? { dueAt } : {}) })
    )
      return change;
  }
  throw new Error('audience membership changed concurrently');
}

/** `done`: the segment is finished; `stopped`: the job no longer runs; `paused`: time is up, run it again to go on. */
export type SegmentOutcome = 'done' | 'stopped' | 'paused';

/**
 * Works through one segment from its checkpoint: a page of roots, each profile backfilled, the
 * cursor saved; stops early when the job is no longer running (cancelled).
 */
export async function runSegment(d: WorkerDeps, jobId: string, segment: number): Promise<SegmentOutcome> {
  const sleep = d.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const first = await d.jobs.get(jobId);
  if (!first) throw new NotFoundError(`no job ${jobId}`);
  let state = first.segments.find((s) => s.segment === segment) ?? newSegment(segment);
  if (state.done) return 'done';
  // A computed-trait recompute works each profile with its own function (`app/computed-recompute.ts`).
  const recompute = recomputeWorker(d, first.job);
  const audience = recompute ? undefined : await audienceOf(d.rules, first.job.audienceId);
  if (!recompute && !audience) {
    await d.jobs.finish(first.job, 'failed', nowOf(d).toISOString(), `audience ${first.job.audienceId} no longer exists`);
    return 'stopped';
  }
  const share = first.job.capacityPerSecond / Math.max(1, first.job.segments);
  for (;;) {
    const current = await d.jobs.get(jobId);
    if (!current || current.job.status !== 'running') return 'stopped';
    const started = Date.now();
    const page = await d.scanner.scanSegment(segment, first.job.segments, state.cursor, d.pageSize ?? 200);
    let entered = 0;
    let exited = 0;
    const nowMs = nowOf(d).getTime();
    // The profiles of a page are independent (each change is conditional on its own part): a few at once.
    const ids = [...page.profileIds];
    await Promise.all(
      Array.from({ length: Math.min(d.concurrency ?? 16, ids.length) }, async () => {
        for (let id = ids.shift(); id !== undefined; id = ids.shift()) {
          const change = recompute
            ? await recompute(id, nowMs)
            : await backfillProfile(d, first.job, audience!, id, nowMs, page.loaded?.get(id));
          if (change === 'entered') entered++;
          if (change === 'exited') exited++;
          d.onProfile?.(id);
        }
      }),
    );
    state = {
      segment,
      ...(page.cursor ? { cursor: page.cursor } : {}),
      done: page.cursor === undefined,
      scanned: state.scanned + page.profileIds.length,
      entered: state.entered + entered,
      exited: state.exited + exited,
      corrupt: [...state.corrupt, ...page.corrupt].slice(0, 100),
      updatedAt: nowOf(d).toISOString(),
    };
    await d.jobs.checkpoint(jobId, state);
    if (state.done) return 'done';
    if (d.timeUp?.()) return 'paused';
    // Reads of the page, and about three reads and a transactional write per profile looked at.
    const units = page.units + page.profileIds.length * 3 + (entered + exited) * 8;
    const wait = throttleDelayMs(units, Date.now() - started, share);
    if (wait > 0) await sleep(wait);
  }
}

/** Ends a job whose segments are all done (`succeeded`); the last worker calls it. */
export async function completeIfDone(d: Pick<WorkerDeps, 'jobs' | 'now' | 'recompute'>, jobId: string): Promise<boolean> {
  const got = await d.jobs.get(jobId);
  if (!got || got.job.status !== 'running' || got.segments.some((s) => !s.done)) return false;
  if (d.recompute) await recordRecomputed(d.recompute.digests, got.job);
  return d.jobs.finish(got.job, 'succeeded', nowOf(d).toISOString());
}
