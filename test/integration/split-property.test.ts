/**
 * The undo property against DynamoDB Local: for random event histories of two people joined by
 * one linking event, undoing that merge gives each side the identifiers, traits and computed
 * traits that processing its own events alone gives (the linking event belongs to the side of its
 * highest-priority identifier, `core/split.ts`).
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { DynamoComputedStore } from '../../adapters/dynamo/computed-store';
import { DynamoProfileStore } from '../../adapters/dynamo/profile-store';
import { explainIdentity } from '../../app/identity-graph';
import { readProfile } from '../../app/profiles';
import { splitProfile } from '../../app/split';
import { stitch } from '../../app/stitch';
import { readTimeline } from '../../app/timeline';
import { applyEvent, EMPTY_COMPUTED, type ComputedDefs } from '../../core/computed';
import { parseConfig } from '../../core/config';
import type { ScherpEvent } from '../../core/events';
import { NotFoundError } from '../../core/errors';
import { createTestTable, type TestTable } from '../helpers/dynamo';

let t: TestTable;
let store: DynamoProfileStore;
let computedStore: DynamoComputedStore;

beforeAll(async () => {
  t = await createTestTable('splitprop');
  store = new DynamoProfileStore(t.doc, { tableName: t.tableName });
  computedStore = new DynamoComputedStore(t.doc, t.tableName);
});
afterAll(() => t.drop());

const config = parseConfig({
  computed: {
    orders: { op: 'count', type: 'track', event: 'Order Completed' },
    revenue: { op: 'sum', type: 'track', event: 'Order Completed', property: 'properties.revenue' },
    last_plan: { op: 'last', type: 'identify', property: 'traits.plan' },
  },
});
const defs: ComputedDefs = Object.fromEntries(['orders', 'revenue', 'last_plan'].map((k) => [k, config.computed[k]!]));

/** One event of a side: which of its identifiers it carries (at least one), and what it says. */
interface Spec {
  readonly side: 'A' | 'B';
  readonly ids: readonly number[];
  readonly kind: 'identify' | 'order';
  readonly plan: string;
  readonly revenue: number;
}

// Side A: user_id a0, anonymous ids a1, a2. Side B: anonymous ids b0, b1 and an email b2.
const spec = (side: 'A' | 'B') =>
  fc.record({
    side: fc.constant(side),
    ids: fc.uniqueArray(fc.integer({ min: 0, max: 2 }), { minLength: 1, maxLength: 3 }),
    kind: fc.constantFrom('identify' as const, 'order' as const),
    plan: fc.constantFrom('free', 'pro', 'team'),
    revenue: fc.integer({ min: 1, max: 50 }),
  });

const history = fc
  .record({
    a: fc.array(spec('A'), { minLength: 1, maxLength: 5 }),
    b: fc.array(spec('B'), { minLength: 1, maxLength: 5 }),
    order: fc.array(fc.boolean(), { minLength: 10, maxLength: 10 }),
    linkAfter: fc.nat({ max: 10 }),
  })
  .map(({ a, b, order, linkAfter }) => {
    // Each side's first event carries its linking identifier, so the link merges two profiles.
    const A = [{ ...a[0]!, ids: [...new Set([0, ...a[0]!.ids])] }, ...a.slice(1)];
    const B = [{ ...b[0]!, ids: [...new Set([0, ...b[0]!.ids])] }, ...b.slice(1)];
    const seq: Spec[] = [];
    let i = 0;
    let j = 0;
    for (const pickA of [...order, ...Array(20).fill(true)]) {
      if (i < A.length && (pickA || j >= B.length)) seq.push(A[i++]!);
      else if (j < B.length) seq.push(B[j++]!);
    }
    const firstBoth = Math.max(seq.indexOf(A[0]!), seq.indexOf(B[0]!));
    return { seq, link: Math.max(firstBoth + 1, Math.min(linkAfter, seq.length)) };
  });

function idFields(side: 'A' | 'B', i: number, ns: string): Partial<ScherpEvent> & { traits?: Record<string, unknown> } {
  if (side === 'A') return i === 0 ? { userId: `a0-${ns}` } : { anonymousId: `a${i}-${ns}` };
  return i === 2 ? { traits: { email: `b2-${ns}@example.com` } } : { anonymousId: `b${i}-${ns}` };
}

