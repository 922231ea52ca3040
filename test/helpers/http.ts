import type { Runtime } from '../../local/runtime';

/** HTTP Basic with a Scherp key as the user name and an empty password, as Segment SDKs send it. */
export const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;

/** A key as a Bearer token; `apiClient` sends it as it is. */
export const bearer = (key: string) => `Bearer ${key}`;

/** The Authorization header for `key`: a Scherp key goes as HTTP Basic, a `bearer(…)` value as it is. */
const authorization = (key: string) => (key.startsWith('Bearer ') ? key : basic(key));

/** An ISO time `msAgo` milliseconds ago. */
export const at = (msAgo: number) => new Date(Date.now() - msAgo).toISOString();

/** Requests against a local runtime started in `beforeAll` (hence the getter). */
export function apiClient(runtime: () => Runtime) {
  /** A request with `key` (none: no credentials) and, when given, `body` as JSON. */
  const request = (method: string, path: string, key?: string, body?: unknown) =>
    fetch(`${runtime().url}${path}`, {
      method,
      headers: {
        ...(key === undefined ? {} : { authorization: authorization(key) }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  /** Posts `body` as JSON, with the write key unless told. */
  const post = (path: string, body?: unknown, key = runtime().keys.write) => request('POST', path, key, body);
  return {
    /** A request as `request` makes it, answered with its status and its JSON body. */
    async call(method: string, path: string, key?: string, body?: unknown): Promise<{ status: number; body: any }> {
      const res = await request(method, path, key, body);
      return { status: res.status, body: await res.json() };
    },
    post,
    /** A request as it is (headers and all). */
    request,
    /** Posts a batch with the write key and expects it accepted. */
    async send(...batch: Record<string, unknown>[]): Promise<void> {
      const res = await post('/v1/batch', { batch });
      expect(res.status).toBe(200);
    },
    get: (path: string, key = runtime().keys.read) => request('GET', path, key),
    del: (path: string, key = runtime().keys.admin) => request('DELETE', path, key),
  };
}
