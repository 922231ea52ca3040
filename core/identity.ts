/**
 * Which identifiers an event carries, how their values are normalised, and which of them may
 * link profiles together without breaking the merge protection: pure.
 */
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import { DEFAULT_CONFIG, EXTERNAL_IDS_SOURCE, type IdentityConfig } from './config';
import type { ScherpEvent } from './events';

export interface Identifier {
  readonly type: string;
  readonly value: string;
}

/** `type:value`, the form identifiers take in the API (`GET /v1/profiles/user_id:42`). */
export function identifierKey(id: Identifier): string {
  return `${id.type}:${id.value}`;
}

/** Parses `type:value`; the value may itself contain `:`. */
export function parseIdentifierKey(key: string): Identifier | undefined {
  const i = key.indexOf(':');
  if (i <= 0 || i === key.length - 1) return undefined;
  return { type: key.slice(0, i), value: key.slice(i + 1) };
}

/** Values that mean "no identifier" and must never link people together. */
const BLOCKED = new Set(['', 'null', 'undefined', 'unknown', 'anonymous', '-1', 'nan']);

/** False for placeholders (`anonymous`, `null`, `0`, `---`, …) and configured blocked values. */
export function isUsableValue(value: string, extraBlocked: readonly string[] = []): boolean {
  const v = value.trim().toLowerCase();
  if (BLOCKED.has(v) || /^[0-]*$/.test(v)) return false;
  return !extraBlocked.some((b) => b.trim().toLowerCase() === v);
}

/** Why a value an event carries does not count as an identifier. */
export type InvalidReason = 'blocked' | 'too_long' | 'invalid' | 'unknown_type';

export type NormalisedValue = { readonly ok: true; readonly value: string } | { readonly ok: false; readonly reason: InvalidReason };

/**
 * Normalises one value of a type: trimmed; emails lowercased; phones to E.164 (numbers without
 * a country code are read in `phoneDefaultRegion`); then the blocked list and the length limit.
 */
export function normaliseIdentifier(type: string, raw: unknown, cfg: IdentityConfig = DEFAULT_CONFIG.identity): NormalisedValue {
  const def = cfg.types[type];
  if (!def) return { ok: false, reason: 'unknown_type' };
  if (typeof raw !== 'string' && !(typeof raw === 'number' && Number.isFinite(raw))) return { ok: false, reason: 'invalid' };
  let value = String(raw).trim();
  if (!isUsableValue(value, cfg.blockedValues)) return { ok: false, reason: 'blocked' };
  // Control characters would break logs and exports; no identifier needs them.
  if (/[\u0000-\u001f\u007f]/.test(value)) return { ok: false, reason: 'invalid' };
  if (def.format === 'email') {
    value = value.toLowerCase();
    if (!/^[^\s@]+@[^\s@]+$/.test(value)) return { ok: false, reason: 'invalid' };
  } else if (def.format === 'phone') {
    if (value.length > 64) return { ok: false, reason: 'too_long' };
    const phone = parsePhoneNumberFromString(value, cfg.phoneDefaultRegion as CountryCode);
    if (!phone || !phone.isValid()) return { ok: false, reason: 'invalid' };
    value = phone.number;
  }
  if (value.length > cfg.maxIdentifierLength) return { ok: false, reason: 'too_long' };
  return { ok: true, value };
}

/** A value the event carried that does not identify anyone (logged by type and reason only). */
export interface RejectedIdentifier {
  readonly type: string;
  readonly reason: InvalidReason;
}

export interface ExtractedIdentifiers {
  /** Valid identifiers, distinct, in priority order. */
  readonly identifiers: Identifier[];
  readonly rejected: RejectedIdentifier[];
}

/** The fields identifiers are read from. */
export type IdentifiableEvent = Pick<ScherpEvent, 'type' | 'userId' | 'anonymousId' | 'previousId'> & {
  readonly traits?: Record<string, unknown>;
  readonly context?: Record<string, unknown>;
};

