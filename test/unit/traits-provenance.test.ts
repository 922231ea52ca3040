import fc from 'fast-check';
import { applyTraits, mergeTraitsWith, type TraitPolicy, type Traits } from '../../core/profile';
import { parseConfig } from '../../core/config';
import { ValidationError } from '../../core/errors';
import { ingest } from '../../core/ingest';

const policy: TraitPolicy = parseConfig({ traits: { precedence: { email: ['src_crm'], '*': ['src_crm', 'web'] } } }).traits;

describe('traits with provenance', () => {
  it('keep source and party; an older event never overwrites a newer value', () => {
    let t: Traits = applyTraits({}, { plan: 'pro' }, '2026-01-02T00:00:00.000Z', 'web', 'first');
    t = applyTraits(t, { plan: 'free' }, '2026-01-01T00:00:00.000Z', 'web', 'first');
    expect(t.plan).toEqual({ value: 'pro', updatedAt: '2026-01-02T00:00:00.000Z', sourceId: 'web', party: 'first' });
  });

  it("a higher-precedence source (the CRM's email) beats a newer value from a lower one", () => {
    let t: Traits = applyTraits({}, { email: 'crm@example.com' }, '2026-01-01T00:00:00.000Z', 'src_crm', 'second', policy);
    t = applyTraits(t, { email: 'form@example.com' }, '2026-03-01T00:00:00.000Z', 'web', 'first', policy);
    expect(t.email).toMatchObject({ value: 'crm@example.com', sourceId: 'src_crm', party: 'second' });
    // An unlisted source ranks below every listed one for '*' traits; equal ranks: newest wins.
    t = applyTraits(t, { name: 'A' }, '2026-01-01T00:00:00.000Z', 'web', 'first', policy);
    t = applyTraits(t, { name: 'B' }, '2026-02-01T00:00:00.000Z', 'src_other', 'third', policy);
    expect(t.name!.value).toBe('A');
    t = applyTraits(t, { name: 'C' }, '2026-02-01T00:00:00.000Z', 'web', 'first', policy);
    expect(t.name!.value).toBe('C');
    // Without a policy: newest wins.
    expect(applyTraits(t, { email: 'form@example.com' }, '2026-03-01T00:00:00.000Z', 'web').email!.value).toBe('form@example.com');
  });

  it('merging under a precedence policy is commutative, associative and idempotent', () => {
    const value = fc.record({
      value: fc.constantFrom('a', 'b', 'c'),
      updatedAt: fc.constantFrom('2026-01-01', '2026-01-02', '2026-01-03'),
      sourceId: fc.constantFrom('src_crm', 'web', 'src_other'),
    });
    const traits = fc.dictionary(fc.constantFrom('email', 'name', 'plan'), value);
    fc.assert(
      fc.property(traits, traits, traits, (a, b, c) => {
        expect(mergeTraitsWith(policy, a, b)).toEqual(mergeTraitsWith(policy, b, a));
        expect(mergeTraitsWith(policy, mergeTraitsWith(policy, a, b), c)).toEqual(
          mergeTraitsWith(policy, a, mergeTraitsWith(policy, b, c)),
        );
        expect(mergeTraitsWith(policy, a, a)).toEqual(mergeTraitsWith(policy, a));
      }),
    );
  });

  it('rejects a malformed precedence config naming the field', () => {
    expect(() => parseConfig({ traits: { precedence: { email: [] } } })).toThrow(/traits.precedence.email/);
  });
});

describe('at most 300 traits per call', () => {
  const traits = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`t${i}`, i]));
  const input = (body: unknown) => ({
    route: 'identify' as const,
    body,
    receivedAt: new Date('2026-01-01T00:00:00.000Z'),
    sourceId: 'web',
    newMessageId: () => 'm',
  });

  it('accepts 300, refuses 301 naming the field (single call: nothing stored)', () => {
    expect(ingest(input({ userId: 'u', traits: traits(300) })).accepted).toHaveLength(1);
    expect(() => ingest(input({ userId: 'u', traits: traits(301) }))).toThrow(ValidationError);
    try {
      ingest(input({ userId: 'u', traits: traits(301) }));
    } catch (err) {
      expect((err as ValidationError).issues).toEqual([{ path: 'traits', message: 'has 301 traits; at most 300 per call' }]);
    }
  });

  it('rejects the batch item by index, the rest is accepted', () => {
    const r = ingest({
      ...input({
        batch: [
          { type: 'identify', userId: 'a', traits: traits(301) },
          { type: 'identify', userId: 'b', traits: traits(2) },
        ],
      }),
      route: 'batch',
    });
    expect(r.accepted).toHaveLength(1);
    expect(r.rejected[0]!.issues).toEqual([{ path: 'batch[0].traits', message: 'has 301 traits; at most 300 per call' }]);
  });
});
