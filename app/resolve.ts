/**
 * Following merge pointers: reading a merged profile (or any of its identifiers) yields its survivor.
 */
import { ScherpError } from '../core/errors';
import type { ProfileStore, StoredProfile, ReadOptions } from './ports';

/**
 * Survivors always have a smaller id than the profiles they absorb, so a chain of pointers
 * only descends and cannot loop; each hop is one BatchGetItem for all chains at once.
 * Chains are short in practice (a pointer is only added when its survivor absorbs it).
 */
const MAX_HOPS = 64;

/** Resolves each profile id to the profile that holds its data now. */
export async function resolveSurvivors(
  store: ProfileStore,
  profileIds: readonly string[],
  opts?: ReadOptions,
): Promise<Map<string, StoredProfile>> {
  const out = new Map<string, StoredProfile>();
  let pending = new Map<string, string[]>(); // current id -> original ids
  for (const id of new Set(profileIds)) pending.set(id, [id]);
  for (let hop = 0; pending.size > 0; hop++) {
    if (hop === MAX_HOPS) throw new ScherpError('merge_chain_too_long', `a merge chain is longer than ${MAX_HOPS} hops`);
    const found = await store.getProfiles([...pending.keys()], opts);
    const next = new Map<string, string[]>();
    for (const [cur, origins] of pending) {
      const sp = found.get(cur);
      if (!sp) continue; // identity points at a profile not written yet: treated as unknown
      const to = sp.profile.mergedInto;
      if (to) next.set(to, [...(next.get(to) ?? []), ...origins]);
      else for (const o of origins) out.set(o, sp);
    }
    pending = next;
  }
  return out;
}
