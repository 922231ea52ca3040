/**
 * Reading a profile by any of its identifiers: the whole profile (traits with provenance,
 * computed traits, audiences, consent) and its timeline.
 */
import { DEFAULT_CONFIG, type IdentityConfig } from '../core/config';
import type { Consent } from '../core/consent';
import { NotFoundError, ScherpError, ValidationError } from '../core/errors';
import type { Party } from '../core/events';
import { identifierKey, normaliseIdentifier, parseIdentifierKey, type Identifier } from '../core/identity';
import { payloadMatcher } from '../core/mentions';
import { dict } from '../core/dict';
import type { Profile } from '../core/profile';
import type { PartitionExport, ProfileReader, ProfileStore, ProfileWithParts, RejectedRecord, RejectedStore } from './ports';
import { resolveSurvivors } from './resolve';
import { readTimeline, type TimelinePage } from './timeline';

export interface ProfileView {
  readonly id: string;
  readonly identifiers: readonly string[];
  /** Per trait: the value, when the event that set it happened, its source, that source's party and (when trusted) trust. */
  readonly traits: Record<string, { value: unknown; sourceId: string; party?: Party; trust?: 'trusted'; updatedAt: string }>;
  readonly computed: Record<string, unknown>;
  /** Audiences the profile is in, with when it entered each. */
  readonly audiences: readonly { id: string; enteredAt: string }[];
  readonly consent: Consent;
  readonly mergedFrom: readonly string[];
}

/** Longest chain of merge pointers followed (see `app/resolve.ts`). */
const MAX_HOPS = 64;

/** Parses and normalises `type:value` as on ingest, so `email:Ada@Example.com` finds `ada@example.com`. */
export function parseProfileKey(key: string, identity: IdentityConfig = DEFAULT_CONFIG.identity): Identifier {
  const raw = parseIdentifierKey(key);
  if (!raw)
    throw new ValidationError('the profile path must be {type}:{value}, as user_id:42', [
      { path: 'id', message: 'must be {type}:{value}' },
    ]);
  const n = normaliseIdentifier(raw.type, raw.value, identity);
  if (!n.ok) {
    const message =
      n.reason === 'unknown_type'
        ? `unknown identifier type; one of ${Object.keys(identity.types).join(', ')}`
        : `not a valid ${raw.type} (${n.reason})`;
    throw new ValidationError(`invalid identifier: ${message}`, [{ path: 'id', message }]);
  }
  return { type: raw.type, value: n.value };
}

async function ownerOf(store: ProfileStore, key: string, identity: IdentityConfig): Promise<string> {
  const id = parseProfileKey(key, identity);
  const owner = (await store.getIdentityOwners([id])).get(identifierKey(id));
  if (owner === undefined) throw new NotFoundError(`no profile has the identifier ${id.type}:…`);
  return owner;
}

/**
 * The profile (its survivor, if merged) an identifier `type:value` belongs to; NotFoundError if none.
 */
export async function findProfile(store: ProfileStore, key: string, identity: IdentityConfig = DEFAULT_CONFIG.identity): Promise<Profile> {
  const owner = await ownerOf(store, key, identity);
  const sp = (await resolveSurvivors(store, [owner])).get(owner);
  if (!sp) throw new NotFoundError('no profile has this identifier');
  return sp.profile;
}

/**
 * The surviving profile of an identifier with all its parts. Cost: one identity read, then one
 * Query (root and parts) per profile on the pointer chain, usually one.
 */
export async function loadWholeProfile(
  store: ProfileStore,
  reader: ProfileReader,
  key: string,
  identity: IdentityConfig = DEFAULT_CONFIG.identity,
): Promise<ProfileWithParts> {
  return followToSurvivor(reader, await ownerOf(store, key, identity));
}

