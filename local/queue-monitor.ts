/**
 * Queue depths of the local runtime for `GET /v1/health`, shaped as the cloud's
 * (`adapters/sqs-queue-monitor.ts`): the ingest queue with its dead letters (`dlq.jsonl`), and
 * the evaluation failures not yet replayed (the cloud's stream-failure queue). The local
 * scheduler has no dead-letter queue: delayed actions are not listed.
 */
import type { DeadLetters } from '../app/dead-letters';
import type { EvaluationFailureLog, QueueMonitor } from '../app/ports';
import type { QueueHealth } from '../core/health';
import type { LocalQueue } from './queue';

export class LocalQueueMonitor implements QueueMonitor {
  constructor(
    private readonly queue: Pick<LocalQueue, 'counts'>,
    private readonly deadLetters: Pick<DeadLetters, 'list'>,
    private readonly failures: EvaluationFailureLog,
  ) {}

  async depths(): Promise<QueueHealth[]> {
    const [letters, failures] = await Promise.all([this.deadLetters.list(100_000), this.failures.list()]);
    return [
      { name: 'ingest', ...this.queue.counts(), deadLetters: letters.length },
      { name: 'evaluate-stream-failures', visible: 0, inFlight: 0, deadLetters: failures.length },
    ];
  }
}
