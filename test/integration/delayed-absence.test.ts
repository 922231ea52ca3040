/**
 * Rules that test "did not … within" with a delay, against DynamoDB Local: the delayed action
 * is re-checked at its due time with no new event from the person, over everything since the
 * window's start (at least since the trigger), and fires only if the thing did not happen.
 * A delay shorter than the window fires at the delay; a longer one still counts what came after
 * the window ended but before the re-check.
 */
import { evaluateEvent, runDelayed, type EvaluateDeps } from '../../app/evaluate';
import type { DelayedJob } from '../../app/ports';
import { stitch } from '../../app/stitch';
import { DynamoHistoryStore } from '../../adapters/dynamo/history-store';
import { DynamoPersonalizationStore } from '../../adapters/dynamo/personalization-store';
import { DynamoProfileStore } from '../../adapters/dynamo/profile-store';
import type { ScherpEvent } from '../../core/events';
import { parseDefinition, RuleSet } from '../../core/rules/engine';
import { RecordingBus } from '../helpers/bus';
import { createTestTable, type TestTable } from '../helpers/dynamo';

let table: TestTable;
beforeAll(async () => {
  table = await createTestTable('absence');
});
afterAll(async () => {
  await table.drop();
});

const T = Date.parse('2026-06-01T10:00:00.000Z');
const MIN = 60_000;
const uid = (n: string) => `${n}-${Math.random().toString(16).slice(2, 8)}`;
let seq = 0;
const ev = (userId: string, event: string, atMs: number): ScherpEvent => {
  const ts = new Date(atMs).toISOString();
  return { type: 'track', event, userId, messageId: `a-${seq++}-${Math.random()}`, sourceId: 'default', timestamp: ts, receivedAt: ts };
};

/** "Checkout Started, and no order within `within`": checked again `delay` after the checkout. */
function setup(within: string, delay: string) {
  const store = new DynamoProfileStore(table.doc, { tableName: table.tableName });
  const bus = new RecordingBus();
  const jobs: DelayedJob[] = [];
  const set = new RuleSet([
    parseDefinition({
      id: `absence-${within}-${delay}`,
      name: 'no order',
      enabled: true,
      trigger: { types: ['track'], events: ['Checkout Started'] },
      condition: { history: { event: 'Order Completed', within, atMost: 0 } },
      actions: [{ type: 'emit', action: 'nudge', delay }],
    }),
  ]);
  let clock = T;
  const deps: EvaluateDeps = {
    store,
    bus,
    parts: new DynamoPersonalizationStore(table.doc, table.tableName),
    history: new DynamoHistoryStore(table.doc, table.tableName),
    rules: async () => set,
    scheduler: { schedule: async (j) => void jobs.push(j) },
    now: () => new Date(clock),
  };
  /** Stores an event (as stitch) and evaluates it (as the stream) at its own time. */
  const deliver = async (e: ScherpEvent) => {
    clock = Date.parse(e.timestamp) + 1000;
    const r = await stitch(store, e);
    return evaluateEvent(deps, r.profileId, e);
  };
  /** Runs the scheduled re-check at its due time (as the scheduler would): no event of the person's. */
  const due = async () => {
    const job = jobs.shift()!;
    clock = Date.parse(job.dueAt) + 1000;
    const out = await runDelayed(deps, job);
    return { job, fired: out.filter((e) => e.detail.action === 'nudge') };
  };
  return { deliver, due, jobs, bus };
}

describe.each([
  ['a delay shorter than the window', '1h', '30m', 30 * MIN],
  ['a delay equal to the window', '1h', '1h', 60 * MIN],
  ['a delay longer than the window', '1h', '2h', 120 * MIN],
])('%s (within %s, delay %s)', (_what, within, delay, delayMs) => {
  it('fires at the due time without any new event when no order came', async () => {
    const s = setup(within, delay);
    const u = uid('none');
    expect(await s.deliver(ev(u, 'Checkout Started', T))).toEqual([]);
    expect(s.jobs).toHaveLength(1);
    expect(s.jobs[0]!.dueAt).toBe(new Date(T + delayMs).toISOString());
    const { fired } = await s.due();
    expect(fired).toHaveLength(1);
    expect(fired[0]!.detail).toMatchObject({ ruleId: `absence-${within}-${delay}`, action: 'nudge' });
  });

  it('does not fire when the order came between the checkout and the re-check', async () => {
    const s = setup(within, delay);
    const u = uid('ordered');
    await s.deliver(ev(u, 'Checkout Started', T));
    // The order comes just before the re-check (after the window's end, for the longer delay).
    await s.deliver(ev(u, 'Order Completed', T + delayMs - 5 * MIN));
    const { fired } = await s.due();
    expect(fired).toEqual([]);
  });

  it('is not even scheduled when an order came within the window before the checkout', async () => {
    const s = setup(within, delay);
    const u = uid('before');
    await s.deliver(ev(u, 'Order Completed', T - 20 * MIN));
    await s.deliver(ev(u, 'Checkout Started', T));
    expect(s.jobs).toEqual([]);
  });
});

test('an order before the checkout but older than the window does not hold it back', async () => {
  const s = setup('1h', '30m');
  const u = uid('old');
  await s.deliver(ev(u, 'Order Completed', T - 3 * 60 * MIN));
  await s.deliver(ev(u, 'Checkout Started', T));
  expect((await s.due()).fired).toHaveLength(1);
});
