/**
 * Keeping computed traits current: `evaluate` applies each newly stored event before any rule
 * runs (so the rules of that event see the new values), and combines the computed traits of
 * merged profiles into the survivor when a merge record arrives. Both are idempotent: the item
 * remembers the hashes of the last events and merges it applied (`core/computed.ts`), and every
 * write is conditional on the version read.
 */
import { applyEvent, combineComputed, EMPTY_COMPUTED, type ComputedDefs, type ComputedState, type StreamPosition } from '../core/computed';
import { ScherpError } from '../core/errors';
import type { ScherpEvent } from '../core/events';
import type { MergeRecord } from '../core/profile';
import type { ComputedStore, PersonalizationStore, ProfileParts, ProfileStore, StoredComputed } from './ports';
import { mergeConsent } from '../core/consent';
import { resolveSurvivors } from './resolve';
import { sealComputed, type ComputedBatch } from './computed-batch';

/**
 * One profile's events arrive in order from one stream shard, so conflicts are rare (a merge
 * joining two shards' profiles); each retry re-reads the item after a short random pause.
 */
const MAX_ATTEMPTS = 10;
const pause = (attempt: number) => new Promise((r) => setTimeout(r, Math.random() * 10 * attempt));

export interface ComputedDeps {
  readonly store: ComputedStore;
  readonly defs: ComputedDefs;
  /** A stream batch's changes, written once per profile at its end (`app/computed-batch.ts`); absent: a write per change. */
  readonly batch?: ComputedBatch;
}

/** Concurrent writers kept changing a profile part; the stream retries the record. */
export class ComputedConflictError extends ScherpError {
  constructor(part = 'computed traits') {
    super('conflict', `${part} changed concurrently`);
  }
}

/**
 * Applies one event to a profile's computed traits; returns the parts with the new values. `at`
 * is the stream record's position (its partition's mark makes a redelivery a no-op).
 */
export async function updateComputed(
  deps: ComputedDeps,
  profileId: string,
  parts: ProfileParts,
  event: ScherpEvent,
  at?: StreamPosition,
): Promise<ProfileParts> {
  if (deps.batch) {
    const state = deps.batch.stage(profileId, parts.computedState, { kind: 'event', event, ...(at ? { at } : {}) });
    return { ...parts, computed: { ...state.values }, computedState: deps.batch.current(profileId, parts.computedState) };
  }
  let cur: StoredComputed = parts.computedState ?? { state: EMPTY_COMPUTED, version: 0 };
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (attempt > 0) {
      await pause(attempt);
      cur = (await deps.store.load([profileId])).get(profileId) ?? { state: EMPTY_COMPUTED, version: 0 };
    }
    // Merged away since it was read: the record is retried, and then resolves to the survivor.
    if (cur.state.into !== undefined) throw new ComputedConflictError();
    const next = applyEvent(deps.defs, cur.state, event, at);
    if (next === cur.state) return { ...parts, computed: { ...cur.state.values }, computedState: cur };
    if (await deps.store.save(profileId, next, cur.version)) {
      return { ...parts, computed: { ...next.values }, computedState: { state: next, version: cur.version + 1 } };
    }
  }
  throw new ComputedConflictError();
}

/**
 * Adds the merged profiles' computed traits to the survivor's (the record's profile, or the
 * profile that absorbed it since). Merged profiles are never written again, so their values are
 * final; a loser's later-arriving events resolve to the survivor.
 */
export async function combineMerged(deps: ComputedDeps, profiles: ProfileStore, record: MergeRecord, at?: StreamPosition): Promise<void> {
  if (record.merged.length === 0 || Object.keys(deps.defs).length === 0) return;
  const target = (await resolveSurvivors(profiles, [record.profileId])).get(record.profileId)?.profile.id;
  // The survivor is gone (erased since): nothing to combine, and no part to leave behind.
  if (target === undefined) return;
  const mergeKey = `${record.profileId}#${record.eventTimestamp}#${record.messageId}`;
  // The losers are sealed first: nothing is applied to them once their values are taken.
  const losers: ComputedState[] = [];
  if (deps.batch) {
    const batch = deps.batch;
    // The survivor too: its next event is read and evaluated whole (audiences see the merged profile).
    batch.forget([target, record.profileId, ...record.merged]);
    const all = await batch.load([target, ...record.merged]);
    for (const id of record.merged) losers.push(await batch.seal(id, target, all.get(id)));
    batch.stage(target, all.get(target), { kind: 'merge', losers, mergeKey, ...(at ? { at } : {}) });
    return;
  }
  const read = await deps.store.load([target, ...record.merged]);
  for (const id of record.merged) losers.push(await sealComputed(deps.store, deps.defs, id, target, read.get(id)));
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (attempt > 0) await pause(attempt);
    const survivor = (attempt === 0 ? read.get(target) : (await deps.store.load([target])).get(target)) ?? {
      state: EMPTY_COMPUTED,
      version: 0,
    };
    const next = combineComputed(deps.defs, survivor.state, losers, mergeKey, at);
    if (next === survivor.state || (await deps.store.save(target, next, survivor.version))) return;
  }
  throw new ComputedConflictError();
}

/**
 * Adds the merged profiles' consent to the survivor's (per purpose the newest statement), so
 * consent given on an anonymous profile holds once it is merged into the known one.
 */
export async function combineMergedConsent(parts: PersonalizationStore, profiles: ProfileStore, record: MergeRecord): Promise<void> {
  if (record.merged.length === 0) return;
  const target = (await resolveSurvivors(profiles, [record.profileId])).get(record.profileId)?.profile.id ?? record.profileId;
  const losers = await Promise.all(record.merged.map((id) => parts.loadParts(id)));
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (attempt > 0) await pause(attempt);
    const survivor = await parts.loadParts(target);
    const next = losers.reduce((c, l) => mergeConsent(c, l.consent), survivor.consent);
    if (next === survivor.consent || (await parts.saveConsent(target, next, survivor.consentVersion))) return;
  }
  throw new ComputedConflictError('consent');
}
