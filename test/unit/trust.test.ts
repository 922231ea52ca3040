/**
 * Source trust (issue 18 item 8): a public source (the browser key) never takes a protected
 * identity trait over from a trusted one, in any order, through updates and merges.
 */
import fc from 'fast-check';
import { applyTraits, mergeTraitsWith, type TraitPolicy, type Traits } from '../../core/profile';
import { parseConfig } from '../../core/config';
import type { Trust } from '../../core/events';
import { ingest } from '../../core/ingest';
import { parseImport } from '../../core/import';
import { personOf } from '../../core/rules/contract';
import { createSource, listSources } from '../../app/sources';
import { ValidationError } from '../../core/errors';
import { SourceKeyStore, BootstrapKeyStore, envLoader } from '../../adapters/keys';
import { keyDigest, type Source, type SourceKey } from '../../core/sources';
import type { KeyRecord, SourceStore, SourceWithKeys } from '../../app/ports';

interface Write {
  readonly trait: string;
  readonly value: string;
  readonly at: string;
  readonly sourceId: string;
  readonly trust: Trust;
}

const write = fc.record({
  trait: fc.constantFrom('email', 'phone', 'plan'),
  value: fc.constantFrom('a@example.com', 'b@example.com', 'attacker@evil.example'),
  at: fc.constantFrom('2026-01-01T00:00:00.000Z', '2026-01-02T00:00:00.000Z', '2099-01-01T00:00:00.000Z'),
  sourceId: fc.constantFrom('default', 'src_crm', 'src_app'),
  trust: fc.constantFrom<Trust>('public', 'trusted'),
});

/** Precedence configs, including ones that rank the public source first. */
const policies = fc.constantFrom<TraitPolicy>(
  parseConfig(undefined).traits,
  parseConfig({ traits: { precedence: { email: ['default', 'src_crm'], '*': ['src_app'] } } }).traits,
  parseConfig({ traits: { precedence: { '*': ['default'] } } }).traits,
);

const applyAll = (writes: readonly Write[], policy: TraitPolicy): Traits =>
  writes.reduce<Traits>((t, w) => applyTraits(t, { [w.trait]: w.value }, w.at, w.sourceId, 'first', policy, w.trust), {});

describe('protected traits under source trust', () => {
  it('a public value never beats a trusted one for email and phone, whatever the order, times and precedence', () => {
    fc.assert(
      fc.property(fc.array(write, { minLength: 1, maxLength: 8 }), policies, fc.nat(), (writes, policy, seed) => {
        const shuffled = [...writes].sort(
          (a, b) => ((JSON.stringify(a).length * 31 + seed) % 7) - ((JSON.stringify(b).length * 17 + seed) % 7),
        );
        for (const order of [writes, [...writes].reverse(), shuffled]) {
          const t = applyAll(order, policy);
          for (const trait of ['email', 'phone']) {
            if (writes.some((w) => w.trait === trait && w.trust === 'trusted')) expect(t[trait]?.trust).toBe('trusted');
          }
        }
        // Merging profiles built from any split of the writes: the same.
        const half = Math.floor(writes.length / 2);
        const merged = mergeTraitsWith(policy, applyAll(writes.slice(0, half), policy), applyAll(writes.slice(half), policy));
        for (const trait of ['email', 'phone']) {
          if (writes.some((w) => w.trait === trait && w.trust === 'trusted')) expect(merged[trait]?.trust).toBe('trusted');
        }
        // The order of arrival never matters.
        expect(applyAll([...writes].reverse(), policy)).toEqual(applyAll(writes, policy));
      }),
    );
  });

  it('the attack: the browser key cannot replace the email a trusted CRM set, even with a newer event', () => {
    let t: Traits = applyTraits({}, { email: 'victim@example.com' }, '2026-01-01T00:00:00.000Z', 'src_crm', 'first', undefined, 'trusted');
    t = applyTraits(
      t,
      { email: 'attacker@evil.example', name: 'Mallory' },
      '2026-06-01T00:00:00.000Z',
      'default',
      'first',
      undefined,
      'public',
    );
    expect(t.email).toEqual({
      value: 'victim@example.com',
      updatedAt: '2026-01-01T00:00:00.000Z',
      sourceId: 'src_crm',
      party: 'first',
      trust: 'trusted',
    });
    // Unprotected traits rank as before: the newer event wins.
    expect(t.name!.value).toBe('Mallory');
    // A trusted source still updates it, also over an older-dated public value.
    t = applyTraits(t, { email: 'victim@new.example' }, '2026-02-01T00:00:00.000Z', 'src_crm', 'first', undefined, 'trusted');
    expect(t.email!.value).toBe('victim@new.example');
  });

  it('without a trusted value, public sources rank as before (newest wins); a trusted value replaces a newer public one', () => {
    let t: Traits = applyTraits({}, { email: 'old@example.com' }, '2026-01-01T00:00:00.000Z', 'default', 'first');
    t = applyTraits(t, { email: 'new@example.com' }, '2026-01-02T00:00:00.000Z', 'default', 'first');
    expect(t.email).toEqual({ value: 'new@example.com', updatedAt: '2026-01-02T00:00:00.000Z', sourceId: 'default', party: 'first' });
    t = applyTraits(t, { email: 'crm@example.com' }, '2025-01-01T00:00:00.000Z', 'src_crm', 'second', undefined, 'trusted');
    expect(t.email!.value).toBe('crm@example.com');
  });

  it('traits.protected configures the list: [] switches it off, other traits can be added', () => {
    const none = parseConfig({ traits: { protected: [] } }).traits;
    let t: Traits = applyTraits({}, { email: 'crm@example.com' }, '2026-01-01T00:00:00.000Z', 'src_crm', 'first', none, 'trusted');
    t = applyTraits(t, { email: 'web@example.com' }, '2026-01-02T00:00:00.000Z', 'default', 'first', none);
    expect(t.email!.value).toBe('web@example.com');
    const more = parseConfig({ traits: { protected: ['email', 'phone', 'iban'] } }).traits;
    let u: Traits = applyTraits({}, { iban: 'NL01' }, '2026-01-01T00:00:00.000Z', 'src_crm', 'first', more, 'trusted');
    u = applyTraits(u, { iban: 'NL99' }, '2026-01-02T00:00:00.000Z', 'default', 'first', more);
    expect(u.iban!.value).toBe('NL01');
    expect(() => parseConfig({ traits: { protected: [''] } })).toThrow(/traits.protected.0/);
  });
});

