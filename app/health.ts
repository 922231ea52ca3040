/**
 * `GET /v1/health`: queue depths (cheap: one GetQueueAttributes per queue) and the evaluation
 * failures not yet replayed. Reading the failure markers is a table scan, so it runs only when a
 * failure or dead-letter queue holds messages (a healthy deployment never scans).
 */
import { hasFailures, recentErrors, type HealthResponse } from '../core/health';
import type { EvaluationFailureLog, QueueMonitor } from './ports';

export interface HealthDeps {
  readonly queues: QueueMonitor;
  readonly failures: EvaluationFailureLog;
}

export async function readHealth(deps: HealthDeps): Promise<HealthResponse> {
  const queues = await deps.queues.depths();
  return { queues, recentErrors: hasFailures(queues) ? recentErrors(await deps.failures.list()) : [] };
}
