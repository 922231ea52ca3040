/**
 * Per-source request limits at the door of collect and the context endpoint: after the key is
 * known (the limit is the source's), before anything is read or stored.
 */
import { RateLimitedError } from '../core/errors';
import type { SourceRateLimiter } from '../core/rate-limit';
import type { Principal } from './ports';

/** Takes a token of the principal's source bucket or throws {@link RateLimitedError}. */
export function enforceRateLimit(
  limiter: SourceRateLimiter | undefined,
  principal: Principal,
  now: Date,
  onThrottled?: (sourceId: string) => void,
): void {
  if (!limiter) return;
  const d = limiter.take(principal.sourceId, now.getTime(), principal.rateLimit);
  if (d.allowed) return;
  onThrottled?.(principal.sourceId);
  throw new RateLimitedError(
    `source ${principal.sourceId} is over its request rate limit; retry after ${d.retryAfterSeconds} s`,
    d.retryAfterSeconds,
  );
}
