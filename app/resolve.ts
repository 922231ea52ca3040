/**
 * Following merge pointers: reading a merged profile (or any of its identifiers) yields its survivor.
 */
import type { ProfileStore, StoredProfile } from './ports';

const MAX_HOPS = 10;

/** Resolves each profile id to the profile that holds its data now. */
export async function resolveSurvivors(store: ProfileStore, profileIds: readonly string[]): Promise<Map<string, StoredProfile>> {
  const out = new Map<string, StoredProfile>();
  let pending = new Map<string, string[]>(); // current id -> original ids
  for (const id of new Set(profileIds)) pending.set(id, [id]);
  for (let hop = 0; hop < MAX_HOPS && pending.size > 0; hop++) {
    const found = await store.getProfiles([...pending.keys()]);
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
