/**
 * The profile model and how traits combine: pure.
 */
import { randomBytes } from 'node:crypto';
import * as z from 'zod';
import type { Party, ScherpEvent, Trust } from './events';
import { isProtectedTrait, trustRank, trustStamp } from './trust';
import { dict, own } from './dict';

/** Most traits one call (an identify, an import row) may set: Segment's limit. */
export const MAX_TRAITS_PER_CALL = 300;

/** The `traits` config section. */
export const TraitsConfigSchema = z
  .object({
    /**
     * Per trait (`*`: every trait without its own entry), source ids in order of precedence,
     * highest first: a value from a higher source is kept over a newer value from a lower one;
     * sources not listed rank below every listed one. Equal rank: the newer event wins.
     */
    precedence: z
      .record(z.string().min(1).max(200), z.array(z.string().min(1).max(100)).min(1).max(20))
      .default({})
      .transform((r) => dict(r)),
    /**
     * Identity traits a public source (browser key) cannot take over from a trusted source
     * (`core/trust.ts`): for these, trust ranks before precedence and time. `[]`: none.
     * @default ['email', 'phone']
     */
    protected: z.array(z.string().min(1).max(200)).max(200).optional(),
  })
  .strict();

/** How competing trait values are ranked (the parsed `traits` section). */
export type TraitPolicy = z.output<typeof TraitsConfigSchema>;

export interface TraitValue {
  /** The value as sent. */
  readonly value: unknown;
  /** When the event that set it happened (ISO-8601): newer wins. */
  readonly updatedAt: string;
  /** The source that set it. */
  readonly sourceId: string;
  /** That source's party (absent on values set before sources had parties, and by rules). */
  readonly party?: Party;
  /** `trusted` when a trusted source set it; absent: public (`core/trust.ts`). */
  readonly trust?: 'trusted';
}

export type Traits = Readonly<Record<string, TraitValue>>;

export interface Profile {
  readonly id: string;
  /** `type:value` strings, sorted. */
  readonly identifiers: readonly string[];
  readonly traits: Traits;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** Set once this profile was merged: the profile that now holds its data. */
  readonly mergedInto?: string;
  /** Profiles merged into this one. */
  readonly mergedFrom?: readonly string[];
  /** Set while the circuit breaker holds the profile: no merge into it (`core/breaker.ts`). */
  readonly quarantine?: Quarantine;
  /** What the circuit breaker counted in its current window (`core/breaker.ts`). */
  readonly breaker?: BreakerWindow;
  /** Identifiers (`type:value`) an admin detached and blocked from linking to this profile again. */
  readonly blocked?: readonly string[];
  /** The profile a split separated this one from (`app/split.ts`). */
  readonly splitFrom?: string;
}

/** The event that linked an identifier or caused a merge (explain). */
export interface LinkEvidence {
  readonly messageId: string;
  readonly sourceId: string;
  /** The event's own timestamp (ISO-8601). */
  readonly timestamp: string;
}

/** Why the circuit breaker tripped. */
export interface IdentityAnomaly {
  readonly reason: 'merges' | 'identifiers';
  /** For `identifiers`: the type that grew too fast. */
  readonly identifierType?: string;
  /** What was counted in the window (including the refused link). */
  readonly count: number;
  readonly limit: number;
  readonly windowSeconds: number;
}

export interface Quarantine extends IdentityAnomaly {
  /** When the breaker tripped (ISO-8601). */
  readonly at: string;
}

/** A fixed window of the circuit breaker: merges and new identifiers per type since `since`. */
export interface BreakerWindow {
  readonly since: string;
  readonly merges: number;
  readonly ids: Readonly<Record<string, number>>;
}

/**
 * What one event did to the identity graph, kept on the survivor as its own small item and
 * announced on the bus (`Profile Merged`, `Profile Merge Refused`).
 */
