/**
 * User tokens for `POST /v1/context`: the site's back end proves which user a page belongs to,
 * so a user-id lookup with the public write key is not open to anyone who can guess an id.
 *
 * A token is `v1.<exp>.<sig>`: `exp` the Unix time (seconds) it expires, `sig` the base64url
 * HMAC-SHA256, keyed with the deployment's user-token secret, of `scherp-user-token.v1.<exp>.<userId>`
 * (the user id exactly as the page sends it). Short-lived: at most `maxLifetimeSeconds` ahead.
 * Pure (no I/O).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const USER_TOKEN_VERSION = 'v1';

function signature(secret: string, userId: string, exp: number): Buffer {
  return createHmac('sha256', secret).update(`scherp-user-token.${USER_TOKEN_VERSION}.${exp}.${userId}`, 'utf8').digest();
}

/** A token for `userId` expiring at `expiresAt` (what a back end does; see README). */
export function mintUserToken(secret: string, userId: string, expiresAt: Date): string {
  const exp = Math.floor(expiresAt.getTime() / 1000);
  return `${USER_TOKEN_VERSION}.${exp}.${signature(secret, userId, exp).toString('base64url')}`;
}

export type UserTokenCheck = 'ok' | 'malformed' | 'bad_signature' | 'expired' | 'too_long_lived';

/** Whether `token` was minted with `secret` for `userId` and is valid at `now`. Constant-time on the signature. */
export function checkUserToken(secret: string, userId: string, token: string, now: Date, maxLifetimeSeconds: number): UserTokenCheck {
  const m = /^v1\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token);
  if (!m) return 'malformed';
  const exp = Number(m[1]);
  const given = Buffer.from(m[2]!, 'base64url');
  const expected = signature(secret, userId, exp);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'bad_signature';
  const nowS = Math.floor(now.getTime() / 1000);
  if (exp <= nowS) return 'expired';
  if (exp - nowS > maxLifetimeSeconds) return 'too_long_lived';
  return 'ok';
}
