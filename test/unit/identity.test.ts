import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { resolveConfig } from '../../local/runtime';
import { stitch } from '../../app/stitch';
import { readTimeline } from '../../app/timeline';
import { DEFAULT_CONFIG, loadConfig, parseConfig } from '../../core/config';
import {
  extractEventIdentifiers,
  hasUsableIdentifier,
  normaliseIdentifier,
  planLinks,
  type Identifier,
  type ProfileShape,
} from '../../core/identity';
import { MemoryProfileStore } from '../helpers/memory-store';
import { eventSetWithPermutation, NO_LIMITS, observe, permute, toEvent } from '../helpers/identity-gen';

const cfg = DEFAULT_CONFIG.identity;

describe('configuration', () => {
  it('has every default', () => {
    expect(cfg.types.user_id!.limit).toBe(1);
    expect(cfg.types.email!.limit).toBe(5);
    expect(cfg.priority.slice(0, 3)).toEqual(['user_id', 'email', 'phone']);
    expect(cfg.maxMergesPerProfile).toBe(100);
    expect(cfg.maxIdentifierLength).toBe(100);
  });
  it('merges types over the defaults, switches types off and adds new ones', () => {
    const c = parseConfig({
      identity: {
        types: { email: { limit: 2 }, advertising_id: false, crm_id: { from: ['context.externalIds'] } },
        priority: ['user_id', 'crm_id'],
      },
    }).identity;
    expect(c.types.email).toEqual({ from: ['traits.email', 'context.traits.email'], format: 'email', limit: 2 });
    expect(c.types.advertising_id).toBeUndefined();
    expect(c.types.crm_id).toEqual({ from: ['context.externalIds'], format: 'text', limit: 5 });
    expect(c.priority).toEqual(['user_id', 'crm_id', 'email', 'phone', 'anonymous_id', 'device_id']);
  });
  it('the shipped example configuration is valid, locally and as a file', () => {
    const file = join(__dirname, '../../scherp.config.example.json');
    expect(loadConfig(readFileSync(file, 'utf8')).identity.phoneDefaultRegion).toBe('NL');
    expect(resolveConfig({ configFile: file }).identity.types.crm_id?.limit).toBe(1);
    expect(resolveConfig({ config: { identity: { maxMergesPerProfile: 3 } }, configFile: file }).identity.maxMergesPerProfile).toBe(3);
    expect(() => resolveConfig({ configFile: join(__dirname, 'missing.json') })).toThrow(/missing\.json/);
  });
  it('names the bad field', () => {
    expect(() => parseConfig({ identity: { types: { crm_id: {} } } })).toThrow(/identity\.types\.crm_id\.from: is required/);
    expect(() => parseConfig({ identity: { priority: ['nope'] } })).toThrow(/identity\.priority\[0\]: unknown identifier type "nope"/);
    expect(() => parseConfig({ identity: { maxMergesPerProfile: -1 } })).toThrow(/identity\.maxMergesPerProfile/);
    expect(() => parseConfig({ idnetity: {} })).toThrow(/idnetity/);
    expect(() => loadConfig('{nope')).toThrow(/not JSON/);
  });
});

