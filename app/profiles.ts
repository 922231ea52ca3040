/**
 * Reading a profile by any of its identifiers.
 */
import { NotFoundError, ValidationError } from '../core/errors';
import { identifierKey, parseIdentifierKey } from '../core/identity';
import type { Profile } from '../core/profile';
import type { ProfileStore } from './ports';
import { resolveSurvivors } from './resolve';

export interface ProfileView {
  readonly id: string;
  readonly identifiers: readonly string[];
  readonly traits: Record<string, { value: unknown; sourceId: string; updatedAt: string }>;
  readonly mergedFrom: readonly string[];
}

/** The profile (its survivor, if merged) holding an identifier `type:value`; NotFoundError if none. */
export async function findProfile(store: ProfileStore, key: string): Promise<Profile> {
  const id = parseIdentifierKey(key);
  if (!id) throw new ValidationError('the profile path must be {type}:{value}, as user_id:42', [{ path: 'id', message: 'must be {type}:{value}' }]);
  const owners = await store.getIdentityOwners([id]);
  const owner = owners.get(identifierKey(id));
  if (!owner) throw new NotFoundError(`no profile has the identifier ${id.type}:…`);
  const sp = (await resolveSurvivors(store, [owner])).get(owner);
  if (!sp) throw new NotFoundError(`no profile has the identifier ${id.type}:…`);
  return sp.profile;
}

export async function readProfile(store: ProfileStore, key: string): Promise<ProfileView> {
  const p = await findProfile(store, key);
  return { id: p.id, identifiers: p.identifiers, traits: { ...p.traits }, mergedFrom: p.mergedFrom ?? [] };
}