/** The profile of an identifier, if any (no normalisation beyond what the caller did). */
export async function findWholeProfile(store: ProfileStore, reader: ProfileReader, id: Identifier): Promise<ProfileWithParts | undefined> {
  const owner = (await store.getIdentityOwners([id])).get(identifierKey(id));
  return owner === undefined
    ? undefined
    : followToSurvivor(reader, owner).catch((err) => (err instanceof NotFoundError ? undefined : Promise.reject(err)));
}

async function followToSurvivor(reader: ProfileReader, profileId: string): Promise<ProfileWithParts> {
  let id = profileId;
  for (let hop = 0; hop < MAX_HOPS; hop++) {
    const whole = await reader.loadProfileWithParts(id);
    if (!whole) throw new NotFoundError('no profile has this identifier');
    if (!whole.stored.profile.mergedInto) return whole;
    id = whole.stored.profile.mergedInto;
  }
  throw new ScherpError('merge_chain_too_long', `a merge chain is longer than ${MAX_HOPS} hops`);
}

export function profileView({ stored: { profile: p }, parts }: ProfileWithParts): ProfileView {
  const traits: ProfileView['traits'] = dict();
  for (const [k, t] of Object.entries(p.traits))
    traits[k] = {
      value: t.value,
      sourceId: t.sourceId,
      ...(t.party ? { party: t.party } : {}),
      ...(t.trust ? { trust: t.trust } : {}),
      updatedAt: t.updatedAt,
    };
  return {
    id: p.id,
    identifiers: p.identifiers,
    traits,
    computed: parts.computed,
    audiences: Object.entries(parts.audiences)
      .map(([id, enteredAt]) => ({ id, enteredAt }))
      .sort((a, b) => (a.id < b.id ? -1 : 1)),
    consent: parts.consent,
    mergedFrom: p.mergedFrom ?? [],
  };
}

export async function readProfile(
  store: ProfileStore & ProfileReader,
  key: string,
  identity: IdentityConfig = DEFAULT_CONFIG.identity,
): Promise<ProfileView> {
  return profileView(await loadWholeProfile(store, store, key, identity));
}

/** One page of the timeline of the profile an identifier belongs to, newest first. */
export async function readProfileEvents(
  store: ProfileStore,
  key: string,
  opts: { limit?: number; cursor?: string },
  identity: IdentityConfig = DEFAULT_CONFIG.identity,
): Promise<TimelinePage> {
  return readTimeline(store, await ownerOf(store, key, identity), opts);
}

export interface ProfileExport {
  readonly exportedAt: string;
  readonly profile: ProfileView;
  /** The survivor's partition and every merged profile's: timeline, root, parts, rule state, merge records. */
  readonly partitions: readonly PartitionExport[];
  /** Retained rejected events naming any of the profile's identifiers (`core/mentions.ts`), newest first. */
  readonly rejected: readonly RejectedRecord[];
}

export interface ExportOptions {
  /** Where rejected events are kept; without it `rejected` is empty. */
  readonly rejected?: RejectedStore;
  readonly now?: Date;
}

/** Everything stored about the person an identifier belongs to, as one document (data subject access). */
export async function exportProfile(
  store: ProfileStore & ProfileReader,
  key: string,
  identity: IdentityConfig = DEFAULT_CONFIG.identity,
  opts: ExportOptions = {},
): Promise<ProfileExport> {
  const whole = await loadWholeProfile(store, store, key, identity);
  const p = whole.stored.profile;
  // The survivor lists every identifier of the profiles merged into it.
  const ids = p.identifiers.map(parseIdentifierKey).filter((id): id is Identifier => id !== undefined);
  const [partitions, rejected] = await Promise.all([
    Promise.all([p.id, ...(p.mergedFrom ?? [])].map((id) => store.readPartition(id))),
    opts.rejected ? opts.rejected.listMatching(payloadMatcher(ids, identity)) : Promise.resolve([]),
  ]);
  return { exportedAt: (opts.now ?? new Date()).toISOString(), profile: profileView(whole), partitions, rejected };
}
