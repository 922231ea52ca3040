/**
 * The frame of the APIs behind the admin key (sources, dead letters, rules): the key checked,
 * the request dispatched on its route key, errors mapped to responses.
 */
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { KeyStore } from '../../app/ports';
import { AuthenticationError, NotFoundError } from '../../core/errors';
import { credential, errorResponse, type HttpResult } from './http';

/** Serves one route, with the handler's dependencies. */
export type AdminRoute<D> = (event: APIGatewayProxyEventV2, deps: D) => Promise<HttpResult>;

/**
 * A handler that authenticates the admin key (a Bearer token or the HTTP Basic user name) and
 * calls the route for the event's route key (`METHOD /path/{param}`, as in lambdas/routes.ts);
 * any other route key is a 404.
 */
export function adminApiHandler<D extends { readonly keys: KeyStore }>(
  deps: () => D,
  routes: Readonly<Record<string, AdminRoute<D>>>,
  /** Routes the read key may call as well as the admin key (reads only). */
  readRoutes: ReadonlySet<string> = new Set(),
) {
  return async (event: APIGatewayProxyEventV2): Promise<HttpResult> => {
    try {
      const readable = readRoutes.has(event.routeKey);
      const what = readable ? 'read or admin key' : 'admin key';
      const key = credential(event);
      if (!key) throw new AuthenticationError(`missing ${what}: send it as a Bearer token or the HTTP Basic auth user name`);
      const d = deps();
      if (!(await d.keys.authenticate('admin', key)) && !(readable && (await d.keys.authenticate('read', key))))
        throw new AuthenticationError(`invalid ${what}`);
      const route = Object.hasOwn(routes, event.routeKey) ? routes[event.routeKey] : undefined;
      if (!route) throw new NotFoundError(`no route ${event.routeKey}`);
      return await route(event, d);
    } catch (err) {
      return errorResponse(err);
    }
  };
}

/**
 * A path parameter ('' when absent). HTTP APIs hand `pathParameters` over already
 * percent-decoded (and so does the local server): decoding again would turn `%41` into `A` and
 * a literal `%` into an error.
 */
export function pathParam(event: APIGatewayProxyEventV2, name: string): string {
  return event.pathParameters?.[name] ?? '';
}
