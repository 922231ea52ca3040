/**
 * Erasure (data subject rights): `DELETE /v1/profiles/{type}:{value}` removes the person the
 * identifier belongs to: the surviving profile and every profile merged into it (each whole
 * `P#<id>` partition: root, parts, timeline, rule state, merge records), the identity items of
 * every identifier listed on them, and the retained rejected events naming any of those
 * identifiers (`core/mentions.ts`), and the copies in stores outside the table it can reach
 * (`CopyStore`: locally the bus log, queue journal, dead letters, stream failures, pending delayed
 * actions) and its audience membership (member items and counts), and its identifiers out of the
 * events other profiles keep that name them (links refused there, found by digest: `redactForeignMentions`). Before anything is deleted the identifiers go on the suppression list (when
 * configured), so an event racing the erasure cannot recreate the person. The answer names the
 * stores it cannot reach and when their copies expire (`notReached`).
 */
import { DEFAULT_CONFIG, type IdentityConfig } from '../core/config';
import { NotFoundError } from '../core/errors';
import type { Profile } from '../core/profile';
import { identifierKey, parseIdentifierKey, type Identifier } from '../core/identity';
import { payloadMatcher } from '../core/mentions';
import type { CopyStore, ErasureStore, PersonalizationStore, ProfileReader, ProfileStore, RejectedStore, RetainedCopy } from './ports';
import { clearMemberships } from './audiences';
import { parseProfileKey } from './profiles';

export interface ErasureResult {
  readonly erased: {
    readonly profiles: number;
    /** Profile partition and identity items deleted. */
    readonly items: number;
    readonly identifiers: number;
    /** Rejected-event records naming the person deleted (0 without a rejected store). */
    readonly rejected: number;
    /** Entries naming the person deleted from each store outside the table erasure reaches, by name. */
    readonly copies: Readonly<Record<string, number>>;
  };
  /** The stores outside the table erasure cannot reach that may still hold copies, and when those expire. */
  readonly notReached: readonly RetainedCopy[];
}

export interface EraseOptions {
  readonly identity?: IdentityConfig;
  /** Put the erased identifiers on the suppression list (config `privacy.suppressErased`). @default true */
  readonly suppress?: boolean;
  /** Where rejected events are kept; their records naming the person are erased too. */
  readonly rejected?: RejectedStore;
  /** Stores outside the table holding copies (locally: bus log, queue journal, dead letters, …); erased too. */
  readonly copies?: readonly CopyStore[];
  /** Stores erasure cannot reach, listed in the answer with their bound. */
  readonly notReached?: readonly RetainedCopy[];
  /** Audience membership: each erased profile leaves every audience (member items, counts) before its partition goes. */
  readonly memberships?: Pick<PersonalizationStore, 'loadParts' | 'saveAudiences'>;
  readonly now?: () => Date;
}

/** Most profiles one erasure follows through `mergedFrom` (the merge cap keeps real chains far below). */
const MAX_PROFILES = 10_000;

/** Longest chain of merge pointers followed (as in `app/profiles.ts`). */
const MAX_HOPS = 64;

export async function eraseProfile(
  store: ProfileStore & ProfileReader & ErasureStore,
  key: string,
  opts: EraseOptions = {},
): Promise<ErasureResult> {
  const identity = opts.identity ?? DEFAULT_CONFIG.identity;
  const requested = parseProfileKey(key, identity);
  const requestedKey = identifierKey(requested);
  const owner = (await store.getIdentityOwners([requested])).get(requestedKey);
  if (owner === undefined) throw new NotFoundError(`no profile has the identifier ${requested.type}:…`);
  // The survivor: the last profile on the pointer chain that still exists (after an interrupted
  // erasure the chain may end early; see the deletion order below).
  let survivor: Profile | undefined;
  for (let hop = 0, id: string | undefined = owner; hop < MAX_HOPS && id !== undefined; hop++) {
    const p: Profile | undefined = (await store.loadProfileWithParts(id))?.stored.profile;
    if (!p) break;
    survivor = p;
    id = p.mergedInto;
  }
  // Only the requested identity item is left (an erasure interrupted in its last step). The
  // rejected events were erased before any profile was; a search for this identifier once more
  // also catches one kept since.
  if (!survivor) {
    const rejected = await eraseRejected(opts.rejected, [requested], identity);
    const copies = await eraseCopies(opts.copies, [owner], [requested], identity);
    await store.redactForeignMentions([requested], payloadMatcher([requested], identity));
    return {
      erased: { profiles: 0, items: await store.eraseIdentities([requested]), identifiers: 1, rejected, copies },
      notReached: opts.notReached ?? [],
    };
  }

  // Every profile merged into the survivor, transitively, and every identifier any of them lists.
  const profileIds = new Set<string>([owner]);
  const identifiers = new Map<string, Identifier>([[requestedKey, requested]]);
  const seen = new Set<string>();
  const queue = [survivor.id];
  while (queue.length > 0 && seen.size < MAX_PROFILES) {
    const id = queue.shift()!;
    if (seen.has(id)) continue;
    seen.add(id);
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
  // Rejected events before any profile item: the identifiers to search for are read from the
  // roots, so after an interruption a repeat finds them all again only while every root exists.
  const rejected = await eraseRejected(opts.rejected, ids, identity);
  // The copies outside the table, for the same reason before any profile item.
  const copies = await eraseCopies(opts.copies, [...profileIds], ids, identity);
  // Events other profiles keep that name the person's identifiers (links the limits or the
  // circuit breaker refused): found by their digests, the person's values taken out.
  await store.redactForeignMentions(ids, payloadMatcher(ids, identity));
  // Only identity items that point at an erased profile: never another person's.
  const owners = await store.getIdentityOwners(ids);
  const owned = ids.filter((id) => identifierKey(id) !== requestedKey && profileIds.has(owners.get(identifierKey(id)) ?? ''));
  // Order, so that a failed erasure repeated with the same key finishes it: the requested
  // identifier keeps leading to its owner's root until the end. Other identity items first, then
  // the other partitions (the survivor's last), the owner's partition (each root last), and
  // finally the requested identity item.
  let items = await store.eraseIdentities(owned);
  const rest = [...profileIds].filter((id) => id !== owner && id !== survivor.id);
  const order = [...rest, ...(survivor.id === owner ? [] : [survivor.id]), owner];
  // Out of every audience first (member items live outside the partitions; the counts drop).
  const at = (opts.now?.() ?? new Date()).toISOString();
  if (opts.memberships) for (const id of order) await clearMemberships(opts.memberships, id, at);
  for (const id of order) items += await store.erasePartition(id);
  items += await store.eraseIdentities([requested]);
  return { erased: { profiles: profileIds.size, items, identifiers: ids.length, rejected, copies }, notReached: opts.notReached ?? [] };
}

async function eraseCopies(
  stores: readonly CopyStore[] | undefined,
  profileIds: readonly string[],
  ids: readonly Identifier[],
  identity: IdentityConfig,
): Promise<Record<string, number>> {
  const out: Record<string, number> = Object.create(null);
  const subject = { profileIds, matches: payloadMatcher(ids, identity) };
  for (const s of stores ?? []) out[s.name] = (out[s.name] ?? 0) + (await s.eraseSubject(subject));
  return out;
}

function eraseRejected(store: RejectedStore | undefined, ids: readonly Identifier[], identity: IdentityConfig): Promise<number> {
  return store ? store.eraseMatching(payloadMatcher(ids, identity)) : Promise.resolve(0);
}
