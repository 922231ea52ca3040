/**
 * The audience and job routes, served by the rules function (`lambdas/rules/audiences.ts`).
 * Reads and starting an export take the read or the admin key; cancelling a job the admin key. No imports: the route
 * list (`lambdas/routes.ts`) is read by the construct and the local server alike.
 */
export const AUDIENCE_ROUTES = [
  { method: 'GET', path: '/v1/audiences' },
  { method: 'GET', path: '/v1/audiences/{id}' },
  { method: 'GET', path: '/v1/audiences/{id}/members' },
  { method: 'GET', path: '/v1/audiences/{id}/export' },
  { method: 'POST', path: '/v1/audiences/{id}/export' },
  { method: 'GET', path: '/v1/jobs' },
  { method: 'GET', path: '/v1/jobs/{id}' },
  { method: 'GET', path: '/v1/jobs/{id}/files/{n}' },
  { method: 'POST', path: '/v1/jobs/{id}/cancel' },
] as const;

/** Route keys the read key may call: the reads, and starting an export (the same rows as the synchronous one). */
export const READ_ROUTE_KEYS: ReadonlySet<string> = new Set([
  ...AUDIENCE_ROUTES.filter((r) => r.method === 'GET').map((r) => `${r.method} ${r.path}`),
  'POST /v1/audiences/{id}/export',
]);
