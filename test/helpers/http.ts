import type { Runtime } from '../../local/runtime';

/** HTTP Basic with a Scherp key as the user name and an empty password, as Segment SDKs send it. */
export const basic = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;

/** An ISO time `msAgo` milliseconds ago. */
export const at = (msAgo: number) => new Date(Date.now() - msAgo).toISOString();

/** Requests against a local runtime started in `beforeAll` (hence the getter). */
export function apiClient(runtime: () => Runtime) {
  return {
    /** Posts a batch with the write key and expects it accepted. */
    async send(...batch: Record<string, unknown>[]): Promise<void> {
      const rt = runtime();
      const res = await fetch(`${rt.url}/v1/batch`, { method: 'POST', headers: { authorization: basic(rt.keys.write), 'content-type': 'application/json' }, body: JSON.stringify({ batch }) });
      expect(res.status).toBe(200);
    },
    get: (path: string, key = runtime().keys.read) => fetch(`${runtime().url}${path}`, { headers: { authorization: basic(key) } }),
    del: (path: string, key = runtime().keys.admin) => fetch(`${runtime().url}${path}`, { method: 'DELETE', headers: { authorization: basic(key) } }),
  };
}
