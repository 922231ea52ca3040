/**
 * Explain (`GET /v1/profiles/{type}:{value}/identity`): the identity graph of the person an
 * identifier belongs to, each identifier with the event that linked it, each merge with the
 * identifiers and event that caused it, the links the limits and the circuit breaker refused,
 * and the splits. Cost: the identity read and the pointer hops of any profile read, one
 * BatchGetItem of the survivor's identity items (per 100 identifiers), and one Query of the
 * `MERGE#` records per profile of the group (the survivor and each profile merged into it).
 */
import { DEFAULT_CONFIG, type IdentityConfig } from '../core/config';
import { NotFoundError } from '../core/errors';
import { explainGraph, type IdentityGraph, type SplitRecord } from '../core/identity-graph';
import { identifierKey, parseIdentifierKey, type Identifier } from '../core/identity';
import type { MergeRecord, Profile } from '../core/profile';
import type { IdentityGraphStore, ProfileStore } from './ports';
import { parseProfileKey } from './profiles';
import { resolveSurvivors } from './resolve';

/** The surviving profile an identifier `type:value` leads to (strongly consistent reads); NotFoundError if none. */
export async function survivorOf(
  store: ProfileStore,
  key: string,
  identity: IdentityConfig,
): Promise<{ profile: Profile; version: number }> {
  const id = parseProfileKey(key, identity);
  const owner = (await store.getIdentityOwners([id])).get(identifierKey(id));
  if (owner === undefined) throw new NotFoundError(`no profile has the identifier ${id.type}:…`);
  const sp = (await resolveSurvivors(store, [owner])).get(owner);
  if (!sp) throw new NotFoundError('no profile has this identifier');
  return sp;
}

/** Every merge and split record of a group of profiles (one Query per profile, in parallel). */
export async function groupRecords(
  store: IdentityGraphStore,
  profileIds: readonly string[],
): Promise<{ merges: MergeRecord[]; splits: SplitRecord[] }> {
  const all = await Promise.all([...new Set(profileIds)].map((id) => store.listGraphRecords(id)));
  return { merges: all.flatMap((a) => a.merges), splits: all.flatMap((a) => a.splits) };
}

export async function explainIdentity(
  store: ProfileStore & IdentityGraphStore,
  key: string,
  identity: IdentityConfig = DEFAULT_CONFIG.identity,
): Promise<IdentityGraph> {
  const { profile } = await survivorOf(store, key, identity);
  const ids = profile.identifiers.map(parseIdentifierKey).filter((i): i is Identifier => i !== undefined);
  const [items, records] = await Promise.all([store.readIdentities(ids), groupRecords(store, [profile.id, ...(profile.mergedFrom ?? [])])]);
  return explainGraph({
    profileId: profile.id,
    identifiers: profile.identifiers,
    items,
    records: records.merges,
    splits: records.splits,
    ...(profile.quarantine ? { quarantine: profile.quarantine } : {}),
  });
}