function toEvent(s: Spec, n: number, ns: string): ScherpEvent | undefined {
  let fields: Record<string, unknown> = {};
  const traits: Record<string, unknown> = {};
  const anon = s.ids.filter((i) => idFields(s.side, i, ns).anonymousId !== undefined);
  // An event has one anonymousId: of several drawn, the first.
  for (const i of s.ids) {
    const f = idFields(s.side, i, ns);
    if (f.anonymousId !== undefined && anon[0] !== i) continue;
    fields = { ...fields, ...f, traits: undefined };
    Object.assign(traits, f.traits ?? {});
  }
  const base = {
    messageId: `m${n}-${ns}`,
    sourceId: 'web',
    timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(),
    receivedAt: '2026-01-01T00:00:00.000Z',
    ...fields,
  };
  if (s.kind === 'identify') return { ...base, type: 'identify', traits: { ...traits, plan: `${s.plan}-${s.side}` } } as ScherpEvent;
  return {
    ...base,
    type: 'track',
    event: 'Order Completed',
    properties: { revenue: s.revenue },
    ...(Object.keys(traits).length > 0 ? { context: { traits } } : {}),
  } as ScherpEvent;
}

const POOL = (ns: string) => [
  `user_id:a0-${ns}`,
  `anonymous_id:a1-${ns}`,
  `anonymous_id:a2-${ns}`,
  `anonymous_id:b0-${ns}`,
  `anonymous_id:b1-${ns}`,
  `email:b2-${ns}@example.com`,
];

/** Per identifier of the pool: the identifiers and trait values of its profile, namespace taken out. */
async function observe(ns: string) {
  const out: Record<string, unknown> = {};
  for (const k of POOL(ns)) {
    try {
      const p = await readProfile(store, k);
      const strip = (v: unknown) => JSON.parse(JSON.stringify(v).split(ns).join('NS'));
      out[strip(k) as string] = {
        ids: strip([...p.identifiers].sort()),
        traits: strip(Object.fromEntries(Object.entries(p.traits).map(([name, v]) => [name, v.value]))),
      };
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  }
  return out;
}

/** Computed values of the profile an identifier leads to, from its timeline (what evaluate would have kept). */
async function computedFromTimeline(key: string) {
  const p = await readProfile(store, key);
  const events = (await readTimeline(store, p.id, { limit: 100 })).events.map((e) => e.event).reverse();
  return events.reduce((s, e) => applyEvent(defs, s, e), EMPTY_COMPUTED).values;
}

describe('undoMerge restores each side', () => {
  it('identifiers, traits and computed traits equal those of each side processed alone', async () => {
    const out = await fc.check(
      fc.asyncProperty(history, async ({ seq, link }) => {
        const ns1 = `s${randomBytes(4).toString('hex')}`;
        const ns2 = `e${randomBytes(4).toString('hex')}`;
        const events = (ns: string) => seq.map((s, n) => toEvent(s, n, ns)!);
        const linkEvent = (ns: string, strip: boolean): ScherpEvent => ({
          type: 'track',
          event: 'Linked',
          messageId: `link-${ns}`,
          sourceId: 'web',
          timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, link, 500)).toISOString(),
          receivedAt: '2026-01-01T00:00:00.000Z',
          userId: `a0-${ns}`,
          ...(strip ? {} : { anonymousId: `b0-${ns}` }),
        });
        // Actual: everything, then undo the link's merge. Expected: each side alone (the link
        // without the other side's identifier, as it belongs to side A by its user id).
        const run = async (ns: string, strip: boolean) => {
          const evs = events(ns);
          for (const e of [...evs.slice(0, link), linkEvent(ns, strip), ...evs.slice(link)])
            await stitch(store, e, { identity: config.identity });
        };
        await Promise.all([run(ns1, false), run(ns2, true)]);
        const g = await explainIdentity(store, `user_id:a0-${ns1}`, config.identity);
        const m = g.merges.find((x) => x.linkedBy.messageId === `link-${ns1}`);
        expect(m).toBeDefined();
        const r = await splitProfile(
          { store, identity: config.identity, computed: { store: computedStore, defs }, settlePauseMs: 0 },
          `user_id:a0-${ns1}`,
          { undoMerge: m!.id },
        );
        expect(await observe(ns1)).toEqual(await observe(ns2));
        const values = await computedStore.load([r.kept.profileId, ...r.separated.map((s) => s.profileId)]);
        for (const s of [r.kept, ...r.separated]) {
          const key = s.identifiers[0]!.split(ns1).join(ns2);
          expect({ ...values.get(s.profileId)?.state.values }).toEqual({ ...(await computedFromTimeline(key)) });
        }
      }),
      { numRuns: 15, interruptAfterTimeLimit: 60_000 },
    );
    if (out.failed) throw new Error(fc.defaultReportMessage(out));
    expect(out.numRuns).toBeGreaterThanOrEqual(5);
  }, 120_000);
});