describe('normalisation', () => {
  it('trims, lowercases emails and writes phones as E.164', () => {
    expect(normaliseIdentifier('email', '  Ada@Example.COM ')).toEqual({ ok: true, value: 'ada@example.com' });
    expect(normaliseIdentifier('phone', '(201) 555-0123')).toEqual({ ok: true, value: '+12015550123' });
    const nl = parseConfig({ identity: { phoneDefaultRegion: 'NL' } }).identity;
    expect(normaliseIdentifier('phone', '06 12345678', nl)).toEqual({ ok: true, value: '+31612345678' });
    expect(normaliseIdentifier('user_id', 42)).toEqual({ ok: true, value: '42' });
  });
  it('rejects blocked, invalid, too long and unknown-type values', () => {
    for (const v of ['', ' ', 'null', 'undefined', 'Unknown', 'ANONYMOUS', '-1', '0', '000', '0-0', 'nan']) {
      expect(normaliseIdentifier('anonymous_id', v)).toEqual({ ok: false, reason: 'blocked' });
    }
    const c = parseConfig({ identity: { blockedValues: ['guest'] } }).identity;
    expect(normaliseIdentifier('user_id', 'Guest', c)).toEqual({ ok: false, reason: 'blocked' });
    expect(normaliseIdentifier('email', 'not-an-email')).toEqual({ ok: false, reason: 'invalid' });
    expect(normaliseIdentifier('phone', '12')).toEqual({ ok: false, reason: 'invalid' });
    expect(normaliseIdentifier('user_id', 'x'.repeat(101))).toEqual({ ok: false, reason: 'too_long' });
    expect(normaliseIdentifier('user_id', { a: 1 })).toEqual({ ok: false, reason: 'invalid' });
    expect(normaliseIdentifier('crm_id', 'x')).toEqual({ ok: false, reason: 'unknown_type' });
  });
  it('reads every configured source, in priority order', () => {
    const c = parseConfig({ identity: { types: { crm_id: { from: ['context.externalIds'] } } } }).identity;
    const r = extractEventIdentifiers(
      {
        type: 'identify',
        anonymousId: 'a1',
        userId: 'u1',
        traits: { email: 'A@x.io', phone: '+31 6 12345678' },
        context: {
          traits: { email: 'b@x.io' },
          device: { id: 'd1', advertisingId: 'ad1' },
          externalIds: [
            { id: 'c1', type: 'crm_id', collection: 'users', encoding: 'none' },
            { id: 'z', type: 'secret_id', collection: 'users', encoding: 'none' },
          ],
        },
      },
      c,
    );
    expect(r.identifiers.map((i) => `${i.type}:${i.value}`)).toEqual([
      'user_id:u1',
      'email:a@x.io',
      'email:b@x.io',
      'phone:+31612345678',
      'anonymous_id:a1',
      'device_id:d1',
      'advertising_id:ad1',
      'crm_id:c1',
    ]);
    expect(r.rejected).toEqual([{ type: 'external', reason: 'unknown_type' }]);
  });
});

const id = (type: string, value: string): Identifier => ({ type, value });
const owners = (ps: ProfileShape[]) => (k: string) => ps.find((p) => p.identifiers.includes(k));

describe("collect's check without phone metadata (hasUsableIdentifier)", () => {
  const value = fc.oneof(
    fc.constantFrom(
      'anonymous',
      '0',
      'null',
      ' ',
      'ada@example.com',
      'Ada@Example.com',
      'not-an-email',
      '(201) 555-0123',
      '+31 6 12345678',
      '12',
      'abc 123',
      '42',
    ),
    fc.string({ maxLength: 12 }),
  );
  const eventArb = fc.record(
    {
      userId: fc.option(value, { nil: undefined }),
      anonymousId: fc.option(value, { nil: undefined }),
      traits: fc.record({ email: fc.option(value, { nil: undefined }), phone: fc.option(value, { nil: undefined }) }),
    },
    { requiredKeys: ['traits'] },
  );

  it('passes every event stitch can identify (a superset), and is exact for events without a phone', () => {
    fc.assert(
      fc.property(eventArb, (e) => {
        const event = { type: 'identify' as const, ...e };
        const exact = extractEventIdentifiers(event).identifiers.length > 0;
        if (exact) expect(hasUsableIdentifier(event)).toBe(true);
        if (e.traits.phone === undefined) expect(hasUsableIdentifier(event)).toBe(exact);
      }),
      { numRuns: 500 },
    );
  });

  it('lets through only phone values with at least 3 digits when nothing else identifies the event', () => {
    expect(hasUsableIdentifier({ type: 'identify', anonymousId: 'anonymous', traits: { phone: '12' } })).toBe(false);
    expect(hasUsableIdentifier({ type: 'identify', anonymousId: 'anonymous', traits: { phone: 'call me' } })).toBe(false);
    expect(hasUsableIdentifier({ type: 'identify', anonymousId: 'anonymous', traits: { phone: '555-0123' } })).toBe(true);
  });
});

