/**
 * Recomputing computed traits when their definitions change: a digest per definition is kept
 * in the table; at start-up (and at deploy in the cloud) the definitions in config are compared
 * with it, and the traits that are new or changed are recomputed for every profile from its
 * timeline (a `computed-recompute` job), the ones no longer defined removed. Pure.
 */
import { createHash } from 'node:crypto';
import type { ComputedDefs } from './computed';
import { dict } from './dict';

export const RECOMPUTE_KIND = 'computed-recompute';
/** The subject a recompute job locks: one at a time. */
export const RECOMPUTE_SUBJECT = 'computed';

/**
 * How long after its receipt an event may still reach `evaluate` for the first time: the
 * stream keeps a record 24 hours (older records went to the failure queue and are noted).
 */
export const DEFAULT_PENDING_MS = 24 * 3_600_000;

/** What one recompute does; stored on its job. */
export interface RecomputePlan {
  /** Traits computed again from every profile's timeline (new or changed). */
  readonly recompute: readonly string[];
  /** Traits no longer defined: removed from every profile. */
  readonly remove: readonly string[];
  /** The digests of the definitions once done (stored when the job succeeds). */
  readonly digests: Readonly<Record<string, string>>;
  /** One digest of them all. */
  readonly digest: string;
}

/** JSON with object keys sorted, so equal definitions give equal text. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v) ?? 'null';
}

const sha = (text: string) => createHash('sha256').update(text).digest('base64url').slice(0, 16);

/** Name → digest of its definition (as parsed, defaults filled in). */
export function definitionDigests(defs: ComputedDefs): Record<string, string> {
  const out = dict<string>();
  for (const name of Object.keys(defs).sort()) out[name] = sha(canonical(defs[name]));
  return out;
}

export function digestOf(digests: Readonly<Record<string, string>>): string {
  return sha(canonical(digests));
}

/**
 * What has to be recomputed for the definitions in config, given the digests stored (absent:
 * none stored yet, a first start: nothing is recomputed, the digests are only recorded, since
 * the traits were kept by every event so far and a recompute would cut them to retention).
 * Undefined when nothing changed.
 */
export function planRecompute(defs: ComputedDefs, stored: Readonly<Record<string, string>> | undefined): RecomputePlan | undefined {
  const digests = definitionDigests(defs);
  const digest = digestOf(digests);
  if (stored === undefined) return { recompute: [], remove: [], digests, digest };
  const recompute = Object.keys(digests).filter((n) => !Object.hasOwn(stored, n) || stored[n] !== digests[n]);
  const remove = Object.keys(stored)
    .filter((n) => !Object.hasOwn(digests, n))
    .sort();
  if (recompute.length === 0 && remove.length === 0) return undefined;
  return { recompute, remove, digests, digest };
}

/** Whether a plan needs a job over the profiles (a first start only records the digests). */
export const needsJob = (plan: RecomputePlan): boolean => plan.recompute.length + plan.remove.length > 0;
