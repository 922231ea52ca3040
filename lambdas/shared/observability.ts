/**
 * One logger and one metrics object per function (Powertools), created at module scope.
 * Log lines carry ids and counts only: never emails, phones, traits or raw payloads.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

export const logger = new Logger();
export const metrics = new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'Scherp' });
export { MetricUnit };

/** Publishes the metrics gathered during one invocation. */
export function flushMetrics(): void {
  if (!metrics.hasStoredMetrics()) return;
  try {
    metrics.publishStoredMetrics();
  } catch (err) {
    logger.warn('metrics publish failed', { error: (err as Error).message });
  }
}

/**
 * An error reduced to what may be logged: its class and message, with quoted text removed
 * (JSON.parse and SDK validation errors quote the offending input, which may be personal data).
 */
export function errorFields(err: unknown): Record<string, string> {
  const e = err as { name?: string; message?: string };
  const message = String(e?.message ?? err)
    .replace(/"[^"]*"|'[^']*'/g, '"…"')
    .slice(0, 300);
  return { errorName: e?.name ?? 'Error', errorMessage: message };
}
