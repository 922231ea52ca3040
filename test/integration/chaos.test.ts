/**
 * Chaos: a small version of the benchmark data set goes over HTTP to two runtimes on DynamoDB
 * Local, one fault-free and one with at least 10 % of every fault kind (DynamoDB throttling,
 * 5xx, timeouts after the call took effect, crashes after a write, bus publish failures,
 * duplicate deliveries from the queue and the stream). Both must end with the same profiles
 * (identifier partition, traits, computed traits), the same set of bus actions by dedupe id
 * (repeats allowed, nothing missing or extra), nothing stuck or dead-lettered, and every
 * acknowledged event exactly once on a timeline.
 *
 * The events go in waves (the k-th event of every user), each wave settled before the next:
 * users stay in their own order in both runs, so rules that read history or profile state see
 * the same thing in both; within a wave, users race, and retries reorder them freely.
 */
import { isComputedValueAttribute } from '../../adapters/dynamo/computed-store';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { decodeEvent } from '../../adapters/dynamo/event-codec';
import { profileFromItem } from '../../adapters/dynamo/profile-store';
import { generateDataSet, type GeneratedEvent } from '../../bench/dataset';
import type { FaultPlan } from '../../local/faults';
import type { Runtime } from '../../local/runtime';
import { startTestRuntime } from '../helpers/runtime';
import { createTestTable, eventually, scanTable, type TestTable } from '../helpers/dynamo';
import { PROFILE_MERGED, PROFILE_MERGE_REFUSED } from '../../app/merges';

jest.setTimeout(120_000);

// Merges (transactions) and bus publishes are rare in this data set: higher rates make sure each kind is hit.
const FAULTS: FaultPlan = {
  throttle: 0.1,
  serverError: 0.1,
  transactionConflict: 0.5,
  timeout: 0.1,
  crash: 0.1,
  busFailure: 0.25,
  duplicate: 0.1,
  seed: 8,
};
const KEYS = { write: 'chaos-write', read: 'chaos-read', admin: 'chaos-admin' };
const data = generateDataSet({ users: 12, seed: 8, userPrefix: 'chaos_' });

/** The k-th wave holds the k-th event of every user. */
function waves(): GeneratedEvent[][] {
  const owner = new Map<string, string>();
  for (const u of data.users) for (const a of u.anonymousIds) owner.set(a, u.userId);
  const perUser = new Map<string, GeneratedEvent[]>();
  for (const e of data.events) {
    const user = (e.body.userId as string | undefined) ?? owner.get(e.body.anonymousId as string)!;
    perUser.set(user, [...(perUser.get(user) ?? []), e]);
  }
  const out: GeneratedEvent[][] = [];
  for (const list of perUser.values()) list.forEach((e, k) => (out[k] ??= []).push(e));
  return out;
}

interface Outcome {
  /** Sorted identifiers of each live profile → its traits and computed traits. */
  readonly profiles: Map<string, { traits: unknown; computed: unknown }>;
  /** messageId → how many timeline items carry it. */
  readonly timeline: Map<string, number>;
  /** Dedupe ids of the actions and audience changes put on the bus. */
  readonly actions: string[];
  /** Trigger message ids of the merge announcements (their dedupe ids name run-specific profile ids). */
  readonly merges: string[];
  readonly acknowledged: string[];
}

const scan = (t: TestTable) => scanTable(t.doc, t.tableName);

