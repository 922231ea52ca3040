/**
 * Issue 18 item 5, end to end: after a complete DELETE, no local file of the data directory
 * names the person (bus log, queue journal, dead letters, stream failures, rejected events), the
 * pending delayed actions of their profile are cancelled, the answer says what was erased where
 * and which stores it could not reach, and the bus's stdout line carries ids and names only.
 */
import { appendFileSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Runtime } from '../../local/runtime';
import { busLine } from '../../local/bus';
import { startTestRuntime } from '../helpers/runtime';
import { eventually } from '../helpers/dynamo';
import { apiClient, at } from '../helpers/http';

let rt: Runtime;
const run = randomBytes(4).toString('hex');

beforeAll(async () => {
  // On disk (not in memory), so the queue keeps its journal as `npm start` does.
  rt = await startTestRuntime('erase-copies', { streamPollMs: 25, inMemory: false });
}, 60_000);

afterAll(async () => {
  await rt?.stop();
});

const { send, get, del } = apiClient(() => rt);

/** The data directory's files (DynamoDB Local's own files aside) as text. */
function dataFiles(): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of readdirSync(rt.dataDir, { recursive: true }) as string[]) {
    const path = join(rt.dataDir, f);
    if (f.startsWith('dynamodb') || !statSync(path).isFile()) continue;
    out.set(f, readFileSync(path, 'utf8'));
  }
  return out;
}

describe('erasure reaches the copies outside the table', () => {
  it('after DELETE no local file names the person; the answer lists what was erased and what it could not reach', async () => {
    const user = `cora-${run}`;
    const email = `cora.${run}@example.com`;
    const phone = '+31698765432';
    const street = `Keizersgracht ${run}`;
    const other = `other-${run}`;
    await send(
      {
        type: 'identify',
        userId: user,
        traits: { email, phone, address: { street, city: 'Amsterdam' } },
        timestamp: at(9000),
        context: { consent: { categoryPreferences: { Email: true } } },
      },
      // An order over 100 fires the shipped rule: an action on the bus naming her profile.
      { type: 'track', userId: user, event: 'Order Completed', timestamp: at(2 * 3_600_000), properties: { revenue: 150, shipTo: street } },
      // Checkout without an order: the shipped cart-abandonment rule schedules a delayed re-check.
      { type: 'track', userId: user, event: 'Checkout Started', timestamp: new Date().toISOString(), properties: { email } },
      { type: 'identify', userId: other, traits: { email: `other.${run}@example.com` }, timestamp: at(9000) },
      { type: 'track', userId: other, event: 'Order Completed', timestamp: at(8000), properties: { revenue: 200 } },
    );
    const profile = await eventually(async () => {
      const r = await get(`/v1/profiles/user_id:${user}`);
      const body = r.status === 200 ? ((await r.json()) as { id: string; computed: Record<string, unknown> }) : undefined;
      return body && body.computed.event_count === 3 ? body : undefined;
    });
    const otherId = ((await (await get(`/v1/profiles/user_id:${other}`)).json()) as { id: string }).id;
    await eventually(() =>
      rt.bus.delivered.some((e) => e.detail.profileId === profile.id) && rt.bus.delivered.some((e) => e.detail.profileId === otherId)
        ? true
        : undefined,
    );
    await eventually(() => (rt.scheduler.pending > 0 ? true : undefined));
    // What the cloud's dead letters and stream failures would hold, as the local runtime writes them.
    appendFileSync(
      join(rt.dataDir, 'dlq.jsonl'),
      `${JSON.stringify({
        messageId: 'm-dead',
        body: JSON.stringify({ type: 'identify', userId: user, traits: { email } }),
        receiveCount: 5,
        reason: 'test',
        at: new Date().toISOString(),
      })}\n`,
    );
    appendFileSync(
      join(rt.dataDir, 'stream-failures.jsonl'),
      `${JSON.stringify({ reason: 'test', record: { dynamodb: { Keys: { pk: { S: `P#${profile.id}` }, sk: { S: 'EV#x' } } } } })}\n`,
    );
    const named = (text: string) => [user, email, street, profile.id].some((v) => text.includes(v)) || text.includes('698765432');
    const before = dataFiles();
    for (const f of ['bus.jsonl', 'queue.jsonl', 'dlq.jsonl', 'stream-failures.jsonl'])
      expect([f, named(before.get(f) ?? '')]).toEqual([f, true]);

    const res = await del(`/v1/profiles/user_id:${user}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      erased: { copies: Record<string, number> };
      notReached: { store: string; expiresWithin: string }[];
    };
    expect(body.erased.copies['bus.jsonl']).toBeGreaterThanOrEqual(1);
    expect(body.erased.copies['dlq.jsonl']).toBe(1);
    expect(body.erased.copies['stream-failures.jsonl']).toBe(1);
    expect(body.erased.copies['delayed actions']).toBe(1);
    expect(body.notReached.map((n) => n.store)).toEqual(['bucket/ (import files and reports)']);
    expect(rt.scheduler.pending).toBe(0);

    await new Promise((r) => setTimeout(r, 300));
    const after = dataFiles();
    for (const [f, text] of after) expect([f, text.split('\n').filter(named)]).toEqual([f, []]);
    // The other person's bus events stay.
    expect(after.get('bus.jsonl')).toContain(otherId);
    expect((await get(`/v1/profiles/user_id:${other}`)).status).toBe(200);
  }, 60_000);

  it('the stdout line of a bus event names ids and the action, never the user id, email, data or explanation', () => {
    const line = busLine({
      detailType: 'Action Triggered',
      detail: {
        version: '1',
        dedupeId: 'd1',
        ruleId: 'r1',
        action: 'Send',
        profileId: 'p1',
        userId: 'u-secret',
        email: 'secret@example.com',
        data: { address: 'Secret street 1' },
        explanation: [{ actual: 'secret@example.com' }],
      },
    });
    expect(line).toBe('[bus] Action Triggered rule="r1" action="Send" profile="p1" dedupe="d1"');
  });
});
