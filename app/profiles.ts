/**
 * Reading a profile by any of its identifiers.
 */
import { DEFAULT_CONFIG, type IdentityConfig } from '../core/config';
import { NotFoundError, ValidationError } from '../core/errors';
import { identifierKey, normaliseIdentifier, parseIdentifierKey } from '../core/identity';
import type { Profile } from '../core/profile';
import type { ProfileStore } from './ports';
import { resolveSurvivors } from './resolve';

export interface ProfileView {
  readonly id: string;
  readonly identifiers: readonly string[];
  readonly traits: Record<string, { value: unknown; sourceId: string; updatedAt: string }>;
  readonly mergedFrom: readonly string[];
}

/**
 * The profile (its survivor, if merged) an identifier `type:value` belongs to; NotFoundError if
 * none. The value is normalised as on ingest, so `email:Ada@Example.com` finds `ada@example.com`.
 */
export async function findProfile(store: ProfileStore, key: string, identity: IdentityConfig = DEFAULT_CONFIG.identity): Promise<Profile> {
  const raw = parseIdentifierKey(key);
  if (!raw) throw new ValidationError('the profile path must be {type}:{value}, as user_id:42', [{ path: 'id', message: 'must be {type}:{value}' }]);
  const n = normaliseIdentifier(raw.type, raw.value, identity);
  if (!n.ok) {
    const message = n.reason === 'unknown_type' ? `unknown identifier type; one of ${Object.keys(identity.types).join(', ')}` : `not a valid ${raw.type} (${n.reason})`;
    throw new ValidationError(`invalid identifier: ${message}`, [{ path: 'id', message }]);
  }
  const id = { type: raw.type, value: n.value };
  const owners = await store.getIdentityOwners([id]);
  const owner = owners.get(identifierKey(id));
  const sp = owner === undefined ? undefined : (await resolveSurvivors(store, [owner])).get(owner);
  if (!sp) throw new NotFoundError(`no profile has the identifier ${id.type}:…`);
  return sp.profile;
}

export async function readProfile(store: ProfileStore, key: string, identity: IdentityConfig = DEFAULT_CONFIG.identity): Promise<ProfileView> {
  const p = await findProfile(store, key, identity);
  return { id: p.id, identifiers: p.identifiers, traits: { ...p.traits }, mergedFrom: p.mergedFrom ?? [] };
}
