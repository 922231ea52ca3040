/**
 * The circuit breaker's side effects (`core/breaker.ts` decides): counting links on the profile
 * root, quarantining a profile and recording the links refused into it, and the admin's release
 * (`POST /v1/profiles/{type}:{value}/release`). Records are merge records (`MERGE#…`) with
 * `quarantineRefused` and, for the event that tripped the breaker, `anomaly`: the stream carries
 * them to `evaluate`, which announces `Identity Anomaly` once (`app/merges.ts`).
 */
import { addedByType, countedWindow } from '../core/breaker';
import type { IdentityConfig } from '../core/config';
import { DEFAULT_CONFIG } from '../core/config';
import type { ScherpEvent } from '../core/events';
import { ScherpError } from '../core/errors';
import { identifierKey, identifierRef, type LinkPlan } from '../core/identity';
import type { IdentityAnomaly, Profile } from '../core/profile';
import { survivorOf } from './identity-graph';
import type { ProfileStore, StoredProfile } from './ports';

/** The breaker's window on the profile after this write (absorbed `losers` profiles, gained identifiers). */
export function countBreaker(after: Profile, before: Profile, losers: number, at: string, cfg: IdentityConfig): Profile {
  if (!cfg.quarantine.enabled || after === before) return after;
  const added = addedByType(before.identifiers, after.identifiers);
  if (losers === 0 && added.size === 0) return after;
  const breaker = countedWindow(before.breaker, losers, added, at, cfg.quarantine);
  return breaker ? { ...after, breaker } : after;
}

export interface QuarantineRecords {
  /** The quarantine fields of the record kept on `profileId` for this event. */
  extra(profileId: string): { quarantineRefused?: string[]; anomaly?: IdentityAnomaly };
  has(profileId: string): boolean;
  /** Profiles links were refused into, with the refused identifiers as refs (`identifierRef`). */
  readonly into: ReadonlyMap<string, string[]>;
  readonly trip?: LinkPlan['trip'];
  readonly at: string;
}

export function quarantineRecords(plan: LinkPlan, at: string): QuarantineRecords {
  const into = new Map<string, string[]>();
  for (const d of plan.dropped)
    if (d.reason === 'quarantine' && d.into !== undefined)
      into.set(d.into, [...(into.get(d.into) ?? []), identifierRef(identifierKey(d.id))]);
  return {
    into,
    trip: plan.trip,
    at,
    has: (id) => into.has(id) || plan.trip?.profileId === id,
    extra: (id) => ({
      ...(into.has(id) ? { quarantineRefused: into.get(id)! } : {}),
      ...(plan.trip?.profileId === id ? { anomaly: plan.trip.anomaly } : {}),
    }),
  };
}

/**
 * Records the links refused into profiles other than the event's target, and quarantines the
 * one this event tripped (record first, then the root, conditional on its version). False when
 * that root changed meanwhile: the event is planned again.
 */
export async function quarantineOthers(
  store: ProfileStore,
  q: QuarantineRecords,
  targetId: string,
  survivors: readonly StoredProfile[],
  event: ScherpEvent,
  at: string,
): Promise<boolean> {
  for (const id of new Set([...q.into.keys(), ...(q.trip ? [q.trip.profileId] : [])])) {
    if (id === targetId) continue;
    await store.putMergeRecord({
      profileId: id,
      at,
      messageId: event.messageId,
      eventTimestamp: event.timestamp,
      sourceId: event.sourceId,
      merged: [],
      identifiers: [],
      refused: [],
      ...q.extra(id),
    });
    if (q.trip?.profileId === id) {
      const sp = survivors.find((s) => s.profile.id === id);
      if (!sp) return false;
      if (!sp.profile.quarantine && !(await store.saveProfile({ ...sp.profile, quarantine: { ...q.trip.anomaly, at } }, sp.version)))
        return false;
    }
  }
  return true;
}

export interface ReleaseResult {
  readonly profileId: string;
  /** False when the profile was not quarantined (a repeated release). */
  readonly released: boolean;
}

/** Lifts the quarantine of the profile an identifier belongs to and restarts its breaker window. Idempotent. */
export async function releaseQuarantine(
  store: ProfileStore,
  key: string,
  identity: IdentityConfig = DEFAULT_CONFIG.identity,
): Promise<ReleaseResult> {
  for (let attempt = 0; attempt < 8; attempt++) {
    const sp = await survivorOf(store, key, identity);
    if (!sp.profile.quarantine) return { profileId: sp.profile.id, released: false };
    const { quarantine: _q, breaker: _b, ...rest } = sp.profile;
    if (await store.saveProfile(rest, sp.version)) return { profileId: sp.profile.id, released: true };
  }
  throw new ScherpError('conflict', 'the profile kept changing; retry');
}
