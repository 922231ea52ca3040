/**
 * The evaluate use case: run the audiences and rules against a newly stored event and its
 * profile, apply the actions that fire and put the resulting events on the bus.
 *
 * Per event: the profile root and its parts (one Query), the timeline at most once and only
 * when a candidate rule or an audience has a history condition (for the longest window any of
 * them needs, merged-in profiles included). Idempotency: every firing is claimed in the rule
 * state with a conditional write keyed by its dedupe id, so a redelivered event never counts
 * twice against cooldowns and maximums, never increments a trait twice, and re-publishes
 * bus events with the same dedupe id (at-least-once; targets drop duplicates by it).
 */
import type { ScherpEvent } from '../core/events';
import { ScherpError } from '../core/errors';
import { dict, has, own } from '../core/dict';
import { applyConsent, consentFromEvent, consentValues, type ConsentStatus } from '../core/consent';
import type { Profile } from '../core/profile';
import { traitValues } from '../core/profile';
import { actionTriggered, audienceChanged, dedupeId, personOf, type BusEvent, type Person } from '../core/rules/contract';
import {
  type EvaluationContext,
  type Firing,
  resolveValue,
  resolveValues,
  runRule,
  type RuleSet,
  type TraceEntry,
} from '../core/rules/engine';
import { durationMs } from '../core/rules/schema';
import { audiencesCanChange } from '../core/rules/relevance';
import { applyTraitChanges, type TraitChange } from '../core/rules/traits';
import type {
  Bus,
  BusEntry,
  DelayedJob,
  HistoryStore,
  PersonalizationStore,
  ProfileParts,
  ProfileReader,
  ProfileStore,
  Recommendation,
  Scheduler,
  StoredComputed,
} from './ports';
import { emptyParts } from './ports';
import type { StatsStore } from './ports';
import { resolveSurvivors } from './resolve';
import { appliedAt, EMPTY_COMPUTED, matches, type StreamPosition } from '../core/computed';
import { nextAgingAt } from '../core/expiry';
import { updateComputed, type ComputedDeps } from './computed';

export type SkipReason = 'consent' | 'cooldown' | 'max-fires' | 'duplicate';

export interface EvaluateDeps {
  /** The Overview's counters: actions fired per rule, one update per stream batch (`core/stats.ts`). */
  readonly stats?: StatsStore;
  readonly store: ProfileStore;
  /** Reads a live profile's root and parts in one Query (absent: a root read, then the parts). */
  readonly reader?: ProfileReader;
  readonly bus: Bus;
  readonly rules: () => Promise<RuleSet>;
  readonly parts: PersonalizationStore;
  readonly history: HistoryStore;
  readonly scheduler: Scheduler;
  /** Computed traits, updated from each event before the rules run (absent: none). */
  readonly computed?: ComputedDeps;
  readonly now?: () => Date;
  /** A rule or audience threw: it is skipped, the others run. */
  readonly onRuleError?: (id: string, err: unknown) => void;
  /** An action that fired was held back (counted as a metric). */
  readonly onSkipped?: (ruleId: string, reason: SkipReason) => void;
}

/** Concurrent writers changed the same profile part; the stream retries the record. */
export class PartConflictError extends ScherpError {
  constructor(part: string) {
    super('conflict', `${part} changed concurrently`);
  }
}

const RULES_SOURCE = 'rules';
const MAX_TRAIT_ATTEMPTS = 5;

/** What a rule sees of a profile. */
export function contextProfile(profile: Profile, parts: ProfileParts): EvaluationContext['profile'] {
  return {
    id: profile.id,
    identifiers: [...profile.identifiers],
    traits: traitValues(profile.traits),
    computed: parts.computed,
    audiences: Object.keys(parts.audiences).sort(),
    consent: consentValues(parts.consent),
  };
}

/**
 * The context for re-deciding audiences from everything stored, with no event of the person's
 * (a backfill, a time-based exit): the trigger is synthetic and the history is all there is.
 */
