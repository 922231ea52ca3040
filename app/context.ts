/**
 * The browser-safe context: a visitor's public profile subset, looked up by the anonymousId
 * (or userId) the page knows. An unknown visitor gets an empty context, not a 404, so the
 * endpoint does not tell whether an id exists.
 */
import type { ScherpConfig } from '../core/config';
import { EMPTY_CONTEXT, publicContext, type ContextRequest, type PublicContext } from '../core/context';
import { ValidationError } from '../core/errors';
import { normaliseIdentifier, type Identifier } from '../core/identity';
import { traitValues } from '../core/profile';
import type { ProfileReader, ProfileStore } from './ports';
import { findWholeProfile } from './profiles';

function visitor(req: ContextRequest, config: ScherpConfig): Identifier | undefined {
  const [type, raw] = req.userId !== undefined ? ['user_id', req.userId] : ['anonymous_id', req.anonymousId!];
  if (type === 'user_id' && !config.context.allowUserId) {
    throw new ValidationError('userId lookups are switched off (context.allowUserId); send anonymousId', [{ path: 'userId', message: 'is not allowed' }]);
  }
  const n = normaliseIdentifier(type, raw, config.identity);
  return n.ok ? { type, value: n.value } : undefined;
}

export async function readContext(store: ProfileStore & ProfileReader, req: ContextRequest, config: ScherpConfig, now: Date = new Date()): Promise<PublicContext> {
  const id = visitor(req, config);
  const whole = id && (await findWholeProfile(store, store, id));
  if (!whole) return EMPTY_CONTEXT;
  const { profile } = whole.stored;
  return publicContext(
    config.context,
    { traits: traitValues(profile.traits), computed: whole.parts.computed, audiences: Object.keys(whole.parts.audiences), recommendations: whole.parts.recommendations },
    now.toISOString(),
  );
}
