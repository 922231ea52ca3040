/**
 * The stitch use case: resolve an event's identifiers to one profile (merging when the event
 * proves several profiles are one person, within the merge protection), update the profile and
 * store the event on its timeline. Idempotent: processing the same event again changes nothing.
 */
import { createHash } from 'node:crypto';
import { DEFAULT_CONFIG, type IdentityConfig } from '../core/config';
import { timelineTime, type ScherpEvent } from '../core/events';
import {
  aliasedIdentifier,
  chooseSurvivor,
  extractEventIdentifiers,
  identifierKey,
  identifierRef,
  planLinks,
  type DroppedIdentifier,
  type RejectedIdentifier,
} from '../core/identity';
import {
  absorb,
  identifyTraits,
  newProfile,
  newProfileId,
  withEvent,
  withoutIdentifiers,
  type MergeRecord,
  type Profile,
  type TraitPolicy,
} from '../core/profile';
import { ScherpError } from '../core/errors';
import type { ProfileStore, StoredProfile } from './ports';
import { resolveSurvivors } from './resolve';
import { countBreaker, quarantineOthers, quarantineRecords } from './quarantine';

export interface StitchResult {
  readonly profileId: string;
  /** The event was already on the timeline (a redelivery). */
  readonly duplicate: boolean;
  /** Profiles merged into `profileId` by this event. */
  readonly merged: readonly string[];
  /** This event created `profileId` (its first event; counted by the Overview). */
  readonly created?: boolean;
  /** Identifiers of the event left out by the merge protection (limit or merge cap). */
  readonly dropped: readonly DroppedIdentifier[];
  /** Values of the event that are no identifiers (blocked, too long, invalid, unknown type). */
  readonly rejected: readonly RejectedIdentifier[];
}

/** Concurrent writers kept changing the same profiles; the event is retried by the queue. */
export class ConflictError extends ScherpError {
  constructor(message: string) {
    super('conflict', message);
  }
}

/** The event carries no valid identifier: it can belong to nobody, and retrying cannot help. */
export class NoIdentifierError extends ScherpError {
  constructor() {
    super('no_identifier', 'the event carries no usable identifier');
  }
}

/** The event carries an identifier of an erased person: it is dropped, never stored. */
export class SuppressedIdentifierError extends ScherpError {
  constructor() {
    super('suppressed_identifier', 'the event carries an erased identifier');
  }
}

export interface StitchOptions {
  readonly identity?: IdentityConfig;
  /** Drop events carrying an erased identifier (config `privacy.suppressErased`). @default true */
  readonly suppressErased?: boolean;
  /** Source precedence per trait (config `traits`). */
  readonly traits?: TraitPolicy;
  readonly now?: () => Date;
  /**
   * Epoch ms after which no event is stored (its invocation's start plus the stitch timeout): a
   * stitch that read a profile before a split stores its event before the split's final settle
   * pass, also locally, where nothing ends a slow call (`core/stitch-bound.ts`). Past it the event is
   * left to the queue's retry, which reads again.
   */
  readonly deadline?: number;
}

const MAX_ATTEMPTS = 8;

/**
 * The id of the profile an event creates: the same on every attempt and redelivery of that event
 * (its timeline time, its source and message id), so a retry after a lost answer or a crash
 * finds the profile the first attempt wrote instead of creating a second one.
 */
export function profileIdFor(event: Pick<ScherpEvent, 'timestamp' | 'originalTimestamp' | 'sourceId' | 'messageId'>): string {
  const digest = createHash('sha256').update(`${event.sourceId}\u0000${event.messageId}`).digest('hex');
  return newProfileId(Math.max(0, Date.parse(timelineTime(event)) || 0), () => digest.slice(0, 12));
}

