/**
 * Queue depths from SQS: `GetQueueAttributes` (ApproximateNumberOfMessages and
 * ApproximateNumberOfMessagesNotVisible) of each queue and of its dead-letter queue. SQS's
 * counts are approximate (eventually consistent, within about a minute).
 */
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { QueueHealth } from '../core/health';
import type { QueueMonitor } from '../app/ports';

/** One monitored queue: its URL and its dead-letter queue's, either may be absent (a failure queue is its own dead letters). */
export interface MonitoredQueue {
  readonly name: string;
  readonly url?: string;
  readonly deadLetterUrl?: string;
}

/** The `HEALTH_QUEUES` environment variable: a JSON array of {@link MonitoredQueue}. */
export function parseMonitoredQueues(json: string | undefined): MonitoredQueue[] {
  if (!json) return [];
  const parsed: unknown = JSON.parse(json);
  if (!Array.isArray(parsed)) throw new Error('HEALTH_QUEUES must be a JSON array');
  return parsed.map((q: { name?: unknown; url?: unknown; deadLetterUrl?: unknown }) => {
    if (typeof q?.name !== 'string') throw new Error('HEALTH_QUEUES: every queue needs a name');
    return {
      name: q.name,
      ...(typeof q.url === 'string' ? { url: q.url } : {}),
      ...(typeof q.deadLetterUrl === 'string' ? { deadLetterUrl: q.deadLetterUrl } : {}),
    };
  });
}

export class SqsQueueMonitor implements QueueMonitor {
  constructor(
    private readonly sqs: SQSClient,
    private readonly queues: readonly MonitoredQueue[],
  ) {}

  private async counts(url: string | undefined): Promise<{ visible: number; inFlight: number }> {
    if (!url) return { visible: 0, inFlight: 0 };
    const r = await this.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return {
      visible: Number(r.Attributes?.ApproximateNumberOfMessages ?? 0),
      inFlight: Number(r.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
    };
  }

  async depths(): Promise<QueueHealth[]> {
    return Promise.all(
      this.queues.map(async (q) => {
        const [main, dead] = await Promise.all([this.counts(q.url), this.counts(q.deadLetterUrl)]);
        return { name: q.name, visible: main.visible, inFlight: main.inFlight, deadLetters: dead.visible + dead.inFlight };
      }),
    );
  }
}