describe('where trust comes from', () => {
  it('collect stamps trust only for trusted sources', () => {
    const input = {
      route: 'identify' as const,
      body: { userId: 'u', traits: { email: 'a@example.com' }, trust: 'trusted' },
      receivedAt: new Date('2026-01-01T00:00:00.000Z'),
      sourceId: 's',
      newMessageId: () => 'm',
    };
    // A `trust` field in the payload is not taken from the sender.
    expect(ingest(input).accepted[0]!.trust).toBeUndefined();
    expect(ingest({ ...input, trust: 'public' }).accepted[0]!.trust).toBeUndefined();
    expect(ingest({ ...input, trust: 'trusted' }).accepted[0]!.trust).toBe('trusted');
  });

  it('imported rows carry their source’s trust', () => {
    const ctx = {
      sourceId: 'src_crm',
      party: 'first' as const,
      receivedAt: '2026-01-01T00:00:00.000Z',
      identity: parseConfig(undefined).identity,
    };
    const row = '{"id":"user_id:u1","traits":{"email":"a@example.com"}}';
    expect(parseImport(row, 'ndjson', { ...ctx, trust: 'trusted' }).events[0]!.trust).toBe('trusted');
    expect(parseImport(row, 'ndjson', ctx).events[0]!.trust).toBeUndefined();
  });

  it('the bootstrap key is public; a source key carries its source trust', async () => {
    const table = new Map<string, KeyRecord>([
      [keyDigest('crm'), { keyId: 'k1', sourceId: 'src_crm', party: 'first', trust: 'trusted', status: 'active' }],
      [keyDigest('web'), { keyId: 'k2', sourceId: 'src_web', party: 'first', trust: 'public', status: 'active' }],
      [keyDigest('old'), { keyId: 'k3', sourceId: 'src_old', party: 'first', status: 'active' }],
    ]);
    const keys = new SourceKeyStore(new BootstrapKeyStore({ write: envLoader('boot') }), async (d) => table.get(d));
    expect((await keys.authenticate('write', 'boot'))?.trust).toBeUndefined();
    expect((await keys.authenticate('write', 'crm'))?.trust).toBe('trusted');
    expect((await keys.authenticate('write', 'web'))?.trust).toBeUndefined();
    expect((await keys.authenticate('write', 'old'))?.trust).toBeUndefined();
  });

  it('POST /v1/sources: trust defaults to public, `trusted` is kept, anything else is a 400 naming `trust`', async () => {
    const created: Source[] = [];
    const store: SourceStore = {
      createSource: async (s: Source, _k: SourceKey) => (created.push(s), true),
      listSources: async (): Promise<SourceWithKeys[]> => created.map((source) => ({ source, keys: [] })),
      getSource: async () => undefined,
      addKey: async () => false,
      revokeKey: async () => false,
      updateSource: async () => undefined,
      deleteSource: async () => false,
      findKey: async () => undefined,
    };
    expect((await createSource({ sources: store }, { name: 'web', party: 'first' })).source.trust).toBe('public');
    expect((await createSource({ sources: store }, { name: 'crm', party: 'first', trust: 'trusted' })).source.trust).toBe('trusted');
    await expect(createSource({ sources: store }, { name: 'x', party: 'first', trust: 'high' })).rejects.toThrow(ValidationError);
    await expect(createSource({ sources: store }, { name: 'x', party: 'first', trust: 'high' })).rejects.toMatchObject({
      issues: [{ path: 'trust', message: 'must be one of public, trusted' }],
    });
    const listed = await listSources({ sources: store });
    expect(listed.map((s) => [s.source.id === 'default' ? 'default' : s.source.name, s.source.trust])).toEqual([
      ['default', 'public'],
      ['web', 'public'],
      ['crm', 'trusted'],
    ]);
  });
});

describe('the email of an action', () => {
  it('is the winning email trait; without one, an email identifier only when the profile holds exactly one', () => {
    expect(personOf(['email:a@example.com', 'email:attacker@evil.example'], { email: 'a@example.com' }).email).toBe('a@example.com');
    expect(personOf(['email:a@example.com'], {}).email).toBe('a@example.com');
    expect(personOf(['email:a@example.com', 'email:attacker@evil.example'], {}).email).toBeUndefined();
  });
});
