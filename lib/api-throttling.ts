/**
 * Per-route throttling of the HTTP API stage (issue 18 item 10). HTTP APIs have no usage plans
 * (those are REST-only) and no per-key throttling; what they have is a token bucket per route,
 * set by the stage's `RouteSettings` (`DefaultRouteSettings` for routes without their own).
 * Scherp writes every route's settings explicitly: the routes of the public write key (collect,
 * `POST /v1/context`) get the ingest budget, the routes of the read and admin keys (profiles,
 * export, erasure, sources, rules, import, dead letters) their own, so a flood on the ingest
 * routes spends only the ingest routes' buckets. Per-source limits inside collect
 * (`core/rate-limit.ts`) keep one source from taking the others' share of an ingest route.
 */
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import type { IConstruct } from 'constructs';
import type { ApiRoute } from '../lambdas/routes';

/** A route of `API_ROUTES` or `CONSOLE_ROUTES` (`lambdas/routes.ts`). */
export type ThrottledRoute = Pick<ApiRoute, 'method' | 'path'> & { readonly fn: ApiRoute['fn'] | 'console' };

export interface RouteThrottle {
  /** Steady-state requests per second of each route. */
  readonly rateLimit: number;
  /** Burst (bucket size) of each route. */
  readonly burstLimit: number;
}

/** Whether a route is reached with the public write key (its key is in page source). */
export function isPublicRoute(r: Pick<ThrottledRoute, 'fn'>): boolean {
  return r.fn === 'collect' || r.fn === 'context';
}

/** One route's entry, as CloudFormation spells it (`RouteSettings` is a JSON map, passed through as is). */
export interface RouteSettingsEntry {
  readonly ThrottlingRateLimit: number;
  readonly ThrottlingBurstLimit: number;
}

/** `RouteSettings` of the stage: every route by its route key, ingest or admin budget. */
export function routeSettings(
  routes: readonly ThrottledRoute[],
  ingest: RouteThrottle,
  admin: RouteThrottle,
): Record<string, RouteSettingsEntry> {
  const out: Record<string, RouteSettingsEntry> = Object.create(null);
  for (const r of routes) {
    const t = isPublicRoute(r) ? ingest : admin;
    out[`${r.method} ${r.path}`] = { ThrottlingRateLimit: t.rateLimit, ThrottlingBurstLimit: t.burstLimit };
  }
  return out;
}

/**
 * Sets the route settings on the stage; the stage must be created after the routes it names
 * (API Gateway refuses settings for a route key it does not know yet).
 */
export function throttleRoutes(
  stage: apigwv2.HttpStage,
  routes: readonly ThrottledRoute[],
  routeConstructs: readonly IConstruct[],
  ingest: RouteThrottle,
  admin: RouteThrottle,
): void {
  const cfn = stage.node.defaultChild as apigwv2.CfnStage;
  cfn.routeSettings = { ...routeSettings(routes, ingest, admin) };
  for (const c of routeConstructs) stage.node.addDependency(c);
}