function at(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (typeof cur !== 'object' || cur === null || Array.isArray(cur) || !Object.hasOwn(cur, part)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/**
 * Every identifier an event carries, normalised, distinct and in priority order, and the
 * values that were dropped. `alias` adds its `previousId`: an `anonymous_id` when it equals the
 * event's anonymousId, a `user_id` otherwise.
 */
export function extractEventIdentifiers(e: IdentifiableEvent, cfg: IdentityConfig = DEFAULT_CONFIG.identity): ExtractedIdentifiers {
  const found: Identifier[] = [];
  const rejected: RejectedIdentifier[] = [];
  const add = (type: string, raw: unknown) => {
    if (raw === undefined || raw === null) return;
    const n = normaliseIdentifier(type, raw, cfg);
    if (!n.ok) rejected.push({ type, reason: n.reason });
    else if (!found.some((f) => f.type === type && f.value === n.value)) found.push({ type, value: n.value });
  };
  const externalIds = at(e, EXTERNAL_IDS_SOURCE);
  for (const [type, def] of Object.entries(cfg.types)) {
    for (const source of def.from) {
      if (source !== EXTERNAL_IDS_SOURCE) add(type, at(e, source));
    }
  }
  if (Array.isArray(externalIds)) {
    for (const x of externalIds) {
      if (typeof x !== 'object' || x === null || typeof (x as { type?: unknown }).type !== 'string') continue;
      const type = (x as { type: string }).type.trim().toLowerCase();
      if (cfg.types[type]?.from.includes(EXTERNAL_IDS_SOURCE)) add(type, (x as { id?: unknown }).id);
      else rejected.push({ type: 'external', reason: 'unknown_type' });
    }
  }
  if (e.type === 'alias' && e.previousId !== undefined) add(e.previousId === e.anonymousId ? 'anonymous_id' : 'user_id', e.previousId);
  const rank = new Map(cfg.priority.map((t, i) => [t, i]));
  const identifiers = found
    .map((id, i) => ({ id, i }))
    .sort((a, b) => rank.get(a.id.type)! - rank.get(b.id.type)! || a.i - b.i)
    .map((x) => x.id);
  return { identifiers, rejected };
}

/** The valid identifiers of an event, in priority order (the default configuration unless given). */
export function extractIdentifiers(e: IdentifiableEvent, cfg: IdentityConfig = DEFAULT_CONFIG.identity): Identifier[] {
  return extractEventIdentifiers(e, cfg).identifiers;
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
}

export type DropReason = 'limit' | 'merge_cap';

export interface DroppedIdentifier {
  readonly id: Identifier;
  readonly reason: DropReason;
}

export interface LinkPlan {
  /** The event's identifiers that link, in priority order. */
  readonly accepted: Identifier[];
  /** Identifiers left out of this event, each with why. */
  readonly dropped: DroppedIdentifier[];
  /** The surviving profiles the accepted identifiers lead to, distinct, smallest id first. */
  readonly profiles: string[];
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
 */
export function planLinks(identifiers: readonly Identifier[], ownerOf: (key: string) => ProfileShape | undefined, cfg: IdentityConfig = DEFAULT_CONFIG.identity): LinkPlan {
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
    const overLimit = [...after].some(([t, n]) => n > (cfg.types[t]?.limit ?? Infinity) && n > (before.get(t) ?? 0));
    if (overLimit) {
      dropped.push({ id, reason: 'limit' });
      continue;
    }
    if (nextProfiles.length > profiles.size && mergesOf(nextProfiles) > cfg.maxMergesPerProfile) {
      dropped.push({ id, reason: 'merge_cap' });
      continue;
    }
    accepted.push(id);
    if (owner) profiles.set(owner.id, owner);
  }
  return { accepted, dropped, profiles: [...profiles.keys()].sort() };
}
