/**
 * Identifiers with `%` in them, through the local server (which decodes path parameters once, as
 * API Gateway does) and the real handlers (which must not decode again): before, `50%off` was a
 * 500 in the cloud and `x%41` another person's profile.
 */
import type { Runtime } from '../../local/runtime';
import { eventually } from '../helpers/dynamo';
import { basic } from '../helpers/http';
import { startTestRuntime } from '../helpers/runtime';

let rt: Runtime;
beforeAll(async () => {
  rt = await startTestRuntime('path-params');
});
afterAll(() => rt.stop());

test.each(['50%off', 'x%41', 'a/b c'])('the profile of user id %s is found by its percent-encoded id', async (userId) => {
  const res = await fetch(`${rt.url}/v1/identify`, {
    method: 'POST',
    headers: { authorization: basic(rt.keys.write), 'content-type': 'application/json' },
    body: JSON.stringify({ userId, traits: { tag: userId } }),
  });
  expect(res.status).toBe(200);
  const profile = await eventually(async () => {
    const r = await fetch(`${rt.url}/v1/profiles/user_id:${encodeURIComponent(userId)}`, {
      headers: { authorization: basic(rt.keys.read) },
    });
    expect(r.status).toBeLessThan(500);
    return r.status === 200 ? ((await r.json()) as { identifiers: string[]; traits: Record<string, { value: unknown }> }) : undefined;
  });
  expect(profile.identifiers).toContain(`user_id:${userId}`);
  expect(profile.traits.tag!.value).toBe(userId);
});
