/**
 * Per-source request limits (issue 18 item 10): the token bucket, and collect refusing a source
 * over its limit with a 429 and Retry-After while other sources go on.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import fc from 'fast-check';
import { DEFAULT_SOURCE_RATE_LIMIT, SourceRateLimiter } from '../../core/rate-limit';
import { createCollectHandler } from '../../lambdas/collect';
import { BootstrapKeyStore, envLoader, SourceKeyStore } from '../../adapters/keys';
import { keyDigest } from '../../core/sources';
import type { KeyRecord } from '../../app/ports';
import { MemoryQueue, MemoryRejectedStore } from '../helpers/collect';

describe('SourceRateLimiter', () => {
  it('allows the burst at once, then the rate; answers how long to wait', () => {
    const l = new SourceRateLimiter({ rate: 2, burst: 3 });
    const t0 = 1_000_000;
    expect([1, 2, 3, 4].map(() => l.take('a', t0).allowed)).toEqual([true, true, true, false]);
    expect(l.take('a', t0).retryAfterSeconds).toBe(1);
    // Half a second later one token (rate 2/s) is back.
    expect(l.take('a', t0 + 500).allowed).toBe(true);
    expect(l.take('a', t0 + 500).allowed).toBe(false);
    // Other sources have their own buckets.
    expect(l.take('b', t0).allowed).toBe(true);
  });

  it('never allows more than burst + rate × elapsed, whatever the arrival times (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 1, max: 50 }),
        fc.array(fc.integer({ min: 0, max: 2000 }), { minLength: 1, maxLength: 300 }),
        (rate, burst, gaps) => {
          const l = new SourceRateLimiter({ rate, burst });
          let now = 0;
          let allowed = 0;
          for (const g of gaps) {
            now += g;
            if (l.take('s', now).allowed) allowed++;
          }
          expect(allowed).toBeLessThanOrEqual(burst + Math.floor((rate * now) / 1000));
        },
      ),
    );
  });

  it('a clock going backwards gives no tokens; a source may carry its own limit', () => {
    const l = new SourceRateLimiter({ rate: 1, burst: 1 });
    expect(l.take('a', 10_000).allowed).toBe(true);
    expect(l.take('a', 0).allowed).toBe(false);
    const own = { rate: 100, burst: 100 };
    expect(Array.from({ length: 100 }, () => l.take('big', 0, own).allowed).every(Boolean)).toBe(true);
    expect(l.take('big', 0, own).allowed).toBe(false);
  });

  it('memory is bounded: the least recently used bucket goes first', () => {
    const l = new SourceRateLimiter({ rate: 1, burst: 1 }, 2);
    l.take('a', 0);
    l.take('b', 0);
    l.take('a', 0); // a used last; b is the stalest
    l.take('c', 0); // evicts b
    expect(l.take('a', 0).allowed).toBe(false);
    expect(l.take('b', 0).allowed).toBe(true); // forgotten: a full bucket again
  });

  it('has a documented default', () => {
    expect(DEFAULT_SOURCE_RATE_LIMIT).toEqual({ rate: 500, burst: 1000 });
  });
});

describe('collect with per-source limits', () => {
  const req = (key: string): APIGatewayProxyEventV2 =>
    ({
      rawPath: '/v1/batch',
      headers: { authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}` },
      body: JSON.stringify({ batch: [{ type: 'track', userId: 'u', event: 'E' }, 1] }),
      requestContext: {},
    }) as unknown as APIGatewayProxyEventV2;

  it('a flooding source gets 429 with Retry-After and nothing of it is queued or kept; another source still gets 200', async () => {
    const queue = new MemoryQueue();
    const rejected = new MemoryRejectedStore();
    const records = new Map<string, KeyRecord>([
      [keyDigest('crm-key'), { keyId: 'k', sourceId: 'src_crm', party: 'first', trust: 'trusted', status: 'active' }],
    ]);
    const keys = new SourceKeyStore(new BootstrapKeyStore({ write: envLoader('browser-key') }), async (d) => records.get(d));
    const throttled: string[] = [];
    let now = 0;
    // One limiter per container, shared by every request it serves.
    const rateLimiter = new SourceRateLimiter({ rate: 1, burst: 5 });
    const handler = createCollectHandler(() => ({
      queue,
      keys,
      rejected,
      now: () => new Date(now),
      rateLimiter,
      onThrottled: (s) => throttled.push(s),
    }));
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await handler(req('browser-key'))).statusCode!);
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(statuses.slice(5).every((s) => s === 429)).toBe(true);
    const refused = await handler(req('browser-key'));
    expect(refused.headers).toMatchObject({ 'retry-after': '1' });
    expect(JSON.parse(refused.body!)).toMatchObject({ success: false, error: 'rate_limited', limit: 'sourceRateLimit' });
    expect(queue.sent).toHaveLength(5);
    expect(rejected.records).toHaveLength(5);
    expect(new Set(throttled)).toEqual(new Set(['default']));
    // The CRM's key has its own bucket.
    expect((await handler(req('crm-key'))).statusCode).toBe(200);
    // A second later the flooder gets one more through.
    now += 1000;
    expect((await handler(req('browser-key'))).statusCode).toBe(200);
  });
});