export interface MergeRecord {
  /** The profile that absorbed the others (or that refused the links). */
  readonly profileId: string;
  /** When the merge happened (ISO-8601). */
  readonly at: string;
  /** The triggering event. */
  readonly messageId: string;
  readonly eventTimestamp: string;
  /** Profiles merged into `profileId` by this event. */
  readonly merged: readonly string[];
  /**
   * The event's identifiers that linked them (`type:value`); after a split, those of a side that
   * left are refs (`identifierRef`), so erasing that person leaves none of their values here.
   */
  readonly identifiers: readonly string[];
  /**
   * Identifiers whose link was refused because `profileId` reached the merge cap. Refusal fields
   * (this, `aliasRefused`, `quarantineRefused`) hold refs (`identifierRef`: type and digest), never
   * values: a refused identifier is often another person's, and erasing that person must leave
   * nothing of theirs in this partition (records from before refs hold `type:value`).
   */
  readonly refused: readonly string[];
  /** An alias's previousId whose link a limit refused (`identity.alias.limit` for its type, the type limits otherwise); refs. */
  readonly aliasRefused?: readonly string[];
  /** `alias`: an explicit alias call linked the profiles. */
  readonly via?: 'alias';
  /** The triggering event's source (absent on records from before explain). */
  readonly sourceId?: string;
  /** Identifiers whose link was refused because `profileId` is quarantined (or was by this event); refs. */
  readonly quarantineRefused?: readonly string[];
  /** This event tripped the circuit breaker on `profileId` (`Identity Anomaly`). */
  readonly anomaly?: IdentityAnomaly;
}

/** Keys that must never become object properties (prototype pollution). */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

export function isSafeKey(k: string): boolean {
  return !FORBIDDEN_KEYS.has(k);
}

function plainObject(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/**
 * The traits an event sets: those of an identify call, from `traits` and from `context.traits`
 * (where RudderStack's SDKs put them), `traits` winning for a name in both. Other calls set
 * none (RudderStack repeats the user's traits in every call's `context.traits`).
 */
export function identifyTraits(e: Pick<ScherpEvent, 'type' | 'traits' | 'context'>): Record<string, unknown> | undefined {
  if (e.type !== 'identify') return undefined;
  const fromContext = plainObject(e.context?.traits);
  const direct = plainObject(e.traits);
  if (!fromContext) return direct;
  return Object.assign(Object.create(null) as Record<string, unknown>, fromContext, direct);
}

/**
 * Applies the traits of one event: per trait, the value from the newer event wins, so events
 * applied in any order give the same traits. Ties break on the value's JSON, deterministically.
 */
export function applyTraits(
  current: Traits,
  incoming: Record<string, unknown> | undefined,
  at: string,
  sourceId: string,
  party?: Party,
  policy?: TraitPolicy,
  trust?: Trust,
): Traits {
  if (!incoming) return current;
  const next = dict<TraitValue>(current);
  for (const [k, value] of Object.entries(incoming)) {
    if (!isSafeKey(k) || value === undefined) continue;
    const cand: TraitValue = { value, updatedAt: at, sourceId, ...(party ? { party } : {}), ...trustStamp(trust) };
    const old = own(next, k);
    if (!old || beats(k, cand, old, policy)) next[k] = cand;
  }
  return next;
}

/** Rank of a source for a trait under the policy: lower is stronger (0 without precedence). */
function rank(trait: string, sourceId: string, policy: TraitPolicy | undefined): number {
  const list = own(policy?.precedence, trait) ?? own(policy?.precedence, '*');
  if (!list) return 0;
  const i = list.indexOf(sourceId);
  return i === -1 ? list.length : i;
}

/**
 * Whether value `a` of a trait wins over `b`: for a protected trait a trusted source first, then
 * higher source precedence, then the newer event, then the value. A total order.
 */
function beats(trait: string, a: TraitValue, b: TraitValue, policy: TraitPolicy | undefined): boolean {
  if (isProtectedTrait(trait, policy?.protected)) {
    const ta = trustRank(a);
    const tb = trustRank(b);
    if (ta !== tb) return ta < tb;
  }
  const ra = rank(trait, a.sourceId, policy);
  const rb = rank(trait, b.sourceId, policy);
  if (ra !== rb) return ra < rb;
  if (a.updatedAt !== b.updatedAt) return a.updatedAt > b.updatedAt;
  const va = JSON.stringify(a.value);
  const vb = JSON.stringify(b.value);
  if (va !== vb) return va > vb;
  if (a.sourceId !== b.sourceId) return a.sourceId > b.sourceId;
  return trustRank(a) < trustRank(b);
}

/** Combines the traits of merged profiles: the winning value per trait. Commutative and associative. */
export function mergeTraits(...all: Traits[]): Traits {
  return mergeTraitsWith(undefined, ...all);
}

/** {@link mergeTraits} under a source precedence policy. */
export function mergeTraitsWith(policy: TraitPolicy | undefined, ...all: Traits[]): Traits {
  const out = dict<TraitValue>();
  for (const t of all) {
    for (const [k, v] of Object.entries(t)) {
      const old = own(out, k);
      if (!old || beats(k, v, old, policy)) out[k] = v;
    }
  }
  return out;
}

/** Plain trait values, as rules and the browser see them. */
export function traitValues(traits: Traits): Record<string, unknown> {
  const out = dict<unknown>();
  for (const [k, v] of Object.entries(traits)) out[k] = v.value;
  return out;
}

/** A new, time-sortable profile id: 12 hex chars of milliseconds, then 12 random hex chars. */
export function newProfileId(now: number, random: () => string = () => randomBytes(6).toString('hex')): string {
  return now.toString(16).padStart(12, '0') + random();
}

function union(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])].sort();
}