export function storedStateContext(
  profile: Profile,
  parts: ProfileParts,
  history: readonly ScherpEvent[] | undefined,
  nowMs: number,
  trigger: { readonly messageId: string; readonly timestamp: string },
): EvaluationContext {
  return {
    event: { type: 'identify', ...trigger },
    profile: contextProfile(profile, parts),
    history: history ?? [],
    now: nowMs,
    eventInHistory: false,
  };
}

/** The timeline a set of rules needs, survivor and merged-in profiles together; undefined when none. */
export async function loadHistory(
  history: HistoryStore,
  profile: Profile,
  windowMs: number,
  nowMs: number,
): Promise<ScherpEvent[] | undefined> {
  if (windowMs <= 0) return undefined;
  return history.load([profile.id, ...(profile.mergedFrom ?? [])], new Date(nowMs - windowMs).toISOString());
}

async function recordConsent(
  store: PersonalizationStore,
  profileId: string,
  parts: ProfileParts,
  statements: Record<string, ConsentStatus>,
  at: string,
): Promise<ProfileParts> {
  const next = applyConsent(parts.consent, statements, at);
  if (next === parts.consent) return parts;
  if (!(await store.saveConsent(profileId, next, parts.consentVersion))) throw new PartConflictError('consent');
  return { ...parts, consent: next, consentVersion: parts.consentVersion + 1 };
}

/** Everything the firings of one event change, applied together at the end. */
class Effects {
  readonly bus: BusEvent[] = [];
  readonly traits: TraitChange[] = [];
  readonly recommendations: [string, Recommendation][] = [];
  readonly members: Record<string, string>;
  membersChanged = false;
  /** Entered audiences with a history window: when to re-check them (time-based exits, `app/expiry.ts`). */
  readonly dueAt: Record<string, string> = dict();

  constructor(
    readonly parts: ProfileParts,
    readonly profile: Profile,
    readonly person: Person,
    readonly trigger: { messageId: string; event?: string; timestamp: string },
    readonly at: string,
  ) {
    this.members = dict(parts.audiences);
  }

  audience(id: string, name: string, entered: boolean, trace: readonly TraceEntry[], dedupe: string, ruleId?: string): void {
    if (entered === has(this.members, id)) return;
    if (entered) this.members[id] = this.at;
    else delete this.members[id];
    this.membersChanged = true;
    this.bus.push(
      audienceChanged({
        audienceId: id,
        audienceName: name,
        entered,
        profileId: this.profile.id,
        trigger: this.trigger,
        dedupeId: dedupe,
        person: this.person,
        ruleId,
        trace,
        at: this.at,
      }),
    );
  }
}

function effectsFor(deps: EvaluateDeps, profile: Profile, parts: ProfileParts, event: ScherpEvent): Effects {
  const at = (deps.now?.() ?? new Date()).toISOString();
  const trigger = { messageId: event.messageId, ...(event.event ? { event: event.event } : {}), timestamp: event.timestamp };
  return new Effects(parts, profile, personOf(profile.identifiers, traitValues(profile.traits)), trigger, at);
}

/**
 * The least time ahead a delayed action is scheduled. Scheduler refuses an `at()` in the past,
 * and an event can arrive after its delay has run out (a late mobile batch, an import, stream
 * lag): such an action is re-checked this long from now (the lead covers the call's latency
 * and clock skew; the re-check sees what reached the timeline meanwhile).
 */
export const MIN_SCHEDULE_LEAD_MS = 5_000;

/** When a delayed action is checked: `delay` after the event, but never sooner than the minimum lead. */
export function delayedDueAt(eventTimestamp: string, delayMs: number, nowMs: number): string {
  return new Date(Math.max(Date.parse(eventTimestamp) + delayMs, nowMs + MIN_SCHEDULE_LEAD_MS)).toISOString();
}

