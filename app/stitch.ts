/**
 * The stitch use case: resolve an event's identifiers to one profile (merging when the event
 * proves two profiles are one person), update the profile and store the event on its timeline.
 * Idempotent: processing the same event again changes nothing.
 */
import type { ScherpEvent } from '../core/events';
import { chooseSurvivor, extractIdentifiers, identifierKey } from '../core/identity';
import { absorb, newProfile, newProfileId, withEvent, type Profile } from '../core/profile';
import { ScherpError } from '../core/errors';
import type { ProfileStore, StoredProfile } from './ports';
import { resolveSurvivors } from './resolve';

export interface StitchResult {
  readonly profileId: string;
  /** The event was already on the timeline (a redelivery). */
  readonly duplicate: boolean;
  /** Profiles merged into `profileId` by this event. */
  readonly merged: readonly string[];
}

/** Concurrent writers kept changing the same profiles; the event is retried by the queue. */
export class ConflictError extends ScherpError {
  constructor(message: string) {
    super('conflict', message);
  }
}

/** Traits are taken from identify and group calls (group traits describe the group: kept under `group`). */
function eventTraits(e: ScherpEvent): Record<string, unknown> | undefined {
  if (e.type === 'identify') return e.traits;
  return undefined;
}

const MAX_ATTEMPTS = 8;

export async function stitch(store: ProfileStore, event: ScherpEvent, now: () => Date = () => new Date()): Promise<StitchResult> {
  const ids = extractIdentifiers(event);
  if (ids.length === 0) throw new ScherpError('no_identifier', 'the event carries no usable identifier');
  const idKeys = ids.map(identifierKey);

  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const at = now().toISOString();
    const owners = await store.getIdentityOwners(ids);
    const survivors = await resolveSurvivors(store, [...owners.values()]);
    const distinct = new Map<string, StoredProfile>();
    for (const sp of survivors.values()) distinct.set(sp.profile.id, sp);

    let target: StoredProfile;
    let merged: string[] = [];
    if (distinct.size === 0) {
      const p = withEvent(newProfile(newProfileId(now().getTime()), [], at), idKeys, eventTraits(event), event.timestamp, event.sourceId);
      if (!(await store.saveProfile(p, 0))) continue;
      target = { profile: p, version: 1 };
    } else if (distinct.size === 1) {
      target = [...distinct.values()][0]!;
    } else {
      const survivorId = chooseSurvivor([...distinct.keys()]);
      const survivor = distinct.get(survivorId)!;
      const losers = [...distinct.values()].filter((sp) => sp.profile.id !== survivorId);
      const absorbed = absorb(survivor.profile, losers.map((l) => l.profile), at);
      if (!(await store.saveProfile(absorbed, survivor.version))) continue;
      let lost = false;
      for (const l of losers) {
        const pointer: Profile = { ...l.profile, mergedInto: survivorId, updatedAt: at };
        if (!(await store.saveProfile(pointer, l.version))) lost = true;
      }
      if (lost) continue;
      target = { profile: absorbed, version: survivor.version + 1 };
      merged = losers.map((l) => l.profile.id);
    }

    // The profile lists its new identifiers and traits before the identifiers point at it, so a
    // reader who finds the profile through an identifier always sees that identifier on it.
    const next = withEvent(target.profile, idKeys, eventTraits(event), event.timestamp, event.sourceId);
    if (next !== target.profile && !(await store.saveProfile(next, target.version))) continue;

    // Point identifiers that lead nowhere yet at the target; a lost race means another profile
    // claimed one first, so start over and merge.
    let raced = false;
    for (const id of ids) {
      const owner = owners.get(identifierKey(id));
      if (owner !== undefined && survivors.has(owner)) continue;
      const claimed = await store.claimIdentity(id, target.profile.id, at);
      if (claimed !== target.profile.id && claimed !== owner) {
        raced = true;
        break;
      }
    }
    if (raced) continue;

    const stored = await store.putEvent(target.profile.id, event);
    return { profileId: target.profile.id, duplicate: !stored, merged };
  }
  throw new ConflictError('profile kept changing under concurrent writers');
}
