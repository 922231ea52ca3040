/**
 * Per-source request limits: a token bucket per source id, held in memory (one per collect
 * container in the cloud, one per process locally). Pure: the clock is passed in.
 *
 * A bucket holds up to `burst` tokens and refills at `rate` tokens per second; a request takes
 * one token or is refused with the seconds until one is back. Memory is bounded: at most
 * `maxSources` buckets; when full, the least recently used bucket is forgotten (a forgotten
 * source starts again with a full bucket).
 */
import * as z from 'zod';

export const RateLimitSchema = z.strictObject({
  /** Requests per second, steady state. */
  rate: z.number().positive().max(100_000),
  /** Requests allowed at once above the rate (the bucket size); at least 1. */
  burst: z.number().int().min(1).max(200_000),
});
export type RateLimit = z.infer<typeof RateLimitSchema>;

/** Scherp's default per-source limit (construct props `sourceRateLimit` / `sourceBurstLimit`). */
export const DEFAULT_SOURCE_RATE_LIMIT: RateLimit = { rate: 500, burst: 1000 };

export interface LimitDecision {
  readonly allowed: boolean;
  /** Whole seconds until a request would be allowed again (0 when allowed). */
  readonly retryAfterSeconds: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class SourceRateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly defaults: RateLimit = DEFAULT_SOURCE_RATE_LIMIT,
    private readonly maxSources = 10_000,
  ) {}

  /** Takes a token of `source`'s bucket at `nowMs`, under its own `limit` or the default. */
  take(source: string, nowMs: number, limit: RateLimit = this.defaults): LimitDecision {
    let b = this.buckets.get(source);
    if (b) {
      this.buckets.delete(source);
      b.tokens = Math.min(limit.burst, b.tokens + (Math.max(0, nowMs - b.at) / 1000) * limit.rate);
      b.at = Math.max(b.at, nowMs);
    } else {
      while (this.buckets.size >= this.maxSources) this.buckets.delete(this.buckets.keys().next().value!);
      b = { tokens: limit.burst, at: nowMs };
    }
    // Most recently used last, so eviction takes the stalest.
    this.buckets.set(source, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { allowed: true, retryAfterSeconds: 0 };
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - b.tokens) / limit.rate)) };
  }
}