/** Claims and records one firing; `delayed` when it is the re-check of a delayed action. */
async function fire(deps: EvaluateDeps, set: RuleSet, fx: Effects, f: Firing, event: ScherpEvent, delayed: boolean): Promise<void> {
  const a = f.action;
  const skip = (reason: SkipReason) => deps.onSkipped?.(f.ruleId, reason);
  if (a.consent && own(f.scope.profile.consent, a.consent) !== 'granted') return skip('consent');
  const dedupe = dedupeId(event.messageId, f.ruleId, f.actionId);
  if (a.delay && !delayed) {
    // Due a delay after the event happened (not after this evaluation ran), and in the future.
    const dueAt = delayedDueAt(event.timestamp, durationMs(a.delay), (deps.now?.() ?? new Date()).getTime());
    const job: DelayedJob = { ruleId: f.ruleId, actionIndex: f.actionIndex, profileId: fx.profile.id, event, dueAt, dedupeId: dedupe };
    return deps.scheduler.schedule(job);
  }
  const claim = await deps.parts.claimFiring(fx.profile.id, f.ruleId, f.actionId, {
    dedupeId: dedupe,
    at: fx.at,
    cooldownMs: a.cooldown ? durationMs(a.cooldown) : undefined,
    maxFires: a.maxFires,
  });
  if (claim === 'cooldown' || claim === 'max-fires') return skip(claim);
  switch (a.type) {
    case 'emit':
      fx.bus.push(
        actionTriggered({
          ruleId: f.ruleId,
          action: a.action,
          target: a.target,
          profileId: fx.profile.id,
          trigger: fx.trigger,
          dedupeId: dedupe,
          person: fx.person,
          data: resolveValues(a.data, f.scope),
          trace: f.trace,
          at: fx.at,
        }),
      );
      return;
    case 'trait':
      // An increment is the one effect that is not idempotent: a redelivery must not repeat it.
      if (claim === 'duplicate' && a.increment !== undefined) return skip('duplicate');
      fx.traits.push(
        a.increment !== undefined ? { trait: a.trait, increment: a.increment } : { trait: a.trait, set: resolveValue(a.set!, f.scope) },
      );
      return;
    case 'audience': {
      const name = set.audiences.find((x) => x.id === a.audience)?.name ?? a.audience;
      fx.audience(a.audience, name, a.op === 'join', f.trace, dedupe, f.ruleId);
      return;
    }
    case 'recommend':
      fx.recommendations.push([
        a.slot,
        {
          ruleId: f.ruleId,
          data: resolveValues(a.data, f.scope),
          createdAt: fx.at,
          expiresAt: new Date(Date.parse(fx.at) + durationMs(a.expiresIn)).toISOString(),
        },
      ]);
  }
}

/** Publishes, then writes the profile parts: a failure after publishing retries with the same dedupe ids. */
async function apply(deps: EvaluateDeps, fx: Effects): Promise<BusEntry[]> {
  if (fx.bus.length > 0) await deps.bus.publish(fx.bus);
  const id = fx.profile.id;
  if (
    fx.membersChanged &&
    !(await deps.parts.saveAudiences(id, fx.members, {
      previous: fx.parts.audiences,
      at: fx.at,
      dueAt: fx.dueAt,
    }))
  )
    throw new PartConflictError('audiences');
  for (const [slot, rec] of fx.recommendations) await deps.parts.putRecommendation(id, slot, rec);
  if (fx.traits.length > 0) await saveTraits(deps.store, id, fx.traits, fx.at);
  return fx.bus;
}

async function saveTraits(store: ProfileStore, profileId: string, changes: readonly TraitChange[], at: string): Promise<void> {
  for (let attempt = 0; attempt < MAX_TRAIT_ATTEMPTS; attempt++) {
    const sp = (await resolveSurvivors(store, [profileId])).get(profileId);
    if (!sp) return;
    if (await store.saveProfile(applyTraitChanges(sp.profile, changes, at, RULES_SOURCE), sp.version)) return;
  }
  throw new PartConflictError('profile traits');
}

/**
 * The profile an event's partition resolves to, with its parts. With a `reader`, the root and
 * the parts of a live profile come in one strongly consistent Query (one read unit for a
 * profile under 4 KB, instead of a root read and a parts Query); a merged-away root is followed.
 */
