/**
 * What collect keeps of refused events (issue 18 items 6 and 11): a bounded number of records per
 * request, however many junk items it holds, and no write key anywhere in a kept payload.
 */
import { BootstrapKeyStore, envLoader } from '../../adapters/keys';
import { MAX_REJECTED_RECORDS_PER_REQUEST } from '../../app/collect';
import { createCollectHandler } from '../../lambdas/collect';
import { apiRequest, basicAuth, MemoryQueue, MemoryRejectedStore } from '../helpers/collect';

const KEY = 'wk_4f1c9e2b7a6d';

function setup() {
  const queue = new MemoryQueue();
  const rejected = new MemoryRejectedStore();
  const handler = createCollectHandler(() => ({
    queue,
    rejected,
    limits: { maxBatchEvents: 5 },
    keys: new BootstrapKeyStore({ write: envLoader(KEY) }),
  }));
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    handler(apiRequest(path, JSON.stringify(body), { 'content-type': 'text/plain', ...headers }));
  return { queue, rejected, post };
}

describe('rejected events kept per request', () => {
  it('a batch of 2,500 junk items stores at most 11 records, the last one counting the rest', async () => {
    const rejected = new MemoryRejectedStore();
    // The default limits: up to 2,500 events per batch.
    const handler = createCollectHandler(() => ({
      queue: new MemoryQueue(),
      rejected,
      keys: new BootstrapKeyStore({ write: envLoader(KEY) }),
    }));
    const res = await handler(apiRequest('/v1/batch', JSON.stringify({ batch: Array.from({ length: 2500 }, () => 1) }), basicAuth(KEY)));
    expect(res.statusCode).toBe(400);
    // The sender still hears about every item.
    expect(JSON.parse(res.body!).rejected).toHaveLength(2500);
    expect(rejected.records).toHaveLength(MAX_REJECTED_RECORDS_PER_REQUEST + 1);
    expect(rejected.records.slice(0, 10).map((r) => r.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(rejected.records[10]).toMatchObject({
      index: 10,
      payload: '"(not kept)"',
      issues: [{ path: '(request)', message: '2490 more rejected events of this request (indexes 10 to 2499) are not kept' }],
    });
  });

  it('a request with a few bad items keeps one record per item, as before', async () => {
    const { rejected, post } = setup();
    await post('/v1/batch', {
      batch: [
        { writeKey: KEY, type: 'track', userId: 'u' },
        { type: 'track', userId: 'u', event: 'ok' },
        { type: 'track', userId: 'v' },
      ],
    });
    expect(rejected.records.map((r) => r.index)).toEqual([0, 2]);
  });
});

describe('no write key in a kept payload (issue 18 item 11)', () => {
  it('a whole refused request with the key in batch[0].writeKey (analytics.js) keeps no key', async () => {
    const { rejected, post } = setup();
    // Over the batch limit: the whole request is refused and kept as one record.
    const tooMany = { batch: Array.from({ length: 6 }, (_, i) => ({ writeKey: KEY, type: 'track', userId: `u${i}`, event: 'E' })) };
    expect((await post('/v1/b', tooMany)).statusCode).toBe(413);
    // Not a batch at all: refused as a whole.
    expect(
      (
        await post('/v1/b', {
          batch: [{ writeKey: KEY, type: 'track', userId: 'u', event: 'E' }],
          context: { writeKey: KEY, note: `key=${KEY}` },
          sentAt: 'x',
        })
      ).statusCode,
    ).toBeLessThan(500);
    // A single call with the key nested elsewhere and in a value under another name.
    expect((await post('/v1/t', { writeKey: KEY, userId: 'u', properties: { nested: [{ writeKey: KEY }], copy: KEY } })).statusCode).toBe(
      400,
    );
    expect(rejected.records.length).toBeGreaterThanOrEqual(2);
    for (const r of rejected.records) {
      expect(r.payload).not.toContain(KEY);
      expect(r.payload).not.toContain('writeKey');
    }
  });
});
