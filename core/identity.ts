/**
 * Which identifiers an event carries, how their values are normalised, and which of them may
 * link profiles together without breaking the merge protection: pure.
 */
import { parsePhone, type CountryCode } from './phone';
import { addedByType, wouldTrip } from './breaker';
import { DEFAULT_CONFIG, type IdentityConfig } from './config';
import type { BreakerWindow, IdentityAnomaly } from './profile';
import { own } from './dict';
import {
  extractWith,
  identifierKey,
  normaliseWith,
  parseIdentifierKey,
  previousIdType,
  type ExtractedIdentifiers,
  type Identifier,
  type IdentifiableEvent,
  type NormalisedValue,
  type PhoneParser,
} from './identifiers';

export * from './identifiers';

const libphonenumber: PhoneParser = (text, region) => {
  const phone = parsePhone(text, region as CountryCode);
  return phone?.isValid() ? phone.number : undefined;
};

/**
 * Normalises one value of a type: trimmed; emails lowercased; phones to E.164 (numbers without
 * a country code are read in `phoneDefaultRegion`); then the blocked list and the length limit.
 */
export function normaliseIdentifier(type: string, raw: unknown, cfg: IdentityConfig = DEFAULT_CONFIG.identity): NormalisedValue {
  return normaliseWith(type, raw, cfg, libphonenumber);
}

/**
 * Every identifier an event carries, normalised, distinct and in priority order, and the
 * values that were dropped. `alias` adds its `previousId`: an `anonymous_id` when it equals the
 * event's anonymousId, a `user_id` otherwise.
 */
export function extractEventIdentifiers(e: IdentifiableEvent, cfg: IdentityConfig = DEFAULT_CONFIG.identity): ExtractedIdentifiers {
  return extractWith(e, cfg, normaliseIdentifier);
}

/** The valid identifiers of an event, in priority order (the default configuration unless given). */
export function extractIdentifiers(e: IdentifiableEvent, cfg: IdentityConfig = DEFAULT_CONFIG.identity): Identifier[] {
  return extractEventIdentifiers(e, cfg).identifiers;
}

/** The identifier an `alias` event's `previousId` stands for (normalised), if it is one. */
export function aliasedIdentifier(e: IdentifiableEvent, cfg: IdentityConfig = DEFAULT_CONFIG.identity): Identifier | undefined {
  if (e.type !== 'alias' || e.previousId === undefined) return undefined;
  const type = previousIdType(e);
  const n = normaliseIdentifier(type, e.previousId, cfg);
  return n.ok ? { type, value: n.value } : undefined;
}

/**
 * The survivor of a merge: the smallest profile id. Profile ids sort by creation time, so the
 * oldest profile survives, and every worker picks the same one whatever order it saw them in.
 */
export function chooseSurvivor(profileIds: readonly string[]): string {
  if (profileIds.length === 0) throw new Error('chooseSurvivor needs at least one profile id');
  return [...profileIds].sort()[0]!;
}

/** What the planner needs to know of a (surviving) profile. */
export interface ProfileShape {
  readonly id: string;
  /** `type:value` strings. */
  readonly identifiers: readonly string[];
  readonly mergedFrom?: readonly string[];
  /** Set while the circuit breaker holds it (`core/breaker.ts`). */
  readonly quarantine?: unknown;
  readonly breaker?: BreakerWindow;
  /** Identifiers an admin blocked from linking to it. */
  readonly blocked?: readonly string[];
}

export type DropReason = 'limit' | 'merge_cap' | 'blocked' | 'quarantine';

export interface DroppedIdentifier {
  readonly id: Identifier;
  readonly reason: DropReason;
  /** For `quarantine`: the quarantined (or now tripped) profile the link was refused into. */
  readonly into?: string;
}

export interface LinkPlan {
  /** The event's identifiers that link, in priority order. */
  readonly accepted: Identifier[];
  /** Identifiers left out of this event, each with why. */
  readonly dropped: DroppedIdentifier[];
  /** The surviving profiles the accepted identifiers lead to, distinct, smallest id first. */
  readonly profiles: string[];
  /** A link of this event tripped the circuit breaker on this profile. */
  readonly trip?: { readonly profileId: string; readonly anomaly: IdentityAnomaly };
}

function typeCounts(keys: Iterable<string>): Map<string, number> {
  const out = new Map<string, number>();
  for (const k of keys) {
    const t = parseIdentifierKey(k)?.type;
    if (t !== undefined) out.set(t, (out.get(t) ?? 0) + 1);
  }
  return out;
}