describe('planLinks (merge protection)', () => {
  it('two user ids stay two people: the lower-priority link is dropped', () => {
    const p1: ProfileShape = { id: 'p1', identifiers: ['user_id:u1', 'anonymous_id:a1'] };
    const p2: ProfileShape = { id: 'p2', identifiers: ['user_id:u2', 'anonymous_id:a2'] };
    const plan = planLinks([id('user_id', 'u1'), id('anonymous_id', 'a2')], owners([p1, p2]), cfg);
    expect(plan.accepted).toEqual([id('user_id', 'u1')]);
    expect(plan.dropped).toEqual([{ id: id('anonymous_id', 'a2'), reason: 'limit' }]);
    expect(plan.profiles).toEqual(['p1']);
  });
  it('an event with two user ids links only the higher one', () => {
    const plan = planLinks([id('user_id', 'new'), id('user_id', 'old')], () => undefined, cfg);
    expect(plan.accepted).toEqual([id('user_id', 'new')]);
    expect(plan.dropped).toEqual([{ id: id('user_id', 'old'), reason: 'limit' }]);
  });
  it('a sixth email is not added; lower priority identifiers keep linking', () => {
    const p: ProfileShape = { id: 'p', identifiers: [1, 2, 3, 4, 5].map((i) => `email:e${i}`) };
    const plan = planLinks([id('email', 'e1'), id('email', 'e6'), id('anonymous_id', 'a')], owners([p]), cfg);
    expect(plan.accepted).toEqual([id('email', 'e1'), id('anonymous_id', 'a')]);
    expect(plan.dropped).toEqual([{ id: id('email', 'e6'), reason: 'limit' }]);
  });
  it('refuses a merge beyond the merge cap', () => {
    const c = parseConfig({ identity: { maxMergesPerProfile: 2 } }).identity;
    const big: ProfileShape = { id: 'p0', identifiers: ['anonymous_id:a0'], mergedFrom: ['x', 'y'] };
    const small: ProfileShape = { id: 'p9', identifiers: ['anonymous_id:a9'] };
    const plan = planLinks([id('anonymous_id', 'a0'), id('anonymous_id', 'a9')], owners([big, small]), c);
    expect(plan.dropped).toEqual([{ id: id('anonymous_id', 'a9'), reason: 'merge_cap' }]);
    expect(plan.profiles).toEqual(['p0']);
  });
  it('the highest-priority identifier always links, and a plan never exceeds a limit', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('user_id', 'email', 'anonymous_id'), fc.integer({ min: 0, max: 7 })), {
          minLength: 1,
          maxLength: 10,
        }),
        (raw) => {
          const ids = [...new Map(raw.map(([t, v]) => [`${t}:${v}`, id(t, String(v))])).values()];
          const sorted = extractEventIdentifiers({ type: 'track' }, cfg).identifiers.concat(
            ids.sort((a, b) => cfg.priority.indexOf(a.type) - cfg.priority.indexOf(b.type)),
          );
          const plan = planLinks(sorted, () => undefined, cfg);
          expect(plan.accepted[0]).toEqual(sorted[0]);
          for (const [t, def] of Object.entries(cfg.types))
            expect(plan.accepted.filter((a) => a.type === t).length).toBeLessThanOrEqual(def.limit);
          expect(plan.accepted.length + plan.dropped.length).toBe(sorted.length);
        },
      ),
    );
  });
});

describe('stitch, order-independence (in-memory store, same conditional semantics)', () => {
  it('any permutation of an event set gives the same partition of identifiers and the same traits', async () => {
    await fc.assert(
      fc.asyncProperty(eventSetWithPermutation, async ([specs, keys]) => {
        const events = specs.map((s, i) => toEvent(s, i, 'ns'));
        const a = new MemoryProfileStore();
        const b = new MemoryProfileStore();
        for (const e of events) await stitch(a, e, { identity: NO_LIMITS });
        for (const e of permute(events, keys)) await stitch(b, e, { identity: NO_LIMITS });
        expect(await observe(b, events, 'ns')).toEqual(await observe(a, events, 'ns'));
      }),
      { numRuns: 200 },
    );
  });

  it('processing an event twice changes nothing; redelivering all of them later keeps profiles and timelines', async () => {
    await fc.assert(
      fc.asyncProperty(eventSetWithPermutation, async ([specs]) => {
        const events = specs.map((s, i) => toEvent(s, i, 'ns'));
        const store = new MemoryProfileStore();
        const snap = () =>
          JSON.stringify([
            ...store.identities,
            ...store.profiles,
            ...store.mergeRecords,
            ...[...store.events].map(([k, v]) => [k, [...v.keys()]]),
          ]);
        for (const e of events) {
          await stitch(store, e, { identity: NO_LIMITS });
          const once = snap();
          expect((await stitch(store, e, { identity: NO_LIMITS })).duplicate).toBe(true);
          expect(snap()).toBe(once);
        }
        const before = await observe(store, events, 'ns');
        const profileIds = [...new Set([...store.identities.values()])];
        const timelines = async () =>
          Promise.all(profileIds.map(async (id) => (await readTimeline(store, id, { limit: 100 })).events.map((e) => e.event.messageId)));
        const beforeTimelines = await timelines();
        for (const e of events) await stitch(store, e, { identity: NO_LIMITS });
        expect(await observe(store, events, 'ns')).toEqual(before);
        expect(await timelines()).toEqual(beforeTimelines);
      }),
      { numRuns: 100 },
    );
  });
});
