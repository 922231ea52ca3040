/**
 * Identity resolution against DynamoDB Local: order independence, bad input, merge protection,
 * the merge cap, merge records, normalised reads and the merged timeline.
 */
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { QueryCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoProfileStore } from '../../adapters/dynamo/profile-store';
import { readProfile } from '../../app/profiles';
import { stitch } from '../../app/stitch';
import { readTimeline } from '../../app/timeline';
import { parseConfig } from '../../core/config';
import type { ScherpEvent } from '../../core/events';
import { NotFoundError, ValidationError } from '../../core/errors';
import { identifierRef } from '../../core/identity';
import { createTestTable, type TestTable } from '../helpers/dynamo';
import { eventFactory } from '../helpers/events';
import { eventSetWithPermutation, NO_LIMITS, observe, permute, toEvent } from '../helpers/identity-gen';

let t: TestTable;
let store: DynamoProfileStore;
const event = eventFactory();

beforeAll(async () => {
  t = await createTestTable('identity');
  store = new DynamoProfileStore(t.doc, { tableName: t.tableName });
});
afterAll(() => t.drop());

const scan = async () => (await t.doc.send(new ScanCommand({ TableName: t.tableName, ConsistentRead: true }))).Items ?? [];
const mergeRecords = async (profileId: string) =>
  (
    await t.doc.send(
      new QueryCommand({
        TableName: t.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :m)',
        ExpressionAttributeValues: { ':pk': `P#${profileId}`, ':m': 'MERGE#' },
      }),
    )
  ).Items ?? [];

