/**
 * insights: what the console's Live events and Overview pages read, with the read key or the
 * admin key (watching changes nothing but turning the debug copies on for a few minutes).
 *   POST /v1/debug/sessions → 200 { session: { expiresAt, ttlSeconds } } (opens or renews the debugger session)
 *   GET  /v1/debug/events?since=&type=&event=&sourceId=&status=&limit= → 200 { events, cursor, active, expiresAt? }
 *   GET  /v1/stats?from=&to= → 200 { from, to, hours, days, totals, topEvents } (the Overview's counters)
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { DebugStore, KeyStore, StatsStore } from '../../app/ports';
import { readStats } from '../../app/stats';
import { listDebugEvents, openDebugSession, type DebugTap } from '../../app/debug';
import { AuthenticationError, NotFoundError } from '../../core/errors';
import { BootstrapKeyStore, envLoader, secretLoader } from '../../adapters/keys';
import { debugStore, statsStore } from '../shared/dynamo';
import { ENV, optionalEnv } from '../shared/env';
import { credential, errorResponse, json, type HttpResult } from '../shared/http';
import { logger } from '../shared/observability';
import { lazy } from '../shared/lazy';

export interface InsightsDeps {
  /** Read and admin keys. */
  readonly keys: KeyStore;
  readonly debug: DebugStore;
  readonly stats: StatsStore;
  /** The local runtime's collect tap (same process): told at once when a session opens. */
  readonly tap?: DebugTap;
  readonly now?: () => Date;
}

export function createInsightsHandler(deps: () => InsightsDeps) {
  return async (event: APIGatewayProxyEventV2): Promise<HttpResult> => {
    try {
      const key = credential(event);
      if (!key) throw new AuthenticationError('missing read or admin key: send it as a Bearer token or the HTTP Basic auth user name');
      const d = deps();
      if (!(await d.keys.authenticate('read', key)) && !(await d.keys.authenticate('admin', key)))
        throw new AuthenticationError('invalid read or admin key');
      const now = (d.now ?? (() => new Date()))();
      if (event.routeKey === 'POST /v1/debug/sessions') {
        const opened = await openDebugSession(d.debug, now, d.tap);
        logger.info('debugger session opened', { expiresAt: opened.session.expiresAt });
        return json(200, opened);
      }
      if (event.routeKey === 'GET /v1/debug/events')
        return json(200, await listDebugEvents(d.debug, event.queryStringParameters ?? {}, now));
      if (event.routeKey === 'GET /v1/stats') return json(200, await readStats(d.stats, event.queryStringParameters ?? {}, now));
      throw new NotFoundError(`no route ${event.routeKey}`);
    } catch (err) {
      return errorResponse(err);
    }
  };
}

const cloudDeps = lazy((): InsightsDeps => {
  const readArn = optionalEnv(ENV.READ_KEY_SECRET_ARN);
  const adminArn = optionalEnv(ENV.ADMIN_KEY_SECRET_ARN);
  return {
    keys: new BootstrapKeyStore({
      read: readArn ? secretLoader(new SecretsManagerClient({}), readArn) : envLoader(optionalEnv(ENV.READ_KEY)),
      admin: adminArn ? secretLoader(new SecretsManagerClient({}), adminArn) : envLoader(optionalEnv(ENV.ADMIN_KEY)),
    }),
    debug: debugStore(),
    stats: statsStore(),
  };
});

export const handler = createInsightsHandler(cloudDeps);
