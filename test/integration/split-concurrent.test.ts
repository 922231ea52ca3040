/**
 * A split while events of both sides keep arriving (concurrent workers against DynamoDB Local):
 * every event ends on its side, and the storage invariants hold (checked when the table is dropped,
 * computed counts included). Without luck: a `stitch` that read the profile before the split's
 * transaction stores its event within its deadline (the stitch timeout), and the split's final
 * settle pass, filed in the due index, runs after that (the minute sweep, here with its clock
 * moved past the due time once every worker's `stitch` has returned). The race itself is staged
 * deterministically below: a `stitch` held between its reads and its put until the split has
 * settled.
 */
import { randomBytes } from 'node:crypto';
import { DynamoComputedStore } from '../../adapters/dynamo/computed-store';
import { DynamoProfileStore } from '../../adapters/dynamo/profile-store';
import { explainIdentity } from '../../app/identity-graph';
import { readProfile } from '../../app/profiles';
import { DynamoDueStore } from '../../adapters/dynamo/due-store';
import { DynamoHistoryStore } from '../../adapters/dynamo/history-store';
import { DynamoPersonalizationStore } from '../../adapters/dynamo/personalization-store';
import { DynamoRuleStore } from '../../adapters/dynamo/rule-store';
import { sweepDue } from '../../app/expiry';
import type { ProfileStore } from '../../app/ports';
import { finalSettle, splitProfile } from '../../app/split';
import { ConflictError, stitch } from '../../app/stitch';
import { DEFAULT_STITCH_TIMEOUT_SECONDS, STALE_STITCH_MARGIN_MS } from '../../core/stitch-bound';
import { RecordingBus } from '../helpers/bus';
import { parseConfig } from '../../core/config';
import type { ScherpEvent } from '../../core/events';
import { expectStorageInvariants } from '../helpers/check';
import { createTestTable, scanTable, type TestTable } from '../helpers/dynamo';

let t: TestTable;
let store: DynamoProfileStore;
let due: DynamoDueStore;
const config = parseConfig({});

beforeAll(async () => {
  t = await createTestTable('splitconc');
  store = new DynamoProfileStore(t.doc, { tableName: t.tableName });
  due = new DynamoDueStore(t.doc, t.tableName);
});

/**
 * The jobs worker's minute sweep, as the cloud and the local runtime wire it, at `nowMs`. (Its
 * watermark then stands at `nowMs`: a test that moves the clock ahead has a table of its own.)
 */
const sweepAtOf = (nowMs: number, table: TestTable) => {
  const s = new DynamoProfileStore(table.doc, { tableName: table.tableName });
  const computed = { store: new DynamoComputedStore(table.doc, table.tableName), defs: config.computed };
  return sweepDue({
    due: new DynamoDueStore(table.doc, table.tableName),
    rules: new DynamoRuleStore(table.doc, table.tableName),
    store: s,
    parts: new DynamoPersonalizationStore(table.doc, table.tableName),
    history: new DynamoHistoryStore(table.doc, table.tableName),
    bus: new RecordingBus(),
    now: () => new Date(nowMs),
    settleSplit: (keptId, splitId) => finalSettle({ store: s, identity: config.identity, computed }, keptId, splitId),
  });
};

/** When no `stitch` that read before a split made now can still store an event, plus a minute of sweep. */
const afterTheBound = () => Date.now() + DEFAULT_STITCH_TIMEOUT_SECONDS * 1000 + STALE_STITCH_MARGIN_MS + 60_000;
afterAll(() => t.drop());

let seq = 0;
const ev = (over: Partial<ScherpEvent>): ScherpEvent => {
  const n = ++seq;
  return {
    type: 'track',
    event: 'Page Viewed',
    messageId: `c-${n}-${randomBytes(3).toString('hex')}`,
    sourceId: 'web',
    timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, n)).toISOString(),
    receivedAt: '2026-01-01T00:00:00.000Z',
    ...over,
  };
};

