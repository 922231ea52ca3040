import type { SQSEvent } from 'aws-lambda';
import { LocalQueue } from '../../local/queue';
import { chunkBodies } from '../../adapters/sqs-queue';
import type { ScherpEvent } from '../../core/events';

const ev = (id: string) => ({ messageId: id }) as ScherpEvent;

describe('local queue', () => {
  it('redelivers only the failed messages and dead-letters after maxReceives', async () => {
    const q = new LocalQueue({ batchSize: 10, retryDelayMs: 0, maxReceives: 3 });
    await q.send([ev('ok'), ev('poison')]);
    const seen: string[] = [];
    const handler = async (e: SQSEvent) => {
      const failures = [];
      for (const r of e.Records) {
        const id = (JSON.parse(r.body) as ScherpEvent).messageId;
        seen.push(id);
        if (id === 'poison') failures.push({ itemIdentifier: r.messageId });
      }
      return { batchItemFailures: failures };
    };
    for (let i = 0; i < 5; i++) await q.drainOnce(handler);
    expect(seen.filter((s) => s === 'ok')).toHaveLength(1);
    expect(seen.filter((s) => s === 'poison')).toHaveLength(3);
    expect(q.depth).toBe(0);
    expect(q.deadLetters).toHaveLength(1);
    expect(q.deadLetters[0]!.receiveCount).toBe(3);
  });

  it('a throwing handler fails the whole batch', async () => {
    const q = new LocalQueue({ retryDelayMs: 0, maxReceives: 1 });
    await q.send([ev('a'), ev('b')]);
    await q.drainOnce(async () => {
      throw new Error('boom');
    });
    expect(q.deadLetters.map((d) => d.reason)).toEqual(['handler threw: boom', 'handler threw: boom']);
  });
});

describe('SQS batching', () => {
  it('chunks by ten entries and by 256 KB', () => {
    expect(chunkBodies(Array.from({ length: 25 }, () => 'x')).map((c) => c.length)).toEqual([10, 10, 5]);
    const big = 'y'.repeat(100 * 1024);
    expect(chunkBodies([big, big, big]).map((c) => c.length)).toEqual([2, 1]);
  });
});
