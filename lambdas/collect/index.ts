/**
 * collect: POST /v1/{track|identify|page|screen|group|alias|batch} (and analytics.js's one-letter
 * paths, RudderStack's beacon batch), and the settings documents browser SDKs fetch first
 * (`GET /v1/projects/{writeKey}/settings`, `GET /sourceConfig`). Parses the HTTP request, calls
 * the use case, maps the result. Accepted events go to the queue.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { collect, type CollectDeps } from '../../app/collect';
import { sdkSettings } from '../../app/sdk-settings';
import { BEACON_BATCH_PATH, SETTINGS_PATHS } from '../routes';
import { DEFAULT_INGEST_LIMITS, routeNamed, type IngestLimits, type Route } from '../../core/ingest';
import { NotFoundError } from '../../core/errors';
import { SourceRateLimiter } from '../../core/rate-limit';
import { onThrottled, rateLimitFromEnv } from '../shared/rate-limit';
import { SqsEventQueue } from '../../adapters/sqs-queue';
import { BootstrapKeyStore, envLoader, secretLoader, SourceKeyStore } from '../../adapters/keys';
import { debugStore, rejectedStore, sourceStore, statsStore } from '../shared/dynamo';
import { DebugTap } from '../../app/debug';
import { ENV, intEnv, optionalEnv, requireEnv } from '../shared/env';
import { apiAddress, clientIp, credential, errorResponse, json, parseJsonBody, userAgent, type HttpResult } from '../shared/http';
import { flushMetrics, logger, metrics, MetricUnit } from '../shared/observability';
import { lazy } from '../shared/lazy';

function routeNamedBy(path: string): Route | undefined {
  return routeNamed(path.replace(/\/+$/, '').split('/').pop() ?? '');
}

/** Routes of the paths seen (only API routes reach collect, so few), each worked out once. */
const ROUTE_OF_PATH = new Map<string, Route>();
const MAX_REMEMBERED_PATHS = 64;

function routeOf(path: string): Route {
  const known = ROUTE_OF_PATH.get(path);
  if (known) return known;
  const route = routeNamedBy(path);
  if (!route) throw new NotFoundError(`no such route: ${path}`);
  if (ROUTE_OF_PATH.size < MAX_REMEMBERED_PATHS) ROUTE_OF_PATH.set(path, route);
  return route;
}

const ANALYTICS_JS_SETTINGS = `GET ${SETTINGS_PATHS.analyticsJs}`;
const RUDDERSTACK_SETTINGS = `GET ${SETTINGS_PATHS.rudderStack}`;
const BEACON_BATCH = `POST ${BEACON_BATCH_PATH}`;

/** Settings change only with a deployment: browsers may keep them for a few minutes. */
const SETTINGS_CACHE = 'public, max-age=300';

/** The settings document of a `GET` route, or undefined for the event routes. */
function settingsOf(event: APIGatewayProxyEventV2): HttpResult | undefined {
  let doc: Record<string, unknown>;
  if (event.routeKey === ANALYTICS_JS_SETTINGS) {
    doc = sdkSettings({
      sdk: 'analytics.js',
      writeKey: event.pathParameters?.writeKey,
      api: apiAddress(event, SETTINGS_PATHS.analyticsJs),
    });
  } else if (event.routeKey === RUDDERSTACK_SETTINGS) {
    doc = sdkSettings({ sdk: 'rudderstack', writeKey: event.queryStringParameters?.writeKey ?? credential(event) });
  } else return undefined;
  const res = json(200, doc);
  return { ...res, headers: { ...res.headers, 'cache-control': SETTINGS_CACHE } };
}

export function createCollectHandler(deps: () => CollectDeps) {
  return async (event: APIGatewayProxyEventV2): Promise<HttpResult> => {
    try {
      const settings = settingsOf(event);
      if (settings) return settings;
      const d = deps();
      const route = routeOf(event.rawPath);
      // RudderStack's beacon transport cannot set headers: its key is in the query string.
      const beaconKey = event.routeKey === BEACON_BATCH ? event.queryStringParameters?.writeKey : undefined;
      const result = await collect(d, {
        route,
        body: parseJsonBody(event, d.limits?.maxRequestBytes ?? DEFAULT_INGEST_LIMITS.maxRequestBytes),
        credential: credential(event) ?? beaconKey,
        ip: clientIp(event),
        userAgent: userAgent(event),
        requestId: event.requestContext?.requestId,
      });
      metrics.addMetric('EventsAccepted', MetricUnit.Count, result.accepted);
      if (result.rejected.length > 0) metrics.addMetric('EventsRejected', MetricUnit.Count, result.rejected.length);
      logger.info('collected', { route, sourceId: result.sourceId, accepted: result.accepted, rejected: result.rejected.length });
      if (result.rejected.length === 0) return json(200, { success: true });
      if (result.accepted === 0)
        return json(400, {
          success: false,
          error: 'invalid_request',
          message: 'no event in the batch is valid',
          rejected: result.rejected,
        });
      return json(200, { success: true, accepted: result.accepted, rejected: result.rejected });
    } catch (err) {
      return errorResponse(err);
    } finally {
      flushMetrics();
    }
  };
}

/** The limits from the environment (set from the construct props), Segment's by default. */
export function limitsFromEnv(): IngestLimits {
  return {
    maxEventBytes: intEnv(ENV.MAX_EVENT_BYTES, DEFAULT_INGEST_LIMITS.maxEventBytes),
    maxRequestBytes: intEnv(ENV.MAX_REQUEST_BYTES, DEFAULT_INGEST_LIMITS.maxRequestBytes),
    maxBatchEvents: intEnv(ENV.MAX_BATCH_EVENTS, DEFAULT_INGEST_LIMITS.maxBatchEvents),
  };
}

/** Cloud wiring: SQS, Secrets Manager and the source keys in the table, built on first use. */
const cloudDeps = lazy((): CollectDeps => {
  const secretArn = optionalEnv(ENV.WRITE_KEY_SECRET_ARN);
  const bootstrap = new BootstrapKeyStore({
    write: secretArn ? secretLoader(new SecretsManagerClient({}), secretArn) : envLoader(optionalEnv(ENV.WRITE_KEY)),
  });
  const sources = sourceStore();
  return {
    queue: new SqsEventQueue(new SQSClient({}), requireEnv(ENV.QUEUE_URL)),
    keys: new SourceKeyStore(bootstrap, (digest) => sources.findKey(digest)),
    rejected: rejectedStore(),
    limits: limitsFromEnv(),
    // One bucket per source in this container's memory (`core/rate-limit.ts`).
    rateLimiter: new SourceRateLimiter(rateLimitFromEnv()),
    onThrottled,
    // Debug copies only while a debugger session is open (the marker read cached per container).
    stats: statsStore(),
    onStatsError: (err) => logger.warn('counters not updated', { error: (err as Error).name }),
    debug: new DebugTap(debugStore(), {
      onError: (err) => logger.warn('debug copy not kept', { error: (err as Error).name }),
      onDropped: (n) => metrics.addMetric('DebugEntriesDropped', MetricUnit.Count, n),
    }),
  };
});

export const handler = createCollectHandler(cloudDeps);
