/**
 * The browser-safe context: a visitor's public profile subset, looked up by the anonymousId the
 * page knows, or by a userId the site's back end vouched for with a `userToken`.
 *
 * Not an existence oracle: whether or not the id exists (or is valid, or was merged), the answer
 * costs the same reads, in the same order: one identity read, then exactly
 * {@link CONTEXT_PROFILE_READS} profile Queries (the owner and, if it was merged, its survivor;
 * a placeholder partition that never exists stands in for each one not needed), and it has the
 * same shape (an unknown visitor gets the empty context, not a 404). A visitor whose profile is
 * more than one merge pointer away from its survivor gets the empty context too.
 */
import type { ScherpConfig } from '../core/config';
import { EMPTY_CONTEXT, publicContext, type ContextRequest, type PublicContext } from '../core/context';
import { AuthenticationError, ValidationError } from '../core/errors';
import { identifierKey, normaliseIdentifier, type Identifier } from '../core/identity';
import { traitValues } from '../core/profile';
import { checkUserToken } from '../core/user-token';
import type { ProfileReader, ProfileStore, ProfileWithParts } from './ports';

/** Profile Queries per context request, whatever is found. */
export const CONTEXT_PROFILE_READS = 2;

/** A profile partition no profile ever has (profile ids are hex): read in place of a missing one. */
export const PLACEHOLDER_PROFILE_ID = 'none';

/** Looked up in place of an invalid visitor id, so an invalid id costs the same reads too (empty: never stored). */
const PLACEHOLDER_IDENTIFIER: Identifier = { type: 'anonymous_id', value: '' };

export interface ContextOptions {
  readonly now?: Date;
  /** Loads the user-token secret (only called for a request with `userToken`); undefined: none configured. */
  readonly userTokenSecret?: () => Promise<string | undefined>;
}

async function visitor(req: ContextRequest, config: ScherpConfig, opts: ContextOptions): Promise<Identifier | undefined> {
  if (req.userId === undefined) {
    const n = normaliseIdentifier('anonymous_id', req.anonymousId!, config.identity);
    return n.ok ? { type: 'anonymous_id', value: n.value } : undefined;
  }
  if (req.userToken !== undefined) {
    const secret = await opts.userTokenSecret?.();
    if (!secret) {
      throw new ValidationError('userToken is not accepted: no user-token secret is configured', [
        { path: 'userToken', message: 'no user-token secret is configured' },
      ]);
    }
    const check = checkUserToken(secret, req.userId, req.userToken, opts.now ?? new Date(), config.context.userTokenMaxLifetimeSeconds);
    if (check !== 'ok') throw new AuthenticationError(`invalid userToken (${check.replace(/_/g, ' ')})`);
  } else if (!config.context.allowUserId) {
    throw new ValidationError('a userId lookup needs a userToken minted by your back end (or send anonymousId)', [
      { path: 'userToken', message: 'is required with userId (context.allowUserId is false)' },
    ]);
  }
  const n = normaliseIdentifier('user_id', req.userId, config.identity);
  return n.ok ? { type: 'user_id', value: n.value } : undefined;
}

/** The visitor's surviving profile, reading the same whether or not it exists. */
async function loadVisitor(store: ProfileStore & ProfileReader, id: Identifier | undefined): Promise<ProfileWithParts | undefined> {
  const owners = await store.getIdentityOwners([id ?? PLACEHOLDER_IDENTIFIER]);
  let next = id ? owners.get(identifierKey(id)) : undefined;
  let found: ProfileWithParts | undefined;
  for (let i = 0; i < CONTEXT_PROFILE_READS; i++) {
    const whole = await store.loadProfileWithParts(next ?? PLACEHOLDER_PROFILE_ID);
    if (next === undefined || !whole) {
      next = undefined;
      continue;
    }
    if (whole.stored.profile.mergedInto) {
      next = whole.stored.profile.mergedInto;
      continue;
    }
    found ??= whole;
    next = undefined;
  }
  return found;
}

export async function readContext(
  store: ProfileStore & ProfileReader,
  req: ContextRequest,
  config: ScherpConfig,
  opts: ContextOptions = {},
): Promise<PublicContext> {
  const id = await visitor(req, config, opts);
  const whole = await loadVisitor(store, id);
  if (!whole) return EMPTY_CONTEXT;
  const { profile } = whole.stored;
  return publicContext(
    config.context,
    {
      traits: traitValues(profile.traits),
      computed: whole.parts.computed,
      audiences: Object.keys(whole.parts.audiences),
      recommendations: whole.parts.recommendations,
    },
    (opts.now ?? new Date()).toISOString(),
  );
}