describe('identity resolution (DynamoDB Local)', () => {
  it('any arrival order gives the same partition of identifiers and the same traits', async () => {
    const out = await fc.check(
      fc.asyncProperty(eventSetWithPermutation, async ([specs, keys]) => {
        // A fresh namespace per run and order, in one table.
        const ns1 = `o${randomBytes(4).toString('hex')}`;
        const ns2 = `p${randomBytes(4).toString('hex')}`;
        // The two orders run side by side: their namespaces share nothing.
        const run = async (events: ScherpEvent[]) => {
          for (const e of events) await stitch(store, e, { identity: NO_LIMITS });
        };
        await Promise.all([
          run(specs.map((s, i) => toEvent(s, i, ns1))),
          run(
            permute(
              specs.map((s, i) => toEvent(s, i, ns2)),
              keys,
            ),
          ),
        ]);
        const a = await observe(
          store,
          specs.map((s, i) => toEvent(s, i, ns1)),
          ns1,
        );
        const b = await observe(
          store,
          specs.map((s, i) => toEvent(s, i, ns2)),
          ns2,
        );
        expect(b).toEqual(a);
      }),
      // Bounded: 20 runs take ~15 s on an idle machine; on a loaded one, fewer (at least 5)
      // rather than a timeout.
      { numRuns: 20, interruptAfterTimeLimit: 45_000 },
    );
    if (out.failed) throw new Error(fc.defaultReportMessage(out));
    expect(out.numRuns).toBeGreaterThanOrEqual(5);
  }, 90_000);

  it('blocked, too long, invalid and unknown-type identifiers never link; the event is still stored', async () => {
    const r1 = await stitch(
      store,
      event({
        anonymousId: 'bad-a1',
        traits: {},
        context: { device: { id: 'unknown' }, externalIds: [{ id: 'x', type: 'secret', collection: 'users', encoding: 'none' }] },
      }),
    );
    const r2 = await stitch(
      store,
      event({
        type: 'identify',
        anonymousId: 'bad-a2',
        traits: { email: 'null', phone: '12' },
        context: { device: { id: 'unknown' }, externalIds: [{ id: 'x', type: 'secret', collection: 'users', encoding: 'none' }] },
      }),
    );
    const r3 = await stitch(store, event({ anonymousId: 'bad-a3', context: { device: { id: 'd'.repeat(101) } } }));
    const r4 = await stitch(store, event({ anonymousId: 'bad-a4', context: { device: { id: 'd'.repeat(101) } } }));
    expect(new Set([r1.profileId, r2.profileId, r3.profileId, r4.profileId]).size).toBe(4);
    expect(r2.rejected).toEqual(
      expect.arrayContaining([
        { type: 'email', reason: 'blocked' },
        { type: 'phone', reason: 'invalid' },
        { type: 'device_id', reason: 'blocked' },
        { type: 'external', reason: 'unknown_type' },
      ]),
    );
    expect(r3.rejected).toEqual([{ type: 'device_id', reason: 'too_long' }]);
    for (const r of [r1, r2, r3, r4]) expect((await readTimeline(store, r.profileId)).events).toHaveLength(1);
    expect((await readProfile(store, 'anonymous_id:bad-a2')).identifiers).toEqual(['anonymous_id:bad-a2']);
    const items = await scan();
    expect(items.filter((i) => (i.pk as string).startsWith('ID#device_id#') || (i.pk as string).startsWith('ID#email#null'))).toEqual([]);
  });

  it('two user ids stay two people: the lowest-priority identifier is dropped from the event', async () => {
    const u1 = await stitch(
      store,
      event({ type: 'identify', userId: 'mp-u1', anonymousId: 'mp-a1', traits: { email: 'mp1@example.com' } }),
    );
    const u2 = await stitch(store, event({ type: 'identify', userId: 'mp-u2', anonymousId: 'mp-a2' }));
    // A shared computer: u2 logs in on u1's browser and types u1's email somewhere.
    const r = await stitch(
      store,
      event({ type: 'identify', userId: 'mp-u2', anonymousId: 'mp-a1', traits: { email: 'mp1@example.com', plan: 'pro' } }),
    );
    expect(r.profileId).toBe(u2.profileId);
    expect(r.merged).toEqual([]);
    expect(r.dropped.map((d) => `${d.id.type}:${d.reason}`)).toEqual(['email:limit', 'anonymous_id:limit']);
    expect((await readProfile(store, 'user_id:mp-u1')).id).toBe(u1.profileId);
    expect((await readProfile(store, 'user_id:mp-u2')).identifiers).toEqual(['anonymous_id:mp-a2', 'user_id:mp-u2']);
    expect((await readProfile(store, 'user_id:mp-u2')).traits.plan?.value).toBe('pro');
    // alias between two user ids is refused by the user_id limit of 1 when aliases obey the limits…
    const strict = parseConfig({ identity: { alias: { limit: 1 } } }).identity;
    const a = await stitch(store, event({ type: 'alias', userId: 'mp-u2', previousId: 'mp-u1' }), { identity: strict });
    expect(a.dropped).toEqual([{ id: { type: 'user_id', value: 'mp-u1' }, reason: 'limit' }]);
    // …and merges when it aliases the anonymous id.
    const b = await stitch(store, event({ type: 'alias', userId: 'mp-u3', anonymousId: 'mp-a3', previousId: 'mp-a3' }));
    const c = await stitch(store, event({ anonymousId: 'mp-a4' }));
    const d = await stitch(store, event({ type: 'alias', userId: 'mp-u3', previousId: 'mp-a4', anonymousId: 'mp-a4' }));
    expect(d.merged).toEqual(b.profileId < c.profileId ? [c.profileId] : [b.profileId]);
  });

  it('alias of two user ids merges them (default alias.limit 5), records via alias; beyond the limit refuses and records it', async () => {
    const r1 = await stitch(store, event({ type: 'identify', userId: 'al-old', anonymousId: 'al-a1', traits: { plan: 'free' } }));
    const r2 = await stitch(store, event({ type: 'identify', userId: 'al-new', anonymousId: 'al-a2', traits: { name: 'Ada' } }));
    const al = event({ type: 'alias', userId: 'al-new', previousId: 'al-old' });
    const m = await stitch(store, al);
    expect(m.dropped).toEqual([]);
    expect(m.merged).toEqual([r1.profileId < r2.profileId ? r2.profileId : r1.profileId]);
    const view = await readProfile(store, 'user_id:al-old');
    expect(view.id).toBe((await readProfile(store, 'user_id:al-new')).id);
    expect(view.identifiers).toEqual(['anonymous_id:al-a1', 'anonymous_id:al-a2', 'user_id:al-new', 'user_id:al-old']);
    expect(Object.keys(view.traits).sort()).toEqual(['name', 'plan']);
    const [record] = (await mergeRecords(view.id)).filter((r) => r.mid === al.messageId);
    expect(record).toMatchObject({ via: 'alias', merged: m.merged, refused: [] });
    // Identifying with either id afterwards stays on that profile.
    expect((await stitch(store, event({ type: 'identify', userId: 'al-old', anonymousId: 'al-a3' }))).profileId).toBe(view.id);
    // A limit of 2 user ids: a third alias is refused, kept apart, and recorded on the refusing profile.
    const two = parseConfig({ identity: { alias: { limit: 2 } } }).identity;
    const third = await stitch(store, event({ type: 'identify', userId: 'al-third' }), { identity: two });
    const refusedEvent = event({ type: 'alias', userId: 'al-third', previousId: 'al-new' });
    const refused = await stitch(store, refusedEvent, { identity: two });
    expect(refused.profileId).toBe(third.profileId);
    expect(refused.dropped).toEqual([{ id: { type: 'user_id', value: 'al-new' }, reason: 'limit' }]);
    expect((await readProfile(store, 'user_id:al-third')).id).not.toBe(view.id);
    const [kept] = (await mergeRecords(third.profileId)).filter((r) => r.mid === refusedEvent.messageId);
    // Refused identifiers are kept as their type and digest (they are another person's).
    expect(kept).toMatchObject({ merged: [], refused: [], aref: [identifierRef('user_id:al-new')] });
    expect(JSON.stringify(kept)).not.toContain('al-new');
  });

  it('property: aliases and identifies of one person in any order give one profile (DynamoDB Local)', async () => {
    const out = await fc.check(
      fc.asyncProperty(
        fc
          .integer({ min: 2, max: 5 })
          .chain((k) => fc.tuple(fc.constant(k), fc.array(fc.integer(), { minLength: 2 * k, maxLength: 2 * k }))),
        async ([k, keys]) => {
          const ns = `al${randomBytes(4).toString('hex')}`;
          const events: ScherpEvent[] = [];
          for (let i = 0; i < k; i++)
            events.push(event({ type: 'identify', userId: `${ns}-u${i}`, anonymousId: `${ns}-a${i}`, traits: { [`t${i}`]: i } }));
          for (let i = 1; i < k; i++) events.push(event({ type: 'alias', userId: `${ns}-u${i}`, previousId: `${ns}-u${i - 1}` }));
          const order = events
            .map((e, i) => ({ e, key: keys[i] ?? 0 }))
            .sort((a, b) => a.key - b.key)
            .map((x) => x.e);
          for (const e of order) expect((await stitch(store, e)).dropped).toEqual([]);
          const views = await Promise.all(Array.from({ length: k }, (_, i) => readProfile(store, `user_id:${ns}-u${i}`)));
          expect(new Set(views.map((v) => v.id)).size).toBe(1);
          expect(views[0]!.identifiers).toHaveLength(2 * k);
          expect(Object.keys(views[0]!.traits)).toHaveLength(k);
        },
      ),
      { numRuns: 10 },
    );
    expect(out.failed ? out.counterexample : undefined).toBeUndefined();
  });

  it('refuses links beyond the merge cap and records them', async () => {
    const cfg = parseConfig({ identity: { maxMergesPerProfile: 1 } }).identity;
    const p = await Promise.all(['cap-a', 'cap-b', 'cap-c'].map((a) => stitch(store, event({ anonymousId: a }), { identity: cfg })));
    const m = await stitch(store, event({ anonymousId: 'cap-a', context: { device: { id: 'cap-d' } } }), { identity: cfg });
    const first = await stitch(store, event({ anonymousId: 'cap-a', userId: 'cap-u' }), { identity: cfg });
    expect(first.profileId).toBe(m.profileId);
    const link1 = await stitch(store, event({ userId: 'cap-u', anonymousId: 'cap-b' }), { identity: cfg });
    expect(link1.merged).toHaveLength(1);
    const refusedEvent = event({ userId: 'cap-u', anonymousId: 'cap-c' });
    const refused = await stitch(store, refusedEvent, { identity: cfg });
    expect(refused.dropped).toEqual([{ id: { type: 'anonymous_id', value: 'cap-c' }, reason: 'merge_cap' }]);
    expect(refused.merged).toEqual([]);
    expect((await readProfile(store, 'anonymous_id:cap-c')).id).toBe(p[2]!.profileId);
    const records = await mergeRecords(refused.profileId);
    expect(records.find((r) => r.mid === refusedEvent.messageId)).toMatchObject({
      merged: [],
      refused: [identifierRef('anonymous_id:cap-c')],
    });
    expect(identifierRef('anonymous_id:cap-c')).toMatch(/^anonymous_id#[0-9a-f]{64}$/);
  });

  it('records each merge on the survivor once, even when the event comes again', async () => {
    const a = await stitch(store, event({ anonymousId: 'rec-a' }));
    const b = await stitch(store, event({ type: 'identify', userId: 'rec-u', traits: { name: 'Rec' } }));
    const e = event({ anonymousId: 'rec-a', userId: 'rec-u' });
    const m = await stitch(store, e);
    const survivor = [a.profileId, b.profileId].sort()[0]!;
    expect(m.profileId).toBe(survivor);
    const before = await scan();
    expect(await stitch(store, e)).toMatchObject({ profileId: survivor, duplicate: true, merged: [] });
    expect(await scan()).toEqual(before);
    const records = await mergeRecords(survivor);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({
      mid: e.messageId,
      ets: e.timestamp,
      merged: m.merged,
      ids: ['user_id:rec-u', 'anonymous_id:rec-a'],
      refused: [],
    });
    expect(records[0]!.sk).toBe(`MERGE#${e.timestamp}#${e.messageId}`);
  });

  it('reads normalise the identifier as ingest does', async () => {
    const r = await stitch(
      store,
      event({ type: 'identify', anonymousId: 'norm-a', traits: { email: '  Ada@Example.COM', phone: '+1 (201) 555-0199' } }),
    );
    expect((await readProfile(store, 'email:ada@example.com')).id).toBe(r.profileId);
    expect((await readProfile(store, 'email:Ada@Example.com')).id).toBe(r.profileId);
    expect((await readProfile(store, 'phone:+12015550199')).id).toBe(r.profileId);
    expect((await readProfile(store, 'phone:(201) 555-0199')).id).toBe(r.profileId);
    await expect(readProfile(store, 'shoe_size:42')).rejects.toBeInstanceOf(ValidationError);
    await expect(readProfile(store, 'email:nobody@example.com')).rejects.toBeInstanceOf(NotFoundError);
  });

  it("a survivor's timeline includes the merged profiles' events, newest first, in pages", async () => {
    const a = await stitch(store, event({ anonymousId: 'tl-a' }));
    await stitch(store, event({ anonymousId: 'tl-a' }));
    await stitch(store, event({ anonymousId: 'tl-b' }));
    await stitch(store, event({ anonymousId: 'tl-b' }));
    await stitch(store, event({ anonymousId: 'tl-c' }));
    const m = await stitch(store, event({ anonymousId: 'tl-a', userId: 'tl-u' }));
    const m2 = await stitch(store, event({ userId: 'tl-u', anonymousId: 'tl-b', context: { device: { id: 'tl-d' } } }));
    const m3 = await stitch(store, event({ userId: 'tl-u', anonymousId: 'tl-c' }));
    expect(m3.profileId).toBe(m2.profileId);
    const all: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await readTimeline(store, a.profileId, { limit: 3, ...(cursor ? { cursor } : {}) });
      expect(page.profileId).toBe(m3.profileId);
      all.push(...page.events.map((e) => e.event.messageId));
      cursor = page.cursor;
      pages++;
    } while (cursor && pages < 10);
    expect(all).toHaveLength(8);
    const ts = all.map((mid) => Number(mid.slice(2)));
    expect(ts).toEqual([...ts].sort((x, y) => y - x));
    expect(new Set(all).size).toBe(8);
    expect(m.profileId).toBeDefined();
    await expect(readTimeline(store, a.profileId, { cursor: 'garbage' })).rejects.toBeInstanceOf(ValidationError);
  });
});
