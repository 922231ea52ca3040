/**
 * The `audience-backfill` job kind: creating or changing an audience computes its membership
 * for every existing profile, segment by segment of a parallel scan of the profile roots (which
 * bring their parts along, so most profiles need no further read). Idempotent: a profile whose
 * membership is already right writes nothing, and a change is conditional on the membership as
 * read (`saveAudiences`), so re-running a page changes nothing.
 */
import { MEMBER_SHARDS, membershipBatches } from '../core/audiences';
import { has } from '../core/dict';
import { DEFAULT_SEGMENTS, type Job, subjectOf } from '../core/jobs';
import { type Profile, traitValues } from '../core/profile';
import { nextAgingAt } from '../core/expiry';
import { audienceChanged, dedupeId, personOf } from '../core/rules/contract';
import { historyWindowMs, isAudience, parseDefinition, RuleSet } from '../core/rules/engine';
import type { Audience } from '../core/rules/schema';
import { loadHistory, storedStateContext } from './evaluate';
import { DEFAULT_PAGE_ITEMS, eachConcurrently, type JobSpec, type JobWorker, segmentWork, type WorkerDeps } from './job-work';
import type { BusEntry, ProfileParts, ProfileWithParts, RuleStore } from './ports';
import { resolveSurvivors } from './resolve';

export interface BackfillOptions {
  /** Put the changes on the bus (flagged `backfill: true`). @default true */
  readonly announce?: boolean;
  /** @default DEFAULT_SEGMENTS */
  readonly segments?: number;
  /** Capacity units per second the job may use (0: unthrottled). @default 0 */
  readonly capacityPerSecond?: number;
}

/** The job that backfills an audience: one running per audience (its subject). */
export function backfillJob(audienceId: string, opts: BackfillOptions = {}): JobSpec {
  return {
    kind: 'audience-backfill',
    subject: subjectOf(audienceId),
    params: { audienceId, announce: opts.announce ?? true },
    segments: opts.segments ?? DEFAULT_SEGMENTS,
    ...(opts.capacityPerSecond !== undefined ? { capacityPerSecond: opts.capacityPerSecond } : {}),
  };
}

export async function audienceOf(rules: RuleStore, id: string): Promise<Audience | undefined> {
  const doc = await rules.getRuleDoc(id);
  if (doc === undefined) return undefined;
  const def = parseDefinition(doc);
  return isAudience(def) ? def : undefined;
}

const MAX_ATTEMPTS = 5;

/** A profile's membership change, decided (not yet announced or written). */
interface Decision {
  readonly profile: Profile;
  readonly parts: ProfileParts;
  readonly next: Record<string, string>;
  readonly change: 'entered' | 'exited';
  readonly event: BusEntry;
  readonly dueAt?: string;
}

/** What one profile's membership of `audience` should be, from everything stored, as of `nowMs`; undefined: as it is. */
async function decide(
  d: Pick<WorkerDeps, 'history'>,
  job: { readonly id: string },
  audience: Audience,
  set: RuleSet,
  profile: Profile,
  parts: ProfileParts,
  nowMs: number,
): Promise<Decision | undefined> {
  const history = await loadHistory(d.history, profile, historyWindowMs(audience.condition), nowMs);
  const at = new Date(nowMs).toISOString();
  const trigger = { messageId: `backfill:${job.id}`, timestamp: at };
  // Everything stored counts; the synthetic event is no event of the person's.
  const ctx = storedStateContext(profile, parts, history, nowMs, trigger);
  const outcome = set.evaluateAudiences(ctx)[0];
  if (!outcome) return undefined;
  if (outcome.member === has(parts.audiences, audience.id)) return undefined;
  const next = { ...parts.audiences };
  if (outcome.member) next[audience.id] = at;
  else delete next[audience.id];
  const change = outcome.member ? 'entered' : 'exited';
  // Entering a windowed audience files its re-check (time-based exits).
  const due = outcome.member ? nextAgingAt(audience.condition, ctx) : undefined;
  const event = audienceChanged({
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
  });
  return { profile, parts, next, change, event, ...(due !== undefined ? { dueAt: new Date(due).toISOString() } : {}) };
}

/**
 * Brings one profile's membership of one audience up to date from everything stored (its
 * traits, computed traits and timeline, merged-in profiles included), as of `nowMs`. Returns
 * the change made, if any.
 */