it('undoMerge while both people keep sending events: every event ends on its own side', async () => {
  const n = randomBytes(4).toString('hex');
  const ada = { userId: `ada-${n}` };
  const bob = { anonymousId: `bob-${n}`, context: { traits: { email: `bob-${n}@example.com` } } };
  await stitch(store, ev({ type: 'identify', ...ada, traits: { name: 'Ada' } }));
  await stitch(store, ev({ type: 'identify', ...bob, traits: { email: `bob-${n}@example.com`, name: 'Bob' } }));
  await stitch(store, ev({ userId: `ada-${n}`, anonymousId: `bob-${n}` }));
  const g = await explainIdentity(store, `user_id:ada-${n}`);
  expect(g.merges).toHaveLength(1);

  const sent = { ada: [] as string[], bob: [] as string[] };
  // Workers send until the split has answered (at least 5 events each), so events arrive all through it.
  let splitting = true;
  let started = 0;
  let startedAll: () => void = () => undefined;
  const allStarted = new Promise<void>((r) => (startedAll = r));
  const worker = async (who: 'ada' | 'bob') => {
    for (let i = 0; splitting || i < 5; i++) {
      const e = ev({ ...(who === 'ada' ? ada : bob), event: i % 3 === 0 ? 'Order Completed' : 'Page Viewed', properties: { revenue: 1 } });
      sent[who].push(e.messageId);
      await stitch(store, e);
      if (i === 0 && ++started === 4) startedAll();
    }
  };
  const computed = { store: new DynamoComputedStore(t.doc, t.tableName), defs: config.computed };
  const [, , , , result] = await Promise.all([
    worker('ada'),
    worker('bob'),
    worker('ada'),
    worker('bob'),
    (async () => {
      await allStarted;
      try {
        return await splitProfile({ store, identity: config.identity, computed, due }, `user_id:ada-${n}`, {
          undoMerge: g.merges[0]!.id,
        });
      } finally {
        splitting = false;
      }
    })(),
  ]);
  // Every worker's stitch has returned, so every event is stored: the bound has passed for this
  // split. The minute sweep runs its final settle pass once due (not before).
  expect((await sweepAtOf(Date.now(), t)).checked).toBe(0);
  expect(await sweepAtOf(afterTheBound(), t)).toMatchObject({ checked: 1 });
  const A = await readProfile(store, `user_id:ada-${n}`);
  const B = await readProfile(store, `anonymous_id:bob-${n}`);
  expect(A.id).not.toBe(B.id);
  expect(A.identifiers).toEqual([`user_id:ada-${n}`]);
  expect(B.identifiers).toEqual([`anonymous_id:bob-${n}`, `email:bob-${n}@example.com`]);
  const groupOf = (p: typeof A) => new Set([p.id, ...p.mergedFrom].map((id) => `P#${id}`));
  const items = (await scanTable(t.doc, t.tableName)).filter((i) => String(i.sk).startsWith('EV#'));
  const where = new Map<string, string[]>();
  for (const i of items) where.set(i.mid as string, [...(where.get(i.mid as string) ?? []), i.pk as string]);
  for (const m of sent.ada) expect(where.get(m)?.every((pk) => groupOf(A).has(pk))).toBe(true);
  for (const m of sent.bob) expect(where.get(m)?.every((pk) => groupOf(B).has(pk))).toBe(true);
  for (const m of [...sent.ada, ...sent.bob]) expect(where.get(m)).toHaveLength(1);
  // Computed traits: evaluate does not run here, so a repeat (which answers the same) recomputes
  // them from the settled timelines for the invariant check.
  expect(
    await splitProfile({ store, identity: config.identity, computed }, `anonymous_id:bob-${n}`, { undoMerge: g.merges[0]!.id }),
  ).toEqual(result);
  await expectStorageInvariants(t.endpoint, t.tableName, { computed: config.computed });
}, 60_000);

it('a stitch that read the profile before the split and stores its event after the split settled: the final pass moves it', async () => {
  const own = await createTestTable('splitlate');
  try {
    await lateStitchMoved(own);
  } finally {
    await own.drop();
  }
}, 60_000);

