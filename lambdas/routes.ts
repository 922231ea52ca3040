/**
 * The HTTP routes and the function serving each: one list for the CDK construct (API Gateway
 * routes) and the local runtime (its HTTP server).
 */
import { ROUTE_ALIASES, ROUTES } from '../core/ingest';

export type ApiFunction = 'collect' | 'profile' | 'admin' | 'rules' | 'import';

export interface ApiRoute {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** API Gateway path syntax: `{name}` is a path parameter. */
  readonly path: string;
  readonly fn: ApiFunction;
}

export const API_ROUTES: readonly ApiRoute[] = [
  ...[...ROUTES, ...Object.keys(ROUTE_ALIASES)].map((r): ApiRoute => ({ method: 'POST', path: `/v1/${r}`, fn: 'collect' })),
  { method: 'GET', path: '/v1/profiles/{id}', fn: 'profile' },
  { method: 'GET', path: '/v1/profiles/{id}/events', fn: 'profile' },
  { method: 'POST', path: '/v1/context', fn: 'profile' },
  { method: 'POST', path: '/v1/import', fn: 'import' },
  { method: 'GET', path: '/v1/profiles/{id}/export', fn: 'profile' },
  { method: 'DELETE', path: '/v1/profiles/{id}', fn: 'profile' },
  { method: 'POST', path: '/v1/sources', fn: 'admin' },
  { method: 'GET', path: '/v1/sources', fn: 'admin' },
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
];

/** Request headers a browser may send cross-origin (CORS preflight, cloud and local). */
export const CORS_ALLOWED_HEADERS = ['Content-Type', 'Authorization', 'Content-Encoding'] as const;

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
