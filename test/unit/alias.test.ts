/**
 * `alias` of two user ids merges them (Segment: "merge with the previousId"), up to the
 * configured `identity.alias.limit`; beyond it the refusal is recorded and announced. Pure
 * planner tests and fast-check properties over arrival order (in-memory store with the same
 * conditional semantics as DynamoDB).
 */
import fc from 'fast-check';
import { mergeBusEntries } from '../../app/merges';
import { stitch, type StitchResult } from '../../app/stitch';
import { DEFAULT_CONFIG, parseConfig } from '../../core/config';
import type { ScherpEvent } from '../../core/events';
import type { Profile } from '../../core/profile';
import { aliasedIdentifier, identifierRef, planLinks, type Identifier, type ProfileShape } from '../../core/identity';
import { eventAt } from '../helpers/events';
import { MemoryProfileStore } from '../helpers/memory-store';

const cfg = DEFAULT_CONFIG.identity;
const id = (type: string, value: string): Identifier => ({ type, value });
const owners = (ps: ProfileShape[]) => (k: string) => ps.find((p) => p.identifiers.includes(k));

describe('configuration', () => {
  it('alias.limit defaults to 5 and is validated', () => {
    expect(cfg.alias).toEqual({ limit: 5 });
    expect(parseConfig({ identity: { alias: { limit: 1 } } }).identity.alias.limit).toBe(1);
    expect(() => parseConfig({ identity: { alias: { limit: 0 } } })).toThrow(/identity\.alias\.limit/);
    expect(() => parseConfig({ identity: { alias: { merge: true } } })).toThrow(/identity\.alias\.merge: is not a known field/);
  });
});

describe('aliasedIdentifier', () => {
  it('is the previousId: a user_id, or the anonymous_id when it equals the anonymousId', () => {
    expect(aliasedIdentifier({ type: 'alias', userId: 'new', previousId: ' old ' })).toEqual(id('user_id', 'old'));
    expect(aliasedIdentifier({ type: 'alias', userId: 'new', anonymousId: 'a', previousId: 'a' })).toEqual(id('anonymous_id', 'a'));
    expect(aliasedIdentifier({ type: 'alias', userId: 'new', previousId: 'anonymous' })).toBeUndefined();
    expect(aliasedIdentifier({ type: 'identify', userId: 'new', previousId: 'old' })).toBeUndefined();
  });
});