async function lateStitchMoved(table: TestTable): Promise<void> {
  const store = new DynamoProfileStore(table.doc, { tableName: table.tableName });
  const due = new DynamoDueStore(table.doc, table.tableName);
  const t = table;
  const sweepAt = (nowMs: number) => sweepAtOf(nowMs, table);
  const n = randomBytes(4).toString('hex');
  await stitch(store, ev({ type: 'identify', userId: `ada-${n}`, traits: { name: 'Ada' } }));
  await stitch(store, ev({ type: 'identify', anonymousId: `bob-${n}`, traits: { name: 'Bob' } }));
  await stitch(store, ev({ userId: `ada-${n}`, anonymousId: `bob-${n}` }));
  const g = await explainIdentity(store, `user_id:ada-${n}`);

  // Bob's event: its stitch reads the merged profile, then is held before its put.
  let held: () => void = () => undefined;
  const release = new Promise<void>((r) => (held = r));
  let reachedPut: () => void = () => undefined;
  const atPut = new Promise<void>((r) => (reachedPut = r));
  const slow: ProfileStore = Object.create(store, {
    putEvent: {
      value: async (profileId: string, e: ScherpEvent) => {
        reachedPut();
        await release;
        return store.putEvent(profileId, e);
      },
    },
  });
  const late = ev({ anonymousId: `bob-${n}`, event: 'Order Completed' });
  const lateStitch = stitch(slow, late);
  await atPut;

  const computed = { store: new DynamoComputedStore(t.doc, t.tableName), defs: config.computed };
  const before = Date.now();
  const result = await splitProfile({ store, identity: config.identity, computed, due }, `user_id:ada-${n}`, {
    undoMerge: g.merges[0]!.id,
  });
  // The final pass is filed at the commit plus the stitch timeout and the margin, or later.
  const filed = (await scanTable(t.doc, t.tableName)).filter((i) => String(i.aud).endsWith(result.splitId));
  expect(filed).toHaveLength(1);
  expect(Date.parse(String(filed[0]!.at))).toBeGreaterThanOrEqual(before + DEFAULT_STITCH_TIMEOUT_SECONDS * 1000 + STALE_STITCH_MARGIN_MS);

  // The split has settled and answered; now the held stitch stores Bob's event on Ada's side.
  held();
  const stored = await lateStitch;
  const ada = await readProfile(store, `user_id:ada-${n}`);
  const bob = await readProfile(store, `anonymous_id:bob-${n}`);
  expect(ada.id).not.toBe(bob.id);
  expect(stored.profileId).toBe(ada.id);
  const partitionOf = async () =>
    (await scanTable(t.doc, t.tableName)).filter((i) => i.mid === late.messageId).map((i) => String(i.pk).slice(2));
  expect(await partitionOf()).toEqual([ada.id]);

  // Not yet due: the sweep leaves it. Once due, the final pass moves it to Bob's side.
  await sweepAt(Date.now());
  expect(await partitionOf()).toEqual([ada.id]);
  await sweepAt(afterTheBound());
  expect(await partitionOf()).toEqual([bob.id]);
  // Run once: the due item is gone.
  expect((await scanTable(t.doc, t.tableName)).filter((i) => String(i.aud).endsWith(result.splitId))).toHaveLength(0);
  await expectStorageInvariants(t.endpoint, t.tableName, { computed: config.computed });
}

it('a stitch past its deadline stores nothing and leaves the event to the retry, which reads again', async () => {
  const n = randomBytes(4).toString('hex');
  const e = ev({ anonymousId: `late-${n}` });
  await expect(stitch(store, e, { deadline: Date.now() - 1 })).rejects.toBeInstanceOf(ConflictError);
  expect((await scanTable(t.doc, t.tableName)).filter((i) => i.mid === e.messageId && String(i.sk).startsWith('EV#'))).toHaveLength(0);
  const retried = await stitch(store, e, { deadline: Date.now() + 30_000 });
  expect((await scanTable(t.doc, t.tableName)).filter((i) => i.mid === e.messageId && String(i.sk).startsWith('EV#'))).toEqual([
    expect.objectContaining({ pk: `P#${retried.profileId}` }),
  ]);
});