export async function stitch(store: ProfileStore, event: ScherpEvent, opts: StitchOptions = {}): Promise<StitchResult> {
  const cfg = opts.identity ?? DEFAULT_CONFIG.identity;
  const now = opts.now ?? (() => new Date());
  const { identifiers: ids, rejected } = extractEventIdentifiers(event, cfg);
  if (ids.length === 0) throw new NoIdentifierError();
  const traits = identifyTraits(event);
  // An explicit alias may take the profile over its previousId type's limit (config `identity.alias`).
  const alias = aliasedIdentifier(event, cfg);
  const aliasKey = alias && identifierKey(alias);
  // What explain shows for every identifier this event links and every merge it makes.
  const evidence = { messageId: event.messageId, sourceId: event.sourceId, timestamp: event.timestamp };

  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const at = now().toISOString();
    // Reads, batched: every identity item at once, then one BatchGetItem per hop of pointers.
    // The first attempt reads eventually consistent (half the read units): every write below is
    // conditional, so a stale read only fails a condition, and the retry reads consistently.
    // The suppression markers of erased identifiers come in the same batch read.
    const read = { consistent: attempt > 0 };
    const { owners, suppressed, blocked } = await store.lookupIdentities(ids, { ...read, suppression: opts.suppressErased ?? true });
    if (suppressed.length > 0) throw new SuppressedIdentifierError();
    // Identifiers an admin blocked globally (`app/split.ts`) link nothing, like blocked values.
    const usable = blocked && blocked.length > 0 ? ids.filter((id) => !blocked.includes(identifierKey(id))) : ids;
    if (usable.length === 0) throw new NoIdentifierError();
    const survivors = await resolveSurvivors(store, [...owners.values()], read);
    const ownerOf = (key: string): StoredProfile | undefined => {
      const o = owners.get(key);
      return o === undefined ? undefined : survivors.get(o);
    };
    // A profile lists every identifier that leads to it (it lists them before they point at it).
    // One that leads to a profile not listing it means the identity read and the root read
    // straddle a split (`app/split.ts`): read again, consistently, rather than link the
    // identifier back onto the side it was split from. (Not on the last attempt: never a retry loop.)
    if (attempt < MAX_ATTEMPTS - 1 && [...owners.keys()].some((k) => ownerOf(k)?.profile.identifiers.includes(k) === false)) continue;
    const plan = planLinks(usable, (k) => ownerOf(k)?.profile, cfg, alias, at);
    const quarantine = quarantineRecords(plan, at);
    const acceptedKeys = plan.accepted.map(identifierKey);
    const involved = plan.profiles.map((id) => [...survivors.values()].find((sp) => sp.profile.id === id)!);
    // An identifier dropped now that a target lists from an earlier, lost attempt of this event
    // belongs to another profile: take it off the target's list.
    const foreign = plan.dropped
      .map((d) => identifierKey(d.id))
      .filter((k) => ownerOf(k) !== undefined && !plan.profiles.includes(ownerOf(k)!.profile.id));
    // Refused identifiers are recorded as refs (type and digest): they are often another person's.
    const capRefused = plan.dropped.filter((d) => d.reason === 'merge_cap').map((d) => identifierRef(identifierKey(d.id)));
    const aliasRefused = plan.dropped
      .filter((d) => d.reason === 'limit' && identifierKey(d.id) === aliasKey)
      .map((d) => identifierRef(identifierKey(d.id)));
    const refusals = { refused: capRefused, ...(aliasRefused.length > 0 ? { aliasRefused } : {}) };

    let target: Profile;
    let merged: string[] = [];
    // A new profile is written together with the identity item of its first identifier (one
    // transaction), so no root is ever stored that no identifier leads to: a lost race for that
    // identifier, or a crash, leaves nothing behind, and a root that lost a race for a later
    // identifier is reachable and merged by the retry.
    let claimedFirst: string | undefined;
    // Links refused into other profiles that are (or by this event become) quarantined: recorded
    // there (the outbox of `Identity Anomaly`) before such a profile is marked, so a retry re-marks
    // it and never announces twice (`app/quarantine.ts`).
    const targetId = involved.length === 0 ? profileIdFor(event) : chooseSurvivor(plan.profiles);
    // The event is about to be stored on the target naming identifiers that do not link there
    // (another person's, often): indexed by their digests first, so erasing that person finds
    // the event and takes them out of it (`app/erase.ts`). Only events that drop an identifier pay.
    const foreignRefs = ids.filter((id) => !plan.accepted.includes(id)).map((id) => identifierRef(identifierKey(id)));
    if (foreignRefs.length > 0) await store.indexForeignIdentifiers(foreignRefs, targetId, event);
    if (!(await quarantineOthers(store, quarantine, targetId, [...survivors.values()], event, at))) continue;
    if (involved.length === 0) {
      target = withEvent(
        newProfile(profileIdFor(event), [], at),
        acceptedKeys,
        traits,
        event.timestamp,
        event.sourceId,
        event.party,
        opts.traits,
        event.trust,
      );
      // False: another event claimed the identifier first, or an earlier attempt of this event
      // (its answer lost) created the profile with it. The retry reads consistently and finds
      // the owner either way.
      if (!(await store.createProfile(target, plan.accepted[0]!, at, evidence))) continue;
      claimedFirst = acceptedKeys[0];
    } else {
      const survivorId = chooseSurvivor(plan.profiles);
      const survivor = involved.find((sp) => sp.profile.id === survivorId)!;
      const losers = involved.filter((sp) => sp.profile.id !== survivorId);
      const base =
        losers.length > 0
          ? absorb(
              survivor.profile,
              losers.map((l) => l.profile),
              at,
              opts.traits,
            )
          : survivor.profile;
      // The profile lists its new identifiers and traits before the identifiers point at it, so
      // a reader who finds the profile through an identifier always sees that identifier on it.
      target = countBreaker(
        withoutIdentifiers(
          withEvent(base, acceptedKeys, traits, event.timestamp, event.sourceId, event.party, opts.traits, event.trust),
          foreign,
        ),
        survivor.profile,
        losers.length,
        at,
        cfg,
      );
      if (plan.trip?.profileId === target.id) target = { ...target, quarantine: { ...plan.trip.anomaly, at } };
      if (losers.length > 0) {
        merged = losers.map((l) => l.profile.id);
        const record: MergeRecord = {
          profileId: survivorId,
          at,
          messageId: event.messageId,
          eventTimestamp: event.timestamp,
          sourceId: event.sourceId,
          merged,
          identifiers: acceptedKeys.filter((k) => ownerOf(k) !== undefined),
          ...refusals,
          ...quarantine.extra(survivorId),
          ...(aliasKey !== undefined && acceptedKeys.includes(aliasKey) ? { via: 'alias' as const } : {}),
        };
        if (!(await store.mergeProfiles(target, survivor.version, losers, record))) continue;
      } else if (target !== survivor.profile && !(await store.saveProfile(target, survivor.version))) {
        continue;
      }
    }

    // Links refused by the merge cap or the alias limit are recorded (once per event).
    if ((capRefused.length > 0 || aliasRefused.length > 0 || quarantine.has(target.id)) && merged.length === 0) {
      await store.putMergeRecord({
        profileId: target.id,
        at,
        messageId: event.messageId,
        eventTimestamp: event.timestamp,
        sourceId: event.sourceId,
        merged: [],
        identifiers: acceptedKeys,
        ...refusals,
        ...quarantine.extra(target.id),
      });
    }

    // Point identifiers that lead nowhere yet at the target; a lost race means another profile
    // claimed one first, so start over (and merge, or drop it if that would break a limit).
    let raced = false;
    for (const id of plan.accepted) {
      if (ownerOf(identifierKey(id)) !== undefined || identifierKey(id) === claimedFirst) continue;
      const claimed = await store.claimIdentity(id, target.id, at, evidence);
      if (claimed !== target.id && claimed !== owners.get(identifierKey(id))) {
        raced = true;
        break;
      }
    }
    if (raced) continue;

    if (opts.deadline !== undefined && Date.now() > opts.deadline)
      throw new ConflictError('the stitch ran past its deadline; the event is retried with fresh reads');
    const stored = await store.putEvent(target.id, event);
    return {
      profileId: target.id,
      duplicate: !stored,
      merged,
      dropped: plan.dropped,
      rejected,
      ...(claimedFirst !== undefined ? { created: true } : {}),
    };
  }
  throw new ConflictError('profile kept changing under concurrent writers');
}