describe('planLinks with an alias', () => {
  const pOld: ProfileShape = { id: 'p1', identifiers: ['user_id:old', 'anonymous_id:a1'] };
  const pNew: ProfileShape = { id: 'p2', identifiers: ['user_id:new', 'anonymous_id:a2'] };

  it('links the previous user id beyond the user_id limit of 1, merging both profiles', () => {
    const plan = planLinks([id('user_id', 'new'), id('user_id', 'old')], owners([pOld, pNew]), cfg, id('user_id', 'old'));
    expect(plan.accepted).toEqual([id('user_id', 'new'), id('user_id', 'old')]);
    expect(plan.dropped).toEqual([]);
    expect(plan.profiles).toEqual(['p1', 'p2']);
  });

  it('only the aliased identifier gets the raised limit; other events still obey the type limit', () => {
    expect(planLinks([id('user_id', 'new'), id('user_id', 'old')], owners([pOld, pNew]), cfg).dropped).toEqual([
      { id: id('user_id', 'old'), reason: 'limit' },
    ]);
    expect(
      planLinks([id('user_id', 'new'), id('user_id', 'x'), id('user_id', 'old')], owners([pOld, pNew]), cfg, id('user_id', 'old')).dropped,
    ).toEqual([{ id: id('user_id', 'x'), reason: 'limit' }]);
  });

  it('refuses once the profile would hold more than alias.limit user ids', () => {
    const c = parseConfig({ identity: { alias: { limit: 3 } } }).identity;
    const big: ProfileShape = { id: 'p3', identifiers: ['user_id:u1', 'user_id:u2', 'user_id:u3'] };
    const plan = planLinks([id('user_id', 'new'), id('user_id', 'u1')], owners([big]), c, id('user_id', 'u1'));
    expect(plan.dropped).toEqual([{ id: id('user_id', 'u1'), reason: 'limit' }]);
    const fits = planLinks(
      [id('user_id', 'u3'), id('user_id', 'old')],
      owners([big, pOld]),
      parseConfig({ identity: { alias: { limit: 4 } } }).identity,
      id('user_id', 'old'),
    );
    expect(fits.dropped).toEqual([]);
  });

  it('alias.limit 1 makes an alias obey the user_id limit', () => {
    const c = parseConfig({ identity: { alias: { limit: 1 } } }).identity;
    expect(planLinks([id('user_id', 'new'), id('user_id', 'old')], owners([pOld, pNew]), c, id('user_id', 'old')).dropped).toEqual([
      { id: id('user_id', 'old'), reason: 'limit' },
    ]);
  });

  it('other types keep their limits in an alias merge', () => {
    const emails = (p: string, n: number) => Array.from({ length: n }, (_, i) => `email:${p}${i}@x.io`);
    const a: ProfileShape = { id: 'pa', identifiers: ['user_id:old', ...emails('a', 3)] };
    const b: ProfileShape = { id: 'pb', identifiers: ['user_id:new', ...emails('b', 3)] };
    expect(planLinks([id('user_id', 'new'), id('user_id', 'old')], owners([a, b]), cfg, id('user_id', 'old')).dropped).toEqual([
      { id: id('user_id', 'old'), reason: 'limit' },
    ]);
  });
});

/** One person with user ids u0…u(k-1): an identify per id (with its own anonymous id) and an alias per later id. */
function personEvents(ns: string, k: number, aliasAnon: boolean[]): ScherpEvent[] {
  const out: ScherpEvent[] = [];
  let n = 0;
  for (let i = 0; i < k; i++)
    out.push(
      eventAt(++n, {
        type: 'identify',
        userId: `${ns}-u${i}`,
        anonymousId: `${ns}-a${i}`,
        traits: { [`t${i}`]: i },
        messageId: `${ns}-id-${i}`,
      }),
    );
  for (let i = 1; i < k; i++) {
    out.push(
      eventAt(++n, {
        type: 'alias',
        userId: `${ns}-u${i}`,
        previousId: `${ns}-u${i - 1}`,
        ...(aliasAnon[i] ? { anonymousId: `${ns}-a${i}` } : {}),
        messageId: `${ns}-al-${i}`,
      }),
    );
  }
  return out;
}

/** The surviving profile an identifier leads to (following merge pointers). */
function readProfile(store: MemoryProfileStore, key: string) {
  const first = store.identities.get(key);
  if (first === undefined) throw new Error(`no profile has ${key}`);
  let pid: string = first;
  for (;;) {
    const p: Profile = store.profiles.get(pid)!.profile;
    if (!p.mergedInto) return { id: p.id, identifiers: [...p.identifiers].sort(), traits: p.traits };
    pid = p.mergedInto;
  }
}

const ordered = <T>(xs: T[], keys: number[]) =>
  xs
    .map((x, i) => ({ x, k: keys[i] ?? 0 }))
    .sort((a, b) => a.k - b.k)
    .map((e) => e.x);

const orderArb = (max: number) =>
  fc
    .integer({ min: 1, max })
    .chain((k) =>
      fc.tuple(
        fc.constant(k),
        fc.array(fc.boolean(), { minLength: k, maxLength: k }),
        fc.array(fc.integer(), { minLength: 2 * k, maxLength: 2 * k }),
      ),
    );

