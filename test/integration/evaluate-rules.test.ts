/**
 * evaluate against DynamoDB Local: idempotent firings under redelivery, cooldowns, maximums,
 * consent, trait actions, history read once per event (merged profiles included).
 */
import type { BusEntry, DelayedJob, HistoryStore } from '../../app/ports';
import { evaluateEvent, type EvaluateDeps, type SkipReason } from '../../app/evaluate';
import { stitch } from '../../app/stitch';
import { DynamoHistoryStore } from '../../adapters/dynamo/history-store';
import { DynamoPersonalizationStore } from '../../adapters/dynamo/personalization-store';
import { DynamoProfileStore } from '../../adapters/dynamo/profile-store';
import type { ScherpEvent } from '../../core/events';
import { parseDefinition, RuleSet } from '../../core/rules/engine';
import { RecordingBus } from '../helpers/bus';
import { LocalScheduler } from '../../local/scheduler';
import { MIN_SCHEDULE_LEAD_MS } from '../../app/evaluate';
import { createTestTable, type TestTable } from '../helpers/dynamo';

let table: TestTable;
beforeAll(async () => {
  table = await createTestTable('rules');
});
afterAll(async () => {
  await table.drop();
});

let seq = 0;
function ev(userId: string, event: string, props: Record<string, unknown> = {}, extra: Partial<ScherpEvent> = {}): ScherpEvent {
  const ts = new Date(Date.now() - 60_000 + seq++ * 10).toISOString();
  return {
    type: 'track',
    event,
    userId,
    messageId: `m-${seq}-${Math.random()}`,
    sourceId: 'default',
    timestamp: ts,
    receivedAt: ts,
    properties: props,
    ...extra,
  };
}

function setup(defs: unknown[]) {
  const store = new DynamoProfileStore(table.doc, { tableName: table.tableName });
  const parts = new DynamoPersonalizationStore(table.doc, table.tableName);
  const realHistory = new DynamoHistoryStore(table.doc, table.tableName);
  const loads: string[][] = [];
  const history: HistoryStore = {
    load: (ids, since) => {
      loads.push([...ids]);
      return realHistory.load(ids, since);
    },
    listProfileIds: (c) => realHistory.listProfileIds(c),
  };
  const bus = new RecordingBus();
  const jobs: DelayedJob[] = [];
  const skipped: SkipReason[] = [];
  const set = new RuleSet(defs.map(parseDefinition));
  const deps: EvaluateDeps = {
    store,
    bus,
    parts,
    history,
    rules: async () => set,
    scheduler: { schedule: async (j) => void jobs.push(j) },
    onSkipped: (_, r) => skipped.push(r),
  };
  /** Stitches and stores the event, then evaluates it as the stream would. */
  const deliver = async (e: ScherpEvent) => {
    const r = await stitch(store, e);
    return evaluateEvent(deps, r.profileId, e);
  };
  return { deps, store, parts, bus, jobs, skipped, loads, deliver };
}

const uid = (n: string) => `${n}-${Math.random().toString(16).slice(2, 8)}`;

test('a redelivered event never fires twice: same dedupe id, one claim, one increment', async () => {
  const s = setup([
    {
      id: 'count-visits',
      name: 'c',
      trigger: { events: ['Visit'] },
      actions: [
        { type: 'emit', action: 'visit', maxFires: 5 },
        { type: 'trait', trait: 'visits', increment: 1 },
      ],
    },
  ]);
  const user = uid('redeliver');
  const e = ev(user, 'Visit');
  const first = await s.deliver(e);
  const profileId = first[0]!.detail.profileId as string;
  const again = await evaluateEvent(s.deps, profileId, e);
  expect(first).toHaveLength(1);
  // Re-published with the same dedupe id (at least once: targets drop it), never counted again.
  expect(again.map((x) => x.detail.dedupeId)).toEqual(first.map((x) => x.detail.dedupeId));
  expect(s.skipped).toEqual(['duplicate']);
  const p = (await s.store.getProfiles([profileId])).get(profileId)!.profile;
  expect(p.traits.visits!.value).toBe(1);
});