async function loadProfileAndParts(
  deps: EvaluateDeps,
  profileId: string,
): Promise<{ profile: Profile; parts: ProfileParts; own?: StoredComputed } | undefined> {
  const whole = deps.reader ? await deps.reader.loadProfileWithParts(profileId) : undefined;
  if (whole && whole.stored.profile.mergedInto === undefined) return { profile: whole.stored.profile, parts: whole.parts };
  if (deps.reader && !whole) return undefined;
  const resolved = (await resolveSurvivors(deps.store, [profileId])).get(profileId);
  if (!resolved) return undefined;
  // Merged away: the partition's own computed traits are where its events count until the merge seals them.
  const own = deps.computed
    ? ((whole ? whole.parts.computedState : (await deps.parts.loadParts(profileId)).computedState) ?? EMPTY_STORED)
    : undefined;
  return { profile: resolved.profile, parts: await deps.parts.loadParts(resolved.profile.id), ...(own ? { own } : {}) };
}

const EMPTY_STORED: StoredComputed = { state: EMPTY_COMPUTED, version: 0 };

/**
 * Where an event of partition `profileId` counts: on the partition's own computed traits until a
 * merge has sealed them (`into`), then on the survivor. A merged loser's event that comes again
 * before the merge record's combine ran (a crashed batch retried after the merge committed) is
 * so found in the loser's marks and counted once: the combine adds the loser's values, which hold
 * it, and the survivor never staged it.
 */
function computedTarget(
  deps: EvaluateDeps,
  profileId: string,
  loaded: { profile: Profile; parts: ProfileParts; own?: StoredComputed },
  at: StreamPosition | undefined,
): { id: string; parts: ProfileParts } | undefined {
  if (!loaded.own) return { id: loaded.profile.id, parts: loaded.parts };
  const own = deps.computed?.batch ? deps.computed.batch.current(profileId, loaded.own) : loaded.own;
  if (own.state.into === undefined)
    return { id: profileId, parts: { ...emptyParts(), computed: { ...own.state.values }, computedState: own } };
  // Sealed holding the event (sealed with it, its combine perhaps still to run): counted there.
  if (appliedAt(own.state, at)) return undefined;
  return { id: loaded.profile.id, parts: loaded.parts };
}

/**
 * Evaluates the audiences and rules for one stored event; returns what was published. `at` is
 * the stream record's position (computed traits apply each record once, `app/computed-batch.ts`).
 */
export async function evaluateEvent(deps: EvaluateDeps, profileId: string, event: ScherpEvent, at?: StreamPosition): Promise<BusEntry[]> {
  const set = await deps.rules();
  const candidates = set.candidates(event.type, event.event);
  const statements = consentFromEvent(event);
  const computes = deps.computed !== undefined && Object.values(deps.computed.defs).some((d) => matches(d, event));
  if (candidates.length === 0 && set.audiences.length === 0 && !statements && !computes) return [];
  const batch = deps.computed?.batch;
  // Only computed traits can change (no rule, no consent, no audience the event can change), and
  // this batch already holds the profile: no read.
  const known =
    batch && candidates.length === 0 && !statements && !audiencesCanChange(set.audiences, deps.computed?.defs, event)
      ? batch.resolvedProfile(profileId)
      : undefined;
  if (known !== undefined) {
    await updateComputed(deps.computed!, known, emptyParts(), event, at);
    return [];
  }
  const loaded = await loadProfileAndParts(deps, profileId);
  if (!loaded) return [];
  const profile = loaded.profile;
  let parts = batch ? batch.overlay(profile.id, loaded.parts) : loaded.parts;
  if (computes) {
    const target = computedTarget(deps, profileId, loaded, at);
    if (target?.id === profile.id) parts = await updateComputed(deps.computed!, profile.id, parts, event, at);
    else if (target) await updateComputed(deps.computed!, target.id, target.parts, event, at);
    if (target) batch?.remember(profileId, target.id);
  }
  if (statements) parts = await recordConsent(deps.parts, profile.id, parts, statements, event.timestamp);
  if (candidates.length === 0 && set.audiences.length === 0) return [];

  const nowMs = Date.parse(event.timestamp);
  const history = await loadHistory(deps.history, profile, set.historyWindow(candidates), nowMs);
  const fx = effectsFor(deps, profile, parts, event);
  const base: EvaluationContext = { event: { ...event }, profile: contextProfile(profile, parts), history, now: nowMs };
  evaluateAudiences(deps, set, fx, base, event.messageId);
  const ctx: EvaluationContext = { ...base, profile: { ...base.profile, audiences: Object.keys(fx.members).sort() } };
  for (const f of set.evaluate(ctx, deps.onRuleError, candidates)) await fire(deps, set, fx, f, event, false);
  return apply(deps, fx);
}

