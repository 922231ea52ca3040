/**
 * collect: POST /v1/{track|identify|page|screen|group|alias|batch}. Parses the HTTP request,
 * calls the collect use case, maps the result. Accepted events go to the queue.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { collect, type CollectDeps } from '../../app/collect';
import { ROUTES, type Route } from '../../core/ingest';
import { NotFoundError } from '../../core/errors';
import { SqsEventQueue } from '../../adapters/sqs-queue';
import { BootstrapKeyStore, envLoader, secretLoader } from '../../adapters/keys';
import { ENV, optionalEnv, requireEnv } from '../shared/env';
import { clientIp, credential, errorResponse, json, parseJsonBody, userAgent, type HttpResult } from '../shared/http';
import { flushMetrics, logger, metrics, MetricUnit } from '../shared/observability';
import { lazy } from '../shared/lazy';

function routeOf(path: string): Route {
  const last = path.replace(/\/+$/, '').split('/').pop() ?? '';
  if (!(ROUTES as readonly string[]).includes(last)) throw new NotFoundError(`no such route: ${path}`);
  return last as Route;
}

export function createCollectHandler(deps: () => CollectDeps) {
  return async (event: APIGatewayProxyEventV2): Promise<HttpResult> => {
    try {
      const route = routeOf(event.rawPath);
      const result = await collect(deps(), {
        route,
        body: parseJsonBody(event),
        credential: credential(event),
        ip: clientIp(event),
        userAgent: userAgent(event),
      });
      metrics.addMetric('EventsAccepted', MetricUnit.Count, result.accepted);
      if (result.rejected.length > 0) metrics.addMetric('EventsRejected', MetricUnit.Count, result.rejected.length);
      logger.info('collected', { route, accepted: result.accepted, rejected: result.rejected.length });
      if (result.rejected.length === 0) return json(200, { success: true });
      if (result.accepted === 0) return json(400, { success: false, error: 'invalid_request', message: 'no event in the batch is valid', rejected: result.rejected });
      return json(200, { success: true, accepted: result.accepted, rejected: result.rejected });
    } catch (err) {
      return errorResponse(err);
    } finally {
      flushMetrics();
    }
  };
}

/** Cloud wiring: SQS and Secrets Manager, built on first use. */
const cloudDeps = lazy((): CollectDeps => {
  const secretArn = optionalEnv(ENV.WRITE_KEY_SECRET_ARN);
  return {
    queue: new SqsEventQueue(new SQSClient({}), requireEnv(ENV.QUEUE_URL)),
    keys: new BootstrapKeyStore({
      write: secretArn ? secretLoader(new SecretsManagerClient({}), secretArn) : envLoader(optionalEnv(ENV.WRITE_KEY)),
    }),
  };
});

export const handler = createCollectHandler(cloudDeps);