test('an event older than its delay (a late batch, an import) is scheduled the minimum lead from now, not in the past Scheduler refuses', async () => {
  const s = setup([
    { id: 'late', name: 'late', trigger: { events: ['Checkout Started'] }, actions: [{ type: 'emit', action: 'late', delay: '1h' }] },
  ]);
  const ran: DelayedJob[] = [];
  // The local scheduler refuses a past due time as EventBridge Scheduler does.
  const scheduler = new LocalScheduler(async (j) => void ran.push(j));
  const deps: EvaluateDeps = { ...s.deps, scheduler, now: () => new Date('2026-11-01T12:00:00.000Z') };
  await expect(
    scheduler.schedule({
      ruleId: 'x',
      actionIndex: 0,
      profileId: 'p',
      event: ev('u', 'x'),
      dueAt: new Date(Date.now() - 1000).toISOString(),
      dedupeId: 'past',
    }),
  ).rejects.toMatchObject({ name: 'ValidationException' });
  const user = uid('late');
  const late = { ...ev(user, 'Checkout Started'), timestamp: '2026-11-01T09:00:00.000Z' };
  const r = await stitch(s.store, late);
  const jobs: DelayedJob[] = [];
  await evaluateEvent({ ...deps, scheduler: { schedule: async (j) => void jobs.push(j) } }, r.profileId, late);
  expect(jobs[0]!.dueAt).toBe(new Date(Date.parse('2026-11-01T12:00:00.000Z') + MIN_SCHEDULE_LEAD_MS).toISOString());
  // Against the faithful stand-in, with the real clock: accepted, pending, not run at once.
  const now = { ...ev(user, 'Checkout Started'), timestamp: new Date(Date.now() - 2 * 3_600_000).toISOString() };
  await stitch(s.store, now);
  await expect(evaluateEvent({ ...s.deps, scheduler }, r.profileId, now)).resolves.toBeDefined();
  expect(scheduler.pending).toBe(1);
  expect(ran).toEqual([]);
  scheduler.stop();
});

test('cooldown and maximum fires per profile', async () => {
  const s = setup([
    {
      id: 'cool',
      name: 'c',
      trigger: { events: ['Ping'] },
      actions: [
        { type: 'emit', action: 'cool', cooldown: '1h' },
        { type: 'emit', action: 'max', maxFires: 2 },
      ],
    },
  ]);
  const user = uid('cool');
  const out: BusEntry[][] = [];
  for (let i = 0; i < 3; i++) out.push(await s.deliver(ev(user, 'Ping')));
  expect(out.map((o) => o.map((x) => x.detail.action))).toEqual([['cool', 'max'], ['max'], []]);
  expect(s.skipped.sort()).toEqual(['cooldown', 'cooldown', 'max-fires']);
});

test('consent: captured from the event before rules run; actions without it are skipped and counted', async () => {
  const s = setup([
    { id: 'mail', name: 'm', trigger: { events: ['Ask'] }, actions: [{ type: 'emit', action: 'mail', target: 'email', consent: 'email' }] },
  ]);
  const user = uid('consent');
  expect(await s.deliver(ev(user, 'Ask'))).toEqual([]);
  expect(s.skipped).toEqual(['consent']);
  const withConsent = await s.deliver(ev(user, 'Ask', {}, { context: { consent: { categoryPreferences: { email: true } } } }));
  expect(withConsent.map((x) => x.detail.action)).toEqual(['mail']);
  const parts = await s.parts.loadParts(withConsent[0]!.detail.profileId as string);
  expect(parts.consent.email!.status).toBe('granted');
});

test('history is read once per event, only when needed, including merged profiles; delays are scheduled', async () => {
  const s = setup([
    {
      id: 'h1',
      name: 'h1',
      trigger: { events: ['Buy'] },
      condition: { history: { event: 'Browse', within: '1d', atLeast: 1 } },
      actions: [{ type: 'emit', action: 'h1' }],
    },
    {
      id: 'h2',
      name: 'h2',
      trigger: { events: ['Buy'] },
      condition: { history: { event: 'Browse', within: '7d', atLeast: 2 } },
      actions: [{ type: 'emit', action: 'h2', delay: '1h' }],
    },
    { id: 'none', name: 'n', trigger: { events: ['Other'] }, actions: [{ type: 'emit', action: 'n' }] },
  ]);
  const anon = uid('anon');
  const user = uid('user');
  // Two profiles (anonymous browsing, known user browsing), merged by the Buy event.
  await s.deliver({ ...ev('', 'Browse'), userId: undefined, anonymousId: anon });
  await s.deliver(ev(user, 'Browse'));
  s.loads.length = 0;
  await s.deliver(ev(user, 'Other'));
  expect(s.loads).toEqual([]);
  const out = await s.deliver({ ...ev(user, 'Buy'), anonymousId: anon });
  expect(s.loads).toHaveLength(1);
  expect(s.loads[0]).toHaveLength(2);
  expect(out.map((x) => x.detail.action)).toEqual(['h1']);
  expect(s.jobs).toHaveLength(1);
  expect(s.jobs[0]).toMatchObject({ ruleId: 'h2', actionIndex: 0 });
  expect(Date.parse(s.jobs[0]!.dueAt) - Date.parse(s.jobs[0]!.event.timestamp)).toBe(3_600_000);
});
