/**
 * Erasure (data subject rights): `DELETE /v1/profiles/{type}:{value}` removes the person the
 * identifier belongs to: the surviving profile and every profile merged into it (each whole
 * `P#<id>` partition: root, parts, timeline, rule state, merge records) and the identity items
 * of every identifier listed on them. Before anything is deleted the identifiers go on the
 * suppression list (when configured), so an event racing the erasure cannot recreate the person.
 */
import { DEFAULT_CONFIG, type IdentityConfig } from '../core/config';
import { NotFoundError } from '../core/errors';
import type { Profile } from '../core/profile';
import { identifierKey, parseIdentifierKey, type Identifier } from '../core/identity';
import type { ErasureStore, ProfileReader, ProfileStore } from './ports';
import { loadWholeProfile, parseProfileKey } from './profiles';

export interface ErasureResult {
  readonly erased: { readonly profiles: number; readonly items: number; readonly identifiers: number };
}

export interface EraseOptions {
  readonly identity?: IdentityConfig;
  /** Put the erased identifiers on the suppression list (config `privacy.suppressErased`). @default true */
  readonly suppress?: boolean;
}

/** Most profiles one erasure follows through `mergedFrom` (the merge cap keeps real chains far below). */
const MAX_PROFILES = 10_000;

export async function eraseProfile(store: ProfileStore & ProfileReader & ErasureStore, key: string, opts: EraseOptions = {}): Promise<ErasureResult> {
  const identity = opts.identity ?? DEFAULT_CONFIG.identity;
  const requested = parseProfileKey(key, identity);
  let survivor: Profile;
  try {
    survivor = (await loadWholeProfile(store, store, key, identity)).stored.profile;
  } catch (err) {
    // A retry after a failure in the last step: only the requested identity item is left.
    if (!(err instanceof NotFoundError) || (await store.getIdentityOwners([requested])).size === 0) throw err;
    return { erased: { profiles: 0, items: await store.eraseIdentities([requested]), identifiers: 1 } };
  }
  // Every profile merged into the survivor, transitively, and every identifier any of them lists.
  const profileIds = new Set<string>();
  const identifiers = new Map<string, Identifier>();
  identifiers.set(identifierKey(requested), requested);
  const queue = [survivor.id];
  while (queue.length > 0 && profileIds.size < MAX_PROFILES) {
    const id = queue.shift()!;
    if (profileIds.has(id)) continue;
    profileIds.add(id);
    const p = id === survivor.id ? survivor : (await store.loadProfileWithParts(id))?.stored.profile;
    if (!p) continue;
    for (const k of p.identifiers) {
      const parsed = parseIdentifierKey(k);
      if (parsed) identifiers.set(k, parsed);
    }
    queue.push(...(p.mergedFrom ?? []));
  }
  const ids = [...identifiers.values()];
  if (opts.suppress ?? true) await store.suppress(ids);
  // Only identity items that point at an erased profile: never another person's.
  const owners = await store.getIdentityOwners(ids);
  const owned = ids.filter((id) => profileIds.has(owners.get(identifierKey(id)) ?? ''));
  // Order for retries: the requested identifier leads to the survivor's root until the very
  // end (a partition's root goes last), so a failed erasure can be repeated with the same key.
  const requestedKey = identifierKey(requested);
  let items = 0;
  for (const id of [...profileIds].filter((p) => p !== survivor.id)) items += await store.erasePartition(id);
  items += await store.eraseIdentities(owned.filter((id) => identifierKey(id) !== requestedKey));
  items += await store.erasePartition(survivor.id);
  items += await store.eraseIdentities(owned.filter((id) => identifierKey(id) === requestedKey));
  return { erased: { profiles: profileIds.size, items, identifiers: ids.length } };
}