export async function backfillProfile(
  d: Pick<WorkerDeps, 'store' | 'parts' | 'history' | 'bus'>,
  job: { readonly id: string; readonly announce: boolean },
  audience: Audience,
  profileId: string,
  nowMs: number,
  /** The root and parts as the scan read them (used for the first attempt; a retry reads again). */
  preloaded?: ProfileWithParts,
  set: RuleSet = new RuleSet([audience]),
): Promise<'entered' | 'exited' | undefined> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const first = attempt === 0 ? preloaded : undefined;
    const resolved = first ? { profile: first.stored.profile } : (await resolveSurvivors(d.store, [profileId])).get(profileId);
    if (!resolved || resolved.profile.id !== profileId) return undefined; // gone, or merged away
    const parts = first ? first.parts : await d.parts.loadParts(profileId);
    const dec = await decide(d, job, audience, set, resolved.profile, parts, nowMs);
    if (!dec) return undefined;
    // As evaluate: publish first (same dedupe id on a retry), then write the membership.
    if (job.announce) await d.bus.publish([dec.event]);
    const at = new Date(nowMs).toISOString();
    const dueAt = dec.dueAt ? { [audience.id]: dec.dueAt } : undefined;
    if (
      await d.parts.saveAudiences(profileId, dec.next, {
        previous: parts.audiences,
        at,
        ...(dueAt ? { dueAt } : {}),
      })
    )
      return dec.change;
  }
  throw new Error('audience membership changed concurrently');
}

export const backfillWorker: JobWorker = {
  async prepare(d: WorkerDeps, job: Job) {
    const audienceId = String(job.params.audienceId);
    const audience = await audienceOf(d.rules, audienceId);
    if (!audience) return `audience ${audienceId} no longer exists`;
    const set = new RuleSet([audience]);
    const announce = job.params.announce !== false;
    const historyReads = historyWindowMs(audience.condition) > 0 ? 1 : 0;
    return segmentWork({
      read: (state, cursor, totalSegments) => d.scanner.scanSegment(state.segment, totalSegments, cursor, d.pageSize ?? DEFAULT_PAGE_ITEMS),
      async work(page, state, nowMs) {
        let entered = 0;
        let exited = 0;
        let reads = 0;
        const count = (change: 'entered' | 'exited' | undefined) => {
          if (change === 'entered') entered++;
          if (change === 'exited') exited++;
        };
        // The profiles the page held whole are decided from it; the few it cut are read and written one by one.
        const decided: Decision[] = [];
        await eachConcurrently(page.profileIds, d.concurrency ?? 16, async (id) => {
          const loaded = page.loaded?.get(id);
          if (!loaded) {
            reads += 2;
            count(await backfillProfile(d, { id: job.id, announce }, audience, id, nowMs, undefined, set));
          } else {
            const dec = await decide(d, job, audience, set, loaded.stored.profile, loaded.parts, nowMs);
            if (dec) decided.push(dec);
          }
          d.onProfile?.(id);
        });
        // As evaluate: announce first (the same dedupe ids on a retry), then write, a batch per transaction.
        if (announce && decided.length > 0) await d.bus.publish(decided.map((x) => x.event));
        const at = new Date(nowMs).toISOString();
        for (const batch of membershipBatches(decided)) {
          const written = await d.parts.saveAudiencesBatch(
            batch.map((x) => ({
              profileId: x.profile.id,
              audienceId: audience.id,
              entered: x.change === 'entered',
              previous: x.parts.audiences,
              next: x.next,
              ...(x.dueAt ? { dueAt: x.dueAt } : {}),
            })),
            at,
            // A counter shard per segment: the job's workers never conflict on their counters.
            state.segment % MEMBER_SHARDS,
          );
          if (written) for (const x of batch) count(x.change);
          // A profile of the batch moved on meanwhile: each one read again and written alone.
          else
            for (const x of batch) count(await backfillProfile(d, { id: job.id, announce }, audience, x.profile.id, nowMs, undefined, set));
        }
        return {
          scanned: page.profileIds.length,
          counts: { entered, exited },
          corrupt: page.corrupt,
          // The reads of profiles the page cut and of timelines, and the transactional writes (two units an item).
          units: reads + page.profileIds.length * historyReads + (entered + exited) * 6,
        };
      },
    });
  },
};
