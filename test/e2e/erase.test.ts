/**
 * Erasure end to end, in-process: a person with two merged profiles (anonymous browsing, then a
 * login with identify traits and an order) and a rejected call naming them, erased through
 * `DELETE /v1/profiles/{type}:{value}` with the admin key; a scan of the whole table then finds
 * nothing naming them, nor does the local `rejected.jsonl`, and later events carrying their
 * identifiers are dropped.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { Runtime } from '../../local/runtime';
import { startTestRuntime } from '../helpers/runtime';
import { documentClient, localDynamoConfig } from '../../adapters/dynamo/client';
import { decodeEvent } from '../../adapters/dynamo/event-codec';
import { eventually } from '../helpers/dynamo';
import { apiClient, at } from '../helpers/http';

let rt: Runtime;
const run = randomBytes(4).toString('hex');

beforeAll(async () => {
  rt = await startTestRuntime('erase-e2e', { streamPollMs: 25 });
}, 60_000);

afterAll(async () => {
  await rt?.stop();
});

const { send, get, del } = apiClient(() => rt);

/** Every item of the table as text: keys, every attribute, and the decoded payload of timeline events. */
async function scanTable(): Promise<string[]> {
  const doc = documentClient(localDynamoConfig(rt.dynamoEndpoint));
  const out: string[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const res = await doc.send(new ScanCommand({ TableName: rt.tableName, ExclusiveStartKey: start, ConsistentRead: true }));
    for (const item of res.Items ?? []) {
      const decoded = item.d instanceof Uint8Array ? JSON.stringify(decodeEvent(item as { d: Uint8Array })) : '';
      out.push(JSON.stringify(item) + decoded);
    }
    start = res.LastEvaluatedKey;
  } while (start);
  return out;
}

describe('DELETE /v1/profiles/{type}:{value}', () => {
  it('erases the person and every profile merged into it; a whole-table scan finds nothing naming them; later events are dropped', async () => {
    const user = `erin-${run}`;
    const anon = `anon-${run}`;
    const email = `erin.${run}@example.com`;
    const name = `Erin ${run}`;
    const product = `sku-${run}`;
    const other = `other-${run}`;
    // Anonymous browsing (profile 1), an order, then a login with traits by a new device (profile 2), then the link.
    await send(
      { type: 'page', anonymousId: anon, name: 'Home', timestamp: at(9000) },
      {
        type: 'track',
        anonymousId: anon,
        event: 'Order Completed',
        timestamp: at(8000),
        properties: { revenue: 600, products: [{ product_id: product, category: `cat-${run}` }] },
      },
      {
        type: 'identify',
        userId: user,
        traits: { name, email, city: `Town ${run}` },
        timestamp: at(7000),
        context: { consent: { categoryPreferences: { Email: true } } },
      },
      { type: 'identify', userId: other, traits: { name: 'Someone else' }, timestamp: at(7000) },
      // Rejected (a track call without its event name), naming her by email in another case; and one of the other person's.
      { type: 'track', anonymousId: `bad-${run}`, properties: { contact: email.toUpperCase() }, timestamp: at(7000) },
      { type: 'track', userId: other, properties: { contact: `other.${run}@example.com` }, timestamp: at(7000) },
    );
    await eventually(async () =>
      (await get(`/v1/profiles/user_id:${user}`)).status === 200 && (await get(`/v1/profiles/anonymous_id:${anon}`)).status === 200
        ? true
        : undefined,
    );
    await send({ type: 'track', userId: user, anonymousId: anon, event: 'Signed In', timestamp: at(6000) });
    const p = await eventually(async () => {
      const r = await get(`/v1/profiles/email:${email}`);
      const body =
        r.status === 200 ? ((await r.json()) as { id: string; mergedFrom: string[]; computed: Record<string, unknown> }) : undefined;
      return body && body.mergedFrom.length === 1 && body.computed.event_count === 4 ? body : undefined;
    });
    // The person is in the table before (a sanity check of the scan).
    expect((await scanTable()).some((t) => t.includes(user))).toBe(true);
    expect((await scanTable()).some((t) => t.includes(product))).toBe(true);
    expect((await scanTable()).some((t) => t.includes(email.toUpperCase()))).toBe(true);
    // The export has the rejected call naming her.
    const exported = (await (await get(`/v1/profiles/user_id:${user}/export`, rt.keys.admin)).json()) as {
      rejected: { payload: string }[];
    };
    expect(exported.rejected.map((r) => JSON.parse(r.payload).properties)).toEqual([{ contact: email.toUpperCase() }]);

    // Only the admin key erases.
    expect((await del(`/v1/profiles/user_id:${user}`, rt.keys.read)).status).toBe(401);
    const res = await del(`/v1/profiles/anonymous_id:${anon}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { erased: { profiles: number; items: number; identifiers: number; rejected: number } };
    expect(body.erased.profiles).toBe(2);
    expect(body.erased.identifiers).toBe(3);
    expect(body.erased.rejected).toBe(1);
    expect(body.erased.items).toBeGreaterThanOrEqual(4 + 2 + 3);

    // Let the stream and rule evaluation triggered by the last events settle, then scan.
    await new Promise((r) => setTimeout(r, 500));
    const items = await scanTable();
    for (const value of [user, anon, email, email.toUpperCase(), name, product, `cat-${run}`, `Town ${run}`, p.id, ...p.mergedFrom]) {
      expect(items.filter((t) => t.includes(value))).toEqual([]);
    }
    // Nor does the rejected-event log, in the table or in the local file; the other person's record stays.
    const rejected = (await (await get('/v1/rejected', rt.keys.admin)).json()) as { rejected: { payload: string }[] };
    expect(rejected.rejected.filter((r) => r.payload.includes(run)).map((r) => JSON.parse(r.payload).properties.contact)).toEqual([
      `other.${run}@example.com`,
    ]);
    const lines = readFileSync(join(rt.dataDir, 'rejected.jsonl'), 'utf8').split('\n').filter(Boolean);
    expect(lines.filter((l) => l.toLowerCase().includes(email))).toEqual([]);
    expect(lines.filter((l) => l.includes(`other.${run}@`))).toHaveLength(1);
    // Only digests are left to remember them; the other person is untouched.
    expect(items.filter((t) => t.startsWith('{"pk":"SUP#') || t.includes('"pk":"SUP#')).length).toBe(3);
    expect((await get(`/v1/profiles/user_id:${other}`)).status).toBe(200);
    for (const path of [`user_id:${user}`, `anonymous_id:${anon}`, `email:${email}`])
      expect((await get(`/v1/profiles/${path}`)).status).toBe(404);
    expect((await del(`/v1/profiles/user_id:${user}`)).status).toBe(404);

    // A later event carrying the erased userId (and a fresh anonymousId) is dropped: no new profile.
    const fresh = `fresh-${run}`;
    await send({ type: 'track', userId: user, anonymousId: fresh, event: 'Came Back', timestamp: at(0) });
    const barrier = `barrier-${run}`;
    await send({ type: 'track', userId: barrier, event: 'Ping', timestamp: at(0) });
    await eventually(async () => ((await get(`/v1/profiles/user_id:${barrier}`)).status === 200 ? true : undefined));
    expect((await get(`/v1/profiles/user_id:${user}`)).status).toBe(404);
    expect((await get(`/v1/profiles/anonymous_id:${fresh}`)).status).toBe(404);
    expect((await scanTable()).filter((t) => t.includes(user) || t.includes(fresh))).toEqual([]);
  }, 60_000);
});