async function run(t: TestTable, faults?: FaultPlan): Promise<{ rt: Runtime; outcome: Outcome }> {
  const rt = await startTestRuntime('chaos', {
    dynamoEndpoint: t.endpoint,
    tableName: t.tableName,
    keys: KEYS,
    queue: { maxReceives: 50, retryDelayMs: 5, pollMs: 5 },
    streamPollMs: 10,
    streamMaxRetries: 50,
    faults,
  });
  const auth = { authorization: `Basic ${Buffer.from(`${KEYS.write}:`).toString('base64')}`, 'content-type': 'application/json' };
  const acknowledged: string[] = [];
  for (const wave of waves()) {
    const res = await fetch(`${rt.url}/v1/batch`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ batch: wave.map((e) => e.body) }),
    });
    expect(res.status).toBe(200);
    acknowledged.push(...wave.map((e) => e.body.messageId as string));
    // Settled: the queue is empty (each message was stored, or dead-lettered: checked at the
    // end), and the stream has caught up since.
    await eventually(() => (rt.queue.depth === 0 ? true : undefined), 30_000, 5);
    const storedAt = Date.now();
    await eventually(() => (rt.stream.idleSince > storedAt && rt.scheduler.pending === 0 ? true : undefined), 30_000, 5);
  }

  const items = await scan(t);
  const computed = new Map(items.filter((i) => i.sk === 'PROFILE#C').map((i) => [i.pk, strip(i)]));
  const profiles = new Map<string, { traits: unknown; computed: unknown }>();
  const twice: unknown[] = [];
  for (const i of items) {
    if (i.sk !== 'PROFILE' || i.mergedInto) continue;
    const ids = [...(i.ids as string[])].sort().join(' ');
    if (profiles.has(ids)) twice.push({ run: faults ? 'faults' : 'clean', ids, item: i });
    profiles.set(ids, { traits: { ...profileFromItem(i).profile.traits }, computed: computed.get(i.pk) });
  }
  // No two live profiles share an identifier set (nor an identifier: see the partition check).
  expect(twice).toEqual([]);
  const timeline = new Map<string, number>();
  for (const i of items) {
    if (!String(i.sk).startsWith('EV#')) continue;
    const mid = decodeEvent(i as { d: Uint8Array }).messageId;
    timeline.set(mid, (timeline.get(mid) ?? 0) + 1);
  }
  const merges = (e: { 'detail-type': string }) => e['detail-type'] === PROFILE_MERGED || e['detail-type'] === PROFILE_MERGE_REFUSED;
  const actions = rt.bus.delivered.filter((e) => !merges(e)).map((e) => e.detail.dedupeId as string);
  const mergeIds = rt.bus.delivered.filter(merges).map((e) => `${e['detail-type']}:${e.detail.messageId as string}`);
  return { rt, outcome: { profiles, timeline, actions, merges: mergeIds, acknowledged } };
}

/**
 * A computed-traits item's values, without its bookkeeping (keys, version, timestamps, and the
 * `_`-prefixed redelivery guard and auxiliary state, whose order follows processing order).
 */
function strip(i: Record<string, unknown>): Record<string, unknown> {
  const { updatedAt: _u, ...rest } = i;
  return Object.fromEntries(Object.entries(rest).filter(([k]) => isComputedValueAttribute(k)));
}

const set = (xs: readonly string[]) => [...new Set(xs)].sort();

let clean: TestTable;
let chaos: TestTable;
const runtimes: Runtime[] = [];

beforeAll(async () => {
  [clean, chaos] = await Promise.all([createTestTable('chaos-clean'), createTestTable('chaos-faults')]);
});
afterAll(async () => {
  for (const rt of runtimes) await rt.stop();
  await Promise.all([clean?.drop(), chaos?.drop()]);
});

it('with 10 % of every fault kind, the outcome equals a fault-free run of the same events', async () => {
  expect(data.events.length).toBeGreaterThan(200);
  const [a, b] = await Promise.all([run(clean), run(chaos, FAULTS)]);
  runtimes.push(a.rt, b.rt);
  const expected = a.outcome;
  const got = b.outcome;

  // Every fault kind was injected (each at 10 % or more of its occasions).
  const counters = b.rt.faults!.counters;
  for (const [kind, n] of Object.entries(counters)) expect([kind, n > 0]).toEqual([kind, true]);

  // Nothing stuck: no queued message, no dead letter, no stream record given up.
  expect(b.rt.queue.depth).toBe(0);
  expect(await b.rt.deadLetters.list()).toEqual([]);
  expect(existsSync(join(b.rt.dataDir, 'stream-failures.jsonl'))).toBe(false);
  expect(existsSync(join(a.rt.dataDir, 'stream-failures.jsonl'))).toBe(false);

  // Every acknowledged event is on exactly one timeline, once.
  for (const { timeline, acknowledged } of [expected, got]) {
    expect(set([...timeline.keys()])).toEqual(set(acknowledged));
    expect([...timeline.entries()].filter(([, n]) => n !== 1)).toEqual([]);
  }

  // The same profiles: identifier partition, traits, computed traits.
  expect(got.profiles.size).toBe(data.users.length);
  expect(new Map([...got.profiles].sort())).toEqual(new Map([...expected.profiles].sort()));

  // The same actions by dedupe id (the faulty run may repeat some: at least once), the same merges.
  expect(expected.actions.length).toBeGreaterThan(0);
  expect(set(got.actions)).toEqual(set(expected.actions));
  expect(set(got.merges)).toEqual(set(expected.merges));
});
