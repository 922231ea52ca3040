/**
 * The "set or increment a trait" action on a profile: pure, applied through the profile
 * store's optimistic version check by the caller.
 */
import { applyTraits, type Profile } from '../profile';
import { dict, has, own } from '../dict';
import { clampSafe } from '../numbers';

export interface TraitChange {
  readonly trait: string;
  readonly set?: unknown;
  readonly increment?: number;
}

/**
 * The profile with the changes applied at `at` by `sourceId` (newest-wins like any trait).
 * An increment starts from 0 when the trait is missing or not a number.
 */
export function applyTraitChanges(p: Profile, changes: readonly TraitChange[], at: string, sourceId: string): Profile {
  const incoming = dict<unknown>();
  for (const c of changes) {
    if (c.increment !== undefined) {
      const base = has(incoming, c.trait) ? incoming[c.trait] : own(p.traits, c.trait)?.value;
      incoming[c.trait] = clampSafe((typeof base === 'number' ? base : 0) + c.increment);
    } else {
      incoming[c.trait] = c.set;
    }
  }
  const traits = applyTraits(p.traits, incoming, at, sourceId);
  return { ...p, traits, updatedAt: at > p.updatedAt ? at : p.updatedAt };
}