describe('stitch: alias and identify in any order', () => {
  it('aliasing then identifying, in any order, gives one profile holding every id and trait', async () => {
    await fc.assert(
      fc.asyncProperty(orderArb(cfg.alias.limit), async ([k, anon, keys]) => {
        const store = new MemoryProfileStore();
        const events = personEvents('p', k, anon);
        for (const e of ordered(events, keys)) await stitch(store, e);
        const views = Array.from({ length: k }, (_, i) => readProfile(store, `user_id:p-u${i}`));
        expect(new Set(views.map((v) => v.id)).size).toBe(1);
        const expected = Array.from({ length: k }, (_, i) => [`anonymous_id:p-a${i}`, `user_id:p-u${i}`])
          .flat()
          .sort();
        expect(views[0]!.identifiers).toEqual(expected);
        expect(Object.keys(views[0]!.traits).sort()).toEqual(Array.from({ length: k }, (_, i) => `t${i}`).sort());
        for (const r of store.mergeRecords.values()) expect(r.aliasRefused).toBeUndefined();
      }),
      { numRuns: 150 },
    );
  });

  it('merges made by an alias are announced as Profile Merged with via alias', async () => {
    const store = new MemoryProfileStore();
    const [idOld, idNew, al] = [...personEvents('v', 2, [false, false])];
    await stitch(store, idOld!);
    await stitch(store, idNew!);
    const r = await stitch(store, al!);
    expect(r.merged).toHaveLength(1);
    const [record] = [...store.mergeRecords.values()];
    expect(record).toMatchObject({ via: 'alias', identifiers: ['user_id:v-u1', 'user_id:v-u0'], refused: [] });
    expect(mergeBusEntries(record!)).toEqual([
      {
        detailType: 'Profile Merged',
        detail: expect.objectContaining({ via: 'alias', mergedProfileIds: r.merged, identifierTypes: ['user_id'] }),
      },
    ]);
  });

  it('beyond alias.limit, in any order: no profile holds more user ids, and every refused alias is dropped, recorded and announced', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 3 }), orderArb(6), async (limit, [k, anon, keys]) => {
        const identity = parseConfig({ identity: { alias: { limit } } }).identity;
        const store = new MemoryProfileStore();
        const events = personEvents('b', k, anon);
        const results = new Map<string, StitchResult>();
        for (const e of ordered(events, keys)) results.set(e.messageId, await stitch(store, e, { identity }));
        for (const p of store.profiles.values()) {
          if (p.profile.mergedInto) continue;
          expect(p.profile.identifiers.filter((i) => i.startsWith('user_id:')).length).toBeLessThanOrEqual(limit);
        }
        for (const e of events.filter((x) => x.type === 'alias')) {
          const r = results.get(e.messageId)!;
          const prev = `user_id:${e.previousId}`;
          const refused = r.dropped.some((d) => `${d.id.type}:${d.id.value}` === prev);
          const records = [...store.mergeRecords.values()].filter((m) => m.messageId === e.messageId);
          if (refused) {
            // As today: in the result (logged, metric IdentifiersDropped) with reason limit; and recorded and announced.
            expect(r.dropped).toContainEqual({ id: { type: 'user_id', value: e.previousId }, reason: 'limit' });
            expect(records).toHaveLength(1);
            // Kept as a ref (type and digest): a refused identifier is often another person's.
            expect(records[0]!.aliasRefused).toEqual([identifierRef(prev)]);
            expect(mergeBusEntries(records[0]!).map((b) => [b.detailType, (b.detail as { reason?: string }).reason])).toContainEqual([
              'Profile Merge Refused',
              'alias_limit',
            ]);
          } else {
            // Linked: both ids lead to one profile.
            expect(readProfile(store, prev).id).toBe(readProfile(store, `user_id:${e.userId}`).id);
            for (const m of records) expect(m.aliasRefused).toBeUndefined();
          }
        }
        // Every id still leads to a profile; within the limit, the chain is one profile.
        const ids = new Set(Array.from({ length: k }, (_, i) => readProfile(store, `user_id:b-u${i}`).id));
        if (k <= limit) expect(ids.size).toBe(1);
        else expect(ids.size).toBeGreaterThanOrEqual(Math.ceil(k / limit));
      }),
      { numRuns: 150 },
    );
  });
});