/**
 * Merge protection. The identifiers are taken in priority order (as `extractEventIdentifiers`
 * returns them); each one is added to the event's link set unless that would give the
 * resulting profile more identifiers of some type than its limit allows, or make it absorb
 * more than `maxMergesPerProfile` profiles: then that identifier is dropped from this event.
 * So of two conflicting identifiers the lower-priority one is always the one dropped, the
 * highest-priority identifier always links, and two profiles are never merged into one that
 * breaks a limit. `ownerOf` gives the surviving profile an identifier points to, if any.
 * `alias` is the identifier an explicit `alias` call links (its previousId, see
 * {@link aliasedIdentifier}): for it the limit of its type is raised to `cfg.alias.limit`.
 */
export function planLinks(
  identifiers: readonly Identifier[],
  ownerOf: (key: string) => ProfileShape | undefined,
  cfg: IdentityConfig = DEFAULT_CONFIG.identity,
  alias?: Identifier,
  /** Now (ISO-8601), for the circuit breaker's window; without it the breaker is not checked. */
  now?: string,
): LinkPlan {
  let trip: LinkPlan['trip'];
  const aliasKey = alias === undefined ? undefined : identifierKey(alias);
  const accepted: Identifier[] = [];
  const dropped: DroppedIdentifier[] = [];
  const profiles = new Map<string, ProfileShape>();
  const keysOf = (ps: Iterable<ProfileShape>, ids: readonly Identifier[]) => {
    const s = new Set<string>();
    for (const p of ps) for (const k of p.identifiers) s.add(k);
    for (const id of ids) s.add(identifierKey(id));
    return s;
  };
  const mergesOf = (ps: ProfileShape[]) => {
    if (ps.length < 2) return 0;
    const survivor = chooseSurvivor(ps.map((p) => p.id));
    const s = new Set<string>();
    for (const p of ps) {
      if (p.id !== survivor) s.add(p.id);
      for (const m of p.mergedFrom ?? []) s.add(m);
    }
    return s.size;
  };
  for (const id of identifiers) {
    const owner = ownerOf(identifierKey(id));
    if (accepted.length === 0) {
      accepted.push(id);
      if (owner) profiles.set(owner.id, owner);
      continue;
    }
    const nextProfiles = owner && !profiles.has(owner.id) ? [...profiles.values(), owner] : [...profiles.values()];
    const before = typeCounts(keysOf(profiles.values(), accepted));
    const after = typeCounts(keysOf(nextProfiles, [...accepted, id]));
    const raised = identifierKey(id) === aliasKey ? id.type : undefined;
    const limitOf = (t: string) =>
      t === raised ? Math.max(own(cfg.types, t)?.limit ?? Infinity, cfg.alias.limit) : (own(cfg.types, t)?.limit ?? Infinity);
    const overLimit = [...after].some(([t, n]) => n > limitOf(t) && n > (before.get(t) ?? 0));
    if (overLimit) {
      dropped.push({ id, reason: 'limit' });
      continue;
    }
    if (nextProfiles.length > profiles.size && mergesOf(nextProfiles) > cfg.maxMergesPerProfile) {
      dropped.push({ id, reason: 'merge_cap' });
      continue;
    }
    const combined = keysOf(nextProfiles, [...accepted, id]);
    // An identifier an admin detached from a profile and blocked never joins it again.
    if (nextProfiles.some((p) => p.blocked?.some((b) => combined.has(b)))) {
      dropped.push({ id, reason: 'blocked' });
      continue;
    }
    // A quarantined profile gains nothing: no profile, no identifier.
    const held = nextProfiles.find((p) => p.quarantine !== undefined && [...combined].some((k) => !p.identifiers.includes(k)));
    if (held) {
      dropped.push({ id, reason: 'quarantine', into: held.id });
      continue;
    }
    if (now !== undefined && nextProfiles.length > 0) {
      const survivor = nextProfiles.find((p) => p.id === chooseSurvivor(nextProfiles.map((q) => q.id)))!;
      const anomaly = wouldTrip(
        survivor.breaker,
        nextProfiles.length - 1,
        addedByType(survivor.identifiers, combined),
        now,
        cfg.quarantine,
      );
      if (anomaly) {
        dropped.push({ id, reason: 'quarantine', into: survivor.id });
        trip ??= { profileId: survivor.id, anomaly };
        continue;
      }
    }
    accepted.push(id);
    if (owner) profiles.set(owner.id, owner);
  }
  return { accepted, dropped, profiles: [...profiles.keys()].sort(), ...(trip ? { trip } : {}) };
}
