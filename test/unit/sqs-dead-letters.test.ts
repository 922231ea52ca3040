/**
 * Listing the ingest DLQ on SQS: a short poll asks only some of SQS's servers (and can answer
 * empty while messages exist); the adapter long-polls, hides what it read until the queue is
 * exhausted, and makes every letter visible again afterwards.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { SqsDeadLetters } from '../../adapters/sqs-dead-letters';

interface Stored {
  id: string;
  body: string;
  server: number;
  visibleAt: number;
  handle?: string;
}

/**
 * A fake SQS queue spread over `servers` hosts. A short poll asks a subset of them (SQS picks it
 * at random; here the worst case, always the first), a long poll asks all.
 */
function fakeSqs(count: number, servers = 3) {
  let now = 0;
  const messages: Stored[] = Array.from({ length: count }, (_, i) => ({
    id: `m${i}`,
    body: JSON.stringify({ type: 'track', event: 'x', messageId: `m${i}` }),
    server: i % servers,
    visibleAt: 0,
  }));
  const client = {
    send: async (cmd: { constructor: { name: string }; input: any }) => {
      const input = cmd.input;
      switch (cmd.constructor.name) {
        case 'ReceiveMessageCommand': {
          const sampled = input.WaitTimeSeconds > 0 ? undefined : 0;
          const ready = messages
            .filter((m) => m.visibleAt <= now && (sampled === undefined || m.server === sampled))
            .slice(0, input.MaxNumberOfMessages);
          for (const m of ready) {
            m.visibleAt = now + input.VisibilityTimeout * 1000;
            m.handle = `${m.id}-${Math.random()}`;
          }
          return {
            Messages: ready.map((m) => ({
              MessageId: m.id,
              Body: m.body,
              ReceiptHandle: m.handle,
              MessageAttributes: { reason: { StringValue: 'boom' } },
            })),
          };
        }
        case 'ChangeMessageVisibilityBatchCommand':
          for (const e of input.Entries) {
            const m = messages.find((x) => x.handle === e.ReceiptHandle);
            if (m) m.visibleAt = now + e.VisibilityTimeout * 1000;
          }
          return {};
        default:
          throw new Error(`unexpected ${cmd.constructor.name}`);
      }
    },
  } as unknown as SQSClient;
  return { client, messages, tick: (ms: number) => (now += ms), clock: () => now };
}

describe('SqsDeadLetters.list', () => {
  it('finds every letter, however SQS spreads them, and leaves all of them visible', async () => {
    const sqs = fakeSqs(25);
    const letters = new SqsDeadLetters(sqs.client, { deadLetterQueueUrl: 'q', now: sqs.clock });
    const listed = await letters.list(100);
    expect(listed.map((l) => l.id).sort()).toEqual(sqs.messages.map((m) => m.id).sort());
    expect(listed[0]!.reason).toBe('boom');
    expect(sqs.messages.every((m) => m.visibleAt <= sqs.clock())).toBe(true);
  });

  it('stops at the limit and still releases what it read', async () => {
    const sqs = fakeSqs(40);
    const letters = new SqsDeadLetters(sqs.client, { deadLetterQueueUrl: 'q', now: sqs.clock });
    expect(await letters.list(15)).toHaveLength(15);
    expect(sqs.messages.every((m) => m.visibleAt <= sqs.clock())).toBe(true);
  });
});
