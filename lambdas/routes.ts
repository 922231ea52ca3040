/**
 * The HTTP routes and the function serving each: one list for the CDK construct (API Gateway
 * routes) and the local runtime (its HTTP server).
 */
import { ROUTE_ALIASES, ROUTES } from '../core/ingest';
import { AUDIENCE_ROUTES } from './rules/audience-routes';

export type ApiFunction = 'collect' | 'profile' | 'context' | 'admin' | 'rules' | 'import' | 'insights' | 'identity';

export interface ApiRoute {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** API Gateway path syntax: `{name}` is a path parameter. */
  readonly path: string;
  readonly fn: ApiFunction;
}

/** The settings documents browser SDKs fetch before sending (served by collect). */
export const SETTINGS_PATHS = { analyticsJs: '/v1/projects/{writeKey}/settings', rudderStack: '/sourceConfig' } as const;

/** The OpenAPI document of this API (`core/openapi.ts`, `docs/openapi.json`): public, served by profile. */
export const OPENAPI_PATH = '/v1/openapi.json';

/** RudderStack JS's beacon transport: `POST {dataPlaneUrl}/beacon/v1/batch?writeKey=…`. */
export const BEACON_BATCH_PATH = '/beacon/v1/batch';

/**
 * Request headers the CORS preflight allows, for the construct and the local server alike:
 * analytics.js adds `X-Retry-Count` on retries; RudderStack JS sends `AnonymousId` and `SentAt`
 * on every event and `Rsa-*` headers on retries and recovered events.
 */
export const CORS_ALLOW_HEADERS: readonly string[] = [
  'Content-Type',
  'Authorization',
  'Content-Encoding',
  'X-Retry-Count',
  'AnonymousId',
  'SentAt',
  'Rsa-Recovered',
  'Rsa-Retry-Attempt',
  'Rsa-Retry-Reason',
  'Rsa-Since-First-Attempt',
  'Rsa-Since-Last-Attempt',
];

export const API_ROUTES: readonly ApiRoute[] = [
  ...[...ROUTES, ...Object.keys(ROUTE_ALIASES)].map((r): ApiRoute => ({ method: 'POST', path: `/v1/${r}`, fn: 'collect' })),
  // Browser SDKs: analytics.js `cdnURL` settings, RudderStack JS `configUrl` source config and
  // its `useBeacon` transport (key in the query string).
  { method: 'GET', path: SETTINGS_PATHS.analyticsJs, fn: 'collect' },
  { method: 'GET', path: SETTINGS_PATHS.rudderStack, fn: 'collect' },
  { method: 'POST', path: BEACON_BATCH_PATH, fn: 'collect' },
  { method: 'GET', path: OPENAPI_PATH, fn: 'profile' },
  { method: 'GET', path: '/v1/profiles/{id}', fn: 'profile' },
  { method: 'GET', path: '/v1/profiles/{id}/events', fn: 'profile' },
  // Identity graph: explain (read key), split, release a quarantine (admin key); `app/identity-graph.ts`, `app/split.ts`.
  { method: 'GET', path: '/v1/profiles/{id}/identity', fn: 'profile' },
  { method: 'POST', path: '/v1/profiles/{id}/split', fn: 'identity' },
  { method: 'POST', path: '/v1/profiles/{id}/release', fn: 'identity' },
  { method: 'DELETE', path: '/v1/suppressions/{id}', fn: 'identity' },
  // The public write key's profile read: its own function, whose role reads only what it serves.
  { method: 'POST', path: '/v1/context', fn: 'context' },
  { method: 'POST', path: '/v1/import', fn: 'import' },
  { method: 'GET', path: '/v1/profiles/{id}/export', fn: 'profile' },
  { method: 'DELETE', path: '/v1/profiles/{id}', fn: 'profile' },
  { method: 'POST', path: '/v1/sources', fn: 'admin' },
  { method: 'GET', path: '/v1/sources', fn: 'admin' },
  { method: 'DELETE', path: '/v1/sources/{id}', fn: 'admin' },
  { method: 'PATCH', path: '/v1/sources/{id}', fn: 'admin' },
  { method: 'POST', path: '/v1/sources/{id}/keys', fn: 'admin' },
  { method: 'DELETE', path: '/v1/sources/{id}/keys/{keyId}', fn: 'admin' },
  { method: 'GET', path: '/v1/rejected', fn: 'admin' },
  { method: 'GET', path: '/v1/dlq', fn: 'admin' },
  { method: 'POST', path: '/v1/dlq/redrive', fn: 'admin' },
  { method: 'GET', path: '/v1/rules', fn: 'rules' },
  { method: 'GET', path: '/v1/rules/{id}', fn: 'rules' },
  { method: 'PUT', path: '/v1/rules/{id}', fn: 'rules' },
  { method: 'DELETE', path: '/v1/rules/{id}', fn: 'rules' },
  { method: 'POST', path: '/v1/rules/{id}/test', fn: 'rules' },
  { method: 'POST', path: '/v1/rules/{id}/backtest', fn: 'rules' },
  // The console's Health page: queue depths and evaluation failures (rules already scans the table for backtests).
  { method: 'GET', path: '/v1/health', fn: 'rules' },
  // Audiences with exact counts, their members and exports (read or admin key); jobs (backfills).
  ...AUDIENCE_ROUTES.map((r): ApiRoute => ({ ...r, fn: 'rules' })),
  // The console's live events (debugger) and overview: read or admin key.
  { method: 'POST', path: '/v1/debug/sessions', fn: 'insights' },
  { method: 'GET', path: '/v1/debug/events', fn: 'insights' },
  { method: 'GET', path: '/v1/stats', fn: 'insights' },
];

/**
 * The console's routes on the HTTP API (cloud), served by the `console` function, from the same
 * origin as the API. Locally the server hands the same paths (`isConsolePath`) to the same
 * `serveConsole` (`lambdas/console/serve.ts`) before API routing. Not API routes: not in the
 * OpenAPI document.
 */
export const CONSOLE_ROUTES: readonly { readonly method: 'GET'; readonly path: string; readonly fn: 'console' }[] = [
  { method: 'GET', path: '/console', fn: 'console' },
  { method: 'GET', path: '/console/{proxy+}', fn: 'console' },
];

/** Methods a browser may use cross-origin (CORS preflight, cloud and local): every route's, and OPTIONS. */
export const CORS_ALLOW_METHODS: readonly ('GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'OPTIONS')[] = [
  ...(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const).filter((m) => API_ROUTES.some((r) => r.method === m)),
  'OPTIONS',
];

/** Matches a concrete path against a route path; returns the path parameters. */
export function matchPath(template: string, path: string): Record<string, string> | undefined {
  const t = template.split('/');
  const p = path.split('/');
  if (t.length !== p.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < t.length; i++) {
    const seg = t[i]!;
    if (seg.startsWith('{') && seg.endsWith('}')) {
      if (!p[i]) return undefined;
      params[seg.slice(1, -1)] = p[i]!;
    } else if (seg !== p[i]) return undefined;
  }
  return params;
}
