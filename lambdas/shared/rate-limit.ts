/** The per-source request limit of collect and `POST /v1/context`, from the environment (construct props `sourceRateLimit`, `sourceBurstLimit`). */
import { DEFAULT_SOURCE_RATE_LIMIT, type RateLimit } from '../../core/rate-limit';
import { ENV, intEnv } from './env';
import { logger, metrics, MetricUnit } from './observability';

export function rateLimitFromEnv(): RateLimit {
  return {
    rate: intEnv(ENV.SOURCE_RATE_LIMIT, DEFAULT_SOURCE_RATE_LIMIT.rate),
    burst: intEnv(ENV.SOURCE_BURST_LIMIT, DEFAULT_SOURCE_RATE_LIMIT.burst),
  };
}

/** Counts a refusal by a source's rate limit (the source id is logged, never the key). */
export function onThrottled(sourceId: string): void {
  metrics.addMetric('RequestsThrottled', MetricUnit.Count, 1);
  logger.warn('source over its rate limit', { sourceId });
}