function evaluateAudiences(
  deps: EvaluateDeps,
  set: RuleSet,
  fx: Effects,
  base: EvaluationContext,
  messageId: string,
  ...scope: string[]
): void {
  for (const o of set.evaluateAudiences(base, deps.onRuleError)) {
    // An entry into a windowed audience files when its history ages out (time-based exits).
    const due =
      o.member && !has(fx.members, o.audience.id) ? nextAgingAt(o.audience.condition, { ...base, eventInHistory: true }) : undefined;
    if (due !== undefined) fx.dueAt[o.audience.id] = new Date(due).toISOString();
    fx.audience(
      o.audience.id,
      o.audience.name,
      o.member,
      o.trace,
      dedupeId(messageId, 'audience', o.audience.id, o.member ? 'entered' : 'exited', ...scope),
    );
  }
}

/**
 * The audiences of a profile evaluated again without a new event of its own (after a split,
 * `app/split.ts`): `trigger` stands for what changed the profile; its dedupe ids name the profile.
 */
export async function reevaluateAudiences(deps: EvaluateDeps, profileId: string, trigger: ScherpEvent): Promise<BusEntry[]> {
  const set = await deps.rules();
  if (set.audiences.length === 0) return [];
  const resolved = (await resolveSurvivors(deps.store, [profileId])).get(profileId);
  if (!resolved) return [];
  const profile = resolved.profile;
  const parts = await deps.parts.loadParts(profile.id);
  const nowMs = Date.parse(trigger.timestamp);
  const history = await loadHistory(deps.history, profile, set.audienceWindow, nowMs);
  const fx = effectsFor(deps, profile, parts, trigger);
  evaluateAudiences(
    deps,
    set,
    fx,
    { event: { ...trigger }, profile: contextProfile(profile, parts), history, now: nowMs },
    trigger.messageId,
    profile.id,
  );
  return apply(deps, fx);
}

/** The re-check of a delayed action: fires only if the rule's condition still holds now. */
export async function runDelayed(deps: EvaluateDeps, job: DelayedJob): Promise<BusEntry[]> {
  const set = await deps.rules();
  const rule = set.get(job.ruleId);
  if (!rule || !rule.enabled) return [];
  const resolved = (await resolveSurvivors(deps.store, [job.profileId])).get(job.profileId);
  if (!resolved) return [];
  const profile = resolved.profile;
  const parts = await deps.parts.loadParts(profile.id);
  const nowMs = (deps.now?.() ?? new Date()).getTime();
  const triggeredAt = Date.parse(job.event.timestamp);
  const windowMs = set.historyWindow([rule]);
  const history = await loadHistory(deps.history, profile, windowMs > 0 ? Math.max(windowMs, nowMs - triggeredAt) : 0, nowMs);
  const ctx: EvaluationContext = {
    event: { ...job.event },
    profile: contextProfile(profile, parts),
    history,
    now: nowMs,
    historyFrom: triggeredAt,
  };
  let firing: Firing | undefined;
  try {
    firing = runRule(rule, ctx).firings[job.actionIndex];
  } catch (err) {
    deps.onRuleError?.(rule.id, err);
    return [];
  }
  if (!firing) return [];
  const fx = effectsFor(deps, profile, parts, job.event);
  await fire(deps, set, fx, firing, job.event, true);
  return apply(deps, fx);
}