/** A fresh profile holding the given identifiers. */
export function newProfile(id: string, identifiers: readonly string[], at: string): Profile {
  return { id, identifiers: union([], identifiers), traits: dict(), createdAt: at, updatedAt: at };
}

/**
 * The survivor after absorbing the losers: identifiers united, traits combined newest-wins,
 * and the merged ids remembered. Order of `losers` does not matter.
 */
export function absorb(survivor: Profile, losers: readonly Profile[], at: string, policy?: TraitPolicy): Profile {
  let identifiers = survivor.identifiers;
  let mergedFrom = survivor.mergedFrom ?? [];
  let blocked = survivor.blocked ?? [];
  for (const l of losers) {
    identifiers = union(identifiers, l.identifiers);
    mergedFrom = union(mergedFrom, [l.id, ...(l.mergedFrom ?? [])]);
    if (l.blocked) blocked = union(blocked, l.blocked);
  }
  return {
    ...survivor,
    identifiers,
    ...(blocked.length > 0 ? { blocked } : {}),
    traits: mergeTraitsWith(policy, survivor.traits, ...losers.map((l) => l.traits)),
    mergedFrom,
    updatedAt: at,
  };
}

/** The profile without the given identifiers (same object when it holds none of them). */
export function withoutIdentifiers(p: Profile, keys: readonly string[]): Profile {
  const drop = new Set(keys);
  if (!p.identifiers.some((k) => drop.has(k))) return p;
  return { ...p, identifiers: p.identifiers.filter((k) => !drop.has(k)) };
}

/** Adds identifiers and applies an event's traits; returns the same object when nothing changed. */
export function withEvent(
  p: Profile,
  identifiers: readonly string[],
  traits: Record<string, unknown> | undefined,
  at: string,
  sourceId: string,
  party?: Party,
  policy?: TraitPolicy,
  trust?: Trust,
): Profile {
  const ids = union(p.identifiers, identifiers);
  const nextTraits = applyTraits(p.traits, traits, at, sourceId, party, policy, trust);
  const idsChanged = ids.length !== p.identifiers.length;
  const traitsChanged = JSON.stringify(nextTraits) !== JSON.stringify(p.traits);
  if (!idsChanged && !traitsChanged) return p;
  return { ...p, identifiers: ids, traits: nextTraits, updatedAt: at > p.updatedAt ? at : p.updatedAt };
}
